//! The queues of waiting tickets: one priority queue per routing key, one per preferred agent
//! for tickets inside their hold window, and the groups `GetQueueStats` reports (per tier,
//! channel and skills: depth, oldest, past due; see `queue_groups`), which also give the depth
//! and oldest-age gauges. Every QUEUED ticket is in exactly one of the first two, and in its
//! group.

use super::collections::{fill, HashMap};
use super::fifo_bound::{FifoBound, Shadow};
use super::model::{Band, Order, Ticket};
use super::queue_groups::{Filed, GroupId, QueueGroups};
use super::routing::RoutingKey;
use super::types::{AgentId, Channel, Level, TicketId, Tier, Ts};
use hashbrown::HashTable;
use std::cell::Cell;
use std::collections::BTreeSet;

pub type KeyId = u32;

/// Where a queued ticket waits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    Key(KeyId),
    /// Inside its hold window, for the preferred agent only.
    Held(AgentId),
}

/// The tickets waiting in one queue, best first. An `Order` carries the ticket's id, so it is
/// unique; a B-tree of 24-byte orders costs a third of an indexed binary heap per ticket.
type Line = BTreeSet<Order>;

/// The tickets waiting in one routing key's queue by arrival, oldest first (for the
/// FIFO-relative bound: `oldest_in`).
type Ages = BTreeSet<(Ts, TicketId)>;

/// `Placed::key` of a ticket waiting in a hold queue (no routing key has this id).
const HELD: KeyId = KeyId::MAX;

/// Where a queued ticket is, and the order and group it was filed under (to find it again):
/// the order's fields side by side rather than an `Order`, so that it packs into 40 bytes. One
/// per queued ticket, found by the ticket id it carries (`seq`).
#[derive(Clone, Copy, Debug)]
struct Placed {
    due: Ts,
    seq: TicketId,
    queued_at: Ts,
    /// Its routing key, or `HELD`.
    key: KeyId,
    group: GroupId,
    tier: Tier,
    band: Band,
    /// Whether FIFO's shadow counts it: the ticket waits for its first response.
    first: bool,
}

impl Placed {
    fn order(&self) -> Order {
        Order {
            band: self.band,
            due: self.due,
            tier: self.tier,
            seq: self.seq,
        }
    }

    /// What its group files, when it is pushed and again when it is taken out: the due as the
    /// order has it (`Ts::MAX`: no clock counts, so none is filed).
    fn filed(&self) -> Filed {
        Filed {
            id: self.seq,
            queued_at: self.queued_at,
            due: (self.due != Ts::MAX).then_some(self.due),
        }
    }
}

/// What FIFO's shadow knows of a queue entry: for a ticket waiting for its first response,
/// its channel and arrival; nothing for one queued again after an agent had it (FIFO's wait
/// is a first response's wait, as the bound's target is).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Was {
    first: Option<(Channel, Ts)>,
}

impl Was {
    fn of(ticket: &Ticket) -> Was {
        Was {
            first: ticket
                .first_assigned_at
                .is_none()
                .then_some((ticket.channel, ticket.queued_at)),
        }
    }
}

/// Where each queued ticket is, hashed by ticket id.
#[derive(Default)]
struct Placement {
    table: HashTable<Placed>,
    hasher: ahash::RandomState,
}

impl Placement {
    fn hash(&self, id: TicketId) -> u64 {
        self.hasher.hash_one(id)
    }

    fn get(&self, id: TicketId) -> Option<&Placed> {
        self.table.find(self.hash(id), |p| p.seq == id)
    }

    /// Files `placed`; the caller has removed any earlier placement of its ticket.
    fn insert(&mut self, placed: Placed) {
        let hasher = &self.hasher;
        self.table
            .insert_unique(hasher.hash_one(placed.seq), placed, |p| {
                hasher.hash_one(p.seq)
            });
    }

    fn remove(&mut self, id: TicketId) -> Option<Placed> {
        let found = self.table.find_entry(self.hash(id), |p| p.seq == id).ok()?;
        Some(found.remove().0)
    }

