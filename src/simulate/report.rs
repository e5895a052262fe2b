//! What a run means for the desk: per channel and per tier, the service level (contacts
//! answered within their first-response target, over all contacts), ASA, abandonment, and
//! breaches by clock; agent occupancy; the deepest queue. Every desk is measured with the same
//! targets (the SLA policy's, tier and priority included), from the same event times.

use super::engine::{Outcome, Run};
use super::traffic::Contact;
use crate::core::policy::SlaPolicy;
use crate::core::types::{Channel, Priority, SlaMetric, Span, Tier, Ts};
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
    /// Contacts answered and then resolved within their resolution target (counted as the
    /// clock counts it, less the time PENDING on the customer), over those answered.
    pub resolution_level: Option<f64>,
    /// The customer's follow-up messages, and those answered within the next-reply target.
    pub messages: u64,
    pub messages_within: u64,
    /// `messages_within` over `messages`.
    pub next_reply_level: Option<f64>,
    /// How often the core took a contact back from an agent who had not answered in time.
    pub taken_back: u64,
    /// The spread of the first-response waits of the answered, in seconds.
    pub waits: Option<Tails>,
    #[serde(skip)]
    resolved_within: u64,
    /// Each answered contact's wait, in milliseconds.
    #[serde(skip)]
    wait_ms: Vec<u64>,
}

/// Nearest-rank percentiles and the maximum of a set of waits, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Tails {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Tails {
    /// `None` for no waits. Sorts `ms`.
    fn of(ms: &mut [u64]) -> Option<Tails> {
        ms.sort_unstable();
        let at = |pct: usize| {
            let rank = (ms.len() * pct).div_ceil(100).max(1) - 1;
            ms[rank] as f64 / 1000.0
        };
        let max = *ms.last()? as f64 / 1000.0;
        Some(Tails {
            p50: at(50),
            p90: at(90),
            p99: at(99),
            max,
        })
    }
}

/// The contact's target for `metric` under `policy`: tier, priority and an upset customer
/// count as the core counts them.
pub(super) fn target(policy: &SlaPolicy, c: &Contact, metric: SlaMetric) -> Span {
    let negative = c.sentiment == crate::core::types::Sentiment::Negative;
    policy
        .target(metric, c.channel, c.tier, c.priority, negative)
        .unwrap_or(Span(u64::MAX))
}

/// The time from `from` to `to` as the core's clocks count it for the contact: the open hours
/// of the channel's calendar, if the policy gives it one, else all of it.
fn counted(policy: &SlaPolicy, c: &Contact, from: Ts, to: Ts) -> Span {
    match policy.calendar(c.channel) {
        Some(calendar) => calendar.between(from, to),
        None => to.since(from),
    }
}

/// Whether `at` is within the contact's `metric` target counted from its arrival.
fn within(policy: &SlaPolicy, c: &Contact, metric: SlaMetric, at: Ts) -> bool {
    counted(policy, c, c.at, at) <= target(policy, c, metric)
}

/// Whether the contact was resolved within its resolution target: from arrival to resolution,
/// less the time it waited PENDING on the customer (as the resolution clock pauses).
fn resolved_within(policy: &SlaPolicy, c: &Contact, outcome: &Outcome, at: Ts) -> bool {
    let paused: u64 = outcome
        .pending
        .iter()
        .map(|&(from, to)| counted(policy, c, from, to).0)
        .sum();
    let open = counted(policy, c, c.at, at).0.saturating_sub(paused);
    Span(open) <= target(policy, c, SlaMetric::Resolution)
}

/// Whether the contact was answered within its first-response target.
pub(super) fn answered_within(policy: &SlaPolicy, c: &Contact, outcome: &Outcome) -> bool {
    outcome
        .answered
        .is_some_and(|at| within(policy, c, SlaMetric::FirstResponse, at))
}

