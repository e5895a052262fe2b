//! `triage bench`: an honest load generator for integrators. It drives a running daemon
//! (`--target`) or one of its own on a temporary data dir (`--spawn`) with the DOMAIN.md traffic
//! mix: creators create tickets (closed loop, or open loop at `--rate` with latency measured from
//! each request's intended start, so a stalled server cannot hide its queueing: no coordinated
//! omission), and agents pull, reply and resolve. It checks as it goes that no ticket is held by
//! two agents at once, and at the end that every acknowledged ticket is accounted for.
//!
//! A run always ends: its agents together cover every routing key the mix creates (unless
//! `--random-agents`), the drain stops after `--drain-timeout` without progress and explains
//! what is still queued, and Ctrl-C or SIGTERM stops it with a partial report and without
//! leaving its temporary data dir behind.

mod cpu;
mod drain;
mod leftovers;
pub mod mix;
mod report;
mod session;
mod signals;
mod soak;
mod spawn;
mod workers;

use crate::core::types::Span;
use anyhow::Context;
use clap::Args;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Drive the daemon at this gRPC address (e.g. http://127.0.0.1:50051).
    #[arg(long, conflicts_with = "spawn")]
    pub target: Option<String>,
    /// Start a daemon of our own on a temporary data dir (the default without --target).
    #[arg(long)]
    pub spawn: bool,
    /// HTTP/2 connections the load is spread over.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Concurrent creators (closed loop) or the most creates in flight (open loop); 0 lets the
    /// agents work off the backlog already queued (assignment throughput alone).
    #[arg(long, default_value_t = 32)]
    pub creators: usize,
    /// Agents pulling, replying and resolving, one ticket at a time each; 0 measures creates
    /// alone (the tickets stay open).
    #[arg(long, default_value_t = 200)]
    pub agents: usize,
    /// Tickets to create [default: 20000, or unbounded with --duration].
    #[arg(long)]
    pub tickets: Option<u64>,
    /// Create for this long ("30s", "2m") instead of a ticket count.
    #[arg(long)]
    pub duration: Option<String>,
    /// Open loop: creates per second. Without it the creators run closed loop (max throughput).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Agents keep what they pull (no reply, no resolve; capacity 1000 per channel): measures
    /// durable assignments alone, like a queue's pop.
    #[arg(long)]
    pub hold: bool,
    /// Open loop for the agents: pulls per second in all, spread evenly over them, with
    /// latency counted from each pull's intended start (use with --hold on a backlog).
    #[arg(long)]
    pub pull_rate: Option<f64>,
    /// End each cycle at the resolve, without the check-back (RecordFollowUp) that finishes a
    /// resolved ticket; a resolved ticket then waits for its follow-up in the daemon.
    #[arg(long)]
    pub no_follow_up: bool,
    /// Tickets per create call: 1 uses CreateTicket, more use the batch CreateTickets (at most
    /// 1000).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// How agents get tickets: `unary` pulls with PullNextTicket, `stream` opens one
    /// AgentService.Work session per agent and has assignments pushed.
    #[arg(long, value_enum, default_value_t = Mode::Unary)]
    pub mode: Mode,
    /// Stream mode: credit each agent keeps out (tickets pushed ahead of need).
    #[arg(long, default_value_t = 4)]
    pub window: u32,
    /// Seed of the traffic mix.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the result as JSON (for machines) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Once the creators are done, stop waiting for the agents after this long without a
    /// ticket done ("5s", "1m"); the report then says what is still queued and why.
    #[arg(long, default_value = "5s")]
    pub drain_timeout: String,
    /// Register the mix's random agents as they are, without widening them to cover every
    /// routing key: some tickets then wait for escalation, and the drain timeout ends the run.
    #[arg(long)]
    pub random_agents: bool,
    /// With --target: afterwards cancel the tickets this run left open and set its agents
    /// OFFLINE (without it the report lists them).
    #[arg(long, requires = "target")]
    pub cleanup: bool,
    /// Soak: every this long ("10s", "1m"), and once at the end, sample the daemon's resident
    /// memory and data-dir size (from its /metrics) with the tickets done so far; the report
    /// lists the samples and their growth per 100,000 tickets.
    #[arg(long)]
    pub rss_every: Option<String>,
    /// The daemon's metrics address with --target (e.g. http://127.0.0.1:9464): the report
    /// then gives the server's CPU per operation, and --rss-every needs it; a spawned daemon's
    /// is known.
    #[arg(long)]
    pub metrics: Option<String>,
    /// Start the agents only once every ticket is created: the creates, then the pulls, each
    /// measured alone (server CPU per create and, with --hold, per assignment).
    #[arg(long)]
    pub phased: bool,
    /// Turn offers on for every channel with this timeout ("10s") before the run (with
    /// --target this changes the daemon's policy): every pull or push is then an offer that
    /// the bench agent accepts before working on it (AcceptTicket, in the report).
    #[arg(long)]
    pub offer_timeout: Option<String>,
    /// TLS and token for --target (an admin token can act as every bench agent).
    #[command(flatten)]
    pub client: crate::client::ClientArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Unary,
    Stream,
}

