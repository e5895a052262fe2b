// The wallboard: polls /board/data once a second and redraws. No framework, no build step,
// nothing loaded from elsewhere. Every figure carries a data-* attribute with its raw value
// (tests/it/board.rs reads them). A token given as /board?token=... is sent on each poll.
"use strict";
(function () {
  const EVERY_MS = 1000;
  const token = new URLSearchParams(window.location.search).get("token");
  const headers = token ? { Authorization: "Bearer " + token } : {};

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clock(seconds) {
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(s).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  function percent(share) {
    return share === null ? "–" : Math.round(share * 100) + "%";
  }

  function problem(text) {
    const box = document.getElementById("problem");
    box.hidden = !text;
    box.textContent = text ? "⚠ " + text : "";
  }

  function setRole(role, text) {
    const badge = document.getElementById("role");
    badge.dataset.role = role;
    badge.className = "role " + role;
    badge.textContent = text;
  }

  function status(row) {
    if (row.breached > 0) return ["breach", `✖ BREACH ${row.breached}`];
    if (row.warning > 0) return ["warning", `⚠ WARNING ${row.warning}`];
    if (row.below_target) return ["warning", "⚠ BELOW TARGET"];
    return ["ok", "✓ OK"];
  }

  function queueCard(row, target) {
    const key = `${row.channel}/${row.tier}`;
    const [kind, label] = status(row);
    const card = el("article", { class: "queue " + kind, "data-row": key, "data-status": kind });
    card.append(el("div", { class: "name" }, `${row.channel} · ${row.tier}`));
    const depth = el("div", { class: "depth", "data-depth": key }, String(row.depth));
    card.append(depth, el("div", { class: "line" }, "waiting"));
    const oldest = el("div", { class: "line" }, "oldest ");
    oldest.append(el("b", { "data-oldest": key }, row.depth ? clock(row.oldest_wait_s) : "–"));
    oldest.lastChild.dataset.seconds = row.oldest_wait_s;
    card.append(oldest);
    const sl = el("div", { class: "line" }, "SL ");
    const share = el("b", { "data-sl": key, class: row.below_target ? "below" : "" },
      percent(row.service_level) + (row.below_target ? " ▼" : ""));
    share.dataset.value = row.service_level === null ? "" : row.service_level;
    sl.append(share, ` / target ${percent(target)}`);
    card.append(sl);
    card.append(el("div", { class: "status", "data-warnings": key }, label));
    card.lastChild.dataset.count = row.warning;
    card.lastChild.dataset.breached = row.breached;
    return card;
  }

  function warningItem(w) {
    const item = el("li", { "data-warning": String(w.ticket), "data-time-left": String(w.time_left_s) });
    if (w.time_left_s <= 10) item.className = "urgent";
    item.append(el("span", {}, `#${w.ticket} ${w.channel} ${w.tier} · ${w.metric.replace("_", " ")}`));
    item.append(el("span", { class: "left" }, clock(w.time_left_s) + " left"));
    return item;
  }

  function standby(data) {
    const text = data.role === "follower" ? "FOLLOWER" : "STARTING";
    setRole(data.role, text);
    const queues = document.getElementById("queues");
    const why = data.role === "follower"
      ? "this node does not lead, so it shows no figures." + (data.leader ? ` The leader is ${data.leader}; open its board.` : "")
      : "no figures yet.";
    queues.replaceChildren(el("div", { class: "standby" }, `${text}: ${why}`));
    document.getElementById("warnings").replaceChildren();
  }

  function render(data) {
    problem(data.rate_may_be_low ? "events were missed: the rate may be low" : "");
    if (data.role !== "leader") return standby(data);
    setRole("leader", "LIVE");
    const at = new Date(data.at_ms);
    const shown = document.getElementById("clock");
    shown.dataset.at = data.at_ms;
    shown.textContent = at.toLocaleTimeString();
    document.getElementById("rate").dataset.rate = data.assignments_per_minute;
    document.getElementById("rate").textContent = String(data.assignments_per_minute);
    for (const [presence, count] of data.agents) {
      const cell = document.querySelector(`[data-agents="${presence}"]`);
      if (cell) { cell.textContent = String(count); cell.dataset.count = count; }
    }
    const target = document.getElementById("target");
    target.dataset.target = data.service_level_target;
    target.textContent = percent(data.service_level_target);
    const cards = data.rows.map((row) => queueCard(row, data.service_level_target));
    const queues = document.getElementById("queues");
    queues.replaceChildren(...(cards.length ? cards : [el("div", { class: "empty" }, "No queues: nothing waits.")]));
    const total = document.getElementById("warning-total");
    total.dataset.warningTotal = data.warning_total;
    total.textContent = String(data.warning_total);
    const items = data.warnings.map(warningItem);
    document.getElementById("warnings").replaceChildren(
      ...(items.length ? items : [el("li", { class: "empty" }, "✓ none")]));
    document.body.dataset.ready = "1";
  }

  async function poll() {
    try {
      const response = await fetch("/board/data", { headers, cache: "no-store" });
      if (response.status === 401 || response.status === 403) {
        problem("not allowed: open /board?token=<an admin or integrator token>");
      } else if (!response.ok) {
        problem(`no data: HTTP ${response.status}`);
      } else {
        render(await response.json());
      }
    } catch (e) {
      problem("no data: the daemon does not answer");
    } finally {
      window.setTimeout(poll, EVERY_MS);
    }
  }

  poll();
})();
