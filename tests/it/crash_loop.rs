//! kill -9 in a loop (issue 7, "crash proof"): one daemon data dir, kept across cycles. Each
//! cycle starts the real binary, checks it against the LEDGER of every call a client heard OK
//! for, then runs concurrent clients (CreateTicket and small CreateTickets with request ids,
//! retried after a kill; PullNextTicket by several agents, some long polls, some abandoned by
//! the caller; RecordReply, ResolveTicket, ReleaseTicket; a WatchEvents follower) and SIGKILLs
//! the daemon at a random moment while calls are in flight. Afterwards the store is made big
//! enough for recovery to take a while (batch creates) and the daemon is SIGKILLed while it
//! recovers, then checked again.
//!
//! A client appends each acknowledged call to the ledger file and fsyncs it before it counts
//! the call as acknowledged. After every restart:
//! - every acknowledged create exists with its external id (ListTickets, some by GetTicket),
//!   and a retry with its request id answers the same ticket;
//! - every acknowledged resolve is RESOLVED (the load never reopens);
//! - every acknowledged assignment: the ticket's lease epoch is at least the acknowledged one,
//!   and a ticket still at its last acknowledged epoch is held by the agent that heard it;
//! - no two holders: per ticket, no epoch was ever acknowledged twice (so the acknowledged
//!   epochs are strictly increasing), every ASSIGNED or PENDING ticket names one known agent
//!   and nothing else does, and each agent's load is the number of tickets that name it;
//! - the event stream, stitched across the kills, has no gap and no repeat, the last event
//!   seen before a kill is still there after it, and each (ticket, clock, escalation level)
//!   fired at most once (a fast chat policy makes escalations and L2 take-backs happen).
//!
//! Environment: TRIAGE_CRASH_CYCLES (default 100), TRIAGE_CRASH_SEED (replays the random
//! choices: kill delays, load mix; thread scheduling still varies), TRIAGE_CRASH_BULK (tickets
//! for the recovery kills, default 30000), TRIAGE_CRASH_KEEP=1 (keep the data dir, daemon
//! logs and ledger; a failing run keeps them anyway and prints where). `tests/crash-loop.sh`
//! runs many cycles in release.

use crate::common::{self, agent, agent_reply, Clients, Daemon};
use pb::{Channel, EventKind, TicketState, Tier};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::Code;
use triage::proto as pb;

/// Short chat targets so that warnings, breaches, L2 take-backs and L3 happen within the run
/// (VIP chat: warning at 1.2 s, L1 1.5 s, L2 2.25 s, L3 3 s). Email keeps its 2 h.
const CONFIG: &str = r#"
[policy.targets.chat]
first_response = "3s"
next_reply = "3s"
resolution = "24h"
"#;

const CREATORS: usize = 2;
const AGENTS: usize = 3;
/// The load runs this long (ms, inclusive range) before the SIGKILL.
const KILL_AFTER_MS: (u64, u64) = (20, 300);
/// SIGKILLs while the big store is being recovered.
const RECOVERY_KILLS: usize = 5;
const BATCH: u64 = 1000;
/// Creators wait while about this many tickets are queued, so that the agents keep up and
/// the store (and each cycle's check) grows slowly.
const MAX_BACKLOG: usize = 40;
/// At most this many creates per daemon life, so that a long release run (much faster than
/// a debug one) does not grow the store, and each restart's full check, without bound.
const CREATES_PER_LIFE: u64 = 150;

// ---- deterministic randomness -------------------------------------------------------------

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    /// An independent stream for a task.
    fn fork(&mut self) -> Rng {
        Rng(self.next())
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

// ---- the ledger ---------------------------------------------------------------------------

/// One call a client heard OK for.
#[derive(Clone, Debug, PartialEq)]
enum Ack {
    Created {
        ticket: u64,
        external: String,
    },
    Assigned {
        ticket: u64,
        agent: String,
        epoch: u64,
    },
    Resolved {
        ticket: u64,
    },
    Released {
        ticket: u64,
        agent: String,
        epoch: u64,
    },
}

impl Ack {
    fn line(&self) -> String {
        match self {
            Ack::Created { ticket, external } => format!("created {ticket} {external}"),
            Ack::Assigned {
                ticket,
                agent,
                epoch,
            } => format!("assigned {ticket} {agent} {epoch}"),
            Ack::Resolved { ticket } => format!("resolved {ticket}"),
            Ack::Released {
                ticket,
                agent,
                epoch,
            } => format!("released {ticket} {agent} {epoch}"),
        }
    }

    /// A ledger line back (None for comments and blank lines).
    fn parse(line: &str) -> Option<Ack> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| -> u64 {
            words
                .get(i)
                .and_then(|w| w.parse().ok())
                .unwrap_or_else(|| panic!("bad ledger line {line:?}"))
        };
        let word = |i: usize| -> String {
            words
                .get(i)
                .unwrap_or_else(|| panic!("bad ledger line {line:?}"))
                .to_string()
        };
        Some(match *words.first()? {
            "created" => Ack::Created {
                ticket: num(1),
                external: word(2),
            },
            "assigned" => Ack::Assigned {
                ticket: num(1),
                agent: word(2),
                epoch: num(3),
            },
            "resolved" => Ack::Resolved { ticket: num(1) },
            "released" => Ack::Released {
                ticket: num(1),
                agent: word(2),
                epoch: num(3),
            },
            w if w.starts_with('#') => return None,
            _ => panic!("bad ledger line {line:?}"),
        })
    }
}

