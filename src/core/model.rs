//! Tickets and agents as the scheduler keeps them. Their serde form is the persisted record
//! (see `store::codec`); fields marked `serde(skip)` are runtime indexes rebuilt at recovery.

use super::policy::SlaPolicy;
use super::scheduler::HashSet;
use super::sla::Clock;
use super::types::{
    AgentId, CancelReason, Channel, Level, Presence, Priority, Sentiment, SkillSet, SlaMetric,
    Span, TicketId, TicketState, Tier, Ts,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A ticket's place in line: earliest due first, then tier (VIP, new, standard), then arrival.
/// A breached ticket is simply one whose due is past, so it sorts ahead of every unbreached one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Order {
    pub due: Ts,
    pub tier: Tier,
    pub seq: TicketId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    /// Shared, so the clones in replies and assignments do not allocate.
    pub external_id: Arc<str>,
    pub customer_id: Arc<str>,
    pub tier: Tier,
    pub channel: Channel,
    pub priority: Priority,
    pub sentiment: Sentiment,
    pub skills: SkillSet,
    pub preferred_agent: Option<AgentId>,
    pub state: TicketState,
    pub assignee: Option<AgentId>,
    /// Bumped on every change of holder; agent calls must carry the current one.
    pub lease_epoch: u64,
    pub created_at: Ts,
    pub updated_at: Ts,
    /// When the ticket last entered the queue (for wait time and oldest age).
    pub queued_at: Ts,
    /// While set and in the future, only the preferred agent may take the ticket.
    pub held_until: Option<Ts>,
    pub first_response: Clock,
    pub next_reply: Option<Clock>,
    pub resolution: Clock,
    pub resolved_at: Option<Ts>,
    pub cancel_reason: Option<CancelReason>,
}

impl Ticket {
    pub fn clocks(&self) -> impl Iterator<Item = &Clock> {
        [
            Some(&self.first_response),
            self.next_reply.as_ref(),
            Some(&self.resolution),
        ]
        .into_iter()
        .flatten()
    }

    pub fn clocks_mut(&mut self) -> impl Iterator<Item = &mut Clock> {
        [
            Some(&mut self.first_response),
            self.next_reply.as_mut(),
            Some(&mut self.resolution),
        ]
        .into_iter()
        .flatten()
    }

    pub fn clock_mut(&mut self, metric: SlaMetric) -> Option<&mut Clock> {
        match metric {
            SlaMetric::FirstResponse => Some(&mut self.first_response),
            SlaMetric::NextReply => self.next_reply.as_mut(),
            SlaMetric::Resolution => Some(&mut self.resolution),
        }
    }

    /// The earliest unmet SLA deadline, if any clock is counting.
    pub fn due(&self) -> Option<Ts> {
        self.clocks().filter_map(Clock::due).min()
    }

    /// The highest escalation step among clocks not yet met: what widens routing.
    pub fn escalation(&self) -> Level {
        self.clocks()
            .filter(|c| !c.is_met())
            .map(|c| c.level)
            .max()
            .unwrap_or(Level::None)
    }

    pub fn order(&self) -> Order {
        Order {
            due: self.due().unwrap_or(Ts::MAX),
            tier: self.tier,
            seq: self.id,
        }
    }

    pub fn target(&self, policy: &SlaPolicy, metric: SlaMetric) -> Span {
        let negative = self.sentiment == Sentiment::Negative;
        policy.target(metric, self.channel, self.tier, self.priority, negative)
    }

    /// Re-derives every clock's target from `policy` and the ticket's current routing facts.
    pub fn retarget(&mut self, policy: &SlaPolicy) {
        let targets = SlaMetric::table(|m| self.target(policy, m));
        for clock in self.clocks_mut() {
            clock.target = targets[clock.metric.index()];
        }
    }

    pub fn holder(&self) -> Option<&AgentId> {
        self.assignee.as_ref()
    }
}

impl SlaMetric {
    /// A value per metric, as a fixed array indexed by `SlaMetric::index`.
    pub fn table<T>(f: impl FnMut(SlaMetric) -> T) -> [T; 3] {
        [
            SlaMetric::FirstResponse,
            SlaMetric::NextReply,
            SlaMetric::Resolution,
        ]
        .map(f)
    }
}

/// Per-channel numbers (capacity, load), indexed by `Channel::index`.
pub type PerChannel = [u32; Channel::COUNT];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub display_name: String,
    pub skills: SkillSet,
    /// Tiers this agent may serve; empty means every tier.
    pub tiers: Vec<Tier>,
    pub capacity: PerChannel,
    pub presence: Presence,
    pub last_seen: Ts,
    /// Tickets held now (ASSIGNED or PENDING), per channel. Rebuilt from tickets at recovery.
    #[serde(skip)]
    pub load: PerChannel,
    /// The ids of the tickets counted in `load` (iterate through `held_tickets` for a
    /// deterministic order).
    #[serde(skip)]
    pub holding: HashSet<TicketId>,
    /// Routing keys this agent is eligible for, and how many keys were examined to find them.
    #[serde(skip)]
    pub routes: Routes,
}

/// A per-agent cache of eligible routing keys. Keys are only ever added, so the cache is
/// extended incrementally and reset only when the agent's skills or tiers change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Routes {
    pub keys: Vec<u32>,
    pub scanned: usize,
}

impl Agent {
    pub fn serves_tier(&self, tier: Tier) -> bool {
        self.tiers.is_empty() || self.tiers.contains(&tier)
    }

    pub fn has_room(&self, channel: Channel) -> bool {
        self.load[channel.index()] < self.capacity[channel.index()]
    }

    pub fn may_take(&self, ticket: &Ticket) -> bool {
        self.serves_tier(ticket.tier)
            && ticket.skills.is_subset_of(&self.skills)
            && self.has_room(ticket.channel)
    }

    /// Counts `ticket` against this agent's capacity on `channel` (idempotent).
    pub fn hold(&mut self, ticket: TicketId, channel: Channel) {
        if self.holding.insert(ticket) {
            self.load[channel.index()] += 1;
        }
    }

    /// The tickets this agent holds, in id order.
    pub fn held_tickets(&self) -> Vec<TicketId> {
        let mut ids: Vec<TicketId> = self.holding.iter().copied().collect();
        ids.sort();
        ids
    }

    pub fn drop_hold(&mut self, ticket: TicketId, channel: Channel) {
        if self.holding.remove(&ticket) {
            self.load[channel.index()] = self.load[channel.index()].saturating_sub(1);
        }
    }
}
