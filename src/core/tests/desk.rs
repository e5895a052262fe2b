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
