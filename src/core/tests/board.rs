//! The wallboard's snapshot: the clocks at the warning level with their time left, soonest
//! breach first, counted per (channel, tier), alongside the same queue stats GetQueueStats
//! gives.

use super::*;
use crate::core::board::BoardSnapshot;

fn board(sim: &mut Sim) -> BoardSnapshot {
    match sim.apply(Command::Board) {
        Ok(Reply::Board(b)) => *b,
        other => panic!("{other:?}"),
    }
}

fn queue_stats(sim: &mut Sim) -> QueueStats {
    match sim.apply(Command::QueueStats) {
        Ok(Reply::Stats(s)) => s,
        other => panic!("{other:?}"),
    }
}

/// Standard chat: first response 30 s, warning at 80 % (24 s). A clock enters the list when
/// its warning fires, shows the time to its breach, and leaves it when it breaches.
#[test]
fn clocks_at_warning_are_listed_soonest_breach_first_until_they_breach() {
    let mut sim = Sim::new();
    let first = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.advance(Span::secs(3));
    let second = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.advance(Span::secs(22));
    let b = board(&mut sim);
    assert_eq!(
        b.stats,
        queue_stats(&mut sim),
        "the same stats as GetQueueStats"
    );
    let listed: Vec<_> = b.warnings.iter().map(|w| (w.ticket, w.time_left)).collect();
    assert_eq!(
        listed,
        vec![(first, Span::secs(5))],
        "only the first is past 24 s"
    );

    sim.advance(Span::secs(3));
    let b = board(&mut sim);
    let listed: Vec<_> = b.warnings.iter().map(|w| (w.ticket, w.time_left)).collect();
    assert_eq!(
        listed,
        vec![(first, Span::secs(2)), (second, Span::secs(5))]
    );
    assert_eq!(b.warning_counts, vec![(Channel::Chat, Tier::Standard, 2)]);
    assert!(b
        .warnings
        .iter()
        .all(|w| w.metric == SlaMetric::FirstResponse));

    sim.advance(Span::secs(3));
    let b = board(&mut sim);
    let listed: Vec<_> = b.warnings.iter().map(|w| w.ticket).collect();
    assert_eq!(
        listed,
        vec![second],
        "the first breached: no longer a warning"
    );
}

/// The counts cover every clock at warning, the list only the first `LISTED_WARNINGS`.
#[test]
fn the_list_is_bounded_and_the_counts_are_not() {
    let mut sim = Sim::new();
    let n = crate::core::board::LISTED_WARNINGS + 5;
    for _ in 0..n {
        sim.create(Tier::Vip, Channel::Chat, &[]);
    }
    // VIP chat: first response 15 s, warning at 12 s.
    sim.advance(Span::secs(13));
    let b = board(&mut sim);
    assert_eq!(b.warnings.len(), crate::core::board::LISTED_WARNINGS);
    assert_eq!(b.warning_counts, vec![(Channel::Chat, Tier::Vip, n as u32)]);
}
