//! The discrete-event loop, on virtual time: contacts arrive, free agents take work, agents
//! answer at once, the conversation goes on as the contact's turns say (the customer writes,
//! the agent replies, the ticket may wait PENDING on the customer in between), and the agent
//! resolves after the handle time or the last reply, whichever is later; customers leave when
//! their patience runs out before a first answer. Who takes what is the desk's decision (`Desk`): triage's real core
//! or a baseline. The loop itself is the same for all, so their figures compare like for like.

use super::traffic::Contact;
use crate::core::types::{Span, Ts};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

/// A way of handing contacts to agents. Contacts and agents are numbered (their index in the
/// day's contacts and in the roster).
pub trait Desk {
    /// Contact `contact` arrives at `now`. A desk that routes on arrival (round robin) names
    /// the agent that takes it at once; the others queue it.
    fn arrive(&mut self, contact: usize, now: Ts) -> Option<usize>;
    /// Agent `agent` asks for work: the contact it takes, if any.
    fn pull(&mut self, agent: usize, now: Ts) -> Option<usize>;
    /// Agent `agent` answered `contact` (first response) as soon as it took it.
    fn answer(&mut self, contact: usize, agent: usize, now: Ts);
    /// Agent `agent` finished `contact`.
    fn resolve(&mut self, contact: usize, agent: usize, now: Ts);
    /// The customer of `contact`, which an agent holds, writes again.
    fn customer_writes(&mut self, _contact: usize, _now: Ts) {}
    /// Agent `agent` answers the customer's latest message on `contact`.
    fn reply(&mut self, _contact: usize, _agent: usize, _now: Ts) {}
    /// Agent `agent` sets `contact` PENDING: waiting on the customer.
    fn set_pending(&mut self, _contact: usize, _agent: usize, _now: Ts) {}
    /// The contacts the desk took back from their agents since the last call (triage's core
    /// does at L2 of a clock that waits on the agent); each waits to be taken again.
    fn taken_back(&mut self) -> Vec<usize> {
        Vec::new()
    }
    /// The customer of `contact` leaves unanswered; false if the contact was not waiting.
    fn abandon(&mut self, contact: usize, now: Ts) -> bool;
    /// Whether `agent` may take `contact` now (room, skills; tier where the desk knows tiers).
    fn eligible(&self, agent: usize, contact: usize) -> bool;
    /// Whether `agent` has room for any more work at all.
    fn has_room(&self, agent: usize) -> bool;
    /// `agent` comes on duty (takes work again) or goes off duty (takes no more; what it holds
    /// it finishes).
    fn on_duty(&mut self, agent: usize, on: bool, now: Ts);
    /// The next instant the desk has timed work of its own (SLA escalations).
    fn next_deadline(&self) -> Option<Ts> {
        None
    }
    /// Does the timed work due by `now`; true if that may have made queued contacts
    /// eligible for more agents.
    fn tick(&mut self, _now: Ts) -> bool {
        false
    }
}

/// What happened to one contact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub answered: Option<Ts>,
    pub resolved: Option<Ts>,
    pub abandoned: Option<Ts>,
    /// Each follow-up message of the customer, and when an agent answered it.
    pub messages: Vec<(Ts, Option<Ts>)>,
    /// The spans the ticket waited PENDING on the customer.
    pub pending: Vec<(Ts, Ts)>,
    /// How often the desk took the contact back from its agent.
    pub taken_back: u32,
}

/// Everything a run produced, for the report.
#[derive(Debug)]
pub struct Run {
    pub outcomes: Vec<Outcome>,
    /// Per agent: time holding at least one contact.
    pub busy: Vec<Span>,
    /// Per agent: time on duty, until the last arrival, finish or departure at most.
    pub staffed: Vec<Span>,
    /// Queue depth (contacts waiting) and the oldest wait, sampled each simulated minute.
    pub samples: Vec<(Ts, usize, Span)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Duty {
        agent: usize,
        on: bool,
    },
    Arrive(usize),
    Abandon(usize),
    /// The steps of a held contact, for the holding that scheduled them (`hold`): a contact
    /// taken back and taken again is a new holding, and the old one's steps are dropped.
    Writes {
        contact: usize,
        hold: u32,
    },
    Replies {
        contact: usize,
        agent: usize,
        hold: u32,
    },
    Finish {
        contact: usize,
        agent: usize,
        hold: u32,
    },
}

/// Where a held contact's conversation stands.
#[derive(Clone, Copy, Debug)]
struct Holding {
    agent: Option<usize>,
    /// Counts the holdings of the contact; events of earlier ones are stale.
    hold: u32,
    /// The next turn of the contact's conversation.
    turn: usize,
    /// The earliest the agent resolves: the first answer plus the handle time (shifted by
    /// any time the contact spent taken back).
    ends: Ts,
    /// While taken back: the handle time that was left.
    left: Span,
    /// Since when the contact waits PENDING on the customer.
    pending_since: Option<Ts>,
}

