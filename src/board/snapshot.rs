//! The JSON the wallboard page polls (`GET /board/data`): the core's `BoardSnapshot` summed
//! per (channel, tier), the way a supervisor reads a floor, plus the assignment rate.
//!
//! Guarantees: the depth of a row is the sum of the depths `GetQueueStats` reports for that
//! channel and tier (over every skill set), its oldest wait the largest of their oldest ages,
//! and the presence counts are `GetQueueStats`' own: the page and the API cannot disagree
//! about one instant. Rows come in channel then tier order, only for pairs with something
//! waiting, at warning or with a service level in the window.

use crate::core::board::{AtWarning, BoardSnapshot};
use crate::core::command::{QueueStat, ServiceLevel};
use crate::core::types::{Channel, Tier};
use serde::Serialize;

/// One snapshot as the page reads it.
#[derive(Debug, Serialize)]
pub struct Data {
    pub role: &'static str,
    /// The scheduler's clock at the snapshot, Unix milliseconds.
    pub at_ms: i64,
    pub service_level_target: f64,
    pub window_s: u64,
    pub rows: Vec<Row>,
    /// Agents by presence, every presence listed.
    pub agents: Vec<(&'static str, u64)>,
    /// Tickets assigned in the last minute (see `rate`).
    pub assignments_per_minute: u64,
    /// The live feed dropped events within that minute: the rate may be low.
    pub rate_may_be_low: bool,
    /// Clocks at the warning level in all (the list below is the first of them).
    pub warning_total: u32,
    pub warnings: Vec<Warning>,
}

/// One (channel, tier).
#[derive(Debug, Default, Serialize)]
pub struct Row {
    pub channel: &'static str,
    pub tier: &'static str,
    pub depth: u32,
    pub oldest_wait_s: u64,
    /// Queued tickets past a deadline.
    pub breached: u32,
    /// Clocks at the warning level.
    pub warning: u32,
    /// First responses within target over the window; `None` with none answered or breached.
    pub service_level: Option<f64>,
    pub below_target: bool,
}

#[derive(Debug, Serialize)]
pub struct Warning {
    pub ticket: u64,
    pub channel: &'static str,
    pub tier: &'static str,
    pub metric: &'static str,
    pub time_left_s: u64,
}

impl Data {
    /// The page's view of `snapshot`, with the assignment rate counted apart (`rate`).
    pub fn of(snapshot: &BoardSnapshot, (per_minute, may_be_low): (u64, bool)) -> Data {
        let stats = &snapshot.stats;
        Data {
            role: "leader",
            at_ms: snapshot.at.0,
            service_level_target: stats.service_level_target,
            window_s: stats.window.0 / 1000,
            rows: rows(snapshot),
            agents: stats
                .agents_by_presence
                .iter()
                .map(|&(p, n)| (p.label(), n))
                .collect(),
            assignments_per_minute: per_minute,
            rate_may_be_low: may_be_low,
            warning_total: snapshot.warning_counts.iter().map(|&(_, _, n)| n).sum(),
            warnings: snapshot.warnings.iter().map(Warning::of).collect(),
        }
    }
}

impl Warning {
    fn of(w: &AtWarning) -> Warning {
        Warning {
            ticket: w.ticket.0,
            channel: w.channel.label(),
            tier: w.tier.label(),
            metric: w.metric.label(),
            time_left_s: w.time_left.0.div_ceil(1000),
        }
    }
}

fn rows(snapshot: &BoardSnapshot) -> Vec<Row> {
    Channel::ALL
        .iter()
        .flat_map(|&c| Tier::ALL.iter().map(move |&t| (c, t)))
        .filter_map(|(c, t)| row(snapshot, c, t))
        .collect()
}

/// The row of (`channel`, `tier`), if it has anything to show.
fn row(snapshot: &BoardSnapshot, channel: Channel, tier: Tier) -> Option<Row> {
    let ours = |q: &&QueueStat| (q.channel, q.tier) == (channel, tier);
    let queues: Vec<&QueueStat> = snapshot.stats.queues.iter().filter(ours).collect();
    let level: Option<&ServiceLevel> = snapshot
        .stats
        .service_levels
        .iter()
        .find(|l| (l.channel, l.tier) == (channel, tier));
    let warning = snapshot
        .warning_counts
        .iter()
        .find(|&&(c, t, _)| (c, t) == (channel, tier))
        .map_or(0, |&(_, _, n)| n);
    if queues.is_empty() && level.is_none() && warning == 0 {
        return None;
    }
    Some(Row {
        channel: channel.label(),
        tier: tier.label(),
        depth: queues.iter().map(|q| q.depth).sum(),
        oldest_wait_s: queues
            .iter()
            .map(|q| q.oldest_age.0 / 1000)
            .max()
            .unwrap_or(0),
        breached: queues.iter().map(|q| q.breached).sum(),
        warning,
        service_level: level.and_then(|l| l.service_level),
        below_target: level.is_some_and(|l| l.below_target),
    })
}
