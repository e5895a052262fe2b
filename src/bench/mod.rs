//! `triage bench`: an honest load generator for integrators. It drives a running daemon
//! (`--target`) or one of its own on a temporary data dir (`--spawn`) with the DOMAIN.md traffic
//! mix: creators create tickets (closed loop, or open loop at `--rate` with latency measured from
//! each request's intended start, so a stalled server cannot hide its queueing: no coordinated
//! omission), and agents pull, reply and resolve. It checks as it goes that no ticket is held by
//! two agents at once, and at the end that every acknowledged ticket is accounted for.

pub mod mix;
mod report;
mod session;
mod spawn;
mod workers;

use crate::core::types::Span;
use anyhow::Context;
use clap::Args;
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
    pub batch: usize,
    pub pull_rate: Option<f64>,
    pub mode: Mode,
    pub window: u32,
    pub seed: u64,
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
            batch: self.batch,
            pull_rate: self.pull_rate,
            mode: self.mode,
            window: self.window,
            seed: self.seed,
            client: self.client.clone(),
        })
    }
}

/// Runs the benchmark and prints its report.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let plan = args.plan()?;
    let spawned = match &args.target {
        Some(_) => None,
        None => Some(spawn::Spawned::start().context("starting a daemon to bench")?),
    };
    let target = match (&args.target, &spawned) {
        (Some(t), _) => t.clone(),
        (None, Some(s)) => s.grpc.clone(),
        (None, None) => unreachable!("a daemon is spawned when no target is given"),
    };
    let outcome = workers::drive(&target, &plan, !args.json).await?;
    if let Some(s) = spawned {
        s.stop();
    }
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
    Ok(())
}
