//! Pulls waiting for a ticket: long polls (credit 1, until their wait ends) and work sessions
//! (credit until spent or the session ends). Like the scheduler it is plain state given `now`:
//! it decides who waits, who is refused, who gets which ticket and who hears that the wait is
//! over, and queues each decision as a `Delivery` for a `WaiterId`. The owner task only maps
//! ids to reply channels and delivers (after the batch is durable); it decides nothing.
//!
//! Idempotency of keyed long polls lives here too: a retried poll replaces the one waiting
//! under its request id, another body under that id is refused, and an assignment made to a
//! keyed poll is remembered under its key in the same journal as the assignment.

use super::command::{Command, Reply};
use super::error::CoreError;
use super::idempotency::RequestKey;
use super::scheduler::Scheduler;
use super::types::{AgentId, Span, Ts};
use std::collections::VecDeque;

/// Names one waiter for as long as it waits; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaiterId(u64);

/// A long poll refused because as many as allowed are waiting already.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("too many long polls waiting (limit {limit}); retry later")]
pub struct LongPollsFull {
    pub limit: usize,
}

/// Why a pull got neither a reply nor a place among the waiters.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    Full(#[from] LongPollsFull),
}

/// What became of a pull: answered now, or waiting under an id.
#[derive(Debug, PartialEq)]
pub enum Polled {
    Answered(Reply),
    Waiting(WaiterId),
}

/// What a waiter is to hear.
#[derive(Debug, PartialEq)]
pub enum Notice {
    Reply(Reply),
    Failed(CoreError),
    /// The wait is over without a ticket: a long poll's time ran out, it was replaced by its
    /// retry, or the daemon is draining (a session hears that it is over).
    Ended,
}

/// A decision for one waiter. After its `last` delivery the waiter is gone.
#[derive(Debug, PartialEq)]
pub struct Delivery {
    pub waiter: WaiterId,
    pub notice: Notice,
    pub last: bool,
}

#[derive(Debug)]
struct Waiter {
    id: WaiterId,
    agent: AgentId,
    /// A long poll's request id: its assignment is remembered under it.
    key: Option<RequestKey>,
    until: Ts,
    credit: u32,
    session: bool,
}

/// The registry of waiting pulls, in arrival order (dispatch breaks ties by it).
#[derive(Debug)]
pub struct Waiting {
    waiters: VecDeque<Waiter>,
    /// How many of `waiters` are long polls: moved only by `enter` and `take_all`.
    long_polls: usize,
    max_long_polls: usize,
    draining: bool,
    next_id: u64,
    out: Vec<Delivery>,
}

impl Waiting {
    /// An empty registry that lets at most `max_long_polls` long polls wait at once.
    pub fn new(max_long_polls: usize) -> Waiting {
        Waiting {
            waiters: VecDeque::new(),
            long_polls: 0,
            max_long_polls,
            draining: false,
            next_id: 0,
            out: Vec::new(),
        }
    }

    /// Long polls waiting now.
    pub fn long_polls(&self) -> usize {
        self.long_polls
    }

    /// Whether nobody waits.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// From now on no pull waits, and the next `serve` ends every wait.
    pub fn drain(&mut self) {
        self.draining = true;
    }

    /// The earliest instant a long poll's wait ends.
    pub fn next_deadline(&self) -> Option<Ts> {
        self.waiters.iter().map(|w| w.until).min()
    }

    /// Applies `cmd`. When it is a pull (a `Command::Pull`, maybe under a request id) that
    /// found nothing and may wait `wait`, it joins the waiters instead: refused when the long
    /// polls are full; with a request id, it replaces the poll waiting under the same id and
    /// body (which hears `Ended`: one request, one ticket), and is refused as `RequestIdReused`
    /// when a poll waits under that id with another body, as it would be once that poll is
    /// answered.
    pub fn apply(
        &mut self,
        s: &mut Scheduler,
        cmd: Command,
        wait: Span,
        now: Ts,
    ) -> Result<Polled, PullError> {
        let waits = match cmd.as_pull() {
            Some((agent, key)) if wait.0 > 0 && !self.draining => {
                Some((agent.clone(), key.cloned()))
            }
            _ => None,
        };
        let reply = s.apply(cmd, now)?;
        let (Reply::Pulled(None), Some((agent, key))) = (&reply, waits) else {
            return Ok(Polled::Answered(reply));
        };
        if self.long_polls >= self.max_long_polls {
            let limit = self.max_long_polls;
            return Err(LongPollsFull { limit }.into());
        }
        if let Some(key) = &key {
            self.replace(key)?;
        }
        let id = self.new_id();
        self.enter(Waiter {
            id,
            agent,
            key,
            until: now.plus(wait),
            credit: 1,
            session: false,
        });
        Ok(Polled::Waiting(id))
    }

