//! A commit's records applied to a `Replica`: how a warm follower keeps its scheduler in
//! step with the leader's commits (README "High availability"). The entries are those of the
//! change log (`postgres::changes`): keys of the tables recovery reads, each with its new
//! value or `None` when removed.
//!
//! Within a commit the records are applied by kind, the order a boot reads them in: the
//! policy, agents, tickets (removed ones first), remembered requests (forgotten ones first),
//! webhooks, each kind in the commit's own order. So a ticket always finds the agent that holds it,
//! even when the agent's record came later in the batch. The live counts are a boot's size
//! hint and the archive is not kept: both are skipped.

use super::codec::{self, AGENT, IDEMPOTENCY, POLICY, TICKET, WEBHOOK};
use super::StoreError;
use crate::core::types::{TicketId, Ts};
use crate::core::Replica;

/// A key and its new value (`None`: removed).
pub type Entry = (Vec<u8>, Option<Vec<u8>>);

/// Applies one commit's `entries` to `replica`, as put at `now`. An error leaves the
/// replica part-way through the commit: the caller rebuilds it from the store.
pub fn apply(replica: &mut Replica, mut entries: Vec<Entry>, now: Ts) -> Result<(), StoreError> {
    entries.sort_by_key(rank);
    for (key, value) in entries {
        match (key.first().copied(), value) {
            (Some(POLICY), Some(v)) => replica.put_policy(codec::decode_policy(&key, &v)?, now),
            (Some(AGENT), Some(v)) => replica.put_agent(codec::decode(&key, &v)?),
            (Some(TICKET), Some(v)) => replica.put_ticket(codec::decode(&key, &v)?, now)?,
            (Some(TICKET), None) => replica.remove_ticket(TicketId(ticket_id(&key)?)),
            (Some(IDEMPOTENCY), Some(v)) => {
                let entry = codec::decode_idempotency(&key, &v)?;
                replica.put_request(&key_text(&key), entry);
            }
            (Some(IDEMPOTENCY), None) => replica.remove_request(&key_text(&key)),
            (Some(WEBHOOK), Some(v)) => replica.put_webhook(codec::decode(&key, &v)?),
            (Some(WEBHOOK), None) => replica.remove_webhook(&key_text(&key)),
            (Some(POLICY | AGENT), None) => return Err(unexpected(&key, "removed")),
            _ => {}
        }
    }
    Ok(())
}

/// Where an entry comes in a commit's application (see the module documentation).
fn rank(entry: &Entry) -> u8 {
    let removed = entry.1.is_none();
    match entry.0.first().copied() {
        Some(POLICY) => 0,
        Some(AGENT) => 1,
        Some(TICKET) => 3 - u8::from(removed),
        Some(IDEMPOTENCY) => 5 - u8::from(removed),
        _ => 6,
    }
}

fn ticket_id(key: &[u8]) -> Result<u64, StoreError> {
    codec::id_of(key, key.get(1..).unwrap_or_default())
}

/// The text after a record's kind byte: a remembered request's id, a webhook's id.
fn key_text(key: &[u8]) -> String {
    String::from_utf8_lossy(key.get(1..).unwrap_or_default()).into_owned()
}

fn unexpected(key: &[u8], what: &str) -> StoreError {
    StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: format!("{what} in the change log, which never removes such a record"),
    }
}
