//! Agents: profiles, presence with a heartbeat TTL, pulling the next ticket (a lease), and
//! releasing it. An agent that goes offline, by its own word or by missing heartbeats, hands
//! back every ticket it has not yet answered.

use super::activity::Activity;
use super::command::{AgentFilter, AgentProfile, Assignment, Lease, Reply};
use super::error::CoreError;
use super::event::{Event, RequeueReason, Upsert};
use super::lifecycle::{ticket_reply, wrong_state};
use super::model::{Agent, Routes};
use super::queue::Slot;
use super::routing::{best_for, Pick, Ranking};
use super::scheduler::Scheduler;
use super::types::{AgentId, AssignReason, Level, Presence, TicketState, Ts};

impl Scheduler {
    pub(super) fn upsert_agent(&mut self, p: AgentProfile, now: Ts) -> Result<Reply, CoreError> {
        let defaults = self.config().default_capacity;
        let capacity = std::array::from_fn(|i| p.capacity[i].unwrap_or(defaults[i]));
        let upsert = match self.agents.get(&p.id) {
            None => Upsert::Created,
            Some(_) => Upsert::Changed,
        };
        let agent = self.agents.upsert(&p.id, || Agent {
            id: p.id.clone(),
            display_name: String::new(),
            skills: Default::default(),
            tiers: Vec::new(),
            capacity,
            presence: Presence::Offline,
            last_seen: now,
            missed_offers: 0,
            load: Default::default(),
            holding: Default::default(),
            routes: Routes::default(),
            last_assignment: 0,
            activity: Activity::new(now),
            idle_since: 0,
            levels: Default::default(),
        });
        agent.display_name = p.display_name;
        agent.skills = p.skills;
        agent.levels = p.levels;
        agent.tiers = p.tiers;
        agent.capacity = capacity;
        agent.routes = Routes::default();
        self.journal.agent(&p.id);
        self.journal.events.push(Event::AgentUpserted {
            agent: p.id.clone(),
            upsert,
        });
        self.agent_view(&p.id)
    }

    pub(super) fn agent_view(&self, id: &AgentId) -> Result<Reply, CoreError> {
        let agent = self
            .agents
            .get(id)
            .ok_or_else(|| CoreError::AgentNotFound(id.clone()))?;
        Ok(Reply::Agent(Box::new(agent.clone())))
    }

    pub(super) fn list_agents(&self, f: &AgentFilter) -> Reply {
        let mut agents: Vec<&Agent> = self
            .agents
            .iter()
            .filter(|a| f.presence.is_none_or(|p| a.presence == p))
            .filter(|a| f.after.as_ref().is_none_or(|after| &a.id > after))
            .collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        let more = agents.len() > f.limit;
        agents.truncate(f.limit);
        let next = more.then(|| agents.last().map(|a| a.id.clone())).flatten();
        Reply::Agents {
            agents: agents.into_iter().cloned().collect(),
            next,
        }
    }

    /// `reason`, if any, must be one of the policy's codes, and only with AWAY or OFFLINE.
    pub(super) fn set_presence(
        &mut self,
        id: &AgentId,
        presence: Presence,
        reason: Option<String>,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        if let Some(r) = &reason {
            if presence == Presence::Available || !self.policy.presence.knows(r) {
                return Err(CoreError::UnknownPresenceReason(r.clone()));
            }
        }
        let agent = self
            .agents
            .get_mut(id)
            .ok_or_else(|| CoreError::AgentNotFound(id.clone()))?;
        agent.last_seen = now;
        self.enter_presence(id, presence, reason, now);
        if presence == Presence::Offline {
            self.hand_back(id, RequeueReason::AgentOffline, now);
        }
        self.reschedule_agent(id);
        self.agent_view(id)
    }

    /// Keeps the agent's presence alive for another TTL. Not persisted: after a restart every
    /// agent gets a fresh TTL (see `Scheduler::restore`).
    pub(super) fn heartbeat(&mut self, id: &AgentId, now: Ts) -> Result<Reply, CoreError> {
        let ttl = self.policy.presence_ttl;
        let agent = self
            .agents
            .get_mut(id)
            .ok_or_else(|| CoreError::AgentNotFound(id.clone()))?;
        agent.last_seen = now;
        let presence = agent.presence;
        self.reschedule_agent(id);
        Ok(Reply::Heartbeat {
            presence,
            expires_at: now.plus(ttl),
        })
    }

