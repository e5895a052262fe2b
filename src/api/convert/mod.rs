//! Conversions between core types and the generated protobuf types: the one place that knows
//! both, for the API, ctl and bench. Closed enums (both directions) are in `enums`; requests are
//! checked and decoded in `api::validate`.

mod enums;
mod explain;

pub use enums::decode;
pub use enums::{cancel_reason, channel, presence, priority, sentiment, state, tier};
pub use explain::explanation;

use crate::core::command::{Assignment, QueueStats, ServiceLevel};
use crate::core::event::{Event, Recorded};
use crate::core::model::{Agent, Ticket};
use crate::core::sla::Clock;
use crate::core::types::{self as core, Channel, Level, Span, Ts};
use crate::proto as pb;

pub fn timestamp(ts: Ts) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ts.0.div_euclid(1000),
        nanos: (ts.0.rem_euclid(1000) * 1_000_000) as i32,
    }
}

pub fn duration(span: Span) -> prost_types::Duration {
    prost_types::Duration {
        seconds: (span.0 / 1000) as i64,
        nanos: ((span.0 % 1000) * 1_000_000) as i32,
    }
}

pub fn metric(m: core::SlaMetric) -> pb::SlaMetric {
    match m {
        core::SlaMetric::FirstResponse => pb::SlaMetric::FirstResponse,
        core::SlaMetric::NextReply => pb::SlaMetric::NextReply,
        core::SlaMetric::Resolution => pb::SlaMetric::Resolution,
        core::SlaMetric::FollowUp => pb::SlaMetric::FollowUp,
        core::SlaMetric::InterimUpdate => pb::SlaMetric::InterimUpdate,
    }
}

pub fn level(l: Level) -> pb::EscalationLevel {
    match l {
        Level::None => pb::EscalationLevel::None,
        Level::Warning => pb::EscalationLevel::Warning,
        Level::L1 => pb::EscalationLevel::L1,
        Level::L2 => pb::EscalationLevel::L2,
        Level::L3 => pb::EscalationLevel::L3,
    }
}

fn clock(c: &Clock, live: bool) -> pb::SlaClock {
    pb::SlaClock {
        metric: metric(c.metric) as i32,
        started_at: Some(timestamp(c.started_at)),
        target: Some(duration(c.target)),
        due_at: c.due().filter(|_| live).map(timestamp),
        met_at: c.met_at.get().map(timestamp),
        breached: c.breached(),
        paused: c.paused_since.is_some(),
        level: level(c.level) as i32,
    }
}

pub fn ticket(t: &Ticket) -> pb::Ticket {
    pb::Ticket {
        ticket_id: t.id.0,
        external_id: t.external_id.to_string(),
        customer_id: t.customer_id.to_string(),
        tier: tier(t.tier) as i32,
        channel: channel(t.channel) as i32,
        priority: priority(t.priority) as i32,
        required_skills: t.written_skills().collect(),
        sentiment: sentiment(t.sentiment) as i32,
        preferred_agent_id: t
            .preferred_agent
            .as_ref()
            .map_or_else(String::new, |a| a.to_string()),
        state: state(t.state) as i32,
        agent_id: t.holder().map_or_else(String::new, |a| a.to_string()),
        lease_epoch: t.epoch().get(),
        created_at: Some(timestamp(t.created_at)),
        updated_at: Some(timestamp(t.updated_at)),
        due_at: t.due().map(timestamp),
        sla: t.clocks().map(|c| clock(c, t.is_live(c.metric))).collect(),
        escalation: level(t.escalation()) as i32,
        resolved_at: t.resolved_at.get().map(timestamp),
        follow_up_due_at: t.follow_up_due_at.get().map(timestamp),
        reopens: t.reopens,
        offered_until: t.offer().map(|o| timestamp(o.until)),
        optional_skills: t
            .optional_skills()
            .into_iter()
            .flat_map(|s| s.iter().map(|s| s.0.to_string()))
            .collect(),
    }
}

fn per_channel(values: &[u32; Channel::COUNT]) -> std::collections::HashMap<String, u32> {
    Channel::ALL
        .iter()
        .map(|&c| (c.label().to_string(), values[c.index()]))
        .collect()
}

