//! The assignment rate the wallboard shows: tickets handed to agents in the last minute,
//! counted from the live event feed (`Event::Assigned`, at the scheduler's time of each).
//!
//! The live feed drops what a slow reader misses rather than slow the owner, so under a
//! burst the count can come out low; the board says so (`lagged`) until the missed
//! events are out of the window.

use crate::core::event::{Event, Recorded};
use crate::core::types::{Span, Ts};
use std::collections::VecDeque;

/// The span the rate is counted over.
pub const WINDOW: Span = Span::mins(1);

/// The instants of the assignments of the last `WINDOW`.
#[derive(Debug, Default)]
pub struct Rate {
    assigned: VecDeque<Ts>,
    /// The live feed dropped events at this instant; `None` once a window has passed.
    lagged_at: Option<Ts>,
}

impl Rate {
    /// Counts the assignments among `events`.
    pub fn record(&mut self, events: &[Recorded]) {
        let assigned = events
            .iter()
            .filter(|r| matches!(r.event, Event::Assigned { .. }));
        self.assigned.extend(assigned.map(|r| r.at));
    }

    /// The feed dropped events at `now`.
    pub fn lagged(&mut self, now: Ts) {
        self.lagged_at = Some(now);
    }

    /// Assignments in the window ending at `now`, and whether the count may be low.
    pub fn per_minute(&mut self, now: Ts) -> (u64, bool) {
        let start = Ts(now.0.saturating_sub(WINDOW.0 as i64));
        while self.assigned.front().is_some_and(|&at| at <= start) {
            self.assigned.pop_front();
        }
        if self.lagged_at.is_some_and(|at| at <= start) {
            self.lagged_at = None;
        }
        let n = self.assigned.iter().filter(|&&at| at <= now).count();
        (n as u64, self.lagged_at.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Actor;
    use crate::core::types::{AgentId, AssignReason, Channel, TicketId, Tier};

    fn assigned(seq: u64, at: i64) -> Recorded {
        Recorded {
            seq,
            at: Ts(at),
            event: Event::Assigned {
                ticket: TicketId(seq),
                agent: AgentId::new("a"),
                tier: Tier::Vip,
                channel: Channel::Chat,
                waited: Span(0),
                reason: AssignReason::Due,
            },
            actor: Actor::system(),
            epoch: None,
        }
    }

    #[test]
    fn counts_the_assignments_of_the_last_minute() {
        let mut rate = Rate::default();
        rate.record(&[assigned(1, 1_000), assigned(2, 30_000), assigned(3, 59_000)]);
        assert_eq!(rate.per_minute(Ts(60_000)), (3, false));
        assert_eq!(
            rate.per_minute(Ts(61_000)),
            (2, false),
            "the first left the window"
        );
        rate.lagged(Ts(61_000));
        assert_eq!(rate.per_minute(Ts(62_000)), (2, true));
        assert_eq!(rate.per_minute(Ts(121_500)), (0, false));
    }
}
