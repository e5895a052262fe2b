//! Queue statistics for `GetQueueStats`: what waits where now, and how the desk did over the
//! policy's sliding window: service level (first responses within target / (within + breached))
//! per channel and tier against the target, abandoned contacts (counted apart from resolved
//! ones), average speed of answer, average handle time and first-contact resolution.
//!
//! Neither part scans the tickets. What waits is read from the per-group aggregates the queues
//! keep as tickets enter and leave them (`queue_groups`).
//! The service levels are running aggregates: every ticket contributes a small summary of its
//! record (`Contribution`: when its first response was met or breached, when it was abandoned
//! or resolved, and with what times), kept beside the ticket and swapped in a ring of
//! per-minute buckets whenever the ticket settles (`Scheduler::recount`). A call sums the
//! buckets of the window: O(buckets), however many tickets were ever created or archived.
//!
//! The window is counted in whole minutes: it starts at the beginning of the minute in which
//! `now - stats_window` falls, so it holds up to a minute more than `stats_window` and never
//! less. Everything is derived from the ticket records (restore, and `count_archived` for the
//! archive, count them again), so the figures are the same after a restart.

mod archive;
mod contribution;
mod ring;

pub(super) use contribution::Contribution;
pub(super) use ring::Ring;

use super::command::{QueueStat, QueueStats, ServiceLevel};
use super::scheduler::Scheduler;
use super::types::{Channel, Presence, Span, TicketId, TicketState, Tier, Ts};

impl Scheduler {
    pub(super) fn stats(&self, now: Ts) -> QueueStats {
        let open_by_state = [
            TicketState::Queued,
            TicketState::Assigned,
            TicketState::Pending,
        ]
        .into_iter()
        .map(|state| {
            let n = Tier::ALL
                .iter()
                .flat_map(|&tier| Channel::ALL.iter().map(move |&ch| (tier, ch)))
                .map(|(tier, ch)| self.tickets.counts().get(state, tier, ch))
                .sum();
            (state, n)
        })
        .collect();
        let agents = self.gauges().agents;
        let agents_by_presence = Presence::ALL
            .iter()
            .map(|&p| (p, agents[p.index()]))
            .collect();
        QueueStats {
            queues: self.queue_groups(now),
            open_by_state,
            agents_by_presence,
            window: self.policy.stats_window,
            service_level_target: self.policy.service_level_target,
            service_levels: self.service_levels(now, self.policy.stats_window),
        }
    }

    /// What waits: the QUEUED tickets per (tier, channel, skills), kept by the queues as
    /// tickets come and go (`queue_groups`), so O(groups), not O(queued tickets).
    fn queue_groups(&self, now: Ts) -> Vec<QueueStat> {
        self.queues.groups().stats(now)
    }

    /// Service-level figures per (channel, tier) over `window` ending at `now` (counted in
    /// whole minutes, see the module doc), summed from the ring; only pairs with something to
    /// report, in (channel, tier) order.
    pub(super) fn service_levels(&self, now: Ts, window: Span) -> Vec<ServiceLevel> {
        let target = self.policy.service_level_target;
        self.ring
            .sum_since(window_start(now, window))
            .into_iter()
            .enumerate()
            .filter(|(_, tally)| !tally.is_empty())
            .map(|(pair, tally)| {
                let (channel, tier) = contribution::unpair(pair);
                tally.finish(channel, tier, target)
            })
            .collect()
    }

    /// The ticket settled (or was restored) at `now`: its contribution to the buckets is
    /// re-derived from its record and, if it changed, the old one is taken out of the buckets
    /// and the new one put in. Buckets older than the ring are gone, so a change there is a
    /// no-op on both sides.
    pub(super) fn recount(&mut self, id: TicketId, now: Ts) {
        self.ring.advance(now);
        let new = Contribution::of(&self.tickets[id]);
        let old = self.tickets.contribution(id);
        if old != new {
            self.ring.take(&old);
            self.ring.put(&new);
            self.tickets.set_contribution(id, new);
        }
    }

