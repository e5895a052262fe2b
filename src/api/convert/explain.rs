//! `core::explain` answers as `TicketExplanation`.

use super::{channel, duration, level, metric, state, tier, timestamp};
use crate::core::explain::{Blocker, Clocks, Explanation, Holding, Step, Waiting};
use crate::core::model::Hold;
use crate::proto as pb;
use pb::ticket_explanation::Detail;

pub fn explanation(e: &Explanation) -> pb::TicketExplanation {
    match e {
        Explanation::Queued(w) => with_clocks(
            w.ticket,
            crate::core::types::TicketState::Queued,
            &w.clocks,
            Detail::Waiting(waiting(w)),
        ),
        Explanation::Held(h) => {
            with_clocks(h.ticket, h.state, &h.clocks, Detail::Holding(holding(h)))
        }
        Explanation::Finished {
            ticket,
            state: s,
            at,
        } => pb::TicketExplanation {
            ticket_id: ticket.0,
            state: state(*s).into(),
            detail: Some(Detail::Finished(pb::FinishedExplanation {
                at: Some(timestamp(*at)),
            })),
            ..Default::default()
        },
    }
}

fn with_clocks(
    ticket: crate::core::types::TicketId,
    s: crate::core::types::TicketState,
    clocks: &Clocks,
    detail: Detail,
) -> pb::TicketExplanation {
    pb::TicketExplanation {
        ticket_id: ticket.0,
        state: state(s).into(),
        next_due_metric: clocks.next_due.map_or(0, |(m, _)| metric(m).into()),
        next_due_at: clocks.next_due.map(|(_, at)| timestamp(at)),
        next_step: clocks.next_step.as_ref().map(step),
        detail: Some(detail),
    }
}

fn step(s: &Step) -> pb::EscalationStep {
    pb::EscalationStep {
        metric: metric(s.metric).into(),
        level: level(s.level).into(),
        at: Some(timestamp(s.at)),
    }
}

fn waiting(w: &Waiting) -> pb::WaitingExplanation {
    let hold = w.hold.map(|h| match h {
        Hold::Preferred { .. } => pb::HoldKind::Preferred,
        Hold::Onboarding { .. } => pb::HoldKind::Onboarding,
        Hold::Resolver { .. } => pb::HoldKind::Resolver,
    });
    pb::WaitingExplanation {
        tier: w.key.tier.map_or(0, |t| tier(t).into()),
        channel: channel(w.key.channel).into(),
        skills: w.key.minimums.written(w.key.skills.iter(), ">=").collect(),
        level: level(w.level).into(),
        hold: hold.map_or(0, Into::into),
        hold_until: w.hold.map(|h| timestamp(h.until())),
        held_for_agent_id: w
            .held_for
            .as_ref()
            .map_or_else(String::new, |a| a.to_string()),
        queued_at: Some(timestamp(w.queued_at)),
        rank_in_queue: w.rank_in_queue,
        queue_depth: w.queue_depth,
        rank_overall: w.rank_overall,
        queued_total: w.queued_total,
        agents_can_take: w.takers,
        blocked: w
            .blocked
            .iter()
            .map(|&(b, agents)| pb::BlockedAgents {
                reason: blocker(b).into(),
                agents,
            })
            .collect(),
        ring: w.ring.label().to_string(),
        next_ring_at: w.next_ring_at.map(timestamp),
        fifo_wait: w.bound.map(|b| duration(b.fifo_wait)),
        bound_at: w.bound.map(|b| timestamp(b.at)),
        missing_skills: w
            .missing_skills
            .iter()
            .map(|(s, agents)| pb::MissingSkill {
                skill: s.0.to_string(),
                agents: *agents,
            })
            .collect(),
    }
}

fn holding(h: &Holding) -> pb::HoldingExplanation {
    pb::HoldingExplanation {
        agent_id: h.agent.to_string(),
        lease_epoch: h.epoch.get(),
        held_since: h.since.map(timestamp),
        last_queued_at: Some(timestamp(h.last_queued_at)),
        presence_expires_at: h.presence_expires_at.map(timestamp),
        take_back: h.take_back.as_ref().map(step),
    }
}

pub fn blocker(b: Blocker) -> pb::BlockReason {
    match b {
        Blocker::TierNotServed => pb::BlockReason::TierNotServed,
        Blocker::MissingSkill => pb::BlockReason::MissingSkill,
        Blocker::HeldForPreferred => pb::BlockReason::HeldForPreferred,
        Blocker::HeldForOnboarding => pb::BlockReason::HeldForOnboarding,
        Blocker::HeldForResolver => pb::BlockReason::HeldForResolver,
        Blocker::NotAvailable => pb::BlockReason::NotAvailable,
        Blocker::ChannelFull => pb::BlockReason::ChannelFull,
        Blocker::OfferRejected => pb::BlockReason::OfferRejected,
    }
}
