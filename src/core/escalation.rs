//! The escalation ladder: warning at a share of the target, L1 at breach, L2 and L3 at offsets
//! past it. Each step of each clock fires exactly once, in order, even when several fell due
//! together (after a restart, say): the clock remembers the last step it fired and that record
//! is persisted with the ticket.

use super::event::{Event, RequeueReason};
use super::policy::SlaPolicy;
use super::scheduler::Scheduler;
use super::sla::Clock;
use super::types::{Level, SlaMetric, TicketId, TicketState, Ts};

impl Level {
    /// The step after this one, if any.
    pub fn next(self) -> Option<Level> {
        match self {
            Level::None => Some(Level::Warning),
            Level::Warning => Some(Level::L1),
            Level::L1 => Some(Level::L2),
            Level::L2 => Some(Level::L3),
            Level::L3 => None,
        }
    }
}

/// The share of the target at which `level` fires under `policy`.
pub fn fraction(policy: &SlaPolicy, level: Level) -> f64 {
    match level {
        Level::None => 0.0,
        Level::Warning => policy.warning_fraction,
        Level::L1 => 1.0,
        Level::L2 => 1.0 + policy.l2_offset,
        Level::L3 => 1.0 + policy.l3_offset,
    }
}

/// The next step of `clock` and when it falls due, if the clock is counting.
pub fn next_step(policy: &SlaPolicy, clock: &Clock) -> Option<(Level, Ts)> {
    let level = clock.level.next()?;
    Some((level, clock.deadline_at(fraction(policy, level))?))
}

/// Advances `clock` through every step due by `now`, returning them in firing order.
pub fn fire_due(policy: &SlaPolicy, clock: &mut Clock, now: Ts) -> Vec<Level> {
    let mut fired = Vec::new();
    while let Some((level, at)) = next_step(policy, clock) {
        if at > now {
            break;
        }
        clock.level = level;
        fired.push(level);
    }
    fired
}

impl Scheduler {
    /// One step of one clock fired: report it and apply its effect. The widening of routing
    /// at L2 and L3 follows from the ticket's escalation when it is re-placed (`RoutingKey`);
    /// here L2 also takes the ticket back from an agent who has not answered the customer.
    pub(super) fn escalate(&mut self, id: TicketId, metric: SlaMetric, level: Level, now: Ts) {
        let t = &self.tickets[id];
        self.journal.events.push(Event::Escalated {
            ticket: id,
            metric,
            tier: t.tier,
            channel: t.channel,
            level,
        });
        if level == Level::L2 && metric.awaits_agent() && t.state == TicketState::Assigned {
            self.requeue(id, RequeueReason::TakenBack, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::{SlaMetric, Span};

    fn email_clock() -> Clock {
        Clock::start(SlaMetric::FirstResponse, Ts(0), Span::hours(2))
    }

    #[test]
    fn ladder_is_warning_at_80_percent_then_l1_l2_l3() {
        let p = SlaPolicy::default();
        let mut c = email_clock();
        let at = |m: u64| Ts(0).plus(Span::mins(m));
        assert_eq!(fire_due(&p, &mut c, at(95)), vec![]);
        assert_eq!(fire_due(&p, &mut c, at(96)), vec![Level::Warning]);
        assert_eq!(fire_due(&p, &mut c, at(119)), vec![]);
        assert_eq!(fire_due(&p, &mut c, at(120)), vec![Level::L1]);
        assert_eq!(fire_due(&p, &mut c, at(180)), vec![Level::L2]);
        assert_eq!(fire_due(&p, &mut c, at(240)), vec![Level::L3]);
        assert_eq!(
            fire_due(&p, &mut c, at(10_000)),
            vec![],
            "every step fires once"
        );
        assert_eq!(next_step(&p, &c), None);
    }

    #[test]
    fn steps_that_fell_due_together_fire_once_each_in_order() {
        let p = SlaPolicy::default();
        let mut c = email_clock();
        let fired = fire_due(&p, &mut c, Ts(0).plus(Span::hours(10)));
        assert_eq!(fired, vec![Level::Warning, Level::L1, Level::L2, Level::L3]);
    }

    #[test]
    fn a_met_or_paused_clock_does_not_escalate() {
        let p = SlaPolicy::default();
        let mut c = email_clock();
        c.pause(Ts(1));
        assert_eq!(fire_due(&p, &mut c, Ts(0).plus(Span::hours(10))), vec![]);
        let mut c = email_clock();
        c.meet(Ts(5));
        assert_eq!(fire_due(&p, &mut c, Ts(0).plus(Span::hours(10))), vec![]);
    }
}