    fn reserve(&mut self, n: usize) {
        let hasher = &self.hasher;
        self.table.reserve(n, |p| hasher.hash_one(p.seq));
    }
}

#[derive(Default)]
pub struct Queues {
    keys: Vec<RoutingKey>,
    key_ids: HashMap<RoutingKey, KeyId>,
    lines: Vec<Line>,
    /// Per key, its line by arrival, and beside the heads the first of it.
    ages: Vec<Ages>,
    oldest: Vec<Option<(Ts, TicketId)>>,
    /// The FIFO queue per channel the bound measures against (see `fifo_bound`).
    shadow: Shadow,
    /// The head of each key's line and the key's channel, side by side in flat arrays: a pull
    /// reads these for every eligible key, so they must stay in cache.
    heads: Vec<Option<Order>>,
    /// Per key, where its first savable ticket was last found (see `first_savable`).
    savable: Vec<Cell<Option<Savable>>>,
    channels: Vec<Channel>,
    held: HashMap<AgentId, Line>,
    /// The agent each held ticket waits for (few: tickets inside a hold window).
    held_by: HashMap<TicketId, AgentId>,
    placed: Placement,
    groups: QueueGroups,
    /// While a recovery stages (see `stage`): what the lines get at `unstage`.
    staged: Option<Staged>,
}

/// The first savable ticket of a line as found at `since`: the smallest `Normal` order due at
/// or after `since`, kept right while the line changes (`Queues::file` and `remove`). For any
/// later instant at or before `first`'s due it is still the first savable ticket, since no
/// order of the line lies between; so a pull descends a line's B-tree again only once that
/// ticket went late or left.
#[derive(Clone, Copy, Debug)]
struct Savable {
    since: Ts,
    first: Option<Order>,
}

impl Savable {
    /// The hint after `order` joined the line.
    fn with(self, order: Order) -> Savable {
        let counts = order.band == Band::Normal && order.due >= self.since;
        if counts && self.first.is_none_or(|first| order < first) {
            return Savable {
                first: Some(order),
                ..self
            };
        }
        self
    }
}

/// Entries collected during a recovery, filed into their B-trees in one go by `unstage`.
#[derive(Default)]
struct Staged {
    /// Per routing key (index: `KeyId`), its tickets' orders and arrivals.
    lines: Vec<Vec<Order>>,
    ages: Vec<Vec<(Ts, TicketId)>>,
}

impl Queues {
    /// The id of `key`, creating its (empty) queue on first use.
    pub fn key_id(&mut self, key: RoutingKey) -> KeyId {
        if let Some(&id) = self.key_ids.get(&key) {
            return id;
        }
        let id = self.keys.len() as KeyId;
        debug_assert_ne!(id, HELD, "routing keys are few");
        self.channels.push(key.channel);
        self.keys.push(key.clone());
        self.key_ids.insert(key, id);
        self.lines.push(Line::new());
        self.ages.push(Ages::new());
        self.oldest.push(None);
        self.heads.push(None);
        self.savable.push(Cell::new(None));
        id
    }

