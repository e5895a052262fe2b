//! The sled store: group commits and recovery at boot.
//!
//! Traffic follows the same mix as `benches/core.rs` (the README's DOMAIN mix): messenger 42 %,
//! chat 28 %, email 15 %, phone 10 %, social 5 %; VIP 20 %, new 10 %; 200 agents with mixed
//! languages, products and tiers, capacity 5 per channel. Every create carries a `request_id`,
//! as the gRPC clients send one, so each ticket is committed with its idempotency record.
//!
//! `store/commit/{1,16,256}`: one durable group commit (`apply_batch` + `flush`, which
//! fsyncs) of the records that N creates journal (N ticket records plus N idempotency
//! records), overwriting the same keys in one sled directory. Throughput is N tickets.
//!
//! `store/recover_1m`: what the daemon does at boot (`daemon::recover`): open the sled
//! directory, stream its records into `Scheduler::restoring` (`recover_into`, reading and
//! rebuilding interleaved) and `finish`, with 1,000,000 open tickets (queued, plus
//! about 5,000 assigned to the 200 agents). The store is built once through the core, untimed, and
//! kept as written; every recovery runs in a fresh child process (this binary again) on a
//! fresh copy of it, as a boot would, and only open + `recover_into` + `finish` are timed. The
//! bench also prints the setup time, the size on disk, the split between the three steps, and
//! the resident memory of a process holding the restored tickets (with and without the store
//! open) and of one holding the same tickets built directly, without a store.
//!
//! Environment:
//! - `TRIAGE_BENCH_TICKETS=100000`: fewer (or more) tickets than 1,000,000 for quick runs;
//!   the bench is then named `store/recover_<n>`, so it is never compared with the 1M run.
//!   Criterion's test mode (`cargo bench --bench store -- --test`) uses 10,000 unless set.
//! - `TRIAGE_BENCH_DIR=/path`: keep the store in `/path/pristine` (reused by later runs with
//!   the same ticket count) instead of a temporary directory under `target/tmp`.
//! - `TRIAGE_BENCH_CHILD=recover TRIAGE_BENCH_DIR=/path <this binary>`: one recovery of a
//!   fresh copy of `/path/pristine`, to profile it alone (e.g. under `perf record -g`).
//!
//! Run: `cargo bench --bench store` (3 to 4 minutes, most of it setup and recovery);
//! quick check: `TRIAGE_BENCH_TICKETS=20000 cargo bench --bench store`.

use criterion::{
    black_box, criterion_group, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};
use triage::bench::mix::{self, Rng};
use triage::core::command::{AgentProfile, Command, NewTicket, Reply};
use triage::core::policy::SlaPolicy;
use triage::core::types::*;
use triage::core::{CoreConfig, Journal, Scheduler};
use triage::store::{Batch, LiveCounts, SledStore, Store};

/// The daemon's allocator (see src/main.rs), so recovery time and memory are the daemon's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AGENTS: usize = 200;
const T0: Ts = Ts(1_800_000_000_000);
const DEFAULT_TICKETS: usize = 1_000_000;
/// Creates per setup commit.
const SETUP_BATCH: usize = 10_000;
const COMMIT_SIZES: [usize; 3] = [1, 16, 256];

const TICKETS_ENV: &str = "TRIAGE_BENCH_TICKETS";
const DIR_ENV: &str = "TRIAGE_BENCH_DIR";
const CHILD_ENV: &str = "TRIAGE_BENCH_CHILD";
/// sled's page cache in MiB for the recovery boots (default: the daemon's default).
const CACHE_ENV: &str = "TRIAGE_BENCH_CACHE_MB";

// ---- traffic: the DOMAIN.md mix, plus a request_id per create ----

/// Ticket `n` of the mix, with an idempotency key as a front end would send.
fn ticket(r: &mut Rng, n: u64) -> NewTicket {
    NewTicket {
        first_skill: 0,
        request_id: format!("req-{n:08}"),
        ..mix::ticket(r, n)
    }
}

fn agent(r: &mut Rng, i: usize) -> AgentProfile {
    mix::agent(r, i, 5)
}

fn new_scheduler() -> Scheduler {
    Scheduler::new(SlaPolicy::default(), CoreConfig::default())
}

