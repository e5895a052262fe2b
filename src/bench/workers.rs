//! The load: creators and agents over several HTTP/2 connections, with per-task latency
//! recorders merged at the end and shared counters for progress and correctness.

use super::cpu::{self, ServerCpu, Stretch};
use super::drain::{self, End, Rule, Step};
use super::leftovers;
use super::mix::{self, Rng};
use super::report::{Outcome, Recorder, Rpc};
use super::session::StreamAgent;
use super::signals::Interrupt;
use super::soak;
use super::{Mode, Plan};
use crate::api::convert;
use crate::client::{ClientArgs, Conn as Channel};
use crate::core::command::{AgentProfile, NewTicket};
use crate::proto as pb;
use indicatif::ProgressBar;
use pb::agent_service_client::AgentServiceClient;
use pb::ticket_service_client::TicketServiceClient;
use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counters every task updates; the progress line and the final checks read them.
#[derive(Default)]
pub struct Shared {
    next_ticket: AtomicU64,
    pub created: AtomicU64,
    pub assigned: AtomicU64,
    pub resolved: AtomicU64,
    /// Assignments whose lease epoch is not newer than the last one seen for the ticket: two
    /// valid holders at once. Must stay 0.
    pub double_assigned: AtomicU64,
    /// Assignments of a ticket seen before with an older epoch: the daemon took it back (L2,
    /// presence expiry) and leased it again, which is allowed.
    pub reassigned: AtomicU64,
    creating: AtomicBool,
    pub(super) stop: AtomicBool,
    /// Raised by Ctrl-C or SIGTERM: stop creating, stop draining, report.
    pub interrupt: Arc<Interrupt>,
    leases: Mutex<HashMap<u64, u64>>,
    /// Ids of the tickets this run created, and of those it resolved: what it leaves open in
    /// a daemon it does not own.
    pub(super) created_ids: Mutex<Vec<u64>>,
    pub(super) resolved_ids: Mutex<HashSet<u64>>,
}

/// Connects `n` HTTP/2 connections (Nagle off, TLS and token as `client` says) to `target`.
/// Of several comma-separated targets (the nodes of one cluster), the one leading now.
async fn connect(target: &str, n: usize, client: &ClientArgs) -> anyhow::Result<Vec<Channel>> {
    let target = &client.leader_of(target).await?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(client.connect(target).await?);
    }
    Ok(out)
}

/// Runs the plan against `target` with the agents `agents` and returns what happened.
pub async fn drive(
    target: &str,
    plan: &Plan,
    agents: &[AgentProfile],
    shared: Arc<Shared>,
    progress: bool,
) -> anyhow::Result<Outcome> {
    let channels = connect(target, plan.connections, &plan.client).await?;
    let open_before = open_tickets(&queue_stats(&channels[0]).await?);
    register_agents(&channels[0], agents).await?;
    if let Some(timeout) = plan.offer_timeout {
        offer_everywhere(&channels[0], timeout).await?;
    }
    shared.creating.store(true, Relaxed);
    let mut marks = [cpu_mark(plan, &shared).await, None, None];
    let started = Instant::now();
    let mut agent_tasks = match plan.phased {
        true => Vec::new(),
        false => start_agents(&channels, plan, &shared, started),
    };
    let creator_tasks = start_creators(&channels, plan, &shared, started);
    let (ticker, sampler) = start_watchers(plan, &shared, started, progress);
    let mut recorder = Recorder::default();
    for t in creator_tasks {
        recorder.merge(t.await?);
    }
    let created_by = started.elapsed();
    shared.creating.store(false, Relaxed);
    marks[1] = cpu_mark(plan, &shared).await;
    if plan.phased {
        agent_tasks = start_agents(&channels, plan, &shared, Instant::now());
    }
    let (mut end, mut finished) = (None, Instant::now());
    if plan.agents > 0 {
        // Without creators the goal is the backlog that was there: re-leases of tickets the
        // daemon took back (escalations of a stale backlog) would otherwise stretch the run.
        let backlog = (plan.creators == 0).then_some(open_before);
        let (how, when) = drain(&shared, plan.drain_patience(), plan.hold, backlog).await;
        (end, finished) = (Some(how), when);
    } else if let Some(name) = shared.interrupt.get() {
        end = Some(End::Interrupted(name));
    }
    marks[2] = cpu_mark(plan, &shared).await;
    shared.stop.store(true, Relaxed);
    for t in agent_tasks {
        recorder.merge(t.await?);
    }
    let samples = soak::finish(sampler).await;
    let elapsed = finished.duration_since(started);
    ticker.abort();
    let stats = queue_stats(&channels[0]).await?;
    // Without agents nothing was meant to be taken: no explanation is due.
    let stuck = match end {
        Some(End::Drained) | None => Vec::new(),
        Some(_) if plan.agents == 0 => Vec::new(),
        Some(_) => drain::stuck(&stats.queues, agents),
    };
    let left = match plan.target {
        true => Some(leftovers::settle(&channels[0], plan, &shared, agents).await),
        false => None,
    };
    let mut outcome = Outcome::new(
        &shared,
        recorder,
        elapsed,
        created_by,
        open_before,
        open_tickets(&stats),
    );
    outcome.ending(end, stuck, left);
    outcome.sampled(samples);
    outcome.measured_cpu(ServerCpu::new(marks, plan.hold));
    if plan.phased {
        outcome.agents_started(created_by);
    }
    Ok(outcome)
}

