//! The sled implementation of `Store`: one tree, records under kind-prefixed keys. Each group
//! commit is one frame of the write-ahead log (`wal`: atomic, and durable after one
//! `fdatasync`), then applied to sled, which writes it out in the background; a checkpoint
//! (sled's flush and `fdatasync`) lets the log start over once it is full and when the store
//! closes.

use super::codec::{
    self, Batch, LiveCounts, AGENT, ARCHIVE, ARCHIVE_EXTERNAL, ARCHIVE_TIME, COUNTS, EVENT, EVENTS,
    IDEMPOTENCY, POLICY, TICKET,
};
use super::wal::Wal;
use super::{EventPrune, KnownExternal, Store, StoreError};
use crate::core::event::Recorded;
use crate::core::idempotency::Requests;
use crate::core::model::{Agent, Ticket};
use crate::core::types::{TicketId, Ts};
use crate::core::{RecoverySink, Shares};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

pub struct SledStore {
    dir: PathBuf,
    cache_bytes: u64,
    /// `None` only between dropping a failed sled instance and opening it again. Shared
    /// (weakly) with the thread that builds `known`.
    open: Arc<RwLock<Option<Open>>>,
    /// The archive's external ids, built in the background from the first lookup on (a
    /// create's archive check reads sled only when the filter says the id may be there).
    known: Arc<KnownExternal>,
}

/// One open sled instance and its write-ahead log.
struct Open {
    db: sled::Db,
    /// sled's log file, opened again to `fdatasync` it after each flush (see `durable`).
    log: std::fs::File,
    /// The write-ahead log, holding every commit since sled's last checkpoint.
    wal: Mutex<Wal>,
}

/// The least room kept in the data directory, as a file, while writes work (it is
/// grown as the store grows, see `Store::keep_room`): what
/// sled needs to open the directory again after a write failed because the disk was full.
/// Its recovery writes a new snapshot (about 8 bytes per ticket: 1.7 MB for 200,000) and
/// zeroes the rest of the log's last segment (512 KiB at most), so the reserve is twice the
/// newest snapshot and 2 MiB more when that is larger (see `reserve_bytes`).
pub const RESERVE_BYTES: u64 = 4 << 20;

/// The reserve's file name inside the data directory.
pub const RESERVE_FILE: &str = "triage.reserve";

impl SledStore {
    /// Opens (or creates) the data directory. sled takes an exclusive lock on it, so a second
    /// daemon on the same directory fails here instead of corrupting it.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        SledStore::open_with_cache(dir, super::default_cache_bytes())
    }

    /// Opens with a page cache of `cache_bytes`. The scheduler keeps every open ticket in its
    /// own memory and reads the store only at boot and for event history, so the cache
    /// mostly holds pages being written; a smaller one bounds memory on a store much bigger
    /// than RAM.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        let open = Open::when_unlocked(dir, cache_bytes)?;
        if let Err(e) = reserve_room(dir) {
            tracing::warn!(error = %e, "the reserve is short: if the disk fills, the daemon may stop instead of serving reads");
        }
        Ok(SledStore {
            dir: dir.to_path_buf(),
            cache_bytes,
            open: Arc::new(RwLock::new(Some(open))),
            known: Arc::default(),
        })
    }

    /// The open instance, for one operation.
    fn with<T>(&self, f: impl FnOnce(&Open) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        f(open.as_ref().ok_or(StoreError::Closed)?)
    }

    /// Starts building the filter of the archive's external ids on a thread of its own,
    /// unless it is built or being built: at the first lookup, so that it does not compete
    /// with a boot's recovery for the cores. The thread reads the index in chunks, each under
    /// the read lock for a moment, and holds the instance only weakly in between: a reopen
    /// (or dropping the store) is never kept waiting for the whole walk.
    fn build_known(&self) {
        if !self.known.begin() {
            return;
        }
        let (open, known) = (Arc::downgrade(&self.open), Arc::clone(&self.known));
        let walk = move || {
            let (started, mut ids) = (std::time::Instant::now(), 0_u64);
            match known.build(external_ids(open).inspect(|_| ids += 1)) {
                Ok(()) => tracing::debug!(
                    ids,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "the archive's external ids are in the filter"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the archive's external ids: creates look each one up")
                }
            }
        };
        let spawned = std::thread::Builder::new()
            .name("triage-known-ids".into())
            .spawn(walk);
        if spawned.is_err() {
            self.known.abandon();
        }
    }

    /// Bytes on disk, for operators.
    pub fn size_on_disk(&self) -> u64 {
        self.with(|open| Ok(open.db.size_on_disk()?)).unwrap_or(0)
    }
}

