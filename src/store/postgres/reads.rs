//! The reads outside recovery (the archive, the event log) and the prunes' choice of what to
//! delete: the same key ranges and rules as `SledStore`, over the tables of `schema`.

use super::super::codec::{self, ARCHIVE_TIME, EVENT, EVENTS};
use super::super::{EventPrune, StoreError};
use super::conn::Prepared;
use super::schema::{
    ARCHIVE, ARCHIVE_CUSTOMER, ARCHIVE_EXTERNAL, ARCHIVE_TIME as TIME, EVENTS as EVENT_TABLE,
};
use crate::core::event::Recorded;
use crate::core::model::Ticket;
use crate::core::types::{TicketId, Ts};

/// A key and its value.
type Record = (Vec<u8>, Vec<u8>);

/// Rows per query of a range scan.
const PAGE: i64 = 256;

/// The value under `key` in `table`.
pub fn get(client: &Prepared, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    let sql = format!("SELECT value FROM {table} WHERE key = $1");
    Ok(client.query(&sql, &[&key])?.first().map(|r| r.get(0)))
}

/// Hands the records of `table` with keys in `start..end` to `f`, in key order (descending
/// when `back`), a page at a time, until `f` says stop (returns `false`).
pub fn scan(
    client: &Prepared,
    table: &str,
    (start, end): (&[u8], &[u8]),
    back: bool,
    mut f: impl FnMut(Vec<u8>, Vec<u8>) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let (mut low, mut high) = (start.to_vec(), end.to_vec());
    let order = if back { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT key, value FROM {table} WHERE key >= $1 AND key < $2 ORDER BY key {order} LIMIT $3"
    );
    loop {
        let rows = client.query(&sql, &[&low, &high, &PAGE])?;
        let full = rows.len() as i64 == PAGE;
        for row in rows {
            let (key, value): (Vec<u8>, Vec<u8>) = (row.get(0), row.get(1));
            if back {
                high.clone_from(&key);
            } else {
                low = key.clone();
                low.push(0);
            }
            if !f(key, value)? {
                return Ok(());
            }
        }
        if !full {
            return Ok(());
        }
    }
}

/// The last record of `kind` in `table`.
pub fn last(client: &Prepared, table: &str, kind: u8) -> Result<Option<Record>, StoreError> {
    let mut found = None;
    scan(client, table, (&[kind], &[kind + 1]), true, |k, v| {
        found = Some((k, v));
        Ok(false)
    })?;
    Ok(found)
}

pub fn archived_ticket(client: &Prepared, id: TicketId) -> Result<Option<Ticket>, StoreError> {
    let key = codec::key(codec::ARCHIVE, &id.0.to_be_bytes());
    get(client, ARCHIVE, &key)?
        .map(|v| codec::decode(&key, &v))
        .transpose()
}

pub fn archived_external(
    client: &Prepared,
    external_id: &str,
) -> Result<Option<TicketId>, StoreError> {
    let key = codec::key(codec::ARCHIVE_EXTERNAL, external_id.as_bytes());
    get(client, ARCHIVE_EXTERNAL, &key)?
        .map(|v| codec::id_of(&key, &v).map(TicketId))
        .transpose()
}

/// One query for many external ids: a create's archive check costs no round trip of its own.
pub fn archived_externals(
    client: &Prepared,
    external_ids: &[String],
) -> Result<Vec<(String, TicketId)>, StoreError> {
    let keys: Vec<Vec<u8>> = external_ids
        .iter()
        .map(|id| codec::key(codec::ARCHIVE_EXTERNAL, id.as_bytes()))
        .collect();
    let sql = format!("SELECT key, value FROM {ARCHIVE_EXTERNAL} WHERE key = ANY($1::bytea[])");
    let rows = client.query(&sql, &[&keys])?;
    rows.iter()
        .map(|row| {
            let (key, value): (&[u8], &[u8]) = (row.get(0), row.get(1));
            let external = String::from_utf8_lossy(key.get(1..).unwrap_or_default()).into_owned();
            Ok((external, TicketId(codec::id_of(key, value)?)))
        })
        .collect()
}

pub fn scan_archive(
    client: &Prepared,
    after: Option<TicketId>,
    max: usize,
) -> Result<Vec<Ticket>, StoreError> {
    let from = after.map_or(0, |id| id.0.saturating_add(1));
    let start = codec::key(codec::ARCHIVE, &from.to_be_bytes());
    let mut out = Vec::new();
    if max == 0 {
        return Ok(out);
    }
    scan(
        client,
        ARCHIVE,
        (&start, &[codec::ARCHIVE + 1]),
        false,
        |k, v| {
            out.push(codec::decode(&k, &v)?);
            Ok(out.len() < max)
        },
    )?;
    Ok(out)
}

pub fn customer_tickets(
    client: &Prepared,
    customer_id: &str,
    after: Option<TicketId>,
    max: usize,
) -> Result<Vec<TicketId>, StoreError> {
    let (prefix, start) = codec::customer_entries_after(customer_id, after);
    // Every entry of this customer is the prefix and 8 bytes: all below the prefix and 9 0xff.
    let mut end = prefix.clone();
    end.extend_from_slice(&[0xff; 9]);
    let mut out = Vec::new();
    if max == 0 {
        return Ok(out);
    }
    scan(client, ARCHIVE_CUSTOMER, (&start, &end), false, |k, _| {
        out.push(TicketId(codec::id_of(&k, &k[prefix.len()..])?));
        Ok(out.len() < max)
    })?;
    Ok(out)
}

