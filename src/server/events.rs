//! The event log behind `AdminService.WatchEvents`. The owner numbers every event of a batch
//! (1, 2, 3, ... with no gap), writes them in the same atomic commit as the changes they report,
//! and only after the flush publishes them to live watchers. A watcher first reads what it asked
//! for from the store, then follows the live feed, and goes back to the store whenever it fell
//! behind; so it sees every event once, in order, across restarts of the daemon.

use super::audit::{Stamp, Stamps};
use super::phase::Phase;
/// Retention is a setting (`config` owns it); re-exported here, where the log applies it.
pub use crate::config::Retention;
use crate::core::event::Recorded;
use crate::core::types::Ts;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};

/// Why a watch ended early.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("events before sequence {first} were pruned by retention; resume from {first} or 0")]
    Pruned { first: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blocking task that reads the store panicked or was cancelled: the store itself may
    /// be fine, so this is not reported as corruption.
    #[error("the event read task failed: {0}")]
    ReadTask(#[from] tokio::task::JoinError),
}

/// Events per store read while catching up.
const PAGE: usize = 1024;

/// The most events one prune deletes (a few milliseconds).
const PRUNE_BATCH: usize = 10_000;

/// The shared side of the log: what watchers subscribe to.
#[derive(Clone)]
pub struct EventFeed {
    store: Arc<dyn Store>,
    live: broadcast::Sender<Arc<[Recorded]>>,
    phase: watch::Receiver<Phase>,
}

impl EventFeed {
    pub fn new(store: Arc<dyn Store>, phase: watch::Receiver<Phase>) -> EventFeed {
        let (live, _) = broadcast::channel(4096);
        EventFeed { store, live, phase }
    }

    /// Publishes a committed batch's events to live watchers.
    pub fn publish(&self, events: Arc<[Recorded]>) {
        // No watcher is not an error: the events are in the store.
        let _ = self.live.send(events);
    }

    /// The sequence the next committed event will get (as of this read: events may be
    /// committed meanwhile).
    pub async fn next_sequence(&self) -> Result<u64, WatchError> {
        let store = Arc::clone(&self.store);
        Ok(tokio::task::spawn_blocking(move || store.last_event_seq()).await?? + 1)
    }

    /// Whether the daemon is draining or stopping: watches end then.
    pub fn draining(&self) -> bool {
        *self.phase.borrow() >= Phase::Draining
    }

    /// The live feed alone, from now on, without catching up from the store: for figures
    /// that may miss events when they fall behind (the wallboard's assignment rate).
    pub fn live(&self) -> broadcast::Receiver<Arc<[Recorded]>> {
        self.live.subscribe()
    }

    /// Streams every event with sequence >= `from` (0: from the oldest retained), then live
    /// ones, until the caller goes away or the daemon drains. Events arrive on the receiver.
    pub fn watch(&self, from: u64) -> mpsc::Receiver<Result<Recorded, WatchError>> {
        let (tx, rx) = mpsc::channel(PAGE);
        let watcher = Watcher {
            feed: self.clone(),
            live: self.live.subscribe(),
            next: from,
            out: tx,
        };
        tokio::spawn(watcher.run());
        rx
    }
}

struct Watcher {
    feed: EventFeed,
    live: broadcast::Receiver<Arc<[Recorded]>>,
    /// The next sequence to send; 0 until the first one is sent when starting from the oldest.
    next: u64,
    out: mpsc::Sender<Result<Recorded, WatchError>>,
}

/// What the watcher does next.
enum Flow {
    CatchUp,
    Stop,
}

impl Watcher {
    async fn run(mut self) {
        // Subscribed before the first read: whatever is committed after the read started
        // is published after this point, so nothing falls between the two.
        loop {
            if let Err(e) = self.catch_up().await {
                let _ = self.out.send(Err(e)).await;
                return;
            }
            match self.follow().await {
                Flow::CatchUp => continue,
                Flow::Stop => return,
            }
        }
    }

    /// Sends what the store holds from `next` on.
    async fn catch_up(&mut self) -> Result<(), WatchError> {
        loop {
            let store = Arc::clone(&self.feed.store);
            let from = self.next;
            let page = tokio::task::spawn_blocking(move || store.read_events(from, PAGE)).await??;
            let full = page.len() == PAGE;
            for event in page {
                if !self.send(event).await? {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Sends live events until the feed skips ahead (lag) or the watch ends.
    async fn follow(&mut self) -> Flow {
        let mut phase = self.feed.phase.clone();
        loop {
            let batch = tokio::select! {
                batch = self.live.recv() => batch,
                _ = phase.wait_for(|p| *p >= Phase::Draining) => return Flow::Stop,
                _ = self.out.closed() => return Flow::Stop,
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(broadcast::error::RecvError::Lagged(_)) => return Flow::CatchUp,
                Err(broadcast::error::RecvError::Closed) => return Flow::Stop,
            };
            for event in batch.iter() {
                if event.seq < self.next {
                    continue;
                }
                if self.next != 0 && event.seq > self.next {
                    return Flow::CatchUp;
                }
                match self.send(event.clone()).await {
                    Ok(true) => {}
                    _ => return Flow::Stop,
                }
            }
        }
    }

    /// Sends one event in order; `Ok(false)` when the caller is gone.
    async fn send(&mut self, event: Recorded) -> Result<bool, WatchError> {
        if self.next != 0 && event.seq > self.next {
            return Err(WatchError::Pruned { first: event.seq });
        }
        self.next = event.seq + 1;
        Ok(self.out.send(Ok(event)).await.is_ok())
    }
}

/// The owner's side: numbering, and pruning by retention.
pub struct EventLog {
    pub feed: EventFeed,
    next_seq: u64,
    retention: Retention,
    /// The most events one prune deletes.
    prune_batch: usize,
}

impl EventLog {
    /// Continues numbering after the last persisted event.
    pub fn open(feed: EventFeed, retention: Retention) -> Result<EventLog, StoreError> {
        let next_seq = feed.store.last_event_seq()? + 1;
        Ok(EventLog {
            feed,
            next_seq,
            retention,
            prune_batch: PRUNE_BATCH,
        })
    }

    /// A smaller prune batch, so a test sees several prunes without writing tens of
    /// thousands of events.
    #[cfg(test)]
    pub fn with_prune_batch(mut self, prune_batch: usize) -> EventLog {
        self.prune_batch = prune_batch;
        self
    }

    /// Numbers from the store's last event again: the events of a batch that failed to commit
    /// were numbered but never written.
    pub fn renumber_from_store(&mut self) -> Result<(), StoreError> {
        self.next_seq = self.feed.store.last_event_seq()? + 1;
        Ok(())
    }

    /// Numbers a batch's events and stamps them with the batch's instant and who caused
    /// each (`stamps`, in the same order).
    pub fn number(
        &mut self,
        events: Vec<crate::core::event::Event>,
        stamps: Stamps,
        at: Ts,
    ) -> Vec<Recorded> {
        let stamps = stamps.into_stamps(events.len());
        events
            .into_iter()
            .zip(stamps)
            .map(|(event, Stamp { actor, epoch })| {
                let seq = self.next_seq;
                self.next_seq += 1;
                Recorded {
                    seq,
                    at,
                    event,
                    actor,
                    epoch,
                }
            })
            .collect()
    }

    /// Deletes events beyond the retention, a bounded batch per call (blocking: the owner
    /// runs it on its own thread). Returns whether events beyond the count bound remain: then
    /// the caller prunes again soon, so retention keeps up with any event rate.
    ///
    /// `hold` is the slowest active webhook's cursor: the count bound keeps every event from
    /// it on, so a webhook that is only slow loses nothing. The age bound does not wait: a
    /// webhook whose undelivered events pass it finds them pruned and is paused with that
    /// error, and a paused webhook holds nothing back.
    pub fn prune(&self, now: Ts, hold: Option<u64>) -> Result<bool, StoreError> {
        let bound = self.next_seq.saturating_sub(self.retention.max_count);
        let keep_from = hold.map_or(bound, |hold| bound.min(hold));
        let older_than = Ts(now.0.saturating_sub(self.retention.max_age.0 as i64));
        let lowest = self
            .feed
            .store
            .prune_events(keep_from, older_than, self.prune_batch)?;
        Ok(lowest < keep_from)
    }
}
