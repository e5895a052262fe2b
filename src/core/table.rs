//! The ticket table: the tickets in memory (every open one), indexed by `TicketId`, and what
//! is kept in step with it: per-ticket runtime state (never persisted), the external-id index
//! and the counts per (state, tier, channel). A ticket's state and tier change only through `set_state` and
//! `set_tier`, so the counts cannot drift from the tickets.

use super::archive::ArchivedKeys;
use super::chunked::Chunked;
use super::collections::{HandleIndex, HashMap};
use super::intern::{Interner, Shares};
use super::model::Ticket;
use super::policy::SlaPolicy;
use super::queue::KeyId;
use super::rings::Ring;
use super::stats::Contribution;
use super::types::{Channel, Level, OptTs, SkillSet, TicketId, TicketState, Tier, Ts};
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
/// an onboarding hold applied. (Its time ring is one too: `set_ring` forgets the key when the
/// ring changes, which keeps these two bytes.)
pub(super) type RouteFacts = (Level, bool);

/// Per-ticket runtime state, beside each ticket; never persisted. Laid out to take 24 bytes,
/// so that a ticket and its runtime state fit one 320-byte allocation.
#[derive(Clone, Debug, Default)]
struct TicketRuntime {
    /// When its timer is armed for (see `timers`).
    timer: OptTs,
    /// What the ticket counts in the service-level buckets now (see `stats`); `None` for
    /// nothing, as for most of a backlog (tickets not yet answered, breached or finished).
    contribution: Option<Box<Contribution>>,
    /// The routing key last computed for the ticket, valid while `route_facts` (the facts it
    /// was computed from) are the ticket's and the tier, the skills and the policy are
    /// unchanged. Two fields rather than one `Option` so that `journaled` packs beside them.
    route_key: KeyId,
    route_facts: Option<RouteFacts>,
    /// Already in the current journal (so it is written once per batch).
    journaled: bool,
    /// The time ring it was last placed at (see `rings`), while queued.
    ring: Ring,
}

/// A ticket and its runtime state, boxed together in the table.
#[derive(Clone, Debug)]
struct Entry {
    ticket: Ticket,
    runtime: TicketRuntime,
}

/// The tickets in memory: every ticket not yet finished, and finished ones read back from the
/// archive for the current batch. Ids are issued here, densely from 1, whether or not the
/// tickets with lower ids are still in memory.
pub(super) struct Tickets {
    all: Chunked<Entry>,
    next: TicketId,
    /// Open tickets by external id (the id itself is kept once, in the ticket).
    external: HandleIndex<TicketId>,
    counts: StateCounts,
    /// Tickets read back from the archive and not changed since, with the archive entries
    /// their records have.
    thawed: HashMap<TicketId, ArchivedKeys>,
    /// Customer ids and skill sets repeat across tickets: one shared copy of each.
    customers: Interner<Arc<str>>,
    skill_sets: Interner<SkillSet>,
}

/// The external id of ticket `id`, which is in `all` (see `HandleIndex`).
fn external_id(all: &Chunked<Entry>, id: TicketId) -> &str {
    &all[id].ticket.external_id
}

impl Default for Tickets {
    fn default() -> Self {
        Tickets {
            all: Chunked::default(),
            next: TicketId(1),
            external: HandleIndex::default(),
            counts: StateCounts::default(),
            thawed: HashMap::default(),
            customers: Interner::default(),
            skill_sets: Interner::default(),
        }
    }
}

impl Tickets {
    #[inline]
    pub(super) fn get(&self, id: TicketId) -> Option<&Ticket> {
        self.all.by_id(id).map(|e| &e.ticket)
    }

    /// How many tickets are in memory.
    pub(super) fn len(&self) -> usize {
        self.all.len()
    }

    /// The id the next ticket gets: ids are dense and start at 1.
    pub(super) fn next_id(&self) -> TicketId {
        self.next
    }

