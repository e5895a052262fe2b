//! The waiting-pull registry on the simulated clock: who waits, who is refused, who gets which
//! ticket, and who hears that the wait is over.

use super::*;
use crate::core::waiting::{Delivery, LongPollsFull, Notice, Polled, PullError, WaiterId, Waiting};

const WAIT: Span = Span::secs(30);

fn pull(agent: &str) -> Command {
    Command::Pull(agent_id(agent))
}

fn keyed(agent: &str, id: &str) -> Command {
    pull(agent).once(id.to_string())
}

fn waits(w: &mut Waiting, sim: &mut Sim, cmd: Command) -> WaiterId {
    match w.apply(&mut sim.s, cmd, WAIT, sim.now) {
        Ok(Polled::Waiting(id)) => id,
        other => panic!("expected to wait, got {other:?}"),
    }
}

/// What a waiter hears when its wait is over without a ticket.
fn ended(waiter: WaiterId) -> Delivery {
    Delivery {
        waiter,
        notice: Notice::Ended,
        last: true,
    }
}

/// The ticket a delivery assigns, if it does.
fn assigned(d: &Delivery) -> Option<TicketId> {
    match &d.notice {
        Notice::Reply(Reply::Pulled(Some(a))) => Some(a.ticket.id),
        _ => None,
    }
}

#[test]
fn a_pull_that_finds_nothing_waits_and_gets_the_next_ticket() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let mut w = Waiting::new(10);
    let id = waits(&mut w, &mut sim, pull("ana"));
    assert_eq!(w.long_polls(), 1);
    w.serve(&mut sim.s, sim.now);
    assert!(w.take_deliveries().is_empty(), "nothing queued yet");

    let ticket = sim.create(Tier::Standard, Channel::Chat, &[]);
    w.serve(&mut sim.s, sim.now);
    let out = w.take_deliveries();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].waiter, assigned(&out[0]), out[0].last),
        (id, Some(ticket), true)
    );
    assert_eq!(w.long_polls(), 0);
    assert!(w.is_empty());
}

#[test]
fn a_pull_that_finds_a_ticket_or_may_not_wait_is_answered_at_once() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let mut w = Waiting::new(10);
    let none = w.apply(&mut sim.s, pull("ana"), Span(0), sim.now);
    assert_eq!(none, Ok(Polled::Answered(Reply::Pulled(None))));
    let ticket = sim.create(Tier::Standard, Channel::Chat, &[]);
    match w.apply(&mut sim.s, pull("ana"), WAIT, sim.now) {
        Ok(Polled::Answered(Reply::Pulled(Some(a)))) => assert_eq!(a.ticket.id, ticket),
        other => panic!("{other:?}"),
    }
    let read = w.apply(&mut sim.s, Command::GetTicket(ticket), WAIT, sim.now);
    assert!(matches!(read, Ok(Polled::Answered(Reply::Ticket(_)))));
    assert!(w.is_empty());
}

#[test]
fn a_long_poll_hears_that_nothing_came_when_its_wait_ends() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let mut w = Waiting::new(10);
    let id = waits(&mut w, &mut sim, pull("ana"));
    assert_eq!(w.next_deadline(), Some(sim.now.plus(WAIT)));
    sim.live(Span(WAIT.0 - 1));
    w.serve(&mut sim.s, sim.now);
    assert!(
        w.take_deliveries().is_empty(),
        "still waiting 1 ms before its end"
    );
    sim.live(Span(1));
    w.serve(&mut sim.s, sim.now);
    assert_eq!(w.take_deliveries(), vec![ended(id)]);
    assert_eq!(w.long_polls(), 0);
}

#[test]
fn a_retried_long_poll_replaces_the_one_waiting_under_its_request_id() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let mut w = Waiting::new(10);
    let first = waits(&mut w, &mut sim, keyed("ana", "r1"));
    let second = waits(&mut w, &mut sim, keyed("ana", "r1"));
    assert_ne!(first, second);
    assert_eq!(
        w.take_deliveries(),
        vec![ended(first)],
        "the replaced poll hears it"
    );
    assert_eq!(w.long_polls(), 1, "one request, one waiter");

    // The retry gets the ticket, remembered under its request id.
    let ticket = sim.create(Tier::Standard, Channel::Chat, &[]);
    w.serve(&mut sim.s, sim.now);
    let out = w.take_deliveries();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].waiter, assigned(&out[0])), (second, Some(ticket)));
    let key = match keyed("ana", "r1") {
        Command::Once { key, .. } => key,
        other => panic!("{other:?}"),
    };
    match sim.s.replay(&key) {
        Ok(Some(Reply::Pulled(Some(a)))) => assert_eq!(a.ticket.id, ticket),
        other => panic!("the assignment is remembered under r1: {other:?}"),
    }
}

#[test]
fn another_body_under_a_waiting_polls_request_id_is_refused() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    sim.agent("bo", &[]);
    let mut w = Waiting::new(10);
    let first = waits(&mut w, &mut sim, keyed("ana", "r1"));
    let reused = w.apply(&mut sim.s, keyed("bo", "r1"), WAIT, sim.now);
    assert_eq!(
        reused,
        Err(PullError::Core(CoreError::RequestIdReused("r1".into())))
    );
    assert!(w.take_deliveries().is_empty(), "the waiting poll stays");
    assert_eq!(w.long_polls(), 1);
    let ticket = sim.create(Tier::Standard, Channel::Chat, &[]);
    w.serve(&mut sim.s, sim.now);
    let out = w.take_deliveries();
    assert_eq!((out[0].waiter, assigned(&out[0])), (first, Some(ticket)));
}

