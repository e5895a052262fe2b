//! `AgentService.Work`: a work session over one bidirectional stream. The agent gives credit
//! (`start.ready`, `ready`) and the owner pushes that many assignments, each after its lease
//! is durable, with no polling; `done`, `release` and `heartbeat` go through the owner like
//! their unary twins and are answered by tag. Guarantees:
//! - never more assignments than credit given (at most `MAX_WORK_CREDIT` unspent at a time);
//! - an assignment the session could not hand to the client (the client went away) is
//!   released, so no ticket stays leased to a session that is gone;
//! - a refused done/release/heartbeat is answered with its code and leaves the session open;
//!   a protocol error (no start, a second start, too much credit) ends it with
//!   INVALID_ARGUMENT, the daemon shutting down with UNAVAILABLE, an agent that is not
//!   available with FAILED_PRECONDITION, a caller who may not act as the session's agent with
//!   PERMISSION_DENIED (before anything is leased).

use super::status::invalid;
use super::{convert, unexpected, validate};
use crate::auth::{Need, Principal};
use crate::core::command::{Assignment, Command, Lease, Reply};
use crate::core::event::Actor;
use crate::core::types::{AgentId, Presence};
use crate::core::CoreError;
use crate::proto as pb;
use crate::server::handle::{Answer, Handle, Push, ServiceError};
use crate::telemetry;
use pb::work_request::Kind as In;
use pb::work_response::Kind as Out;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio::task::JoinSet;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

pub type WorkStream = ReceiverStream<Result<pb::WorkResponse, Status>>;

/// Responses buffered towards a slow client before the session waits for it.
const OUTBOX: usize = 256;

/// Starts a session on `inbound`; its responses come out of the returned stream.
/// `permit` counts the session against the open-streams limit until it ends.
pub fn open(
    handle: Handle,
    who: Principal,
    permit: OwnedSemaphorePermit,
    inbound: Streaming<pb::WorkRequest>,
) -> WorkStream {
    let (out, rx) = mpsc::channel(OUTBOX);
    tokio::spawn(async move {
        run(handle, who, inbound, out).await;
        drop(permit);
    });
    ReceiverStream::new(rx)
}

type Outbox = mpsc::Sender<Result<pb::WorkResponse, Status>>;

async fn run(handle: Handle, who: Principal, mut inbound: Streaming<pb::WorkRequest>, out: Outbox) {
    telemetry::record_work_session(1.0);
    let first = match inbound.message().await {
        Ok(Some(req)) => match validate::work_start(req) {
            Ok((agent, ready)) => match who.require(Need::Agent(agent.as_str())) {
                Ok(()) => available(&handle, &who.actor(), &agent)
                    .await
                    .map(|()| (agent, ready)),
                Err(status) => Err(status),
            },
            Err(status) => Err(status),
        },
        Ok(None) => Err(invalid(
            "start",
            "the stream ended before the session started",
        )),
        Err(status) => Err(status),
    };
    let ended = match first {
        Ok((agent, ready)) => {
            let mut session = Session::new(handle, who.actor(), agent, out.clone());
            let ended = session.serve(&mut inbound, ready).await;
            session.close().await;
            ended
        }
        Err(status) => Err(status),
    };
    if let Err(status) = ended {
        tracing::debug!(code = ?status.code(), message = status.message(), "work session ended");
        let _ = out.send(Err(status)).await;
    }
    telemetry::record_work_session(-1.0);
}

/// Refuses a session for an agent that does not exist or is not AVAILABLE at once, so the
/// answer does not depend on whether the client closes before its first credit is served.
async fn available(handle: &Handle, who: &Actor, agent: &AgentId) -> Result<(), Status> {
    match handle.call(who, Command::GetAgent(agent.clone())).await? {
        Reply::Agent(a) if a.presence == Presence::Available => Ok(()),
        Reply::Agent(a) => Err(ServiceError::Core(CoreError::AgentNotAvailable {
            agent: agent.clone(),
            presence: a.presence,
        })
        .into()),
        other => Err(unexpected(other)),
    }
}

