//! What a bench run measured: latency histograms per RPC (hdrhistogram, microseconds), errors
//! by status code, throughput, and the correctness checks.

use super::cpu::ServerCpu;
use super::drain::{End, Stuck, Why};
use super::leftovers::Left;
use super::soak::{self, Sample};
use super::workers::Shared;
use super::{Mode, Plan};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rpc {
    CreateTicket,
    CreateTickets,
    PullNextTicket,
    RecordReply,
    ResolveTicket,
    /// The check-back after resolution, which finishes the ticket.
    RecordFollowUp,
    /// Work stream: from giving credit to the assignment it brought.
    WorkAssignment,
    /// Work stream: from sending done to its result.
    WorkDone,
    /// With `--offer-timeout`: taking each offer before working on it.
    AcceptTicket,
}

impl Rpc {
    const ALL: [Rpc; 9] = [
        Rpc::CreateTicket,
        Rpc::CreateTickets,
        Rpc::PullNextTicket,
        Rpc::RecordReply,
        Rpc::ResolveTicket,
        Rpc::RecordFollowUp,
        Rpc::WorkAssignment,
        Rpc::WorkDone,
        Rpc::AcceptTicket,
    ];
    fn name(self) -> &'static str {
        match self {
            Rpc::CreateTicket => "CreateTicket",
            Rpc::CreateTickets => "CreateTickets",
            Rpc::PullNextTicket => "PullNextTicket",
            Rpc::RecordReply => "RecordReply",
            Rpc::ResolveTicket => "ResolveTicket",
            Rpc::RecordFollowUp => "RecordFollowUp",
            Rpc::WorkAssignment => "Work.assignment",
            Rpc::WorkDone => "Work.done",
            Rpc::AcceptTicket => "AcceptTicket",
        }
    }
}

/// One task's measurements; merged at the end so the hot path takes no lock.
#[derive(Default)]
pub struct Recorder {
    latency: BTreeMap<Rpc, Histogram<u64>>,
    errors: BTreeMap<(Rpc, String), u64>,
}

/// 1 µs to 60 s at 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds are valid")
}

impl Recorder {
    pub fn record(&mut self, rpc: Rpc, took: Duration, error: Option<&tonic::Status>) {
        let micros = (took.as_micros() as u64).clamp(1, 60_000_000);
        self.latency
            .entry(rpc)
            .or_insert_with(histogram)
            .saturating_record(micros);
        if let Some(status) = error {
            self.error(rpc, status);
        }
    }

    /// Counts an error that has no latency of its own (a stream that ended).
    pub fn error(&mut self, rpc: Rpc, status: &tonic::Status) {
        *self
            .errors
            .entry((rpc, format!("{:?}", status.code())))
            .or_default() += 1;
    }

    pub fn merge(&mut self, other: Recorder) {
        for (rpc, h) in other.latency {
            let mine = self.latency.entry(rpc).or_insert_with(histogram);
            // Both have the same bounds, so adding cannot fail.
            let _ = mine.add(h);
        }
        for (key, n) in other.errors {
            *self.errors.entry(key).or_default() += n;
        }
    }
}

pub struct Outcome {
    created: u64,
    assigned: u64,
    resolved: u64,
    double_assigned: u64,
    reassigned: u64,
    leased_tickets: u64,
    elapsed: Duration,
    created_by: Duration,
    open_before: u64,
    open_after: u64,
    recorder: Recorder,
    /// How the drain ended; `None` when there was none (no agents).
    end: Option<End>,
    /// What was still queued when the drain stopped short, and why.
    stuck: Vec<Stuck>,
    /// Against `--target`: what the run leaves there, or cleaned up.
    left: Option<Left>,
    /// `--rss-every`: the daemon's memory and data dir over the run.
    samples: Vec<Sample>,
    /// The daemon's CPU per operation, when its metrics address is known.
    server_cpu: Option<ServerCpu>,
    /// When the agents started (`--phased`: once the creators were done); assignments and
    /// resolves per second count from then.
    agents_from: Duration,
}

const QUANTILES: [(&str, f64); 4] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)];

