//! How `triage ctl` prints what the daemon answers: one line per ticket, agent, queue or
//! event, with enum names in lower case as the command line takes them.

use crate::core::types::{Channel, Tier};
use crate::proto as pb;

pub(super) fn print_event(e: &pb::Event) {
    let mut line = format!(
        "{} {} {}",
        e.sequence,
        time(e.at.as_ref()),
        label(e.kind().as_str_name(), "EVENT_KIND_")
    );
    if e.ticket_id != 0 {
        line += &format!(" ticket={}", e.ticket_id);
    }
    let epoch = match e.lease_epoch {
        0 => String::new(),
        n => n.to_string(),
    };
    for (name, value) in [
        ("agent", e.agent_id.clone()),
        ("reason", e.reason.clone()),
        ("metric", label(e.metric().as_str_name(), "SLA_METRIC_")),
        ("level", label(e.level().as_str_name(), "ESCALATION_LEVEL_")),
        ("fields", e.changed_fields.join(",")),
        ("epoch", epoch),
        ("by", e.actor.clone()),
        ("presence", label(e.presence().as_str_name(), "PRESENCE_")),
        (
            "early",
            if e.early {
                "true".into()
            } else {
                String::new()
            },
        ),
        ("ring", e.ring.clone()),
    ] {
        if !value.is_empty() && value != "unspecified" {
            line += &format!(" {name}={value}");
        }
    }
    println!("{line}");
}

pub(super) fn time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        )
}

fn span(d: Option<&prost_types::Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| human(millis(d)))
}

pub(super) fn millis(d: &prost_types::Duration) -> u64 {
    d.seconds.max(0) as u64 * 1000 + d.nanos.max(0) as u64 / 1_000_000
}

/// A span for people: `250ms`, `4.5s`, `45s`, `20m`, `2m5s`, `1h30m`, `2d3h`. From 10 s on,
/// at most two units, the second rounded (`1199999ms` is `20m`, `5430s` is `1h30m`).
pub(super) fn human(ms: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ];
    match ms {
        0..=999 => return format!("{ms}ms"),
        1000..=9_949 => {
            let tenths = (ms + 50) / 100;
            return match tenths % 10 {
                0 => format!("{}s", tenths / 10),
                d => format!("{}.{d}s", tenths / 10),
            };
        }
        _ => {}
    }
    // The largest unit that fits, and the next one as the precision.
    let top = UNITS
        .iter()
        .position(|&(u, _)| ms >= u)
        .unwrap_or(UNITS.len() - 1);
    let step = UNITS[(top + 1).min(UNITS.len() - 1)].0;
    let mut left = (ms + step / 2) / step * step;
    let mut out = String::new();
    for &(unit, name) in UNITS.iter().filter(|&&(u, _)| u >= step) {
        if left >= unit {
            out += &format!("{}{name}", left / unit);
            left %= unit;
        }
    }
    out
}

fn label(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_ascii_lowercase()
}

pub(super) fn print_ticket(t: &pb::Ticket) {
    println!(
        "ticket {} ext={} state={} tier={} channel={} priority={} skills=[{}] agent={} epoch={} due={} escalation={}",
        t.ticket_id,
        t.external_id,
        label(t.state().as_str_name(), "TICKET_STATE_"),
        label(t.tier().as_str_name(), "TIER_"),
        label(t.channel().as_str_name(), "CHANNEL_"),
        label(t.priority().as_str_name(), "PRIORITY_"),
        t.required_skills.join(","),
        if t.agent_id.is_empty() { "-" } else { &t.agent_id },
        t.lease_epoch,
        time(t.due_at.as_ref()),
        label(t.escalation().as_str_name(), "ESCALATION_LEVEL_"),
    );
    if let Some(until) = &t.offered_until {
        println!(
            "  offered to {} until {} (accept or reject)",
            t.agent_id,
            time(Some(until))
        );
    }
    for c in &t.sla {
        println!(
            "  {} target={} due={} met={} level={}{}",
            label(c.metric().as_str_name(), "SLA_METRIC_"),
            span(c.target.as_ref()),
            time(c.due_at.as_ref()),
            time(c.met_at.as_ref()),
            label(c.level().as_str_name(), "ESCALATION_LEVEL_"),
            if c.paused { " (paused)" } else { "" },
        );
    }
}

