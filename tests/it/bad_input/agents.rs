//! Bad input for the AgentService: UpsertAgent, GetAgent, ListAgents, SetPresence, Heartbeat,
//! PullNextTicket, ReleaseTicket.

use super::build::*;
use super::wire::*;
use super::{Req, Row};
use crate::common::agent;
use tonic::Code;
use triage::proto as pb;

/// (what, request, expected code, field): see `Row`.
#[rustfmt::skip]
pub(super) fn rows() -> Vec<Row> {
    use Code::*;
    vec![
        // ---- basics: The first rows: one or two of each kind, per request type.
        ("agent with empty id", upsert(|r| r.agent_id.clear()), InvalidArgument, "agent_id"),
        ("agent id with a space", upsert(|r| r.agent_id = "a b".into()), InvalidArgument, "agent_id"),
        ("oversized agent id", upsert(|r| r.agent_id = long()), InvalidArgument, "agent_id"),
        ("capacity for an unknown channel", upsert(|r| { r.capacity.insert("fax".into(), 1); }), InvalidArgument, "capacity[fax]"),
        ("capacity over the limit", upsert(|r| { r.capacity.insert("chat".into(), 5000); }), InvalidArgument, "capacity[chat]"),
        ("agent tier unspecified", upsert(|r| r.tiers = vec![0]), InvalidArgument, "tiers[0]"),
        ("oversized display name", upsert(|r| r.display_name = "n".repeat(300)), InvalidArgument, "display_name"),
        ("agent with 33 skills", upsert(|r| r.skills = (0..33).map(|i| format!("s{i}")).collect()), InvalidArgument, "skills"),
        ("get agent with empty id", get_agent(""), InvalidArgument, "agent_id"),
        ("get an unknown agent", get_agent("ghost"), NotFound, ""),
        ("presence unspecified", presence_unspecified(), InvalidArgument, "presence"),
        ("presence for an unknown agent", Req::Presence(pb::SetPresenceRequest { agent_id: "ghost".into(), presence: 1, ..Default::default() }), NotFound, ""),
        ("heartbeat of an unknown agent", heartbeat("ghost"), NotFound, ""),
        ("pull by an unknown agent", Req::Pull(pb::PullNextTicketRequest { agent_id: "ghost".into(), wait: None, ..Default::default() }), NotFound, ""),
        ("pull by an offline agent", Req::Pull(pb::PullNextTicketRequest { agent_id: "bob".into(), wait: None, ..Default::default() }), FailedPrecondition, ""),
        ("pull with a negative wait", pull_wait(-1, 0), InvalidArgument, "wait"),
        ("pull with nanos out of range", pull_wait(0, 2_000_000_000), InvalidArgument, "wait"),
        ("release with a stale epoch", release_with_a_stale_epoch(), FailedPrecondition, ""),
        ("release a queued ticket", release_a_queued_ticket(), FailedPrecondition, ""),
        ("list agents with a huge page", Req::ListAgents(pb::ListAgentsRequest { page_size: 1001, ..Default::default() }), InvalidArgument, "page_size"),

        // ---- texts: Empty, oversized (limits count bytes, not characters), whitespace-only and
        // forbidden-character text: ids, names, skills.
        ("whitespace-only agent id", upsert(|r| r.agent_id = " ".into()), InvalidArgument, "agent_id"),
        ("NUL in agent id", upsert(|r| r.agent_id = "carl\0".into()), InvalidArgument, "agent_id"),
        ("non-ASCII agent id", upsert(|r| r.agent_id = "cárl".into()), InvalidArgument, "agent_id"),
        ("agent id with a path", upsert(|r| r.agent_id = "../carl".into()), InvalidArgument, "agent_id"),
        ("agent id with an emoji", upsert(|r| r.agent_id = "carl🙂".into()), InvalidArgument, "agent_id"),
        ("agent id with a wildcard", upsert(|r| r.agent_id = "*".into()), InvalidArgument, "agent_id"),
        ("display name of 258 bytes in 129 characters", upsert(|r| r.display_name = "é".repeat(129)), InvalidArgument, "display_name"),
        ("NUL in display name", upsert(|r| r.display_name = "Carl\0".into()), InvalidArgument, "display_name"),
        ("newline in display name", upsert(|r| r.display_name = "Carl\nadmin".into()), InvalidArgument, "display_name"),
        ("empty agent skill", upsert(|r| r.skills = vec![String::new()]), InvalidArgument, "skills[0]"),
        ("agent skill with a space", upsert(|r| r.skills = vec!["en".into(), "de at".into()]), InvalidArgument, "skills[1]"),
        ("oversized agent skill", upsert(|r| r.skills = vec!["s".repeat(65)]), InvalidArgument, "skills[0]"),
        ("agent skill level 11", upsert(|r| r.skills = vec!["en".into(), "billing:11".into()]), InvalidArgument, "skills[1]"),
        ("agent skill level 0", upsert(|r| r.skills = vec!["billing:0".into()]), InvalidArgument, "skills[0]"),
        ("agent skill level of 300", upsert(|r| r.skills = vec!["billing:300".into()]), InvalidArgument, "skills[0]"),
        ("agent skill with a minimum", upsert(|r| r.skills = vec!["billing>=5".into()]), InvalidArgument, "skills[0]"),
        ("capacity for a nameless channel", upsert(|r| { r.capacity.insert(String::new(), 1); }), InvalidArgument, "capacity[]"),
        ("capacity of u32::MAX", upsert(|r| { r.capacity.insert("chat".into(), u32::MAX); }), InvalidArgument, "capacity[chat]"),
        ("capacity one over the limit", upsert(|r| { r.capacity.insert("email".into(), 1001); }), InvalidArgument, "capacity[email]"),
        ("get agent with an oversized id", get_agent(long()), InvalidArgument, "agent_id"),
        ("get agent with a space", get_agent("a b"), InvalidArgument, "agent_id"),
        ("heartbeat without an agent id", heartbeat(""), InvalidArgument, "agent_id"),
        ("heartbeat with a slash", heartbeat("a/b"), InvalidArgument, "agent_id"),
        ("presence without an agent id", presence("", 1), InvalidArgument, "agent_id"),
        ("pull without an agent id", pull(""), InvalidArgument, "agent_id"),
        ("pull with an oversized agent id", pull(long()), InvalidArgument, "agent_id"),

        // ---- enums: Unknown values, negative and extreme, for every enum field of every request.
        ("agent tier unknown", upsert(|r| r.tiers = vec![99]), InvalidArgument, "tiers[0]"),
        ("agent tier negative after a good one", upsert(|r| r.tiers = vec![1, -1]), InvalidArgument, "tiers[1]"),
        ("agent tier one past the last", upsert(|r| r.tiers = vec![3, 2, 1, 4]), InvalidArgument, "tiers[3]"),
        ("list agents of an unknown presence", list_agents(|r| r.presence = 42), InvalidArgument, "presence"),
        ("list agents of a negative presence", list_agents(|r| r.presence = -1), InvalidArgument, "presence"),
        ("presence 42", presence("ana", 42), InvalidArgument, "presence"),
        ("negative presence", presence("ana", -1), InvalidArgument, "presence"),
        ("presence i32::MAX for an unknown agent", presence("ghost", i32::MAX), InvalidArgument, "presence"),

        // ---- raw bytes: Bytes prost types cannot build: invalid UTF-8 in every kind of string
        // field (tonic refuses the message while decoding it, before any handler runs: INTERNAL, as
        // gRPC's status-code guide says for a message that does not parse), malformed wire format,
        // unknown fields and methods.
        ("invalid UTF-8 in get agent", raw(GET_AGENT, len_field(1, STRAY)), Internal, "GetAgentRequest.agent_id"),
        ("invalid UTF-8 in heartbeat", raw(HEARTBEAT, ana(1, STRAY)), Internal, "HeartbeatRequest.agent_id"),
        ("invalid UTF-8 in presence", invalid_utf_8_in_presence(), Internal, "SetPresenceRequest.agent_id"),
        ("invalid UTF-8 in pull", raw(PULL, ana(1, OVERLONG)), Internal, "PullNextTicketRequest.agent_id"),
        ("invalid UTF-8 in release", invalid_utf_8_in_release(), Internal, "ReleaseTicketRequest.agent_id"),
        ("invalid UTF-8 in an agent id", raw(UPSERT, then_field(&agent("carl", &[], &[], &[]), 1, STRAY)), Internal, "UpsertAgentRequest.agent_id"),
        ("invalid UTF-8 in a display name", raw(UPSERT, then_field(&agent("carl", &[], &[], &[]), 2, OVERLONG)), Internal, "UpsertAgentRequest.display_name"),
        ("invalid UTF-8 in an agent skill", raw(UPSERT, then_field(&agent("carl", &[], &[], &[]), 3, SURROGATE)), Internal, "UpsertAgentRequest.skills"),
        ("invalid UTF-8 in a capacity key", invalid_utf_8_in_a_capacity_key(), Internal, "UpsertAgentRequest.capacity"),
        ("invalid UTF-8 in an agent page token", raw(LIST_AGENTS, len_field(3, STRAY)), Internal, "ListAgentsRequest.page_token"),

        // ---- huge: Huge repeated fields, and messages over the 4 MiB limit (OUT_OF_RANGE from
        // tonic, before the handler).
        ("10,000 skills of 500 bytes", upsert(|r| r.skills = (0..10_000).map(|i| format!("{i:0>500}")).collect()), OutOfRange, ""),
        ("10,000 skills on an agent", upsert(|r| r.skills = numbered("s", 10_000)), InvalidArgument, "skills"),
        ("10,000 capacity entries", upsert(|r| r.capacity = (0..10_000).map(|i| (format!("ch{i}"), 1)).collect()), InvalidArgument, "capacity[ch*]"),

        // ---- times: Durations and timestamps: negative, nanos out of range, overflowing, past,
        // too far.
        ("pull waiting i64::MAX seconds", pull_wait(i64::MAX, 0), InvalidArgument, "wait"),
        ("pull waiting i64::MIN seconds", pull_wait(i64::MIN, 0), InvalidArgument, "wait"),
        ("pull waiting negative nanos", pull_wait(0, -1), InvalidArgument, "wait"),
        ("pull waiting -1 s plus nanos", pull_wait(-1, 999_999_999), InvalidArgument, "wait"),
        ("pull waiting exactly 1e9 nanos", pull_wait(5, 1_000_000_000), InvalidArgument, "wait"),
        ("pull with a bad wait by an unknown agent", pull_with_a_bad_wait_by_an_unknown_agent(), InvalidArgument, "wait"),

        // ---- leases: Leases (stale, epoch 0, another agent's, unknown agents), wrong states,
        // unknown tickets.
        ("release by an agent not holding the ticket", release(ASSIGNED, "bob", 1), FailedPrecondition, ""),
        ("release by an unknown agent", release(ASSIGNED, "ghost", 1), NotFound, ""),
        ("release with epoch 0", release(ASSIGNED, "ana", 0), InvalidArgument, "lease_epoch"),
        ("release without an agent", release(ASSIGNED, "", 1), InvalidArgument, "agent_id"),
        ("release ticket 0", release(0, "ana", 1), InvalidArgument, "ticket_id"),
        ("release ticket u64::MAX", release(u64::MAX, "ana", 1), NotFound, ""),
        ("release a resolved ticket", release(RESOLVED, "ana", 1), FailedPrecondition, ""),
        ("presence of an unknown agent", presence("ghost", 2), NotFound, ""),
        ("heartbeat of an agent id that was never upserted", heartbeat("carl"), NotFound, ""),
        ("pull by an agent id that was never upserted", pull("carl"), NotFound, ""),

        // ---- offers: AcceptTicket and RejectTicket (the setup assigns without offers).
        ("accept a ticket that was not offered", accept(ASSIGNED, "ana", 1), FailedPrecondition, "no open offer"),
        ("accept by an agent not holding the ticket", accept(ASSIGNED, "bob", 1), FailedPrecondition, ""),
        ("accept by an unknown agent", accept(ASSIGNED, "ghost", 1), NotFound, ""),
        ("accept a queued ticket", accept(QUEUED, "ana", 1), FailedPrecondition, ""),
        ("accept a resolved ticket", accept(RESOLVED, "ana", 1), FailedPrecondition, ""),
        ("accept with epoch 0", accept(ASSIGNED, "ana", 0), InvalidArgument, "lease_epoch"),
        ("accept without an agent", accept(ASSIGNED, "", 1), InvalidArgument, "agent_id"),
        ("accept ticket 0", accept(0, "ana", 1), InvalidArgument, "ticket_id"),
        ("accept ticket u64::MAX", accept(u64::MAX, "ana", 1), NotFound, ""),
        ("reject a ticket that was not offered", reject(ASSIGNED, "ana", 1, "busy"), FailedPrecondition, "no open offer"),
        ("reject by an unknown agent", reject(ASSIGNED, "ghost", 1, ""), NotFound, ""),
        ("reject with a stale epoch", reject(ASSIGNED, "ana", 7, ""), FailedPrecondition, ""),
        ("reject with a 201-byte reason", reject(ASSIGNED, "ana", 1, &"r".repeat(201)), InvalidArgument, "reason"),
        ("reject with a newline in the reason", reject(ASSIGNED, "ana", 1, "busy\nnow"), InvalidArgument, "reason"),
        ("reject ticket 0", reject(0, "ana", 1, ""), InvalidArgument, "ticket_id"),
        ("reject without an agent", reject(ASSIGNED, "", 1, ""), InvalidArgument, "agent_id"),
        ("reject with epoch 0", reject(ASSIGNED, "ana", 0, ""), InvalidArgument, "lease_epoch"),
        reused("resolve's request_id on an accept", accept(ASSIGNED, "ana", 1)),
        reused("resolve's request_id on a reject", reject(ASSIGNED, "ana", 1, "")),

        // ---- request ids: Request ids on every mutating call: one used before (by the setup's
        // resolve or the queued ticket's create) with another body, on any call, is refused naming
        // request_id, even where the call itself would have been fine; malformed ids are refused
        // like any field.
        reused("resolve's request_id on a release", release(ASSIGNED, "ana", 1)),
        reused("resolve's request_id on a pull", pull("ana")),
        reused("resolve's request_id on presence", presence("ana", 2)),
        reused("resolve's request_id on an upsert", upsert(|_| ())),
        ("blank request_id on a pull", keyed(pull("ana"), "   "), InvalidArgument, "request_id"),
        ("bidi override in a release's request_id", keyed(release(ASSIGNED, "ana", 1), "rel\u{202E}1"), InvalidArgument, "request_id"),
        ("zero-width space in a presence request_id", keyed(presence("ana", 2), "p\u{200B}"), InvalidArgument, "request_id"),
        ("129-byte request_id on an upsert", keyed(upsert(|_| ()), &"u".repeat(129)), InvalidArgument, "request_id"),

        // ---- pages: Page tokens that are not ours, page sizes past the limit; page size 0 and a
        // token past the end are fine (controls).
        ("agent page token with a space", agent_token("a b"), InvalidArgument, "page_token"),
        ("oversized agent page token", agent_token(&"a".repeat(129)), InvalidArgument, "page_token"),
        ("agent page token with a NUL", agent_token("ana\0"), InvalidArgument, "page_token"),
        ("agent page size u32::MAX", list_agents(|r| r.page_size = u32::MAX), InvalidArgument, "page_size"),
        ("control: agent page size 0 means the default", list_agents(|r| r.page_size = 0), Ok, ""),
    ]
}

