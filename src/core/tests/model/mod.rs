//! A state-machine property test of the core against a reference model.
//!
//! Random sequences of commands, time jumps and restarts are applied both to the `Scheduler`
//! and to `Model`, a deliberately plain re-implementation of the scheduling rules: every pull
//! scans all tickets and takes the minimum of one sort key, loads are counted from the tickets,
//! timers are a full scan on every tick; no queues, indexes or caches. After every step the two
//! must agree on:
//! - the result of the command: the ticket it answered with, or which refusal (with its fields);
//!   for a pull the ticket handed out (or none), its lease epoch, holder and reason; for a
//!   heartbeat the presence and expiry;
//! - every ticket's state, holder, lease epoch and queue due, and for each SLA clock its
//!   target, whether it is met or paused, and the last escalation step it fired (warning, L1 =
//!   breached, L2, L3), hence the set of breached clocks;
//! - every agent's presence, last-seen instant, profile and load per channel;
//! - GetQueueStats: the service levels summed from the per-minute buckets equal a scan of every
//!   ticket (`stats_oracle`, the window in whole minutes as the buckets count it) over a
//!   minute, an hour and the longest window allowed, and the queue groups the queues keep
//!   equal those of a scan for QUEUED tickets, at now and at instants around it, forward and
//!   back (`queue_instants`); the wallboard's clocks at warning, from their index, equal a
//!   scan of every clock;
//! - a supervisor's moves (`Assign`, `Transfer` to an agent, forced or not, or to a queue
//!   with new skills): the same refusal with the same reason, and on success a later epoch
//!   for a new holder with every clock as it was, nobody holding it after a move to a queue;
//!   no ticket is ever held by two agents (the bookkeeping below);
//! - offers (one case in three draws offers on email, or on chat, email and phone, with a
//!   timeout, a number of misses that sets an agent AWAY and a re-offer delay): a pull on such
//!   a channel offers; until accepted the holder's reply, pending and resolve are refused; an
//!   accept or reject by the holder (or the refusal of anyone else's, or of a ticket not
//!   offered), a timeout that puts the ticket back in its place and counts the miss (setting
//!   an AVAILABLE agent AWAY at the limit), a rejection that keeps the ticket from that agent
//!   for the delay, and a release of an unanswered offer; the open offer's end and each
//!   agent's misses in a row are compared;
//! - the core's own bookkeeping: no ticket in two agents' holdings, holdings and loads match
//!   the tickets' assignees, exactly the QUEUED tickets are in a queue, and a refused command
//!   journals nothing.
//!
//! A restart does what the daemon does: the journal of every step is encoded with
//! `store::codec` (`Batch::from_journal`) into an in-memory key/value map, which is read back
//! the way `SledStore::load_all` reads sled, and `Scheduler::restore` builds a fresh scheduler
//! (possibly after some downtime, followed by a tick). Right after `restore` the new scheduler
//! must equal the old one in every persisted or rebuilt part (tickets, agents, loads, queue
//! slots and routing keys, ticket timers, external and request ids), the only intended
//! difference being that every agent gets a fresh presence TTL; the run then goes on with it.
//!
//! The queue order: each case draws `deadline`, `savable_first` or `savable_turns` and, for
//! the latter two, the forcing level (L1, L2 or L3); the model ranks every eligible ticket by
//! kind (forced, savable, late; under `savable_turns` a forced ticket off the agent's turn is
//! the first of the late), then due, tier and age, where the core looks at line heads and,
//! under a late head, the line's first savable ticket as the queues keep it.
//!
//! The universe: four agents with different skills, tiers and capacities (each with a second
//! profile that an upsert switches to) plus one unknown agent id; tickets of every tier on
//! chat, messenger, email and phone, every priority, neutral or negative sentiment, a handful
//! of skill sets, clashing external ids and reused request ids; one create in four an import
//! with a `created_at` from milliseconds to exactly `max_backdate` ago (its clocks count from
//! then, and the steps its age passed fire at once, each once), a little ahead (counts as
//! now), or out of bounds (refused, after a retry's answer and before the external-id
//! check); waits from milliseconds to hours, with or without heartbeats, and jumps to exactly
//! the core's next deadline or next escalation step (to hit every boundary on the
//! millisecond).
//!
//! A replica (`core::replica`) follows the run: every batch written to the disk is applied
//! to it as a warm follower applies the change log (`store::replicate`). Every third step and
//! at the end it must equal a fresh restore of the disk at now in every ticket, agent, queue
//! line and order, timer, count and figure (`tests::replica::same_as_restored`); at the end
//! it takes over and every agent pulls from it and from a fresh restore: the same tickets.
//!
//! Not covered (kept out of the generated inputs):
//! - business-hours calendars and policy changes: the default 24/7 policy, never `PutPolicy`;
//! - preferred agents and their hold window (the same window held for the agent who resolved
//!   a reopened ticket is covered: only that agent may take it, by its own skills, until the
//!   window ends or the agent goes offline); the onboarding hold (no agent has the onboarding
//!   skill, so `new`-tier tickets are never held);
//! - interim-update promises (`next_update_by` is always `None`), `RecordFollowUp` as its own
//!   command (the follow-up clock is met through an agent reply on a resolved ticket),
//!   `Update`, `CreateTickets`, `dispatch` (long-poll fairness) and the read commands;
//! - other ladders and widenings: the model knows the default ones (warning at 80 %, L1 at
//!   the target, L2 at +50 % relaxing the skills to the first and taking the ticket back from
//!   an agent who has not answered, L3 at +100 % open to any agent of any tier), not
//!   supervisors or other settings;
//! - events: the model checks state, replies and the escalation steps fired (each once), not
//!   the rest of the event stream (nor the follow-up-due event, `follow_up_due_at`);
//! - a crash between batches: every step's journal is persisted before the next step.