/// What went wrong, by kind, for the summary and the failure message.
#[derive(Debug, Default)]
struct Problems {
    /// Something acknowledged is gone (or changed into something else).
    lost: Vec<String>,
    /// A ticket with two holders (or an epoch acknowledged twice, or loads that disagree).
    double: Vec<String>,
    /// Anything else: gaps in ids or events, refused calls, unexpected answers.
    other: Vec<String>,
}

impl Problems {
    fn is_empty(&self) -> bool {
        self.lost.is_empty() && self.double.is_empty() && self.other.is_empty()
    }
    fn take(&mut self) -> Problems {
        std::mem::take(self)
    }
    fn extend(&mut self, more: Problems) {
        self.lost.extend(more.lost);
        self.double.extend(more.double);
        self.other.extend(more.other);
    }
    fn report(&self) -> String {
        let mut out = format!(
            "lost: {}, double holders: {}, other: {}",
            self.lost.len(),
            self.double.len(),
            self.other.len()
        );
        for (kind, list) in [
            ("LOST", &self.lost),
            ("DOUBLE HOLDER", &self.double),
            ("OTHER", &self.other),
        ] {
            for p in list.iter().take(30) {
                out.push_str(&format!("\n  {kind}: {p}"));
            }
        }
        out
    }
}

/// The acknowledged facts, folded from the ledger's lines.
#[derive(Debug, Default, PartialEq)]
struct Acked {
    /// ticket -> external id
    created: HashMap<u64, String>,
    /// external id -> ticket
    by_external: HashMap<String, u64>,
    /// ticket -> epoch -> agent
    assigned: HashMap<u64, BTreeMap<u64, String>>,
    resolved: HashSet<u64>,
    /// Lines of each kind.
    creates: u64,
    assigns: u64,
    resolves: u64,
    releases: u64,
}

impl Acked {
    /// Folds one acknowledgement in; what can be judged from the acknowledgements alone
    /// (an epoch heard twice, an id heard for two external ids) goes to `problems`.
    fn apply(&mut self, ack: &Ack, problems: &mut Problems) {
        match ack {
            Ack::Created { ticket, external } => {
                self.creates += 1;
                if let Some(old) = self.created.insert(*ticket, external.clone()) {
                    if &old != external {
                        problems.lost.push(format!(
                            "ticket {ticket} was acknowledged as {old} and later as {external}: \
                             the first create was lost and its id reused"
                        ));
                    }
                }
                if let Some(old) = self.by_external.insert(external.clone(), *ticket) {
                    if old != *ticket {
                        problems.lost.push(format!(
                            "external id {external} was acknowledged as ticket {old} and later \
                             as ticket {ticket}"
                        ));
                    }
                }
            }
            Ack::Assigned {
                ticket,
                agent,
                epoch,
            } => {
                self.assigns += 1;
                let epochs = self.assigned.entry(*ticket).or_default();
                if let Some(other) = epochs.insert(*epoch, agent.clone()) {
                    problems.double.push(format!(
                        "ticket {ticket}: lease epoch {epoch} was acknowledged to {other} and \
                         again to {agent}"
                    ));
                }
            }
            Ack::Resolved { ticket } => {
                self.resolves += 1;
                if !self.resolved.insert(*ticket) {
                    problems.lost.push(format!(
                        "ticket {ticket} was resolved twice: the first acknowledged resolve \
                         was lost"
                    ));
                }
            }
            Ack::Released { .. } => self.releases += 1,
        }
    }
}

/// The ledger file plus its folded state. A call counts as acknowledged once `record`
/// returned, which is after the line is on disk.
struct Ledger {
    file: File,
    path: PathBuf,
    acked: Acked,
    problems: Problems,
}

impl Ledger {
    fn create(path: &Path) -> Ledger {
        Ledger {
            file: File::create(path).expect("create ledger"),
            path: path.to_path_buf(),
            acked: Acked::default(),
            problems: Problems::default(),
        }
    }