impl Outcome {
    pub fn new(
        shared: &Shared,
        recorder: Recorder,
        elapsed: Duration,
        created_by: Duration,
        open_before: u64,
        open_after: u64,
    ) -> Outcome {
        Outcome {
            created: shared.created.load(Relaxed),
            assigned: shared.assigned.load(Relaxed),
            resolved: shared.resolved.load(Relaxed),
            double_assigned: shared.double_assigned.load(Relaxed),
            reassigned: shared.reassigned.load(Relaxed),
            leased_tickets: shared.leased_tickets(),
            elapsed,
            created_by,
            open_before,
            open_after,
            recorder,
            end: None,
            stuck: Vec::new(),
            left: None,
            samples: Vec::new(),
            server_cpu: None,
            agents_from: Duration::ZERO,
        }
    }

    /// The daemon's CPU over the run (`None` without its metrics address).
    pub fn measured_cpu(&mut self, cpu: Option<ServerCpu>) {
        self.server_cpu = cpu;
    }

    /// The agents started this long after the run (`--phased`).
    pub fn agents_started(&mut self, after: Duration) {
        self.agents_from = after;
    }

    /// How long the agents worked.
    fn agents_for(&self) -> Duration {
        self.elapsed.saturating_sub(self.agents_from)
    }

    /// How the run ended: the drain's end, what it left queued, what it left in a target.
    pub fn ending(&mut self, end: Option<End>, stuck: Vec<Stuck>, left: Option<Left>) {
        self.end = end;
        self.stuck = stuck;
        self.left = left;
    }

    /// The soak samples of the run (`--rss-every`).
    pub fn sampled(&mut self, samples: Vec<Sample>) {
        self.samples = samples;
    }

