//! Tickets and agents as the scheduler keeps them. Their serde form is the persisted record
//! (see `store::codec`); fields marked `serde(skip)` are runtime indexes rebuilt at recovery.

use super::collections::HashSet;
use super::lease::{Epoch, Tenure};
use super::policy::SlaPolicy;
use super::proficiency::{Levels, Needs};
use super::sla::Clock;
use super::types::{
    AgentId, CancelReason, Channel, Level, OptTs, Presence, Priority, Sentiment, SkillSet,
    SlaMetric, Span, TicketId, TicketState, Tier, Ts,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A ticket's place in line: forced tickets first (see `Band`), then earliest due, then tier
/// (VIP, new, standard), then arrival. A breached ticket is simply one whose due is past, so
/// within its band it sorts ahead of every unbreached one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Order {
    pub band: Band,
    pub due: Ts,
    pub tier: Tier,
    pub seq: TicketId,
}

/// The part of its line a ticket waits in. Under the `savable_first` order a late ticket whose
/// escalation reached the policy's `force_level` is `Forced`: it sorts ahead of every other
/// ticket of its line, so "is anything forced here" is a look at the line's head. Everything
/// else, and every ticket under the `deadline` order, is `Normal`. A ticket changes band only
/// when an escalation step fires or the policy changes, and both re-place it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Band {
    Forced,
    Normal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    /// Shared, so the clones in replies and assignments do not allocate.
    #[serde(deserialize_with = "super::intern::decode_arc_str")]
    pub external_id: Arc<str>,
    #[serde(deserialize_with = "super::intern::decode_customer_id")]
    pub customer_id: Arc<str>,
    pub tier: Tier,
    pub channel: Channel,
    pub priority: Priority,
    pub sentiment: Sentiment,
    pub skills: SkillSet,
    pub preferred_agent: Option<AgentId>,
    pub state: TicketState,
    /// The holder and the lease epoch, which moves on every change of holder; agent calls
    /// must carry the current one.
    pub tenure: Tenure,
    pub created_at: Ts,
    pub updated_at: Ts,
    /// When the ticket last entered the queue (for wait time and oldest age).
    pub queued_at: Ts,
    /// While set, the ticket waits for a particular agent (or kind of agent) first. Boxed:
    /// few tickets are held, and the 8 bytes it saves pay for `resolved_by` (a boxed value
    /// is persisted exactly as the value).
    pub hold: Option<Box<Hold>>,
    pub first_response: Clock,
    pub next_reply: Option<Box<Clock>>,
    /// The agent's promise of an update by a concrete time ("never say soon").
    pub interim: Option<Box<Clock>>,
    pub resolution: Clock,
    /// From resolution until the check-back is done.
    pub follow_up: Option<Box<Clock>>,
    /// When the check-back becomes due; cleared once that was reported.
    pub follow_up_due_at: OptTs,
    pub first_assigned_at: OptTs,
    pub reopens: u32,
    pub resolved_at: OptTs,
    pub cancel_reason: Option<CancelReason>,
    /// Where in `skills` (sorted) the skill the client listed first is: the one L2's
    /// `first_skill` widening keeps. The last field, so a record written before it was kept
    /// reads with 0 appended (see `store::codec`): the alphabetically first skill, which is
    /// what widening kept then.
    pub first_skill: u8,
    /// Fields few tickets have (`Extras`): who resolved it, its offers, what it needs beyond
    /// plain skills. Persisted as those fields one after the other, the last of the record.
    pub extras: Extras,
}

/// Fields few tickets have, boxed together so that between them they cost a ticket 8 bytes
/// (a ticket and its runtime state must fit mimalloc's 320-byte class). Persisted exactly as
/// the separate trailing fields of the ticket record they are: `ExtraFields` in order, the
/// defaults when there is nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extras(Option<Box<ExtraFields>>);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtraFields {
    /// Who held the ticket when it was last resolved (none: resolved while queued): a
    /// reopened ticket waits for that agent first (`Hold::Resolver`). Records before it read
    /// it as none.
    pub resolved_by: Option<AgentId>,
    /// The open offer and the agents who rejected the ticket lately (see `core::offer`).
    /// Records before it read it as none.
    pub offers: Option<super::offer::Offers>,
    /// Minimum levels and optional skills (see `proficiency`); none for plain skills.
    /// Records before it read it as none.
    pub needs: Option<Needs>,
}

impl Extras {
    /// The extras of a new ticket: only what it needs beyond plain skills, if anything.
    pub fn with_needs(needs: Option<Needs>) -> Extras {
        let mut extras = Extras::default();
        extras.edit(|e| e.needs = needs);
        extras
    }

    pub fn get(&self) -> Option<&ExtraFields> {
        self.0.as_deref()
    }

    /// Changes the fields with `f`; nothing is kept boxed once they are all back to defaults.
    pub fn edit<R>(&mut self, f: impl FnOnce(&mut ExtraFields) -> R) -> R {
        let mut fields = self.0.take().unwrap_or_default();
        let out = f(&mut fields);
        if *fields != ExtraFields::default() {
            self.0 = Some(fields);
        }
        out
    }
}

