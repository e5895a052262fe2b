//! Routing: which queue a ticket waits in, which agents may take from it, and the pick of the
//! best ticket for an agent among the heads of the queues it is eligible for.
//!
//! A routing key is (tier, channel, required skills). DESIGN.md keys by (tier, skills); the
//! channel is in the key too because capacity is per channel: with it, the head of every
//! queue an agent looks at is a ticket the agent can take or a queue it can skip whole, so a
//! pull is O(eligible keys · log n) and never a scan of tickets.

use super::model::{Agent, Hold, Order, Ticket};
use super::policy::SlaPolicy;
use super::queue::{KeyId, Queues, Slot};
use super::types::{Channel, Level, SkillSet, TicketId, Tier, Widen};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoutingKey {
    /// `None` when any tier's agent may take it (L3).
    pub tier: Option<Tier>,
    pub channel: Channel,
    pub skills: SkillSet,
}

impl RoutingKey {
    /// The key a ticket waits under. Escalation widens it as the policy says for L2 and L3
    /// (by default: the first required skill at L2, any available agent at L3); a new
    /// customer's onboarding hold narrows it to agents with the onboarding skill.
    pub fn for_ticket(ticket: &Ticket, policy: &SlaPolicy) -> RoutingKey {
        let widen = match ticket.escalation() {
            Level::L3 => policy.widening.l3,
            Level::L2 => policy.widening.l2,
            _ => Widen::Keep,
        };
        let (tier, mut skills) = match widen {
            Widen::Keep => (Some(ticket.tier), ticket.skills.clone()),
            Widen::FirstSkill => (Some(ticket.tier), ticket.skills.first_only()),
            Widen::AnyAgent => (None, SkillSet::default()),
            Widen::Supervisors => (None, SkillSet::default().with(&policy.supervisor_skill)),
        };
        if matches!(ticket.hold, Some(Hold::Onboarding { .. })) {
            skills = skills.with(&policy.onboarding_skill);
        }
        RoutingKey {
            tier,
            channel: ticket.channel,
            skills,
        }
    }

    /// Whether `agent` may serve tickets under this key (capacity aside).
    pub fn admits(&self, agent: &Agent) -> bool {
        self.tier.is_none_or(|tier| agent.serves_tier(tier))
            && self.skills.is_subset_of(&agent.skills)
    }
}

/// The ticket chosen for an agent and where it was waiting.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    pub ticket: TicketId,
    pub from: Slot,
    pub order: Order,
}

/// Extends the agent's cache of eligible keys with keys created since it last looked.
pub fn refresh_routes(agent: &mut Agent, queues: &Queues) {
    let total = queues.key_count();
    for id in agent.routes.scanned..total {
        let id = id as KeyId;
        if queues.key(id).admits(agent) {
            agent.routes.keys.push(id);
        }
    }
    agent.routes.scanned = total;
}

/// The best ticket `agent` may take now: the smallest `Order` among the tickets held for it as
/// preferred agent and the heads of the queues it is eligible for and has room on.
pub fn best_for<'t>(
    agent: &mut Agent,
    queues: &Queues,
    ticket: impl Fn(TicketId) -> Option<&'t Ticket>,
) -> Option<Pick> {
    refresh_routes(agent, queues);
    let mut best: Option<Pick> = None;
    let mut consider = |id: TicketId, order: Order, from: Slot| {
        if best.as_ref().is_none_or(|b| order < b.order) {
            best = Some(Pick {
                ticket: id,
                from,
                order,
            });
        }
    };
    for (id, order) in queues.held_for(&agent.id) {
        if ticket(id).is_some_and(|t| agent.may_take(t)) {
            consider(id, order, Slot::Held(agent.id.clone()));
        }
    }
    let mut best_key: Option<(Order, KeyId)> = None;
    for &key in &agent.routes.keys {
        if let Some(order) = queues.head(key) {
            if best_key.is_none_or(|(b, _)| order < b) && agent.has_room(queues.channel(key)) {
                best_key = Some((order, key));
            }
        }
    }
    if let Some((order, key)) = best_key {
        consider(order.seq, order, Slot::Key(key));
    }
    best
}
