//! The SLA clocks at the warning level (past the policy's warning fraction, not yet
//! breached), indexed by due as they change, so that the wallboard lists the soonest and counts
//! them all without a pass over the tickets.
//!
//! A ticket's entries are derived again whenever its timer is (`Scheduler::reschedule`, which
//! every change to a ticket ends with) and dropped when it leaves memory, so the index holds
//! exactly the live, counting clocks whose last step is the warning.

use super::collections::HashMap;
use super::model::Ticket;
use super::types::{Channel, Level, SlaMetric, TicketId, Tier, Ts};
use std::collections::BTreeMap;

/// A clock at the warning level: when it breaches, and whose it is.
pub type Watched = (Ts, TicketId, SlaMetric);

#[derive(Default)]
pub struct Warnings {
    by_due: BTreeMap<Watched, (Channel, Tier)>,
    /// The entries of each ticket that has some (few: those between warning and breach).
    of: HashMap<TicketId, Vec<Watched>>,
    counts: [[u32; Tier::COUNT]; Channel::COUNT],
}

impl Warnings {
    /// Derives `t`'s entries again from its clocks.
    pub fn update(&mut self, t: &Ticket) {
        let entries: Vec<Watched> = t
            .live_clocks()
            .filter(|c| c.level == Level::Warning)
            .filter_map(|c| Some((c.due()?, t.id, c.metric)))
            .collect();
        if entries.is_empty() && !self.of.contains_key(&t.id) {
            return;
        }
        self.forget(t.id);
        for &entry in &entries {
            self.by_due.insert(entry, (t.channel, t.tier));
            self.counts[t.channel.index()][t.tier.index()] += 1;
        }
        if !entries.is_empty() {
            self.of.insert(t.id, entries);
        }
    }

    /// Drops the entries of ticket `id` (it left memory, or is about to be derived again).
    pub fn forget(&mut self, id: TicketId) {
        for entry in self.of.remove(&id).unwrap_or_default() {
            if let Some((channel, tier)) = self.by_due.remove(&entry) {
                let n = &mut self.counts[channel.index()][tier.index()];
                *n = n.saturating_sub(1);
            }
        }
    }

    /// How many clocks are at the warning level on (channel, tier).
    pub fn count(&self, channel: Channel, tier: Tier) -> u32 {
        self.counts[channel.index()][tier.index()]
    }

    /// The first `n` clocks at `now` by time left (zero once due), then ticket, then clock:
    /// those already due (until the next tick breaches them: few) by ticket and clock, then
    /// the rest by due.
    pub fn soonest(
        &self,
        now: Ts,
        n: usize,
    ) -> impl Iterator<Item = (Watched, Channel, Tier)> + '_ {
        let mut due: Vec<(Watched, Channel, Tier)> = Vec::new();
        let mut rest = self.by_due.iter().peekable();
        while let Some((&w, &(c, t))) = rest.next_if(|((at, _, _), _)| *at <= now) {
            due.push((w, c, t));
        }
        due.sort_by_key(|&((_, ticket, metric), _, _)| (ticket, metric));
        due.into_iter()
            .chain(rest.map(|(&w, &(c, t))| (w, c, t)))
            .take(n)
    }
}