    /// Opens a work session for `agent` with credit for `tickets` assignments.
    pub fn open_session(&mut self, agent: AgentId, tickets: u32) -> WaiterId {
        let id = self.new_id();
        self.enter(Waiter {
            id,
            agent,
            key: None,
            until: Ts::MAX,
            credit: tickets,
            session: true,
        });
        id
    }

    /// Adds credit to a waiting session; false if `id` no longer waits.
    pub fn add_credit(&mut self, id: WaiterId, tickets: u32) -> bool {
        match self.waiters.iter_mut().find(|w| w.id == id) {
            Some(w) => {
                w.credit = w.credit.saturating_add(tickets);
                true
            }
            None => false,
        }
    }

    /// Forgets waiters nobody listens to any more (their callers are gone).
    pub fn forget(&mut self, gone: &[WaiterId]) {
        if gone.is_empty() {
            return;
        }
        for w in self.take_all() {
            if !gone.contains(&w.id) {
                self.enter(w);
            }
        }
    }

    /// Forgets every waiter at once, without a word (the caller answers them all alike).
    pub fn clear(&mut self) {
        self.take_all();
    }

    /// Ends every wait (the daemon stops).
    pub fn end_all(&mut self) {
        for w in self.take_all() {
            self.finish(w.id, Notice::Ended);
        }
    }

    /// Ends the waits that are over (all of them when draining), answers keyed polls that
    /// another pull under the same id answered meanwhile, then offers queued tickets to the
    /// rest (least-loaded agent first, see `Scheduler::dispatch`), round after round while
    /// sessions with credit left keep getting tickets.
    pub fn serve(&mut self, s: &mut Scheduler, now: Ts) {
        let mut waiting = Vec::with_capacity(self.waiters.len());
        for w in self.take_all() {
            if self.draining || w.until <= now {
                self.finish(w.id, Notice::Ended);
                continue;
            }
            match w.key.as_ref().map(|k| s.replay(k)) {
                Some(Ok(Some(reply))) => self.finish(w.id, Notice::Reply(reply)),
                Some(Err(e)) => self.finish(w.id, Notice::Failed(e)),
                _ => waiting.push(w),
            }
        }
        while !waiting.is_empty() {
            waiting = self.dispatch_round(s, waiting, now);
        }
    }

    /// Hands over the decisions made since the last call, in the order they were made.
    pub fn take_deliveries(&mut self) -> Vec<Delivery> {
        std::mem::take(&mut self.out)
    }

    /// One ticket at most to each of `waiting`; returns the sessions that got one and have
    /// credit left, for another round.
    fn dispatch_round(&mut self, s: &mut Scheduler, waiting: Vec<Waiter>, now: Ts) -> Vec<Waiter> {
        let agents: Vec<AgentId> = waiting.iter().map(|w| w.agent.clone()).collect();
        let offers = s.dispatch(&agents, now);
        let mut again = Vec::new();
        for (mut w, offer) in waiting.into_iter().zip(offers) {
            match offer {
                Ok(None) => self.enter(w),
                Ok(Some(a)) => {
                    let reply = Reply::Pulled(Some(Box::new(a)));
                    if let Some(key) = w.key.take() {
                        s.remember(key, &reply, now);
                    }
                    w.credit -= 1;
                    let last = w.credit == 0;
                    self.out.push(Delivery {
                        waiter: w.id,
                        notice: Notice::Reply(reply),
                        last,
                    });
                    if !last {
                        again.push(w);
                    }
                }
                Err(e) => self.finish(w.id, Notice::Failed(e)),
            }
        }
        again
    }

    /// Ends the long poll waiting under `key`'s id, if any: see `pull`.
    fn replace(&mut self, key: &RequestKey) -> Result<(), CoreError> {
        let same_id = |w: &Waiter| w.key.as_ref().is_some_and(|k| k.id == key.id);
        let Some(i) = self.waiters.iter().position(same_id) else {
            return Ok(());
        };
        if self.waiters[i].key.as_ref() != Some(key) {
            return Err(CoreError::RequestIdReused(key.id.clone()));
        }
        let old = self.waiters[i].id;
        self.forget(&[old]);
        self.finish(old, Notice::Ended);
        Ok(())
    }

    fn new_id(&mut self) -> WaiterId {
        self.next_id += 1;
        WaiterId(self.next_id)
    }

    fn finish(&mut self, waiter: WaiterId, notice: Notice) {
        self.out.push(Delivery {
            waiter,
            notice,
            last: true,
        });
    }

    fn enter(&mut self, w: Waiter) {
        self.long_polls += usize::from(!w.session);
        self.waiters.push_back(w);
    }

    fn take_all(&mut self) -> VecDeque<Waiter> {
        self.long_polls = 0;
        std::mem::take(&mut self.waiters)
    }
}
