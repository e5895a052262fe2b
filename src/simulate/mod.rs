//! `triage simulate`: what-if on virtual time. A day of contacts (generated from a seed, or an
//! M/M/c stream for checking against Erlang C) runs through triage's real scheduler core, the
//! same code the daemon serves with, with no sleeps and no copy of its rules; and through
//! baseline desks (FIFO, round robin) on the very same contacts and agents. The report sets
//! their service levels side by side.

mod baseline;
mod chart;
mod engine;
pub mod erlang;
pub mod input;
mod report;
pub mod staffing;
pub mod traffic;
mod triage_desk;
mod versus;

pub use engine::{run, Desk, Duty, Outcome, Run};
pub use input::RosterEntry;
pub use report::{desk_report, DeskReport, Figures};

use crate::bench::mix;
use crate::core::command::AgentProfile;
use crate::core::policy::{QueueOrder, SlaPolicy};
use crate::core::types::{Channel, Priority, SlaMetric, Span, Tier, Ts};
use anyhow::Context;
use baseline::Baseline;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::time::Instant;
use traffic::{Contact, Conversations};
use triage_desk::TriageDesk;

/// The flags of `triage simulate`. Flags that only mean something in some modes have no clap
/// default (their default is applied in code and named in their help), so that one given
/// where it means nothing is refused rather than silently ignored (`check_flags`).
#[derive(Args, Clone, Debug)]
pub struct SimulateArgs {
    /// Contacts from a trace instead of generated ones: JSON Lines, or CSV if the name ends in
    /// .csv (fields: at, channel, tier, skills, priority, sentiment, handle, patience; see
    /// examples/trace.jsonl).
    #[arg(long)]
    pub trace: Option<std::path::PathBuf>,
    /// Agents from a roster file (TOML, `[[agent]]` with id, skills, tiers, capacity, shifts;
    /// see examples/roster.toml) instead of --agents generated ones. Not with `poisson`
    /// (M/M/c's agents are --agents single-chat agents) or --sweep.
    #[arg(long)]
    pub roster: Option<std::path::PathBuf>,
    /// `day` (the default): the DOMAIN.md mix over a day's hourly curve; `poisson`: one chat
    /// queue with Poisson arrivals and exponential handle times (the Erlang C case).
    #[arg(long, value_enum)]
    pub traffic: Option<Traffic>,
    /// Contacts in the generated day (`day` only; default 100000).
    #[arg(long)]
    pub contacts: Option<usize>,
    /// Agents on duty all day, skills and tiers drawn as `triage bench` draws them (`day`;
    /// default capacity per channel), or agents serving one chat at a time (`poisson`); the
    /// pool of --target-sl. Default 200; not with --roster or --sweep.
    #[arg(long)]
    pub agents: Option<usize>,
    /// Arrivals per hour (`poisson` only; default 100).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Mean handle time (`poisson` only; default 5m), e.g. "5m".
    #[arg(long)]
    pub handle: Option<String>,
    /// Simulated hours (`poisson` only; default 24).
    #[arg(long)]
    pub hours: Option<f64>,
    /// The first-response target that `poisson`'s service level is measured against, e.g.
    /// "20s" (`poisson` only; default the SLA policy's chat target, 30s). The day is measured
    /// against the policy's targets per channel, tier and priority.
    #[arg(long)]
    pub target: Option<String>,
    /// Seed of the generated traffic and agents: the same seed, the same day (default 1; not
    /// with both --trace and --roster, which leave nothing to generate).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Only triage's desk, without the baselines (with --target-sl: without FIFO's plan to
    /// compare with).
    #[arg(long)]
    pub no_baselines: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Find the fewest agents per hour that meet these service levels instead of simulating a
    /// given roster: a share for every tier ("0.8") and any per tier ("vip=0.95"); repeat
    /// the flag or separate with commas. Agents come from --roster (shifts ignored) or the
    /// --agents generated ones, in order. Covers the first day of the contacts. With --sweep,
    /// the service levels the picture draws as target lines instead (default 0.8).
    #[arg(long, value_delimiter = ',')]
    pub target_sl: Vec<String>,
    /// Run the day with each number of generated agents FROM:TO:STEP (e.g. 40:200:20) and
    /// report the service level of every desk against staffing.
    #[arg(long)]
    pub sweep: Option<String>,
    /// Write pictures (SVG) to this directory, created if missing and checked before the run:
    /// queue depth and oldest wait over the day, or with --sweep the service level against
    /// the number of agents.
    #[arg(long)]
    pub svg: Option<std::path::PathBuf>,
    /// Also write the contacts simulated to this file as JSON Lines (a trace to edit and
    /// feed back with --trace).
    #[arg(long)]
    pub export_trace: Option<std::path::PathBuf>,
    /// The queue order(s) triage's desk runs with: `deadline`, `savable_first`,
    /// `savable_turns`, or several separated by commas to set them side by side in one run or sweep (one desk each,
    /// named after its order). Default: the policy's order (savable_turns), one desk named
    /// "triage". One order only with the staffing search (--target-sl).
    #[arg(long, value_delimiter = ',')]
    pub order: Vec<String>,
    /// The SLA policy to schedule and measure with: a TOML file with a `[policy]` table, the
    /// same table `triage serve --config` reads (a whole daemon config file will do). Default:
    /// the built-in policy (DOMAIN.md's targets). Its calendars count business time: a
    /// contact's first response is within target when the open time between its arrival and
    /// the answer is.
    #[arg(long)]
    pub policy: Option<std::path::PathBuf>,
    /// How much conversation the generated day carries after each first answer: `live` (the
    /// default: follow-ups while the agent holds the contact, no waiting on the customer),
    /// `full` (also follow-ups after the ticket waited PENDING on the customer) or `none`
    /// (one answer per contact). `day` only; a trace brings its own.
    #[arg(long, value_enum)]
    pub conversations: Option<Conversations>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Traffic {
    Day,
    Poisson,
}

/// Where the contacts come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Day,
    Poisson,
    Trace,
}

impl SimulateArgs {
    fn source(&self) -> Source {
        match (&self.trace, self.traffic) {
            (Some(_), _) => Source::Trace,
            (None, Some(Traffic::Poisson)) => Source::Poisson,
            (None, _) => Source::Day,
        }
    }

    fn agents(&self) -> usize {
        self.agents.unwrap_or(200)
    }

    fn seed(&self) -> u64 {
        self.seed.unwrap_or(1)
    }
}