/// The daemon's CPU now, when its metrics address is known.
async fn cpu_mark(plan: &Plan, shared: &Shared) -> Option<cpu::Mark> {
    cpu::mark(plan.metrics.as_ref()?, shared).await
}

/// Starts the creators, spread over the connections.
fn start_creators(
    channels: &[Channel],
    plan: &Plan,
    shared: &Arc<Shared>,
    started: Instant,
) -> Vec<tokio::task::JoinHandle<Recorder>> {
    (0..plan.creators)
        .map(|i| {
            let channel = channels[i % channels.len()].clone();
            let job = Creator {
                plan: plan.clone(),
                started,
                shared: Arc::clone(shared),
                rng: Rng::new(plan.seed.wrapping_mul(1_000_003).wrapping_add(i as u64)),
            };
            tokio::spawn(job.run(channel))
        })
        .collect()
}

/// Starts the progress line and, with `--rss-every`, the soak sampler; on a terminal both
/// write through one progress bar.
fn start_watchers(
    plan: &Plan,
    shared: &Arc<Shared>,
    started: Instant,
    progress: bool,
) -> (tokio::task::JoinHandle<()>, Option<soak::Running>) {
    let bar = (progress && std::io::stderr().is_terminal()).then(ProgressBar::new_spinner);
    let ticker = tokio::spawn(progress_loop(
        Arc::clone(shared),
        started,
        progress.then(|| plan.clone()),
        bar.clone(),
    ));
    let sampler = match (plan.rss_every, &plan.metrics) {
        (Some(every), Some(url)) => Some(soak::start(
            url.clone(),
            every,
            Arc::clone(shared),
            started,
            bar,
        )),
        _ => None,
    };
    (ticker, sampler)
}

/// Starts one task per agent, pulling (unary) or on a Work stream.
fn start_agents(
    channels: &[Channel],
    plan: &Plan,
    shared: &Arc<Shared>,
    started: Instant,
) -> Vec<tokio::task::JoinHandle<Recorder>> {
    let mut agent_tasks = Vec::new();
    for i in 0..plan.agents {
        let channel = channels[i % channels.len()].clone();
        // Open-loop pulls: agent i pulls every agents/rate seconds, offset by i/rate.
        let schedule = plan.pull_rate.map(|rate| {
            let first = started + Duration::from_secs_f64(i as f64 / rate);
            (first, Duration::from_secs_f64(plan.agents as f64 / rate))
        });
        let id = format!("agent-{i}");
        let shared = Arc::clone(shared);
        let task = match plan.mode {
            Mode::Unary => tokio::spawn(
                AgentJob {
                    channel,
                    id,
                    hold: plan.hold,
                    follow_up: plan.follow_up,
                    schedule,
                    shared,
                }
                .run(),
            ),
            Mode::Stream => tokio::spawn(
                StreamAgent {
                    channel,
                    id,
                    hold: plan.hold,
                    follow_up: plan.follow_up,
                    window: plan.window,
                    shared,
                }
                .run(),
            ),
        };
        agent_tasks.push(task);
    }
    agent_tasks
}

