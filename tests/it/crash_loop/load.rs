//! The load of one daemon's life: creators, agents and an event watcher, each a task that
//! runs until the daemon is SIGKILLed and records what it heard OK for in the ledger.

use super::ledger::{Ack, Ledger};
use super::verify::Tally;
use super::{CREATES_PER_LIFE, CREATORS, MAX_BACKLOG};
use crate::common::{agent_reply, pull_request, resolve, Clients};
use pb::{Channel, TicketState, Tier};
use rand::rngs::StdRng;
use rand::Rng;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::Code;
use triage::proto as pb;

/// What every client task of one daemon's life shares.
#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) ledger: Arc<Mutex<Ledger>>,
    /// Set just before the SIGKILL: errors after it are expected, errors before it are not.
    pub(super) killed: Arc<AtomicBool>,
    /// Refusals and odd answers while the daemon was alive.
    pub(super) unexpected: Arc<Mutex<Vec<String>>>,
}

impl Ctx {
    pub(super) fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    pub(super) fn record(&self, acks: &[Ack]) {
        self.ledger.lock().expect("ledger").record(acks);
    }

    /// Acknowledged tickets never acknowledged to an agent: about the queue's length.
    pub(super) fn backlog(&self) -> usize {
        let ledger = self.ledger.lock().expect("ledger");
        let acked = &ledger.acked;
        acked.created.len().saturating_sub(acked.assigned.len())
    }

    pub(super) fn odd(&self, what: String) {
        self.unexpected.lock().expect("unexpected").push(what);
    }

    /// After a failed call: stop the task (the daemon is dead or something is wrong), or go on
    /// when `lease_may_be_stale` and the daemon said the lease is no longer ours (an L2
    /// take-back got there first).
    pub(super) fn stop_after(
        &self,
        what: &str,
        status: &tonic::Status,
        lease_may_be_stale: bool,
    ) -> bool {
        if self.killed() {
            return true;
        }
        if lease_may_be_stale && status.code() == Code::FailedPrecondition {
            return false;
        }
        self.odd(format!(
            "{what} refused while the daemon was up: {status:?}"
        ));
        true
    }
}

/// The create request behind an external id, always the same for the same id (so a retry
/// with its request id is the same request): `cx-N` from the loop, `bx-N` from the bulk load.
pub(super) fn request_for(external: &str) -> pb::CreateTicketRequest {
    let (bulk, n) = match (external.strip_prefix("cx-"), external.strip_prefix("bx-")) {
        (Some(n), _) => (false, n),
        (_, Some(n)) => (true, n),
        _ => panic!("not one of ours: {external}"),
    };
    let n: u64 = n.parse().expect("external id number");
    let (tier, channel) = if bulk {
        (Tier::Standard, Channel::Email)
    } else {
        (
            [Tier::Vip, Tier::Standard, Tier::New][(n % 3) as usize],
            [Channel::Chat, Channel::Chat, Channel::Email][(n / 3 % 3) as usize],
        )
    };
    pb::CreateTicketRequest {
        optional_skills: Vec::new(),
        request_id: format!("req-{external}"),
        external_id: external.to_string(),
        customer_id: format!("cust-{}", n % 97),
        tier: tier as i32,
        channel: channel as i32,
        priority: pb::Priority::Normal as i32,
        required_skills: Vec::new(),
        sentiment: pb::Sentiment::Neutral as i32,
        preferred_agent_id: String::new(),
        created_at: None,
    }
}

/// Creates tickets until the daemon dies, one at a time (CreateTicket) or a few in one call
/// (CreateTickets); a create that got no answer is retried (same request id) by the next
/// daemon's creators.
pub(super) async fn creator(
    mut c: Clients,
    ctx: Ctx,
    next: Arc<AtomicU64>,
    retry: Arc<Mutex<Vec<u64>>>,
    mut rng: StdRng,
) {
    let mut created = 0;
    loop {
        if ctx.killed() {
            return;
        }
        if ctx.backlog() > MAX_BACKLOG || created >= CREATES_PER_LIFE / CREATORS as u64 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let size = if rng.random_ratio(20, 100) {
            rng.random_range(2..=20)
        } else {
            1
        };
        created += size;
        let ns: Vec<u64> = (0..size)
            .map(|_| {
                let pending = retry.lock().expect("retry").pop();
                pending.unwrap_or_else(|| next.fetch_add(1, Ordering::SeqCst))
            })
            .collect();
        let externals: Vec<String> = ns.iter().map(|n| format!("cx-{n}")).collect();
        let answers: Result<Vec<Result<pb::Ticket, String>>, tonic::Status> = if size == 1 {
            c.tickets
                .create_ticket(request_for(&externals[0]))
                .await
                .map(|t| vec![Ok(t.into_inner())])
        } else {
            let tickets = externals.iter().map(|e| request_for(e)).collect();
            c.tickets
                .create_tickets(pb::CreateTicketsRequest { tickets })
                .await
                .map(|r| {
                    r.into_inner()
                        .results
                        .into_iter()
                        .map(|r| match r.result {
                            Some(pb::create_ticket_result::Result::Ticket(t)) => Ok(t),
                            other => Err(format!("{other:?}")),
                        })
                        .collect()
                })
        };
        let answers = match answers {
            Ok(answers) => answers,
            Err(status) => {
                retry.lock().expect("retry").extend(ns);
                ctx.stop_after("CreateTicket(s)", &status, false);
                return;
            }
        };
        if answers.len() != externals.len() {
            ctx.odd(format!(
                "CreateTickets of {} answered {} results",
                externals.len(),
                answers.len()
            ));
        }
        let mut acks = Vec::with_capacity(answers.len());
        for (external, answer) in externals.into_iter().zip(answers) {
            match answer {
                Ok(t) if t.external_id == external => acks.push(Ack::Created {
                    ticket: t.ticket_id,
                    external,
                }),
                Ok(t) => ctx.odd(format!(
                    "create {external} answered ticket {} with external id {}",
                    t.ticket_id, t.external_id
                )),
                Err(e) => ctx.odd(format!("create {external} refused in a batch: {e}")),
            }
        }
        ctx.record(&acks);
    }
}

