//! Facts the scheduler reports: what telemetry counts and what `WatchEvents` streams. The
//! owner persists each one, numbered, in the same batch as the change it reports, so the stream
//! after a restart has no gap and no repeat. Events carry only bounded routing facts besides
//! ids; ids never become metric labels.

use super::types::{
    AgentId, AssignReason, CancelReason, Channel, Level, Party, SlaMetric, Span, TicketId, Tier,
};
use serde::{Deserialize, Serialize};

pub use super::types::RequeueReason;

/// One fact. New variants go at the end: the persisted form numbers variants by position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Created {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
    },
    Assigned {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
        waited: Span,
        reason: AssignReason,
    },
    /// A clock stopped by the action it measures; `within` says whether it met its target.
    ClockMet {
        ticket: TicketId,
        metric: SlaMetric,
        tier: Tier,
        channel: Channel,
        elapsed: Span,
        within: bool,
    },
    /// An escalation step of one clock fired: Warning, L1 (the breach), L2 or L3.
    Escalated {
        ticket: TicketId,
        metric: SlaMetric,
        tier: Tier,
        channel: Channel,
        level: Level,
    },
    Requeued {
        ticket: TicketId,
        reason: RequeueReason,
    },
    Resolved {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
    },
    Cancelled {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
        reason: CancelReason,
    },
    AgentExpired {
        agent: AgentId,
    },
    /// A message on the ticket: an agent's reply (with its author) or the customer's.
    Replied {
        ticket: TicketId,
        from: Party,
        agent: Option<AgentId>,
    },
    /// A clock stopped counting (resolution while PENDING on the customer).
    Paused {
        ticket: TicketId,
        metric: SlaMetric,
    },
    Resumed {
        ticket: TicketId,
        metric: SlaMetric,
    },
    /// The check-back after resolution is due now.
    FollowUpDue {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
    },
    /// A customer's tickets lost their customer and external ids (`EraseCustomer`); the event
    /// says how many, never whose.
    Erased {
        tickets: u64,
    },
    /// An agent's reply recorded on its behalf by the integration, without a lease: it met
    /// the clocks as a `Replied` from the holder would; the holder did not change.
    RepliedOnBehalf {
        ticket: TicketId,
        agent: AgentId,
    },
    /// A supervisor moved the ticket (`AssignTicket` from a holder, `TransferTicket`): `from`
    /// held it (`None`: it was queued), `to` holds it now under a new epoch (`None`: it went
    /// back to the queue under new routing). Clocks kept running. `note` is the supervisor's
    /// word to the next holder (bounded by the API).
    Transferred {
        ticket: TicketId,
        from: Option<AgentId>,
        to: Option<AgentId>,
        tier: Tier,
        channel: Channel,
        forced: bool,
        note: String,
    },
    /// A pull offered the ticket to `agent` (see `core::offer`): it holds an OFFERED lease
    /// until it accepts, rejects, or `until` passes.
    Offered {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
        until: super::types::Ts,
        reason: AssignReason,
    },
    /// The agent accepted the offer; an `Assigned` follows.
    OfferAccepted {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
    },
    /// The agent rejected the offer, saying why (bounded by the API); back in its place.
    OfferRejected {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
        reason: String,
    },
    /// Nobody answered the offer in time: back in its place. `missed` counts the agent's
    /// misses in a row; `away`: this one set the agent AWAY (reason `missed_offers`).
    OfferTimedOut {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
        missed: u32,
        away: bool,
    },
}

impl Event {
    /// The ticket the event is about, if any.
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            Event::Created { ticket, .. }
            | Event::Assigned { ticket, .. }
            | Event::ClockMet { ticket, .. }
            | Event::Escalated { ticket, .. }
            | Event::Requeued { ticket, .. }
            | Event::Resolved { ticket, .. }
            | Event::Cancelled { ticket, .. }
            | Event::Replied { ticket, .. }
            | Event::Paused { ticket, .. }
            | Event::Resumed { ticket, .. }
            | Event::FollowUpDue { ticket, .. }
            | Event::RepliedOnBehalf { ticket, .. }
            | Event::Transferred { ticket, .. }
            | Event::Offered { ticket, .. }
            | Event::OfferAccepted { ticket, .. }
            | Event::OfferRejected { ticket, .. }
            | Event::OfferTimedOut { ticket, .. } => Some(*ticket),
            Event::AgentExpired { .. } | Event::Erased { .. } => None,
        }
    }
}

/// An event as persisted and streamed: numbered from 1 without gaps, stamped with the instant
/// of the batch that produced it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub seq: u64,
    pub at: super::types::Ts,
    pub event: Event,
}