impl Figures {
    fn add(&mut self, c: &Contact, run_outcome: &Outcome, policy: &SlaPolicy) {
        self.contacts += 1;
        let in_time = |at: Ts| within(policy, c, SlaMetric::FirstResponse, at);
        match (run_outcome.answered, run_outcome.abandoned) {
            (Some(at), _) => {
                self.answered += 1;
                self.wait_ms.push(at.since(c.at).0);
                if in_time(at) {
                    self.answered_within += 1;
                } else {
                    self.first_response_breaches += 1;
                }
            }
            (None, Some(at)) => {
                self.abandoned += 1;
                if !in_time(at) {
                    self.first_response_breaches += 1;
                }
            }
            (None, None) => self.first_response_breaches += 1,
        }
        match run_outcome.resolved {
            Some(at) if resolved_within(policy, c, run_outcome, at) => self.resolved_within += 1,
            Some(_) => self.resolution_breaches += 1,
            None => {}
        }
        let next = target(policy, c, SlaMetric::NextReply);
        for &(message, reply) in &run_outcome.messages {
            self.messages += 1;
            if reply.is_some_and(|r| counted(policy, c, message, r) <= next) {
                self.messages_within += 1;
            }
        }
        self.taken_back += u64::from(run_outcome.taken_back);
    }

    /// Adds `other`'s counts to these.
    fn merge(&mut self, other: &Figures) {
        self.contacts += other.contacts;
        self.answered += other.answered;
        self.answered_within += other.answered_within;
        self.abandoned += other.abandoned;
        self.first_response_breaches += other.first_response_breaches;
        self.resolution_breaches += other.resolution_breaches;
        self.resolved_within += other.resolved_within;
        self.messages += other.messages;
        self.messages_within += other.messages_within;
        self.taken_back += other.taken_back;
        self.wait_ms.extend_from_slice(&other.wait_ms);
    }

