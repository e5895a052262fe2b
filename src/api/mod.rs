//! The gRPC API: `TicketService`, `AgentService` and `AdminService` of `triage.v1`. Each
//! handler validates its request into a core command (`validate`), sends it to the owner task,
//! and converts the durable answer back (`convert`); errors become statuses in `status`.

pub mod convert;
pub mod desk;
pub mod offers;
pub mod policy;
pub mod status;
pub mod validate;
mod webhooks;
mod work;

use crate::auth::{self, Authenticator, Need};
use crate::core::command::{Command, Reply};
use crate::core::event::Actor;
use crate::proto as pb;
use crate::server::events::EventFeed;
use crate::server::handle::{Handle, ServiceError};
use crate::telemetry;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::{wrappers::ReceiverStream, Stream, StreamExt};
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status};
use validate::Limits;

pub type TicketServer = pb::ticket_service_server::TicketServiceServer<Api>;
pub type AgentServer = pb::agent_service_server::AgentServiceServer<Api>;
pub type AdminServer = pb::admin_service_server::AdminServiceServer<Api>;
/// A service whose every request is authenticated first.
pub type Intercepted<S> = InterceptedService<S, Authenticator>;

/// The state every service shares: the way to the owner task and the request limits.
#[derive(Clone)]
pub struct Api {
    handle: Handle,
    events: EventFeed,
    limits: Limits,
    /// One permit per open `Work` session or `WatchEvents` stream.
    streams: Arc<Semaphore>,
}

impl Api {
    pub fn new(handle: Handle, events: EventFeed, limits: Limits) -> Api {
        Api {
            handle,
            events,
            streams: Arc::new(Semaphore::new(limits.max_streams)),
            limits,
        }
    }

    pub fn ticket_service(&self, auth: Authenticator) -> Intercepted<TicketServer> {
        let n = self.limits.max_message_bytes;
        let server = TicketServer::new(self.clone())
            .max_decoding_message_size(n)
            .max_encoding_message_size(n);
        InterceptedService::new(server, auth)
    }
    pub fn agent_service(&self, auth: Authenticator) -> Intercepted<AgentServer> {
        let n = self.limits.max_message_bytes;
        let server = AgentServer::new(self.clone())
            .max_decoding_message_size(n)
            .max_encoding_message_size(n);
        InterceptedService::new(server, auth)
    }
    pub fn admin_service(&self, auth: Authenticator) -> Intercepted<AdminServer> {
        let n = self.limits.max_message_bytes;
        let server = AdminServer::new(self.clone())
            .max_decoding_message_size(n)
            .max_encoding_message_size(n);
        InterceptedService::new(server, auth)
    }

    /// A permit for one more open stream, or RESOURCE_EXHAUSTED.
    fn stream_permit(&self) -> Result<OwnedSemaphorePermit, Status> {
        Arc::clone(&self.streams).try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "too many Work sessions and WatchEvents streams open (limit {}); retry later",
                self.limits.max_streams
            ))
        })
    }

    /// Sends a validated command for `who` and waits for its durable answer.
    async fn call(&self, who: &Actor, cmd: Result<Command, Status>) -> Result<Reply, Status> {
        Ok(self.handle.call(who, cmd?).await?)
    }

    async fn call_ticket(
        &self,
        who: &Actor,
        cmd: Result<Command, Status>,
    ) -> Result<pb::Ticket, Status> {
        match self.call(who, cmd).await? {
            Reply::Ticket(t) => Ok(convert::ticket(&t)),
            other => Err(unexpected(other)),
        }
    }

    async fn call_agent(
        &self,
        who: &Actor,
        cmd: Result<Command, Status>,
    ) -> Result<pb::Agent, Status> {
        match self.call(who, cmd).await? {
            Reply::Agent(a) => Ok(convert::agent(&a)),
            other => Err(unexpected(other)),
        }
    }
}

