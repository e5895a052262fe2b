//! The scheduler: all tickets, agents and queues, changed only through `apply` and `tick`, each
//! given `now`. It never reads a clock, spawns, sleeps or does I/O; what it changed is collected
//! in a `Journal` that the owner task persists (then reports) after every batch.

use super::archive::ArchivedKeys;
use super::collections::HashSet;
use super::command::{Command, Reply};
use super::error::CoreError;
use super::event::{Event, PolicyWrite};
use super::idempotency::{Idempotency, Requests};
use super::model::{Agent, Hold, PerChannel, Ticket};
use super::policy::SlaPolicy;
use super::queue::{Queues, Slot};
use super::roster::Roster;
use super::routing::RoutingKey;
use super::stats::Ring;
use super::table::Tickets;
use super::timers::Timers;
use super::types::{AgentId, Channel, Presence, Span, TicketId, TicketState, Tier, Ts};

pub use super::restore::{Recovered, RecoverySink, Restore, RestoreError};
pub use super::table::StateCounts;

/// Settings of the core that are not SLA policy.
#[derive(Clone, Debug, PartialEq)]
pub struct CoreConfig {
    /// Capacity per channel for agents whose profile leaves a channel out.
    pub default_capacity: PerChannel,
    /// How long a `request_id` is remembered: retries within it are answered, not applied.
    pub request_window: Span,
    /// How far back an import's `created_at` may reach.
    pub max_backdate: Span,
}

impl Default for CoreConfig {
    /// Capacity chat 3, messenger 3, email 5, phone 1, social 2, review 5; requests
    /// remembered for 24 hours; imports backdated up to 30 days.
    fn default() -> Self {
        CoreConfig {
            default_capacity: [3, 3, 5, 1, 2, 5],
            request_window: Span::hours(24),
            max_backdate: Span::hours(24 * 30),
        }
    }
}

/// Everything one batch changed: records to persist and events to report after the flush.
#[derive(Debug, Default)]
pub struct Journal {
    /// Tickets changed in the batch; after `archive_finished`, only those still in memory.
    pub tickets: Vec<TicketId>,
    /// Tickets the batch finished, moved out of memory by `archive_finished`: archived in
    /// the same commit.
    pub archived: Vec<Ticket>,
    /// Archive entries of tickets read back from the archive that changed: deleted first.
    pub unarchived: Vec<ArchivedKeys>,
    pub agents: Vec<AgentId>,
    pub idempotency: Vec<(String, Idempotency)>,
    /// Request ids forgotten in this batch (their window passed): deleted from the store.
    pub expired_requests: Vec<String>,
    pub policy: bool,
    /// Webhooks put, deleted or advanced: written, or deleted when gone.
    pub webhooks: Vec<String>,
    pub events: Vec<Event>,
    seen_agents: HashSet<AgentId>,
}

impl Journal {
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
            && self.archived.is_empty()
            && self.unarchived.is_empty()
            && self.agents.is_empty()
            && self.idempotency.is_empty()
            && self.expired_requests.is_empty()
            && !self.policy
            && self.webhooks.is_empty()
            && self.events.is_empty()
    }

    /// Whether anything must be written.
    pub fn has_writes(&self) -> bool {
        !(self.tickets.is_empty()
            && self.archived.is_empty()
            && self.unarchived.is_empty()
            && self.agents.is_empty()
            && self.idempotency.is_empty()
            && self.expired_requests.is_empty()
            && !self.policy
            && self.webhooks.is_empty())
    }

    pub(super) fn agent(&mut self, id: &AgentId) {
        if self.seen_agents.insert(id.clone()) {
            self.agents.push(id.clone());
        }
    }
}

/// Instantaneous figures for gauges.
#[derive(Clone, Debug)]
pub struct Gauges {
    pub tickets: StateCounts,
    /// Tickets in memory (unfinished, and finished ones read back for a batch).
    pub in_memory: usize,
    /// Per (tier, channel): queued tickets and the oldest one's queued-since instant.
    pub queues: Vec<(Tier, Channel, usize, Option<Ts>)>,
    pub agents: [u64; Presence::COUNT],
}

