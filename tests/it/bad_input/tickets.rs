//! Bad input for the TicketService: CreateTicket(s), GetTicket, ExplainTicket, ListTickets, RecordReply,
//! RecordFollowUp, SetPending, ResolveTicket, ReopenTicket, CancelTicket, UpdateTicket.

use super::build::*;
use super::wire::*;
use super::{Req, Row};
use crate::common::{self, create};
use pb::{Channel, Tier};
use prost::Message;
use prost_types::Timestamp;
use tonic::Code;
use triage::proto as pb;

/// (what, request, expected code, field): see `Row`.
#[rustfmt::skip]
pub(super) fn rows() -> Vec<Row> {
    use Code::*;
    vec![
        // ---- basics: The first rows: one or two of each kind, per request type.
        ("empty external_id", with(|r| r.external_id.clear()), InvalidArgument, "external_id"),
        ("oversized external_id", with(|r| r.external_id = long()), InvalidArgument, "external_id"),
        ("control character in external_id", with(|r| r.external_id = "a\u{7}b".into()), InvalidArgument, "external_id"),
        ("empty customer_id", with(|r| r.customer_id.clear()), InvalidArgument, "customer_id"),
        ("oversized customer_id", with(|r| r.customer_id = long()), InvalidArgument, "customer_id"),
        ("tier unspecified", with(|r| r.tier = 0), InvalidArgument, "tier"),
        ("unknown tier", with(|r| r.tier = 99), InvalidArgument, "tier"),
        ("channel unspecified", with(|r| r.channel = 0), InvalidArgument, "channel"),
        ("unknown channel", with(|r| r.channel = 42), InvalidArgument, "channel"),
        ("unknown priority", with(|r| r.priority = 17), InvalidArgument, "priority"),
        ("negative sentiment enum", with(|r| r.sentiment = -1), InvalidArgument, "sentiment"),
        ("33 skills", with(|r| r.required_skills = (0..33).map(|i| format!("s{i}")).collect()), InvalidArgument, "required_skills"),
        ("empty skill", with(|r| r.required_skills = vec![String::new()]), InvalidArgument, "required_skills[0]"),
        ("skill with a space", with(|r| r.required_skills = vec!["en".into(), "bad skill".into()]), InvalidArgument, "required_skills[1]"),
        ("oversized skill", with(|r| r.required_skills = vec!["s".repeat(65)]), InvalidArgument, "required_skills[0]"),
        ("minimum level 11", with(|r| r.required_skills = vec!["en".into(), "x>=11".into()]), InvalidArgument, "required_skills[1]"),
        ("minimum level 0", with(|r| r.required_skills = vec!["x>=0".into()]), InvalidArgument, "required_skills[0]"),
        ("minimum level that is not a number", with(|r| r.required_skills = vec!["x>=high".into()]), InvalidArgument, "required_skills[0]"),
        ("minimum without a skill", with(|r| r.required_skills = vec![">=5".into()]), InvalidArgument, "required_skills[0]"),
        ("agent level syntax in a required skill", with(|r| r.required_skills = vec!["billing:x7".into(), "a b".into()]), InvalidArgument, "required_skills[1]"),
        ("optional skill with a space", with(|r| r.optional_skills = vec!["en".into(), "bad skill".into()]), InvalidArgument, "optional_skills[1]"),
        ("optional skill with a minimum", with(|r| r.optional_skills = vec!["billing>=5".into()]), InvalidArgument, "optional_skills[0]"),
        ("33 optional skills", with(|r| r.optional_skills = (0..33).map(|i| format!("s{i}")).collect()), InvalidArgument, "optional_skills"),
        ("preferred agent with a slash", with(|r| r.preferred_agent_id = "a/b".into()), InvalidArgument, "preferred_agent_id"),
        ("oversized request_id", with(|r| r.request_id = "r".repeat(200)), InvalidArgument, "request_id"),
        ("duplicate external_id", with(|r| r.external_id = "dup".into()), AlreadyExists, ""),
        ("request_id replayed with another body", with(|r| { r.request_id = "req-x".into(); r.external_id = "other".into() }), InvalidArgument, "request_id"),
        ("ticket_id 0", Req::Get(0), InvalidArgument, "ticket_id"),
        ("unknown ticket", Req::Get(9999), NotFound, ""),
        ("explain ticket_id 0", Req::Explain(0), InvalidArgument, "ticket_id"),
        ("explain an unknown ticket", Req::Explain(9999), NotFound, ""),
        ("explain ticket u64::MAX", Req::Explain(u64::MAX), NotFound, ""),
        ("control: explain a queued ticket (a read: changes nothing)", Req::Explain(QUEUED), Ok, ""),
        ("control: explain an assigned ticket (a read)", Req::Explain(ASSIGNED), Ok, ""),
        ("control: explain a resolved ticket (read back from the archive)", Req::Explain(RESOLVED), Ok, ""),
        ("explain ticket_id sent as a string", raw(EXPLAIN, len_field(1, b"1")), Internal, "ExplainTicketRequest.ticket_id"),
        ("reply author unspecified", Req::Reply(pb::RecordReplyRequest { ticket_id: ASSIGNED, ..Default::default() }), InvalidArgument, "author"),
        ("reply author unknown", Req::Reply(pb::RecordReplyRequest { ticket_id: ASSIGNED, author: 7, ..Default::default() }), InvalidArgument, "author"),
        ("agent reply without agent_id", reply(ASSIGNED, "", 1), InvalidArgument, "agent_id"),
        ("agent reply without epoch", reply(ASSIGNED, "ana", 0), InvalidArgument, "lease_epoch"),
        ("agent reply with a stale epoch", reply(ASSIGNED, "ana", 7), FailedPrecondition, ""),
        ("reply by an agent not holding the ticket", reply(ASSIGNED, "bob", 1), FailedPrecondition, ""),
        ("reply by an unknown agent", reply(ASSIGNED, "ghost", 1), NotFound, ""),
        ("reply to a ticket of 0", reply(0, "ana", 1), InvalidArgument, "ticket_id"),
        ("reply on behalf with a lease epoch", on_behalf(ASSIGNED, "bob", 1), InvalidArgument, "lease_epoch"),
        ("reply on behalf without agent_id", on_behalf(ASSIGNED, "", 0), InvalidArgument, "agent_id"),
        ("customer reply on behalf", Req::Reply(pb::RecordReplyRequest { ticket_id: ASSIGNED, author: pb::Author::Customer as i32, on_behalf: true, ..Default::default() }), InvalidArgument, "on_behalf"),
        ("reply on behalf by an unknown agent", on_behalf(ASSIGNED, "ghost", 0), NotFound, ""),
        ("reply on behalf on a resolved ticket", on_behalf(RESOLVED, "bob", 0), FailedPrecondition, ""),
        ("reply on behalf to ticket u64::MAX", on_behalf(u64::MAX, "bob", 0), NotFound, ""),
        ("reply on behalf to a ticket of 0", on_behalf(0, "bob", 0), InvalidArgument, "ticket_id"),
        ("customer message on a resolved ticket", customer_message_on_a_resolved_ticket(), FailedPrecondition, ""),
        ("pending on a ticket not held", pending_on_a_ticket_not_held(), FailedPrecondition, ""),
        ("pending without epoch", pending_without_epoch(), InvalidArgument, "lease_epoch"),
        ("resolve a resolved ticket", Req::Resolve(pb::ResolveTicketRequest { ticket_id: RESOLVED, ..Default::default() }), FailedPrecondition, ""),
        ("resolve with agent but no epoch", resolve_with_agent_but_no_epoch(), InvalidArgument, "lease_epoch"),
        ("resolve with epoch but no agent", resolve_with_epoch_but_no_agent(), InvalidArgument, "agent_id"),
        ("reopen a queued ticket", Req::Reopen(QUEUED), FailedPrecondition, ""),
        ("reopen an unknown ticket", Req::Reopen(12345), NotFound, ""),
        ("cancel an unknown ticket", Req::Cancel(pb::CancelTicketRequest { ticket_id: 9999, reason: 1, ..Default::default() }), NotFound, ""),
        ("cancel with an unknown reason", cancel_with_an_unknown_reason(), InvalidArgument, "reason"),
        ("cancel a resolved ticket", Req::Cancel(pb::CancelTicketRequest { ticket_id: RESOLVED, reason: 1, ..Default::default() }), FailedPrecondition, ""),
        ("update with no field", Req::Update(pb::UpdateTicketRequest { ticket_id: QUEUED, ..Default::default() }), InvalidArgument, "priority"),
        ("update to an unknown priority", update_to_an_unknown_priority(), InvalidArgument, "priority"),
        ("update to tier unspecified", update_to_tier_unspecified(), InvalidArgument, "tier"),
        ("update with 40 skills", update_with_40_skills(), InvalidArgument, "required_skills.skills"),
        ("update a resolved ticket", update_a_resolved_ticket(), FailedPrecondition, ""),
        ("list with a huge page", Req::List(pb::ListTicketsRequest { page_size: 5000, ..Default::default() }), InvalidArgument, "page_size"),
        ("list with a forged page token", Req::List(pb::ListTicketsRequest { page_token: "abc".into(), ..Default::default() }), InvalidArgument, "page_token"),
        ("list with an unknown state", Req::List(pb::ListTicketsRequest { state: 77, ..Default::default() }), InvalidArgument, "state"),
        ("list with a blank customer", Req::List(pb::ListTicketsRequest { customer_id: "  ".into(), ..Default::default() }), InvalidArgument, "customer_id"),
        ("list with an empty time range", Req::List(pb::ListTicketsRequest { created_from: Some(Timestamp { seconds: 1_800_000_000, nanos: 0 }), created_before: Some(Timestamp { seconds: 1_800_000_000, nanos: 0 }), ..Default::default() }), InvalidArgument, "created_before"),
        ("list from before 1970", Req::List(pb::ListTicketsRequest { created_from: Some(Timestamp { seconds: -5, nanos: 0 }), ..Default::default() }), InvalidArgument, "created_from"),
        ("a customer cannot promise an update", a_customer_cannot_promise_an_update(), InvalidArgument, "next_update_by"),
        ("a promise in the past", a_promise_in_the_past(), InvalidArgument, "next_update_by"),
        ("a promise before 1970", a_promise_before_1970(), InvalidArgument, "next_update_by"),
        ("follow-up without a ticket id", follow_up(0, ""), InvalidArgument, "ticket_id"),
        ("follow-up of an unknown ticket", follow_up(999, ""), NotFound, ""),
        ("follow-up of an open ticket", follow_up(QUEUED, ""), FailedPrecondition, ""),
        ("follow-up by an unknown agent", follow_up(RESOLVED, "ghost"), NotFound, ""),

        // ---- texts: Empty, oversized (limits count bytes, not characters), whitespace-only and
        // forbidden-character text: ids, names, skills.
        ("whitespace-only external_id", with(|r| r.external_id = "   ".into()), InvalidArgument, "external_id"),
        ("tab-only external_id", with(|r| r.external_id = "\t".into()), InvalidArgument, "external_id"),
        ("whitespace-only customer_id", with(|r| r.customer_id = " ".into()), InvalidArgument, "customer_id"),
        ("ideographic-space customer_id", with(|r| r.customer_id = "\u{3000}".into()), InvalidArgument, "customer_id"),
        ("external_id of 130 bytes in 65 characters", with(|r| r.external_id = wide()), InvalidArgument, "external_id"),
        ("1 MiB external_id", with(|r| r.external_id = "x".repeat(1 << 20)), InvalidArgument, "external_id"),
        ("customer_id of 130 bytes in 65 characters", with(|r| r.customer_id = wide()), InvalidArgument, "customer_id"),
        ("NUL in external_id", with(|r| r.external_id = "a\0b".into()), InvalidArgument, "external_id"),
        ("newline in external_id", with(|r| r.external_id = "a\nb".into()), InvalidArgument, "external_id"),
        ("DEL in customer_id", with(|r| r.customer_id = "c\u{7f}".into()), InvalidArgument, "customer_id"),
        ("C1 control in customer_id", with(|r| r.customer_id = "c\u{85}d".into()), InvalidArgument, "customer_id"),
        ("terminal escape in customer_id", with(|r| r.customer_id = "\u{1b}[2J".into()), InvalidArgument, "customer_id"),
        ("carriage return in request_id", with(|r| r.request_id = "r\r".into()), InvalidArgument, "request_id"),
        ("empty skill among valid ones", with(|r| r.required_skills = vec!["en".into(), String::new(), "de".into()]), InvalidArgument, "required_skills[1]"),
        ("whitespace-only skill", with(|r| r.required_skills = vec![" ".into()]), InvalidArgument, "required_skills[0]"),
        ("skill with a slash", with(|r| r.required_skills = vec!["a/b".into()]), InvalidArgument, "required_skills[0]"),
        ("non-ASCII skill", with(|r| r.required_skills = vec!["español".into()]), InvalidArgument, "required_skills[0]"),
        ("skill with a bell", with(|r| r.required_skills = vec!["en\u{7}".into()]), InvalidArgument, "required_skills[0]"),
        ("32 skills, the last with a NUL", n32_skills_the_last_with_a_nul(), InvalidArgument, "required_skills[31]"),
        ("whitespace-only preferred agent", with(|r| r.preferred_agent_id = " ".into()), InvalidArgument, "preferred_agent_id"),
        ("oversized preferred agent", with(|r| r.preferred_agent_id = long()), InvalidArgument, "preferred_agent_id"),
        ("non-ASCII preferred agent", with(|r| r.preferred_agent_id = "ána".into()), InvalidArgument, "preferred_agent_id"),
        ("NUL in preferred agent", with(|r| r.preferred_agent_id = "ana\0".into()), InvalidArgument, "preferred_agent_id"),
        ("list tickets of an agent id with a space", list(|r| r.agent_id = "a b".into()), InvalidArgument, "agent_id"),
        ("list tickets of an oversized agent id", list(|r| r.agent_id = long()), InvalidArgument, "agent_id"),
        ("follow-up by an agent id with a space", follow_up(RESOLVED, "a b"), InvalidArgument, "agent_id"),

        // ---- enums: Unknown values, negative and extreme, for every enum field of every request.
        ("negative tier", with(|r| r.tier = -1), InvalidArgument, "tier"),
        ("tier i32::MAX", with(|r| r.tier = i32::MAX), InvalidArgument, "tier"),
        ("negative channel", with(|r| r.channel = -1), InvalidArgument, "channel"),
        ("channel i32::MIN", with(|r| r.channel = i32::MIN), InvalidArgument, "channel"),
        ("negative priority", with(|r| r.priority = -5), InvalidArgument, "priority"),
        ("priority one past the last", with(|r| r.priority = 5), InvalidArgument, "priority"),
        ("sentiment one past the last", with(|r| r.sentiment = 4), InvalidArgument, "sentiment"),
        ("list tickets of a negative state", list(|r| r.state = -1), InvalidArgument, "state"),
        ("list tickets of an unknown tier", list(|r| r.tier = 99), InvalidArgument, "tier"),
        ("list tickets of an unknown channel", list(|r| r.channel = 7), InvalidArgument, "channel"),
        ("negative reply author", author(ASSIGNED, -1), InvalidArgument, "author"),
        ("reply author i32::MAX", author(ASSIGNED, i32::MAX), InvalidArgument, "author"),
        ("negative cancel reason", cancel(QUEUED, -1), InvalidArgument, "reason"),
        ("cancel reason one past the last", cancel(QUEUED, 4), InvalidArgument, "reason"),
        ("cancel reason i32::MIN", cancel(QUEUED, i32::MIN), InvalidArgument, "reason"),
        ("bad cancel reason on an unknown ticket", cancel(9999, 42), InvalidArgument, "reason"),
        ("update to priority unspecified", update(|u| u.priority = Some(0)), InvalidArgument, "priority"),
        ("update to a negative priority", update(|u| u.priority = Some(-1)), InvalidArgument, "priority"),
        ("update to an unknown sentiment", update(|u| u.sentiment = Some(9)), InvalidArgument, "sentiment"),
        ("update to sentiment unspecified", update(|u| u.sentiment = Some(0)), InvalidArgument, "sentiment"),
        ("update to an unknown tier", update(|u| u.tier = Some(99)), InvalidArgument, "tier"),
        ("update to a negative tier", update(|u| u.tier = Some(-3)), InvalidArgument, "tier"),

        // ---- raw bytes: Bytes prost types cannot build: invalid UTF-8 in every kind of string
        // field (tonic refuses the message while decoding it, before any handler runs: INTERNAL, as
        // gRPC's status-code guide says for a message that does not parse), malformed wire format,
        // unknown fields and methods.
        ("invalid UTF-8 in external_id", raw(CREATE, then_field(&base(), 2, STRAY)), Internal, "CreateTicketRequest.external_id"),
        ("overlong NUL in customer_id", raw(CREATE, then_field(&base(), 3, OVERLONG)), Internal, "CreateTicketRequest.customer_id"),
        ("surrogate in request_id", raw(CREATE, then_field(&base(), 1, SURROGATE)), Internal, "CreateTicketRequest.request_id"),
        ("cut-short UTF-8 in a skill", raw(CREATE, then_field(&base(), 7, CUT_SHORT)), Internal, "CreateTicketRequest.required_skills"),
        ("code point past U+10FFFF in preferred agent", raw(CREATE, then_field(&base(), 9, TOO_HIGH)), Internal, "CreateTicketRequest.preferred_agent_id"),
        ("invalid UTF-8 in a batch item", raw(CREATE_MANY, len_field(1, &then_field(&base(), 2, STRAY))), Internal, "CreateTicketsRequest.tickets"),
        ("invalid UTF-8 in pending", invalid_utf_8_in_pending(), Internal, "SetPendingRequest.agent_id"),
        ("invalid UTF-8 in resolve", invalid_utf_8_in_resolve(), Internal, "ResolveTicketRequest.agent_id"),
        ("invalid UTF-8 in an agent reply", invalid_utf_8_in_an_agent_reply(), Internal, "RecordReplyRequest.agent_id"),
        ("invalid UTF-8 in a follow-up", invalid_utf_8_in_a_follow_up(), Internal, "RecordFollowUpRequest.agent_id"),
        ("invalid UTF-8 in a ticket list's agent", raw(LIST, len_field(4, STRAY)), Internal, "ListTicketsRequest.agent_id"),
        ("invalid UTF-8 in a ticket page token", raw(LIST, len_field(6, b"1\xff")), Internal, "ListTicketsRequest.page_token"),
        ("invalid UTF-8 in an updated skill", invalid_utf_8_in_an_updated_skill(), Internal, "UpdateTicketRequest.required_skills"),
        ("length prefix past the end", raw(CREATE, [key(2, 2), varint(100), b"abc".to_vec()].concat()), Internal, "CreateTicketRequest.external_id"),
        ("length prefix of 2^40", raw(CREATE, [key(2, 2), varint(1 << 40)].concat()), Internal, "CreateTicketRequest.external_id"),
        ("ticket_id sent as a string", raw(GET, len_field(1, b"1")), Internal, "GetTicketRequest.ticket_id"),
        ("external_id sent as a varint", raw(CREATE, varint_field(2, 7)), Internal, "CreateTicketRequest.external_id"),
        ("varint of eleven bytes", raw(GET, [key(1, 0), vec![0xff; 10], vec![0x01]].concat()), Internal, "GetTicketRequest.ticket_id"),
        ("field number 0", raw(GET, [0x00, 0x01].to_vec()), Internal, ""),
        ("wire type 7", raw(GET, key(1, 7)), Internal, ""),
        ("end group with no start", raw(GET, key(5, 4)), Internal, ""),
        ("a key and nothing after it", raw(GET, key(1, 0)), Internal, "GetTicketRequest.ticket_id"),
        ("only an unknown field", raw(GET, varint_field(99, 5)), InvalidArgument, "ticket_id"),
        ("an unknown field beside an unknown ticket", raw(GET, [varint_field(1, 9999), len_field(42, STRAY)].concat()), NotFound, ""),
        ("tier as a 64-bit varint that truncates to 99", tier_as_a_64_bit_varint_that_truncates_to_99(), InvalidArgument, "tier"),
        ("empty create body", raw(CREATE, Vec::new()), InvalidArgument, "external_id"),
        ("unknown method", raw("/triage.v1.TicketService/DeleteTicket", varint_field(1, QUEUED)), Unimplemented, ""),
        ("unknown service", raw("/triage.v2.TicketService/GetTicket", varint_field(1, QUEUED)), Unimplemented, ""),

        // ---- huge: Huge repeated fields, and messages over the 4 MiB limit (OUT_OF_RANGE from
        // tonic, before the handler).
        ("5 MiB external_id", with(|r| r.external_id = "x".repeat(FIVE_MIB)), OutOfRange, ""),
        ("5 MiB of garbage", raw(GET, vec![0xff; FIVE_MIB]), OutOfRange, ""),
        ("1000 tickets of 5 KiB", n1000_tickets_of_5_kib(), OutOfRange, ""),
        ("10,000 skills on a ticket", with(|r| r.required_skills = numbered("s", 10_000)), InvalidArgument, "required_skills"),
        ("10,000 skills in an update", update(|u| u.required_skills = skill_list(numbered("s", 10_000))), InvalidArgument, "required_skills.skills"),
        ("a batch of 1001", Req::Batch((0..1001).map(|i| create(&format!("b-{i}"), Tier::Standard, Channel::Chat, &[])).collect()), InvalidArgument, "tickets"),
        ("an empty batch", Req::Batch(Vec::new()), InvalidArgument, "tickets"),

        // ---- times: Durations and timestamps: negative, nanos out of range, overflowing, past,
        // too far.
        ("a promise with negative nanos", promise(4_000_000_000, -1), InvalidArgument, "next_update_by"),
        ("a promise with nanos of 1e9", promise(4_000_000_000, 1_000_000_000), InvalidArgument, "next_update_by"),
        ("a promise at i64::MAX seconds", promise(i64::MAX, 0), InvalidArgument, "next_update_by"),
        ("a promise at i64::MIN seconds", promise(i64::MIN, 0), InvalidArgument, "next_update_by"),
        ("a promise in the year 10000", promise(253_402_300_800, 0), InvalidArgument, "next_update_by"),
        ("a promise at the epoch", promise(0, 0), InvalidArgument, "next_update_by"),
        ("a promise of a second ago", a_promise_of_a_second_ago(), InvalidArgument, "next_update_by"),
        ("a customer promise with a bad timestamp", a_customer_promise_with_a_bad_timestamp(), InvalidArgument, "next_update_by"),
        ("a good promise under a stale lease", a_good_promise_under_a_stale_lease(), FailedPrecondition, ""),
        ("created_at an hour ahead", with(|r| r.created_at = in_seconds(3600)), InvalidArgument, "created_at"),
        ("created_at 2 minutes ahead, past the 1-minute skew", with(|r| r.created_at = in_seconds(120)), InvalidArgument, "created_at"),
        ("created_at in the year 9999", with(|r| r.created_at = Some(Timestamp { seconds: 253_402_300_799, nanos: 0 })), InvalidArgument, "created_at"),
        ("created_at 31 days ago, past max_backdate", with(|r| r.created_at = in_seconds(-31 * 86_400)), InvalidArgument, "created_at"),
        ("created_at at the epoch", with(|r| r.created_at = Some(Timestamp { seconds: 0, nanos: 0 })), InvalidArgument, "created_at"),
        ("created_at before 1970", with(|r| r.created_at = Some(Timestamp { seconds: -1, nanos: 0 })), InvalidArgument, "created_at"),
        ("created_at with nanos of 1e9", with(|r| r.created_at = Some(Timestamp { seconds: 1_800_000_000, nanos: 1_000_000_000 })), InvalidArgument, "created_at"),
        ("created_at ahead on a taken external_id", with(|r| { r.external_id = "dup".into(); r.created_at = in_seconds(3600) }), InvalidArgument, "created_at"),
        ("batch item with created_at an hour ahead", batch_item(|r| r.created_at = in_seconds(3600)), InvalidArgument, "created_at"),
        ("batch item with created_at 31 days ago", batch_item(|r| r.created_at = in_seconds(-31 * 86_400)), InvalidArgument, "created_at"),
        ("batch item with created_at before 1970", batch_item(|r| r.created_at = Some(Timestamp { seconds: -5, nanos: 0 })), InvalidArgument, "created_at"),

        // ---- leases: Leases (stale, epoch 0, another agent's, unknown agents), wrong states,
        // unknown tickets.
        ("pending by an agent not holding the ticket", pending(ASSIGNED, "bob", 1), FailedPrecondition, ""),
        ("pending with a stale epoch", pending(ASSIGNED, "ana", 2), FailedPrecondition, ""),
        ("pending with epoch u64::MAX", pending(ASSIGNED, "ana", u64::MAX), FailedPrecondition, ""),
        ("pending on a resolved ticket", pending(RESOLVED, "ana", 1), FailedPrecondition, ""),
        ("pending by an unknown agent", pending(ASSIGNED, "ghost", 1), NotFound, ""),
        ("pending on ticket 0", pending(0, "ana", 1), InvalidArgument, "ticket_id"),
        ("pending on an unknown ticket", pending(9999, "ana", 1), NotFound, ""),
        ("pending without an agent", pending(ASSIGNED, "", 1), InvalidArgument, "agent_id"),
        ("resolve by an agent not holding the ticket", resolve(ASSIGNED, "bob", 1), FailedPrecondition, ""),
        ("resolve with a stale epoch", resolve(ASSIGNED, "ana", 99), FailedPrecondition, ""),
        ("resolve with epoch u64::MAX", resolve(ASSIGNED, "ana", u64::MAX), FailedPrecondition, ""),
        ("resolve a queued ticket under a lease", resolve(QUEUED, "ana", 1), FailedPrecondition, ""),
        ("resolve an unknown ticket", resolve(9999, "", 0), NotFound, ""),
        ("resolve ticket 0", resolve(0, "", 0), InvalidArgument, "ticket_id"),
        ("resolve by an agent id with a space", resolve(ASSIGNED, "a b", 1), InvalidArgument, "agent_id"),
        ("agent reply on a queued ticket", reply(QUEUED, "ana", 1), FailedPrecondition, ""),
        ("agent reply with epoch u64::MAX", reply(ASSIGNED, "ana", u64::MAX), FailedPrecondition, ""),
        ("agent reply by an agent id with a space", reply(ASSIGNED, "a b", 1), InvalidArgument, "agent_id"),
        ("customer reply to ticket u64::MAX", author(u64::MAX, pb::Author::Customer as i32), NotFound, ""),
        ("customer reply to ticket 0", author(0, pb::Author::Customer as i32), InvalidArgument, "ticket_id"),
        ("get ticket u64::MAX", Req::Get(u64::MAX), NotFound, ""),
        ("reopen ticket 0", Req::Reopen(0), InvalidArgument, "ticket_id"),
        ("reopen an assigned ticket", Req::Reopen(ASSIGNED), FailedPrecondition, ""),
        ("reopen ticket u64::MAX", Req::Reopen(u64::MAX), NotFound, ""),
        ("cancel ticket 0", cancel(0, 1), InvalidArgument, "ticket_id"),
        ("cancel ticket u64::MAX", cancel(u64::MAX, 2), NotFound, ""),
        ("update ticket 0", Req::Update(pb::UpdateTicketRequest { ticket_id: 0, priority: Some(3), ..Default::default() }), InvalidArgument, "ticket_id"),
        ("update an unknown ticket", Req::Update(pb::UpdateTicketRequest { ticket_id: 9999, priority: Some(3), ..Default::default() }), NotFound, ""),
        ("update with a bad skill", update(|u| u.required_skills = skill_list(vec!["en".into(), "x y".into()])), InvalidArgument, "required_skills.skills[1]"),
        ("follow-up of ticket u64::MAX", follow_up(u64::MAX, ""), NotFound, ""),
        ("follow-up of an assigned ticket", follow_up(ASSIGNED, "ana"), FailedPrecondition, ""),

        // ---- request ids: Request ids on every mutating call: one used before (by the setup's
        // resolve or the queued ticket's create) with another body, on any call, is refused naming
        // request_id, even where the call itself would have been fine; malformed ids are refused
        // like any field.
        reused("resolve's request_id on another ticket", resolve(QUEUED, "", 0)),
        reused("resolve's request_id on a reply", reply(ASSIGNED, "ana", 1)),
        reused("resolve's request_id on set pending", pending(ASSIGNED, "ana", 1)),
        reused("resolve's request_id on a follow-up", follow_up(RESOLVED, "")),
        reused("resolve's request_id on a cancel", cancel(QUEUED, 0)),
        reused("resolve's request_id on an update", update(high)),
        ("create's request_id on a cancel", keyed(cancel(QUEUED, 0), "req-x"), InvalidArgument, "request_id"),
        ("create's request_id on an update", keyed(update(high), "req-x"), InvalidArgument, "request_id"),
        ("byte-order mark in a follow-up's request_id", keyed(follow_up(RESOLVED, ""), "\u{FEFF}f"), InvalidArgument, "request_id"),
        ("tab in a cancel's request_id", keyed(cancel(QUEUED, 0), "c\t1"), InvalidArgument, "request_id"),
        ("bidi override in external_id", with(|r| r.external_id = "inv\u{202E}cod".into()), InvalidArgument, "external_id"),
        ("zero-width joiner in external_id", with(|r| r.external_id = "a\u{200D}b".into()), InvalidArgument, "external_id"),
        ("bidi isolate in customer_id", with(|r| r.customer_id = "\u{2066}cust".into()), InvalidArgument, "customer_id"),
        ("a promise of an update in the year 9999", promise(253_402_300_799, 0), InvalidArgument, "next_update_by"),
        ("control: the setup's resolve replayed", Req::Resolve(resolved_by_request()), Ok, ""),

        // ---- replays: Request ids replayed: a different body is refused naming request_id; the
        // same body (after the daemon's normalisation) is answered with the original ticket and
        // creates nothing.
        ("request_id replayed with another tier", replay(|r| r.tier = Tier::Vip as i32), InvalidArgument, "request_id"),
        ("request_id replayed with another skill", replay(|r| r.required_skills = vec!["de".into()]), InvalidArgument, "request_id"),
        ("request_id replayed with a preferred agent", replay(|r| r.preferred_agent_id = "ana".into()), InvalidArgument, "request_id"),
        ("request_id replayed with another customer", replay(|r| r.customer_id = "someone-else".into()), InvalidArgument, "request_id"),
        ("request_id replayed in a batch with another body", batch_item(|r| r.request_id = "req-x".into()), InvalidArgument, "request_id"),
        ("request_id replayed with a created_at", replay(|r| r.created_at = in_seconds(-60)), InvalidArgument, "request_id"),
        ("request_id replayed in a batch with a created_at", Req::BatchItem(pb::CreateTicketRequest { created_at: in_seconds(-60), ..queued_create() }), InvalidArgument, "request_id"),
        ("request_id replayed with an invalid body", replay(|r| r.channel = 0), InvalidArgument, "channel"),
        ("control: the same body replayed", replay(|_| ()), Ok, ""),
        ("control: the same body, skills in other case and twice", replay(|r| r.required_skills = vec!["EN".into(), "en".into()]), Ok, ""),
        ("control: the same body, priority left to its default", replay(|r| r.priority = 0), Ok, ""),
        ("control: the same body replayed in a batch", Req::BatchItem(queued_create()), Ok, ""),
        ("batch item with an empty external_id", batch_item(|r| r.external_id.clear()), InvalidArgument, "external_id"),
        ("batch item with a taken external_id", batch_item(|r| r.external_id = "dup".into()), AlreadyExists, ""),
        ("batch item with an unknown channel", batch_item(|r| r.channel = 42), InvalidArgument, "channel"),
        ("batch item with a bad skill", batch_item(|r| r.required_skills = vec!["a b".into()]), InvalidArgument, "required_skills[0]"),
        ("batch of one item whose external_id is already taken", Req::BatchItem(create("q", Tier::Vip, Channel::Email, &[])), AlreadyExists, ""),

        // ---- pages: Page tokens that are not ours, page sizes past the limit; page size 0 and a
        // token past the end are fine (controls).
        ("negative ticket page token", token("-1"), InvalidArgument, "page_token"),
        ("ticket page token with a plus sign", token("+5"), InvalidArgument, "page_token"),
        ("ticket page token with a leading zero", token("07"), InvalidArgument, "page_token"),
        ("ticket page token past u64", token("18446744073709551616"), InvalidArgument, "page_token"),
        ("ticket page token with a space", token(" 1"), InvalidArgument, "page_token"),
        ("fractional ticket page token", token("1.5"), InvalidArgument, "page_token"),
        ("hex ticket page token", token("0x10"), InvalidArgument, "page_token"),
        ("base64 ticket page token", token("eyJhZnRlciI6MX0="), InvalidArgument, "page_token"),
        ("ticket page token with a NUL", token("1\0"), InvalidArgument, "page_token"),
        ("ticket page size u32::MAX", list(|r| r.page_size = u32::MAX), InvalidArgument, "page_size"),
        ("ticket page size one over", list(|r| r.page_size = 1001), InvalidArgument, "page_size"),
        ("control: ticket page size 0 means the default", list(|r| r.page_size = 0), Ok, ""),
        ("control: a ticket page token past the end", token("99999"), Ok, ""),
    ]
}

