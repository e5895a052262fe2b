//! Persistence. The owner task hands the store one `Batch` per group commit; the store writes
//! it atomically and returns only once it is durable. At boot `recover_into` streams every record
//! recovery needs into `Scheduler::restoring`.
//!
//! The trait is small on purpose: sled is the embedded default, PostgreSQL (`postgres`) the
//! store several nodes can share, and tests put other things behind it.

mod cache;
pub mod codec;
mod known_external;
pub mod postgres;
pub mod replicate;
mod retention;
mod sled_store;
#[cfg(test)]
pub(crate) mod tests;
mod wal;

pub use cache::default_cache_bytes;
pub use codec::{Batch, LiveCounts};
pub use known_external::KnownExternal;
pub use postgres::{Candidate, Contest, PgStore, Seed};
pub use retention::EventPrune;
pub use sled_store::{SledStore, RESERVE_BYTES, RESERVE_FILE};
pub use wal::{WAL_BYTES, WAL_FILE};

use crate::core::event::Recorded;
use crate::core::model::Ticket;
use crate::core::scheduler::{Recovered, RecoverySink, RestoreError};
use crate::core::types::{TicketId, Ts};
use crate::core::Replica;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage I/O failed: {0}")]
    Io(#[from] sled::Error),
    #[error("the store is closed: opening it again after a failed write failed")]
    Closed,
    #[error(
        "cannot write {RESERVE_FILE} ({mib} MiB) in the data dir, the room the store needs to \
         recover if the disk fills: {source}",
        mib = .bytes >> 20
    )]
    Reserve {
        bytes: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("record {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
    /// The records read back do not make a consistent scheduler.
    #[error("the stored records are inconsistent: {0}")]
    Restore(#[from] RestoreError),
    /// Another process holds sled's lock on the directory (`pid` when the OS tells).
    #[error("another triage process owns {} ({})", .dir.display(), .pid.map_or("pid unknown".into(), |p| format!("pid {p}")))]
    Locked {
        dir: std::path::PathBuf,
        pid: Option<u32>,
    },
    /// PostgreSQL refused, failed or was unreachable (the server's own message included).
    #[error("PostgreSQL: {}", pg_detail(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// Another node took the lease since this one did: nothing of the batch was written.
    #[error(
        "this node's lease (epoch {epoch}) was taken over by another node: it may not write, \
         and nothing of this batch was written"
    )]
    Fenced { epoch: i64 },
    /// Another node's lease was still live when this one gave up waiting for it.
    #[error(
        "another node ({holder:?}) holds the store's lease for {}s more: it leads (or a \
         stopped node's lease has yet to lapse)",
        .expires_in.as_secs()
    )]
    LeaseHeld {
        holder: String,
        expires_in: std::time::Duration,
    },
    /// The leader could not renew its lease for a whole TTL: another node may lead by now.
    #[error("this node could not renew its lease for {}s (its TTL): another node may lead now", .ttl.as_secs())]
    LeaseLapsed { ttl: std::time::Duration },
    /// The database was migrated by a newer release.
    #[error(
        "the database's schema is version {found}, newer than this release knows ({known}): \
         run a release that knows it"
    )]
    SchemaTooNew { found: i32, known: i32 },
    #[error("cannot start the PostgreSQL store's runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// A PostgreSQL error with the server's message when there is one (`tokio_postgres::Error`
/// alone says only "db error").
fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{e}: {db}"),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl StoreError {
    /// Whether this says another node leads now (or may): a leader hearing it steps down.
    pub fn superseded(&self) -> bool {
        matches!(
            self,
            StoreError::Fenced { .. }
                | StoreError::LeaseHeld { .. }
                | StoreError::LeaseLapsed { .. }
        )
    }
}

