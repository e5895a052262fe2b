//! The desk's everyday moves (issue 18): replies recorded on an agent's behalf.

use super::*;

fn on_behalf(sim: &mut Sim, id: TicketId, agent: &str) -> Result<Reply, CoreError> {
    sim.apply(Command::RecordReply {
        ticket: id,
        author: Author::OnBehalf(agent_id(agent)),
        next_update_by: None,
    })
}

/// A reply typed in the help desk's own UI by a colleague meets the first response at the
/// instant it is recorded, as the holder's would; the holder and the epoch do not move.
#[test]
fn a_reply_on_behalf_meets_the_clock_and_leaves_the_lease_alone() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.agent("ann", &[]);
    sim.agent("bob", &[]);
    let held = sim.pull("ann").expect("ann takes it");
    sim.events();
    sim.live(Span::secs(10));
    sim.events();
    on_behalf(&mut sim, id, "bob").expect("recorded");
    let t = sim.ticket(id);
    assert_eq!(t.first_response.met_at.get(), Some(sim.now));
    assert_eq!(t.holder(), Some(&agent_id("ann")), "the holder stays");
    assert_eq!(t.epoch(), held.lease_epoch, "the epoch stays");
    assert_eq!(t.state, TicketState::Assigned);
    let events = sim.events();
    assert_eq!(
        events.first(),
        Some(&Event::RepliedOnBehalf {
            ticket: id,
            agent: agent_id("bob"),
        })
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::ClockMet {
            metric: SlaMetric::FirstResponse,
            within: true,
            ..
        }
    )));
    sim.reply(id).expect("ann's lease still works");
}

/// A queued ticket answered by email stays in the queue, answered: nobody got it.
#[test]
fn a_reply_on_behalf_on_a_queued_ticket_answers_it_and_leaves_it_queued() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("bob", &[]);
    sim.apply(Command::SetPresence {
        agent: agent_id("bob"),
        presence: Presence::Away,
    })
    .expect("away");
    on_behalf(&mut sim, id, "bob").expect("recorded");
    let t = sim.ticket(id);
    assert!(t.first_response.is_met());
    assert_eq!(
        (t.state, t.holder(), t.epoch()),
        (TicketState::Queued, None, Epoch::new(0))
    );
}

/// An unknown author, or a ticket that is not open, is refused and changes nothing.
#[test]
fn a_reply_on_behalf_needs_a_known_agent_and_an_open_ticket() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.agent("bob", &[]);
    sim.events();
    let err = on_behalf(&mut sim, id, "nobody").expect_err("unknown");
    assert_eq!(err, CoreError::AgentNotFound(agent_id("nobody")));
    assert!(!sim.ticket(id).first_response.is_met());
    sim.apply(Command::Resolve {
        ticket: id,
        lease: None,
    })
    .expect("resolve");
    let err = on_behalf(&mut sim, id, "bob").expect_err("resolved");
    assert!(
        matches!(
            err,
            CoreError::WrongState {
                state: TicketState::Resolved,
                ..
            }
        ),
        "{err:?}"
    );
    let err = on_behalf(&mut sim, TicketId(99), "bob").expect_err("no ticket");
    assert_eq!(err, CoreError::TicketNotFound(TicketId(99)));
}

fn assign(sim: &mut Sim, id: TicketId, agent: &str, force: bool) -> Result<Reply, CoreError> {
    sim.apply(Command::Assign {
        ticket: id,
        agent: agent_id(agent),
        force,
    })
}

fn transfer(sim: &mut Sim, id: TicketId, to: TransferTo) -> Result<Reply, CoreError> {
    sim.apply(Command::Transfer {
        ticket: id,
        to,
        note: "over to you".into(),
    })
}

fn to_agent(agent: &str, force: bool) -> TransferTo {
    TransferTo::Agent {
        agent: agent_id(agent),
        force,
    }
}

fn load(sim: &Sim, agent: &str) -> u32 {
    sim.s
        .agent(&agent_id(agent))
        .expect("agent")
        .load
        .iter()
        .sum()
}

