//! SLA clocks: when each one started, what its target is, how long it was paused, and whether
//! it was met. A clock's deadline is derived, never stored, so a policy change or a pause moves
//! it consistently.
//!
//! A clock counts either all the time (24/7) or only its calendar's open hours; every span it
//! keeps (target, time paused, time elapsed) is in counted time.

use super::calendar::Calendar;
use super::types::{Level, OptTs, SlaMetric, Span, Ts};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One running or finished SLA clock of a ticket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    pub metric: SlaMetric,
    pub started_at: Ts,
    pub target: Span,
    /// Time spent paused (PENDING on the customer) before `paused_since`.
    pub paused_for: Span,
    pub paused_since: OptTs,
    pub met_at: OptTs,
    /// The last escalation step that fired for this clock; each fires once.
    pub level: Level,
    /// The business hours the clock counts in; `None` counts all the time. Derived from the
    /// policy (set with the target by `Ticket::retarget`), so never persisted.
    #[serde(skip)]
    pub calendar: Option<Arc<Calendar>>,
}

/// What meeting a clock reports: counting time elapsed and whether it was within target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Met {
    pub elapsed: Span,
    pub within: bool,
}

impl Clock {
    pub fn start(metric: SlaMetric, now: Ts, target: Span) -> Clock {
        Clock {
            metric,
            started_at: now,
            target,
            paused_for: Span(0),
            paused_since: OptTs::NONE,
            met_at: OptTs::NONE,
            level: Level::None,
            calendar: None,
        }
    }

    /// The instant `span` of counted time after `start`.
    fn add(&self, start: Ts, span: Span) -> Ts {
        match &self.calendar {
            Some(c) => c.add(start, span),
            None => start.plus(span),
        }
    }

    /// Counted time in `[a, b)`.
    fn between(&self, a: Ts, b: Ts) -> Span {
        match &self.calendar {
            Some(c) => c.between(a, b),
            None => b.since(a),
        }
    }

    pub fn is_met(&self) -> bool {
        self.met_at.is_some()
    }

    /// Counting: neither met nor paused. Only counting clocks have a deadline.
    pub fn is_counting(&self) -> bool {
        self.met_at.is_none() && self.paused_since.is_none()
    }

    pub fn breached(&self) -> bool {
        self.level >= Level::L1
    }

    /// The instant a share `fraction` of the target is used up, if the clock is counting.
    pub fn deadline_at(&self, fraction: f64) -> Option<Ts> {
        self.is_counting()
            .then(|| self.counted_until(self.target.scale(fraction)))
    }

    /// The instant `span` of counted time after the start, pauses so far not counted.
    pub fn counted_until(&self, span: Span) -> Ts {
        self.add(
            self.started_at,
            Span(self.paused_for.0.saturating_add(span.0)),
        )
    }

    /// The breach deadline.
    pub fn due(&self) -> Option<Ts> {
        self.deadline_at(1.0)
    }

    /// Counted time so far: counted time since start minus time paused.
    pub fn elapsed(&self, now: Ts) -> Span {
        let end = self.met_at.get().or(self.paused_since.get()).unwrap_or(now);
        Span(
            self.between(self.started_at, end)
                .0
                .saturating_sub(self.paused_for.0),
        )
    }

    /// Stops the clock counting; `false` if it was not counting.
    pub fn pause(&mut self, now: Ts) -> bool {
        let counting = self.is_counting();
        if counting {
            self.paused_since = now.into();
        }
        counting
    }

    /// Lets a paused clock count again; `false` if it was not paused.
    pub fn resume(&mut self, now: Ts) -> bool {
        let Some(since) = std::mem::take(&mut self.paused_since).get() else {
            return false;
        };
        self.paused_for = Span(self.paused_for.0 + self.between(since, now).0);
        true
    }

    /// Stops the clock as met at `now`; `None` if it was already met.
    pub fn meet(&mut self, now: Ts) -> Option<Met> {
        if self.is_met() {
            return None;
        }
        self.resume(now);
        self.met_at = now.into();
        let elapsed = self.elapsed(now);
        Some(Met {
            elapsed,
            within: elapsed <= self.target && !self.breached(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_pauses_the_clock_and_moves_its_deadline() {
        let mut c = Clock::start(SlaMetric::Resolution, Ts(0), Span::hours(24));
        assert_eq!(c.due(), Some(Ts(0).plus(Span::hours(24))));
        c.pause(Ts(0).plus(Span::hours(1)));
        assert_eq!(c.due(), None, "a paused clock has no deadline");
        c.resume(Ts(0).plus(Span::hours(4)));
        assert_eq!(c.due(), Some(Ts(0).plus(Span::hours(27))));
        assert_eq!(c.elapsed(Ts(0).plus(Span::hours(5))), Span::hours(2));
    }

    #[test]
    fn meeting_reports_counting_time_and_whether_within_target() {
        let mut c = Clock::start(SlaMetric::FirstResponse, Ts(1000), Span::secs(30));
        let met = c.meet(Ts(21_000)).expect("first meet");
        assert_eq!(
            met,
            Met {
                elapsed: Span::secs(20),
                within: true
            }
        );
        assert_eq!(c.meet(Ts(50_000)), None, "a clock is met once");
        let mut late = Clock::start(SlaMetric::FirstResponse, Ts(0), Span::secs(30));
        assert!(!late.meet(Ts(31_000)).expect("meet").within);
    }
}