mod check;
mod compare;
mod harness;
mod ops;
mod reference;
mod replica;
mod rules;
mod steps;
mod universe;

use super::stats_oracle::{queue_instants, scanned_levels_of, scanned_queues, scanned_warnings};
use super::{agent_id, skills, T0};
use crate::core::command::{
    AgentProfile, Author, Command, Epoch, Lease, NewTicket, Reply, TransferTo, CLOCK_SKEW,
};
use crate::core::event::Event;
use crate::core::idempotency::Idempotency;
use crate::core::model::Ticket;
use crate::core::policy::{QueueOrder, SlaPolicy, MAX_STATS_WINDOW};
use crate::core::queue::Slot;
use crate::core::routing::RoutingKey;
use crate::core::scheduler::{CoreConfig, Recovered, Scheduler};
use crate::core::sla::Clock;
use crate::core::types::*;
use crate::core::{CoreError, Replica};
use crate::store::codec::{self, Batch};
use crate::store::replicate;
use check::*;
use compare::*;
use harness::*;
use ops::*;
use proptest::prelude::*;
use proptest::sample::select;
use reference::*;
use rules::*;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use universe::*;

fn run(ops: &[Op], policy: SlaPolicy) -> Result<(), TestCaseError> {
    let mut h = Harness::new(policy);
    h.setup()?;
    h.trace.clear();
    for (i, op) in ops.iter().enumerate() {
        h.op(op)?;
        h.persist();
        h.check()?;
        if i % 3 == 2 {
            h.check_replica()?;
        }
    }
    h.check_replica()?;
    h.replica_takes_over()
}

/// 1024 cases (about 3 s in a debug build) unless `PROPTEST_CASES` says otherwise, for a
/// longer hunt. At 256, the rarer mutations of the core tried when this test was written
/// (L2 not relaxing the skills, a stale route cache after an upsert) slipped through one run
/// in two to five.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn core_agrees_with_the_reference_model(
        ops in prop::collection::vec(op(), 1..=60),
        order in select(QueueOrder::ALL),
        force_level in select(&[Level::L1, Level::L2, Level::L3][..]),
        offers in offer_policy(),
    ) {
        // The FIFO-relative bound is off: its shadow is history the model does not keep, and a
        // restart rebuilds it differently (by design, `core::fifo_bound`); its rule has its
        // own tests (`tests::fifo_bound`).
        let fifo_bound = crate::core::fifo_bound::FifoBound::OFF;
        let policy = SlaPolicy { order, force_level, offers, fifo_bound, ..SlaPolicy::default() };
        run(&ops, policy)?;
    }
}