    /// Leases the best ticket the agent may take now, or answers `None`.
    pub(super) fn pull(&mut self, id: &AgentId, now: Ts) -> Result<Reply, CoreError> {
        let agent = self
            .agents
            .get_mut(id)
            .ok_or_else(|| CoreError::AgentNotFound(id.clone()))?;
        if agent.presence != Presence::Available {
            let presence = agent.presence;
            return Err(CoreError::AgentNotAvailable {
                agent: id.clone(),
                presence,
            });
        }
        agent.last_seen = now;
        let tickets = &self.tickets;
        let ranking = Ranking::new(self.policy.order, now);
        let bound = self.policy.bound_at(now);
        // Tickets this agent rejected lately are set aside while it looks (see `core::offer`).
        let mut skipped = Vec::new();
        let pick = loop {
            match best_for(agent, &self.queues, |t| tickets.get(t), ranking, bound) {
                Some(p) if tickets[p.ticket].rejected_by(id, now) => {
                    self.queues.set_aside(p.ticket);
                    skipped.push(p.ticket);
                }
                pick => break pick,
            }
        };
        for t in skipped {
            self.put_back(t, now);
        }
        self.reschedule_agent(id);
        let Some(pick) = pick else {
            return Ok(Reply::Pulled(None));
        };
        Ok(Reply::Pulled(Some(Box::new(self.assign(pick, id, now)))))
    }

    /// Offers queued tickets to agents waiting for one (long polls), one ticket each: the
    /// least-loaded agent first (tickets held relative to capacity), ties to the one that got
    /// a ticket least recently, then to the one listed first (the longest waiting). So among
    /// equally good agents the push goes where there is most room, and equals take turns.
    pub fn dispatch(
        &mut self,
        waiting: &[AgentId],
        now: Ts,
    ) -> Vec<Result<Option<Assignment>, CoreError>> {
        let mut order: Vec<usize> = (0..waiting.len()).collect();
        let load = |id: &AgentId| {
            self.agents
                .get(id)
                .map_or(((1, 1), 0), |a| (a.load_share(), a.last_assignment))
        };
        // Compare held/capacity as fractions: a/b < c/d iff a*d < c*b.
        order.sort_by(|&i, &j| {
            let (((a, b), last_i), ((c, d), last_j)) = (load(&waiting[i]), load(&waiting[j]));
            (a * d)
                .cmp(&(c * b))
                .then(last_i.cmp(&last_j))
                .then(i.cmp(&j))
        });
        self.select_order(&mut order, waiting, now);
        let mut out: Vec<_> = waiting.iter().map(|_| Ok(None)).collect();
        for i in order {
            out[i] = match self.pull(&waiting[i], now) {
                Ok(Reply::Pulled(a)) => Ok(a.map(|a| *a)),
                Ok(_) => Ok(None),
                Err(e) => Err(e),
            };
        }
        out
    }

    fn assign(&mut self, pick: Pick, agent: &AgentId, now: Ts) -> Assignment {
        let id = pick.ticket;
        let reason = self.reason(&pick, now);
        self.queues.serve(id);
        self.tickets.set_state(id, TicketState::Assigned);
        let before = self.tickets[id].first_assigned_at;
        let offered = self
            .policy
            .offers
            .timeout(self.tickets[id].channel)
            .is_some();
        let epoch = self.grant(id, agent, (!offered).then_some(reason), now);
        if offered {
            self.offer(id, reason, before, now);
        }
        self.settle(id, now);
        Assignment {
            lease_epoch: epoch,
            ticket: self.tickets[id].clone(),
            reason,
        }
    }

    /// Gives ticket `id`, which nobody holds, to `agent` under a new epoch (returned): counted
    /// against the agent's capacity, no longer held for anyone, first assigned now if never
    /// before. With a `reason` it is reported as an assignment (waited: since queued).
    pub(super) fn grant(
        &mut self,
        id: super::types::TicketId,
        agent: &AgentId,
        reason: Option<AssignReason>,
        now: Ts,
    ) -> super::lease::Epoch {
        let t = self.tickets.edit(id);
        let epoch = t.tenure.grant(agent.clone());
        if t.first_assigned_at.is_none() {
            t.first_assigned_at = now.into();
        }
        t.hold = None;
        let (channel, tier, waited) = (t.channel, t.tier, now.since(t.queued_at));
        self.agents.assign(agent, id, channel);
        self.note_busy(agent, now);
        if let Some(reason) = reason {
            self.journal.events.push(Event::Assigned {
                ticket: id,
                agent: agent.clone(),
                tier,
                channel,
                waited,
                reason,
            });
        }
        epoch
    }

