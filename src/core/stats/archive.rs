//! The contract between the service-level buckets and the archive (finished tickets leave the
//! scheduler for the store). A ticket's contribution is counted in the buckets once; the
//! scheduler keeps a note of it beside the ticket, so that when the ticket changes it takes out
//! exactly what it put in. For a ticket that is not in memory there is no note and nothing to
//! take out, since an archived ticket does not change:
//! - leaving memory: `forget_contribution` drops the note; the contribution stays counted
//!   until its minutes age out of the ring;
//! - coming back (reopen from the archive): `recall_contribution` notes it again without
//!   counting it twice, so the reopen (and any later change) swaps it as for any ticket: a
//!   resolved, reopened and resolved again ticket counts once, at its latest resolution;
//! - recovery: `restore` counts every ticket in memory; `count_archived` counts an archived
//!   one (only those with something at or after `stats_counted_since` matter).
//!
//! An archived record does not keep its clocks' calendars (they are derived from the policy),
//! so both `count_archived` and `recall_contribution` take the first-response calendar from
//! the current policy and everything else (targets included) from the record. What is recalled
//! therefore equals what was counted (in memory, or by `count_archived`) unless the calendar of
//! the ticket's channel changed in between; then the difference (one ticket's answer time or
//! breach minute) stays in the buckets until it ages out or the next restart counts everything
//! afresh.

use super::super::model::Ticket;
use super::super::scheduler::Scheduler;
use super::super::types::{TicketId, Ts};
use super::Contribution;

impl Scheduler {
    /// Ticket `id` is leaving memory for the archive: call it before the ticket leaves the
    /// table. Its contribution stays in the buckets (it still counts over the window); the
    /// scheduler forgets its note of it, so nothing is taken out later. A no-op for an unknown
    /// ticket.
    pub fn forget_contribution(&mut self, id: TicketId) {
        if self.tickets.get(id).is_some() {
            self.tickets.set_contribution(id, Contribution::default());
        }
    }

    /// Ticket `record.id` came back from the archive and is in the table again, not yet
    /// changed (call it before the reopen); `record` is the ticket as read from the archive.
    /// Its contribution is already in the buckets (counted while it was in memory, or by
    /// `count_archived` at recovery): this notes it again without counting it, so the reopen
    /// and later changes take it out and put the new one in. A no-op for a ticket not in the
    /// table.
    pub fn recall_contribution(&mut self, record: &Ticket) {
        if self.tickets.get(record.id).is_some() {
            let c = self.archived_contribution(record);
            self.tickets.set_contribution(record.id, c);
        }
    }

    /// At recovery, after `restore`: counts `record`, an archived ticket that is not in memory,
    /// in the buckets. Only what falls at or after `stats_counted_since` is counted; the rest
    /// is a no-op, so the archive may pass every ticket, or (better) only those finished or
    /// updated since then. Each archived ticket must be counted at most once per recovery.
    pub fn count_archived(&mut self, record: &Ticket) {
        let c = self.archived_contribution(record);
        self.ring.put(&c);
    }

    /// The first instant the buckets still count: the start of the minute `MAX_STATS_WINDOW`
    /// before the latest `now` the scheduler saw. No window can reach before it.
    pub fn stats_counted_since(&self) -> Ts {
        self.ring.oldest().start()
    }

    /// At recovery: archived tickets archived at or after this instant are the ones
    /// `count_archived` must see for the current policy's window (anything a ticket did
    /// happened before it was archived). Counting only these keeps recovery short; a window
    /// widened later shows the older minutes as they fill (or after the next restart).
    pub fn archive_counted_from(&self, now: Ts) -> Ts {
        let window = self.policy.stats_window.0.saturating_add(60_000);
        let from = Ts(now
            .0
            .saturating_sub(i64::try_from(window).unwrap_or(i64::MAX)));
        from.max(self.stats_counted_since())
    }

    /// The contribution of an archived record: its first-response clock with the calendar the
    /// policy gives its channel, the rest as recorded.
    fn archived_contribution(&self, record: &Ticket) -> Contribution {
        let mut fr = record.first_response.clone();
        fr.calendar = self.policy.calendar(record.channel);
        Contribution::with_first_response(record, &fr)
    }
}
