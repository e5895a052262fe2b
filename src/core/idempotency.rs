//! Idempotent retries. A mutating command sent with a `request_id` is remembered, with a
//! fingerprint of its body and what it produced, in the same journal (so the same store batch)
//! as the change itself. A retry with the same id and body changes nothing and is answered from
//! the current state of what the first call produced; the same id with another body is refused
//! (`RequestIdReused`). A refused command is not remembered: it changed nothing, so its retry
//! is simply evaluated again. Entries are forgotten `window` after they were made (by `tick`),
//! which bounds memory and disk.

use super::collections::HandleIndex;
use super::command::{Assignment, Command, NewTicket, Reply};
use super::error::CoreError;
use super::lease::Epoch;
use super::scheduler::Scheduler;
use super::types::{AgentId, AssignReason, TicketId, Ts};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// What a request produced, enough to answer its retries from current state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// A ticket was created or changed.
    Ticket(TicketId),
    /// An agent was created or changed.
    Agent(AgentId),
    /// A pull assigned this ticket under this lease.
    Assigned {
        ticket: TicketId,
        agent: AgentId,
        epoch: Epoch,
        reason: AssignReason,
    },
    /// The SLA policy was replaced or merged.
    Policy,
}

/// What a `request_id` stands for (record version 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Idempotency {
    pub fingerprint: u64,
    pub outcome: Outcome,
    /// When the first call was applied; the entry is forgotten `window` later.
    pub at: Ts,
}

/// Record version 1, written before every mutating call took a `request_id`: creates only, and
/// no time. Read back as an entry made at boot (see `Scheduler::restore`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyV1 {
    pub ticket: TicketId,
    pub fingerprint: u64,
}

impl IdempotencyV1 {
    /// The version-2 form; `at` is unknown and set when the scheduler restores it.
    pub fn upgrade(self) -> Idempotency {
        Idempotency {
            fingerprint: self.fingerprint,
            outcome: Outcome::Ticket(self.ticket),
            at: Ts::UNKNOWN,
        }
    }
}

/// A request to remember: its id and the fingerprint of its body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestKey {
    pub id: String,
    pub fingerprint: u64,
}

impl RequestKey {
    /// The key of `command` sent with `id`. The fingerprint covers the command's kind and every
    /// field, so a reused id with any other body is told apart. It is the command's binary
    /// form: a release that changes a command's shape changes its fingerprint, so a retry
    /// that straddles such an upgrade (within the window) is refused as reused rather than
    /// applied twice. (Creates, whose id travels in `NewTicket`, use `create_fingerprint`.)
    pub fn of(id: String, command: &Command) -> RequestKey {
        let fingerprint = fnv(&postcard::to_allocvec(command).unwrap_or_default());
        RequestKey { id, fingerprint }
    }

    /// The key of a request whose body is given as canonical bytes.
    pub fn of_bytes(id: String, body: &[u8]) -> RequestKey {
        RequestKey {
            id,
            fingerprint: fnv(body),
        }
    }
}

/// Remembered requests, oldest first so that expiry pops from the front. Each id is stored
/// once, in `order`; `index` holds only positions in it (as sequence numbers: `base` is the
/// front's), hashed by id. A request id remembered for a day at a busy desk is one of a
/// million, so this is two thirds the memory of a map from id to entry beside a queue of ids.
#[derive(Debug, Default)]
pub struct Requests {
    order: VecDeque<(Box<str>, Idempotency)>,
    base: u64,
    index: HandleIndex<u64>,
}

/// The id at sequence number `seq` of `order`, whose front is `base`.
fn id_at(order: &VecDeque<(Box<str>, Idempotency)>, base: u64, seq: u64) -> &str {
    &order[(seq - base) as usize].0
}

impl Requests {
    /// The outcome remembered for `key`, or `RequestIdReused` if the id came with another body.
    pub fn check(&self, key: &RequestKey) -> Result<Option<&Outcome>, CoreError> {
        match self.get(&key.id) {
            Some(seen) if seen.fingerprint != key.fingerprint => {
                Err(CoreError::RequestIdReused(key.id.clone()))
            }
            Some(seen) => Ok(Some(&seen.outcome)),
            None => Ok(None),
        }
    }

