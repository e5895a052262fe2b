//! Ticket lifecycle: QUEUED → ASSIGNED → (PENDING ⇄ ASSIGNED) → RESOLVED, reopen back to
//! QUEUED with a fresh resolution clock, CANCELLED from any open state. Every command checks
//! all it needs before it changes anything.

use super::command::{began, Author, Lease, NewTicket, Reply, TicketFilter, TicketUpdate};
use super::error::CoreError;
use super::event::{Event, RequeueReason, TicketField};
use super::idempotency::{create_fingerprint, Outcome, RequestKey};
use super::lease::Tenure;
use super::model::{Extras, Ticket};
use super::scheduler::Scheduler;
use super::sla::Clock;
use super::types::{
    AgentId, CancelReason, OptTs, Party, SlaMetric, Span, TicketId, TicketState, Ts,
};
use std::sync::Arc;

/// The furthest an agent may promise the next update: a promise a year out is no promise, and
/// its clock would sit in the timers for nothing.
const MAX_PROMISE: Span = Span::hours(24 * 366);

impl Scheduler {
    pub(super) fn create(&mut self, new: NewTicket, now: Ts) -> Result<Ticket, CoreError> {
        let key = RequestKey {
            fingerprint: create_fingerprint(&new),
            id: new.request_id,
        };
        if let Some(Reply::Ticket(seen)) = self.replay(&key)? {
            return Ok(*seen);
        }
        let created_at = began(new.created_at, now, self.config().max_backdate)?;
        if let Some(ticket) = self.tickets.by_external(&new.external_id) {
            return Err(CoreError::ExternalIdTaken {
                external_id: new.external_id,
                ticket,
            });
        }
        let id = self.tickets.next_id();
        let mut ticket = Ticket {
            id,
            external_id: Arc::from(new.external_id),
            customer_id: Arc::from(new.customer_id),
            tier: new.tier,
            channel: new.channel,
            priority: new.priority,
            sentiment: new.sentiment,
            skills: new.skills,
            preferred_agent: new.preferred_agent,
            state: TicketState::Queued,
            tenure: Tenure::default(),
            created_at,
            updated_at: now,
            queued_at: now,
            hold: None,
            first_response: Clock::start(SlaMetric::FirstResponse, created_at, Default::default()),
            next_reply: None,
            interim: None,
            resolution: Clock::start(SlaMetric::Resolution, created_at, Default::default()),
            follow_up: None,
            follow_up_due_at: OptTs::NONE,
            first_assigned_at: OptTs::NONE,
            reopens: 0,
            resolved_at: OptTs::NONE,
            cancel_reason: None,
            first_skill: new.first_skill,
            extras: Extras::with_needs(new.needs),
        };
        ticket.retarget(&self.policy);
        self.remember_outcome(key, Outcome::Ticket(id), now);
        let (tier, channel) = (ticket.tier, ticket.channel);
        self.tickets.push(ticket);
        self.enqueue(id, now);
        // `enqueue` stamps `now`; an import has waited since it began.
        self.tickets.edit(id).queued_at = created_at;
        self.settle(id, now);
        self.journal.events.push(Event::Created {
            ticket: id,
            tier,
            channel,
        });
        if created_at < now {
            // An import: the steps its age has passed fire now, once each, before any agent
            // can be handed it (a later L2 would take it back from them at once).
            self.ticket_due(id, now);
        }
        Ok(self.get(id)?.clone())
    }

    /// Each create on its own: a refused one changes nothing and the rest go on.
    pub(super) fn create_many(&mut self, batch: Vec<NewTicket>, now: Ts) -> Reply {
        Reply::Created(batch.into_iter().map(|new| self.create(new, now)).collect())
    }

    pub(super) fn record_reply(
        &mut self,
        id: TicketId,
        author: Author,
        next_update_by: Option<Ts>,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        match author {
            Author::Agent(lease) if self.get(id)?.state == TicketState::Resolved => {
                self.check_resolved_under(id, &lease)?;
                self.follow_up_done(id, Some(lease.agent), now)
            }
            Author::Agent(lease) => self.agent_reply(id, &lease, next_update_by, now),
            Author::Customer => self.customer_message(id, now),
            Author::OnBehalf(agent) => self.reply_on_behalf(id, agent, next_update_by, now),
        }
    }

