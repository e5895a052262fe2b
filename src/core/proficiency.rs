//! Proficiency: an agent's level in a skill (1-10, `billing:7`), a ticket's minimum level in a
//! required skill (`billing>=5`) and its optional skills (wanted until a ring drops them), and
//! the policy's `select`: which of several waiting agents a dispatch serves first.
//!
//! A plain skill is level 1 and a plain requirement minimum 1, and neither is stored: agents
//! and tickets without levels carry empty tables, routing keys without minimums compare and
//! hash as before, and eligibility checks a level only where a key names a minimum.

use super::model::{Agent, Order};
use super::parse::{FieldError, Parsed, MAX_SKILLS};
use super::routing::{best_for, Ranking};
use super::scheduler::Scheduler;
use super::types::{AgentId, Presence, Ts};
use super::types::{Skill, SkillSet};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

/// A level in a skill: 1 (the plain skill) to 10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Proficiency(u8);

impl Proficiency {
    pub const PLAIN: Proficiency = Proficiency(1);
    pub const MAX: u8 = 10;

    /// `n` when it is a level (1..=10).
    pub fn new(n: u8) -> Option<Proficiency> {
        (1..=Self::MAX).contains(&n).then_some(Proficiency(n))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// Levels above 1 by skill, sorted by skill, without duplicates: an agent's proficiencies or a
/// ticket's minimums. Skills not in it are level 1. Empty (no allocation) for plain skills.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Levels(Box<[(Skill, Proficiency)]>);

impl Levels {
    /// The levels of `pairs`, dropping level 1 (the plain skill) and keeping the highest of
    /// a skill given twice.
    pub fn new(mut pairs: Vec<(Skill, Proficiency)>) -> Levels {
        pairs.retain(|(_, level)| *level > Proficiency::PLAIN);
        pairs.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        pairs.dedup_by(|later, earlier| later.0 == earlier.0);
        Levels(pairs.into())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Skill, Proficiency)> {
        self.0.iter().map(|(s, l)| (s, *l))
    }

    /// The level of `skill` (1 when not listed).
    pub fn of(&self, skill: &Skill) -> Proficiency {
        self.0
            .binary_search_by(|(s, _)| s.cmp(skill))
            .map_or(Proficiency::PLAIN, |i| self.0[i].1)
    }

    /// Whether an agent with `levels` meets every level of `self`: nothing to check (and no
    /// cost) for a key without minimums. The skills themselves are checked by the skill sets.
    pub fn met_by(&self, levels: &Levels) -> bool {
        self.0.iter().all(|(skill, min)| levels.of(skill) >= *min)
    }

    /// Only the levels of skills in `skills` (what is left of minimums when routing widens).
    pub fn within(&self, skills: &SkillSet) -> Levels {
        let kept = self.0.iter().filter(|(s, _)| skills.contains(&s.0));
        Levels(kept.cloned().collect())
    }

    /// `skill:level` (or `skill>=level` for a minimum) for each skill of `skills`, the level
    /// left out where it is 1: the form the API takes back.
    pub fn written<'a>(
        &'a self,
        skills: impl Iterator<Item = &'a Skill> + 'a,
        sep: &'a str,
    ) -> impl Iterator<Item = String> + 'a {
        skills.map(move |s| match self.of(s) {
            Proficiency::PLAIN => s.0.to_string(),
            level => format!("{}{sep}{}", s.0, level.get()),
        })
    }
}

/// What a ticket asks of its agent beyond its plain required skills; kept in the ticket's
/// `Extras` and absent for a ticket without minimums or optional skills.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    /// Minimum levels in required skills (each a skill of `Ticket::skills`).
    pub minimums: Levels,
    /// Skills wanted on top of the required ones until the `drop_optional` ring.
    pub optional: SkillSet,
}

impl Needs {
    /// `None` when there is nothing beyond plain skills, so that such tickets carry nothing.
    pub fn given(self) -> Option<Needs> {
        (self != Needs::default()).then_some(self)
    }
}

/// Splits `name:N` (an agent's level) or `name>=N` (a ticket's minimum) off a skill as the
/// API takes it. A `:` suffix that is not all digits is part of the name (`lang:en`).
fn split_level<'a>(value: &'a str, sep: &str) -> (&'a str, Option<&'a str>) {
    match value.rsplit_once(sep) {
        Some((name, n))
            if sep != ":" || (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            (name, Some(n))
        }
        _ => (value, None),
    }
}

fn level(field: &str, n: &str) -> Parsed<Proficiency> {
    n.parse::<u8>()
        .ok()
        .and_then(Proficiency::new)
        .ok_or_else(|| FieldError::new(field, format!("level {n:?} must be 1 to 10")))
}

/// Skills with optional levels (`sep` `:` for an agent, `>=` for a ticket's minimums):
/// the skill set in the order given, as `SkillSet::parse` would have it, and the levels.
pub fn parse_levelled(
    field: &str,
    values: Vec<String>,
    sep: &str,
) -> Parsed<(Vec<String>, Levels)> {
    if values.len() > MAX_SKILLS {
        let reason = format!("has {} skills; at most {MAX_SKILLS} allowed", values.len());
        return Err(FieldError::new(field, reason));
    }
    let mut names = Vec::with_capacity(values.len());
    let mut levels = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let item = format!("{field}[{i}]");
        let (name, n) = split_level(value, sep);
        let skill = Skill::parse(&item, name)?;
        if let Some(n) = n {
            levels.push((skill.clone(), level(&item, n)?));
        }
        names.push(skill.0.to_string());
    }
    Ok((names, Levels::new(levels)))
}