    /// The outcome remembered under `request_id`, whatever body it came with.
    pub fn outcome(&self, request_id: &str) -> Option<&Outcome> {
        self.get(request_id).map(|seen| &seen.outcome)
    }

    fn get(&self, id: &str) -> Option<&Idempotency> {
        let (order, base) = (&self.order, self.base);
        let seq = self.index.find(id, |seq| id_at(order, base, seq))?;
        Some(&order[(seq - base) as usize].1)
    }

    /// Remembers an entry; an id already remembered keeps its first entry (false).
    pub fn insert(&mut self, id: &str, entry: Idempotency) -> bool {
        let seq = self.base + self.order.len() as u64;
        self.order.push_back((Box::from(id), entry));
        let (order, base) = (&self.order, self.base);
        if self
            .index
            .insert_new(id, seq, |seq| id_at(order, base, seq))
        {
            return true;
        }
        self.order.pop_back();
        false
    }

    /// Forgets entries made at or before `cutoff`; returns their ids.
    pub fn expire(&mut self, cutoff: Ts) -> Vec<String> {
        let mut gone = Vec::new();
        while self.order.front().is_some_and(|(_, e)| e.at <= cutoff) {
            if let Some((id, _)) = self.order.pop_front() {
                self.index.remove(&*id, self.base);
                gone.push(id.into_string());
            }
            self.base += 1;
        }
        gone
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Room for `n` more entries (at recovery).
    pub fn reserve(&mut self, n: usize) {
        self.order.reserve(n);
        let (order, base) = (&self.order, self.base);
        self.index.reserve(n, |seq| id_at(order, base, seq));
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The entries, in the order they were inserted (for a sink that takes them one by one).
    pub fn into_entries(self) -> impl Iterator<Item = (Box<str>, Idempotency)> {
        self.order.into_iter()
    }

    /// Dates the entries read back from record version 1 (which has no time) at `now`, and
    /// returns them, so that they can be journaled and rewritten as version 2.
    fn date_unknown(&mut self, now: Ts) -> Vec<(String, Idempotency)> {
        let undated = self.order.iter_mut().filter(|(_, e)| e.at == Ts::UNKNOWN);
        undated
            .map(|(id, entry)| {
                entry.at = now;
                (id.to_string(), entry.clone())
            })
            .collect()
    }

    /// Every entry, oldest first, for tests that compare state.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Idempotency)> {
        self.order.iter().map(|(id, e)| (&**id, e))
    }

    /// Remembers `entry` under `id`, replacing (in place) any entry remembered under it.
    pub fn put(&mut self, id: &str, entry: Idempotency) {
        let (order, base) = (&self.order, self.base);
        match self.index.find(id, |seq| id_at(order, base, seq)) {
            Some(seq) => self.order[(seq - base) as usize].1 = entry,
            None => drop(self.insert(id, entry)),
        }
    }

    /// Forgets the entry remembered under `id`, if any. Entries are forgotten oldest first,
    /// so the one to forget is at or near the front: the entries before it move one place
    /// back, and the time order is kept.
    pub fn forget(&mut self, id: &str) {
        let (order, base) = (&self.order, self.base);
        let Some(seq) = self.index.find(id, |seq| id_at(order, base, seq)) else {
            return;
        };
        let pos = (seq - base) as usize;
        for (seq, (id, _)) in (base..).zip(self.order.range(..=pos)) {
            self.index.remove(&**id, seq);
        }
        for at in (0..pos).rev() {
            self.order.swap(at, at + 1);
        }
        self.order.pop_front();
        self.base += 1;
        let (order, base) = (&self.order, self.base);
        for (seq, (id, _)) in (base..).zip(order.range(..pos)) {
            self.index.insert(&**id, seq, |seq| id_at(order, base, seq));
        }
    }

    /// `sort_by_time`, when the entries are not in the order they expire in already.
    pub(super) fn sort_if_unsorted(&mut self) {
        if !self.order.iter().is_sorted_by_key(|(_, e)| e.at) {
            self.sort_by_time();
        }
    }

    /// Puts the entries in the order they expire in (stable, so entries made at the same
    /// instant keep the order they were read in), and indexes them again where they now are.
    fn sort_by_time(&mut self) {
        self.order.make_contiguous().sort_by_key(|(_, e)| e.at);
        self.index.clear();
        let (order, base) = (&self.order, self.base);
        for (seq, (id, _)) in (base..).zip(order) {
            self.index.insert(&**id, seq, |seq| id_at(order, base, seq));
        }
    }
}

impl Scheduler {
    /// Applies `command` once per `request_id`: see the module documentation.
    pub(super) fn apply_once(
        &mut self,
        key: RequestKey,
        command: Command,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        if let Some(reply) = self.replay(&key)? {
            return Ok(reply);
        }
        let reply = self.apply(command, now)?;
        self.remember(key, &reply, now);
        Ok(reply)
    }