/// An update that raises the priority (valid on its own).
fn high(r: &mut pb::UpdateTicketRequest) {
    r.priority = Some(pb::Priority::High as i32);
}

/// A ticket list from page token `t`.
fn token(t: &str) -> Req {
    let t = t.to_string();
    list(move |r| r.page_token = t)
}

/// The request of the row "customer message on a resolved ticket".
fn customer_message_on_a_resolved_ticket() -> Req {
    Req::Reply(pb::RecordReplyRequest {
        ticket_id: RESOLVED,
        author: pb::Author::Customer as i32,
        ..Default::default()
    })
}

/// The request of the row "pending on a ticket not held".
fn pending_on_a_ticket_not_held() -> Req {
    Req::Pending(pb::SetPendingRequest {
        ticket_id: QUEUED,
        agent_id: "ana".into(),
        lease_epoch: 1,
        ..Default::default()
    })
}

/// The request of the row "pending without epoch".
fn pending_without_epoch() -> Req {
    Req::Pending(pb::SetPendingRequest {
        ticket_id: ASSIGNED,
        agent_id: "ana".into(),
        lease_epoch: 0,
        ..Default::default()
    })
}

/// The request of the row "resolve with agent but no epoch".
fn resolve_with_agent_but_no_epoch() -> Req {
    Req::Resolve(pb::ResolveTicketRequest {
        ticket_id: ASSIGNED,
        agent_id: "ana".into(),
        lease_epoch: 0,
        ..Default::default()
    })
}