/// Builds `n` open tickets through the core: 200 available agents, `n` creates, then every
/// agent pulls until it gets nothing (so some thousands are assigned). Every `SETUP_BATCH`
/// creates, and once at the end, the journal goes to `sink`, as the owner task would commit
/// it. Returns the scheduler and how many tickets were assigned.
fn build(n: usize, mut sink: impl FnMut(&Scheduler, Journal)) -> (Scheduler, usize) {
    let mut s = new_scheduler();
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut agents = Vec::with_capacity(AGENTS);
    for i in 0..AGENTS {
        let profile = agent(&mut rng, i);
        let id = profile.id.clone();
        s.apply(Command::UpsertAgent(profile), T0).expect("agent");
        let presence = Command::SetPresence {
            agent: id.clone(),
            presence: Presence::Available,
            reason: None,
        };
        s.apply(presence, T0).expect("presence");
        agents.push(id);
    }
    for i in 1..=n {
        s.apply(Command::CreateTicket(ticket(&mut rng, i as u64)), T0)
            .expect("create");
        if i % SETUP_BATCH == 0 {
            let journal = s.take_journal();
            sink(&s, journal);
        }
    }
    let mut assigned = 0;
    for id in &agents {
        // Bounded by capacity (5 per channel); the cap only guards against a bug looping.
        for _ in 0..1000 {
            match s.apply(Command::Pull(id.clone()), T0) {
                Ok(Reply::Pulled(Some(_))) => assigned += 1,
                _ => break,
            }
        }
    }
    let journal = s.take_journal();
    sink(&s, journal);
    (s, assigned)
}

/// The records that `n` creates journal, as the owner task would commit them.
fn create_batch(n: usize) -> Batch {
    let mut s = new_scheduler();
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    for i in 1..=n {
        s.apply(Command::CreateTicket(ticket(&mut rng, i as u64)), T0)
            .expect("create");
    }
    Batch::from_journal(&s.take_journal(), &s)
}

/// One recovery's steps, as measured in the process that did it.
struct Boot {
    open: Duration,
    /// `recover_into`: every record read, decoded and put in place.
    recover: Duration,
    /// `finish`: the remembered requests sorted by time, agents' timers armed.
    finish: Duration,
    tickets: u64,
    idempotency: u64,
    queued: u64,
}

impl Boot {
    fn total(&self) -> Duration {
        self.open + self.recover + self.finish
    }

    /// The line a `recover` child prints on stdout for the parent.
    fn to_line(&self) -> String {
        format!(
            "open_ns={} recover_ns={} finish_ns={} tickets={} idempotency={} queued={}",
            self.open.as_nanos(),
            self.recover.as_nanos(),
            self.finish.as_nanos(),
            self.tickets,
            self.idempotency,
            self.queued
        )
    }

    fn parse(line: &str) -> Boot {
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in the child's report {line:?}"))
        };
        Boot {
            open: Duration::from_nanos(field("open_ns")),
            recover: Duration::from_nanos(field("recover_ns")),
            finish: Duration::from_nanos(field("finish_ns")),
            tickets: field("tickets"),
            idempotency: field("idempotency"),
            queued: field("queued"),
        }
    }

    fn describe(&self) -> String {
        format!(
            "open {} + recover_into {} ({} tickets, {} idempotency records) + finish {} ({} queued) = {}",
            secs(self.open),
            secs(self.recover),
            thousands(self.tickets),
            thousands(self.idempotency),
            secs(self.finish),
            thousands(self.queued),
            secs(self.total()),
        )
    }
}

/// What the daemon does at boot (`daemon::recover`, without the policy-file step): open the
/// store, `recover_into` a `Scheduler::restoring`, `finish`; each step timed.
fn recover(dir: &Path) -> (SledStore, Scheduler, Boot) {
    let t = Instant::now();
    let store = open_store(dir);
    let open = t.elapsed();
    let t = Instant::now();
    let mut restore = Scheduler::restoring(SlaPolicy::default(), CoreConfig::default(), T0);
    store.recover_into(&mut restore).expect("recover_into");
    let recover = t.elapsed();
    let t = Instant::now();
    let s = restore.finish();
    let finish = t.elapsed();
    let boot = Boot {
        open,
        recover,
        finish,
        tickets: s.ticket_count() as u64,
        idempotency: s.requests().len() as u64,
        queued: s.queued_count() as u64,
    };
    (store, s, boot)
}

// ---- small helpers ----

/// Opens the store as the daemon would, with `CACHE_ENV`'s cache size if set.
fn open_store(dir: &Path) -> SledStore {
    let store = match std::env::var(CACHE_ENV) {
        Ok(mb) => {
            let mb: u64 = mb
                .parse()
                .unwrap_or_else(|_| panic!("{CACHE_ENV}={mb} is not a number"));
            SledStore::open_with_cache(dir, mb << 20)
        }
        Err(_) => SledStore::open(dir),
    };
    store.expect("open the store")
}

fn tickets_wanted() -> usize {
    match std::env::var(TICKETS_ENV) {
        Ok(v) => v
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("{TICKETS_ENV}={v} is not a number")),
        // Criterion's test mode runs each bench once to see that it works.
        Err(_) if std::env::args().any(|a| a == "--test") => 10_000,
        Err(_) => DEFAULT_TICKETS,
    }
}

