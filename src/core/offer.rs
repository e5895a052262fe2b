//! Offers (reservations): with an `offer_timeout` set for its channel, a pull (a long poll, a
//! Work session) does not assign a ticket outright but offers it. The agent holds an OFFERED
//! lease: the ticket counts against its capacity and nobody else gets it, but the agent may
//! not act on it until it accepts (`AcceptTicket`: ASSIGNED under the same epoch, clocks as
//! for any assignment) or rejects it (`RejectTicket`). On a rejection or a timeout the ticket
//! goes back to its place in the queue: queued-since, clocks and due are those it had, so it
//! keeps its age and its deadline. A timeout counts a miss; `max_missed_offers` misses in a row
//! set the agent AWAY (reason `missed_offers`). A rejected ticket is not offered to the same
//! agent again for `reoffer_after`.
//!
//! The first-response clock keeps running through the offer: it measures the customer's wait.
//! The offer's end is an absolute instant kept in the ticket record, so an OFFERED lease
//! survives a restart with its remaining time, and one that ran out while the daemon was down
//! times out on the first tick.

use super::command::{Lease, Reply};
use super::error::CoreError;
use super::event::Event;
use super::lifecycle::ticket_reply;
use super::model::Ticket;
use super::scheduler::Scheduler;
use super::types::{
    AgentId, AssignReason, Channel, OptTs, Presence, Span, TicketId, TicketState, Ts,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The policy's offer settings (`[policy.offers]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfferPolicy {
    /// How long an agent has to accept an offer, per channel; a channel left out (or 0)
    /// assigns directly, as without offers.
    pub offer_timeout: BTreeMap<Channel, Span>,
    /// Offers timed out in a row after which the agent is set AWAY; 0: never.
    pub max_missed_offers: u32,
    /// How long a rejected ticket is not offered to the agent who rejected it.
    pub reoffer_after: Span,
}

impl Default for OfferPolicy {
    /// No offers (direct assignment); AWAY after 3 misses; no re-offer for 5 minutes.
    fn default() -> Self {
        OfferPolicy {
            offer_timeout: BTreeMap::new(),
            max_missed_offers: 3,
            reoffer_after: Span::mins(5),
        }
    }
}

/// The reason an agent set AWAY by missed offers is given (Genesys' "Not Responding").
pub const MISSED_OFFERS: &str = "missed_offers";

/// The longest offer timeout: an offer is a ring, not a queue of its own.
pub const MAX_OFFER_TIMEOUT: Span = Span::hours(1);
/// The most misses in a row the policy may wait for.
pub const MAX_MISSED_OFFERS: u32 = 100;
/// The longest a rejection keeps a ticket from its agent.
pub const MAX_REOFFER_AFTER: Span = Span::hours(24);

impl OfferPolicy {
    /// How long an offer on `channel` stays open; `None`: assign directly.
    pub fn timeout(&self, channel: Channel) -> Option<Span> {
        self.offer_timeout
            .get(&channel)
            .copied()
            .filter(|t| t.0 > 0)
    }

    /// The first bad setting, as (field, reason).
    pub fn check(&self) -> Result<(), (String, &'static str)> {
        for (channel, t) in &self.offer_timeout {
            if *t > MAX_OFFER_TIMEOUT || (t.0 > 0 && t.0 < 1000) {
                let field = format!("offers.offer_timeout.{channel}");
                return Err((field, "must be 0 (off) or between 1s and 1h"));
            }
        }
        if self.max_missed_offers > MAX_MISSED_OFFERS {
            let reason = "must be at most 100 (0: never set AWAY)";
            return Err(("offers.max_missed_offers".into(), reason));
        }
        if self.reoffer_after > MAX_REOFFER_AFTER {
            return Err(("offers.reoffer_after".into(), "must be at most 24h"));
        }
        Ok(())
    }
}

/// What a ticket keeps about offers: the open one, and who rejected it until when.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Offers {
    pub pending: Option<Offer>,
    pub rejected: Vec<Rejection>,
}