struct Loop<'a, D> {
    desk: D,
    contacts: &'a [Contact],
    events: BinaryHeap<Reverse<(Ts, u64, Event)>>,
    /// Arrivals, finishes and live departures still queued: the run ends when none is left
    /// and no contact waits.
    work: usize,
    /// Whether the contact's departure event is still live (it has not been answered).
    may_leave: Vec<bool>,
    /// When the last arrival, finish or departure happened.
    last_work: Ts,
    seq: u64,
    /// Agents with room whose last pull found nothing, longest idle first.
    idle: BTreeSet<(u64, usize)>,
    idle_key: Vec<Option<u64>>,
    outcomes: Vec<Outcome>,
    held: Vec<u32>,
    busy_since: Vec<Ts>,
    busy: Vec<Span>,
    /// Since when each agent is on duty, `None` while off.
    on_since: Vec<Option<Ts>>,
    staffed: Vec<Span>,
    /// Contacts waiting for an agent, by since when (arrival, or the message a taken-back
    /// contact's customer waits to have answered).
    waiting: BTreeSet<(Ts, usize)>,
    waiting_since: Vec<Ts>,
    holdings: Vec<Holding>,
}

/// How long after the last arrival, finish or departure the run goes on for contacts still
/// waiting: longer than any escalation ladder of the default policy (a review's L3 comes 96 h
/// after it arrives).
const STRANDED: Span = Span::hours(24 * 7);

/// When an agent is on duty: absolute (start, end) intervals (`Ts::MAX`: no end), or `None` for
/// all the time.
pub type Duty = Option<Vec<(Ts, Ts)>>;

/// Runs `contacts` through `desk` with one agent per entry of `duty`, on duty as it says.
pub fn run<D: Desk>(desk: D, contacts: &[Contact], duty: &[Duty]) -> Run {
    let agents = duty.len();
    let start = contacts.first().map_or(Ts(0), |c| c.at);
    let mut l = Loop {
        desk,
        contacts,
        events: BinaryHeap::with_capacity(contacts.len() * 2),
        work: 0,
        may_leave: vec![false; contacts.len()],
        last_work: start,
        seq: 0,
        idle: BTreeSet::new(),
        idle_key: vec![None; agents],
        outcomes: vec![Outcome::default(); contacts.len()],
        held: vec![0; agents],
        busy_since: vec![start; agents],
        busy: vec![Span(0); agents],
        on_since: vec![None; agents],
        staffed: vec![Span(0); agents],
        waiting: BTreeSet::new(),
        waiting_since: contacts.iter().map(|c| c.at).collect(),
        holdings: vec![
            Holding {
                agent: None,
                hold: 0,
                turn: 0,
                ends: start,
                left: Span(0),
                pending_since: None,
            };
            contacts.len()
        ],
    };
    for (agent, shifts) in duty.iter().enumerate() {
        match shifts {
            None => l.on_since[agent] = Some(start),
            Some(shifts) => {
                l.desk.on_duty(agent, false, start);
                for &(from, to) in shifts {
                    l.push(from.max(start), Event::Duty { agent, on: true });
                    if to != Ts::MAX {
                        l.push(to.max(start), Event::Duty { agent, on: false });
                    }
                }
            }
        }
    }
    for (i, c) in contacts.iter().enumerate() {
        l.push(c.at, Event::Arrive(i));
    }
    for agent in 0..agents {
        l.fill(agent, start);
    }
    let mut samples = Vec::new();
    let mut next_sample = start;
    while let Some(at) = l.next_at() {
        while next_sample <= at {
            samples.push(l.sample(next_sample));
            next_sample = next_sample.plus(Span::mins(1));
        }
        l.step(at);
    }
    let end = l.last_work;
    for agent in 0..agents {
        l.off_duty(agent, end);
    }
    Run {
        outcomes: l.outcomes,
        busy: l.busy,
        staffed: l.staffed,
        samples,
    }
}

