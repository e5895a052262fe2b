//! Bad input for a supervisor's moves: AssignTicket, TransferTicket, and UpdateTicket's
//! preferred_agent_id. The setup: ana AVAILABLE and full (chat 1, holding ASSIGNED), bob
//! OFFLINE, QUEUED a chat needing `en`, RESOLVED resolved.

use super::build::*;
use super::{Req, Row};
use pb::transfer_ticket_request::To;
use tonic::Code;
use triage::proto as pb;

fn assign(ticket_id: u64, agent_id: &str, force: bool) -> Req {
    Req::Assign(pb::AssignTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        force,
        ..Default::default()
    })
}

fn transfer(ticket_id: u64, to: Option<To>, f: impl FnOnce(&mut pb::TransferTicketRequest)) -> Req {
    let mut r = pb::TransferTicketRequest {
        ticket_id,
        to,
        ..Default::default()
    };
    f(&mut r);
    Req::Transfer(r)
}

fn to_agent(agent_id: &str) -> Option<To> {
    Some(To::AgentId(agent_id.into()))
}

fn to_queue(skills: Option<&[&str]>, tier: Option<i32>) -> Option<To> {
    let required_skills = skills.map(|s| pb::SkillList {
        skills: s.iter().map(|s| s.to_string()).collect(),
    });
    Some(To::Queue(pb::TransferQueue {
        required_skills,
        tier,
    }))
}

fn keep(_: &mut pb::TransferTicketRequest) {}

/// (what, request, expected code, field): see `Row`.
#[rustfmt::skip]
pub(super) fn rows() -> Vec<Row> {
    use Code::*;
    vec![
        ("assign ticket 0", assign(0, "ana", false), InvalidArgument, "ticket_id"),
        ("assign without agent_id", assign(QUEUED, "", false), InvalidArgument, "agent_id"),
        ("assign to an agent id with a space", assign(QUEUED, "a b", false), InvalidArgument, "agent_id"),
        ("assign to an unknown agent", assign(QUEUED, "ghost", true), NotFound, ""),
        ("assign ticket u64::MAX", assign(u64::MAX, "ana", true), NotFound, ""),
        ("assign a resolved ticket", assign(RESOLVED, "ana", true), FailedPrecondition, "resolved"),
        ("assign to an offline agent, forced", assign(QUEUED, "bob", true), FailedPrecondition, "is offline"),
        ("assign to the holder", assign(ASSIGNED, "ana", true), FailedPrecondition, "already holds it"),
        ("assign to a full agent", assign(QUEUED, "ana", false), FailedPrecondition, "is full on chat (1 of 1)"),
        ("transfer ticket 0", transfer(0, to_agent("ana"), keep), InvalidArgument, "ticket_id"),
        ("transfer to nowhere", transfer(ASSIGNED, None, keep), InvalidArgument, "agent_id"),
        ("transfer to an empty agent_id", transfer(ASSIGNED, to_agent(""), keep), InvalidArgument, "agent_id"),
        ("transfer to a queue of nothing", transfer(ASSIGNED, to_queue(None, None), keep), InvalidArgument, "queue"),
        ("transfer to a queue, forced", transfer(ASSIGNED, to_queue(Some(&["en"]), None), |r| r.force = true), InvalidArgument, "force"),
        ("transfer to a queue with a bad skill", transfer(ASSIGNED, to_queue(Some(&["a b"]), None), keep), InvalidArgument, "queue.required_skills.skills[0]"),
        ("transfer to a queue with 33 skills", transfer(ASSIGNED, to_queue(Some(&[""; 33]), None), keep), InvalidArgument, "queue.required_skills.skills"),
        ("transfer to an unknown tier", transfer(ASSIGNED, to_queue(None, Some(99)), keep), InvalidArgument, "queue.tier"),
        ("transfer to tier unspecified", transfer(ASSIGNED, to_queue(None, Some(0)), keep), InvalidArgument, "queue.tier"),
        ("transfer note with a control character", transfer(QUEUED, to_agent("ana"), |r| r.note = "a\u{7}b".into()), InvalidArgument, "note"),
        ("transfer note over 500 bytes", transfer(QUEUED, to_agent("ana"), |r| r.note = "n".repeat(501)), InvalidArgument, "note"),
        ("transfer to an offline agent", transfer(ASSIGNED, to_agent("bob"), |r| r.force = true), FailedPrecondition, "is offline"),
        ("transfer to an unknown agent", transfer(ASSIGNED, to_agent("ghost"), keep), NotFound, ""),
        ("transfer a resolved ticket to a queue", transfer(RESOLVED, to_queue(Some(&["en"]), None), keep), FailedPrecondition, "resolved"),
        ("transfer ticket u64::MAX to a queue", transfer(u64::MAX, to_queue(Some(&["en"]), None), keep), NotFound, ""),
        ("update preferred_agent_id with a space", Req::Update(pb::UpdateTicketRequest { ticket_id: QUEUED, preferred_agent_id: Some("a b".into()), ..Default::default() }), InvalidArgument, "preferred_agent_id"),
        ("update preferred_agent_id of a resolved ticket", Req::Update(pb::UpdateTicketRequest { ticket_id: RESOLVED, preferred_agent_id: Some(String::new()), ..Default::default() }), FailedPrecondition, ""),
    ]
}