/// 1234567 -> "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Bytes of all files under `dir` (what `du` counts, give or take block rounding).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// (VmRSS, VmHWM) in bytes from /proc/self/status; None where there is no procfs.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn rss_line(what: &str) -> String {
    match rss() {
        Some((now, peak)) => format!("{what}: {} (peak {})", mib(now), mib(peak)),
        None => format!("{what}: unavailable (no /proc/self/status)"),
    }
}

/// Has mimalloc hand freed memory back to the OS now (otherwise it does so lazily, on later
/// allocations), so RSS shows what is live.
fn trim_heap() {
    triage::daemon::release_free_memory();
}

// ---- child processes: resident memory in a fresh process, and recovery alone ----

/// Runs this binary again with `CHILD_ENV=mode` on the store under `base`; returns what it
/// printed on stdout (its stderr goes to ours). Each recovery and each memory figure comes
/// from a fresh process, as at a real boot: a process that has just built and freed a
/// million tickets recovers slower (with glibc's malloc, 3x: it wades through the freed
/// heap), and one that has recovered before recovers faster (its heap is already mapped).
fn run_child(mode: &str, base: &Path, n: usize) -> String {
    let exe = std::env::current_exe().expect("current_exe");
    let out = Process::new(exe)
        .env(CHILD_ENV, mode)
        .env(DIR_ENV, base)
        .env(TICKETS_ENV, n.to_string())
        .stderr(Stdio::inherit())
        .output()
        .expect("spawn the bench binary");
    assert!(out.status.success(), "child {mode} failed: {}", out.status);
    String::from_utf8(out.stdout).expect("utf-8 from the child")
}

fn child(mode: &str) {
    let n = tickets_wanted();
    let count = thousands(n as u64);
    let base = PathBuf::from(std::env::var(DIR_ENV).expect("TRIAGE_BENCH_DIR"));
    let work = base.join("work");
    match mode {
        "recover" => {
            // One boot: recover a fresh copy of the store as it was written (copy untimed;
            // it is in the page cache, as a store just written is).
            copy_store(&base.join("pristine"), &work);
            let (store, s, boot) = recover(&work);
            assert_eq!(s.ticket_count(), n, "tickets in {}", base.display());
            println!("{}", boot.to_line());
            // The process exits now; skip dropping a million tickets and closing sled.
            std::mem::forget((store, s));
        }
        "rss-restore" => {
            copy_store(&base.join("pristine"), &work);
            eprintln!("  {}", rss_line("RSS at start"));
            let store = open_store(&work);
            eprintln!("  {}", rss_line("RSS after open (sled's cache)"));
            let mut restore = Scheduler::restoring(SlaPolicy::default(), CoreConfig::default(), T0);
            store.recover_into(&mut restore).expect("recover_into");
            let s = black_box(restore.finish());
            eprintln!(
                "  {}",
                rss_line(&format!(
                    "RSS with {count} open tickets restored (sled open)"
                ))
            );
            trim_heap();
            eprintln!(
                "  {}",
                rss_line(&format!(
                    "RSS with {count} open tickets restored (sled open), freed memory returned"
                ))
            );
            drop(store);
            eprintln!("  {}", rss_line("RSS after dropping the store"));
            trim_heap();
            eprintln!(
                "  {}",
                rss_line(&format!(
                    "RSS with {count} open tickets restored, store dropped, freed memory returned"
                ))
            );
            assert_eq!(s.ticket_count(), n);
        }
        "rss-build" => {
            eprintln!("  {}", rss_line("RSS at start"));
            let (s, _) = build(n, |_, _| {});
            let s = black_box(s);
            eprintln!(
                "  {}",
                rss_line(&format!(
                    "RSS with {count} open tickets built directly (no store)"
                ))
            );
            trim_heap();
            eprintln!(
                "  {}",
                rss_line(&format!(
                    "RSS with {count} open tickets built directly (no store), freed memory returned"
                ))
            );
            assert_eq!(s.ticket_count(), n);
        }
        other => panic!("unknown {CHILD_ENV}={other}"),
    }
}

// ---- benches ----