struct Session {
    handle: Handle,
    /// Who opened the session: the audit trail's actor for everything it does.
    actor: Actor,
    agent: AgentId,
    out: Outbox,
    /// Given to the owner with each credit; the session keeps one so `pushed` stays open.
    push: Push,
    pushed: mpsc::UnboundedReceiver<Answer>,
    /// Credit given and not yet spent on an assignment.
    unspent: u32,
    /// Done, release and heartbeat in flight; each answers on `out` itself.
    calls: JoinSet<()>,
}

impl Session {
    fn new(handle: Handle, actor: Actor, agent: AgentId, out: Outbox) -> Session {
        let (push, pushed) = mpsc::unbounded_channel();
        Session {
            handle,
            actor,
            agent,
            out,
            push,
            pushed,
            unspent: 0,
            calls: JoinSet::new(),
        }
    }

    /// Serves until the client half-closes (then in-flight calls are answered first) or
    /// something ends the session.
    async fn serve(
        &mut self,
        inbound: &mut Streaming<pb::WorkRequest>,
        ready: u32,
    ) -> Result<(), Status> {
        self.give_credit(ready).await?;
        loop {
            tokio::select! {
                msg = inbound.message() => match msg? {
                    Some(req) => self.request(req).await?,
                    None => {
                        while self.calls.join_next().await.is_some() {}
                        return Ok(());
                    }
                },
                Some(answer) = self.pushed.recv() => self.deliver(answer).await?,
                Some(_) = self.calls.join_next(), if !self.calls.is_empty() => {}
            }
        }
    }

    async fn request(&mut self, req: pb::WorkRequest) -> Result<(), Status> {
        let tag = req.tag;
        match req.kind {
            Some(In::Ready(r)) => {
                let tickets = validate::work_credit("ready.tickets", self.unspent, r.tickets)?;
                self.give_credit(tickets).await
            }
            Some(In::Done(d)) => {
                let lease = (d.ticket_id, d.lease_epoch, d.request_id);
                let cmd =
                    validate::work_lease("done", &self.agent, lease).map(|(ticket, lease, id)| {
                        let lease = Some(lease);
                        Command::Resolve { ticket, lease }.once(id)
                    });
                self.call(tag, "Work.done", cmd).await
            }
            Some(In::Release(r)) => {
                let lease = (r.ticket_id, r.lease_epoch, r.request_id);
                let cmd = validate::work_lease("release", &self.agent, lease)
                    .map(|(ticket, lease, id)| Command::Release { ticket, lease }.once(id));
                self.call(tag, "Work.release", cmd).await
            }
            Some(In::Accept(a)) => {
                let cmd = super::offers::work_accept(&self.agent, a);
                self.call(tag, "Work.accept", cmd).await
            }
            Some(In::Reject(r)) => {
                let cmd = super::offers::work_reject(&self.agent, r);
                self.call(tag, "Work.reject", cmd).await
            }
            Some(In::Heartbeat(_)) => {
                let cmd = Ok(Command::Heartbeat(self.agent.clone()));
                self.call(tag, "Work.heartbeat", cmd).await
            }
            Some(In::Start(_)) => Err(invalid(
                "start",
                "only the first message may start the session",
            )),
            None => Err(invalid(
                "kind",
                "is required: start, ready, done, release, accept, reject or heartbeat",
            )),
        }
    }

    async fn give_credit(&mut self, tickets: u32) -> Result<(), Status> {
        if tickets == 0 {
            return Ok(());
        }
        self.unspent += tickets;
        let push = self.push.clone();
        let agent = self.agent.clone();
        Ok(self.handle.ready(&self.actor, agent, tickets, push).await?)
    }