    pub fn key(&self, id: KeyId) -> &RoutingKey {
        &self.keys[id as usize]
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Puts `ticket` in `slot`, in the place `ticket.order(force)` gives it (`force` as
    /// `SlaPolicy::forcing` says); a ticket already queued is moved (re-placed: for FIFO's
    /// shadow it stays where it was, unless its channel or arrival changed).
    pub fn push(&mut self, ticket: &Ticket, slot: Slot, force: Option<Level>) {
        let was = self.unplace(ticket.id).map(|(was, _)| was);
        let now = Some(Was::of(ticket));
        if was != now {
            self.shadow_leave(was);
            self.shadow_arrive(now);
        }
        self.place(ticket, slot, force);
    }

    /// Puts `ticket`, which is in no queue, in `slot`. For a recovery, whose tickets are
    /// each placed once: `push` would first look the ticket up to take it out, a miss in
    /// the placement table (a cache miss at a million tickets) for every restored ticket.
    pub(super) fn push_new(&mut self, ticket: &Ticket, slot: Slot, force: Option<Level>) {
        self.shadow_arrive(Some(Was::of(ticket)));
        self.place(ticket, slot, force);
    }

    fn place(&mut self, ticket: &Ticket, slot: Slot, force: Option<Level>) {
        debug_assert!(
            self.placed.get(ticket.id).is_none(),
            "ticket {} is queued already",
            ticket.id
        );
        let order = ticket.order(force);
        let key = match slot {
            Slot::Key(key) => {
                self.file(key, order, ticket.queued_at);
                key
            }
            Slot::Held(agent) => {
                self.held.entry(agent.clone()).or_default().insert(order);
                self.held_by.insert(ticket.id, agent);
                HELD
            }
        };
        let group = self
            .groups
            .group_of(ticket.tier, ticket.channel, &ticket.skills);
        let placed = Placed {
            due: order.due,
            seq: order.seq,
            queued_at: ticket.queued_at,
            key,
            group,
            tier: order.tier,
            band: order.band,
            first: ticket.first_assigned_at.is_none(),
        };
        self.groups.add(group, placed.filed());
        self.placed.insert(placed);
    }

    /// Puts `order` in the line of `key`, or stages it there.
    fn file(&mut self, key: KeyId, order: Order, queued_at: Ts) {
        let Some(staged) = &mut self.staged else {
            self.lines[key as usize].insert(order);
            let entry = (queued_at, order.seq);
            self.ages[key as usize].insert(entry);
            let oldest = &mut self.oldest[key as usize];
            if oldest.is_none_or(|o| entry < o) {
                *oldest = Some(entry);
            }
            self.refresh_head(key);
            let hint = &self.savable[key as usize];
            hint.set(hint.get().map(|h| h.with(order)));
            return;
        };
        let k = key as usize;
        if staged.lines.len() <= k {
            staged.lines.resize_with(k + 1, Vec::new);
            staged.ages.resize_with(k + 1, Vec::new);
        }
        staged.lines[k].push(order);
        staged.ages[k].push((queued_at, order.seq));
    }

    /// From now until `unstage`, tickets pushed into a routing key's line are collected, not
    /// inserted, so that a recovery builds each line (and each group's indexes) once from all
    /// its tickets: inserting them one at a time was about a sixth of the rebuild of a million.
    /// Meanwhile heads, depths and ages are incomplete; `push` and `remove` stay right (taking
    /// out a ticket that is placed files what was staged first).
    pub(super) fn stage(&mut self) {
        self.staged.get_or_insert_with(Staged::default);
        self.groups.stage();
        self.shadow.stage();
    }

    /// Files everything staged into the lines and the groups and refreshes the heads; the
    /// queues then work one ticket at a time again. Nothing to do when not staging.
    pub(super) fn unstage(&mut self) {
        self.groups.unstage();
        self.shadow.unstage();
        let Some(staged) = self.staged.take() else {
            return;
        };
        for (key, ages) in staged.ages.into_iter().enumerate() {
            fill(&mut self.ages[key], ages);
            self.oldest[key] = self.ages[key].first().copied();
        }
        for (key, orders) in staged.lines.into_iter().enumerate() {
            if !orders.is_empty() {
                fill(&mut self.lines[key], orders);
                self.refresh_head(key as KeyId);
                self.savable[key].set(None);
            }
        }
    }

    /// Takes `id` out of whichever queue holds it, unserved (cancelled, pending, set aside):
    /// FIFO loses that customer too. Returns where it was.
    pub fn remove(&mut self, id: TicketId) -> Option<Slot> {
        let (was, slot) = self.unplace(id)?;
        self.shadow_leave(Some(was));
        Some(slot)
    }

    /// Takes `id` out of whichever queue holds it because an agent got it: FIFO would have
    /// served its oldest. Returns where it was.
    pub fn serve(&mut self, id: TicketId) -> Option<Slot> {
        let (was, slot) = self.unplace(id)?;
        if let Some(first) = was.first {
            self.shadow.serve(first.0);
        }
        Some(slot)
    }

    /// Takes `id` out for the length of one pull (the pulling agent rejected it lately):
    /// unlike `remove`, FIFO's shadow keeps it, and `put_back` returns it.
    pub fn set_aside(&mut self, id: TicketId) -> Option<Slot> {
        self.unplace(id).map(|(_, slot)| slot)
    }

    /// Returns a ticket `set_aside` took out, to `slot`.
    pub fn put_back(&mut self, ticket: &Ticket, slot: Slot, force: Option<Level>) {
        self.place(ticket, slot, force);
    }

    /// FIFO's shadow gains a queue entry waiting for its first response.
    fn shadow_arrive(&mut self, entry: Option<Was>) {
        if let Some(Was {
            first: Some((channel, at)),
        }) = entry
        {
            self.shadow.arrive(channel, at);
        }
    }

    /// FIFO's shadow loses an entry that left unserved.
    fn shadow_leave(&mut self, entry: Option<Was>) {
        if let Some(Was {
            first: Some((channel, at)),
        }) = entry
        {
            self.shadow.leave(channel, at);
        }
    }

    /// Takes `id` out of its queue, its line and its group (FIFO's shadow is the caller's).
    fn unplace(&mut self, id: TicketId) -> Option<(Was, Slot)> {
        let placed = self.placed.remove(id)?;
        // A ticket placed while staging may have its entries among the staged ones.
        self.unstage();
        self.groups.remove(placed.group, placed.filed());
        let was = Was {
            first: placed
                .first
                .then(|| (self.groups.channel(placed.group), placed.queued_at)),
        };
        if placed.key != HELD {
            let order = placed.order();
            self.lines[placed.key as usize].remove(&order);
            let k = placed.key as usize;
            let entry = (placed.queued_at, id);
            self.ages[k].remove(&entry);
            if self.oldest[k] == Some(entry) {
                self.oldest[k] = self.ages[k].first().copied();
            }
            self.refresh_head(placed.key);
            let hint = &self.savable[placed.key as usize];
            if hint.get().is_some_and(|h| h.first == Some(order)) {
                hint.set(None);
            }
            return Some((was, Slot::Key(placed.key)));
        }
        let agent = self.held_by.remove(&id)?;
        if let Some(line) = self.held.get_mut(&agent) {
            line.remove(&placed.order());
            if line.is_empty() {
                self.held.remove(&agent);
            }
        }
        Some((was, Slot::Held(agent)))
    }

    /// The ticket that has waited longest under `key`: its arrival and id.
    pub fn oldest_in(&self, key: KeyId) -> Option<(Ts, TicketId)> {
        self.oldest[key as usize]
    }

    /// The latest arrival `bound` forces in `channel` at `now` (see `Shadow::cutoff`).
    pub fn cutoff(&self, bound: &FifoBound, channel: Channel, now: Ts) -> Option<Ts> {
        self.shadow.cutoff(bound, channel, now)
    }

    /// FIFO's shadow queue (see `fifo_bound`).
    pub fn shadow(&self) -> &Shadow {
        &self.shadow
    }

    pub fn slot(&self, id: TicketId) -> Option<Slot> {
        let placed = self.placed.get(id)?;
        match placed.key {
            HELD => self.held_by.get(&id).cloned().map(Slot::Held),
            key => Some(Slot::Key(key)),
        }
    }

    fn refresh_head(&mut self, key: KeyId) {
        self.heads[key as usize] = self.lines[key as usize].first().copied();
    }

    /// The best ticket waiting under `key` (its `Order` carries its id as `seq`).
    pub fn head(&self, key: KeyId) -> Option<Order> {
        self.heads[key as usize]
    }

    /// The best ticket under `key` that can still meet its target at `now`: the first of
    /// the line's `Normal` band due at or after `now`. The late ones sort before it, so this is
    /// one B-tree descent, needed only when the head is late, and skipped while the one found
    /// last is still savable and in the line.
    pub fn first_savable(&self, key: KeyId, now: Ts) -> Option<Order> {
        let hint = &self.savable[key as usize];
        if let Some(h) = hint.get() {
            if h.since <= now && h.first.is_none_or(|f| f.due >= now) {
                return h.first;
            }
        }
        let from = Order {
            band: Band::Normal,
            due: now,
            tier: Tier::ALL[0],
            seq: TicketId(0),
        };
        let first = self.lines[key as usize].range(from..).next().copied();
        hint.set(Some(Savable { since: now, first }));
        first
    }

    pub fn channel(&self, key: KeyId) -> Channel {
        self.channels[key as usize]
    }

    /// Tickets in `agent`'s hold queue (few: a personal manager's waiting customers).
    pub fn held_for<'a>(&'a self, agent: &AgentId) -> impl Iterator<Item = (TicketId, Order)> + 'a {
        self.held
            .get(agent)
            .into_iter()
            .flat_map(|line| line.iter().map(|o| (o.seq, *o)))
    }