    /// The signal that cut the run short, if one did.
    pub fn interrupted(&self) -> Option<&'static str> {
        match self.end {
            Some(End::Interrupted(name)) => Some(name),
            _ => None,
        }
    }

    /// Queued tickets no bench agent may take (for want of skills or tier).
    fn untakeable(&self) -> u64 {
        self.stuck
            .iter()
            .filter(|s| !matches!(s.why, Why::Eligible(_)))
            .map(|s| s.tickets)
            .sum()
    }

    /// One line per routing key no bench agent may take (at most 20), then one line for the
    /// tickets bench agents may take but had not when the run stopped.
    fn stuck_lines(&self) -> Vec<String> {
        const MOST: usize = 20;
        let (untakeable, takeable): (Vec<&Stuck>, Vec<&Stuck>) = self
            .stuck
            .iter()
            .partition(|s| !matches!(s.why, Why::Eligible(_)));
        let mut out: Vec<String> = untakeable
            .iter()
            .take(MOST)
            .map(|s| format!("  {}", s.describe()))
            .collect();
        if untakeable.len() > MOST {
            let rest: u64 = untakeable[MOST..].iter().map(|s| s.tickets).sum();
            out.push(format!(
                "  {rest} more in {} more routing keys (--json lists them all)",
                untakeable.len() - MOST
            ));
        }
        let waiting: u64 = takeable.iter().map(|s| s.tickets).sum();
        if waiting > 0 {
            out.push(format!(
                "  {waiting} in {} routing keys that bench agents may take: they were busy when the run stopped",
                takeable.len()
            ));
        }
        out
    }

    /// The lines about the drain, what it left queued and what the run left in a target.
    fn ending_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let queued: u64 = self.stuck.iter().map(|s| s.tickets).sum();
        let what = match queued {
            0 => String::new(),
            n => format!(
                "; {n} tickets still queued, {} of them no bench agent may take:",
                self.untakeable()
            ),
        };
        match self.end {
            None | Some(End::Drained) => {}
            Some(End::Stalled(idle)) => out.push(format!(
                "drain: stopped after {:.1}s without progress (--drain-timeout){what}",
                idle.as_secs_f64()
            )),
            Some(End::Interrupted(name)) => {
                out.push(format!("interrupted by {name}: a partial report{what}"))
            }
        }
        out.extend(self.stuck_lines());
        if !self.stuck.is_empty() && self.open_before > 0 {
            out.push(format!(
                "  (the daemon's whole queue: {} tickets were open before this run)",
                self.open_before
            ));
        }
        if let Some(left) = &self.left {
            out.extend(left.describe());
        }
        out
    }

    fn per_second(&self, n: u64, over: Duration) -> f64 {
        n as f64 / over.as_secs_f64().max(1e-9)
    }

    /// Every acknowledged ticket is resolved or still open, and none was held twice.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.double_assigned > 0 {
            out.push(format!(
                "{} leases were handed out without a newer epoch (two holders)",
                self.double_assigned
            ));
        }
        let expected_open = (self.open_before + self.created).saturating_sub(self.resolved);
        if self.open_after != expected_open {
            out.push(format!(
                "open tickets: {} before + {} created - {} resolved should be {expected_open}, the daemon has {}",
                self.open_before, self.created, self.resolved, self.open_after
            ));
        }
        out
    }

    pub fn correct(&self) -> bool {
        self.problems().is_empty()
    }

    pub fn print(&self, plan: &Plan) {
        let mode = match plan.rate {
            Some(rate) => format!("open loop at {rate} creates/s"),
            None => "closed loop".to_string(),
        };
        let agents = match plan.mode {
            Mode::Unary => "pulling".to_string(),
            Mode::Stream => format!("on Work streams, window {}", plan.window),
        };
        println!(
            "triage bench: {mode}, {} connections, {} creators, {} agents {agents}, {:.2}s",
            plan.connections,
            plan.creators,
            plan.agents,
            self.elapsed.as_secs_f64()
        );
        println!(
            "created {} ({:.0}/s)  assigned {} ({:.0}/s)  resolved {} ({:.0}/s)",
            self.created,
            self.per_second(self.created, self.created_by),
            self.assigned,
            self.per_second(self.assigned, self.agents_for()),
            self.resolved,
            self.per_second(self.resolved, self.agents_for()),
        );
        if let Some(cpu) = &self.server_cpu {
            println!("{}", cpu.line());
        }
        println!(
            "{:<16} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "latency (ms)", "p50", "p90", "p99", "p99.9", "calls"
        );
        for rpc in Rpc::ALL {
            if let Some(h) = self.recorder.latency.get(&rpc) {
                let q: Vec<String> = QUANTILES
                    .iter()
                    .map(|&(_, q)| format!("{:>9.3}", h.value_at_quantile(q) as f64 / 1000.0))
                    .collect();
                println!("{:<16} {} {:>9}", rpc.name(), q.join(" "), h.len());
            }
        }
        for ((rpc, code), n) in &self.recorder.errors {
            println!("errors {} {code}: {n}", rpc.name());
        }
        let problems = self.problems();
        if problems.is_empty() {
            println!(
                "checks: no two holders (every re-lease had a newer epoch; {} re-leased after the daemon took them back); {} open before + {} created = {} resolved + {} open after",
                self.reassigned, self.open_before, self.created, self.resolved, self.open_after
            );
        }
        for p in problems {
            println!("CHECK FAILED: {p}");
        }
        for line in self.ending_lines() {
            println!("{line}");
        }
        if let Some(line) = soak::summary(&self.samples) {
            println!("{line}");
        }
    }

    pub fn to_json(&self, plan: &Plan) -> serde_json::Value {
        let latency: serde_json::Map<String, serde_json::Value> = self
            .recorder
            .latency
            .iter()
            .map(|(rpc, h)| {
                let mut q: serde_json::Map<String, serde_json::Value> = QUANTILES
                    .iter()
                    .map(|&(name, q)| {
                        let ms = h.value_at_quantile(q) as f64 / 1000.0;
                        (format!("{name}_ms"), ms.into())
                    })
                    .collect();
                q.insert("calls".into(), h.len().into());
                (rpc.name().to_string(), q.into())
            })
            .collect();
        let errors: Vec<serde_json::Value> = self
            .recorder
            .errors
            .iter()
            .map(
                |((rpc, code), n)| serde_json::json!({"rpc": rpc.name(), "code": code, "count": n}),
            )
            .collect();
        let stuck: Vec<serde_json::Value> = self
            .stuck
            .iter()
            .map(|s| {
                serde_json::json!({
                    "tier": s.tier.label(),
                    "skills": s.skills.iter().map(|k| k.0.to_string()).collect::<Vec<_>>(),
                    "tickets": s.tickets,
                    "why": s.describe(),
                    "agents_may_take": matches!(s.why, Why::Eligible(_)),
                })
            })
            .collect();
        let drain = match self.end {
            None => serde_json::Value::Null,
            Some(End::Drained) => serde_json::json!({"end": "drained"}),
            Some(End::Stalled(idle)) => {
                serde_json::json!({"end": "stalled", "idle_s": idle.as_secs_f64()})
            }
            Some(End::Interrupted(name)) => {
                serde_json::json!({"end": "interrupted", "signal": name})
            }
        };
        let (samples, growth) = soak::to_json(&self.samples);
        serde_json::json!({
            "samples": samples,
            "growth_per_100k": growth,
            "drain": drain,
            "stuck": stuck,
            "untakeable": self.untakeable(),
            "left": self.left.as_ref().map(Left::to_json),
            "mode": if plan.rate.is_some() { "open" } else { "closed" },
            "rate": plan.rate,
            "connections": plan.connections,
            "creators": plan.creators,
            "agents": plan.agents,
            "agent_mode": format!("{:?}", plan.mode).to_lowercase(),
            "window": (plan.mode == Mode::Stream).then_some(plan.window),
            "elapsed_s": self.elapsed.as_secs_f64(),
            "created": self.created,
            "assigned": self.assigned,
            "resolved": self.resolved,
            "creates_per_s": self.per_second(self.created, self.created_by),
            "assignments_per_s": self.per_second(self.assigned, self.agents_for()),
            "resolves_per_s": self.per_second(self.resolved, self.agents_for()),
            "phased": plan.phased,
            "server_cpu": self.server_cpu.as_ref().map(ServerCpu::to_json),
            "latency": latency,
            "errors": errors,
            "double_assigned": self.double_assigned,
            "reassigned": self.reassigned,
            "leased_tickets": self.leased_tickets,
            "problems": self.problems(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::{Skill, SkillSet, Tier};

    fn stuck(n: usize, tickets: u64, why: Why) -> Vec<Stuck> {
        (0..n)
            .map(|i| Stuck {
                tier: Tier::Vip,
                skills: SkillSet::new(vec![Skill::new(&format!("skill{i:02}"))]),
                tickets,
                why: why.clone(),
            })
            .collect()
    }

    #[test]
    fn a_stalled_drain_names_the_keys_no_agent_may_take_and_sums_the_rest() {
        let mut o = Outcome::new(
            &Shared::default(),
            Recorder::default(),
            Duration::from_secs(1),
            Duration::from_secs(1),
            0,
            0,
        );
        let mut keys = stuck(22, 3, Why::Skills(vec!["x".into()]));
        keys.extend(stuck(4, 10, Why::Eligible(2)));
        o.ending(Some(End::Stalled(Duration::from_secs(5))), keys, None);
        let lines = o.ending_lines();
        assert!(
            lines[0].starts_with("drain: stopped after 5.0s without progress (--drain-timeout); 106 tickets still queued, 66 of them no bench agent may take"),
            "{lines:?}"
        );
        assert_eq!(lines[1], "  3 vip [skill00]: no bench agent has x");
        assert_eq!(
            lines[21],
            "  6 more in 2 more routing keys (--json lists them all)"
        );
        assert_eq!(
            lines[22],
            "  40 in 4 routing keys that bench agents may take: they were busy when the run stopped"
        );
        assert_eq!(lines.len(), 23);
    }

    #[test]
    fn a_drained_run_says_nothing_more_and_an_interrupted_one_names_its_signal() {
        let mut o = Outcome::new(
            &Shared::default(),
            Recorder::default(),
            Duration::from_secs(1),
            Duration::from_secs(1),
            0,
            0,
        );
        o.ending(Some(End::Drained), Vec::new(), None);
        assert!(o.ending_lines().is_empty());
        assert_eq!(o.interrupted(), None);
        o.ending(Some(End::Interrupted("SIGINT")), Vec::new(), None);
        assert_eq!(o.interrupted(), Some("SIGINT"));
        assert_eq!(
            o.ending_lines(),
            ["interrupted by SIGINT: a partial report"]
        );
    }
}
