//! SLA depth, one test per rule: business-hours calendars, interim-update promises, follow-up
//! after resolution, per-tier targets, configurable widening and the onboarding preference.

use super::*;
use crate::core::calendar::Calendar;
use chrono::TimeZone;
use std::sync::Arc;

/// A Berlin office open 09:00-18:00 Monday to Friday, closed on Christmas Day.
fn office() -> Arc<Calendar> {
    let text = r#"
        time_zone = "Europe/Berlin"
        mon = ["09:00-18:00"]
        tue = ["09:00-18:00"]
        wed = ["09:00-18:00"]
        thu = ["09:00-18:00"]
        fri = ["09:00-18:00"]
        holidays = [{ date = "2026-12-25" }]
    "#;
    Arc::new(toml::from_str(text).expect("calendar"))
}

/// Email counts office hours; every other channel counts 24/7.
pub(super) fn office_email_policy() -> SlaPolicy {
    let mut p = SlaPolicy::default();
    p.calendars.insert("office".into(), office());
    p.channel_calendars.insert(Channel::Email, "office".into());
    p
}

pub(super) fn berlin(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Ts {
    let t = chrono_tz::Europe::Berlin
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("unambiguous local time");
    Ts(t.timestamp_millis())
}

pub(super) fn sim_at(policy: SlaPolicy, now: Ts) -> Sim {
    let mut sim = Sim::with_policy(policy);
    sim.now = now;
    sim
}

fn first_response_due(sim: &Sim, id: TicketId) -> Option<Ts> {
    sim.ticket(id).first_response.due()
}

#[test]
fn business_hours_friday_1755_plus_2h_email_is_due_monday_1055() {
    let mut sim = sim_at(office_email_policy(), berlin(2026, 11, 27, 17, 55));
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    let monday = berlin(2026, 11, 30, 10, 55);
    assert_eq!(first_response_due(&sim, id), Some(monday));
    assert_eq!(sim.ticket(id).due(), Some(monday));
    let chat = sim.create(Tier::Standard, Channel::Chat, &[]);
    assert_eq!(
        first_response_due(&sim, chat),
        Some(sim.now.plus(Span::secs(30))),
        "channels without a calendar count 24/7"
    );
    sim.advance(monday.since(sim.now));
    let breaches: Vec<_> = sim
        .escalations()
        .into_iter()
        .filter(|&(t, _, level)| t == id && level == Level::L1)
        .collect();
    assert_eq!(breaches, vec![(id, SlaMetric::FirstResponse, Level::L1)]);
}

#[test]
fn business_hours_skip_holidays() {
    // Thursday 24 December 17:00: one office hour left, Christmas Day closed, then the weekend.
    let sim_policy = office_email_policy();
    let mut sim = sim_at(sim_policy, berlin(2026, 12, 24, 17, 0));
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    assert_eq!(
        first_response_due(&sim, id),
        Some(berlin(2026, 12, 28, 10, 0))
    );
}

#[test]
fn business_hours_follow_the_daylight_saving_change() {
    // Friday 23 October 17:00 CEST; Berlin falls back on Sunday 25 October; Monday is CET.
    let mut sim = sim_at(office_email_policy(), berlin(2026, 10, 23, 17, 0));
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    let due = first_response_due(&sim, id).expect("counting");
    assert_eq!(due, berlin(2026, 10, 26, 10, 0));
    assert_eq!(due.0, 1_793_005_200_000, "Monday 10:00 CET is 09:00 UTC");
}

#[test]
fn pending_time_outside_business_hours_is_not_counted_twice() {
    let mut sim = sim_at(office_email_policy(), berlin(2026, 11, 23, 9, 0));
    sim.agent("ann", &[]);
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.pull("ann").expect("assigned");
    sim.reply(id).expect("answered");
    let lease = sim.lease(id);
    // Resolution is 24 office hours from Monday 09:00: Monday 9 h, Tuesday 9 h, Wednesday
    // until 15:00. Pending from Monday 17:00 to Tuesday 10:00 pauses 2 office hours (the
    // night between is not office time), so the due moves to Wednesday 17:00.
    sim.now = berlin(2026, 11, 23, 17, 0);
    sim.apply(Command::SetPending { ticket: id, lease })
        .expect("pending");
    sim.now = berlin(2026, 11, 24, 10, 0);
    sim.apply(Command::RecordReply {
        ticket: id,
        author: Author::Customer,
        next_update_by: None,
    })
    .expect("customer");
    assert_eq!(
        sim.ticket(id).resolution.due(),
        Some(berlin(2026, 11, 25, 17, 0))
    );
}

fn assigned_email(sim: &mut Sim) -> TicketId {
    sim.agent("ann", &[]);
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    assert_eq!(sim.pulled_id("ann"), Some(id));
    id
}

fn promise(sim: &mut Sim, id: TicketId, within: Span) -> Result<Reply, CoreError> {
    let lease = sim.lease(id);
    let by = sim.now.plus(within);
    sim.apply(Command::RecordReply {
        ticket: id,
        author: Author::Agent(lease),
        next_update_by: Some(by),
    })
}

#[test]
fn an_interim_update_promise_is_met_by_the_next_agent_reply() {
    let mut sim = Sim::new();
    let id = assigned_email(&mut sim);
    promise(&mut sim, id, Span::mins(20)).expect("reply with a promise");
    let interim = sim.ticket(id).interim.clone().expect("interim clock");
    assert_eq!(interim.target, Span::mins(20));
    assert_eq!(interim.due(), Some(sim.now.plus(Span::mins(20))));
    sim.events();
    sim.live(Span::mins(10));
    sim.reply(id).expect("the update");
    let met = sim.events().into_iter().any(|e| {
        matches!(
            e,
            Event::ClockMet {
                metric: SlaMetric::InterimUpdate,
                within: true,
                ..
            }
        )
    });
    assert!(met, "the promise was kept");
    assert!(sim.ticket(id).interim.as_ref().is_some_and(|c| c.is_met()));
}

#[test]
fn a_missed_interim_update_is_a_breach_of_its_own() {
    let mut sim = Sim::new();
    let id = assigned_email(&mut sim);
    promise(&mut sim, id, Span::mins(20)).expect("reply with a promise");
    sim.events();
    sim.live(Span::mins(20));
    let fired: Vec<_> = sim
        .escalations()
        .into_iter()
        .filter(|e| e.1 == SlaMetric::InterimUpdate)
        .collect();
    assert_eq!(
        fired,
        vec![
            (id, SlaMetric::InterimUpdate, Level::Warning),
            (id, SlaMetric::InterimUpdate, Level::L1),
        ]
    );
    assert!(
        !sim.ticket(id).resolution.breached(),
        "only the promise is missed"
    );
}

#[test]
fn an_unanswered_ticket_cannot_be_set_pending() {
    let mut sim = Sim::new();
    let id = assigned_email(&mut sim);
    let pending = Command::SetPending {
        ticket: id,
        lease: sim.lease(id),
    };
    assert!(matches!(
        sim.apply(pending.clone()),
        Err(CoreError::WrongState { .. })
    ));
    sim.reply(id).expect("answered");
    sim.apply(pending).expect("pending once answered");
}

#[test]
fn a_promise_must_be_in_the_future_and_within_a_year() {
    let mut sim = Sim::new();
    let id = assigned_email(&mut sim);
    sim.events();
    let before = sim.ticket(id).clone();
    assert_eq!(
        promise(&mut sim, id, Span(0)),
        Err(CoreError::PromiseNotInFuture)
    );
    assert_eq!(
        promise(&mut sim, id, Span::hours(24 * 366 + 1)),
        Err(CoreError::PromiseTooFar { days: 366 })
    );
    assert_eq!(*sim.ticket(id), before);
    assert!(sim.s.take_journal().is_empty());
    assert!(promise(&mut sim, id, Span::hours(24 * 366)).is_ok());
}

pub(super) fn resolved_email(sim: &mut Sim) -> TicketId {
    let id = assigned_email(sim);
    sim.reply(id).expect("reply");
    let lease = sim.lease(id);
    sim.apply(Command::Resolve {
        ticket: id,
        lease: Some(lease),
    })
    .expect("resolve");
    id
}

#[test]
fn resolution_starts_a_follow_up_that_falls_due_then_breaches() {
    let mut sim = Sim::new();
    let id = resolved_email(&mut sim);
    let resolved = sim.now;
    let t = sim.ticket(id);
    assert_eq!(
        t.follow_up_due_at.get(),
        Some(resolved.plus(Span::hours(24)))
    );
    let clock = t.follow_up.clone().expect("follow-up clock");
    assert_eq!(clock.target, Span::hours(72));
    assert_eq!(t.due(), Some(resolved.plus(Span::hours(72))));
    sim.events();
    sim.advance(Span::hours(24));
    let due: Vec<_> = sim
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::FollowUpDue { .. }))
        .collect();
    assert_eq!(due.len(), 1, "the check-back is due once");
    sim.advance(Span::hours(48));
    assert_eq!(
        sim.escalations(),
        vec![
            (id, SlaMetric::FollowUp, Level::Warning),
            (id, SlaMetric::FollowUp, Level::L1)
        ]
    );
    sim.advance(Span::hours(100));
    assert_eq!(
        sim.escalations(),
        vec![
            (id, SlaMetric::FollowUp, Level::L2),
            (id, SlaMetric::FollowUp, Level::L3)
        ],
        "nothing else of a resolved ticket escalates"
    );
}

