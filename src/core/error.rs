//! Why the core refused a command. A refused command changed nothing. The mapping to gRPC
//! status lives in one place: `api::status`.

use super::lease::Epoch;
use super::policy::PolicyError;
use super::types::{AgentId, Presence, Span, TicketId, TicketState};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    #[error("ticket {0} not found")]
    TicketNotFound(TicketId),
    #[error("agent \"{0}\" not found")]
    AgentNotFound(AgentId),
    #[error("webhook {0:?} not found")]
    WebhookNotFound(String),
    #[error("external_id {external_id:?} is already used by ticket {ticket}")]
    ExternalIdTaken {
        external_id: String,
        ticket: TicketId,
    },
    #[error("request_id {0:?} was already used for a different request")]
    RequestIdReused(String),
    #[error("the request_id made the assignment of ticket {ticket} at lease epoch {epoch}, which is no longer held (released, expired or finished); pull again with a new request_id")]
    ReplayedLeaseGone { ticket: TicketId, epoch: Epoch },
    #[error("ticket {ticket} is {state}; {action} needs it {needs}")]
    WrongState {
        ticket: TicketId,
        state: TicketState,
        action: &'static str,
        needs: &'static str,
    },
    #[error("ticket {ticket} is not held by agent \"{agent}\" at lease epoch {epoch} (stale or foreign lease)")]
    StaleLease {
        ticket: TicketId,
        agent: AgentId,
        epoch: Epoch,
    },
    #[error("agent \"{agent}\" is {presence}, not available")]
    AgentNotAvailable { agent: AgentId, presence: Presence },
    #[error("next_update_by must be in the future (the promise of an update)")]
    PromiseNotInFuture,
    #[error("next_update_by must be within {days} days (the promise of an update)")]
    PromiseTooFar { days: u64 },
    #[error(
        "created_at is in the future (up to {skew} ahead of the daemon's clock counts as now)"
    )]
    CreatedInFuture { skew: Span },
    #[error("created_at is more than max_backdate ({max}) in the past")]
    CreatedTooLongAgo { max: Span },
    #[error("agent \"{agent}\" cannot take ticket {ticket}: the agent {why} (a supervisor may force it, except to an offline agent or the holder)")]
    CannotTake {
        ticket: TicketId,
        agent: AgentId,
        why: String,
    },
    #[error(
        "ticket {ticket} has no open offer (it was accepted already, or assigned without one)"
    )]
    NotOffered { ticket: TicketId },
    #[error(
        "ticket {ticket} is offered to agent \"{agent}\", who must accept it first (AcceptTicket)"
    )]
    OfferOpen { ticket: TicketId, agent: AgentId },
    #[error("ticket {0} has no follow-up waiting")]
    NoFollowUp(TicketId),
    #[error(
        "reason {0:?} is not one of the policy's presence_reasons, or was given with AVAILABLE"
    )]
    UnknownPresenceReason(String),
    #[error("agent \"{0}\" has no slot in wrap-up")]
    NoWrapUp(AgentId),
    #[error("invalid policy: {0}")]
    InvalidPolicy(#[from] PolicyError),
}
