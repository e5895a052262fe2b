//! Time-driven work: each open ticket has one timer at its next due instant (the next
//! escalation step of any counting clock, or the end of its hold window) and each present agent
//! one at its presence expiry. `tick(now)` does whatever fell due by `now`, in time order.

use super::collections::{fill, PriorityQueue};
use super::escalation::{fire_due, next_step};
use super::event::Event;
use super::scheduler::Scheduler;
use super::types::{AgentId, OptTs, SlaMetric, TicketId, TicketState, Ts};
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::hash::Hash;

/// One timer per ticket and per agent, earliest first; setting one replaces the previous.
/// A ticket's armed instant is kept beside the ticket (`Tickets::set_timer`), so its timer
/// here is a 16-byte entry in a B-tree, not an entry of an indexed heap: a third of the memory
/// for a million open tickets.
#[derive(Default)]
pub(super) struct Timers {
    tickets: BTreeSet<(Ts, TicketId)>,
    agents: PriorityQueue<AgentId, Reverse<Ts>>,
    /// While a recovery stages (see `stage`): ticket timers armed, not yet in `tickets`.
    staged: Option<Vec<(Ts, TicketId)>>,
}

impl Timers {
    /// The earliest instant at which a timer falls due.
    pub(super) fn next_deadline(&self) -> Option<Ts> {
        let ticket = self.tickets.first().map(|&(at, _)| at);
        let agent = self.agents.peek().map(|(_, at)| at.0);
        ticket.into_iter().chain(agent).min()
    }

    /// Moves the ticket's timer from `was` (as `Tickets::set_timer` returned it) to `at`.
    fn move_ticket(&mut self, id: TicketId, was: Option<Ts>, at: Option<Ts>) {
        if let Some(was) = was {
            // A timer armed while staging may be among the staged ones.
            self.unstage();
            self.tickets.remove(&(was, id));
        }
        match (at, &mut self.staged) {
            (Some(at), Some(staged)) => staged.push((at, id)),
            (Some(at), None) => {
                self.tickets.insert((at, id));
            }
            (None, _) => {}
        }
    }

    /// From now until `unstage`, ticket timers armed are collected rather than inserted, so
    /// that a recovery builds the timer tree once from all of them (see `Queues::stage`).
    /// Meanwhile `next_deadline` and `tick` do not see them.
    pub(super) fn stage(&mut self) {
        self.staged.get_or_insert_with(Vec::new);
    }

    /// Files the staged ticket timers; nothing to do when not staging.
    pub(super) fn unstage(&mut self) {
        if let Some(staged) = self.staged.take() {
            fill(&mut self.tickets, staged);
        }
    }

    /// Takes the earliest ticket timer off if it is due by `now`.
    fn pop_due_ticket(&mut self, now: Ts) -> Option<TicketId> {
        let &(at, _) = self.tickets.first()?;
        if at > now {
            return None;
        }
        self.tickets.pop_first().map(|(_, id)| id)
    }

    /// Arms the agent's timer at `at`, or disarms it for `None`.
    pub(super) fn set_agent(&mut self, id: &AgentId, at: Option<Ts>) {
        match at {
            Some(at) => {
                self.agents.push(id.clone(), Reverse(at));
            }
            None => {
                self.agents.remove(id);
            }
        }
    }

    /// The earliest ticket timer (ticket and instant), due or not: for tests that jump to it.
    #[cfg(test)]
    pub(super) fn next_ticket(&self) -> Option<(TicketId, Ts)> {
        self.tickets.first().map(|&(at, id)| (id, at))
    }

    /// Every ticket timer, in no particular order (for tests that compare state).
    #[cfg(test)]
    pub(super) fn ticket_timers(&self) -> impl Iterator<Item = (TicketId, Ts)> + '_ {
        self.tickets.iter().map(|&(at, id)| (id, at))
    }

    /// Every agent timer, in no particular order (for tests that compare state).
    #[cfg(test)]
    pub(super) fn agent_timers(&self) -> impl Iterator<Item = (AgentId, Ts)> + '_ {
        self.agents.iter().map(|(id, at)| (id.clone(), at.0))
    }
}

