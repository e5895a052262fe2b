//! A supervisor's moves: assign a ticket to an agent, or transfer it to another agent or to
//! another queue (skills, tier). The old lease (if any) ends and the new holder gets a new
//! epoch; SLA clocks keep running (a transfer is not a fresh start: no clock restarts and,
//! unless the tier changes, every due stays at the same instant).
//!
//! Who may take it: an OFFLINE agent never (nobody would hand it back: presence expiry runs
//! only for agents who are around). Otherwise the agent must be AVAILABLE, have every required
//! skill, serve the ticket's tier and have room on its channel; `force` (a supervisor's
//! override, as Genesys and Omni-Channel allow) skips those four checks, so a forced ticket
//! may take an agent past its capacity. Without it each is FAILED_PRECONDITION naming why.

use super::command::{Reply, TransferTo};
use super::error::CoreError;
use super::event::Event;
use super::lifecycle::{ticket_reply, wrong_state};
use super::model::{Agent, Ticket};
use super::scheduler::Scheduler;
use super::types::{AgentId, AssignReason, Presence, SkillSet, TicketId, TicketState, Tier, Ts};

impl Scheduler {
    /// `AssignTicket`: the ticket goes to `agent` (from the queue, or from its holder).
    pub(super) fn assign_to(
        &mut self,
        id: TicketId,
        agent: &AgentId,
        force: bool,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        self.check_handover(id, agent, force)?;
        self.hand_over(id, agent, force, String::new(), now);
        Ok(ticket_reply(self.get(id)?))
    }

    /// `TransferTicket`: to an agent (as `assign_to`, always reported as a transfer) or back
    /// to the queue under new routing (`skills`, `tier`).
    pub(super) fn transfer(
        &mut self,
        id: TicketId,
        to: TransferTo,
        note: String,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        match to {
            TransferTo::Agent { agent, force } => {
                self.check_handover(id, &agent, force)?;
                self.hand_over(id, &agent, force, note, now);
            }
            TransferTo::Queue { skills, tier } => {
                self.transfer_to_queue(id, skills, tier, note, now)?
            }
        }
        Ok(ticket_reply(self.get(id)?))
    }

    /// Everything that would refuse handing `id` to `agent`, checked before anything changes.
    fn check_handover(&self, id: TicketId, agent: &AgentId, force: bool) -> Result<(), CoreError> {
        let t = self.get(id)?;
        let a = self
            .agents
            .get(agent)
            .ok_or_else(|| CoreError::AgentNotFound(agent.clone()))?;
        if !t.state.is_open() {
            return Err(wrong_state(t, "an assignment", "open"));
        }
        if t.holder() == Some(agent) {
            return Err(refusal(t, a, "already holds it".into()));
        }
        if a.presence == Presence::Offline {
            return Err(refusal(t, a, "is offline".into()));
        }
        match force {
            true => Ok(()),
            false => unfit(t, a).map_or(Ok(()), |why| Err(refusal(t, a, why))),
        }
    }

    /// Ends the current lease (if any) and grants `agent` a new one; clocks are untouched. A
    /// queued ticket becomes ASSIGNED; a PENDING one stays PENDING with its new holder.
    fn hand_over(&mut self, id: TicketId, agent: &AgentId, forced: bool, note: String, now: Ts) {
        let from = self.tickets[id].holder().cloned();
        self.queues.serve(id);
        self.unassign(id, now);
        if self.tickets[id].state == TicketState::Queued {
            self.tickets.set_state(id, TicketState::Assigned);
        }
        let directed = from.is_none().then_some(AssignReason::Directed);
        self.grant(id, agent, directed, now);
        let (tier, channel) = (self.tickets[id].tier, self.tickets[id].channel);
        let moved = from.is_some() || !note.is_empty();
        if moved {
            self.journal.events.push(Event::Transferred {
                ticket: id,
                from,
                to: Some(agent.clone()),
                tier,
                channel,
                forced,
                note,
            });
        }
        self.settle(id, now);
    }

    /// Back to the queue under new routing facts: the holder (if any) loses the ticket, which
    /// waits under its new key. A queued ticket keeps its place in time (queued-since); a held
    /// one is queued from now, as a release is. Clocks keep running; a tier change re-derives
    /// targets from the policy, as `UpdateTicket` does, so a due moves only by the difference.
    fn transfer_to_queue(
        &mut self,
        id: TicketId,
        skills: Option<(SkillSet, u8)>,
        tier: Option<Tier>,
        note: String,
        now: Ts,
    ) -> Result<(), CoreError> {
        let t = self.get(id)?;
        if !t.state.is_open() {
            return Err(wrong_state(t, "a transfer", "open"));
        }
        let (from, queued_at) = (t.holder().cloned(), t.queued_at);
        self.unassign(id, now);
        self.resume_resolution(id, now);
        if let Some(tier) = tier {
            self.tickets.set_tier(id, tier);
            self.tickets.retarget(id, &self.policy);
        }
        if let Some((skills, first)) = skills {
            self.tickets.set_skills(id, skills);
            self.tickets.edit(id).first_skill = first;
        }
        self.tickets.forget_route(id);
        self.enqueue(id, now);
        if from.is_none() {
            self.tickets.edit(id).queued_at = queued_at;
        }
        let t = &self.tickets[id];
        self.journal.events.push(Event::Transferred {
            ticket: id,
            from,
            to: None,
            tier: t.tier,
            channel: t.channel,
            forced: false,
            note,
        });
        self.settle(id, now);
        Ok(())
    }
}

/// Why `a` may not take `t` without force, if it may not.
fn unfit(t: &Ticket, a: &Agent) -> Option<String> {
    if a.presence != Presence::Available {
        return Some(format!("is {}", a.presence));
    }
    if let Some(skill) = t.skills.iter().find(|s| !a.skills.contains(&s.0)) {
        return Some(format!("lacks the skill {:?}", &*skill.0));
    }
    if !a.serves_tier(t.tier) {
        return Some(format!("does not serve the {} tier", t.tier));
    }
    if !a.has_room(t.channel) {
        let (held, capacity) = (a.occupied(t.channel), a.capacity[t.channel.index()]);
        let wrapping = match a.activity.wrapping(t.channel) {
            0 => String::new(),
            n => format!(", {n} in wrap-up"),
        };
        return Some(format!(
            "is full on {} ({held} of {capacity}{wrapping})",
            t.channel
        ));
    }
    None
}

fn refusal(t: &Ticket, a: &Agent, why: String) -> CoreError {
    CoreError::CannotTake {
        ticket: t.id,
        agent: a.id.clone(),
        why,
    }
}