pub(super) fn print_agent(a: &pb::Agent) {
    let mut caps: Vec<String> = Channel::ALL
        .iter()
        .filter_map(|c| {
            let cap = a.capacity.get(c.label())?;
            Some(format!(
                "{}={}/{}",
                c.label(),
                a.load.get(c.label()).copied().unwrap_or(0),
                cap
            ))
        })
        .collect();
    caps.sort();
    let tiers: Vec<String> = a.tiers().map(|t| label(t.as_str_name(), "TIER_")).collect();
    let reason = match a.presence_reason.as_str() {
        "" => String::new(),
        r => format!(" ({r})"),
    };
    let mut wrapping: Vec<String> = a
        .wrap_up
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(c, n)| format!("{c}={n}"))
        .collect();
    wrapping.sort();
    let wrap_up = match wrapping.is_empty() {
        true => String::new(),
        false => format!(
            " wrap_up=[{}] until {}",
            wrapping.join(" "),
            time(a.wrap_up_until.as_ref())
        ),
    };
    println!(
        "agent {} presence={}{reason} skills=[{}] tiers=[{}] load/capacity=[{}]{wrap_up}",
        a.agent_id,
        label(a.presence().as_str_name(), "PRESENCE_"),
        a.skills.join(","),
        if tiers.is_empty() {
            "all".to_string()
        } else {
            tiers.join(",")
        },
        caps.join(" "),
    );
}

/// Queued tickets summed over routing keys.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Total {
    pub(super) depth: u64,
    /// The oldest ticket's age (ms), if any queue reported one.
    pub(super) oldest_ms: Option<u64>,
    pub(super) breached: u64,
}

impl Total {
    fn add(mut self, q: &pb::QueueStats) -> Total {
        self.depth += u64::from(q.depth);
        self.breached += u64::from(q.breached);
        if let Some(age) = q.oldest_age.as_ref().map(millis) {
            self.oldest_ms = Some(self.oldest_ms.map_or(age, |o| o.max(age)));
        }
        self
    }
}

/// The queues' totals: overall (`total`), then per channel (`channel=chat`) and per tier
/// (`tier=vip`) in the core's order, leaving out channels and tiers with no queue.
pub(super) fn totals(queues: &[pb::QueueStats]) -> Vec<(String, Total)> {
    let sum = |keep: &dyn Fn(&pb::QueueStats) -> bool| {
        queues
            .iter()
            .filter(|q| keep(q))
            .fold(None, |t: Option<Total>, q| {
                Some(t.unwrap_or_default().add(q))
            })
    };
    let mut out = vec![("total".to_string(), sum(&|_| true).unwrap_or_default())];
    for c in Channel::ALL {
        let of = |q: &pb::QueueStats| label(q.channel().as_str_name(), "CHANNEL_") == c.label();
        out.extend(sum(&of).map(|t| (format!("channel={}", c.label()), t)));
    }
    for t in Tier::ALL {
        let of = |q: &pb::QueueStats| label(q.tier().as_str_name(), "TIER_") == t.label();
        out.extend(sum(&of).map(|total| (format!("tier={}", t.label()), total)));
    }
    out
}