/// Refuses flags that mean nothing with the others given, naming the flag and why, so that a
/// run never silently differs from what was asked.
fn check_flags(args: &SimulateArgs) -> anyhow::Result<()> {
    let source = args.source();
    let staffing = !args.target_sl.is_empty() && args.sweep.is_none();
    let refuse = |flag: &str, why: &str| Err(anyhow::anyhow!("{flag} {why}"));
    if args.trace.is_some() && args.traffic.is_some() {
        return refuse(
            "--traffic",
            "chooses generated contacts; --trace brings its own",
        );
    }
    if args.contacts.is_some() && source != Source::Day {
        return refuse(
            "--contacts",
            match source {
                Source::Poisson => "sizes the generated day; poisson traffic draws --rate contacts an hour for --hours",
                _ => "sizes the generated day; --trace brings its own contacts",
            },
        );
    }
    if args.conversations.is_some() && source != Source::Day {
        return refuse(
            "--conversations",
            match source {
                Source::Poisson => "shapes the generated day; M/M/c contacts have one answer each",
                _ => "shapes the generated day; --trace brings its own conversations",
            },
        );
    }
    if source != Source::Poisson {
        let given = [
            ("--rate", args.rate.is_some()),
            ("--hours", args.hours.is_some()),
            ("--handle", args.handle.is_some()),
            ("--target", args.target.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
            return refuse(
                flag,
                "is for --traffic poisson; the day (generated or --trace) has its own, and is measured against the SLA policy's targets per channel, tier and priority",
            );
        }
    }
    if args.roster.is_some() {
        if source == Source::Poisson {
            return refuse(
                "--roster",
                "is not for --traffic poisson: M/M/c is served by --agents agents who each take one chat at a time",
            );
        }
        if args.sweep.is_some() {
            return refuse(
                "--roster",
                "is not for --sweep, which draws its own agents for each staffing level",
            );
        }
        if args.agents.is_some() {
            return refuse(
                "--agents",
                "draws generated agents; --roster brings its own",
            );
        }
        if args.seed.is_some() && source == Source::Trace {
            return refuse(
                "--seed",
                "draws generated contacts and agents; --trace and --roster bring both",
            );
        }
    }
    if args.sweep.is_some() && args.agents.is_some() {
        return refuse(
            "--agents",
            "is not for --sweep, whose FROM:TO:STEP sets the number of agents",
        );
    }
    if staffing && args.svg.is_some() {
        return refuse(
            "--svg",
            "draws a run or a --sweep; the staffing search (--target-sl) has no picture",
        );
    }
    if staffing && args.order.len() > 1 {
        return refuse(
            "--order",
            "compares orders in a run or a --sweep; the staffing search (--target-sl) staffs one desk",
        );
    }
    Ok(())
}

/// Makes sure pictures can be written to `dir` (creating it if missing) before any work is
/// done, so a typo fails in a moment rather than after a long run.
fn check_svg_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--svg {}: cannot create the directory", dir.display()))?;
    let probe = dir.join(format!(".triage-simulate-{}.svg", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("--svg {}: cannot write there", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Everything `triage simulate` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    pub contacts: usize,
    pub agents: usize,
    pub desks: Vec<DeskReport>,
    /// For `poisson` traffic: the one first-response target every contact is measured
    /// against, in seconds (the day's targets vary per contact: the SLA policy's).
    pub target_seconds: Option<f64>,
    /// For `poisson` traffic: what Erlang C predicts for the service level and ASA.
    pub erlang_c: Option<ErlangC>,
    /// Wall time of triage's run, in seconds.
    pub triage_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ErlangC {
    /// Offered load in Erlangs (arrivals per second times the mean handle time).
    pub load_erlangs: f64,
    pub agents: usize,
    /// Load ≥ agents: the queue grows without bound, and Erlang C has no answer.
    pub overloaded: bool,
    pub target_seconds: f64,
    pub service_level: Option<f64>,
    pub asa_seconds: Option<f64>,
}

/// The FIFO baseline's name in reports: the desk the others are measured against.
const FIFO: &str = "fifo";

/// The first instant of a simulated day: Monday 2026-01-05 00:00 UTC.
pub const DAY_START: Ts = Ts(1_767_571_200_000);

pub fn main(args: SimulateArgs) -> anyhow::Result<()> {
    check_flags(&args)?;
    let source = args.source();
    let handle = Span::parse(args.handle.as_deref().unwrap_or("5m"))
        .map_err(|e| anyhow::anyhow!("--handle: {e}"))?;
    let (mut policy, target) = measuring_policy(&args)?;
    let orders = queue_orders(&args.order)?;
    if let [order] = orders[..] {
        policy.order = order;
    }
    anyhow::ensure!(args.agents() > 0, "--agents must be at least 1");
    let sweep_levels = args.sweep.as_deref().map(sweep_levels).transpose()?;
    let sl_targets = staffing::Targets::parse(&args.target_sl)?;
    if let Some(dir) = &args.svg {
        check_svg_dir(dir)?;
    }
    let contacts = match (&args.trace, source) {
        (Some(path), _) => input::read_trace(path)?,
        (None, Source::Day | Source::Trace) => {
            let talk = args.conversations.unwrap_or_default();
            traffic::generated_day(
                args.contacts.unwrap_or(100_000),
                DAY_START,
                args.seed(),
                talk,
            )
        }
        (None, Source::Poisson) => {
            let (rate, hours) = (args.rate.unwrap_or(100.0), args.hours.unwrap_or(24.0));
            anyhow::ensure!(
                rate > 0.0 && hours > 0.0,
                "--rate and --hours must be positive"
            );
            traffic::poisson(rate, hours, handle, DAY_START, args.seed())
        }
    };
    anyhow::ensure!(!contacts.is_empty(), "no contacts to simulate");
    if let Some(path) = &args.export_trace {
        input::write_trace(path, &contacts)?;
    }
    if let Some(levels) = sweep_levels {
        return sweep(&args, &levels, &sl_targets, (&policy, &orders), &contacts);
    }
    let roster = match &args.roster {
        Some(path) => input::read_roster(path)?,
        None => generated_roster(source, args.agents(), args.seed()),
    };
    anyhow::ensure!(!roster.is_empty(), "the roster has no agents");
    if !args.target_sl.is_empty() {
        return staff(&args, &policy, &contacts, &roster);
    }
    let report = simulate_orders(&policy, &orders, &contacts, &roster, !args.no_baselines)?;
    let measured = (source == Source::Poisson).then(|| {
        let t = target.unwrap_or_else(|| chat_target(&policy));
        (t, erlang_c(&args, handle, roster.len(), t))
    });
    let report = Report {
        target_seconds: measured.as_ref().map(|(t, _)| t.as_secs_f64()),
        erlang_c: measured.map(|(_, e)| e),
        ..report
    };
    if let Some(dir) = &args.svg {
        let notes = QueueNotes::new(&roster, &contacts);
        write_svg(dir, "queue.svg", &queue_chart(&report.desks, false, &notes))?;
        write_svg(
            dir,
            "oldest-wait.svg",
            &queue_chart(&report.desks, true, &notes),
        )?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report, args.target.is_some()));
    }
    Ok(())
}

/// The SLA policy every desk is measured (and triage scheduled) with: `--policy`'s or the
/// default, with chat's first-response target set to `--target` if given (poisson's contacts
/// are all chats).
fn measuring_policy(args: &SimulateArgs) -> anyhow::Result<(SlaPolicy, Option<Span>)> {
    let mut policy = match &args.policy {
        Some(path) => policy_file(path)?,
        None => SlaPolicy::default(),
    };
    let Some(t) = &args.target else {
        return Ok((policy, None));
    };
    let span = Span::parse(t).map_err(|e| anyhow::anyhow!("--target: {e}"))?;
    anyhow::ensure!(span > Span(0), "--target must be more than zero");
    policy.targets.chat.first_response = span;
    Ok((policy, Some(span)))
}

/// The `[policy]` table of a TOML file, checked as the daemon checks it at boot.
fn policy_file(path: &std::path::Path) -> anyhow::Result<SlaPolicy> {
    crate::config::FileConfig::load(path)?
        .policy
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--policy {}: the file has no [policy] table",
                path.display()
            )
        })
}

/// `--order`'s names as orders, in the order given, each once.
fn queue_orders(names: &[String]) -> anyhow::Result<Vec<QueueOrder>> {
    let mut orders = Vec::new();
    for name in names {
        let order = QueueOrder::from_label(name.trim()).ok_or_else(|| {
            anyhow::anyhow!("--order {name:?}: one of deadline, savable_first, savable_turns")
        })?;
        if !orders.contains(&order) {
            orders.push(order);
        }
    }
    Ok(orders)
}