/// Waits until every created ticket (or, given, every ticket of the `backlog`) is resolved
/// (assigned, when agents hold), until nothing is done for `timeout` (tickets no agent may
/// take stay queued; the report explains them), or until a signal. Returns how it ended and
/// when the last ticket was done.
async fn drain(
    shared: &Shared,
    timeout: Duration,
    hold: bool,
    backlog: Option<u64>,
) -> (End, Instant) {
    let mut rule = Rule::new(timeout);
    loop {
        if let Some(name) = shared.interrupt.get() {
            return (End::Interrupted(name), Instant::now());
        }
        let done = if hold {
            shared.assigned.load(Relaxed)
        } else {
            shared.resolved.load(Relaxed)
        };
        let goal = backlog.unwrap_or_else(|| shared.created.load(Relaxed));
        if let Step::Stop(end, at) = rule.step(done, goal, Instant::now()) {
            return (end, at);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            name = shared.interrupt.wait() => return (End::Interrupted(name), Instant::now()),
        }
    }
}

pub(super) async fn queue_stats(channel: &Channel) -> anyhow::Result<pb::GetQueueStatsResponse> {
    let mut admin = pb::admin_service_client::AdminServiceClient::new(channel.clone());
    Ok(admin
        .get_queue_stats(pb::GetQueueStatsRequest {})
        .await?
        .into_inner())
}

fn open_tickets(stats: &pb::GetQueueStatsResponse) -> u64 {
    stats.open_by_state.iter().map(|s| s.count).sum()
}

async fn register_agents(channel: &Channel, profiles: &[AgentProfile]) -> anyhow::Result<()> {
    let mut agents = AgentServiceClient::new(channel.clone());
    for profile in profiles {
        let id = profile.id.to_string();
        agents.upsert_agent(upsert_request(profile)).await?;
        agents
            .set_presence(pb::SetPresenceRequest {
                agent_id: id,
                presence: pb::Presence::Available as i32,
                ..Default::default()
            })
            .await?;
    }
    Ok(())
}

fn upsert_request(p: &AgentProfile) -> pb::UpsertAgentRequest {
    pb::UpsertAgentRequest {
        agent_id: p.id.to_string(),
        display_name: p.display_name.clone(),
        skills: p.skills.iter().map(|s| s.0.to_string()).collect(),
        tiers: p.tiers.iter().map(|&t| convert::tier(t) as i32).collect(),
        capacity: crate::core::types::Channel::ALL
            .iter()
            .filter_map(|&c| Some((c.label().to_string(), p.capacity[c.index()]?)))
            .collect(),
        ..Default::default()
    }
}

fn create_request(t: NewTicket, run: u64) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        optional_skills: Vec::new(),
        request_id: String::new(),
        external_id: format!("{}-{run:x}", t.external_id),
        customer_id: t.customer_id,
        tier: convert::tier(t.tier) as i32,
        channel: convert::channel(t.channel) as i32,
        priority: convert::priority(t.priority) as i32,
        required_skills: t.skills.iter().map(|s| s.0.to_string()).collect(),
        sentiment: convert::sentiment(t.sentiment) as i32,
        preferred_agent_id: String::new(),
        created_at: None,
    }
}

struct Creator {
    plan: Plan,
    started: Instant,
    shared: Arc<Shared>,
    rng: Rng,
}

