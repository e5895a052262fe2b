//! Recovery: every record a boot needs, streamed into the sink in the order `RecoverySink`
//! asks, from one consistent snapshot (a read-only repeatable-read transaction), through
//! portals of `PAGE` rows: never the whole table in memory.

use super::super::codec::{self, LiveCounts, COUNTS, POLICY};
use super::super::StoreError;
use super::conn::wait;
use super::schema::{AGENTS, ARCHIVE, META, REQUESTS, TICKETS, WEBHOOKS};
use crate::core::RecoverySink;
use tokio_postgres::{Client, GenericClient, IsolationLevel, Row, Transaction};

/// Rows fetched per round trip.
const PAGE: i32 = 1024;

/// The most requests a hint may make recovery reserve room for (the hint is read from the
/// database: a damaged one must not reserve the machine's memory).
pub(super) const MOST_RESERVED: u64 = 1 << 24;

/// A read-only transaction that sees one snapshot for all its reads.
pub(super) fn snapshot(client: &mut Client) -> Result<Transaction<'_>, StoreError> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start();
    Ok(wait(tx)?)
}

pub fn recover_into(client: &mut Client, sink: &mut dyn RecoverySink) -> Result<(), StoreError> {
    let tx = snapshot(client)?;
    read_into(&tx, sink)?;
    wait(tx.commit())?;
    Ok(())
}

/// Every record recovery reads, as `tx` sees them, into `sink` in its order.
pub(super) fn read_into(
    tx: &Transaction<'_>,
    sink: &mut dyn RecoverySink,
) -> Result<(), StoreError> {
    if let Some(v) = one(tx, META, &[POLICY])? {
        sink.policy(codec::decode_policy(&[POLICY], &v)?);
    }
    if let Some(v) = one(tx, META, &[COUNTS])? {
        let counts: LiveCounts = codec::decode(&[COUNTS], &v)?;
        let size = |n: u64| usize::try_from(n.min(MOST_RESERVED)).unwrap_or(usize::MAX);
        sink.expect(size(counts.tickets), size(counts.requests));
    }
    each(tx, WEBHOOKS, |k, v| {
        sink.webhook(codec::decode(k, v)?);
        Ok(())
    })?;
    each(tx, AGENTS, |k, v| {
        sink.agent(codec::decode(k, v)?);
        Ok(())
    })?;
    each(tx, TICKETS, |k, v| Ok(sink.ticket(codec::decode(k, v)?)?))?;
    each(tx, REQUESTS, |k, v| {
        let entry = codec::decode_idempotency(k, v)?;
        sink.request(
            &String::from_utf8_lossy(k.get(1..).unwrap_or_default()),
            entry,
        );
        Ok(())
    })?;
    sink.last_ticket(last_issued(tx)?);
    Ok(())
}

/// The highest ticket id ever issued: the last of the open tickets' and the archive's.
pub(super) fn last_issued(client: &impl GenericClient) -> Result<u64, StoreError> {
    Ok(last_id(client, TICKETS)?.max(last_id(client, ARCHIVE)?))
}

/// The value under `key` in `table`.
fn one(tx: &Transaction<'_>, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = format!("SELECT value FROM {table} WHERE key = $1");
    let row = wait(tx.query_opt(&sql, &[&key]))?;
    Ok(row.map(|r| r.get(0)))
}

/// Hands every record of `table` to `f` in key order, a page at a time.
pub(super) fn each(
    tx: &Transaction<'_>,
    table: &str,
    mut f: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let sql = format!("SELECT key, value FROM {table} ORDER BY key");
    let statement = wait(tx.prepare(&sql))?;
    let portal = wait(tx.bind(&statement, &[]))?;
    loop {
        let rows: Vec<Row> = wait(tx.query_portal(&portal, PAGE))?;
        for row in &rows {
            f(row.get(0), row.get(1))?;
        }
        if rows.len() < PAGE as usize {
            return Ok(());
        }
    }
}

/// The big-endian id in the last key of `table`, 0 if it is empty.
fn last_id(client: &impl GenericClient, table: &str) -> Result<u64, StoreError> {
    let sql = format!("SELECT key FROM {table} ORDER BY key DESC LIMIT 1");
    match wait(client.query_opt(&sql, &[]))? {
        Some(row) => {
            let key: &[u8] = row.get(0);
            codec::id_of(key, key.get(1..).unwrap_or_default())
        }
        None => Ok(0),
    }
}