    /// Tickets held for `agent` (to release them when the agent goes offline).
    pub fn held_ids(&self, agent: &AgentId) -> Vec<TicketId> {
        let mut ids: Vec<TicketId> = self.held_for(agent).map(|(id, _)| id).collect();
        ids.sort();
        ids
    }

    pub fn depth(&self, tier: Tier, channel: Channel) -> usize {
        self.groups.depth(tier, channel)
    }

    pub fn oldest(&self, tier: Tier, channel: Channel) -> Option<Ts> {
        self.groups.oldest(tier, channel)
    }

    /// The groups of queued tickets `GetQueueStats` reports.
    pub fn groups(&self) -> &QueueGroups {
        &self.groups
    }

    pub fn len(&self) -> usize {
        self.placed.table.len()
    }

    /// Room for `tickets` more queued tickets in the index of where each is (at recovery).
    pub(super) fn reserve(&mut self, tickets: usize) {
        self.placed.reserve(tickets);
    }

    /// Every queued ticket, by group and then arrival: O(queued), not O(tickets).
    pub fn queued(&self) -> impl Iterator<Item = TicketId> + '_ {
        self.groups.queued()
    }

    pub fn is_empty(&self) -> bool {
        self.placed.table.is_empty()
    }

    /// The order a queued ticket was filed under.
    pub fn order_of(&self, id: TicketId) -> Option<Order> {
        self.placed.get(id).map(Placed::order)
    }

    /// The orders waiting in `slot`'s line, best first by `Order` (for `explain`).
    pub fn line(&self, slot: &Slot) -> impl Iterator<Item = Order> + '_ {
        let line = match slot {
            Slot::Key(key) => self.lines.get(*key as usize),
            Slot::Held(agent) => self.held.get(agent),
        };
        line.into_iter().flatten().copied()
    }

    /// The orders of every queued ticket, line by line, hold queues included (for `explain`).
    pub fn orders(&self) -> impl Iterator<Item = Order> + '_ {
        let held = self.held.values().flatten();
        self.lines.iter().flatten().chain(held).copied()
    }

    /// Every routing-key queue with its waiting tickets (for stats).
    pub fn key_queues(&self) -> impl Iterator<Item = (&RoutingKey, Vec<TicketId>)> {
        self.keys
            .iter()
            .zip(&self.lines)
            .filter(|(_, line)| !line.is_empty())
            .map(|(key, line)| (key, line.iter().map(|o| o.seq).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One per queued ticket: a million waiting tickets keep 40 MB of these (plus the table's
    /// free slots), where an `Order` kept whole beside the group would make each 48 bytes.
    #[test]
    fn a_placement_packs_into_40_bytes() {
        assert_eq!(std::mem::size_of::<Placed>(), 40);
    }
}