    /// Why this ticket went to this agent, for the front end and for logs.
    fn reason(&self, pick: &Pick, now: Ts) -> AssignReason {
        let escalation = self.tickets[pick.ticket].escalation();
        match (&pick.from, escalation) {
            (Slot::Held(_), _) => AssignReason::PreferredAgent,
            (_, Level::L3) => AssignReason::EscalatedL3,
            (_, Level::L2) => AssignReason::EscalatedL2,
            _ if pick.order.due <= now => AssignReason::Breached,
            _ => AssignReason::Due,
        }
    }

    /// The holder gives the ticket back to the queue; its lease ends.
    pub(super) fn release(
        &mut self,
        id: super::types::TicketId,
        lease: &Lease,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let t = self.check_held(id, lease)?;
        if !matches!(t.state, TicketState::Assigned | TicketState::Pending) {
            return Err(wrong_state(t, "release", "assigned or pending"));
        }
        let channel = t.channel;
        self.start_wrap_up(&lease.agent, id, channel, now);
        self.requeue(id, RequeueReason::Released, now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// Takes a held ticket off its agent and puts it back in the queue with a new epoch. An
    /// offer handed back unanswered (released, its agent gone, taken back at L2) waits again
    /// in its place instead, without counting a miss (see `core::offer`).
    pub(super) fn requeue(&mut self, id: super::types::TicketId, reason: RequeueReason, now: Ts) {
        if self.tickets[id].offer().is_some() {
            self.withdraw(id, now);
            self.journal
                .events
                .push(Event::Requeued { ticket: id, reason });
            return;
        }
        self.unassign(id, now);
        self.resume_resolution(id, now);
        self.enqueue(id, now);
        self.journal
            .events
            .push(Event::Requeued { ticket: id, reason });
        self.settle(id, now);
    }

    /// An agent went offline: its unanswered tickets go back to the queue, and tickets waiting
    /// for it as preferred agent stop waiting.
    pub(super) fn hand_back(&mut self, id: &AgentId, reason: RequeueReason, now: Ts) {
        let Some(agent) = self.agents.get(id) else {
            return;
        };
        let unanswered: Vec<_> = agent
            .held_tickets()
            .into_iter()
            .filter(|&t| !self.tickets[t].first_response.is_met())
            .collect();
        for t in unanswered {
            self.requeue(t, reason, now);
        }
        for t in self.queues.held_ids(id) {
            self.tickets.edit(t).hold = None;
            self.settle(t, now);
        }
    }

    /// The agent's timer: wrap-ups that ended free their slots, then the presence TTL: an
    /// agent silent for longer than the TTL goes OFFLINE.
    pub(super) fn expire_agent(&mut self, id: &AgentId, now: Ts) {
        self.end_due_wrap_ups(id, now);
        let ttl = self.policy.presence_ttl;
        let Some(agent) = self.agents.get(id) else {
            return;
        };
        if agent.presence == Presence::Offline || agent.last_seen.plus(ttl) > now {
            return;
        }
        self.enter_presence(id, Presence::Offline, None, now);
        self.journal
            .events
            .push(Event::AgentExpired { agent: id.clone() });
        self.hand_back(id, RequeueReason::PresenceExpired, now);
        self.reschedule_agent(id);
    }

    /// Arms the agent's timer at its presence expiry (while it is not OFFLINE) or the end of
    /// its next wrap-up, whichever comes first.
    pub(super) fn reschedule_agent(&mut self, id: &AgentId) {
        let ttl = self.policy.presence_ttl;
        let at = self.agents.get(id).and_then(|a| {
            let expiry = (a.presence != Presence::Offline).then(|| a.last_seen.plus(ttl));
            expiry
                .into_iter()
                .chain(a.activity.next_wrap_up_end())
                .min()
        });
        self.timers.set_agent(id, at);
    }
}