/// The agents when no roster is given: `day` agents as `triage bench` draws them, or M/M/c's
/// single-chat agents for `poisson`.
fn generated_roster(source: Source, agents: usize, seed: u64) -> Vec<RosterEntry> {
    match source {
        Source::Poisson => single_queue_roster(agents),
        Source::Day | Source::Trace => day_roster(agents, seed),
    }
}

/// One point of a sweep: the number of agents and each desk's headline figures.
#[derive(Debug, Serialize)]
pub struct SweepPoint {
    pub agents: usize,
    pub desks: Vec<SweepDesk>,
}

/// A desk's figures at one staffing level of a sweep.
#[derive(Debug, Serialize)]
pub struct SweepDesk {
    pub desk: String,
    pub service_level: Option<f64>,
    pub vip_service_level: Option<f64>,
    pub abandonment_rate: Option<f64>,
    pub p99_wait_seconds: Option<f64>,
    /// This desk against FIFO at the same staffing (absent for FIFO, and without baselines).
    pub vs_fifo: Option<versus::Gain>,
}

impl SweepDesk {
    fn headline(&self) -> versus::Headline {
        versus::Headline {
            all: self.service_level,
            vip: self.vip_service_level,
            abandoned: self.abandonment_rate,
            p99: self.p99_wait_seconds,
        }
    }
}

/// `--sweep FROM:TO:STEP` as the staffing levels it names.
fn sweep_levels(range: &str) -> anyhow::Result<Vec<usize>> {
    let parts: Vec<usize> = range
        .split(':')
        .map(|p| p.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--sweep {range:?}: FROM:TO:STEP, e.g. 40:200:20"))?;
    let [from, to, step] = parts[..] else {
        anyhow::bail!("--sweep {range:?}: FROM:TO:STEP, e.g. 40:200:20");
    };
    anyhow::ensure!(
        from > 0 && step > 0 && from <= to,
        "--sweep {range:?}: 0 < FROM <= TO, STEP > 0"
    );
    Ok((from..=to).step_by(step).collect())
}

/// Progress of a sweep on stderr, for a run that takes half a minute: a bar on a terminal,
/// else one line per staffing level done (a log or CI shows how far it is).
struct Progress<W: std::io::Write> {
    bar: Option<indicatif::ProgressBar>,
    lines: Option<W>,
    levels: usize,
    done: usize,
    started: Instant,
}

impl Progress<std::io::Stderr> {
    fn on_stderr(levels: usize) -> Self {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(levels as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {pos}/{len} staffing levels, {elapsed}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            Progress {
                bar: Some(bar),
                ..Progress::lines(levels, std::io::stderr())
            }
        } else {
            Progress::lines(levels, std::io::stderr())
        }
    }
}

impl<W: std::io::Write> Progress<W> {
    fn lines(levels: usize, out: W) -> Self {
        Progress {
            bar: None,
            lines: Some(out),
            levels,
            done: 0,
            started: Instant::now(),
        }
    }

    fn start(&mut self, agents: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("sweep: {agents} agents"));
        }
    }

    fn finished(&mut self, agents: usize) {
        self.done += 1;
        match (&self.bar, &mut self.lines) {
            (Some(bar), _) => bar.inc(1),
            (None, Some(out)) => {
                let _ = writeln!(
                    out,
                    "sweep: {agents} agents done ({}/{}, {:.0} s)",
                    self.done,
                    self.levels,
                    self.started.elapsed().as_secs_f64()
                );
            }
            (None, None) => {}
        }
    }

    fn clear(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `--sweep`: the day with each number of agents, every desk.
fn sweep(
    args: &SimulateArgs,
    levels: &[usize],
    targets: &staffing::Targets,
    (policy, orders): (&SlaPolicy, &[QueueOrder]),
    contacts: &[Contact],
) -> anyhow::Result<()> {
    let mut progress = Progress::on_stderr(levels.len());
    let mut points = Vec::new();
    for &agents in levels {
        progress.start(agents);
        let roster = generated_roster(args.source(), agents, args.seed());
        let report = simulate_orders(policy, orders, contacts, &roster, !args.no_baselines)?;
        points.push(sweep_point(agents, &report.desks));
        progress.finished(agents);
    }
    progress.clear();
    if let Some(dir) = &args.svg {
        write_svg(dir, "service-level.svg", &sweep_chart(&points, targets))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&points)?);
    } else {
        print!("{}", sweep_table(&points));
    }
    Ok(())
}

fn sweep_point(agents: usize, desks: &[DeskReport]) -> SweepPoint {
    let vip = |d: &DeskReport| {
        d.by_tier
            .iter()
            .find(|(t, _)| *t == Tier::Vip)
            .and_then(|(_, f)| f.service_level)
    };
    let mut desks: Vec<SweepDesk> = desks
        .iter()
        .map(|d| SweepDesk {
            desk: d.desk.clone(),
            service_level: d.overall.service_level,
            vip_service_level: vip(d),
            abandonment_rate: d.overall.abandonment_rate,
            p99_wait_seconds: d.overall.waits.map(|w| w.p99),
            vs_fifo: None,
        })
        .collect();
    against_fifo(&mut desks);
    SweepPoint { agents, desks }
}

/// Sets every desk but FIFO against FIFO, when FIFO is among them.
fn against_fifo(desks: &mut [SweepDesk]) {
    let fifo = desks
        .iter()
        .find(|d| d.desk == FIFO)
        .map(SweepDesk::headline);
    if let Some(fifo) = fifo {
        for d in desks.iter_mut().filter(|d| d.desk != FIFO) {
            d.vs_fifo = Some(versus::Gain::between(&d.headline(), &fifo));
        }
    }
}

/// The sweep as text: every desk's headline figures against agents, then, with FIFO among
/// the desks, each other desk against FIFO in the benchmark's terms (`versus`).
fn sweep_table(points: &[SweepPoint]) -> String {
    let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1} %", v * 100.0));
    let secs = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.0} s"));
    let mut out = sweep_block(
        points,
        "service level all / VIP, abandoned, p99 first-response wait, against agents",
        &|d| {
            Some(format!(
                "{} / {}, {}, {}",
                pct(d.service_level),
                pct(d.vip_service_level),
                pct(d.abandonment_rate),
                secs(d.p99_wait_seconds)
            ))
        },
    );
    let against = sweep_block(
        points,
        "\nagainst FIFO: service level all / VIP (points), abandoned (points), p99 wait (times FIFO's)",
        &|d| d.vs_fifo.map(|g| g.cell()),
    );
    if points
        .iter()
        .any(|p| p.desks.iter().any(|d| d.vs_fifo.is_some()))
    {
        out.push_str(&against);
        out.push_str(&versus::legend());
    }
    out
}

/// One table of the sweep: a row per staffing level, a column per desk that `cell` has
/// something to say about.
fn sweep_block(
    points: &[SweepPoint],
    title: &str,
    cell: &dyn Fn(&SweepDesk) -> Option<String>,
) -> String {
    let mut out = format!("{title}\nagents");
    let shown = |d: &&SweepDesk| cell(d).is_some();
    if let Some(p) = points.first() {
        for d in p.desks.iter().filter(shown) {
            out.push_str(&format!("{:>34}", d.desk));
        }
    }
    out.push('\n');
    for p in points {
        out.push_str(&format!("{:>6}", p.agents));
        for text in p.desks.iter().filter_map(cell) {
            out.push_str(&format!("{text:>34}"));
        }
        out.push('\n');
    }
    out
}

