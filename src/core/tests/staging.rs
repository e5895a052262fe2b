//! A recovery stages the queues' lines, the age index and the ticket timers and builds each
//! B-tree once at `finish`: what it builds must be what inserting one ticket at a time
//! builds, and it must go on working one ticket at a time afterwards.

use super::*;
use crate::core::model::Order;
use crate::core::routing::RoutingKey;

/// Where every queued ticket waits and when every ticket falls due: each routing key's line
/// in order with its head, depth and oldest arrival per (tier, channel), every queued ticket
/// by arrival, and every ticket timer.
#[derive(Debug, PartialEq)]
struct Layout {
    lines: HashMap<RoutingKey, (Vec<TicketId>, Option<Order>)>,
    ages: Vec<(Tier, Channel, usize, Option<Ts>)>,
    queued: Vec<TicketId>,
    timers: Vec<(TicketId, Ts)>,
    next: Option<Ts>,
}

fn layout(s: &Scheduler) -> Layout {
    let mut lines: HashMap<RoutingKey, (Vec<TicketId>, Option<Order>)> = s
        .queues
        .key_queues()
        .map(|(key, ids)| (key.clone(), (ids, None)))
        .collect();
    for id in 0..s.queues.key_count() as u32 {
        if let Some(head) = s.queues.head(id) {
            let line = lines.get_mut(s.queues.key(id)).expect("a head has a line");
            line.1 = Some(head);
        }
    }
    let mut timers: Vec<(TicketId, Ts)> = s.timers.ticket_timers().collect();
    timers.sort();
    Layout {
        lines,
        ages: s.gauges().queues,
        queued: s.queues.queued().collect(),
        timers,
        next: s.next_deadline(),
    }
}

/// `n` tickets over three tiers, three channels and three skill sets, created over time (so
/// arrivals and dues differ) with agents who hold some of them.
fn busy_desk(n: usize) -> Sim {
    let mut sim = Sim::new();
    sim.agent("a", &["en", "billing"]);
    sim.agent("b", &["en"]);
    let needs: [&[&str]; 3] = [&["en"], &["en", "billing"], &[]];
    for i in 0..n {
        let tier = [Tier::Vip, Tier::New, Tier::Standard][i % 3];
        let channel = [Channel::Chat, Channel::Email, Channel::Messenger][(i / 3) % 3];
        sim.create(tier, channel, needs[(i / 9) % 3]);
        if i % 50 == 49 {
            sim.live(Span::secs(7));
        }
    }
    for _ in 0..6 {
        sim.pull("a");
        sim.pull("b");
    }
    sim
}

/// An agent who serves every ticket of the desk, with room for all of them.
fn catch_all(sim: &mut Sim) {
    let room = [Some(10_000); Channel::COUNT];
    sim.agent_with("all", &["en", "billing"], &[], room);
}

#[test]
fn a_restore_builds_the_queues_and_timers_that_one_insert_at_a_time_builds() {
    let mut sim = busy_desk(3_000);
    // Old enough for some to have escalated (another routing key) before the restart.
    sim.live(Span::mins(25));
    let mut restored = Sim {
        s: restart_from(sim.records(), sim.now),
        now: sim.now,
        next_ext: sim.next_ext,
    };
    assert!(sim.s.queued_count() > 2_900, "{}", sim.s.queued_count());
    assert_eq!(layout(&restored.s), layout(&sim.s));

    // Afterwards the queues and timers change one ticket at a time as usual.
    for desk in [&mut sim, &mut restored] {
        catch_all(desk);
        desk.create(Tier::Vip, Channel::Chat, &["en"]);
        desk.live(Span::mins(10));
    }
    let pulled = |desk: &mut Sim| -> Vec<TicketId> {
        (0..500).filter_map(|_| desk.pulled_id("all")).collect()
    };
    let first = pulled(&mut sim);
    assert_eq!(first.len(), 500);
    assert_eq!(pulled(&mut restored), first);
    assert_eq!(layout(&restored.s), layout(&sim.s));
}

#[test]
fn tickets_moved_or_taken_out_while_staging_end_where_they_would_have() {
    let mut plain = Sim::new();
    let mut staged = Sim::new();
    staged.s.queues.stage();
    staged.s.timers.stage();
    for sim in [&mut plain, &mut staged] {
        let ids: Vec<TicketId> = (0..40)
            .map(|i| sim.create(Tier::Standard, Channel::Chat, &[["en", "de"][i % 2]]))
            .collect();
        // Moved to another line (and its timer re-armed), then taken out of the queue.
        let update = TicketUpdate {
            tier: Some(Tier::Vip),
            ..Default::default()
        };
        let moved = Command::Update {
            ticket: ids[3],
            update,
        };
        sim.apply(moved).expect("update");
        let cancel = Command::Cancel {
            ticket: ids[5],
            reason: CancelReason::Duplicate,
        };
        sim.apply(cancel).expect("cancel");
        for _ in 0..10 {
            sim.create(Tier::New, Channel::Email, &["en"]);
        }
    }
    staged.s.queues.unstage();
    staged.s.timers.unstage();
    assert_eq!(layout(&staged.s), layout(&plain.s));
    assert_eq!(staged.s.queued_count(), 49);
}

/// A restore files each ticket without looking for an earlier place (`push_new`): filing one
/// that is queued already would leave it in two places, so debug builds stop on it.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "is queued already")]
fn filing_a_queued_ticket_as_new_is_caught() {
    let mut s = busy_desk(30).s;
    let id = s.queues.queued().next().expect("a queued ticket");
    let slot = s.queues.slot(id).expect("it has a place");
    s.queues.push_new(&s.tickets[id], slot, s.policy.forcing());
}
