//! Requests of a supervisor's moves (`AssignTicket`, `TransferTicket`) into core commands.

use super::convert::decode::tier;
use super::status::invalid;
use super::validate::{agent_id, Checked};
use crate::core::command::{Command, TransferTo};
use crate::core::parse;
use crate::core::types::{SkillSet, TicketId};
use crate::proto as pb;

/// The longest transfer note, in bytes: a line for the next holder, not a case history.
pub const MAX_NOTE_BYTES: usize = 500;

pub fn assign(r: pb::AssignTicketRequest) -> Checked<Command> {
    Ok(Command::Assign {
        ticket: TicketId::parse("ticket_id", r.ticket_id)?,
        agent: agent_id("agent_id", r.agent_id)?,
        force: r.force,
    })
}

pub fn transfer(r: pb::TransferTicketRequest) -> Checked<Command> {
    use pb::transfer_ticket_request::To;
    let ticket = TicketId::parse("ticket_id", r.ticket_id)?;
    let to = match r.to {
        Some(To::AgentId(agent)) => TransferTo::Agent {
            agent: agent_id("agent_id", agent)?,
            force: r.force,
        },
        Some(To::Queue(_)) if r.force => {
            return Err(invalid("force", "applies only to a transfer to an agent"));
        }
        Some(To::Queue(queue)) => to_queue(queue)?,
        None => return Err(invalid("agent_id", "a transfer needs agent_id or queue")),
    };
    let note = parse::text("note", r.note, MAX_NOTE_BYTES, false)?;
    Ok(Command::Transfer { ticket, to, note })
}

fn to_queue(q: pb::TransferQueue) -> Checked<TransferTo> {
    let skills = q
        .required_skills
        .map(|s| SkillSet::parse_listed("queue.required_skills.skills", s.skills))
        .transpose()?;
    let tier = q
        .tier
        .map(|t| super::validate::required_enum("queue.tier", t, tier))
        .transpose()?;
    if skills.is_none() && tier.is_none() {
        return Err(invalid(
            "queue",
            "needs required_skills, tier or both (where the ticket goes)",
        ));
    }
    Ok(TransferTo::Queue { skills, tier })
}
