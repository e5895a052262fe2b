//! Bad input gets the right status, names the offending field, and changes nothing: one table,
//! every row sent to a live daemon, then the daemon's state compared with a snapshot.
//!
//! The rows cover every request type: empty, oversized, whitespace-only and forbidden-character
//! fields; unknown enum values; invalid UTF-8 and malformed protobuf sent as raw wire bytes
//! (prost types cannot hold them); huge repeated fields and messages over the 4 MiB limit;
//! negative, overflowing and out-of-range durations and timestamps; stale and foreign leases,
//! wrong states, unknown ids; replayed request ids; garbage page tokens; invalid SLA policies;
//! protocol errors in `Work` sessions. A few rows expect OK: controls that a replay returns the
//! original ticket (the snapshot proves it created nothing) and that harmless reads pass.

use crate::common::{self, agent, create, temp, Clients, Daemon};
use pb::{Channel, Tier};
use prost::Message;
use prost_types::{Duration, Timestamp};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use triage::proto as pb;

enum Req {
    Create(pb::CreateTicketRequest),
    Get(u64),
    Reply(pb::RecordReplyRequest),
    Pending(pb::SetPendingRequest),
    Resolve(pb::ResolveTicketRequest),
    Reopen(u64),
    Cancel(pb::CancelTicketRequest),
    Update(pb::UpdateTicketRequest),
    Upsert(pb::UpsertAgentRequest),
    GetAgent(String),
    Presence(pb::SetPresenceRequest),
    Heartbeat(String),
    Pull(pb::PullNextTicketRequest),
    Release(pb::ReleaseTicketRequest),
    List(pb::ListTicketsRequest),
    ListAgents(pb::ListAgentsRequest),
    PutPolicy(pb::PutSlaPolicyRequest),
    FollowUp(pb::RecordFollowUpRequest),
    /// A whole `CreateTickets` call: the call's own status.
    Batch(Vec<pb::CreateTicketRequest>),
    /// A `CreateTickets` call of one item: the call is OK and the item's `ItemError` (code,
    /// message, field) stands for the row's status.
    BatchItem(pb::CreateTicketRequest),
    /// A `Work` session fed these messages and kept open (or half-closed, with `close`): the
    /// status that ends it, or the code of the first `WorkResult` that is not OK.
    Work {
        messages: Vec<pb::WorkRequest>,
        close: bool,
    },
    /// Hand-made protobuf bytes, sent as they are to a method path.
    Raw(&'static str, Vec<u8>),
}

/// (what, request, expected code, field: for INVALID_ARGUMENT the one the BadRequest names and
/// the message carries, where a `*` stands for any text (the daemon names whichever bad map
/// key it met first); for another code, if not empty, text the message must contain, such as
/// the `Message.field` prost names when it cannot decode a request)
type Row = (&'static str, Req, Code, &'static str);

async fn send(c: &mut Clients, req: Req) -> Result<(), Status> {
    match req {
        Req::Create(r) => c.tickets.create_ticket(r).await.map(drop),
        Req::Get(id) => c
            .tickets
            .get_ticket(pb::GetTicketRequest { ticket_id: id })
            .await
            .map(drop),
        Req::Reply(r) => c.tickets.record_reply(r).await.map(drop),
        Req::Pending(r) => c.tickets.set_pending(r).await.map(drop),
        Req::Resolve(r) => c.tickets.resolve_ticket(r).await.map(drop),
        Req::Reopen(id) => c
            .tickets
            .reopen_ticket(pb::ReopenTicketRequest {
                ticket_id: id,
                ..Default::default()
            })
            .await
            .map(drop),
        Req::Cancel(r) => c.tickets.cancel_ticket(r).await.map(drop),
        Req::Update(r) => c.tickets.update_ticket(r).await.map(drop),
        Req::Upsert(r) => c.agents.upsert_agent(r).await.map(drop),
        Req::GetAgent(agent_id) => c
            .agents
            .get_agent(pb::GetAgentRequest { agent_id })
            .await
            .map(drop),
        Req::Presence(r) => c.agents.set_presence(r).await.map(drop),
        Req::Heartbeat(agent_id) => c
            .agents
            .heartbeat(pb::HeartbeatRequest { agent_id })
            .await
            .map(drop),
        Req::Pull(r) => c.agents.pull_next_ticket(r).await.map(drop),
        Req::Release(r) => c.agents.release_ticket(r).await.map(drop),
        Req::List(r) => c.tickets.list_tickets(r).await.map(drop),
        Req::ListAgents(r) => c.agents.list_agents(r).await.map(drop),
        Req::PutPolicy(r) => c.admin.put_sla_policy(r).await.map(drop),
        Req::FollowUp(r) => c.tickets.record_follow_up(r).await.map(drop),
        Req::Batch(tickets) => c
            .tickets
            .create_tickets(pb::CreateTicketsRequest { tickets })
            .await
            .map(drop),
        Req::BatchItem(item) => {
            let answer = c
                .tickets
                .create_tickets(pb::CreateTicketsRequest {
                    tickets: vec![item],
                })
                .await?
                .into_inner();
            match answer.results.into_iter().next().and_then(|r| r.result) {
                Some(pb::create_ticket_result::Result::Error(e)) => Err(item_status(e)),
                Some(pb::create_ticket_result::Result::Ticket(_)) => Ok(()),
                None => Err(Status::internal("the batch answered without a result")),
            }
        }
        Req::Work { messages, close } => work_session(c, messages, close).await,
        Req::Raw(path, body) => {
            let mut grpc = tonic::client::Grpc::new(c.channel.clone());
            grpc.ready()
                .await
                .map_err(|e| Status::unavailable(format!("channel not ready: {e}")))?;
            let codec = tonic_prost::ProstCodec::<RawBody, ()>::default();
            let path = PathAndQuery::from_static(path);
            grpc.unary(tonic::Request::new(RawBody(body)), path, codec)
                .await
                .map(drop)
        }
    }
}

/// A batch item's error as the status a single call would have had.
fn item_status(e: pb::ItemError) -> Status {
    let code = Code::from(e.code);
    if e.field.is_empty() {
        Status::new(code, e.message)
    } else {
        let details = ErrorDetails::with_bad_request_violation(e.field, "");
        Status::with_error_details(code, e.message, details)
    }
}

async fn work_session(
    c: &mut Clients,
    messages: Vec<pb::WorkRequest>,
    close: bool,
) -> Result<(), Status> {
    use tokio_stream::{Stream, StreamExt};
    let sent = tokio_stream::iter(messages);
    let requests: std::pin::Pin<Box<dyn Stream<Item = pb::WorkRequest> + Send>> = match close {
        true => Box::pin(sent),
        false => Box::pin(sent.chain(tokio_stream::pending())),
    };
    let mut responses = c.agents.work(requests).await?.into_inner();
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), responses.message())
        .await
        .map_err(|_| Status::deadline_exceeded("the session neither answered nor ended"))??;
    match first.and_then(|r| r.kind) {
        Some(pb::work_response::Kind::Result(r)) if r.code != 0 => {
            Err(Status::new(Code::from(r.code), r.message))
        }
        _ => Ok(()),
    }
}

/// A message body sent byte for byte: what prost types cannot build.
#[derive(Clone, Debug, Default)]
struct RawBody(Vec<u8>);

impl Message for RawBody {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        buf.put_slice(&self.0);
    }
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

// ---- protobuf wire format by hand ---------------------------------------------------------

const CREATE: &str = "/triage.v1.TicketService/CreateTicket";
const CREATE_MANY: &str = "/triage.v1.TicketService/CreateTickets";
const GET: &str = "/triage.v1.TicketService/GetTicket";
const LIST: &str = "/triage.v1.TicketService/ListTickets";
const REPLY: &str = "/triage.v1.TicketService/RecordReply";
const FOLLOW_UP: &str = "/triage.v1.TicketService/RecordFollowUp";
const PENDING: &str = "/triage.v1.TicketService/SetPending";
const RESOLVE: &str = "/triage.v1.TicketService/ResolveTicket";
const UPDATE: &str = "/triage.v1.TicketService/UpdateTicket";
const UPSERT: &str = "/triage.v1.AgentService/UpsertAgent";
const GET_AGENT: &str = "/triage.v1.AgentService/GetAgent";
const LIST_AGENTS: &str = "/triage.v1.AgentService/ListAgents";
const PRESENCE: &str = "/triage.v1.AgentService/SetPresence";
const HEARTBEAT: &str = "/triage.v1.AgentService/Heartbeat";
const PULL: &str = "/triage.v1.AgentService/PullNextTicket";
const RELEASE: &str = "/triage.v1.AgentService/ReleaseTicket";
const PUT_POLICY: &str = "/triage.v1.AdminService/PutSlaPolicy";

/// Not UTF-8: a stray continuation byte, an overlong NUL, a UTF-16 surrogate, a sequence cut
/// short, a code point past U+10FFFF.
const STRAY: &[u8] = b"ana\xff";
const OVERLONG: &[u8] = b"\xc0\x80";
const SURROGATE: &[u8] = b"\xed\xa0\x80";
const CUT_SHORT: &[u8] = b"en\xe2\x82";
const TOO_HIGH: &[u8] = b"\xf4\x90\x80\x80";

fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}

fn key(field: u32, wire_type: u8) -> Vec<u8> {
    varint(u64::from(field) << 3 | u64::from(wire_type))
}

/// A length-delimited field: a string, bytes, or an embedded message.
fn len_field(field: u32, payload: &[u8]) -> Vec<u8> {
    [
        key(field, 2),
        varint(payload.len() as u64),
        payload.to_vec(),
    ]
    .concat()
}

fn varint_field(field: u32, value: u64) -> Vec<u8> {
    [key(field, 0), varint(value)].concat()
}

/// `valid`, encoded, then string field `field` once more holding `bytes`: proto3 keeps the
/// last value of a singular field and appends to a repeated one, so only `bytes` is wrong.
fn then_field(valid: &impl Message, field: u32, bytes: &[u8]) -> Vec<u8> {
    [valid.encode_to_vec(), len_field(field, bytes)].concat()
}

fn raw(path: &'static str, body: Vec<u8>) -> Req {
    Req::Raw(path, body)
}

fn raw_policy(policy: Vec<u8>) -> Req {
    raw(PUT_POLICY, len_field(1, &policy))
}

// ---- request builders ---------------------------------------------------------------------

fn base() -> pb::CreateTicketRequest {
    create("fresh", Tier::Standard, Channel::Chat, &["en"])
}

fn with(f: impl FnOnce(&mut pb::CreateTicketRequest)) -> Req {
    let mut r = base();
    f(&mut r);
    Req::Create(r)
}

/// The create of the QUEUED ticket, under its request id "req-x".
fn queued_create() -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        request_id: "req-x".into(),
        ..create("q", Tier::Standard, Channel::Chat, &["en"])
    }
}

fn replay(f: impl FnOnce(&mut pb::CreateTicketRequest)) -> Req {
    let mut r = queued_create();
    f(&mut r);
    Req::Create(r)
}

fn batch_item(f: impl FnOnce(&mut pb::CreateTicketRequest)) -> Req {
    let mut r = base();
    f(&mut r);
    Req::BatchItem(r)
}

fn reply(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Reply(common::agent_reply(ticket_id, agent_id, lease_epoch))
}

/// Ana's reply on the ticket she holds, promising an update by `seconds`, `nanos`.
fn promise(seconds: i64, nanos: i32) -> Req {
    Req::Reply(pb::RecordReplyRequest {
        next_update_by: Some(Timestamp { seconds, nanos }),
        ..common::agent_reply(ASSIGNED, "ana", 1)
    })
}

fn author(ticket_id: u64, author: i32) -> Req {
    Req::Reply(pb::RecordReplyRequest {
        ticket_id,
        author,
        ..Default::default()
    })
}

fn pending(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Pending(pb::SetPendingRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    })
}

fn resolve(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Resolve(pb::ResolveTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    })
}

fn release(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Release(pb::ReleaseTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    })
}

