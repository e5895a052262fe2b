//! The owner task: the only code that touches the `Scheduler`. It takes whatever commands are
//! waiting (a batch), fires due timers, applies the commands in order, serves long-polling
//! pulls, writes everything the batch changed in one atomic store commit, waits for the flush,
//! and only then answers the callers and reports metrics (group commit). No caller hears "OK"
//! before its change is on disk.

use super::events::EventLog;
use crate::core::command::{Command, Lease, Reply};
use crate::core::idempotency::RequestKey;
use crate::core::types::{AgentId, Span, Ts};
use crate::core::{CoreError, Scheduler};
use crate::store::{Batch, Store};
use crate::telemetry;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, watch};

/// Why a command got no answer from the core.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("the scheduler is overloaded; retry with backoff")]
    Overloaded,
    #[error("the daemon is shutting down")]
    ShuttingDown,
    #[error("{0}")]
    Limit(String),
    #[error(
        "the store is failing: serving reads of the last durable state until a write succeeds"
    )]
    ReadOnly,
    #[error("the store could not persist the change: {0}")]
    Store(String),
}

pub type Answer = Result<Reply, ServiceError>;

enum Request {
    /// A command answered once, after its effect is durable.
    Call {
        cmd: Command,
        /// For pulls: how long the caller will wait for a ticket.
        wait: Duration,
        reply: oneshot::Sender<Answer>,
    },
    /// Credit for a work session: push up to `tickets` assignments to `push`.
    Ready {
        agent: AgentId,
        tickets: u32,
        push: Push,
    },
}

/// Where a work session receives its assignments (`Reply::Pulled(Some(_))`, each after its
/// lease is durable) or the error that ends it. The session bounds it by the credit it gives.
pub type Push = mpsc::UnboundedSender<Answer>;

/// A cheap, cloneable way to send commands to the owner task.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Request>,
}

impl Handle {
    /// Applies `cmd` and returns once its effect is durable.
    pub async fn call(&self, cmd: Command) -> Answer {
        self.send(cmd, Duration::ZERO).await
    }

    /// Applies `pull` (a `Command::Pull`, maybe under a request id), waiting up to `wait` for
    /// a ticket to become available.
    pub async fn pull(&self, pull: Command, wait: Duration) -> Answer {
        self.send(pull, wait).await
    }

    /// Gives a work session credit for `tickets` more assignments. Waits for room in the
    /// owner's queue rather than shedding: the session's client is paced by its own credit.
    pub async fn ready(
        &self,
        agent: AgentId,
        tickets: u32,
        push: Push,
    ) -> Result<(), ServiceError> {
        let req = Request::Ready {
            agent,
            tickets,
            push,
        };
        self.tx
            .send(req)
            .await
            .map_err(|_| ServiceError::ShuttingDown)
    }

    async fn send(&self, cmd: Command, wait: Duration) -> Answer {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Request::Call { cmd, wait, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => ServiceError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => ServiceError::ShuttingDown,
            })?;
        rx.await.unwrap_or(Err(ServiceError::ShuttingDown))
    }
}