impl<D: Desk> Loop<'_, D> {
    fn push(&mut self, at: Ts, event: Event) {
        self.seq += 1;
        match event {
            Event::Duty { .. } => {}
            Event::Abandon(contact) => {
                self.may_leave[contact] = true;
                self.work += 1;
            }
            Event::Arrive(_)
            | Event::Writes { .. }
            | Event::Replies { .. }
            | Event::Finish { .. } => self.work += 1,
        }
        self.events.push(Reverse((at, self.seq, event)));
    }

    /// The next instant with something to do. The run ends once no contact waits and no
    /// arrival, departure or finish is left: shift changes and the desk's own timers
    /// (follow-ups days after resolution) do not prolong it, but while a contact waits they
    /// do, for a shift or an escalation may still find it an agent.
    fn next_at(&self) -> Option<Ts> {
        if self.work == 0 && self.waiting.is_empty() {
            return None;
        }
        let event = self.events.peek().map(|Reverse((at, _, _))| *at);
        let next = match (event, self.desk.next_deadline()) {
            (Some(e), Some(d)) => e.min(d),
            (e, d) => e.or(d)?,
        };
        // Contacts nobody can take (no agent on duty ever again, none with the skills after
        // every escalation) would otherwise keep the run going as long as the desk has any
        // timer, a year for presence: a week after the last real event ends it.
        (self.work > 0 || next <= self.last_work.plus(STRANDED)).then_some(next)
    }

    /// Handles what is due at `now`: the desk's timers first, then the next event.
    fn step(&mut self, now: Ts) {
        if self.desk.next_deadline().is_some_and(|at| at <= now) && self.desk.tick(now) {
            for contact in self.desk.taken_back() {
                self.take_back(contact, now);
            }
            let idle: Vec<usize> = self.idle.iter().map(|&(_, a)| a).collect();
            for agent in idle {
                self.fill(agent, now);
            }
        }
        let due = matches!(self.events.peek(), Some(Reverse((at, _, _))) if *at <= now);
        if !due {
            return;
        }
        let Some(Reverse((_, _, event))) = self.events.pop() else {
            return;
        };
        match event {
            Event::Duty { .. } => {}
            Event::Abandon(contact) => {
                if !self.forget_departure(contact) {
                    return; // answered before: nothing to do
                }
                self.last_work = now;
            }
            Event::Arrive(_)
            | Event::Writes { .. }
            | Event::Replies { .. }
            | Event::Finish { .. } => {
                self.work -= 1;
                self.last_work = now;
            }
        }
        match event {
            Event::Duty { agent, on: true } => {
                if self.on_since[agent].is_none() {
                    self.on_since[agent] = Some(now);
                    self.desk.on_duty(agent, true, now);
                    self.fill(agent, now);
                }
            }
            Event::Duty { agent, on: false } => self.off_duty(agent, now),
            Event::Arrive(contact) => self.arrive(contact, now),
            Event::Abandon(contact) => self.abandon(contact, now),
            Event::Writes { contact, hold } if self.current(contact, hold) => {
                self.writes(contact, now)
            }
            Event::Replies {
                contact,
                agent,
                hold,
            } if self.current(contact, hold) => {
                self.desk.reply(contact, agent, now);
                self.answered_message(contact, now);
                self.next_exchange(contact, agent, now);
            }
            Event::Finish {
                contact,
                agent,
                hold,
            } if self.current(contact, hold) => {
                self.desk.resolve(contact, agent, now);
                self.outcomes[contact].resolved = Some(now);
                self.let_go(contact, agent, now);
            }
            Event::Writes { .. } | Event::Replies { .. } | Event::Finish { .. } => {}
        }
    }

    /// Whether `hold` is the contact's holding in force (an agent holds it under it).
    fn current(&self, contact: usize, hold: u32) -> bool {
        let h = &self.holdings[contact];
        h.hold == hold && h.agent.is_some()
    }

    /// The customer writes: the turn's message waits for the agent's reply.
    fn writes(&mut self, contact: usize, now: Ts) {
        let h = &mut self.holdings[contact];
        let (Some(agent), Some(turn)) = (h.agent, self.contacts[contact].turns.get(h.turn)) else {
            return;
        };
        if let Some(since) = h.pending_since.take() {
            self.outcomes[contact].pending.push((since, now));
        }
        let hold = h.hold;
        self.desk.customer_writes(contact, now);
        self.outcomes[contact].messages.push((now, None));
        let event = Event::Replies {
            contact,
            agent,
            hold,
        };
        self.push(now.plus(turn.reply_in), event);
    }

    /// The customer's open message, if any, is answered now; the conversation moves on.
    fn answered_message(&mut self, contact: usize, now: Ts) {
        if let Some((_, reply @ None)) = self.outcomes[contact].messages.last_mut() {
            *reply = Some(now);
            self.holdings[contact].turn += 1;
        }
    }

    /// After the agent's reply: the next turn (set PENDING first if it says so), or the
    /// resolution once the handle time is over.
    fn next_exchange(&mut self, contact: usize, agent: usize, now: Ts) {
        let h = self.holdings[contact];
        let event = match self.contacts[contact].turns.get(h.turn) {
            Some(turn) => {
                if turn.pending {
                    self.desk.set_pending(contact, agent, now);
                    self.holdings[contact].pending_since = Some(now);
                }
                let event = Event::Writes {
                    contact,
                    hold: h.hold,
                };
                (now.plus(turn.after), event)
            }
            None => {
                let event = Event::Finish {
                    contact,
                    agent,
                    hold: h.hold,
                };
                (h.ends.max(now), event)
            }
        };
        self.push(event.0, event.1);
    }

    /// The agent no longer holds the contact (resolved, or taken back): its slot frees.
    fn let_go(&mut self, contact: usize, agent: usize, now: Ts) {
        self.holdings[contact].agent = None;
        self.held[agent] -= 1;
        if self.held[agent] == 0 {
            self.busy[agent].0 += now.since(self.busy_since[agent]).0;
        }
        self.fill(agent, now);
    }

    /// The desk took the contact back from its agent: it waits for another, since the
    /// customer's open message; the work left of the handle time goes with it.
    fn take_back(&mut self, contact: usize, now: Ts) {
        let h = &mut self.holdings[contact];
        let Some(agent) = h.agent else {
            return;
        };
        h.hold += 1;
        h.left = h.ends.since(now);
        let outcome = &mut self.outcomes[contact];
        outcome.taken_back += 1;
        let since = match outcome.messages.last() {
            Some(&(at, None)) => at,
            _ => now,
        };
        self.waiting_since[contact] = since;
        self.waiting.insert((since, contact));
        self.let_go(contact, agent, now);
    }

    fn arrive(&mut self, contact: usize, now: Ts) {
        let c = &self.contacts[contact];
        if let Some(patience) = c.patience {
            self.push(c.at.plus(patience), Event::Abandon(contact));
        }
        self.waiting.insert((now, contact));
        if let Some(agent) = self.desk.arrive(contact, now) {
            self.start(contact, agent, now);
            self.fill(agent, now);
            return;
        }
        // Idle agents ask in turn, longest idle first, until the contact is taken; each asks
        // once (one that asked and is still idle comes back with a later key, not visited).
        let last = self.seq;
        let mut from = (0, 0);
        while self.outcomes[contact].answered.is_none() {
            let Some(&(key, agent)) = self.idle.range(from..).next() else {
                break;
            };
            if key > last {
                break;
            }
            from = (key, agent + 1);
            if self.desk.eligible(agent, contact) {
                self.fill(agent, now);
            }
        }
    }

    fn abandon(&mut self, contact: usize, now: Ts) {
        if self.outcomes[contact].answered.is_none() && self.desk.abandon(contact, now) {
            self.outcomes[contact].abandoned = Some(now);
            self.waiting.remove(&(self.waiting_since[contact], contact));
        }
    }

    fn off_duty(&mut self, agent: usize, now: Ts) {
        if let Some(since) = self.on_since[agent].take() {
            self.staffed[agent].0 += now.since(since).0;
            self.desk.on_duty(agent, false, now);
            if let Some(key) = self.idle_key[agent].take() {
                self.idle.remove(&(key, agent));
            }
        }
    }

    /// The agent takes work until it has no room or nothing it may take is waiting; then it
    /// is idle (if it has room) from `now`. An agent off duty takes nothing.
    fn fill(&mut self, agent: usize, now: Ts) {
        if let Some(key) = self.idle_key[agent].take() {
            self.idle.remove(&(key, agent));
        }
        if self.on_since[agent].is_none() {
            return;
        }
        while self.desk.has_room(agent) {
            match self.desk.pull(agent, now) {
                Some(contact) => self.start(contact, agent, now),
                None => {
                    self.seq += 1;
                    self.idle.insert((self.seq, agent));
                    self.idle_key[agent] = Some(self.seq);
                    return;
                }
            }
        }
    }

    /// The contact's departure is no longer pending (it came, or its contact was answered);
    /// false if it was not pending.
    fn forget_departure(&mut self, contact: usize) -> bool {
        let pending = std::mem::replace(&mut self.may_leave[contact], false);
        if pending {
            self.work -= 1;
        }
        pending
    }

    /// The agent takes the contact and answers at once: the first answer, or, for a contact
    /// taken back from another agent, the reply its customer waits for.
    fn start(&mut self, contact: usize, agent: usize, now: Ts) {
        self.forget_departure(contact);
        self.desk.answer(contact, agent, now);
        self.waiting.remove(&(self.waiting_since[contact], contact));
        if self.held[agent] == 0 {
            self.busy_since[agent] = now;
        }
        self.held[agent] += 1;
        let h = &mut self.holdings[contact];
        h.agent = Some(agent);
        match self.outcomes[contact].answered {
            None => {
                self.outcomes[contact].answered = Some(now);
                h.ends = now.plus(self.contacts[contact].handle);
            }
            Some(_) => {
                h.ends = now.plus(h.left);
                self.answered_message(contact, now);
            }
        }
        self.next_exchange(contact, agent, now);
    }

    fn sample(&self, at: Ts) -> (Ts, usize, Span) {
        let oldest = self
            .waiting
            .iter()
            .next()
            .map_or(Span(0), |(t, _)| at.since(*t));
        (at, self.waiting.len(), oldest)
    }
}