#[test]
fn a_follow_up_is_met_by_record_follow_up_once() {
    let mut sim = Sim::new();
    let id = resolved_email(&mut sim);
    sim.advance(Span::hours(30));
    let done = Command::RecordFollowUp {
        ticket: id,
        agent: Some(agent_id("ann")),
    };
    sim.apply(done.clone()).expect("follow-up");
    let clock = sim.ticket(id).follow_up.clone().expect("clock");
    assert_eq!(clock.met_at.get(), Some(sim.now));
    assert_eq!(sim.ticket(id).due(), None);
    assert_eq!(sim.apply(done), Err(CoreError::NoFollowUp(id)));
}

#[test]
fn an_agent_reply_on_a_resolved_ticket_meets_the_follow_up() {
    let mut sim = Sim::new();
    let id = resolved_email(&mut sim);
    let reply = |epoch| Command::RecordReply {
        ticket: id,
        author: Author::Agent(Lease {
            agent: agent_id("ann"),
            epoch: Epoch::new(epoch),
        }),
        next_update_by: None,
    };
    let before = sim.ticket(id).clone();
    for epoch in [0, 2] {
        assert!(
            matches!(sim.apply(reply(epoch)), Err(CoreError::StaleLease { .. })),
            "only the lease the ticket was resolved under (1) counts, not {epoch}"
        );
    }
    assert_eq!(*sim.ticket(id), before);
    sim.apply(reply(1)).expect("check-back reply");
    assert!(sim
        .ticket(id)
        .follow_up
        .as_ref()
        .is_some_and(|c| c.is_met()));
    assert_eq!(sim.ticket(id).follow_up_due_at.get(), None);
}

