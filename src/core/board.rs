//! What a supervisor's wallboard shows that `GetQueueStats` does not: the SLA clocks at the
//! warning level (past the policy's warning fraction, not yet breached), soonest breach first,
//! with their time left. Read with the queue stats in one command (`Command::Board`), so the
//! two describe the same instant.
//!
//! Cost: one pass over the tickets in memory (the unfinished ones), keeping only the soonest
//! `LISTED_WARNINGS` (a bounded heap), on top of what `GetQueueStats` costs. The daemon takes one
//! such snapshot per second however many screens watch (see `crate::board`), never one per
//! viewer.

use super::command::QueueStats;
use super::scheduler::Scheduler;
use super::types::{Channel, Level, SlaMetric, Span, TicketId, Tier, Ts};
use std::collections::BinaryHeap;

/// How many warning clocks a snapshot lists one by one; the rest are only counted.
pub const LISTED_WARNINGS: usize = 50;

/// One instant of the desk, as the wallboard shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct BoardSnapshot {
    /// The instant it describes: the scheduler's `now`.
    pub at: Ts,
    pub stats: QueueStats,
    /// Every clock at the warning level, counted per (channel, tier); only pairs with some.
    pub warning_counts: Vec<(Channel, Tier, u32)>,
    /// The first `LISTED_WARNINGS` of them, soonest breach first (then by ticket).
    pub warnings: Vec<AtWarning>,
}

/// A clock of a ticket at the warning level: how long until it breaches.
#[derive(Clone, Debug, PartialEq)]
pub struct AtWarning {
    pub ticket: TicketId,
    pub channel: Channel,
    pub tier: Tier,
    pub metric: SlaMetric,
    /// Until the breach deadline; zero once it has passed (the breach fires on the next tick).
    pub time_left: Span,
}

impl Scheduler {
    /// The queue stats and the clocks at the warning level, at `now`.
    pub(super) fn board(&self, now: Ts) -> BoardSnapshot {
        let mut counts = [[0u32; Tier::COUNT]; Channel::COUNT];
        // The soonest `LISTED_WARNINGS`, the latest of them on top: one pass, no sort of all.
        let mut soonest: BinaryHeap<Soonest> = BinaryHeap::with_capacity(LISTED_WARNINGS + 1);
        for w in self.warning_clocks(now) {
            counts[w.channel.index()][w.tier.index()] += 1;
            soonest.push(Soonest(w));
            if soonest.len() > LISTED_WARNINGS {
                soonest.pop();
            }
        }
        let warning_counts = Channel::ALL
            .iter()
            .flat_map(|&c| Tier::ALL.iter().map(move |&t| (c, t)))
            .map(|(c, t)| (c, t, counts[c.index()][t.index()]))
            .filter(|&(_, _, n)| n > 0)
            .collect();
        BoardSnapshot {
            at: now,
            stats: self.stats(now),
            warning_counts,
            warnings: soonest.into_sorted_vec().into_iter().map(|s| s.0).collect(),
        }
    }

    /// Every live, counting clock whose last escalation step is the warning.
    fn warning_clocks(&self, now: Ts) -> impl Iterator<Item = AtWarning> + '_ {
        self.tickets.iter().flat_map(move |t| {
            t.live_clocks()
                .filter(|c| c.level == Level::Warning)
                .filter_map(move |c| {
                    Some(AtWarning {
                        ticket: t.id,
                        channel: t.channel,
                        tier: t.tier,
                        metric: c.metric,
                        time_left: c.due()?.since(now),
                    })
                })
        })
    }
}

/// A warning ordered by time left, then ticket, then clock: soonest breach first.
struct Soonest(AtWarning);

impl Soonest {
    fn key(&self) -> (Span, TicketId, SlaMetric) {
        (self.0.time_left, self.0.ticket, self.0.metric)
    }
}

impl PartialEq for Soonest {
    fn eq(&self, other: &Soonest) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Soonest {}

impl PartialOrd for Soonest {
    fn partial_cmp(&self, other: &Soonest) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Soonest {
    fn cmp(&self, other: &Soonest) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}
