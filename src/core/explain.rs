//! "Why is this ticket waiting?": a read-only account of one ticket at `now`, built from the
//! same parts the pull uses (the routing key in force, the queue order, the eligibility
//! rules and the escalation ladder), so that the answer cannot disagree with what a pull
//! would do. It changes nothing. Cost: O(agents + queued tickets), an operator call, not a
//! hot path: the places in line are counted with the pull's own comparison
//! (`Ranking::ahead`), one pass over the ticket's line and one over every line.

use super::error::CoreError;
use super::escalation::{fraction, next_step};
use super::lease::Epoch;
use super::model::{Agent, Hold, Ticket};
use super::queue::Slot;
use super::rings::Ring;
use super::routing::{Ranking, RoutingKey};
use super::scheduler::Scheduler;
use super::types::{AgentId, Level, Presence, Skill, SlaMetric, Span, TicketId, TicketState, Ts};

/// What a ticket is doing and why, as `Scheduler::explain` finds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Explanation {
    Queued(Box<Waiting>),
    Held(Box<Holding>),
    /// Resolved or cancelled, and when.
    Finished {
        ticket: TicketId,
        state: TicketState,
        at: Ts,
    },
}

/// Why an agent cannot take a queued ticket now. Each agent is counted once, under the first
/// reason that applies in this order (the order of the variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Blocker {
    /// The agent may not serve the tier of the routing key in force.
    TierNotServed,
    /// The agent lacks a skill of the routing key in force.
    MissingSkill,
    /// The ticket is in a hold window for its preferred agent (a personal manager).
    HeldForPreferred,
    /// The ticket is in a hold window for an agent with the onboarding skill.
    HeldForOnboarding,
    /// The reopened ticket is in a hold window for the agent who resolved it.
    HeldForResolver,
    /// The agent is AWAY or OFFLINE.
    NotAvailable,
    /// The agent holds as many tickets of the ticket's channel as its capacity allows.
    ChannelFull,
    /// The agent turned an offer of this ticket down lately: not offered to it again until
    /// the policy's `reoffer_after` has passed (see `core::offer`).
    OfferRejected,
}

impl Blocker {
    pub const ALL: [Blocker; 8] = [
        Blocker::TierNotServed,
        Blocker::MissingSkill,
        Blocker::HeldForPreferred,
        Blocker::HeldForOnboarding,
        Blocker::HeldForResolver,
        Blocker::NotAvailable,
        Blocker::ChannelFull,
        Blocker::OfferRejected,
    ];
}

/// An escalation step of one clock and when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub metric: SlaMetric,
    pub level: Level,
    pub at: Ts,
}

/// The clocks of a ticket as they bear on it now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clocks {
    /// The counting clock due first, and its due (breach) instant.
    pub next_due: Option<(SlaMetric, Ts)>,
    /// The escalation step that fires next, over all live clocks.
    pub next_step: Option<Step>,
}

/// A QUEUED ticket: where it waits, its place in line, who could take it and who not.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    pub ticket: TicketId,
    /// The routing key in force (widened by escalation, narrowed by an onboarding hold).
    pub key: RoutingKey,
    /// The escalation level in force: what widened the key (L2, L3) or nothing.
    pub level: Level,
    pub hold: Option<Hold>,
    /// The one agent a preferred or resolver hold waits for.
    pub held_for: Option<AgentId>,
    pub queued_at: Ts,
    /// 1-based place in its own line (its routing key's, or its hold queue's) and that
    /// line's length.
    pub rank_in_queue: u64,
    pub queue_depth: u64,
    /// 1-based place among every queued ticket, and how many are queued.
    pub rank_overall: u64,
    pub queued_total: u64,
    /// Agents that could take it now: eligible, AVAILABLE, with room on its channel.
    pub takers: u64,
    /// The other agents, per reason (only reasons that apply, in `Blocker` order).
    pub blocked: Vec<(Blocker, u64)>,
    /// Among agents blocked by `MissingSkill`: how many lack each skill, by skill.
    pub missing_skills: Vec<(Skill, u64)>,
    pub clocks: Clocks,
    /// The time ring in force (see `rings`) and when the next one fires, if any.
    pub ring: Ring,
    pub next_ring_at: Option<Ts>,
    /// The FIFO-relative bound as it stands (see `fifo_bound`); `None` while it does not act.
    pub bound: Option<Bound>,
}

/// Where a queued ticket stands against the FIFO-relative bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    /// What FIFO would make the ticket's channel wait now.
    pub fifo_wait: Span,
    /// From when the ticket goes first by the bound, FIFO's wait as it stands now.
    pub at: Ts,
}