    /// Ids below `next` were issued: after a restore from records that do not include the
    /// newest ticket (archived), numbering continues past it.
    pub(super) fn issued_before(&mut self, next: TicketId) {
        self.next = self.next.max(next);
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Ticket> {
        self.all.iter().map(|e| &e.ticket)
    }

    /// The tickets after `after` (all for `None`), in id order.
    pub(super) fn iter_after(&self, after: Option<TicketId>) -> impl Iterator<Item = &Ticket> {
        self.all.iter_after(after).map(|e| &e.ticket)
    }

    /// Room for `n` more tickets in the external-id index (at recovery).
    pub(super) fn reserve(&mut self, n: usize) {
        let all = &self.all;
        self.external.reserve(n, |id| external_id(all, id));
    }

    /// The ticket in memory created with `external_id`, if any.
    pub(super) fn by_external(&self, external_id: &str) -> Option<TicketId> {
        let all = &self.all;
        self.external
            .find(external_id, |id| self::external_id(all, id))
    }

    /// Every external id and its ticket (for tests that compare state).
    #[cfg(test)]
    pub(super) fn external_ids(&self) -> impl Iterator<Item = (&str, TicketId)> {
        self.all
            .iter()
            .map(|e| (&*e.ticket.external_id, e.ticket.id))
            .filter(|&(key, id)| self.by_external(key) == Some(id))
    }

    pub(super) fn counts(&self) -> &StateCounts {
        &self.counts
    }

    /// Adds a new `ticket`, which has the next id (the caller checked), with fresh runtime
    /// state; indexes its external id and counts it.
    pub(super) fn push(&mut self, ticket: Ticket) {
        debug_assert_eq!(ticket.id, self.next_id(), "ticket ids are dense");
        self.next = TicketId(ticket.id.0 + 1);
        self.insert(ticket);
    }

    /// Adds a ticket read back from the store at recovery (any id; numbering continues
    /// past it).
    pub(super) fn restore(&mut self, ticket: Ticket) {
        self.issued_before(TicketId(ticket.id.0 + 1));
        self.insert(ticket);
    }

    /// `restore` for a ticket whose customer id and skill set are already the shared copies:
    /// decoded with the interners `lend_shares` handed out, not yet given back.
    pub(super) fn restore_shared(&mut self, ticket: Ticket) {
        self.issued_before(TicketId(ticket.id.0 + 1));
        self.file(ticket);
    }

    /// Hands the interners out (to decode a recovery's tickets with, see
    /// `Shares::decoding`); until `adopt_shares`, tickets added here are not shared.
    pub(super) fn lend_shares(&mut self) -> Shares {
        Shares::new(
            std::mem::take(&mut self.customers),
            std::mem::take(&mut self.skill_sets),
        )
    }

    /// Takes the interners back, with every value they gained while lent.
    pub(super) fn adopt_shares(&mut self, shares: Shares) {
        (self.customers, self.skill_sets) = shares.into_parts();
    }

    /// Adds a finished ticket read back from the archive for this batch; unless it changes,
    /// `take_thawed` names it later so that it leaves memory again. A ticket already in memory
    /// is kept as it is (it is newer than any record).
    pub(super) fn thaw(&mut self, ticket: Ticket) -> bool {
        if self.all.contains(ticket.id) || ticket.id >= self.next {
            return false;
        }
        let keys = ArchivedKeys {
            id: ticket.id,
            archived_at: ticket.updated_at,
            external_id: ticket.external_id.clone(),
            customer_id: ticket.customer_id.clone(),
        };
        self.thawed.insert(ticket.id, keys);
        self.insert(ticket);
        true
    }

    /// Shares the customer id and skill set with other tickets, and files the ticket.
    fn insert(&mut self, mut ticket: Ticket) {
        ticket.customer_id = self.customers.intern(ticket.customer_id);
        ticket.skills = self.skill_sets.intern(ticket.skills);
        self.file(ticket);
    }

    /// Indexes the external id (an erased ticket has none) and counts the ticket.
    fn file(&mut self, ticket: Ticket) {
        let (id, key) = (ticket.id, ticket.external_id.clone());
        self.counts.add(&ticket);
        let runtime = TicketRuntime::default();
        self.all.insert(id, Entry { ticket, runtime });
        if !key.is_empty() {
            let all = &self.all;
            self.external.insert(&*key, id, |id| external_id(all, id));
        }
    }

    /// Takes the ticket out of memory (it is archived): unindexed and uncounted.
    pub(super) fn take(&mut self, id: TicketId) -> Option<Ticket> {
        let entry = self.all.remove(id)?;
        self.external.remove(&*entry.ticket.external_id, id);
        self.counts.sub(&entry.ticket);
        Some(entry.ticket)
    }

    /// The tickets thawed and not changed since (see `changed_thawed`).
    pub(super) fn take_thawed(&mut self) -> Vec<TicketId> {
        self.thawed.drain().map(|(id, _)| id).collect()
    }

    /// For a ticket thawed from the archive that changed: the archive entries its old record
    /// has, to delete (its record is written anew, live or archived). `None` for any other.
    pub(super) fn changed_thawed(&mut self, id: TicketId) -> Option<ArchivedKeys> {
        self.thawed.remove(&id)
    }

    /// Replaces the ticket's customer and external ids with the erased tombstone (empty:
    /// no caller can send an empty id), keeping every SLA fact.
    pub(super) fn erase(&mut self, id: TicketId) {
        let t = &mut self.all[id].ticket;
        self.external.remove(&*t.external_id, id);
        t.external_id = Arc::from("");
        t.customer_id = Arc::from("");
    }

    /// The ticket, which the caller has already looked up successfully. Its state and tier
    /// change through `set_state` and `set_tier`, which keep the counts.
    #[inline]
    pub(super) fn edit(&mut self, id: TicketId) -> &mut Ticket {
        &mut self.all[id].ticket
    }

    pub(super) fn set_state(&mut self, id: TicketId, state: TicketState) {
        let t = &mut self.all[id].ticket;
        self.counts.sub(t);
        t.state = state;
        self.counts.add(t);
    }

    pub(super) fn set_skills(&mut self, id: TicketId, skills: SkillSet) {
        self.all[id].ticket.skills = self.skill_sets.intern(skills);
    }

    pub(super) fn set_tier(&mut self, id: TicketId, tier: Tier) {
        let t = &mut self.all[id].ticket;
        self.counts.sub(t);
        t.tier = tier;
        self.counts.add(t);
    }

    /// Re-derives the ticket's clock targets and calendars from `policy`; its cached routing
    /// key is stale from then on.
    pub(super) fn retarget(&mut self, id: TicketId, policy: &SlaPolicy) {
        self.all[id].ticket.retarget(policy);
        self.forget_route(id);
    }

    /// The routing key cached for the ticket, if it was computed from `facts`.
    #[inline]
    pub(super) fn route(&self, id: TicketId, facts: RouteFacts) -> Option<KeyId> {
        let rt = &self.all[id].runtime;
        (rt.route_facts == Some(facts)).then_some(rt.route_key)
    }

    pub(super) fn set_route(&mut self, id: TicketId, facts: RouteFacts, key: KeyId) {
        let rt = &mut self.all[id].runtime;
        rt.route_key = key;
        rt.route_facts = Some(facts);
    }

    /// The time ring the ticket was last placed at.
    pub(super) fn ring(&self, id: TicketId) -> Ring {
        self.all[id].runtime.ring
    }

    /// Notes the ticket's time ring; a new one makes its cached routing key stale.
    pub(super) fn set_ring(&mut self, id: TicketId, ring: Ring) {
        let rt = &mut self.all[id].runtime;
        if rt.ring != ring {
            rt.ring = ring;
            rt.route_facts = None;
        }
    }

    /// The ticket's routing facts changed: its cached routing key is stale.
    pub(super) fn forget_route(&mut self, id: TicketId) {
        self.all[id].runtime.route_facts = None;
    }

    /// What the ticket counts in the service-level buckets now.
    pub(super) fn contribution(&self, id: TicketId) -> Contribution {
        self.all[id]
            .runtime
            .contribution
            .as_deref()
            .copied()
            .unwrap_or_default()
    }

    pub(super) fn set_contribution(&mut self, id: TicketId, c: Contribution) {
        let slot = &mut self.all[id].runtime.contribution;
        match slot {
            _ if c == Contribution::default() => *slot = None,
            Some(held) => **held = c,
            None => *slot = Some(Box::new(c)),
        }
    }

    /// When the ticket's timer is armed for.
    pub(super) fn timer(&self, id: TicketId) -> Option<Ts> {
        self.all.by_id(id).and_then(|e| e.runtime.timer.get())
    }

    /// Records when the ticket's timer is armed for; returns when it was armed before, or
    /// `None` (recording nothing) for a ticket not in memory.
    pub(super) fn set_timer(&mut self, id: TicketId, at: Option<Ts>) -> Option<Option<Ts>> {
        let entry = self.all.by_id_mut(id)?;
        Some(std::mem::replace(&mut entry.runtime.timer, at.into()).get())
    }

    /// Marks the ticket as changed in the current batch; true the first time in the batch.
    #[inline]
    pub(super) fn mark(&mut self, id: TicketId) -> bool {
        let rt = &mut self.all[id].runtime;
        !std::mem::replace(&mut rt.journaled, true)
    }

    /// A new batch begins: these tickets (the last batch's) are no longer in a journal.
    pub(super) fn unmark(&mut self, ids: &[TicketId]) {
        for &id in ids {
            if let Some(e) = self.all.by_id_mut(id) {
                e.runtime.journaled = false;
            }
        }
    }
}

impl Index<TicketId> for Tickets {
    type Output = Ticket;
    #[inline]
    fn index(&self, id: TicketId) -> &Ticket {
        &self.all[id].ticket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mimalloc rounds the boxed entry up to its size class: 320 bytes holds it, 321 would
    /// take 384 (a million open tickets: 61 MiB more).
    #[test]
    fn a_ticket_and_its_runtime_state_fit_320_bytes() {
        assert_eq!(std::mem::size_of::<TicketRuntime>(), 24);
        assert!(
            std::mem::size_of::<Entry>() <= 320,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }
}