impl Open {
    /// Opens `dir`, waiting up to about a second for its lock. An instance this process
    /// dropped (after a failed write, or in a test) may hold its files, and so the lock, a
    /// moment longer in sled's background threads; another process holding it still fails
    /// here, a second later.
    fn when_unlocked(dir: &Path, cache_bytes: u64) -> Result<Open, StoreError> {
        for _ in 0..40 {
            match Open::new(dir, cache_bytes) {
                Err(StoreError::Locked { .. }) => {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                opened => return opened,
            }
        }
        Open::new(dir, cache_bytes)
    }

    fn new(dir: &Path, cache_bytes: u64) -> Result<Open, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|e| locked(dir, e))?;
        let log = std::fs::File::open(dir.join("db")).map_err(sled::Error::Io)?;
        let (wal, unsettled) = Wal::open(dir).map_err(sled::Error::Io)?;
        let open = Open {
            db,
            log,
            wal: Mutex::new(wal),
        };
        if !unsettled.is_empty() {
            tracing::info!(
                commits = unsettled.len(),
                "applying the commits the write-ahead log holds beyond sled's last checkpoint"
            );
            for batch in unsettled {
                open.apply(batch)?;
            }
            open.checkpoint(&mut open.wal())?;
        }
        Ok(open)
    }

    fn wal(&self) -> std::sync::MutexGuard<'_, Wal> {
        self.wal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `batch` into sled (its memory; its flusher writes it out). Deletions first, as
    /// `Batch` says. Not atomic on its own: the log's frame is what makes it so.
    fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        for k in batch.removals {
            self.db.remove(k)?;
        }
        for (k, v) in batch.records {
            self.db.insert(k, v)?;
        }
        Ok(())
    }

    /// Makes everything applied to sled durable there, then lets the log start over.
    fn checkpoint(&self, wal: &mut Wal) -> Result<(), StoreError> {
        self.durable()?;
        wal.checkpoint().map_err(sled::Error::Io)?;
        Ok(())
    }

    /// Makes everything written so far survive power loss, not only a crash of the process.
    /// sled 0.34's `flush` ends on Linux with `sync_file_range`, which waits for the page
    /// cache to reach the device but neither syncs the file's metadata nor flushes the
    /// device's volatile write cache; `fdatasync` on the same file (any descriptor of it will
    /// do) does both.
    fn durable(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.log.sync_data().map_err(sled::Error::Io)?;
        Ok(())
    }

    /// `read_records`, decoding with `shares` in effect when there are any (see
    /// `Shares::decoding`); returns them.
    fn read_records_sharing(
        &self,
        kinds: &[u8],
        tx: SyncSender<Result<Vec<Record>, StoreError>>,
        shares: Option<Shares>,
    ) -> Option<Shares> {
        match shares {
            Some(shares) => Some(shares.decoding(|| self.read_records(kinds, tx)).0),
            None => {
                self.read_records(kinds, tx);
                None
            }
        }
    }

    /// The records under each of `kinds` in turn (each in key order), decoded, in batches
    /// through `tx`; a failure is sent as the last message. Stops early when the receiver is
    /// gone.
    fn read_records(&self, kinds: &[u8], tx: SyncSender<Result<Vec<Record>, StoreError>>) {
        let mut batch = Vec::with_capacity(RECORD_BATCH);
        let read = (|| {
            for entry in kinds.iter().flat_map(|&kind| self.db.scan_prefix([kind])) {
                let (k, v) = entry?;
                batch.push(match k.first() {
                    Some(&AGENT) => Record::Agent(codec::decode(&k, &v)?),
                    _ => Record::Ticket(codec::decode(&k, &v)?),
                });
                if batch.len() == RECORD_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(RECORD_BATCH));
                    tx.send(Ok(full)).map_err(|_| StoreError::Closed)?;
                }
            }
            Ok(())
        })();
        // A send that fails means the receiver stopped: nobody is left to tell.
        let _ = tx.send(read.map(|()| batch));
    }

    /// Every remembered request, indexed here (on the caller's thread: recovery runs it beside
    /// the tickets' rebuild); stops early, with what it has, once `stop` is set.
    fn read_requests(&self, hint: usize, stop: &AtomicBool) -> Result<Requests, StoreError> {
        let mut requests = Requests::default();
        requests.reserve(hint);
        for (n, entry) in self.db.scan_prefix([IDEMPOTENCY]).enumerate() {
            if n % RECORD_BATCH == 0 && stop.load(Ordering::Relaxed) {
                break;
            }
            let (k, v) = entry?;
            let entry = codec::decode_idempotency(&k, &v)?;
            requests.insert(&String::from_utf8_lossy(&k[1..]), entry);
        }
        Ok(requests)
    }

    /// The id in the last key of `kind` (big-endian after the kind byte), 0 if none.
    fn last_id(&self, kind: u8) -> Result<u64, StoreError> {
        match self.db.scan_prefix([kind]).next_back() {
            Some(entry) => {
                let (k, _) = entry?;
                codec::id_of(&k, &k[1..])
            }
            None => Ok(0),
        }
    }
}

/// The external ids in the archive's index, read `KNOWN_CHUNK` keys at a time; ends early
/// (with `Closed`) once the store is gone.
fn external_ids(
    open: Weak<RwLock<Option<Open>>>,
) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> {
    // Where the next chunk starts: the index's first key, then past the last one read.
    let mut from = std::ops::Bound::Included(vec![ARCHIVE_EXTERNAL]);
    let mut chunk = std::collections::VecDeque::new();
    let mut done = false;
    std::iter::from_fn(move || {
        if chunk.is_empty() && !done {
            let mut read = || -> Result<(), StoreError> {
                let open = open.upgrade().ok_or(StoreError::Closed)?;
                let open = open.read().unwrap_or_else(PoisonError::into_inner);
                let db = &open.as_ref().ok_or(StoreError::Closed)?.db;
                let range = (from.as_ref().map(Vec::as_slice), std::ops::Bound::Unbounded);
                for key in db.range::<&[u8], _>(range).keys() {
                    let key = key?;
                    if key.first() != Some(&ARCHIVE_EXTERNAL) || chunk.len() == KNOWN_CHUNK {
                        break;
                    }
                    chunk.push_back(key[1..].to_vec());
                }
                done = chunk.len() < KNOWN_CHUNK;
                if let Some(last) = chunk.back() {
                    from = std::ops::Bound::Excluded([&[ARCHIVE_EXTERNAL][..], last].concat());
                }
                Ok(())
            };
            if let Err(e) = read() {
                done = true;
                return Some(Err(e));
            }
        }
        chunk.pop_front().map(Ok)
    })
}

/// Keys the filter's walk reads under one hold of the read lock (a millisecond or two); a
/// handful in tests, so that they walk across chunks.
const KNOWN_CHUNK: usize = if cfg!(test) { 7 } else { 4096 };

/// A record `recover_into` hands on, decoded by its reading thread. Tickets are nearly all
/// of them, so they are not boxed: that would cost an allocation per ticket to save room
/// only in the rare other records.
#[allow(clippy::large_enum_variant)]
enum Record {
    Agent(Agent),
    Ticket(Ticket),
}

/// Records per message from the reading thread: enough that the channel costs nothing per
/// record.
const RECORD_BATCH: usize = 1024;

/// The most requests recovery reserves room for on a hint (the hint is read from the store:
/// a damaged one must not reserve the machine's memory).
const MOST_REQUESTS_RESERVED: usize = 1 << 24;