/// An ASSIGNED or PENDING ticket: who holds it and what ends the lease.
#[derive(Clone, Debug, PartialEq)]
pub struct Holding {
    pub ticket: TicketId,
    pub state: TicketState,
    pub agent: AgentId,
    pub epoch: Epoch,
    /// When the holder got it: known exactly only for the ticket's first holder (epoch 1);
    /// for a later one the core keeps no grant time, see `last_queued_at`.
    pub since: Option<Ts>,
    /// When the ticket last entered the queue: a later holder got it after this.
    pub last_queued_at: Ts,
    /// When the holder's presence lapses without a heartbeat, handing the ticket back:
    /// only while the first response is unmet and the holder is not OFFLINE.
    pub presence_expires_at: Option<Ts>,
    /// The L2 step that takes the ticket back from a holder who has not answered (while
    /// ASSIGNED: a PENDING ticket's clocks are paused).
    pub take_back: Option<Step>,
    pub clocks: Clocks,
}

impl Scheduler {
    /// Explains ticket `id` at `now`; NOT_FOUND for a ticket not in memory (the daemon reads
    /// finished ones back from the archive first). Never changes anything.
    pub fn explain(&self, id: TicketId, now: Ts) -> Result<Explanation, CoreError> {
        let t = self.get(id)?;
        Ok(match t.state {
            TicketState::Queued => Explanation::Queued(Box::new(self.waiting(t, now))),
            TicketState::Assigned | TicketState::Pending => match self.holding(t) {
                Some(holding) => Explanation::Held(Box::new(holding)),
                None => finished(t),
            },
            TicketState::Resolved | TicketState::Cancelled => finished(t),
        })
    }

    fn waiting(&self, t: &Ticket, now: Ts) -> Waiting {
        let slot = self.queues.slot(t.id);
        let key = match &slot {
            Some(Slot::Key(key)) => self.queues.key(*key).clone(),
            _ => RoutingKey::for_ticket(t, &self.policy, self.tickets.ring(t.id)),
        };
        let ranking = Ranking::new(self.policy.order, now);
        let order = self
            .queues
            .order_of(t.id)
            .unwrap_or(t.order(self.policy.forcing()));
        let line = |s: &Slot| self.queues.line(s);
        let (rank_in_queue, queue_depth) = match &slot {
            Some(s) => (ranking.ahead(line(s), order) + 1, line(s).count()),
            None => (0, 0),
        };
        let mut w = Waiting {
            ticket: t.id,
            level: t.escalation(),
            hold: t.hold.as_deref().copied(),
            held_for: t.held_for().cloned(),
            queued_at: t.queued_at,
            rank_in_queue: rank_in_queue as u64,
            queue_depth: queue_depth as u64,
            rank_overall: ranking.ahead(self.queues.orders(), order) as u64 + 1,
            queued_total: self.queues.len() as u64,
            takers: 0,
            blocked: Vec::new(),
            missing_skills: Vec::new(),
            clocks: self.clocks(t),
            key,
            ring: self.tickets.ring(t.id),
            next_ring_at: self.policy.rings.next(t.queued_at, self.tickets.ring(t.id)),
            bound: self.bound(t, now),
        };
        self.count_agents(t, &mut w, now);
        w
    }

    /// The bound for `t` at `now`: FIFO's wait of its channel and when `t` is past it.
    fn bound(&self, t: &Ticket, now: Ts) -> Option<Bound> {
        let bound = &self.policy.fifo_bound;
        let fifo_wait = self.queues.shadow().fifo_wait(bound, t.channel, now)?;
        Some(Bound {
            fifo_wait,
            at: t.queued_at.plus(fifo_wait.scale(bound.factor)),
        })
    }

    /// Sorts every agent into takers and blocked-by-reason: O(agents · skills of the key).
    fn count_agents(&self, t: &Ticket, w: &mut Waiting, now: Ts) {
        let mut blocked = [0u64; Blocker::ALL.len()];
        let mut missing: Vec<(Skill, u64)> = Vec::new();
        for agent in self.agents.iter() {
            let lacks = self.lacking(t, &w.key, agent);
            for skill in &lacks {
                match missing.iter_mut().find(|(s, _)| s == skill) {
                    Some((_, n)) => *n += 1,
                    None => missing.push((skill.clone(), 1)),
                }
            }
            match self.blocker(t, &w.key, agent, !lacks.is_empty(), now) {
                Some(b) => blocked[b as usize] += 1,
                None => w.takers += 1,
            }
        }
        w.blocked = Blocker::ALL
            .iter()
            .map(|&b| (b, blocked[b as usize]))
            .filter(|&(_, n)| n > 0)
            .collect();
        missing.sort();
        w.missing_skills = missing;
    }