/// Queue totals first, then open tickets, agents and service levels; one line per routing
/// key (tier, channel, skills) only `by_key`.
pub(super) fn print_stats(s: &pb::GetQueueStatsResponse, by_key: bool) {
    for (name, t) in totals(&s.queues) {
        println!(
            "queued {name} depth={} oldest_age={} breached={}",
            t.depth,
            t.oldest_ms.map_or_else(|| "-".to_string(), human),
            t.breached
        );
    }
    let open: Vec<String> = s
        .open_by_state
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                label(c.state().as_str_name(), "TICKET_STATE_"),
                c.count
            )
        })
        .collect();
    let agents: Vec<String> = s
        .agents_by_presence
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                label(c.presence().as_str_name(), "PRESENCE_"),
                c.count
            )
        })
        .collect();
    println!("open {}", open.join(" "));
    println!("agents {}", agents.join(" "));
    let pct = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0));
    for l in &s.service_levels {
        println!(
            "service_level channel={} tier={} sl={}{} within={} breached={} abandoned={} asa={} fcr={} aht={} (window {}, target {})",
            label(l.channel().as_str_name(), "CHANNEL_"),
            label(l.tier().as_str_name(), "TIER_"),
            pct(l.service_level),
            if l.below_target { " BELOW TARGET" } else { "" },
            l.answered_within,
            l.breached,
            l.abandoned,
            span(l.average_speed_of_answer.as_ref()),
            pct(l.first_contact_resolution),
            span(l.average_handle_time.as_ref()),
            span(s.window.as_ref()),
            pct(Some(s.service_level_target)),
        );
    }
    if by_key {
        s.queues.iter().for_each(print_queue);
    } else if !s.queues.is_empty() {
        println!("({} routing keys; --by-key lists them)", s.queues.len());
    }
}

fn print_queue(q: &pb::QueueStats) {
    println!(
        "queue tier={} channel={} skills=[{}] depth={} oldest_age={} breached={}",
        label(q.tier().as_str_name(), "TIER_"),
        label(q.channel().as_str_name(), "CHANNEL_"),
        q.skills.join(","),
        q.depth,
        span(q.oldest_age.as_ref()),
        q.breached
    );
}

pub(super) fn print_policy(p: &pb::SlaPolicy) {
    for t in &p.targets {
        println!(
            "{:<10} first_response={} next_reply={} resolution={}",
            label(t.channel().as_str_name(), "CHANNEL_"),
            span(t.first_response.as_ref()),
            span(t.next_reply.as_ref()),
            span(t.resolution.as_ref())
        );
    }
    let tiers: Vec<String> = p
        .tier_multipliers
        .iter()
        .map(|m| {
            format!(
                "{}×{}",
                label(m.tier().as_str_name(), "TIER_"),
                m.multiplier
            )
        })
        .collect();
    let prios: Vec<String> = p
        .priority_multipliers
        .iter()
        .map(|m| {
            format!(
                "{}×{}",
                label(m.priority().as_str_name(), "PRIORITY_"),
                m.multiplier
            )
        })
        .collect();
    println!("tiers {}", tiers.join(" "));
    println!("priorities {}", prios.join(" "));
    println!(
        "warning at {}%, L2 at breach+{}%, L3 at breach+{}%, preferred hold {}, presence ttl {}",
        p.warning_fraction * 100.0,
        p.l2_offset * 100.0,
        p.l3_offset * 100.0,
        span(p.preferred_hold.as_ref()),
        span(p.presence_ttl.as_ref())
    );
    println!("{}", order_line(p));
    println!("{}", bound_line(p));
    println!("{}", offers_line(p));
}

/// Which channels offer rather than assign, and the rules of offers (see README "Offers").
fn offers_line(p: &pb::SlaPolicy) -> String {
    let timeouts: Vec<String> = p
        .offer_timeouts
        .iter()
        .map(|o| {
            let channel = label(o.channel().as_str_name(), "CHANNEL_");
            format!("{channel}={}", span(o.timeout.as_ref()))
        })
        .collect();
    let on = match timeouts.is_empty() {
        true => "off (direct assignment)".to_string(),
        false => timeouts.join(" "),
    };
    format!(
        "offers {on}; AWAY after {} missed in a row; no re-offer for {}",
        p.max_missed_offers.unwrap_or(0),
        span(p.reoffer_after.as_ref())
    )
}

/// How a pull chooses, as `order` and `force_level` say (see README "How it schedules").
fn order_line(p: &pb::SlaPolicy) -> String {
    let order = label(p.order().as_str_name(), "QUEUE_ORDER_");
    let level = label(p.force_level().as_str_name(), "ESCALATION_LEVEL_");
    match p.order() {
        pb::QueueOrder::SavableFirst => {
            format!("order {order}: a late ticket at {level} goes first")
        }
        pb::QueueOrder::SavableTurns => {
            format!("order {order}: a late ticket at {level} goes first on an agent's turn")
        }
        _ => format!("order {order}"),
    }
}