/// Through the time index, joined to the records in the database: one round trip a page.
pub fn archived_since(client: &Prepared, since: Ts) -> Result<Vec<Ticket>, StoreError> {
    let start = codec::archive_time_key(since, TicketId(0));
    let end = vec![ARCHIVE_TIME + 1];
    let sql = format!(
        "SELECT a.key, a.value FROM {TIME} t JOIN {ARCHIVE} a
            ON a.key = '\\x41'::bytea || substring(t.key FROM 10 FOR 8)
          WHERE t.key >= $1 AND t.key < $2 ORDER BY t.key"
    );
    let rows = client.query(&sql, &[&start, &end])?;
    rows.iter()
        .map(|row| codec::decode(row.get::<_, &[u8]>(0), row.get(1)))
        .collect()
}

/// The newest event's sequence: of the newest `EVENTS` record if any, else of the old kind.
pub fn last_event_seq(client: &Prepared) -> Result<u64, StoreError> {
    for kind in [EVENTS, EVENT] {
        if let Some((k, v)) = last(client, EVENT_TABLE, kind)? {
            let events = codec::decode_events(&k, &v)?;
            return Ok(events.last().map_or(0, |e| e.seq));
        }
    }
    Ok(0)
}

/// Old one-event records from `from` on, then the commit records from the one holding `from`.
pub fn read_events(
    client: &Prepared,
    from: u64,
    limit: usize,
) -> Result<Vec<Recorded>, StoreError> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let mut take = |k: Vec<u8>, v: Vec<u8>| {
        if out.len() >= limit {
            return Ok(false);
        }
        let events = codec::decode_events(&k, &v)?.into_iter();
        let wanted = limit - out.len();
        out.extend(events.filter(|e| e.seq >= from).take(wanted));
        Ok(out.len() < limit)
    };
    let old = (codec::event_key(from), vec![EVENT + 1]);
    scan(client, EVENT_TABLE, (&old.0, &old.1), false, &mut take)?;
    let mut holding = None;
    let below = codec::events_key(from.saturating_add(1));
    let upto = if from == u64::MAX {
        vec![EVENTS + 1]
    } else {
        below
    };
    scan(
        client,
        EVENT_TABLE,
        (&codec::events_key(0), &upto),
        true,
        |k, _| {
            holding = Some(k);
            Ok(false)
        },
    )?;
    let start = holding.unwrap_or_else(|| codec::events_key(from));
    scan(client, EVENT_TABLE, (&start, &[EVENTS + 1]), false, take)?;
    Ok(out)
}

/// What `prune_events` deletes (whole records, oldest first, as `SledStore` does) and the
/// first sequence it keeps.
pub fn doomed_events(
    client: &Prepared,
    keep_from: u64,
    older_than: Ts,
    limit: usize,
) -> Result<(Vec<Vec<u8>>, u64), StoreError> {
    let newest = last_event_seq(client)?;
    let (mut doomed, mut kept_from) = (Vec::new(), u64::MAX);
    let mut prune = EventPrune::new(newest, keep_from, older_than, limit);
    for kind in [EVENT, EVENTS] {
        if kept_from != u64::MAX {
            break;
        }
        scan(
            client,
            EVENT_TABLE,
            (&[kind], &[kind + 1]),
            false,
            |k, v| {
                let events = codec::decode_events(&k, &v)?;
                if !prune.takes(&events) {
                    kept_from = events.first().map_or(u64::MAX, |e| e.seq);
                    return Ok(false);
                }
                doomed.push(k);
                Ok(true)
            },
        )?;
    }
    Ok((doomed, kept_from))
}

/// What `prune_archive` deletes (up to `limit` tickets archived before `older_than`, never the
/// newest, with their index entries) and how many tickets that is.
pub fn doomed_archive(
    client: &Prepared,
    older_than: Ts,
    limit: usize,
) -> Result<(Vec<Vec<u8>>, usize), StoreError> {
    let newest = match last(client, ARCHIVE, codec::ARCHIVE)? {
        Some((k, _)) => codec::id_of(&k, k.get(1..).unwrap_or_default())?,
        None => 0,
    };
    let end = codec::archive_time_key(older_than, TicketId(0));
    let (mut doomed, mut pruned) = (Vec::new(), 0);
    let mut entries = Vec::new();
    if limit > 0 {
        scan(client, TIME, (&[ARCHIVE_TIME], &end), false, |k, _| {
            entries.push(k);
            Ok(entries.len() < limit)
        })?;
    }
    for k in entries {
        let id = TicketId(codec::id_of(&k, &k[k.len().saturating_sub(8)..])?);
        if id.0 == newest {
            continue;
        }
        doomed.push(k);
        if let Some(t) = archived_ticket(client, id)? {
            doomed.extend(codec::archive_keys(
                id,
                t.updated_at,
                &t.external_id,
                &t.customer_id,
            ));
        }
        pruned += 1;
    }
    Ok((doomed, pruned))
}
