#!/usr/bin/env python3
"""Writes deploy/grafana/dashboards/triage.json, the triage dashboard, from the panel list below.

The JSON is what Grafana provisions; this script is its source, so a panel is one call here
rather than a hundred lines of JSON. After an edit:

    python3 deploy/grafana/build_dashboard.py          # rewrite the JSON
    python3 deploy/grafana/build_dashboard.py --check  # exit 1 if the JSON is out of date (CI)
    python3 deploy/grafana/build_dashboard.py --exprs  # print every panel's query, one per line

Layout, top to bottom: a row of numbers a supervisor reads at a glance; service level by tier,
VIP first (the product's point); volume in against assignments out, and the average speed of
answer; queues with the target beside the oldest wait; breaches, abandonment, agents; then the
daemon's own health: errors by gRPC code, the store, latency.
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "dashboards" / "triage.json"
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'channel=~"$channel", tier=~"$tier"'
TIERS = [("vip", "VIP"), ("new", "New"), ("standard", "Standard")]


def sl_ratio(by, extra, window):
    """First responses met / (met + breached) over `window`; absent where nothing was decided."""
    met = f'sum by ({by}) (increase(triage_sla_met_total{{metric="first_response", {extra}}}[{window}]))'
    breached = met.replace("triage_sla_met_total", "triage_sla_breaches_total")
    return f"{met}\n/\n(\n  {met}\n  + {breached}\n  > 0\n)"


def sl_all(extra, window="1h"):
    """The same ratio summed over every label (one number)."""
    met = f'sum(increase(triage_sla_met_total{{metric="first_response", {extra}}}[{window}]))'
    breached = met.replace("triage_sla_met_total", "triage_sla_breaches_total")
    return f"{met}\n/\n(\n  {met}\n  + {breached}\n  > 0\n)"


def target(expr, legend, ref):
    return {"datasource": DS, "editorMode": "code", "expr": expr, "legendFormat": legend,
            "range": True, "refId": ref}


def targets(*pairs):
    return [target(e, l, chr(ord("A") + i)) for i, (e, l) in enumerate(pairs)]


def dashed(name_regex, color):
    """Draws series whose name matches as a thick dashed line: targets and limits."""
    return {"matcher": {"id": "byRegexp", "options": name_regex},
            "properties": [{"id": "color", "value": {"fixedColor": color, "mode": "fixed"}},
                           {"id": "custom.lineStyle", "value": {"dash": [10, 10], "fill": "dash"}},
                           {"id": "custom.lineWidth", "value": 2},
                           {"id": "custom.fillOpacity", "value": 0}]}


def steps(*pairs):
    return {"mode": "absolute",
            "steps": [{"color": c, "value": v} for v, c in pairs]}


class Layout:
    """Places panels left to right on the 24-column grid, starting a new line when full."""

    def __init__(self):
        self.x, self.y, self.line_h, self.next_id = 0, 0, 0, 1

    def place(self, w, h):
        if self.x + w > 24:
            self.x, self.y, self.line_h = 0, self.y + self.line_h, 0
        pos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.line_h = max(self.line_h, h)
        self.next_id += 1
        return self.next_id - 1, pos

    def row(self, title):
        if self.x:
            self.x, self.y, self.line_h = 0, self.y + self.line_h, 0
        pid = self.next_id
        self.next_id += 1
        panel = {"id": pid, "type": "row", "title": title, "collapsed": False,
                 "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []}
        self.y += 1
        return panel


def stat(layout, title, description, expr, unit, thresholds, w=3, decimals=None):
    pid, pos = layout.place(w, 4)
    defaults = {"unit": unit, "thresholds": thresholds, "color": {"mode": "thresholds"},
                "mappings": []}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {"id": pid, "type": "stat", "title": title, "description": description,
            "datasource": DS, "gridPos": pos,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"colorMode": "background", "graphMode": "area", "justifyMode": "center",
                        "orientation": "auto", "textMode": "value",
                        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
            "targets": targets((expr, title))}


def series(layout, title, description, pairs, unit, w=12, h=8, overrides=(), minimum=0,
           maximum=None, legend_calcs=("lastNotNull",), stack=False):
    pid, pos = layout.place(w, h)
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
              "showPoints": "never", "spanNulls": False, "axisSoftMin": minimum,
              "stacking": {"group": "A", "mode": "normal" if stack else "none"},
              "thresholdsStyle": {"mode": "off"}}
    defaults = {"unit": unit, "custom": custom, "color": {"mode": "palette-classic"},
                "mappings": [], "thresholds": steps((None, "green"))}
    if maximum is not None:
        defaults["max"] = maximum
    return {"id": pid, "type": "timeseries", "title": title, "description": description,
            "datasource": DS, "gridPos": pos,
            "fieldConfig": {"defaults": defaults, "overrides": list(overrides)},
            "options": {"legend": {"calcs": list(legend_calcs), "displayMode": "table",
                                   "placement": "right", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "desc"}},
            "targets": targets(*pairs)}


SL_TARGET = ("max(triage_service_level_target)", "target")
SL_STEPS = steps((None, "red"), (0.7, "orange"), (0.8, "green"))


def summary_row(layout):
    return [
        stat(layout, "Service level (1h)",
             "First responses within target over the last hour, all selected channels and tiers. "
             "Red below 70 %, orange below the default 80 % target.",
             sl_all(SEL), "percentunit", SL_STEPS, decimals=1),
        stat(layout, "VIP service level (1h)",
             "The same for VIP customers only: the tier the desk promises most to.",
             sl_all('channel=~"$channel", tier="vip"'), "percentunit", SL_STEPS, decimals=1),
        stat(layout, "Waiting now", "Tickets queued for an agent (selected channels and tiers).",
             f"sum(triage_queue_depth{{{SEL}}})", "none", steps((None, "green"))),
        stat(layout, "Oldest wait", "The longest any selected ticket has waited in a queue.",
             f"max(triage_queue_oldest_age_seconds{{{SEL}}})", "s",
             steps((None, "green"), (30, "orange"), (300, "red"))),
        stat(layout, "Breaches (1h)", "SLA breaches of every clock in the last hour.",
             f"sum(increase(triage_sla_breaches_total{{{SEL}}}[1h]))", "none",
             steps((None, "green"), (1, "orange"), (20, "red")), decimals=0),
        stat(layout, "Agents available", "Agents whose presence is AVAILABLE.",
             'sum(triage_agents{presence="available"})', "none",
             steps((None, "red"), (1, "green"))),
        stat(layout, "Daemon up", "1 when Prometheus reached the daemon's /metrics at the last "
             "scrape (the `up` series of job triage).", 'max(up{job="triage"})', "none",
             steps((None, "red"), (1, "green"))),
        stat(layout, "Store read-only", "1 while the store refuses writes (a full or failing "
             "disk): reads are served, every change is refused until a write works again.",
             "max(triage_store_read_only)", "none", steps((None, "green"), (1, "red"))),
    ]


def tier_panels(layout):
    panels = []
    for tier, name in TIERS:
        extra = f'channel=~"$channel", tier="{tier}"'
        panels.append(series(
            layout, f"{name}: service level per channel (1h)",
            f"First responses within target / decided, per channel, for {name} customers, over "
            "the last hour. The dashed red line is the policy's target. A channel with nothing "
            "decided in the hour has no line.",
            [(sl_ratio("channel", extra, "1h"), "{{channel}}"), SL_TARGET],
            "percentunit", w=8, overrides=[dashed("^target$", "red")], maximum=1,
            legend_calcs=("lastNotNull", "min")))
    return panels


def flow_panels(layout):
    asa = (f"sum by (channel) (rate(triage_wait_seconds_sum{{channel=~\"$channel\"}}[5m]))\n/\n"
           f"(sum by (channel) (rate(triage_wait_seconds_count{{channel=~\"$channel\"}}[5m])) > 0)")
    return [
        series(layout, "Incoming against assigned (per second)",
               "Tickets created per second against tickets handed to agents per second (5m "
               "rates). Created above assigned for long means the queues grow.",
               [(f"sum(rate(triage_tickets_created_total{{{SEL}}}[5m]))", "created"),
                (f"sum(rate(triage_assignments_total{{{SEL}}}[5m]))", "assigned"),
                ("sum(rate(triage_tickets_resolved_total[5m]))", "resolved")],
               "reqps"),
        series(layout, "Average speed of answer per channel (5m)",
               "ASA: mean time from queued to assigned, from the triage_wait_seconds histogram "
               "(sum / count over 5 minutes).",
               [(asa, "{{channel}}")], "s"),
    ]


def queue_panels(layout):
    age_target = (f'max by (tier, channel) (triage_sla_target_seconds{{metric="first_response", '
                  f'{SEL}}})\nand on (tier, channel) triage_queue_depth{{{SEL}}} > 0')
    return [
        series(layout, "Queue depth", "Tickets waiting per tier and channel.",
               [(f"sum by (tier, channel) (triage_queue_depth{{{SEL}}})", "{{tier}} {{channel}}")],
               "none"),
        series(layout, "Oldest wait against its first-response target",
               "How long the oldest waiting ticket has waited, per tier and channel, and (dashed) "
               "that tier and channel's first-response target, drawn where tickets wait. A solid "
               "line above its dashed twin is a queue breaching now.",
               [(f"max by (tier, channel) (triage_queue_oldest_age_seconds{{{SEL}}})",
                 "{{tier}} {{channel}}"),
                (age_target, "target {{tier}} {{channel}}")],
               "s", overrides=[dashed("^target .*", "red")]),
    ]


def outcome_panels(layout):
    return [
        series(layout, "SLA breaches per hour (5m rate)",
               "Breaches by clock, tier and channel, as an hourly rate.",
               [(f"sum by (metric, tier, channel) (channel_tier_metric:triage_sla_breaches:rate5m"
                 f"{{{SEL}}}) * 3600 > 0", "{{metric}} {{tier}} {{channel}}")], "none", w=8),
        series(layout, "Abandoned contacts (last hour)",
               "Customers who left before anyone answered, per tier and channel.",
               [(f"sum by (tier, channel) (increase(triage_contacts_abandoned_total{{{SEL}}}[1h]))"
                 " > 0", "{{tier}} {{channel}}")], "none", w=8),
        series(layout, "Agents by presence", "Agents per presence.",
               [("sum by (presence) (triage_agents)", "{{presence}}")], "none", w=8),
    ]


def health_panels(layout):
    return [
        series(layout, "gRPC errors by code (per second)",
               "Calls answered with a status other than OK, by code. UNAVAILABLE: shutting "
               "down or the store failing; RESOURCE_EXHAUSTED: load shed or a limit reached; "
               "INVALID_ARGUMENT/FAILED_PRECONDITION: clients' mistakes.",
               [('sum by (code) (rate(triage_grpc_request_duration_seconds_count{code!="OK"}'
                 '[$__rate_interval])) > 0', "{{code}}")], "reqps", w=8),
        series(layout, "Store commit p99 and read-only",
               "99th percentile of a group commit (write and fsync), and 1 while the store is "
               "read-only.",
               [("histogram_quantile(0.99, sum by (le) "
                 "(rate(triage_store_commit_seconds_bucket[$__rate_interval])))", "commit p99"),
                ("max(triage_store_read_only)", "read-only")], "s", w=8,
               overrides=[{"matcher": {"id": "byName", "options": "read-only"},
                           "properties": [{"id": "unit", "value": "none"},
                                          {"id": "custom.axisPlacement", "value": "right"},
                                          {"id": "color", "value": {"fixedColor": "red",
                                                                    "mode": "fixed"}}]}]),
        series(layout, "gRPC p99 by method",
               "99th percentile server-side latency per method (long polls left out: they wait "
               "on purpose).",
               [('histogram_quantile(0.99, sum by (method, le) (rate('
                 'triage_grpc_request_duration_seconds_bucket{method!="PullNextTicket"}'
                 '[$__rate_interval])))', "{{method}}")], "s", w=8),
    ]


def panels():
    layout = Layout()
    out = [layout.row("At a glance")]
    out += summary_row(layout)
    out.append(layout.row("Service level by tier"))
    out += tier_panels(layout)
    out.append(layout.row("Flow"))
    out += flow_panels(layout)
    out += queue_panels(layout)
    out.append(layout.row("Outcomes"))
    out += outcome_panels(layout)
    out.append(layout.row("Daemon"))
    out += health_panels(layout)
    return out


def variable(name, label):
    query = f"label_values(triage_queue_depth, {name})"
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "definition": query,
            "query": {"qryType": 1, "query": query,
                      "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "regex": "", "sort": 1, "multi": True, "includeAll": True,
            "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "hide": 0, "options": [], "skipUrlSync": False}


def dashboard():
    return {
        "id": None, "uid": "triage", "title": "triage",
        "description": "SLA ticket scheduler: service level by tier, volume, queues against "
                       "targets, breaches, agents, and the daemon's own health.",
        "tags": ["triage", "sla"], "timezone": "browser", "editable": True, "graphTooltip": 1,
        "fiscalYearStartMonth": 0, "liveNow": False, "refresh": "30s", "schemaVersion": 39,
        "version": 2, "time": {"from": "now-6h", "to": "now"}, "timepicker": {}, "links": [],
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana",
                                                               "uid": "-- Grafana --"},
                                  "enable": True, "hide": True,
                                  "iconColor": "rgba(0, 211, 255, 1)",
                                  "name": "Annotations & Alerts", "type": "dashboard"}]},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0, "includeAll": False,
             "multi": False, "options": [], "refresh": 1, "regex": "", "skipUrlSync": False},
            variable("channel", "Channel"), variable("tier", "Tier")]},
        "panels": panels(),
    }


def exprs(board):
    for p in board["panels"]:
        for t in p.get("targets", []):
            yield p["title"], t["legendFormat"], t["expr"]


def main(argv):
    board = dashboard()
    text = json.dumps(board, indent=2) + "\n"
    if "--exprs" in argv:
        for title, legend, expr in exprs(board):
            print(json.dumps({"panel": title, "legend": legend, "expr": expr}))
        return 0
    if "--check" in argv:
        if OUT.read_text() != text:
            print(f"{OUT} is out of date: run python3 {pathlib.Path(__file__).name}")
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