#[test]
fn a_keyed_poll_answered_meanwhile_under_its_id_hears_that_answer() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let mut w = Waiting::new(10);
    let id = waits(&mut w, &mut sim, keyed("ana", "r1"));
    let ticket = sim.create(Tier::Standard, Channel::Chat, &[]);
    // The same request, sent straight to the core (as a retry without waiting would be).
    let direct = sim.apply(keyed("ana", "r1")).expect("pull");
    assert!(matches!(&direct, Reply::Pulled(Some(a)) if a.ticket.id == ticket));
    w.serve(&mut sim.s, sim.now);
    let out = w.take_deliveries();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].waiter, assigned(&out[0])), (id, Some(ticket)));
    assert_eq!(sim.s.queued_count(), 0, "one request, one ticket");
}

#[test]
fn long_polls_beyond_the_limit_are_refused() {
    let mut sim = Sim::new();
    for id in ["ana", "bo", "cy"] {
        sim.agent(id, &[]);
    }
    let mut w = Waiting::new(2);
    waits(&mut w, &mut sim, pull("ana"));
    waits(&mut w, &mut sim, keyed("bo", "r1"));
    let full = w.apply(&mut sim.s, pull("cy"), WAIT, sim.now);
    assert_eq!(full, Err(PullError::Full(LongPollsFull { limit: 2 })));
    let retry = w.apply(&mut sim.s, keyed("bo", "r1"), WAIT, sim.now);
    assert_eq!(
        retry,
        Err(PullError::Full(LongPollsFull { limit: 2 })),
        "the limit is checked before a retry replaces its poll"
    );
    // Sessions do not count against it.
    w.open_session(agent_id("cy"), 5);
    assert_eq!(w.long_polls(), 2);
}

#[test]
fn a_session_gets_tickets_round_after_round_until_its_credit_is_spent() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let tickets: Vec<TicketId> = (0..3)
        .map(|_| sim.create(Tier::Standard, Channel::Email, &[]))
        .collect();
    let mut w = Waiting::new(10);
    let session = w.open_session(agent_id("ana"), 1);
    assert!(w.add_credit(session, 1), "credit adds up");
    assert_eq!(w.long_polls(), 0);
    w.serve(&mut sim.s, sim.now);
    let out = w.take_deliveries();
    let got: Vec<_> = out
        .iter()
        .map(|d| (d.waiter, assigned(d), d.last))
        .collect();
    assert_eq!(
        got,
        vec![
            (session, Some(tickets[0]), false),
            (session, Some(tickets[1]), true)
        ]
    );
    assert!(w.is_empty(), "a session without credit stops waiting");
    assert!(
        !w.add_credit(session, 1),
        "and is opened anew with new credit"
    );
    assert_eq!(sim.s.queued_count(), 1);
}

#[test]
fn sessions_and_polls_share_tickets_least_loaded_first() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    sim.agent("bo", &[]);
    let mut w = Waiting::new(10);
    let session = w.open_session(agent_id("ana"), 3);
    let poll = waits(&mut w, &mut sim, pull("bo"));
    for _ in 0..3 {
        sim.create(Tier::Standard, Channel::Email, &[]);
    }
    w.serve(&mut sim.s, sim.now);
    let got: Vec<_> = w
        .take_deliveries()
        .iter()
        .map(|d| (d.waiter, d.last))
        .collect();
    assert_eq!(
        got,
        vec![(session, false), (poll, true), (session, false)],
        "one each per round; the session keeps waiting with credit left"
    );
    assert_eq!(w.long_polls(), 0);
    assert!(!w.is_empty());
}

#[test]
fn forgotten_waiters_get_nothing() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    sim.agent("bo", &[]);
    let mut w = Waiting::new(10);
    let gone = waits(&mut w, &mut sim, pull("ana"));
    let stays = waits(&mut w, &mut sim, pull("bo"));
    w.forget(&[gone]);
    assert_eq!(w.long_polls(), 1);
    let ticket = sim.create(Tier::Standard, Channel::Chat, &[]);
    w.serve(&mut sim.s, sim.now);
    let out = w.take_deliveries();
    assert_eq!(
        (out.len(), out[0].waiter, assigned(&out[0])),
        (1, stays, Some(ticket))
    );
}

#[test]
fn draining_ends_every_wait_and_lets_no_pull_wait() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    sim.agent("bo", &[]);
    let mut w = Waiting::new(10);
    let poll = waits(&mut w, &mut sim, pull("ana"));
    let session = w.open_session(agent_id("bo"), 2);
    w.drain();
    let late = w.apply(&mut sim.s, pull("ana"), WAIT, sim.now);
    assert_eq!(late, Ok(Polled::Answered(Reply::Pulled(None))));
    sim.create(Tier::Standard, Channel::Chat, &[]);
    w.serve(&mut sim.s, sim.now);
    assert_eq!(w.take_deliveries(), vec![ended(poll), ended(session)]);
    assert!(w.is_empty());
    assert_eq!(sim.s.queued_count(), 1, "nobody got the ticket");
}

#[test]
fn ending_all_and_clearing_leave_nobody_waiting() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let mut w = Waiting::new(10);
    let poll = waits(&mut w, &mut sim, pull("ana"));
    w.end_all();
    assert_eq!(w.take_deliveries(), vec![ended(poll)]);
    assert_eq!(w.long_polls(), 0);
    waits(&mut w, &mut sim, pull("ana"));
    w.clear();
    assert!(w.take_deliveries().is_empty(), "clearing says nothing");
    assert!(w.is_empty());
    assert_eq!(w.long_polls(), 0);
}
