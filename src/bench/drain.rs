//! The end of a run: once the creators are done, the agents work off what is queued. The
//! drain ends when every ticket is done, or when nothing has been done for `--drain-timeout`
//! (tickets that no bench agent may take would otherwise wait for escalation, hours on slow
//! channels), or on Ctrl-C / SIGTERM. What is still queued then is explained per routing key:
//! which skills or which tier no bench agent has.

use super::mix;
use crate::api::convert;
use crate::core::command::AgentProfile;
use crate::core::types::{Skill, SkillSet, Tier};
use crate::proto as pb;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How a drain ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every ticket the run waited for was done.
    Drained,
    /// Nothing was done for this long, with tickets still to do.
    Stalled(Duration),
    /// A signal (its name) stopped the run.
    Interrupted(&'static str),
}

/// The drain's stop rule, fed the count of tickets done at each look.
pub struct Rule {
    timeout: Duration,
    last: Option<(u64, Instant)>,
}

/// What the drain does after one look.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Wait,
    /// Stop; the instant is when the last ticket was done (the run's end for throughput).
    Stop(End, Instant),
}

impl Rule {
    pub fn new(timeout: Duration) -> Rule {
        Rule {
            timeout,
            last: None,
        }
    }

    /// One look at `now`: done once `done` reaches `goal`; stalled once `done` has not changed
    /// for longer than the timeout (counted from the first look, so a drain that never
    /// progresses stops too). Any change of `done` counts as progress.
    pub fn step(&mut self, done: u64, goal: u64, now: Instant) -> Step {
        if done >= goal {
            return Step::Stop(End::Drained, now);
        }
        match self.last {
            Some((seen, since)) if seen == done => {
                let idle = now.saturating_duration_since(since);
                if idle > self.timeout {
                    return Step::Stop(End::Stalled(idle), since);
                }
            }
            _ => self.last = Some((done, now)),
        }
        Step::Wait
    }
}

/// Why tickets of one routing key wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// No bench agent has all of these skills (the ones of the key none of them has).
    Skills(Vec<String>),
    /// Some bench agents have the skills, none of them serves the tier.
    Tier,
    /// This many bench agents may take them: they were busy, or away, when the drain stopped.
    Eligible(usize),
}

/// Why tickets of `tier` needing `skills` wait, given the bench's agents.
pub fn why(tier: Tier, skills: &SkillSet, agents: &[AgentProfile]) -> Why {
    let eligible = agents
        .iter()
        .filter(|a| mix::covers(a, tier, skills))
        .count();
    if eligible > 0 {
        return Why::Eligible(eligible);
    }
    if agents.iter().any(|a| skills.is_subset_of(&a.skills)) {
        return Why::Tier;
    }
    let missing: Vec<String> = skills
        .iter()
        .filter(|s| !agents.iter().any(|a| a.skills.contains(&s.0)))
        .map(|s| s.0.to_string())
        .collect();
    Why::Skills(missing)
}

/// Queued tickets of one (tier, skills), all channels together, and why they wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stuck {
    pub tier: Tier,
    pub skills: SkillSet,
    pub tickets: u64,
    pub why: Why,
}

impl Stuck {
    pub fn describe(&self) -> String {
        let skills: Vec<&str> = self.skills.iter().map(|s| &*s.0).collect();
        let reason = match &self.why {
            Why::Skills(missing) if missing.is_empty() => {
                "no bench agent has all these skills together".to_string()
            }
            Why::Skills(missing) => format!("no bench agent has {}", missing.join(", ")),
            Why::Tier => format!(
                "the agents with these skills do not serve {}",
                self.tier.label()
            ),
            Why::Eligible(n) => format!("{n} bench agents may take them (busy or away)"),
        };
        format!(
            "{} {} [{}]: {reason}",
            self.tickets,
            self.tier.label(),
            skills.join("+")
        )
    }
}

/// The queued tickets of a `GetQueueStats` answer grouped by (tier, skills), largest first,
/// each with why the bench's `agents` could not take it.
pub fn stuck(queues: &[pb::QueueStats], agents: &[AgentProfile]) -> Vec<Stuck> {
    let mut groups: BTreeMap<(Tier, SkillSet), u64> = BTreeMap::new();
    for q in queues.iter().filter(|q| q.depth > 0) {
        let Some(tier) = tier_of(q.tier) else {
            continue;
        };
        let skills = SkillSet::new(q.skills.iter().map(|s| Skill::new(s)).collect());
        *groups.entry((tier, skills)).or_default() += u64::from(q.depth);
    }
    let mut out: Vec<Stuck> = groups
        .into_iter()
        .map(|((tier, skills), tickets)| Stuck {
            why: why(tier, &skills, agents),
            tier,
            skills,
            tickets,
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.tickets));
    out
}

