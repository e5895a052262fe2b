//! The supervisors' wallboard: a page served on the metrics port under `/board` (see `http`)
//! that shows, per channel and tier, what waits, for how long, the service level against the
//! target, the clocks about to breach, the agents by presence and the assignment rate.
//!
//! Guarantees: ONE snapshot a second (fewer if snapshots are slow, see `SHARE`) is taken from the owner task (`Command::Board`, a read)
//! and kept serialized here, however many screens watch; a viewer's poll only copies it, so
//! viewers never reach the scheduler. With no poll for `IDLE_TICKS` seconds no snapshot is
//! taken at all (a board nobody watches costs the scheduler nothing). A node that does not lead (a follower, or one still
//! recovering) serves no figures, only its role (and the leader's address when it knows it).

mod http;
mod rate;
mod snapshot;

pub use http::Routes;

use crate::core::event::{Actor, Recorded};
use crate::core::{Command, Reply};
use crate::follower::LeaderAddr;
use crate::server::events::EventFeed;
use crate::server::handle::{Answer, Handle};
use crate::server::owner::wall_now;
use hyper::body::Bytes;
use rate::Rate;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::broadcast::{self, error::TryRecvError};

/// How often the snapshot is taken (and the page polls).
pub const EVERY: Duration = Duration::from_secs(1);

/// The most of the scheduler's time the board may take: a snapshot that took longer than
/// `EVERY / SHARE` (a backlog of ~100,000 queued tickets takes ~0.1 s, `cargo bench --bench
/// core -- board`) delays the next one so that snapshots stay within 1/SHARE of its time.
const SHARE: u32 = 20;

/// Snapshots stop this many ticks after the last poll of the data (nobody watches: the
/// scheduler is not asked), and resume at the next tick after a poll.
const IDLE_TICKS: u32 = 10;

/// The live event feed (committed batches).
type Live = broadcast::Receiver<Arc<[Recorded]>>;

/// Counts the assignments the feed published since the last call; `false` once the feed is
/// closed (the engine stopped).
fn count_assignments(live: &mut Live, rate: &mut Rate) -> bool {
    loop {
        match live.try_recv() {
            Ok(events) => rate.record(&events),
            Err(TryRecvError::Lagged(_)) => rate.lagged(wall_now()),
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Closed) => return false,
        }
    }
}

/// What this node's board shows now.
#[derive(Clone)]
enum View {
    /// Not leading yet: starting, or following the node at the address (when known).
    Standby(Option<LeaderAddr>),
    /// Leading: the latest snapshot, as JSON.
    Live(Bytes),
}

/// The wallboard's shared state: cheap to clone, one per daemon.
#[derive(Clone)]
pub struct Board {
    view: Arc<RwLock<View>>,
    /// Polls of the data so far: whether anyone watches.
    polls: Arc<AtomicU64>,
}

impl Default for Board {
    fn default() -> Board {
        Board {
            view: Arc::new(RwLock::new(View::Standby(None))),
            polls: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Board {
    /// This node follows the node at `leader`: the board says so and shows no figures.
    pub fn follow(&self, leader: LeaderAddr) {
        self.set(View::Standby(Some(leader)));
    }

    /// This node leads: takes a snapshot from the owner every `EVERY` until the task is
    /// aborted (or the owner is gone).
    pub fn lead(&self, handle: Handle, feed: &EventFeed) -> tokio::task::JoinHandle<()> {
        let board = self.clone();
        let live = feed.live();
        tokio::spawn(async move { board.take_snapshots(handle, live).await })
    }

    async fn take_snapshots(self, handle: Handle, mut live: Live) {
        let mut rate = Rate::default();
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut polls_seen, mut idle) = (0, 0);
        loop {
            every.tick().await;
            if !count_assignments(&mut live, &mut rate) {
                return;
            }
            let polls = self.polls.load(Ordering::Relaxed);
            idle = if polls == polls_seen { idle + 1 } else { 0 };
            polls_seen = polls;
            if idle > IDLE_TICKS {
                // Nobody watches: only forget the assignments that left the window.
                rate.per_minute(wall_now());
                continue;
            }
            let started = std::time::Instant::now();
            let answer = handle.call(&Actor::system(), Command::Board).await;
            let over = (started.elapsed() * SHARE).saturating_sub(EVERY);
            self.publish(answer, &mut rate);
            if !over.is_zero() {
                tokio::time::sleep(over).await;
            }
        }
    }

    /// Keeps the owner's answer as the latest snapshot; on a failure (overloaded, stopping)
    /// the screens keep the last one a tick more.
    fn publish(&self, answer: Answer, rate: &mut Rate) {
        match answer {
            Ok(Reply::Board(snapshot)) => {
                let per_minute = rate.per_minute(snapshot.at);
                let data = snapshot::Data::of(&snapshot, per_minute);
                match serde_json::to_vec(&data) {
                    Ok(json) => self.set(View::Live(Bytes::from(json))),
                    Err(e) => tracing::warn!(error = %e, "wallboard snapshot not serialized"),
                }
            }
            Ok(other) => tracing::warn!(?other, "wallboard: unexpected reply"),
            Err(e) => tracing::debug!(error = %e, "wallboard snapshot not taken"),
        }
    }

    /// The JSON the page polls: the latest snapshot, or this node's role and nothing else.
    /// After a while with no poll the first one may get a snapshot up to `IDLE_TICKS` old
    /// (its `at_ms` says when it was taken); the next tick takes a fresh one.
    fn data(&self) -> Bytes {
        self.polls.fetch_add(1, Ordering::Relaxed);
        match self.get() {
            View::Live(json) => json,
            View::Standby(leader) => {
                let json = serde_json::json!({
                    "role": if leader.is_some() { "follower" } else { "starting" },
                    "leader": leader.map(|l| l.get()),
                });
                Bytes::from(json.to_string())
            }
        }
    }

    fn get(&self) -> View {
        self.view
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, view: View) {
        *self.view.write().unwrap_or_else(PoisonError::into_inner) = view;
    }
}
