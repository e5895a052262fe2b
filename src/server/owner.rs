//! The owner task: the only code that touches the `Scheduler`. It takes whatever commands are
//! waiting (a batch), fires due timers, applies the commands in order, lets the core's
//! `Waiting` registry serve the pulls waiting for a ticket, writes everything the batch changed
//! in one atomic store commit, waits for the flush, and only then answers the callers and
//! reports metrics (group commit). No caller hears "OK" before its change is on disk. The
//! decisions are the core's; the owner persists and answers, and says who caused each event
//! (`audit`).

use super::audit::{CallEpoch, Served, Stamps};
use super::events::EventLog;
use super::handle::{Answer, Handle, Push, Request, ServiceError, StoreFailure};
use super::phase::Phase;
use super::waiters::{Sink, Sinks};
use crate::core::command::{Command, Lease, Reply};
use crate::core::event::{Actor, Recorded};
use crate::core::types::{AgentId, Span, Ts};
use crate::core::waiting::{Polled, Waiting};
use crate::core::Scheduler;
use crate::store::{Batch, LiveCounts, Store};
use crate::telemetry;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, watch};

mod archive;
pub use archive::count_recent_archive;
mod read_only;

/// The current wall time as the core counts it.
pub fn wall_now() -> Ts {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Ts(i64::try_from(ms).unwrap_or(i64::MAX))
}

pub struct Owner {
    scheduler: Scheduler,
    store: Arc<dyn Store>,
    rx: mpsc::Receiver<Request>,
    phase: watch::Receiver<Phase>,
    waiting: Waiting,
    sinks: Sinks,
    /// Releases of assignments whose caller was gone when the answer was ready.
    orphans: Vec<Command>,
    max_batch: usize,
    last_gauges: Option<Instant>,
    events: EventLog,
    /// How long finished tickets stay in the archive.
    keep_finished: Span,
    last_prune: Instant,
    /// The last archive prune deleted a whole batch: more is due, so the next step prunes
    /// again instead of waiting a second.
    archive_behind: bool,
    /// Likewise for the event log: events beyond its count bound remain after the last prune.
    events_behind: bool,
    /// Set while the store refuses writes: when writes were last probed.
    read_only: Option<Instant>,
    /// Whether the store last failed to keep its room for a reopen (said once, not each time).
    room_short: bool,
    /// The live counts last written for recovery to size its tables by.
    counted: Option<LiveCounts>,
    /// How long a step waits for the callers the last one answered (see `gather`).
    gather: Duration,
    /// Callers the last durable step answered.
    answered: usize,
    /// A store read in this step failed: the instance may be broken (sled keeps a failed
    /// background write's error and fails every later read), so the step goes the way of a
    /// failed commit.
    read_failure: Option<ServiceError>,
    /// What the archive said this step about the external ids the batch's creates check
    /// (`prefetch_externals`): `None`, not archived.
    externals: std::collections::HashMap<String, Option<crate::core::types::TicketId>>,
}

/// Answers of a batch, held until the batch is durable.
type Answers = Vec<(Sink, Answer)>;

/// How often the owner prunes the event log and the archive.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// The most archived tickets one prune deletes (a few milliseconds). Once a second, or on
/// every step while a backlog remains (see `Owner::prune_archive`).
const ARCHIVE_PRUNE_BATCH: usize = 1_000;

/// Runs `owner` on a thread of its own with a single-threaded runtime, and returns what it
/// returns (a closed channel: the thread panicked). Its commits block that thread until they
/// are durable instead of crossing to the blocking pool and back: two thread wake-ups fewer
/// per commit, and the runtime's workers never wait on the disk. Its other store calls
/// (prunes, the probe and reload of read-only mode) block it the same way.
pub fn spawn(owner: Owner) -> std::io::Result<oneshot::Receiver<Result<(), ServiceError>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("triage-owner".into())
        .spawn(move || {
            // Nobody waiting for the result any more is no error: the daemon is ending.
            let _ = tx.send(runtime.block_on(owner.run()));
        })?;
    Ok(rx)
}

