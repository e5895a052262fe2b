//! Wrap-up (after-call work): after an agent resolves or releases a ticket of a channel with a
//! wrap-up time in the policy, that slot stays busy for exactly that time, then frees (the
//! agent's timer fires at its end), unless `EndWrapUp` ends it early. A slot in wrap-up counts
//! against the agent's capacity (`Agent::has_room`) and load share, and as busy time in the
//! agent's stats. Wrap-ups are kept in the agent record with their absolute end, so one in
//! progress at a crash is still busy after the restart until that end.
//!
//! Also the hooks that keep an agent's activity current: presence changes with a reason, and
//! whether the agent is busy.

use super::activity::Mark;
use super::command::Reply;
use super::error::CoreError;
use super::event::Event;
use super::model::Agent;
use super::scheduler::Scheduler;
use super::types::{AgentId, Channel, Presence, Span, TicketId, Ts};

impl Scheduler {
    /// `agent` just finished `ticket` on `channel`: its slot stays busy for the channel's
    /// wrap-up time (none when that is zero).
    pub(super) fn start_wrap_up(
        &mut self,
        agent: &AgentId,
        ticket: TicketId,
        channel: Channel,
        now: Ts,
    ) {
        let span = self.policy.presence.wrap_up(channel);
        let Some(a) = self.agents.get_mut(agent).filter(|_| span.0 > 0) else {
            return;
        };
        a.activity.start_wrap_up(ticket, channel, span, now);
        self.journal.agent(agent);
        self.note_busy(agent, now);
        self.reschedule_agent(agent);
    }

    /// Frees the agent's slots whose wrap-up ended by `now` (its timer).
    pub(super) fn end_due_wrap_ups(&mut self, agent: &AgentId, now: Ts) {
        self.end_wrap_ups(agent, now, false);
    }

    /// `EndWrapUp`: every slot of the agent in wrap-up frees now. FAILED_PRECONDITION when
    /// none is.
    pub(super) fn end_wrap_up(&mut self, agent: &AgentId, now: Ts) -> Result<Reply, CoreError> {
        let a = self
            .agents
            .get(agent)
            .ok_or_else(|| CoreError::AgentNotFound(agent.clone()))?;
        if a.activity.wrap_ups.is_empty() {
            return Err(CoreError::NoWrapUp(agent.clone()));
        }
        self.end_wrap_ups(agent, now, true);
        self.agent_view(agent)
    }

    fn end_wrap_ups(&mut self, agent: &AgentId, now: Ts, all: bool) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        let ended = a.activity.end_wrap_ups(now, |w| all || w.until <= now);
        if ended > 0 {
            self.journal.agent(agent);
            self.journal.events.push(Event::WrapUpEnded {
                agent: agent.clone(),
                early: all,
            });
            self.note_busy(agent, now);
        }
        self.reschedule_agent(agent);
    }

    /// Keeps the agent's busy interval current: busy while it holds a ticket or is in
    /// wrap-up.
    pub(super) fn note_busy(&mut self, agent: &AgentId, now: Ts) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        let busy = !a.holding.is_empty() || !a.activity.wrap_ups.is_empty();
        if a.activity.set_busy(busy, now) {
            self.journal.agent(agent);
        }
    }

    /// `agent` resolved a ticket `handle` after its first assignment.
    pub(super) fn note_handled(&mut self, agent: &AgentId, handle: Span, now: Ts) {
        self.note(agent, Mark::Handled { at: now, handle });
    }

    /// `agent`'s reply met a ticket's first response, `within` its target or not.
    pub(super) fn note_answered(&mut self, agent: &AgentId, within: bool, now: Ts) {
        self.note(agent, Mark::Answered { at: now, within });
    }

    /// An offer to `agent` ended unaccepted: timed out (`missed`) or rejected.
    pub(super) fn note_offer(&mut self, agent: &AgentId, missed: bool, now: Ts) {
        self.note(agent, Mark::Offer { at: now, missed });
    }

    fn note(&mut self, agent: &AgentId, mark: Mark) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.activity.push(mark);
            self.journal.agent(agent);
        }
    }

    /// The agent's presence becomes `presence` (with `reason`) at `now`: the time in the old
    /// one is kept, and the change is reported.
    pub(super) fn enter_presence(
        &mut self,
        agent: &AgentId,
        presence: Presence,
        reason: Option<String>,
        now: Ts,
    ) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        self.journal.agent(agent);
        if a.presence == presence && a.activity.reason == reason {
            return;
        }
        a.activity.enter(a.presence, reason.clone(), now);
        a.presence = presence;
        self.journal.events.push(Event::PresenceChanged {
            agent: agent.clone(),
            presence,
            reason,
        });
    }
}

impl Agent {
    /// Tickets held plus slots in wrap-up on `channel`: what counts against its capacity.
    pub fn occupied(&self, channel: Channel) -> u32 {
        self.load[channel.index()].saturating_add(self.activity.wrapping(channel))
    }
}
