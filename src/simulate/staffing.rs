//! The staffing search: the fewest agents on duty in each hour of the day for which triage's
//! core answers that hour's contacts within target often enough, per tier. Hours are settled
//! in order: for hour `h`, with the hours before it already fixed (their backlog carries into
//! `h`), a binary search over the number of agents runs the day up to the end of `h` (the
//! same number staying on after it, so the hour's contacts can drain) and reads the service
//! level of the contacts that arrived in `h`. Agents come from a pool in a fixed order, so a
//! bigger count adds agents and never swaps them.

use super::baseline::Baseline;
use super::engine::{run, Duty, Outcome};
use super::report;
use super::traffic::Contact;
use super::triage_desk::TriageDesk;
use super::RosterEntry;
use crate::core::command::AgentProfile;
use crate::core::policy::SlaPolicy;
use crate::core::types::{Span, Tier, Ts};
use crate::core::CoreError;
use serde::Serialize;

/// The service level to reach: a default, and per tier where it differs.
#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    pub default: f64,
    pub tiers: [Option<f64>; Tier::COUNT],
}

impl Targets {
    pub fn for_tier(&self, tier: Tier) -> f64 {
        self.tiers[tier.index()].unwrap_or(self.default)
    }

    /// Parses `--target-sl` values: one share ("0.8") and any `tier=share` ("vip=0.95").
    pub fn parse(values: &[String]) -> anyhow::Result<Targets> {
        let mut t = Targets {
            default: 0.8,
            tiers: [None; Tier::COUNT],
        };
        for v in values {
            let (tier, share) = match v.split_once('=') {
                Some((tier, share)) => (Some(tier), share),
                None => (None, v.as_str()),
            };
            let share: f64 = share
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("--target-sl {v:?}: not a share such as 0.8"))?;
            anyhow::ensure!(
                share > 0.0 && share <= 1.0,
                "--target-sl {v:?}: a share in (0, 1]"
            );
            match tier {
                None => t.default = share,
                Some(name) => {
                    let tier = Tier::from_label(name.trim())
                        .ok_or_else(|| anyhow::anyhow!("--target-sl {v:?}: unknown tier"))?;
                    t.tiers[tier.index()] = Some(share);
                }
            }
        }
        Ok(t)
    }
}

/// Whose decisions the staffing search staffs: triage's core, or a first-come-first-served
/// desk (the baseline a manager compares with).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Staffed {
    Triage,
    Fifo,
}

impl Staffed {
    pub fn label(self) -> &'static str {
        match self {
            Staffed::Triage => "triage",
            Staffed::Fifo => "fifo",
        }
    }

    fn outcomes(
        self,
        policy: &SlaPolicy,
        profiles: &[AgentProfile],
        contacts: &[Contact],
        duty: &[Duty],
    ) -> Result<Vec<Outcome>, CoreError> {
        Ok(match self {
            Staffed::Triage => run(TriageDesk::new(policy, profiles, contacts)?, contacts, duty),
            Staffed::Fifo => run(Baseline::fifo(profiles, contacts), contacts, duty),
        }
        .outcomes)
    }
}

/// A desk's plan for the day, and what it adds up to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub desk: Staffed,
    pub hours: Vec<Hour>,
    /// The most agents on duty in any hour.
    pub peak: usize,
    pub agent_hours: usize,
    /// Whether every hour met every tier's target.
    pub met: bool,
}

impl Plan {
    fn new(desk: Staffed, hours: Vec<Hour>) -> Plan {
        Plan {
            desk,
            peak: hours.iter().map(|h| h.agents).max().unwrap_or(0),
            agent_hours: hours.iter().map(|h| h.agents).sum(),
            met: hours.iter().all(|h| h.met),
            hours,
        }
    }
}

/// One hour of the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hour {
    pub hour: usize,
    pub contacts: usize,
    /// The fewest agents that meet every tier's target, or the whole pool if even that does
    /// not.
    pub agents: usize,
    /// Whether the whole plan meets every tier's target for this hour's contacts.
    pub met: bool,
    /// The service level per tier the whole plan reaches (tiers with contacts this hour).
    pub service_levels: Vec<(Tier, f64)>,
}