/// Creates the owner and its handle; `queue` bounds the commands waiting for it (beyond it,
/// callers get `Overloaded`), `max_long_polls` the pulls waiting for a ticket. `phase` tells
/// it when to drain and when to stop; `events` numbers and publishes what each batch reports;
/// finished tickets are kept in the archive for `keep_finished`.
pub fn owner(
    scheduler: Scheduler,
    store: Arc<dyn Store>,
    queue: usize,
    max_long_polls: usize,
    phase: watch::Receiver<Phase>,
    events: EventLog,
    keep_finished: Span,
) -> (Owner, Handle) {
    let (handle, rx) = Handle::channel(queue);
    let owner = Owner {
        scheduler,
        store,
        rx,
        phase,
        waiting: Waiting::new(max_long_polls),
        sinks: Sinks::default(),
        orphans: Vec::new(),
        max_batch: 1024,
        last_gauges: None,
        events,
        keep_finished,
        last_prune: Instant::now(),
        archive_behind: false,
        events_behind: false,
        read_only: None,
        room_short: false,
        counted: None,
        gather: Duration::ZERO,
        answered: 0,
        read_failure: None,
        externals: Default::default(),
    };
    (owner, handle)
}

impl Owner {
    /// Lets each step wait up to `gather` for the callers the last step answered (see
    /// `gather`); zero (the default here) never waits.
    pub fn gathering(mut self, gather: Duration) -> Owner {
        self.gather = gather;
        self
    }

