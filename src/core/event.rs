//! Facts the scheduler reports: what telemetry counts and what `WatchEvents` streams. The
//! owner persists each one, numbered, in the same batch as the change it reports, so the stream
//! after a restart has no gap and no repeat. Events carry only bounded routing facts besides
//! ids; ids never become metric labels.

use super::types::{
    AgentId, AssignReason, CancelReason, Channel, Level, Party, Presence, SlaMetric, Span,
    TicketId, Tier,
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
    /// An agent's presence changed (by `SetPresence` or its expiry), with the reason given.
    PresenceChanged {
        agent: AgentId,
        presence: Presence,
        reason: Option<String>,
    },
    /// An agent's slots in wrap-up freed: at their end, or `early` by `EndWrapUp`.
    WrapUpEnded {
        agent: AgentId,
        early: bool,
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
            | Event::Transferred { ticket, .. } => Some(*ticket),
            Event::AgentExpired { .. }
            | Event::Erased { .. }
            | Event::PresenceChanged { .. }
            | Event::WrapUpEnded { .. } => None,
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
