//! A replica: a scheduler kept in step with another node's stored records, so that a warm
//! follower takes over with a scheduler already built instead of rebuilding one (README
//! "High availability").
//!
//! It starts as a restored scheduler (`Scheduler::restoring`, then `Replica::new`) and is
//! moved forward one stored record at a time, in any order of ids: a ticket put or replaced
//! in any state, a ticket removed (archived), an agent, the policy, a remembered request put
//! or forgotten, the highest id issued. Each keeps every derived part (the ticket table and
//! its counts and external ids, queues, agents' holdings and loads, timers, the
//! service-level buckets) as a restore of the same records would build it. What a restore
//! derives from the instant it runs at (agents' fresh presence TTL, tickets' time rings) is
//! brought to that instant by `resume`, which `take_over` does before it hands the scheduler
//! over. The replica never journals: it only follows what another node journaled.
//!
//! Guaranteed: after `resume(now)`, the scheduler equals `Scheduler::restore` of the current
//! records at `now` in every ticket and agent, queue order, timer and figure, except for
//! the counters that order agents by their last assignment since boot, which both start at
//! 0 (tested in `core::tests::model`). The service-level buckets hold what the records in
//! memory contribute: as after a restore, the recent archive is counted by the caller.

use super::idempotency::Idempotency;
use super::model::{Agent, Ticket};
use super::policy::SlaPolicy;
use super::restore::{Restore, RestoreError};
use super::scheduler::Scheduler;
use super::types::{TicketId, TicketState, Ts};
use super::webhook::Webhook;

/// A restored scheduler that follows stored records (see the module documentation).
pub struct Replica {
    s: Scheduler,
    /// The policy the records hold, if they hold one (else the restore's default is in force).
    stored_policy: Option<SlaPolicy>,
}

impl Replica {
    /// Follows on from a restore that read every record; what it journaled (records of an
    /// older release to rewrite) is the leader's to write, and is dropped.
    pub fn new(restore: Restore) -> Replica {
        let stored_policy = restore.stored_policy().cloned();
        let mut s = restore.finish();
        drop(s.take_journal());
        Replica { s, stored_policy }
    }

    /// The policy the records hold, if they hold one (see `Restore::stored_policy`).
    pub fn stored_policy(&self) -> Option<&SlaPolicy> {
        self.stored_policy.as_ref()
    }

    /// The scheduler as the records applied so far make it (`resume` not applied).
    pub fn scheduler(&self) -> &Scheduler {
        &self.s
    }

    /// Puts a ticket record, new or replacing the one in memory, in any state, as a restore
    /// at `now` would file it. Refused (nothing changed but the old record's removal) when
    /// it names a holder that is not an agent: the records then do not hold together, and
    /// the caller rebuilds from the store.
    pub fn put_ticket(&mut self, mut ticket: Ticket, now: Ts) -> Result<(), RestoreError> {
        let id = ticket.id;
        self.remove_ticket(id);
        let s = &mut self.s;
        ticket.retarget(&s.policy);
        s.count_holding(&ticket)?;
        let queued = ticket.state == TicketState::Queued;
        s.tickets.restore(ticket);
        if queued {
            let slot = s.slot_for(id, now);
            s.queues.push_new(&s.tickets[id], slot, s.policy.forcing());
        }
        s.reschedule(id);
        s.recount(id, now);
        Ok(())
    }

    /// Takes a ticket out (its record was removed: archived): out of its queue, its timer,
    /// its holder's load and the service-level buckets. Nothing for a ticket not in memory.
    pub fn remove_ticket(&mut self, id: TicketId) {
        let s = &mut self.s;
        let Some(t) = s.tickets.get(id) else {
            return;
        };
        if let Some(agent) = t.holder().and_then(|h| s.agents.get_mut(h)) {
            agent.drop_hold(id, t.channel);
        }
        s.queues.remove(id);
        s.arm(id, None);
        s.warnings.forget(id);
        s.uncount(id);
        s.tickets.take(id);
    }

    /// Puts an agent record, new or replacing the one in memory; the tickets it holds stay
    /// counted against it (holdings are derived from the tickets).
    pub fn put_agent(&mut self, mut agent: Agent) {
        let s = &mut self.s;
        if let Some(old) = s.agents.get_mut(&agent.id) {
            agent.holding = std::mem::take(&mut old.holding);
            agent.load = old.load;
        }
        agent.routes = Default::default();
        let id = agent.id.clone();
        s.agents.insert(agent);
        s.reschedule_agent(&id);
    }

    /// Puts the policy in force: every ticket's calendars, queue place, timer and
    /// contribution, and every agent's timer, derived again from it.
    pub fn put_policy(&mut self, policy: SlaPolicy, now: Ts) {
        self.stored_policy = Some(policy.clone());
        let s = &mut self.s;
        s.policy = policy;
        let ids: Vec<TicketId> = s.tickets.iter().map(|t| t.id).collect();
        for id in ids {
            s.tickets.retarget(id, &s.policy);
            if s.tickets[id].state == TicketState::Queued {
                s.place(id, now);
            }
            s.reschedule(id);
            s.recount(id, now);
        }
        for id in &s.agents.ids() {
            s.reschedule_agent(id);
        }
    }

    /// Puts a remembered request, new or replacing the entry remembered under `id`.
    pub fn put_request(&mut self, id: &str, entry: Idempotency) {
        self.s.requests.put(id, entry);
    }

    /// Forgets a remembered request (its window passed on the leader).
    pub fn remove_request(&mut self, id: &str) {
        self.s.requests.forget(id);
    }

    /// Puts a webhook's definition and cursor, new or replacing the one stored under its id.
    pub fn put_webhook(&mut self, hook: Webhook) {
        self.s.restore_webhook(hook);
    }

    /// Forgets a deleted webhook.
    pub fn remove_webhook(&mut self, id: &str) {
        self.s.webhooks.remove(id);
    }

    /// The highest ticket id ever issued is at least `id`: numbering continues past it.
    pub fn raise_last_ticket(&mut self, id: u64) {
        self.s.tickets.issued_before(TicketId(id.saturating_add(1)));
    }

    /// Brings what a restore derives from its instant to `now`: every agent gets a fresh
    /// presence TTL from `now` (heartbeats are not stored), queued tickets whose time ring
    /// changed since they were put move to the queue of their ring, the buckets' window
    /// ends at `now`, and the remembered requests are in the order they expire in.
    pub fn resume(&mut self, now: Ts) {
        let s = &mut self.s;
        s.ring.advance(now);
        for id in &s.agents.ids() {
            if let Some(agent) = s.agents.get_mut(id) {
                agent.last_seen = agent.last_seen.max(now);
                agent.activity.restored(now);
            }
            s.reschedule_agent(id);
        }
        if !s.policy.rings.is_empty() {
            let moved: Vec<TicketId> = (s.queues.queued())
                .filter(|&id| {
                    let ring = s.policy.rings.at(s.tickets[id].queued_at, now);
                    ring != s.tickets.ring(id)
                })
                .collect();
            for id in moved {
                s.place(id, now);
                s.reschedule(id);
            }
        }
        s.requests.sort_if_unsorted();
    }

    /// The scheduler, brought to `now` (`resume`), to lead with.
    pub fn take_over(mut self, now: Ts) -> Scheduler {
        self.resume(now);
        self.s
    }
}