/// A supervisor assigns a queued ticket, then transfers it: each holder gets a new epoch, the
/// old lease is stale, capacity moves with the ticket, and the clocks do not restart: the
/// first response stays due at the same instant.
#[test]
fn a_transfer_ends_the_old_lease_starts_a_new_epoch_and_keeps_the_clocks() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("ann", &[]);
    sim.agent("bob", &[]);
    let due = sim.ticket(id).due();
    sim.live(Span::mins(5));
    sim.events();
    assign(&mut sim, id, "ann", false).expect("assigned");
    let ann = sim.lease(id);
    assert_eq!((ann.agent.as_str(), ann.epoch), ("ann", Epoch::new(1)));
    let events = sim.events();
    assert!(events.iter().any(|e| matches!(e, Event::Assigned { reason: AssignReason::Directed, waited, .. } if *waited == Span::mins(5))), "{events:?}");
    sim.live(Span::mins(5));
    sim.events();
    transfer(&mut sim, id, to_agent("bob", false)).expect("transferred");
    let bob = sim.lease(id);
    assert_eq!(bob.agent.as_str(), "bob");
    assert!(bob.epoch.get() > ann.epoch.get());
    assert_eq!(sim.ticket(id).due(), due, "clocks keep running: same due");
    assert_eq!(sim.ticket(id).state, TicketState::Assigned);
    assert_eq!((load(&sim, "ann"), load(&sim, "bob")), (0, 1));
    let events = sim.events();
    assert!(
        events.contains(&Event::Transferred {
            ticket: id,
            from: Some(agent_id("ann")),
            to: Some(agent_id("bob")),
            tier: Tier::Standard,
            channel: Channel::Email,
            forced: false,
            note: "over to you".into(),
        }),
        "{events:?}"
    );
    let stale = sim.apply(Command::Release {
        ticket: id,
        lease: ann,
    });
    assert!(
        matches!(stale, Err(CoreError::StaleLease { .. })),
        "{stale:?}"
    );
    sim.reply(id).expect("bob's lease works");
}

/// Without force an agent who is away, lacks a skill, may not serve the tier or is full is
/// refused naming why, and nothing changes; with force each is overridden (past capacity
/// too). An offline agent, the holder itself, an unknown agent or a finished ticket are
/// refused even forced.
#[test]
fn an_assignment_checks_the_agent_unless_forced() {
    let mut sim = Sim::new();
    let vip = sim.create(Tier::Vip, Channel::Phone, &["billing"]);
    let other = sim.create(Tier::Vip, Channel::Phone, &["billing"]);
    sim.agent_with("full", &["billing"], &[], [None; Channel::COUNT]);
    assign(&mut sim, other, "full", false).expect("phone capacity 1: now full");
    sim.agent("away", &["billing"]);
    sim.apply(Command::SetPresence {
        agent: agent_id("away"),
        presence: Presence::Away,
    })
    .expect("away");
    sim.agent("plain", &[]);
    sim.agent_with(
        "std",
        &["billing"],
        &[Tier::Standard],
        [None; Channel::COUNT],
    );
    sim.agent("gone", &["billing"]);
    sim.apply(Command::SetPresence {
        agent: agent_id("gone"),
        presence: Presence::Offline,
    })
    .expect("offline");
    sim.events();
    for (agent, why) in [
        ("away", "is away"),
        ("plain", "lacks the skill \"billing\""),
        ("std", "does not serve the vip tier"),
        ("full", "is full on phone (1 of 1)"),
        ("gone", "is offline"),
    ] {
        let err = assign(&mut sim, vip, agent, false).expect_err(agent);
        assert!(err.to_string().contains(why), "{agent}: {err}");
    }
    let err = assign(&mut sim, vip, "gone", true).expect_err("offline, forced");
    assert!(err.to_string().contains("is offline"), "{err}");
    let err = assign(&mut sim, vip, "nobody", true).expect_err("unknown");
    assert_eq!(err, CoreError::AgentNotFound(agent_id("nobody")));
    assert!(sim.events().is_empty(), "refusals changed nothing");
    assert_eq!(sim.ticket(vip).state, TicketState::Queued);
    assign(&mut sim, vip, "full", true).expect("forced past capacity");
    assert_eq!(load(&sim, "full"), 2);
    let err = assign(&mut sim, vip, "full", true).expect_err("holds it already");
    assert!(err.to_string().contains("already holds it"), "{err}");
    for agent in ["away", "plain", "std"] {
        transfer(&mut sim, vip, to_agent(agent, true)).expect(agent);
    }
    sim.apply(Command::Resolve {
        ticket: vip,
        lease: None,
    })
    .expect("resolve");
    let err = assign(&mut sim, vip, "plain", true).expect_err("resolved");
    assert!(matches!(err, CoreError::WrongState { .. }), "{err:?}");
}

/// A transfer to other skills puts the ticket back in line under its new key, due at the
/// same instant: the old holder's lease is stale and an agent with the new skill pulls it.
#[test]
fn a_transfer_to_a_queue_requeues_under_the_new_key_keeping_the_due() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Chat, &["en"]);
    sim.agent("en", &["en"]);
    sim.agent("de", &["de"]);
    let ann = sim.pull("en").expect("en takes it");
    let due = sim.ticket(id).due();
    sim.live(Span::secs(5));
    let (set, first) = SkillSet::parse_listed("skills", vec!["de".into()]).expect("skills");
    let to = TransferTo::Queue {
        skills: Some((set, first)),
        tier: None,
    };
    transfer(&mut sim, id, to).expect("to the de queue");
    let t = sim.ticket(id);
    assert_eq!(
        (t.state, t.holder(), t.due()),
        (TicketState::Queued, None, due)
    );
    assert!(t.epoch().get() > ann.lease_epoch.get());
    assert_eq!(sim.pulled_id("en"), None, "en no longer fits");
    assert_eq!(sim.pulled_id("de"), Some(id));
}

