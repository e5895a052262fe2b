//! `Scheduler::explain` on the simulated clock: each reason an agent cannot take a queued
//! ticket, the places in line, the clocks, and the lease of a held ticket.

use super::*;
use crate::core::explain::{Blocker, Explanation, Holding, Step, Waiting};

fn waiting(sim: &Sim, id: TicketId) -> Waiting {
    match sim.s.explain(id, sim.now).expect("explain") {
        Explanation::Queued(w) => *w,
        other => panic!("expected a queued ticket, got {other:?}"),
    }
}

fn holding(sim: &Sim, id: TicketId) -> Holding {
    match sim.s.explain(id, sim.now).expect("explain") {
        Explanation::Held(h) => *h,
        other => panic!("expected a held ticket, got {other:?}"),
    }
}

/// Chat capacity `n`, every other channel at the default.
fn chat(n: u32) -> PerChannelOpt {
    let mut capacity = [None; Channel::COUNT];
    capacity[Channel::Chat.index()] = Some(n);
    capacity
}

#[test]
fn each_agent_is_counted_as_a_taker_or_under_its_first_blocking_reason() {
    let mut sim = Sim::new();
    sim.agent("taker", &["billing"]);
    sim.agent("no-skill", &["en"]);
    sim.agent_with("std-only", &["billing"], &[Tier::Standard], chat(3));
    sim.agent("away", &["billing"]);
    sim.apply(Command::SetPresence {
        agent: agent_id("away"),
        presence: Presence::Away,
        reason: None,
    })
    .expect("away");
    sim.agent_with("full", &["billing"], &[], chat(1));
    let first = sim.create(Tier::Vip, Channel::Chat, &["billing"]);
    assert_eq!(sim.pulled_id("full"), Some(first));
    let id = sim.create(Tier::Vip, Channel::Chat, &["billing"]);
    sim.events();

    let w = waiting(&sim, id);
    assert_eq!(w.takers, 1, "only 'taker' could take it now");
    assert_eq!(
        w.blocked,
        vec![
            (Blocker::TierNotServed, 1),
            (Blocker::MissingSkill, 1),
            (Blocker::NotAvailable, 1),
            (Blocker::ChannelFull, 1),
        ]
    );
    assert_eq!(w.missing_skills, vec![(Skill::new("billing"), 1)]);
    assert_eq!(w.key.tier, Some(Tier::Vip));
    assert_eq!(w.level, Level::None);
    assert!(
        sim.s.take_journal().is_empty(),
        "explaining changes nothing"
    );
}

#[test]
fn a_preferred_agents_hold_blocks_everyone_else_until_it_ends() {
    let mut sim = Sim::new();
    sim.agent("manager", &[]);
    sim.agent("other", &[]);
    let mut new = sim.new_ticket(Tier::Vip, Channel::Email, &[]);
    new.preferred_agent = Some(agent_id("manager"));
    let id = sim.create_with(new);

    let w = waiting(&sim, id);
    assert_eq!(w.held_for, Some(agent_id("manager")));
    assert_eq!(
        (w.takers, w.blocked.clone()),
        (1, vec![(Blocker::HeldForPreferred, 1)])
    );
    assert_eq!(
        (w.rank_in_queue, w.queue_depth),
        (1, 1),
        "alone in the hold queue"
    );

    sim.live(Span::secs(61));
    let w = waiting(&sim, id);
    assert_eq!(
        (w.takers, w.blocked),
        (2, vec![]),
        "the hold window is over"
    );
}

#[test]
fn an_onboarding_hold_blocks_agents_without_the_onboarding_skill() {
    let mut sim = Sim::new();
    sim.agent("mentor", &["onboarding"]);
    sim.agent("plain", &[]);
    let id = sim.create(Tier::New, Channel::Email, &[]);
    let w = waiting(&sim, id);
    assert!(
        w.key.skills.contains("onboarding"),
        "the hold narrows the key"
    );
    assert_eq!(w.takers, 1);
    assert_eq!(w.blocked, vec![(Blocker::HeldForOnboarding, 1)]);
    assert!(
        w.missing_skills.is_empty(),
        "the hold's skill is not a missing skill"
    );
}

#[test]
fn a_reopened_ticket_waits_for_its_resolver_first() {
    let mut sim = Sim::new();
    sim.agent("resolver", &[]);
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    assert_eq!(sim.pulled_id("resolver"), Some(id));
    sim.reply(id).expect("reply");
    let lease = sim.lease(id);
    sim.apply(Command::Resolve {
        ticket: id,
        lease: Some(lease),
    })
    .expect("resolve");
    let resolved_at = sim.now;
    assert_eq!(
        sim.s.explain(id, sim.now).expect("explain"),
        Explanation::Finished {
            ticket: id,
            state: TicketState::Resolved,
            at: resolved_at,
        }
    );
    sim.agent("newcomer", &[]);
    sim.apply(Command::Reopen { ticket: id }).expect("reopen");
    let w = waiting(&sim, id);
    assert_eq!(w.held_for, Some(agent_id("resolver")));
    assert_eq!(w.blocked, vec![(Blocker::HeldForResolver, 1)]);
}