impl Creator {
    /// Claims ticket numbers until the plan's count or duration is used up, or a signal.
    async fn run(mut self, channel: Channel) -> Recorder {
        let mut client = TicketServiceClient::new(channel);
        let mut rec = Recorder::default();
        // A run id keeps external ids unique when one daemon is benched several times.
        let run = self.started.elapsed().as_nanos() as u64 ^ self.plan.seed ^ unique_run();
        let batch = self.plan.batch as u64;
        loop {
            let n = self.shared.next_ticket.fetch_add(batch, Relaxed);
            if self.shared.interrupt.get().is_some()
                || self.plan.tickets.is_some_and(|limit| n >= limit)
                || self
                    .plan
                    .duration
                    .is_some_and(|d| self.started.elapsed() >= d)
            {
                return rec;
            }
            // Open loop: request n is due at n / rate; latency counts from then.
            let intended = match self.plan.rate {
                Some(rate) => {
                    let due = self.started + Duration::from_secs_f64(n as f64 / rate);
                    tokio::select! {
                        _ = tokio::time::sleep_until(due.into()) => {}
                        _ = self.shared.interrupt.wait() => return rec,
                    }
                    due
                }
                None => Instant::now(),
            };
            let end = self
                .plan
                .tickets
                .map_or(n + batch, |limit| limit.min(n + batch));
            let created = if batch == 1 {
                self.create_one(&mut client, &mut rec, n, run, intended)
                    .await
            } else {
                self.create_batch(&mut client, &mut rec, n..end, run, intended)
                    .await
            };
            self.shared.created.fetch_add(created, Relaxed);
        }
    }

    /// One CreateTicket; how many tickets it created (0 or 1).
    async fn create_one(
        &mut self,
        client: &mut TicketServiceClient<Channel>,
        rec: &mut Recorder,
        n: u64,
        run: u64,
        intended: Instant,
    ) -> u64 {
        let req = create_request(mix::ticket(&mut self.rng, n), run);
        let result = client.create_ticket(req).await;
        rec.record(Rpc::CreateTicket, intended.elapsed(), result.as_ref().err());
        let Ok(ticket) = result else {
            return 0;
        };
        self.shared
            .record_created(std::iter::once(ticket.into_inner().ticket_id));
        1
    }

    /// One CreateTickets with tickets `numbers`; how many it created.
    async fn create_batch(
        &mut self,
        client: &mut TicketServiceClient<Channel>,
        rec: &mut Recorder,
        numbers: std::ops::Range<u64>,
        run: u64,
        intended: Instant,
    ) -> u64 {
        let tickets = numbers
            .map(|n| create_request(mix::ticket(&mut self.rng, n), run))
            .collect();
        let result = client
            .create_tickets(pb::CreateTicketsRequest { tickets })
            .await;
        rec.record(
            Rpc::CreateTickets,
            intended.elapsed(),
            result.as_ref().err(),
        );
        let Ok(answer) = result else {
            return 0;
        };
        let ids: Vec<u64> = answer
            .into_inner()
            .results
            .into_iter()
            .filter_map(|r| match r.result {
                Some(pb::create_ticket_result::Result::Ticket(t)) => Some(t.ticket_id),
                _ => None,
            })
            .collect();
        let created = ids.len() as u64;
        self.shared.record_created(ids);
        created
    }
}

fn unique_run() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

struct AgentJob {
    channel: Channel,
    id: String,
    /// Keep pulled tickets instead of replying and resolving.
    hold: bool,
    /// Do the check-back after the resolve.
    follow_up: bool,
    /// Open-loop pulls: this agent's pull k is due at `first + k * every`; latency counts from
    /// then. `None`: pull again as soon as the last one is done.
    schedule: Option<(Instant, Duration)>,
    shared: Arc<Shared>,
}