/// Batches decoded ahead of the sink at most: the reader never runs far ahead of it.
const BATCHES_IN_FLIGHT: usize = 4;

/// How big the reserve should be: `RESERVE_BYTES`, or twice sled's newest snapshot and 2 MiB
/// more, in whole MiB.
fn reserve_bytes(dir: &Path) -> u64 {
    let snapshot = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("snap.") && !name.ends_with(".generating")
        })
        .filter_map(|entry| entry.metadata().ok().map(|m| m.len()))
        .max()
        .unwrap_or(0);
    let wanted = (2 << 20) + 2 * snapshot;
    wanted.div_ceil(1 << 20).max(RESERVE_BYTES >> 20) << 20
}

/// Grows the reserve file (synced) to `reserve_bytes` unless it is that big already. Bytes
/// are written, not a sparse length, so the file really holds the blocks, and they are not
/// zeros, which a compressing file system (ZFS, btrfs) would store in no room at all. What
/// was written stays if the disk fills on the way.
fn reserve_room(dir: &Path) -> Result<(), StoreError> {
    let (path, bytes) = (dir.join(RESERVE_FILE), reserve_bytes(dir));
    let have = std::fs::metadata(&path).map_or(0, |m| m.len());
    if have >= bytes {
        return Ok(());
    }
    let grown = (|| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let filler = incompressible(1 << 20);
        let mut missing = bytes - have;
        while missing > 0 {
            let n = missing.min(filler.len() as u64);
            file.write_all(&filler[..n as usize])?;
            missing -= n;
        }
        file.sync_all()
    })();
    grown.map_err(|source| StoreError::Reserve { bytes, source })
}

/// `len` bytes of a fixed xorshift sequence: no compressor finds anything to save in them.
fn incompressible(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// sled's failure to take its lock (`could not acquire lock on ...: WouldBlock`, an `Other` I/O
/// error in sled 0.34) as `StoreError::Locked`, naming the holder's pid when `/proc/locks` does;
/// any other error as it is.
fn locked(dir: &Path, error: sled::Error) -> StoreError {
    match &error {
        sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock") => {
            StoreError::Locked {
                dir: dir.to_path_buf(),
                pid: lock_holder(&dir.join("db")),
            }
        }
        _ => StoreError::Io(error),
    }
}

/// The pid of the process holding a lock on `file`, from Linux's `/proc/locks` (lines like
/// `1: FLOCK  ADVISORY  WRITE 4242 fe:00:5693926 0 EOF`, the file as `major:minor:inode`).
/// `None` off Linux, when the holder is outside our pid namespace (shown as 0), or on any
/// surprise.
fn lock_holder(file: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(file).ok()?;
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let id = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // Waiters are listed as "N: -> FLOCK ..."; only holders name the owner.
        let at = fields.iter().position(|f| *f == id)?;
        if fields.get(1) == Some(&"->") || at == 0 {
            return None;
        }
        fields[at - 1].parse().ok().filter(|pid| *pid != 0)
    })
}

/// A store closed in order leaves its log empty, so the next open applies nothing again (and
/// an older triage, which knows no log, misses nothing). A failed instance is left as it is:
/// the next open applies its log.
impl Drop for Open {
    fn drop(&mut self) {
        let mut wal = self.wal();
        if !wal.is_empty() {
            if let Err(e) = self.checkpoint(&mut wal) {
                tracing::debug!(error = %e, "no checkpoint at close: the next open applies the log");
            }
        }
    }
}