    /// An agent's message on a resolved ticket counts as the check-back only if it names the
    /// lease the ticket was resolved under (the epoch before the ticket's current one) and an
    /// agent that exists. Who held that lease is not recorded, so the epoch is the proof: a
    /// stale or invented one is refused.
    fn check_resolved_under(&self, id: TicketId, lease: &Lease) -> Result<(), CoreError> {
        if !self.agents.contains(&lease.agent) {
            return Err(CoreError::AgentNotFound(lease.agent.clone()));
        }
        if !self.get(id)?.tenure.ended(lease) {
            return Err(CoreError::StaleLease {
                ticket: id,
                agent: lease.agent.clone(),
                epoch: lease.epoch,
            });
        }
        Ok(())
    }

    /// An agent's reply meets the first-response clock, the next-reply clock a customer
    /// message started, and any interim-update promise; it may make a new promise.
    fn agent_reply(
        &mut self,
        id: TicketId,
        lease: &Lease,
        next_update_by: Option<Ts>,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        self.check_lease(id, lease)?;
        let replied = Event::Replied {
            ticket: id,
            from: Party::Agent,
            agent: Some(lease.agent.clone()),
        };
        self.agent_replied(id, &lease.agent, replied, next_update_by, now)
    }

    /// A reply of `agent` recorded without a lease: any open ticket, whoever holds it (or
    /// nobody). It meets the clocks exactly as the holder's reply would; the holder and the
    /// lease epoch stay as they are.
    fn reply_on_behalf(
        &mut self,
        id: TicketId,
        agent: AgentId,
        next_update_by: Option<Ts>,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let t = self.get(id)?;
        if !self.agents.contains(&agent) {
            return Err(CoreError::AgentNotFound(agent));
        }
        if !t.state.is_open() {
            return Err(wrong_state(t, "a reply on behalf", "open"));
        }
        let replied = Event::RepliedOnBehalf {
            ticket: id,
            agent: agent.clone(),
        };
        self.agent_replied(id, &agent, replied, next_update_by, now)
    }