pub fn agent(a: &Agent) -> pb::Agent {
    pb::Agent {
        agent_id: a.id.to_string(),
        display_name: a.display_name.clone(),
        skills: a.levels.written(a.skills.iter(), ":").collect(),
        tiers: a.tiers.iter().map(|&t| tier(t) as i32).collect(),
        capacity: per_channel(&a.capacity),
        presence: presence(a.presence) as i32,
        last_seen: Some(timestamp(a.last_seen)),
        load: per_channel(&a.load),
        missed_offers: a.missed_offers,
        presence_reason: a.activity.reason.clone().unwrap_or_default(),
        wrap_up: per_channel(&std::array::from_fn(|i| {
            a.activity.wrapping(Channel::ALL[i])
        })),
        wrap_up_until: a
            .activity
            .wrap_ups
            .iter()
            .map(|w| w.until)
            .max()
            .map(timestamp),
    }
}

pub fn agent_stats(s: &crate::core::agent_stats::AgentStats) -> pb::AgentStats {
    pb::AgentStats {
        agent_id: s.agent.to_string(),
        window: Some(duration(s.window)),
        handled: s.handled,
        average_handle_time: s.average_handle_time.map(duration),
        answered_within: s.answered_within,
        answered_late: s.answered_late,
        service_level: s.service_level,
        busy: Some(duration(s.busy)),
        wrap_up: Some(duration(s.wrap_up)),
        signed_in: Some(duration(s.signed_in)),
        occupancy: s.occupancy,
        time_in_state: s
            .time_in_state
            .iter()
            .map(|t| pb::PresenceTime {
                presence: presence(t.presence) as i32,
                reason: t.reason.clone().unwrap_or_default(),
                time: Some(duration(t.time)),
            })
            .collect(),
        offers_missed: s.offers_missed,
        offers_rejected: s.offers_rejected,
    }
}

pub fn heartbeat(presence: core::Presence, expires_at: Ts) -> pb::HeartbeatResponse {
    pb::HeartbeatResponse {
        presence: self::presence(presence) as i32,
        expires_at: Some(timestamp(expires_at)),
    }
}

pub fn assignment(a: &Assignment) -> pb::Assignment {
    pb::Assignment {
        ticket: Some(ticket(&a.ticket)),
        lease_epoch: a.lease_epoch.get(),
        reason: a.reason.label().to_string(),
    }
}

pub fn stats(s: &QueueStats) -> pb::GetQueueStatsResponse {
    pb::GetQueueStatsResponse {
        queues: s
            .queues
            .iter()
            .map(|q| pb::QueueStats {
                tier: tier(q.tier) as i32,
                channel: channel(q.channel) as i32,
                skills: q.skills.iter().map(|s| s.0.to_string()).collect(),
                depth: q.depth,
                oldest_age: Some(duration(q.oldest_age)),
                breached: q.breached,
            })
            .collect(),
        open_by_state: s
            .open_by_state
            .iter()
            .map(|&(st, count)| pb::StateCount {
                state: state(st) as i32,
                count,
            })
            .collect(),
        agents_by_presence: s
            .agents_by_presence
            .iter()
            .map(|&(p, count)| pb::PresenceCount {
                presence: presence(p) as i32,
                count,
            })
            .collect(),
        window: Some(duration(s.window)),
        service_level_target: s.service_level_target,
        service_levels: s.service_levels.iter().map(service_level).collect(),
    }
}

fn service_level(l: &ServiceLevel) -> pb::ServiceLevel {
    pb::ServiceLevel {
        channel: channel(l.channel) as i32,
        tier: tier(l.tier) as i32,
        answered_within: l.answered_within,
        breached: l.breached,
        service_level: l.service_level,
        below_target: l.below_target,
        abandoned: l.abandoned,
        abandonment_rate: l.abandonment_rate,
        average_speed_of_answer: l.average_speed_of_answer.map(duration),
        resolved: l.resolved,
        first_contact_resolution: l.first_contact_resolution,
        average_handle_time: l.average_handle_time.map(duration),
    }
}