/// The state machine. Its parts are private to the core, each with a small API of its own:
/// the ticket table, the roster, the queues, the timers and the remembered requests; what a
/// batch changed collects in the journal.
pub struct Scheduler {
    pub(super) policy: SlaPolicy,
    config: CoreConfig,
    /// The tickets in memory (every unfinished one), indexed by `TicketId`.
    pub(super) tickets: Tickets,
    pub(super) agents: Roster,
    pub(super) queues: Queues,
    pub(super) timers: Timers,
    pub(super) requests: Requests,
    /// The service-level buckets: every ticket's contribution, per minute (see `stats`).
    pub(super) ring: Ring,
    /// The clocks at the warning level, by due (see `warnings`).
    pub(super) warnings: super::warnings::Warnings,
    /// The webhooks by id (see `webhook`).
    pub(super) webhooks: std::collections::BTreeMap<String, super::webhook::Webhook>,
    pub(super) journal: Journal,
}

impl Scheduler {
    pub fn new(policy: SlaPolicy, config: CoreConfig) -> Scheduler {
        Scheduler {
            policy,
            config,
            tickets: Tickets::default(),
            agents: Roster::default(),
            queues: Queues::default(),
            timers: Timers::default(),
            requests: Requests::default(),
            ring: Ring::default(),
            warnings: Default::default(),
            webhooks: Default::default(),
            journal: Journal::default(),
        }
    }

    /// Applies one command at `now`. On `Err` nothing changed and nothing is journaled.
    pub fn apply(&mut self, cmd: Command, now: Ts) -> Result<Reply, CoreError> {
        match cmd {
            Command::CreateTicket(new) => self.create(new, now).map(|t| Reply::Ticket(Box::new(t))),
            Command::CreateTickets(batch) => Ok(self.create_many(batch, now)),
            Command::GetTicket(id) => self.get(id).map(|t| Reply::Ticket(Box::new(t.clone()))),
            Command::ListTickets(filter) => Ok(self.list_tickets(&filter)),
            Command::RecordReply {
                ticket,
                author,
                next_update_by,
            } => self.record_reply(ticket, author, next_update_by, now),
            Command::RecordFollowUp { ticket, agent } => self.follow_up_done(ticket, agent, now),
            Command::SetPending { ticket, lease } => self.set_pending(ticket, &lease, now),
            Command::Resolve { ticket, lease } => self.resolve(ticket, lease.as_ref(), now),
            Command::Reopen { ticket } => self.reopen(ticket, now),
            Command::Cancel { ticket, reason } => self.cancel(ticket, reason, now),
            Command::Update { ticket, update } => self.update(ticket, update, now),
            Command::Assign {
                ticket,
                agent,
                force,
            } => self.assign_to(ticket, &agent, force, now),
            Command::Transfer { ticket, to, note } => self.transfer(ticket, to, note, now),
            Command::UpsertAgent(profile) => self.upsert_agent(profile, now),
            Command::GetAgent(id) => self.agent_view(&id),
            Command::ListAgents(filter) => Ok(self.list_agents(&filter)),
            Command::SetPresence {
                agent,
                presence,
                reason,
            } => self.set_presence(&agent, presence, reason, now),
            Command::Heartbeat(agent) => self.heartbeat(&agent, now),
            Command::Pull(agent) => self.pull(&agent, now),
            Command::Release { ticket, lease } => self.release(ticket, &lease, now),
            Command::Accept { ticket, lease } => self.accept(ticket, &lease, now),
            Command::Reject {
                ticket,
                lease,
                reason,
            } => self.reject(ticket, &lease, reason, now),
            Command::QueueStats => Ok(Reply::Stats(self.stats(now))),
            Command::Board => Ok(Reply::Board(Box::new(self.board(now)))),
            Command::Explain(id) => self
                .explain(id, now)
                .map(|e| Reply::Explanation(Box::new(e))),
            Command::GetPolicy => Ok(Reply::Policy(Box::new(self.policy.clone()))),
            Command::PutPolicy(policy) => self.put_policy(*policy, PolicyWrite::Replace, now),
            Command::PatchPolicy(patch) => {
                let write = match patch.replace {
                    true => PolicyWrite::Replace,
                    false => PolicyWrite::Merge,
                };
                self.put_policy(patch.apply_to(&self.policy), write, now)
            }
            Command::EraseCustomer(erase) => Ok(self.erase_customer(&erase, None)),
            Command::Once { key, command } => self.apply_once(key, *command, now),
            Command::EndWrapUp(agent) => self.end_wrap_up(&agent, now),
            Command::AgentStats { agent, window } => self.agent_stats(&agent, window, now),
            Command::PutWebhook(put) => self.put_webhook(put).map(|w| Reply::Webhook(Box::new(w))),
            Command::DeleteWebhook(id) => self.delete_webhook(&id).map(|()| Reply::Done),
            Command::ListWebhooks => Ok(Reply::Webhooks(self.webhooks().cloned().collect())),
            Command::WebhookProgress(p) => self.webhook_progress(p).map(|()| Reply::Done),
        }
    }