/// A queue's tier as the core names it (GetQueueStats speaks protobuf).
fn tier_of(tier: i32) -> Option<Tier> {
    pb::Tier::try_from(tier)
        .ok()
        .and_then(convert::decode::tier)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::{AgentId, Channel};

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn the_drain_ends_when_every_ticket_is_done() {
        let t0 = Instant::now();
        let mut rule = Rule::new(Duration::from_secs(5));
        assert_eq!(rule.step(3, 10, t0), Step::Wait);
        assert_eq!(rule.step(9, 10, at(t0, 100)), Step::Wait);
        assert_eq!(
            rule.step(10, 10, at(t0, 200)),
            Step::Stop(End::Drained, at(t0, 200))
        );
        assert_eq!(
            Rule::new(Duration::ZERO).step(0, 0, t0),
            Step::Stop(End::Drained, t0),
            "nothing to wait for"
        );
    }

    #[test]
    fn the_drain_stops_after_the_timeout_without_progress() {
        let t0 = Instant::now();
        let mut rule = Rule::new(Duration::from_secs(5));
        assert_eq!(rule.step(4, 10, t0), Step::Wait);
        assert_eq!(rule.step(6, 10, at(t0, 1_000)), Step::Wait);
        assert_eq!(
            rule.step(6, 10, at(t0, 6_000)),
            Step::Wait,
            "5 s is not over 5 s"
        );
        assert_eq!(
            rule.step(6, 10, at(t0, 6_001)),
            Step::Stop(End::Stalled(Duration::from_millis(5_001)), at(t0, 1_000)),
            "ends at the last progress"
        );
    }

    #[test]
    fn progress_restarts_the_timeout_and_a_drain_that_never_moves_stops() {
        let t0 = Instant::now();
        let mut rule = Rule::new(Duration::from_secs(5));
        for s in 0..100 {
            // A ticket done every 4 s: slow, but never 5 s without progress.
            assert_eq!(rule.step(s, 1_000, at(t0, s * 4_000)), Step::Wait);
            assert_eq!(rule.step(s, 1_000, at(t0, s * 4_000 + 3_999)), Step::Wait);
        }
        let mut idle = Rule::new(Duration::from_secs(5));
        assert_eq!(idle.step(0, 94, t0), Step::Wait);
        assert!(matches!(
            idle.step(0, 94, at(t0, 5_001)),
            Step::Stop(End::Stalled(_), _)
        ));
    }

    fn agent(id: &str, skills: &[&str], tiers: &[Tier]) -> AgentProfile {
        AgentProfile {
            levels: Default::default(),
            id: AgentId::new(id),
            display_name: String::new(),
            skills: SkillSet::new(skills.iter().map(|s| Skill::new(s)).collect()),
            tiers: tiers.to_vec(),
            capacity: [Some(5); Channel::COUNT],
        }
    }

    fn skills(s: &[&str]) -> SkillSet {
        SkillSet::new(s.iter().map(|s| Skill::new(s)).collect())
    }

    #[test]
    fn stuck_tickets_are_explained_by_skills_or_tier() {
        let agents = [
            agent("a", &["de", "billing"], &[]),
            agent("b", &["fr", "booking"], &[Tier::Standard, Tier::New]),
        ];
        assert_eq!(
            why(Tier::Standard, &skills(&["de", "booking"]), &agents),
            Why::Skills(vec![]),
            "each skill has an agent, the pair has none"
        );
        assert_eq!(
            why(Tier::Vip, &skills(&["es", "booking"]), &agents),
            Why::Skills(vec!["es".into()])
        );
        assert_eq!(
            why(Tier::Vip, &skills(&["fr", "booking"]), &agents),
            Why::Tier
        );
        assert_eq!(why(Tier::Vip, &skills(&["de"]), &agents), Why::Eligible(1));
    }

    #[test]
    fn queue_stats_are_grouped_over_channels_largest_first() {
        let agents = [agent("a", &["de", "billing"], &[])];
        let queue = |channel: pb::Channel, tier: pb::Tier, skills: &[&str], depth| pb::QueueStats {
            tier: tier as i32,
            channel: channel as i32,
            skills: skills.iter().map(|s| s.to_string()).collect(),
            depth,
            ..Default::default()
        };
        let queues = [
            queue(pb::Channel::Chat, pb::Tier::Vip, &["fr"], 2),
            queue(pb::Channel::Email, pb::Tier::Vip, &["fr"], 3),
            queue(pb::Channel::Chat, pb::Tier::Vip, &["de"], 0),
            queue(pb::Channel::Chat, pb::Tier::Standard, &["booking", "de"], 7),
        ];
        let out = stuck(&queues, &agents);
        let lines: Vec<String> = out.iter().map(Stuck::describe).collect();
        assert_eq!(
            lines,
            [
                "7 standard [booking+de]: no bench agent has booking",
                "5 vip [fr]: no bench agent has fr",
            ]
        );
    }
}
