//! Webhooks: events POSTed to integrators' URLs, signed, at least once and in order per
//! webhook, from a durable cursor. The definitions and cursors are scheduler state
//! (`core::webhook`), so puts and deletes are durable commits with events like every change;
//! delivery runs here, apart from the owner task, one task per webhook (`deliver`), so a
//! slow or dead receiver never slows the scheduler. Only a leader runs this (it starts with
//! the owner), and a new leader resumes from the stored cursors.

mod backoff;
mod body;
mod client;
mod deliver;
mod metrics;
pub mod sign;
pub mod spec;

use crate::core::command::{Command, Reply};
use crate::core::event::{Actor, Event};
use crate::core::webhook::Webhook;
use crate::server::events::EventFeed;
use crate::server::events::WatchError;
use crate::server::handle::{Handle, ServiceError};
use deliver::Deliverer;
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinHandle;

pub use spec::WebhookSpec;

/// Starts the supervisor: it runs a deliverer per active webhook and restarts, stops or
/// starts them as webhooks are put, paused and deleted, until the event feed ends.
pub fn start(handle: Handle, feed: EventFeed) -> JoinHandle<()> {
    metrics::describe();
    tokio::spawn(Supervisor::new(handle, feed).run())
}

struct Supervisor {
    handle: Handle,
    feed: EventFeed,
    client: client::HttpClient,
    /// The running deliverers, with the definition each was started with.
    running: HashMap<String, (Webhook, JoinHandle<()>)>,
}

impl Supervisor {
    fn new(handle: Handle, feed: EventFeed) -> Supervisor {
        Supervisor {
            handle,
            feed,
            client: client::client(),
            running: HashMap::new(),
        }
    }

    /// Reconciles at start and after every webhook event (read from the log, so none is
    /// missed between the start's listing and the watch).
    async fn run(mut self) {
        let Some(mut from) = self.first_sequence().await else {
            return;
        };
        self.reconcile().await;
        loop {
            let mut events = self.feed.watch(from);
            while let Some(item) = events.recv().await {
                match item {
                    Ok(recorded) => {
                        from = recorded.seq + 1;
                        if is_webhook_event(&recorded.event) {
                            self.reconcile().await;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "webhooks: watching the event log failed; watching again");
                        if let WatchError::Pruned { first } = e {
                            // What fell between is in the webhooks' state: list them again.
                            from = first;
                            self.reconcile().await;
                        }
                        break;
                    }
                }
            }
            if self.feed.draining() {
                return self.stop_all();
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The sequence the watch starts at, asked until the store answers (`None`: the daemon is
    /// ending).
    async fn first_sequence(&self) -> Option<u64> {
        loop {
            match self.feed.next_sequence().await {
                Ok(next) => return Some(next),
                Err(e) => {
                    tracing::warn!(error = %e, "webhooks: reading the event log failed; asking again")
                }
            }
            if self.feed.draining() {
                return None;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Makes the running deliverers match the stored webhooks; a listing the owner refuses
    /// (overloaded) is asked again, so no put or delete is left unseen until the next one.
    async fn reconcile(&mut self) {
        let system = Actor::system();
        let hooks = loop {
            match self.handle.call(&system, Command::ListWebhooks).await {
                Ok(Reply::Webhooks(hooks)) => break hooks,
                Ok(_) | Err(ServiceError::ShuttingDown) => return,
                Err(e) => tracing::warn!(error = %e, "webhooks: listing failed; asking again"),
            }
            if self.feed.draining() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let active: HashMap<&str, &Webhook> = hooks
            .iter()
            .filter(|h| !h.paused)
            .map(|h| (h.id.as_str(), h))
            .collect();
        self.running.retain(|id, (def, task)| {
            let keep = active
                .get(id.as_str())
                .is_some_and(|h| same_definition(h, def))
                && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for hook in &hooks {
            metrics::register(&hook.id);
            metrics::paused(&hook.id, hook.paused);
        }
        for (id, hook) in active {
            if self.running.contains_key(id) {
                continue;
            }
            let deliverer = Deliverer {
                hook: hook.clone(),
                handle: self.handle.clone(),
                feed: self.feed.clone(),
                client: self.client.clone(),
            };
            let task = tokio::spawn(deliverer.run());
            self.running.insert(id.to_owned(), (hook.clone(), task));
        }
    }

    fn stop_all(&mut self) {
        for (_, (_, task)) in self.running.drain() {
            task.abort();
        }
    }
}

/// Whether two stored webhooks are defined alike (cursor and state aside).
fn same_definition(a: &Webhook, b: &Webhook) -> bool {
    (&a.url, &a.kinds, &a.secret, a.give_up_after) == (&b.url, &b.kinds, &b.secret, b.give_up_after)
}

fn is_webhook_event(e: &Event) -> bool {
    matches!(
        e,
        Event::WebhookPut { .. } | Event::WebhookDeleted { .. } | Event::WebhookPaused { .. }
    )
}