/// The request of the row "resolve with epoch but no agent".
fn resolve_with_epoch_but_no_agent() -> Req {
    Req::Resolve(pb::ResolveTicketRequest {
        ticket_id: ASSIGNED,
        agent_id: String::new(),
        lease_epoch: 1,
        ..Default::default()
    })
}

/// The request of the row "cancel with an unknown reason".
fn cancel_with_an_unknown_reason() -> Req {
    Req::Cancel(pb::CancelTicketRequest {
        ticket_id: QUEUED,
        reason: 9,
        ..Default::default()
    })
}

/// The request of the row "update to an unknown priority".
fn update_to_an_unknown_priority() -> Req {
    Req::Update(pb::UpdateTicketRequest {
        ticket_id: QUEUED,
        priority: Some(99),
        ..Default::default()
    })
}

/// The request of the row "update to tier unspecified".
fn update_to_tier_unspecified() -> Req {
    Req::Update(pb::UpdateTicketRequest {
        ticket_id: QUEUED,
        tier: Some(0),
        ..Default::default()
    })
}

/// The request of the row "update with 40 skills".
fn update_with_40_skills() -> Req {
    Req::Update(pb::UpdateTicketRequest {
        ticket_id: QUEUED,
        required_skills: Some(pb::SkillList {
            skills: (0..40).map(|i| format!("k{i}")).collect(),
        }),
        ..Default::default()
    })
}

