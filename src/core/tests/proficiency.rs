//! Proficiency: levels, minimums and the policy's `select`, on the simulated clock.

use super::*;
use crate::core::proficiency::{parse_agent_skills, parse_ticket_skills, Select};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl Sim {
    /// An AVAILABLE agent whose skills may carry levels (`billing:7`).
    fn levelled_agent(&mut self, id: &str, has: &[&str]) {
        let (skills, levels) = parse_agent_skills("skills", strings(has)).expect("skills");
        let profile = AgentProfile {
            id: agent_id(id),
            display_name: id.into(),
            skills,
            levels,
            tiers: Vec::new(),
            capacity: [None; Channel::COUNT],
        };
        self.sign_in(profile);
    }

    /// An email ticket (so no SLA widening within minutes) whose required skills may carry
    /// minimums (`billing>=5`), with optional skills.
    pub(super) fn needing(&mut self, required: &[&str], optional: &[&str]) -> TicketId {
        let mut new = self.new_ticket(Tier::Standard, Channel::Email, &[]);
        let (skills, first, needs) =
            parse_ticket_skills(strings(required), strings(optional)).expect("skills");
        (new.skills, new.first_skill, new.needs) = (skills, first, needs);
        self.create_with(new)
    }

    fn dispatched(&mut self, agents: &[&str]) -> Vec<Option<TicketId>> {
        let ids: Vec<AgentId> = agents.iter().map(|a| agent_id(a)).collect();
        self.s
            .dispatch(&ids, self.now)
            .into_iter()
            .map(|r| r.expect("dispatch").map(|a| a.ticket.id))
            .collect()
    }
}

fn with_select(select: Select) -> Sim {
    Sim::with_policy(SlaPolicy {
        select,
        ..SlaPolicy::default()
    })
}

#[test]
fn a_minimum_level_admits_only_agents_at_or_above_it() {
    let mut sim = Sim::new();
    let t = sim.needing(&["en", "billing>=5"], &[]);
    sim.levelled_agent("plain", &["en", "billing"]);
    sim.levelled_agent("low", &["en", "billing:4"]);
    sim.levelled_agent("high", &["en", "billing:5"]);
    assert_eq!(sim.pulled_id("plain"), None, "a plain skill is level 1");
    assert_eq!(sim.pulled_id("low"), None);
    assert_eq!(sim.pulled_id("high"), Some(t));
}

#[test]
fn plain_skills_keep_no_levels_and_the_client_order() {
    let mut sim = Sim::new();
    let t = sim.needing(&["en", "billing"], &[]);
    assert_eq!(
        sim.ticket(t).needs(),
        None,
        "nothing beyond plain skills is kept"
    );
    let listed: Vec<String> = sim.ticket(t).written_skills().collect();
    assert_eq!(listed, strings(&["en", "billing"]));
    let t = sim.needing(&["en", "billing>=5"], &["vip-desk"]);
    let listed: Vec<String> = sim.ticket(t).written_skills().collect();
    assert_eq!(
        listed,
        strings(&["en", "billing>=5"]),
        "listed order, minimum kept"
    );
    sim.agent("plain", &["en", "billing"]);
    assert_eq!(sim.pulled_id("plain"), Some(TicketId(1)));
}

#[test]
fn most_proficient_serves_the_highest_level_first_and_least_loaded_does_not() {
    for (select, winner) in [(Select::MostProficient, 1), (Select::LeastLoaded, 0)] {
        let mut sim = with_select(select);
        sim.levelled_agent("a", &["billing:2"]);
        sim.levelled_agent("b", &["billing:9"]);
        sim.levelled_agent("c", &["billing:5"]);
        let t = sim.needing(&["billing"], &[]);
        let got = sim.dispatched(&["a", "b", "c"]);
        let mut expected = vec![None; 3];
        expected[winner] = Some(t);
        assert_eq!(got, expected, "{select:?}");
    }
}

#[test]
fn most_proficient_gives_each_ticket_its_best_taker() {
    let mut sim = with_select(Select::MostProficient);
    sim.levelled_agent("a", &["billing:3", "en:9"]);
    sim.levelled_agent("b", &["billing:8", "en"]);
    let first = sim.needing(&["billing"], &[]);
    let second = sim.needing(&["billing"], &[]);
    // Both want the first ticket: b, the more proficient, gets it; a the next one.
    assert_eq!(sim.dispatched(&["a", "b"]), vec![Some(second), Some(first)]);
}

#[test]
fn longest_idle_serves_the_agent_free_for_longest() {
    for (select, winner) in [(Select::LongestIdle, 1), (Select::LeastLoaded, 0)] {
        let mut sim = with_select(select);
        sim.agent("a", &[]);
        sim.agent("b", &[]);
        let ta = sim.needing(&[], &[]);
        let tb = sim.needing(&[], &[]);
        assert_eq!(sim.pulled_id("a"), Some(ta));
        assert_eq!(sim.pulled_id("b"), Some(tb));
        // b finishes first, so b has been idle longest; a got its ticket least recently.
        for t in [tb, ta] {
            let lease = sim.lease(t);
            sim.apply(Command::Resolve {
                ticket: t,
                lease: Some(lease),
            })
            .expect("resolve");
        }
        let t = sim.needing(&[], &[]);
        let mut expected = vec![None; 2];
        expected[winner] = Some(t);
        assert_eq!(sim.dispatched(&["a", "b"]), expected, "{select:?}");
    }
}
