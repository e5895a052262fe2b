//! How the rest of the daemon talks to the owner task: a cloneable `Handle` that sends it
//! commands and session credit, and the `ServiceError`s a caller may hear instead of a reply.
//! Every request names its caller (an `Actor`): the audit trail stamps it on the events the
//! request causes (see `audit`).

use crate::core::command::{Command, Reply};
use crate::core::event::Actor;
use crate::core::scheduler::RestoreError;
use crate::core::types::AgentId;
use crate::core::waiting::{LongPollsFull, PullError};
use crate::core::CoreError;
use crate::store::StoreError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

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
    Limit(#[source] LongPollsFull),
    #[error(
        "the store is failing: serving reads of the last durable state until a write succeeds"
    )]
    ReadOnly,
    /// Shared, so every caller of the failed batch hears the same failure.
    #[error("the store could not persist the change: {0}")]
    Store(#[source] Arc<StoreFailure>),
}

impl ServiceError {
    /// Whether the store says another node leads now: the owner steps down on it.
    pub fn superseded(&self) -> bool {
        matches!(self, ServiceError::Store(failure) if failure.superseded())
    }
}

impl StoreFailure {
    fn superseded(&self) -> bool {
        match self {
            StoreFailure::Store(e) | StoreFailure::Reload(e) => e.superseded(),
            StoreFailure::Restore(_) => false,
        }
    }
}

impl From<StoreFailure> for ServiceError {
    fn from(failure: StoreFailure) -> ServiceError {
        ServiceError::Store(Arc::new(failure))
    }
}

/// What went wrong persisting a batch, or reloading the durable state after that.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the store could not be opened and read again after a failed commit ({0}); nothing \
         acknowledged was lost: make room on the data dir's disk (or fix it) and restart"
    )]
    Reload(#[source] StoreError),
    #[error("reloading after a failed commit: {0}")]
    Restore(#[source] RestoreError),
}

pub type Answer = Result<Reply, ServiceError>;

/// What the owner task receives.
pub(super) enum Request {
    /// A command answered once, after its effect is durable.
    Call {
        cmd: Command,
        actor: Actor,
        /// For pulls: how long the caller will wait for a ticket.
        wait: Duration,
        reply: oneshot::Sender<Answer>,
    },
    /// Credit for a work session: push up to `tickets` assignments to `push`.
    Ready {
        actor: Actor,
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
    /// A handle and the receiving end the owner task reads; `queue` bounds the requests
    /// waiting (beyond it, callers get `Overloaded`).
    pub(super) fn channel(queue: usize) -> (Handle, mpsc::Receiver<Request>) {
        let (tx, rx) = mpsc::channel(queue);
        (Handle { tx }, rx)
    }

    /// Applies `cmd` for `actor` and returns once its effect is durable.
    pub async fn call(&self, actor: &Actor, cmd: Command) -> Answer {
        self.send(actor, cmd, Duration::ZERO).await
    }

    /// Applies `pull` (a `Command::Pull`, maybe under a request id) for `actor`, waiting up
    /// to `wait` for a ticket to become available.
    pub async fn pull(&self, actor: &Actor, pull: Command, wait: Duration) -> Answer {
        self.send(actor, pull, wait).await
    }

    /// Gives a work session of `actor` credit for `tickets` more assignments. Waits for room
    /// in the owner's queue rather than shedding: the session's client is paced by its own
    /// credit.
    pub async fn ready(
        &self,
        actor: &Actor,
        agent: AgentId,
        tickets: u32,
        push: Push,
    ) -> Result<(), ServiceError> {
        let req = Request::Ready {
            actor: actor.clone(),
            agent,
            tickets,
            push,
        };
        self.tx
            .send(req)
            .await
            .map_err(|_| ServiceError::ShuttingDown)
    }

    async fn send(&self, actor: &Actor, cmd: Command, wait: Duration) -> Answer {
        let (reply, rx) = oneshot::channel();
        let actor = actor.clone();
        self.tx
            .try_send(Request::Call {
                cmd,
                actor,
                wait,
                reply,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => ServiceError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => ServiceError::ShuttingDown,
            })?;
        rx.await.unwrap_or(Err(ServiceError::ShuttingDown))
    }
}

impl From<PullError> for ServiceError {
    fn from(e: PullError) -> ServiceError {
        match e {
            PullError::Core(e) => ServiceError::Core(e),
            PullError::Full(full) => ServiceError::Limit(full),
        }
    }
}