impl AgentJob {
    /// Pull (answered at once), then reply and resolve unless holding; back off briefly when
    /// nothing waits for this agent.
    async fn run(self) -> Recorder {
        let AgentJob {
            channel,
            id,
            hold,
            follow_up,
            schedule,
            shared,
        } = self;
        let mut pulls: u32 = 0;
        let mut agents = AgentServiceClient::new(channel.clone());
        let mut tickets = TicketServiceClient::new(channel);
        let mut rec = Recorder::default();
        let mut backoff = Duration::from_millis(1);
        while !shared.stop.load(Relaxed) {
            let req = pb::PullNextTicketRequest {
                agent_id: id.clone(),
                wait: None,
                ..Default::default()
            };
            let started = match schedule {
                Some((first, every)) => {
                    let due = first + every * pulls;
                    tokio::time::sleep_until(due.into()).await;
                    due
                }
                None => Instant::now(),
            };
            pulls += 1;
            let result = agents.pull_next_ticket(req).await;
            rec.record(
                Rpc::PullNextTicket,
                started.elapsed(),
                result.as_ref().err(),
            );
            let Some(a) = result.ok().and_then(|r| r.into_inner().assignment) else {
                if schedule.is_none() {
                    tokio::time::sleep(backoff).await;
                }
                backoff = (backoff * 2).min(Duration::from_millis(20));
                continue;
            };
            backoff = Duration::from_millis(1);
            let ticket_id = a.ticket.as_ref().map_or(0, |t| t.ticket_id);
            if !accepted(&mut agents, &mut rec, &id, &a).await {
                continue;
            }
            shared.assigned.fetch_add(1, Relaxed);
            shared.lease(ticket_id, a.lease_epoch);
            if hold {
                continue;
            }
            reply(&mut tickets, &mut rec, &id, ticket_id, a.lease_epoch).await;
            if resolve(&mut tickets, &mut rec, &id, ticket_id, a.lease_epoch).await {
                if follow_up {
                    check_back(&mut tickets, &mut rec, &id, ticket_id).await;
                }
                shared.resolved_id(ticket_id);
            }
            shared.resolved.fetch_add(1, Relaxed);
        }
        rec
    }
}

/// Turns offers on for every channel, open for `timeout` (`--offer-timeout`).
async fn offer_everywhere(
    channel: &Channel,
    timeout: crate::core::types::Span,
) -> anyhow::Result<()> {
    use crate::core::types::Channel as Ch;
    let offer_timeouts = Ch::ALL
        .iter()
        .map(|&c| pb::ChannelOfferTimeout {
            channel: convert::channel(c) as i32,
            timeout: Some(convert::duration(timeout)),
        })
        .collect();
    let policy = pb::SlaPolicy {
        offer_timeouts,
        ..Default::default()
    };
    let put = pb::PutSlaPolicyRequest {
        policy: Some(policy),
        ..Default::default()
    };
    let mut admin = pb::admin_service_client::AdminServiceClient::new(channel.clone());
    anyhow::Context::context(admin.put_sla_policy(put).await, "turning offers on")?;
    Ok(())
}

/// Takes the assignment's ticket if it came as an offer (AcceptTicket); whether the agent
/// holds it now. An offer that could not be accepted (it timed out) is left to the daemon.
pub(super) async fn accepted(
    agents: &mut AgentServiceClient<Channel>,
    rec: &mut Recorder,
    agent: &str,
    a: &pb::Assignment,
) -> bool {
    let Some(t) = a.ticket.as_ref().filter(|t| t.offered_until.is_some()) else {
        return true;
    };
    let accept = pb::AcceptTicketRequest {
        ticket_id: t.ticket_id,
        agent_id: agent.to_string(),
        lease_epoch: a.lease_epoch,
        ..Default::default()
    };
    let started = Instant::now();
    let result = agents.accept_ticket(accept).await;
    rec.record(Rpc::AcceptTicket, started.elapsed(), result.as_ref().err());
    result.is_ok()
}

/// Answers the customer (the first response).
pub(super) async fn reply(
    client: &mut TicketServiceClient<Channel>,
    rec: &mut Recorder,
    agent: &str,
    ticket_id: u64,
    lease_epoch: u64,
) {
    let reply = pb::RecordReplyRequest {
        ticket_id,
        author: pb::Author::Agent as i32,
        agent_id: agent.to_string(),
        lease_epoch,
        next_update_by: None,
        ..Default::default()
    };
    let started = Instant::now();
    let result = client.record_reply(reply).await;
    rec.record(Rpc::RecordReply, started.elapsed(), result.as_ref().err());
}

