//! How `triage ctl` prints what the daemon answers: one line per ticket, agent, queue or
//! event, with enum names in lower case as the command line takes them.

use crate::core::types::{Channel, Span};
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
    for (name, value) in [
        ("agent", e.agent_id.clone()),
        ("reason", e.reason.clone()),
        ("metric", label(e.metric().as_str_name(), "SLA_METRIC_")),
        ("level", label(e.level().as_str_name(), "ESCALATION_LEVEL_")),
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
    d.map_or_else(
        || "-".into(),
        |d| Span(d.seconds.max(0) as u64 * 1000 + d.nanos.max(0) as u64 / 1_000_000).to_string(),
    )
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
    println!(
        "agent {} presence={} skills=[{}] tiers=[{}] load/capacity=[{}]",
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

pub(super) fn print_stats(s: &pb::GetQueueStatsResponse) {
    for q in &s.queues {
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
}