/// The line styles of the desks, in report order (triage, FIFO, round robin): a colour, a
/// dash pattern and a marker each, so that two desks on the same points stay visible.
const DESK_STYLES: [(chart::Dash, chart::Marker); 3] = [
    (chart::Dash::Solid, chart::Marker::Circle),
    (chart::Dash::Dashed, chart::Marker::Square),
    (chart::Dash::Dotted, chart::Marker::Triangle),
];

fn desk_style(i: usize) -> (chart::Dash, chart::Marker) {
    DESK_STYLES[i % DESK_STYLES.len()]
}

fn pct_label(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

/// Service level against agents: per desk a colour and a marker, all contacts solid and VIP
/// dashed; ticks at the sweep's levels; the service-level targets as labelled lines.
fn sweep_chart(points: &[SweepPoint], targets: &staffing::Targets) -> chart::Chart {
    let names: Vec<String> = points
        .first()
        .map(|p| p.desks.iter().map(|d| d.desk.clone()).collect())
        .unwrap_or_default();
    let line = |i: usize, vip: bool| chart::Series {
        name: if vip {
            format!("{} VIP", names[i])
        } else {
            format!("{} all", names[i])
        },
        points: points
            .iter()
            .filter_map(|p| {
                let d = &p.desks[i];
                let y = if vip {
                    d.vip_service_level
                } else {
                    d.service_level
                };
                y.map(|y| (p.agents as f64, y))
            })
            .collect(),
        color: i,
        dash: if vip {
            chart::Dash::Dashed
        } else {
            chart::Dash::Solid
        },
        marker: Some(desk_style(i).1),
        note: None,
    };
    let series = (0..names.len())
        .flat_map(|i| [line(i, false), line(i, true)])
        .collect();
    let mut rules = vec![chart::Rule {
        y: targets.default,
        label: format!("target {}", pct_label(targets.default)),
    }];
    let vip = targets.for_tier(Tier::Vip);
    if (vip - targets.default).abs() > 1e-9 {
        rules.push(chart::Rule {
            y: vip,
            label: format!("VIP target {}", pct_label(vip)),
        });
    }
    chart::Chart {
        title: "Service level against agents on duty (solid: all, dashed: VIP)".into(),
        x_label: "agents on duty (the sweep's staffing levels)".into(),
        y_label: "answered within first-response target".into(),
        series,
        x_axis: chart::XAxis::At(points.iter().map(|p| p.agents as f64).collect()),
        y_ticks: |y| format!("{:.0} %", y * 100.0),
        y_from_zero: false,
        y_cap: Some(1.0),
        rules,
        shade: Vec::new(),
    }
}

/// What the queue pictures mark besides the desks' lines: when arrivals stop and when the
/// last shift ends (hours since midnight of the first contact's day).
struct QueueNotes {
    last_arrival: f64,
    /// `None` when some agent is on duty all the time.
    last_shift_end: Option<f64>,
}

impl QueueNotes {
    fn new(roster: &[RosterEntry], contacts: &[Contact]) -> QueueNotes {
        let day = contacts.first().map_or(Ts(0), |c| midnight(c.at));
        let hours = |t: Ts| (t.0 - day.0) as f64 / 3_600_000.0;
        let duty = duty(roster, contacts);
        let last_shift_end = duty
            .iter()
            .map(|d| d.as_ref().and_then(|d| d.iter().map(|i| i.1).max()))
            .collect::<Option<Vec<Ts>>>()
            .and_then(|ends| ends.into_iter().max())
            .map(hours);
        QueueNotes {
            last_arrival: contacts.last().map_or(0.0, |c| hours(c.at)),
            last_shift_end,
        }
    }
}

/// The samples worth drawing: up to a quarter of an hour after the last change of any desk's queue or the
/// last arrival, whichever is later. A contact nobody can take keeps a run going for days
/// with nothing changing; the legend says how many were never answered.
fn queue_window(desks: &[DeskReport], notes: &QueueNotes) -> f64 {
    let last_change = desks
        .iter()
        .filter_map(|d| {
            d.samples
                .windows(2)
                .rev()
                .find(|w| w[0].1 != w[1].1)
                .map(|w| w[1].0)
        })
        .fold(notes.last_arrival, f64::max);
    let end = desks
        .iter()
        .filter_map(|d| d.samples.last().map(|s| s.0))
        .fold(f64::MIN, f64::max);
    (last_change + 0.25).min(end.max(notes.last_arrival))
}

/// Queue depth (or the oldest wait) over the day in clock time, one series per desk with
/// its own dash pattern; the span after the last arrival, and after the last shift, shaded
/// and labelled; contacts a desk never answered named in its legend.
fn queue_chart(desks: &[DeskReport], oldest: bool, notes: &QueueNotes) -> chart::Chart {
    let until = queue_window(desks, notes);
    let series = desks
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let never = d.overall.contacts - d.overall.answered - d.overall.abandoned;
            chart::Series {
                name: d.desk.clone(),
                note: (never > 0)
                    .then(|| format!("{never} never answered: no agent\non duty could take them")),
                points: d
                    .samples
                    .iter()
                    .take_while(|s| s.0 <= until)
                    .map(|&(h, depth, wait)| (h, if oldest { wait / 60.0 } else { depth as f64 }))
                    .collect(),
                color: i,
                dash: desk_style(i).0,
                marker: None,
            }
        })
        .collect();
    let mut shade = vec![chart::Shade {
        from: notes.last_arrival,
        to: until,
        label: format!("no contacts after {}", chart::clock(notes.last_arrival)),
    }];
    if let Some(end) = notes.last_shift_end.filter(|&e| e < until) {
        shade.push(chart::Shade {
            from: end,
            to: until,
            label: "nobody on duty".into(),
        });
    }
    let (title, y_label) = if oldest {
        ("Oldest waiting contact over the day", "minutes")
    } else {
        ("Contacts waiting over the day", "contacts")
    };
    chart::Chart {
        title: title.into(),
        x_label: "time of day (UTC)".into(),
        y_label: y_label.into(),
        series,
        x_axis: chart::XAxis::Clock,
        y_ticks: |y| format!("{y:.0}"),
        y_from_zero: true,
        y_cap: None,
        rules: Vec::new(),
        shade,
    }
}

fn write_svg(dir: &std::path::Path, name: &str, chart: &chart::Chart) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, chart.svg()).with_context(|| format!("writing {}", path.display()))
}

/// `--target-sl`: the staffing search, printed as a table or JSON.
fn staff(
    args: &SimulateArgs,
    policy: &SlaPolicy,
    contacts: &[Contact],
    pool: &[RosterEntry],
) -> anyhow::Result<()> {
    let targets = staffing::Targets::parse(&args.target_sl)?;
    let day_start = contacts.first().map_or(Ts(0), |c| midnight(c.at));
    let mut desks = vec![staffing::Staffed::Triage];
    if !args.no_baselines {
        desks.push(staffing::Staffed::Fifo);
    }
    let plans = desks
        .into_iter()
        .map(|d| staffing::search(d, policy, contacts, pool, &targets, day_start))
        .collect::<Result<Vec<_>, _>>()
        .context("setting up the roster")?;
    let comparison = staffing::Comparison::new(plans);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", staffing::table(&comparison, &targets));
    }
    Ok(())
}

/// Runs `contacts` (in arrival order) through triage's core and, if asked, the baselines.
pub fn simulate(
    policy: &SlaPolicy,
    contacts: &[Contact],
    roster: &[RosterEntry],
    baselines: bool,
) -> anyhow::Result<Report> {
    simulate_orders(policy, &[], contacts, roster, baselines)
}