/// An open offer to the ticket's holder.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// When it times out.
    pub until: Ts,
    /// Why the pull picked the ticket: reported with the assignment on accept.
    pub reason: AssignReason,
    /// `first_assigned_at` before the offer, restored if it is not accepted: handle time
    /// starts at an accepted assignment.
    pub first_assigned_before: OptTs,
}

/// An agent who rejected the ticket, and until when it is not offered to that agent again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub agent: AgentId,
    pub until: Ts,
}

impl Ticket {
    /// Whether `agent` rejected the ticket and may not be offered it again yet at `now`.
    pub fn rejected_by(&self, agent: &AgentId, now: Ts) -> bool {
        self.offers().is_some_and(|o| {
            o.rejected
                .iter()
                .any(|r| &r.agent == agent && r.until > now)
        })
    }

    /// The next instant an offer matter falls due: the open offer's end, or (queued) the
    /// earliest end of a rejection, when the ticket may go to that agent again.
    pub fn offer_due(&self) -> Option<Ts> {
        let o = self.offers()?;
        let queued = self.state == TicketState::Queued;
        let rejections = o.rejected.iter().map(|r| r.until).filter(|_| queued);
        o.pending
            .map(|p| p.until)
            .into_iter()
            .chain(rejections)
            .min()
    }

    /// Changes the ticket's offers with `f`, then drops what no longer matters at `now`
    /// (rejections that ended), and the whole record when nothing is left.
    fn edit_offers<R>(&mut self, now: Ts, f: impl FnOnce(&mut Offers) -> R) -> R {
        self.extras.edit(|e| {
            let o = e.offers.get_or_insert_with(Default::default);
            let out = f(o);
            o.rejected.retain(|r| r.until > now);
            if o.pending.is_none() && o.rejected.is_empty() {
                e.offers = None;
            }
            out
        })
    }
}

impl Scheduler {
    /// Makes the grant a pull just made of ticket `id` an offer, open for the channel's
    /// offer timeout; `before` is `first_assigned_at` before the grant.
    pub(super) fn offer(&mut self, id: TicketId, reason: AssignReason, before: OptTs, now: Ts) {
        let t = &self.tickets[id];
        let (Some(timeout), Some(agent)) = (self.policy.offers.timeout(t.channel), t.holder())
        else {
            return;
        };
        let (agent, tier, channel) = (agent.clone(), t.tier, t.channel);
        let until = now.plus(timeout);
        let offer = Offer {
            until,
            reason,
            first_assigned_before: before,
        };
        self.tickets
            .edit(id)
            .edit_offers(now, |o| o.pending = Some(offer));
        self.journal.events.push(Event::Offered {
            ticket: id,
            agent,
            tier,
            channel,
            until,
            reason,
        });
    }

