//! Routing: which queue a ticket waits in, which agents may take from it, and the pick of the
//! best ticket for an agent among the heads of the queues it is eligible for.
//!
//! A routing key is (tier, channel, required skills). DESIGN.md keys by (tier, skills); the
//! channel is in the key too because capacity is per channel: with it, the head of every
//! queue an agent looks at is a ticket the agent can take or a queue it can skip whole, so a
//! pull is O(eligible keys · log n) and never a scan of tickets.

use super::fifo_bound::FifoBound;
use super::model::{Agent, Band, Hold, Order, Ticket};
use super::policy::{QueueOrder, SlaPolicy};
use super::proficiency::Levels;
use super::queue::{KeyId, Queues, Slot};
use super::rings::{self, Ring};
use super::turns;
use super::types::{AgentId, Channel, Level, SkillSet, TicketId, Tier, Ts, Widen};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoutingKey {
    /// `None` when any tier's agent may take it (L3).
    pub tier: Option<Tier>,
    pub channel: Channel,
    pub skills: SkillSet,
    /// Minimum levels in some of `skills` (`billing>=5`); empty for plain skills, so keys
    /// without levels hash and compare as before.
    pub minimums: Levels,
}

impl RoutingKey {
    /// The key a ticket waits under at time ring `ring` (see `rings`: its optional skills and
    /// minimums until their rings, any agent of its tier from the last). Escalation widens it
    /// further as the policy says for L2 and L3 (by default: the first required skill at L2,
    /// any available agent at L3); a new customer's onboarding hold narrows it to agents with
    /// the onboarding skill.
    pub fn for_ticket(ticket: &Ticket, policy: &SlaPolicy, ring: Ring) -> RoutingKey {
        let widen = match ticket.escalation() {
            Level::L3 => policy.widening.l3,
            Level::L2 => policy.widening.l2,
            _ => Widen::Keep,
        };
        let (tier, mut skills, minimums) = match widen {
            Widen::Keep => {
                let (skills, minimums) = match ticket.needs() {
                    None if ring < Ring::ANY_AGENT => (ticket.skills.clone(), Levels::default()),
                    _ => rings::widened(
                        &ticket.skills,
                        ticket.optional_skills(),
                        ticket.minimums(),
                        ring,
                    ),
                };
                (Some(ticket.tier), skills, minimums)
            }
            Widen::FirstSkill => {
                let first = ticket.first_listed_skill();
                let (first, minimums) = rings::widened(&first, None, ticket.minimums(), ring);
                let minimums = minimums.within(&first);
                (Some(ticket.tier), first, minimums)
            }
            Widen::AnyAgent => (None, SkillSet::default(), Levels::default()),
            Widen::Supervisors => (
                None,
                SkillSet::default().with(&policy.supervisor_skill),
                Levels::default(),
            ),
        };
        if matches!(ticket.hold.as_deref(), Some(Hold::Onboarding { .. })) {
            skills = skills.with(&policy.onboarding_skill);
        }
        RoutingKey {
            tier,
            channel: ticket.channel,
            skills,
            minimums,
        }
    }

    /// Whether `agent` may serve tickets under this key (capacity aside).
    pub fn admits(&self, agent: &Agent) -> bool {
        self.tier.is_none_or(|tier| agent.serves_tier(tier))
            && self.skills.is_subset_of(&agent.skills)
            && self.minimums.met_by(&agent.levels)
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

/// How a pull ranks the tickets an agent may take: the policy's `QueueOrder` at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ranking {
    /// The smallest `Order`: earliest due first.
    Deadline,
    /// Forced (when `forced_first`), then savable (due at or after `now`), then late; each by
    /// `Order`. Without `forced_first` a forced ticket is late work, ahead of the other late
    /// ones (its band sorts first).
    SavableFirst { now: Ts, forced_first: bool },
    /// `savable_turns` before the agent is known: `SavableFirst`, forced first on the agent's
    /// turn (`for_agent`). Ranked without an agent (`ahead`), as on a turn.
    Turns { now: Ts },
}

impl Ranking {
    pub fn new(order: QueueOrder, now: Ts) -> Ranking {
        match order {
            QueueOrder::Deadline => Ranking::Deadline,
            QueueOrder::SavableFirst => Ranking::SavableFirst {
                now,
                forced_first: true,
            },
            QueueOrder::SavableTurns => Ranking::Turns { now },
        }
    }

    /// The ranking `agent` pulls by: under `savable_turns`, forced first on its turn only.
    pub fn for_agent(self, agent: &AgentId) -> Ranking {
        match self {
            Ranking::Turns { now } => Ranking::SavableFirst {
                now,
                forced_first: turns::forcing_turn(agent, now),
            },
            other => other,
        }
    }

    /// The rank of a ticket filed under `order`: lower goes first. Under `Deadline` the
    /// class is the same for all, so the rank is the order itself.
    fn rank(self, order: Order) -> Rank {
        let class = match self.classes() {
            None => Class::Forced,
            Some((_, true)) if order.band == Band::Forced => Class::Forced,
            Some(_) if order.band == Band::Forced => Class::Late,
            Some((now, _)) if order.due >= now => Class::Savable,
            Some(_) => Class::Late,
        };
        Rank { class, order }
    }

    /// `None` under `Deadline`; else `now` and whether forced tickets go first.
    fn classes(self) -> Option<(Ts, bool)> {
        match self {
            Ranking::Deadline => None,
            Ranking::SavableFirst { now, forced_first } => Some((now, forced_first)),
            Ranking::Turns { now } => Some((now, true)),
        }
    }