/// The request of the row "update a resolved ticket".
fn update_a_resolved_ticket() -> Req {
    Req::Update(pb::UpdateTicketRequest {
        ticket_id: RESOLVED,
        priority: Some(3),
        ..Default::default()
    })
}

/// The request of the row "a customer cannot promise an update".
fn a_customer_cannot_promise_an_update() -> Req {
    Req::Reply(pb::RecordReplyRequest {
        ticket_id: ASSIGNED,
        author: pb::Author::Customer as i32,
        next_update_by: in_seconds(600),
        ..Default::default()
    })
}

/// The request of the row "a promise in the past".
fn a_promise_in_the_past() -> Req {
    Req::Reply(pb::RecordReplyRequest {
        ticket_id: ASSIGNED,
        author: pb::Author::Agent as i32,
        agent_id: "ana".into(),
        lease_epoch: 1,
        next_update_by: in_seconds(-600),
        ..Default::default()
    })
}

/// The request of the row "a promise before 1970".
fn a_promise_before_1970() -> Req {
    Req::Reply(pb::RecordReplyRequest {
        ticket_id: ASSIGNED,
        author: pb::Author::Agent as i32,
        agent_id: "ana".into(),
        lease_epoch: 1,
        next_update_by: Some(Timestamp {
            seconds: -5,
            nanos: 0,
        }),
        ..Default::default()
    })
}