fn cancel(ticket_id: u64, reason: i32) -> Req {
    Req::Cancel(pb::CancelTicketRequest {
        ticket_id,
        reason,
        ..Default::default()
    })
}

/// An update of the QUEUED ticket.
fn update(f: impl FnOnce(&mut pb::UpdateTicketRequest)) -> Req {
    let mut r = pb::UpdateTicketRequest {
        ticket_id: QUEUED,
        ..Default::default()
    };
    f(&mut r);
    Req::Update(r)
}

fn skill_list(skills: Vec<String>) -> Option<pb::SkillList> {
    Some(pb::SkillList { skills })
}

fn upsert(f: impl FnOnce(&mut pb::UpsertAgentRequest)) -> Req {
    let mut r = agent("carl", &["en"], &[], &[("chat", 2)]);
    f(&mut r);
    Req::Upsert(r)
}

fn get_agent(agent_id: impl Into<String>) -> Req {
    Req::GetAgent(agent_id.into())
}

fn heartbeat(agent_id: impl Into<String>) -> Req {
    Req::Heartbeat(agent_id.into())
}

fn presence(agent_id: impl Into<String>, presence: i32) -> Req {
    Req::Presence(pb::SetPresenceRequest {
        agent_id: agent_id.into(),
        presence,
        ..Default::default()
    })
}

fn pull(agent_id: impl Into<String>) -> Req {
    Req::Pull(pb::PullNextTicketRequest {
        agent_id: agent_id.into(),
        wait: None,
        ..Default::default()
    })
}

fn pull_wait(seconds: i64, nanos: i32) -> Req {
    Req::Pull(pb::PullNextTicketRequest {
        agent_id: "ana".into(),
        wait: Some(Duration { seconds, nanos }),
        ..Default::default()
    })
}

fn list(f: impl FnOnce(&mut pb::ListTicketsRequest)) -> Req {
    let mut r = pb::ListTicketsRequest::default();
    f(&mut r);
    Req::List(r)
}

fn list_agents(f: impl FnOnce(&mut pb::ListAgentsRequest)) -> Req {
    let mut r = pb::ListAgentsRequest::default();
    f(&mut r);
    Req::ListAgents(r)
}

fn follow_up(ticket_id: u64, agent_id: &str) -> Req {
    Req::FollowUp(pb::RecordFollowUpRequest {
        ticket_id,
        agent_id: agent_id.into(),
        ..Default::default()
    })
}

fn policy(f: impl FnOnce(&mut pb::SlaPolicy)) -> Req {
    let mut p = pb::SlaPolicy::default();
    f(&mut p);
    Req::PutPolicy(pb::PutSlaPolicyRequest {
        policy: Some(p),
        replace: false,
        ..Default::default()
    })
}

fn office_calendar() -> pb::Calendar {
    pb::Calendar {
        name: "office".into(),
        time_zone: "Europe/Berlin".into(),
        mon: vec!["09:00-18:00".into()],
        ..Default::default()
    }
}

fn office(f: impl FnOnce(&mut pb::Calendar)) -> Req {
    let mut c = office_calendar();
    f(&mut c);
    policy(|p| p.calendars = vec![c])
}

fn holiday(date: &str, hours: &[&str]) -> pb::Holiday {
    pb::Holiday {
        date: date.into(),
        hours: hours.iter().map(|h| h.to_string()).collect(),
    }
}

fn channel_calendar(channel: i32, calendar: &str) -> pb::ChannelCalendar {
    pb::ChannelCalendar {
        channel,
        calendar: calendar.into(),
    }
}

/// A policy put whose only target entry is email's, as `f` leaves it.
fn email_targets(f: impl FnOnce(&mut pb::ChannelTargets)) -> Req {
    let mut t = pb::ChannelTargets {
        channel: Channel::Email as i32,
        ..Default::default()
    };
    f(&mut t);
    policy(|p| p.targets = vec![t])
}

fn vip_chat_override() -> pb::TargetOverride {
    pb::TargetOverride {
        tier: Tier::Vip as i32,
        channel: Channel::Chat as i32,
        resolution: secs(3600),
        ..Default::default()
    }
}

/// A policy put whose only override is VIP chat's, as `f` leaves it.
fn vip_chat(f: impl FnOnce(&mut pb::TargetOverride)) -> Req {
    let mut o = vip_chat_override();
    f(&mut o);
    policy(|p| p.overrides = vec![o])
}

fn in_seconds(from_now: i64) -> Option<Timestamp> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Some(Timestamp {
        seconds: now + from_now,
        nanos: 0,
    })
}

fn email_target(first_response: Duration) -> pb::ChannelTargets {
    pb::ChannelTargets {
        channel: Channel::Email as i32,
        first_response: Some(first_response),
        ..Default::default()
    }
}

fn dur(seconds: i64, nanos: i32) -> Option<Duration> {
    Some(Duration { seconds, nanos })
}

fn secs(seconds: i64) -> Option<Duration> {
    dur(seconds, 0)
}

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

fn work(kinds: Vec<pb::work_request::Kind>) -> Req {
    let messages = kinds
        .into_iter()
        .enumerate()
        .map(|(tag, kind)| pb::WorkRequest {
            tag: tag as u64,
            kind: Some(kind),
        })
        .collect();
    Req::Work {
        messages,
        close: false,
    }
}

fn start(agent_id: &str, ready: u32) -> pb::work_request::Kind {
    pb::work_request::Kind::Start(pb::WorkStart {
        agent_id: agent_id.into(),
        ready,
    })
}

fn ready(tickets: u32) -> pb::work_request::Kind {
    pb::work_request::Kind::Ready(pb::WorkReady { tickets })
}

fn done(ticket_id: u64, lease_epoch: u64) -> pb::work_request::Kind {
    pb::work_request::Kind::Done(pb::WorkDone {
        ticket_id,
        lease_epoch,
        ..Default::default()
    })
}

fn work_release(ticket_id: u64, lease_epoch: u64) -> pb::work_request::Kind {
    pb::work_request::Kind::Release(pb::WorkRelease {
        ticket_id,
        lease_epoch,
        ..Default::default()
    })
}

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// A field name built at run time, for the table's `&'static str` column.
fn leak(field: String) -> &'static str {
    Box::leak(field.into_boxed_str())
}

const ASSIGNED: u64 = 1;
const QUEUED: u64 = 2;
const RESOLVED: u64 = 3;