    /// The ticket leaves memory without being archived here (a replica follows another
    /// node's archiving, see `replica`): its contribution is taken out of the buckets.
    pub(super) fn uncount(&mut self, id: TicketId) {
        let old = self.tickets.contribution(id);
        self.ring.take(&old);
        self.tickets.set_contribution(id, Default::default());
    }
}

/// The first instant the window ending at `now` counts: the start of the minute in which
/// `now - window` falls (the ring's granularity).
pub(super) fn window_start(now: Ts, window: Span) -> Ts {
    let since = now
        .0
        .saturating_sub(i64::try_from(window.0).unwrap_or(i64::MAX));
    Ts(since.div_euclid(ring::MINUTE_MS) * ring::MINUTE_MS)
}

/// Counts for one (channel, tier): over the window, or in one minute's bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub(super) within: u32,
    pub(super) breached: u32,
    pub(super) abandoned: u32,
    pub(super) answered: u32,
    pub(super) answer_time: u64,
    pub(super) resolved: u32,
    pub(super) first_contact: u32,
    pub(super) handle_time: u64,
}

impl Tally {
    /// Nothing to report: no first response within or breached, nothing abandoned or resolved.
    pub(super) fn is_empty(&self) -> bool {
        self.within + self.breached + self.abandoned + self.resolved == 0
    }

    /// Every count zero (an `answered` alone is not reported, but it is still a count).
    pub(super) fn is_zero(&self) -> bool {
        *self == Tally::default()
    }

    pub(super) fn add(&mut self, other: &Tally) {
        self.within += other.within;
        self.breached += other.breached;
        self.abandoned += other.abandoned;
        self.answered += other.answered;
        self.answer_time += other.answer_time;
        self.resolved += other.resolved;
        self.first_contact += other.first_contact;
        self.handle_time += other.handle_time;
    }

    /// Takes out what `add(other)` put in. Contributions are only taken out of the bucket they
    /// were put in, so nothing goes below zero; a debug build checks it, a release build stops
    /// at zero rather than wrap to absurd figures.
    pub(super) fn sub(&mut self, other: &Tally) {
        fn less<T: Copy + PartialOrd + std::fmt::Debug>(a: &mut T, b: T, sub: fn(T, T) -> T) {
            debug_assert!(*a >= b, "a bucket would go below zero: {a:?} - {b:?}");
            *a = sub(*a, b);
        }
        less(&mut self.within, other.within, u32::saturating_sub);
        less(&mut self.breached, other.breached, u32::saturating_sub);
        less(&mut self.abandoned, other.abandoned, u32::saturating_sub);
        less(&mut self.answered, other.answered, u32::saturating_sub);
        less(
            &mut self.answer_time,
            other.answer_time,
            u64::saturating_sub,
        );
        less(&mut self.resolved, other.resolved, u32::saturating_sub);
        less(
            &mut self.first_contact,
            other.first_contact,
            u32::saturating_sub,
        );
        less(
            &mut self.handle_time,
            other.handle_time,
            u64::saturating_sub,
        );
    }

    pub(super) fn finish(self, channel: Channel, tier: Tier, target: f64) -> ServiceLevel {
        let share = |part: u32, whole: u32| (whole > 0).then(|| f64::from(part) / f64::from(whole));
        let mean = |total: u64, n: u32| (n > 0).then(|| Span(total / u64::from(n)));
        let service_level = share(self.within, self.within + self.breached);
        ServiceLevel {
            channel,
            tier,
            answered_within: self.within,
            breached: self.breached,
            service_level,
            below_target: service_level.is_some_and(|sl| sl < target),
            abandoned: self.abandoned,
            abandonment_rate: share(self.abandoned, self.abandoned + self.answered),
            average_speed_of_answer: mean(self.answer_time, self.answered),
            resolved: self.resolved,
            first_contact_resolution: share(self.first_contact, self.resolved),
            average_handle_time: mean(self.handle_time, self.resolved),
        }
    }
}