impl Store for SledStore {
    fn name(&self) -> &'static str {
        "sled"
    }

    /// Reading and rebuilding overlap: two threads walk sled and decode (`read_records`), one
    /// the agents then the tickets, the other the remembered requests, while this one hands
    /// each record to the sink as it arrives, so a boot takes about the longest of the three
    /// jobs rather than their sum. With one reader the requests came last, and the rebuild
    /// (cheap per request) waited for sled (dear per record) through all of them, after the
    /// reader had waited for the rebuild through the tickets. At most `BATCHES_IN_FLIGHT`
    /// batches of `RECORD_BATCH` records wait between them: nothing but the sink holds what
    /// was read. Each scan is in key order, so agents come before tickets and tickets by
    /// ascending id; requests come interleaved with both. A record the sink refuses stops the
    /// readers. The tickets' reader also interns their customer ids and skill sets as it
    /// decodes them, with the interners the sink lends (`lend_shares`, given back with
    /// `adopt_shares`, also when reading fails), so the rebuild does not.
    fn recover_into(&self, sink: &mut dyn RecoverySink) -> Result<(), StoreError> {
        self.with(|open| {
            // A full read splits sled's oversized nodes, which wakes its segment cleaner: it
            // took a core for the whole boot. Space is reclaimed once the boot is done.
            let _cleaning = open.db.pause_cleaning();
            if let Some(v) = open.db.get([POLICY])? {
                sink.policy(codec::decode_policy(&[POLICY], &v)?);
            }
            for entry in open.db.scan_prefix([codec::WEBHOOK]) {
                let (k, v) = entry?;
                sink.webhook(codec::decode(&k, &v)?);
            }
            let mut requests_hint = 0;
            if let Some(v) = open.db.get([COUNTS])? {
                let counts: LiveCounts = codec::decode(&[COUNTS], &v)?;
                let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
                // The requests are indexed on their own thread, sized by their own hint.
                sink.expect(size(counts.tickets), 0);
                requests_hint = size(counts.requests).min(MOST_REQUESTS_RESERVED);
            }
            let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
            let stop = AtomicBool::new(false);
            // The tickets' customer ids and skill sets are interned as they are decoded, on
            // the reading thread, with the sink's interners (given back below).
            let shares = sink.lend_shares();
            let mut shared = None;
            let requests = std::thread::scope(|scope| {
                let requests = scope.spawn(|| open.read_requests(requests_hint, &stop));
                let records =
                    scope.spawn(|| open.read_records_sharing(&[AGENT, TICKET], tx, shares));
                let tickets = (|| {
                    // Leaving early drops `rx`: the reader's next send fails and it stops.
                    for batch in rx {
                        for record in batch? {
                            match record {
                                Record::Agent(agent) => sink.agent(agent),
                                Record::Ticket(ticket) => sink.ticket(ticket)?,
                            }
                        }
                    }
                    Ok::<(), StoreError>(())
                })();
                stop.store(tickets.is_err(), Ordering::Relaxed);
                shared = records
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                let requests = requests
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                tickets.and(requests)
            });
            if let Some(shares) = shared {
                sink.adopt_shares(shares);
            }
            sink.requests(requests?);
            sink.last_ticket(open.last_id(TICKET)?.max(open.last_id(ARCHIVE)?));
            Ok(())
        })
    }

    fn archived_ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
        let key = codec::key(ARCHIVE, &id.0.to_be_bytes());
        self.with(|open| match open.db.get(&key)? {
            Some(v) => Ok(Some(codec::decode(&key, &v)?)),
            None => Ok(None),
        })
    }

    fn archived_external(&self, external_id: &str) -> Result<Option<TicketId>, StoreError> {
        if !self.known.may_hold(external_id.as_bytes()) {
            return Ok(None);
        }
        self.build_known();
        let key = codec::key(ARCHIVE_EXTERNAL, external_id.as_bytes());
        self.with(|open| match open.db.get(&key)? {
            Some(v) => Ok(Some(TicketId(codec::id_of(&key, &v)?))),
            None => Ok(None),
        })
    }

    fn scan_archive(&self, after: Option<TicketId>, max: usize) -> Result<Vec<Ticket>, StoreError> {
        let from = after.map_or(0, |id| id.0.saturating_add(1));
        let (start, end) = (
            codec::key(ARCHIVE, &from.to_be_bytes()),
            codec::key(ARCHIVE + 1, &[]),
        );
        self.with(|open| {
            open.db
                .range(start..end)
                .take(max)
                .map(|entry| {
                    let (k, v) = entry?;
                    codec::decode(&k, &v)
                })
                .collect()
        })
    }

    fn customer_tickets(
        &self,
        customer_id: &str,
        after: Option<TicketId>,
        max: usize,
    ) -> Result<Vec<TicketId>, StoreError> {
        let (prefix, start) = codec::customer_entries_after(customer_id, after);
        self.with(|open| {
            open.db
                .range(start..)
                .take_while(|entry| entry.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
                .take(max)
                .map(|entry| {
                    let (k, _) = entry?;
                    Ok(TicketId(codec::id_of(&k, &k[prefix.len()..])?))
                })
                .collect()
        })
    }

    fn archived_since(&self, since: Ts) -> Result<Vec<Ticket>, StoreError> {
        let start = codec::archive_time_key(since, TicketId(0));
        self.with(|open| {
            let mut out = Vec::new();
            for entry in open.db.range(start..vec![ARCHIVE_TIME + 1]) {
                let (k, _) = entry?;
                let id = codec::id_of(&k, &k[k.len().saturating_sub(8)..])?;
                let key = codec::key(ARCHIVE, &id.to_be_bytes());
                if let Some(v) = open.db.get(&key)? {
                    out.push(codec::decode(&key, &v)?);
                }
            }
            Ok(out)
        })
    }

    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.with(|open| {
            let mut wal = open.wal();
            if wal.is_full_for(&batch) {
                open.checkpoint(&mut wal)?;
            }
            wal.append(&batch).map_err(sled::Error::Io)?;
            let _noted = self.known.note(codec::external_ids(&batch));
            open.apply(batch)
        })
    }

    /// First writes the reserve again (the disk has room for the next reopen), then a record.
    fn probe(&self, at: Ts) -> Result<(), StoreError> {
        reserve_room(&self.dir)?;
        self.with(|open| {
            open.db.insert([codec::PROBE], &at.0.to_be_bytes())?;
            open.durable()
        })
    }

    /// sled 0.34 cannot go on after a failed write: the instance keeps the error and fails
    /// every later write (and reads that would split a page), and its memory may hold the
    /// failed batch. So the instance is dropped, which releases the directory's lock, the
    /// reserve is deleted to give sled's recovery room, and the directory is opened again:
    /// what it then reads is exactly what is durable.
    fn reopen(&self) -> Result<(), StoreError> {
        let mut open = self.open.write().unwrap_or_else(PoisonError::into_inner);
        drop(open.take());
        match std::fs::remove_file(self.dir.join(RESERVE_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::Io(sled::Error::Io(e)))
            }
            _ => {}
        }
        *open = Some(Open::when_unlocked(&self.dir, self.cache_bytes)?);
        Ok(())
    }

    fn keep_room(&self) -> Result<(), StoreError> {
        reserve_room(&self.dir)
    }

    /// The last event of the newest record: an `EVENTS` one if any (their sequences are above
    /// every old `EVENT` record's), else an old one.
    fn last_event_seq(&self) -> Result<u64, StoreError> {
        self.with(|open| {
            for kind in [EVENTS, EVENT] {
                if let Some(entry) = open.db.scan_prefix([kind]).next_back() {
                    let (k, v) = entry?;
                    let events = codec::decode_events(&k, &v)?;
                    return Ok(events.last().map_or(0, |e| e.seq));
                }
            }
            Ok(0)
        })
    }

    /// Old one-event records from `from` on, then the commit records from the one holding
    /// `from` (the last one keyed at or below it), skipping its events below `from`.
    fn read_events(&self, from: u64, limit: usize) -> Result<Vec<Recorded>, StoreError> {
        self.with(|open| {
            let old = open.db.range(codec::event_key(from)..vec![EVENT + 1]);
            let holding = open
                .db
                .range(codec::events_key(0)..=codec::events_key(from))
                .next_back();
            let start = match holding {
                Some(entry) => entry?.0.to_vec(),
                None => codec::events_key(from),
            };
            let new = open.db.range(start..vec![EVENTS + 1]);
            let mut out = Vec::new();
            for entry in old.chain(new) {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = entry?;
                let events = codec::decode_events(&k, &v)?.into_iter();
                let wanted = limit - out.len();
                out.extend(events.filter(|e| e.seq >= from).take(wanted));
            }
            Ok(out)
        })
    }

    fn prune_archive(&self, older_than: Ts, limit: usize) -> Result<usize, StoreError> {
        self.with(|open| {
            let newest = open.last_id(ARCHIVE)?;
            let end = codec::archive_time_key(older_than, TicketId(0));
            let mut doomed = sled::Batch::default();
            let mut pruned = 0;
            for entry in open.db.range(vec![ARCHIVE_TIME]..end).take(limit) {
                let (k, _) = entry?;
                let id = TicketId(codec::id_of(&k, &k[k.len().saturating_sub(8)..])?);
                if id.0 == newest {
                    continue;
                }
                doomed.remove(k);
                let record = codec::key(ARCHIVE, &id.0.to_be_bytes());
                if let Some(v) = open.db.get(&record)? {
                    let t: Ticket = codec::decode(&record, &v)?;
                    let keys =
                        codec::archive_keys(id, t.updated_at, &t.external_id, &t.customer_id);
                    for key in keys {
                        doomed.remove(key);
                    }
                }
                pruned += 1;
            }
            open.db.apply_batch(doomed)?;
            Ok(pruned)
        })
    }

    /// Records go whole, oldest first (old one-event ones, then commit records): one is
    /// deleted only when none of its events is kept, so an event can outlive its bounds by the
    /// rest of its commit. `limit` counts events, except that the first record goes even when
    /// it alone holds more (it would never go otherwise; the owner's limit is well above
    /// `EVENTS_PER_RECORD`).
    fn prune_events(
        &self,
        keep_from: u64,
        older_than: Ts,
        limit: usize,
    ) -> Result<u64, StoreError> {
        // The newest event always stays: it is what numbering continues from after a restart
        // (`last_event_seq`), so sequences are never reused, and a watcher asking for an older
        // one finds it and hears at once that the ones before it were pruned.
        let newest = self.last_event_seq()?;
        self.with(|open| {
            let mut doomed = sled::Batch::default();
            let mut prune = EventPrune::new(newest, keep_from, older_than, limit);
            let records = open.db.scan_prefix([EVENT]);
            for entry in records.chain(open.db.scan_prefix([EVENTS])) {
                let (k, v) = entry?;
                let events = codec::decode_events(&k, &v)?;
                if !prune.takes(&events) {
                    open.db.apply_batch(doomed)?;
                    return Ok(events.first().map_or(u64::MAX, |e| e.seq));
                }
                doomed.remove(k);
            }
            open.db.apply_batch(doomed)?;
            Ok(u64::MAX)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::command::{AgentProfile, Command, NewTicket, Reply};
    use crate::core::policy::SlaPolicy;
    use crate::core::types::*;
    use crate::core::{CoreConfig, Scheduler};
    use std::sync::Arc;

    fn new_ticket(n: u32) -> NewTicket {
        NewTicket {
            needs: None,
            first_skill: 0,
            request_id: format!("req-{n}"),
            external_id: format!("ext-{n}"),
            customer_id: "c".into(),
            tier: Tier::Vip,
            channel: Channel::Chat,
            priority: Priority::High,
            skills: SkillSet::new(vec![Skill::new("en")]),
            sentiment: Sentiment::Negative,
            preferred_agent: None,
            created_at: None,
        }
    }

    /// sled reports a taken lock as a plain I/O error; it comes out as `Locked`, naming the
    /// directory and (where `/proc/locks` exists) the holder: here this very process.
    #[test]
    fn a_second_open_of_one_directory_names_the_owner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _first = SledStore::open(dir.path()).expect("open");
        let Err(e) = SledStore::open(dir.path()) else {
            panic!("a second open of one directory succeeded");
        };
        let StoreError::Locked { dir: named, pid } = &e else {
            panic!("not Locked: {e:?}");
        };
        assert_eq!(named, dir.path());
        if Path::new("/proc/locks").exists() {
            assert_eq!(*pid, Some(std::process::id()), "{e}");
        }
        let text = e.to_string();
        assert!(text.starts_with("another triage process owns "), "{text}");
        assert!(!text.contains("WouldBlock"), "{text}");
    }

    /// Agent "a", who speaks "en", in `s`.
    fn upsert_agent_a(s: &mut Scheduler, now: Ts) {
        let profile = AgentProfile {
            levels: Default::default(),
            id: AgentId::new("a"),
            display_name: "A".into(),
            skills: SkillSet::new(vec![Skill::new("en")]),
            tiers: vec![],
            capacity: [None; Channel::COUNT],
        };
        s.apply(Command::UpsertAgent(profile), now).expect("agent");
    }

    /// A store in `dir` with one ticket committed, the scheduler that made it, and its time.
    fn with_one_ticket(dir: &Path) -> (SledStore, Scheduler, Ts) {
        let store = SledStore::open(dir).expect("open");
        let now = Ts(1_800_000_000_000);
        let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
        s.apply(Command::CreateTicket(new_ticket(0)), now)
            .expect("create");
        store
            .commit(Batch::from_journal(&s.take_journal(), &s))
            .expect("commit");
        (store, s, now)
    }

    /// A crash after the log's `fdatasync` and before sled wrote the batch out: the commit is
    /// in the log only. Opening applies it, and checkpoints, so the log is empty after.
    #[test]
    fn a_commit_only_the_log_holds_is_applied_at_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Ts(1_800_000_000_000);
        let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
        drop(SledStore::open(dir.path()).expect("make the store"));
        s.apply(Command::CreateTicket(new_ticket(0)), now)
            .expect("create");
        let batch = Batch::from_journal(&s.take_journal(), &s);
        {
            let (mut wal, none) = Wal::open(dir.path()).expect("log");
            assert!(
                none.is_empty(),
                "a store closed in order leaves its log empty"
            );
            wal.append(&batch).expect("append");
        }
        let store = SledStore::open(dir.path()).expect("reopen");
        let rec = store.load_all().expect("load");
        assert_eq!(rec.tickets, [s.ticket(TicketId(1)).expect("t1").clone()]);
        assert_eq!(rec.idempotency.len(), 1);
        drop(store);
        assert!(Wal::open(dir.path()).expect("log").1.is_empty());
    }

    /// Commits of twice the log's size: it checkpoints on the way and every commit is there.
    #[test]
    fn commits_beyond_the_logs_size_checkpoint_on_the_way_and_all_come_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(dir.path()).expect("open");
        let value = vec![7u8; 64 << 10];
        let n = 2 * (super::super::WAL_BYTES as usize / value.len());
        for i in 0..n as u64 {
            let mut batch = Batch::default();
            batch.records.push((
                codec::key(codec::PROBE + 1, &i.to_be_bytes()),
                value.clone(),
            ));
            store.commit(batch).expect("commit");
        }
        let logged = store.with(|open| Ok(open.wal().is_empty()));
        assert!(!logged.expect("open"), "the last commits are in the log");
        drop(store);
        let store = SledStore::open(dir.path()).expect("reopen");
        let count = store.with(|open| Ok(open.db.scan_prefix([codec::PROBE + 1]).count()));
        assert_eq!(count.expect("count"), n);
    }

    /// A boot interns customer ids and skill sets as it decodes them: restored tickets share
    /// them, and so do tickets made after the boot (the table kept the interners).
    #[test]
    fn a_recovery_shares_customer_ids_and_skill_sets_and_keeps_sharing_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Ts(1_800_000_000_000);
        let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
        for n in 0..3 {
            s.apply(Command::CreateTicket(new_ticket(n)), now)
                .expect("create");
        }
        {
            let store = SledStore::open(dir.path()).expect("open");
            store
                .commit(Batch::from_journal(&s.take_journal(), &s))
                .expect("commit");
        }
        let store = SledStore::open(dir.path()).expect("reopen");
        let mut restore = Scheduler::restoring(SlaPolicy::default(), CoreConfig::default(), now);
        store.recover_into(&mut restore).expect("recover");
        let mut s = restore.finish();
        s.apply(Command::CreateTicket(new_ticket(3)), now)
            .expect("create after the boot");
        let first = s.ticket(TicketId(1)).expect("ticket 1").clone();
        for id in 2..=4 {
            let t = s.ticket(TicketId(id)).expect("ticket");
            assert!(Arc::ptr_eq(&t.customer_id, &first.customer_id), "{id}");
            assert!(t.skills.ptr_eq(&first.skills), "{id}");
        }
    }

    /// What a sink was handed, in order; refuses ticket `refuse`.
    #[derive(Default)]
    struct Log {
        seen: Vec<String>,
        refuse: Option<TicketId>,
    }

    impl RecoverySink for Log {
        fn policy(&mut self, _: SlaPolicy) {
            self.seen.push("policy".into());
        }
        fn webhook(&mut self, w: crate::core::webhook::Webhook) {
            self.seen.push(format!("webhook {}", w.id));
        }
        fn expect(&mut self, tickets: usize, requests: usize) {
            self.seen.push(format!("expect {tickets} {requests}"));
        }
        fn agent(&mut self, a: crate::core::model::Agent) {
            self.seen.push(format!("agent {}", a.id));
        }
        fn ticket(&mut self, t: Ticket) -> Result<(), crate::core::scheduler::RestoreError> {
            if Some(t.id) == self.refuse {
                return Err(crate::core::scheduler::RestoreError::OutOfOrder {
                    ticket: t.id,
                    after: t.id,
                });
            }
            self.seen.push(format!("ticket {}", t.id.0));
            Ok(())
        }
        fn request(&mut self, id: &str, _: crate::core::idempotency::Idempotency) {
            self.seen.push(format!("request {id}"));
        }
        fn last_ticket(&mut self, id: u64) {
            self.seen.push(format!("last {id}"));
        }
    }

    /// More records than one batch of a reading thread: the sink gets the counts of the last
    /// commit first, the agent, then every ticket by ascending id, every request somewhere in
    /// between (read on a thread of their own), and the last id last; a scheduler rebuilt
    /// from them finds the held ticket's holder; a refused ticket ends the walk with it.
    #[test]
    fn recovery_streams_agents_then_tickets_by_id_with_requests_between_and_stops_at_a_refusal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(dir.path()).expect("open");
        let now = Ts(1_800_000_000_000);
        let n = RECORD_BATCH as u32 + 300;
        let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
        for i in 0..n {
            s.apply(Command::CreateTicket(new_ticket(i)), now)
                .expect("create");
        }
        upsert_agent_a(&mut s, now);
        let presence = Command::SetPresence {
            agent: AgentId::new("a"),
            presence: Presence::Available,
            reason: None,
        };
        s.apply(presence, now).expect("presence");
        let Ok(Reply::Pulled(Some(held))) = s.apply(Command::Pull(AgentId::new("a")), now) else {
            panic!("a pulls nothing");
        };
        let mut batch = Batch::from_journal(&s.take_journal(), &s);
        batch.push_counts(LiveCounts::of(&s));
        store.commit(batch).expect("commit");

        let mut log = Log::default();
        store.recover_into(&mut log).expect("recover");
        let (requests, others): (Vec<&String>, Vec<&String>) =
            log.seen.iter().partition(|r| r.starts_with("request "));
        // The requests are indexed on their own thread and come whole: no hint for them.
        let mut expected = vec![format!("expect {n} 0"), "agent a".into()];
        expected.extend((1..=n).map(|i| format!("ticket {i}")));
        expected.push(format!("last {n}"));
        assert_eq!(others, expected.iter().collect::<Vec<_>>());
        assert_eq!(requests.len(), n as usize, "every request");
        assert!(requests.iter().all(|r| r.starts_with("request req-")));
        let (first, last) = (log.seen.first(), log.seen.last());
        assert_eq!(
            (first, last),
            (expected.first(), expected.last()),
            "requests in between"
        );

        let mut restore = Scheduler::restoring(SlaPolicy::default(), CoreConfig::default(), now);
        store.recover_into(&mut restore).expect("restore");
        let restored = restore.finish();
        let t = restored.ticket(held.ticket.id).expect("held ticket");
        assert_eq!(t.holder(), Some(&AgentId::new("a")));
        assert_eq!(restored.ticket_count(), n as usize);

        let refuse = TicketId(u64::from(n) - 5);
        let mut log = Log {
            refuse: Some(refuse),
            ..Log::default()
        };
        let refused = store.recover_into(&mut log);
        assert!(
            matches!(refused, Err(StoreError::Restore(_))),
            "{refused:?}"
        );
        let last = format!("ticket {}", refuse.0 - 1);
        let not_a_request = log.seen.iter().rev().find(|r| !r.starts_with("request "));
        assert_eq!(not_a_request, Some(&last), "nothing after the refusal");
    }

    #[test]
    fn the_reserve_is_kept_while_writes_work_and_given_up_to_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reserve = dir.path().join(RESERVE_FILE);
        let reserved = || std::fs::metadata(&reserve).map(|m| m.len()).ok();
        let (store, _, now) = with_one_ticket(dir.path());
        assert_eq!(reserved(), Some(RESERVE_BYTES), "the least reserve");
        let content = std::fs::read(&reserve).expect("read the reserve");
        let zeros = content.iter().filter(|&&b| b == 0).count();
        assert!(
            zeros < content.len() / 100,
            "not zeros a compressing file system would drop"
        );

        store
            .reopen()
            .expect("the dropped instance let go of the directory's lock");
        assert_eq!(reserved(), None, "the reserve made room for the reopen");
        assert_eq!(store.load_all().expect("load").tickets.len(), 1);
        store.probe(now).expect("probe");
        assert_eq!(reserved(), Some(RESERVE_BYTES), "the probe wrote it back");

        // A store whose snapshot is 3 MiB keeps 2 + 2 * 3 MiB, grown in place.
        let snapshot = dir.path().join("snap.00000000000000FF");
        std::fs::write(&snapshot, vec![1u8; 3 << 20]).expect("snapshot");
        store.keep_room().expect("keep room");
        assert_eq!(reserved(), Some(8 << 20));
    }

    #[test]
    fn idempotency_records_of_version_1_are_read_and_upgraded() {
        use crate::core::idempotency::{IdempotencyV1, Outcome};
        let v1 = IdempotencyV1 {
            ticket: TicketId(4),
            fingerprint: 99,
        };
        let bytes = codec::encode_version(1, &v1);
        let read = codec::decode_idempotency(b"rx", &bytes).expect("v1 reads");
        assert_eq!(read.outcome, Outcome::Ticket(TicketId(4)));
        assert_eq!((read.fingerprint, read.at), (99, Ts::UNKNOWN));
        let v2 = codec::encode_version(codec::IDEMPOTENCY_VERSION, &read);
        assert_eq!(codec::decode_idempotency(b"rx", &v2).expect("v2"), read);
        assert!(codec::decode_idempotency(b"rx", &[3, 0]).is_err());
    }

    #[test]
    fn unknown_record_versions_are_refused_not_misread() {
        let err = codec::decode::<Ts>(b"t1", &[9, 1, 2]).unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
        assert!(codec::decode::<Ts>(b"t1", &[]).is_err());
    }

    use crate::store::tests::recorded;

    #[test]
    fn a_commits_events_are_one_record_and_none_is_written_for_no_events() {
        let mut batch = Batch::default();
        batch.push_events(&[]);
        assert!(batch.is_empty());
        let events: Vec<Recorded> = (7..=9).map(|seq| recorded(seq, Ts(5))).collect();
        batch.push_events(&events);
        assert_eq!(batch.len(), 1);
        let (key, value) = &batch.records[0];
        assert_eq!(*key, codec::events_key(7));
        assert_eq!(codec::decode_events(key, value).expect("decode"), events);
        let wrong_key = codec::events_key(8);
        assert!(codec::decode_events(&wrong_key, value).is_err());
        let none = codec::encode::<Vec<Recorded>>(&Vec::new());
        assert!(codec::decode_events(&codec::events_key(1), &none).is_err());
    }
}