/// The current wall time as the core counts it.
pub fn wall_now() -> Ts {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Ts(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// Where the daemon is in its life. The owner answers waiting pulls once `Draining`, and
/// at `Stopping` takes no new commands, applies and commits those already queued, and returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Running,
    Draining,
    Stopping,
}

/// Where an answer goes: the caller of one command, or a work session.
enum Sink {
    Once(oneshot::Sender<Answer>),
    Session(Push),
}

impl Sink {
    /// Delivers `answer`, or hands it back when the receiver is gone.
    fn send(self, answer: Answer) -> Result<(), Answer> {
        match self {
            Sink::Once(tx) => tx.send(answer),
            Sink::Session(tx) => tx.send(answer).map_err(|e| e.0),
        }
    }

    fn is_closed(&self) -> bool {
        match self {
            Sink::Once(tx) => tx.is_closed(),
            Sink::Session(tx) => tx.is_closed(),
        }
    }

    fn same_session(&self, push: &Push) -> bool {
        matches!(self, Sink::Session(tx) if tx.same_channel(push))
    }

    /// What a waiter hears when the daemon drains: a long poll that nothing came, a session
    /// that it is over.
    fn closing_answer(&self) -> Answer {
        match self {
            Sink::Once(_) => Ok(Reply::Pulled(None)),
            Sink::Session(_) => Err(ServiceError::ShuttingDown),
        }
    }
}

/// A long poll (credit 1, until its wait ends) or a work session's credit (until it is spent
/// or the session ends), waiting for tickets.
struct Waiter {
    agent: AgentId,
    /// A long poll's request id: its assignment is remembered under it.
    key: Option<RequestKey>,
    until: Ts,
    credit: u32,
    sink: Sink,
}

pub struct Owner {
    scheduler: Scheduler,
    store: Arc<dyn Store>,
    rx: mpsc::Receiver<Request>,
    phase: watch::Receiver<Phase>,
    waiters: VecDeque<Waiter>,
    /// Releases of assignments whose caller was gone when the answer was ready.
    orphans: Vec<Command>,
    max_batch: usize,
    last_gauges: Option<Instant>,
    events: EventLog,
    last_prune: Instant,
    /// Long polls waiting now, and how many may.
    long_polls: usize,
    max_long_polls: usize,
    /// Set while the store refuses writes: when writes were last probed.
    read_only: Option<Instant>,
}

/// How often a read-only owner tries a write.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// How often the owner prunes the event log.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// Creates the owner and its handle; `queue` bounds the commands waiting for it (beyond it,
/// callers get `Overloaded`), `max_long_polls` the pulls waiting for a ticket. `phase` tells it when to drain and when to stop; `events` numbers
/// and publishes what each batch reports.
pub fn owner(
    scheduler: Scheduler,
    store: Arc<dyn Store>,
    queue: usize,
    max_long_polls: usize,
    phase: watch::Receiver<Phase>,
    events: EventLog,
) -> (Owner, Handle) {
    let (tx, rx) = mpsc::channel(queue);
    let owner = Owner {
        scheduler,
        store,
        rx,
        phase,
        waiters: VecDeque::new(),
        orphans: Vec::new(),
        max_batch: 1024,
        last_gauges: None,
        events,
        last_prune: Instant::now(),
        long_polls: 0,
        max_long_polls,
        read_only: None,
    };
    (owner, Handle { tx })
}

impl Owner {
    /// Runs until told to stop (or every handle is gone), then commits what is queued and
    /// returns. A store failure stops the task (fail-stop): memory would no longer match disk,
    /// and a restart recovers from what was durably written.
    pub async fn run(mut self) -> Result<(), ServiceError> {
        // Fire whatever fell due while the daemon was down, before serving anyone.
        self.step(Vec::new()).await?;
        loop {
            if *self.phase.borrow() == Phase::Stopping {
                self.rx.close();
            }
            let mut batch = Vec::new();
            let sleep = self.sleep_for();
            tokio::select! {
                req = self.rx.recv() => match req {
                    Some(req) => batch.push(req),
                    None => break,
                },
                _ = tokio::time::sleep(sleep) => {}
                changed = self.phase.changed() => {
                    if changed.is_err() {
                        // The daemon that owned the phase is gone: stop as if told to.
                        self.rx.close();
                    }
                }
            }
            while batch.len() < self.max_batch {
                match self.rx.try_recv() {
                    Ok(req) => batch.push(req),
                    Err(_) => break,
                }
            }
            self.step(batch).await?;
        }
        self.answer_all_waiters();
        Ok(())
    }

    /// How long to sleep: until the next timer or waiter deadline, at most a second (gauges).
    fn sleep_for(&self) -> Duration {
        let now = wall_now();
        let next = self
            .scheduler
            .next_deadline()
            .into_iter()
            .chain(self.waiters.iter().map(|w| w.until))
            .min();
        let ms = match next {
            _ if !self.orphans.is_empty() => 0,
            Some(at) => at.since(now).0.min(1000),
            None => 1000,
        };
        Duration::from_millis(ms)
    }

    /// One group commit: tick, apply, serve waiters, persist, answer, report.
    async fn step(&mut self, batch: Vec<Request>) -> Result<(), ServiceError> {
        if self.read_only.is_some() && !self.writes_work_again().await {
            self.serve_reads_only(batch);
            return Ok(());
        }
        let (started, commands) = (Instant::now(), batch.len());
        let now = wall_now();
        self.scheduler.tick(now);
        for release in std::mem::take(&mut self.orphans) {
            if let Err(e) = self.scheduler.apply(release, now) {
                tracing::debug!(error = %e, "undelivered assignment was already gone");
            }
        }
        let draining = *self.phase.borrow() >= Phase::Draining;
        let mut answers = Vec::with_capacity(batch.len());
        for req in batch {
            match req {
                Request::Call { cmd, wait, reply } => {
                    self.apply_call(cmd, wait, reply, now, draining, &mut answers)
                }
                Request::Ready {
                    agent,
                    tickets,
                    push,
                } => self.add_credit(agent, tickets, push),
            }
        }
        self.serve_waiters(now, draining, &mut answers);
        let mut journal = self.scheduler.take_journal();
        let events = self.events.number(std::mem::take(&mut journal.events), now);
        let changed = journal.has_writes() || !events.is_empty();
        if changed {
            let mut batch = Batch::from_journal(&journal, &self.scheduler);
            batch.push_events(&events);
            let records = batch.len();
            let store = Arc::clone(&self.store);
            let writing = Instant::now();
            let result = tokio::task::spawn_blocking(move || store.commit(batch)).await;
            let result = match result {
                Ok(r) => r.map_err(|e| ServiceError::Store(e.to_string())),
                Err(e) => Err(ServiceError::Store(format!("commit task failed: {e}"))),
            };
            if let Err(err) = result {
                tracing::error!(error = %err, "store commit failed: reloading the last durable state, serving reads only until writes work again");
                for (sink, _) in answers {
                    let _ = sink.send(Err(err.clone()));
                }
                return self.reload(now).await;
            }
            telemetry::record_commit(writing.elapsed(), records);
        }
        for (sink, answer) in answers {
            // A pull whose caller gave up while its assignment was being committed: nobody
            // knows about that lease, so it is released in the next step.
            if let Err(Ok(Reply::Pulled(Some(a)))) = sink.send(answer) {
                if let Some(agent) = a.ticket.holder().cloned() {
                    self.orphans.push(Command::Release {
                        ticket: a.ticket.id,
                        lease: Lease {
                            agent,
                            epoch: a.lease_epoch,
                        },
                    });
                }
            }
        }
        telemetry::record_events(events.iter().map(|r| &r.event));
        telemetry::log_events(&events);
        self.maybe_record_gauges(now, changed);
        if !events.is_empty() {
            self.events.feed.publish(events.into());
        }
        telemetry::record_step(started.elapsed(), commands);
        self.maybe_prune(now).await;
        Ok(())
    }

    /// After a failed commit: replaces the scheduler, whose memory holds the failed batch, with
    /// the store's last durable state, so nothing of that batch remains (sled applies a batch
    /// whole or not at all), and turns to serving reads only. If even reading the store fails,
    /// the owner stops (fail-stop) and a restart recovers.
    async fn reload(&mut self, now: Ts) -> Result<(), ServiceError> {
        let store = Arc::clone(&self.store);
        let records = tokio::task::spawn_blocking(move || store.load_all())
            .await
            .map_err(|e| ServiceError::Store(format!("reload task failed: {e}")))?
            .map_err(|e| ServiceError::Store(format!("reloading after a failed commit: {e}")))?;
        let (policy, config) = (
            self.scheduler.policy().clone(),
            self.scheduler.config().clone(),
        );
        self.scheduler = Scheduler::restore(policy, config, records, now)
            .map_err(|e| ServiceError::Store(format!("reloading after a failed commit: {e}")))?;
        self.events
            .renumber_from_store()
            .map_err(|e| ServiceError::Store(e.to_string()))?;
        for w in self.waiters.drain(..) {
            let _ = w.sink.send(Err(ServiceError::ReadOnly));
        }
        self.long_polls = 0;
        self.read_only = Some(Instant::now());
        telemetry::record_read_only(true);
        Ok(())
    }

    /// While read-only, at most once a second: whether a probe write succeeds, ending the
    /// read-only spell.
    async fn writes_work_again(&mut self) -> bool {
        if self.read_only.is_some_and(|at| at.elapsed() < PROBE_EVERY) {
            return false;
        }
        let store = Arc::clone(&self.store);
        let now = wall_now();
        let probe = tokio::task::spawn_blocking(move || store.probe(now)).await;
        if let Ok(Ok(())) = probe {
            tracing::info!("the store accepts writes again; leaving read-only mode");
            self.read_only = None;
            telemetry::record_read_only(false);
            return true;
        }
        self.read_only = Some(Instant::now());
        false
    }

    /// Read-only: reads are answered from the last durable state (no timer fires, nothing is
    /// dispatched); every write and every session's credit gets `ReadOnly`.
    fn serve_reads_only(&mut self, batch: Vec<Request>) {
        let now = wall_now();
        for req in batch {
            match req {
                Request::Call { cmd, reply, .. } if cmd.is_read() => {
                    let answer = self.scheduler.apply(cmd, now).map_err(ServiceError::from);
                    let _ = reply.send(answer);
                }
                Request::Call { reply, .. } => {
                    let _ = reply.send(Err(ServiceError::ReadOnly));
                }
                Request::Ready { push, .. } => {
                    let _ = push.send(Err(ServiceError::ReadOnly));
                }
            }
        }
        let _ = self.scheduler.take_journal();
    }

    /// Keeps the event log within its retention; a failure is logged and retried later, since
    /// holding events longer loses nothing.
    async fn maybe_prune(&mut self, now: Ts) {
        if self.last_prune.elapsed() < PRUNE_EVERY {
            return;
        }
        self.last_prune = Instant::now();
        match tokio::task::spawn_blocking(self.events.pruner(now)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "pruning the event log failed"),
            Err(e) => tracing::warn!(error = %e, "pruning task failed"),
        }
    }

    /// Applies one command; a pull that found nothing and may wait becomes a waiter.
    fn apply_call(
        &mut self,
        cmd: Command,
        wait: Duration,
        reply: oneshot::Sender<Answer>,
        now: Ts,
        draining: bool,
        answers: &mut Vec<(Sink, Answer)>,
    ) {
        let waits = match cmd.as_pull() {
            Some((agent, key)) if !wait.is_zero() && !draining => {
                Some((agent.clone(), key.cloned()))
            }
            _ => None,
        };
        match (self.scheduler.apply(cmd, now), waits) {
            (Ok(Reply::Pulled(None)), Some(_)) if self.long_polls >= self.max_long_polls => {
                let full = format!(
                    "too many long polls waiting (limit {}); retry later",
                    self.max_long_polls
                );
                answers.push((Sink::Once(reply), Err(ServiceError::Limit(full))));
            }
            (Ok(Reply::Pulled(None)), Some((agent, key))) => {
                if let Some(Err(reused)) = key.as_ref().map(|k| self.forget_waiter(k, answers)) {
                    answers.push((Sink::Once(reply), Err(reused.into())));
                    return;
                }
                self.long_polls += 1;
                self.waiters.push_back(Waiter {
                    agent,
                    key,
                    until: now.plus(Span(wait.as_millis() as u64)),
                    credit: 1,
                    sink: Sink::Once(reply),
                });
            }
            (answer, _) => answers.push((Sink::Once(reply), answer.map_err(ServiceError::from))),
        }
    }

    /// A retried long poll replaces the one still waiting under the same request id (whose
    /// caller has most likely given up), which hears "nothing came": one request, one ticket.
    /// Another body under a waiting poll's id is refused, as it would be once that poll is
    /// answered.
    fn forget_waiter(
        &mut self,
        key: &RequestKey,
        answers: &mut Vec<(Sink, Answer)>,
    ) -> Result<(), CoreError> {
        let same_id = |w: &Waiter| w.key.as_ref().is_some_and(|k| k.id == key.id);
        let Some(i) = self.waiters.iter().position(same_id) else {
            return Ok(());
        };
        if self.waiters[i].key.as_ref() != Some(key) {
            return Err(CoreError::RequestIdReused(key.id.clone()));
        }
        if let Some(old) = self.waiters.remove(i) {
            self.long_polls = self.long_polls.saturating_sub(1);
            answers.push((old.sink, Ok(Reply::Pulled(None))));
        }
        Ok(())
    }

    /// Adds a work session's credit to its waiter (one per session), or makes it one.
    fn add_credit(&mut self, agent: AgentId, tickets: u32, push: Push) {
        if tickets == 0 {
            return;
        }
        match self.waiters.iter_mut().find(|w| w.sink.same_session(&push)) {
            Some(w) => w.credit = w.credit.saturating_add(tickets),
            None => self.waiters.push_back(Waiter {
                agent,
                key: None,
                until: Ts(i64::MAX),
                credit: tickets,
                sink: Sink::Session(push),
            }),
        }
    }

    /// Offers queued tickets to the waiters (least-loaded agent first, see
    /// `Scheduler::dispatch`), round after round while sessions with credit left keep getting
    /// tickets; answers expired long polls with none.
    fn serve_waiters(&mut self, now: Ts, draining: bool, answers: &mut Vec<(Sink, Answer)>) {
        let mut waiting = Vec::with_capacity(self.waiters.len());
        for w in self.waiters.drain(..) {
            if w.sink.is_closed() {
                continue;
            }
            if draining || w.until <= now {
                let answer = w.sink.closing_answer();
                answers.push((w.sink, answer));
                continue;
            }
            // Answered meanwhile by another pull under the same request id.
            let replay = w.key.as_ref().map(|k| self.scheduler.replay(k));
            match replay {
                Some(Ok(Some(reply))) => answers.push((w.sink, Ok(reply))),
                Some(Err(e)) => answers.push((w.sink, Err(e.into()))),
                _ => waiting.push(w),
            }
        }
        while !waiting.is_empty() {
            let agents: Vec<AgentId> = waiting.iter().map(|w| w.agent.clone()).collect();
            let offers = self.scheduler.dispatch(&agents, now);
            let mut again = Vec::new();
            for (mut w, offer) in waiting.into_iter().zip(offers) {
                match offer {
                    Ok(None) => self.waiters.push_back(w),
                    Ok(Some(a)) => {
                        let reply = Reply::Pulled(Some(Box::new(a)));
                        if let Some(key) = w.key.take() {
                            self.scheduler.remember(key, &reply, now);
                        }
                        let pushed = Ok(reply);
                        w.credit -= 1;
                        match &w.sink {
                            Sink::Session(push) if w.credit > 0 => {
                                answers.push((Sink::Session(push.clone()), pushed));
                                again.push(w);
                            }
                            _ => answers.push((w.sink, pushed)),
                        }
                    }
                    Err(e) => answers.push((w.sink, Err(e.into()))),
                }
            }
            waiting = again;
        }
        let once = |w: &&Waiter| matches!(w.sink, Sink::Once(_));
        self.long_polls = self.waiters.iter().filter(once).count();
    }

    fn answer_all_waiters(&mut self) {
        for w in self.waiters.drain(..) {
            let answer = w.sink.closing_answer();
            let _ = w.sink.send(answer);
        }
    }

    fn maybe_record_gauges(&mut self, now: Ts, changed: bool) {
        // Gauges are cheap but not free: refresh at most every 200 ms under load, and at least
        // every second (the owner wakes that often) so ages keep moving when idle.
        let since = self.last_gauges.map(|at| at.elapsed());
        let due = since.is_none_or(|s| {
            s >= Duration::from_secs(1) || (changed && s >= Duration::from_millis(200))
        });
        if due {
            telemetry::record_gauges(&self.scheduler.gauges(), self.scheduler.policy(), now);
            telemetry::record_long_polls(self.long_polls);
            self.last_gauges = Some(Instant::now());
        }
    }
}
