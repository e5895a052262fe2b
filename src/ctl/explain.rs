//! `triage ctl explain ID`: a `TicketExplanation` in plain sentences, times as UTC clock
//! times with how far they are from now (this machine's clock).

use super::print::human;
use crate::proto as pb;
use pb::ticket_explanation::Detail;
use prost_types::Timestamp;

/// The explanation as the lines `ctl explain` prints.
pub(super) fn sentences(e: &pb::TicketExplanation, now_ms: i64) -> Vec<String> {
    let at = |t: Option<&Timestamp>| clock(t, now_ms);
    let mut out = match &e.detail {
        Some(Detail::Waiting(w)) => waiting(e.ticket_id, w, &at),
        Some(Detail::Holding(h)) => holding(e, h, &at),
        Some(Detail::Finished(f)) => vec![format!(
            "Ticket {} is {} since {}.",
            e.ticket_id,
            name(e.state().as_str_name(), "TICKET_STATE_"),
            at(f.at.as_ref())
        )],
        None => vec![format!("Ticket {}: no explanation.", e.ticket_id)],
    };
    if let Some(due) = &e.next_due_at {
        let metric = name(e.next_due_metric().as_str_name(), "SLA_METRIC_").replace('_', " ");
        let mut line = format!("{} is due at {}", capitalized(&metric), at(Some(due)));
        if let Some(s) = &e.next_step {
            line += &format!("; next escalation: {}.", step(s, &at));
        }
        out.push(line + if e.next_step.is_some() { "" } else { "." });
    }
    out
}

fn waiting(
    id: u64,
    w: &pb::WaitingExplanation,
    at: &dyn Fn(Option<&Timestamp>) -> String,
) -> Vec<String> {
    let tier = match w.tier() {
        pb::Tier::Unspecified => "any tier".to_string(),
        t => name(t.as_str_name(), "TIER_"),
    };
    let key = format!(
        "{tier}/{}/[{}]",
        name(w.channel().as_str_name(), "CHANNEL_"),
        w.skills.join(",")
    );
    let mut out = vec![format!(
        "Ticket {id} waits {} of {} in {key} and {} of {} overall, queued since {}.",
        ordinal(w.rank_in_queue),
        w.queue_depth,
        ordinal(w.rank_overall),
        w.queued_total,
        at(w.queued_at.as_ref()),
    )];
    let level = w.level();
    if matches!(level, pb::EscalationLevel::L2 | pb::EscalationLevel::L3) {
        out.push(format!(
            "Its routing is widened by escalation {}.",
            name(level.as_str_name(), "ESCALATION_LEVEL_").to_uppercase()
        ));
    }
    if let Some(line) = ring(w, at) {
        out.push(line);
    }
    if let Some(line) = bound(w, at) {
        out.push(line);
    }
    let held = match w.hold() {
        pb::HoldKind::Preferred => Some(format!("its preferred agent {}", w.held_for_agent_id)),
        pb::HoldKind::Resolver => Some(format!("{}, who resolved it", w.held_for_agent_id)),
        pb::HoldKind::Onboarding => Some("an agent with the onboarding skill".to_string()),
        pb::HoldKind::Unspecified => None,
    };
    if let Some(who) = held {
        out.push(format!(
            "It is held for {who} until {}.",
            at(w.hold_until.as_ref())
        ));
    }
    let takers = match w.agents_can_take {
        0 => "No agent could take it now".to_string(),
        1 => "1 agent could take it now".to_string(),
        n => format!("{n} agents could take it now"),
    };
    let reasons: Vec<String> = w.blocked.iter().map(|b| reason(b, w)).collect();
    out.push(match reasons.is_empty() {
        true => format!("{takers}."),
        false => format!("{takers}; of the others, {}.", reasons.join(", ")),
    });
    out
}