    /// Runs until told to stop (or every handle is gone), then commits what is queued and
    /// returns. A store failure stops the task (fail-stop): memory would no longer match disk,
    /// and a restart recovers from what was durably written.
    pub async fn run(mut self) -> Result<(), ServiceError> {
        // Fire whatever fell due while the daemon was down, before serving anyone.
        self.step(Vec::new())?;
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
            self.drain_into(&mut batch);
            self.gather(&mut batch).await;
            if let Err(e) = self.step(batch) {
                return Err(self.stop_on(e));
            }
        }
        self.waiting.end_all();
        let mut answers = Answers::new();
        self.route_deliveries(&mut answers);
        for (sink, answer) in answers {
            let _ = sink.send(answer);
        }
        Ok(())
    }

    /// Takes what is waiting, up to a batch.
    fn drain_into(&mut self, batch: &mut Vec<Request>) {
        while batch.len() < self.max_batch {
            match self.rx.try_recv() {
                Ok(req) => batch.push(req),
                Err(_) => break,
            }
        }
    }

    /// Waits, at most `gather`, until as many calls are in the batch as the last step
    /// answered: those callers are the ones likely to call again at once. A commit costs
    /// about as much CPU (the `fdatasync`, thread hand-offs) as a dozen calls, so fuller
    /// batches cost less per call; the wait ends as soon as they are back.
    async fn gather(&mut self, batch: &mut Vec<Request>) {
        let want = self.answered.min(self.max_batch);
        if self.gather.is_zero() || batch.is_empty() || batch.len() >= want {
            return;
        }
        let deadline = tokio::time::Instant::now() + self.gather;
        while batch.len() < want {
            tokio::select! {
                req = self.rx.recv() => match req {
                    Some(req) => batch.push(req),
                    None => return,
                },
                _ = tokio::time::sleep_until(deadline) => return,
            }
            self.drain_into(batch);
        }
    }

    /// How long to sleep: until the next timer or waiter deadline, at most a second (gauges).
    fn sleep_for(&self) -> Duration {
        let now = wall_now();
        let next = self
            .scheduler
            .next_deadline()
            .into_iter()
            .chain(self.waiting.next_deadline())
            .min();
        let ms = match next {
            _ if !self.orphans.is_empty() => 0,
            Some(at) => at.since(now).0.min(1000),
            None => 1000,
        };
        Duration::from_millis(ms)
    }

    /// One group commit: apply, persist, answer, report.
    fn step(&mut self, batch: Vec<Request>) -> Result<(), ServiceError> {
        if self.read_only.is_some() && !self.writes_work_again() {
            self.serve_reads_only(batch);
            return Ok(());
        }
        let (started, commands, now) = (Instant::now(), batch.len(), wall_now());
        let (answers, stamps) = self.apply_batch(batch, now);
        if let Some(failure) = self.read_failure.take() {
            return self.fail(answers, failure, now);
        }
        let (events, changed) = match self.commit(now, stamps) {
            Ok(committed) => committed,
            Err(failure) => return self.fail(answers, failure.into(), now),
        };
        self.deliver(answers);
        self.report(events, changed, now);
        telemetry::record_step(started.elapsed(), commands);
        self.maybe_prune(now)
    }

    /// Fires due timers, releases orphaned assignments, applies the batch in order and serves
    /// the waiting pulls; returns the answers to give once all that is durable, and who
    /// caused each event journaled.
    fn apply_batch(&mut self, batch: Vec<Request>, now: Ts) -> (Answers, Stamps) {
        self.scheduler.tick(now);
        for release in std::mem::take(&mut self.orphans) {
            if let Err(e) = self.scheduler.apply(release, now) {
                tracing::debug!(error = %e, "undelivered assignment was already gone");
            }
        }
        let mut stamps = Stamps::default();
        stamps.caused(self.journaled(), &Actor::system(), None);
        if *self.phase.borrow() >= Phase::Draining {
            self.waiting.drain();
        }
        self.prefetch_externals(&batch);
        let mut answers = Answers::with_capacity(batch.len());
        for req in batch {
            match req {
                Request::Call {
                    cmd,
                    actor,
                    wait,
                    reply,
                } => {
                    let epoch = CallEpoch::of(&cmd);
                    let answer = self.apply_call(cmd, &actor, wait, reply, now);
                    let epoch = epoch.given(answer.as_ref().map(|(_, answer)| answer));
                    stamps.caused(self.journaled(), &actor, epoch);
                    answers.extend(answer);
                }
                Request::Ready {
                    actor,
                    agent,
                    tickets,
                    push,
                } => self.add_credit(actor, agent, tickets, push),
            }
        }
        let gone = self.sinks.remove_closed();
        self.waiting.forget(&gone);
        self.waiting.serve(&mut self.scheduler, now);
        let served = self.route_deliveries(&mut answers);
        stamps.served(self.scheduler.journaled_events(), &served);
        (answers, stamps)
    }

    /// How many events the batch journaled so far.
    fn journaled(&self) -> usize {
        self.scheduler.journaled_events().len()
    }

    /// Applies one command; a pull that found nothing and may wait becomes a waiter (and gets
    /// no answer yet).
    fn apply_call(
        &mut self,
        cmd: Command,
        actor: &Actor,
        wait: Duration,
        reply: oneshot::Sender<Answer>,
        now: Ts,
    ) -> Option<(Sink, Answer)> {
        let wait = Span(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
        let read = match &cmd {
            Command::ListTickets(filter) => Some(self.list_tickets(filter)),
            Command::EraseCustomer(erase) => Some(self.erase_step(erase)),
            _ => self.thaw_for(&cmd).err().map(Err),
        };
        if let Some(answer) = read {
            if let Err(e @ ServiceError::Store(_)) = &answer {
                self.read_failure.get_or_insert_with(|| e.clone());
            }
            return Some((Sink::Once(reply), answer));
        }
        let answer = match self.waiting.apply(&mut self.scheduler, cmd, wait, now) {
            Ok(Polled::Waiting(id)) => {
                self.sinks.insert(id, Sink::Once(reply), actor.clone());
                return None;
            }
            Ok(Polled::Answered(answered)) => Ok(answered),
            Err(e) => Err(e.into()),
        };
        Some((Sink::Once(reply), answer))
    }

    /// Adds a work session's credit to its waiter (one per session), or makes it one.
    fn add_credit(&mut self, actor: Actor, agent: AgentId, tickets: u32, push: Push) {
        if tickets == 0 {
            return;
        }
        if let Some(id) = self.sinks.session(&push) {
            if self.waiting.add_credit(id, tickets) {
                return;
            }
        }
        let id = self.waiting.open_session(agent, tickets);
        self.sinks.insert(id, Sink::Session(push), actor);
    }

    /// Turns the registry's decisions into answers for the waiters' sinks; returns which
    /// tickets went to which waiter's caller.
    fn route_deliveries(&mut self, answers: &mut Answers) -> Served {
        let mut served = Served::default();
        for delivery in self.waiting.take_deliveries() {
            served.note(&delivery, self.sinks.actor(delivery.waiter));
            answers.extend(self.sinks.route(delivery));
        }
        served
    }

    /// Writes what the batch changed, with its events numbered, in one atomic commit; returns
    /// the events to publish and whether anything was written. The write blocks this thread
    /// until it is durable: the owner has a thread of its own (`spawn`), and nothing else
    /// could go on meanwhile anyway, since the next step needs this one's outcome.
    fn commit(&mut self, now: Ts, stamps: Stamps) -> Result<(Vec<Recorded>, bool), StoreFailure> {
        let mut journal = self.scheduler.take_journal();
        self.scheduler.archive_finished(&mut journal);
        telemetry::record_archived(journal.archived.len());
        let events = self
            .events
            .number(std::mem::take(&mut journal.events), stamps, now);
        if !journal.has_writes() && events.is_empty() {
            return Ok((events, false));
        }
        let mut batch = Batch::from_journal(&journal, &self.scheduler);
        batch.push_events(&events);
        let counts = LiveCounts::of(&self.scheduler);
        let recount = self.counted.is_none_or(|last| counts.drifted_from(last));
        if recount {
            batch.push_counts(counts);
        }
        let records = batch.len();
        let writing = Instant::now();
        self.store.commit(batch)?;
        telemetry::record_commit(writing.elapsed(), records, self.store.name());
        if recount {
            self.counted = Some(counts);
        }
        Ok((events, true))
    }

    /// Answers the callers of a durable batch.
    fn deliver(&mut self, answers: Answers) {
        self.answered = answers.len();
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
    }

    /// Reports a durable batch: event metrics and logs, gauges, and the live event feed.
    fn report(&mut self, events: Vec<Recorded>, changed: bool, now: Ts) {
        telemetry::record_events(events.iter().map(|r| &r.event));
        telemetry::log_events(&events);
        self.refresh_gauges(now, changed);
        if !events.is_empty() {
            self.events.feed.publish(events.into());
        }
    }

    /// Keeps the event log and the archive within their retention; a failure is logged and
    /// retried later, since holding records longer loses nothing. The owner waits for each
    /// prune (a bounded batch), so no commit runs beside it.
    fn maybe_prune(&mut self, now: Ts) -> Result<(), ServiceError> {
        let due = self.last_prune.elapsed() >= PRUNE_EVERY;
        if self.events_behind || due {
            self.prune_events(now);
        }
        if self.archive_behind || due {
            self.prune_archive(now);
        }
        if due {
            self.last_prune = Instant::now();
            self.keep_room()?;
        }
        Ok(())
    }

    /// Deletes one bounded batch of events past retention; while events beyond the count
    /// bound remain, the next step prunes again (a busy desk writes more events a second than
    /// one batch holds).
    fn prune_events(&mut self, now: Ts) {
        let hold = (self.scheduler.webhooks())
            .filter(|w| !w.paused)
            .map(|w| w.cursor)
            .min();
        let pruned = prune("the event log", self.events.prune(now, hold));
        self.events_behind = pruned.unwrap_or(false);
    }

    /// Deletes one bounded batch of archived tickets past retention. A full batch means more
    /// are due: the next step prunes again, so retention keeps up with any rate of finished
    /// tickets while no step waits for more than one batch.
    fn prune_archive(&mut self, now: Ts) {
        let older_than = Ts(now.0.saturating_sub(self.keep_finished.0 as i64));
        let pruned = self.store.prune_archive(older_than, ARCHIVE_PRUNE_BATCH);
        self.archive_behind = match prune("the archive", pruned) {
            Some(n) => {
                telemetry::record_pruned(n);
                n == ARCHIVE_PRUNE_BATCH
            }
            None => false,
        };
    }

    /// Refreshes the gauges when due. They are cheap but not free: at most every 200 ms after
    /// a batch that changed something, and at least every second (the owner wakes that often)
    /// so ages keep moving when idle.
    fn refresh_gauges(&mut self, now: Ts, changed: bool) {
        let since = self.last_gauges.map(|at| at.elapsed());
        let due = since.is_none_or(|s| {
            s >= Duration::from_secs(1) || (changed && s >= Duration::from_millis(200))
        });
        if due {
            telemetry::record_gauges(&self.scheduler.gauges(), self.scheduler.policy(), now);
            telemetry::record_long_polls(self.waiting.long_polls());
            self.last_gauges = Some(Instant::now());
        }
    }
}

/// Runs one bounded prune (on the owner's thread, like a commit). A failure is logged and
/// yields `None`: the records are only kept longer, and the next prune tries again.
fn prune<T>(what: &'static str, pruned: Result<T, crate::store::StoreError>) -> Option<T> {
    pruned
        .inspect_err(|e| tracing::warn!(error = %e, what, "pruning failed"))
        .ok()
}
