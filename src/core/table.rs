//! The ticket table: every ticket ever created, indexed by `TicketId`, and what is kept in step
//! with it: per-ticket runtime state (never persisted), the external-id index and the counts
//! per (state, tier, channel). A ticket's state and tier change only through `set_state` and
//! `set_tier`, so the counts cannot drift from the tickets.

use super::chunked::Chunked;
use super::collections::HashMap;
use super::model::Ticket;
use super::policy::SlaPolicy;
use super::queue::KeyId;
use super::stats::Contribution;
use super::types::{Channel, Level, TicketId, TicketState, Tier};
use std::ops::Index;
use std::sync::Arc;

/// Counts of tickets per (state, tier, channel), kept in step with every state change.
#[derive(Clone, Debug)]
pub struct StateCounts([u64; TicketState::COUNT * Tier::COUNT * Channel::COUNT]);

impl Default for StateCounts {
    fn default() -> Self {
        StateCounts([0; TicketState::COUNT * Tier::COUNT * Channel::COUNT])
    }
}

impl StateCounts {
    fn slot(state: TicketState, tier: Tier, channel: Channel) -> usize {
        (state.index() * Tier::COUNT + tier.index()) * Channel::COUNT + channel.index()
    }
    pub fn get(&self, state: TicketState, tier: Tier, channel: Channel) -> u64 {
        self.0[Self::slot(state, tier, channel)]
    }
    fn add(&mut self, t: &Ticket) {
        self.0[Self::slot(t.state, t.tier, t.channel)] += 1;
    }
    fn sub(&mut self, t: &Ticket) {
        let slot = &mut self.0[Self::slot(t.state, t.tier, t.channel)];
        *slot = slot.saturating_sub(1);
    }
}

/// The routing facts a ticket's cached key was computed from: its escalation level and whether
/// an onboarding hold applied.
pub(super) type RouteFacts = (Level, bool);

/// Per-ticket runtime state, beside each ticket and indexed the same way; never persisted.
#[derive(Clone, Copy, Debug, Default)]
struct TicketRuntime {
    /// Already in the current journal (so it is written once per batch).
    journaled: bool,
    /// The routing key last computed for the ticket and the facts it was computed from; valid
    /// until the tier, the skills or the policy change.
    route: Option<(RouteFacts, KeyId)>,
    /// What the ticket counts in the service-level buckets now (see `stats`).
    contribution: Contribution,
}

#[derive(Default)]
pub(super) struct Tickets {
    all: Chunked<Ticket>,
    runtime: Chunked<TicketRuntime>,
    external: HashMap<Arc<str>, TicketId>,
    counts: StateCounts,
}

impl Tickets {
    #[inline]
    pub(super) fn get(&self, id: TicketId) -> Option<&Ticket> {
        self.all.by_id(id)
    }

    pub(super) fn len(&self) -> usize {
        self.all.len()
    }

    /// The id the next ticket gets: ids are dense and start at 1.
    pub(super) fn next_id(&self) -> TicketId {
        self.all.next_id()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Ticket> {
        self.all.iter()
    }

    /// The tickets after `after` (all for `None`), in id order.
    pub(super) fn iter_after(&self, after: Option<TicketId>) -> impl Iterator<Item = &Ticket> {
        self.all.iter_after(after)
    }

    /// The ticket created with `external_id`, if any.
    pub(super) fn by_external(&self, external_id: &str) -> Option<TicketId> {
        self.external.get(external_id).copied()
    }

    /// Every external id and its ticket (for tests that compare state).
    #[cfg(test)]
    pub(super) fn external_ids(&self) -> impl Iterator<Item = (&str, TicketId)> {
        self.external.iter().map(|(k, &v)| (k.as_ref(), v))
    }

    pub(super) fn counts(&self) -> &StateCounts {
        &self.counts
    }

    /// Adds `ticket`, which has the next id (the caller checked), with fresh runtime state;
    /// indexes its external id and counts it.
    pub(super) fn push(&mut self, ticket: Ticket) {
        debug_assert_eq!(ticket.id, self.next_id(), "ticket ids are dense");
        self.external.insert(ticket.external_id.clone(), ticket.id);
        self.counts.add(&ticket);
        self.all.push(ticket);
        self.runtime.push(TicketRuntime::default());
    }

    /// The ticket, which the caller has already looked up successfully. Its state and tier
    /// change through `set_state` and `set_tier`, which keep the counts.
    #[inline]
    pub(super) fn edit(&mut self, id: TicketId) -> &mut Ticket {
        &mut self.all[id]
    }

    pub(super) fn set_state(&mut self, id: TicketId, state: TicketState) {
        self.counts.sub(&self.all[id]);
        self.all[id].state = state;
        self.counts.add(&self.all[id]);
    }

    pub(super) fn set_tier(&mut self, id: TicketId, tier: Tier) {
        self.counts.sub(&self.all[id]);
        self.all[id].tier = tier;
        self.counts.add(&self.all[id]);
    }

    /// Re-derives the ticket's clock targets and calendars from `policy`; its cached routing
    /// key is stale from then on.
    pub(super) fn retarget(&mut self, id: TicketId, policy: &SlaPolicy) {
        self.all[id].retarget(policy);
        self.forget_route(id);
    }

    /// The routing key cached for the ticket, if it was computed from `facts`.
    #[inline]
    pub(super) fn route(&self, id: TicketId, facts: RouteFacts) -> Option<KeyId> {
        match self.runtime[id].route {
            Some((cached, key)) if cached == facts => Some(key),
            _ => None,
        }
    }

    pub(super) fn set_route(&mut self, id: TicketId, facts: RouteFacts, key: KeyId) {
        self.runtime[id].route = Some((facts, key));
    }

    /// The ticket's routing facts changed: its cached routing key is stale.
    pub(super) fn forget_route(&mut self, id: TicketId) {
        self.runtime[id].route = None;
    }

    /// What the ticket counts in the service-level buckets now.
    pub(super) fn contribution(&self, id: TicketId) -> Contribution {
        self.runtime[id].contribution
    }

    pub(super) fn set_contribution(&mut self, id: TicketId, c: Contribution) {
        self.runtime[id].contribution = c;
    }

    /// Marks the ticket as changed in the current batch; true the first time in the batch.
    #[inline]
    pub(super) fn mark(&mut self, id: TicketId) -> bool {
        let rt = &mut self.runtime[id];
        !std::mem::replace(&mut rt.journaled, true)
    }

    /// A new batch begins: these tickets (the last batch's) are no longer in a journal.
    pub(super) fn unmark(&mut self, ids: &[TicketId]) {
        for &id in ids {
            self.runtime[id].journaled = false;
        }
    }
}

impl Index<TicketId> for Tickets {
    type Output = Ticket;
    #[inline]
    fn index(&self, id: TicketId) -> &Ticket {
        &self.all[id]
    }
}
