//! The desks triage is compared with, as a help desk without a scheduler would run them, on the
//! same contacts and agents. Both know channels, skills, per-channel capacity and which tiers
//! an agent may serve (staffing facts, not scheduling), and nothing of tier order, priorities,
//! SLA targets or escalation:
//! - **FIFO**: a free agent takes the oldest contact waiting that it can handle (oldest first
//!   within each channel and across them);
//! - **round robin**: an arriving contact goes straight to the next agent in turn who can take
//!   it; when none can, it waits, and freed agents take the oldest they can handle.

use super::engine::Desk;
use super::traffic::Contact;
use crate::core::command::AgentProfile;
use crate::core::types::{Channel, SkillSet, Tier, Ts};
use crate::core::CoreConfig;
use std::collections::{HashMap, VecDeque};

struct Staff {
    skills: SkillSet,
    /// Tiers this agent may serve; empty: all.
    tiers: Vec<Tier>,
    capacity: [u32; Channel::COUNT],
    load: [u32; Channel::COUNT],
    /// The queues (by index) whose contacts this agent can handle, and how many queues were
    /// examined to find them (queues are only ever added).
    queues: Vec<usize>,
    scanned: usize,
    on_duty: bool,
}

impl Staff {
    fn serves(&self, tier: Tier) -> bool {
        self.tiers.is_empty() || self.tiers.contains(&tier)
    }
}

pub struct Baseline<'a> {
    contacts: &'a [Contact],
    staff: Vec<Staff>,
    /// One FIFO per (channel, tier, skills); contacts no longer waiting are skipped when met.
    queues: Vec<(Channel, VecDeque<usize>)>,
    queue_keys: Vec<(Tier, SkillSet)>,
    queue_of: HashMap<(Channel, Tier, SkillSet), usize>,
    waiting: Vec<bool>,
    /// Round robin: the agent whose turn is next; `None` for FIFO.
    turn: Option<usize>,
}

impl<'a> Baseline<'a> {
    pub fn fifo(roster: &[AgentProfile], contacts: &'a [Contact]) -> Self {
        Baseline::new(roster, contacts, None)
    }

    pub fn round_robin(roster: &[AgentProfile], contacts: &'a [Contact]) -> Self {
        Baseline::new(roster, contacts, Some(0))
    }

    fn new(roster: &[AgentProfile], contacts: &'a [Contact], turn: Option<usize>) -> Self {
        let defaults = CoreConfig::default().default_capacity;
        let staff = roster
            .iter()
            .map(|p| Staff {
                skills: p.skills.clone(),
                tiers: p.tiers.clone(),
                capacity: std::array::from_fn(|i| p.capacity[i].unwrap_or(defaults[i])),
                load: [0; Channel::COUNT],
                queues: Vec::new(),
                scanned: 0,
                on_duty: true,
            })
            .collect();
        Baseline {
            contacts,
            staff,
            queues: Vec::new(),
            queue_keys: Vec::new(),
            queue_of: HashMap::new(),
            waiting: vec![false; contacts.len()],
            turn,
        }
    }

    fn queue_for(&mut self, contact: usize) -> usize {
        let c = &self.contacts[contact];
        let key = (c.channel, c.tier, c.skills.clone());
        if let Some(&q) = self.queue_of.get(&key) {
            return q;
        }
        self.queues.push((c.channel, VecDeque::new()));
        self.queue_keys.push((c.tier, c.skills.clone()));
        self.queue_of.insert(key, self.queues.len() - 1);
        self.queues.len() - 1
    }

    /// Brings the agent's list of queues up to date with the queues that exist.
    fn learn_queues(&mut self, agent: usize) {
        let s = &mut self.staff[agent];
        for q in s.scanned..self.queues.len() {
            let (tier, skills) = &self.queue_keys[q];
            if s.serves(*tier) && skills.is_subset_of(&s.skills) {
                s.queues.push(q);
            }
        }
        s.scanned = self.queues.len();
    }

    /// The oldest contact still waiting at the head of queue `q`.
    fn head(&mut self, q: usize) -> Option<usize> {
        let queue = &mut self.queues[q].1;
        while let Some(&front) = queue.front() {
            if self.waiting[front] {
                return Some(front);
            }
            queue.pop_front();
        }
        None
    }

    fn take(&mut self, contact: usize, agent: usize) {
        self.waiting[contact] = false;
        self.staff[agent].load[self.contacts[contact].channel.index()] += 1;
    }
}

impl Desk for Baseline<'_> {
    fn arrive(&mut self, contact: usize, _now: Ts) -> Option<usize> {
        let q = self.queue_for(contact);
        self.queues[q].1.push_back(contact);
        self.waiting[contact] = true;
        let turn = self.turn?;
        let n = self.staff.len();
        let agent = (0..n)
            .map(|i| (turn + i) % n)
            .find(|&a| self.eligible(a, contact))?;
        self.take(contact, agent);
        self.turn = Some((agent + 1) % n);
        Some(agent)
    }

    fn pull(&mut self, agent: usize, _now: Ts) -> Option<usize> {
        self.learn_queues(agent);
        let mut best: Option<usize> = None;
        for i in 0..self.staff[agent].queues.len() {
            let q = self.staff[agent].queues[i];
            let s = &self.staff[agent];
            let channel = self.queues[q].0.index();
            if s.load[channel] >= s.capacity[channel] {
                continue;
            }
            if let Some(head) = self.head(q) {
                let older = |b: usize| (self.contacts[head].at, head) < (self.contacts[b].at, b);
                if best.is_none_or(older) {
                    best = Some(head);
                }
            }
        }
        let contact = best?;
        self.take(contact, agent);
        Some(contact)
    }

    fn answer(&mut self, _contact: usize, _agent: usize, _now: Ts) {}

    fn resolve(&mut self, contact: usize, agent: usize, _now: Ts) {
        let load = &mut self.staff[agent].load[self.contacts[contact].channel.index()];
        *load = load.saturating_sub(1);
    }

    fn abandon(&mut self, contact: usize, _now: Ts) -> bool {
        std::mem::replace(&mut self.waiting[contact], false)
    }

    fn eligible(&self, agent: usize, contact: usize) -> bool {
        let (s, c) = (&self.staff[agent], &self.contacts[contact]);
        let channel = c.channel.index();
        s.on_duty
            && s.load[channel] < s.capacity[channel]
            && s.serves(c.tier)
            && c.skills.is_subset_of(&s.skills)
    }

    fn has_room(&self, agent: usize) -> bool {
        let s = &self.staff[agent];
        s.on_duty && s.load.iter().zip(s.capacity).any(|(&l, c)| l < c)
    }

    fn on_duty(&mut self, agent: usize, on: bool, _now: Ts) {
        self.staff[agent].on_duty = on;
    }
}
