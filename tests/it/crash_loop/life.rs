//! The daemon's lives: one run keeps a data dir across them; each life starts the daemon,
//! checks it, loads it and SIGKILLs it (also while it recovers a big store).

use super::ledger::{Ack, Ledger};
use super::load::{agent_worker, creator, request_for, watcher, Ctx};
use super::verify::{events_against_ledger, verify, Tally};
use super::{AGENTS, BATCH, CONFIG, CREATORS, KILL_AFTER_MS, RECOVERY_KILLS};
use crate::common::{agent, Clients, Daemon};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use triage::proto as pb;

pub(super) async fn start(dir: &Path) -> Daemon {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || Daemon::start(&dir, Some(CONFIG)))
        .await
        .expect("start task")
}

/// Starts the daemon as `Daemon::start` does (same data dir and config) without waiting for
/// it, SIGKILLs it after `delay`, and says whether it had printed its ready line (recovery
/// done, ports bound) by then. A daemon that exited by itself first is an error, with its log.
pub(super) fn kill_while_starting(
    dir: &Path,
    delay: Duration,
    round: usize,
) -> Result<bool, String> {
    let log_path = dir.join(format!("daemon-recovery-kill-{round}.log"));
    let log = File::create(&log_path).expect("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("serve")
        .arg("--grpc-addr=127.0.0.1:0")
        .arg("--metrics-addr=127.0.0.1:0")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(crate::common::store_args(dir))
        .arg("--config")
        .arg(dir.join("triage.toml"))
        .env("TRIAGE_LOG", "info,triage=debug")
        .env_remove("TRIAGE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn triage");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        line.starts_with("triage ready")
    });
    std::thread::sleep(delay);
    let exited = child.try_wait().expect("try_wait");
    if exited.is_none() {
        child.kill().expect("kill -9");
    }
    child.wait().expect("reap");
    let ready = reader.join().expect("stdout reader");
    match exited {
        None => Ok(ready),
        Some(status) => Err(format!(
            "the daemon exited by itself ({status}) while starting:\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        )),
    }
}

/// Keeps the directory (data, daemon logs, ledger) when the test fails or when asked to.
pub(super) struct Workdir(pub(super) Option<tempfile::TempDir>);

impl Drop for Workdir {
    fn drop(&mut self) {
        let keep = std::thread::panicking() || std::env::var_os("TRIAGE_CRASH_KEEP").is_some();
        if let (true, Some(dir)) = (keep, self.0.take()) {
            let path = dir.path().to_path_buf();
            std::mem::forget(dir);
            eprintln!(
                "crash_loop: kept {} (data/, daemon-*.log, ledger.txt)",
                path.display()
            );
        }
    }
}

/// Stops every task of one daemon's life once it is dead; none may hang.
pub(super) async fn join_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a client task did not stop within 60 s of the kill")
            .expect("client task panicked");
    }
}

pub(super) fn agent_id(i: usize) -> String {
    format!("crash-{i}")
}

/// Everything one run shares across the daemon's lives.
pub(super) struct Run {
    pub(super) dir: PathBuf,
    pub(super) seed: u64,
    pub(super) rng: StdRng,
    pub(super) ledger: Arc<Mutex<Ledger>>,
    pub(super) tally: Arc<Mutex<Tally>>,
    pub(super) unexpected: Arc<Mutex<Vec<String>>>,
    /// The next loop ticket number (`cx-N`), and creates that got no answer, to retry.
    pub(super) next: Arc<AtomicU64>,
    pub(super) retry: Arc<Mutex<Vec<u64>>>,
    pub(super) kills: u64,
    pub(super) kills_in_recovery: u64,
}

impl Run {
    pub(super) fn ctx(&self) -> Ctx {
        Ctx {
            ledger: Arc::clone(&self.ledger),
            killed: Arc::new(AtomicBool::new(false)),
            unexpected: Arc::clone(&self.unexpected),
        }
    }

    pub(super) fn note(&self, text: &str) {
        self.ledger.lock().expect("ledger").comment(text);
    }

