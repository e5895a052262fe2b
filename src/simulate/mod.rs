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

pub use engine::{run, Desk, Duty, Outcome, Run};
pub use input::RosterEntry;
pub use report::{desk_report, DeskReport, Figures};

use crate::bench::mix;
use crate::core::command::AgentProfile;
use crate::core::policy::SlaPolicy;
use crate::core::types::{Channel, Priority, SlaMetric, Span, Tier, Ts};
use anyhow::Context;
use baseline::Baseline;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::time::Instant;
use traffic::Contact;
use triage_desk::TriageDesk;

#[derive(Args, Clone, Debug)]
pub struct SimulateArgs {
    /// Contacts from a trace instead of generated ones: JSON Lines, or CSV if the name ends in
    /// .csv (fields: at, channel, tier, skills, priority, sentiment, handle, patience; see
    /// examples/trace.jsonl).
    #[arg(long)]
    pub trace: Option<std::path::PathBuf>,
    /// Agents from a roster file (TOML, `[[agent]]` with id, skills, tiers, capacity, shifts;
    /// see examples/roster.toml) instead of --agents generated ones.
    #[arg(long)]
    pub roster: Option<std::path::PathBuf>,
    /// `day`: the DOMAIN.md mix over a day's hourly curve; `poisson`: one chat queue with
    /// Poisson arrivals and exponential handle times (the Erlang C case).
    #[arg(long, value_enum, default_value_t = Traffic::Day)]
    pub traffic: Traffic,
    /// Contacts in the day (`day`).
    #[arg(long, default_value_t = 100_000)]
    pub contacts: usize,
    /// Agents on duty all day, skills and tiers drawn as `triage bench` draws them (`day`;
    /// default capacity per channel), or agents serving one contact at a time (`poisson`).
    #[arg(long, default_value_t = 200)]
    pub agents: usize,
    /// Arrivals per hour (`poisson`).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Mean handle time (`poisson`), e.g. "5m".
    #[arg(long, default_value = "5m")]
    pub handle: String,
    /// Simulated hours (`poisson`).
    #[arg(long, default_value_t = 24.0)]
    pub hours: f64,
    /// Seed of the generated traffic and roster: the same seed, the same day.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only triage's desk, without the baselines.
    #[arg(long)]
    pub no_baselines: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Find the fewest agents per hour that meet these service levels instead of simulating a
    /// given roster: a share for every tier ("0.8") and any per tier ("vip=0.95"); repeat
    /// the flag or separate with commas. Agents come from --roster (shifts ignored) or the
    /// --agents generated ones, in order. Covers the first day of the contacts.
    #[arg(long, value_delimiter = ',')]
    pub target_sl: Vec<String>,
    /// Run the day with each number of generated agents FROM:TO:STEP (e.g. 40:200:20) and
    /// report the service level of every desk against staffing.
    #[arg(long)]
    pub sweep: Option<String>,
    /// Write pictures (SVG) to this directory: queue depth and oldest wait over the day, or
    /// with --sweep the service level against the number of agents.
    #[arg(long)]
    pub svg: Option<std::path::PathBuf>,
    /// Also write the contacts simulated to this file as JSON Lines (a trace to edit and
    /// feed back with --trace).
    #[arg(long)]
    pub export_trace: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Traffic {
    Day,
    Poisson,
}

/// Everything `triage simulate` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    pub contacts: usize,
    pub agents: usize,
    pub desks: Vec<DeskReport>,
    /// For `poisson` traffic: what Erlang C predicts for the service level and ASA.
    pub erlang_c: Option<ErlangC>,
    /// Wall time of triage's run, in seconds.
    pub triage_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ErlangC {
    pub service_level: Option<f64>,
    pub asa_seconds: Option<f64>,
}

/// The first instant of a simulated day: Monday 2026-01-05 00:00 UTC.
pub const DAY_START: Ts = Ts(1_767_571_200_000);

pub fn main(args: SimulateArgs) -> anyhow::Result<()> {
    let handle = Span::parse(&args.handle)
        .map_err(|e| anyhow::anyhow!("--handle: {e}"))
        .context("simulate")?;
    anyhow::ensure!(args.agents > 0, "--agents must be at least 1");
    let contacts = match (&args.trace, args.traffic) {
        (Some(path), _) => input::read_trace(path)?,
        (None, Traffic::Day) => traffic::generated_day(args.contacts, DAY_START, args.seed),
        (None, Traffic::Poisson) => {
            anyhow::ensure!(
                args.rate > 0.0 && args.hours > 0.0,
                "--rate and --hours must be positive"
            );
            traffic::poisson(args.rate, args.hours, handle, DAY_START, args.seed)
        }
    };
    anyhow::ensure!(!contacts.is_empty(), "no contacts to simulate");
    if let Some(path) = &args.export_trace {
        input::write_trace(path, &contacts)?;
    }
    let roster = match (&args.roster, args.traffic) {
        (Some(path), _) => input::read_roster(path)?,
        (None, Traffic::Day) => day_roster(args.agents, args.seed),
        (None, Traffic::Poisson) => single_queue_roster(args.agents),
    };
    anyhow::ensure!(!roster.is_empty(), "the roster has no agents");
    let policy = SlaPolicy::default();
    if !args.target_sl.is_empty() {
        return staff(&args, &policy, &contacts, &roster);
    }
    if let Some(range) = &args.sweep {
        anyhow::ensure!(
            args.roster.is_none(),
            "--sweep draws its own agents; it does not take --roster"
        );
        return sweep(&args, range, &policy, &contacts);
    }
    let report = simulate(&policy, &contacts, &roster, !args.no_baselines)?;
    let report = Report {
        erlang_c: (args.traffic == Traffic::Poisson && args.trace.is_none())
            .then(|| erlang_c(&args, handle, roster.len(), &policy)),
        ..report
    };
    if let Some(dir) = &args.svg {
        write_svg(dir, "queue.svg", &queue_chart(&report.desks, false))?;
        write_svg(dir, "oldest-wait.svg", &queue_chart(&report.desks, true))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    Ok(())
}

/// One point of a sweep: the number of agents and each desk's overall and VIP service level.
#[derive(Debug, Serialize)]
pub struct SweepPoint {
    pub agents: usize,
    pub desks: Vec<(String, Option<f64>, Option<f64>)>,
}

/// `--sweep FROM:TO:STEP`: the day with each number of agents, every desk.
fn sweep(
    args: &SimulateArgs,
    range: &str,
    policy: &SlaPolicy,
    contacts: &[Contact],
) -> anyhow::Result<()> {
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
    let progress = indicatif::ProgressBar::new(((to - from) / step + 1) as u64);
    let mut points = Vec::new();
    for agents in (from..=to).step_by(step) {
        let roster = day_roster(agents, args.seed);
        let report = simulate(policy, contacts, &roster, !args.no_baselines)?;
        let vip = |d: &DeskReport| {
            d.by_tier
                .iter()
                .find(|(t, _)| *t == Tier::Vip)
                .and_then(|(_, f)| f.service_level)
        };
        points.push(SweepPoint {
            agents,
            desks: report
                .desks
                .iter()
                .map(|d| (d.desk.clone(), d.overall.service_level, vip(d)))
                .collect(),
        });
        progress.inc(1);
    }
    progress.finish_and_clear();
    if let Some(dir) = &args.svg {
        write_svg(dir, "service-level.svg", &sweep_chart(&points))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&points)?);
    } else {
        print!("{}", sweep_table(&points));
    }
    Ok(())
}