impl Api {
    /// Validates every item, sends the valid ones as one command, and puts the answers back
    /// in request order: a refused item gets its error, the others their tickets.
    async fn create_batch(
        &self,
        who: &Actor,
        items: Vec<pb::CreateTicketRequest>,
    ) -> Result<pb::CreateTicketsResponse, Status> {
        if items.is_empty() || items.len() > validate::MAX_BATCH {
            let reason = format!("must hold 1 to {} tickets", validate::MAX_BATCH);
            return Err(status::invalid("tickets", reason));
        }
        let mut valid = Vec::with_capacity(items.len());
        let refused: Vec<Option<Status>> = items
            .into_iter()
            .map(|item| match validate::new_ticket(item) {
                Ok(new) => {
                    valid.push(new);
                    None
                }
                Err(status) => Some(status),
            })
            .collect();
        let mut created = match valid.is_empty() {
            true => Vec::new(),
            false => match self.call(who, Ok(Command::CreateTickets(valid))).await? {
                Reply::Created(results) => results,
                other => return Err(unexpected(other)),
            },
        }
        .into_iter();
        let results = refused
            .into_iter()
            .map(|refusal| {
                let outcome = match refusal {
                    Some(status) => Err(status),
                    None => created
                        .next()
                        .ok_or_else(|| Status::internal("missing batch result"))?
                        .map_err(|e| Status::from(ServiceError::Core(e))),
                };
                Ok(convert::create_result(outcome))
            })
            .collect::<Result<_, Status>>()?;
        Ok(pb::CreateTicketsResponse { results })
    }
}

/// Who the caller is (as the audit trail names it) and the message of `r`, once the caller
/// may do what `need` says of it (`auth`). Checked before validation, so a caller learns
/// nothing from a call it may not make.
fn permitted<T>(r: Request<T>, need: impl FnOnce(&T) -> Need<'_>) -> Result<(Actor, T), Status> {
    let who = auth::principal(&r)?;
    let message = r.into_inner();
    who.require(need(&message))?;
    Ok((who.actor(), message))
}

/// The caller's deadline (the `grpc-timeout` header), if it sent one.
fn grpc_timeout<T>(r: &Request<T>) -> Option<Duration> {
    let value = r.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// A create is the integration's; one with a `created_at` (an import, in batch item `item`)
/// is refused naming that field.
fn create_need(backdated: bool, item: Option<usize>) -> Need<'static> {
    match backdated {
        true => Need::Backdate { item },
        false => Need::Integrator,
    }
}

/// An agent's reply is the agent's to record; a customer's, and an agent's recorded on its
/// behalf (without a lease), come from the integration.
fn reply_need(m: &pb::RecordReplyRequest) -> Need<'_> {
    match (m.author(), m.on_behalf) {
        (pb::Author::Agent, false) => Need::Agent(&m.agent_id),
        _ => Need::Integrator,
    }
}

/// Resolving under a lease is the agent's act; without one, the integration's.
fn resolve_need(m: &pb::ResolveTicketRequest) -> Need<'_> {
    match (m.agent_id.is_empty(), m.lease_epoch) {
        (true, 0) => Need::Integrator,
        _ => Need::Agent(&m.agent_id),
    }
}

fn unexpected(reply: Reply) -> Status {
    tracing::error!(
        ?reply,
        "the scheduler answered with the wrong kind of reply"
    );
    Status::internal("internal error: unexpected reply")
}

/// Runs one RPC: times it, records its outcome, logs failures at debug.
async fn rpc<T>(
    method: &'static str,
    work: impl Future<Output = Result<T, Status>>,
) -> Result<Response<T>, Status> {
    let started = Instant::now();
    let result = work.await;
    let code = result
        .as_ref()
        .map_or_else(|s| s.code(), |_| tonic::Code::Ok);
    telemetry::record_rpc(method, code, started.elapsed());
    if let Err(status) = &result {
        tracing::debug!(method, code = ?status.code(), message = status.message(), "request refused");
    }
    result.map(Response::new)
}

#[tonic::async_trait]
impl pb::ticket_service_server::TicketService for Api {
    async fn create_ticket(
        &self,
        r: Request<pb::CreateTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("CreateTicket", async {
            let (who, m) = permitted(r, |m| create_need(m.created_at.is_some(), None))?;
            self.call_ticket(&who, validate::create_ticket(m)).await
        })
        .await
    }