impl Serialize for Extras {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(fields) => fields.serialize(s),
            None => ExtraFields::default().serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Extras {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Extras, D::Error> {
        let fields = ExtraFields::deserialize(d)?;
        let mut extras = Extras::default();
        extras.edit(|f| *f = fields);
        Ok(extras)
    }
}

/// A hold window: until `until`, the ticket waits for its preferred agent, for an agent with
/// the onboarding skill (a new customer), or, reopened, for the agent who resolved it, before
/// anyone else eligible may take it. New variants go at the end (records number them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hold {
    Preferred { until: Ts },
    Onboarding { until: Ts },
    Resolver { until: Ts },
}

impl Hold {
    pub fn until(self) -> Ts {
        match self {
            Hold::Preferred { until } | Hold::Onboarding { until } | Hold::Resolver { until } => {
                until
            }
        }
    }
}

impl Ticket {
    /// Every clock the ticket has.
    pub fn clocks(&self) -> impl Iterator<Item = &Clock> {
        [
            Some(&self.first_response),
            self.next_reply.as_deref(),
            self.interim.as_deref(),
            Some(&self.resolution),
            self.follow_up.as_deref(),
        ]
        .into_iter()
        .flatten()
    }

    pub fn clocks_mut(&mut self) -> impl Iterator<Item = &mut Clock> {
        [
            Some(&mut self.first_response),
            self.next_reply.as_deref_mut(),
            self.interim.as_deref_mut(),
            Some(&mut self.resolution),
            self.follow_up.as_deref_mut(),
        ]
        .into_iter()
        .flatten()
    }

    pub fn clock(&self, metric: SlaMetric) -> Option<&Clock> {
        match metric {
            SlaMetric::FirstResponse => Some(&self.first_response),
            SlaMetric::NextReply => self.next_reply.as_deref(),
            SlaMetric::InterimUpdate => self.interim.as_deref(),
            SlaMetric::Resolution => Some(&self.resolution),
            SlaMetric::FollowUp => self.follow_up.as_deref(),
        }
    }

    pub fn clock_mut(&mut self, metric: SlaMetric) -> Option<&mut Clock> {
        match metric {
            SlaMetric::FirstResponse => Some(&mut self.first_response),
            SlaMetric::NextReply => self.next_reply.as_deref_mut(),
            SlaMetric::InterimUpdate => self.interim.as_deref_mut(),
            SlaMetric::Resolution => Some(&mut self.resolution),
            SlaMetric::FollowUp => self.follow_up.as_deref_mut(),
        }
    }

    /// The clocks that run in the ticket's state: the service clocks while it is open, the
    /// follow-up once it is resolved, none once cancelled. Only these have deadlines that
    /// order the queue and fire escalations.
    pub fn live_clocks(&self) -> impl Iterator<Item = &Clock> {
        self.clocks().filter(|c| self.is_live(c.metric))
    }

    /// Whether the `metric` clock runs in the ticket's current state.
    pub fn is_live(&self, metric: SlaMetric) -> bool {
        match metric {
            SlaMetric::FollowUp => self.state == TicketState::Resolved,
            _ => self.state.is_open(),
        }
    }

    /// The earliest unmet SLA deadline among live clocks, if any is counting.
    pub fn due(&self) -> Option<Ts> {
        self.live_clocks().filter_map(Clock::due).min()
    }

    /// The highest escalation step among live clocks not yet met: what widens routing.
    pub fn escalation(&self) -> Level {
        self.live_clocks()
            .filter(|c| !c.is_met())
            .map(|c| c.level)
            .max()
            .unwrap_or(Level::None)
    }

    pub fn held_until(&self) -> Option<Ts> {
        self.hold.as_deref().copied().map(Hold::until)
    }

    /// The one agent the ticket waits for during its hold window, if it waits for one.
    pub fn held_for(&self) -> Option<&AgentId> {
        match self.hold.as_deref()? {
            Hold::Preferred { .. } => self.preferred_agent.as_ref(),
            Hold::Resolver { .. } => self.resolved_by(),
            Hold::Onboarding { .. } => None,
        }
    }

    /// The ticket's place in line; `force` is the level from which a late ticket goes ahead
    /// of the others (`SlaPolicy::forcing`: `None` under the `deadline` order).
    pub fn order(&self, force: Option<Level>) -> Order {
        let forced = force.is_some_and(|level| self.escalation() >= level);
        Order {
            band: if forced { Band::Forced } else { Band::Normal },
            due: self.due().unwrap_or(Ts::MAX),
            tier: self.tier,
            seq: self.id,
        }
    }

    /// The policy's target for `metric` given the ticket's routing facts; `None` for an
    /// interim update, whose target is the agent's promise.
    pub fn target(&self, policy: &SlaPolicy, metric: SlaMetric) -> Option<Span> {
        let negative = self.sentiment == Sentiment::Negative;
        policy.target(metric, self.channel, self.tier, self.priority, negative)
    }