    /// Sends a command to the owner in the background; its answer goes out tagged. One that
    /// fails validation is answered at once.
    async fn call(
        &mut self,
        tag: u64,
        method: &'static str,
        cmd: Result<Command, Status>,
    ) -> Result<(), Status> {
        let cmd = match cmd {
            Ok(cmd) => cmd,
            Err(status) => return send(&self.out, result(tag, Err(status))).await,
        };
        let (handle, out, actor) = (self.handle.clone(), self.out.clone(), self.actor.clone());
        self.calls.spawn(async move {
            let started = Instant::now();
            let answer = handle.call(&actor, cmd).await.map_err(Status::from);
            let code = answer
                .as_ref()
                .map_or_else(|s| s.code(), |_| tonic::Code::Ok);
            telemetry::record_rpc(method, code, started.elapsed());
            let _ = send(&out, result(tag, answer.and_then(outcome))).await;
        });
        Ok(())
    }

    /// Hands a pushed assignment to the client, or releases it when the client is gone.
    async fn deliver(&mut self, answer: Answer) -> Result<(), Status> {
        let assignment = match answer {
            Ok(Reply::Pulled(Some(a))) => a,
            Ok(other) => return Err(unexpected(other)),
            Err(e) => return Err(e.into()),
        };
        self.unspent = self.unspent.saturating_sub(1);
        let msg = pb::WorkResponse {
            kind: Some(Out::Assignment(convert::assignment(&assignment))),
        };
        if send(&self.out, msg).await.is_err() {
            self.release(&assignment).await;
            return Err(Status::cancelled("the client went away"));
        }
        Ok(())
    }

    /// Stops further pushes and releases what was pushed but never delivered.
    async fn close(&mut self) {
        self.pushed.close();
        while let Ok(answer) = self.pushed.try_recv() {
            if let Ok(Reply::Pulled(Some(a))) = answer {
                self.release(&a).await;
            }
        }
    }

    /// Gives an undelivered assignment back to the queue, retrying while the owner is
    /// overloaded; if the daemon is stopping, the lease stays (and is recovered with it).
    async fn release(&self, a: &Assignment) {
        let release = Command::Release {
            ticket: a.ticket.id,
            lease: Lease {
                agent: self.agent.clone(),
                epoch: a.lease_epoch,
            },
        };
        for _ in 0..100 {
            match self.handle.call(&self.actor, release.clone()).await {
                Err(ServiceError::Overloaded) => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(ticket = a.ticket.id.0, error = %e, "could not release an undelivered assignment");
                    return;
                }
            }
        }
        tracing::warn!(
            ticket = a.ticket.id.0,
            "gave up releasing an undelivered assignment: the owner stayed overloaded"
        );
    }
}

/// What a successful done, release or heartbeat reports.
fn outcome(reply: Reply) -> Result<pb::WorkResult, Status> {
    match reply {
        Reply::Ticket(t) => Ok(pb::WorkResult {
            ticket: Some(convert::ticket(&t)),
            ..Default::default()
        }),
        Reply::Heartbeat {
            presence,
            expires_at,
        } => Ok(pb::WorkResult {
            heartbeat: Some(convert::heartbeat(presence, expires_at)),
            ..Default::default()
        }),
        other => Err(unexpected(other)),
    }
}

fn result(tag: u64, outcome: Result<pb::WorkResult, Status>) -> pb::WorkResponse {
    let result = match outcome {
        Ok(r) => pb::WorkResult { tag, ..r },
        Err(status) => pb::WorkResult {
            tag,
            code: status.code() as i32,
            message: status.message().to_string(),
            ..Default::default()
        },
    };
    pb::WorkResponse {
        kind: Some(Out::Result(result)),
    }
}

async fn send(out: &Outbox, msg: pb::WorkResponse) -> Result<(), Status> {
    out.send(Ok(msg))
        .await
        .map_err(|_| Status::cancelled("the client went away"))
}
