//! The one place where errors become gRPC statuses.

use crate::client::LEADER_METADATA;
use crate::core::parse::FieldError;
use crate::core::CoreError;
use crate::server::events::WatchError;
use crate::server::handle::ServiceError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// INVALID_ARGUMENT naming `field`, with a `google.rpc.BadRequest` detail for machines.
pub fn invalid(field: &str, reason: impl Into<String>) -> Status {
    let reason = reason.into();
    let message = format!("{field}: {reason}");
    Status::with_error_details(
        Code::InvalidArgument,
        message,
        ErrorDetails::with_bad_request_violation(field, reason),
    )
}

/// A follower's answer to every call: UNAVAILABLE, naming the leader's advertised address in
/// the message and in `triage-leader` metadata (left out when the address cannot be a
/// header value) so a client can go there at once.
pub fn not_leader(leader: &str) -> Status {
    let mut status = Status::unavailable(format!(
        "this node follows; the leader is {leader} (retry there)"
    ));
    if let Ok(value) = leader.parse() {
        status.metadata_mut().insert(LEADER_METADATA, value);
    }
    status
}

/// A value refused by a core parsing rule: INVALID_ARGUMENT naming its field.
impl From<FieldError> for Status {
    fn from(err: FieldError) -> Status {
        invalid(&err.field, err.reason)
    }
}

impl From<ServiceError> for Status {
    fn from(err: ServiceError) -> Status {
        match err {
            ServiceError::Core(core) => core_status(core),
            ServiceError::Overloaded | ServiceError::Limit(_) => {
                Status::resource_exhausted(err.to_string())
            }
            ServiceError::ShuttingDown | ServiceError::Store(_) | ServiceError::ReadOnly => {
                Status::unavailable(err.to_string())
            }
        }
    }
}

impl From<WatchError> for Status {
    fn from(err: WatchError) -> Status {
        match err {
            WatchError::Pruned { .. } => Status::failed_precondition(err.to_string()),
            WatchError::Store(_) | WatchError::ReadTask(_) => Status::unavailable(err.to_string()),
        }
    }
}

fn core_status(err: CoreError) -> Status {
    let message = err.to_string();
    match err {
        CoreError::TicketNotFound(_)
        | CoreError::AgentNotFound(_)
        | CoreError::WebhookNotFound(_) => Status::not_found(message),
        CoreError::ExternalIdTaken { .. } => Status::already_exists(message),
        CoreError::RequestIdReused(_) => {
            invalid("request_id", "was already used for a different request")
        }
        CoreError::InvalidPolicy(e) => invalid(&format!("policy.{}", e.field), e.reason),
        CoreError::PromiseNotInFuture => invalid("next_update_by", "must be in the future"),
        CoreError::PromiseTooFar { days } => {
            invalid("next_update_by", format!("must be within {days} days"))
        }
        CoreError::CreatedInFuture { skew } => invalid(
            "created_at",
            format!("must not be in the future (up to {skew} ahead of the daemon's clock counts as now)"),
        ),
        CoreError::CreatedTooLongAgo { max } => invalid(
            "created_at",
            format!("must be at most max_backdate ({max}) in the past"),
        ),
        CoreError::UnknownPresenceReason(_) => invalid(
            "reason",
            "must be one of the policy's presence_reasons, with AWAY or OFFLINE",
        ),
        CoreError::NoFollowUp(_) | CoreError::NoWrapUp(_) => Status::failed_precondition(message),
        CoreError::WrongState { .. }
        | CoreError::StaleLease { .. }
        | CoreError::AgentNotAvailable { .. }
        | CoreError::CannotTake { .. }
        | CoreError::NotOffered { .. }
        | CoreError::OfferOpen { .. }
        | CoreError::ReplayedLeaseGone { .. } => Status::failed_precondition(message),
    }
}
