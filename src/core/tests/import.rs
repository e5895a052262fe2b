//! Imports with their real age (`created_at` in the past): the clocks count from the ticket's
//! start, each escalation step its age has passed fires once, the queue orders it by its real
//! due, and the bounds (not in the future beyond the clock skew, at most `max_backdate` old)
//! are checked against the scheduler's clock.

use super::depth::{berlin, office_email_policy, sim_at};
use super::*;

/// A standard email ticket (first response 2 h, resolution 24 h) that began at `at`.
fn import(sim: &mut Sim, at: Ts) -> NewTicket {
    NewTicket {
        first_skill: 0,
        created_at: Some(at),
        ..sim.new_ticket(Tier::Standard, Channel::Email, &[])
    }
}

fn ago(sim: &Sim, span: Span) -> Ts {
    Ts(sim.now.0 - span.0 as i64)
}

const LADDER: [Level; 4] = [Level::Warning, Level::L1, Level::L2, Level::L3];

#[test]
fn a_backdated_ticket_fires_each_due_step_once_and_sorts_by_its_real_due() {
    let mut sim = Sim::new();
    sim.now = T0.plus(Span::hours(24 * 5));
    let fresh = sim.create(Tier::Standard, Channel::Email, &[]);
    let began = ago(&sim, Span::hours(72));
    let new = import(&mut sim, began);
    let old = sim.create_with(new);
    let at = ago(&sim, Span::hours(24));
    let new = import(&mut sim, at);
    let day_old = sim.create_with(new);

    let t = sim.ticket(old);
    assert_eq!((t.created_at, t.queued_at), (began, began));
    assert_eq!(t.first_response.started_at, began);
    assert_eq!(t.resolution.started_at, began);
    assert_eq!(t.due(), Some(began.plus(Span::hours(2))), "due in the past");
    assert_eq!(t.escalation(), Level::L3, "the level its age implies");

    // 72 h past its start both clocks are past L3 (first response at 4 h, resolution at
    // 48 h): every step once, in order, and nothing more on later ticks.
    let mut fired: Vec<_> = sim
        .escalations()
        .into_iter()
        .filter(|&(t, ..)| t == old)
        .collect();
    sim.advance(Span::secs(1));
    sim.advance(Span::mins(10));
    fired.extend(sim.escalations().into_iter().filter(|&(t, ..)| t == old));
    let expected: Vec<_> = [SlaMetric::FirstResponse, SlaMetric::Resolution]
        .into_iter()
        .flat_map(|m| LADDER.map(|level| (old, m, level)))
        .collect();
    assert_eq!(fired, expected);

    sim.agent("a", &[]);
    let order: Vec<_> = (0..3).filter_map(|_| sim.pulled_id("a")).collect();
    assert_eq!(
        order,
        vec![old, day_old, fresh],
        "the queue puts each by its real due, not by when it arrived"
    );
}

#[test]
fn a_partly_aged_import_fires_what_its_age_passed_then_the_rest_in_time() {
    let mut sim = Sim::new();
    let at = ago(&sim, Span::mins(100));
    let new = import(&mut sim, at);
    let id = sim.create_with(new);
    let fr = |level| (id, SlaMetric::FirstResponse, level);
    assert_eq!(
        sim.escalations(),
        vec![fr(Level::Warning)],
        "100 min into 2 h: the 96-min warning, not yet the breach"
    );
    sim.advance(Span::mins(19));
    assert_eq!(sim.escalations(), vec![], "119 min");
    sim.advance(Span::mins(1));
    assert_eq!(sim.escalations(), vec![fr(Level::L1)], "the breach at 2 h");
}

#[test]
fn business_hours_count_from_created_at() {
    // Friday 17:55 in Berlin plus 2 office hours is Monday 10:55; the warning (96 office
    // minutes) came at 10:31. Imported on Monday at 10:40, only the warning has passed.
    let mut sim = sim_at(office_email_policy(), berlin(2026, 11, 30, 10, 40));
    let new = import(&mut sim, berlin(2026, 11, 27, 17, 55));
    let id = sim.create_with(new);
    let monday = berlin(2026, 11, 30, 10, 55);
    assert_eq!(sim.ticket(id).first_response.due(), Some(monday));
    let fr = |level| (id, SlaMetric::FirstResponse, level);
    assert_eq!(sim.escalations(), vec![fr(Level::Warning)]);
    sim.advance(monday.since(sim.now));
    assert_eq!(sim.escalations(), vec![fr(Level::L1)]);
}

#[test]
fn created_at_is_bounded_by_the_clock_skew_and_max_backdate() {
    let mut sim = Sim::new();
    let ahead = sim.now.plus(Span::secs(60));
    let new = import(&mut sim, ahead);
    let skewed = sim.create_with(new);
    let t = sim.ticket(skewed);
    assert_eq!(
        (t.created_at, t.first_response.started_at),
        (sim.now, sim.now),
        "up to a minute ahead counts as now"
    );
    let max = CoreConfig::default().max_backdate;
    let oldest = ago(&sim, max);
    let new = import(&mut sim, oldest);
    sim.create_with(new);
    let count = sim.s.ticket_count();
    let refused = [
        (
            sim.now.plus(Span(60_001)),
            CoreError::CreatedInFuture { skew: CLOCK_SKEW },
        ),
        (
            ago(&sim, Span(max.0 + 1)),
            CoreError::CreatedTooLongAgo { max },
        ),
    ];
    for (at, error) in refused {
        let new = import(&mut sim, at);
        assert_eq!(sim.apply(Command::CreateTicket(new)), Err(error));
    }
    assert_eq!(
        sim.s.ticket_count(),
        count,
        "a refused import creates nothing"
    );
}

#[test]
fn created_at_is_part_of_the_request() {
    let mut sim = Sim::new();
    let began = ago(&sim, Span::hours(24 * 30 - 1));
    let new = NewTicket {
        first_skill: 0,
        request_id: "imp-1".into(),
        ..import(&mut sim, began)
    };
    let id = sim.create_with(new.clone());
    let other = NewTicket {
        first_skill: 0,
        created_at: Some(ago(&sim, Span::hours(1))),
        ..new.clone()
    };
    let none = NewTicket {
        first_skill: 0,
        created_at: None,
        ..new.clone()
    };
    for body in [other, none] {
        assert_eq!(
            sim.apply(Command::CreateTicket(body)),
            Err(CoreError::RequestIdReused("imp-1".into()))
        );
    }
    sim.advance(Span::hours(2));
    assert_eq!(
        sim.create_with(new),
        id,
        "a retry is answered even once its created_at is past max_backdate"
    );
    assert_eq!(sim.s.ticket_count(), 1);
}

#[test]
fn an_import_keeps_its_age_and_levels_across_a_restart() {
    let mut sim = Sim::new();
    let began = ago(&sim, Span::hours(72));
    let new = import(&mut sim, began);
    let id = sim.create_with(new);
    sim.events();
    let records = sim.records();
    let later = sim.now.plus(Span::mins(1));
    let mut restored = super::restart_from(records, later);
    restored.tick(later);
    assert_eq!(escalations(restored.take_journal().events), vec![]);
    let t = restored.ticket(id).expect("restored");
    assert_eq!((t.created_at, t.escalation()), (began, Level::L3));
}
