//! Wrap-up, presence reasons and agent stats on the simulated clock.

use super::*;
use crate::core::agent_stats::AgentStats;

const WRAP: Span = Span::secs(30);

/// A policy with a 30 s wrap-up on the phone channel.
fn wrap_up_policy() -> SlaPolicy {
    let mut policy = SlaPolicy::default();
    policy.presence.wrap_up.insert(Channel::Phone, WRAP);
    policy
}

/// A desk with one phone agent (capacity 1) and two phone tickets; the agent holds the first.
fn phone_desk() -> (Sim, TicketId, TicketId) {
    let mut sim = Sim::with_policy(wrap_up_policy());
    let first = sim.create(Tier::Standard, Channel::Phone, &[]);
    let second = sim.create(Tier::Standard, Channel::Phone, &[]);
    sim.agent("a", &[]);
    assert_eq!(sim.pulled_id("a"), Some(first));
    sim.reply(first).expect("reply");
    (sim, first, second)
}

fn resolve(sim: &mut Sim, id: TicketId) {
    let lease = sim.lease(id);
    sim.apply(Command::Resolve {
        ticket: id,
        lease: Some(lease),
    })
    .expect("resolve");
}

pub(super) fn stats(sim: &mut Sim, agent: &str, window: Span) -> AgentStats {
    let cmd = Command::AgentStats {
        agent: agent_id(agent),
        window: Some(window),
    };
    match sim.apply(cmd) {
        Ok(Reply::AgentStats(s)) => *s,
        other => panic!("stats: {other:?}"),
    }
}

fn presence(
    sim: &mut Sim,
    agent: &str,
    p: Presence,
    reason: Option<&str>,
) -> Result<Reply, CoreError> {
    sim.apply(Command::SetPresence {
        agent: agent_id(agent),
        presence: p,
        reason: reason.map(str::to_string),
    })
}

#[test]
fn wrap_up_holds_the_slot_exactly_its_time() {
    let (mut sim, first, second) = phone_desk();
    resolve(&mut sim, first);
    let ends = sim.now.plus(WRAP);
    assert_eq!(sim.pulled_id("a"), None, "the slot is in wrap-up");
    sim.live(Span(WRAP.0 - 1));
    assert_eq!(sim.now, Ts(ends.0 - 1));
    assert_eq!(sim.pulled_id("a"), None, "not a millisecond less");
    sim.events();
    sim.live(Span(1));
    let ended = sim.events().into_iter().any(|e| {
        e == Event::WrapUpEnded {
            agent: agent_id("a"),
            early: false,
        }
    });
    assert!(ended, "the end is reported");
    assert_eq!(sim.pulled_id("a"), Some(second), "free at its end");
}

#[test]
fn a_release_starts_a_wrap_up_and_end_wrap_up_frees_it_early() {
    let (mut sim, first, second) = phone_desk();
    let lease = sim.lease(first);
    sim.apply(Command::Release {
        ticket: first,
        lease,
    })
    .expect("release");
    assert_eq!(sim.pulled_id("a"), None, "the released slot is in wrap-up");
    sim.live(Span::secs(5));
    let Ok(Reply::Agent(a)) = sim.apply(Command::EndWrapUp(agent_id("a"))) else {
        panic!("end wrap-up");
    };
    assert!(a.activity.wrap_ups.is_empty());
    assert!(sim
        .pulled_id("a")
        .is_some_and(|t| t == first || t == second));
    let again = sim.apply(Command::EndWrapUp(agent_id("a")));
    assert_eq!(again, Err(CoreError::NoWrapUp(agent_id("a"))));
    let s = stats(&mut sim, "a", Span::hours(1));
    assert_eq!(
        s.wrap_up,
        Span::secs(5),
        "wrap-up time counts until it ended"
    );
}

#[test]
fn a_supervisor_cannot_fill_a_slot_in_wrap_up_without_force() {
    let (mut sim, first, second) = phone_desk();
    resolve(&mut sim, first);
    let assign = |force| Command::Assign {
        ticket: second,
        agent: agent_id("a"),
        force,
    };
    match sim.apply(assign(false)) {
        Err(CoreError::CannotTake { why, .. }) => {
            assert_eq!(why, "is full on phone (1 of 1, 1 in wrap-up)")
        }
        other => panic!("{other:?}"),
    }
    sim.apply(assign(true)).expect("a supervisor may force it");
}

#[test]
fn going_offline_hands_back_without_a_wrap_up() {
    let mut sim = Sim::with_policy(wrap_up_policy());
    sim.create(Tier::Standard, Channel::Phone, &[]);
    sim.agent("a", &[]);
    sim.pull("a").expect("pulled");
    presence(&mut sim, "a", Presence::Offline, None).expect("offline");
    let a = sim.s.agent(&agent_id("a")).expect("agent");
    assert!(a.activity.wrap_ups.is_empty(), "handed back, not finished");
}