    /// The skills of `key` that `agent` lacks, not counting the onboarding skill an
    /// onboarding hold adds (that is the hold's reason, not a missing skill). Empty for an
    /// agent whose tier is not served: that is its reason.
    fn lacking(&self, t: &Ticket, key: &RoutingKey, agent: &Agent) -> Vec<Skill> {
        if !key.tier.is_none_or(|tier| agent.serves_tier(tier)) {
            return Vec::new();
        }
        let onboarding = matches!(t.hold.as_deref(), Some(Hold::Onboarding { .. }));
        let hold_skill = self.policy.onboarding_skill.as_str();
        key.skills
            .iter()
            .filter(|s| !(onboarding && &*s.0 == hold_skill))
            .filter(|s| !agent.skills.contains(&s.0) || agent.levels.of(s) < key.minimums.of(s))
            .cloned()
            .collect()
    }

    /// Why `agent` cannot take queued ticket `t` at `now`, or `None` if it can.
    fn blocker(
        &self,
        t: &Ticket,
        key: &RoutingKey,
        agent: &Agent,
        lacks: bool,
        now: Ts,
    ) -> Option<Blocker> {
        if !key.tier.is_none_or(|tier| agent.serves_tier(tier)) {
            return Some(Blocker::TierNotServed);
        }
        if lacks {
            return Some(Blocker::MissingSkill);
        }
        match t.hold.as_deref() {
            Some(Hold::Preferred { .. }) if t.held_for() != Some(&agent.id) => {
                return Some(Blocker::HeldForPreferred)
            }
            Some(Hold::Resolver { .. }) if t.held_for() != Some(&agent.id) => {
                return Some(Blocker::HeldForResolver)
            }
            Some(Hold::Onboarding { .. }) if !key.admits(agent) => {
                return Some(Blocker::HeldForOnboarding)
            }
            _ => {}
        }
        if t.rejected_by(&agent.id, now) {
            return Some(Blocker::OfferRejected);
        }
        if agent.presence != Presence::Available {
            return Some(Blocker::NotAvailable);
        }
        (!agent.has_room(t.channel)).then_some(Blocker::ChannelFull)
    }

    /// Who holds `t` and what ends the lease; `None` if nobody does (not a held state).
    fn holding(&self, t: &Ticket) -> Option<Holding> {
        let agent = t.holder()?;
        let present = self
            .agents
            .get(agent)
            .filter(|a| a.presence != Presence::Offline);
        let presence_expires_at = present
            .filter(|_| !t.first_response.is_met())
            .map(|a| a.last_seen.plus(self.policy.presence_ttl));
        Some(Holding {
            ticket: t.id,
            state: t.state,
            agent: agent.clone(),
            epoch: t.epoch(),
            since: t
                .first_assigned_at
                .get()
                .filter(|_| t.epoch() == Epoch::new(1)),
            last_queued_at: t.queued_at,
            presence_expires_at,
            take_back: self.take_back(t),
            clocks: self.clocks(t),
        })
    }

    /// The L2 step of an unanswered clock that will take an ASSIGNED ticket back (see
    /// `escalate`), if one is still to fire.
    fn take_back(&self, t: &Ticket) -> Option<Step> {
        if t.state != TicketState::Assigned {
            return None;
        }
        t.live_clocks()
            .filter(|c| c.metric.awaits_agent() && c.level < Level::L2)
            .filter_map(|c| {
                let at = c.deadline_at(fraction(&self.policy, Level::L2))?;
                Some(Step {
                    metric: c.metric,
                    level: Level::L2,
                    at,
                })
            })
            .min_by_key(|s| s.at)
    }

    fn clocks(&self, t: &Ticket) -> Clocks {
        let next_due = t
            .live_clocks()
            .filter_map(|c| Some((c.metric, c.due()?)))
            .min_by_key(|&(_, at)| at);
        let next_step = t
            .live_clocks()
            .filter_map(|c| {
                let (level, at) = next_step(&self.policy, c)?;
                Some(Step {
                    metric: c.metric,
                    level,
                    at,
                })
            })
            .min_by_key(|s| s.at);
        Clocks {
            next_due,
            next_step,
        }
    }
}

/// A resolved or cancelled ticket (or, defensively, a held state without a holder): its
/// state and when it got there.
fn finished(t: &Ticket) -> Explanation {
    let at = match t.state {
        TicketState::Resolved => t.resolved_at.get().unwrap_or(t.updated_at),
        _ => t.updated_at,
    };
    Explanation::Finished {
        ticket: t.id,
        state: t.state,
        at,
    }
}