/// The FIFO-relative bound, as `fifo_bound` says.
fn bound_line(p: &pb::SlaPolicy) -> String {
    let factor = p.fifo_bound.as_ref().and_then(|b| b.factor).unwrap_or(0.0);
    if factor == 0.0 {
        return "fifo bound off".to_string();
    }
    let floor = span(p.fifo_bound.as_ref().and_then(|b| b.floor.as_ref()));
    format!("fifo bound: a ticket waiting {factor}x FIFO's wait goes first (FIFO's wait at least {floor})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_line_says_off_or_the_factor_and_floor() {
        let mut p = pb::SlaPolicy::default();
        assert_eq!(bound_line(&p), "fifo bound off");
        p.fifo_bound = Some(pb::FifoBound {
            factor: Some(1.9),
            floor: Some(prost_types::Duration {
                seconds: 60,
                nanos: 0,
            }),
        });
        assert_eq!(
            bound_line(&p),
            "fifo bound: a ticket waiting 1.9x FIFO's wait goes first (FIFO's wait at least 1m)"
        );
    }

    #[test]
    fn the_order_line_names_the_order_and_under_savable_first_the_force_level() {
        let mut p = pb::SlaPolicy {
            order: pb::QueueOrder::SavableFirst as i32,
            force_level: pb::EscalationLevel::L2 as i32,
            ..Default::default()
        };
        assert_eq!(
            order_line(&p),
            "order savable_first: a late ticket at l2 goes first"
        );
        p.order = pb::QueueOrder::SavableTurns as i32;
        assert_eq!(
            order_line(&p),
            "order savable_turns: a late ticket at l2 goes first on an agent's turn"
        );
        p.order = pb::QueueOrder::Deadline as i32;
        assert_eq!(order_line(&p), "order deadline");
    }

    #[test]
    fn spans_read_in_human_units() {
        for (ms, text) in [
            (0, "0ms"),
            (250, "250ms"),
            (1000, "1s"),
            (4_500, "4.5s"),
            (9_960, "10s"),
            (45_000, "45s"),
            (125_000, "2m5s"),
            (1_199_999, "20m"),
            (1_200_000, "20m"),
            (3_599_700, "1h"),
            (5_400_000, "1h30m"),
            (5_430_000, "1h31m"),
            (86_400_000, "1d"),
            (183_600_000, "2d3h"),
        ] {
            assert_eq!(human(ms), text, "{ms} ms");
        }
    }

    fn queue(tier: pb::Tier, channel: pb::Channel, depth: u32, age_s: i64) -> pb::QueueStats {
        pb::QueueStats {
            tier: tier as i32,
            channel: channel as i32,
            skills: vec![],
            depth,
            oldest_age: Some(prost_types::Duration {
                seconds: age_s,
                nanos: 0,
            }),
            breached: depth / 2,
        }
    }

    #[test]
    fn totals_come_overall_then_per_channel_then_per_tier() {
        let queues = [
            queue(pb::Tier::Vip, pb::Channel::Chat, 2, 10),
            queue(pb::Tier::Standard, pb::Channel::Chat, 4, 30),
            queue(pb::Tier::Standard, pb::Channel::Email, 6, 20),
        ];
        let t = |depth, age_s: u64, breached| Total {
            depth,
            oldest_ms: Some(age_s * 1000),
            breached,
        };
        assert_eq!(
            totals(&queues),
            vec![
                ("total".to_string(), t(12, 30, 6)),
                ("channel=chat".to_string(), t(6, 30, 3)),
                ("channel=email".to_string(), t(6, 20, 3)),
                ("tier=vip".to_string(), t(2, 10, 1)),
                ("tier=standard".to_string(), t(10, 30, 5)),
            ]
        );
        assert_eq!(totals(&[]), vec![("total".to_string(), Total::default())]);
    }
}