/// What to run, resolved from the arguments.
#[derive(Clone, Debug)]
pub struct Plan {
    pub connections: usize,
    pub creators: usize,
    pub agents: usize,
    pub tickets: Option<u64>,
    pub duration: Option<Duration>,
    pub rate: Option<f64>,
    pub hold: bool,
    /// The agents start once the creators are done (`--phased`).
    pub phased: bool,
    /// Do the check-back after each resolve, so the ticket is finished (see `--no-follow-up`).
    pub follow_up: bool,
    pub batch: usize,
    pub pull_rate: Option<f64>,
    pub mode: Mode,
    pub window: u32,
    pub seed: u64,
    pub drain_timeout: Duration,
    pub random_agents: bool,
    /// Driving a daemon the bench does not own (`--target`).
    pub target: bool,
    pub cleanup: bool,
    /// Soak sampling: how often (`--rss-every`).
    pub rss_every: Option<Duration>,
    /// Where to read the samples and the server's CPU: `--metrics`, or the spawned daemon's.
    pub metrics: Option<soak::MetricsUrl>,
    /// Offers on every channel, open this long (`--offer-timeout`).
    pub offer_timeout: Option<Span>,
    pub client: crate::client::ClientArgs,
}

impl BenchArgs {
    fn plan(&self) -> anyhow::Result<Plan> {
        let duration = match &self.duration {
            Some(text) => Some(Duration::from_millis(
                Span::parse(text).map_err(anyhow::Error::msg)?.0,
            )),
            None => None,
        };
        let tickets = match (self.tickets, duration) {
            (None, None) => Some(20_000),
            (t, _) => t,
        };
        anyhow::ensure!(self.connections > 0, "--connections must be at least 1");
        anyhow::ensure!(
            self.creators > 0 || self.agents > 0,
            "--creators and --agents cannot both be 0"
        );
        anyhow::ensure!(
            (1..=1000).contains(&self.batch),
            "--batch must be between 1 and 1000"
        );
        anyhow::ensure!(
            self.mode == Mode::Unary || self.pull_rate.is_none(),
            "--pull-rate paces unary pulls; it cannot be used with --mode stream"
        );
        anyhow::ensure!(
            (1..=1000).contains(&self.window),
            "--window must be between 1 and 1000"
        );
        let rss_every = match &self.rss_every {
            Some(text) => Some(Duration::from_millis(
                Span::parse(text)
                    .map_err(|e| anyhow::anyhow!("--rss-every: {e}"))?
                    .0
                    .max(1),
            )),
            None => None,
        };
        anyhow::ensure!(
            rss_every.is_none() || self.target.is_none() || self.metrics.is_some(),
            "--rss-every with --target needs --metrics (the daemon's metrics address)"
        );
        let metrics = self.metrics.as_deref().map(soak::MetricsUrl::parse);
        let offer_timeout = match &self.offer_timeout {
            Some(text) => {
                let span =
                    Span::parse(text).map_err(|e| anyhow::anyhow!("--offer-timeout: {e}"))?;
                anyhow::ensure!(span.0 >= 1000, "--offer-timeout must be at least 1s");
                Some(span)
            }
            None => None,
        };
        for rate in [self.rate, self.pull_rate].into_iter().flatten() {
            anyhow::ensure!(rate > 0.0 && rate.is_finite(), "rates must be positive");
        }
        Ok(Plan {
            connections: self.connections,
            creators: self.creators,
            agents: self.agents,
            tickets,
            duration,
            rate: self.rate,
            hold: self.hold,
            phased: self.phased,
            follow_up: !self.no_follow_up,
            batch: self.batch,
            pull_rate: self.pull_rate,
            mode: self.mode,
            window: self.window,
            seed: self.seed,
            drain_timeout: Duration::from_millis(
                Span::parse(&self.drain_timeout)
                    .map_err(|e| anyhow::anyhow!("--drain-timeout: {e}"))?
                    .0,
            ),
            random_agents: self.random_agents,
            target: self.target.is_some(),
            cleanup: self.cleanup,
            rss_every,
            metrics: metrics.transpose()?,
            offer_timeout,
            client: self.client.clone(),
        })
    }
}