    /// `AcceptTicket`: the holder of the open offer takes the ticket (ASSIGNED, same epoch).
    pub(super) fn accept(
        &mut self,
        id: TicketId,
        lease: &Lease,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let offer = self.open_offer(id, lease)?;
        let t = self.tickets.edit(id);
        t.edit_offers(now, |o| o.pending = None);
        let (tier, channel, waited) = (t.tier, t.channel, now.since(t.queued_at));
        let agent = lease.agent.clone();
        self.answered(&agent);
        self.journal.events.push(Event::OfferAccepted {
            ticket: id,
            agent: agent.clone(),
            tier,
            channel,
        });
        self.journal.events.push(Event::Assigned {
            ticket: id,
            agent,
            tier,
            channel,
            waited,
            reason: offer.reason,
        });
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// `RejectTicket`: the ticket goes back to its place in the queue and is not offered to
    /// this agent again for `reoffer_after`.
    pub(super) fn reject(
        &mut self,
        id: TicketId,
        lease: &Lease,
        reason: String,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        self.open_offer(id, lease)?;
        let agent = lease.agent.clone();
        self.answered(&agent);
        let until = now.plus(self.policy.offers.reoffer_after);
        let t = &self.tickets[id];
        let (tier, channel) = (t.tier, t.channel);
        self.journal.events.push(Event::OfferRejected {
            ticket: id,
            agent: agent.clone(),
            tier,
            channel,
            reason,
        });
        self.withdraw(id, now);
        self.note_offer(&agent, false, now);
        let rejection = Rejection { agent, until };
        self.tickets
            .edit(id)
            .edit_offers(now, |o| o.rejected.push(rejection));
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// The open offer of ticket `id` to `lease`'s agent at `lease`'s epoch.
    fn open_offer(&self, id: TicketId, lease: &Lease) -> Result<Offer, CoreError> {
        let t = self.check_held(id, lease)?;
        t.offer()
            .copied()
            .ok_or(CoreError::NotOffered { ticket: id })
    }

    /// Does what fell due by `now` for ticket `id`'s offers: times the open offer out, and
    /// forgets rejections that ended. Returns whether the ticket changed.
    pub(super) fn offers_due(&mut self, id: TicketId, now: Ts) -> bool {
        if self.tickets[id].offer_due().is_none_or(|at| at > now) {
            return false;
        }
        if self.tickets[id].offer().is_some_and(|o| o.until <= now) {
            self.time_out(id, now);
        }
        self.tickets.edit(id).edit_offers(now, |_| ());
        true
    }

    /// The holder did not answer in time: the ticket goes back to its place, the holder's
    /// miss is counted, and enough misses in a row set it AWAY.
    fn time_out(&mut self, id: TicketId, now: Ts) {
        let t = &self.tickets[id];
        let Some(agent) = t.holder().cloned() else {
            return;
        };
        let (tier, channel) = (t.tier, t.channel);
        self.withdraw(id, now);
        let max = self.policy.offers.max_missed_offers;
        let Some(a) = self.agents.get_mut(&agent) else {
            return;
        };
        a.missed_offers = a.missed_offers.saturating_add(1);
        let missed = a.missed_offers;
        let away = max > 0 && missed >= max && a.presence == Presence::Available;
        if away {
            a.missed_offers = 0;
        }
        self.journal.agent(&agent);
        self.note_offer(&agent, true, now);
        self.journal.events.push(Event::OfferTimedOut {
            ticket: id,
            agent: agent.clone(),
            tier,
            channel,
            missed,
            away,
        });
        if away {
            self.enter_presence(&agent, Presence::Away, Some(MISSED_OFFERS.into()), now);
        }
    }

    /// Ends the open offer of ticket `id`: the holder loses it (a new epoch) and it waits
    /// again where it waited before, with its queued-since instant and clocks unchanged.
    pub(super) fn withdraw(&mut self, id: TicketId, now: Ts) {
        let before = self.tickets[id].offer().map(|o| o.first_assigned_before);
        self.unassign(id, now);
        let t = self.tickets.edit(id);
        if let Some(before) = before {
            t.first_assigned_at = before;
        }
        t.hold = None;
        self.tickets.set_state(id, TicketState::Queued);
        self.settle(id, now);
    }

    /// The agent answered an offer: its misses in a row start again.
    fn answered(&mut self, agent: &AgentId) {
        if let Some(a) = self.agents.get_mut(agent).filter(|a| a.missed_offers > 0) {
            a.missed_offers = 0;
            self.journal.agent(agent);
        }
    }

    /// Ends the ticket's open offer without touching its holder: every revocation does this
    /// (`unassign`), whatever ends the lease. Rejections that had ended by the ticket's last
    /// change are dropped on the way (they no longer count).
    pub(super) fn end_offer(&mut self, id: TicketId) {
        let t = self.tickets.edit(id);
        if t.offer().is_some() {
            let at = t.updated_at;
            t.edit_offers(at, |o| o.pending = None);
        }
    }
}
