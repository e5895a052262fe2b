//! The reference model: every command re-implemented by scanning all tickets, with no
//! queues, indexes or caches.

use super::*;
use crate::core::turns::forcing_turn;

#[derive(Default)]
pub(super) struct Model {
    /// Ticket `n` at index `n - 1`.
    pub(super) tickets: Vec<MTicket>,
    pub(super) agents: Vec<MAgent>,
    /// Request id → (ticket, fingerprint, when made); forgotten a request window later.
    pub(super) requests: BTreeMap<u8, (u64, Fingerprint, i64)>,
    /// Escalation steps fired since the harness last compared them with the core's events.
    pub(super) fired: Vec<(TicketId, SlaMetric, Level)>,
    /// The policy's order: `None` for `deadline`, the forcing level for `savable_first` and
    /// `savable_turns`.
    pub(super) force_level: Option<u8>,
    /// `savable_turns`: forced tickets go first on the agent's turn only.
    pub(super) turns: bool,
    pub(super) offers: OfferRules,
}

/// The policy's offers, as the model applies them.
#[derive(Default)]
pub(super) struct OfferRules {
    /// Per channel (by index): how long an offer stays open; `None`: assign directly.
    pub(super) timeout: [Option<i64>; 6],
    pub(super) max_missed: u32,
    pub(super) reoffer_after: i64,
}

impl OfferRules {
    pub(super) fn of(p: &crate::core::offer::OfferPolicy) -> OfferRules {
        let timeout = std::array::from_fn(|i| p.timeout(Channel::ALL[i]).map(|t| t.0 as i64));
        OfferRules {
            timeout,
            max_missed: p.max_missed_offers,
            reoffer_after: p.reoffer_after.0 as i64,
        }
    }
}

pub(super) fn refused(r: Refusal) -> Outcome {
    Outcome::Refused(r)
}

impl Model {
    pub(super) fn ticket(&self, id: u64) -> Option<&MTicket> {
        self.tickets.get(usize::try_from(id).ok()?.checked_sub(1)?)
    }

    pub(super) fn found(&self, id: u64) -> Result<usize, Refusal> {
        self.ticket(id)
            .map(|_| id as usize - 1)
            .ok_or(Refusal::TicketNotFound(id))
    }

    pub(super) fn load(&self, agent: usize, channel: Channel) -> u32 {
        self.tickets
            .iter()
            .filter(|t| t.holder == Some(agent) && t.channel == channel)
            .count() as u32
    }

    /// The lease a step's `LeaseArg` stands for on ticket `id`, now.
    pub(super) fn lease(&self, id: u64, arg: LeaseArg) -> (u8, u64) {
        let t = self.ticket(id);
        let epoch = t.map_or(0, |t| t.epoch);
        let holder = t.and_then(|t| t.holder).map_or(0, |h| h as u8);
        match arg {
            LeaseArg::Holder => (holder, epoch),
            LeaseArg::Stale => (holder, epoch.wrapping_sub(1)),
            LeaseArg::Agent(a) => (a, epoch),
        }
    }

