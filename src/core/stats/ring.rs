//! The ring of per-minute buckets: per (minute, channel/tier pair) the `Tally` of the
//! contributions counted in that minute. Only minutes with something in them take memory, and
//! minutes older than the longest window the policy allows (`MAX_STATS_WINDOW` before the
//! latest `now` seen) are dropped: putting or taking a contribution there is a no-op, on both
//! sides, so a ticket whose contribution aged out can still change without skewing anything.
//!
//! Assumes `now` does not go back by more than `MAX_STATS_WINDOW` minus the window asked for
//! (the owner's clock only moves forward); a window reaching before the ring's oldest minute
//! would miss what was dropped.

use super::super::policy::MAX_STATS_WINDOW;
use super::super::types::Ts;
use super::contribution::{Contribution, Minute, PAIRS};
use super::Tally;
use std::collections::BTreeMap;

pub(super) const MINUTE_MS: i64 = 60_000;

#[derive(Debug)]
pub(crate) struct Ring {
    /// By (minute, pair): never a zero tally (emptied buckets are removed).
    buckets: BTreeMap<(Minute, u8), Tally>,
    /// The oldest minute kept.
    oldest: Minute,
}

impl Default for Ring {
    fn default() -> Self {
        Ring {
            buckets: BTreeMap::new(),
            oldest: Minute::OLDEST,
        }
    }
}

impl Ring {
    /// Time moved to `now`: drops the minutes that no window ending at `now` or later can
    /// reach.
    pub(in crate::core) fn advance(&mut self, now: Ts) {
        let keep = Minute::of(Ts(now.0.saturating_sub(MAX_STATS_WINDOW.0 as i64)));
        if keep <= self.oldest {
            return;
        }
        self.oldest = keep;
        while let Some(entry) = self.buckets.first_entry() {
            if entry.key().0 >= keep {
                break;
            }
            entry.remove();
        }
    }

    /// The first instant the ring still counts: contributions before it are gone.
    pub(super) fn oldest(&self) -> Minute {
        self.oldest
    }

    /// Counts `c` in its buckets (those still in the ring).
    pub(super) fn put(&mut self, c: &Contribution) {
        let pair = c.pair();
        for (minute, part) in c.parts().filter(|(m, _)| *m >= self.oldest) {
            self.buckets.entry((minute, pair)).or_default().add(&part);
        }
    }

    /// Takes out what `put(c)` counted (in the buckets still in the ring).
    pub(super) fn take(&mut self, c: &Contribution) {
        let pair = c.pair();
        for (minute, part) in c.parts().filter(|(m, _)| *m >= self.oldest) {
            let key = (minute, pair);
            let Some(tally) = self.buckets.get_mut(&key) else {
                debug_assert!(false, "taking {part:?} out of an empty bucket {key:?}");
                continue;
            };
            tally.sub(&part);
            if tally.is_zero() {
                self.buckets.remove(&key);
            }
        }
    }

    /// The sum per pair of every bucket from `since`'s minute on (later minutes included:
    /// a breach instant can lie ahead of `now` after a policy change lengthened the target).
    pub(super) fn sum_since(&self, since: Ts) -> [Tally; PAIRS] {
        let mut sums = [Tally::default(); PAIRS];
        for (&(_, pair), tally) in self.buckets.range((Minute::of(since), 0)..) {
            sums[usize::from(pair)].add(tally);
        }
        sums
    }

    /// How many (minute, pair) buckets hold something (for tests and memory estimates).
    #[cfg(test)]
    pub(in crate::core) fn len(&self) -> usize {
        self.buckets.len()
    }
}
