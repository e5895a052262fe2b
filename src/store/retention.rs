//! Which event records a prune deletes, the same rule for every store: whole records, oldest
//! first, never the newest event (numbering continues from it after a restart) nor one within
//! both bounds, and at most `limit` events, except a first record that alone holds more.

use crate::core::event::Recorded;
use crate::core::types::Ts;

/// One prune's walk over the event records, oldest first.
pub struct EventPrune {
    newest: u64,
    keep_from: u64,
    older_than: Ts,
    limit: usize,
    pruned: usize,
}

impl EventPrune {
    /// A walk that keeps events with sequence >= `keep_from` recorded at or after
    /// `older_than`, and event `newest`, deleting at most `limit` events.
    pub fn new(newest: u64, keep_from: u64, older_than: Ts, limit: usize) -> EventPrune {
        EventPrune {
            newest,
            keep_from,
            older_than,
            limit,
            pruned: 0,
        }
    }

    /// Whether the record holding `events` goes (it is then counted); `false` ends the walk,
    /// with this record and all after it kept.
    pub fn takes(&mut self, events: &[Recorded]) -> bool {
        let kept = events
            .iter()
            .any(|e| e.seq >= self.newest || (e.seq >= self.keep_from && e.at >= self.older_than));
        let pruned = self.pruned;
        let over = pruned >= self.limit || (pruned > 0 && pruned + events.len() > self.limit);
        if kept || over {
            return false;
        }
        self.pruned += events.len();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::recorded;

    fn record(seqs: std::ops::RangeInclusive<u64>, at: Ts) -> Vec<Recorded> {
        seqs.map(|seq| recorded(seq, at)).collect()
    }

    #[test]
    fn old_records_go_until_one_is_kept_by_both_bounds_or_is_the_newest() {
        let mut prune = EventPrune::new(9, 5, Ts(100), usize::MAX);
        assert!(prune.takes(&record(1..=2, Ts(200))), "below keep_from");
        assert!(
            prune.takes(&record(5..=6, Ts(50))),
            "recorded before older_than"
        );
        assert!(!prune.takes(&record(7..=8, Ts(200))), "within both bounds");
        let mut prune = EventPrune::new(9, u64::MAX, Ts(1_000), usize::MAX);
        assert!(!prune.takes(&record(8..=9, Ts(0))), "holds the newest");
    }

    #[test]
    fn the_limit_counts_events_and_a_first_record_over_it_goes_alone() {
        let mut prune = EventPrune::new(100, u64::MAX, Ts(1_000), 3);
        assert!(
            prune.takes(&record(1..=5, Ts(0))),
            "the first goes whatever its size"
        );
        assert!(
            !prune.takes(&record(6..=6, Ts(0))),
            "then the limit is reached"
        );
        let mut prune = EventPrune::new(100, u64::MAX, Ts(1_000), 3);
        assert!(prune.takes(&record(1..=2, Ts(0))));
        assert!(!prune.takes(&record(3..=4, Ts(0))), "would pass the limit");
    }
}