/// Takes the earliest timer off `timers` if it is due by `now`.
fn pop_due<K: Hash + Eq>(timers: &mut PriorityQueue<K, Reverse<Ts>>, now: Ts) -> Option<K> {
    let (_, at) = timers.peek()?;
    if at.0 > now {
        return None;
    }
    timers.pop().map(|(key, _)| key)
}

impl Scheduler {
    /// Fires everything due by `now`: presence expiries, ends of hold windows, SLA warnings,
    /// breaches and escalations, and forgets request ids past their window. What happened is in the journal.
    pub fn tick(&mut self, now: Ts) {
        self.expire_requests(now);
        while let Some(id) = pop_due(&mut self.timers.agents, now) {
            self.expire_agent(&id, now);
            defer_if_stuck(&mut self.timers.agents, &id, now);
        }
        while let Some(id) = self.timers.pop_due_ticket(now) {
            self.tickets.set_timer(id, None);
            self.ticket_due(id, now);
            if self.tickets.timer(id).is_some_and(|at| at <= now) {
                stuck(now);
                self.arm(id, Some(Ts(now.0.saturating_add(1))));
            }
        }
    }

    /// Arms the ticket's timer at `at`, or disarms it for `None`.
    pub(super) fn arm(&mut self, id: TicketId, at: Option<Ts>) {
        if let Some(was) = self.tickets.set_timer(id, at) {
            self.timers.move_ticket(id, was, at);
        }
    }

    /// Does what fell due for the ticket by `now` (each escalation step once, in order) and
    /// re-arms its timer.
    pub(super) fn ticket_due(&mut self, id: TicketId, now: Ts) {
        let mut changed = self.offers_due(id, now);
        let t = self.tickets.edit(id);
        if t.held_until().is_some_and(|until| until <= now) {
            t.hold = None;
            changed = true;
        }
        if t.follow_up_due_at.get().is_some_and(|at| at <= now) {
            t.follow_up_due_at = OptTs::NONE;
            let (tier, channel) = (t.tier, t.channel);
            self.journal.events.push(Event::FollowUpDue {
                ticket: id,
                tier,
                channel,
            });
            changed = true;
        }
        if self.ring_due(id, now) {
            changed = true;
        }
        for metric in SlaMetric::ALL.iter().copied() {
            let t = self.tickets.edit(id);
            if !t.is_live(metric) {
                continue;
            }
            let Some(clock) = t.clock_mut(metric) else {
                continue;
            };
            for level in fire_due(&self.policy, clock, now) {
                changed = true;
                self.escalate(id, metric, level, now);
            }
        }
        if changed {
            self.settle(id, now);
        } else {
            self.reschedule(id);
        }
    }

    /// Re-arms the ticket's timer at its next due instant, or disarms it, and files its clocks
    /// at the warning level again (`warnings`): both follow from its clocks.
    pub(super) fn reschedule(&mut self, id: TicketId) {
        let t = &self.tickets[id];
        self.warnings.update(t);
        let steps = t
            .live_clocks()
            .filter_map(|c| next_step(&self.policy, c))
            .map(|(_, at)| at);
        let queued = t.state == TicketState::Queued;
        let hold = t.held_until().filter(|_| queued);
        let ring = queued
            .then(|| self.policy.rings.next(t.queued_at, self.tickets.ring(id)))
            .flatten();
        let offer = t.offer_due();
        let next = steps
            .chain(hold)
            .chain(ring)
            .chain(t.follow_up_due_at.get())
            .chain(offer)
            .min();
        self.arm(id, next);
    }
}

/// The guard that keeps `tick` finite: a handler must move its timer past `now` (or drop it).
/// One that did not is a bug; debug builds stop on it, release builds push the timer 1 ms past
/// `now` so the daemon keeps serving and the step is retried by a later tick.
fn defer_if_stuck<K: Hash + Eq>(timers: &mut PriorityQueue<K, Reverse<Ts>>, key: &K, now: Ts) {
    if timers.get_priority(key).is_some_and(|at| at.0 <= now) {
        stuck(now);
        timers.change_priority(key, Reverse(Ts(now.0.saturating_add(1))));
    }
}

/// A handler left its timer due: a bug, so debug builds stop here.
fn stuck(now: Ts) {
    if cfg!(debug_assertions) {
        panic!("a timer handler left its timer due at {now:?}");
    }
}