pub trait Store: Send + Sync + 'static {
    /// Which implementation this is, for metrics labels ("sled", "postgres").
    fn name(&self) -> &'static str;
    /// Streams every record recovery needs into `sink`, in the order `RecoverySink` states:
    /// the policy, agents, the tickets in memory when it was written (not the archive) by
    /// ascending id, the remembered requests (one by one or indexed whole, anywhere between
    /// the counts hint and the last id), and the highest ticket id issued. A record the sink refuses ends the walk with `StoreError::Restore`.
    fn recover_into(&self, sink: &mut dyn RecoverySink) -> Result<(), StoreError>;
    /// Every record `recover_into` reads, collected in memory: for tests and tools (a boot
    /// streams them instead).
    fn load_all(&self) -> Result<Recovered, StoreError> {
        let mut records = Recovered::default();
        self.recover_into(&mut records)?;
        Ok(records)
    }
    /// A scheduler already built from every record, when the store kept one (a warm
    /// follower that just took over, see `postgres::mirror`), brought to `now`: the boot then
    /// takes it instead of `recover_into`. Once only; `None` by default.
    fn take_replica(&self, _now: Ts) -> Result<Option<Replica>, StoreError> {
        Ok(None)
    }
    /// The archived ticket `id`, if the archive holds it.
    fn archived_ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError>;
    /// The archived ticket created with `external_id`, if the archive holds one.
    fn archived_external(&self, external_id: &str) -> Result<Option<TicketId>, StoreError>;
    /// The archived tickets created with any of `external_ids`, as (external id, ticket id):
    /// `archived_external` for many at once, which a store across a network answers in one
    /// round trip.
    fn archived_externals(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<(String, TicketId)>, StoreError> {
        let mut found = Vec::new();
        for external_id in external_ids {
            if let Some(id) = self.archived_external(external_id)? {
                found.push((external_id.clone(), id));
            }
        }
        Ok(found)
    }
    /// Up to `max` archived tickets with ids above `after` (all for `None`), in id order.
    fn scan_archive(&self, after: Option<TicketId>, max: usize) -> Result<Vec<Ticket>, StoreError>;
    /// Up to `max` ids of archived tickets of `customer_id` above `after`, in id order.
    fn customer_tickets(
        &self,
        customer_id: &str,
        after: Option<TicketId>,
        max: usize,
    ) -> Result<Vec<TicketId>, StoreError>;
    /// Every archived ticket archived at or after `since`, oldest first (through the time
    /// index): what recovery counts in the service-level window.
    fn archived_since(&self, since: Ts) -> Result<Vec<Ticket>, StoreError>;
    /// Writes the batch atomically (all or nothing) and durably: on `Ok` it is on disk.
    fn commit(&self, batch: Batch) -> Result<(), StoreError>;
    /// The highest event sequence written, 0 if none.
    fn last_event_seq(&self) -> Result<u64, StoreError>;
    /// Up to `limit` retained events with sequence >= `from`, in order.
    fn read_events(&self, from: u64, limit: usize) -> Result<Vec<Recorded>, StoreError>;
    /// Deletes up to `limit` of the oldest events that have sequence < `keep_from` or were
    /// recorded before `older_than`, never the newest event (numbering continues from it after
    /// a restart, so a sequence is never given twice); returns the lowest sequence still retained (or
    /// `u64::MAX` when none is). Deletions need not be durable at once: a pruned event that
    /// comes back after a crash is only kept longer.
    fn prune_events(&self, keep_from: u64, older_than: Ts, limit: usize)
        -> Result<u64, StoreError>;
    /// Deletes up to `limit` of the oldest archived tickets archived before `older_than`, with
    /// their index entries, never the one with the highest id (numbering continues from it
    /// after a restart); returns how many it deleted. As with events, the deletions need not
    /// be durable at once.
    fn prune_archive(&self, older_than: Ts, limit: usize) -> Result<usize, StoreError>;
    /// Writes and flushes a record no recovery reads: whether durable writes work (again).
    fn probe(&self, at: Ts) -> Result<(), StoreError>;
    /// After a failed commit: lets go of whatever the store holds in memory and opens it
    /// again, so that `recover_into` then reads exactly what is durable. Must work on a full disk.
    fn reopen(&self) -> Result<(), StoreError>;
    /// Keeps (grows) whatever room `reopen` will need on a full disk (sled), or renews the
    /// lease (PostgreSQL); called about once a second while writes work.
    fn keep_room(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
