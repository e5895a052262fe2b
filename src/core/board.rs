//! What a supervisor's wallboard shows that `GetQueueStats` does not: the SLA clocks at the
//! warning level (past the policy's warning fraction, not yet breached), soonest breach first,
//! with their time left. Read with the queue stats in one command (`Command::Board`), so the
//! two describe the same instant.
//!
//! Cost: the clocks at warning are indexed by due as they change (`warnings`), so a snapshot
//! reads the counts per pair and the first `LISTED_WARNINGS` of the index, on top of what
//! `GetQueueStats` costs (O(groups)); neither passes over the tickets. The daemon takes one
//! such snapshot per second however many screens watch (see `crate::board`), never one per
//! viewer.

use super::command::QueueStats;
use super::scheduler::Scheduler;
use super::types::{Channel, SlaMetric, Span, TicketId, Tier, Ts};

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
    /// The queue stats and the clocks at the warning level, at `now`: read from the index of
    /// warning clocks (`warnings`), O(pairs + listed), never a pass over the tickets.
    pub(super) fn board(&self, now: Ts) -> BoardSnapshot {
        let warning_counts = Channel::ALL
            .iter()
            .flat_map(|&c| Tier::ALL.iter().map(move |&t| (c, t)))
            .map(|(c, t)| (c, t, self.warnings.count(c, t)))
            .filter(|&(_, _, n)| n > 0)
            .collect();
        let warnings = self
            .warnings
            .soonest(now, LISTED_WARNINGS)
            .map(|((due, ticket, metric), channel, tier)| AtWarning {
                ticket,
                channel,
                tier,
                metric,
                time_left: due.since(now),
            })
            .collect();
        BoardSnapshot {
            at: now,
            stats: self.stats(now),
            warning_counts,
            warnings,
        }
    }
}