/// A ticket's required skills as the API takes them (`billing>=5` for a minimum) and its
/// optional skills: the set, where in it the skill listed first is (`Ticket::first_skill`),
/// and the needs beyond plain skills.
pub fn parse_ticket_skills(
    required: Vec<String>,
    optional: Vec<String>,
) -> Parsed<(SkillSet, u8, Option<Needs>)> {
    let (names, minimums) = parse_levelled("required_skills", required, ">=")?;
    let (skills, first) = SkillSet::parse_listed("required_skills", names)?;
    let optional = SkillSet::parse("optional_skills", optional)?;
    Ok((skills, first, Needs { minimums, optional }.given()))
}

/// An agent's skills as the API takes them (`billing:7` for a level): the set and the levels.
pub fn parse_agent_skills(field: &str, values: Vec<String>) -> Parsed<(SkillSet, Levels)> {
    let (names, levels) = parse_levelled(field, values, ":")?;
    Ok((SkillSet::parse(field, names)?, levels))
}

/// Which of several agents waiting for a ticket a dispatch serves first (the policy's
/// `select`). Each ticket still goes to an agent eligible for it; this only orders them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// Fewest tickets held for the capacity, then the one that got a ticket least recently.
    #[default]
    LeastLoaded,
    /// Agents holding nothing first, the one free for longest first; then least loaded.
    LongestIdle,
    /// The highest summed level in the skills of the ticket each agent would get, then
    /// least loaded.
    MostProficient,
}

impl Select {
    pub const ALL: &'static [Select] = &[
        Select::LeastLoaded,
        Select::LongestIdle,
        Select::MostProficient,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Select::LeastLoaded => "least_loaded",
            Select::LongestIdle => "longest_idle",
            Select::MostProficient => "most_proficient",
        }
    }

    pub fn from_label(label: &str) -> Option<Select> {
        Select::ALL.iter().copied().find(|s| s.label() == label)
    }
}

/// How proficient `agent` is for a ticket needing `skills`: the sum of its levels in them.
pub fn score(agent: &Agent, skills: &SkillSet) -> u32 {
    skills
        .iter()
        .map(|s| u32::from(agent.levels.of(s).get()))
        .sum()
}

impl Scheduler {
    /// Reorders `order` (indexes into `waiting`, least loaded first) as the policy's `select`
    /// says; the sort is stable, so least loaded stays the tie-break. `least_loaded` leaves it
    /// as it is, at no cost.
    pub(super) fn select_order(&mut self, order: &mut [usize], waiting: &[AgentId], now: Ts) {
        match self.policy.select {
            Select::LeastLoaded => {}
            Select::LongestIdle => order.sort_by_key(|&i| {
                self.agents
                    .get(&waiting[i])
                    .map_or((true, u64::MAX), |a| (!a.holding.is_empty(), a.idle_since))
            }),
            Select::MostProficient => {
                let claims: Vec<_> = waiting.iter().map(|id| self.claim(id, now)).collect();
                order.sort_by_key(|&i| (claims[i].is_none(), claims[i]));
            }
        }
    }

    /// The ticket `agent` would get now and its proficiency for it, as a sort key: agents
    /// wanting the same ticket side by side, the most proficient first; agents that would get
    /// nothing last.
    fn claim(&mut self, id: &AgentId, now: Ts) -> Option<(Order, Reverse<u32>)> {
        let ranking = Ranking::new(self.policy.order, now);
        let bound = self.policy.bound_at(now);
        let agent = self.agents.get_mut(id)?;
        if agent.presence != Presence::Available {
            return None;
        }
        let tickets = &self.tickets;
        let pick = best_for(agent, &self.queues, |t| tickets.get(t), ranking, bound)?;
        let skills = &self.tickets[pick.ticket].skills;
        Some((pick.order, Reverse(score(agent, skills))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn levels_parse_from_the_skill_and_plain_skills_are_level_1() {
        let (skills, levels) =
            parse_levelled("skills", names(&["Billing:7", "en", "lang:en"]), ":").expect("ok");
        assert_eq!(skills, names(&["billing", "en", "lang:en"]));
        assert_eq!(levels.of(&Skill::new("billing")).get(), 7);
        assert_eq!(levels.of(&Skill::new("en")), Proficiency::PLAIN);
        assert_eq!(levels.iter().count(), 1, "level 1 is not stored");
        let (_, mins) =
            parse_levelled("required_skills", names(&["billing>=5"]), ">=").expect("ok");
        assert!(mins.met_by(&levels));
        let (_, high) =
            parse_levelled("required_skills", names(&["billing>=8"]), ">=").expect("ok");
        assert!(!high.met_by(&levels));
    }

    #[test]
    fn bad_levels_name_the_item() {
        for (value, sep) in [
            ("x:11", ":"),
            ("x:0", ":"),
            ("x>=11", ">="),
            ("x>=", ">="),
            ("x>=a", ">="),
        ] {
            let err = parse_levelled("skills", names(&["en", value]), sep).expect_err(value);
            assert_eq!(err.field, "skills[1]", "{value}");
        }
    }

    #[test]
    fn written_levels_read_back_the_same() {
        let (skills, levels) = parse_levelled("s", names(&["en", "billing:7"]), ":").expect("ok");
        let set = SkillSet::new(skills.iter().map(|s| Skill::new(s)).collect());
        let written: Vec<String> = levels.written(set.iter(), ":").collect();
        assert_eq!(written, names(&["billing:7", "en"]));
        assert_eq!(parse_levelled("s", written, ":").expect("ok").1, levels);
    }
}
