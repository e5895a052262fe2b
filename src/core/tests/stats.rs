//! GetQueueStats' service-level figures over the sliding window: SL against the target,
//! abandonment apart from resolution, ASA, AHT and FCR.

use super::stats_oracle::{scanned_levels, scanned_queues};
use super::*;
use crate::core::command::ServiceLevel;
use crate::core::policy::MAX_STATS_WINDOW;
use crate::core::stats::{window_start, Contribution};

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
    // The window is counted in whole minutes (it starts at the minute in which now - 1 h
    // falls), so the last answer (T0 + 99 s) leaves it a minute after the hour.
    sim.live(Span::hours(1));
    assert_eq!(
        levels(&mut sim).len(),
        1,
        "the last answer is still in the window"
    );
    sim.live(Span::mins(1));
    assert!(
        levels(&mut sim).is_empty(),
        "an hour and a minute later the window has moved past them"
    );
}

/// A waiting ticket counts in no bucket: the table keeps no contribution for it (the
/// `Default`, without an allocation); once answered it keeps the answer's.
#[test]
fn a_waiting_ticket_keeps_no_contribution_and_an_answered_one_its_answer() {
    let mut sim = Sim::new();
    let waiting = sim.create(Tier::Vip, Channel::Email, &[]);
    assert_eq!(sim.s.tickets.contribution(waiting), Contribution::default());
    let answered = answered_after(&mut sim, "a", Span::secs(10));
    let kept = sim.s.tickets.contribution(answered);
    assert_ne!(kept, Contribution::default());
    assert_eq!(kept, Contribution::of(sim.ticket(answered)));
    same_as_scan(&sim.s, sim.now);
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

fn resolve(sim: &mut Sim, id: TicketId) {
    let lease = sim.lease(id);
    sim.apply(Command::Resolve {
        ticket: id,
        lease: Some(lease),
    })
    .expect("resolve");
}

fn stats(sim: &mut Sim) -> QueueStats {
    match sim.apply(Command::QueueStats) {
        Ok(Reply::Stats(s)) => s,
        other => panic!("{other:?}"),
    }
}

/// The buckets give what a scan of every ticket gives, over a minute, the policy's window and
/// the longest window allowed.
fn same_as_scan(s: &Scheduler, now: Ts) {
    for window in [Span::mins(1), s.policy().stats_window, MAX_STATS_WINDOW] {
        assert_eq!(
            s.service_levels(now, window),
            scanned_levels(s, now, window),
            "service levels over {window}"
        );
    }
    assert_eq!(s.stats(now).queues, scanned_queues(s, now), "queue groups");
}

/// A desk with one of each: answered within target and resolved, breached and still open,
/// abandoned, cancelled as a duplicate, and resolved after a reopen.
fn mixed_desk() -> Sim {
    let mut sim = Sim::new();
    let resolved = answered_after(&mut sim, "a", Span::secs(5));
    sim.live(Span::mins(3));
    resolve(&mut sim, resolved);
    answered_after(&mut sim, "b", Span::secs(40));
    for reason in [CancelReason::Abandoned, CancelReason::Duplicate] {
        let gone = sim.create(Tier::Vip, Channel::Email, &[]);
        sim.apply(Command::Cancel {
            ticket: gone,
            reason,
        })
        .expect("cancel");
    }
    let reopened = answered_after(&mut sim, "c", Span::secs(10));
    resolve(&mut sim, reopened);
    sim.live(Span::mins(2));
    sim.apply(Command::Reopen { ticket: reopened })
        .expect("reopen");
    assert_eq!(sim.pulled_id("c"), Some(reopened));
    sim.live(Span::secs(30));
    resolve(&mut sim, reopened);
    sim.live(Span::secs(90));
    sim
}

#[test]
fn a_ticket_resolved_reopened_and_resolved_again_counts_once_at_its_latest_resolution() {
    let mut sim = Sim::new();
    let id = answered_after(&mut sim, "a", Span::secs(5));
    sim.live(Span::mins(2));
    resolve(&mut sim, id);
    assert_eq!(chat_standard(&mut sim).resolved, 1);
    sim.live(Span::mins(3));
    sim.apply(Command::Reopen { ticket: id }).expect("reopen");
    let l = chat_standard(&mut sim);
    assert_eq!(l.resolved, 0, "a reopened ticket is not resolved");
    assert_eq!(l.answered_within, 1, "its first response still counts");
    assert_eq!(sim.pulled_id("a"), Some(id));
    sim.live(Span::mins(4));
    resolve(&mut sim, id);
    let l = chat_standard(&mut sim);
    assert_eq!((l.resolved, l.answered_within), (1, 1));
    assert_eq!(l.first_contact_resolution, Some(0.0), "it was reopened");
    assert_eq!(
        l.average_handle_time,
        Some(Span::secs(5 + 9 * 60)),
        "from the first assignment to the latest resolution"
    );
    let just_now = sim.s.service_levels(sim.now, Span::mins(1));
    assert_eq!(just_now[0].resolved, 1, "counted at the latest resolution");
    same_as_scan(&sim.s, sim.now);
}

#[test]
fn a_contribution_older_than_the_ring_drops_out_and_a_later_change_takes_nothing_out() {
    let mut sim = Sim::with_policy(SlaPolicy {
        stats_window: MAX_STATS_WINDOW,
        ..SlaPolicy::default()
    });
    let old = answered_after(&mut sim, "a", Span::secs(5));
    resolve(&mut sim, old);
    assert_eq!(chat_standard(&mut sim).resolved, 1);
    assert!(sim.s.ring.len() > 0);
    sim.advance(Span(MAX_STATS_WINDOW.0 + Span::mins(2).0));
    let probe = sim.create(Tier::Vip, Channel::Email, &[]);
    assert_eq!(sim.s.ring.len(), 0, "the old ticket's minutes are gone");
    assert!(sim.s.stats_counted_since() > sim.ticket(old).resolved_at.get().expect("resolved"));
    sim.apply(Command::Cancel {
        ticket: probe,
        reason: CancelReason::Duplicate,
    })
    .expect("cancel");
    sim.apply(Command::Reopen { ticket: old }).expect("reopen");
    sim.agent("b", &[]);
    assert_eq!(sim.pulled_id("b"), Some(old));
    resolve(&mut sim, old);
    let l = chat_standard(&mut sim);
    assert_eq!(
        (l.resolved, l.answered_within, l.breached),
        (1, 0, 0),
        "the resolution counts now; the first response a month ago no longer does"
    );
    same_as_scan(&sim.s, sim.now);
}

#[test]
fn restore_gives_the_same_figures_as_before_the_restart() {
    let mut sim = mixed_desk();
    sim.create(Tier::New, Channel::Messenger, &[]);
    sim.live(Span::secs(90));
    same_as_scan(&sim.s, sim.now);
    let before = stats(&mut sim);
    assert!(before.service_levels.len() >= 2, "{before:?}");
    let records = sim.records();
    sim.s = super::restart_from(records, sim.now);
    assert_eq!(stats(&mut sim), before);
    same_as_scan(&sim.s, sim.now);
}

/// `mixed_desk` and then one more chat ticket, answered after `wait` and resolved.
fn mixed_desk_and_one_resolved(wait: Span) -> (Sim, TicketId) {
    let mut sim = mixed_desk();
    let done = answered_after(&mut sim, "d", wait);
    resolve(&mut sim, done);
    (sim, done)
}

#[test]
fn an_archived_ticket_keeps_counting_and_counts_once_when_it_comes_back() {
    let (mut sim, done) = mixed_desk_and_one_resolved(Span::secs(5));
    let before = levels(&mut sim);
    let record = sim.ticket(done).clone();
    sim.s.forget_contribution(done);
    assert_eq!(
        levels(&mut sim),
        before,
        "leaving memory takes nothing out of the figures"
    );
    assert_eq!(sim.s.tickets.contribution(done), Contribution::default());
    sim.live(Span::mins(5));
    sim.s.recall_contribution(&record);
    assert_eq!(
        sim.s.tickets.contribution(done),
        Contribution::of(&record),
        "noted again, so the reopen takes it out"
    );
    assert_eq!(levels(&mut sim), before, "and not counted twice");
    sim.apply(Command::Reopen { ticket: done }).expect("reopen");
    assert_eq!(sim.pulled_id("d"), Some(done));
    resolve(&mut sim, done);
    same_as_scan(&sim.s, sim.now);
}

#[test]
fn recovery_counts_archived_tickets_it_does_not_hold() {
    let (sim, done) = mixed_desk_and_one_resolved(Span::secs(35));
    let mut records = sim.records();
    let archived = records.tickets.pop().expect("the last ticket");
    assert_eq!(archived.id, done);
    let mut s = super::restart_from(records, sim.now);
    assert_ne!(
        s.service_levels(sim.now, Span::hours(1)),
        sim.s.service_levels(sim.now, Span::hours(1)),
        "without the archived ticket the figures differ"
    );
    s.count_archived(&archived);
    for window in [Span::mins(1), Span::hours(1), MAX_STATS_WINDOW] {
        assert_eq!(
            s.service_levels(sim.now, window),
            sim.s.service_levels(sim.now, window),
            "over {window}"
        );
    }
    let since = window_start(sim.now, MAX_STATS_WINDOW);
    assert_eq!(s.stats_counted_since(), since);
}