    /// Checks the daemon against the ledger and the event stream so far; panics with every
    /// problem found, the seed and where in the run it was. Returns what each agent holds
    /// and how many tickets there are.
    pub(super) async fn check(
        &mut self,
        c: &mut Clients,
        at: &str,
    ) -> (HashMap<String, Vec<(u64, u64)>>, usize) {
        // No client task runs between lives: the ledger's state is lent to `verify`.
        let (acked, mut problems) = {
            let mut guard = self.ledger.lock().expect("ledger");
            (std::mem::take(&mut guard.acked), guard.problems.take())
        };
        let mut sample = StdRng::from_rng(&mut self.rng);
        let held = verify(c, &acked, &mut sample, &mut problems).await;
        self.ledger.lock().expect("ledger").acked = acked;
        problems.extend(self.tally.lock().expect("tally").problems.take());
        for odd in self.unexpected.lock().expect("unexpected").drain(..) {
            problems.other.push(odd);
        }
        assert!(
            problems.is_empty(),
            "crash loop failed at {at} (replay with TRIAGE_CRASH_SEED={}): {}",
            self.seed,
            problems.report()
        );
        held
    }

    /// Start, check, load, SIGKILL at a random moment.
    pub(super) async fn cycle(&mut self, cycle: u64) {
        let d = start(&self.dir).await;
        self.note(&format!("cycle {cycle}: daemon pid {}", d.pid()));
        let mut c = d.clients().await;
        let (mut held, _) = self
            .check(&mut c, &format!("the start of cycle {cycle}"))
            .await;
        for i in 0..AGENTS {
            let profile = agent(&agent_id(i), &[], &[], &[("chat", 1000), ("email", 1000)]);
            c.available_agent(profile).await;
        }
        let ctx = self.ctx();
        let mut tasks = vec![tokio::spawn(watcher(
            c.clone(),
            ctx.clone(),
            Arc::clone(&self.tally),
        ))];
        for _ in 0..CREATORS {
            tasks.push(tokio::spawn(creator(
                c.clone(),
                ctx.clone(),
                Arc::clone(&self.next),
                Arc::clone(&self.retry),
                StdRng::from_rng(&mut self.rng),
            )));
        }
        let agents = d.clients().await; // a second connection
        for i in 0..AGENTS {
            let id = agent_id(i);
            let resume = held.remove(&id).unwrap_or_default();
            let rng = StdRng::from_rng(&mut self.rng);
            tasks.push(tokio::spawn(agent_worker(
                agents.clone(),
                ctx.clone(),
                id,
                resume,
                rng,
            )));
        }
        let delay = self.rng.random_range(KILL_AFTER_MS.0..=KILL_AFTER_MS.1);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        ctx.killed.store(true, Ordering::SeqCst);
        d.kill9();
        self.kills += 1;
        join_all(tasks).await;
    }

    /// Grows the store with `count` tickets through CreateTickets (1000 a call), then
    /// SIGKILLs the idle daemon.
    pub(super) async fn bulk_load(&mut self, count: u64) {
        let d = start(&self.dir).await;
        self.note(&format!("bulk load of {count}: daemon pid {}", d.pid()));
        let mut c = d.clients().await;
        self.check(&mut c, "the start of the bulk load").await;
        let ctx = self.ctx();
        let watch = tokio::spawn(watcher(c.clone(), ctx.clone(), Arc::clone(&self.tally)));
        let mut n = 0;
        while n < count {
            let size = BATCH.min(count - n);
            let tickets: Vec<_> = (n..n + size)
                .map(|i| request_for(&format!("bx-{i}")))
                .collect();
            n += size;
            let answer = c
                .tickets
                .create_tickets(pb::CreateTicketsRequest {
                    tickets: tickets.clone(),
                })
                .await
                .expect("CreateTickets")
                .into_inner();
            assert_eq!(answer.results.len(), tickets.len(), "one result per item");
            let mut acks = Vec::with_capacity(tickets.len());
            for (req, result) in tickets.iter().zip(answer.results) {
                match result.result {
                    Some(pb::create_ticket_result::Result::Ticket(t))
                        if t.external_id == req.external_id =>
                    {
                        acks.push(Ack::Created {
                            ticket: t.ticket_id,
                            external: req.external_id.clone(),
                        })
                    }
                    other => ctx.odd(format!("bulk create {}: {other:?}", req.external_id)),
                }
            }
            ctx.record(&acks);
        }
        ctx.killed.store(true, Ordering::SeqCst);
        d.kill9();
        self.kills += 1;
        join_all(vec![watch]).await;
    }