#[test]
fn reopen_starts_a_fresh_resolution_clock_and_drops_the_follow_up() {
    let mut sim = Sim::new();
    let id = resolved_email(&mut sim);
    sim.advance(Span::hours(2));
    sim.apply(Command::Reopen { ticket: id }).expect("reopen");
    let t = sim.ticket(id);
    assert_eq!(t.resolution.started_at, sim.now);
    assert_eq!(t.resolution.target, Span::hours(24));
    assert_eq!(t.follow_up, None);
    assert_eq!(t.follow_up_due_at.get(), None);
    assert_eq!(t.reopens, 1);
}

#[test]
fn a_per_tier_override_sets_a_target_directly() {
    let mut policy = SlaPolicy::default();
    policy
        .overrides
        .entry(Tier::Vip)
        .or_default()
        .entry(Channel::Chat)
        .or_default()
        .first_response = Some(Span::secs(10));
    let mut sim = Sim::with_policy(policy);
    let vip = sim.create(Tier::Vip, Channel::Chat, &[]);
    assert_eq!(sim.ticket(vip).first_response.target, Span::secs(10));
    let mut urgent = sim.new_ticket(Tier::Vip, Channel::Chat, &[]);
    urgent.priority = Priority::Urgent;
    let urgent = sim.create_with(urgent);
    assert_eq!(
        sim.ticket(urgent).first_response.target,
        Span(2_500),
        "the priority multiplier still applies"
    );
    let standard = sim.create(Tier::Standard, Channel::Chat, &[]);
    assert_eq!(sim.ticket(standard).first_response.target, Span::secs(30));
    let vip_email = sim.create(Tier::Vip, Channel::Email, &[]);
    assert_eq!(
        sim.ticket(vip_email).first_response.target,
        Span::hours(1),
        "other channels keep the multiplier"
    );
}

