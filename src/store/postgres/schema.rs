//! The tables, one per kind of record, and their versioned migrations. Every table keeps the
//! codec's whole key (kind byte first) and value, so the key ranges `SledStore` scans are the
//! same byte ranges here (`bytea` compares bytewise, as sled does) and one codec serves both
//! stores. Migrations run at open, all missing ones in one transaction under an advisory lock,
//! so two nodes starting together apply each once; a database migrated by a newer release is
//! refused rather than misread.

use super::super::codec;
use super::super::StoreError;
use tokio_postgres::Client;

/// Where each kind of record lives. Indexes of the archive are tables of their own, as the
/// codec already writes them as records, so a range read of an index is a range of one table.
pub const TICKETS: &str = "triage_tickets";
pub const AGENTS: &str = "triage_agents";
pub const REQUESTS: &str = "triage_requests";
/// Both kinds of event record: one-event `e` records of old releases and commit `E` records.
pub const EVENTS: &str = "triage_events";
pub const ARCHIVE: &str = "triage_archive";
pub const ARCHIVE_EXTERNAL: &str = "triage_archive_external";
pub const ARCHIVE_CUSTOMER: &str = "triage_archive_customer";
pub const ARCHIVE_TIME: &str = "triage_archive_time";
/// One-key records (policy, live counts, probe) and any kind this release does not name.
pub const META: &str = "triage_meta";
/// Webhooks: definitions and delivery cursors (migration 4).
pub const WEBHOOKS: &str = "triage_webhooks";

/// Every record table, in the order statements for a batch are sent.
pub const TABLES: [&str; 10] = [
    TICKETS,
    AGENTS,
    REQUESTS,
    EVENTS,
    ARCHIVE,
    ARCHIVE_EXTERNAL,
    ARCHIVE_CUSTOMER,
    ARCHIVE_TIME,
    META,
    WEBHOOKS,
];

/// The table holding records whose key starts with `kind`.
pub fn table_for(kind: u8) -> &'static str {
    match kind {
        codec::TICKET => TICKETS,
        codec::AGENT => AGENTS,
        codec::IDEMPOTENCY => REQUESTS,
        codec::EVENT | codec::EVENTS => EVENTS,
        codec::ARCHIVE => ARCHIVE,
        codec::ARCHIVE_EXTERNAL => ARCHIVE_EXTERNAL,
        codec::ARCHIVE_CUSTOMER => ARCHIVE_CUSTOMER,
        codec::ARCHIVE_TIME => ARCHIVE_TIME,
        codec::WEBHOOK => WEBHOOKS,
        _ => META,
    }
}

/// The SQLSTATE `triage_fence` raises when the caller's epoch is no longer the lease's.
pub const FENCED_SQLSTATE: &str = "TR001";

/// Migration 1: the record tables, the lease row and the fence every commit goes through.
const V1: &str = r#"
CREATE TABLE triage_lease (
    id          int PRIMARY KEY CHECK (id = 1),
    holder      text NOT NULL,
    epoch       bigint NOT NULL,
    expires_at  timestamptz NOT NULL,
    commit_seq  bigint NOT NULL
);
INSERT INTO triage_lease VALUES (1, '', 0, '-infinity', 0);
CREATE TABLE triage_tickets (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE triage_agents (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE triage_requests (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE triage_events (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE triage_archive (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE triage_archive_external (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE triage_archive_customer (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE triage_archive_time (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE triage_meta (key bytea PRIMARY KEY, value bytea NOT NULL);
CREATE FUNCTION triage_fence(mine bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE seq bigint;
BEGIN
    UPDATE triage_lease SET commit_seq = commit_seq + 1
        WHERE id = 1 AND epoch = mine RETURNING commit_seq INTO seq;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'triage: epoch % no longer holds the lease', mine
            USING ERRCODE = 'TR001';
    END IF;
    RETURN seq;
END $$;
"#;

/// Migration 2: the server process of the lease holder's writer connection and when the
/// holder last took or renewed the lease, so a node can tell at once that a killed leader is
/// gone (its session ends with it) instead of waiting for the lease to lapse, while a
/// session ended by a database restart (renewed before the server started) is not taken
/// for a dead leader. NULL (a holder of an older release): wait for the lapse.
const V2: &str = "ALTER TABLE triage_lease ADD COLUMN holder_pid integer, \
                  ADD COLUMN renewed_at timestamptz;";

/// Migration 3: the change log warm followers tail (see `changes`): one row per commit, the
/// records recovery reads that it removed (a NULL value) or wrote, and when it committed (for
/// the followers' lag in seconds).
const V3: &str = "CREATE TABLE triage_changes (
    seq          bigint PRIMARY KEY,
    committed_at timestamptz NOT NULL DEFAULT now(),
    keys         bytea[] NOT NULL,
    vals         bytea[] NOT NULL
);";

/// Migration 4: the webhooks, each one's definition and delivery cursor.
const V4: &str = "CREATE TABLE triage_webhooks (key bytea PRIMARY KEY, value bytea NOT NULL);";

/// Every migration, in order; a migration's version is its place in this list, from 1.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// The newest schema version this release knows.
pub fn known_version() -> i32 {
    MIGRATIONS.len() as i32
}

/// A key for `pg_advisory_xact_lock` that no other application is likely to pick: "triage"
/// in ASCII.
const MIGRATION_LOCK: i64 = 0x7472_6961_6765;

/// Brings the schema to `known_version`: applies what is missing in one transaction, after
/// taking the advisory lock (a second node starting at the same time waits, then finds
/// nothing to do). Refuses a database whose version is newer than this release knows.
pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS triage_schema_migrations (
             version int PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM triage_schema_migrations",
            &[],
        )
        .await?;
    let found: i32 = row.get(0);
    let known = known_version();
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (version, sql) in (found + 1..).zip(&MIGRATIONS[found as usize..]) {
        tracing::info!(version, "applying a schema migration");
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO triage_schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