    /// What an agent's reply does, once its author is checked: `replied` is reported, the
    /// clocks waiting for an agent are met (a first response counts in the author's stats),
    /// and `next_update_by` (checked here) is promised.
    fn agent_replied(
        &mut self,
        id: TicketId,
        author: &AgentId,
        replied: Event,
        next_update_by: Option<Ts>,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        if next_update_by.is_some_and(|by| by <= now) {
            return Err(CoreError::PromiseNotInFuture);
        }
        if next_update_by.is_some_and(|by| by > now.plus(MAX_PROMISE)) {
            let days = MAX_PROMISE.0 / Span::hours(24).0;
            return Err(CoreError::PromiseTooFar { days });
        }
        self.journal.events.push(replied);
        if let Some(within) = self.meet(id, SlaMetric::FirstResponse, now) {
            self.note_answered(author, within, now);
        }
        for metric in [SlaMetric::NextReply, SlaMetric::InterimUpdate] {
            self.meet(id, metric, now);
        }
        if let Some(by) = next_update_by {
            let promise = Clock::start(SlaMetric::InterimUpdate, now, by.since(now));
            self.tickets.edit(id).interim = Some(Box::new(promise));
        }
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// Stops the ticket's `metric` clock as met at `now` and reports it, if it was running;
    /// answers whether it was within target then.
    fn meet(&mut self, id: TicketId, metric: SlaMetric, now: Ts) -> Option<bool> {
        let t = self.tickets.edit(id);
        let (tier, channel) = (t.tier, t.channel);
        let met = t.clock_mut(metric).and_then(|c| c.meet(now));
        if let Some(m) = &met {
            self.journal.events.push(Event::ClockMet {
                ticket: id,
                metric,
                tier,
                channel,
                elapsed: m.elapsed,
                within: m.within,
            });
        }
        met.map(|m| m.within)
    }

    /// The check-back after resolution happened: the follow-up clock is met.
    pub(super) fn follow_up_done(
        &mut self,
        id: TicketId,
        agent: Option<AgentId>,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let t = self.get(id)?;
        if t.state != TicketState::Resolved {
            return Err(wrong_state(t, "a follow-up", "resolved"));
        }
        if t.follow_up.as_ref().is_none_or(|c| c.is_met()) {
            return Err(CoreError::NoFollowUp(id));
        }
        if let Some(agent) = &agent {
            if !self.agents.contains(agent) {
                return Err(CoreError::AgentNotFound(agent.clone()));
            }
        }
        self.journal.events.push(Event::Replied {
            ticket: id,
            from: Party::Agent,
            agent,
        });
        self.meet(id, SlaMetric::FollowUp, now);
        self.tickets.edit(id).follow_up_due_at = OptTs::NONE;
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// A customer message waits for an answer: it starts a next-reply clock (once the first
    /// response is in) and brings a PENDING ticket back to ASSIGNED.
    fn customer_message(&mut self, id: TicketId, now: Ts) -> Result<Reply, CoreError> {
        let t = self.get(id)?;
        if !t.state.is_open() {
            return Err(wrong_state(
                t,
                "a customer message",
                "open (reopen it first)",
            ));
        }
        let waiting = t.next_reply.as_ref().is_some_and(|c| !c.is_met());
        let start_next = t.first_response.is_met() && !waiting;
        let next_reply = t.new_clock(&self.policy, SlaMetric::NextReply, now);
        let pending = t.state == TicketState::Pending;
        self.journal.events.push(Event::Replied {
            ticket: id,
            from: Party::Customer,
            agent: None,
        });
        if pending {
            self.tickets.set_state(id, TicketState::Assigned);
            self.resume_resolution(id, now);
        }
        if start_next {
            self.tickets.edit(id).next_reply = Some(Box::new(next_reply));
        }
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// PENDING: waiting on the customer, which pauses the resolution clock.
    pub(super) fn set_pending(
        &mut self,
        id: TicketId,
        lease: &Lease,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let t = self.check_lease(id, lease)?;
        if t.state != TicketState::Assigned {
            return Err(wrong_state(t, "set pending", "assigned"));
        }
        // Waiting on the customer needs something for the customer to answer; it would also
        // stop an unanswered ticket from escalating away from an agent who never replied.
        if !t.first_response.is_met() {
            return Err(wrong_state(t, "set pending", "answered first"));
        }
        self.tickets.set_state(id, TicketState::Pending);
        if self.tickets.edit(id).resolution.pause(now) {
            self.journal.events.push(Event::Paused {
                ticket: id,
                metric: SlaMetric::Resolution,
            });
        }
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    pub(super) fn resolve(
        &mut self,
        id: TicketId,
        lease: Option<&Lease>,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let t = match lease {
            Some(lease) => self.check_lease(id, lease)?,
            None => self.get(id)?,
        };
        if !t.state.is_open() {
            return Err(wrong_state(t, "resolve", "open"));
        }
        let (tier, channel) = (t.tier, t.channel);
        let follow_up = t.new_clock(&self.policy, SlaMetric::FollowUp, now);
        let follow_up_due_at = follow_up.counted_until(self.policy.follow_up_after);
        let resolver = t.holder().cloned();
        if let Some(agent) = &resolver {
            let handle = now.since(t.first_assigned_at.get().unwrap_or(now));
            self.start_wrap_up(agent, id, channel, now);
            self.note_handled(agent, handle, now);
        }
        self.close(id, TicketState::Resolved, now);
        self.meet(id, SlaMetric::Resolution, now);
        self.meet(id, SlaMetric::InterimUpdate, now);
        let t = self.tickets.edit(id);
        t.extras.edit(|e| e.resolved_by = resolver);
        t.resolved_at = now.into();
        t.follow_up = Some(Box::new(follow_up));
        t.follow_up_due_at = follow_up_due_at.into();
        self.journal.events.push(Event::Resolved {
            ticket: id,
            tier,
            channel,
        });
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// Back to QUEUED with a fresh resolution clock.
    pub(super) fn reopen(&mut self, id: TicketId, now: Ts) -> Result<Reply, CoreError> {
        let t = self.get(id)?;
        if t.state != TicketState::Resolved {
            return Err(wrong_state(t, "reopen", "resolved"));
        }
        let resolution = t.new_clock(&self.policy, SlaMetric::Resolution, now);
        let t = self.tickets.edit(id);
        t.resolution = resolution;
        t.next_reply = None;
        t.interim = None;
        t.follow_up = None;
        t.follow_up_due_at = OptTs::NONE;
        t.reopens += 1;
        t.resolved_at = OptTs::NONE;
        self.enqueue(id, now);
        if let Some(hold) = self.resolver_hold(id, now) {
            self.tickets.edit(id).hold = Some(Box::new(hold));
        }
        self.journal.events.push(Event::Requeued {
            ticket: id,
            reason: RequeueReason::Reopened,
        });
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    pub(super) fn cancel(
        &mut self,
        id: TicketId,
        reason: CancelReason,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let t = self.get(id)?;
        if !t.state.is_open() {
            return Err(wrong_state(t, "cancel", "open"));
        }
        let (tier, channel) = (t.tier, t.channel);
        self.close(id, TicketState::Cancelled, now);
        self.tickets.edit(id).cancel_reason = Some(reason);
        self.journal.events.push(Event::Cancelled {
            ticket: id,
            tier,
            channel,
            reason,
        });
        self.settle(id, now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// Changes routing facts; targets are re-derived and the ticket re-placed.
    pub(super) fn update(
        &mut self,
        id: TicketId,
        update: TicketUpdate,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let t = self.get(id)?;
        if !t.state.is_open() {
            return Err(wrong_state(t, "update", "open"));
        }
        let fields = changed_fields(t, &update);
        if let Some(tier) = update.tier {
            self.tickets.set_tier(id, tier);
        }
        if let Some((skills, first)) = update.skills {
            self.tickets.set_skills(id, skills);
            let t = self.tickets.edit(id);
            t.first_skill = first;
            if let Some(mut needs) = t.needs().cloned() {
                needs.minimums = needs.minimums.within(&t.skills);
                t.extras.edit(|e| e.needs = needs.given());
            }
        }
        let t = self.tickets.edit(id);
        if let Some(priority) = update.priority {
            t.priority = priority;
        }
        if let Some(sentiment) = update.sentiment {
            t.sentiment = sentiment;
        }
        if let Some(preferred) = update.preferred_agent {
            t.preferred_agent = preferred;
            if t.state == TicketState::Queued {
                // The hold window starts over for the new preferred agent (or ends).
                t.hold = None;
                let hold = self.hold_for(id, now);
                self.tickets.edit(id).hold = hold.map(Box::new);
            }
        }
        self.tickets.retarget(id, &self.policy);
        self.settle(id, now);
        let t = self.get(id)?;
        let (tier, channel) = (t.tier, t.channel);
        self.journal.events.push(Event::Updated {
            ticket: id,
            tier,
            channel,
            fields,
        });
        Ok(ticket_reply(self.get(id)?))
    }

    pub(super) fn list_tickets(&self, f: &TicketFilter) -> Reply {
        let mut matching = self.tickets.iter_after(f.after).filter(|t| f.matches(t));
        let tickets: Vec<Ticket> = matching.by_ref().take(f.limit).cloned().collect();
        let next = match (tickets.last(), matching.next()) {
            (Some(last), Some(_)) => Some(last.id),
            _ => None,
        };
        Reply::Tickets { tickets, next }
    }

    /// Lets a paused resolution clock count again (the ticket left PENDING).
    pub(super) fn resume_resolution(&mut self, id: TicketId, now: Ts) {
        if self.tickets.edit(id).resolution.resume(now) {
            self.journal.events.push(Event::Resumed {
                ticket: id,
                metric: SlaMetric::Resolution,
            });
        }
    }

    /// Takes an open ticket out of play: out of its queue or off its agent.
    fn close(&mut self, id: TicketId, state: TicketState, now: Ts) {
        self.queues.remove(id);
        self.unassign(id, now);
        self.tickets.edit(id).hold = None;
        self.tickets.set_state(id, state);
    }
}

pub(super) fn ticket_reply(t: &Ticket) -> Reply {
    Reply::Ticket(Box::new(t.clone()))
}

pub(super) fn wrong_state(t: &Ticket, action: &'static str, needs: &'static str) -> CoreError {
    CoreError::WrongState {
        ticket: t.id,
        state: t.state,
        action,
        needs,
    }
}

/// The fields `update` sets to a value other than the ticket's, in the API's order.
fn changed_fields(t: &Ticket, update: &TicketUpdate) -> Vec<TicketField> {
    let skills = update
        .skills
        .as_ref()
        .is_some_and(|(skills, first)| *skills != t.skills || *first != t.first_skill);
    [
        (
            update.priority.is_some_and(|p| p != t.priority),
            TicketField::Priority,
        ),
        (skills, TicketField::Skills),
        (
            update.sentiment.is_some_and(|s| s != t.sentiment),
            TicketField::Sentiment,
        ),
        (
            update.tier.is_some_and(|tier| tier != t.tier),
            TicketField::Tier,
        ),
        (
            update
                .preferred_agent
                .as_ref()
                .is_some_and(|p| *p != t.preferred_agent),
            TicketField::PreferredAgent,
        ),
    ]
    .into_iter()
    .filter_map(|(changed, field)| changed.then_some(field))
    .collect()
}
