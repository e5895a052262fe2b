//! The change log warm followers tail (migration 3). Every commit also writes one row of
//! `triage_changes` under its commit sequence: of its batch, what recovery reads (tickets,
//! agents, remembered requests, the policy and live counts; not the event log or the
//! archive), keys removed first (a NULL value), then records written, the order the commit
//! applies them in. It is one more statement in the commit's pipeline, so no round trip more,
//! and it commits or rolls back with the batch: a row exists for every commit and for nothing
//! else, so the sequences a follower reads have no gap unless the log was trimmed.
//!
//! The leader trims the log to the last `KEEP` commits, in the pipeline of one commit in
//! `TRIM_EVERY`. A follower that finds a gap (it fell behind what was trimmed, or a leader of
//! an older release wrote no rows) reloads every table instead: never a wrong state.

use super::super::codec::Batch;
use super::super::StoreError;
use super::conn::wait;
use super::schema::{table_for, AGENTS, META, REQUESTS, TICKETS, WEBHOOKS};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

/// Commits the log keeps: about 25 s of the busiest commit rate measured (3 ms a commit),
/// far more than a follower polling every `follower::POLL_EVERY` falls behind.
pub const KEEP: i64 = 8192;

/// One commit in this many also trims the log.
pub const TRIM_EVERY: u64 = 256;

/// The log's row for the commit in progress: the fence already bumped the sequence, in this
/// transaction, under the lease row's lock.
pub const LOG_SQL: &str = "INSERT INTO triage_changes (seq, keys, vals) \
     SELECT commit_seq, $1::bytea[], $2::bytea[] FROM triage_lease WHERE id = 1";

/// Deletes what is older than the last `KEEP` commits.
pub const TRIM_SQL: &str = "DELETE FROM triage_changes \
     WHERE seq <= (SELECT commit_seq FROM triage_lease WHERE id = 1) - $1";

/// The tables a follower keeps: what recovery reads.
pub const MIRRORED: [&str; 5] = [TICKETS, AGENTS, REQUESTS, META, WEBHOOKS];

/// Whether records of `table` go to the log.
fn mirrored(key: &[u8]) -> bool {
    MIRRORED.contains(&table_for(key.first().copied().unwrap_or(0)))
}

/// A batch's part that followers keep, as the log row's two arrays: keys, and their values
/// (`None`: removed).
pub struct Entries<'a> {
    pub keys: Vec<&'a [u8]>,
    pub values: Vec<Option<&'a [u8]>>,
}

/// The entries of `batch` a follower keeps, in the order the commit applies them.
pub fn entries(batch: &Batch) -> Entries<'_> {
    let removed = batch.removals.iter().map(|k| (k.as_slice(), None));
    let written = (batch.records.iter()).map(|(k, v)| (k.as_slice(), Some(v.as_slice())));
    let (keys, values) = removed.chain(written).filter(|(k, _)| mirrored(k)).unzip();
    Entries { keys, values }
}

/// One committed change as a follower reads it back.
pub struct Change {
    pub seq: i64,
    /// Keys with their new value, `None` when removed, in the order to apply them.
    pub entries: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// What one look at the log found.
pub struct Tail {
    /// The leader's commit sequence, read before the changes: every commit up to it is in
    /// `changes` unless the log was trimmed (or `changes` was cut at the limit).
    pub leader_seq: i64,
    /// The changes after the sequence asked for, in order, at most the limit asked for.
    pub changes: Vec<Change>,
    /// How long ago (by the database's clock) the first of them was committed.
    pub oldest_age: Option<f64>,
}

/// Up to `limit` changes after `after`, and the leader's sequence read just before them
/// (both sent at once: one round trip).
pub fn tail(client: &Client, after: i64, limit: i64) -> Result<Tail, StoreError> {
    let params: [&(dyn ToSql + Sync); 2] = [&after, &limit];
    let (seq, rows) = wait(async {
        futures::join!(
            client.query_one("SELECT commit_seq FROM triage_lease WHERE id = 1", &[]),
            client.query(
                "SELECT seq, keys, vals, extract(epoch FROM now() - committed_at)::float8 \
                   FROM triage_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                &params,
            ),
        )
    });
    let (leader_seq, rows) = (seq?.get(0), rows?);
    let oldest_age = rows.first().map(|r| r.get(3));
    let changes = rows
        .into_iter()
        .map(|row| {
            let keys: Vec<Vec<u8>> = row.get(1);
            let values: Vec<Option<Vec<u8>>> = row.get(2);
            Change {
                seq: row.get(0),
                entries: keys.into_iter().zip(values).collect(),
            }
        })
        .collect();
    Ok(Tail {
        leader_seq,
        changes,
        oldest_age,
    })
}
