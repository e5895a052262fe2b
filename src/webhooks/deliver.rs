//! One webhook's deliverer: a task of its own that follows the event log from the webhook's
//! cursor (`EventFeed::watch`: the store, then live events, in order) and POSTs each event of
//! the kinds wanted, one at a time: the next is not sent before the previous one got a 2xx
//! (at least once, in sequence order). Failures are retried with backoff until
//! `give_up_after`, then the webhook is paused through the owner. The cursor is written back
//! through the owner at most once per `SAVE_EVERY` (and when idle), as a system command that
//! emits no event: after a crash, at most that much is delivered again, never skipped.

use super::backoff::{jittered, random_unit};
use super::client::{self, HttpClient, Post};
use super::metrics::{self, Outcome};
use super::sign::signature;
use crate::api::convert;
use crate::core::command::Command;
use crate::core::event::{Actor, Recorded};
use crate::core::webhook::{Webhook, WebhookProgress};
use crate::proto as pb;
use crate::server::events::{EventFeed, WatchError};
use crate::server::handle::{Handle, ServiceError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often at most the cursor is written while events flow.
pub const SAVE_EVERY: Duration = Duration::from_secs(1);

/// The longest wait for one response (less when `give_up_after` is shorter).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Deliverer {
    pub hook: Webhook,
    pub handle: Handle,
    pub feed: EventFeed,
    pub client: HttpClient,
}

/// Where the deliverer is.
struct Cursor {
    next: u64,
    saved: u64,
    saved_at: Instant,
}

impl Deliverer {
    /// Delivers until the webhook is paused or the event feed ends (the daemon drains); the
    /// supervisor aborts it when the webhook is deleted or changed.
    pub async fn run(self) {
        let id = self.hook.id.clone();
        metrics::paused(&id, false);
        let mut at = Cursor {
            next: self.hook.cursor.max(1),
            saved: self.hook.cursor,
            saved_at: Instant::now(),
        };
        let mut events = self.feed.watch(at.next);
        loop {
            let item = tokio::select! {
                item = events.recv() => item,
                _ = tokio::time::sleep(SAVE_EVERY) => {
                    metrics::lag(&id, 0.0);
                    self.save(&mut at, None).await;
                    continue;
                }
            };
            match item {
                None => return self.save(&mut at, None).await,
                Some(Err(WatchError::Pruned { first })) => {
                    let error = format!(
                        "events {}..{} were pruned by retention before they were delivered",
                        at.next,
                        first.saturating_sub(1)
                    );
                    return self.save(&mut at, Some(error)).await;
                }
                Some(Err(e)) => {
                    tracing::warn!(webhook = %id, error = %e, "reading the event log failed; retrying");
                    tokio::time::sleep(SAVE_EVERY).await;
                    events = self.feed.watch(at.next);
                }
                Some(Ok(event)) => {
                    if let Err(error) = self.deliver(&event).await {
                        return self.save(&mut at, Some(error)).await;
                    }
                    at.next = event.seq + 1;
                    if at.saved_at.elapsed() >= SAVE_EVERY {
                        self.save(&mut at, None).await;
                    }
                }
            }
        }
    }

    /// Delivers `event` if its kind is wanted, retrying until a 2xx or `give_up_after`.
    async fn deliver(&self, event: &Recorded) -> Result<(), String> {
        let e = convert::event(event);
        if !self.hook.kinds.is_empty() && !self.hook.kinds.contains(&e.kind) {
            return Ok(());
        }
        let body = super::body::body(&e);
        let give_up = std::time::Duration::from_millis(self.hook.give_up_after.0);
        let started = Instant::now();
        let mut failures = 0;
        loop {
            let age = (crate::server::owner::wall_now().0 - event.at.0).max(0);
            metrics::lag(&self.hook.id, age as f64 / 1000.0);
            match self.attempt(&e, body.clone(), give_up).await {
                Ok(()) => {
                    metrics::delivered(&self.hook.id, Outcome::Ok);
                    return Ok(());
                }
                Err(error) => {
                    failures += 1;
                    metrics::delivered(&self.hook.id, Outcome::Failed);
                    let left = give_up.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        metrics::delivered(&self.hook.id, Outcome::GaveUp);
                        return Err(format!("event {}: {error}", e.sequence));
                    }
                    tracing::debug!(webhook = %self.hook.id, sequence = e.sequence, %error, "delivery failed; retrying");
                    tokio::time::sleep(jittered(failures, random_unit()).min(left)).await;
                }
            }
        }
    }

    /// One POST of `body`, signed now.
    async fn attempt(&self, e: &pb::Event, body: Vec<u8>, give_up: Duration) -> Result<(), String> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let sequence = e.sequence.to_string();
        let post = Post {
            url: &self.hook.url,
            headers: vec![
                ("idempotency-key", sequence.clone()),
                ("x-triage-sequence", sequence),
                ("x-triage-timestamp", timestamp.to_string()),
                (
                    "x-triage-signature",
                    signature(self.hook.secret.as_bytes(), timestamp, &body),
                ),
                ("x-triage-webhook", self.hook.id.clone()),
            ],
            body,
        };
        let timeout = REQUEST_TIMEOUT.min(give_up).max(Duration::from_millis(100));
        client::send(&self.client, post, timeout).await
    }

    /// Writes the cursor (and the pause, if `paused`) through the owner when it moved.
    async fn save(&self, at: &mut Cursor, paused: Option<String>) {
        if at.next == at.saved && paused.is_none() {
            return;
        }
        if let Some(error) = &paused {
            tracing::warn!(webhook = %self.hook.id, %error, "webhook paused");
            metrics::paused(&self.hook.id, true);
        }
        let progress = WebhookProgress {
            id: self.hook.id.clone(),
            cursor: at.next,
            paused,
        };
        match self.progress(progress).await {
            Ok(()) => {
                at.saved = at.next;
                at.saved_at = Instant::now();
            }
            Err(e) => {
                tracing::warn!(webhook = %self.hook.id, error = %e, "saving the webhook's cursor failed")
            }
        }
    }

    /// Sends the progress, retrying while the owner is overloaded.
    async fn progress(&self, progress: WebhookProgress) -> Result<(), ServiceError> {
        loop {
            let cmd = Command::WebhookProgress(progress.clone());
            match self.handle.call(&Actor::system(), cmd).await {
                Err(ServiceError::Overloaded) => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                other => return other.map(drop),
            }
        }
    }
}
