//! The figures of GetQueueStats as they were computed before the running aggregates: a scan of
//! every ticket for the service levels and of every QUEUED ticket for the groups. Kept as the
//! oracle the buckets are checked against, with the window counted in whole minutes as the
//! ring counts it (`window_start`).

use crate::core::board::{AtWarning, LISTED_WARNINGS};
use crate::core::command::{QueueStat, ServiceLevel};
use crate::core::model::Ticket;
use crate::core::scheduler::Scheduler;
use crate::core::stats::{window_start, Tally};
use crate::core::types::*;
use std::collections::BTreeMap;

/// The service levels over `window` ending at `now`, by scanning every ticket.
pub(in crate::core) fn scanned_levels(s: &Scheduler, now: Ts, window: Span) -> Vec<ServiceLevel> {
    scanned_levels_of(s, s.tickets.iter(), now, window)
}

/// As `scanned_levels`, over `tickets` (those in memory and those in an archive).
pub(in crate::core) fn scanned_levels_of<'a>(
    s: &Scheduler,
    tickets: impl Iterator<Item = &'a Ticket>,
    now: Ts,
    window: Span,
) -> Vec<ServiceLevel> {
    let since = window_start(now, window);
    let mut tally: BTreeMap<(Channel, Tier), Tally> = BTreeMap::new();
    for t in tickets {
        add(tally.entry((t.channel, t.tier)).or_default(), t, since);
    }
    tally
        .into_iter()
        .filter(|(_, tally)| !tally.is_empty())
        .map(|((channel, tier), tally)| tally.finish(channel, tier, s.policy.service_level_target))
        .collect()
}

/// Adds what ticket `t` did since `since`.
fn add(tally: &mut Tally, t: &Ticket, since: Ts) {
    let in_window = |at: Ts| at >= since;
    let fr = &t.first_response;
    if let Some(met) = fr.met_at.get().filter(|&at| in_window(at)) {
        tally.answered += 1;
        tally.answer_time += fr.elapsed(met).0;
        tally.within += u32::from(!fr.breached());
    }
    if fr.breached() && in_window(fr.counted_until(fr.target)) {
        tally.breached += 1;
    }
    if t.cancel_reason == Some(CancelReason::Abandoned) && in_window(t.updated_at) {
        tally.abandoned += 1;
    }
    if let Some(resolved) = t.resolved_at.get().filter(|&at| in_window(at)) {
        tally.resolved += 1;
        tally.first_contact += u32::from(t.next_reply.is_none() && t.reopens == 0);
        let assigned = t.first_assigned_at.get().unwrap_or(resolved);
        tally.handle_time += resolved.since(assigned).0;
    }
}

/// The per-queue groups from a scan of every ticket for the QUEUED ones.
pub(in crate::core) fn scanned_queues(s: &Scheduler, now: Ts) -> Vec<QueueStat> {
    let queued = s.tickets.iter().filter(|t| t.state == TicketState::Queued);
    group_queued(queued, now)
}

/// Per (tier, channel, skills) of `queued`: depth, oldest queued-since and how many are past
/// due at `now`.
pub(in crate::core) fn group_queued<'a>(
    queued: impl Iterator<Item = &'a Ticket>,
    now: Ts,
) -> Vec<QueueStat> {
    type Key = (Tier, Channel, SkillSet);
    let mut groups: BTreeMap<Key, (u32, Ts, u32)> = BTreeMap::new();
    for t in queued {
        let entry = groups
            .entry((t.tier, t.channel, t.skills.clone()))
            .or_insert((0, Ts::MAX, 0));
        entry.0 += 1;
        entry.1 = entry.1.min(t.queued_at);
        entry.2 += u32::from(t.due().is_some_and(|due| due <= now));
    }
    groups
        .into_iter()
        .map(
            |((tier, channel, skills), (depth, oldest, breached))| QueueStat {
                tier,
                channel,
                skills,
                depth,
                oldest_age: now.since(oldest),
                breached,
            },
        )
        .collect()
}

/// Instants to compare the queue groups at, in an order that moves each group's past-due
/// cursor forward and back: `now`, then on the millisecond around the first due at or after
/// `now` and the last before it, an hour on, an hour back, and `now` again.
pub(in crate::core) fn queue_instants(s: &Scheduler, now: Ts) -> Vec<Ts> {
    let dues: std::collections::BTreeSet<Ts> = s
        .tickets
        .iter()
        .filter(|t| t.state == TicketState::Queued)
        .filter_map(Ticket::due)
        .collect();
    let next = dues.range(now..).next();
    let last = dues.range(..now).next_back();
    let mut at = vec![now];
    for &due in next.into_iter().chain(last) {
        at.extend([Ts(due.0 - 1), due, Ts(due.0 + 1)]);
    }
    at.extend([now.plus(Span::hours(1)), Ts(now.0 - 3_600_000), now]);
    at
}

/// The wallboard's clocks at the warning level as they were found before the index: a scan of
/// every clock of every ticket in memory, counted per (channel, tier) in that order, and the
/// first `LISTED_WARNINGS` by time left, ticket and clock.
pub(in crate::core) fn scanned_warnings(
    s: &Scheduler,
    now: Ts,
) -> (Vec<(Channel, Tier, u32)>, Vec<AtWarning>) {
    let mut all: Vec<AtWarning> = s
        .tickets
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
        .collect();
    let counts = Channel::ALL
        .iter()
        .flat_map(|&c| Tier::ALL.iter().map(move |&t| (c, t)))
        .map(|(c, t)| {
            let n = all.iter().filter(|w| (w.channel, w.tier) == (c, t)).count();
            (c, t, n as u32)
        })
        .filter(|&(_, _, n)| n > 0)
        .collect();
    all.sort_by_key(|w| (w.time_left, w.ticket, w.metric));
    all.truncate(LISTED_WARNINGS);
    (counts, all)
}
