//! The queue order (`SlaPolicy::order`): under `savable_first` a ticket that can still meet its
//! target goes before a late one, a late one goes first once its escalation reaches the
//! policy's `force_level`, and so savable work keeps no ticket waiting past the stated bound.
//! Under `savable_turns` the same, but a forced ticket goes first only on the agent's turn
//! (`core::turns`), so the bound is a turn longer.

use super::*;
use crate::core::escalation::fraction;
use crate::core::policy::QueueOrder;
use crate::core::turns::{forcing_turn, TURN};

fn policy(order: QueueOrder, force_level: Level) -> SlaPolicy {
    SlaPolicy {
        order,
        force_level,
        ..SlaPolicy::default()
    }
}

/// A standard chat (30 s first-response target) whose clock has run for `waited`, and a fresh
/// one: which of the two a pull hands out first under `order`.
fn first_of_late_and_fresh(order: QueueOrder, waited: Span) -> (TicketId, TicketId, TicketId) {
    let mut sim = Sim::with_policy(policy(order, Level::L3));
    sim.agent("a", &[]);
    let late = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.live(waited);
    let fresh = sim.create(Tier::Standard, Channel::Chat, &[]);
    let first = sim.pulled_id("a").expect("a ticket");
    (late, fresh, first)
}

#[test]
fn a_savable_ticket_goes_before_a_late_one() {
    let (late, fresh, first) = first_of_late_and_fresh(QueueOrder::SavableFirst, Span::secs(40));
    assert_eq!(
        first, fresh,
        "savable_first: the ticket that can still make it"
    );
    assert_ne!(late, fresh);
    let (late, fresh, first) = first_of_late_and_fresh(QueueOrder::SavableTurns, Span::secs(40));
    assert_eq!(
        first, fresh,
        "savable_turns: the ticket that can still make it"
    );
    assert_ne!(late, fresh);
    let (late, _, first) = first_of_late_and_fresh(QueueOrder::Deadline, Span::secs(40));
    assert_eq!(first, late, "deadline: earliest due, late or not");
}

#[test]
fn late_tickets_follow_once_nothing_savable_waits_longest_late_first() {
    let mut sim = Sim::with_policy(policy(QueueOrder::SavableFirst, Level::L3));
    sim.agent("a", &[]);
    let older = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.live(Span::secs(5));
    let younger = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.live(Span::secs(35));
    let fresh = sim.create(Tier::Standard, Channel::Chat, &[]);
    let order: Vec<_> = (0..3).filter_map(|_| sim.pulled_id("a")).collect();
    assert_eq!(order, [fresh, older, younger]);
}

#[test]
fn a_late_ticket_goes_first_once_it_reaches_the_forcing_level() {
    // A standard chat's 30 s target: L2 at 45 s, L3 at 60 s.
    for (level, forced_at) in [(Level::L2, 45), (Level::L3, 60)] {
        let mut sim = Sim::with_policy(policy(QueueOrder::SavableFirst, level));
        sim.agent("a", &[]);
        let late = sim.create(Tier::Standard, Channel::Chat, &[]);
        sim.live(Span::secs(forced_at - 1));
        let fresh = sim.create(Tier::Standard, Channel::Chat, &[]);
        assert_eq!(sim.pulled_id("a"), Some(fresh), "{level}: not forced yet");
        sim.live(Span::secs(1));
        assert!(sim.ticket(late).escalation() >= level);
        let fresher = sim.create(Tier::Standard, Channel::Chat, &[]);
        assert_eq!(sim.pulled_id("a"), Some(late), "{level}: forced ahead");
        assert_eq!(sim.pulled_id("a"), Some(fresher));
    }
}

/// One agent who takes one chat at a time, handling each for `handle`; a chat arrives every
/// `handle` after a first two at once, so the desk is saturated and one ticket is always
/// waiting. The wait of every ticket served, in the order served.
fn saturated_stream(policy: SlaPolicy, handle: Span, tickets: usize) -> Vec<(TicketId, Span)> {
    let mut sim = Sim::with_policy(policy);
    let mut capacity = [Some(0); Channel::COUNT];
    capacity[Channel::Chat.index()] = Some(1);
    sim.agent_with("a", &[], &[], capacity);
    sim.create(Tier::Standard, Channel::Chat, &[]);
    let mut served = Vec::new();
    for _ in 0..tickets {
        sim.create(Tier::Standard, Channel::Chat, &[]);
        if let Some(&(held, _)) = served.last() {
            let lease = sim.lease(held);
            let resolve = Command::Resolve {
                ticket: held,
                lease: Some(lease),
            };
            sim.apply(resolve).expect("resolve");
        }
        let id = sim.pulled_id("a").expect("one is always waiting");
        sim.reply(id).expect("answer");
        served.push((id, sim.now.since(sim.ticket(id).created_at)));
        sim.live(handle);
    }
    served
}

