//! Where the answers to waiting pulls go. The core's `Waiting` registry decides everything
//! about a waiter; the owner keeps only this map from its `WaiterId` to the caller's channel
//! and who that caller is (what the audit trail stamps on the assignments the waiter gets),
//! and turns each `Delivery` into an answer for that channel.

use super::handle::{Answer, Push, ServiceError};
use crate::core::command::Reply;
use crate::core::event::Actor;
use crate::core::waiting::{Delivery, Notice, WaiterId};
use std::collections::BTreeMap;
use tokio::sync::oneshot;

/// Where an answer goes: the caller of one command, or a work session.
pub(super) enum Sink {
    Once(oneshot::Sender<Answer>),
    Session(Push),
}

impl Sink {
    /// Delivers `answer`, or hands it back when the receiver is gone.
    pub(super) fn send(self, answer: Answer) -> Result<(), Answer> {
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

    /// The answer a notice makes for this sink. When a wait ends without a ticket, a long
    /// poll hears that nothing came and a session that it is over.
    fn answer(&self, notice: Notice) -> Answer {
        match (notice, self) {
            (Notice::Reply(reply), _) => Ok(reply),
            (Notice::Failed(e), _) => Err(e.into()),
            (Notice::Ended, Sink::Once(_)) => Ok(Reply::Pulled(None)),
            (Notice::Ended, Sink::Session(_)) => Err(ServiceError::ShuttingDown),
        }
    }
}

/// The reply channel of every waiter the core's registry holds, with its caller.
#[derive(Default)]
pub(super) struct Sinks(BTreeMap<WaiterId, (Sink, Actor)>);

impl Sinks {
    pub(super) fn insert(&mut self, id: WaiterId, sink: Sink, actor: Actor) {
        self.0.insert(id, (sink, actor));
    }

    /// Who opened the waiter `id`, while it waits.
    pub(super) fn actor(&self, id: WaiterId) -> Option<&Actor> {
        self.0.get(&id).map(|(_, actor)| actor)
    }

    /// The waiter of the session that receives on `push`, if it waits.
    pub(super) fn session(&self, push: &Push) -> Option<WaiterId> {
        let same = |s: &Sink| matches!(s, Sink::Session(tx) if tx.same_channel(push));
        self.0.iter().find(|(_, (s, _))| same(s)).map(|(id, _)| *id)
    }

    /// Forgets the waiters whose callers are gone; returns their ids.
    pub(super) fn remove_closed(&mut self) -> Vec<WaiterId> {
        let closed: Vec<WaiterId> = self
            .0
            .iter()
            .filter(|(_, (s, _))| s.is_closed())
            .map(|(id, _)| *id)
            .collect();
        for id in &closed {
            self.0.remove(id);
        }
        closed
    }

    /// Where `delivery` goes and what it says; the sink is forgotten after the last one.
    pub(super) fn route(&mut self, delivery: Delivery) -> Option<(Sink, Answer)> {
        let sink = match delivery.last {
            true => self.0.remove(&delivery.waiter)?.0,
            false => match &self.0.get(&delivery.waiter)?.0 {
                Sink::Session(push) => Sink::Session(push.clone()),
                Sink::Once(_) => return None,
            },
        };
        let answer = sink.answer(delivery.notice);
        Some((sink, answer))
    }

    /// Every sink, forgotten.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = Sink> {
        std::mem::take(&mut self.0)
            .into_values()
            .map(|(sink, _)| sink)
    }
}