/// Ana's heartbeat, encoded, then string field `tag` once more holding `bytes`.
fn ana(tag: u32, bytes: &[u8]) -> Vec<u8> {
    then_field(
        &pb::HeartbeatRequest {
            agent_id: "ana".into(),
        },
        tag,
        bytes,
    )
}

/// An agent list from page token `t`.
fn agent_token(t: &str) -> Req {
    let t = t.to_string();
    list_agents(move |r| r.page_token = t)
}

/// The request of the row "presence unspecified".
fn presence_unspecified() -> Req {
    Req::Presence(pb::SetPresenceRequest {
        agent_id: "ana".into(),
        presence: 0,
        ..Default::default()
    })
}

/// The request of the row "release with a stale epoch".
fn release_with_a_stale_epoch() -> Req {
    Req::Release(pb::ReleaseTicketRequest {
        ticket_id: ASSIGNED,
        agent_id: "ana".into(),
        lease_epoch: 2,
        ..Default::default()
    })
}

/// The request of the row "release a queued ticket".
fn release_a_queued_ticket() -> Req {
    Req::Release(pb::ReleaseTicketRequest {
        ticket_id: QUEUED,
        agent_id: "ana".into(),
        lease_epoch: 1,
        ..Default::default()
    })
}

/// The request of the row "invalid UTF-8 in presence".
fn invalid_utf_8_in_presence() -> Req {
    raw(
        PRESENCE,
        then_field(
            &pb::SetPresenceRequest {
                agent_id: "ana".into(),
                presence: 2,
                ..Default::default()
            },
            1,
            SURROGATE,
        ),
    )
}

/// The request of the row "invalid UTF-8 in release".
fn invalid_utf_8_in_release() -> Req {
    raw(
        RELEASE,
        then_field(
            &pb::ReleaseTicketRequest {
                ticket_id: ASSIGNED,
                agent_id: "ana".into(),
                lease_epoch: 1,
                ..Default::default()
            },
            2,
            STRAY,
        ),
    )
}

/// The request of the row "invalid UTF-8 in a capacity key".
fn invalid_utf_8_in_a_capacity_key() -> Req {
    raw(
        UPSERT,
        then_field(
            &agent("carl", &[], &[], &[]),
            5,
            &[len_field(1, STRAY), varint_field(2, 1)].concat(),
        ),
    )
}

/// The request of the row "pull with a bad wait by an unknown agent".
fn pull_with_a_bad_wait_by_an_unknown_agent() -> Req {
    Req::Pull(pb::PullNextTicketRequest {
        agent_id: "ghost".into(),
        wait: dur(0, i32::MIN),
        ..Default::default()
    })
}
