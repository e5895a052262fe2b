//! The queues of waiting tickets: one priority queue per routing key, one per preferred agent
//! for tickets inside their hold window, and an arrival-ordered index per (tier, channel) for
//! depth and oldest-age gauges. Every QUEUED ticket is in exactly one of the first two.

use super::collections::{HashMap, PriorityQueue};
use super::model::{Order, Ticket};
use super::routing::RoutingKey;
use super::types::{AgentId, Channel, TicketId, Tier, Ts};
use std::cmp::Reverse;
use std::collections::BTreeSet;

pub type KeyId = u32;

/// Where a queued ticket waits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    Key(KeyId),
    /// Inside its hold window, for the preferred agent only.
    Held(AgentId),
}

type Heap = PriorityQueue<TicketId, Reverse<Order>>;

struct Placed {
    slot: Slot,
    bucket: usize,
    queued_at: Ts,
}

pub struct Queues {
    keys: Vec<RoutingKey>,
    key_ids: HashMap<RoutingKey, KeyId>,
    heaps: Vec<Heap>,
    /// The head of each key's heap and the key's channel, side by side in flat arrays: a pull
    /// reads these for every eligible key, so they must stay in cache.
    heads: Vec<Option<Order>>,
    channels: Vec<Channel>,
    held: HashMap<AgentId, Heap>,
    placed: HashMap<TicketId, Placed>,
    by_age: Vec<BTreeSet<(Ts, TicketId)>>,
}

impl Default for Queues {
    fn default() -> Self {
        Queues {
            keys: Vec::new(),
            key_ids: HashMap::default(),
            heaps: Vec::new(),
            heads: Vec::new(),
            channels: Vec::new(),
            held: HashMap::default(),
            placed: HashMap::default(),
            by_age: vec![BTreeSet::new(); Tier::COUNT * Channel::COUNT],
        }
    }
}

fn bucket(tier: Tier, channel: Channel) -> usize {
    tier.index() * Channel::COUNT + channel.index()
}

impl Queues {
    /// The id of `key`, creating its (empty) queue on first use.
    pub fn key_id(&mut self, key: RoutingKey) -> KeyId {
        if let Some(&id) = self.key_ids.get(&key) {
            return id;
        }
        let id = self.keys.len() as KeyId;
        self.channels.push(key.channel);
        self.keys.push(key.clone());
        self.key_ids.insert(key, id);
        self.heaps.push(Heap::default());
        self.heads.push(None);
        id
    }

    pub fn key(&self, id: KeyId) -> &RoutingKey {
        &self.keys[id as usize]
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Puts `ticket` in `slot`; a ticket already queued is moved.
    pub fn push(&mut self, ticket: &Ticket, slot: Slot) {
        self.remove(ticket.id);
        let order = Reverse(ticket.order());
        match &slot {
            Slot::Key(key) => {
                self.heaps[*key as usize].push(ticket.id, order);
                self.refresh_head(*key);
            }
            Slot::Held(agent) => {
                self.held
                    .entry(agent.clone())
                    .or_default()
                    .push(ticket.id, order);
            }
        }
        let bucket = bucket(ticket.tier, ticket.channel);
        self.by_age[bucket].insert((ticket.queued_at, ticket.id));
        let placed = Placed {
            slot,
            bucket,
            queued_at: ticket.queued_at,
        };
        self.placed.insert(ticket.id, placed);
    }

    /// Takes `id` out of whichever queue holds it; returns where it was.
    pub fn remove(&mut self, id: TicketId) -> Option<Slot> {
        let placed = self.placed.remove(&id)?;
        self.by_age[placed.bucket].remove(&(placed.queued_at, id));
        match &placed.slot {
            Slot::Key(key) => {
                self.heaps[*key as usize].remove(&id);
                self.refresh_head(*key);
            }
            Slot::Held(agent) => {
                if let Some(heap) = self.held.get_mut(agent) {
                    heap.remove(&id);
                    if heap.is_empty() {
                        self.held.remove(agent);
                    }
                }
            }
        }
        Some(placed.slot)
    }

    pub fn slot(&self, id: TicketId) -> Option<&Slot> {
        self.placed.get(&id).map(|p| &p.slot)
    }

    fn refresh_head(&mut self, key: KeyId) {
        self.heads[key as usize] = self.heaps[key as usize].peek().map(|(_, o)| o.0);
    }

    /// The best ticket waiting under `key` (its `Order` carries its id as `seq`).
    pub fn head(&self, key: KeyId) -> Option<Order> {
        self.heads[key as usize]
    }

    pub fn channel(&self, key: KeyId) -> Channel {
        self.channels[key as usize]
    }

    /// Tickets in `agent`'s hold queue (few: a personal manager's waiting customers).
    pub fn held_for<'a>(&'a self, agent: &AgentId) -> impl Iterator<Item = (TicketId, Order)> + 'a {
        self.held
            .get(agent)
            .into_iter()
            .flat_map(|heap| heap.iter().map(|(id, o)| (*id, o.0)))
    }

    /// Tickets held for `agent` (to release them when the agent goes offline).
    pub fn held_ids(&self, agent: &AgentId) -> Vec<TicketId> {
        let mut ids: Vec<TicketId> = self.held_for(agent).map(|(id, _)| id).collect();
        ids.sort();
        ids
    }

    pub fn depth(&self, tier: Tier, channel: Channel) -> usize {
        self.by_age[bucket(tier, channel)].len()
    }

    pub fn oldest(&self, tier: Tier, channel: Channel) -> Option<Ts> {
        self.by_age[bucket(tier, channel)]
            .first()
            .map(|(at, _)| *at)
    }

    pub fn len(&self) -> usize {
        self.placed.len()
    }

    /// Room for `tickets` more queued tickets in the index of where each is (at recovery).
    pub(super) fn reserve(&mut self, tickets: usize) {
        self.placed.reserve(tickets);
    }

    /// Every queued ticket, by (tier, channel) and then arrival: O(queued), not O(tickets).
    pub fn queued(&self) -> impl Iterator<Item = TicketId> + '_ {
        self.by_age.iter().flatten().map(|&(_, id)| id)
    }

    pub fn is_empty(&self) -> bool {
        self.placed.is_empty()
    }

    /// Every routing-key queue with its waiting tickets (for stats).
    pub fn key_queues(&self) -> impl Iterator<Item = (&RoutingKey, Vec<TicketId>)> {
        self.keys
            .iter()
            .zip(&self.heaps)
            .filter(|(_, heap)| !heap.is_empty())
            .map(|(key, heap)| (key, heap.iter().map(|(id, _)| *id).collect()))
    }
}
