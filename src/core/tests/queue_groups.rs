//! The queue groups of GetQueueStats, kept as tickets enter and leave the queues, equal a scan
//! of the QUEUED tickets (`stats_oracle`) through the moves the model test does not make:
//! policy changes that move due times, updates of tier, skills and priority, preferred-agent
//! holds, interim promises, transfers to a queue, an archived ticket reopened and a restore;
//! each compared at instants around now, forward and back. (A replica's groups are compared
//! with a fresh restore's by the model test, `tests::replica::derived`.)

use super::depth::resolved_email;
use super::stats_oracle::{queue_instants, scanned_queues, scanned_warnings};
use super::*;
use crate::core::command::{TicketUpdate, TransferTo};
use crate::core::queue_groups::{Filed, QueueGroups};

/// The groups equal the scan at every instant of `queue_instants`, and the wallboard's
/// clocks at warning equal a scan of every clock.
fn groups_match(s: &Scheduler, now: Ts, what: &str) {
    let board = s.board(now);
    assert_eq!(
        (board.warning_counts, board.warnings),
        scanned_warnings(s, now),
        "{what}: clocks at warning"
    );
    for at in queue_instants(s, now) {
        assert_eq!(
            s.stats(at).queues,
            scanned_queues(s, at),
            "{what}: queue groups at {at:?}"
        );
    }
}

/// A desk with tickets on several (tier, channel, skills) groups, some already late.
fn mixed_desk() -> Sim {
    let mut sim = Sim::new();
    add_mixed(&mut sim);
    sim
}

fn add_mixed(sim: &mut Sim) {
    sim.agent("en", &["en"]);
    for (i, tier) in Tier::ALL.iter().enumerate() {
        sim.create(*tier, Channel::Chat, &["en"]);
        sim.create(*tier, Channel::Email, &["en", "billing"]);
        sim.create(*tier, Channel::Phone, &[]);
        sim.live(Span::secs(10 * i as u64 + 5));
    }
}

#[test]
fn policy_changes_that_move_due_times_move_the_past_due_counts() {
    let mut sim = mixed_desk();
    groups_match(&sim.s, sim.now, "before");
    let mut policy = SlaPolicy::default();
    policy.targets.email.first_response = Span::secs(1);
    policy.targets.chat.first_response = Span::hours(5);
    sim.apply(Command::PutPolicy(Box::new(policy)))
        .expect("put");
    groups_match(&sim.s, sim.now, "after a policy change");
    let breached: u32 = sim.s.stats(sim.now).queues.iter().map(|q| q.breached).sum();
    assert!(breached > 0, "the email tickets are past due now");
    sim.apply(Command::PutPolicy(Box::default())).expect("put");
    groups_match(&sim.s, sim.now, "after the default again");
}

#[test]
fn updates_holds_promises_and_transfers_keep_the_groups_right() {
    let mut sim = mixed_desk();
    let queued: Vec<TicketId> = sim.s.queues.queued().collect();
    let update = TicketUpdate {
        skills: Some((skills(&["de"]), 0)),
        tier: Some(Tier::Vip),
        priority: Some(Priority::Urgent),
        ..Default::default()
    };
    sim.apply(Command::Update {
        ticket: queued[0],
        update,
    })
    .expect("update");
    groups_match(&sim.s, sim.now, "after an update");

    sim.agent("pm", &["en", "billing"]);
    let update = TicketUpdate {
        preferred_agent: Some(Some(agent_id("pm"))),
        ..Default::default()
    };
    let mut held = sim.new_ticket(Tier::Vip, Channel::Email, &["en"]);
    held.preferred_agent = Some(agent_id("pm"));
    let held = sim.create_with(held);
    sim.apply(Command::Update {
        ticket: queued[1],
        update,
    })
    .expect("update");
    assert!(sim.ticket(held).hold.is_some(), "held for its manager");
    groups_match(&sim.s, sim.now, "with holds");

    // A promise of an update, then the ticket goes back to the queue with it.
    let id = sim.pulled_id("en").expect("a ticket for en");
    let lease = sim.lease(id);
    sim.apply(Command::RecordReply {
        ticket: id,
        author: Author::Agent(lease.clone()),
        next_update_by: Some(sim.now.plus(Span::secs(30))),
    })
    .expect("reply");
    sim.apply(Command::Release { ticket: id, lease })
        .expect("release");
    groups_match(&sim.s, sim.now, "a released ticket with a promise");

    let to = TransferTo::Queue {
        skills: Some((skills(&["fr"]), 0)),
        tier: Some(Tier::New),
    };
    sim.apply(Command::Transfer {
        ticket: queued[2],
        to,
        note: String::new(),
    })
    .expect("transfer");
    groups_match(&sim.s, sim.now, "after a transfer to a queue");

    // Hours on: holds end, escalation widens routing and everything is past due.
    sim.live(Span::hours(3));
    groups_match(&sim.s, sim.now, "hours later");
}

#[test]
fn a_reopened_archived_ticket_and_a_restore_keep_the_groups_right() {
    let mut sim = Sim::new();
    let id = resolved_email(&mut sim);
    add_mixed(&mut sim);
    sim.apply(Command::RecordFollowUp {
        ticket: id,
        agent: None,
    })
    .expect("follow-up");
    let mut journal = sim.s.take_journal();
    sim.s.archive_finished(&mut journal);
    let record = journal.archived.remove(0);
    sim.advance(Span::hours(2));
    assert!(sim.s.thaw(record));
    sim.apply(Command::Reopen { ticket: id }).expect("reopen");
    assert_eq!(sim.ticket(id).state, TicketState::Queued);
    groups_match(&sim.s, sim.now, "after a reopen from the archive");
    let restored = restart_from(sim.records(), sim.now);
    groups_match(&restored, sim.now, "restored");
    assert_eq!(restored.stats(sim.now).queues, sim.s.stats(sim.now).queues);
}

/// The past-due count follows its cursor both ways and counts only dues: exact at any
/// instant, whatever was asked before.
#[test]
fn the_past_due_count_is_exact_forward_and_back() {
    let mut groups = QueueGroups::default();
    let g = groups.group_of(Tier::Vip, Channel::Chat, &skills(&["en"]));
    let filed = |id: u64, due: Option<i64>| Filed {
        id: TicketId(id),
        queued_at: Ts(0),
        due: due.map(Ts),
    };
    for (id, due) in [(1, Some(10)), (2, Some(20)), (3, Some(20)), (4, None)] {
        groups.add(g, filed(id, due));
    }
    let breached = |groups: &QueueGroups, at: i64| groups.stats(Ts(at))[0].breached;
    assert_eq!(breached(&groups, 20), 3);
    assert_eq!(breached(&groups, 19), 1);
    assert_eq!(breached(&groups, 9), 0);
    groups.add(g, filed(5, Some(5)));
    assert_eq!(
        breached(&groups, 9),
        1,
        "a due before the cursor counts at once"
    );
    groups.remove(g, filed(2, Some(20)));
    assert_eq!(
        breached(&groups, i64::MAX),
        3,
        "the ticket without a due never does"
    );
    groups.remove(g, filed(5, Some(5)));
    assert_eq!(breached(&groups, 20), 2);
    assert_eq!(groups.stats(Ts(20))[0].depth, 3);
}