    /// The earliest instant at which `tick` has something to do.
    pub fn next_deadline(&self) -> Option<Ts> {
        self.timers.next_deadline()
    }

    /// The events journaled since the last `take_journal`, in order: the owner attributes
    /// each to whoever caused it (`server::audit`).
    pub fn journaled_events(&self) -> &[Event] {
        &self.journal.events
    }

    /// Hands over what changed since the last call.
    pub fn take_journal(&mut self) -> Journal {
        let journal = std::mem::take(&mut self.journal);
        self.tickets.unmark(&journal.tickets);
        journal
    }

    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.tickets.get(id)
    }

    pub fn agent(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.get(id)
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    pub fn policy(&self) -> &SlaPolicy {
        &self.policy
    }

    /// Requests remembered for idempotent retries.
    pub fn requests(&self) -> &Requests {
        &self.requests
    }

    /// Tickets in memory: every unfinished one (finished ones are archived).
    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }

    pub fn queued_count(&self) -> usize {
        self.queues.len()
    }

    pub fn gauges(&self) -> Gauges {
        let mut queues = Vec::with_capacity(Tier::COUNT * Channel::COUNT);
        for &tier in Tier::ALL {
            for &channel in Channel::ALL {
                let depth = self.queues.depth(tier, channel);
                queues.push((tier, channel, depth, self.queues.oldest(tier, channel)));
            }
        }
        let mut agents = [0; Presence::COUNT];
        for agent in self.agents.iter() {
            agents[agent.presence.index()] += 1;
        }
        Gauges {
            tickets: self.tickets.counts().clone(),
            in_memory: self.tickets.len(),
            queues,
            agents,
        }
    }

    // ---- shared mechanics -------------------------------------------------------------

    pub(super) fn get(&self, id: TicketId) -> Result<&Ticket, CoreError> {
        self.ticket(id).ok_or(CoreError::TicketNotFound(id))
    }

    /// Puts a ticket in the queue at `now`: QUEUED, queued-since now, and inside a hold window
    /// for its preferred agent when that agent is around.
    pub(super) fn enqueue(&mut self, id: TicketId, now: Ts) {
        self.tickets.set_state(id, TicketState::Queued);
        let hold = self.hold_for(id, now);
        let t = self.tickets.edit(id);
        t.queued_at = now;
        t.hold = hold.map(Box::new);
    }

    /// The hold window of a ticket entering the queue at `now`: for its preferred agent when
    /// that agent is around, else, for a new customer, for an agent with the onboarding skill
    /// when one is around; never past the ticket's due.
    pub(super) fn hold_for(&self, id: TicketId, now: Ts) -> Option<Hold> {
        let t = &self.tickets[id];
        let until = now
            .plus(self.policy.preferred_hold)
            .min(t.due().unwrap_or(Ts::MAX));
        if until <= now {
            return None;
        }
        let around = |a: &Agent| a.presence != Presence::Offline;
        let preferred = t.preferred_agent.as_ref().and_then(|a| self.agents.get(a));
        if preferred.is_some_and(around) {
            return Some(Hold::Preferred { until });
        }
        let skill = self.policy.onboarding_skill.as_str();
        let onboarding = t.tier == Tier::New
            && !skill.is_empty()
            && self
                .agents
                .iter()
                .any(|a| around(a) && a.skills.contains(skill));
        onboarding.then_some(Hold::Onboarding { until })
    }

    /// The hold window of a ticket reopened at `now`: for the agent who resolved it, when that
    /// agent is around, for the preferred-agent window; never past the ticket's due.
    pub(super) fn resolver_hold(&self, id: TicketId, now: Ts) -> Option<Hold> {
        let t = &self.tickets[id];
        let resolver = self.agents.get(t.resolved_by()?)?;
        let until = now
            .plus(self.policy.preferred_hold)
            .min(t.due().unwrap_or(Ts::MAX));
        (resolver.presence != Presence::Offline && until > now).then_some(Hold::Resolver { until })
    }

    /// Places a QUEUED ticket in the queue its state calls for at `now` (moving it if needed).
    pub(super) fn place(&mut self, id: TicketId, now: Ts) {
        let slot = self.slot_for(id, now);
        let force = self.policy.forcing();
        self.queues.push(&self.tickets[id], slot, force);
    }

    /// Returns a ticket `Queues::set_aside` took out for one pull, FIFO's shadow untouched.
    pub(super) fn put_back(&mut self, id: TicketId, now: Ts) {
        let slot = self.slot_for(id, now);
        let force = self.policy.forcing();
        self.queues.put_back(&self.tickets[id], slot, force);
    }

    /// The queue a QUEUED ticket belongs in at `now` (its routing key is computed and cached;
    /// its time ring is noted for the timer, see `rings`).
    pub(super) fn slot_for(&mut self, id: TicketId, now: Ts) -> Slot {
        let ring = self.policy.rings.at(self.tickets[id].queued_at, now);
        self.tickets.set_ring(id, ring);
        let t = &self.tickets[id];
        match t.held_for() {
            Some(agent) => Slot::Held(agent.clone()),
            _ => {
                let facts = (t.escalation(), t.hold.is_some());
                match self.tickets.route(id, facts) {
                    Some(key) => Slot::Key(key),
                    None => {
                        let key = RoutingKey::for_ticket(t, &self.policy, ring);
                        let key = self.queues.key_id(key);
                        self.tickets.set_route(id, facts, key);
                        Slot::Key(key)
                    }
                }
            }
        }
    }

    /// Records that the ticket changed in this batch.
    pub(super) fn mark(&mut self, id: TicketId) {
        if self.tickets.mark(id) {
            self.journal.tickets.push(id);
        }
    }

    /// After any change to a ticket: journal it, re-place it if queued, re-arm its timer and
    /// recount its service-level contribution.
    pub(super) fn settle(&mut self, id: TicketId, now: Ts) {
        self.tickets.edit(id).updated_at = now;
        self.mark(id);
        if self.tickets[id].state == TicketState::Queued {
            self.place(id, now);
        } else {
            self.queues.remove(id);
        }
        self.reschedule(id);
        self.recount(id, now);
    }

    /// Hands the ticket back: no holder, a new lease epoch, the agent's capacity freed.
    pub(super) fn unassign(&mut self, id: TicketId, now: Ts) {
        let t = self.tickets.edit(id);
        let channel = t.channel;
        if let Some(agent) = t.tenure.revoke() {
            self.agents.drop_hold(&agent, id, channel);
            self.note_busy(&agent, now);
        }
        self.end_offer(id);
    }

    /// Checks that `lease` is the current lease of ticket `id` and, if the ticket was
    /// offered, that the offer was accepted: an agent acts only on what it took.
    pub(super) fn check_lease(
        &self,
        id: TicketId,
        lease: &super::command::Lease,
    ) -> Result<&Ticket, CoreError> {
        let t = self.check_held(id, lease)?;
        match t.offer() {
            Some(_) => Err(CoreError::OfferOpen {
                ticket: id,
                agent: lease.agent.clone(),
            }),
            None => Ok(t),
        }
    }

    /// Checks that `lease` is the current lease of ticket `id`, offered or not.
    pub(super) fn check_held(
        &self,
        id: TicketId,
        lease: &super::command::Lease,
    ) -> Result<&Ticket, CoreError> {
        let t = self.get(id)?;
        if !self.agents.contains(&lease.agent) {
            return Err(CoreError::AgentNotFound(lease.agent.clone()));
        }
        if !t.tenure.holds(lease) {
            return Err(CoreError::StaleLease {
                ticket: id,
                agent: lease.agent.clone(),
                epoch: lease.epoch,
            });
        }
        Ok(t)
    }

    fn put_policy(
        &mut self,
        policy: SlaPolicy,
        write: PolicyWrite,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        policy.validate()?;
        self.policy = policy;
        self.journal.policy = true;
        self.journal.events.push(Event::PolicyChanged { write });
        let open: Vec<TicketId> = self
            .tickets
            .iter()
            .filter(|t| t.state.is_open())
            .map(|t| t.id)
            .collect();
        for id in open {
            self.tickets.retarget(id, &self.policy);
            self.settle(id, now);
        }
        for id in &self.agents.ids() {
            self.reschedule_agent(id);
        }
        Ok(Reply::Policy(Box::new(self.policy.clone())))
    }
}