#[test]
fn widening_per_level_is_configurable_l3_to_supervisors() {
    let mut policy = SlaPolicy::default();
    policy.widening.l2 = Widen::Keep;
    policy.widening.l3 = Widen::Supervisors;
    let mut sim = Sim::with_policy(policy);
    sim.agent("first-skill", &["de"]);
    sim.agent("plain", &[]);
    sim.agent("boss", &["supervisor"]);
    let id = sim.create(Tier::Standard, Channel::Email, &["billing", "de"]);
    sim.live(Span::hours(3));
    assert_eq!(sim.ticket(id).escalation(), Level::L2);
    assert_eq!(sim.pulled_id("first-skill"), None, "L2 keeps all skills");
    sim.live(Span::hours(1));
    assert_eq!(sim.ticket(id).escalation(), Level::L3);
    assert_eq!(sim.pulled_id("plain"), None, "L3 is for supervisors only");
    let a = sim.pull("boss").expect("a supervisor takes it");
    assert_eq!((a.ticket.id, a.reason), (id, AssignReason::EscalatedL3));
}

#[test]
fn a_new_customer_waits_for_an_onboarding_agent_within_the_hold_window() {
    let mut sim = Sim::new();
    sim.agent("other", &[]);
    sim.agent("coach", &["onboarding"]);
    let id = sim.create(Tier::New, Channel::Email, &[]);
    assert_eq!(sim.pulled_id("other"), None, "held for onboarding");
    assert_eq!(sim.pulled_id("coach"), Some(id));
    let later = sim.create(Tier::New, Channel::Email, &[]);
    sim.live(Span::secs(60));
    assert_eq!(
        sim.pulled_id("other"),
        Some(later),
        "after the hold anyone eligible may take it"
    );
}

#[test]
fn no_onboarding_hold_without_an_onboarding_agent_or_for_other_tiers() {
    let mut sim = Sim::new();
    sim.agent("other", &[]);
    let new = sim.create(Tier::New, Channel::Email, &[]);
    assert_eq!(sim.ticket(new).hold, None);
    sim.agent("coach", &["onboarding"]);
    let standard = sim.create(Tier::Standard, Channel::Email, &[]);
    assert_eq!(sim.ticket(standard).hold, None);
    assert_eq!(sim.pulled_id("other"), Some(new));
}

#[test]
fn a_policy_change_recomputes_due_times_and_reorders_live_queues() {
    let mut sim = Sim::new();
    sim.agent("ann", &[]);
    let email = sim.create(Tier::Standard, Channel::Email, &[]);
    let social = sim.create(Tier::Standard, Channel::Social, &[]);
    assert!(
        sim.ticket(social).due() < sim.ticket(email).due(),
        "1 h before 2 h"
    );
    let mut policy = SlaPolicy::default();
    policy.targets.social.first_response = Span::hours(4);
    sim.apply(Command::PutPolicy(Box::new(policy)))
        .expect("put policy");
    assert_eq!(
        sim.ticket(social).due(),
        Some(T0.plus(Span::hours(4))),
        "the open ticket's due moved"
    );
    assert_eq!(
        sim.pulled_id("ann"),
        Some(email),
        "and the queue order with it"
    );
}