/// The FIFO-relative bound's line, while the bound acts on the ticket's channel.
fn bound(w: &pb::WaitingExplanation, at: &dyn Fn(Option<&Timestamp>) -> String) -> Option<String> {
    let fifo = w.fifo_wait.as_ref()?;
    let secs = fifo.seconds as f64 + f64::from(fifo.nanos) / 1e9;
    Some(format!(
        "FIFO would make its channel wait {secs:.0}s now; by the FIFO-relative bound it goes first from {}.",
        at(w.bound_at.as_ref())
    ))
}

/// The time rings' line: the ring in force and the next one, when there is either.
fn ring(w: &pb::WaitingExplanation, at: &dyn Fn(Option<&Timestamp>) -> String) -> Option<String> {
    let next = w.next_ring_at.as_ref();
    let widened = !w.ring.is_empty() && w.ring != "none";
    match (widened, next) {
        (false, None) => None,
        (false, Some(_)) => Some(format!(
            "Its next time ring widens its routing at {}.",
            at(next)
        )),
        (true, None) => Some(format!(
            "Its routing is widened by the time ring {}.",
            w.ring
        )),
        (true, Some(_)) => Some(format!(
            "Its routing is widened by the time ring {}; the next one at {}.",
            w.ring,
            at(next)
        )),
    }
}

