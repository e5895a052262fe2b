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

mod boot_lease;
mod changes;
mod commit;
mod conn;
mod lease;
mod mirror;
mod reads;
mod recover;
mod schema;
#[cfg(test)]
pub mod testdb;
#[cfg(test)]
mod tests;

pub use lease::LEASE_TTL;
pub use mirror::{Lag, Seed};
pub use schema::known_version;

use super::codec::{self, Batch};
use super::{Store, StoreError};
use crate::core::event::Recorded;
use crate::core::model::Ticket;
use crate::core::types::{TicketId, Ts};
use crate::core::{RecoverySink, Replica};
use boot_lease::BootRenewer;
use commit::Statements;
use conn::{Driver, Prepared};
use mirror::Mirror;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// How long a (re)open keeps trying to reach the database before it gives up.
const CONNECT_PATIENCE: Duration = Duration::from_secs(10);

pub struct PgStore {
    url: String,
    holder: String,
    ttl: Duration,
    open: RwLock<Option<Open>>,
    /// When the lease was last taken or renewed: a leader that cannot renew it for a whole
    /// TTL steps down (`keep_room`).
    renewed: Arc<Mutex<Instant>>,
    /// Renews the lease from when it is taken until the owner first does (`boot_lease`).
    booting: Mutex<Option<BootRenewer>>,
    /// The copy this node kept while it followed, until the first recovery takes it.
    warm: Mutex<Option<Mirror>>,
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

/// What a node that wants to lead finds: the lease (it leads), or another live holder.
pub enum Contest {
    Leader(Box<PgStore>),
    Follower(Box<Candidate>),
}

/// A node whose lease was held by another when it last tried: it keeps its connection to try
/// again cheaply (`try_lead`), to say who leads (`leader`), and to keep a scheduler in step
/// with the leader's commits (`keep_warm`), which the store it leads with hands to the boot.
pub struct Candidate {
    url: String,
    holder: String,
    ttl: Duration,
    writer: Client,
    mirror: Option<Mirror>,
    driver: Driver,
}

impl Candidate {
    /// The lease's holder: the leader's advertised address.
    pub fn leader(&self) -> Result<String, StoreError> {
        Ok(lease::current(&self.writer)?.0)
    }

    /// Brings this node's scheduler up to the leader's last commit (at `now`): restores it
    /// with `seed` from every table the first time, and again whenever the change log misses
    /// a commit it needs (trimmed while this node lagged, say) or a commit does not apply;
    /// else applies the commits since the last call. Returns how far behind the leader it was
    /// when this call looked (nothing after a load).
    pub fn keep_warm(&mut self, seed: &Seed, now: Ts) -> Result<Lag, StoreError> {
        if let Some(mirror) = &mut self.mirror {
            if let Some(lag) = mirror.catch_up(&self.writer, now)? {
                return Ok(lag);
            }
            tracing::warn!(
                seq = mirror.seq(),
                "the change log misses commits this follower needs, or one did not apply: \
                 loading every table again"
            );
        }
        self.mirror = None;
        let started = Instant::now();
        let mirror = Mirror::load(&mut self.writer, seed, now)?;
        tracing::info!(
            seq = mirror.seq(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "following: loaded a copy of the records to take over from"
        );
        self.mirror = Some(mirror);
        // As of the snapshot it read, the copy lacks nothing.
        Ok(Lag::default())
    }

    /// Takes the lease if it lapsed, or its holder's connection is gone; else stays a
    /// candidate.
    pub fn try_lead(self) -> Result<Contest, StoreError> {
        match lease::try_take(&self.writer, &self.holder, self.ttl)? {
            Some(epoch) => Ok(Contest::Leader(Box::new(PgStore::leading(self, epoch)?))),
            None => Ok(Contest::Follower(Box::new(self))),
        }
    }
}

impl PgStore {
    /// Connects to `url`, migrates the schema and takes the lease as this host (see
    /// `open_as`).
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        PgStore::open_as(url, &crate::config::hostname())
    }

    /// Connects as `holder`, brings the schema up to date, and takes the lease (default TTL):
    /// at once if it is free, lapsed or `holder`'s own (a restart on the same host), else
    /// after waiting for the other holder's lease to lapse (at most the TTL and a little
    /// more; then `LeaseHeld`). Every take starts a new epoch, which fences whoever wrote
    /// before.
    pub fn open_as(url: &str, holder: &str) -> Result<PgStore, StoreError> {
        let mut candidate = Candidate::connect(url, holder, LEASE_TTL)?;
        let patience = LEASE_TTL + Duration::from_secs(2);
        let epoch = lease::take(&candidate.writer, holder, LEASE_TTL, patience)?;
        candidate.ttl = LEASE_TTL;
        PgStore::leading(candidate, epoch)
    }

    /// Connects as `holder`, brings the schema up to date, and tries the lease once (`ttl`
    /// long): a node of several that finds another leading becomes a follower.
    pub fn contend(url: &str, holder: &str, ttl: Duration) -> Result<Contest, StoreError> {
        Candidate::connect(url, holder, ttl)?.try_lead()
    }

    /// The store of a candidate that just took the lease under `epoch`.
    fn leading(candidate: Candidate, epoch: i64) -> Result<PgStore, StoreError> {
        let Candidate {
            url,
            holder,
            ttl,
            writer,
            mirror,
            driver,
        } = candidate;
        tracing::info!(holder, epoch, "took the store's lease");
        let open = Open::with_writer(&driver, &url, writer, epoch)?;
        let renewed = Arc::new(Mutex::new(Instant::now()));
        let booting = BootRenewer::start(&driver, &url, epoch, ttl, renewed.clone());
        Ok(PgStore {
            url,
            holder,
            ttl,
            open: RwLock::new(Some(open)),
            renewed,
            booting: Mutex::new(Some(booting)),
            warm: Mutex::new(mirror),
            driver,
        })
    }