    async fn create_tickets(
        &self,
        r: Request<pb::CreateTicketsRequest>,
    ) -> Result<Response<pb::CreateTicketsResponse>, Status> {
        rpc("CreateTickets", async {
            let (who, m) = permitted(r, |m| {
                let first = m.tickets.iter().position(|t| t.created_at.is_some());
                create_need(first.is_some(), first)
            })?;
            self.create_batch(&who, m.tickets).await
        })
        .await
    }

    async fn get_ticket(
        &self,
        r: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("GetTicket", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_ticket(&who, validate::get_ticket(m)).await
        })
        .await
    }

    /// Agents may not call it: like GetTicket it is for supervisors and integrations, and it
    /// tells about other agents (their presence and load).
    async fn explain_ticket(
        &self,
        r: Request<pb::ExplainTicketRequest>,
    ) -> Result<Response<pb::TicketExplanation>, Status> {
        rpc("ExplainTicket", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            match self.call(&who, validate::explain_ticket(m)).await? {
                Reply::Explanation(e) => Ok(convert::explanation(&e)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    async fn list_tickets(
        &self,
        r: Request<pb::ListTicketsRequest>,
    ) -> Result<Response<pb::ListTicketsResponse>, Status> {
        rpc("ListTickets", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            match self.call(&who, validate::list_tickets(m)).await? {
                Reply::Tickets { tickets, next } => Ok(pb::ListTicketsResponse {
                    tickets: tickets.iter().map(convert::ticket).collect(),
                    next_page_token: next.map_or_else(String::new, |id| id.0.to_string()),
                }),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    async fn record_reply(
        &self,
        r: Request<pb::RecordReplyRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("RecordReply", async {
            let (who, m) = permitted(r, reply_need)?;
            self.call_ticket(&who, validate::once(m, validate::record_reply))
                .await
        })
        .await
    }

    async fn record_follow_up(
        &self,
        r: Request<pb::RecordFollowUpRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("RecordFollowUp", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_ticket(&who, validate::once(m, validate::record_follow_up))
                .await
        })
        .await
    }

    async fn set_pending(
        &self,
        r: Request<pb::SetPendingRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("SetPending", async {
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            self.call_ticket(&who, validate::once(m, validate::set_pending))
                .await
        })
        .await
    }

    async fn resolve_ticket(
        &self,
        r: Request<pb::ResolveTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("ResolveTicket", async {
            let (who, m) = permitted(r, resolve_need)?;
            self.call_ticket(&who, validate::once(m, validate::resolve))
                .await
        })
        .await
    }

    async fn reopen_ticket(
        &self,
        r: Request<pb::ReopenTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("ReopenTicket", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_ticket(&who, validate::once(m, validate::reopen))
                .await
        })
        .await
    }

    async fn cancel_ticket(
        &self,
        r: Request<pb::CancelTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("CancelTicket", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_ticket(&who, validate::once(m, validate::cancel))
                .await
        })
        .await
    }

    async fn update_ticket(
        &self,
        r: Request<pb::UpdateTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("UpdateTicket", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_ticket(&who, validate::once(m, validate::update))
                .await
        })
        .await
    }

    async fn assign_ticket(
        &self,
        r: Request<pb::AssignTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("AssignTicket", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_ticket(&who, validate::once(m, desk::assign))
                .await
        })
        .await
    }

    async fn transfer_ticket(
        &self,
        r: Request<pb::TransferTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("TransferTicket", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_ticket(&who, validate::once(m, desk::transfer))
                .await
        })
        .await
    }
}

