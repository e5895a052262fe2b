//! A warm follower's copy of what recovery reads, kept at one commit sequence: loaded whole
//! from one snapshot, then moved forward commit by commit from the change log (`changes`).
//! At takeover it is brought to the end of the log and streamed into the recovery sink in the
//! order a boot reads the tables, so the new leader fetches nothing but what it missed.
//!
//! Tickets are kept decoded (fetching and decoding them is most of a cold load, see README
//! "High availability"), in a B-tree by id, so they come out in the ascending order
//! `RecoverySink` asks; everything else is kept as the records' bytes and decoded at takeover.

use super::super::codec::{self, LiveCounts, AGENT, COUNTS, IDEMPOTENCY, POLICY, TICKET, WEBHOOK};
use super::super::StoreError;
use super::changes::{self, Change, Tail, MIRRORED};
use super::conn::wait;
use super::recover::{each, snapshot, MOST_RESERVED};
use crate::core::model::Ticket;
use crate::core::RecoverySink;
use std::collections::BTreeMap;
use tokio_postgres::Client;

/// Changes read per look at the log.
const CHANGES_PER_LOOK: i64 = 1024;

/// The copy, as of commit `seq`.
#[derive(Default)]
pub struct Mirror {
    seq: i64,
    tickets: BTreeMap<u64, Ticket>,
    /// Every other record kept, by key (agents, requests, the policy, the counts).
    others: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// How far behind the leader a look at the log found this copy, before applying it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Lag {
    pub commits: i64,
    /// Age of the oldest commit not applied yet, by the database's clock (0 when none).
    pub seconds: f64,
}

impl Mirror {
    /// Every kept table from one consistent snapshot, with the commit sequence it is at.
    pub fn load(client: &mut Client) -> Result<Mirror, StoreError> {
        let tx = snapshot(client)?;
        let row = wait(tx.query_one("SELECT commit_seq FROM triage_lease WHERE id = 1", &[]))?;
        let mut mirror = Mirror {
            seq: row.get(0),
            ..Mirror::default()
        };
        for table in MIRRORED {
            each(&tx, table, |k, v| mirror.put(k.to_vec(), v.to_vec()))?;
        }
        wait(tx.commit())?;
        Ok(mirror)
    }

    /// The commit sequence this copy is at.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Reads the log after this copy's sequence and applies it, until it has read to the end
    /// as of the first look. Returns the lag the first look found; `Ok(None)` when the log
    /// misses a commit this copy needs (trimmed, or never written by an older release): the
    /// copy is then unusable and must be loaded again.
    pub fn catch_up(&mut self, client: &Client) -> Result<Option<Lag>, StoreError> {
        let first = changes::tail(client, self.seq, CHANGES_PER_LOOK)?;
        let lag = Lag {
            commits: (first.leader_seq - self.seq).max(0),
            seconds: first.oldest_age.unwrap_or(0.0).max(0.0),
        };
        let target = first.leader_seq;
        let mut tail = first;
        loop {
            if !self.apply(tail)? {
                return Ok(None);
            }
            if self.seq >= target {
                return Ok(Some(lag));
            }
            tail = changes::tail(client, self.seq, CHANGES_PER_LOOK)?;
        }
    }

    /// Applies a look's changes in order; `false` when they do not continue this copy's
    /// sequence or stop short of what the leader had committed before the look.
    fn apply(&mut self, tail: Tail) -> Result<bool, StoreError> {
        let Tail {
            leader_seq,
            changes,
            ..
        } = tail;
        if leader_seq < self.seq {
            // The database went back in time (restored from a backup): nothing here holds.
            return Ok(false);
        }
        let complete = changes.len() as i64 == CHANGES_PER_LOOK;
        for Change { seq, entries } in changes {
            if seq != self.seq + 1 {
                return Ok(false);
            }
            for (key, value) in entries {
                match value {
                    Some(value) => self.put(key, value)?,
                    None => self.remove(&key),
                }
            }
            self.seq = seq;
        }
        Ok(complete || self.seq >= leader_seq)
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StoreError> {
        match ticket_id(&key) {
            Some(id) => {
                self.tickets.insert(id, codec::decode(&key, &value)?);
            }
            None => {
                self.others.insert(key, value);
            }
        }
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) {
        match ticket_id(key) {
            Some(id) => drop(self.tickets.remove(&id)),
            None => drop(self.others.remove(key)),
        }
    }

    /// Hands everything to `sink` in a boot's order (policy, the counts' hint, agents,
    /// tickets by id, requests), all but the highest id issued (the archive's, which this copy
    /// does not keep: the caller reads it).
    pub fn replay_into(self, sink: &mut dyn RecoverySink) -> Result<(), StoreError> {
        let Mirror {
            tickets, others, ..
        } = self;
        if let Some(v) = others.get([POLICY].as_slice()) {
            sink.policy(codec::decode_policy(&[POLICY], v)?);
        }
        if let Some(v) = others.get([COUNTS].as_slice()) {
            let counts: LiveCounts = codec::decode(&[COUNTS], v)?;
            let size = |n: u64| usize::try_from(n.min(MOST_RESERVED)).unwrap_or(usize::MAX);
            sink.expect(size(counts.tickets), size(counts.requests));
        }
        for (k, v) in kind(&others, WEBHOOK) {
            sink.webhook(codec::decode(k, v)?);
        }
        for (k, v) in kind(&others, AGENT) {
            sink.agent(codec::decode(k, v)?);
        }
        for ticket in tickets.into_values() {
            sink.ticket(ticket)?;
        }
        for (k, v) in kind(&others, IDEMPOTENCY) {
            let entry = codec::decode_idempotency(k, v)?;
            let id = String::from_utf8_lossy(k.get(1..).unwrap_or_default());
            sink.request(&id, entry);
        }
        Ok(())
    }
}

/// The records whose key starts with `kind`, in key order.
fn kind(
    records: &BTreeMap<Vec<u8>, Vec<u8>>,
    kind: u8,
) -> impl Iterator<Item = (&Vec<u8>, &Vec<u8>)> {
    records.range(vec![kind]..vec![kind + 1])
}

/// The id in a ticket's key; `None` for any other key.
fn ticket_id(key: &[u8]) -> Option<u64> {
    match key.split_first() {
        Some((&TICKET, id)) => Some(u64::from_be_bytes(id.try_into().ok()?)),
        _ => None,
    }
}
