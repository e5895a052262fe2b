//! Offers (reservations) on the simulated clock: accept, reject, timeout, misses, re-offers.

use super::*;
use crate::core::offer::OfferPolicy;

const TIMEOUT: Span = Span::secs(20);
const REOFFER: Span = Span::secs(60);

/// Offers on email (2 h first-response target: no escalation interferes) and phone.
fn offering() -> Sim {
    let mut offers = OfferPolicy {
        max_missed_offers: 3,
        reoffer_after: REOFFER,
        ..OfferPolicy::default()
    };
    offers.offer_timeout.insert(Channel::Email, TIMEOUT);
    offers.offer_timeout.insert(Channel::Phone, TIMEOUT);
    Sim::with_policy(SlaPolicy {
        offers,
        ..SlaPolicy::default()
    })
}

impl Sim {
    fn email(&mut self) -> TicketId {
        self.create(Tier::Standard, Channel::Email, &[])
    }

    fn accept(&mut self, lease: Lease, id: TicketId) -> Result<Reply, CoreError> {
        self.apply(Command::Accept { ticket: id, lease })
    }

    fn reject(&mut self, id: TicketId) -> Result<Reply, CoreError> {
        let lease = self.lease(id);
        let reason = "not my language".to_string();
        self.apply(Command::Reject {
            ticket: id,
            lease,
            reason,
        })
    }

    fn missed(&self, agent: &str) -> u32 {
        self.s.agent(&agent_id(agent)).expect("agent").missed_offers
    }

    fn presence(&self, agent: &str) -> Presence {
        self.s.agent(&agent_id(agent)).expect("agent").presence
    }

    /// An email ticket queued 5 s before ana (just signed in) pulls it as an offer; returns
    /// it and its queued-since instant.
    fn offered_to_ana(&mut self) -> (TicketId, Ts) {
        let id = self.email();
        let queued_at = self.ticket(id).queued_at;
        self.agent("ana", &[]);
        self.advance(Span::secs(5));
        self.pull("ana").expect("an offer");
        (id, queued_at)
    }

    fn load(&self, agent: &str, channel: Channel) -> u32 {
        self.s.agent(&agent_id(agent)).expect("agent").load[channel.index()]
    }
}

#[test]
fn a_pull_offers_and_the_timeout_requeues_in_place_counting_the_miss() {
    let mut sim = offering();
    let first = sim.email();
    sim.advance(Span::secs(1));
    let second = sim.email();
    let before = sim.ticket(first).clone();
    sim.agent("ana", &[]);
    sim.agent("bob", &[]);
    sim.events();
    let offered = sim.pull("ana").expect("an offer");
    assert_eq!(offered.ticket.id, first);
    let offer = *offered.ticket.offer().expect("offered, not assigned");
    assert_eq!(offer.until, sim.now.plus(TIMEOUT));
    assert_eq!(sim.ticket(first).state, TicketState::Assigned);
    assert_eq!(sim.load("ana", Channel::Email), 1, "an offer takes a slot");
    let events = sim.events();
    assert!(matches!(events.as_slice(), [Event::Offered { ticket, .. }] if *ticket == first));
    sim.live(TIMEOUT.scale(0.5));
    assert!(
        sim.ticket(first).offer().is_some(),
        "open until its timeout"
    );
    sim.live(TIMEOUT);
    let t = sim.ticket(first);
    assert_eq!(t.state, TicketState::Queued);
    assert_eq!(t.holder(), None);
    assert_eq!(t.queued_at, before.queued_at, "it keeps its age");
    assert_eq!(t.due(), before.due(), "and its deadline");
    assert_eq!(t.first_assigned_at, before.first_assigned_at);
    assert!(
        t.epoch().get() > offered.lease_epoch.get(),
        "the offered lease is stale"
    );
    assert_eq!(sim.load("ana", Channel::Email), 0);
    assert_eq!(sim.missed("ana"), 1);
    let timed_out = sim.events().into_iter().any(|e| {
        matches!(e, Event::OfferTimedOut { ticket, missed: 1, away: false, .. } if ticket == first)
    });
    assert!(timed_out);
    assert_eq!(
        sim.pulled_id("bob"),
        Some(first),
        "back in its place, ahead of the newer one"
    );
    assert_eq!(sim.pulled_id("bob"), Some(second));
}

