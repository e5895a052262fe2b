//! The audit trail's attribution: who caused each event of a batch. The core reports what
//! happened and never who asked; the owner knows which call it is applying, so it stamps the
//! events each step of a batch journals:
//! - timers, orphaned releases and whatever was journaled before the batch (the boot's policy
//!   from the configuration): `system`;
//! - a call: its caller, and the lease epoch it acts under (or, for a pull answered at once,
//!   the one it was granted);
//! - serving the waiting pulls: an assignment's events go to the caller who opened the waiter
//!   that received the ticket (a long poll or a `Work` session), with the granted epoch;
//!   anything else serving journals, to `system`.
//!
//! Guarantee: every event of a batch gets exactly one stamp, in journal order.

use super::handle::Answer;
use crate::core::command::{Command, Epoch, Reply};
use crate::core::event::{Actor, Event};
use crate::core::types::TicketId;
use crate::core::waiting::{Delivery, Notice};
use std::collections::HashMap;

/// Who caused one event, and under which lease epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Stamp {
    pub actor: Actor,
    pub epoch: Option<Epoch>,
}

impl Stamp {
    pub fn system() -> Stamp {
        Stamp {
            actor: Actor::system(),
            epoch: None,
        }
    }
}

/// The stamps of a batch's journaled events so far, in journal order.
#[derive(Debug, Default)]
pub struct Stamps(Vec<Stamp>);

impl Stamps {
    /// Attributes every event journaled since the last call (the journal now holds
    /// `journaled`) to `actor`, under `epoch`.
    pub fn caused(&mut self, journaled: usize, actor: &Actor, epoch: Option<Epoch>) {
        if journaled > self.0.len() {
            let stamp = Stamp {
                actor: actor.clone(),
                epoch,
            };
            self.0.resize(journaled, stamp);
        }
    }

    /// Attributes the events journaled since the last call by serving waiters: those of a
    /// ticket `served` assigned go to the waiter's caller, the rest to `system`.
    pub fn served(&mut self, journaled: &[Event], served: &Served) {
        let new = journaled.get(self.0.len()..).unwrap_or_default();
        let stamps = new.iter().map(|event| {
            event
                .ticket()
                .and_then(|ticket| served.0.get(&ticket))
                .cloned()
                .unwrap_or_else(Stamp::system)
        });
        self.0.extend(stamps.collect::<Vec<_>>());
    }

    /// The stamps of `count` events: one each, `system` for any not attributed.
    pub fn into_stamps(mut self, count: usize) -> impl Iterator<Item = Stamp> {
        self.0.resize(count.max(self.0.len()), Stamp::system());
        self.0.into_iter().take(count)
    }
}

/// The tickets serving assigned to waiters, each with its waiter's caller and granted epoch.
#[derive(Debug, Default)]
pub struct Served(HashMap<TicketId, Stamp>);

impl Served {
    /// Notes `delivery` if it hands a ticket to the waiter `actor` opened.
    pub fn note(&mut self, delivery: &Delivery, actor: Option<&Actor>) {
        if let (Notice::Reply(Reply::Pulled(Some(a))), Some(actor)) = (&delivery.notice, actor) {
            let stamp = Stamp {
                actor: actor.clone(),
                epoch: Some(a.lease_epoch),
            };
            self.0.insert(a.ticket.id, stamp);
        }
    }
}

/// The lease epoch a call's events carry: the one its command acts under, else the one its
/// answer granted (a pull's, or the new holder's after a supervisor's assign or transfer).
pub struct CallEpoch {
    under: Option<Epoch>,
    grants: bool,
}

impl CallEpoch {
    pub fn of(cmd: &Command) -> CallEpoch {
        CallEpoch {
            under: cmd.lease().map(|lease| lease.epoch),
            grants: cmd.grants_lease(),
        }
    }

    /// The epoch, given the call's answer (`None`: it waits, and its assignment is stamped
    /// when served).
    pub fn given(self, answer: Option<&Answer>) -> Option<Epoch> {
        if self.under.is_some() || !self.grants {
            return self.under;
        }
        match answer? {
            Ok(Reply::Pulled(Some(a))) => Some(a.lease_epoch),
            Ok(Reply::Ticket(t)) => t.holder().map(|_| t.epoch()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::RequeueReason;

    fn requeued(id: u64) -> Event {
        Event::Requeued {
            ticket: TicketId(id),
            reason: RequeueReason::Released,
        }
    }

    /// Calls stamp what they journaled; serving stamps by ticket, the rest `system`; events
    /// nobody stamped come out `system`.
    #[test]
    fn each_event_gets_the_stamp_of_the_step_that_journaled_it() {
        let (ana, bob) = (Actor::named("ana"), Actor::named("bob"));
        let mut stamps = Stamps::default();
        stamps.caused(1, &Actor::system(), None);
        stamps.caused(3, &ana, Some(Epoch::new(4)));
        stamps.caused(3, &bob, None);
        let journaled: Vec<Event> = (1..=5).map(requeued).collect();
        let mut served = Served::default();
        let stamp = Stamp {
            actor: bob.clone(),
            epoch: Some(Epoch::new(9)),
        };
        served.0.insert(TicketId(4), stamp.clone());
        stamps.served(&journaled, &served);
        let all: Vec<Stamp> = stamps.into_stamps(6).collect();
        let ana_4 = Stamp {
            actor: ana,
            epoch: Some(Epoch::new(4)),
        };
        assert_eq!(
            all,
            [
                Stamp::system(),
                ana_4.clone(),
                ana_4,
                stamp,
                Stamp::system(),
                Stamp::system()
            ]
        );
    }
}