/// Resolves the ticket; whether that worked.
async fn resolve(
    client: &mut TicketServiceClient<Channel>,
    rec: &mut Recorder,
    agent: &str,
    ticket_id: u64,
    lease_epoch: u64,
) -> bool {
    let resolve = pb::ResolveTicketRequest {
        ticket_id,
        agent_id: agent.to_string(),
        lease_epoch,
        ..Default::default()
    };
    let started = Instant::now();
    let result = client.resolve_ticket(resolve).await;
    rec.record(Rpc::ResolveTicket, started.elapsed(), result.as_ref().err());
    result.is_ok()
}

/// The check-back after the resolve (the follow-up clock met): the ticket is finished.
pub(super) async fn check_back(
    client: &mut TicketServiceClient<Channel>,
    rec: &mut Recorder,
    agent: &str,
    ticket_id: u64,
) {
    let req = pb::RecordFollowUpRequest {
        ticket_id,
        agent_id: agent.to_string(),
        ..Default::default()
    };
    let started = Instant::now();
    let result = client.record_follow_up(req).await;
    rec.record(
        Rpc::RecordFollowUp,
        started.elapsed(),
        result.as_ref().err(),
    );
}

impl Shared {
    /// A state for a run that `interrupt` can stop.
    pub fn new(interrupt: Arc<Interrupt>) -> Shared {
        Shared {
            interrupt,
            ..Shared::default()
        }
    }

    pub(super) fn record_created(&self, ids: impl IntoIterator<Item = u64>) {
        if let Ok(mut created) = self.created_ids.lock() {
            created.extend(ids);
        }
    }

    pub(super) fn resolved_id(&self, id: u64) {
        if let Ok(mut resolved) = self.resolved_ids.lock() {
            resolved.insert(id);
        }
    }

    /// Tickets this run created and did not resolve, in id order.
    pub fn unresolved_ids(&self) -> Vec<u64> {
        let (Ok(created), Ok(resolved)) = (self.created_ids.lock(), self.resolved_ids.lock())
        else {
            return Vec::new();
        };
        let mut open: Vec<u64> = created
            .iter()
            .copied()
            .filter(|id| !resolved.contains(id))
            .collect();
        open.sort_unstable();
        open
    }

    /// How many distinct tickets were leased at least once.
    pub fn leased_tickets(&self) -> u64 {
        self.leases.lock().map_or(0, |l| l.len() as u64)
    }

    /// Records a lease: a ticket leased again must come with a newer epoch, or two agents
    /// would hold it at once.
    pub(super) fn lease(&self, ticket: u64, epoch: u64) {
        let Ok(mut leases) = self.leases.lock() else {
            return;
        };
        match leases.insert(ticket, epoch) {
            Some(old) if old >= epoch => self.double_assigned.fetch_add(1, Relaxed),
            Some(_) => self.reassigned.fetch_add(1, Relaxed),
            None => 0,
        };
    }
}

/// A line a second while there is a `plan` to report on: on a terminal a progress bar
/// (`bar`), otherwise plain lines. When the daemon's metrics address is known, the line ends
/// with its CPU per operation over that second.
async fn progress_loop(
    shared: Arc<Shared>,
    started: Instant,
    plan: Option<Plan>,
    bar: Option<ProgressBar>,
) {
    let Some(plan) = plan else {
        return;
    };
    let mut last = (cpu_mark(&plan, &shared).await, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = (cpu_mark(&plan, &shared).await, Instant::now());
        let server = match (last.0, now.0) {
            (Some(from), Some(to)) => {
                Some(Stretch::between(from, to, plan.hold).describe(plan.hold, now.1 - last.1))
            }
            _ => None,
        };
        last = now;
        let line = format!(
            "{:>5.1}s created {} assigned {} resolved {}{}{}",
            started.elapsed().as_secs_f64(),
            shared.created.load(Relaxed),
            shared.assigned.load(Relaxed),
            shared.resolved.load(Relaxed),
            if shared.creating.load(Relaxed) {
                ""
            } else {
                " (draining)"
            },
            server.map_or(String::new(), |s| format!("  {s}")),
        );
        match &bar {
            Some(bar) => bar.set_message(line),
            None => eprintln!("{line}"),
        }
    }
}
