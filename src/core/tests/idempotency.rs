//! Request ids on every mutating command: a retry changes nothing and gets the first call's
//! result from current state; another body under the same id is refused; ids expire.

use super::*;
use crate::core::idempotency::{Idempotency, IdempotencyV1, Outcome, RequestKey, Requests};

fn once(cmd: Command, id: &str) -> Command {
    cmd.once(id.to_string())
}

impl Sim {
    /// Applies `cmd` under `id`, then again: the retry must journal nothing and answer alike.
    fn apply_twice(&mut self, cmd: Command, id: &str) -> Reply {
        let first = self.apply(once(cmd.clone(), id)).expect("first call");
        let journal = self.s.take_journal();
        assert!(
            journal.idempotency.iter().any(|(k, _)| k == id),
            "{id} is journaled with its change"
        );
        let again = self.apply(once(cmd, id)).expect("retry");
        assert!(
            self.s.take_journal().is_empty(),
            "a retry of {id} changes nothing"
        );
        assert_eq!(
            first, again,
            "a retry of {id} answers as the first call did"
        );
        again
    }

    /// A queued ticket taken by `agent`, with its lease.
    fn assigned(&mut self, agent: &str) -> (TicketId, Lease) {
        let id = self.create(Tier::Standard, Channel::Email, &[]);
        assert_eq!(self.pulled_id(agent), Some(id));
        (id, self.lease(id))
    }
}

#[test]
fn every_mutating_command_applies_once_per_request_id() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let profile = AgentProfile {
        levels: Default::default(),
        id: agent_id("bo"),
        display_name: "Bo".into(),
        skills: skills(&["billing"]),
        tiers: vec![],
        capacity: [None; Channel::COUNT],
    };
    sim.apply_twice(Command::UpsertAgent(profile), "upsert");
    let presence = Command::SetPresence {
        agent: agent_id("bo"),
        presence: Presence::Away,
        reason: None,
    };
    sim.apply_twice(presence, "away");

    let (id, lease) = sim.assigned("ana");
    let reply = Command::RecordReply {
        ticket: id,
        author: Author::Agent(lease.clone()),
        next_update_by: None,
    };
    sim.apply_twice(reply, "reply");
    let customer = Command::RecordReply {
        ticket: id,
        author: Author::Customer,
        next_update_by: None,
    };
    sim.apply_twice(customer, "customer");
    let pending = Command::SetPending {
        ticket: id,
        lease: lease.clone(),
    };
    sim.apply_twice(pending, "pending");
    let update = Command::Update {
        ticket: id,
        update: TicketUpdate {
            priority: Some(Priority::High),
            ..Default::default()
        },
    };
    sim.apply_twice(update, "update");
    let resolve = Command::Resolve {
        ticket: id,
        lease: Some(lease),
    };
    sim.apply_twice(resolve, "resolve");
    let follow_up = Command::RecordFollowUp {
        ticket: id,
        agent: None,
    };
    sim.apply_twice(follow_up, "follow-up");
    sim.apply_twice(Command::Reopen { ticket: id }, "reopen");
    assert_eq!(sim.ticket(id).reopens, 1, "reopened once, not twice");
    let cancel = Command::Cancel {
        ticket: id,
        reason: CancelReason::Duplicate,
    };
    sim.apply_twice(cancel, "cancel");

    let (id, lease) = sim.assigned("ana");
    let release = Command::Release { ticket: id, lease };
    sim.apply_twice(release, "release");
    assert_eq!(
        sim.ticket(id).epoch(),
        Epoch::new(2),
        "released once: one new epoch"
    );

    let policy = SlaPolicy {
        warning_fraction: 0.6,
        ..Default::default()
    };
    sim.apply_twice(Command::PutPolicy(Box::new(policy)), "policy");
}