fn reason(b: &pb::BlockedAgents, w: &pb::WaitingExplanation) -> String {
    let n = b.agents;
    let (one, many) = match b.reason() {
        pb::BlockReason::TierNotServed => ("does not serve the tier", "do not serve the tier"),
        pb::BlockReason::MissingSkill => return missing(n, &w.missing_skills),
        pb::BlockReason::HeldForPreferred => (
            "waits out the preferred agent's hold",
            "wait out the preferred agent's hold",
        ),
        pb::BlockReason::HeldForOnboarding => (
            "waits out the onboarding hold",
            "wait out the onboarding hold",
        ),
        pb::BlockReason::HeldForResolver => (
            "waits out the resolver's hold",
            "wait out the resolver's hold",
        ),
        pb::BlockReason::NotAvailable => ("is away or offline", "are away or offline"),
        pb::BlockReason::ChannelFull => ("is full on the channel", "are full on the channel"),
        pb::BlockReason::OfferRejected => ("rejected an offer of it", "rejected an offer of it"),
        pb::BlockReason::Unspecified => ("is blocked", "are blocked"),
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `4 lack skill billing`, or with several skills missing `4 lack a skill (billing: 3, en: 2)`.
fn missing(n: u64, skills: &[pb::MissingSkill]) -> String {
    let verb = if n == 1 { "lacks" } else { "lack" };
    match skills {
        [only] if only.agents == n => format!("{n} {verb} skill {}", only.skill),
        _ => {
            let each: Vec<String> = skills
                .iter()
                .map(|m| format!("{}: {}", m.skill, m.agents))
                .collect();
            format!("{n} {verb} a skill ({})", each.join(", "))
        }
    }
}

fn holding(
    e: &pb::TicketExplanation,
    h: &pb::HoldingExplanation,
    at: &dyn Fn(Option<&Timestamp>) -> String,
) -> Vec<String> {
    let since = match &h.held_since {
        Some(t) => format!("since {}", at(Some(t))),
        None => format!(
            "since after {} (when it was last queued)",
            at(h.last_queued_at.as_ref())
        ),
    };
    let mut out = vec![format!(
        "Ticket {} is {} to {} under lease epoch {}, {since}.",
        e.ticket_id,
        name(e.state().as_str_name(), "TICKET_STATE_"),
        h.agent_id,
        h.lease_epoch,
    )];
    let mut ends = vec![format!("{} releases it or goes offline", h.agent_id)];
    if let Some(t) = &h.presence_expires_at {
        ends.push(format!(
            "{}'s presence lapses without a heartbeat at {} (no first response yet)",
            h.agent_id,
            at(Some(t))
        ));
    }
    if let Some(s) = &h.take_back {
        ends.push(format!("{} takes it back unanswered", step(s, at)));
    }
    out.push(format!("The lease ends if {}.", ends.join(", or if ")));
    out
}

fn step(s: &pb::EscalationStep, at: &dyn Fn(Option<&Timestamp>) -> String) -> String {
    let level = name(s.level().as_str_name(), "ESCALATION_LEVEL_");
    let level = if level == "warning" {
        level
    } else {
        level.to_uppercase()
    };
    let metric = name(s.metric().as_str_name(), "SLA_METRIC_").replace('_', " ");
    format!("{level} of {metric} at {}", at(s.at.as_ref()))
}

/// `10:42:00 (in 3m)` or `10:38:00 (4m ago)`: UTC.
fn clock(t: Option<&Timestamp>, now_ms: i64) -> String {
    let Some(t) = t else {
        return "-".into();
    };
    let ms = t.seconds * 1000 + i64::from(t.nanos / 1_000_000);
    let when = chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| "-".to_string(), |d| d.format("%H:%M:%S").to_string());
    let off = ms - now_ms;
    match off {
        0.. => format!("{when} (in {})", human(off.unsigned_abs())),
        _ => format!("{when} ({} ago)", human(off.unsigned_abs())),
    }
}

fn name(s: &str, prefix: &str) -> String {
    s.trim_start_matches(prefix).to_ascii_lowercase()
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Option<Timestamp> {
        Some(Timestamp {
            seconds: ms / 1000,
            nanos: 0,
        })
    }

    #[test]
    fn a_waiting_ticket_reads_as_sentences() {
        let now = 1_800_000_000_000;
        let e = pb::TicketExplanation {
            ticket_id: 42,
            state: pb::TicketState::Queued.into(),
            next_due_metric: pb::SlaMetric::FirstResponse.into(),
            next_due_at: ts(now + 180_000),
            next_step: Some(pb::EscalationStep {
                metric: pb::SlaMetric::FirstResponse.into(),
                level: pb::EscalationLevel::Warning.into(),
                at: ts(now + 144_000),
            }),
            detail: Some(Detail::Waiting(pb::WaitingExplanation {
                tier: pb::Tier::Vip.into(),
                channel: pb::Channel::Chat.into(),
                skills: vec!["billing".into(), "en".into()],
                queued_at: ts(now - 60_000),
                rank_in_queue: 3,
                queue_depth: 17,
                rank_overall: 5,
                queued_total: 40,
                agents_can_take: 2,
                blocked: vec![
                    pb::BlockedAgents {
                        reason: pb::BlockReason::MissingSkill.into(),
                        agents: 4,
                    },
                    pb::BlockedAgents {
                        reason: pb::BlockReason::NotAvailable.into(),
                        agents: 1,
                    },
                ],
                missing_skills: vec![pb::MissingSkill {
                    skill: "billing".into(),
                    agents: 4,
                }],
                ..Default::default()
            })),
        };
        let lines = sentences(&e, now);
        assert_eq!(
            lines,
            vec![
                "Ticket 42 waits 3rd of 17 in vip/chat/[billing,en] and 5th of 40 overall, queued since 07:59:00 (1m ago).",
                "2 agents could take it now; of the others, 4 lack skill billing, 1 is away or offline.",
                "First response is due at 08:03:00 (in 3m); next escalation: warning of first response at 08:02:24 (in 2m24s).",
            ]
        );
    }

    #[test]
    fn the_bound_reads_as_fifo_s_wait_and_when_the_ticket_goes_first() {
        let now = 1_800_000_000_000;
        let w = pb::WaitingExplanation {
            fifo_wait: Some(prost_types::Duration {
                seconds: 95,
                nanos: 0,
            }),
            bound_at: ts(now + 30_000),
            ..Default::default()
        };
        let at = |t: Option<&Timestamp>| format!("{}", t.map_or(0, |t| t.seconds));
        assert_eq!(
            bound(&w, &at).as_deref(),
            Some("FIFO would make its channel wait 95s now; by the FIFO-relative bound it goes first from 1800000030.")
        );
        assert_eq!(bound(&pb::WaitingExplanation::default(), &at), None);
    }

    #[test]
    fn ordinals_follow_english() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]
            .map(ordinal)
            .to_vec();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }
}