#[test]
fn places_in_line_follow_the_pulls_order_in_the_queue_and_overall() {
    let mut sim = Sim::new();
    let a = sim.create(Tier::Standard, Channel::Email, &["billing"]);
    let b = sim.create(Tier::Standard, Channel::Email, &["billing"]);
    let chat = sim.create(Tier::Standard, Channel::Chat, &[]);
    let w = waiting(&sim, b);
    assert_eq!((w.rank_in_queue, w.queue_depth), (2, 2));
    // The chat ticket is due in 30 s, far before either email (2 h): first overall.
    assert_eq!((w.rank_overall, w.queued_total), (3, 3));
    assert_eq!(waiting(&sim, a).rank_overall, 2);
    let c = waiting(&sim, chat);
    assert_eq!((c.rank_in_queue, c.queue_depth, c.rank_overall), (1, 1, 1));

    // Late (past due) tickets go after savable ones under the savable orders (the default is one).
    sim.advance(Span::secs(31));
    let c = waiting(&sim, chat);
    assert_eq!(
        c.rank_overall, 3,
        "the late chat ticket now goes after both emails"
    );
    sim.agent("ana", &["billing"]);
    assert_eq!(sim.pulled_id("ana"), Some(a), "as the pull agrees");
}

#[test]
fn under_the_deadline_order_a_late_ticket_stays_first() {
    let mut sim = Sim::with_policy(deadline_order());
    let chat = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.create(Tier::Standard, Channel::Email, &[]);
    sim.advance(Span::secs(31));
    let w = waiting(&sim, chat);
    assert_eq!((w.rank_overall, w.queued_total), (1, 2));
}

#[test]
fn the_clock_due_next_and_the_next_escalation_step_are_named() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &["de", "billing"]);
    let created = sim.now;
    let w = waiting(&sim, id);
    assert_eq!(w.key.skills, skills(&["billing", "de"]));
    let due = created.plus(Span::hours(2));
    assert_eq!(w.clocks.next_due, Some((SlaMetric::FirstResponse, due)));
    let warning = Step {
        metric: SlaMetric::FirstResponse,
        level: Level::Warning,
        at: created.plus(Span::mins(96)),
    };
    assert_eq!(w.clocks.next_step, Some(warning));

    sim.advance(Span::hours(3));
    let w = waiting(&sim, id);
    assert_eq!(w.level, Level::L2, "breach + 50 %: routing widened");
    assert_eq!(w.key.skills, skills(&["de"]), "to the skill listed first");
    assert_eq!(
        w.clocks.next_step.map(|s| (s.level, s.at)),
        Some((Level::L3, created.plus(Span::hours(4))))
    );
}

#[test]
fn a_held_ticket_names_its_holder_epoch_and_what_ends_the_lease() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    let created = sim.now;
    sim.advance(Span::secs(5));
    assert_eq!(sim.pulled_id("ana"), Some(id));
    let h = holding(&sim, id);
    assert_eq!(
        (h.agent.clone(), h.epoch.get(), h.since),
        (agent_id("ana"), 1, Some(sim.now))
    );
    assert_eq!(h.state, TicketState::Assigned);
    assert_eq!(h.presence_expires_at, Some(sim.now.plus(Span::secs(30))));
    let take_back = Step {
        metric: SlaMetric::FirstResponse,
        level: Level::L2,
        at: created.plus(Span::hours(3)),
    };
    assert_eq!(h.take_back, Some(take_back));

    // Answered: presence expiry no longer hands it back.
    sim.reply(id).expect("reply");
    let h = holding(&sim, id);
    assert_eq!(h.presence_expires_at, None);

    // Released and pulled again: a new epoch, and the grant time is no longer known exactly.
    let lease = sim.lease(id);
    sim.apply(Command::Release { ticket: id, lease })
        .expect("release");
    let requeued = sim.now;
    assert_eq!(sim.pulled_id("ana"), Some(id));
    let h = holding(&sim, id);
    assert_eq!(
        (h.epoch.get(), h.since, h.last_queued_at),
        (3, None, requeued)
    );

    // Pending on the customer: clocks paused, nothing to take it back.
    let lease = sim.lease(id);
    sim.apply(Command::SetPending { ticket: id, lease })
        .expect("pending");
    let h = holding(&sim, id);
    assert_eq!((h.state, h.take_back), (TicketState::Pending, None));
}

#[test]
fn an_unknown_ticket_is_not_found() {
    let sim = Sim::new();
    assert_eq!(
        sim.s.explain(TicketId(9), sim.now),
        Err(CoreError::TicketNotFound(TicketId(9)))
    );
}