/// A numbered event as `WatchEvents` streams it.
pub fn event(r: &Recorded) -> pb::Event {
    use pb::EventKind as K;
    let mut out = pb::Event {
        sequence: r.seq,
        at: Some(timestamp(r.at)),
        ticket_id: r.event.ticket().map_or(0, |t| t.0),
        actor: r.actor.to_string(),
        lease_epoch: r.epoch.map_or(0, |e| e.get()),
        ..Default::default()
    };
    let routed = |out: &mut pb::Event, t: core::Tier, c: Channel| {
        out.tier = tier(t) as i32;
        out.channel = channel(c) as i32;
    };
    match &r.event {
        Event::Created {
            tier: t,
            channel: c,
            ..
        } => {
            out.kind = K::Created as i32;
            routed(&mut out, *t, *c);
        }
        Event::Assigned {
            agent,
            tier: t,
            channel: c,
            waited,
            reason,
            ..
        } => {
            out.kind = K::Assigned as i32;
            routed(&mut out, *t, *c);
            out.agent_id = agent.to_string();
            out.reason = reason.label().to_string();
            out.elapsed = Some(duration(*waited));
        }
        Event::ClockMet {
            metric: m,
            tier: t,
            channel: c,
            elapsed,
            within,
            ..
        } => {
            out.kind = K::ClockMet as i32;
            routed(&mut out, *t, *c);
            out.metric = metric(*m) as i32;
            out.within_target = *within;
            out.elapsed = Some(duration(*elapsed));
        }
        Event::Escalated {
            metric: m,
            tier: t,
            channel: c,
            level: l,
            ..
        } => {
            out.kind = match l {
                Level::Warning => K::Warning,
                Level::L1 => K::Breached,
                _ => K::Escalated,
            } as i32;
            routed(&mut out, *t, *c);
            out.metric = metric(*m) as i32;
            out.level = level(*l) as i32;
        }
        Event::Requeued { reason, .. } => {
            out.kind = match reason {
                core::RequeueReason::Reopened => K::Reopened,
                _ => K::Requeued,
            } as i32;
            out.reason = reason.label().to_string();
        }
        Event::Resolved {
            tier: t,
            channel: c,
            ..
        } => {
            out.kind = K::Resolved as i32;
            routed(&mut out, *t, *c);
        }
        Event::Cancelled {
            tier: t,
            channel: c,
            reason,
            ..
        } => {
            out.kind = K::Cancelled as i32;
            routed(&mut out, *t, *c);
            out.reason = reason.label().to_string();
        }
        Event::AgentExpired { agent } => {
            out.kind = K::AgentExpired as i32;
            out.agent_id = agent.to_string();
        }
        Event::Replied { from, agent, .. } => {
            out.kind = K::Replied as i32;
            out.author = match from {
                core::Party::Agent => pb::Author::Agent,
                core::Party::Customer => pb::Author::Customer,
            } as i32;
            out.agent_id = agent.as_ref().map(|a| a.to_string()).unwrap_or_default();
        }
        Event::Paused { metric: m, .. } => {
            out.kind = K::Paused as i32;
            out.metric = metric(*m) as i32;
        }
        Event::Resumed { metric: m, .. } => {
            out.kind = K::Resumed as i32;
            out.metric = metric(*m) as i32;
        }
        Event::FollowUpDue {
            tier: t,
            channel: c,
            ..
        } => {
            out.kind = K::FollowUpDue as i32;
            routed(&mut out, *t, *c);
            out.metric = metric(core::SlaMetric::FollowUp) as i32;
        }
        Event::Erased { tickets } => {
            out.kind = K::Erased as i32;
            out.count = *tickets;
        }
        Event::Transferred {
            from,
            to,
            tier: t,
            channel: c,
            forced,
            note,
            ..
        } => {
            out.kind = K::Transferred as i32;
            routed(&mut out, *t, *c);
            out.agent_id = to.as_ref().map(|a| a.to_string()).unwrap_or_default();
            out.from_agent_id = from.as_ref().map(|a| a.to_string()).unwrap_or_default();
            out.forced = *forced;
            out.note = note.clone();
        }
        Event::RepliedOnBehalf { agent, .. } => {
            out.kind = K::Replied as i32;
            out.author = pb::Author::Agent as i32;
            out.agent_id = agent.to_string();
            out.on_behalf = true;
        }
        Event::Updated {
            tier: t,
            channel: c,
            fields,
            ..
        } => {
            out.kind = K::TicketUpdated as i32;
            routed(&mut out, *t, *c);
            out.changed_fields = fields.iter().map(|f| f.label().to_string()).collect();
        }
        Event::AgentUpserted { agent, upsert } => {
            out.kind = K::AgentUpserted as i32;
            out.agent_id = agent.to_string();
            out.reason = upsert.label().to_string();
        }
        Event::PolicyChanged { write } => {
            out.kind = K::PolicyChanged as i32;
            out.reason = write.label().to_string();
        }
        Event::Offered {
            agent,
            tier: t,
            channel: c,
            until,
            reason,
            ..
        } => {
            out.kind = K::Offered as i32;
            routed(&mut out, *t, *c);
            out.agent_id = agent.to_string();
            out.reason = reason.label().to_string();
            out.offer_expires_at = Some(timestamp(*until));
        }
        Event::OfferAccepted {
            agent,
            tier: t,
            channel: c,
            ..
        } => {
            out.kind = K::OfferAccepted as i32;
            routed(&mut out, *t, *c);
            out.agent_id = agent.to_string();
        }
        Event::OfferRejected {
            agent,
            tier: t,
            channel: c,
            reason,
            ..
        } => {
            out.kind = K::OfferRejected as i32;
            routed(&mut out, *t, *c);
            out.agent_id = agent.to_string();
            out.reason = reason.clone();
        }
        Event::OfferTimedOut {
            agent,
            tier: t,
            channel: c,
            missed,
            away,
            ..
        } => {
            out.kind = K::OfferTimedOut as i32;
            routed(&mut out, *t, *c);
            out.agent_id = agent.to_string();
            out.missed_offers = *missed;
            if *away {
                out.reason = crate::core::offer::MISSED_OFFERS.to_string();
            }
        }
        Event::PresenceChanged {
            agent,
            presence: p,
            reason,
        } => {
            out.kind = K::PresenceChanged as i32;
            out.agent_id = agent.to_string();
            out.presence = presence(*p) as i32;
            out.reason = reason.clone().unwrap_or_default();
        }
        Event::WrapUpEnded { agent, early } => {
            out.kind = K::WrapUpEnded as i32;
            out.agent_id = agent.to_string();
            out.early = *early;
        }
        Event::RingWidened {
            tier: t,
            channel: c,
            ring,
            ..
        } => {
            out.kind = K::RingWidened as i32;
            routed(&mut out, *t, *c);
            out.ring = ring.label().to_string();
        }
        Event::WebhookPut { webhook, resumed } => {
            out.kind = K::WebhookPut as i32;
            out.webhook_id.clone_from(webhook);
            if *resumed {
                out.reason = "resumed".into();
            }
        }
        Event::WebhookDeleted { webhook } => {
            out.kind = K::WebhookDeleted as i32;
            out.webhook_id.clone_from(webhook);
        }
        Event::WebhookPaused { webhook, error } => {
            out.kind = K::WebhookPaused as i32;
            out.webhook_id.clone_from(webhook);
            out.reason.clone_from(error);
        }
    }
    out
}

/// One item of a `CreateTickets` answer: the ticket, or why it was refused.
pub fn create_result(outcome: Result<Ticket, tonic::Status>) -> pb::CreateTicketResult {
    use pb::create_ticket_result::Result as Item;
    use tonic_types::StatusExt;
    let item = match outcome {
        Ok(t) => Item::Ticket(ticket(&t)),
        Err(status) => {
            let field = status
                .get_details_bad_request()
                .and_then(|b| b.field_violations.into_iter().next())
                .map(|v| v.field)
                .unwrap_or_default();
            Item::Error(pb::ItemError {
                code: status.code() as i32,
                message: status.message().to_string(),
                field,
            })
        }
    };
    pb::CreateTicketResult { result: Some(item) }
}
