//! A group commit as one transaction, sent as one pipeline: `BEGIN`, the fence (locks the
//! lease row, checks this node's epoch, bumps the commit sequence), per table present in the
//! batch one multi-row delete (`= ANY`) and one multi-row upsert (`unnest`), the change log's
//! row for followers (and in one commit of `changes::TRIM_EVERY` the log's trim), and `COMMIT`,
//! all written before any answer is read: one round trip to the server. Any failure in the
//! pipeline aborts the transaction, and the `COMMIT` at its end then rolls it back, so the
//! connection is never left inside a transaction; `commit` returns `Ok` only after `COMMIT`
//! itself answered without error, which with `synchronous_commit = on` means durable.
//!
//! A batch larger than `PIPELINE_BYTES` (a boot that escalates a million tickets at once) is
//! sent one statement at a time instead. The server reads and executes one statement at a
//! time: while it executes a big upsert, a pipeline's later statements would fill both
//! sockets' buffers and leave data unacknowledged behind a closed TCP window for as long as
//! the upsert runs, and past the connection's `tcp_user_timeout` the kernel drops the
//! connection and the commit fails. Sent one at a time, nothing waits unread.

use super::super::codec::Batch;
use super::super::StoreError;
use super::changes::{self, KEEP, LOG_SQL, TRIM_EVERY, TRIM_SQL};
use super::conn::wait;
use super::schema::{table_for, FENCED_SQLSTATE, TABLES};
use futures::future::join_all;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

/// The statements a commit sends, prepared once per connection.
pub struct Statements {
    begin: Statement,
    fence: Statement,
    end: Statement,
    delete: HashMap<&'static str, Statement>,
    upsert: HashMap<&'static str, Statement>,
    log: Statement,
    trim: Statement,
    /// Commits sent on this connection: every `TRIM_EVERY`th trims the log.
    sent: AtomicU64,
}

impl Statements {
    /// Prepares them all, pipelined.
    pub fn prepare(client: &Client) -> Result<Statements, StoreError> {
        let sql = |table: &str| {
            (
                format!("DELETE FROM {table} WHERE key = ANY($1::bytea[])"),
                format!(
                    "INSERT INTO {table} (key, value) \
                     SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                ),
            )
        };
        let texts: Vec<(String, String)> = TABLES.iter().map(|t| sql(t)).collect();
        wait(async {
            let fixed = futures::future::try_join5(
                client.prepare("BEGIN"),
                client.prepare("SELECT triage_fence($1)"),
                client.prepare("COMMIT"),
                client.prepare(LOG_SQL),
                client.prepare(TRIM_SQL),
            );
            let deletes =
                futures::future::try_join_all(texts.iter().map(|(d, _)| client.prepare(d)));
            let upserts =
                futures::future::try_join_all(texts.iter().map(|(_, u)| client.prepare(u)));
            let ((begin, fence, end, log, trim), deletes, upserts) =
                futures::future::try_join3(fixed, deletes, upserts).await?;
            Ok(Statements {
                begin,
                fence,
                end,
                delete: TABLES.iter().copied().zip(deletes).collect(),
                upsert: TABLES.iter().copied().zip(upserts).collect(),
                log,
                trim,
                sent: AtomicU64::new(0),
            })
        })
    }
}

/// One table's part of a batch: keys to delete, and records to write (the last value given
/// for a key wins; sorted, so concurrent writers would lock rows in one order).
#[derive(Default)]
struct Part<'a> {
    removals: BTreeSet<&'a [u8]>,
    records: BTreeMap<&'a [u8], &'a [u8]>,
}

/// A table's part as the statements' array parameters.
struct Arrays<'a> {
    table: &'static str,
    removals: Vec<&'a [u8]>,
    keys: Vec<&'a [u8]>,
    values: Vec<&'a [u8]>,
}

fn split(batch: &Batch) -> BTreeMap<&'static str, Part<'_>> {
    let mut parts: BTreeMap<&'static str, Part<'_>> = BTreeMap::new();
    for key in &batch.removals {
        let table = table_for(key.first().copied().unwrap_or(0));
        parts.entry(table).or_default().removals.insert(key);
    }
    for (key, value) in &batch.records {
        let table = table_for(key.first().copied().unwrap_or(0));
        parts.entry(table).or_default().records.insert(key, value);
    }
    parts
}