    /// The scheduler kept while following, brought to the end of the change log (this node
    /// holds the lease: nobody commits meanwhile) at `now`; `None` when there is none or the
    /// log misses commits since it, and the caller reads every table instead.
    fn warm_replica(&self, open: &Open, now: Ts) -> Result<Option<Replica>, StoreError> {
        let taken = self
            .warm
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(mut mirror) = taken else {
            return Ok(None);
        };
        let writer = open.writer();
        let from = mirror.seq();
        if mirror.catch_up(&writer, now)?.is_none() {
            tracing::warn!(
                seq = from,
                "the change log misses commits since this node's copy: reading every table"
            );
            return Ok(None);
        }
        tracing::info!(
            from,
            to = mirror.seq(),
            "recovering from the copy kept while following, caught up from the change log: \
             its scheduler, already built"
        );
        let mut replica = mirror.into_replica();
        replica.raise_last_ticket(recover::last_issued(&*writer)?);
        Ok(Some(replica))
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

    /// Whether a connection was lost (the database restarted, say): reads and renewals
    /// would fail until new ones are made.
    fn broken(&self) -> bool {
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        open.as_ref()
            .is_none_or(|o| o.writer().is_closed() || o.reader.is_closed())
    }

    /// Renews the lease; a failure for a whole TTL since the last renewal is the lease lost.
    fn renew(&self) -> Result<(), StoreError> {
        let renewed = self.with(|open| lease::renew(&open.writer(), open.epoch, self.ttl));
        let mut last = self.renewed.lock().unwrap_or_else(PoisonError::into_inner);
        match renewed {
            Ok(()) => {
                *last = Instant::now();
                Ok(())
            }
            Err(e @ StoreError::Fenced { .. }) => Err(e),
            Err(e) if last.elapsed() >= self.ttl => {
                tracing::warn!(error = %e, "the lease could not be renewed for a whole TTL");
                Err(StoreError::LeaseLapsed { ttl: self.ttl })
            }
            Err(e) => Err(e),
        }
    }
}

impl Candidate {
    /// A connection (retried while the database restarts) with the schema brought up to
    /// date.
    fn connect(url: &str, holder: &str, ttl: Duration) -> Result<Candidate, StoreError> {
        let driver = Driver::new()?;
        let mut writer = connect_patiently(&driver, url)?;
        conn::wait(schema::migrate(&mut writer))?;
        Ok(Candidate {
            url: url.to_owned(),
            holder: holder.to_owned(),
            ttl,
            writer,
            mirror: None,
            driver,
        })
    }
}

impl Open {
    /// A writer that holds the lease under `epoch`, with its statements and a reader.
    fn with_writer(
        driver: &Driver,
        url: &str,
        writer: Client,
        epoch: i64,
    ) -> Result<Open, StoreError> {
        let statements = Statements::prepare(&writer)?;
        let reader = Prepared::new(driver.connect(url)?);
        Ok(Open {
            writer: Mutex::new(writer),
            reader,
            statements,
            epoch,
        })
    }

    /// New connections for `holder`, which takes its lease back only if nobody else took it
    /// meanwhile (`LeaseHeld` at once otherwise: it was superseded).
    fn reconnect(
        driver: &Driver,
        url: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Open, StoreError> {
        let writer = connect_patiently(driver, url)?;
        let epoch = lease::take(&writer, holder, ttl, Duration::ZERO)?;
        tracing::info!(
            holder,
            epoch,
            "reconnected to PostgreSQL and took the lease back"
        );
        Open::with_writer(driver, url, writer, epoch)
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

impl Store for PgStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn recover_into(&self, sink: &mut dyn RecoverySink) -> Result<(), StoreError> {
        self.with(|open| recover::recover_into(&mut open.writer(), sink))
    }

    /// The scheduler kept while following, at the first recovery after a takeover.
    fn take_replica(&self, now: Ts) -> Result<Option<Replica>, StoreError> {
        self.with(|open| self.warm_replica(open, now))
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
    /// takes the lease again, with a new epoch, if nobody else took it meanwhile (else
    /// `LeaseHeld`: this node was superseded): recovery then reads what is committed.
    fn reopen(&self) -> Result<(), StoreError> {
        drop(
            self.warm
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let mut open = self.open.write().unwrap_or_else(PoisonError::into_inner);
        drop(open.take());
        let reopened = Open::reconnect(&self.driver, &self.url, &self.holder, self.ttl)?;
        *open = Some(reopened);
        *self.renewed.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
        Ok(())
    }

    /// Renews the lease (the owner calls this about once a second), first making new
    /// connections if one was lost: after a database restart with no write to notice it,
    /// reads and renewals work again within a second. Taking the lease back needs it still
    /// in this node's name, so nobody committed meanwhile and memory still matches the
    /// tables.
    fn keep_room(&self) -> Result<(), StoreError> {
        drop(
            self.booting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if self.broken() {
            self.reopen()?;
        }
        self.renew()
    }
}

/// A store closed in order gives its lease up, so another node need not wait for it to lapse.
impl Drop for PgStore {
    fn drop(&mut self) {
        // First, so it renews nothing after the release below.
        drop(
            self.booting
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let open = self.open.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = open.take() {
            if let Err(e) = lease::release(&open.writer(), open.epoch) {
                tracing::debug!(error = %e, "the lease was not released: it lapses by itself");
            }
        }
    }
}