/// A reply then a resolve under the lease; false when the task must stop.
pub(super) async fn finish(
    c: &mut Clients,
    ctx: &Ctx,
    agent: &str,
    ticket: u64,
    epoch: u64,
) -> bool {
    if let Err(status) = c
        .tickets
        .record_reply(agent_reply(ticket, agent, epoch))
        .await
    {
        return !ctx.stop_after("RecordReply", &status, true);
    }
    let resolve = resolve(ticket, agent, epoch);
    match c.tickets.resolve_ticket(resolve).await {
        Ok(t) => {
            let t = t.into_inner();
            if t.state() != TicketState::Resolved {
                ctx.odd(format!("resolve of {ticket} answered {:?}", t.state()));
            }
            ctx.record(&[Ack::Resolved { ticket }]);
            true
        }
        Err(status) => !ctx.stop_after("ResolveTicket", &status, true),
    }
}

/// One agent: first finishes what it held when the last daemon died (`resume`: ticket and
/// epoch), then pulls (some long polls) and mostly replies and resolves; sometimes releases,
/// sometimes keeps the ticket (answered or not) past the kill.
pub(super) async fn agent_worker(
    mut c: Clients,
    ctx: Ctx,
    agent: String,
    resume: Vec<(u64, u64)>,
    mut rng: StdRng,
) {
    for (ticket, epoch) in resume {
        if !finish(&mut c, &ctx, &agent, ticket, epoch).await {
            return;
        }
    }
    loop {
        if ctx.killed() {
            return;
        }
        let long_poll = rng.random_ratio(50, 100);
        let pull = pull_request(&agent, long_poll.then_some(Duration::from_millis(250)));
        // Some long polls are abandoned by the caller: what the daemon leased meanwhile is
        // released by it (or, if the answer was already on its way, held by an agent that
        // never heard of it; the next life's agent finishes it).
        let call = c.agents.pull_next_ticket(pull);
        let answer = if long_poll && rng.random_ratio(15, 100) {
            let patience = Duration::from_millis(rng.random_range(1..=200));
            match tokio::time::timeout(patience, call).await {
                Ok(answer) => answer,
                Err(_) => continue,
            }
        } else {
            call.await
        };
        let assignment = match answer {
            Ok(r) => r.into_inner().assignment,
            Err(status) => {
                ctx.stop_after("PullNextTicket", &status, false);
                return;
            }
        };
        let Some(a) = assignment else {
            if !long_poll {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            continue;
        };
        let t = a.ticket.unwrap_or_default();
        let (ticket, epoch) = (t.ticket_id, a.lease_epoch);
        ctx.record(&[Ack::Assigned {
            ticket,
            agent: agent.clone(),
            epoch,
        }]);
        if t.agent_id != agent || t.lease_epoch != epoch || t.state() != TicketState::Assigned {
            ctx.odd(format!(
                "{agent} pulled ticket {ticket} at epoch {epoch}, but the ticket says {:?} by \
                 {:?} at epoch {}",
                t.state(),
                t.agent_id,
                t.lease_epoch
            ));
        }
        let chat = t.channel() == Channel::Chat;
        match rng.random_range(0..100) {
            0..=69 => {
                if !finish(&mut c, &ctx, &agent, ticket, epoch).await {
                    return;
                }
            }
            70..=79 => {
                let release = pb::ReleaseTicketRequest {
                    ticket_id: ticket,
                    agent_id: agent.clone(),
                    lease_epoch: epoch,
                    ..Default::default()
                };
                match c.agents.release_ticket(release).await {
                    Ok(_) => ctx.record(&[Ack::Released {
                        ticket,
                        agent: agent.clone(),
                        epoch,
                    }]),
                    Err(status) => {
                        if ctx.stop_after("ReleaseTicket", &status, true) {
                            return;
                        }
                    }
                }
            }
            // Kept unanswered: a chat ticket is taken back at L2 (new epoch), on this
            // daemon or after the restart.
            80..=89 if chat => {}
            _ => {
                if let Err(status) = c
                    .tickets
                    .record_reply(agent_reply(ticket, &agent, epoch))
                    .await
                {
                    if ctx.stop_after("RecordReply", &status, true) {
                        return;
                    }
                }
            }
        }
    }
}

/// Follows the event stream from where the last watcher stopped until the daemon dies.
pub(super) async fn watcher(mut c: Clients, ctx: Ctx, tally: Arc<Mutex<Tally>>) {
    let (from, resumed) = {
        let t = tally.lock().expect("tally");
        (t.resume_from(), t.last.is_some())
    };
    let req = pb::WatchEventsRequest {
        from_sequence: from,
        ..Default::default()
    };
    let mut stream = match c.admin.watch_events(req).await {
        Ok(s) => s.into_inner(),
        Err(status) => {
            ctx.stop_after("WatchEvents", &status, false);
            return;
        }
    };
    let mut again = resumed;
    loop {
        match stream.message().await {
            Ok(Some(e)) => {
                tally.lock().expect("tally").see(e, again);
                again = false;
            }
            Ok(None) | Err(_) => {
                if !ctx.killed() {
                    ctx.odd("the event stream ended while the daemon was up".into());
                }
                return;
            }
        }
    }
}