#[cfg(test)]
/// Stores written as the owner writes them: tickets created, then finished and archived.
mod archive_commits {
    use super::*;
    use crate::core::command::{Command, NewTicket};
    use crate::core::policy::SlaPolicy;
    use crate::core::types::*;
    use crate::core::{CoreConfig, Scheduler};

    const TICKETS_PER_COMMIT: u64 = 50;
    const COMMITS_PER_ROUND: u64 = 80;
    /// Rounds of archived tickets the archive keeps (retention), and of events the log keeps.
    const KEPT_ROUNDS: u64 = 2;
    const ROUNDS: u64 = 15;
    const MIB: u64 = 1 << 20;

    /// What the owner writes for a batch: the journal, finished tickets moved to the archive.
    fn owners_batch(s: &mut Scheduler) -> Batch {
        let mut journal = s.take_journal();
        s.archive_finished(&mut journal);
        Batch::from_journal(&journal, s)
    }

    /// Creates `TICKETS_PER_COMMIT` tickets at `now` in one commit, then cancels them in a
    /// second one with an event each, as the owner's group commits write them: the live
    /// records, then their removal and the archive records with their three index entries.
    fn archive_commit(store: &SledStore, s: &mut Scheduler, now: Ts, first_seq: u64) {
        for i in 0..TICKETS_PER_COMMIT {
            let ticket = NewTicket {
                needs: None,
                first_skill: 0,
                request_id: String::new(),
                external_id: format!("ext-{first_seq}-{i}"),
                customer_id: format!("customer-{}", (first_seq + i) % 997),
                tier: Tier::Standard,
                channel: Channel::Email,
                priority: Priority::Normal,
                skills: SkillSet::new(vec![Skill::new("en")]),
                sentiment: Sentiment::Neutral,
                preferred_agent: None,
                created_at: None,
            };
            s.apply(Command::CreateTicket(ticket), now).expect("create");
        }
        store.commit(owners_batch(s)).expect("commit the creates");
        let mut events = Vec::new();
        for i in 0..TICKETS_PER_COMMIT {
            let id = TicketId(first_seq + i);
            let reason = CancelReason::Other;
            s.apply(Command::Cancel { ticket: id, reason }, now)
                .expect("cancel");
            let event = crate::core::event::Event::Created {
                ticket: id,
                tier: Tier::Standard,
                channel: Channel::Email,
            };
            events.push(Recorded {
                seq: first_seq + i,
                at: now,
                event,
                actor: crate::core::event::Actor::system(),
                epoch: None,
            });
        }
        let mut batch = owners_batch(s);
        batch.push_events(&events);
        store.commit(batch).expect("commit the archive");
    }

