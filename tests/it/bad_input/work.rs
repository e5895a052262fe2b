//! Bad input for AgentService.Work: protocol errors in a `Work` session.

use super::build::*;
use super::{Req, Row};
use tonic::Code;
use triage::proto as pb;

/// (what, request, expected code, field): see `Row`.
#[rustfmt::skip]
pub(super) fn rows() -> Vec<Row> {
    use Code::*;
    vec![
        // ---- work sessions: `Work` sessions: protocol errors end the session naming the field; a
        // refused done or release is answered with its code.
        ("work session that does not start", work(vec![ready(1)]), InvalidArgument, "start"),
        ("work session closed before any message", Req::Work { messages: vec![], close: true }, InvalidArgument, "start"),
        ("work start without an agent", work(vec![start("", 0)]), InvalidArgument, "start.agent_id"),
        ("work start with a space in the agent", work(vec![start("a b", 0)]), InvalidArgument, "start.agent_id"),
        ("work start with credit over the limit", work(vec![start("ana", 1001)]), InvalidArgument, "start.ready"),
        ("work credit over the limit", work(vec![start("ana", 0), ready(1001)]), InvalidArgument, "ready.tickets"),
        ("work credit of u32::MAX", work(vec![start("ana", 0), ready(u32::MAX)]), InvalidArgument, "ready.tickets"),
        ("a second work start", work(vec![start("ana", 0), start("ana", 0)]), InvalidArgument, "start"),
        ("work message with no kind", work_message_with_no_kind(), InvalidArgument, "kind"),
        ("work session of an offline agent", work(vec![start("bob", 1)]), FailedPrecondition, ""),
        ("work session of an unknown agent", work(vec![start("ghost", 1)]), NotFound, ""),
        ("work done with a stale epoch", work(vec![start("ana", 0), done(ASSIGNED, 7)]), FailedPrecondition, ""),
        ("work done on an unknown ticket", work(vec![start("ana", 0), done(9999, 1)]), NotFound, ""),
        ("work release of a queued ticket", work(vec![start("ana", 0), work_release(QUEUED, 1)]), FailedPrecondition, ""),
        ("work accept of a ticket not offered", work(vec![start("ana", 0), work_accept(ASSIGNED, 1)]), FailedPrecondition, "no open offer"),
        ("work reject of a queued ticket", work(vec![start("ana", 0), work_reject(QUEUED, 1, "")]), FailedPrecondition, ""),
    ]
}

/// The request of the row "work message with no kind".
fn work_message_with_no_kind() -> Req {
    Req::Work {
        messages: vec![
            pb::WorkRequest {
                tag: 0,
                kind: Some(start("ana", 0)),
            },
            pb::WorkRequest { tag: 1, kind: None },
        ],
        close: false,
    }
}
