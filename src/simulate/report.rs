//! What a run means for the desk: per channel and per tier, the service level (contacts
//! answered within their first-response target, over all contacts), ASA, abandonment, and
//! breaches by clock; agent occupancy; the deepest queue. Every desk is measured with the same
//! targets (the SLA policy's, tier and priority included), from the same event times.

use super::engine::{Outcome, Run};
use super::traffic::Contact;
use crate::core::policy::SlaPolicy;
use crate::core::types::{Channel, SlaMetric, Span, Tier, Ts};
use serde::Serialize;

/// The figures of one group of contacts. Shares and means are absent when nothing was there
/// to divide.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    pub contacts: u64,
    pub answered: u64,
    pub answered_within: u64,
    pub abandoned: u64,
    pub service_level: Option<f64>,
    /// Mean wait of the answered, in seconds.
    pub asa_seconds: Option<f64>,
    pub abandonment_rate: Option<f64>,
    pub first_response_breaches: u64,
    pub resolution_breaches: u64,
    #[serde(skip)]
    wait_ms: u128,
}

/// The contact's target for `metric` under `policy`: tier, priority and an upset customer
/// count as the core counts them.
pub(super) fn target(policy: &SlaPolicy, c: &Contact, metric: SlaMetric) -> Span {
    let negative = c.sentiment == crate::core::types::Sentiment::Negative;
    policy
        .target(metric, c.channel, c.tier, c.priority, negative)
        .unwrap_or(Span(u64::MAX))
}

/// Whether the contact was answered within its first-response target.
pub(super) fn answered_within(policy: &SlaPolicy, c: &Contact, outcome: &Outcome) -> bool {
    let first = target(policy, c, SlaMetric::FirstResponse);
    outcome.answered.is_some_and(|at| at.since(c.at) <= first)
}

impl Figures {
    fn add(&mut self, c: &Contact, run_outcome: &Outcome, policy: &SlaPolicy) {
        self.contacts += 1;
        let first = target(policy, c, SlaMetric::FirstResponse);
        match (run_outcome.answered, run_outcome.abandoned) {
            (Some(at), _) => {
                let wait = at.since(c.at);
                self.answered += 1;
                self.wait_ms += u128::from(wait.0);
                if wait <= first {
                    self.answered_within += 1;
                } else {
                    self.first_response_breaches += 1;
                }
            }
            (None, Some(at)) => {
                self.abandoned += 1;
                if at.since(c.at) > first {
                    self.first_response_breaches += 1;
                }
            }
            (None, None) => self.first_response_breaches += 1,
        }
        let resolution = target(policy, c, SlaMetric::Resolution);
        if run_outcome
            .resolved
            .is_some_and(|at| at.since(c.at) > resolution)
        {
            self.resolution_breaches += 1;
        }
    }

    fn finish(mut self) -> Figures {
        let share = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
        self.service_level = share(self.answered_within, self.contacts);
        self.abandonment_rate = share(self.abandoned, self.contacts);
        self.asa_seconds =
            (self.answered > 0).then(|| self.wait_ms as f64 / self.answered as f64 / 1000.0);
        self
    }
}

/// One desk's report.
#[derive(Clone, Debug, Serialize)]
pub struct DeskReport {
    pub desk: String,
    pub overall: Figures,
    pub by_channel: Vec<(Channel, Figures)>,
    pub by_tier: Vec<(Tier, Figures)>,
    pub by_channel_and_tier: Vec<(Channel, Tier, Figures)>,
    /// Time agents spent holding at least one contact, over their time on duty (work finished
    /// after a shift's end counts as busy, so it can pass 100 % on a short shift).
    pub occupancy: f64,
    pub max_queue: usize,
    pub max_oldest_wait_seconds: f64,
    /// The 99th percentile of the first-response wait of the contacts answered, in seconds.
    pub p99_wait_seconds: Option<f64>,
    /// Each simulated minute: hours since midnight (UTC) of the first arrival's day, so that
    /// pictures read in clock time as rosters do; contacts waiting; oldest wait in seconds.
    #[serde(skip)]
    pub samples: Vec<(f64, usize, f64)>,
}