    /// The answer to a retry of `key`, from current state; `None` if the id is new.
    pub(super) fn replay(&self, key: &RequestKey) -> Result<Option<Reply>, CoreError> {
        let Some(outcome) = self.requests.check(key)? else {
            return Ok(None);
        };
        let reply = match outcome {
            Outcome::Ticket(id) => Reply::Ticket(Box::new(self.get(*id)?.clone())),
            Outcome::Agent(id) => self.agent_view(id)?,
            Outcome::Policy => Reply::Policy(Box::new(self.policy.clone())),
            Outcome::Assigned {
                ticket,
                agent,
                epoch,
                reason,
            } => {
                let t = self.get(*ticket)?;
                if !t.tenure.is_held(agent, *epoch) {
                    return Err(CoreError::ReplayedLeaseGone {
                        ticket: *ticket,
                        epoch: *epoch,
                    });
                }
                Reply::Pulled(Some(Box::new(Assignment {
                    ticket: t.clone(),
                    lease_epoch: *epoch,
                    reason: *reason,
                })))
            }
        };
        Ok(Some(reply))
    }

    /// Remembers what the request `key` produced, journaled with the change it made. A reply
    /// that changed nothing (a pull that found no ticket) is not remembered.
    pub(super) fn remember(&mut self, key: RequestKey, reply: &Reply, now: Ts) {
        let outcome = match reply {
            Reply::Ticket(t) => Outcome::Ticket(t.id),
            Reply::Agent(a) => Outcome::Agent(a.id.clone()),
            Reply::Policy(_) => Outcome::Policy,
            Reply::Pulled(Some(a)) => match a.ticket.holder() {
                Some(agent) => Outcome::Assigned {
                    ticket: a.ticket.id,
                    agent: agent.clone(),
                    epoch: a.lease_epoch,
                    reason: a.reason,
                },
                None => return,
            },
            _ => return,
        };
        self.remember_outcome(key, outcome, now);
    }

    pub(super) fn remember_outcome(&mut self, key: RequestKey, outcome: Outcome, now: Ts) {
        if key.id.is_empty() {
            return;
        }
        let entry = Idempotency {
            fingerprint: key.fingerprint,
            outcome,
            at: now,
        };
        if self.requests.insert(&key.id, entry.clone()) {
            self.journal.idempotency.push((key.id, entry));
        }
    }

    /// Forgets requests older than the configured window (part of `tick`).
    pub(super) fn expire_requests(&mut self, now: Ts) {
        let cutoff = Ts(now.0.saturating_sub(self.config().request_window.0 as i64));
        let gone = self.requests.expire(cutoff);
        self.journal.expired_requests.extend(gone);
    }

    /// Restores a remembered request read back at boot, in any order of time (`restored_requests`
    /// dates and sorts them once all are in).
    pub(super) fn restore_request(&mut self, id: &str, entry: Idempotency) {
        self.requests.insert(id, entry);
    }

    /// Takes the remembered requests of a recovery, built apart (on a reading thread): the
    /// same as restoring each, in less of the rebuild's time. Only into an empty index; any
    /// entry already there keeps its place.
    pub(super) fn restore_requests(&mut self, built: Requests) {
        if self.requests.is_empty() {
            self.requests = built;
            return;
        }
        for (id, entry) in built.into_entries() {
            self.restore_request(&id, entry);
        }
    }