    /// Restarts the big store once to time its recovery, then SIGKILLs the daemon at random
    /// moments before it would be ready.
    pub(super) async fn kill_during_recovery(&mut self) {
        let started = Instant::now();
        let d = start(&self.dir).await;
        let recovery = started.elapsed();
        let mut c = d.clients().await;
        let (_, tickets) = self.check(&mut c, "the end of the bulk load").await;
        drop(c);
        d.kill9();
        self.kills += 1;
        println!(
            "crash_loop: {tickets} tickets: start to ready in {} ms ({} build)",
            recovery.as_millis(),
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
        let window = recovery.as_millis() as u64 * 9 / 10;
        let mut round = 0;
        // Random moments within the recovery; if all of them fell after the ready line
        // (a much faster start), earlier ones until one falls inside.
        while round < RECOVERY_KILLS || (self.kills_in_recovery == 0 && round < 3 * RECOVERY_KILLS)
        {
            let limit = if round < RECOVERY_KILLS {
                window
            } else {
                window >> (round - RECOVERY_KILLS + 1)
            };
            let delay = Duration::from_millis(self.rng.random_range(0..=limit));
            self.note(&format!(
                "recovery kill {round} after {} ms",
                delay.as_millis()
            ));
            let dir = self.dir.clone();
            let ready =
                tokio::task::spawn_blocking(move || kill_while_starting(&dir, delay, round))
                    .await
                    .expect("recovery kill task")
                    .unwrap_or_else(|e| panic!("recovery kill {round} (seed {}): {e}", self.seed));
            self.kills += 1;
            if !ready {
                self.kills_in_recovery += 1;
            }
            round += 1;
        }
        assert!(
            self.kills_in_recovery > 0,
            "no SIGKILL landed before the ready line (seed {})",
            self.seed
        );
    }

    /// The last life: check everything once more, read the event stream up to a marker, stop
    /// with SIGTERM, and compare the events and the ledger file with what was acknowledged.
    pub(super) async fn finish(&mut self) {
        let d = start(&self.dir).await;
        self.note(&format!("final check: daemon pid {}", d.pid()));
        let mut c = d.clients().await;
        self.check(&mut c, "the final start").await;
        let ctx = self.ctx();
        let watch = tokio::spawn(watcher(c.clone(), ctx.clone(), Arc::clone(&self.tally)));
        let external = format!("cx-{}", self.next.fetch_add(1, Ordering::SeqCst));
        let marker = c
            .tickets
            .create_ticket(request_for(&external))
            .await
            .expect("marker create")
            .into_inner();
        ctx.record(&[Ack::Created {
            ticket: marker.ticket_id,
            external,
        }]);
        let deadline = Instant::now() + Duration::from_secs(120);
        while !self
            .tally
            .lock()
            .expect("tally")
            .created
            .contains_key(&marker.ticket_id)
        {
            assert!(
                Instant::now() < deadline,
                "the marker's CREATED event never came"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(c);
        ctx.killed.store(true, Ordering::SeqCst);
        let exit = d.terminate().await;
        assert!(exit.success(), "SIGTERM exits 0, got {exit:?}");
        join_all(vec![watch]).await;

        let ledger = self.ledger.lock().expect("ledger");
        let tally = self.tally.lock().expect("tally");
        let problems = events_against_ledger(&ledger, &tally);
        assert!(
            problems.is_empty(),
            "crash loop failed at the final event check (replay with TRIAGE_CRASH_SEED={}): {}",
            self.seed,
            problems.report()
        );
    }
}
