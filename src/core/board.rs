//! What a supervisor's wallboard shows that `GetQueueStats` does not: the SLA clocks at the
//! warning level (past the policy's warning fraction, not yet breached), soonest breach first,
//! with their time left. Read with the queue stats in one command (`Command::Board`), so the
//! two describe the same instant.
//!
//! Cost: one pass over the tickets in memory (the unfinished ones). The daemon takes one
//! such snapshot per second however many screens watch (see `crate::board`), never one per
//! viewer.

use super::command::QueueStats;
use super::scheduler::Scheduler;
use super::types::{Channel, Level, SlaMetric, Span, TicketId, Tier, Ts};

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
        let mut warnings = self.warning_clocks(now);
        warnings.sort_by_key(|w| (w.time_left, w.ticket, w.metric as u8));
        let mut counts: Vec<(Channel, Tier, u32)> = Vec::new();
        for w in &warnings {
            match counts
                .iter_mut()
                .find(|(c, t, _)| (*c, *t) == (w.channel, w.tier))
            {
                Some((_, _, n)) => *n += 1,
                None => counts.push((w.channel, w.tier, 1)),
            }
        }
        counts.sort_by_key(|&(c, t, _)| (c, t));
        warnings.truncate(LISTED_WARNINGS);
        BoardSnapshot {
            at: now,
            stats: self.stats(now),
            warning_counts: counts,
            warnings,
        }
    }

    /// Every live, counting clock whose last escalation step is the warning.
    fn warning_clocks(&self, now: Ts) -> Vec<AtWarning> {
        self.tickets
            .iter()
            .flat_map(|t| {
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
            .collect()
    }
}