    /// A clock for `metric` starting at `now`, with its target and calendar from `policy`.
    pub fn new_clock(&self, policy: &SlaPolicy, metric: SlaMetric, now: Ts) -> Clock {
        let mut clock = Clock::start(metric, now, self.target(policy, metric).unwrap_or_default());
        clock.calendar = policy.calendar(self.channel);
        clock
    }

    /// Re-derives every policy clock's target and calendar from `policy` and the ticket's
    /// current routing facts. An interim promise keeps its own due and counts wall time.
    pub fn retarget(&mut self, policy: &SlaPolicy) {
        let mut targets = [None; SlaMetric::COUNT];
        for &metric in SlaMetric::ALL {
            targets[metric.index()] = self.target(policy, metric);
        }
        let calendar = policy.calendar(self.channel);
        for clock in self.clocks_mut() {
            if let Some(target) = targets[clock.metric.index()] {
                clock.target = target;
                clock.calendar = calendar.clone();
            }
        }
    }

    /// The skill set reduced to the skill the client listed first (L2's widening).
    pub fn first_listed_skill(&self) -> SkillSet {
        self.skills.only(usize::from(self.first_skill))
    }

    /// The required skills as shown to clients: the one listed first, then the rest in
    /// order. Sent back as a new list, it keeps the same first skill.
    pub fn listed_skills(&self) -> impl Iterator<Item = &super::types::Skill> {
        self.skills.in_listed_order(self.first_skill)
    }

    /// The required skills as the API writes them: in listed order (`listed_skills`), a
    /// minimum level as `billing>=5`.
    pub fn written_skills(&self) -> impl Iterator<Item = String> + '_ {
        let minimums = self.minimums().cloned().unwrap_or_default();
        let listed: Vec<String> = minimums.written(self.listed_skills(), ">=").collect();
        listed.into_iter()
    }

    /// The minimum levels in required skills, if any (see `proficiency`).
    pub fn minimums(&self) -> Option<&Levels> {
        self.needs().map(|n| &n.minimums)
    }

    /// The optional skills, if any (see `rings`).
    pub fn optional_skills(&self) -> Option<&SkillSet> {
        self.needs().map(|n| &n.optional)
    }

    pub fn holder(&self) -> Option<&AgentId> {
        self.tenure.holder()
    }

    /// The current lease epoch (see `Tenure::epoch`).
    pub fn epoch(&self) -> Epoch {
        self.tenure.epoch()
    }

    /// Who held the ticket when it was last resolved.
    pub fn resolved_by(&self) -> Option<&AgentId> {
        self.extras.get()?.resolved_by.as_ref()
    }

    /// Minimum levels and optional skills, if the ticket has any (see `proficiency`).
    pub fn needs(&self) -> Option<&Needs> {
        self.extras.get()?.needs.as_ref()
    }

    /// The ticket's offers: the open one, recent rejections.
    pub fn offers(&self) -> Option<&super::offer::Offers> {
        self.extras.get()?.offers.as_ref()
    }

    /// The offer waiting for the holder's answer, if the ticket is offered.
    pub fn offer(&self) -> Option<&super::offer::Offer> {
        self.offers()?.pending.as_ref()
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
    /// Offers that timed out in a row, reset by any answer (see `core::offer`). The last
    /// persisted field: an older record reads it as 0.
    pub missed_offers: u32,
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
    /// When the agent last got a ticket, as the scheduler's assignment count then (0: not
    /// since boot): the tie-break that makes equally loaded agents take turns.
    #[serde(skip)]
    pub last_assignment: u64,
    /// Presence reason, wrap-ups and the recent history (see `activity`). An agent stored
    /// before it reads with none (`store::codec`).
    pub activity: super::activity::Activity,
    /// When the agent last came to hold nothing, as the roster's count of assignments and
    /// hand-backs then (0: not since boot): what `Select::LongestIdle` orders by.
    #[serde(skip)]
    pub idle_since: u64,
    /// Levels above 1 in its skills (`billing:7`). The last persisted field: older records
    /// read it as none (`store::codec`).
    pub levels: Levels,
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

    /// Tickets held (and slots in wrap-up) and total capacity over all channels, as
    /// (held, capacity) with the
    /// capacity at least 1: how loaded the agent is, for load balancing.
    pub fn load_share(&self) -> (u64, u64) {
        let wrapping = self.activity.wrap_ups.len() as u64;
        let held = self.load.iter().map(|&n| u64::from(n)).sum::<u64>() + wrapping;
        let capacity: u64 = self.capacity.iter().map(|&n| u64::from(n)).sum();
        (held, capacity.max(1))
    }

    pub fn has_room(&self, channel: Channel) -> bool {
        self.occupied(channel) < self.capacity[channel.index()]
    }

    pub fn may_take(&self, ticket: &Ticket) -> bool {
        self.serves_tier(ticket.tier)
            && ticket.skills.is_subset_of(&self.skills)
            && ticket.minimums().is_none_or(|m| m.met_by(&self.levels))
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
