//! Recovery: the scheduler rebuilt from persisted records, streamed in one at a time.
//!
//! The store walks its records and hands each to a `RecoverySink` as it decodes it, so a boot
//! never holds a second copy of every record: `Restore` (from `Scheduler::restoring`) puts
//! each straight into the tables, queues and timers it belongs in. The sink's contract is the
//! order the store reads in: the policy first, then agents, then tickets by ascending id
//! (sled keys are big-endian ids), with the remembered requests anywhere among them (the store
//! reads them on a thread of their own), then the highest id issued.
//! `Recovered` is the other sink: every record collected in memory, for tests and tools.

use super::idempotency::{Idempotency, Requests};
use super::intern::Shares;
use super::model::{Agent, Ticket};
use super::policy::SlaPolicy;
use super::scheduler::{CoreConfig, Scheduler};
use super::types::{AgentId, TicketId, TicketState, Ts};
use super::webhook::Webhook;

/// Where recovered records go, in the order the store reads them: `policy` (when one is
/// stored), every `agent`, every `ticket` by ascending id, and last `last_ticket`; every
/// `request` comes somewhere between `expect` and `last_ticket`, interleaved with the agents
/// and tickets.
pub trait RecoverySink {
    /// The stored SLA policy: before any agent or ticket, and only when one was stored.
    fn policy(&mut self, policy: SlaPolicy);
    /// A stored webhook, after the policy and before any agent.
    fn webhook(&mut self, hook: Webhook);
    /// About how many tickets and requests follow, before any of them, when the store knows:
    /// a hint to size tables by, never a promise.
    fn expect(&mut self, _tickets: usize, _requests: usize) {}
    /// Interners for the values tickets share (customer ids, skill sets), for the store to
    /// decode tickets with (`Shares::decoding`) before the first one comes: every `ticket`
    /// until `adopt_shares` then carries the shared copies. `None` (the default): the sink
    /// shares them itself.
    fn lend_shares(&mut self) -> Option<Shares> {
        None
    }
    /// The interners `lend_shares` handed out, back after the last ticket.
    fn adopt_shares(&mut self, _shares: Shares) {}
    fn agent(&mut self, agent: Agent);
    /// A ticket that was in memory when the store was written. Refused when it breaks the
    /// order (ids not ascending) or names a holder that was not read as an agent.
    fn ticket(&mut self, ticket: Ticket) -> Result<(), RestoreError>;
    /// A remembered request, in any order of time, before or after any agent or ticket.
    fn request(&mut self, id: &str, entry: Idempotency);
    /// Remembered requests already indexed (a store may build the index on a thread of its
    /// own), at any point where `request` may come. By default, each in turn.
    fn requests(&mut self, built: Requests) {
        for (id, entry) in built.into_entries() {
            self.request(&id, entry);
        }
    }
    /// The highest ticket id ever issued (archived tickets included), 0 if none.
    fn last_ticket(&mut self, id: u64);
}

/// The records read back from the store, collected in memory (`Store::load_all`): for tests
/// and tools. A boot streams them into `Scheduler::restoring` instead.
#[derive(Debug, Default)]
pub struct Recovered {
    pub policy: Option<SlaPolicy>,
    pub webhooks: Vec<Webhook>,
    /// The tickets in memory when the store was written: every unfinished one.
    pub tickets: Vec<Ticket>,
    /// The highest ticket id ever issued (archived tickets included), 0 if none.
    pub last_ticket: u64,
    pub agents: Vec<Agent>,
    pub idempotency: Vec<(String, Idempotency)>,
}

impl RecoverySink for Recovered {
    fn policy(&mut self, policy: SlaPolicy) {
        self.policy = Some(policy);
    }
    fn webhook(&mut self, hook: Webhook) {
        self.webhooks.push(hook);
    }
    fn agent(&mut self, agent: Agent) {
        self.agents.push(agent);
    }
    fn ticket(&mut self, ticket: Ticket) -> Result<(), RestoreError> {
        self.tickets.push(ticket);
        Ok(())
    }
    fn request(&mut self, id: &str, entry: Idempotency) {
        self.idempotency.push((id.to_owned(), entry));
    }
    fn last_ticket(&mut self, id: u64) {
        self.last_ticket = id;
    }
}