#[test]
fn three_misses_in_a_row_set_the_agent_away_and_an_answer_resets_the_count() {
    let mut sim = offering();
    for _ in 0..6 {
        sim.email();
    }
    sim.agent("ana", &[]);
    for _ in 0..2 {
        sim.pull("ana").expect("an offer");
        sim.live(TIMEOUT);
    }
    assert_eq!(sim.missed("ana"), 2);
    let id = sim.pulled_id("ana").expect("an offer");
    sim.reject(id).expect("rejected");
    assert_eq!(sim.missed("ana"), 0, "a rejection is an answer");
    sim.events();
    for n in 1..=3 {
        sim.pull("ana").expect("an offer");
        sim.live(TIMEOUT);
        assert_eq!(sim.presence("ana") == Presence::Away, n == 3);
    }
    assert_eq!(sim.missed("ana"), 0, "counted afresh once back");
    let away = sim
        .events()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                Event::OfferTimedOut {
                    away: true,
                    missed: 3,
                    ..
                }
            )
        })
        .count();
    assert_eq!(away, 1);
    assert!(matches!(
        sim.apply(Command::Pull(agent_id("ana"))),
        Err(CoreError::AgentNotAvailable { .. })
    ));
}

#[test]
fn a_rejected_ticket_is_not_offered_to_the_same_agent_until_reoffer_after() {
    let mut sim = offering();
    let first = sim.email();
    let second = sim.email();
    sim.agent("ana", &[]);
    sim.agent("bob", &[]);
    assert_eq!(sim.pulled_id("ana"), Some(first));
    sim.reject(first).expect("rejected");
    let rejected = sim.events().into_iter().any(
        |e| matches!(e, Event::OfferRejected { ref reason, .. } if reason == "not my language"),
    );
    assert!(rejected);
    assert_eq!(sim.ticket(first).state, TicketState::Queued);
    assert_eq!(
        sim.pulled_id("ana"),
        Some(second),
        "the next one, not the rejected one"
    );
    sim.reject(second).expect("rejected");
    assert_eq!(sim.pulled_id("ana"), None, "both rejected lately");
    sim.live(Span::secs(59));
    assert_eq!(sim.pulled_id("ana"), None, "not before reoffer_after");
    sim.live(Span::secs(1));
    assert_eq!(
        sim.pulled_id("ana"),
        Some(first),
        "offered again, still first in line"
    );
    assert_eq!(
        sim.pulled_id("bob"),
        Some(second),
        "others were never kept from them"
    );
}

#[test]
fn an_accepted_offer_is_an_assignment_under_the_same_lease() {
    let mut sim = offering();
    let id = sim.email();
    sim.agent("ana", &[]);
    let offered = sim.pull("ana").expect("an offer");
    let lease = sim.lease(id);
    assert!(
        matches!(sim.reply(id), Err(CoreError::OfferOpen { .. })),
        "no work on a ticket not yet accepted"
    );
    sim.events();
    sim.live(Span::secs(19));
    sim.accept(lease.clone(), id).expect("accepted");
    let t = sim.ticket(id);
    assert_eq!((t.offer(), t.epoch()), (None, offered.lease_epoch));
    let events = sim.events();
    assert!(matches!(
        events.as_slice(),
        [
            ..,
            Event::OfferAccepted { .. },
            Event::Assigned {
                reason: AssignReason::Due,
                ..
            }
        ]
    ));
    sim.live(Span::secs(40));
    assert_eq!(
        sim.ticket(id).holder(),
        Some(&agent_id("ana")),
        "no timeout once accepted"
    );
    assert!(matches!(
        sim.accept(lease, id),
        Err(CoreError::NotOffered { .. })
    ));
    sim.reply(id).expect("the holder works on it");
}

#[test]
fn accepting_after_the_timeout_is_refused_as_a_stale_lease() {
    let mut sim = offering();
    let id = sim.email();
    sim.agent("ana", &[]);
    sim.pull("ana").expect("an offer");
    let lease = sim.lease(id);
    sim.live(TIMEOUT);
    assert!(matches!(
        sim.accept(lease, id),
        Err(CoreError::StaleLease { .. })
    ));
    assert_eq!(sim.ticket(id).state, TicketState::Queued, "nothing changed");
}

#[test]
fn an_offer_counts_against_the_agents_capacity() {
    let mut sim = offering();
    let first = sim.create(Tier::Standard, Channel::Phone, &[]);
    sim.create(Tier::Standard, Channel::Phone, &[]);
    sim.agent("ana", &[]);
    assert_eq!(sim.pulled_id("ana"), Some(first));
    assert_eq!(
        sim.pulled_id("ana"),
        None,
        "phone capacity 1 is taken by the offer"
    );
}

#[test]
fn channels_without_a_timeout_assign_directly() {
    let mut sim = offering();
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.agent("ana", &[]);
    let a = sim.pull("ana").expect("assigned");
    assert_eq!((a.ticket.id, a.ticket.offer()), (id, None));
    sim.reply(id).expect("works at once");
}