    fn finish(mut self) -> Figures {
        let share = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
        self.service_level = share(self.answered_within, self.contacts);
        self.abandonment_rate = share(self.abandoned, self.contacts);
        self.resolution_level = share(self.resolved_within, self.answered);
        self.next_reply_level = share(self.messages_within, self.messages);
        let total: u64 = self.wait_ms.iter().sum();
        self.asa_seconds = share(total, self.answered).map(|ms| ms / 1000.0);
        self.waits = Tails::of(&mut self.wait_ms);
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
    /// By the ticket's priority as the front end set it (an upset customer's is not raised
    /// here): where the tail of the wait is, since priority stretches or shortens targets.
    pub by_priority: Vec<(Priority, Figures)>,
    /// Time agents spent holding at least one contact, over their time on duty (work finished
    /// after a shift's end counts as busy, so it can pass 100 % on a short shift).
    pub occupancy: f64,
    pub max_queue: usize,
    pub max_oldest_wait_seconds: f64,
    /// Each simulated minute: hours since midnight (UTC) of the first arrival's day, so that
    /// pictures read in clock time as rosters do; contacts waiting; oldest wait in seconds.
    #[serde(skip)]
    pub samples: Vec<(f64, usize, f64)>,
}

pub fn desk_report(desk: &str, run: &Run, contacts: &[Contact], policy: &SlaPolicy) -> DeskReport {
    let mut cells = vec![Figures::default(); Channel::COUNT * Tier::COUNT];
    let mut priorities = vec![Figures::default(); Priority::COUNT];
    for (c, o) in contacts.iter().zip(&run.outcomes) {
        cells[c.channel.index() * Tier::COUNT + c.tier.index()].add(c, o, policy);
        priorities[c.priority.index()].add(c, o, policy);
    }
    let merge = |picked: Vec<&Figures>| {
        let mut f = Figures::default();
        for p in picked {
            f.merge(p);
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
    let by_priority = Priority::ALL
        .iter()
        .zip(priorities)
        .map(|(&p, f)| (p, f.finish()))
        .filter(|(_, f)| used(f))
        .collect();
    let on_duty = run.staffed.iter().map(|s| s.0).sum::<u64>() as f64;
    let day = super::midnight(run.samples.first().map_or(Ts(0), |s| s.0));
    let busy: u64 = run.busy.iter().map(|s| s.0).sum();
    DeskReport {
        desk: desk.to_string(),
        overall: merge(cells.iter().collect()),
        by_channel,
        by_tier,
        by_channel_and_tier,
        by_priority,
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

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.1} %", v * 100.0))
}

fn secs(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:.0} s"))
}

/// One way of showing a group's figures in a cell.
type Cell = fn(&Figures) -> String;

fn sl_asa_abandoned(f: &Figures) -> String {
    format!(
        "{} / {} / {}",
        pct(f.service_level),
        secs(f.asa_seconds),
        pct(f.abandonment_rate)
    )
}

fn wait_tails(f: &Figures) -> String {
    f.waits.map_or_else(
        || "-".into(),
        |t| {
            format!(
                "{:.0} / {:.0} / {:.0} / {:.0} s",
                t.p50, t.p90, t.p99, t.max
            )
        },
    )
}

fn resolution(f: &Figures) -> String {
    pct(f.resolution_level)
}

fn next_reply(f: &Figures) -> String {
    format!("{} of {}", pct(f.next_reply_level), f.messages)
}

/// The reports side by side as a text table, one column per desk: service level, ASA and
/// abandonment per channel, per tier and overall; then per tier and overall the spread of the
/// first-response wait (and per priority) and the share resolved within target; then the
/// desk-wide figures.
pub fn table(reports: &[DeskReport]) -> String {
    let names: Vec<&str> = reports.iter().map(|r| r.desk.as_str()).collect();
    let header = |what: &str| format!("{what:<22}{}\n", cols(&names));
    let row = |label: &str, cell: Cell, pick: &dyn Fn(&DeskReport) -> Option<Figures>| {
        let mut line = format!("{label:<22}");
        for r in reports {
            line.push_str(&format!("{:>30}", cell(&pick(r).unwrap_or_default())));
        }
        line.push('\n');
        line
    };
    let tiers = |cell: Cell| {
        let mut out = header("tier");
        for &t in Tier::ALL {
            if reports.iter().any(|r| find(&r.by_tier, t).is_some()) {
                out.push_str(&row(t.label(), cell, &|r| find(&r.by_tier, t)));
            }
        }
        out + &row("all", cell, &|r| Some(r.overall.clone()))
    };
    let mut out = String::from("service level / ASA / abandoned\n");
    out.push_str(&header("channel"));
    for &ch in Channel::ALL {
        if reports.iter().any(|r| find(&r.by_channel, ch).is_some()) {
            out.push_str(&row(ch.label(), sl_asa_abandoned, &|r| {
                find(&r.by_channel, ch)
            }));
        }
    }
    out.push_str(&tiers(sl_asa_abandoned));
    out.push_str("\nfirst-response wait p50 / p90 / p99 / max\n");
    out.push_str(&tiers(wait_tails));
    out.push_str(&header("priority"));
    for &p in Priority::ALL {
        if reports.iter().any(|r| find(&r.by_priority, p).is_some()) {
            out.push_str(&row(p.label(), wait_tails, &|r| find(&r.by_priority, p)));
        }
    }
    out.push_str("\nnext reply within target (of the customer's follow-ups)\n");
    out.push_str(&tiers(next_reply));
    out.push_str("\nresolved within target (of the answered; time pending excluded)\n");
    out.push_str(&tiers(resolution));
    out.push('\n');
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
    out.push_str(&line("taken back at L2", &|r| {
        r.overall.taken_back.to_string()
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

pub(super) fn find<K: PartialEq + Copy>(list: &[(K, Figures)], key: K) -> Option<Figures> {
    list.iter().find(|(k, _)| *k == key).map(|(_, f)| f.clone())
}
