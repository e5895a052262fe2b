//! Bad input gets the right status, names the offending field, and changes nothing: one table
//! per service (`tickets`, `agents`, `admin`, `work`), one row a line, every row sent to a live
//! daemon, then the daemon's state compared with a snapshot. `build` and `wire` make the
//! requests.
//!
//! The rows cover every request type: empty, oversized, whitespace-only and forbidden-character
//! fields; unknown enum values; invalid UTF-8 and malformed protobuf sent as raw wire bytes
//! (prost types cannot hold them); huge repeated fields and messages over the 4 MiB limit;
//! negative, overflowing and out-of-range durations and timestamps; stale and foreign leases,
//! wrong states, unknown ids; replayed request ids; garbage page tokens; invalid SLA policies;
//! protocol errors in `Work` sessions. A few rows expect OK: controls that a replay returns the
//! original ticket (the snapshot proves it created nothing) and that harmless reads pass.

mod admin;
mod agent_time;
mod agents;
mod build;
mod desk;
mod tickets;
mod wire;
mod work;

use crate::common::{agent, create, temp, Clients, Daemon};
use build::{queued_create, resolved_by_request, ASSIGNED, QUEUED, RESOLVED};
use pb::{Channel, Tier};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use triage::proto as pb;
use wire::RawBody;

enum Req {
    Create(pb::CreateTicketRequest),
    Get(u64),
    Explain(u64),
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
    Accept(pb::AcceptTicketRequest),
    Reject(pb::RejectTicketRequest),
    List(pb::ListTicketsRequest),
    ListAgents(pb::ListAgentsRequest),
    /// Boxed: a policy is by far the largest request.
    PutPolicy(Box<pb::PutSlaPolicyRequest>),
    Erase(pb::EraseCustomerRequest),
    PutWebhook(pb::PutWebhookRequest),
    DeleteWebhook(String),
    FollowUp(pb::RecordFollowUpRequest),
    Assign(pb::AssignTicketRequest),
    Transfer(pb::TransferTicketRequest),
    EndWrapUp(pb::EndWrapUpRequest),
    AgentStats(pb::GetAgentStatsRequest),
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

impl Req {
    fn put_policy(r: pb::PutSlaPolicyRequest) -> Req {
        Req::PutPolicy(Box::new(r))
    }
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
        Req::Explain(id) => c
            .tickets
            .explain_ticket(pb::ExplainTicketRequest { ticket_id: id })
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
        Req::Accept(r) => c.agents.accept_ticket(r).await.map(drop),
        Req::Reject(r) => c.agents.reject_ticket(r).await.map(drop),
        Req::List(r) => c.tickets.list_tickets(r).await.map(drop),
        Req::ListAgents(r) => c.agents.list_agents(r).await.map(drop),
        Req::PutPolicy(r) => c.admin.put_sla_policy(*r).await.map(drop),
        Req::Erase(r) => c.admin.erase_customer(r).await.map(drop),
        Req::PutWebhook(r) => c.admin.put_webhook(r).await.map(drop),
        Req::DeleteWebhook(id) => c
            .admin
            .delete_webhook(pb::DeleteWebhookRequest { id })
            .await
            .map(drop),
        Req::FollowUp(r) => c.tickets.record_follow_up(r).await.map(drop),
        Req::Assign(r) => c.tickets.assign_ticket(r).await.map(drop),
        Req::Transfer(r) => c.tickets.transfer_ticket(r).await.map(drop),
        Req::EndWrapUp(r) => c.agents.end_wrap_up(r).await.map(drop),
        Req::AgentStats(r) => c.agents.get_agent_stats(r).await.map(drop),
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

/// Every row of every service's table.
fn table() -> Vec<Row> {
    [
        tickets::rows(),
        agents::rows(),
        admin::rows(),
        work::rows(),
        desk::rows(),
        agent_time::rows(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Everything a refused call could have changed.
type Snapshot = (
    Vec<pb::Ticket>,
    Vec<pb::Agent>,
    pb::SlaPolicy,
    Vec<pb::Webhook>,
);

async fn snapshot(c: &mut Clients) -> Snapshot {
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
    let webhooks = c
        .admin
        .list_webhooks(pb::ListWebhooksRequest {})
        .await
        .expect("list webhooks")
        .into_inner()
        .webhooks;
    (c.all_tickets().await, agents, policy, webhooks)
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