#[tonic::async_trait]
impl pb::agent_service_server::AgentService for Api {
    async fn upsert_agent(
        &self,
        r: Request<pb::UpsertAgentRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        rpc("UpsertAgent", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_agent(&who, validate::once(m, validate::upsert_agent))
                .await
        })
        .await
    }

    async fn get_agent(
        &self,
        r: Request<pb::GetAgentRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        rpc("GetAgent", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            self.call_agent(&who, validate::get_agent(m)).await
        })
        .await
    }

    async fn list_agents(
        &self,
        r: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::ListAgentsResponse>, Status> {
        rpc("ListAgents", async {
            let (who, m) = permitted(r, |_| Need::Integrator)?;
            match self.call(&who, validate::list_agents(m)).await? {
                Reply::Agents { agents, next } => Ok(pb::ListAgentsResponse {
                    agents: agents.iter().map(convert::agent).collect(),
                    next_page_token: next.map_or_else(String::new, |id| id.to_string()),
                }),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    async fn set_presence(
        &self,
        r: Request<pb::SetPresenceRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        rpc("SetPresence", async {
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            self.call_agent(&who, validate::once(m, validate::set_presence))
                .await
        })
        .await
    }

    async fn heartbeat(
        &self,
        r: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        rpc("Heartbeat", async {
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            match self.call(&who, validate::heartbeat(m)).await? {
                Reply::Heartbeat {
                    presence,
                    expires_at,
                } => Ok(convert::heartbeat(presence, expires_at)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    async fn pull_next_ticket(
        &self,
        r: Request<pb::PullNextTicketRequest>,
    ) -> Result<Response<pb::PullNextTicketResponse>, Status> {
        rpc("PullNextTicket", async {
            let deadline = grpc_timeout(&r);
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            let (pull, wait) = validate::pull(m, self.limits)?;
            // Answer "no ticket" before the caller's deadline rather than let it expire.
            let wait = deadline.map_or(wait, |d| wait.min(d.mul_f64(0.9)));
            match self.handle.pull(&who, pull, wait).await? {
                Reply::Pulled(a) => Ok(pb::PullNextTicketResponse {
                    assignment: a.map(|a| convert::assignment(&a)),
                }),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    type WorkStream = work::WorkStream;

    async fn work(
        &self,
        r: Request<tonic::Streaming<pb::WorkRequest>>,
    ) -> Result<Response<Self::WorkStream>, Status> {
        let who = auth::principal(&r)?;
        let permit = self.stream_permit()?;
        Ok(Response::new(work::open(
            self.handle.clone(),
            who,
            permit,
            r.into_inner(),
        )))
    }

    async fn release_ticket(
        &self,
        r: Request<pb::ReleaseTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("ReleaseTicket", async {
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            self.call_ticket(&who, validate::once(m, validate::release))
                .await
        })
        .await
    }

    async fn accept_ticket(
        &self,
        r: Request<pb::AcceptTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("AcceptTicket", async {
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            self.call_ticket(&who, validate::once(m, offers::accept))
                .await
        })
        .await
    }

    async fn reject_ticket(
        &self,
        r: Request<pb::RejectTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc("RejectTicket", async {
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            self.call_ticket(&who, validate::once(m, offers::reject))
                .await
        })
        .await
    }

    async fn end_wrap_up(
        &self,
        r: Request<pb::EndWrapUpRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        rpc("EndWrapUp", async {
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            self.call_agent(&who, validate::once(m, validate::end_wrap_up))
                .await
        })
        .await
    }

    async fn get_agent_stats(
        &self,
        r: Request<pb::GetAgentStatsRequest>,
    ) -> Result<Response<pb::AgentStats>, Status> {
        rpc("GetAgentStats", async {
            let (who, m) = permitted(r, |m| Need::Agent(&m.agent_id))?;
            match self.call(&who, validate::agent_stats(m)).await? {
                Reply::AgentStats(s) => Ok(convert::agent_stats(&s)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }
}

#[tonic::async_trait]
impl pb::admin_service_server::AdminService for Api {
    async fn get_queue_stats(
        &self,
        r: Request<pb::GetQueueStatsRequest>,
    ) -> Result<Response<pb::GetQueueStatsResponse>, Status> {
        rpc("GetQueueStats", async {
            let (who, _) = permitted(r, |_| Need::Admin)?;
            match self.call(&who, Ok(Command::QueueStats)).await? {
                Reply::Stats(s) => Ok(convert::stats(&s)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    async fn get_sla_policy(
        &self,
        r: Request<pb::GetSlaPolicyRequest>,
    ) -> Result<Response<pb::SlaPolicy>, Status> {
        rpc("GetSlaPolicy", async {
            let (who, _) = permitted(r, |_| Need::Admin)?;
            match self.call(&who, Ok(Command::GetPolicy)).await? {
                Reply::Policy(p) => Ok(policy::to_proto(&p)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    /// Fields left unset keep their current value. The core merges the request onto the
    /// policy in force in one command, so two admins putting different fields at once both
    /// get theirs.
    async fn put_sla_policy(
        &self,
        r: Request<pb::PutSlaPolicyRequest>,
    ) -> Result<Response<pb::SlaPolicy>, Status> {
        rpc("PutSlaPolicy", async {
            let (who, mut put) = permitted(r, |_| Need::Admin)?;
            let key = policy::request_key(&mut put)?;
            let patch = Command::PatchPolicy(Box::new(policy::from_put(put)?));
            let cmd = match key {
                Some(key) => patch.once_as(key),
                None => patch,
            };
            match self.call(&who, Ok(cmd)).await? {
                Reply::Policy(p) => Ok(policy::to_proto(&p)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    type WatchEventsStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

    /// History from the store, then live events; each exactly once, in sequence order.
    async fn watch_events(
        &self,
        r: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        rpc("WatchEvents", async {
            let (_, m) = permitted(r, |_| Need::Integrator)?;
            let (from, filter) = validate::watch_events(m)?;
            let permit = self.stream_permit()?;
            // The permit lives as long as the response stream: until the watcher is gone.
            let events = ReceiverStream::new(self.events.watch(from))
                .map(move |item| {
                    let _held = &permit;
                    item.map(|e| convert::event(&e)).map_err(Status::from)
                })
                .filter(move |item| match item {
                    Ok(e) => filter.matches(e),
                    Err(_) => true,
                });
            Ok(Box::pin(events) as Self::WatchEventsStream)
        })
        .await
    }

    /// Steps through the erasure (each step its own durable commit, so no step stalls other
    /// callers) and answers once the last one is durable.
    async fn erase_customer(
        &self,
        r: Request<pb::EraseCustomerRequest>,
    ) -> Result<Response<pb::EraseCustomerResponse>, Status> {
        rpc("EraseCustomer", async {
            let (who, m) = permitted(r, |_| Need::Admin)?;
            let mut step = validate::erase_customer(m)?;
            loop {
                let reply = self
                    .call(&who, Ok(Command::EraseCustomer(step.clone())))
                    .await?;
                if let Some(tickets_erased) = step.advance(reply).map_err(unexpected)? {
                    return Ok(pb::EraseCustomerResponse { tickets_erased });
                }
            }
        })
        .await
    }

    /// A new webhook starts at the next sequence to be written when the call arrives: every
    /// event committed after the put is delivered (and maybe a few committed while it ran).
    async fn put_webhook(
        &self,
        r: Request<pb::PutWebhookRequest>,
    ) -> Result<Response<pb::Webhook>, Status> {
        rpc("PutWebhook", async {
            let (who, m) = permitted(r, |_| Need::Admin)?;
            let start = self.events.next_sequence().await.map_err(Status::from)?;
            match self.call(&who, webhooks::put(m, start)).await? {
                Reply::Webhook(w) => Ok(webhooks::to_proto(&w)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    async fn list_webhooks(
        &self,
        r: Request<pb::ListWebhooksRequest>,
    ) -> Result<Response<pb::ListWebhooksResponse>, Status> {
        rpc("ListWebhooks", async {
            let (who, _) = permitted(r, |_| Need::Admin)?;
            match self.call(&who, Ok(Command::ListWebhooks)).await? {
                Reply::Webhooks(hooks) => Ok(pb::ListWebhooksResponse {
                    webhooks: hooks.iter().map(webhooks::to_proto).collect(),
                }),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    async fn delete_webhook(
        &self,
        r: Request<pb::DeleteWebhookRequest>,
    ) -> Result<Response<pb::DeleteWebhookResponse>, Status> {
        rpc("DeleteWebhook", async {
            let (who, m) = permitted(r, |_| Need::Admin)?;
            match self.call(&who, webhooks::delete(m)).await? {
                Reply::Done => Ok(pb::DeleteWebhookResponse {}),
                other => Err(unexpected(other)),
            }
        })
        .await
    }
}
