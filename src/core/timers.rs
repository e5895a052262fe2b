//! Time-driven work: each open ticket has one timer at its next due instant (the next
//! escalation step of any counting clock, or the end of its hold window) and each present agent
//! one at its presence expiry. `tick(now)` does whatever fell due by `now`, in time order.

use super::escalation::{fire_due, next_step};
use super::event::Event;
use super::scheduler::Scheduler;
use super::types::{AgentId, SlaMetric, TicketId, TicketState, Ts};
use std::cmp::Reverse;

impl Scheduler {
    /// Fires everything due by `now`: presence expiries, ends of hold windows, SLA warnings,
    /// breaches and escalations, and forgets request ids past their window. What happened is in the journal.
    pub fn tick(&mut self, now: Ts) {
        self.expire_requests(now);
        while let Some((id, at)) = self.agent_timers.peek() {
            if at.0 > now {
                break;
            }
            let id: AgentId = id.clone();
            self.agent_timers.pop();
            self.expire_agent(&id, now);
            defer_if_stuck(&mut self.agent_timers, &id, now);
        }
        while let Some((&id, at)) = self.ticket_timers.peek() {
            if at.0 > now {
                break;
            }
            self.ticket_timers.pop();
            self.ticket_due(id, now);
            defer_if_stuck(&mut self.ticket_timers, &id, now);
        }
    }

    fn ticket_due(&mut self, id: TicketId, now: Ts) {
        let t = self.ticket_mut(id);
        let mut changed = false;
        if t.held_until().is_some_and(|until| until <= now) {
            t.hold = None;
            changed = true;
        }
        if t.follow_up_due_at.is_some_and(|at| at <= now) {
            t.follow_up_due_at = None;
            let (tier, channel) = (t.tier, t.channel);
            self.journal.events.push(Event::FollowUpDue {
                ticket: id,
                tier,
                channel,
            });
            changed = true;
        }
        for metric in SlaMetric::ALL.iter().copied() {
            let policy = &self.policy;
            let t = &mut self.tickets[id];
            if !t.is_live(metric) {
                continue;
            }
            let Some(clock) = t.clock_mut(metric) else {
                continue;
            };
            for level in fire_due(policy, clock, now) {
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

    /// Re-arms the ticket's timer at its next due instant, or disarms it.
    pub(super) fn reschedule(&mut self, id: TicketId) {
        let t = &self.tickets[id];
        let steps = t
            .live_clocks()
            .filter_map(|c| next_step(&self.policy, c))
            .map(|(_, at)| at);
        let hold = t.held_until().filter(|_| t.state == TicketState::Queued);
        let next = steps.chain(hold).chain(t.follow_up_due_at).min();
        match next {
            Some(at) => {
                self.ticket_timers.push(id, Reverse(at));
            }
            None => {
                self.ticket_timers.remove(&id);
            }
        }
    }
}

/// The guard that keeps `tick` finite: a handler must move its timer past `now` (or drop it).
/// One that did not is a bug; debug builds stop on it, release builds push the timer 1 ms past
/// `now` so the daemon keeps serving and the step is retried by a later tick.
fn defer_if_stuck<K: std::hash::Hash + Eq>(
    timers: &mut super::collections::PriorityQueue<K, Reverse<Ts>>,
    key: &K,
    now: Ts,
) {
    if timers.get_priority(key).is_some_and(|at| at.0 <= now) {
        if cfg!(debug_assertions) {
            panic!("a timer handler left its timer due at {now:?}");
        }
        timers.change_priority(key, Reverse(Ts(now.0.saturating_add(1))));
    }
}