    pub(super) fn check_lease(&self, id: u64, (agent, epoch): (u8, u64)) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if agent == GHOST {
            return Err(Refusal::AgentNotFound(NAMES[GHOST as usize].into()));
        }
        let t = &self.tickets[i];
        if t.holder != Some(agent as usize) || t.epoch != epoch {
            return Err(Refusal::StaleLease(id, NAMES[agent as usize].into(), epoch));
        }
        Ok(i)
    }

    /// `check_lease`, and the ticket is not waiting for this agent to accept it.
    pub(super) fn check_accepted(&self, id: u64, lease: (u8, u64)) -> Result<usize, Refusal> {
        let i = self.check_lease(id, lease)?;
        match self.tickets[i].offer {
            Some(_) => Err(Refusal::OfferOpen(id, NAMES[lease.0 as usize].into())),
            None => Ok(i),
        }
    }

    /// `check_lease`, and the ticket is offered to the lease's agent.
    fn check_offered(&self, id: u64, lease: (u8, u64)) -> Result<usize, Refusal> {
        let i = self.check_lease(id, lease)?;
        match self.tickets[i].offer {
            Some(_) => Ok(i),
            None => Err(Refusal::NotOffered(id)),
        }
    }

    /// The holder of the open offer takes the ticket; its misses start again.
    pub(super) fn accept(&mut self, id: u64, lease: (u8, u64)) -> Result<usize, Refusal> {
        let i = self.check_offered(id, lease)?;
        self.tickets[i].offer = None;
        self.agents[lease.0 as usize].missed = 0;
        Ok(i)
    }

    /// The holder of the open offer turns it down: back in the queue, not offered to it again
    /// for `reoffer_after`; its misses start again.
    pub(super) fn reject(&mut self, id: u64, lease: (u8, u64), now: i64) -> Result<usize, Refusal> {
        let i = self.check_offered(id, lease)?;
        let agent = lease.0 as usize;
        self.agents[agent].missed = 0;
        let t = &mut self.tickets[i];
        t.withdraw();
        t.rejected.push((agent, now + self.offers.reoffer_after));
        Ok(i)
    }

    /// Offers open past `now` time out: the ticket goes back, the holder's miss is counted,
    /// and enough in a row set an AVAILABLE holder AWAY (counting afresh).
    fn time_out_offers(&mut self, now: i64) {
        for t in &mut self.tickets {
            if t.offer.is_none_or(|(until, _)| until > now) {
                continue;
            }
            let Some(agent) = t.holder else { continue };
            t.withdraw();
            let a = &mut self.agents[agent];
            a.missed += 1;
            let max = self.offers.max_missed;
            if max > 0 && a.missed >= max && a.presence == Presence::Available {
                a.presence = Presence::Away;
                a.missed = 0;
            }
        }
    }

    pub(super) fn wrong_state(&self, i: usize) -> Refusal {
        Refusal::WrongState(i as u64 + 1, self.tickets[i].state)
    }

    pub(super) fn agent(&mut self, agent: u8) -> Result<&mut MAgent, Refusal> {
        self.agents
            .get_mut(agent as usize)
            .ok_or(Refusal::AgentNotFound(NAMES[agent as usize].into()))
    }

    pub(super) fn create(&mut self, fp: Fingerprint, request: Option<u8>, now: i64) -> Outcome {
        let window = CoreConfig::default().request_window.0 as i64;
        self.requests.retain(|_, (_, _, at)| *at > now - window);
        if let Some(&(id, seen, _)) = request.and_then(|r| self.requests.get(&r)) {
            if seen != fp {
                let request = format!("req-{}", request.unwrap_or(0));
                return refused(Refusal::RequestIdReused(request));
            }
            return Outcome::Ticket(id);
        }
        let (ext, tier, channel, priority, upset, skills, created_at) = fp;
        let max = CoreConfig::default().max_backdate.0 as i64;
        let began = match created_at {
            None => now,
            Some(at) if at > now + CLOCK_SKEW.0 as i64 => return refused(Refusal::CreatedInFuture),
            Some(at) if now - at > max => return refused(Refusal::CreatedTooLongAgo),
            Some(at) => at.min(now),
        };
        if let Some(i) = self.tickets.iter().position(|t| t.ext == ext && !t.erased) {
            return refused(Refusal::ExternalIdTaken(i as u64 + 1));
        }
        let mut t = MTicket {
            ext,
            tier,
            channel,
            priority,
            upset,
            skills,
            state: TicketState::Queued,
            holder: None,
            epoch: 0,
            clocks: [None, None, None, None],
            erased: false,
            resolver: None,
            held_until: None,
            offer: None,
            rejected: Vec::new(),
        };
        t.clocks[Metric::FirstResponse as usize] = Some(t.new_clock(Metric::FirstResponse, began));
        t.clocks[Metric::Resolution as usize] = Some(t.new_clock(Metric::Resolution, began));
        // An import: the steps its age has passed fire at once.
        let fired = t.fire(now);
        self.tickets.push(t);
        let id = self.tickets.len() as u64;
        self.record_fired(id, fired);
        if let Some(r) = request {
            self.requests.insert(r, (id, fp, now));
        }
        Outcome::Ticket(id)
    }

    /// Every ticket of the customer loses its ids; how many did.
    pub(super) fn erase(&mut self, customer: u8) -> Outcome {
        let mut erased = 0;
        for t in &mut self.tickets {
            if !t.erased && customer_of(t.ext) == customer {
                t.erased = true;
                erased += 1;
            }
        }
        Outcome::Erased(erased)
    }

    /// Which kind of ticket `t` is for a pull at `now`, lower first: under `deadline` all one
    /// kind; under `savable_first` those escalated to the forcing level (0), those that can
    /// still meet their due (1), the late ones (2).
    /// Under `savable_turns` a forced ticket is of the first kind only on the agent's turn
    /// (`core::turns`), and otherwise the first of the late ones (2, before the others' 3).
    fn class(&self, t: &MTicket, now: i64, agent: usize) -> u8 {
        let on_turn = || !self.turns || forcing_turn(&agent_id(NAMES[agent]), Ts(now));
        match self.force_level {
            None => 0,
            Some(level) if t.escalation() >= level && on_turn() => 0,
            Some(level) if t.escalation() >= level => 2,
            Some(_) if t.due().is_none_or(|due| due >= now) => 1,
            Some(_) => 3,
        }
    }

    /// Among QUEUED tickets the agent may take now, the first by kind (see `class`), then the
    /// earliest due, then the higher tier, then the older one.
    pub(super) fn pull(&mut self, agent: u8, now: i64) -> Outcome {
        let a = match self.agent(agent) {
            Ok(a) => a,
            Err(r) => return refused(r),
        };
        if a.presence != Presence::Available {
            let presence = a.presence;
            return refused(Refusal::AgentNotAvailable(
                NAMES[agent as usize].into(),
                presence,
            ));
        }
        a.last_seen = now;
        let ai = agent as usize;
        let a = &self.agents[ai];
        // A ticket held for its resolver: that agent alone, by its own skills, tier and room
        // (no widening); everyone else skips it.
        let held_for_me = |t: &MTicket| t.held_until.is_some() && t.resolver == Some(ai);
        let eligible = |t: &MTicket| {
            if t.held_until.is_some() {
                let fits = a.serves(t.tier) && a.has_all(t.skills);
                return held_for_me(t)
                    && fits
                    && self.load(ai, t.channel) < a.capacity[t.channel.index()];
            }
            let routing = match t.escalation() {
                L3 => true,
                L2 => {
                    let first = t
                        .skills
                        .iter()
                        .min()
                        .into_iter()
                        .copied()
                        .collect::<Vec<_>>();
                    a.serves(t.tier) && a.has_all(&first)
                }
                _ => a.serves(t.tier) && a.has_all(t.skills),
            };
            routing && self.load(ai, t.channel) < a.capacity[t.channel.index()]
        };
        let best = self
            .tickets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.state == TicketState::Queued && eligible(t))
            .filter(|(_, t)| !t.rejected_by(ai, now))
            .min_by_key(|(i, t)| {
                let due = t.due().unwrap_or(i64::MAX);
                (self.class(t, now, ai), due, tier_rank(t.tier), *i)
            })
            .map(|(i, _)| i);
        let Some(i) = best else {
            return Outcome::Pulled(None);
        };
        let t = &mut self.tickets[i];
        let reason = match t.escalation() {
            _ if t.held_until.take().is_some() => AssignReason::PreferredAgent,
            L3 => AssignReason::EscalatedL3,
            L2 => AssignReason::EscalatedL2,
            _ if t.due().is_some_and(|due| due <= now) => AssignReason::Breached,
            _ => AssignReason::Due,
        };
        t.state = TicketState::Assigned;
        t.holder = Some(ai);
        t.epoch += 1;
        t.offer = self.offers.timeout[t.channel.index()].map(|after| (now + after, reason));
        let holder = Some(NAMES[ai].to_string());
        Outcome::Pulled(Some((i as u64 + 1, t.epoch, holder, reason)))
    }

    pub(super) fn agent_reply(
        &mut self,
        id: u64,
        lease: (u8, u64),
        now: i64,
    ) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if self.tickets[i].state == TicketState::Resolved {
            // An agent's message after resolution is the check-back (the follow-up), from the
            // lease the ticket was resolved under.
            self.agent(lease.0)?;
            if lease.1.checked_add(1) != Some(self.tickets[i].epoch) {
                return Err(Refusal::StaleLease(
                    id,
                    NAMES[lease.0 as usize].into(),
                    lease.1,
                ));
            }
            let follow_up = &self.tickets[i].clocks[Metric::FollowUp as usize];
            if follow_up.as_ref().is_none_or(|c| c.met) {
                return Err(Refusal::NoFollowUp(id));
            }
            if let Some(c) = self.tickets[i].clock(Metric::FollowUp) {
                c.meet(now);
            }
            return Ok(i);
        }
        let i = self.check_accepted(id, lease)?;
        for m in [Metric::FirstResponse, Metric::NextReply] {
            if let Some(c) = self.tickets[i].clock(m) {
                c.meet(now);
            }
        }
        Ok(i)
    }

    pub(super) fn customer_reply(&mut self, id: u64, now: i64) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if !self.tickets[i].is_open() {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        let waiting = t.clocks[Metric::NextReply as usize]
            .as_ref()
            .is_some_and(|c| !c.met);
        let answered = t.clocks[Metric::FirstResponse as usize]
            .as_ref()
            .is_some_and(|c| c.met);
        if t.state == TicketState::Pending {
            t.state = TicketState::Assigned;
            if let Some(c) = t.clock(Metric::Resolution) {
                c.resume(now);
            }
        }
        if answered && !waiting {
            t.clocks[Metric::NextReply as usize] = Some(t.new_clock(Metric::NextReply, now));
        }
        Ok(i)
    }

    pub(super) fn set_pending(
        &mut self,
        id: u64,
        lease: (u8, u64),
        now: i64,
    ) -> Result<usize, Refusal> {
        let i = self.check_accepted(id, lease)?;
        if self.tickets[i].state != TicketState::Assigned {
            return Err(self.wrong_state(i));
        }
        let unanswered = &self.tickets[i].clocks[Metric::FirstResponse as usize];
        if unanswered.as_ref().is_some_and(|c| !c.met) {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.state = TicketState::Pending;
        if let Some(c) = t.clock(Metric::Resolution) {
            c.pause(now);
        }
        Ok(i)
    }

    pub(super) fn resolve(
        &mut self,
        id: u64,
        lease: Option<(u8, u64)>,
        now: i64,
    ) -> Result<usize, Refusal> {
        let i = match lease {
            Some(lease) => self.check_accepted(id, lease)?,
            None => self.found(id)?,
        };
        if !self.tickets[i].is_open() {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.resolver = t.holder;
        t.held_until = None;
        t.unassign();
        t.state = TicketState::Resolved;
        if let Some(c) = t.clock(Metric::Resolution) {
            c.meet(now);
        }
        t.clocks[Metric::FollowUp as usize] = Some(t.new_clock(Metric::FollowUp, now));
        Ok(i)
    }

    pub(super) fn release(
        &mut self,
        id: u64,
        lease: (u8, u64),
        now: i64,
    ) -> Result<usize, Refusal> {
        let i = self.check_lease(id, lease)?;
        if !matches!(
            self.tickets[i].state,
            TicketState::Assigned | TicketState::Pending
        ) {
            return Err(self.wrong_state(i));
        }
        self.tickets[i].requeue(now);
        Ok(i)
    }

    /// A supervisor hands ticket `id` to `agent`: refused (in the core's order) for an unknown
    /// ticket or agent, a finished ticket, the holder itself or an OFFLINE agent, and unless
    /// forced for an agent not AVAILABLE, lacking a skill, not serving the tier or full. The
    /// holder (if any) loses it, the agent gets the next epoch but one; clocks are untouched.
    pub(super) fn assign(&mut self, id: u64, agent: u8, force: bool) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        let ai = agent as usize;
        let a = self
            .agents
            .get(ai)
            .ok_or(Refusal::AgentNotFound(NAMES[ai].into()))?;
        let t = &self.tickets[i];
        if !t.is_open() {
            return Err(self.wrong_state(i));
        }
        let (held, capacity) = (self.load(ai, t.channel), a.capacity[t.channel.index()]);
        let missing = t.skills.iter().find(|s| !a.skills.contains(s));
        let why = match () {
            _ if t.holder == Some(ai) => Some("already holds it".to_string()),
            _ if a.presence == Presence::Offline => Some("is offline".to_string()),
            _ if force => None,
            _ if a.presence != Presence::Available => Some(format!("is {}", a.presence)),
            _ if missing.is_some() => missing.map(|s| format!("lacks the skill {s:?}")),
            _ if !a.serves(t.tier) => Some(format!("does not serve the {} tier", t.tier)),
            _ if held >= capacity => {
                Some(format!("is full on {} ({held} of {capacity})", t.channel))
            }
            _ => None,
        };
        if let Some(why) = why {
            return Err(Refusal::CannotTake(id, NAMES[ai].into(), why));
        }
        let t = &mut self.tickets[i];
        t.unassign();
        t.held_until = None;
        if t.state == TicketState::Queued {
            t.state = TicketState::Assigned;
        }
        t.holder = Some(ai);
        t.epoch += 1;
        Ok(i)
    }

    /// A supervisor sends ticket `id` back to the queue needing `skills`: as a release
    /// (whoever held it), with the new skills; clocks keep running.
    pub(super) fn transfer_to_queue(
        &mut self,
        id: u64,
        skills: &'static [&'static str],
        now: i64,
    ) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if !self.tickets[i].is_open() {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.requeue(now);
        t.skills = skills;
        Ok(i)
    }

    /// Back to the queue with a fresh resolution clock; the first response stays as it was.
    pub(super) fn reopen(&mut self, id: u64, now: i64) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if self.tickets[i].state != TicketState::Resolved {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.clocks[Metric::Resolution as usize] = Some(t.new_clock(Metric::Resolution, now));
        t.clocks[Metric::NextReply as usize] = None;
        t.clocks[Metric::FollowUp as usize] = None;
        t.state = TicketState::Queued;
        // Held for the agent who resolved it, if around, for the window (never past the due).
        let around = t
            .resolver
            .is_some_and(|r| self.agents[r].presence != Presence::Offline);
        let until = (now + HOLD).min(t.due().unwrap_or(i64::MAX));
        t.held_until = (around && until > now).then_some(until);
        Ok(i)
    }

    pub(super) fn cancel(&mut self, id: u64) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if !self.tickets[i].is_open() {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.unassign();
        t.held_until = None;
        t.state = TicketState::Cancelled;
        Ok(i)
    }

    pub(super) fn set_presence(&mut self, agent: u8, presence: Presence, now: i64) -> Outcome {
        let a = match self.agent(agent) {
            Ok(a) => a,
            Err(r) => return refused(r),
        };
        a.presence = presence;
        a.last_seen = now;
        if presence == Presence::Offline {
            self.hand_back(agent as usize, now);
        }
        Outcome::Agent(presence)
    }

    pub(super) fn heartbeat(&mut self, agent: u8, now: i64) -> Outcome {
        match self.agent(agent) {
            Ok(a) => {
                a.last_seen = now;
                Outcome::Heartbeat(a.presence, now + TTL)
            }
            Err(r) => refused(r),
        }
    }

    pub(super) fn upsert(&mut self, agent: u8, variant: bool) -> Outcome {
        match self.agent(agent) {
            Ok(a) => {
                a.set_profile(profile(agent as usize, variant));
                Outcome::Agent(a.presence)
            }
            Err(r) => refused(r),
        }
    }

    /// An agent going offline gives back the tickets it has not answered yet.
    pub(super) fn hand_back(&mut self, agent: usize, now: i64) {
        for t in &mut self.tickets {
            let answered = t.clocks[Metric::FirstResponse as usize]
                .as_ref()
                .is_some_and(|c| c.met);
            if t.holder == Some(agent) && !answered {
                t.requeue(now);
            }
            if t.resolver == Some(agent) && t.state == TicketState::Queued {
                t.held_until = None;
            }
        }
    }

    /// Everything due by `now`: presence expiries, then every escalation step of every live,
    /// counting clock; L2 of a clock that waits for the agent takes an ASSIGNED ticket back.
    pub(super) fn tick(&mut self, now: i64) {
        for i in 0..self.agents.len() {
            let a = &mut self.agents[i];
            if a.presence != Presence::Offline && a.last_seen + TTL <= now {
                a.presence = Presence::Offline;
                self.hand_back(i, now);
            }
        }
        self.time_out_offers(now);
        for t in &mut self.tickets {
            if t.held_until.is_some_and(|until| until <= now) {
                t.held_until = None;
            }
        }
        for i in 0..self.tickets.len() {
            let fired = self.tickets[i].fire(now);
            self.record_fired(i as u64 + 1, fired);
        }
    }

    fn record_fired(&mut self, id: u64, fired: Vec<(SlaMetric, Level)>) {
        let steps = fired.into_iter().map(|(m, level)| (TicketId(id), m, level));
        self.fired.extend(steps);
    }

    /// Heartbeats are not persisted, so a restored agent gets a fresh TTL from `now`.
    pub(super) fn restart(&mut self, now: i64) {
        for a in &mut self.agents {
            a.last_seen = a.last_seen.max(now);
        }
    }

    pub(super) fn agent_view(&self, i: usize) -> AgentView {
        let a = &self.agents[i];
        AgentView {
            presence: a.presence,
            last_seen: a.last_seen,
            skills: a.skills.iter().map(|s| s.to_string()).collect(),
            tiers: a.tiers.to_vec(),
            capacity: a.capacity,
            load: std::array::from_fn(|c| self.load(i, Channel::ALL[c])),
            missed_offers: a.missed,
        }
    }
}