#[test]
fn an_unanswered_offer_handed_back_waits_in_its_place_without_a_miss() {
    let mut sim = offering();
    let (id, queued_at) = sim.offered_to_ana();
    let lease = sim.lease(id);
    sim.apply(Command::Release { ticket: id, lease })
        .expect("released");
    let t = sim.ticket(id);
    assert_eq!((t.state, t.queued_at), (TicketState::Queued, queued_at));
    assert_eq!(sim.missed("ana"), 0);
}

#[test]
fn an_offer_survives_a_restart_with_its_remaining_time() {
    let mut sim = offering();
    let id = sim.email();
    sim.agent("ana", &[]);
    let offered = sim.pull("ana").expect("an offer");
    let until = offered.ticket.offer().expect("offered").until;
    let records = sim.records();
    let at = sim.now.plus(Span::secs(5));
    let mut s = Scheduler::restore(SlaPolicy::default(), CoreConfig::default(), records, at)
        .expect("restore");
    let t = s.ticket(id).expect("restored");
    assert_eq!(t.offer().map(|o| o.until), Some(until));
    assert_eq!(
        s.agent(&agent_id("ana")).expect("agent").load[Channel::Email.index()],
        1
    );
    assert_eq!(s.next_deadline(), Some(until), "the offer's end is armed");
    s.tick(until);
    let t = s.ticket(id).expect("restored");
    assert_eq!((t.state, t.holder()), (TicketState::Queued, None));
}

#[test]
fn explain_counts_an_agent_who_rejected_the_ticket_under_offer_rejected() {
    use crate::core::explain::{Blocker, Explanation};
    let mut sim = offering();
    let id = sim.email();
    sim.agent("ana", &[]);
    sim.agent("bob", &[]);
    sim.pull("ana").expect("an offer");
    sim.reject(id).expect("rejected");
    let waiting = |sim: &Sim| match sim.s.explain(id, sim.now) {
        Ok(Explanation::Queued(w)) => *w,
        other => panic!("{other:?}"),
    };
    let w = waiting(&sim);
    assert_eq!(
        (w.takers, w.blocked.clone()),
        (1, vec![(Blocker::OfferRejected, 1)])
    );
    sim.live(REOFFER);
    assert_eq!(waiting(&sim).takers, 2, "the rejection ended");
}

#[test]
fn a_retried_accept_is_answered_not_refused() {
    let mut sim = offering();
    let id = sim.email();
    sim.agent("ana", &[]);
    sim.pull("ana").expect("an offer");
    let lease = sim.lease(id);
    let accept = || {
        Command::Accept {
            ticket: id,
            lease: lease.clone(),
        }
        .once("acc-1".into())
    };
    sim.apply(accept()).expect("accepted");
    let retry = sim
        .apply(accept())
        .expect("the retry is answered from state");
    assert!(matches!(retry, Reply::Ticket(t) if t.offer().is_none() && t.holder().is_some()));
    assert!(
        matches!(
            sim.accept(lease.clone(), id),
            Err(CoreError::NotOffered { .. })
        ),
        "without the request id it is a second accept"
    );
}

#[test]
fn an_agent_going_offline_hands_its_open_offers_back_in_place() {
    let mut sim = offering();
    let (id, queued_at) = sim.offered_to_ana();
    let offline = Command::SetPresence {
        agent: agent_id("ana"),
        presence: Presence::Offline,
        reason: None,
    };
    sim.apply(offline).expect("offline");
    let t = sim.ticket(id);
    assert_eq!(
        (t.state, t.queued_at, t.offer()),
        (TicketState::Queued, queued_at, None)
    );
    assert_eq!(sim.missed("ana"), 0, "not a miss");
}

/// An agent's stats count the offers it let time out and those it rejected, within the
/// window only; accepted ones count as neither.
#[test]
fn agent_stats_count_missed_and_rejected_offers_in_the_window() {
    let mut sim = offering();
    sim.agent("ana", &[]);
    let rejected = sim.email();
    sim.pull("ana").expect("an offer");
    sim.reject(rejected).expect("rejected");
    let missed = sim.email();
    let offered = sim.pull("ana").expect("the other one");
    assert_eq!(offered.ticket.id, missed);
    sim.live(Span(TIMEOUT.0 + 1_000));
    assert!(sim.ticket(missed).offer().is_none(), "timed out");
    sim.email();
    let third = sim.pull("ana").expect("a third offer").ticket.id;
    sim.accept(sim.lease(third), third).expect("accepted");
    let stats = |sim: &mut Sim, window: Span| {
        let s = super::wrap_up::stats(sim, "ana", window);
        (s.offers_missed, s.offers_rejected)
    };
    assert_eq!(stats(&mut sim, Span::hours(1)), (1, 1));
    sim.live(Span::hours(2));
    assert_eq!(
        stats(&mut sim, Span::hours(1)),
        (0, 0),
        "outside the window"
    );
}