/// Searches the plan for the first day of `contacts` (from `day_start`) with agents from
/// `pool`. Hour `h` gets the fewest agents with which its own contacts meet their targets and
/// every earlier hour that met them still does (its backlog, emails say, is served in `h`
/// too). The figures reported are those of the whole plan run once more at the end.
pub fn search(
    desk: Staffed,
    policy: &SlaPolicy,
    contacts: &[Contact],
    pool: &[RosterEntry],
    targets: &Targets,
    day_start: Ts,
) -> Result<Plan, CoreError> {
    let profiles: Vec<AgentProfile> = pool.iter().map(|r| r.profile.clone()).collect();
    let hour_of = |c: &Contact| (c.at.0 - day_start.0).div_euclid(Span::hours(1).0 as i64);
    let by_hour: Vec<Vec<usize>> = (0..24)
        .map(|h| {
            (0..contacts.len())
                .filter(|&i| hour_of(&contacts[i]) == h)
                .collect()
        })
        .collect();
    let meets = |levels: &[(Tier, f64)]| {
        levels
            .iter()
            .all(|&(tier, sl)| sl + 1e-9 >= targets.for_tier(tier))
    };
    // The day up to the end of hour `h` with `staffing`: each hour's service levels.
    let evaluate = |staffing: &[usize]| -> Result<Vec<Vec<(Tier, f64)>>, CoreError> {
        let h = staffing.len() as i64 - 1;
        let prefix = &contacts[..contacts.partition_point(|c| hour_of(c) <= h)];
        let duty = duty(staffing, pool.len(), day_start);
        let outcomes = desk.outcomes(policy, &profiles, prefix, &duty)?;
        Ok(by_hour[..staffing.len()]
            .iter()
            .map(|picked| service_levels(policy, contacts, &outcomes, picked))
            .collect())
    };
    let mut plan: Vec<usize> = Vec::with_capacity(24);
    let mut settled: Vec<usize> = Vec::new();
    // Drawn on a terminal only (indicatif hides it otherwise): a 100,000-contact day takes
    // about two minutes.
    let progress =
        indicatif::ProgressBar::new(24).with_message(format!("hours staffed ({})", desk.label()));
    for hour in 0..24 {
        progress.inc(1);
        let good = |levels: &[Vec<(Tier, f64)>]| {
            meets(&levels[hour]) && settled.iter().all(|&h| meets(&levels[h]))
        };
        let with = |agents: usize| [&plan[..], &[agents]].concat();
        let (mut lo, mut hi) = (0, pool.len());
        let reachable = good(&evaluate(&with(hi))?);
        while reachable && lo < hi {
            let mid = (lo + hi) / 2;
            if good(&evaluate(&with(mid))?) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if reachable {
            settled.push(hour);
        }
        plan.push(hi);
    }
    progress.finish_and_clear();
    let levels = evaluate(&plan)?;
    let hours = (0..24)
        .map(|hour| Hour {
            hour,
            contacts: by_hour[hour].len(),
            agents: plan[hour],
            met: meets(&levels[hour]),
            service_levels: levels[hour].clone(),
        })
        .collect();
    Ok(Plan::new(desk, hours))
}

/// Triage's plan beside FIFO's for the same day and targets: the headline a manager wants.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub plans: Vec<Plan>,
    /// The share of FIFO's agent-hours triage does without (negative: it needs more);
    /// `None` without a FIFO plan, or when either plan misses a target somewhere (the whole
    /// pool did not suffice, so its agent-hours are no need but a cap).
    pub saving: Option<f64>,
}

impl Comparison {
    pub fn new(plans: Vec<Plan>) -> Comparison {
        let find = |d: Staffed| plans.iter().find(|p| p.desk == d && p.met);
        let saving = match (find(Staffed::Triage), find(Staffed::Fifo)) {
            (Some(t), Some(f)) if f.agent_hours > 0 => {
                Some(1.0 - t.agent_hours as f64 / f.agent_hours as f64)
            }
            _ => None,
        };
        Comparison { plans, saving }
    }
}

/// Agent `i` is on duty in hour `h` when `i < staffing[h]`; the last hour's staffing stays on
/// after it.
fn duty(staffing: &[usize], pool: usize, day_start: Ts) -> Vec<Duty> {
    let hour = |h: usize| day_start.plus(Span::hours(h as u64));
    let last = staffing.len();
    (0..pool)
        .map(|agent| {
            let mut intervals: Vec<(Ts, Ts)> = Vec::new();
            for (h, &n) in staffing.iter().enumerate() {
                if agent >= n {
                    continue;
                }
                let end = if h + 1 == last { Ts::MAX } else { hour(h + 1) };
                match intervals.last_mut() {
                    Some(open) if open.1 == hour(h) => open.1 = end,
                    _ => intervals.push((hour(h), end)),
                }
            }
            Some(intervals)
        })
        .collect()
}