/// The request of the row "32 skills, the last with a NUL".
fn n32_skills_the_last_with_a_nul() -> Req {
    with(|r| {
        r.required_skills = numbered("s", 31);
        r.required_skills.push("x\0".into());
    })
}

/// The request of the row "invalid UTF-8 in pending".
fn invalid_utf_8_in_pending() -> Req {
    raw(
        PENDING,
        then_field(
            &pb::SetPendingRequest {
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

/// The request of the row "invalid UTF-8 in resolve".
fn invalid_utf_8_in_resolve() -> Req {
    raw(
        RESOLVE,
        then_field(
            &pb::ResolveTicketRequest {
                ticket_id: ASSIGNED,
                agent_id: "ana".into(),
                lease_epoch: 1,
                ..Default::default()
            },
            2,
            CUT_SHORT,
        ),
    )
}

/// The request of the row "invalid UTF-8 in an agent reply".
fn invalid_utf_8_in_an_agent_reply() -> Req {
    raw(
        REPLY,
        then_field(&common::agent_reply(ASSIGNED, "ana", 1), 3, TOO_HIGH),
    )
}

/// The request of the row "invalid UTF-8 in a follow-up".
fn invalid_utf_8_in_a_follow_up() -> Req {
    raw(
        FOLLOW_UP,
        then_field(
            &pb::RecordFollowUpRequest {
                ticket_id: RESOLVED,
                agent_id: String::new(),
                ..Default::default()
            },
            2,
            STRAY,
        ),
    )
}

/// The request of the row "invalid UTF-8 in an updated skill".
fn invalid_utf_8_in_an_updated_skill() -> Req {
    raw(
        UPDATE,
        [
            varint_field(1, QUEUED),
            len_field(3, &len_field(1, CUT_SHORT)),
        ]
        .concat(),
    )
}

/// The request of the row "tier as a 64-bit varint that truncates to 99".
fn tier_as_a_64_bit_varint_that_truncates_to_99() -> Req {
    raw(
        CREATE,
        [base().encode_to_vec(), varint_field(4, (1 << 32) + 99)].concat(),
    )
}

/// The request of the row "1000 tickets of 5 KiB".
fn n1000_tickets_of_5_kib() -> Req {
    Req::Batch(
        (0..1000)
            .map(|i| pb::CreateTicketRequest {
                customer_id: "c".repeat(5 << 10),
                ..create(&format!("big-{i}"), Tier::Standard, Channel::Chat, &[])
            })
            .collect(),
    )
}

/// The request of the row "a promise of a second ago".
fn a_promise_of_a_second_ago() -> Req {
    Req::Reply(pb::RecordReplyRequest {
        next_update_by: in_seconds(-1),
        ..common::agent_reply(ASSIGNED, "ana", 1)
    })
}

/// The request of the row "a customer promise with a bad timestamp".
fn a_customer_promise_with_a_bad_timestamp() -> Req {
    Req::Reply(pb::RecordReplyRequest {
        ticket_id: ASSIGNED,
        author: pb::Author::Customer as i32,
        next_update_by: Some(Timestamp {
            seconds: -1,
            nanos: -1,
        }),
        ..Default::default()
    })
}

/// The request of the row "a good promise under a stale lease".
fn a_good_promise_under_a_stale_lease() -> Req {
    Req::Reply(pb::RecordReplyRequest {
        next_update_by: in_seconds(600),
        ..common::agent_reply(ASSIGNED, "ana", 2)
    })
}
