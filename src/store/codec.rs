//! Record layout. Keys are a one-byte kind and a big-endian or raw id, so scans come out in
//! id order. Values are a version byte then postcard bytes: a release that changes a record
//! adds a version and keeps reading the old ones.

use super::StoreError;
use crate::core::event::Recorded;
use crate::core::idempotency::{Idempotency, IdempotencyV1};
use crate::core::scheduler::{Journal, Scheduler};
use serde::{de::DeserializeOwned, Serialize};

pub const TICKET: u8 = b't';
pub const AGENT: u8 = b'a';
pub const IDEMPOTENCY: u8 = b'r';
pub const POLICY: u8 = b'p';
pub const EVENT: u8 = b'e';
/// The store's health probe: one key rewritten to test that writes work again.
pub const PROBE: u8 = b'h';

/// The version of ticket, agent, policy and event records.
pub const VERSION: u8 = 1;
/// The version of idempotency records: 2 since every mutating call takes a `request_id`.
pub const IDEMPOTENCY_VERSION: u8 = 2;
/// Idempotency records as first written (creates only, no time): still read.
pub const IDEMPOTENCY_V1: u8 = 1;

/// Encoded records of one group commit, written atomically: keys deleted, then (key, value)
/// pairs written (so a key both deleted and written ends up written).
#[derive(Debug, Default)]
pub struct Batch {
    pub removals: Vec<Vec<u8>>,
    pub records: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.removals.is_empty()
    }
    pub fn len(&self) -> usize {
        self.records.len() + self.removals.len()
    }

    /// Encodes everything a journal says changed, reading the records from the scheduler.
    pub fn from_journal(journal: &Journal, scheduler: &Scheduler) -> Batch {
        let mut records = Vec::with_capacity(
            journal.tickets.len() + journal.agents.len() + journal.idempotency.len() + 1,
        );
        for &id in &journal.tickets {
            if let Some(t) = scheduler.ticket(id) {
                records.push((ticket_key(id.0), encode(t)));
            }
        }
        for id in &journal.agents {
            if let Some(a) = scheduler.agent(id) {
                records.push((key(AGENT, id.as_str().as_bytes()), encode(a)));
            }
        }
        for (request_id, entry) in &journal.idempotency {
            let value = encode_version(IDEMPOTENCY_VERSION, entry);
            records.push((key(IDEMPOTENCY, request_id.as_bytes()), value));
        }
        if journal.policy {
            records.push((vec![POLICY], encode(scheduler.policy())));
        }
        let removals = journal
            .expired_requests
            .iter()
            .map(|id| key(IDEMPOTENCY, id.as_bytes()))
            .collect();
        Batch { removals, records }
    }

    /// Adds numbered events, written in the same atomic batch as the changes they report.
    pub fn push_events(&mut self, events: &[Recorded]) {
        for e in events {
            self.records.push((event_key(e.seq), encode(e)));
        }
    }
}

pub fn key(kind: u8, id: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(kind);
    k.extend_from_slice(id);
    k
}

pub fn ticket_key(id: u64) -> Vec<u8> {
    key(TICKET, &id.to_be_bytes())
}

pub fn event_key(seq: u64) -> Vec<u8> {
    key(EVENT, &seq.to_be_bytes())
}

pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    encode_version(VERSION, record)
}

pub fn encode_version<T: Serialize>(version: u8, record: &T) -> Vec<u8> {
    let mut out = vec![version];
    // Serializing plain in-memory structs to a Vec cannot fail for postcard (no I/O, no
    // unsupported types in our records); an error here is a programming error.
    out.extend(postcard::to_allocvec(record).expect("records always serialize"));
    out
}

pub fn decode<T: DeserializeOwned>(key: &[u8], value: &[u8]) -> Result<T, StoreError> {
    match value.split_first() {
        Some((&VERSION, body)) => body_of(key, body),
        other => Err(unknown_version(key, other)),
    }
}

/// An idempotency record of either version.
pub fn decode_idempotency(key: &[u8], value: &[u8]) -> Result<Idempotency, StoreError> {
    match value.split_first() {
        Some((&IDEMPOTENCY_V1, body)) => {
            body_of::<IdempotencyV1>(key, body).map(IdempotencyV1::upgrade)
        }
        Some((&IDEMPOTENCY_VERSION, body)) => body_of(key, body),
        other => Err(unknown_version(key, other)),
    }
}

fn body_of<T: DeserializeOwned>(key: &[u8], body: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(body).map_err(|e| corrupt(key, e.to_string()))
}

fn unknown_version(key: &[u8], split: Option<(&u8, &[u8])>) -> StoreError {
    match split {
        Some((v, _)) => corrupt(
            key,
            format!("record version {v} is not known to this release"),
        ),
        None => corrupt(key, "empty record".into()),
    }
}

fn corrupt(key: &[u8], reason: String) -> StoreError {
    StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason,
    }
}