    /// Every request restored: an entry of record version 1 has no time, so it counts from
    /// `now` and is journaled for the first commit to rewrite it as version 2; then they are
    /// put in the order they expire in (stable, so entries made at the same instant keep the
    /// order they were read in).
    pub(super) fn restored_requests(&mut self, now: Ts) {
        let dated = self.requests.date_unknown(now);
        self.journal.idempotency.extend(dated);
        self.requests.sort_by_time();
    }
}

/// The fingerprint of a create, computed as record version 1 did, so creates remembered
/// before the upgrade still match their retries. An import's `created_at` is eaten last and
/// only when given, so creates without one keep the fingerprint they always had, and a retry
/// with another `created_at` (or none) is another request. Its bytes start with 0 (the API
/// takes instants from 1970 to 9999, which fit in 48 bits), which no id or skill holds, so a
/// create with one never reads like a create without one.
pub fn create_fingerprint(new: &NewTicket) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes.iter().chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(new.external_id.as_bytes());
    eat(new.customer_id.as_bytes());
    eat(&[
        new.tier.index() as u8,
        new.channel.index() as u8,
        new.priority.index() as u8,
        new.sentiment.index() as u8,
    ]);
    for skill in new.skills.iter() {
        eat(skill.0.as_bytes());
    }
    // Only when it is not the set's first, so creates fingerprinted before the client's order
    // was kept keep their fingerprints.
    if new.first_skill != 0 {
        eat(&[new.first_skill]);
    }
    eat(new
        .preferred_agent
        .as_ref()
        .map_or(&b""[..], |a| a.as_str().as_bytes()));
    if let Some(at) = new.created_at {
        eat(&at.0.to_be_bytes());
    }
    h
}

/// FNV-1a, 64 bits: stable across releases and platforms (unlike std's hasher).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ticket: u64, at: i64) -> Idempotency {
        Idempotency {
            fingerprint: ticket,
            outcome: Outcome::Ticket(TicketId(ticket)),
            at: Ts(at),
        }
    }

    fn found(r: &Requests, id: &str) -> Option<TicketId> {
        match r.outcome(id)? {
            Outcome::Ticket(t) => Some(*t),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The index holds positions, so every lookup must survive the front moving (expiry) and
    /// the entries moving (the sort after recovery).
    #[test]
    fn lookups_follow_entries_through_expiry_and_the_recovery_sort() {
        let mut r = Requests::default();
        for n in 0..100u64 {
            assert!(r.insert(&format!("req-{n}"), entry(n, n as i64)));
        }
        assert!(
            !r.insert("req-7", entry(1000, 1000)),
            "the first entry is kept"
        );
        assert_eq!(found(&r, "req-7"), Some(TicketId(7)));
        let gone = r.expire(Ts(39));
        assert_eq!(gone.len(), 40);
        assert_eq!(gone[0], "req-0");
        assert_eq!(r.len(), 60);
        assert_eq!(found(&r, "req-39"), None);
        assert_eq!(found(&r, "req-40"), Some(TicketId(40)));
        assert!(
            r.insert("req-3", entry(3, 200)),
            "an expired id may be used again"
        );

        // Recovery reads entries in key order, not time order.
        let mut restored = Requests::default();
        restored.reserve(3);
        for (id, at) in [("b", 30), ("a", 10), ("c", 20)] {
            restored.insert(id, entry(at as u64, at));
        }
        restored.sort_by_time();
        let ids: Vec<&str> = restored.iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["a", "c", "b"]);
        for (id, t) in [("a", 10), ("b", 30), ("c", 20)] {
            assert_eq!(found(&restored, id), Some(TicketId(t)));
        }
        assert_eq!(restored.expire(Ts(20)), ["a", "c"]);
        assert_eq!(found(&restored, "b"), Some(TicketId(30)));
        assert_eq!(found(&restored, "a"), None);
    }
}