impl Plan {
    /// How long the drain waits without progress: `--drain-timeout`, but at least three pull
    /// intervals of one agent under `--pull-rate`, whose slow pulls are not a stall.
    fn drain_patience(&self) -> Duration {
        let pulls = match self.pull_rate {
            Some(rate) if self.agents > 0 => {
                Duration::from_secs_f64((3.0 * self.agents as f64 / rate).min(3600.0))
            }
            _ => Duration::ZERO,
        };
        self.drain_timeout.max(pulls)
    }

    /// The agents of the run: the mix's, widened to cover every routing key unless
    /// `--random-agents`.
    fn agents(&self) -> Vec<crate::core::command::AgentProfile> {
        let capacity = if self.hold { 1000 } else { 5 };
        let mut rng = mix::Rng::new(self.seed);
        match self.random_agents {
            true => (0..self.agents)
                .map(|i| mix::agent(&mut rng, i, capacity))
                .collect(),
            false => mix::covering_agents(&mut rng, self.agents, capacity),
        }
    }
}

/// Runs the benchmark and prints its report. After Ctrl-C or SIGTERM it prints the partial
/// report, stops its own daemon, removes that daemon's data dir and exits with 128 + the
/// signal's number.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let mut plan = args.plan()?;
    let interrupt = Arc::new(signals::Interrupt::default());
    let signals = signals::Signals::install().context("listening for signals")?;
    let spawned = match &args.target {
        Some(_) => None,
        None => Some(spawn::Spawned::start().context("starting a daemon to bench")?),
    };
    if let Some(s) = &spawned {
        plan.metrics = Some(soak::MetricsUrl::parse(&s.metrics)?);
    }
    signals.watch(
        Arc::clone(&interrupt),
        spawned.as_ref().map(|s| s.emergency()),
    );
    let target = match (&args.target, &spawned) {
        (Some(t), _) => t.clone(),
        (None, Some(s)) => s.grpc.clone(),
        (None, None) => unreachable!("a daemon is spawned when no target is given"),
    };
    let shared = Arc::new(workers::Shared::new(interrupt));
    let driven = workers::drive(&target, &plan, &plan.agents(), shared, !args.json).await;
    if let Some(s) = spawned {
        s.stop();
    }
    let outcome = driven?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome.to_json(&plan))?);
    } else {
        outcome.print(&plan);
    }
    anyhow::ensure!(
        outcome.correct(),
        "correctness check failed: {}",
        outcome.problems().join("; ")
    );
    if let Some(name) = outcome.interrupted() {
        std::process::exit(signals::exit_code(name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let cli = Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied()))?;
        cli.bench.plan()
    }

    #[test]
    fn the_drain_timeout_defaults_to_a_few_seconds_and_is_parsed() -> anyhow::Result<()> {
        assert_eq!(plan(&[])?.drain_patience(), Duration::from_secs(5));
        assert_eq!(
            plan(&["--drain-timeout", "1m"])?.drain_patience(),
            Duration::from_secs(60)
        );
        let err = plan(&["--drain-timeout", "soon"])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("--drain-timeout")));
        Ok(())
    }

    #[test]
    fn slow_open_loop_pulls_are_not_taken_for_a_stall() -> anyhow::Result<()> {
        // 10 agents pulling 1/s in all: each pulls every 10 s, so wait 30 s.
        let p = plan(&["--agents", "10", "--pull-rate", "1", "--hold"])?;
        assert_eq!(p.drain_patience(), Duration::from_secs(30));
        let p = plan(&["--agents", "10", "--pull-rate", "1000", "--hold"])?;
        assert_eq!(p.drain_patience(), Duration::from_secs(5));
        Ok(())
    }

    #[test]
    fn a_cycle_ends_with_the_check_back_unless_told_not_to() -> anyhow::Result<()> {
        assert!(plan(&[])?.follow_up);
        assert!(!plan(&["--no-follow-up"])?.follow_up);
        Ok(())
    }

    #[test]
    fn soak_sampling_against_a_target_needs_its_metrics_address() -> anyhow::Result<()> {
        let p = plan(&["--rss-every", "10s"])?;
        assert_eq!(p.rss_every, Some(Duration::from_secs(10)));
        assert!(
            p.metrics.is_none(),
            "a spawned daemon's is filled in at the start"
        );
        let target = ["--rss-every", "1s", "--target", "http://127.0.0.1:1"];
        let err = plan(&target).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("--metrics")));
        let p = plan(&[&target[..], &["--metrics", "127.0.0.1:9464"]].concat())?;
        assert!(p.metrics.is_some());
        assert!(
            plan(&["--metrics", "127.0.0.1:9464"]).is_ok_and(|p| p.metrics.is_some()),
            "for the server's CPU without --rss-every too"
        );
        assert!(plan(&["--rss-every", "often"]).is_err());
        Ok(())
    }

    #[test]
    fn an_offer_timeout_is_a_span_of_at_least_a_second() -> anyhow::Result<()> {
        assert_eq!(plan(&[])?.offer_timeout, None);
        let p = plan(&["--offer-timeout", "10s"])?;
        assert_eq!(p.offer_timeout, Some(Span::secs(10)));
        assert!(plan(&["--offer-timeout", "500ms"]).is_err());
        assert!(plan(&["--offer-timeout", "soon"]).is_err());
        Ok(())
    }

    #[test]
    fn cleanup_needs_a_target() {
        assert!(plan(&["--cleanup"]).is_err());
        assert!(plan(&["--cleanup", "--target", "http://127.0.0.1:1"])
            .is_ok_and(|p| p.cleanup && p.target));
    }

    #[test]
    fn the_run_covers_every_key_unless_asked_for_random_agents() -> anyhow::Result<()> {
        let keys = mix::routing_keys();
        let covered = |agents: &[crate::core::command::AgentProfile]| {
            keys.iter()
                .all(|(tier, skills)| agents.iter().any(|a| mix::covers(a, *tier, skills)))
        };
        assert!(covered(&plan(&["--agents", "3"])?.agents()));
        assert!(covered(&plan(&["--agents", "20"])?.agents()));
        assert!(!covered(
            &plan(&["--agents", "3", "--random-agents"])?.agents()
        ));
        Ok(())
    }
}
