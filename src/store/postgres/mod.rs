//! The PostgreSQL implementation of `Store`, for several nodes sharing one database (issue
//! 16). Records are the codec's, in one table per kind (`schema`); each group commit is one
//! fenced transaction sent as one pipeline (`commit`); leadership is a lease row whose epoch
//! every commit checks (`lease`); a boot streams the tables in pages (`recover`).
//!
//! Two connections: the writer, which the owner alone uses (commits, recovery, prunes, the
//! lease), and the reader, shared by the reads other threads make (event history, the
//! archive), so that no read runs inside a commit's transaction or waits behind it.
//! `tokio-postgres` pipelines what is sent on one connection, and its connections are driven by
//! the store's own runtime (`conn`).

mod commit;
mod conn;
mod lease;
mod reads;
mod recover;
mod schema;
#[cfg(test)]
pub mod testdb;
#[cfg(test)]
mod tests;

pub use lease::LEASE_TTL;
pub use schema::known_version;

use super::codec::{self, Batch};
use super::{Store, StoreError};
use crate::core::event::Recorded;
use crate::core::model::Ticket;
use crate::core::types::{TicketId, Ts};
use crate::core::RecoverySink;
use commit::Statements;
use conn::{Driver, Prepared};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// How long a (re)open keeps trying to reach the database before it gives up.
const CONNECT_PATIENCE: Duration = Duration::from_secs(10);

pub struct PgStore {
    url: String,
    holder: String,
    open: RwLock<Option<Open>>,
    /// Declared last: dropped after the connections it drives.
    driver: Driver,
}

/// One pair of connections and the lease they write under.
struct Open {
    writer: Mutex<Client>,
    reader: Prepared,
    statements: Statements,
    epoch: i64,
}

impl PgStore {
    /// Connects to `url`, migrates the schema and takes the lease as this host (see
    /// `open_as`).
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open_as(url, &default_holder())
    }

    /// Connects as `holder`, brings the schema up to date, and takes the lease: at once if it
    /// is free, lapsed or `holder`'s own (a restart on the same host), else after waiting for
    /// the other holder's lease to lapse (at most `LEASE_TTL` and a little more; then
    /// `LeaseHeld`). Every take starts a new epoch, which fences whoever wrote before.
    pub fn open_as(url: &str, holder: &str) -> Result<PgStore, StoreError> {
        let driver = Driver::new()?;
        let open = Open::connect(&driver, url, holder, true)?;
        Ok(PgStore {
            url: url.to_owned(),
            holder: holder.to_owned(),
            open: RwLock::new(Some(open)),
            driver,
        })
    }

    /// The epoch this store writes under.
    pub fn epoch(&self) -> Result<i64, StoreError> {
        self.with(|open| Ok(open.epoch))
    }

    fn with<T>(&self, f: impl FnOnce(&Open) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        f(open.as_ref().ok_or(StoreError::Closed)?)
    }

    /// Deletes `keys` through the commit path (fenced and atomic).
    fn delete(&self, keys: Vec<Vec<u8>>) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.commit(Batch {
            removals: keys,
            records: Vec::new(),
        })
    }
}

impl Open {
    fn connect(
        driver: &Driver,
        url: &str,
        holder: &str,
        migrate: bool,
    ) -> Result<Open, StoreError> {
        let mut writer = connect_patiently(driver, url)?;
        if migrate {
            conn::wait(schema::migrate(&mut writer))?;
        }
        let epoch = lease::take(&writer, holder, LEASE_TTL + Duration::from_secs(2))?;
        tracing::info!(holder, epoch, "took the store's lease");
        let statements = Statements::prepare(&writer)?;
        let reader = Prepared::new(driver.connect(url)?);
        Ok(Open {
            writer: Mutex::new(writer),
            reader,
            statements,
            epoch,
        })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Client> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A connection, retried for up to `CONNECT_PATIENCE` (the database may be restarting).
fn connect_patiently(driver: &Driver, url: &str) -> Result<Client, StoreError> {
    let started = Instant::now();
    loop {
        match driver.connect(url) {
            Err(StoreError::Postgres(e)) if started.elapsed() < CONNECT_PATIENCE => {
                tracing::debug!(error = %e, "PostgreSQL unreachable: retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
            connected => return connected,
        }
    }
}

/// The lease holder's name: this host's, so a node restarted on the same host takes its
/// lease back at once (with a new epoch, which fences its dead predecessor).
fn default_holder() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "triage".into())
}

impl Store for PgStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn recover_into(&self, sink: &mut dyn RecoverySink) -> Result<(), StoreError> {
        self.with(|open| recover::recover_into(&mut open.writer(), sink))
    }

    fn archived_ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
        self.with(|open| reads::archived_ticket(&open.reader, id))
    }

