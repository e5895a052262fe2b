//! The owner when the store fails: a failed commit is answered with its error, the durable
//! state is reloaded, and until a probe write succeeds only reads are served.

use super::{wall_now, Answers, Owner};
use crate::core::command::Command;
use crate::core::types::Ts;
use crate::core::Scheduler;
use crate::server::handle::{Request, ServiceError, StoreFailure};
use crate::store::StoreError;
use crate::telemetry;
use std::time::{Duration, Instant};

/// How often a read-only owner tries a write.
const PROBE_EVERY: Duration = Duration::from_secs(1);

impl Owner {
    /// A failed commit, or a store read that failed while applying the batch: every caller
    /// of the batch hears why, and the owner reloads.
    pub(super) fn fail(
        &mut self,
        answers: Answers,
        err: ServiceError,
        now: Ts,
    ) -> Result<(), ServiceError> {
        for (sink, _) in answers {
            let _ = sink.send(Err(err.clone()));
        }
        if err.superseded() {
            return Err(err);
        }
        tracing::error!(error = %err, "store commit failed (or a read of it): opening the store again to reload the last durable state");
        self.reload(now)
    }

    /// After a failed commit: replaces the scheduler, whose memory holds the failed batch, with
    /// the store's last durable state, and turns to serving reads only. The store is opened
    /// again first: the instance that failed cannot be trusted to read (see `Store::reopen`),
    /// while a fresh one reads exactly what is on disk, so nothing of the failed batch remains
    /// unless it reached the disk after all (whole: its write-ahead log frame is), and
    /// memory matches the disk again. If that fails too, the owner stops (fail-stop) and a
    /// restart recovers.
    fn reload(&mut self, now: Ts) -> Result<(), ServiceError> {
        let mut restore = Scheduler::restoring(
            self.scheduler.policy().clone(),
            self.scheduler.config().clone(),
            now,
        );
        let reopened = self.store.reopen();
        self.scheduler = reopened
            .and_then(|()| self.store.recover_into(&mut restore))
            .map(|()| restore.finish())
            .map_err(|e| match e {
                StoreError::Restore(e) => StoreFailure::Restore(e),
                e => StoreFailure::Reload(e),
            })?;
        super::count_recent_archive(&mut self.scheduler, &*self.store, now)
            .map_err(StoreFailure::Reload)?;
        self.events
            .renumber_from_store()
            .map_err(StoreFailure::Store)?;
        self.waiting.clear();
        for sink in self.sinks.drain() {
            let _ = sink.send(Err(ServiceError::ReadOnly));
        }
        self.read_only = Some(Instant::now());
        telemetry::record_read_only(true);
        tracing::warn!("serving reads only: writes are refused until a probe write succeeds (tried every second)");
        Ok(())
    }

    /// While read-only, at most once a second: whether a probe write succeeds, ending the
    /// read-only spell.
    pub(super) fn writes_work_again(&mut self) -> bool {
        if self.read_only.is_some_and(|at| at.elapsed() < PROBE_EVERY) {
            return false;
        }
        if self.store.probe(wall_now()).is_ok() {
            tracing::info!("the store accepts writes again; leaving read-only mode");
            self.read_only = None;
            telemetry::record_read_only(false);
            return true;
        }
        self.read_only = Some(Instant::now());
        false
    }

    /// How the owner ends on a fatal error. A node superseded as leader steps down: every
    /// long poll and `Work` session ends with the error (UNAVAILABLE), and the daemon exits
    /// (see `daemon::SteppedDown`); anything else ends as before.
    pub(super) fn stop_on(&mut self, err: ServiceError) -> ServiceError {
        if err.superseded() {
            tracing::error!(error = %err, "another node leads now: stepping down, acknowledging nothing more");
            self.waiting.clear();
            for sink in self.sinks.drain() {
                let _ = sink.send(Err(err.clone()));
            }
        }
        err
    }

    /// Lets the store keep the room it needs to reopen on a full disk as it grows (sled), or
    /// renew its lease (PostgreSQL); says so when it cannot (once, until it can again). A lease
    /// another node took, or that could not be renewed for its TTL, stops the owner.
    pub(super) fn keep_room(&mut self) -> Result<(), ServiceError> {
        match self.store.keep_room() {
            Err(e) if e.superseded() => return Err(StoreFailure::Store(e).into()),
            Err(e) if !self.room_short => {
                tracing::warn!(error = %e, "if the disk fills, the daemon may stop instead of serving reads");
                self.room_short = true;
            }
            Ok(()) if self.room_short => {
                tracing::info!("the store has its room to recover from a full disk again");
                self.room_short = false;
            }
            _ => {}
        }
        Ok(())
    }

    /// Read-only: reads are answered from the last durable state (no timer fires, nothing is
    /// dispatched); every write and every session's credit gets `ReadOnly`.
    pub(super) fn serve_reads_only(&mut self, batch: Vec<Request>) {
        let now = wall_now();
        for req in batch {
            match req {
                Request::Call { cmd, reply, .. } if cmd.is_read() => {
                    let answer = match (&cmd, self.thaw_for(&cmd)) {
                        (Command::ListTickets(filter), _) => self.list_tickets(filter),
                        (_, Ok(())) => self.scheduler.apply(cmd, now).map_err(ServiceError::from),
                        (_, Err(e)) => Err(e),
                    };
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
        // Reads change nothing; what they read back from the archive leaves memory again.
        let mut journal = self.scheduler.take_journal();
        self.scheduler.archive_finished(&mut journal);
    }
}