/// As `simulate`, with one triage desk per order in `orders` (named "triage <order>"), or
/// one with the policy's order (named "triage") when `orders` is empty. `triage_seconds` is
/// the wall time of the first.
pub fn simulate_orders(
    policy: &SlaPolicy,
    orders: &[QueueOrder],
    contacts: &[Contact],
    roster: &[RosterEntry],
    baselines: bool,
) -> anyhow::Result<Report> {
    let profiles: Vec<AgentProfile> = roster.iter().map(|r| r.profile.clone()).collect();
    let duty = duty(roster, contacts);
    let named: Vec<(String, QueueOrder)> = match orders {
        [] => vec![("triage".into(), policy.order)],
        _ => orders
            .iter()
            .map(|o| (format!("triage {}", o.label()), *o))
            .collect(),
    };
    let mut desks = Vec::new();
    let mut triage_seconds = None;
    for (name, order) in named {
        let policy = SlaPolicy {
            order,
            ..policy.clone()
        };
        let started = Instant::now();
        let desk =
            TriageDesk::new(&policy, &profiles, contacts).context("setting up the roster")?;
        let triage = run(desk, contacts, &duty);
        triage_seconds.get_or_insert(started.elapsed().as_secs_f64());
        desks.push(desk_report(&name, &triage, contacts, &policy));
    }
    let triage_seconds = triage_seconds.unwrap_or_default();
    if baselines {
        let fifo = run(Baseline::fifo(&profiles, contacts), contacts, &duty);
        desks.push(desk_report(FIFO, &fifo, contacts, policy));
        let rr = run(Baseline::round_robin(&profiles, contacts), contacts, &duty);
        desks.push(desk_report("round robin", &rr, contacts, policy));
    }
    Ok(Report {
        contacts: contacts.len(),
        agents: roster.len(),
        desks,
        target_seconds: None,
        erlang_c: None,
        triage_seconds,
    })
}

/// Milliseconds in a day: simulated days start at midnight UTC.
const DAY_MS: i64 = 86_400_000;

/// Midnight UTC of the day of `at`.
fn midnight(at: Ts) -> Ts {
    Ts(at.0.div_euclid(DAY_MS) * DAY_MS)
}

/// When each agent is on duty: its shifts, repeated on every day the contacts span and on the
/// day before (a night shift that started then is still on at the first contact), with
/// overlapping intervals merged; or all the time without shifts.
fn duty(roster: &[RosterEntry], contacts: &[Contact]) -> Vec<Duty> {
    let first = contacts.first().map_or(Ts(0), |c| midnight(c.at));
    let last = contacts.last().map_or(0, |c| c.at.0);
    roster
        .iter()
        .map(|r| {
            (!r.shifts.is_empty()).then(|| {
                let mut intervals = Vec::new();
                let mut day = first.0 - DAY_MS;
                while day <= last {
                    for &(from, to) in &r.shifts {
                        intervals.push((Ts(day).plus(from), Ts(day).plus(to)));
                    }
                    day += DAY_MS;
                }
                merged(intervals)
            })
        })
        .collect()
}