    fn record(&mut self, acks: &[Ack]) {
        let mut text = String::new();
        for ack in acks {
            text.push_str(&ack.line());
            text.push('\n');
        }
        self.file.write_all(text.as_bytes()).expect("write ledger");
        self.file.sync_data().expect("fsync ledger");
        for ack in acks {
            self.acked.apply(ack, &mut self.problems);
        }
    }

    fn comment(&mut self, text: &str) {
        writeln!(self.file, "# {text}").expect("write ledger");
    }

    /// Folds the file afresh: it must say exactly what the clients were told.
    fn reread(&self) -> Acked {
        let mut acked = Acked::default();
        let mut problems = Problems::default();
        let file = File::open(&self.path).expect("open ledger");
        for line in BufReader::new(file).lines() {
            if let Some(ack) = Ack::parse(&line.expect("read ledger")) {
                acked.apply(&ack, &mut problems);
            }
        }
        acked
    }
}

// ---- the event stream ---------------------------------------------------------------------

/// What the stitched event stream showed, across every daemon of the run.
#[derive(Default)]
struct Tally {
    /// The last event seen; a watcher after a restart starts at it and must see it unchanged.
    last: Option<pb::Event>,
    events: u64,
    created: HashMap<u64, u32>,
    resolved: HashMap<u64, u32>,
    /// (ticket, agent) -> ASSIGNED events
    assigned: HashMap<(u64, String), u32>,
    /// (ticket, metric, level) -> steps fired (WARNING, BREACHED, ESCALATED)
    escalations: HashMap<(u64, i32, i32), u32>,
    steps: u64,
    problems: Problems,
}

impl Tally {
    fn resume_from(&self) -> u64 {
        self.last.as_ref().map_or(1, |e| e.sequence)
    }

    /// `again` is the first event of a resumed stream: it must be the last one seen.
    fn see(&mut self, e: pb::Event, again: bool) {
        if again {
            if self.last.as_ref() != Some(&e) {
                self.problems.lost.push(format!(
                    "event {} changed across a kill: saw {:?}, now {e:?}",
                    self.resume_from(),
                    self.last
                ));
            }
            return;
        }
        let expected = self.last.as_ref().map_or(1, |l| l.sequence + 1);
        if e.sequence != expected {
            self.problems.other.push(format!(
                "event sequence {} where {expected} was due (gap or repeat)",
                e.sequence
            ));
        }
        self.events += 1;
        let t = e.ticket_id;
        match e.kind() {
            EventKind::Created => {
                let n = self.created.entry(t).or_default();
                *n += 1;
                if *n > 1 {
                    self.problems.lost.push(format!(
                        "ticket {t} has {n} CREATED events: a create that was published \
                         (so flushed) was lost and its id reused"
                    ));
                }
            }
            EventKind::Resolved => {
                let n = self.resolved.entry(t).or_default();
                *n += 1;
                if *n > 1 {
                    self.problems.lost.push(format!(
                        "ticket {t} has {n} RESOLVED events (never reopened)"
                    ));
                }
            }
            EventKind::Assigned => {
                *self.assigned.entry((t, e.agent_id.clone())).or_default() += 1;
            }
            EventKind::Warning | EventKind::Breached | EventKind::Escalated => {
                self.steps += 1;
                let n = self.escalations.entry((t, e.metric, e.level)).or_default();
                *n += 1;
                if *n > 1 {
                    self.problems.other.push(format!(
                        "ticket {t}: {:?} {:?} fired {n} times (event {})",
                        e.metric(),
                        e.level(),
                        e.sequence
                    ));
                }
            }
            _ => {}
        }
        self.last = Some(e);
    }
}

// ---- the clients --------------------------------------------------------------------------

/// What every client task of one daemon's life shares.
#[derive(Clone)]
struct Ctx {
    ledger: Arc<Mutex<Ledger>>,
    /// Set just before the SIGKILL: errors after it are expected, errors before it are not.
    killed: Arc<AtomicBool>,
    /// Refusals and odd answers while the daemon was alive.
    unexpected: Arc<Mutex<Vec<String>>>,
}

impl Ctx {
    fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    fn record(&self, acks: &[Ack]) {
        self.ledger.lock().expect("ledger").record(acks);
    }

    /// Acknowledged tickets never acknowledged to an agent: about the queue's length.
    fn backlog(&self) -> usize {
        let ledger = self.ledger.lock().expect("ledger");
        let acked = &ledger.acked;
        acked.created.len().saturating_sub(acked.assigned.len())
    }

    fn odd(&self, what: String) {
        self.unexpected.lock().expect("unexpected").push(what);
    }