fn sweep_table(points: &[SweepPoint]) -> String {
    let mut out = String::from("service level (all / VIP) against agents\nagents");
    if let Some(p) = points.first() {
        for (name, _, _) in &p.desks {
            out.push_str(&format!("{name:>24}"));
        }
    }
    out.push('\n');
    let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1} %", v * 100.0));
    for p in points {
        out.push_str(&format!("{:>6}", p.agents));
        for (_, all, vip) in &p.desks {
            out.push_str(&format!("{:>24}", format!("{} / {}", pct(*all), pct(*vip))));
        }
        out.push('\n');
    }
    out
}

fn sweep_chart(points: &[SweepPoint]) -> chart::Chart {
    let names: Vec<String> = points
        .first()
        .map(|p| p.desks.iter().map(|d| d.0.clone()).collect())
        .unwrap_or_default();
    let line = |i: usize, vip: bool| chart::Series {
        name: if vip {
            format!("{} VIP", names[i])
        } else {
            format!("{} all", names[i])
        },
        points: points
            .iter()
            .map(|p| {
                let (_, all, v) = &p.desks[i];
                (p.agents as f64, if vip { *v } else { *all }.unwrap_or(0.0))
            })
            .collect(),
        dashed: vip,
    };
    let series = (0..names.len())
        .flat_map(|i| [line(i, false), line(i, true)])
        .collect();
    chart::Chart {
        title: "Service level against agents on duty (dashed: VIP)".into(),
        x_label: "agents".into(),
        y_label: "answered within target".into(),
        series,
        x_ticks: |x| format!("{x:.0}"),
        y_ticks: |y| format!("{:.0} %", y * 100.0),
    }
}