#[test]
fn without_a_wrap_up_time_the_slot_frees_at_once() {
    let mut sim = Sim::new();
    let first = sim.create(Tier::Standard, Channel::Phone, &[]);
    let second = sim.create(Tier::Standard, Channel::Phone, &[]);
    sim.agent("a", &[]);
    assert_eq!(sim.pulled_id("a"), Some(first));
    sim.reply(first).expect("reply");
    resolve(&mut sim, first);
    assert_eq!(sim.pulled_id("a"), Some(second));
}

#[test]
fn a_wrap_up_survives_a_restart_until_its_end() {
    let (mut sim, first, second) = phone_desk();
    resolve(&mut sim, first);
    let ends = sim.now.plus(WRAP);
    let later = sim.now.plus(Span::secs(10));
    let mut restored = Sim {
        s: restart_from(sim.records(), later),
        now: later,
        next_ext: 100,
    };
    restored.s.tick(later);
    assert_eq!(
        restored.pulled_id("a"),
        None,
        "still in wrap-up after the restart"
    );
    assert_eq!(restored.s.next_deadline().map(|d| d <= ends), Some(true));
    restored.live(ends.since(later));
    assert_eq!(
        restored.pulled_id("a"),
        Some(second),
        "free at the same end"
    );
}

#[test]
fn presence_reasons_come_from_the_policy() {
    let mut sim = Sim::new();
    sim.agent("a", &[]);
    sim.events();
    let free_text = presence(&mut sim, "a", Presence::Away, Some("coffee"));
    assert_eq!(
        free_text,
        Err(CoreError::UnknownPresenceReason("coffee".into()))
    );
    let available = presence(&mut sim, "a", Presence::Available, Some("lunch"));
    assert!(available.is_err(), "a reason goes with AWAY or OFFLINE");
    let a = sim.s.agent(&agent_id("a")).expect("agent");
    assert_eq!(
        (a.presence, &a.activity.reason),
        (Presence::Available, &None)
    );
    let Ok(Reply::Agent(a)) = presence(&mut sim, "a", Presence::Away, Some("lunch")) else {
        panic!("away for lunch");
    };
    assert_eq!(a.activity.reason.as_deref(), Some("lunch"));
    let changed = Event::PresenceChanged {
        agent: agent_id("a"),
        presence: Presence::Away,
        reason: Some("lunch".into()),
    };
    assert!(sim.events().contains(&changed));
}

#[test]
fn agent_stats_count_time_per_presence_and_reason() {
    let mut sim = Sim::with_policy(wrap_up_policy());
    sim.agent("a", &[]);
    sim.live(Span::mins(10));
    presence(&mut sim, "a", Presence::Away, Some("lunch")).expect("lunch");
    sim.live(Span::mins(30));
    presence(&mut sim, "a", Presence::Away, Some("break")).expect("break");
    sim.live(Span::mins(5));
    presence(&mut sim, "a", Presence::Available, None).expect("back");
    let id = sim.create(Tier::Standard, Channel::Phone, &[]);
    sim.pull("a").expect("pulled");
    sim.live(Span::secs(10));
    sim.reply(id).expect("answered within 30 s");
    sim.live(Span::secs(50));
    resolve(&mut sim, id);
    sim.live(Span::mins(4));
    let s = stats(&mut sim, "a", Span::hours(1));
    let time = |p, r: Option<&str>| {
        s.time_in_state
            .iter()
            .find(|t| t.presence == p && t.reason.as_deref() == r)
            .map(|t| t.time)
    };
    assert_eq!(time(Presence::Available, None), Some(Span::mins(15)));
    assert_eq!(time(Presence::Away, Some("lunch")), Some(Span::mins(30)));
    assert_eq!(time(Presence::Away, Some("break")), Some(Span::mins(5)));
    assert_eq!((s.handled, s.average_handle_time), (1, Some(Span::mins(1))));
    assert_eq!((s.answered_within, s.answered_late), (1, 0));
    assert_eq!(s.service_level, Some(1.0));
    assert_eq!(
        s.busy,
        Span(Span::mins(1).0 + WRAP.0),
        "handling and wrap-up"
    );
    assert_eq!(s.wrap_up, WRAP);
    assert_eq!(s.signed_in, Span::mins(50));
    assert_eq!(s.occupancy, Some(90.0 / 3000.0));
    assert_eq!((s.offers_missed, s.offers_rejected), (0, 0));
    let recent = stats(&mut sim, "a", Span::mins(2));
    assert_eq!(
        recent.time_in_state.len(),
        1,
        "only what the window reaches"
    );
    assert_eq!(recent.handled, 0);
}