pub fn desk_report(desk: &str, run: &Run, contacts: &[Contact], policy: &SlaPolicy) -> DeskReport {
    let mut overall = Figures::default();
    let mut cells = vec![Figures::default(); Channel::COUNT * Tier::COUNT];
    for (c, o) in contacts.iter().zip(&run.outcomes) {
        overall.add(c, o, policy);
        cells[c.channel.index() * Tier::COUNT + c.tier.index()].add(c, o, policy);
    }
    let merge = |picked: Vec<&Figures>| {
        let mut f = Figures::default();
        for p in picked {
            f.contacts += p.contacts;
            f.answered += p.answered;
            f.answered_within += p.answered_within;
            f.abandoned += p.abandoned;
            f.first_response_breaches += p.first_response_breaches;
            f.resolution_breaches += p.resolution_breaches;
            f.wait_ms += p.wait_ms;
        }
        f.finish()
    };
    let cell = |ch: Channel, t: Tier| &cells[ch.index() * Tier::COUNT + t.index()];
    let used = |f: &Figures| f.contacts > 0;
    let by_channel = Channel::ALL
        .iter()
        .map(|&ch| (ch, merge(Tier::ALL.iter().map(|&t| cell(ch, t)).collect())))
        .filter(|(_, f)| used(f))
        .collect();
    let by_tier = Tier::ALL
        .iter()
        .map(|&t| {
            (
                t,
                merge(Channel::ALL.iter().map(|&ch| cell(ch, t)).collect()),
            )
        })
        .filter(|(_, f)| used(f))
        .collect();
    let by_channel_and_tier = Channel::ALL
        .iter()
        .flat_map(|&ch| Tier::ALL.iter().map(move |&t| (ch, t)))
        .map(|(ch, t)| (ch, t, cell(ch, t).clone().finish()))
        .filter(|(_, _, f)| used(f))
        .collect();
    let on_duty = run.staffed.iter().map(|s| s.0).sum::<u64>() as f64;
    let day = super::midnight(run.samples.first().map_or(Ts(0), |s| s.0));
    let busy: u64 = run.busy.iter().map(|s| s.0).sum();
    DeskReport {
        desk: desk.to_string(),
        overall: overall.finish(),
        by_channel,
        by_tier,
        by_channel_and_tier,
        occupancy: if on_duty > 0.0 {
            busy as f64 / on_duty
        } else {
            0.0
        },
        max_queue: run.samples.iter().map(|s| s.1).max().unwrap_or(0),
        max_oldest_wait_seconds: run
            .samples
            .iter()
            .map(|s| s.2.as_secs_f64())
            .fold(0.0, f64::max),
        p99_wait_seconds: p99_wait(run, contacts),
        samples: run
            .samples
            .iter()
            .map(|&(at, depth, oldest)| {
                let hours = (at.0 - day.0) as f64 / 3_600_000.0;
                (hours, depth, oldest.as_secs_f64())
            })
            .collect(),
    }
}

/// The 99th percentile (nearest rank) of the waits of the contacts answered.
fn p99_wait(run: &Run, contacts: &[Contact]) -> Option<f64> {
    let mut waits: Vec<u64> = contacts
        .iter()
        .zip(&run.outcomes)
        .filter_map(|(c, o)| o.answered.map(|at| at.since(c.at).0))
        .collect();
    if waits.is_empty() {
        return None;
    }
    let rank = (waits.len() * 99).div_ceil(100).max(1) - 1;
    let (_, &mut p99, _) = waits.select_nth_unstable(rank);
    Some(p99 as f64 / 1000.0)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.1} %", v * 100.0))
}

fn secs(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:.0} s"))
}

/// The reports side by side as a text table: service level, ASA and abandonment per channel,
/// per tier and overall, one column per desk.
pub fn table(reports: &[DeskReport]) -> String {
    let mut out = String::new();
    let names: Vec<&str> = reports.iter().map(|r| r.desk.as_str()).collect();
    let header = |what: &str| format!("{what:<22}{}\n", cols(&names));
    let row = |label: String, pick: &dyn Fn(&DeskReport) -> Option<Figures>| {
        let mut line = format!("{label:<22}");
        for r in reports {
            let f = pick(r).unwrap_or_default();
            line.push_str(&format!(
                "{:>30}",
                format!(
                    "{} / {} / {}",
                    pct(f.service_level),
                    secs(f.asa_seconds),
                    pct(f.abandonment_rate)
                )
            ));
        }
        line.push('\n');
        line
    };
    out.push_str("service level / ASA / abandoned\n");
    out.push_str(&header("channel"));
    for &ch in Channel::ALL {
        if reports
            .iter()
            .any(|r| r.by_channel.iter().any(|(c, _)| *c == ch))
        {
            out.push_str(&row(ch.label().into(), &|r| find(&r.by_channel, ch)));
        }
    }
    out.push_str(&header("tier"));
    for &t in Tier::ALL {
        if reports
            .iter()
            .any(|r| r.by_tier.iter().any(|(x, _)| *x == t))
        {
            out.push_str(&row(t.label().into(), &|r| find(&r.by_tier, t)));
        }
    }
    out.push_str(&row("all".into(), &|r| Some(r.overall.clone())));
    let line = |label: &str, f: &dyn Fn(&DeskReport) -> String| {
        let mut l = format!("{label:<22}");
        for r in reports {
            l.push_str(&format!("{:>30}", f(r)));
        }
        l.push('\n');
        l
    };
    out.push_str(&line("occupancy", &|r| {
        format!("{:.1} %", r.occupancy * 100.0)
    }));
    out.push_str(&line("first-response breaches", &|r| {
        r.overall.first_response_breaches.to_string()
    }));
    out.push_str(&line("resolution breaches", &|r| {
        r.overall.resolution_breaches.to_string()
    }));
    out.push_str(&line("p99 first-response wait", &|r| {
        secs(r.p99_wait_seconds)
    }));
    out.push_str(&line("deepest queue", &|r| r.max_queue.to_string()));
    out.push_str(&line("oldest wait", &|r| {
        format!("{:.0} s", r.max_oldest_wait_seconds)
    }));
    out
}

fn cols(names: &[&str]) -> String {
    names.iter().map(|n| format!("{n:>30}")).collect()
}

fn find<K: PartialEq + Copy>(list: &[(K, Figures)], key: K) -> Option<Figures> {
    list.iter().find(|(k, _)| *k == key).map(|(_, f)| f.clone())
}
