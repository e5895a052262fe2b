//! The gRPC API: `TicketService`, `AgentService` and `AdminService` of `triage.v1`. Each
//! handler validates its request into a core command (`validate`), sends it to the owner task,
//! and converts the durable answer back (`convert`); errors become statuses in `status`.

pub mod convert;
pub mod policy;
pub mod status;
pub mod validate;
mod work;

use crate::core::command::{Command, Reply};
use crate::proto as pb;
use crate::server::events::EventFeed;
use crate::server::owner::{Handle, ServiceError};
use crate::telemetry;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;
use tokio_stream::{wrappers::ReceiverStream, Stream, StreamExt};
use tonic::{Request, Response, Status};
use validate::Limits;

/// The state every service shares: the way to the owner task and the request limits.
#[derive(Clone)]
pub struct Api {
    handle: Handle,
    events: EventFeed,
    limits: Limits,
}

impl Api {
    pub fn new(handle: Handle, events: EventFeed, limits: Limits) -> Api {
        Api {
            handle,
            events,
            limits,
        }
    }

    pub fn ticket_service(&self) -> pb::ticket_service_server::TicketServiceServer<Api> {
        pb::ticket_service_server::TicketServiceServer::new(self.clone())
    }
    pub fn agent_service(&self) -> pb::agent_service_server::AgentServiceServer<Api> {
        pb::agent_service_server::AgentServiceServer::new(self.clone())
    }
    pub fn admin_service(&self) -> pb::admin_service_server::AdminServiceServer<Api> {
        pb::admin_service_server::AdminServiceServer::new(self.clone())
    }

    /// Sends a validated command and waits for its durable answer.
    async fn call(&self, cmd: Result<Command, Status>) -> Result<Reply, Status> {
        Ok(self.handle.call(cmd?).await?)
    }

    async fn call_ticket(&self, cmd: Result<Command, Status>) -> Result<pb::Ticket, Status> {
        match self.call(cmd).await? {
            Reply::Ticket(t) => Ok(convert::ticket(&t)),
            other => Err(unexpected(other)),
        }
    }

    async fn call_agent(&self, cmd: Result<Command, Status>) -> Result<pb::Agent, Status> {
        match self.call(cmd).await? {
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
            false => match self.call(Ok(Command::CreateTickets(valid))).await? {
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
        rpc(
            "CreateTicket",
            self.call_ticket(validate::create_ticket(r.into_inner())),
        )
        .await
    }

    async fn create_tickets(
        &self,
        r: Request<pb::CreateTicketsRequest>,
    ) -> Result<Response<pb::CreateTicketsResponse>, Status> {
        rpc("CreateTickets", self.create_batch(r.into_inner().tickets)).await
    }

    async fn get_ticket(
        &self,
        r: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc(
            "GetTicket",
            self.call_ticket(validate::get_ticket(r.into_inner())),
        )
        .await
    }

    async fn list_tickets(
        &self,
        r: Request<pb::ListTicketsRequest>,
    ) -> Result<Response<pb::ListTicketsResponse>, Status> {
        rpc("ListTickets", async {
            match self.call(validate::list_tickets(r.into_inner())).await? {
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
        rpc(
            "RecordReply",
            self.call_ticket(validate::record_reply(r.into_inner())),
        )
        .await
    }

    async fn record_follow_up(
        &self,
        r: Request<pb::RecordFollowUpRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc(
            "RecordFollowUp",
            self.call_ticket(validate::record_follow_up(r.into_inner())),
        )
        .await
    }

    async fn set_pending(
        &self,
        r: Request<pb::SetPendingRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc(
            "SetPending",
            self.call_ticket(validate::set_pending(r.into_inner())),
        )
        .await
    }

    async fn resolve_ticket(
        &self,
        r: Request<pb::ResolveTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc(
            "ResolveTicket",
            self.call_ticket(validate::resolve(r.into_inner())),
        )
        .await
    }

    async fn reopen_ticket(
        &self,
        r: Request<pb::ReopenTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc(
            "ReopenTicket",
            self.call_ticket(validate::reopen(r.into_inner())),
        )
        .await
    }

    async fn cancel_ticket(
        &self,
        r: Request<pb::CancelTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc(
            "CancelTicket",
            self.call_ticket(validate::cancel(r.into_inner())),
        )
        .await
    }

    async fn update_ticket(
        &self,
        r: Request<pb::UpdateTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc(
            "UpdateTicket",
            self.call_ticket(validate::update(r.into_inner())),
        )
        .await
    }
}

#[tonic::async_trait]
impl pb::agent_service_server::AgentService for Api {
    async fn upsert_agent(
        &self,
        r: Request<pb::UpsertAgentRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        rpc(
            "UpsertAgent",
            self.call_agent(validate::upsert_agent(r.into_inner())),
        )
        .await
    }

    async fn get_agent(
        &self,
        r: Request<pb::GetAgentRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        rpc(
            "GetAgent",
            self.call_agent(validate::get_agent(r.into_inner())),
        )
        .await
    }

    async fn list_agents(
        &self,
        r: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::ListAgentsResponse>, Status> {
        rpc("ListAgents", async {
            match self.call(validate::list_agents(r.into_inner())).await? {
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
        rpc(
            "SetPresence",
            self.call_agent(validate::set_presence(r.into_inner())),
        )
        .await
    }

    async fn heartbeat(
        &self,
        r: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        rpc("Heartbeat", async {
            match self.call(validate::heartbeat(r.into_inner())).await? {
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
            let (agent, wait) = validate::pull(r.into_inner(), self.limits)?;
            match self.handle.pull(agent, wait).await? {
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
        Ok(Response::new(work::open(
            self.handle.clone(),
            r.into_inner(),
        )))
    }

    async fn release_ticket(
        &self,
        r: Request<pb::ReleaseTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        rpc(
            "ReleaseTicket",
            self.call_ticket(validate::release(r.into_inner())),
        )
        .await
    }
}

#[tonic::async_trait]
impl pb::admin_service_server::AdminService for Api {
    async fn get_queue_stats(
        &self,
        _r: Request<pb::GetQueueStatsRequest>,
    ) -> Result<Response<pb::GetQueueStatsResponse>, Status> {
        rpc("GetQueueStats", async {
            match self.call(Ok(Command::QueueStats)).await? {
                Reply::Stats(s) => Ok(convert::stats(&s)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    async fn get_sla_policy(
        &self,
        _r: Request<pb::GetSlaPolicyRequest>,
    ) -> Result<Response<pb::SlaPolicy>, Status> {
        rpc("GetSlaPolicy", async {
            match self.call(Ok(Command::GetPolicy)).await? {
                Reply::Policy(p) => Ok(policy::to_proto(&p)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    /// Fields left unset keep their current value. Two admins putting at once may interleave
    /// between the read and the write; the last put wins whole.
    async fn put_sla_policy(
        &self,
        r: Request<pb::PutSlaPolicyRequest>,
    ) -> Result<Response<pb::SlaPolicy>, Status> {
        rpc("PutSlaPolicy", async {
            let current = match self.call(Ok(Command::GetPolicy)).await? {
                Reply::Policy(p) => p,
                other => return Err(unexpected(other)),
            };
            let merged = policy::from_put(r.into_inner(), &current)?;
            match self.call(Ok(Command::PutPolicy(Box::new(merged)))).await? {
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
            let from = r.into_inner().from_sequence;
            let events = ReceiverStream::new(self.events.watch(from))
                .map(|item| item.map(|e| convert::event(&e)).map_err(Status::from));
            Ok(Box::pin(events) as Self::WatchEventsStream)
        })
        .await
    }
}