    /// The instant savable tickets are told from late ones at; `None` under `Deadline`.
    fn savable_since(self) -> Option<Ts> {
        self.classes().map(|(now, _)| now)
    }
}

impl Ranking {
    /// How many of `orders` a pull ranking by `self` would take before `of`: its place in
    /// line, counted with the very comparison the pull makes. O(orders).
    pub fn ahead(self, orders: impl Iterator<Item = Order>, of: Order) -> usize {
        let mine = self.rank(of);
        orders.filter(|&o| self.rank(o) < mine).count()
    }
}

/// Which kind of ticket a candidate is, in the order `savable_first` serves them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Forced,
    Savable,
    Late,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    class: Class,
    order: Order,
}

/// The best ticket `agent` may take now, as `ranking` ranks them, among the tickets held for
/// it as preferred agent and the heads of the queues it is eligible for and has room on. Under
/// `savable_first` a queue whose head is late (and not forced) offers its first savable ticket
/// too (`Queues::first_savable`: kept by the line between pulls). The oldest ticket past the
/// FIFO-relative `bound` goes before that choice unless the choice is a VIP ticket that can
/// still meet its target: the VIP target is the desk's tightest promise (95 %), and on the
/// simulated day letting it through costs the bound nothing measurable (README).
pub fn best_for<'t>(
    agent: &mut Agent,
    queues: &Queues,
    ticket: impl Fn(TicketId) -> Option<&'t Ticket>,
    ranking: Ranking,
    bound: BoundAt,
) -> Option<Pick> {
    refresh_routes(agent, queues);
    let bounded = past_bound(agent, queues, bound);
    let ranking = ranking.for_agent(&agent.id);
    let mut best: Option<(Rank, Pick)> = None;
    let mut consider = |order: Order, from: Slot| {
        let rank = ranking.rank(order);
        if best.as_ref().is_none_or(|(b, _)| rank < *b) {
            let pick = Pick {
                ticket: order.seq,
                from,
                order,
            };
            best = Some((rank, pick));
        }
    };
    for (id, order) in queues.held_for(&agent.id) {
        if ticket(id).is_some_and(|t| agent.may_take(t)) {
            consider(order, Slot::Held(agent.id.clone()));
        }
    }
    if let Some((rank, key)) = best_key(agent, queues, ranking) {
        consider(rank.order, Slot::Key(key));
    }
    // Past the bound goes first, but for a VIP ticket that can still meet its target.
    let vip_savable = |r: &Rank| r.class == Class::Savable && r.order.tier == Tier::Vip;
    match (bounded, best) {
        (Some(pick), Some((rank, _))) if !vip_savable(&rank) => Some(pick),
        (Some(pick), None) => Some(pick),
        (_, best) => best.map(|(_, pick)| pick),
    }
}

/// The FIFO-relative bound at the instant of a pull (see `fifo_bound`).
#[derive(Clone, Copy, Debug)]
pub struct BoundAt {
    pub bound: FifoBound,
    pub now: Ts,
}

/// The ticket that has waited longest among those past the FIFO-relative bound in the queues
/// `agent` is eligible for and has room on: it goes before anything the ranking would choose.
/// O(eligible keys): each key's oldest ticket is the first of its arrival index.
fn past_bound(agent: &Agent, queues: &Queues, at: BoundAt) -> Option<Pick> {
    if !at.bound.is_on() {
        return None;
    }
    let mut cutoffs = [None; Channel::COUNT];
    let mut best: Option<((Ts, TicketId), KeyId)> = None;
    for &key in &agent.routes.keys {
        let channel = queues.channel(key);
        let cutoff = *cutoffs[channel.index()]
            .get_or_insert_with(|| queues.cutoff(&at.bound, channel, at.now));
        let Some((cutoff, oldest)) = cutoff.and_then(|c| Some((c, queues.oldest_in(key)?))) else {
            continue;
        };
        let better = best.is_none_or(|(b, _)| oldest < b);
        if oldest.0 <= cutoff && better && agent.has_room(channel) {
            best = Some((oldest, key));
        }
    }
    let ((_, ticket), key) = best?;
    Some(Pick {
        ticket,
        from: Slot::Key(key),
        order: queues.order_of(ticket)?,
    })
}

/// The best head (or, for a late head under `savable_first`, first savable ticket) among the
/// queues `agent` is eligible for and has room on.
fn best_key(agent: &Agent, queues: &Queues, ranking: Ranking) -> Option<(Rank, KeyId)> {
    let mut best: Option<(Rank, KeyId)> = None;
    for &key in &agent.routes.keys {
        let Some(head) = queues.head(key) else {
            continue;
        };
        let rank = ranking.rank(head);
        // Only a late head can hide a better ticket behind it: a savable one, which beats
        // anything but a forced one.
        let behind =
            rank.class == Class::Late && best.is_none_or(|(b, _)| b.class != Class::Forced);
        if best.is_some_and(|(b, _)| b <= rank) && !behind {
            continue;
        }
        if !agent.has_room(queues.channel(key)) {
            continue;
        }
        let mut offer = |rank: Rank| {
            if best.is_none_or(|(b, _)| rank < b) {
                best = Some((rank, key));
            }
        };
        offer(rank);
        if let (true, Some(now)) = (behind, ranking.savable_since()) {
            if let Some(savable) = queues.first_savable(key, now) {
                offer(ranking.rank(savable));
            }
        }
    }
    best
}
