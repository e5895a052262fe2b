//! Webhooks as scheduler state: their definitions and each one's delivery cursor, changed
//! only through commands so that a put or a delete is a durable group commit with an event
//! (the audit trail), and a cursor advance is a durable write that reports nothing (else every
//! delivery would make an event to deliver). Delivering is not the core's: the daemon's
//! `webhooks` module reads the event log from the cursor and reports progress back here.

use super::error::CoreError;
use super::event::Event;
use super::scheduler::Scheduler;
use super::types::Span;
use serde::{Deserialize, Serialize};

/// One webhook as stored (record version 1 of `codec::WEBHOOK`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// The event kinds wanted, as the wire's `EventKind` numbers (none: every kind). The core
    /// keeps them for the deliverer and does not interpret them.
    pub kinds: Vec<i32>,
    /// The HMAC key of the signature header; never answered by `ListWebhooks`, never logged.
    pub secret: String,
    /// How long deliveries of one event may fail before the webhook is paused.
    pub give_up_after: Span,
    /// The next event sequence to deliver: every event below it was delivered (or was of a
    /// kind not wanted).
    pub cursor: u64,
    pub paused: bool,
    /// The last failure, kept after a recovery until the next put (empty: none).
    pub last_error: String,
}

/// `PutWebhook`: a webhook's definition. A put over an existing one keeps its cursor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookPut {
    pub id: String,
    pub url: String,
    pub kinds: Vec<i32>,
    pub secret: String,
    pub give_up_after: Span,
    /// Where a new webhook starts: the first sequence not yet written when it was asked for.
    pub start: u64,
    /// Whether a paused webhook is resumed (the API's puts); the configuration's put at boot
    /// leaves a paused one paused.
    pub resume: bool,
}

/// What a deliverer reports about its webhook.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookProgress {
    pub id: String,
    /// Every event below this was delivered.
    pub cursor: u64,
    /// `Some`: deliveries failed for `give_up_after` (or can no longer go on): pause, saying
    /// why.
    pub paused: Option<String>,
}

impl Scheduler {
    /// The webhooks by id.
    pub fn webhooks(&self) -> impl Iterator<Item = &Webhook> {
        self.webhooks.values()
    }

    pub fn webhook(&self, id: &str) -> Option<&Webhook> {
        self.webhooks.get(id)
    }

    /// Creates or replaces a webhook's definition. An unchanged definition of a running
    /// webhook writes and reports nothing (the configuration's put at every boot).
    pub(super) fn put_webhook(&mut self, put: WebhookPut) -> Result<Webhook, CoreError> {
        let resumed = put.resume && self.webhooks.get(&put.id).is_some_and(|w| w.paused);
        let hook = match self.webhooks.get(&put.id) {
            Some(old) => Webhook {
                id: put.id,
                url: put.url,
                kinds: put.kinds,
                secret: put.secret,
                give_up_after: put.give_up_after,
                cursor: old.cursor,
                paused: old.paused && !put.resume,
                last_error: if resumed {
                    String::new()
                } else {
                    old.last_error.clone()
                },
            },
            None => Webhook {
                id: put.id,
                url: put.url,
                kinds: put.kinds,
                secret: put.secret,
                give_up_after: put.give_up_after,
                cursor: put.start,
                paused: false,
                last_error: String::new(),
            },
        };
        if self.webhooks.get(&hook.id) == Some(&hook) {
            return Ok(hook);
        }
        self.journal.webhooks.push(hook.id.clone());
        self.journal.events.push(Event::WebhookPut {
            webhook: hook.id.clone(),
            resumed,
        });
        self.webhooks.insert(hook.id.clone(), hook.clone());
        Ok(hook)
    }

    pub(super) fn delete_webhook(&mut self, id: &str) -> Result<(), CoreError> {
        if self.webhooks.remove(id).is_none() {
            return Err(CoreError::WebhookNotFound(id.to_owned()));
        }
        self.journal.webhooks.push(id.to_owned());
        self.journal.events.push(Event::WebhookDeleted {
            webhook: id.to_owned(),
        });
        Ok(())
    }

    /// A deliverer's progress: the cursor only moves forward; a pause is reported once. A
    /// webhook deleted meanwhile is NOT_FOUND (its deliverer stops).
    pub(super) fn webhook_progress(&mut self, p: WebhookProgress) -> Result<(), CoreError> {
        let Some(hook) = self.webhooks.get_mut(&p.id) else {
            return Err(CoreError::WebhookNotFound(p.id));
        };
        let cursor = hook.cursor.max(p.cursor);
        let pause = p.paused.filter(|_| !hook.paused);
        if cursor == hook.cursor && pause.is_none() {
            return Ok(());
        }
        hook.cursor = cursor;
        if let Some(error) = pause {
            hook.paused = true;
            hook.last_error.clone_from(&error);
            self.journal.events.push(Event::WebhookPaused {
                webhook: p.id.clone(),
                error,
            });
        }
        self.journal.webhooks.push(p.id);
        Ok(())
    }

    /// Restores a stored webhook.
    pub(super) fn restore_webhook(&mut self, hook: Webhook) {
        self.webhooks.insert(hook.id.clone(), hook);
    }
}