impl Recovered {
    /// Feeds every record to `sink` in the sink's order (tickets sorted by id first: records
    /// collected by hand may come in any order).
    pub fn replay(mut self, sink: &mut dyn RecoverySink) -> Result<(), RestoreError> {
        if let Some(policy) = self.policy {
            sink.policy(policy);
        }
        for hook in self.webhooks {
            sink.webhook(hook);
        }
        for agent in self.agents {
            sink.agent(agent);
        }
        self.tickets.sort_by_key(|t| t.id);
        for ticket in self.tickets {
            sink.ticket(ticket)?;
        }
        for (id, entry) in self.idempotency {
            sink.request(&id, entry);
        }
        sink.last_ticket(self.last_ticket);
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("ticket {ticket} is held by unknown agent {agent:?}")]
    UnknownHolder { ticket: TicketId, agent: AgentId },
    #[error(
        "ticket {ticket} was read after ticket {after}: records must come in ascending id order"
    )]
    OutOfOrder { ticket: TicketId, after: TicketId },
}

/// The most entries a size hint reserves room for: a damaged hint must not take all memory
/// (more than this grow as they come).
const MOST_RESERVED: usize = 1 << 24;

/// A scheduler being rebuilt from streamed records (a `RecoverySink`); `finish` hands it over.
pub struct Restore {
    s: Scheduler,
    now: Ts,
    /// The policy read from the store, if any (the caller's default is in force otherwise).
    stored_policy: Option<SlaPolicy>,
    /// Whether the agents read so far have their presence timers: done once, before the
    /// first ticket (or at `finish`), as a batch.
    agents_scheduled: bool,
    /// The id of the last ticket restored: each next one must be higher.
    last_id: Option<TicketId>,
    last_ticket: u64,
    /// Whether the table's interners are lent out (`lend_shares`): tickets then come shared.
    lent: bool,
}

impl Scheduler {
    /// Starts rebuilding a scheduler from records streamed into the returned `Restore`: queues,
    /// leases, loads, timers and the service-level buckets (every restored ticket is counted;
    /// archived ones are added with `count_archived`). `default_policy` is in force unless the
    /// store hands over its own. Steps that fell due while the daemon was down fire on the
    /// first `tick`. Agents get a fresh presence TTL from `now`: heartbeats are not persisted,
    /// so a live agent must not be expired for the gap.
    pub fn restoring(default_policy: SlaPolicy, config: CoreConfig, now: Ts) -> Restore {
        let mut s = Scheduler::new(default_policy, config);
        s.ring.advance(now);
        s.queues.stage();
        s.timers.stage();
        Restore {
            s,
            now,
            stored_policy: None,
            agents_scheduled: false,
            last_id: None,
            last_ticket: 0,
            lent: false,
        }
    }

    /// Rebuilds the scheduler from records collected in memory (see `restoring`).
    pub fn restore(
        default_policy: SlaPolicy,
        config: CoreConfig,
        rec: Recovered,
        now: Ts,
    ) -> Result<Scheduler, RestoreError> {
        let mut restore = Scheduler::restoring(default_policy, config, now);
        rec.replay(&mut restore)?;
        Ok(restore.finish())
    }
}

impl Scheduler {
    /// Sizes the tables that hold an entry per ticket or request for this many, so that a
    /// recovery does not grow them step by step (each step rehashes and faults in a table
    /// twice the size). The ticket table itself grows by chunks, and the queues' lines and the
    /// timers are B-trees: they need no room ahead.
    fn reserve(&mut self, tickets: usize, requests: usize) {
        self.tickets.reserve(tickets);
        self.queues.reserve(tickets);
        self.requests.reserve(requests);
    }
}

impl Scheduler {
    /// Counts a restored ticket against its holder's load; refused when the holder was not
    /// read as an agent.
    pub(super) fn count_holding(&mut self, ticket: &Ticket) -> Result<(), RestoreError> {
        if let Some(holder) = ticket.holder() {
            let agent = self
                .agents
                .get_mut(holder)
                .ok_or_else(|| RestoreError::UnknownHolder {
                    ticket: ticket.id,
                    agent: holder.clone(),
                })?;
            agent.hold(ticket.id, ticket.channel);
        }
        Ok(())
    }
}