    /// After a failed call: stop the task (the daemon is dead or something is wrong), or go on
    /// when `lease_may_be_stale` and the daemon said the lease is no longer ours (an L2
    /// take-back got there first).
    fn stop_after(&self, what: &str, status: &tonic::Status, lease_may_be_stale: bool) -> bool {
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
fn request_for(external: &str) -> pb::CreateTicketRequest {
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
        request_id: format!("req-{external}"),
        external_id: external.to_string(),
        customer_id: format!("cust-{}", n % 97),
        tier: tier as i32,
        channel: channel as i32,
        priority: pb::Priority::Normal as i32,
        required_skills: Vec::new(),
        sentiment: pb::Sentiment::Neutral as i32,
        preferred_agent_id: String::new(),
    }
}

/// Creates tickets until the daemon dies, one at a time (CreateTicket) or a few in one call
/// (CreateTickets); a create that got no answer is retried (same request id) by the next
/// daemon's creators.
async fn creator(
    mut c: Clients,
    ctx: Ctx,
    next: Arc<AtomicU64>,
    retry: Arc<Mutex<Vec<u64>>>,
    mut rng: Rng,
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
        let size = if rng.percent(20) {
            rng.between(2, 20)
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
async fn finish(c: &mut Clients, ctx: &Ctx, agent: &str, ticket: u64, epoch: u64) -> bool {
    if let Err(status) = c
        .tickets
        .record_reply(agent_reply(ticket, agent, epoch))
        .await
    {
        return !ctx.stop_after("RecordReply", &status, true);
    }
    let resolve = pb::ResolveTicketRequest {
        ticket_id: ticket,
        agent_id: agent.into(),
        lease_epoch: epoch,
        ..Default::default()
    };
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
async fn agent_worker(
    mut c: Clients,
    ctx: Ctx,
    agent: String,
    resume: Vec<(u64, u64)>,
    mut rng: Rng,
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
        let long_poll = rng.percent(50);
        let pull = pb::PullNextTicketRequest {
            agent_id: agent.clone(),
            wait: long_poll.then_some(prost_types::Duration {
                seconds: 0,
                nanos: 250_000_000,
            }),
            ..Default::default()
        };
        // Some long polls are abandoned by the caller: what the daemon leased meanwhile is
        // released by it (or, if the answer was already on its way, held by an agent that
        // never heard of it; the next life's agent finishes it).
        let call = c.agents.pull_next_ticket(pull);
        let answer = if long_poll && rng.percent(15) {
            let patience = Duration::from_millis(rng.between(1, 200));
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
        match rng.next() % 100 {
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
async fn watcher(mut c: Clients, ctx: Ctx, tally: Arc<Mutex<Tally>>) {
    let (from, resumed) = {
        let t = tally.lock().expect("tally");
        (t.resume_from(), t.last.is_some())
    };
    let req = pb::WatchEventsRequest {
        from_sequence: from,
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

// ---- checking the daemon against the ledger ----------------------------------------------

fn channel_name(c: Channel) -> String {
    c.as_str_name()
        .trim_start_matches("CHANNEL_")
        .to_ascii_lowercase()
}

/// Agent ids with their loads, the part of the agents that only assignments change.
fn loads(agents: &[pb::Agent]) -> BTreeMap<String, BTreeMap<String, u32>> {
    agents
        .iter()
        .map(|a| {
            let load = a
                .load
                .iter()
                .filter(|(_, &n)| n > 0)
                .map(|(k, &n)| (k.clone(), n))
                .collect();
            (a.agent_id.clone(), load)
        })
        .collect()
}

/// Checks the daemon against everything acknowledged so far; returns the tickets each agent
/// holds (ticket, epoch) for the agents to finish, and how many tickets there are.
async fn verify(
    c: &mut Clients,
    acked: &Acked,
    rng: &mut Rng,
    problems: &mut Problems,
) -> (HashMap<String, Vec<(u64, u64)>>, usize) {
    // Timers keep firing while we read (an L2 take-back lowers a load), so the tickets are
    // read between two identical reads of the agents' loads. Nobody pulls meanwhile.
    let (tickets, agents) = {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let before = c.all_agents().await;
            let tickets = c.all_tickets().await;
            let after = c.all_agents().await;
            if loads(&before) == loads(&after) || attempt == 10 {
                break (tickets, after);
            }
        }
    };
    let mut by_id: HashMap<u64, pb::Ticket> = HashMap::with_capacity(tickets.len());
    for t in tickets {
        if let Some(old) = by_id.insert(t.ticket_id, t) {
            problems
                .other
                .push(format!("ticket {} listed twice", old.ticket_id));
        }
    }
    let count = by_id.len();
    for id in 1..=count as u64 {
        if !by_id.contains_key(&id) {
            problems
                .other
                .push(format!("ticket ids are not dense: {id} missing of {count}"));
            break;
        }
    }

    for (id, external) in &acked.created {
        match by_id.get(id) {
            None => problems
                .lost
                .push(format!("acknowledged create {id} ({external}) is gone")),
            Some(t) if &t.external_id != external => problems.lost.push(format!(
                "acknowledged ticket {id} was {external}, now {}",
                t.external_id
            )),
            Some(_) => {}
        }
    }
    // GetTicket for a sample, and idempotent retries of a few acknowledged creates.
    let max = acked.created.keys().max().copied().unwrap_or(0);
    for i in 0..40 {
        if max == 0 {
            break;
        }
        let id = rng.between(1, max);
        let Some(external) = acked.created.get(&id) else {
            continue;
        };
        if i < 20 {
            match c
                .tickets
                .get_ticket(pb::GetTicketRequest { ticket_id: id })
                .await
            {
                Ok(t) if &t.get_ref().external_id == external => {}
                Ok(t) => problems.lost.push(format!(
                    "GetTicket {id}: external id {} instead of {external}",
                    t.get_ref().external_id
                )),
                Err(s) => problems
                    .lost
                    .push(format!("GetTicket {id} ({external}): {s:?}")),
            }
        } else {
            match c.tickets.create_ticket(request_for(external)).await {
                Ok(t) if t.get_ref().ticket_id == id => {}
                Ok(t) => problems.lost.push(format!(
                    "a retry of acknowledged create {external} (ticket {id}) answered ticket {}",
                    t.get_ref().ticket_id
                )),
                Err(s) => problems.lost.push(format!(
                    "a retry of acknowledged create {external} (ticket {id}): {s:?}"
                )),
            }
        }
    }

    for id in &acked.resolved {
        match by_id.get(id) {
            Some(t) if t.state() == TicketState::Resolved => {}
            Some(t) => problems.lost.push(format!(
                "acknowledged resolve of {id} lost: the ticket is {:?}",
                t.state()
            )),
            None => problems.lost.push(format!("resolved ticket {id} is gone")),
        }
    }
    for (id, epochs) in &acked.assigned {
        let Some(t) = by_id.get(id) else {
            problems.lost.push(format!("assigned ticket {id} is gone"));
            continue;
        };
        let Some((&top, holder)) = epochs.last_key_value() else {
            continue;
        };
        if t.lease_epoch < top {
            problems.lost.push(format!(
                "ticket {id}: assignment to {holder} at epoch {top} was acknowledged, the \
                 ticket is at epoch {} ({:?}, agent {:?})",
                t.lease_epoch,
                t.state(),
                t.agent_id
            ));
        } else if t.lease_epoch == top && &t.agent_id != holder {
            problems.double.push(format!(
                "ticket {id} at epoch {top} was acknowledged to {holder}, the daemon says \
                 {:?} holds it ({:?})",
                t.agent_id,
                t.state()
            ));
        }
    }

    let known: HashSet<&str> = agents.iter().map(|a| a.agent_id.as_str()).collect();
    let mut held: HashMap<(String, String), u32> = HashMap::new();
    let mut holdings: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    for t in by_id.values() {
        let holds = matches!(t.state(), TicketState::Assigned | TicketState::Pending);
        if holds && !known.contains(t.agent_id.as_str()) {
            problems.double.push(format!(
                "ticket {} is {:?} but held by {:?}",
                t.ticket_id,
                t.state(),
                t.agent_id
            ));
        } else if holds {
            *held
                .entry((t.agent_id.clone(), channel_name(t.channel())))
                .or_default() += 1;
            let answered = t
                .sla
                .iter()
                .any(|s| s.metric() == pb::SlaMetric::FirstResponse && s.met_at.is_some());
            // Unanswered chat tickets are left to the L2 take-back.
            if answered || t.channel() != Channel::Chat {
                holdings
                    .entry(t.agent_id.clone())
                    .or_default()
                    .push((t.ticket_id, t.lease_epoch));
            }
        } else if !t.agent_id.is_empty() {
            problems.double.push(format!(
                "ticket {} is {:?} yet names agent {:?}",
                t.ticket_id,
                t.state(),
                t.agent_id
            ));
        }
    }
    for (agent, load) in loads(&agents) {
        let mine: BTreeMap<String, u32> = held
            .iter()
            .filter(|((a, _), _)| *a == agent)
            .map(|((_, ch), &n)| (ch.clone(), n))
            .collect();
        if load != mine {
            problems.double.push(format!(
                "agent {agent} has load {load:?} but the tickets naming it are {mine:?}"
            ));
        }
    }
    for list in holdings.values_mut() {
        list.sort_unstable();
    }
    (holdings, count)
}

// ---- the daemon's life --------------------------------------------------------------------

async fn start(dir: &Path) -> Daemon {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || Daemon::start(&dir, Some(CONFIG)))
        .await
        .expect("start task")
}

/// Starts the daemon as `Daemon::start` does (same data dir and config) without waiting for
/// it, SIGKILLs it after `delay`, and says whether it had printed its ready line (recovery
/// done, ports bound) by then. A daemon that exited by itself first is an error, with its log.
fn kill_while_starting(dir: &Path, delay: Duration, round: usize) -> Result<bool, String> {
    let log_path = dir.join(format!("daemon-recovery-kill-{round}.log"));
    let log = File::create(&log_path).expect("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("serve")
        .arg("--grpc-addr=127.0.0.1:0")
        .arg("--metrics-addr=127.0.0.1:0")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--config")
        .arg(dir.join("triage.toml"))
        .env("TRIAGE_LOG", "info,triage=debug")
        .env_remove("TRIAGE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn triage");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        line.starts_with("triage ready")
    });
    std::thread::sleep(delay);
    let exited = child.try_wait().expect("try_wait");
    if exited.is_none() {
        child.kill().expect("kill -9");
    }
    child.wait().expect("reap");
    let ready = reader.join().expect("stdout reader");
    match exited {
        None => Ok(ready),
        Some(status) => Err(format!(
            "the daemon exited by itself ({status}) while starting:\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        )),
    }
}

/// Keeps the directory (data, daemon logs, ledger) when the test fails or when asked to.
struct Workdir(Option<tempfile::TempDir>);

impl Drop for Workdir {
    fn drop(&mut self) {
        let keep = std::thread::panicking() || std::env::var_os("TRIAGE_CRASH_KEEP").is_some();
        if let (true, Some(dir)) = (keep, self.0.take()) {
            let path = dir.path().to_path_buf();
            std::mem::forget(dir);
            eprintln!(
                "crash_loop: kept {} (data/, daemon-*.log, ledger.txt)",
                path.display()
            );
        }
    }
}

/// Stops every task of one daemon's life once it is dead; none may hang.
async fn join_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a client task did not stop within 60 s of the kill")
            .expect("client task panicked");
    }
}

fn agent_id(i: usize) -> String {
    format!("crash-{i}")
}

/// Everything one run shares across the daemon's lives.
struct Run {
    dir: PathBuf,
    seed: u64,
    rng: Rng,
    ledger: Arc<Mutex<Ledger>>,
    tally: Arc<Mutex<Tally>>,
    unexpected: Arc<Mutex<Vec<String>>>,
    /// The next loop ticket number (`cx-N`), and creates that got no answer, to retry.
    next: Arc<AtomicU64>,
    retry: Arc<Mutex<Vec<u64>>>,
    kills: u64,
    kills_in_recovery: u64,
}

impl Run {
    fn ctx(&self) -> Ctx {
        Ctx {
            ledger: Arc::clone(&self.ledger),
            killed: Arc::new(AtomicBool::new(false)),
            unexpected: Arc::clone(&self.unexpected),
        }
    }

    fn note(&self, text: &str) {
        self.ledger.lock().expect("ledger").comment(text);
    }

    /// Checks the daemon against the ledger and the event stream so far; panics with every
    /// problem found, the seed and where in the run it was. Returns what each agent holds
    /// and how many tickets there are.
    async fn check(
        &mut self,
        c: &mut Clients,
        at: &str,
    ) -> (HashMap<String, Vec<(u64, u64)>>, usize) {
        // No client task runs between lives: the ledger's state is lent to `verify`.
        let (acked, mut problems) = {
            let mut guard = self.ledger.lock().expect("ledger");
            (std::mem::take(&mut guard.acked), guard.problems.take())
        };
        let mut sample = self.rng.fork();
        let held = verify(c, &acked, &mut sample, &mut problems).await;
        self.ledger.lock().expect("ledger").acked = acked;
        problems.extend(self.tally.lock().expect("tally").problems.take());
        for odd in self.unexpected.lock().expect("unexpected").drain(..) {
            problems.other.push(odd);
        }
        assert!(
            problems.is_empty(),
            "crash loop failed at {at} (replay with TRIAGE_CRASH_SEED={}): {}",
            self.seed,
            problems.report()
        );
        held
    }

    /// Start, check, load, SIGKILL at a random moment.
    async fn cycle(&mut self, cycle: u64) {
        let d = start(&self.dir).await;
        self.note(&format!("cycle {cycle}: daemon pid {}", d.pid()));
        let mut c = d.clients().await;
        let (mut held, _) = self
            .check(&mut c, &format!("the start of cycle {cycle}"))
            .await;
        for i in 0..AGENTS {
            let profile = agent(&agent_id(i), &[], &[], &[("chat", 1000), ("email", 1000)]);
            c.available_agent(profile).await;
        }
        let ctx = self.ctx();
        let mut tasks = vec![tokio::spawn(watcher(
            c.clone(),
            ctx.clone(),
            Arc::clone(&self.tally),
        ))];
        for _ in 0..CREATORS {
            tasks.push(tokio::spawn(creator(
                c.clone(),
                ctx.clone(),
                Arc::clone(&self.next),
                Arc::clone(&self.retry),
                self.rng.fork(),
            )));
        }
        let agents = d.clients().await; // a second connection
        for i in 0..AGENTS {
            let id = agent_id(i);
            let resume = held.remove(&id).unwrap_or_default();
            let rng = self.rng.fork();
            tasks.push(tokio::spawn(agent_worker(
                agents.clone(),
                ctx.clone(),
                id,
                resume,
                rng,
            )));
        }
        let delay = self.rng.between(KILL_AFTER_MS.0, KILL_AFTER_MS.1);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        ctx.killed.store(true, Ordering::SeqCst);
        d.kill9();
        self.kills += 1;
        join_all(tasks).await;
    }

    /// Grows the store with `count` tickets through CreateTickets (1000 a call), then
    /// SIGKILLs the idle daemon.
    async fn bulk_load(&mut self, count: u64) {
        let d = start(&self.dir).await;
        self.note(&format!("bulk load of {count}: daemon pid {}", d.pid()));
        let mut c = d.clients().await;
        self.check(&mut c, "the start of the bulk load").await;
        let ctx = self.ctx();
        let watch = tokio::spawn(watcher(c.clone(), ctx.clone(), Arc::clone(&self.tally)));
        let mut n = 0;
        while n < count {
            let size = BATCH.min(count - n);
            let tickets: Vec<_> = (n..n + size)
                .map(|i| request_for(&format!("bx-{i}")))
                .collect();
            n += size;
            let answer = c
                .tickets
                .create_tickets(pb::CreateTicketsRequest {
                    tickets: tickets.clone(),
                })
                .await
                .expect("CreateTickets")
                .into_inner();
            assert_eq!(answer.results.len(), tickets.len(), "one result per item");
            let mut acks = Vec::with_capacity(tickets.len());
            for (req, result) in tickets.iter().zip(answer.results) {
                match result.result {
                    Some(pb::create_ticket_result::Result::Ticket(t))
                        if t.external_id == req.external_id =>
                    {
                        acks.push(Ack::Created {
                            ticket: t.ticket_id,
                            external: req.external_id.clone(),
                        })
                    }
                    other => ctx.odd(format!("bulk create {}: {other:?}", req.external_id)),
                }
            }
            ctx.record(&acks);
        }
        ctx.killed.store(true, Ordering::SeqCst);
        d.kill9();
        self.kills += 1;
        join_all(vec![watch]).await;
    }

    /// Restarts the big store once to time its recovery, then SIGKILLs the daemon at random
    /// moments before it would be ready.
    async fn kill_during_recovery(&mut self) {
        let started = Instant::now();
        let d = start(&self.dir).await;
        let recovery = started.elapsed();
        let mut c = d.clients().await;
        let (_, tickets) = self.check(&mut c, "the end of the bulk load").await;
        drop(c);
        d.kill9();
        self.kills += 1;
        println!(
            "crash_loop: {tickets} tickets: start to ready in {} ms ({} build)",
            recovery.as_millis(),
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
        let window = recovery.as_millis() as u64 * 9 / 10;
        let mut round = 0;
        // Random moments within the recovery; if all of them fell after the ready line
        // (a much faster start), earlier ones until one falls inside.
        while round < RECOVERY_KILLS || (self.kills_in_recovery == 0 && round < 3 * RECOVERY_KILLS)
        {
            let limit = if round < RECOVERY_KILLS {
                window
            } else {
                window >> (round - RECOVERY_KILLS + 1)
            };
            let delay = Duration::from_millis(self.rng.between(0, limit));
            self.note(&format!(
                "recovery kill {round} after {} ms",
                delay.as_millis()
            ));
            let dir = self.dir.clone();
            let ready =
                tokio::task::spawn_blocking(move || kill_while_starting(&dir, delay, round))
                    .await
                    .expect("recovery kill task")
                    .unwrap_or_else(|e| panic!("recovery kill {round} (seed {}): {e}", self.seed));
            self.kills += 1;
            if !ready {
                self.kills_in_recovery += 1;
            }
            round += 1;
        }
        assert!(
            self.kills_in_recovery > 0,
            "no SIGKILL landed before the ready line (seed {})",
            self.seed
        );
    }

    /// The last life: check everything once more, read the event stream up to a marker, stop
    /// with SIGTERM, and compare the events and the ledger file with what was acknowledged.
    async fn finish(&mut self) {
        let d = start(&self.dir).await;
        self.note(&format!("final check: daemon pid {}", d.pid()));
        let mut c = d.clients().await;
        self.check(&mut c, "the final start").await;
        let ctx = self.ctx();
        let watch = tokio::spawn(watcher(c.clone(), ctx.clone(), Arc::clone(&self.tally)));
        let external = format!("cx-{}", self.next.fetch_add(1, Ordering::SeqCst));
        let marker = c
            .tickets
            .create_ticket(request_for(&external))
            .await
            .expect("marker create")
            .into_inner();
        ctx.record(&[Ack::Created {
            ticket: marker.ticket_id,
            external,
        }]);
        let deadline = Instant::now() + Duration::from_secs(120);
        while !self
            .tally
            .lock()
            .expect("tally")
            .created
            .contains_key(&marker.ticket_id)
        {
            assert!(
                Instant::now() < deadline,
                "the marker's CREATED event never came"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(c);
        ctx.killed.store(true, Ordering::SeqCst);
        let exit = d.terminate().await;
        assert!(exit.success(), "SIGTERM exits 0, got {exit:?}");
        join_all(vec![watch]).await;

        let ledger = self.ledger.lock().expect("ledger");
        let tally = self.tally.lock().expect("tally");
        let mut problems = Problems::default();
        let acked = &ledger.acked;
        for (id, external) in &acked.created {
            if tally.created.get(id) != Some(&1) {
                problems.lost.push(format!(
                    "acknowledged create {id} ({external}) has {:?} CREATED events",
                    tally.created.get(id)
                ));
            }
        }
        for id in &acked.resolved {
            if tally.resolved.get(id) != Some(&1) {
                problems.lost.push(format!(
                    "acknowledged resolve of {id} has {:?} RESOLVED events",
                    tally.resolved.get(id)
                ));
            }
        }
        let mut heard: HashMap<(u64, String), u32> = HashMap::new();
        for (id, epochs) in &acked.assigned {
            for agent in epochs.values() {
                *heard.entry((*id, agent.clone())).or_default() += 1;
            }
        }
        for (key, n) in heard {
            let events = tally.assigned.get(&key).copied().unwrap_or(0);
            if events < n {
                problems.lost.push(format!(
                    "ticket {} was acknowledged to {} {n} times but has {events} ASSIGNED events",
                    key.0, key.1
                ));
            }
        }
        let reread = ledger.reread();
        if reread != *acked {
            problems.other.push(
                "the ledger file does not say what the clients were told (re-read differs)".into(),
            );
        }
        assert!(
            problems.is_empty(),
            "crash loop failed at the final event check (replay with TRIAGE_CRASH_SEED={}): {}",
            self.seed,
            problems.report()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_a_loop_loses_nothing_acknowledged_and_never_doubles_a_holder() {
    let _heavy = common::heavy();
    let cycles = env_u64("TRIAGE_CRASH_CYCLES", 100);
    let bulk = env_u64("TRIAGE_CRASH_BULK", 30_000);
    let seed = env_u64(
        "TRIAGE_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64),
    );
    println!(
        "crash_loop: seed {seed} (replay with TRIAGE_CRASH_SEED={seed}), {cycles} cycles, \
         bulk {bulk}"
    );
    let began = Instant::now();
    let workdir = Workdir(Some(common::temp()));
    let dir = workdir.0.as_ref().expect("dir").path().to_path_buf();
    std::fs::write(dir.join("triage.toml"), CONFIG).expect("write config");
    let mut ledger = Ledger::create(&dir.join("ledger.txt"));
    ledger.comment(&format!("seed {seed}, {cycles} cycles"));
    let mut run = Run {
        dir,
        seed,
        rng: Rng(seed),
        ledger: Arc::new(Mutex::new(ledger)),
        tally: Arc::new(Mutex::new(Tally::default())),
        unexpected: Arc::new(Mutex::new(Vec::new())),
        next: Arc::new(AtomicU64::new(0)),
        retry: Arc::new(Mutex::new(Vec::new())),
        kills: 0,
        kills_in_recovery: 0,
    };
    for cycle in 0..cycles {
        run.cycle(cycle).await;
        if (cycle + 1) % 25 == 0 {
            println!(
                "crash_loop: {} cycles in {:.1} s",
                cycle + 1,
                began.elapsed().as_secs_f64()
            );
        }
    }
    let looped = began.elapsed();
    if bulk > 0 {
        run.bulk_load(bulk).await;
        run.kill_during_recovery().await;
    }
    run.finish().await;

    let ledger = run.ledger.lock().expect("ledger");
    let tally = run.tally.lock().expect("tally");
    let a = &ledger.acked;
    println!(
        "crash_loop summary: seed {seed}, cycles {cycles} ({:.1} s), kills {} (during recovery \
         {}), acknowledged and checked: creates {}, assigns {}, resolves {}, releases {}; \
         events {} (escalation steps {}); lost: 0, double holders: 0; total {:.1} s",
        looped.as_secs_f64(),
        run.kills,
        run.kills_in_recovery,
        a.creates,
        a.assigns,
        a.resolves,
        a.releases,
        tally.events,
        tally.steps,
        began.elapsed().as_secs_f64()
    );
}