/// A transferred ticket comes back from the records with its new holder and epoch.
#[test]
fn a_transfer_survives_a_restart() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("ann", &[]);
    sim.agent("bob", &[]);
    assign(&mut sim, id, "ann", false).expect("assigned");
    transfer(&mut sim, id, to_agent("bob", false)).expect("transferred");
    let lease = sim.lease(id);
    let mut back = restart_from(sim.records(), sim.now);
    let t = back.ticket(id).expect("restored");
    assert_eq!((t.holder(), t.epoch()), (Some(&lease.agent), lease.epoch));
    assert_eq!(
        back.agent(&agent_id("bob"))
            .expect("bob")
            .load
            .iter()
            .sum::<u32>(),
        1
    );
    back.apply(Command::Release { ticket: id, lease }, sim.now)
        .expect("bob's lease holds");
}

fn set_preferred(sim: &mut Sim, id: TicketId, agent: Option<&str>) {
    let update = TicketUpdate {
        preferred_agent: Some(agent.map(agent_id)),
        ..TicketUpdate::default()
    };
    sim.apply(Command::Update { ticket: id, update })
        .expect("update");
}

/// `UpdateTicket` sets a queued ticket's preferred agent, which starts a hold window for it
/// (never past the due), and clears it, which ends the window at once.
#[test]
fn an_update_sets_and_clears_the_preferred_agent_of_a_queued_ticket() {
    let mut sim = Sim::new();
    sim.agent("manager", &[]);
    sim.agent("other", &[]);
    let id = sim.create(Tier::Vip, Channel::Email, &[]);
    sim.live(Span::secs(30));
    set_preferred(&mut sim, id, Some("manager"));
    assert_eq!(sim.ticket(id).preferred_agent, Some(agent_id("manager")));
    assert_eq!(
        sim.ticket(id).held_until(),
        Some(sim.now.plus(Span::secs(60)))
    );
    assert_eq!(sim.pulled_id("other"), None, "held for the manager");
    set_preferred(&mut sim, id, None);
    assert_eq!(
        (
            sim.ticket(id).preferred_agent.clone(),
            sim.ticket(id).hold.clone()
        ),
        (None, None)
    );
    assert_eq!(sim.pulled_id("other"), Some(id));
}

/// A reopened ticket waits for the agent who resolved it for the preferred-agent window (the
/// same hold machinery), then anyone eligible may take it. (Across kill -9: tests/it/desk.rs.)
#[test]
fn a_reopened_ticket_is_held_for_the_agent_who_resolved_it() {
    let mut sim = Sim::new();
    sim.agent("ann", &[]);
    sim.agent("bob", &[]);
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    assert_eq!(sim.pulled_id("ann"), Some(id));
    let lease = sim.lease(id);
    sim.apply(Command::Resolve {
        ticket: id,
        lease: Some(lease),
    })
    .expect("resolved");
    assert_eq!(sim.ticket(id).tail.resolved_by(), Some(&agent_id("ann")));
    sim.live(Span::mins(10));
    sim.apply(Command::Reopen { ticket: id }).expect("reopened");
    assert_eq!(sim.ticket(id).held_for(), Some(&agent_id("ann")));
    assert_eq!(sim.pulled_id("bob"), None, "held for ann");
    sim.s = restart_from(sim.records(), sim.now);
    sim.live(Span::secs(59));
    assert_eq!(
        sim.pulled_id("bob"),
        None,
        "still held at 59 s, after a restart"
    );
    let a = sim.pull("ann").expect("ann gets it back");
    assert_eq!((a.ticket.id, a.reason), (id, AssignReason::PreferredAgent));
    sim.apply(Command::Resolve {
        ticket: id,
        lease: None,
    })
    .expect("resolved");
    sim.apply(Command::Reopen { ticket: id }).expect("reopened");
    sim.live(Span::secs(60));
    assert_eq!(
        sim.pulled_id("bob"),
        Some(id),
        "after the window anyone may"
    );
}

/// A transfer that changes the tier re-derives the targets from the policy, as `UpdateTicket`
/// does: the clocks keep their start (no fresh start), only the target changes.
#[test]
fn a_transfer_to_another_tier_keeps_the_clocks_start_and_takes_the_tiers_target() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]); // first response 2 h
    let started = sim.ticket(id).first_response.started_at;
    sim.live(Span::mins(10));
    let to = TransferTo::Queue {
        skills: None,
        tier: Some(Tier::Vip),
    };
    transfer(&mut sim, id, to).expect("to the VIP queue");
    let t = sim.ticket(id);
    assert_eq!(t.tier, Tier::Vip);
    assert_eq!(t.first_response.started_at, started, "not a fresh start");
    assert_eq!(t.first_response.target, Span::hours(1), "VIP: half of 2 h");
    assert_eq!(t.due(), Some(started.plus(Span::hours(1))));
}