#[test]
fn a_retry_answers_from_current_state() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let (id, lease) = sim.assigned("ana");
    let resolve = Command::Resolve {
        ticket: id,
        lease: Some(lease),
    };
    sim.apply(once(resolve.clone(), "r")).expect("resolve");
    sim.apply(Command::Reopen { ticket: id }).expect("reopen");
    match sim.apply(once(resolve, "r")) {
        Ok(Reply::Ticket(t)) => assert_eq!(t.state, TicketState::Queued, "as the ticket is now"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reused_request_id_with_another_body_is_refused_and_changes_nothing() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let a = sim.create(Tier::Standard, Channel::Email, &[]);
    let b = sim.create(Tier::Standard, Channel::Email, &[]);
    let cancel = |ticket| Command::Cancel {
        ticket,
        reason: CancelReason::Other,
    };
    sim.apply(once(cancel(a), "id")).expect("cancel a");
    sim.s.take_journal();
    for other in [
        cancel(b),
        Command::Reopen { ticket: a },
        Command::Pull(agent_id("ana")),
    ] {
        assert_eq!(
            sim.apply(once(other, "id")),
            Err(CoreError::RequestIdReused("id".into()))
        );
    }
    let new = sim.new_ticket(Tier::Vip, Channel::Chat, &[]);
    let create = Command::CreateTicket(NewTicket {
        first_skill: 0,
        request_id: "id".into(),
        ..new
    });
    assert_eq!(
        sim.apply(create),
        Err(CoreError::RequestIdReused("id".into())),
        "ids share one namespace across commands"
    );
    assert!(sim.s.take_journal().is_empty());
    assert_eq!(sim.ticket(b).state, TicketState::Queued);
}

#[test]
fn a_retried_pull_gets_the_same_assignment_until_its_lease_ends() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let first = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.create(Tier::Standard, Channel::Email, &[]);
    let pull = once(Command::Pull(agent_id("ana")), "p");
    let a = sim.apply(pull.clone()).expect("pull");
    let b = sim.apply(pull.clone()).expect("retry");
    assert_eq!(a, b);
    let Reply::Pulled(Some(assigned)) = a else {
        panic!("assigned")
    };
    assert_eq!(assigned.ticket.id, first);
    let held = sim.s.agent(&agent_id("ana")).map(|a| a.held_tickets());
    assert_eq!(held, Some(vec![first]), "one request, one ticket");
    let lease = sim.lease(first);
    sim.apply(Command::Release {
        ticket: first,
        lease,
    })
    .expect("release");
    assert_eq!(
        sim.apply(pull),
        Err(CoreError::ReplayedLeaseGone {
            ticket: first,
            epoch: Epoch::new(1)
        })
    );
}

#[test]
fn what_changed_nothing_is_not_remembered() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    let pull = once(Command::Pull(agent_id("ana")), "p");
    assert_eq!(sim.apply(pull.clone()), Ok(Reply::Pulled(None)));
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    match sim.apply(pull) {
        Ok(Reply::Pulled(Some(a))) => assert_eq!(a.ticket.id, id),
        other => panic!("a pull that found nothing is evaluated again: {other:?}"),
    }
    let away = once(
        Command::SetPresence {
            agent: agent_id("cy"),
            presence: Presence::Away,
            reason: None,
        },
        "s",
    );
    assert_eq!(
        sim.apply(away.clone()),
        Err(CoreError::AgentNotFound(agent_id("cy")))
    );
    sim.agent("cy", &[]);
    assert!(sim.apply(away).is_ok(), "a refused call is evaluated again");
}

#[test]
fn request_ids_expire_after_the_window_and_go_from_the_store() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    let cancel = Command::Cancel {
        ticket: id,
        reason: CancelReason::Other,
    };
    sim.apply(once(cancel, "old")).expect("cancel");
    sim.s.take_journal();
    let window = CoreConfig::default().request_window;
    sim.advance(Span(window.0 - 1));
    assert!(sim.s.take_journal().expired_requests.is_empty());
    sim.advance(Span(1));
    assert_eq!(
        sim.s.take_journal().expired_requests,
        vec!["old".to_string()]
    );
    assert!(sim.s.requests().is_empty());
    let new = sim.new_ticket(Tier::Vip, Channel::Chat, &[]);
    let create = Command::CreateTicket(NewTicket {
        first_skill: 0,
        request_id: "old".into(),
        ..new
    });
    assert!(sim.apply(create).is_ok(), "the id is free again");
}