/// The most bytes of records a commit sends as one pipeline: far less than the sockets'
/// buffers hold.
const PIPELINE_BYTES: usize = 1 << 20;

/// The bytes of keys and values `batch` writes.
fn bytes(batch: &Batch) -> usize {
    let removed: usize = batch.removals.iter().map(Vec::len).sum();
    let written: usize = (batch.records.iter()).map(|(k, v)| k.len() + v.len()).sum();
    removed + written
}

/// The statements of a commit between `BEGIN` and `COMMIT`, with their parameters.
type Writes<'a> = Vec<(&'a Statement, Vec<&'a (dyn ToSql + Sync)>)>;

/// Writes `batch` in one fenced transaction under `epoch`; returns the commit sequence it
/// got. `Fenced` when another node took the lease: then nothing of the batch was written.
pub fn commit(
    client: &Client,
    st: &Statements,
    epoch: i64,
    batch: &Batch,
) -> Result<i64, StoreError> {
    let arrays: Vec<Arrays<'_>> = split(batch)
        .into_iter()
        .map(|(table, part)| Arrays {
            table,
            removals: part.removals.into_iter().collect(),
            keys: part.records.keys().copied().collect(),
            values: part.records.values().copied().collect(),
        })
        .collect();
    let mut params: Writes<'_> = Vec::new();
    for a in &arrays {
        if !a.removals.is_empty() {
            params.push((&st.delete[a.table], vec![&a.removals]));
        }
        if !a.keys.is_empty() {
            params.push((&st.upsert[a.table], vec![&a.keys, &a.values]));
        }
    }
    let logged = changes::entries(batch);
    params.push((&st.log, vec![&logged.keys, &logged.values]));
    if st.sent.fetch_add(1, Ordering::Relaxed) % TRIM_EVERY == TRIM_EVERY - 1 {
        params.push((&st.trim, vec![&KEEP]));
    }
    if bytes(batch) > PIPELINE_BYTES {
        return wait(one_at_a_time(client, st, epoch, &params));
    }
    let fence_params: [&(dyn ToSql + Sync); 1] = [&epoch];
    wait(async {
        let writes = params.iter().map(|(st, p)| client.execute(*st, p));
        // Polled in this order, so sent in this order, before any answer is awaited.
        let (begun, fenced, written, ended) = futures::join!(
            client.execute(&st.begin, &[]),
            client.query_one(&st.fence, &fence_params),
            join_all(writes),
            client.execute(&st.end, &[]),
        );
        begun?;
        let seq = fenced.map_err(|e| fence_error(e, epoch))?.get(0);
        for w in written {
            w?;
        }
        ended?;
        Ok(seq)
    })
}

/// The same transaction as the pipeline, each statement sent once the one before answered.
async fn one_at_a_time(
    client: &Client,
    st: &Statements,
    epoch: i64,
    writes: &Writes<'_>,
) -> Result<i64, StoreError> {
    client.execute(&st.begin, &[]).await?;
    let fence_params: [&(dyn ToSql + Sync); 1] = [&epoch];
    let written = async {
        let fenced = client.query_one(&st.fence, &fence_params).await;
        let seq = fenced.map_err(|e| fence_error(e, epoch))?.get(0);
        for (statement, params) in writes {
            client.execute(*statement, params).await?;
        }
        Ok(seq)
    };
    let written: Result<i64, StoreError> = written.await;
    // After a failure this rolls the transaction back, leaving the connection outside one.
    let ended = client.execute(&st.end, &[]).await;
    let seq = written?;
    ended?;
    Ok(seq)
}

/// The fence's refusal as `Fenced`, any other failure as it is.
fn fence_error(e: tokio_postgres::Error, epoch: i64) -> StoreError {
    match e.code() {
        Some(code) if code.code() == FENCED_SQLSTATE => StoreError::Fenced { epoch },
        _ => StoreError::Postgres(e),
    }
}
