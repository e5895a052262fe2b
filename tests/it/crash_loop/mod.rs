//! kill -9 in a loop (issue 7, "crash proof"): one daemon data dir, kept across cycles. Each
//! cycle starts the real binary, checks it against the LEDGER of every call a client heard OK
//! for, then runs concurrent clients (CreateTicket and small CreateTickets with request ids,
//! retried after a kill; PullNextTicket by several agents, some long polls, some abandoned by
//! the caller; RecordReply, ResolveTicket, ReleaseTicket; a WatchEvents follower) and SIGKILLs
//! the daemon at a random moment while calls are in flight. Afterwards the store is made big
//! enough for recovery to take a while (batch creates) and the daemon is SIGKILLed while it
//! recovers, then checked again.
//!
//! A client appends each acknowledged call to the ledger file and fsyncs it before it counts
//! the call as acknowledged. After every restart:
//! - every acknowledged create exists with its external id (ListTickets, some by GetTicket),
//!   and a retry with its request id answers the same ticket;
//! - every acknowledged resolve is RESOLVED (the load never reopens);
//! - every acknowledged assignment: the ticket's lease epoch is at least the acknowledged one,
//!   and a ticket still at its last acknowledged epoch is held by the agent that heard it;
//! - no two holders: per ticket, no epoch was ever acknowledged twice (so the acknowledged
//!   epochs are strictly increasing), every ASSIGNED or PENDING ticket names one known agent
//!   and nothing else does, and each agent's load is the number of tickets that name it;
//! - the event stream, stitched across the kills, has no gap and no repeat, the last event
//!   seen before a kill is still there after it, and each (ticket, clock, escalation level)
//!   fired at most once (a fast chat policy makes escalations and L2 take-backs happen).
//!
//! Environment: TRIAGE_CRASH_CYCLES (default 100), TRIAGE_CRASH_SEED (replays the random
//! choices: kill delays, load mix, drawn from a seeded `StdRng`, so a seed replays with the
//! same `rand` version; thread scheduling still varies), TRIAGE_CRASH_BULK (tickets
//! for the recovery kills, default 30000), TRIAGE_CRASH_KEEP=1 (keep the data dir, daemon
//! logs and ledger; a failing run keeps them anyway and prints where). `tests/crash-loop.sh`
//! runs many cycles in release.
//!
//! `ledger` holds what was acknowledged, `load` the client tasks of one life, `verify` the
//! checks against the ledger and the event stream, `life` the run across the daemon's lives.

mod ledger;
mod life;
mod load;
mod verify;

use crate::common;
use ledger::Ledger;
use life::{Run, Workdir};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use verify::Tally;

/// Short chat targets so that warnings, breaches, L2 take-backs and L3 happen within the run
/// (VIP chat: warning at 1.2 s, L1 1.5 s, L2 2.25 s, L3 3 s). Email keeps its 2 h.
const CONFIG: &str = common::FAST_CHAT;

const CREATORS: usize = 2;
const AGENTS: usize = 3;
/// The load runs this long (ms, inclusive range) before the SIGKILL.
const KILL_AFTER_MS: (u64, u64) = (20, 300);
/// SIGKILLs while the big store is being recovered.
const RECOVERY_KILLS: usize = 5;
const BATCH: u64 = 1000;
/// Creators wait while about this many tickets are queued, so that the agents keep up and
/// the store (and each cycle's check) grows slowly.
const MAX_BACKLOG: usize = 40;
/// At most this many creates per daemon life, so that a long release run (much faster than
/// a debug one) does not grow the store, and each restart's full check, without bound.
const CREATES_PER_LIFE: u64 = 150;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_a_loop_loses_nothing_acknowledged_and_never_doubles_a_holder() {
    let _heavy = common::heavy();
    let cycles = env_u64("TRIAGE_CRASH_CYCLES", 100);
    let bulk = env_u64("TRIAGE_CRASH_BULK", 30_000);
    let seed = env_u64(
        "TRIAGE_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64),
    );
    println!(
        "crash_loop: seed {seed} (replay with TRIAGE_CRASH_SEED={seed}), {cycles} cycles, \
         bulk {bulk}"
    );
    let began = Instant::now();
    let workdir = Workdir(Some(common::temp()));
    let dir = workdir.0.as_ref().expect("dir").path().to_path_buf();
    std::fs::write(dir.join("triage.toml"), CONFIG).expect("write config");
    let mut ledger = Ledger::create(&dir.join("ledger.txt"));
    ledger.comment(&format!("seed {seed}, {cycles} cycles"));
    let mut run = Run {
        dir,
        seed,
        rng: StdRng::seed_from_u64(seed),
        ledger: Arc::new(Mutex::new(ledger)),
        tally: Arc::new(Mutex::new(Tally::default())),
        unexpected: Arc::new(Mutex::new(Vec::new())),
        next: Arc::new(AtomicU64::new(0)),
        retry: Arc::new(Mutex::new(Vec::new())),
        kills: 0,
        kills_in_recovery: 0,
    };
    for cycle in 0..cycles {
        run.cycle(cycle).await;
        if (cycle + 1) % 25 == 0 {
            println!(
                "crash_loop: {} cycles in {:.1} s",
                cycle + 1,
                began.elapsed().as_secs_f64()
            );
        }
    }
    let looped = began.elapsed();
    if bulk > 0 {
        run.bulk_load(bulk).await;
        run.kill_during_recovery().await;
    }
    run.finish().await;

    let ledger = run.ledger.lock().expect("ledger");
    let tally = run.tally.lock().expect("tally");
    let a = &ledger.acked;
    println!(
        "crash_loop summary: seed {seed}, cycles {cycles} ({:.1} s), kills {} (during recovery \
         {}), acknowledged and checked: creates {}, assigns {}, resolves {}, releases {}; \
         events {} (escalation steps {}); lost: 0, double holders: 0; total {:.1} s",
        looped.as_secs_f64(),
        run.kills,
        run.kills_in_recovery,
        a.creates,
        a.assigns,
        a.resolves,
        a.releases,
        tally.events,
        tally.steps,
        began.elapsed().as_secs_f64()
    );
}