/// `records` restored as the sled store does it: the requests indexed apart (on a reading
/// thread) and handed over whole, after the agents and tickets.
fn restart_with_requests_built_apart(records: Recovered, now: Ts) -> Scheduler {
    let mut built = Requests::default();
    for (id, entry) in &records.idempotency {
        built.insert(id, entry.clone());
    }
    let mut r = Scheduler::restoring(SlaPolicy::default(), CoreConfig::default(), now);
    for agent in records.agents {
        r.agent(agent);
    }
    for ticket in records.tickets {
        r.ticket(ticket).expect("ticket");
    }
    r.requests(built);
    r.last_ticket(records.last_ticket);
    r.finish()
}

#[test]
fn remembered_requests_survive_a_restart_and_version_1_records_upgrade() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    let cancel = once(
        Command::Cancel {
            ticket: id,
            reason: CancelReason::Other,
        },
        "c",
    );
    sim.apply(cancel.clone()).expect("cancel");
    let later = sim.now.plus(Span::secs(5));
    let restarts: [fn(Recovered, Ts) -> Scheduler; 2] =
        [super::restart_from, restart_with_requests_built_apart];
    for restart in restarts {
        let mut records = sim.records();
        let v1 = IdempotencyV1 {
            ticket: id,
            fingerprint: 7,
        };
        records.idempotency.push(("legacy".into(), v1.upgrade()));
        let mut s = restart(records, later);
        assert!(matches!(
            s.apply(cancel.clone(), later),
            Ok(Reply::Ticket(_))
        ));
        let journal = s.take_journal();
        let legacy = Idempotency {
            fingerprint: 7,
            outcome: Outcome::Ticket(id),
            at: later,
        };
        assert_eq!(
            journal.idempotency,
            vec![("legacy".to_string(), legacy)],
            "only the upgraded record is rewritten; the retry wrote nothing"
        );
        let key = RequestKey {
            id: "legacy".into(),
            fingerprint: 8,
        };
        assert_eq!(
            s.replay(&key),
            Err(CoreError::RequestIdReused("legacy".into()))
        );
    }
}

/// The store reads the remembered requests on a thread of their own, so they reach the sink
/// anywhere among the agents and tickets: fed before any of them, they are remembered,
/// answered and expired exactly as when fed after all of them.
#[test]
fn requests_restored_before_the_agents_and_tickets_they_name_work_as_if_restored_last() {
    let mut sim = Sim::new();
    sim.agent("ana", &[]);
    for i in 0..5 {
        let new = sim.new_ticket(Tier::Standard, Channel::Email, &[]);
        sim.apply(once(Command::CreateTicket(new), &format!("c{i}")))
            .expect("create");
        sim.live(Span::mins(1));
    }
    let pull = once(Command::Pull(agent_id("ana")), "p");
    let pulled = sim.apply(pull.clone()).expect("pull");
    let now = sim.now;
    let last = restart_from(sim.records(), now);

    let records = sim.records();
    let mut first = Scheduler::restoring(SlaPolicy::default(), CoreConfig::default(), now);
    for (id, entry) in records.idempotency {
        first.request(&id, entry);
    }
    for agent in records.agents {
        first.agent(agent);
    }
    for ticket in records.tickets {
        first.ticket(ticket).expect("ticket");
    }
    first.last_ticket(records.last_ticket);
    let first = first.finish();

    for mut s in [last, first] {
        assert_eq!(s.requests().len(), 6);
        assert_eq!(
            s.apply(pull.clone(), now),
            Ok(pulled.clone()),
            "the pull replayed"
        );
        // Made a minute apart from T0 on: they expire one by one, oldest first.
        let window = CoreConfig::default().request_window;
        let mut expired = Vec::new();
        for minute in 0..=5 {
            let at = T0.plus(window).plus(Span::mins(minute));
            s.tick(at.plus(Span::secs(1)));
            expired.extend(s.take_journal().expired_requests);
        }
        assert_eq!(expired, ["c0", "c1", "c2", "c3", "c4", "p"]);
    }
}