    /// The first lookup starts building the filter over the archive's external ids in the
    /// background, walking the index in chunks; commits made meanwhile or later add theirs; an
    /// id never archived is then answered without reading sled, also in a store opened again.
    #[test]
    fn archived_external_ids_are_found_before_and_after_the_filter_is_built() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Ts(1_800_000_000_000);
        let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
        let store = SledStore::open(dir.path()).expect("open");
        let first = format!("ext-1-{}", TICKETS_PER_COMMIT - 1);
        let second = format!("ext-{}-0", 1 + TICKETS_PER_COMMIT);
        let found = |store: &SledStore, id: &str| store.archived_external(id).expect("read");
        archive_commit(&store, &mut s, now, 1);
        assert_eq!(found(&store, &first), Some(TicketId(TICKETS_PER_COMMIT)));
        store.load_all().expect("recover");
        archive_commit(&store, &mut s, now, 1 + TICKETS_PER_COMMIT);
        let check = |store: &SledStore| {
            assert_eq!(found(store, &first), Some(TicketId(TICKETS_PER_COMMIT)));
            assert_eq!(
                found(store, &second),
                Some(TicketId(1 + TICKETS_PER_COMMIT))
            );
            built(store);
            assert!(!store.known.may_hold(b"ext-never"), "the filter is built");
            assert_eq!(found(store, "ext-never"), None);
        };
        check(&store);
        drop(store);
        let again = SledStore::open(dir.path()).expect("open again");
        again.load_all().expect("recover");
        check(&again);
    }

    /// Waits until `store`'s filter of external ids is built (it is, in the background, after
    /// a recovery).
    fn built(store: &SledStore) {
        for _ in 0..1000 {
            if store.known.is_built() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the filter of external ids was not built within 10 s");
    }

    /// The length of sled's log file, nearly all of the data dir.
    fn log_len(dir: &Path) -> u64 {
        std::fs::metadata(dir.join("db")).map_or(0, |m| m.len())
    }

    /// Tickets created and finished forever, pruned by retention: the data dir stops growing
    /// once retention deletes as much as is written. sled writes a log of fixed-size segments
    /// and reuses a segment once the pages still live in it have been relocated; here the
    /// cleaner runs to completion after each round (the daemon's runs in sled's flusher
    /// thread, as time allows), so the bound holds whatever the machine's speed; likewise
    /// the flush that the flusher makes every half second. Without the
    /// cleaner going past the first segment it empties, the log grew with every ticket.
    #[test]
    fn the_log_stops_growing_once_retention_deletes_what_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(dir.path()).expect("open");
        let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
        let start = Ts(1_800_000_000_000);
        let per_round = TICKETS_PER_COMMIT * COMMITS_PER_ROUND;
        let mut sizes = Vec::new();
        for round in 0..ROUNDS {
            let now = start.plus(Span::secs(round * 60));
            for commit in 0..COMMITS_PER_ROUND {
                let first = 1 + round * per_round + commit * TICKETS_PER_COMMIT;
                archive_commit(&store, &mut s, now, first);
            }
            let kept = Span::secs(KEPT_ROUNDS * 60);
            let older_than = Ts(now.0 - kept.0 as i64);
            while store.prune_archive(older_than, 1_000).expect("prune") == 1_000 {}
            let keep_from = (1 + round * per_round).saturating_sub(KEPT_ROUNDS * per_round);
            store
                .prune_events(keep_from, Ts(0), usize::MAX)
                .expect("prune events");
            // A round is a minute of the daemon's time, in which sled's flusher would have
            // written out what the commits gave it (they no longer flush: the write-ahead log
            // makes them durable) many times over.
            store
                .with(|open| {
                    open.db.flush()?;
                    Ok(open.db.clean_segments()?)
                })
                .expect("flush and clean");
            sizes.push(log_len(dir.path()));
        }
        let mib: Vec<u64> = sizes.iter().map(|b| b / MIB).collect();
        let third = sizes.len() / 3;
        let settled = sizes[third..2 * third].iter().max().copied().unwrap_or(0);
        // One round's size depends on when sled's own flusher last ran beside the test's flush
        // (under load, a round now and then ends a few MiB up and the next comes back down), so
        // the last third is judged by its median: a log that keeps growing moves that too.
        let mut late = sizes[2 * third..].to_vec();
        late.sort_unstable();
        let last = late[late.len() / 2];
        assert!(
            last <= settled + 3 * MIB,
            "the log grew from {} MiB to a median of {} MiB while the records kept stayed the same (MiB per round: {mib:?})",
            settled / MIB,
            last / MIB
        );
        assert!(
            last <= 16 * MIB,
            "{} MiB for at most {} archived tickets (MiB per round: {mib:?})",
            last / MIB,
            (KEPT_ROUNDS + 1) * per_round
        );
        // What the cleaner relocated reads back after a restart: exactly the retained rounds.
        drop(store);
        let store = SledStore::open(dir.path()).expect("reopen");
        let archive = store.scan_archive(None, usize::MAX).expect("scan");
        let first_kept = 1 + (ROUNDS - 1 - KEPT_ROUNDS) * per_round;
        let ids: Vec<u64> = archive.iter().map(|t| t.id.0).collect();
        let expected: Vec<u64> = (first_kept..=ROUNDS * per_round).collect();
        assert!(
            ids == expected,
            "archive after reopening: {} tickets",
            ids.len()
        );
    }
}