    fn archived_external(&self, external_id: &str) -> Result<Option<TicketId>, StoreError> {
        self.with(|open| reads::archived_external(&open.reader, external_id))
    }

    fn archived_externals(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<(String, TicketId)>, StoreError> {
        self.with(|open| reads::archived_externals(&open.reader, external_ids))
    }

    fn scan_archive(&self, after: Option<TicketId>, max: usize) -> Result<Vec<Ticket>, StoreError> {
        self.with(|open| reads::scan_archive(&open.reader, after, max))
    }

    fn customer_tickets(
        &self,
        customer_id: &str,
        after: Option<TicketId>,
        max: usize,
    ) -> Result<Vec<TicketId>, StoreError> {
        self.with(|open| reads::customer_tickets(&open.reader, customer_id, after, max))
    }

    fn archived_since(&self, since: Ts) -> Result<Vec<Ticket>, StoreError> {
        self.with(|open| reads::archived_since(&open.reader, since))
    }

    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.with(|open| {
            let writer = open.writer();
            commit::commit(&writer, &open.statements, open.epoch, &batch).map(|_| ())
        })
    }

    fn last_event_seq(&self) -> Result<u64, StoreError> {
        self.with(|open| reads::last_event_seq(&open.reader))
    }

    fn read_events(&self, from: u64, limit: usize) -> Result<Vec<Recorded>, StoreError> {
        self.with(|open| reads::read_events(&open.reader, from, limit))
    }

    fn prune_events(
        &self,
        keep_from: u64,
        older_than: Ts,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let (doomed, kept_from) =
            self.with(|open| reads::doomed_events(&open.reader, keep_from, older_than, limit))?;
        self.delete(doomed)?;
        Ok(kept_from)
    }

    fn prune_archive(&self, older_than: Ts, limit: usize) -> Result<usize, StoreError> {
        let (doomed, pruned) =
            self.with(|open| reads::doomed_archive(&open.reader, older_than, limit))?;
        self.delete(doomed)?;
        Ok(pruned)
    }

    /// A write of the probe record through the commit path: the database is reachable and
    /// this node still holds the lease.
    fn probe(&self, at: Ts) -> Result<(), StoreError> {
        self.commit(Batch {
            removals: Vec::new(),
            records: vec![(vec![codec::PROBE], at.0.to_be_bytes().to_vec())],
        })
    }

    /// Drops both connections and makes new ones (retried while the database restarts), and
    /// takes the lease again, with a new epoch: recovery then reads what is committed.
    fn reopen(&self) -> Result<(), StoreError> {
        let mut open = self.open.write().unwrap_or_else(PoisonError::into_inner);
        drop(open.take());
        *open = Some(Open::connect(&self.driver, &self.url, &self.holder, false)?);
        Ok(())
    }

    /// Renews the lease (the owner calls this about once a second).
    fn keep_room(&self) -> Result<(), StoreError> {
        self.with(|open| lease::renew(&open.writer(), open.epoch))
    }
}

/// A store closed in order gives its lease up, so another node need not wait for it to lapse.
impl Drop for PgStore {
    fn drop(&mut self) {
        let open = self.open.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = open.take() {
            if let Err(e) = lease::release(&open.writer(), open.epoch) {
                tracing::debug!(error = %e, "the lease was not released: it lapses by itself");
            }
        }
    }
}
