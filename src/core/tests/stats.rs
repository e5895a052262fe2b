//! GetQueueStats' service-level figures over the sliding window: SL against the target,
//! abandonment apart from resolution, ASA, AHT and FCR.

use super::*;
use crate::core::command::ServiceLevel;

fn levels(sim: &mut Sim) -> Vec<ServiceLevel> {
    match sim.apply(Command::QueueStats) {
        Ok(Reply::Stats(s)) => s.service_levels,
        other => panic!("{other:?}"),
    }
}

fn chat_standard(sim: &mut Sim) -> ServiceLevel {
    levels(sim)
        .into_iter()
        .find(|l| (l.channel, l.tier) == (Channel::Chat, Tier::Standard))
        .expect("a chat/standard row")
}

/// A chat ticket answered after `wait`, by an agent of its own.
fn answered_after(sim: &mut Sim, agent: &str, wait: Span) -> TicketId {
    sim.agent(agent, &[]);
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    assert_eq!(sim.pulled_id(agent), Some(id));
    sim.live(wait);
    sim.reply(id).expect("reply");
    id
}

#[test]
fn service_level_is_within_target_over_within_plus_breached_in_the_window() {
    let mut sim = Sim::new();
    for (agent, secs) in [("a", 10), ("b", 20), ("c", 29), ("d", 40)] {
        answered_after(&mut sim, agent, Span::secs(secs));
    }
    let l = chat_standard(&mut sim);
    assert_eq!((l.answered_within, l.breached), (3, 1));
    assert_eq!(l.service_level, Some(0.75));
    assert!(l.below_target, "75 % is under the default 80 % target");
    assert_eq!(
        l.average_speed_of_answer,
        Some(Span((10 + 20 + 29 + 40) * 1000 / 4))
    );
    sim.live(Span::hours(1));
    assert!(
        levels(&mut sim).is_empty(),
        "an hour later the window has moved past them"
    );
}

#[test]
fn a_breach_counts_when_it_happens_even_before_the_answer() {
    let mut sim = Sim::new();
    sim.agent("a", &[]);
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.live(Span::secs(31));
    let l = chat_standard(&mut sim);
    assert_eq!((l.answered_within, l.breached), (0, 1));
    assert_eq!(l.service_level, Some(0.0));
    assert_eq!(sim.pulled_id("a"), Some(id));
}

#[test]
fn abandoned_contacts_are_counted_apart_from_resolved_ones() {
    let mut sim = Sim::new();
    answered_after(&mut sim, "a", Span::secs(5));
    let gone = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.apply(Command::Cancel {
        ticket: gone,
        reason: CancelReason::Abandoned,
    })
    .expect("cancel");
    let duplicate = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.apply(Command::Cancel {
        ticket: duplicate,
        reason: CancelReason::Duplicate,
    })
    .expect("cancel");
    let l = chat_standard(&mut sim);
    assert_eq!(l.abandoned, 1, "a duplicate is not a missed contact");
    assert_eq!(l.abandonment_rate, Some(0.5));
    assert_eq!(l.resolved, 0);
}

#[test]
fn fcr_counts_tickets_resolved_without_another_customer_message_or_reopen() {
    let mut sim = Sim::new();
    let resolve = |sim: &mut Sim, id: TicketId| {
        let lease = sim.lease(id);
        sim.apply(Command::Resolve {
            ticket: id,
            lease: Some(lease),
        })
        .expect("resolve");
    };
    let one_touch = answered_after(&mut sim, "a", Span::secs(5));
    sim.live(Span::mins(4));
    resolve(&mut sim, one_touch);
    let back_and_forth = answered_after(&mut sim, "b", Span::secs(5));
    sim.apply(Command::RecordReply {
        ticket: back_and_forth,
        author: Author::Customer,
        next_update_by: None,
    })
    .expect("customer writes again");
    sim.live(Span::secs(20));
    sim.reply(back_and_forth).expect("answer");
    resolve(&mut sim, back_and_forth);
    let l = chat_standard(&mut sim);
    assert_eq!(l.resolved, 2);
    assert_eq!(l.first_contact_resolution, Some(0.5));
    // Handle times: 5 s + 4 min, and 5 s + 20 s (assigned at creation in both).
    assert_eq!(l.average_handle_time, Some(Span((245_000 + 25_000) / 2)));
}
