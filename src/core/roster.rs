//! The roster: every agent by id, and the count of assignments since boot that orders agents by
//! when they last got a ticket.

use super::collections::HashMap;
use super::model::Agent;
use super::types::{AgentId, Channel, TicketId};

#[derive(Default)]
pub(super) struct Roster {
    agents: HashMap<AgentId, Agent>,
    /// Assignments since boot: orders agents by when they last got a ticket.
    assignments: u64,
    /// Times since boot an agent came to hold nothing: orders agents by how long they have
    /// been idle (`Agent::idle_since`).
    freed: u64,
}

impl Roster {
    #[inline]
    pub(super) fn get(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.get(id)
    }

    #[inline]
    pub(super) fn get_mut(&mut self, id: &AgentId) -> Option<&mut Agent> {
        self.agents.get_mut(id)
    }

    pub(super) fn contains(&self, id: &AgentId) -> bool {
        self.agents.contains_key(id)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.agents.len()
    }

    /// Every agent, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    /// Every agent's id, in no particular order.
    pub(super) fn ids(&self) -> Vec<AgentId> {
        self.agents.keys().cloned().collect()
    }

    /// Adds (or replaces) an agent read back at boot.
    pub(super) fn insert(&mut self, agent: Agent) {
        self.agents.insert(agent.id.clone(), agent);
    }

    /// The agent `id`, made by `new` if it does not exist yet.
    pub(super) fn upsert(&mut self, id: &AgentId, new: impl FnOnce() -> Agent) -> &mut Agent {
        self.agents.entry(id.clone()).or_insert_with(new)
    }

    /// `agent` got `ticket` on `channel`: counted against its capacity, and it is now the agent
    /// that got a ticket most recently. Unknown agents are ignored.
    pub(super) fn assign(&mut self, agent: &AgentId, ticket: TicketId, channel: Channel) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.hold(ticket, channel);
            self.assignments += 1;
            a.last_assignment = self.assignments;
        }
    }

    /// `agent` no longer holds `ticket`: its capacity on `channel` is freed.
    pub(super) fn drop_hold(&mut self, agent: &AgentId, ticket: TicketId, channel: Channel) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.drop_hold(ticket, channel);
            if a.holding.is_empty() {
                self.freed += 1;
                a.idle_since = self.freed;
            }
        }
    }
}