/// Queue depth (or the oldest wait) over the day, one series per desk.
fn queue_chart(desks: &[DeskReport], oldest: bool) -> chart::Chart {
    let series = desks
        .iter()
        .map(|d| chart::Series {
            name: d.desk.clone(),
            points: d
                .samples
                .iter()
                .map(|&(h, depth, wait)| (h, if oldest { wait / 60.0 } else { depth as f64 }))
                .collect(),
            dashed: false,
        })
        .collect();
    let (title, y_label) = if oldest {
        ("Oldest waiting contact over the day", "minutes")
    } else {
        ("Contacts waiting over the day", "contacts")
    };
    chart::Chart {
        title: title.into(),
        x_label: "hours since the first contact".into(),
        y_label: y_label.into(),
        series,
        x_ticks: |x| format!("{x:.0}"),
        y_ticks: |y| format!("{y:.0}"),
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
    let plan = staffing::search(policy, contacts, pool, &targets, day_start)
        .context("setting up the roster")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", staffing::table(&plan, &targets));
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
    let profiles: Vec<AgentProfile> = roster.iter().map(|r| r.profile.clone()).collect();
    let duty = duty(roster, contacts);
    let started = Instant::now();
    let desk = TriageDesk::new(policy, &profiles, contacts).context("setting up the roster")?;
    let triage = run(desk, contacts, &duty);
    let triage_seconds = started.elapsed().as_secs_f64();
    let mut desks = vec![desk_report("triage", &triage, contacts, policy)];
    if baselines {
        let fifo = run(Baseline::fifo(&profiles, contacts), contacts, &duty);
        desks.push(desk_report("fifo", &fifo, contacts, policy));
        let rr = run(Baseline::round_robin(&profiles, contacts), contacts, &duty);
        desks.push(desk_report("round robin", &rr, contacts, policy));
    }
    Ok(Report {
        contacts: contacts.len(),
        agents: roster.len(),
        desks,
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

fn erlang_c(args: &SimulateArgs, handle: Span, agents: usize, policy: &SlaPolicy) -> ErlangC {
    let m = erlang::Mmc {
        arrivals_per_sec: args.rate / 3600.0,
        handle_secs: handle.as_secs_f64(),
        agents: u32::try_from(agents).unwrap_or(u32::MAX),
    };
    let target = policy
        .target(
            SlaMetric::FirstResponse,
            Channel::Chat,
            Tier::Standard,
            Priority::Normal,
            false,
        )
        .map_or(0.0, Span::as_secs_f64);
    ErlangC {
        service_level: m.service_level(target),
        asa_seconds: m.average_speed_of_answer(),
    }
}

fn text(report: &Report) -> String {
    let mut out = format!(
        "{} contacts, {} agents; triage's core ran them in {:.2} s\n\n",
        report.contacts, report.agents, report.triage_seconds
    );
    out.push_str(&report::table(&report.desks));
    if let Some(e) = &report.erlang_c {
        let pct = e
            .service_level
            .map_or("-".into(), |v| format!("{:.1} %", v * 100.0));
        let asa = e.asa_seconds.map_or("-".into(), |v| format!("{v:.0} s"));
        out.push_str(&format!(
            "\nErlang C predicts: service level {pct}, ASA {asa}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::{Priority, Sentiment, SkillSet};

    fn chat(at_secs: i64, tier: crate::core::types::Tier, handle_secs: u64) -> Contact {
        Contact {
            at: DAY_START.plus(Span::secs(at_secs as u64)),
            channel: Channel::Chat,
            tier,
            priority: Priority::Normal,
            sentiment: Sentiment::Neutral,
            skills: SkillSet::default(),
            handle: Span::secs(handle_secs),
            patience: None,
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
        let roster: Vec<AgentProfile> = single_queue_roster(1)
            .into_iter()
            .map(|r| r.profile)
            .collect();
        let policy = SlaPolicy::default();
        let answered = |run: &Run| -> Vec<Option<i64>> {
            let secs = |t: Option<Ts>| t.map(|t| (t.0 - DAY_START.0) / 1000);
            run.outcomes.iter().map(|o| secs(o.answered)).collect()
        };
        let desk = TriageDesk::new(&policy, &roster, &contacts).expect("desk");
        let triage = run(desk, &contacts, &[None]);
        assert_eq!(answered(&triage), [Some(0), Some(15), Some(10)]);
        let fifo = run(Baseline::fifo(&roster, &contacts), &contacts, &[None]);
        assert_eq!(answered(&fifo), [Some(0), Some(10), Some(15)]);
        assert_eq!(triage.busy, [Span::secs(20)]);
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
        let roster: Vec<AgentProfile> = single_queue_roster(1)
            .into_iter()
            .map(|r| r.profile)
            .collect();
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
        let roster: Vec<AgentProfile> = single_queue_roster(1)
            .into_iter()
            .map(|r| r.profile)
            .collect();
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
}