impl Restore {
    /// The policy the store held, if it held one.
    pub fn stored_policy(&self) -> Option<&SlaPolicy> {
        self.stored_policy.as_ref()
    }

    /// The rebuilt scheduler: the queues and timers built from everything restored,
    /// numbering continues past the highest id issued, and the remembered requests expire
    /// oldest first.
    pub fn finish(mut self) -> Scheduler {
        self.schedule_agents();
        self.s.queues.unstage();
        self.s.timers.unstage();
        self.s
            .tickets
            .issued_before(TicketId(self.last_ticket.saturating_add(1)));
        self.s.restored_requests(self.now);
        self.s
    }

    /// Arms the presence timer of every agent read so far, once.
    fn schedule_agents(&mut self) {
        if std::mem::replace(&mut self.agents_scheduled, true) {
            return;
        }
        for id in &self.s.agents.ids() {
            self.s.reschedule_agent(id);
        }
    }
}

impl RecoverySink for Restore {
    fn policy(&mut self, policy: SlaPolicy) {
        debug_assert!(self.last_id.is_none(), "the policy comes before any ticket");
        self.s.policy = policy.clone();
        self.stored_policy = Some(policy);
    }

    fn webhook(&mut self, hook: Webhook) {
        self.s.restore_webhook(hook);
    }

    fn expect(&mut self, tickets: usize, requests: usize) {
        self.s
            .reserve(tickets.min(MOST_RESERVED), requests.min(MOST_RESERVED));
    }

    fn lend_shares(&mut self) -> Option<Shares> {
        if self.lent {
            return None;
        }
        self.lent = true;
        Some(self.s.tickets.lend_shares())
    }

    fn adopt_shares(&mut self, shares: Shares) {
        if std::mem::replace(&mut self.lent, false) {
            self.s.tickets.adopt_shares(shares);
        }
    }

    fn agent(&mut self, mut agent: Agent) {
        agent.last_seen = agent.last_seen.max(self.now);
        agent.activity.restored(self.now);
        // The cache of routing keys names keys of the scheduler it came from: a record has
        // none, but an agent handed over in memory (tests) must not bring ids this one lacks.
        agent.routes = Default::default();
        let id = agent.id.clone();
        self.s.agents.insert(agent);
        if self.agents_scheduled {
            // Read after tickets (not the store's order): armed on its own.
            self.s.reschedule_agent(&id);
        }
    }

    fn ticket(&mut self, mut ticket: Ticket) -> Result<(), RestoreError> {
        if let Some(after) = self.last_id.filter(|&last| ticket.id <= last) {
            return Err(RestoreError::OutOfOrder {
                ticket: ticket.id,
                after,
            });
        }
        self.schedule_agents();
        let s = &mut self.s;
        // Calendars are derived from the policy, not persisted with each clock.
        ticket.retarget(&s.policy);
        s.count_holding(&ticket)?;
        let (id, queued) = (ticket.id, ticket.state == TicketState::Queued);
        let finished = ticket.is_finished();
        if self.lent {
            s.tickets.restore_shared(ticket);
        } else {
            s.tickets.restore(ticket);
        }
        self.last_id = Some(id);
        if queued {
            // Ids only go up: no restored ticket is in a queue yet.
            let slot = s.slot_for(id, self.now);
            s.queues.push_new(&s.tickets[id], slot, s.policy.forcing());
        }
        s.reschedule(id);
        s.recount(id, self.now);
        if finished {
            // A store written before the archive existed keeps finished tickets among
            // its live records: the first commit after the boot archives them.
            s.mark(id);
        }
        Ok(())
    }

    fn request(&mut self, id: &str, entry: Idempotency) {
        self.s.restore_request(id, entry);
    }

    fn requests(&mut self, built: Requests) {
        self.s.restore_requests(built);
    }

    fn last_ticket(&mut self, id: u64) {
        self.last_ticket = self.last_ticket.max(id);
    }
}
