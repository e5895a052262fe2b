//! Agents over `AgentService.Work`: each keeps `window` credit out. On every pushed assignment
//! it either holds the ticket (`--hold`) or answers the customer (unary RecordReply) and sends
//! done, and in both cases gives one more credit, so the server never waits for a poll.

use super::report::{Recorder, Rpc};
use super::workers::{accepted, check_back, reply, Shared};
use crate::client::Conn as Channel;
use crate::proto as pb;
use pb::agent_service_client::AgentServiceClient;
use pb::ticket_service_client::TicketServiceClient;
use pb::work_request::Kind as In;
use pb::work_response::Kind as Out;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};

pub struct StreamAgent {
    pub channel: Channel,
    pub id: String,
    pub hold: bool,
    /// Do the check-back once the done is accepted.
    pub follow_up: bool,
    pub window: u32,
    pub shared: Arc<Shared>,
}

/// The agent's side of one session: what it sent and when, to time the answers.
struct Pending {
    tx: Option<mpsc::Sender<pb::WorkRequest>>,
    /// When each unit of credit still unspent was given, oldest first.
    credit: VecDeque<Instant>,
    /// When each done in flight was sent, by ticket id (its tag).
    dones: HashMap<u64, Instant>,
}

impl StreamAgent {
    pub async fn run(self) -> Recorder {
        let mut rec = Recorder::default();
        if let Err(status) = self.session(&mut rec).await {
            rec.error(Rpc::WorkAssignment, &status);
        }
        rec
    }

    /// Works until told to stop, then half-closes and reads what is still on its way.
    async fn session(&self, rec: &mut Recorder) -> Result<(), Status> {
        let (tx, rx) = mpsc::channel(2 * self.window as usize + 16);
        let mut pending = Pending {
            tx: Some(tx),
            credit: VecDeque::new(),
            dones: HashMap::new(),
        };
        let start = In::Start(pb::WorkStart {
            agent_id: self.id.clone(),
            ready: self.window,
        });
        pending.send(0, start).await;
        pending
            .credit
            .extend((0..self.window).map(|_| Instant::now()));
        let mut agents = AgentServiceClient::new(self.channel.clone());
        let mut tickets = TicketServiceClient::new(self.channel.clone());
        let mut inbound = agents.work(ReceiverStream::new(rx)).await?.into_inner();
        loop {
            if self.shared.stop.load(Relaxed) {
                pending.tx = None;
            }
            let msg = match tokio::time::timeout(Duration::from_millis(50), inbound.message()).await
            {
                Err(_) => continue,
                Ok(msg) => msg?,
            };
            match msg.and_then(|m| m.kind) {
                Some(Out::Assignment(a)) => {
                    let clients = (&mut agents, &mut tickets);
                    self.assigned(a, &mut pending, clients, rec).await
                }
                Some(Out::Result(r)) => self.result(r, &mut pending, &mut tickets, rec).await,
                None => return Ok(()),
            }
        }
    }

    async fn assigned(
        &self,
        a: pb::Assignment,
        pending: &mut Pending,
        (agents, tickets): (
            &mut AgentServiceClient<Channel>,
            &mut TicketServiceClient<Channel>,
        ),
        rec: &mut Recorder,
    ) {
        if let Some(given) = pending.credit.pop_front() {
            rec.record(Rpc::WorkAssignment, given.elapsed(), None);
        }
        let ticket_id = a.ticket.as_ref().map_or(0, |t| t.ticket_id);
        if !accepted(agents, rec, &self.id, &a).await {
            return;
        }
        self.shared.assigned.fetch_add(1, Relaxed);
        self.shared.lease(ticket_id, a.lease_epoch);
        if pending.tx.is_none() {
            return;
        }
        if !self.hold {
            reply(tickets, rec, &self.id, ticket_id, a.lease_epoch).await;
            pending.dones.insert(ticket_id, Instant::now());
            let done = In::Done(pb::WorkDone {
                ticket_id,
                lease_epoch: a.lease_epoch,
                ..Default::default()
            });
            pending.send(ticket_id, done).await;
        }
        pending
            .send(0, In::Ready(pb::WorkReady { tickets: 1 }))
            .await;
        pending.credit.push_back(Instant::now());
    }

    /// A done's result: an accepted done resolved the ticket (tagged with its id), which the
    /// check-back then finishes before it counts as resolved.
    async fn result(
        &self,
        r: pb::WorkResult,
        pending: &mut Pending,
        tickets: &mut TicketServiceClient<Channel>,
        rec: &mut Recorder,
    ) {
        let error = (r.code != 0).then(|| Status::new(Code::from(r.code), r.message));
        let done = pending.dones.remove(&r.tag);
        if let Some(sent) = done {
            rec.record(Rpc::WorkDone, sent.elapsed(), error.as_ref());
        }
        if error.is_none() && done.is_some() && self.follow_up {
            check_back(tickets, rec, &self.id, r.tag).await;
        }
        if error.is_none() {
            self.shared.resolved_id(r.tag);
            self.shared.resolved.fetch_add(1, Relaxed);
        }
    }
}

impl Pending {
    async fn send(&mut self, tag: u64, kind: In) {
        let Some(tx) = &self.tx else { return };
        let req = pb::WorkRequest {
            tag,
            kind: Some(kind),
        };
        if tx.send(req).await.is_err() {
            self.tx = None;
        }
    }
}