fn table() -> Vec<Row> {
    [
        basics(),
        texts(),
        enums(),
        raw_bytes(),
        huge(),
        times(),
        leases(),
        replays(),
        request_ids(),
        pages(),
        policies(),
        work_sessions(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The first rows: one or two of each kind, per request type.
fn basics() -> Vec<Row> {
    use Code::*;
    let long = "x".repeat(129);
    vec![
        (
            "empty external_id",
            with(|r| r.external_id.clear()),
            InvalidArgument,
            "external_id",
        ),
        (
            "oversized external_id",
            with(|r| r.external_id = long.clone()),
            InvalidArgument,
            "external_id",
        ),
        (
            "control character in external_id",
            with(|r| r.external_id = "a\u{7}b".into()),
            InvalidArgument,
            "external_id",
        ),
        (
            "empty customer_id",
            with(|r| r.customer_id.clear()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "oversized customer_id",
            with(|r| r.customer_id = long.clone()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "tier unspecified",
            with(|r| r.tier = 0),
            InvalidArgument,
            "tier",
        ),
        (
            "unknown tier",
            with(|r| r.tier = 99),
            InvalidArgument,
            "tier",
        ),
        (
            "channel unspecified",
            with(|r| r.channel = 0),
            InvalidArgument,
            "channel",
        ),
        (
            "unknown channel",
            with(|r| r.channel = 42),
            InvalidArgument,
            "channel",
        ),
        (
            "unknown priority",
            with(|r| r.priority = 17),
            InvalidArgument,
            "priority",
        ),
        (
            "negative sentiment enum",
            with(|r| r.sentiment = -1),
            InvalidArgument,
            "sentiment",
        ),
        (
            "33 skills",
            with(|r| r.required_skills = (0..33).map(|i| format!("s{i}")).collect()),
            InvalidArgument,
            "required_skills",
        ),
        (
            "empty skill",
            with(|r| r.required_skills = vec![String::new()]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "skill with a space",
            with(|r| r.required_skills = vec!["en".into(), "bad skill".into()]),
            InvalidArgument,
            "required_skills[1]",
        ),
        (
            "oversized skill",
            with(|r| r.required_skills = vec!["s".repeat(65)]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "preferred agent with a slash",
            with(|r| r.preferred_agent_id = "a/b".into()),
            InvalidArgument,
            "preferred_agent_id",
        ),
        (
            "oversized request_id",
            with(|r| r.request_id = "r".repeat(200)),
            InvalidArgument,
            "request_id",
        ),
        (
            "duplicate external_id",
            with(|r| r.external_id = "dup".into()),
            AlreadyExists,
            "",
        ),
        (
            "request_id replayed with another body",
            with(|r| {
                r.request_id = "req-x".into();
                r.external_id = "other".into()
            }),
            InvalidArgument,
            "request_id",
        ),
        ("ticket_id 0", Req::Get(0), InvalidArgument, "ticket_id"),
        ("unknown ticket", Req::Get(9999), NotFound, ""),
        (
            "reply author unspecified",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                ..Default::default()
            }),
            InvalidArgument,
            "author",
        ),
        (
            "reply author unknown",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: 7,
                ..Default::default()
            }),
            InvalidArgument,
            "author",
        ),
        (
            "agent reply without agent_id",
            reply(ASSIGNED, "", 1),
            InvalidArgument,
            "agent_id",
        ),
        (
            "agent reply without epoch",
            reply(ASSIGNED, "ana", 0),
            InvalidArgument,
            "lease_epoch",
        ),
        (
            "agent reply with a stale epoch",
            reply(ASSIGNED, "ana", 7),
            FailedPrecondition,
            "",
        ),
        (
            "reply by an agent not holding the ticket",
            reply(ASSIGNED, "bob", 1),
            FailedPrecondition,
            "",
        ),
        (
            "reply by an unknown agent",
            reply(ASSIGNED, "ghost", 1),
            NotFound,
            "",
        ),
        (
            "reply to a ticket of 0",
            reply(0, "ana", 1),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "customer message on a resolved ticket",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: RESOLVED,
                author: pb::Author::Customer as i32,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "pending on a ticket not held",
            Req::Pending(pb::SetPendingRequest {
                ticket_id: QUEUED,
                agent_id: "ana".into(),
                lease_epoch: 1,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "pending without epoch",
            Req::Pending(pb::SetPendingRequest {
                ticket_id: ASSIGNED,
                agent_id: "ana".into(),
                lease_epoch: 0,
                ..Default::default()
            }),
            InvalidArgument,
            "lease_epoch",
        ),
        (
            "resolve a resolved ticket",
            Req::Resolve(pb::ResolveTicketRequest {
                ticket_id: RESOLVED,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "resolve with agent but no epoch",
            Req::Resolve(pb::ResolveTicketRequest {
                ticket_id: ASSIGNED,
                agent_id: "ana".into(),
                lease_epoch: 0,
                ..Default::default()
            }),
            InvalidArgument,
            "lease_epoch",
        ),
        (
            "resolve with epoch but no agent",
            Req::Resolve(pb::ResolveTicketRequest {
                ticket_id: ASSIGNED,
                agent_id: String::new(),
                lease_epoch: 1,
                ..Default::default()
            }),
            InvalidArgument,
            "agent_id",
        ),
        (
            "reopen a queued ticket",
            Req::Reopen(QUEUED),
            FailedPrecondition,
            "",
        ),
        ("reopen an unknown ticket", Req::Reopen(12345), NotFound, ""),
        (
            "cancel an unknown ticket",
            Req::Cancel(pb::CancelTicketRequest {
                ticket_id: 9999,
                reason: 1,
                ..Default::default()
            }),
            NotFound,
            "",
        ),
        (
            "cancel with an unknown reason",
            Req::Cancel(pb::CancelTicketRequest {
                ticket_id: QUEUED,
                reason: 9,
                ..Default::default()
            }),
            InvalidArgument,
            "reason",
        ),
        (
            "cancel a resolved ticket",
            Req::Cancel(pb::CancelTicketRequest {
                ticket_id: RESOLVED,
                reason: 1,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "update with no field",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: QUEUED,
                ..Default::default()
            }),
            InvalidArgument,
            "priority",
        ),
        (
            "update to an unknown priority",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: QUEUED,
                priority: Some(99),
                ..Default::default()
            }),
            InvalidArgument,
            "priority",
        ),
        (
            "update to tier unspecified",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: QUEUED,
                tier: Some(0),
                ..Default::default()
            }),
            InvalidArgument,
            "tier",
        ),
        (
            "update with 40 skills",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: QUEUED,
                required_skills: Some(pb::SkillList {
                    skills: (0..40).map(|i| format!("k{i}")).collect(),
                }),
                ..Default::default()
            }),
            InvalidArgument,
            "required_skills.skills",
        ),
        (
            "update a resolved ticket",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: RESOLVED,
                priority: Some(3),
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "agent with empty id",
            upsert(|r| r.agent_id.clear()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "agent id with a space",
            upsert(|r| r.agent_id = "a b".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "oversized agent id",
            upsert(|r| r.agent_id = long.clone()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "capacity for an unknown channel",
            upsert(|r| {
                r.capacity.insert("fax".into(), 1);
            }),
            InvalidArgument,
            "capacity[fax]",
        ),
        (
            "capacity over the limit",
            upsert(|r| {
                r.capacity.insert("chat".into(), 5000);
            }),
            InvalidArgument,
            "capacity[chat]",
        ),
        (
            "agent tier unspecified",
            upsert(|r| r.tiers = vec![0]),
            InvalidArgument,
            "tiers[0]",
        ),
        (
            "oversized display name",
            upsert(|r| r.display_name = "n".repeat(300)),
            InvalidArgument,
            "display_name",
        ),
        (
            "agent with 33 skills",
            upsert(|r| r.skills = (0..33).map(|i| format!("s{i}")).collect()),
            InvalidArgument,
            "skills",
        ),
        (
            "get agent with empty id",
            get_agent(""),
            InvalidArgument,
            "agent_id",
        ),
        ("get an unknown agent", get_agent("ghost"), NotFound, ""),
        (
            "presence unspecified",
            Req::Presence(pb::SetPresenceRequest {
                agent_id: "ana".into(),
                presence: 0,
                ..Default::default()
            }),
            InvalidArgument,
            "presence",
        ),
        (
            "presence for an unknown agent",
            Req::Presence(pb::SetPresenceRequest {
                agent_id: "ghost".into(),
                presence: 1,
                ..Default::default()
            }),
            NotFound,
            "",
        ),
        (
            "heartbeat of an unknown agent",
            heartbeat("ghost"),
            NotFound,
            "",
        ),
        (
            "pull by an unknown agent",
            Req::Pull(pb::PullNextTicketRequest {
                agent_id: "ghost".into(),
                wait: None,
                ..Default::default()
            }),
            NotFound,
            "",
        ),
        (
            "pull by an offline agent",
            Req::Pull(pb::PullNextTicketRequest {
                agent_id: "bob".into(),
                wait: None,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "pull with a negative wait",
            pull_wait(-1, 0),
            InvalidArgument,
            "wait",
        ),
        (
            "pull with nanos out of range",
            pull_wait(0, 2_000_000_000),
            InvalidArgument,
            "wait",
        ),
        (
            "release with a stale epoch",
            Req::Release(pb::ReleaseTicketRequest {
                ticket_id: ASSIGNED,
                agent_id: "ana".into(),
                lease_epoch: 2,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "release a queued ticket",
            Req::Release(pb::ReleaseTicketRequest {
                ticket_id: QUEUED,
                agent_id: "ana".into(),
                lease_epoch: 1,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "list with a huge page",
            Req::List(pb::ListTicketsRequest {
                page_size: 5000,
                ..Default::default()
            }),
            InvalidArgument,
            "page_size",
        ),
        (
            "list with a forged page token",
            Req::List(pb::ListTicketsRequest {
                page_token: "abc".into(),
                ..Default::default()
            }),
            InvalidArgument,
            "page_token",
        ),
        (
            "list with an unknown state",
            Req::List(pb::ListTicketsRequest {
                state: 77,
                ..Default::default()
            }),
            InvalidArgument,
            "state",
        ),
        (
            "list agents with a huge page",
            Req::ListAgents(pb::ListAgentsRequest {
                page_size: 1001,
                ..Default::default()
            }),
            InvalidArgument,
            "page_size",
        ),
        (
            "put a missing policy",
            Req::PutPolicy(pb::PutSlaPolicyRequest {
                policy: None,
                replace: false,
                ..Default::default()
            }),
            InvalidArgument,
            "policy",
        ),
        (
            "warning fraction above 1",
            policy(|p| p.warning_fraction = 1.5),
            InvalidArgument,
            "policy.warning_fraction",
        ),
        (
            "zero target",
            policy(|p| {
                p.targets = vec![email_target(Duration {
                    seconds: 0,
                    nanos: 0,
                })]
            }),
            InvalidArgument,
            "policy.targets.email.first_response",
        ),
        (
            "negative target",
            policy(|p| {
                p.targets = vec![email_target(Duration {
                    seconds: -5,
                    nanos: 0,
                })]
            }),
            InvalidArgument,
            "policy.targets[0].first_response",
        ),
        (
            "target for channel unspecified",
            policy(|p| p.targets = vec![pb::ChannelTargets::default()]),
            InvalidArgument,
            "policy.targets[0].channel",
        ),
        (
            "negative tier multiplier",
            policy(|p| {
                p.tier_multipliers = vec![pb::TierMultiplier {
                    tier: Tier::Vip as i32,
                    multiplier: -1.0,
                }]
            }),
            InvalidArgument,
            "policy.tier_multipliers.vip",
        ),
        (
            "NaN priority multiplier",
            policy(|p| {
                p.priority_multipliers = vec![pb::PriorityMultiplier {
                    priority: pb::Priority::High as i32,
                    multiplier: f64::NAN,
                }]
            }),
            InvalidArgument,
            "policy.priority_multipliers.high",
        ),
        (
            "l3 before l2",
            policy(|p| {
                p.l2_offset = 2.0;
                p.l3_offset = 1.5
            }),
            InvalidArgument,
            "policy.l3_offset",
        ),
        (
            "presence ttl of zero",
            policy(|p| {
                p.presence_ttl = Some(Duration {
                    seconds: 0,
                    nanos: 0,
                })
            }),
            InvalidArgument,
            "policy.presence_ttl",
        ),
        (
            "calendar in an unknown time zone",
            office(|c| c.time_zone = "Mars/Olympus".into()),
            InvalidArgument,
            "policy.calendars[0].time_zone",
        ),
        (
            "calendar hours that are not a time range",
            office(|c| c.mon = vec!["9 to 5".into()]),
            InvalidArgument,
            "policy.calendars[0].mon[0]",
        ),
        (
            "calendar hours that end before they start",
            office(|c| c.mon = vec!["18:00-09:00".into()]),
            InvalidArgument,
            "policy.calendars.office.mon[0]",
        ),
        (
            "calendar that is never open",
            office(|c| c.mon.clear()),
            InvalidArgument,
            "policy.calendars.office.hours",
        ),
        (
            "calendar holiday that is not a date",
            office(|c| {
                c.holidays = vec![pb::Holiday {
                    date: "25.12.2026".into(),
                    hours: vec![],
                }]
            }),
            InvalidArgument,
            "policy.calendars[0].holidays[0].date",
        ),
        (
            "channel calendar naming no calendar",
            policy(|p| {
                p.channel_calendars = vec![pb::ChannelCalendar {
                    channel: Channel::Email as i32,
                    calendar: "nowhere".into(),
                }]
            }),
            InvalidArgument,
            "policy.channel_calendars.email",
        ),
        (
            "override with a zero target",
            policy(|p| {
                p.overrides = vec![pb::TargetOverride {
                    tier: Tier::Vip as i32,
                    channel: Channel::Chat as i32,
                    first_response: Some(Duration {
                        seconds: 0,
                        nanos: 0,
                    }),
                    ..Default::default()
                }]
            }),
            InvalidArgument,
            "policy.overrides.vip.chat.first_response",
        ),
        (
            "override without a tier",
            policy(|p| {
                p.overrides = vec![pb::TargetOverride {
                    channel: Channel::Chat as i32,
                    ..Default::default()
                }]
            }),
            InvalidArgument,
            "policy.overrides[0].tier",
        ),
        (
            "unknown widening",
            policy(|p| p.l3_widen = 42),
            InvalidArgument,
            "policy.l3_widen",
        ),
        (
            "service level target above 100 %",
            policy(|p| p.service_level_target = 1.2),
            InvalidArgument,
            "policy.service_level_target",
        ),
        (
            "upper-case onboarding skill",
            policy(|p| p.onboarding_skill = "Onboarding".into()),
            InvalidArgument,
            "policy.onboarding_skill",
        ),
        (
            "a customer cannot promise an update",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: pb::Author::Customer as i32,
                next_update_by: in_seconds(600),
                ..Default::default()
            }),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise in the past",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: pb::Author::Agent as i32,
                agent_id: "ana".into(),
                lease_epoch: 1,
                next_update_by: in_seconds(-600),
                ..Default::default()
            }),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise before 1970",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: pb::Author::Agent as i32,
                agent_id: "ana".into(),
                lease_epoch: 1,
                next_update_by: Some(prost_types::Timestamp {
                    seconds: -5,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "follow-up without a ticket id",
            follow_up(0, ""),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "follow-up of an unknown ticket",
            follow_up(999, ""),
            NotFound,
            "",
        ),
        (
            "follow-up of an open ticket",
            follow_up(QUEUED, ""),
            FailedPrecondition,
            "",
        ),
        (
            "follow-up by an unknown agent",
            follow_up(RESOLVED, "ghost"),
            NotFound,
            "",
        ),
    ]
}

/// Empty, oversized (limits count bytes, not characters), whitespace-only and
/// forbidden-character text: ids, names, skills.
fn texts() -> Vec<Row> {
    use Code::*;
    let long = "x".repeat(129);
    let wide = "é".repeat(65); // 130 bytes in 65 characters
    vec![
        (
            "whitespace-only external_id",
            with(|r| r.external_id = "   ".into()),
            InvalidArgument,
            "external_id",
        ),
        (
            "tab-only external_id",
            with(|r| r.external_id = "\t".into()),
            InvalidArgument,
            "external_id",
        ),
        (
            "whitespace-only customer_id",
            with(|r| r.customer_id = " ".into()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "ideographic-space customer_id",
            with(|r| r.customer_id = "\u{3000}".into()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "external_id of 130 bytes in 65 characters",
            with(|r| r.external_id = wide.clone()),
            InvalidArgument,
            "external_id",
        ),
        (
            "1 MiB external_id",
            with(|r| r.external_id = "x".repeat(1 << 20)),
            InvalidArgument,
            "external_id",
        ),
        (
            "customer_id of 130 bytes in 65 characters",
            with(|r| r.customer_id = wide.clone()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "NUL in external_id",
            with(|r| r.external_id = "a\0b".into()),
            InvalidArgument,
            "external_id",
        ),
        (
            "newline in external_id",
            with(|r| r.external_id = "a\nb".into()),
            InvalidArgument,
            "external_id",
        ),
        (
            "DEL in customer_id",
            with(|r| r.customer_id = "c\u{7f}".into()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "C1 control in customer_id",
            with(|r| r.customer_id = "c\u{85}d".into()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "terminal escape in customer_id",
            with(|r| r.customer_id = "\u{1b}[2J".into()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "carriage return in request_id",
            with(|r| r.request_id = "r\r".into()),
            InvalidArgument,
            "request_id",
        ),
        (
            "empty skill among valid ones",
            with(|r| r.required_skills = vec!["en".into(), String::new(), "de".into()]),
            InvalidArgument,
            "required_skills[1]",
        ),
        (
            "whitespace-only skill",
            with(|r| r.required_skills = vec![" ".into()]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "skill with a slash",
            with(|r| r.required_skills = vec!["a/b".into()]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "non-ASCII skill",
            with(|r| r.required_skills = vec!["español".into()]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "skill with a bell",
            with(|r| r.required_skills = vec!["en\u{7}".into()]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "32 skills, the last with a NUL",
            with(|r| {
                r.required_skills = numbered("s", 31);
                r.required_skills.push("x\0".into());
            }),
            InvalidArgument,
            "required_skills[31]",
        ),
        (
            "whitespace-only preferred agent",
            with(|r| r.preferred_agent_id = " ".into()),
            InvalidArgument,
            "preferred_agent_id",
        ),
        (
            "oversized preferred agent",
            with(|r| r.preferred_agent_id = long.clone()),
            InvalidArgument,
            "preferred_agent_id",
        ),
        (
            "non-ASCII preferred agent",
            with(|r| r.preferred_agent_id = "ána".into()),
            InvalidArgument,
            "preferred_agent_id",
        ),
        (
            "NUL in preferred agent",
            with(|r| r.preferred_agent_id = "ana\0".into()),
            InvalidArgument,
            "preferred_agent_id",
        ),
        (
            "whitespace-only agent id",
            upsert(|r| r.agent_id = " ".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "NUL in agent id",
            upsert(|r| r.agent_id = "carl\0".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "non-ASCII agent id",
            upsert(|r| r.agent_id = "cárl".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "agent id with a path",
            upsert(|r| r.agent_id = "../carl".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "agent id with an emoji",
            upsert(|r| r.agent_id = "carl🙂".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "agent id with a wildcard",
            upsert(|r| r.agent_id = "*".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "display name of 258 bytes in 129 characters",
            upsert(|r| r.display_name = "é".repeat(129)),
            InvalidArgument,
            "display_name",
        ),
        (
            "NUL in display name",
            upsert(|r| r.display_name = "Carl\0".into()),
            InvalidArgument,
            "display_name",
        ),
        (
            "newline in display name",
            upsert(|r| r.display_name = "Carl\nadmin".into()),
            InvalidArgument,
            "display_name",
        ),
        (
            "empty agent skill",
            upsert(|r| r.skills = vec![String::new()]),
            InvalidArgument,
            "skills[0]",
        ),
        (
            "agent skill with a space",
            upsert(|r| r.skills = vec!["en".into(), "de at".into()]),
            InvalidArgument,
            "skills[1]",
        ),
        (
            "oversized agent skill",
            upsert(|r| r.skills = vec!["s".repeat(65)]),
            InvalidArgument,
            "skills[0]",
        ),
        (
            "capacity for a nameless channel",
            upsert(|r| {
                r.capacity.insert(String::new(), 1);
            }),
            InvalidArgument,
            "capacity[]",
        ),
        (
            "capacity of u32::MAX",
            upsert(|r| {
                r.capacity.insert("chat".into(), u32::MAX);
            }),
            InvalidArgument,
            "capacity[chat]",
        ),
        (
            "capacity one over the limit",
            upsert(|r| {
                r.capacity.insert("email".into(), 1001);
            }),
            InvalidArgument,
            "capacity[email]",
        ),
        (
            "get agent with an oversized id",
            get_agent(long.clone()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "get agent with a space",
            get_agent("a b"),
            InvalidArgument,
            "agent_id",
        ),
        (
            "heartbeat without an agent id",
            heartbeat(""),
            InvalidArgument,
            "agent_id",
        ),
        (
            "heartbeat with a slash",
            heartbeat("a/b"),
            InvalidArgument,
            "agent_id",
        ),
        (
            "presence without an agent id",
            presence("", 1),
            InvalidArgument,
            "agent_id",
        ),
        (
            "pull without an agent id",
            pull(""),
            InvalidArgument,
            "agent_id",
        ),
        (
            "pull with an oversized agent id",
            pull(long.clone()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "list tickets of an agent id with a space",
            list(|r| r.agent_id = "a b".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "list tickets of an oversized agent id",
            list(|r| r.agent_id = long.clone()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "follow-up by an agent id with a space",
            follow_up(RESOLVED, "a b"),
            InvalidArgument,
            "agent_id",
        ),
    ]
}

/// Unknown values, negative and extreme, for every enum field of every request.
fn enums() -> Vec<Row> {
    use Code::*;
    vec![
        (
            "negative tier",
            with(|r| r.tier = -1),
            InvalidArgument,
            "tier",
        ),
        (
            "tier i32::MAX",
            with(|r| r.tier = i32::MAX),
            InvalidArgument,
            "tier",
        ),
        (
            "negative channel",
            with(|r| r.channel = -1),
            InvalidArgument,
            "channel",
        ),
        (
            "channel i32::MIN",
            with(|r| r.channel = i32::MIN),
            InvalidArgument,
            "channel",
        ),
        (
            "negative priority",
            with(|r| r.priority = -5),
            InvalidArgument,
            "priority",
        ),
        (
            "priority one past the last",
            with(|r| r.priority = 5),
            InvalidArgument,
            "priority",
        ),
        (
            "sentiment one past the last",
            with(|r| r.sentiment = 4),
            InvalidArgument,
            "sentiment",
        ),
        (
            "list tickets of a negative state",
            list(|r| r.state = -1),
            InvalidArgument,
            "state",
        ),
        (
            "list tickets of an unknown tier",
            list(|r| r.tier = 99),
            InvalidArgument,
            "tier",
        ),
        (
            "list tickets of an unknown channel",
            list(|r| r.channel = 7),
            InvalidArgument,
            "channel",
        ),
        (
            "negative reply author",
            author(ASSIGNED, -1),
            InvalidArgument,
            "author",
        ),
        (
            "reply author i32::MAX",
            author(ASSIGNED, i32::MAX),
            InvalidArgument,
            "author",
        ),
        (
            "negative cancel reason",
            cancel(QUEUED, -1),
            InvalidArgument,
            "reason",
        ),
        (
            "cancel reason one past the last",
            cancel(QUEUED, 4),
            InvalidArgument,
            "reason",
        ),
        (
            "cancel reason i32::MIN",
            cancel(QUEUED, i32::MIN),
            InvalidArgument,
            "reason",
        ),
        (
            "bad cancel reason on an unknown ticket",
            cancel(9999, 42),
            InvalidArgument,
            "reason",
        ),
        (
            "update to priority unspecified",
            update(|u| u.priority = Some(0)),
            InvalidArgument,
            "priority",
        ),
        (
            "update to a negative priority",
            update(|u| u.priority = Some(-1)),
            InvalidArgument,
            "priority",
        ),
        (
            "update to an unknown sentiment",
            update(|u| u.sentiment = Some(9)),
            InvalidArgument,
            "sentiment",
        ),
        (
            "update to sentiment unspecified",
            update(|u| u.sentiment = Some(0)),
            InvalidArgument,
            "sentiment",
        ),
        (
            "update to an unknown tier",
            update(|u| u.tier = Some(99)),
            InvalidArgument,
            "tier",
        ),
        (
            "update to a negative tier",
            update(|u| u.tier = Some(-3)),
            InvalidArgument,
            "tier",
        ),
        (
            "agent tier unknown",
            upsert(|r| r.tiers = vec![99]),
            InvalidArgument,
            "tiers[0]",
        ),
        (
            "agent tier negative after a good one",
            upsert(|r| r.tiers = vec![1, -1]),
            InvalidArgument,
            "tiers[1]",
        ),
        (
            "agent tier one past the last",
            upsert(|r| r.tiers = vec![3, 2, 1, 4]),
            InvalidArgument,
            "tiers[3]",
        ),
        (
            "list agents of an unknown presence",
            list_agents(|r| r.presence = 42),
            InvalidArgument,
            "presence",
        ),
        (
            "list agents of a negative presence",
            list_agents(|r| r.presence = -1),
            InvalidArgument,
            "presence",
        ),
        (
            "presence 42",
            presence("ana", 42),
            InvalidArgument,
            "presence",
        ),
        (
            "negative presence",
            presence("ana", -1),
            InvalidArgument,
            "presence",
        ),
        (
            "presence i32::MAX for an unknown agent",
            presence("ghost", i32::MAX),
            InvalidArgument,
            "presence",
        ),
    ]
}

/// Bytes prost types cannot build: invalid UTF-8 in every kind of string field (tonic refuses
/// the message while decoding it, before any handler runs: INTERNAL, as gRPC's status-code
/// guide says for a message that does not parse), malformed wire format, unknown fields and
/// methods.
fn raw_bytes() -> Vec<Row> {
    use Code::*;
    let ana = |tag, bytes| {
        then_field(
            &pb::HeartbeatRequest {
                agent_id: "ana".into(),
            },
            tag,
            bytes,
        )
    };
    let calendar = |extra: Vec<u8>| {
        let c = [office_calendar().encode_to_vec(), extra].concat();
        raw_policy(len_field(10, &c))
    };
    vec![
        (
            "invalid UTF-8 in external_id",
            raw(CREATE, then_field(&base(), 2, STRAY)),
            Internal,
            "CreateTicketRequest.external_id",
        ),
        (
            "overlong NUL in customer_id",
            raw(CREATE, then_field(&base(), 3, OVERLONG)),
            Internal,
            "CreateTicketRequest.customer_id",
        ),
        (
            "surrogate in request_id",
            raw(CREATE, then_field(&base(), 1, SURROGATE)),
            Internal,
            "CreateTicketRequest.request_id",
        ),
        (
            "cut-short UTF-8 in a skill",
            raw(CREATE, then_field(&base(), 7, CUT_SHORT)),
            Internal,
            "CreateTicketRequest.required_skills",
        ),
        (
            "code point past U+10FFFF in preferred agent",
            raw(CREATE, then_field(&base(), 9, TOO_HIGH)),
            Internal,
            "CreateTicketRequest.preferred_agent_id",
        ),
        (
            "invalid UTF-8 in a batch item",
            raw(CREATE_MANY, len_field(1, &then_field(&base(), 2, STRAY))),
            Internal,
            "CreateTicketsRequest.tickets",
        ),
        (
            "invalid UTF-8 in get agent",
            raw(GET_AGENT, len_field(1, STRAY)),
            Internal,
            "GetAgentRequest.agent_id",
        ),
        (
            "invalid UTF-8 in heartbeat",
            raw(HEARTBEAT, ana(1, STRAY)),
            Internal,
            "HeartbeatRequest.agent_id",
        ),
        (
            "invalid UTF-8 in presence",
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
            ),
            Internal,
            "SetPresenceRequest.agent_id",
        ),
        (
            "invalid UTF-8 in pull",
            raw(PULL, ana(1, OVERLONG)),
            Internal,
            "PullNextTicketRequest.agent_id",
        ),
        (
            "invalid UTF-8 in release",
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
            ),
            Internal,
            "ReleaseTicketRequest.agent_id",
        ),
        (
            "invalid UTF-8 in pending",
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
            ),
            Internal,
            "SetPendingRequest.agent_id",
        ),
        (
            "invalid UTF-8 in resolve",
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
            ),
            Internal,
            "ResolveTicketRequest.agent_id",
        ),
        (
            "invalid UTF-8 in an agent reply",
            raw(
                REPLY,
                then_field(&common::agent_reply(ASSIGNED, "ana", 1), 3, TOO_HIGH),
            ),
            Internal,
            "RecordReplyRequest.agent_id",
        ),
        (
            "invalid UTF-8 in a follow-up",
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
            ),
            Internal,
            "RecordFollowUpRequest.agent_id",
        ),
        (
            "invalid UTF-8 in an agent id",
            raw(UPSERT, then_field(&agent("carl", &[], &[], &[]), 1, STRAY)),
            Internal,
            "UpsertAgentRequest.agent_id",
        ),
        (
            "invalid UTF-8 in a display name",
            raw(
                UPSERT,
                then_field(&agent("carl", &[], &[], &[]), 2, OVERLONG),
            ),
            Internal,
            "UpsertAgentRequest.display_name",
        ),
        (
            "invalid UTF-8 in an agent skill",
            raw(
                UPSERT,
                then_field(&agent("carl", &[], &[], &[]), 3, SURROGATE),
            ),
            Internal,
            "UpsertAgentRequest.skills",
        ),
        (
            "invalid UTF-8 in a capacity key",
            raw(
                UPSERT,
                then_field(
                    &agent("carl", &[], &[], &[]),
                    5,
                    &[len_field(1, STRAY), varint_field(2, 1)].concat(),
                ),
            ),
            Internal,
            "UpsertAgentRequest.capacity",
        ),
        (
            "invalid UTF-8 in a ticket list's agent",
            raw(LIST, len_field(4, STRAY)),
            Internal,
            "ListTicketsRequest.agent_id",
        ),
        (
            "invalid UTF-8 in a ticket page token",
            raw(LIST, len_field(6, b"1\xff")),
            Internal,
            "ListTicketsRequest.page_token",
        ),
        (
            "invalid UTF-8 in an agent page token",
            raw(LIST_AGENTS, len_field(3, STRAY)),
            Internal,
            "ListAgentsRequest.page_token",
        ),
        (
            "invalid UTF-8 in an updated skill",
            raw(
                UPDATE,
                [
                    varint_field(1, QUEUED),
                    len_field(3, &len_field(1, CUT_SHORT)),
                ]
                .concat(),
            ),
            Internal,
            "UpdateTicketRequest.required_skills",
        ),
        (
            "invalid UTF-8 in the supervisor skill",
            raw_policy(len_field(15, STRAY)),
            Internal,
            "SlaPolicy.supervisor_skill",
        ),
        (
            "invalid UTF-8 in a calendar's time zone",
            calendar(len_field(2, b"Europe/Berl\xffn")),
            Internal,
            "Calendar.time_zone",
        ),
        (
            "invalid UTF-8 in a calendar's hours",
            calendar(len_field(3, b"09:00\xe2\x80")),
            Internal,
            "Calendar.mon",
        ),
        (
            "invalid UTF-8 in a holiday's date",
            calendar(len_field(10, &len_field(1, b"2026-12-2\xff"))),
            Internal,
            "Holiday.date",
        ),
        (
            "invalid UTF-8 in a channel calendar",
            raw_policy(len_field(
                11,
                &[varint_field(1, 3), len_field(2, STRAY)].concat(),
            )),
            Internal,
            "ChannelCalendar.calendar",
        ),
        (
            "length prefix past the end",
            raw(CREATE, [key(2, 2), varint(100), b"abc".to_vec()].concat()),
            Internal,
            "CreateTicketRequest.external_id",
        ),
        (
            "length prefix of 2^40",
            raw(CREATE, [key(2, 2), varint(1 << 40)].concat()),
            Internal,
            "CreateTicketRequest.external_id",
        ),
        (
            "ticket_id sent as a string",
            raw(GET, len_field(1, b"1")),
            Internal,
            "GetTicketRequest.ticket_id",
        ),
        (
            "external_id sent as a varint",
            raw(CREATE, varint_field(2, 7)),
            Internal,
            "CreateTicketRequest.external_id",
        ),
        (
            "varint of eleven bytes",
            raw(GET, [key(1, 0), vec![0xff; 10], vec![0x01]].concat()),
            Internal,
            "GetTicketRequest.ticket_id",
        ),
        (
            "field number 0",
            raw(GET, [0x00, 0x01].to_vec()),
            Internal,
            "",
        ),
        ("wire type 7", raw(GET, key(1, 7)), Internal, ""),
        ("end group with no start", raw(GET, key(5, 4)), Internal, ""),
        (
            "a key and nothing after it",
            raw(GET, key(1, 0)),
            Internal,
            "GetTicketRequest.ticket_id",
        ),
        (
            "only an unknown field",
            raw(GET, varint_field(99, 5)),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "an unknown field beside an unknown ticket",
            raw(GET, [varint_field(1, 9999), len_field(42, STRAY)].concat()),
            NotFound,
            "",
        ),
        (
            "tier as a 64-bit varint that truncates to 99",
            raw(
                CREATE,
                [base().encode_to_vec(), varint_field(4, (1 << 32) + 99)].concat(),
            ),
            InvalidArgument,
            "tier",
        ),
        (
            "empty create body",
            raw(CREATE, Vec::new()),
            InvalidArgument,
            "external_id",
        ),
        (
            "unknown method",
            raw(
                "/triage.v1.TicketService/DeleteTicket",
                varint_field(1, QUEUED),
            ),
            Unimplemented,
            "",
        ),
        (
            "unknown service",
            raw(
                "/triage.v2.TicketService/GetTicket",
                varint_field(1, QUEUED),
            ),
            Unimplemented,
            "",
        ),
    ]
}

/// Huge repeated fields, and messages over the 4 MiB limit (OUT_OF_RANGE from tonic, before
/// the handler).
fn huge() -> Vec<Row> {
    use Code::*;
    let five_mib = 5 << 20;
    vec![
        (
            "5 MiB external_id",
            with(|r| r.external_id = "x".repeat(five_mib)),
            OutOfRange,
            "",
        ),
        (
            "5 MiB of garbage",
            raw(GET, vec![0xff; five_mib]),
            OutOfRange,
            "",
        ),
        (
            "10,000 skills of 500 bytes",
            upsert(|r| r.skills = (0..10_000).map(|i| format!("{i:0>500}")).collect()),
            OutOfRange,
            "",
        ),
        (
            "1000 tickets of 5 KiB",
            Req::Batch(
                (0..1000)
                    .map(|i| pb::CreateTicketRequest {
                        customer_id: "c".repeat(5 << 10),
                        ..create(&format!("big-{i}"), Tier::Standard, Channel::Chat, &[])
                    })
                    .collect(),
            ),
            OutOfRange,
            "",
        ),
        (
            "10,000 skills on a ticket",
            with(|r| r.required_skills = numbered("s", 10_000)),
            InvalidArgument,
            "required_skills",
        ),
        (
            "10,000 skills on an agent",
            upsert(|r| r.skills = numbered("s", 10_000)),
            InvalidArgument,
            "skills",
        ),
        (
            "10,000 skills in an update",
            update(|u| u.required_skills = skill_list(numbered("s", 10_000))),
            InvalidArgument,
            "required_skills.skills",
        ),
        (
            "10,000 capacity entries",
            upsert(|r| r.capacity = (0..10_000).map(|i| (format!("ch{i}"), 1)).collect()),
            InvalidArgument,
            "capacity[ch*]",
        ),
        (
            "a batch of 1001",
            Req::Batch(
                (0..1001)
                    .map(|i| create(&format!("b-{i}"), Tier::Standard, Channel::Chat, &[]))
                    .collect(),
            ),
            InvalidArgument,
            "tickets",
        ),
        (
            "an empty batch",
            Req::Batch(Vec::new()),
            InvalidArgument,
            "tickets",
        ),
        (
            "10,000 copies of one holiday",
            office(|c| c.holidays = vec![holiday("2026-12-25", &[]); 10_000]),
            InvalidArgument,
            "policy.calendars.office.holidays",
        ),
        (
            "1,001 distinct holidays (over the cap of 1,000)",
            office(|c| {
                let first = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
                c.holidays = (0..1001)
                    .map(|d| holiday(&(first + chrono::Days::new(d)).to_string(), &[]))
                    .collect();
            }),
            InvalidArgument,
            "policy.calendars.office.holidays",
        ),
        (
            "65 calendars (over the cap of 64)",
            policy(|p| {
                p.calendars = (0..65)
                    .map(|i| pb::Calendar {
                        name: format!("cal-{i}"),
                        ..office_calendar()
                    })
                    .collect();
            }),
            InvalidArgument,
            "policy.calendars",
        ),
        (
            "a calendar name of white space",
            policy(|p| {
                p.calendars = vec![pb::Calendar {
                    name: " ".into(),
                    ..office_calendar()
                }]
            }),
            InvalidArgument,
            "policy.calendars. ",
        ),
        (
            "10,000 copies of one override",
            policy(|p| p.overrides = vec![vip_chat_override(); 10_000]),
            InvalidArgument,
            "policy.overrides[1].channel",
        ),
        (
            "10,000 unnamed calendars",
            policy(|p| p.calendars = vec![pb::Calendar::default(); 10_000]),
            InvalidArgument,
            "policy.calendars[0].name",
        ),
    ]
}

/// Durations and timestamps: negative, nanos out of range, overflowing, past, too far.
fn times() -> Vec<Row> {
    use Code::*;
    vec![
        (
            "pull waiting i64::MAX seconds",
            pull_wait(i64::MAX, 0),
            InvalidArgument,
            "wait",
        ),
        (
            "pull waiting i64::MIN seconds",
            pull_wait(i64::MIN, 0),
            InvalidArgument,
            "wait",
        ),
        (
            "pull waiting negative nanos",
            pull_wait(0, -1),
            InvalidArgument,
            "wait",
        ),
        (
            "pull waiting -1 s plus nanos",
            pull_wait(-1, 999_999_999),
            InvalidArgument,
            "wait",
        ),
        (
            "pull waiting exactly 1e9 nanos",
            pull_wait(5, 1_000_000_000),
            InvalidArgument,
            "wait",
        ),
        (
            "pull with a bad wait by an unknown agent",
            Req::Pull(pb::PullNextTicketRequest {
                agent_id: "ghost".into(),
                wait: dur(0, i32::MIN),
                ..Default::default()
            }),
            InvalidArgument,
            "wait",
        ),
        (
            "a promise with negative nanos",
            promise(4_000_000_000, -1),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise with nanos of 1e9",
            promise(4_000_000_000, 1_000_000_000),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise at i64::MAX seconds",
            promise(i64::MAX, 0),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise at i64::MIN seconds",
            promise(i64::MIN, 0),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise in the year 10000",
            promise(253_402_300_800, 0),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise at the epoch",
            promise(0, 0),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise of a second ago",
            Req::Reply(pb::RecordReplyRequest {
                next_update_by: in_seconds(-1),
                ..common::agent_reply(ASSIGNED, "ana", 1)
            }),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a customer promise with a bad timestamp",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: pb::Author::Customer as i32,
                next_update_by: Some(Timestamp {
                    seconds: -1,
                    nanos: -1,
                }),
                ..Default::default()
            }),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a good promise under a stale lease",
            Req::Reply(pb::RecordReplyRequest {
                next_update_by: in_seconds(600),
                ..common::agent_reply(ASSIGNED, "ana", 2)
            }),
            FailedPrecondition,
            "",
        ),
    ]
}

/// Leases (stale, epoch 0, another agent's, unknown agents), wrong states, unknown tickets.
fn leases() -> Vec<Row> {
    use Code::*;
    vec![
        (
            "pending by an agent not holding the ticket",
            pending(ASSIGNED, "bob", 1),
            FailedPrecondition,
            "",
        ),
        (
            "pending with a stale epoch",
            pending(ASSIGNED, "ana", 2),
            FailedPrecondition,
            "",
        ),
        (
            "pending with epoch u64::MAX",
            pending(ASSIGNED, "ana", u64::MAX),
            FailedPrecondition,
            "",
        ),
        (
            "pending on a resolved ticket",
            pending(RESOLVED, "ana", 1),
            FailedPrecondition,
            "",
        ),
        (
            "pending by an unknown agent",
            pending(ASSIGNED, "ghost", 1),
            NotFound,
            "",
        ),
        (
            "pending on ticket 0",
            pending(0, "ana", 1),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "pending on an unknown ticket",
            pending(9999, "ana", 1),
            NotFound,
            "",
        ),
        (
            "pending without an agent",
            pending(ASSIGNED, "", 1),
            InvalidArgument,
            "agent_id",
        ),
        (
            "resolve by an agent not holding the ticket",
            resolve(ASSIGNED, "bob", 1),
            FailedPrecondition,
            "",
        ),
        (
            "resolve with a stale epoch",
            resolve(ASSIGNED, "ana", 99),
            FailedPrecondition,
            "",
        ),
        (
            "resolve with epoch u64::MAX",
            resolve(ASSIGNED, "ana", u64::MAX),
            FailedPrecondition,
            "",
        ),
        (
            "resolve a queued ticket under a lease",
            resolve(QUEUED, "ana", 1),
            FailedPrecondition,
            "",
        ),
        (
            "resolve an unknown ticket",
            resolve(9999, "", 0),
            NotFound,
            "",
        ),
        (
            "resolve ticket 0",
            resolve(0, "", 0),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "resolve by an agent id with a space",
            resolve(ASSIGNED, "a b", 1),
            InvalidArgument,
            "agent_id",
        ),
        (
            "release by an agent not holding the ticket",
            release(ASSIGNED, "bob", 1),
            FailedPrecondition,
            "",
        ),
        (
            "release by an unknown agent",
            release(ASSIGNED, "ghost", 1),
            NotFound,
            "",
        ),
        (
            "release with epoch 0",
            release(ASSIGNED, "ana", 0),
            InvalidArgument,
            "lease_epoch",
        ),
        (
            "release without an agent",
            release(ASSIGNED, "", 1),
            InvalidArgument,
            "agent_id",
        ),
        (
            "release ticket 0",
            release(0, "ana", 1),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "release ticket u64::MAX",
            release(u64::MAX, "ana", 1),
            NotFound,
            "",
        ),
        (
            "release a resolved ticket",
            release(RESOLVED, "ana", 1),
            FailedPrecondition,
            "",
        ),
        (
            "agent reply on a queued ticket",
            reply(QUEUED, "ana", 1),
            FailedPrecondition,
            "",
        ),
        (
            "agent reply with epoch u64::MAX",
            reply(ASSIGNED, "ana", u64::MAX),
            FailedPrecondition,
            "",
        ),
        (
            "agent reply by an agent id with a space",
            reply(ASSIGNED, "a b", 1),
            InvalidArgument,
            "agent_id",
        ),
        (
            "customer reply to ticket u64::MAX",
            author(u64::MAX, pb::Author::Customer as i32),
            NotFound,
            "",
        ),
        (
            "customer reply to ticket 0",
            author(0, pb::Author::Customer as i32),
            InvalidArgument,
            "ticket_id",
        ),
        ("get ticket u64::MAX", Req::Get(u64::MAX), NotFound, ""),
        (
            "reopen ticket 0",
            Req::Reopen(0),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "reopen an assigned ticket",
            Req::Reopen(ASSIGNED),
            FailedPrecondition,
            "",
        ),
        (
            "reopen ticket u64::MAX",
            Req::Reopen(u64::MAX),
            NotFound,
            "",
        ),
        (
            "cancel ticket 0",
            cancel(0, 1),
            InvalidArgument,
            "ticket_id",
        ),
        ("cancel ticket u64::MAX", cancel(u64::MAX, 2), NotFound, ""),
        (
            "update ticket 0",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: 0,
                priority: Some(3),
                ..Default::default()
            }),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "update an unknown ticket",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: 9999,
                priority: Some(3),
                ..Default::default()
            }),
            NotFound,
            "",
        ),
        (
            "update with a bad skill",
            update(|u| u.required_skills = skill_list(vec!["en".into(), "x y".into()])),
            InvalidArgument,
            "required_skills.skills[1]",
        ),
        (
            "follow-up of ticket u64::MAX",
            follow_up(u64::MAX, ""),
            NotFound,
            "",
        ),
        (
            "follow-up of an assigned ticket",
            follow_up(ASSIGNED, "ana"),
            FailedPrecondition,
            "",
        ),
        (
            "presence of an unknown agent",
            presence("ghost", 2),
            NotFound,
            "",
        ),
        (
            "heartbeat of an agent id that was never upserted",
            heartbeat("carl"),
            NotFound,
            "",
        ),
        (
            "pull by an agent id that was never upserted",
            pull("carl"),
            NotFound,
            "",
        ),
    ]
}

/// The setup's resolve of the RESOLVED ticket, under a request id the rows reuse.
fn resolved_by_request() -> pb::ResolveTicketRequest {
    pb::ResolveTicketRequest {
        ticket_id: RESOLVED,
        request_id: "req-resolve".into(),
        ..Default::default()
    }
}

/// `req` with its `request_id` set to `id`.
fn keyed(req: Req, id: &str) -> Req {
    let id = id.to_string();
    match req {
        Req::Reply(r) => Req::Reply(pb::RecordReplyRequest {
            request_id: id,
            ..r
        }),
        Req::Pending(r) => Req::Pending(pb::SetPendingRequest {
            request_id: id,
            ..r
        }),
        Req::Resolve(r) => Req::Resolve(pb::ResolveTicketRequest {
            request_id: id,
            ..r
        }),
        Req::Cancel(r) => Req::Cancel(pb::CancelTicketRequest {
            request_id: id,
            ..r
        }),
        Req::Update(r) => Req::Update(pb::UpdateTicketRequest {
            request_id: id,
            ..r
        }),
        Req::Upsert(r) => Req::Upsert(pb::UpsertAgentRequest {
            request_id: id,
            ..r
        }),
        Req::Presence(r) => Req::Presence(pb::SetPresenceRequest {
            request_id: id,
            ..r
        }),
        Req::Pull(r) => Req::Pull(pb::PullNextTicketRequest {
            request_id: id,
            ..r
        }),
        Req::Release(r) => Req::Release(pb::ReleaseTicketRequest {
            request_id: id,
            ..r
        }),
        Req::FollowUp(r) => Req::FollowUp(pb::RecordFollowUpRequest {
            request_id: id,
            ..r
        }),
        Req::PutPolicy(r) => Req::PutPolicy(pb::PutSlaPolicyRequest {
            request_id: id,
            ..r
        }),
        other => other,
    }
}

/// Request ids on every mutating call: one used before (by the setup's resolve or the queued
/// ticket's create) with another body, on any call, is refused naming request_id, even where
/// the call itself would have been fine; malformed ids are refused like any field.
fn request_ids() -> Vec<Row> {
    use Code::*;
    let reused = |what, req| {
        (
            what,
            keyed(req, "req-resolve"),
            InvalidArgument,
            "request_id",
        )
    };
    let high = |r: &mut pb::UpdateTicketRequest| r.priority = Some(pb::Priority::High as i32);
    vec![
        reused(
            "resolve's request_id on another ticket",
            resolve(QUEUED, "", 0),
        ),
        reused(
            "resolve's request_id on a release",
            release(ASSIGNED, "ana", 1),
        ),
        reused("resolve's request_id on a pull", pull("ana")),
        reused("resolve's request_id on a reply", reply(ASSIGNED, "ana", 1)),
        reused(
            "resolve's request_id on set pending",
            pending(ASSIGNED, "ana", 1),
        ),
        reused("resolve's request_id on presence", presence("ana", 2)),
        reused("resolve's request_id on an upsert", upsert(|_| ())),
        reused(
            "resolve's request_id on a follow-up",
            follow_up(RESOLVED, ""),
        ),
        reused("resolve's request_id on a cancel", cancel(QUEUED, 0)),
        reused("resolve's request_id on an update", update(high)),
        reused(
            "resolve's request_id on a policy put",
            policy(|p| p.warning_fraction = 0.5),
        ),
        (
            "create's request_id on a cancel",
            keyed(cancel(QUEUED, 0), "req-x"),
            InvalidArgument,
            "request_id",
        ),
        (
            "create's request_id on an update",
            keyed(update(high), "req-x"),
            InvalidArgument,
            "request_id",
        ),
        (
            "blank request_id on a pull",
            keyed(pull("ana"), "   "),
            InvalidArgument,
            "request_id",
        ),
        (
            "bidi override in a release's request_id",
            keyed(release(ASSIGNED, "ana", 1), "rel\u{202E}1"),
            InvalidArgument,
            "request_id",
        ),
        (
            "zero-width space in a presence request_id",
            keyed(presence("ana", 2), "p\u{200B}"),
            InvalidArgument,
            "request_id",
        ),
        (
            "129-byte request_id on an upsert",
            keyed(upsert(|_| ()), &"u".repeat(129)),
            InvalidArgument,
            "request_id",
        ),
        (
            "newline in a policy put's request_id",
            keyed(policy(|p| p.warning_fraction = 0.5), "pol\n"),
            InvalidArgument,
            "request_id",
        ),
        (
            "byte-order mark in a follow-up's request_id",
            keyed(follow_up(RESOLVED, ""), "\u{FEFF}f"),
            InvalidArgument,
            "request_id",
        ),
        (
            "tab in a cancel's request_id",
            keyed(cancel(QUEUED, 0), "c\t1"),
            InvalidArgument,
            "request_id",
        ),
        (
            "bidi override in external_id",
            with(|r| r.external_id = "inv\u{202E}cod".into()),
            InvalidArgument,
            "external_id",
        ),
        (
            "zero-width joiner in external_id",
            with(|r| r.external_id = "a\u{200D}b".into()),
            InvalidArgument,
            "external_id",
        ),
        (
            "bidi isolate in customer_id",
            with(|r| r.customer_id = "\u{2066}cust".into()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "a promise of an update in the year 9999",
            promise(253_402_300_799, 0),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "control: the setup's resolve replayed",
            Req::Resolve(resolved_by_request()),
            Ok,
            "",
        ),
    ]
}

/// Request ids replayed: a different body is refused naming request_id; the same body (after
/// the daemon's normalisation) is answered with the original ticket and creates nothing.
fn replays() -> Vec<Row> {
    use Code::*;
    vec![
        (
            "request_id replayed with another tier",
            replay(|r| r.tier = Tier::Vip as i32),
            InvalidArgument,
            "request_id",
        ),
        (
            "request_id replayed with another skill",
            replay(|r| r.required_skills = vec!["de".into()]),
            InvalidArgument,
            "request_id",
        ),
        (
            "request_id replayed with a preferred agent",
            replay(|r| r.preferred_agent_id = "ana".into()),
            InvalidArgument,
            "request_id",
        ),
        (
            "request_id replayed with another customer",
            replay(|r| r.customer_id = "someone-else".into()),
            InvalidArgument,
            "request_id",
        ),
        (
            "request_id replayed in a batch with another body",
            batch_item(|r| r.request_id = "req-x".into()),
            InvalidArgument,
            "request_id",
        ),
        (
            "request_id replayed with an invalid body",
            replay(|r| r.channel = 0),
            InvalidArgument,
            "channel",
        ),
        ("control: the same body replayed", replay(|_| ()), Ok, ""),
        (
            "control: the same body, skills in other case and twice",
            replay(|r| r.required_skills = vec!["EN".into(), "en".into()]),
            Ok,
            "",
        ),
        (
            "control: the same body, priority left to its default",
            replay(|r| r.priority = 0),
            Ok,
            "",
        ),
        (
            "control: the same body replayed in a batch",
            Req::BatchItem(queued_create()),
            Ok,
            "",
        ),
        (
            "batch item with an empty external_id",
            batch_item(|r| r.external_id.clear()),
            InvalidArgument,
            "external_id",
        ),
        (
            "batch item with a taken external_id",
            batch_item(|r| r.external_id = "dup".into()),
            AlreadyExists,
            "",
        ),
        (
            "batch item with an unknown channel",
            batch_item(|r| r.channel = 42),
            InvalidArgument,
            "channel",
        ),
        (
            "batch item with a bad skill",
            batch_item(|r| r.required_skills = vec!["a b".into()]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "batch of one item whose external_id is already taken",
            Req::BatchItem(create("q", Tier::Vip, Channel::Email, &[])),
            AlreadyExists,
            "",
        ),
    ]
}

/// Page tokens that are not ours, page sizes past the limit; page size 0 and a token past the
/// end are fine (controls).
fn pages() -> Vec<Row> {
    use Code::*;
    let token = |t: &str| {
        let t = t.to_string();
        list(move |r| r.page_token = t)
    };
    let agent_token = |t: &str| {
        let t = t.to_string();
        list_agents(move |r| r.page_token = t)
    };
    vec![
        (
            "negative ticket page token",
            token("-1"),
            InvalidArgument,
            "page_token",
        ),
        (
            "ticket page token with a plus sign",
            token("+5"),
            InvalidArgument,
            "page_token",
        ),
        (
            "ticket page token with a leading zero",
            token("07"),
            InvalidArgument,
            "page_token",
        ),
        (
            "ticket page token past u64",
            token("18446744073709551616"),
            InvalidArgument,
            "page_token",
        ),
        (
            "ticket page token with a space",
            token(" 1"),
            InvalidArgument,
            "page_token",
        ),
        (
            "fractional ticket page token",
            token("1.5"),
            InvalidArgument,
            "page_token",
        ),
        (
            "hex ticket page token",
            token("0x10"),
            InvalidArgument,
            "page_token",
        ),
        (
            "base64 ticket page token",
            token("eyJhZnRlciI6MX0="),
            InvalidArgument,
            "page_token",
        ),
        (
            "ticket page token with a NUL",
            token("1\0"),
            InvalidArgument,
            "page_token",
        ),
        (
            "ticket page size u32::MAX",
            list(|r| r.page_size = u32::MAX),
            InvalidArgument,
            "page_size",
        ),
        (
            "ticket page size one over",
            list(|r| r.page_size = 1001),
            InvalidArgument,
            "page_size",
        ),
        (
            "agent page token with a space",
            agent_token("a b"),
            InvalidArgument,
            "page_token",
        ),
        (
            "oversized agent page token",
            agent_token(&"a".repeat(129)),
            InvalidArgument,
            "page_token",
        ),
        (
            "agent page token with a NUL",
            agent_token("ana\0"),
            InvalidArgument,
            "page_token",
        ),
        (
            "agent page size u32::MAX",
            list_agents(|r| r.page_size = u32::MAX),
            InvalidArgument,
            "page_size",
        ),
        (
            "control: ticket page size 0 means the default",
            list(|r| r.page_size = 0),
            Ok,
            "",
        ),
        (
            "control: a ticket page token past the end",
            token("99999"),
            Ok,
            "",
        ),
        (
            "control: agent page size 0 means the default",
            list_agents(|r| r.page_size = 0),
            Ok,
            "",
        ),
    ]
}

/// Invalid policies: shape errors (named by position) and range errors (named by key).
fn policies() -> Vec<Row> {
    use Code::*;
    let long_calendar = "c".repeat(65);
    let long_calendar_field = leak(format!("policy.calendars.{long_calendar}"));
    vec![
        (
            "target with negative nanos",
            email_targets(|t| t.first_response = dur(60, -1)),
            InvalidArgument,
            "policy.targets[0].first_response",
        ),
        (
            "target with nanos of 1e9",
            email_targets(|t| t.next_reply = dur(60, 1_000_000_000)),
            InvalidArgument,
            "policy.targets[0].next_reply",
        ),
        (
            "target of i64::MAX seconds",
            email_targets(|t| t.resolution = secs(i64::MAX)),
            InvalidArgument,
            "policy.targets[0].resolution",
        ),
        (
            "target of i64::MIN seconds",
            email_targets(|t| t.follow_up = secs(i64::MIN)),
            InvalidArgument,
            "policy.targets[0].follow_up",
        ),
        (
            "target of 367 days",
            email_targets(|t| t.resolution = secs(367 * DAY)),
            InvalidArgument,
            "policy.targets.email.resolution",
        ),
        (
            "zero next reply target",
            email_targets(|t| t.next_reply = secs(0)),
            InvalidArgument,
            "policy.targets.email.next_reply",
        ),
        (
            "target of one nanosecond",
            email_targets(|t| t.next_reply = dur(0, 1)),
            InvalidArgument,
            "policy.targets.email.next_reply",
        ),
        (
            "zero follow-up target",
            email_targets(|t| t.follow_up = secs(0)),
            InvalidArgument,
            "policy.targets.email.follow_up",
        ),
        (
            "target for an unknown channel",
            email_targets(|t| t.channel = 42),
            InvalidArgument,
            "policy.targets[0].channel",
        ),
        (
            "target for a negative channel",
            email_targets(|t| t.channel = -1),
            InvalidArgument,
            "policy.targets[0].channel",
        ),
        (
            "zero tier multiplier",
            policy(|p| {
                p.tier_multipliers = vec![pb::TierMultiplier {
                    tier: Tier::Vip as i32,
                    multiplier: 0.0,
                }]
            }),
            InvalidArgument,
            "policy.tier_multipliers.vip",
        ),
        (
            "infinite tier multiplier",
            policy(|p| {
                p.tier_multipliers = vec![pb::TierMultiplier {
                    tier: Tier::Standard as i32,
                    multiplier: f64::INFINITY,
                }]
            }),
            InvalidArgument,
            "policy.tier_multipliers.standard",
        ),
        (
            "tier multiplier over 100",
            policy(|p| {
                p.tier_multipliers = vec![pb::TierMultiplier {
                    tier: Tier::New as i32,
                    multiplier: 101.0,
                }]
            }),
            InvalidArgument,
            "policy.tier_multipliers.new",
        ),
        (
            "tier multiplier for tier unspecified",
            policy(|p| {
                p.tier_multipliers = vec![pb::TierMultiplier {
                    tier: 0,
                    multiplier: 1.0,
                }]
            }),
            InvalidArgument,
            "policy.tier_multipliers[0].tier",
        ),
        (
            "tier multiplier for an unknown tier",
            policy(|p| {
                p.tier_multipliers = vec![
                    pb::TierMultiplier {
                        tier: 1,
                        multiplier: 1.0,
                    },
                    pb::TierMultiplier {
                        tier: 99,
                        multiplier: 1.0,
                    },
                ]
            }),
            InvalidArgument,
            "policy.tier_multipliers[1].tier",
        ),
        (
            "negative priority multiplier",
            policy(|p| {
                p.priority_multipliers = vec![pb::PriorityMultiplier {
                    priority: pb::Priority::Low as i32,
                    multiplier: -0.5,
                }]
            }),
            InvalidArgument,
            "policy.priority_multipliers.low",
        ),
        (
            "priority multiplier of 1e300",
            policy(|p| {
                p.priority_multipliers = vec![pb::PriorityMultiplier {
                    priority: pb::Priority::Urgent as i32,
                    multiplier: 1e300,
                }]
            }),
            InvalidArgument,
            "policy.priority_multipliers.urgent",
        ),
        (
            "priority multiplier for an unknown priority",
            policy(|p| {
                p.priority_multipliers = vec![pb::PriorityMultiplier {
                    priority: 9,
                    multiplier: 1.0,
                }]
            }),
            InvalidArgument,
            "policy.priority_multipliers[0].priority",
        ),
        (
            "priority multiplier for priority unspecified",
            policy(|p| {
                p.priority_multipliers = vec![pb::PriorityMultiplier {
                    priority: 0,
                    multiplier: 1.0,
                }]
            }),
            InvalidArgument,
            "policy.priority_multipliers[0].priority",
        ),
        (
            "negative warning fraction",
            policy(|p| p.warning_fraction = -0.5),
            InvalidArgument,
            "policy.warning_fraction",
        ),
        (
            "warning fraction of 1",
            policy(|p| p.warning_fraction = 1.0),
            InvalidArgument,
            "policy.warning_fraction",
        ),
        (
            "NaN warning fraction",
            policy(|p| p.warning_fraction = f64::NAN),
            InvalidArgument,
            "policy.warning_fraction",
        ),
        (
            "negative l2 offset",
            policy(|p| p.l2_offset = -1.0),
            InvalidArgument,
            "policy.l2_offset",
        ),
        (
            "l2 offset over 100",
            policy(|p| p.l2_offset = 150.0),
            InvalidArgument,
            "policy.l2_offset",
        ),
        (
            "NaN l2 offset",
            policy(|p| p.l2_offset = f64::NAN),
            InvalidArgument,
            "policy.l2_offset",
        ),
        (
            "l3 offset under the default l2",
            policy(|p| p.l3_offset = 0.4),
            InvalidArgument,
            "policy.l3_offset",
        ),
        (
            "l3 offset over 100",
            policy(|p| p.l3_offset = 100.5),
            InvalidArgument,
            "policy.l3_offset",
        ),
        (
            "negative service level target",
            policy(|p| p.service_level_target = -0.1),
            InvalidArgument,
            "policy.service_level_target",
        ),
        (
            "NaN service level target",
            policy(|p| p.service_level_target = f64::NAN),
            InvalidArgument,
            "policy.service_level_target",
        ),
        (
            "preferred hold of 25 hours",
            policy(|p| p.preferred_hold = secs(25 * HOUR)),
            InvalidArgument,
            "policy.preferred_hold",
        ),
        (
            "negative preferred hold",
            policy(|p| p.preferred_hold = secs(-1)),
            InvalidArgument,
            "policy.preferred_hold",
        ),
        (
            "preferred hold of i64::MAX seconds",
            policy(|p| p.preferred_hold = secs(i64::MAX)),
            InvalidArgument,
            "policy.preferred_hold",
        ),
        (
            "presence ttl of half a second",
            policy(|p| p.presence_ttl = dur(0, 500_000_000)),
            InvalidArgument,
            "policy.presence_ttl",
        ),
        (
            "presence ttl of 25 hours",
            policy(|p| p.presence_ttl = secs(25 * HOUR)),
            InvalidArgument,
            "policy.presence_ttl",
        ),
        (
            "presence ttl with negative nanos",
            policy(|p| p.presence_ttl = dur(10, -1)),
            InvalidArgument,
            "policy.presence_ttl",
        ),
        (
            "zero follow-up delay",
            policy(|p| p.follow_up_after = secs(0)),
            InvalidArgument,
            "policy.follow_up_after",
        ),
        (
            "follow-up delay of 367 days",
            policy(|p| p.follow_up_after = secs(367 * DAY)),
            InvalidArgument,
            "policy.follow_up_after",
        ),
        (
            "follow-up delay of i64::MIN seconds",
            policy(|p| p.follow_up_after = secs(i64::MIN)),
            InvalidArgument,
            "policy.follow_up_after",
        ),
        (
            "stats window of 59 seconds",
            policy(|p| p.stats_window = secs(59)),
            InvalidArgument,
            "policy.stats_window",
        ),
        (
            "stats window of 31 days",
            policy(|p| p.stats_window = secs(31 * DAY)),
            InvalidArgument,
            "policy.stats_window",
        ),
        (
            "stats window with nanos of 1e9",
            policy(|p| p.stats_window = dur(600, 1_000_000_000)),
            InvalidArgument,
            "policy.stats_window",
        ),
        (
            "unknown l2 widening",
            policy(|p| p.l2_widen = 99),
            InvalidArgument,
            "policy.l2_widen",
        ),
        (
            "negative l3 widening",
            policy(|p| p.l3_widen = -1),
            InvalidArgument,
            "policy.l3_widen",
        ),
        (
            "widening to supervisors with no supervisor skill",
            Req::PutPolicy(pb::PutSlaPolicyRequest {
                policy: Some(pb::SlaPolicy {
                    l2_widen: pb::Widen::Supervisors as i32,
                    ..Default::default()
                }),
                replace: true,
                ..Default::default()
            }),
            InvalidArgument,
            "policy.supervisor_skill",
        ),
        (
            "upper-case supervisor skill",
            policy(|p| p.supervisor_skill = "Supervisor".into()),
            InvalidArgument,
            "policy.supervisor_skill",
        ),
        (
            "oversized supervisor skill",
            policy(|p| p.supervisor_skill = "s".repeat(65)),
            InvalidArgument,
            "policy.supervisor_skill",
        ),
        (
            "a space in the supervisor skill",
            policy(|p| p.supervisor_skill = "has space".into()),
            InvalidArgument,
            "policy.supervisor_skill",
        ),
        (
            "a slash and non-ASCII in the onboarding skill",
            policy(|p| p.onboarding_skill = "ü/x".into()),
            InvalidArgument,
            "policy.onboarding_skill",
        ),
        (
            "newline in the supervisor skill",
            policy(|p| p.supervisor_skill = "sup\n".into()),
            InvalidArgument,
            "policy.supervisor_skill",
        ),
        (
            "oversized onboarding skill",
            policy(|p| p.onboarding_skill = "o".repeat(65)),
            InvalidArgument,
            "policy.onboarding_skill",
        ),
        (
            "bell in the onboarding skill",
            policy(|p| p.onboarding_skill = "on\u{7}".into()),
            InvalidArgument,
            "policy.onboarding_skill",
        ),
        (
            "override for an unknown tier",
            vip_chat(|o| o.tier = 99),
            InvalidArgument,
            "policy.overrides[0].tier",
        ),
        (
            "override for channel unspecified",
            vip_chat(|o| o.channel = 0),
            InvalidArgument,
            "policy.overrides[0].channel",
        ),
        (
            "override for an unknown channel",
            vip_chat(|o| o.channel = 42),
            InvalidArgument,
            "policy.overrides[0].channel",
        ),
        (
            "override listed twice",
            policy(|p| p.overrides = vec![vip_chat_override(), vip_chat_override()]),
            InvalidArgument,
            "policy.overrides[1].channel",
        ),
        (
            "override with a negative target",
            vip_chat(|o| o.resolution = secs(-60)),
            InvalidArgument,
            "policy.overrides[0].resolution",
        ),
        (
            "override with nanos of 1e9",
            vip_chat(|o| o.next_reply = dur(1, 1_000_000_000)),
            InvalidArgument,
            "policy.overrides[0].next_reply",
        ),
        (
            "override of 367 days",
            vip_chat(|o| o.follow_up = secs(367 * DAY)),
            InvalidArgument,
            "policy.overrides.vip.chat.follow_up",
        ),
        (
            "calendar without a name",
            office(|c| c.name.clear()),
            InvalidArgument,
            "policy.calendars[0].name",
        ),
        (
            "calendar with a 65-byte name",
            office(|c| c.name = long_calendar.clone()),
            InvalidArgument,
            long_calendar_field,
        ),
        (
            "calendar listed twice",
            policy(|p| p.calendars = vec![office_calendar(), office_calendar()]),
            InvalidArgument,
            "policy.calendars[1].name",
        ),
        (
            "calendar without a time zone",
            office(|c| c.time_zone.clear()),
            InvalidArgument,
            "policy.calendars[0].time_zone",
        ),
        (
            "calendar in a UTC offset",
            office(|c| c.time_zone = "+02:00".into()),
            InvalidArgument,
            "policy.calendars[0].time_zone",
        ),
        (
            "calendar in a zone with a NUL",
            office(|c| c.time_zone = "Europe/Berlin\0".into()),
            InvalidArgument,
            "policy.calendars[0].time_zone",
        ),
        (
            "calendar hours that overlap",
            office(|c| c.tue = vec!["09:00-12:00".into(), "11:00-13:00".into()]),
            InvalidArgument,
            "policy.calendars.office.tue[1]",
        ),
        (
            "calendar hours out of order",
            office(|c| c.wed = vec!["14:00-18:00".into(), "09:00-12:00".into()]),
            InvalidArgument,
            "policy.calendars.office.wed[1]",
        ),
        (
            "calendar hours that are empty",
            office(|c| c.thu = vec!["09:00-09:00".into()]),
            InvalidArgument,
            "policy.calendars.office.thu[0]",
        ),
        (
            "calendar hours past 24:00",
            office(|c| c.fri = vec!["20:00-24:01".into()]),
            InvalidArgument,
            "policy.calendars[0].fri[0]",
        ),
        (
            "calendar hours at 25 o'clock",
            office(|c| c.sat = vec!["10:00-25:00".into()]),
            InvalidArgument,
            "policy.calendars[0].sat[0]",
        ),
        (
            "calendar hours with minute 60",
            office(|c| c.sun = vec!["09:60-10:00".into()]),
            InvalidArgument,
            "policy.calendars[0].sun[0]",
        ),
        (
            "calendar hours with negative time",
            office(|c| c.mon = vec!["-1:00-10:00".into()]),
            InvalidArgument,
            "policy.calendars[0].mon[0]",
        ),
        (
            "holiday listed twice",
            office(|c| {
                c.holidays = vec![
                    holiday("2026-12-25", &[]),
                    holiday("2026-12-25", &["09:00-12:00"]),
                ]
            }),
            InvalidArgument,
            "policy.calendars.office.holidays[1].date",
        ),
        (
            "holiday on February 30",
            office(|c| c.holidays = vec![holiday("2026-02-30", &[])]),
            InvalidArgument,
            "policy.calendars[0].holidays[0].date",
        ),
        (
            "holiday with an empty date",
            office(|c| c.holidays = vec![holiday("", &[])]),
            InvalidArgument,
            "policy.calendars[0].holidays[0].date",
        ),
        (
            "holiday hours that are not hours",
            office(|c| c.holidays = vec![holiday("2026-12-24", &["morning"])]),
            InvalidArgument,
            "policy.calendars[0].holidays[0].hours[0]",
        ),
        (
            "holiday hours that end before they start",
            office(|c| c.holidays = vec![holiday("2026-12-24", &["13:00-09:00"])]),
            InvalidArgument,
            "policy.calendars.office.holidays[0].hours[0]",
        ),
        (
            "channel calendar for channel unspecified",
            policy(|p| p.channel_calendars = vec![channel_calendar(0, "office")]),
            InvalidArgument,
            "policy.channel_calendars[0].channel",
        ),
        (
            "channel calendar for an unknown channel",
            policy(|p| p.channel_calendars = vec![channel_calendar(42, "office")]),
            InvalidArgument,
            "policy.channel_calendars[0].channel",
        ),
        (
            "channel calendar listed twice",
            policy(|p| {
                p.calendars = vec![office_calendar()];
                p.channel_calendars =
                    vec![channel_calendar(3, "office"), channel_calendar(3, "office")];
            }),
            InvalidArgument,
            "policy.channel_calendars[1].channel",
        ),
        (
            "channel calendar naming the empty name",
            policy(|p| p.channel_calendars = vec![channel_calendar(3, "")]),
            InvalidArgument,
            "policy.channel_calendars.email",
        ),
    ]
}

/// `Work` sessions: protocol errors end the session naming the field; a refused done or
/// release is answered with its code.
fn work_sessions() -> Vec<Row> {
    use Code::*;
    vec![
        (
            "work session that does not start",
            work(vec![ready(1)]),
            InvalidArgument,
            "start",
        ),
        (
            "work session closed before any message",
            Req::Work {
                messages: vec![],
                close: true,
            },
            InvalidArgument,
            "start",
        ),
        (
            "work start without an agent",
            work(vec![start("", 0)]),
            InvalidArgument,
            "start.agent_id",
        ),
        (
            "work start with a space in the agent",
            work(vec![start("a b", 0)]),
            InvalidArgument,
            "start.agent_id",
        ),
        (
            "work start with credit over the limit",
            work(vec![start("ana", 1001)]),
            InvalidArgument,
            "start.ready",
        ),
        (
            "work credit over the limit",
            work(vec![start("ana", 0), ready(1001)]),
            InvalidArgument,
            "ready.tickets",
        ),
        (
            "work credit of u32::MAX",
            work(vec![start("ana", 0), ready(u32::MAX)]),
            InvalidArgument,
            "ready.tickets",
        ),
        (
            "a second work start",
            work(vec![start("ana", 0), start("ana", 0)]),
            InvalidArgument,
            "start",
        ),
        (
            "work message with no kind",
            Req::Work {
                messages: vec![
                    pb::WorkRequest {
                        tag: 0,
                        kind: Some(start("ana", 0)),
                    },
                    pb::WorkRequest { tag: 1, kind: None },
                ],
                close: false,
            },
            InvalidArgument,
            "kind",
        ),
        (
            "work session of an offline agent",
            work(vec![start("bob", 1)]),
            FailedPrecondition,
            "",
        ),
        (
            "work session of an unknown agent",
            work(vec![start("ghost", 1)]),
            NotFound,
            "",
        ),
        (
            "work done with a stale epoch",
            work(vec![start("ana", 0), done(ASSIGNED, 7)]),
            FailedPrecondition,
            "",
        ),
        (
            "work done on an unknown ticket",
            work(vec![start("ana", 0), done(9999, 1)]),
            NotFound,
            "",
        ),
        (
            "work release of a queued ticket",
            work(vec![start("ana", 0), work_release(QUEUED, 1)]),
            FailedPrecondition,
            "",
        ),
    ]
}

/// Everything a refused call could have changed.
async fn snapshot(c: &mut Clients) -> (Vec<pb::Ticket>, Vec<pb::Agent>, pb::SlaPolicy) {
    let agents = c
        .all_agents()
        .await
        .into_iter()
        .map(|a| pb::Agent {
            last_seen: None,
            ..a
        })
        .collect();
    let policy = c.policy().await;
    (c.all_tickets().await, agents, policy)
}

/// `field` as the table gives it, where `*` stands for any text.
fn field_matches(expected: &str, named: &str) -> bool {
    match expected.split_once('*') {
        Some((head, tail)) => {
            named.len() >= head.len() + tail.len()
                && named.starts_with(head)
                && named.ends_with(tail)
        }
        None => expected == named,
    }
}

/// What is wrong with the answer to one row, if anything.
fn check(what: &str, answer: Result<(), Status>, code: Code, field: &str) -> Option<String> {
    let status = match answer {
        Ok(()) if code == Code::Ok => return None,
        Ok(()) => return Some(format!("{what}: accepted, expected {code:?}")),
        Err(status) => status,
    };
    if status.code() != code {
        return Some(format!(
            "{what}: got {:?} ({}), expected {code:?}",
            status.code(),
            status.message()
        ));
    }
    if code != Code::InvalidArgument {
        return match field.is_empty() || status.message().contains(field) {
            true => None,
            false => Some(format!(
                "{what}: message {:?} does not name {field:?}",
                status.message()
            )),
        };
    }
    let named = status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()));
    match named {
        Some(named) if field_matches(field, &named) => {
            if status.message().contains(&named) {
                None
            } else {
                Some(format!(
                    "{what}: message {:?} does not name {named:?}",
                    status.message()
                ))
            }
        }
        named => Some(format!(
            "{what}: BadRequest names {named:?}, expected {field:?}"
        )),
    }
}

#[tokio::test]
async fn every_malformed_or_hostile_request_gets_its_status_and_changes_nothing() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ana", &["en"], &[], &[("chat", 1)]))
        .await;
    c.agents
        .upsert_agent(agent("bob", &["en"], &[], &[]))
        .await
        .expect("bob stays offline");
    let assigned = c
        .create(create("dup", Tier::Standard, Channel::Chat, &["en"]))
        .await;
    let queued = c.create(queued_create()).await;
    let resolved = c
        .create(create("r", Tier::Standard, Channel::Email, &[]))
        .await;
    assert_eq!(
        (assigned.ticket_id, queued.ticket_id, resolved.ticket_id),
        (ASSIGNED, QUEUED, RESOLVED)
    );
    let a = c.pull("ana").await.expect("ana takes the first chat");
    assert_eq!(
        (a.ticket.expect("t").ticket_id, a.lease_epoch),
        (ASSIGNED, 1)
    );
    c.tickets
        .resolve_ticket(resolved_by_request())
        .await
        .expect("resolve");

    let before = snapshot(&mut c).await;
    let rows = table();
    let hostile = rows.iter().filter(|row| row.2 != Code::Ok).count();
    assert!(hostile >= 150, "{hostile} hostile rows");
    eprintln!("{hostile} hostile rows, {} controls", rows.len() - hostile);
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for (what, req, code, field) in rows {
        assert!(names.insert(what), "two rows are named {what:?}");
        let answer = send(&mut c, req).await;
        failures.extend(check(what, answer, code, field));
    }
    assert!(
        failures.is_empty(),
        "{} rows wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot(&mut c).await,
        before,
        "a refused call changed something"
    );
}