/// Per tier: the share of `picked` contacts answered within their first-response target.
fn service_levels(
    policy: &SlaPolicy,
    contacts: &[Contact],
    outcomes: &[Outcome],
    picked: &[usize],
) -> Vec<(Tier, f64)> {
    let mut within = [0u64; Tier::COUNT];
    let mut all = [0u64; Tier::COUNT];
    for &i in picked {
        let c = &contacts[i];
        all[c.tier.index()] += 1;
        if report::answered_within(policy, c, &outcomes[i]) {
            within[c.tier.index()] += 1;
        }
    }
    Tier::ALL
        .iter()
        .filter(|t| all[t.index()] > 0)
        .map(|&t| (t, within[t.index()] as f64 / all[t.index()] as f64))
        .collect()
}

/// The plans as a table: per hour the contacts, each desk's agents, and the service level per
/// tier of the first desk's plan; then each plan's peak and agent-hours, and the saving.
pub fn table(cmp: &Comparison, targets: &Targets) -> String {
    let Some(first) = cmp.plans.first() else {
        return String::new();
    };
    let mut out = String::from("hour   contacts");
    for p in &cmp.plans {
        out.push_str(&format!("{:>9}", p.desk.label()));
    }
    out.push_str(&format!(
        "   service level per tier ({})\n",
        first.desk.label()
    ));
    for (i, h) in first.hours.iter().enumerate() {
        out.push_str(&format!("{:02}:00  {:>8}", h.hour, h.contacts));
        for p in &cmp.plans {
            let mark = if p.hours[i].met { ' ' } else { '*' };
            out.push_str(&format!("{:>8}{mark}", p.hours[i].agents));
        }
        let levels: Vec<String> = h
            .service_levels
            .iter()
            .map(|(t, sl)| format!("{} {:.1} %", t.label(), sl * 100.0))
            .collect();
        out.push_str(&format!("   {}\n", levels.join(", ")));
    }
    if cmp.plans.iter().any(|p| !p.met) {
        out.push_str("* the target is not met in this hour even with the whole pool\n");
    }
    let tiers: Vec<String> = Tier::ALL
        .iter()
        .map(|&t| format!("{} {:.0} %", t.label(), targets.for_tier(t) * 100.0))
        .collect();
    out.push_str(&format!("targets: {}\n", tiers.join(", ")));
    for p in &cmp.plans {
        out.push_str(&format!(
            "{}: peak {} agents, {} agent-hours\n",
            p.desk.label(),
            p.peak,
            p.agent_hours
        ));
    }
    if let Some(saving) = cmp.saving {
        out.push_str(&format!(
            "triage needs {:.1} % fewer agent-hours than fifo\n",
            saving * 100.0
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{single_queue_roster, traffic, DAY_START};

    #[test]
    fn targets_parse_a_default_and_tiers_and_refuse_nonsense() {
        let t = Targets::parse(&["0.7".into(), "vip=0.95".into()]).expect("parse");
        assert_eq!((t.for_tier(Tier::Vip), t.for_tier(Tier::New)), (0.95, 0.7));
        for bad in ["1.5", "0", "gold=0.9", "vip=x"] {
            assert!(Targets::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn duty_merges_consecutive_hours_and_leaves_the_last_open() {
        let d = duty(&[2, 2, 0, 1], 2, Ts(0));
        let h = |n: u64| Ts(0).plus(Span::hours(n));
        assert_eq!(d[0], Some(vec![(h(0), h(2)), (h(3), Ts::MAX)]));
        assert_eq!(d[1], Some(vec![(h(0), h(2))]));
    }

    /// A steady Poisson day of one queue (7 Erlangs, a 30 s target at 80 %): Erlang C says 10
    /// agents (83.6 %; 9 give 68.5 %). Each hour has only about 84 contacts, so single hours
    /// stray; the plan's median must be Erlang's answer, give or take one.
    #[test]
    fn a_steady_single_queue_is_staffed_as_erlang_c_says() {
        let day = traffic::poisson(84.0, 24.0, Span::mins(5), DAY_START, 3);
        let pool = single_queue_roster(16);
        let targets = Targets::parse(&["0.8".into()]).expect("targets");
        let plan = search(
            Staffed::Triage,
            &SlaPolicy::default(),
            &day,
            &pool,
            &targets,
            DAY_START,
        )
        .expect("plan");
        assert_eq!(plan.hours.len(), 24);
        assert!(plan.met, "16 agents are enough");
        let mut agents: Vec<usize> = plan.hours.iter().map(|h| h.agents).collect();
        agents.sort();
        let median = agents[12];
        assert!(
            (9..=11).contains(&median),
            "median {median}, plan {agents:?}"
        );
        for h in &plan.hours {
            assert!(h.service_levels.iter().all(|&(_, sl)| sl >= 0.8), "{h:?}");
        }
    }
}
