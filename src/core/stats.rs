//! Queue statistics for `GetQueueStats`: what waits where now, and how the desk did over the
//! policy's sliding window: service level (first responses within target / (within + breached))
//! per channel and tier against the target, abandoned contacts (counted apart from resolved
//! ones), average speed of answer, average handle time and first-contact resolution.
//!
//! Everything is derived from the ticket records, so the figures are the same after a restart.

use super::command::{QueueStat, QueueStats, ServiceLevel};
use super::model::Ticket;
use super::scheduler::Scheduler;
use super::sla::Clock;
use super::types::{CancelReason, Channel, Presence, SkillSet, Span, TicketState, Tier, Ts};
use std::collections::BTreeMap;

impl Scheduler {
    pub(super) fn stats(&self, now: Ts) -> QueueStats {
        type Key = (Tier, Channel, SkillSet);
        let mut groups: BTreeMap<Key, (u32, Ts, u32)> = BTreeMap::new();
        for t in self
            .tickets
            .iter()
            .filter(|t| t.state == TicketState::Queued)
        {
            let entry = groups
                .entry((t.tier, t.channel, t.skills.clone()))
                .or_insert((0, Ts::MAX, 0));
            entry.0 += 1;
            entry.1 = entry.1.min(t.queued_at);
            entry.2 += u32::from(t.due().is_some_and(|due| due <= now));
        }
        let queues = groups
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
            .collect();
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
            queues,
            open_by_state,
            agents_by_presence,
            window: self.policy.stats_window,
            service_level_target: self.policy.service_level_target,
            service_levels: self.service_levels(now),
        }
    }

    /// Service-level figures per (channel, tier) over the window ending at `now`; only pairs
    /// with something to report.
    fn service_levels(&self, now: Ts) -> Vec<ServiceLevel> {
        let since = Ts(now.0.saturating_sub(self.policy.stats_window.0 as i64));
        let mut tally: BTreeMap<(Channel, Tier), Tally> = BTreeMap::new();
        for t in self.tickets.iter() {
            tally.entry((t.channel, t.tier)).or_default().add(t, since);
        }
        tally
            .into_iter()
            .filter(|(_, tally)| !tally.is_empty())
            .map(|((channel, tier), tally)| {
                tally.finish(channel, tier, self.policy.service_level_target)
            })
            .collect()
    }
}

/// Counts for one (channel, tier) over the window.
#[derive(Default)]
struct Tally {
    within: u32,
    breached: u32,
    abandoned: u32,
    answered: u32,
    answer_time: u64,
    resolved: u32,
    first_contact: u32,
    handle_time: u64,
}

impl Tally {
    fn is_empty(&self) -> bool {
        self.within + self.breached + self.abandoned + self.resolved == 0
    }

    /// Adds what ticket `t` did since `since`.
    fn add(&mut self, t: &Ticket, since: Ts) {
        let in_window = |at: Ts| at >= since;
        let fr = &t.first_response;
        if let Some(met) = fr.met_at.filter(|&at| in_window(at)) {
            self.answered += 1;
            self.answer_time += fr.elapsed(met).0;
            self.within += u32::from(!fr.breached());
        }
        if fr.breached() && in_window(breach_at(fr)) {
            self.breached += 1;
        }
        if t.cancel_reason == Some(CancelReason::Abandoned) && in_window(t.updated_at) {
            self.abandoned += 1;
        }
        if let Some(resolved) = t.resolved_at.filter(|&at| in_window(at)) {
            self.resolved += 1;
            self.first_contact += u32::from(t.next_reply.is_none() && t.reopens == 0);
            let assigned = t.first_assigned_at.unwrap_or(resolved);
            self.handle_time += resolved.since(assigned).0;
        }
    }

    fn finish(self, channel: Channel, tier: Tier, target: f64) -> ServiceLevel {
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

/// When a breached clock breached: its target used up, pauses not counted.
fn breach_at(clock: &Clock) -> Ts {
    clock.counted_until(clock.target)
}