fn bench_commit(c: &mut Criterion) {
    let mut g = c.benchmark_group("store");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(12));
    for n in COMMIT_SIZES {
        let batch = create_batch(n);
        let bytes: usize = batch.records.iter().map(|(k, v)| k.len() + v.len()).sum();
        eprintln!(
            "store/commit/{n}: {} records ({n} tickets + {n} idempotency), {bytes} bytes of keys and values",
            batch.len()
        );
        // One sled directory per batch size, used by every sample (criterion calls the
        // closure once per sample); each commit overwrites the same keys.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
        let store = SledStore::open(dir.path()).expect("open the store");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("commit", n), &batch, |b, batch| {
            b.iter_batched(
                || Batch {
                    removals: Vec::new(),
                    records: batch.records.clone(),
                },
                |records| store.commit(records).expect("commit"),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

/// The store to recover from, built on first use (so a filtered run that skips the bench
/// does not build it): `<base>/pristine` is the store as setup closed it (as the daemon
/// leaves it at shutdown) and is never opened again; each recovery runs in a child process
/// on a fresh copy in `<base>/work`.
struct Fixture {
    base: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

fn base_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var(DIR_ENV) {
        Ok(d) => (PathBuf::from(d), None),
        Err(_) => {
            let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
            (t.path().to_path_buf(), Some(t))
        }
    }
}

/// Replaces `to` with a copy of the sled directory `from`.
fn copy_store(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).expect("remove the old copy");
    }
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the store") {
        let entry = entry.expect("read the store");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_store(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy the store");
        }
    }
}

fn fixture(n: usize) -> Fixture {
    let (base, temp) = base_dir();
    let pristine = base.join("pristine");
    let count = thousands(n as u64);
    let reuse = std::fs::read_dir(&pristine).is_ok_and(|mut d| d.next().is_some());
    if reuse {
        eprintln!(
            "\nstore/recover: reusing the store in {}",
            pristine.display()
        );
    } else {
        eprintln!(
            "\nstore/recover: setup: {count} tickets through the core, committed every {} creates, into {}",
            thousands(SETUP_BATCH as u64),
            pristine.display()
        );
        let started = Instant::now();
        let store = SledStore::open(&pristine).expect("open the store");
        let (mut committing, mut commits, mut records) = (Duration::ZERO, 0, 0);
        let (built, assigned) = build(n, |s, journal| {
            let mut batch = Batch::from_journal(&journal, s);
            batch.push_counts(LiveCounts::of(s));
            records += batch.len();
            let t = Instant::now();
            store.commit(batch).expect("commit");
            committing += t.elapsed();
            commits += 1;
        });
        let elapsed = started.elapsed();
        drop(store);
        eprintln!(
            "store/recover: setup took {} ({} in {commits} commits of {} records, {} in the core and encoding); {count} tickets, {} queued, {} assigned",
            secs(elapsed),
            secs(committing),
            thousands(records as u64),
            secs(elapsed - committing),
            thousands(built.queued_count() as u64),
            thousands(assigned as u64),
        );
    }
    eprintln!(
        "store/recover: sled directory as written: {} in files",
        mib(dir_bytes(&pristine))
    );
    let first = Boot::parse(&run_child("recover", &base, n));
    eprintln!(
        "store/recover: one boot (untimed by criterion): {}",
        first.describe()
    );
    eprintln!(
        "store/recover: sled directory after that boot: {} in files",
        mib(dir_bytes(&base.join("work")))
    );
    eprintln!("store/recover: resident memory, each in a fresh process:");
    run_child("rss-restore", &base, n);
    run_child("rss-build", &base, n);
    eprintln!();
    Fixture { base, _temp: temp }
}

fn bench_recover(c: &mut Criterion) {
    let n = tickets_wanted();
    let name = if n == DEFAULT_TICKETS {
        "recover_1m".to_string()
    } else {
        format!("recover_{n}")
    };
    let mut g = c.benchmark_group("store");
    // A recovery of 1M takes seconds: 10 samples of one recovery each (flat sampling), and
    // no warm-up beyond one run. The target time is set a little under 10 recoveries, so
    // criterion runs one per sample (and says it could not finish 10 samples in time)
    // rather than two.
    let estimate = Duration::from_millis(20) + Duration::from_micros(4 * n as u64);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(estimate * 10)
        .throughput(Throughput::Elements(n as u64));
    let mut state: Option<Fixture> = None;
    let mut boots: Vec<Boot> = Vec::new();
    g.bench_function(name, |b| {
        let base = state.get_or_insert_with(|| fixture(n)).base.clone();
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                // Only the child's open + recover_into + finish count: not the copy, the spawn,
                // nor dropping a million tickets.
                let boot = Boot::parse(&run_child("recover", &base, n));
                timed += boot.total();
                boots.push(boot);
            }
            timed
        });
    });
    g.finish();
    if !boots.is_empty() {
        let k = boots.len() as u32;
        let mean = |f: fn(&Boot) -> Duration| boots.iter().map(f).sum::<Duration>() / k;
        eprintln!(
            "store/recover: mean of the {k} recoveries criterion ran: open {} + recover_into {} + finish {} = {}",
            secs(mean(|b| b.open)),
            secs(mean(|b| b.recover)),
            secs(mean(|b| b.finish)),
            secs(mean(Boot::total)),
        );
    }
    drop(state);
}

criterion_group!(benches, bench_commit, bench_recover);

fn main() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        child(&mode);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