/// The bound of `QueueOrder::SavableFirst`: a ticket waits for savable work at most until its
/// escalation reaches the forcing level, (1 + offset) × target after it started; then it is
/// served as soon as an eligible agent has room (here: the one agent's current chat, `handle`),
/// since no other forced ticket is ahead of it.
#[test]
fn nothing_waits_past_the_stated_bound() {
    let target = Span::secs(30);
    let handle = Span::secs(35);
    for level in [Level::L1, Level::L2, Level::L3] {
        let p = policy(QueueOrder::SavableFirst, level);
        let bound = Span(target.scale(fraction(&p, level)).0 + handle.0);
        let served = saturated_stream(p, handle, 40);
        let longest = served.iter().map(|&(_, w)| w).max().expect("served");
        assert!(longest <= bound, "{level}: waited {longest:?} > {bound:?}");
        let ids: Vec<TicketId> = served.iter().map(|&(id, _)| id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        if level > Level::L1 {
            assert_ne!(ids, sorted, "{level}: savable work went ahead of late work");
        }
    }
}

/// Lives on until `agent`'s turn is `on` (at most a turn).
fn until_turn(sim: &mut Sim, agent: &str, on: bool) {
    while forcing_turn(&agent_id(agent), sim.now) != on {
        sim.live(Span::secs(1));
    }
}

#[test]
fn under_savable_turns_a_forced_ticket_goes_first_on_the_agents_turn_only() {
    let mut sim = Sim::with_policy(policy(QueueOrder::SavableTurns, Level::L3));
    sim.agent("a", &[]);
    let forced = sim.create(Tier::Standard, Channel::Chat, &[]);
    // A standard chat's 30 s target: L3 at 60 s.
    sim.live(Span::secs(60));
    assert!(sim.ticket(forced).escalation() >= Level::L3);
    until_turn(&mut sim, "a", false);
    let fresh = sim.create(Tier::Standard, Channel::Chat, &[]);
    assert_eq!(
        sim.pulled_id("a"),
        Some(fresh),
        "off its turn: savable first"
    );
    sim.reply(fresh).expect("answer");
    until_turn(&mut sim, "a", true);
    let fresher = sim.create(Tier::Standard, Channel::Chat, &[]);
    assert_eq!(
        sim.pulled_id("a"),
        Some(forced),
        "on its turn: forced first"
    );
    assert_eq!(sim.pulled_id("a"), Some(fresher));
}

#[test]
fn off_its_turn_an_agent_takes_forced_tickets_before_other_late_ones() {
    let mut sim = Sim::with_policy(policy(QueueOrder::SavableTurns, Level::L3));
    sim.agent("a", &[]);
    let forced = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.live(Span::secs(45));
    let late = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.live(Span::secs(40));
    until_turn(&mut sim, "a", false);
    assert!(sim.ticket(forced).escalation() >= Level::L3);
    assert!(sim.ticket(late).escalation() < Level::L3);
    let order: Vec<_> = (0..2).filter_map(|_| sim.pulled_id("a")).collect();
    assert_eq!(order, [forced, late]);
}

/// The bound of `QueueOrder::SavableTurns`: savable work keeps a ticket waiting until its
/// forcing level, then at most until the agent is on its turn with room: a turn off, and
/// then its current chat (`handle`), which may have begun just before the turn began.
#[test]
fn under_savable_turns_nothing_waits_past_the_stated_bound() {
    let target = Span::secs(30);
    let handle = Span::secs(35);
    for level in [Level::L2, Level::L3] {
        let p = policy(QueueOrder::SavableTurns, level);
        let forced_at = target.scale(fraction(&p, level)).0;
        let bound = Span(forced_at + TURN.0 + 2 * handle.0);
        let served = saturated_stream(p, handle, 60);
        let longest = served.iter().map(|&(_, w)| w).max().expect("served");
        assert!(longest <= bound, "{level}: waited {longest:?} > {bound:?}");
        let ids: Vec<TicketId> = served.iter().map(|&(id, _)| id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_ne!(ids, sorted, "{level}: savable work went ahead of late work");
    }
}
