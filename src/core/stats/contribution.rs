//! What one ticket adds to the service-level buckets, derived from its record alone, with the
//! same definitions the figures always had:
//! - first response met: counted at `met_at` as answered, with its counted answer time, and
//!   as within target unless the clock breached;
//! - first response breached (escalation step L1 fired): counted at the instant the target
//!   was used up, pauses not counted;
//! - cancelled as abandoned: counted at the cancel (the ticket's last update);
//! - resolved: counted once, at the latest `resolved_at` (a reopen clears it), as a
//!   first-contact resolution if the customer never wrote again and it was never reopened, with
//!   the handle time from first assignment to resolution.

use super::super::model::Ticket;
use super::super::sla::Clock;
use super::super::types::{CancelReason, Channel, Tier, Ts};
use super::ring::MINUTE_MS;
use super::Tally;

/// An instant's minute (minutes since the epoch), the key of its bucket. Instants beyond
/// ±4,000 years are clamped, which keeps their order against any window start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Minute(i32);

impl Minute {
    /// Kept apart as "no such event" in `Contribution`; no instant maps to it.
    const NONE: Minute = Minute(i32::MIN);
    pub(crate) const OLDEST: Minute = Minute(i32::MIN + 1);

    pub(crate) fn of(at: Ts) -> Minute {
        let m = at.0.div_euclid(MINUTE_MS);
        Minute(m.clamp(i64::from(i32::MIN) + 1, i64::from(i32::MAX)) as i32)
    }

    fn get(self) -> Option<Minute> {
        (self != Minute::NONE).then_some(self)
    }

    /// The minute's first instant.
    pub(super) fn start(self) -> Ts {
        Ts(i64::from(self.0) * MINUTE_MS)
    }
}

fn minute_of(at: Option<Ts>) -> Minute {
    at.map_or(Minute::NONE, Minute::of)
}

/// A ticket's summary for the buckets (40 bytes, kept beside every ticket in memory; never
/// persisted: it is derived from the record). `Default` contributes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Contribution {
    answer_time: u64,
    handle_time: u64,
    answered: Minute,
    breached: Minute,
    abandoned: Minute,
    resolved: Minute,
    /// `pair(channel, tier)`.
    pair: u8,
    within: bool,
    first_contact: bool,
}

impl Default for Contribution {
    fn default() -> Self {
        Contribution {
            answer_time: 0,
            handle_time: 0,
            answered: Minute::NONE,
            breached: Minute::NONE,
            abandoned: Minute::NONE,
            resolved: Minute::NONE,
            pair: 0,
            within: false,
            first_contact: false,
        }
    }
}

/// The index of a (channel, tier) pair; in (channel, tier) order.
pub(super) const PAIRS: usize = Channel::COUNT * Tier::COUNT;

fn pair(channel: Channel, tier: Tier) -> u8 {
    // At most 18 pairs: always fits.
    (channel.index() * Tier::COUNT + tier.index()) as u8
}

/// The (channel, tier) of pair index `pair` (below `PAIRS`).
pub(super) fn unpair(pair: usize) -> (Channel, Tier) {
    (
        Channel::ALL[pair / Tier::COUNT],
        Tier::ALL[pair % Tier::COUNT],
    )
}

impl Contribution {
    pub(crate) fn of(t: &Ticket) -> Contribution {
        Contribution::with_first_response(t, &t.first_response)
    }

    /// The contribution of ticket `t` as if its first-response clock were `fr` (the archive
    /// derives the clock's calendar from the policy, as the record does not keep it).
    pub(super) fn with_first_response(t: &Ticket, fr: &Clock) -> Contribution {
        let mut c = Contribution {
            pair: pair(t.channel, t.tier),
            ..Contribution::default()
        };
        if let Some(met) = fr.met_at.get() {
            c.answered = Minute::of(met);
            c.answer_time = fr.elapsed(met).0;
            c.within = !fr.breached();
        }
        c.breached = minute_of(fr.breached().then(|| breach_at(fr)));
        let abandoned = t.cancel_reason == Some(CancelReason::Abandoned);
        c.abandoned = minute_of(abandoned.then_some(t.updated_at));
        if let Some(resolved) = t.resolved_at.get() {
            c.resolved = Minute::of(resolved);
            c.first_contact = t.next_reply.is_none() && t.reopens == 0;
            c.handle_time = resolved
                .since(t.first_assigned_at.get().unwrap_or(resolved))
                .0;
        }
        // A ticket that counts in no bucket contributes the one `Default` (whatever its
        // pair), which the ticket table keeps without an allocation: most of a backlog.
        if c.parts().next().is_none() {
            return Contribution::default();
        }
        c
    }

    /// The index of the ticket's (channel, tier) pair.
    pub(super) fn pair(&self) -> u8 {
        self.pair
    }

    /// The counts this contribution puts in each bucket, by minute (at most four).
    pub(super) fn parts(&self) -> impl Iterator<Item = (Minute, Tally)> {
        let answered = self.answered.get().map(|m| {
            let tally = Tally {
                answered: 1,
                answer_time: self.answer_time,
                within: u32::from(self.within),
                ..Tally::default()
            };
            (m, tally)
        });
        let breached = self.breached.get().map(|m| {
            let tally = Tally {
                breached: 1,
                ..Tally::default()
            };
            (m, tally)
        });
        let abandoned = self.abandoned.get().map(|m| {
            let tally = Tally {
                abandoned: 1,
                ..Tally::default()
            };
            (m, tally)
        });
        let resolved = self.resolved.get().map(|m| {
            let tally = Tally {
                resolved: 1,
                first_contact: u32::from(self.first_contact),
                handle_time: self.handle_time,
                ..Tally::default()
            };
            (m, tally)
        });
        [answered, breached, abandoned, resolved]
            .into_iter()
            .flatten()
    }
}

/// When a breached clock breached: its target used up, pauses not counted.
pub(super) fn breach_at(clock: &Clock) -> Ts {
    clock.counted_until(clock.target)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary sits beside every ticket in memory: keep it small.
    #[test]
    fn a_contribution_takes_40_bytes() {
        assert_eq!(std::mem::size_of::<Contribution>(), 40);
    }
}