/// `intervals` sorted, with those that overlap or touch joined.
fn merged(mut intervals: Vec<(Ts, Ts)>) -> Vec<(Ts, Ts)> {
    intervals.sort();
    let mut out: Vec<(Ts, Ts)> = Vec::with_capacity(intervals.len());
    for (from, to) in intervals {
        match out.last_mut() {
            Some(open) if from <= open.1 => open.1 = open.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

/// `agents` agents as `triage bench` draws them, with the default capacity per channel, on
/// duty all day.
pub fn day_roster(agents: usize, seed: u64) -> Vec<RosterEntry> {
    let mut r = mix::Rng::new(seed ^ 0xa9e7);
    (0..agents)
        .map(|i| RosterEntry {
            profile: AgentProfile {
                capacity: [None; Channel::COUNT],
                ..mix::agent(&mut r, i, 0)
            },
            shifts: Vec::new(),
        })
        .collect()
}

/// `agents` agents with no skills, all tiers, one chat at a time, always on duty: the servers
/// of M/M/c.
pub fn single_queue_roster(agents: usize) -> Vec<RosterEntry> {
    (0..agents)
        .map(|i| {
            let mut capacity = [Some(0); Channel::COUNT];
            capacity[Channel::Chat.index()] = Some(1);
            RosterEntry {
                profile: AgentProfile {
                    levels: Default::default(),
                    id: crate::core::types::AgentId::new(&format!("agent-{i}")),
                    display_name: String::new(),
                    skills: Default::default(),
                    tiers: vec![],
                    capacity,
                },
                shifts: Vec::new(),
            }
        })
        .collect()
}

/// The first-response target of `poisson`'s contacts (standard chats) under `policy`.
fn chat_target(policy: &SlaPolicy) -> Span {
    policy
        .target(
            SlaMetric::FirstResponse,
            Channel::Chat,
            Tier::Standard,
            Priority::Normal,
            false,
        )
        .unwrap_or(Span(0))
}

fn erlang_c(args: &SimulateArgs, handle: Span, agents: usize, target: Span) -> ErlangC {
    let m = erlang::Mmc {
        arrivals_per_sec: args.rate.unwrap_or(100.0) / 3600.0,
        handle_secs: handle.as_secs_f64(),
        agents: u32::try_from(agents).unwrap_or(u32::MAX),
    };
    ErlangC {
        load_erlangs: m.load(),
        agents,
        overloaded: m.load() >= agents as f64,
        target_seconds: target.as_secs_f64(),
        service_level: m.service_level(target.as_secs_f64()),
        asa_seconds: m.average_speed_of_answer(),
    }
}

/// The report as text. With `poisson` traffic it says which target the service level counts
/// against (and where it came from: `--target` or the policy's chat target), and what Erlang
/// C predicts, or that the queue is overloaded and Erlang C has no answer.
fn text(report: &Report, target_given: bool) -> String {
    let mut out = format!(
        "{} contacts, {} agents; triage's core ran them in {:.2} s\n\n",
        report.contacts, report.agents, report.triage_seconds
    );
    match report.target_seconds {
        Some(t) => out.push_str(&format!(
            "service level: answered within {} ({})\n",
            Span((t * 1000.0) as u64),
            if target_given {
                "--target"
            } else {
                "the SLA policy's chat first-response target; --target to change"
            }
        )),
        None => out.push_str(
            "service level: answered within the contact's first-response target (SLA policy)\n",
        ),
    }
    out.push_str(&report::table(&report.desks));
    if let Some(e) = &report.erlang_c {
        if e.overloaded {
            out.push_str(&format!(
                "\nErlang C predicts: overloaded: {:.1} Erlangs offered to {} agents (load >= agents), the queue grows without bound; no service level or ASA\n",
                e.load_erlangs, e.agents
            ));
        } else {
            let pct = e
                .service_level
                .map_or("-".into(), |v| format!("{:.1} %", v * 100.0));
            let asa = e.asa_seconds.map_or("-".into(), |v| format!("{v:.0} s"));
            out.push_str(&format!(
                "\nErlang C predicts: service level {pct} within {}, ASA {asa} ({:.1} Erlangs, {} agents)\n",
                Span((e.target_seconds * 1000.0) as u64),
                e.load_erlangs,
                e.agents
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::{Priority, Sentiment, SkillSet};
    use traffic::Turn;

    fn chat(at_secs: i64, tier: crate::core::types::Tier, handle_secs: u64) -> Contact {
        Contact {
            at: DAY_START.plus(Span::secs(at_secs as u64)),
            channel: Channel::Chat,
            tier,
            priority: Priority::Normal,
            sentiment: Sentiment::Neutral,
            skills: SkillSet::default(),
            first_skill: 0,
            handle: Span::secs(handle_secs),
            patience: None,
            turns: Vec::new(),
        }
    }

    /// One agent busy until 10 s; a standard chat arrives at 1 s and a VIP chat at 2 s. FIFO
    /// answers the older one first; triage the VIP, whose first response is due first (15 s
    /// against 31 s).
    #[test]
    fn triage_answers_by_due_time_and_fifo_by_arrival() {
        let contacts = [
            chat(0, Tier::Standard, 10),
            chat(1, Tier::Standard, 5),
            chat(2, Tier::Vip, 5),
        ];
        let answered = |run: &Run| -> Vec<Option<i64>> {
            let secs = |t: Option<Ts>| t.map(|t| (t.0 - DAY_START.0) / 1000);
            run.outcomes.iter().map(|o| secs(o.answered)).collect()
        };
        let (triage, fifo) = triage_and_fifo(&contacts, 1);
        assert_eq!(answered(&triage), [Some(0), Some(15), Some(10)]);
        assert_eq!(answered(&fifo), [Some(0), Some(10), Some(15)]);
        assert_eq!(triage.busy, [Span::secs(20)]);
    }

    /// The report breaks the waits down by priority: a low-priority chat (target 60 s) waits
    /// behind a later normal one (30 s) at triage's desk and goes first at FIFO's, and the
    /// table shows a row per priority.
    #[test]
    fn the_report_shows_the_waits_by_priority() {
        let low = Contact {
            priority: Priority::Low,
            ..chat(1, Tier::Standard, 5)
        };
        let contacts = [chat(0, Tier::Standard, 10), low, chat(2, Tier::Standard, 5)];
        let (triage, fifo) = triage_and_fifo(&contacts, 1);
        let policy = SlaPolicy::default();
        let reports = [
            report::desk_report("triage", &triage, &contacts, &policy),
            report::desk_report(FIFO, &fifo, &contacts, &policy),
        ];
        let waits = |r: &DeskReport, p: Priority| {
            let f = report::find(&r.by_priority, p).expect("priority");
            (f.contacts, f.waits.expect("answered").max)
        };
        assert_eq!(waits(&reports[0], Priority::Low), (1, 14.0));
        assert_eq!(waits(&reports[0], Priority::Normal), (2, 8.0));
        assert_eq!(waits(&reports[1], Priority::Low), (1, 9.0));
        assert_eq!(waits(&reports[1], Priority::Normal), (2, 13.0));
        let table = report::table(&reports);
        assert!(table.contains("\npriority "), "{table}");
        assert!(table.contains("\nlow "), "{table}");
        assert!(!table.contains("\nurgent "), "no urgent contacts: {table}");
    }

    fn secs_into_day(t: Ts) -> f64 {
        (t.0 - DAY_START.0) as f64 / 1000.0
    }

    fn turn(after: u64, reply_in: u64, pending: bool) -> Turn {
        Turn {
            after: Span::secs(after),
            reply_in: Span::secs(reply_in),
            pending,
        }
    }

    /// `n` single-chat agents' profiles.
    fn single_profiles(n: usize) -> Vec<AgentProfile> {
        single_queue_roster(n)
            .into_iter()
            .map(|r| r.profile)
            .collect()
    }

    /// `contacts` through triage's desk (default policy) and FIFO's, `agents` single-chat
    /// agents on duty all the time.
    fn triage_and_fifo(contacts: &[Contact], agents: usize) -> (Run, Run) {
        let roster = single_profiles(agents);
        let duty = vec![None; agents];
        let desk = TriageDesk::new(&SlaPolicy::default(), &roster, contacts).expect("desk");
        let triage = run(desk, contacts, &duty);
        let fifo = run(Baseline::fifo(&roster, contacts), contacts, &duty);
        (triage, fifo)
    }

    /// A chat answered at once whose customer writes 10 s after the answer (replied 5 s
    /// later), then is waited on for an hour and writes again: both desks keep the same
    /// timeline; the hour PENDING is recorded; the agent resolves after the last reply,
    /// which comes after the handle time, and the core agrees the ticket is resolved.
    #[test]
    fn a_conversation_runs_its_turns_and_waits_pending_in_between() {
        let mut c = chat(0, Tier::Standard, 60);
        c.turns = vec![turn(10, 5, false), turn(3600, 5, true)];
        let contacts = [c];
        let (triage, fifo) = triage_and_fifo(&contacts, 1);
        for run in [&triage, &fifo] {
            let o = &run.outcomes[0];
            let messages: Vec<(f64, Option<f64>)> = o
                .messages
                .iter()
                .map(|&(m, r)| (secs_into_day(m), r.map(secs_into_day)))
                .collect();
            assert_eq!(messages, [(10.0, Some(15.0)), (3615.0, Some(3620.0))]);
            let pending: Vec<(f64, f64)> = o
                .pending
                .iter()
                .map(|&(a, b)| (secs_into_day(a), secs_into_day(b)))
                .collect();
            assert_eq!(pending, [(15.0, 3615.0)]);
            assert_eq!(o.resolved.map(secs_into_day), Some(3620.0));
        }
        let report = desk_report("triage", &triage, &contacts, &SlaPolicy::default());
        assert_eq!(report.overall.messages, 2);
        assert_eq!(report.overall.next_reply_level, Some(1.0));
        assert_eq!(report.overall.resolution_level, Some(1.0));
    }

    /// A VIP chat's customer writes 10 s after the answer and the agent would take a minute:
    /// at L2 of the next-reply clock (15 s target: 10 + 15 + 7.5 s) triage's core takes the
    /// ticket back and it is answered then, by whoever takes it; FIFO waits for the agent.
    #[test]
    fn the_core_takes_back_a_contact_whose_agent_does_not_answer_in_time() {
        let mut c = chat(0, Tier::Vip, 120);
        c.turns = vec![turn(10, 60, false)];
        let contacts = [c];
        let (triage, fifo) = triage_and_fifo(&contacts, 2);
        let reply = |run: &Run| run.outcomes[0].messages[0].1.map(secs_into_day);
        assert_eq!(reply(&triage), Some(32.5));
        assert_eq!(triage.outcomes[0].taken_back, 1);
        assert_eq!(reply(&fifo), Some(70.0));
        assert_eq!(fifo.outcomes[0].taken_back, 0);
        for run in [&triage, &fifo] {
            assert_eq!(run.outcomes[0].resolved.map(secs_into_day), Some(120.0));
        }
    }

    /// An agent off duty takes nothing: a chat at 08:00 waits for the shift that starts at
    /// 09:00, and one at 10:30, after the shift, is never answered.
    #[test]
    fn shifts_repeat_from_the_day_before_and_overlaps_merge() {
        let entry = |shifts: Vec<(Span, Span)>| RosterEntry {
            profile: single_queue_roster(1)[0].profile.clone(),
            shifts,
        };
        let night = entry(vec![(Span::hours(22), Span::hours(30))]);
        let both = entry(vec![
            (Span::hours(8), Span::hours(12)),
            (Span::hours(10), Span::hours(16)),
        ]);
        let contacts = [chat(3 * 3600, Tier::Standard, 60)];
        let d = duty(&[night, both], &contacts);
        let at = |h: i64| Ts(DAY_START.0 + h * 3_600_000);
        assert_eq!(d[0], Some(vec![(at(-2), at(6)), (at(22), at(30))]));
        assert_eq!(d[1], Some(vec![(at(-16), at(-8)), (at(8), at(16))]));
    }

    /// A contact nobody can ever take ends the run a week after the last real event, not
    /// when the core's last timer (a presence TTL a year out) fires.
    #[test]
    fn a_stranded_contact_does_not_stretch_the_run() {
        let contacts = [chat(0, Tier::Standard, 60)];
        let roster = single_profiles(1);
        let desk = TriageDesk::new(&SlaPolicy::default(), &roster, &contacts).expect("desk");
        let run = run(desk, &contacts, &[Some(Vec::new())]);
        assert_eq!(run.outcomes[0].answered, None);
        let last = run.samples.last().map(|s| s.0.since(DAY_START));
        assert!(last.is_some_and(|l| l <= Span::hours(24 * 7)), "{last:?}");
        assert_eq!(run.staffed, [Span(0)]);
    }

    #[test]
    fn agents_take_work_only_on_duty() {
        let contacts = [
            chat(8 * 3600, Tier::Standard, 60),
            chat(10 * 3600 + 1800, Tier::Standard, 60),
        ];
        let roster = single_profiles(1);
        let shift = (
            DAY_START.plus(Span::hours(9)),
            DAY_START.plus(Span::hours(10)),
        );
        let desk = TriageDesk::new(&SlaPolicy::default(), &roster, &contacts).expect("desk");
        let triage = run(desk, &contacts, &[Some(vec![shift])]);
        let at = |o: &Outcome| o.answered.map(|t| t.since(DAY_START));
        assert_eq!(at(&triage.outcomes[0]), Some(Span::hours(9)));
        assert_eq!(at(&triage.outcomes[1]), None);
        assert_eq!(triage.staffed, [Span::hours(1)]);
        let fifo = run(
            Baseline::fifo(&roster, &contacts),
            &contacts,
            &[Some(vec![shift])],
        );
        assert_eq!(at(&fifo.outcomes[0]), Some(Span::hours(9)));
        assert_eq!(at(&fifo.outcomes[1]), None);
    }

    /// Round robin hands arrivals to agents in turn, and a VIP contact that only the busy
    /// agent 0 may serve waits for it rather than going to agent 1, who serves standard only.
    #[test]
    fn baselines_hand_out_in_turn_and_respect_who_may_serve() {
        let contacts = [
            chat(0, Tier::Standard, 100),
            chat(1, Tier::Standard, 100),
            chat(2, Tier::Vip, 10),
        ];
        let mut roster: Vec<AgentProfile> = single_queue_roster(2)
            .into_iter()
            .map(|r| r.profile)
            .collect();
        roster[1].tiers = vec![Tier::Standard];
        let rr = run(
            Baseline::round_robin(&roster, &contacts),
            &contacts,
            &[None, None],
        );
        let who: Vec<Option<i64>> = rr
            .outcomes
            .iter()
            .map(|o| o.answered.map(|t| (t.0 - DAY_START.0) / 1000))
            .collect();
        assert_eq!(
            who,
            [Some(0), Some(1), Some(100)],
            "the VIP waits for agent 0"
        );
    }

    /// The morning peak (09:00 to 11:00) of the generated day with too few agents for it:
    /// under overload, triage's default order answers at least as many contacts within
    /// target as FIFO plus five points, on every seed tried (a behaviour, not a timing; it
    /// measured +12.0 and +11.2 with `savable_turns`, +1.7 and +2.1 with `savable_first`).
    #[test]
    fn under_overload_the_default_order_is_not_below_fifo() {
        let hour = |h: u64| DAY_START.plus(Span::hours(h));
        for seed in [1, 2] {
            let contacts: Vec<Contact> =
                traffic::generated_day(100_000, DAY_START, seed, Conversations::default())
                    .into_iter()
                    .filter(|c| c.at >= hour(9) && c.at < hour(11))
                    .collect();
            let roster = day_roster(90, seed);
            let report = simulate(&SlaPolicy::default(), &contacts, &roster, true).expect("run");
            let sl = |i: usize| report.desks[i].overall.service_level.expect("contacts");
            let (triage, fifo) = (sl(0), sl(1));
            eprintln!("seed {seed}: service level triage {triage:.3}, FIFO {fifo:.3}");
            assert!(fifo < 0.8, "seed {seed}: overloaded ({fifo})");
            assert!(
                triage >= fifo + 0.05,
                "seed {seed}: triage {triage:.3} against FIFO {fifo:.3}"
            );
        }
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }

    fn args(line: &[&str]) -> SimulateArgs {
        use clap::Parser;
        let mut argv = vec!["simulate"];
        argv.extend_from_slice(line);
        Cli::try_parse_from(argv).expect("parses").args
    }

    /// Every flag given where it means nothing is refused, naming the flag; the commands of
    /// the README pass.
    #[test]
    fn flags_that_mean_nothing_are_refused() {
        let refused = [
            (
                &["--traffic", "poisson", "--contacts", "5"][..],
                "--contacts",
            ),
            (&["--trace", "t.jsonl", "--contacts", "5"], "--contacts"),
            (&["--trace", "t.jsonl", "--traffic", "day"], "--traffic"),
            (&["--traffic", "poisson", "--roster", "r.toml"], "--roster"),
            (&["--rate", "84"], "--rate"),
            (&["--hours", "5"], "--hours"),
            (&["--handle", "5m"], "--handle"),
            (&["--target", "20s"], "--target"),
            (&["--sweep", "10:20:10", "--roster", "r.toml"], "--roster"),
            (&["--sweep", "10:20:10", "--agents", "5"], "--agents"),
            (&["--roster", "r.toml", "--agents", "5"], "--agents"),
            (&["--trace", "t", "--roster", "r", "--seed", "2"], "--seed"),
            (&["--target-sl", "0.8", "--svg", "d"], "--svg"),
            (
                &["--traffic", "poisson", "--conversations", "live"],
                "--conversations",
            ),
            (
                &["--trace", "t.jsonl", "--conversations", "none"],
                "--conversations",
            ),
            (
                &["--target-sl", "0.8", "--order", "deadline,savable_first"],
                "--order",
            ),
        ];
        for (line, flag) in refused {
            let err = check_flags(&args(line)).expect_err(&format!("{line:?}"));
            assert!(err.to_string().starts_with(flag), "{line:?}: {err}");
        }
        let fine = [
            &["--contacts", "100000", "--agents", "120", "--seed", "1"][..],
            &["--target-sl", "0.8", "--no-baselines"],
            &["--policy", "p.toml", "--order", "deadline,savable_first"],
            &[
                "--traffic",
                "poisson",
                "--rate",
                "84",
                "--handle",
                "5m",
                "--agents",
                "10",
                "--hours",
                "500",
            ],
            &["--traffic", "poisson", "--target", "20s"],
            &[
                "--sweep",
                "80:160:10",
                "--svg",
                "d",
                "--target-sl",
                "0.8,vip=0.95",
            ],
            &["--target-sl", "0.8,vip=0.95", "--agents", "200"],
            &["--trace", "t.jsonl", "--roster", "r.toml", "--svg", "d"],
            &["--sweep", "90:140:10", "--order", "deadline,savable_first"],
            &["--target-sl", "0.8", "--order", "deadline"],
        ];
        for line in fine {
            check_flags(&args(line)).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        }
    }

    /// `--order` takes the orders' names, each once, and names the flag for any other.
    #[test]
    fn orders_are_read_by_name() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let read = queue_orders(&names(&["savable_first", "deadline", "savable_first"]));
        assert_eq!(
            read.expect("known"),
            [QueueOrder::SavableFirst, QueueOrder::Deadline]
        );
        let err = queue_orders(&names(&["edf"])).expect_err("unknown");
        assert!(err.to_string().starts_with("--order \"edf\""), "{err}");
    }

    /// `poisson` says which target its service level counts against, takes `--target` for
    /// it, and says the queue is overloaded when load >= agents instead of printing "-".
    #[test]
    fn poisson_names_its_target_and_says_when_it_is_overloaded() {
        let (policy, t) =
            measuring_policy(&args(&["--traffic", "poisson", "--target", "20s"])).expect("policy");
        assert_eq!(
            (chat_target(&policy), t),
            (Span::secs(20), Some(Span::secs(20)))
        );
        let (policy, _) = measuring_policy(&args(&["--traffic", "poisson"])).expect("policy");
        assert_eq!(chat_target(&policy), Span::secs(30));
        let report = |a: &SimulateArgs, agents: usize, target: Span| Report {
            contacts: 1,
            agents,
            desks: Vec::new(),
            target_seconds: Some(target.as_secs_f64()),
            erlang_c: Some(erlang_c(a, Span::mins(5), agents, target)),
            triage_seconds: 0.0,
        };
        let a = args(&["--traffic", "poisson", "--rate", "84"]);
        let out = text(&report(&a, 10, Span::secs(30)), false);
        assert!(
            out.contains("answered within 30s (the SLA policy's chat first-response target; --target to change)"),
            "{out}"
        );
        assert!(out.contains("within 30s, ASA"), "{out}");
        let out = text(&report(&a, 10, Span::secs(20)), true);
        assert!(out.contains("answered within 20s (--target)"), "{out}");
        let out = text(&report(&a, 7, Span::secs(30)), false);
        assert!(
            out.contains("overloaded: 7.0 Erlangs offered to 7 agents (load >= agents)"),
            "{out}"
        );
        assert!(!out.contains("service level -"), "{out}");
    }

    /// A --svg directory that cannot be created fails before any work: the trace that
    /// --export-trace writes before the run is not written.
    #[test]
    fn a_bad_svg_directory_fails_before_the_run() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("a-file");
        std::fs::write(&file, "").expect("write");
        let bad = file.join("pictures");
        let export = tmp.path().join("day.jsonl");
        let a = args(&[
            "--contacts",
            "10",
            "--agents",
            "1",
            "--svg",
            bad.to_str().expect("utf-8"),
            "--export-trace",
            export.to_str().expect("utf-8"),
        ]);
        let err = main(a).expect_err("bad --svg");
        assert!(format!("{err:#}").contains("--svg"), "{err:#}");
        assert!(!export.exists(), "nothing ran");
        let good = tmp.path().join("new").join("dir");
        check_svg_dir(&good).expect("creatable");
        assert!(good.is_dir() && std::fs::read_dir(&good).expect("dir").next().is_none());
    }

    /// Off a terminal, a sweep writes one line per staffing level done.
    #[test]
    fn a_sweep_reports_each_staffing_level() {
        let mut p = Progress::lines(2, Vec::new());
        for agents in [80, 90] {
            p.start(agents);
            p.finished(agents);
        }
        let out = String::from_utf8(p.lines.take().expect("lines")).expect("utf-8");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("sweep: 80 agents done (1/2"), "{out}");
        assert!(lines[1].starts_with("sweep: 90 agents done (2/2"), "{out}");
    }

    /// The sweep's text sets each desk against FIFO, marks the levels where the benchmark is
    /// met, and leaves the block out when FIFO did not run.
    #[test]
    fn the_sweep_table_sets_each_desk_against_fifo() {
        let desk = |name: &str, all: f64, vip: f64, p99: f64| SweepDesk {
            desk: name.into(),
            service_level: Some(all),
            vip_service_level: Some(vip),
            abandonment_rate: Some(0.05),
            p99_wait_seconds: Some(p99),
            vs_fifo: None,
        };
        let point = |agents: usize, t: f64| {
            let mut desks = vec![desk("triage", t, t, 600.0), desk(FIFO, 0.75, 0.7, 500.0)];
            against_fifo(&mut desks);
            SweepPoint { agents, desks }
        };
        let out = sweep_table(&[point(100, 0.76), point(120, 0.8)]);
        assert!(out.contains("+1.0 / +6.0, +0.0, 1.20×\n"), "{out}");
        assert!(out.contains("+5.0 / +10.0, +0.0, 1.20× *\n"), "{out}");
        assert!(out.contains("* meets the benchmark"), "{out}");
        let alone = SweepPoint {
            agents: 100,
            desks: vec![desk("triage", 0.8, 0.8, 600.0)],
        };
        let out = sweep_table(&[alone]);
        assert!(!out.contains("against FIFO"), "{out}");
    }

    /// The sweep's picture: ticks at its levels, a labelled line at each target, and a legend
    /// that says round robin lies on FIFO.
    #[test]
    fn the_sweep_picture_shows_levels_targets_and_coinciding_desks() {
        let desk = |name: &str, all: f64, vip: f64| SweepDesk {
            desk: name.into(),
            service_level: Some(all),
            vip_service_level: Some(vip),
            abandonment_rate: None,
            p99_wait_seconds: None,
            vs_fifo: None,
        };
        let point = |agents: usize, t: f64, f: f64| SweepPoint {
            agents,
            desks: vec![
                desk("triage", t, t),
                desk("fifo", f, f - 0.05),
                desk("round robin", f, f - 0.05),
            ],
        };
        let points = [
            point(80, 0.66, 0.67),
            point(90, 0.84, 0.8),
            point(100, 0.99, 0.95),
        ];
        let targets = staffing::Targets::parse(&["0.8".into(), "vip=0.95".into()]).expect("t");
        let c = sweep_chart(&points, &targets);
        let axes = c.axes();
        let ticks: Vec<f64> = axes.x_ticks.iter().map(|t| t.0).collect();
        assert_eq!(ticks, [80.0, 90.0, 100.0]);
        assert!(axes.y.0 >= 0.5 && axes.y.1 <= 1.0 + 1e-9, "{:?}", axes.y);
        let svg = c.svg();
        assert!(svg.contains(">target 80 %<") && svg.contains(">VIP target 95 %<"));
        assert!(svg.contains("lies on fifo all's line"), "{svg}");
        assert!(svg.contains("lies on fifo VIP's line"), "{svg}");
    }

    /// The queue picture reads in clock time, and shades and labels the span nobody is on
    /// duty, with the contacts never answered in the legend.
    #[test]
    fn the_queue_picture_explains_the_tail_nobody_can_take() {
        let contacts = [
            chat(8 * 3600, Tier::Standard, 60),
            chat(20 * 3600, Tier::Standard, 60),
        ];
        let roster = [RosterEntry {
            profile: single_queue_roster(1)[0].profile.clone(),
            shifts: vec![(Span::hours(9), Span::hours(10))],
        }];
        let report = simulate(&SlaPolicy::default(), &contacts, &roster, false).expect("run");
        let notes = QueueNotes::new(&roster, &contacts);
        assert_eq!(notes.last_shift_end, Some(10.0));
        let svg = queue_chart(&report.desks, false, &notes).svg();
        assert!(svg.contains(">nobody on duty<"), "{svg}");
        assert!(svg.contains(">1 never answered: no agent<"), "{svg}");
        assert!(svg.contains(">08:00<") && svg.contains(">12:00<"), "{svg}");
        assert!(svg.contains(">time of day (UTC)<"));
    }
}
