//! Requests answering an offer (`AcceptTicket`, `RejectTicket`, and their Work-session forms)
//! into core commands (see `core::offer`).

use super::validate::{self, Checked};
use crate::core::command::Command;
use crate::core::parse;
use crate::core::types::{AgentId, TicketId};
use crate::proto as pb;

/// The longest reason for a rejection, in bytes: a word for the event, not a case history.
pub const MAX_REASON_BYTES: usize = 200;

pub fn accept(r: pb::AcceptTicketRequest) -> Checked<Command> {
    Ok(Command::Accept {
        ticket: TicketId::parse("ticket_id", r.ticket_id)?,
        lease: validate::lease(r.agent_id, r.lease_epoch)?,
    })
}

pub fn reject(r: pb::RejectTicketRequest) -> Checked<Command> {
    Ok(Command::Reject {
        ticket: TicketId::parse("ticket_id", r.ticket_id)?,
        lease: validate::lease(r.agent_id, r.lease_epoch)?,
        reason: reason("reason", r.reason)?,
    })
}

/// A session's accept, under the session's agent.
pub fn work_accept(agent: &AgentId, a: pb::WorkAccept) -> Checked<Command> {
    let held = (a.ticket_id, a.lease_epoch, a.request_id);
    let (ticket, lease, id) = validate::work_lease("accept", agent, held)?;
    Ok(Command::Accept { ticket, lease }.once(id))
}

/// A session's reject, under the session's agent.
pub fn work_reject(agent: &AgentId, r: pb::WorkReject) -> Checked<Command> {
    let held = (r.ticket_id, r.lease_epoch, r.request_id);
    let (ticket, lease, id) = validate::work_lease("reject", agent, held)?;
    let reason = reason("reject.reason", r.reason)?;
    Ok(Command::Reject {
        ticket,
        lease,
        reason,
    }
    .once(id))
}

fn reason(field: &str, value: String) -> Checked<String> {
    Ok(parse::text(field, value, MAX_REASON_BYTES, false)?)
}
