//! Time rings: a waiting ticket's routing widens at each ring's second, and not before.

use super::*;
use crate::core::explain::Explanation;
use crate::core::rings::{Ring, Rings};

fn with_rings(rings: Rings) -> Sim {
    Sim::with_policy(SlaPolicy {
        rings,
        ..SlaPolicy::default()
    })
}

fn ring_of(sim: &mut Sim, t: TicketId) -> Ring {
    match sim.apply(Command::Explain(t)) {
        Ok(Reply::Explanation(e)) => match *e {
            Explanation::Queued(w) => w.ring,
            other => panic!("not queued: {other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_ring_drops_optional_skills_at_its_second_and_not_before() {
    let mut sim = with_rings(Rings {
        drop_optional: Some(Span::secs(30)),
        ..Rings::default()
    });
    sim.agent("en-only", &["en"]);
    let t = sim.needing(&["en"], &["billing"]);
    assert_eq!(
        sim.pulled_id("en-only"),
        None,
        "the optional skill is wanted"
    );
    sim.live(Span(29_999));
    assert_eq!(ring_of(&mut sim, t), Ring::NONE);
    assert_eq!(sim.pulled_id("en-only"), None, "not before its second");
    sim.live(Span(1));
    assert_eq!(ring_of(&mut sim, t), Ring::DROP_OPTIONAL);
    assert_eq!(sim.pulled_id("en-only"), Some(t), "at its second");
}

#[test]
fn later_rings_lower_minimums_then_let_any_agent_of_the_tier_take_it() {
    let mut sim = with_rings(Rings {
        drop_optional: None,
        lower_minimums: Some(Span::secs(60)),
        any_agent: Some(Span::secs(120)),
    });
    sim.agent_with(
        "vip-only",
        &["billing"],
        &[Tier::Vip],
        [None; Channel::COUNT],
    );
    sim.agent("junior", &["billing"]);
    sim.agent("other", &["fr"]);
    let (a, b) = (
        sim.needing(&["billing>=5"], &[]),
        sim.needing(&["billing>=5"], &[]),
    );
    sim.live(Span(59_999));
    assert_eq!(sim.pulled_id("junior"), None);
    sim.live(Span(1));
    assert_eq!(sim.pulled_id("junior"), Some(a), "minimums lowered at 60s");
    sim.live(Span(59_999));
    assert_eq!(sim.pulled_id("other"), None);
    sim.live(Span(1));
    assert_eq!(ring_of(&mut sim, b), Ring::ANY_AGENT);
    assert_eq!(sim.pulled_id("vip-only"), None, "its tier still counts");
    assert_eq!(
        sim.pulled_id("other"),
        Some(b),
        "any agent of its tier at 120s"
    );
}

#[test]
fn a_requeued_ticket_starts_its_rings_again() {
    let mut sim = with_rings(Rings {
        drop_optional: Some(Span::secs(30)),
        ..Rings::default()
    });
    sim.agent("en-only", &["en"]);
    let t = sim.needing(&["en"], &["billing"]);
    sim.live(Span::secs(30));
    assert_eq!(sim.pulled_id("en-only"), Some(t));
    let lease = sim.lease(t);
    sim.apply(Command::Release { ticket: t, lease })
        .expect("release");
    assert_eq!(ring_of(&mut sim, t), Ring::NONE, "waiting again from now");
    sim.live(Span(29_999));
    assert_eq!(sim.pulled_id("en-only"), None);
    sim.live(Span(1));
    assert_eq!(sim.pulled_id("en-only"), Some(t));
}

#[test]
fn rings_survive_a_restart_recomputed_from_the_tickets_age() {
    let rings = Rings {
        drop_optional: Some(Span::secs(30)),
        ..Rings::default()
    };
    let mut sim = with_rings(rings);
    sim.agent("en-only", &["en"]);
    let early = sim.needing(&["en"], &["billing"]);
    sim.live(Span::secs(20));
    let late = sim.needing(&["en"], &["billing"]);
    sim.live(Span::secs(15));
    // `early` waited 35 s, `late` 15 s, when the daemon comes back.
    let mut back = Sim {
        s: restart_from(sim.records(), sim.now),
        now: sim.now,
        next_ext: 100,
    };
    back.s.tick(back.now);
    assert_eq!(ring_of(&mut back, early), Ring::DROP_OPTIONAL);
    assert_eq!(ring_of(&mut back, late), Ring::NONE);
    back.apply(Command::Heartbeat(agent_id("en-only")))
        .expect("hb");
    assert_eq!(back.pulled_id("en-only"), Some(early));
    assert_eq!(back.pulled_id("en-only"), None, "late is not there yet");
    back.live(Span::secs(15));
    assert_eq!(
        back.pulled_id("en-only"),
        Some(late),
        "its ring fires after the restart"
    );
}

#[test]
fn sla_widening_still_applies_beside_the_rings() {
    let mut sim = with_rings(Rings {
        any_agent: Some(Span::hours(24)),
        ..Rings::default()
    });
    sim.agent("fr", &["fr"]);
    let t = sim.create(Tier::Standard, Channel::Chat, &["en"]);
    // Chat's first response is 30 s; L3 (any agent) fires at twice the target.
    sim.live(Span::secs(60));
    assert_eq!(sim.pulled_id("fr"), Some(t));
}

/// A ring that widens what a ticket asks is reported once, with the ring reached; a ring that
/// changes nothing for a ticket (a plain ticket has no optional skill to drop) is not.
#[test]
fn a_ring_that_widens_a_ticket_is_reported_and_one_that_does_not_is_silent() {
    let mut sim = with_rings(Rings {
        drop_optional: Some(Span::secs(30)),
        any_agent: Some(Span::secs(90)),
        ..Rings::default()
    });
    let optional = sim.needing(&["en"], &["billing"]);
    let plain = sim.needing(&["en"], &[]);
    sim.events();
    let widened = |sim: &mut Sim| -> Vec<(TicketId, Ring)> {
        sim.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::RingWidened { ticket, ring, .. } => Some((ticket, ring)),
                _ => None,
            })
            .collect()
    };
    sim.live(Span(29_999));
    assert_eq!(widened(&mut sim), []);
    sim.live(Span(1));
    assert_eq!(widened(&mut sim), [(optional, Ring::DROP_OPTIONAL)]);
    sim.live(Span::secs(60));
    let mut any = widened(&mut sim);
    any.sort();
    assert_eq!(any, [(optional, Ring::ANY_AGENT), (plain, Ring::ANY_AGENT)]);
}
