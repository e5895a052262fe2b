//! Checking the daemon against the ledger after every restart, the event stream as it is
//! stitched across the kills, and the final comparison of the two.

use super::ledger::{Acked, Ledger, Problems};
use super::load::request_for;
use crate::common::Clients;
use pb::{Channel, EventKind, TicketState};
use rand::rngs::StdRng;
use rand::Rng;
use std::collections::{BTreeMap, HashMap, HashSet};
use triage::proto as pb;

/// What the stitched event stream showed, across every daemon of the run.
#[derive(Default)]
pub(super) struct Tally {
    /// The last event seen; a watcher after a restart starts at it and must see it unchanged.
    pub(super) last: Option<pb::Event>,
    pub(super) events: u64,
    pub(super) created: HashMap<u64, u32>,
    pub(super) resolved: HashMap<u64, u32>,
    /// (ticket, agent) -> ASSIGNED events
    pub(super) assigned: HashMap<(u64, String), u32>,
    /// (ticket, metric, level) -> steps fired (WARNING, BREACHED, ESCALATED)
    pub(super) escalations: HashMap<(u64, i32, i32), u32>,
    pub(super) steps: u64,
    pub(super) problems: Problems,
}

impl Tally {
    pub(super) fn resume_from(&self) -> u64 {
        self.last.as_ref().map_or(1, |e| e.sequence)
    }

    /// `again` is the first event of a resumed stream: it must be the last one seen.
    pub(super) fn see(&mut self, e: pb::Event, again: bool) {
        if again {
            if self.last.as_ref() != Some(&e) {
                self.problems.lost.push(format!(
                    "event {} changed across a kill: saw {:?}, now {e:?}",
                    self.resume_from(),
                    self.last
                ));
            }
            return;
        }
        let expected = self.last.as_ref().map_or(1, |l| l.sequence + 1);
        if e.sequence != expected {
            self.problems.other.push(format!(
                "event sequence {} where {expected} was due (gap or repeat)",
                e.sequence
            ));
        }
        self.events += 1;
        let t = e.ticket_id;
        match e.kind() {
            EventKind::Created => {
                let n = self.created.entry(t).or_default();
                *n += 1;
                if *n > 1 {
                    self.problems.lost.push(format!(
                        "ticket {t} has {n} CREATED events: a create that was published \
                         (so flushed) was lost and its id reused"
                    ));
                }
            }
            EventKind::Resolved => {
                let n = self.resolved.entry(t).or_default();
                *n += 1;
                if *n > 1 {
                    self.problems.lost.push(format!(
                        "ticket {t} has {n} RESOLVED events (never reopened)"
                    ));
                }
            }
            EventKind::Assigned => {
                *self.assigned.entry((t, e.agent_id.clone())).or_default() += 1;
            }
            EventKind::Warning | EventKind::Breached | EventKind::Escalated => {
                self.steps += 1;
                let n = self.escalations.entry((t, e.metric, e.level)).or_default();
                *n += 1;
                if *n > 1 {
                    self.problems.other.push(format!(
                        "ticket {t}: {:?} {:?} fired {n} times (event {})",
                        e.metric(),
                        e.level(),
                        e.sequence
                    ));
                }
            }
            _ => {}
        }
        self.last = Some(e);
    }
}

pub(super) fn channel_name(c: Channel) -> String {
    c.as_str_name()
        .trim_start_matches("CHANNEL_")
        .to_ascii_lowercase()
}

/// Agent ids with their loads, the part of the agents that only assignments change.
pub(super) fn loads(agents: &[pb::Agent]) -> BTreeMap<String, BTreeMap<String, u32>> {
    agents
        .iter()
        .map(|a| {
            let load = a
                .load
                .iter()
                .filter(|(_, &n)| n > 0)
                .map(|(k, &n)| (k.clone(), n))
                .collect();
            (a.agent_id.clone(), load)
        })
        .collect()
}

/// Checks the daemon against everything acknowledged so far; returns the tickets each agent
/// holds (ticket, epoch) for the agents to finish, and how many tickets there are.
pub(super) async fn verify(
    c: &mut Clients,
    acked: &Acked,
    rng: &mut StdRng,
    problems: &mut Problems,
) -> (HashMap<String, Vec<(u64, u64)>>, usize) {
    // Timers keep firing while we read (an L2 take-back lowers a load), so the tickets are
    // read between two identical reads of the agents' loads. Nobody pulls meanwhile.
    let (tickets, agents) = {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let before = c.all_agents().await;
            let tickets = c.all_tickets().await;
            let after = c.all_agents().await;
            if loads(&before) == loads(&after) || attempt == 10 {
                break (tickets, after);
            }
        }
    };
    let mut by_id: HashMap<u64, pb::Ticket> = HashMap::with_capacity(tickets.len());
    for t in tickets {
        if let Some(old) = by_id.insert(t.ticket_id, t) {
            problems
                .other
                .push(format!("ticket {} listed twice", old.ticket_id));
        }
    }
    let count = by_id.len();
    for id in 1..=count as u64 {
        if !by_id.contains_key(&id) {
            problems
                .other
                .push(format!("ticket ids are not dense: {id} missing of {count}"));
            break;
        }
    }

    for (id, external) in &acked.created {
        match by_id.get(id) {
            None => problems
                .lost
                .push(format!("acknowledged create {id} ({external}) is gone")),
            Some(t) if &t.external_id != external => problems.lost.push(format!(
                "acknowledged ticket {id} was {external}, now {}",
                t.external_id
            )),
            Some(_) => {}
        }
    }
    // GetTicket for a sample, and idempotent retries of a few acknowledged creates.
    let max = acked.created.keys().max().copied().unwrap_or(0);
    for i in 0..40 {
        if max == 0 {
            break;
        }
        let id = rng.random_range(1..=max);
        let Some(external) = acked.created.get(&id) else {
            continue;
        };
        if i < 20 {
            match c
                .tickets
                .get_ticket(pb::GetTicketRequest { ticket_id: id })
                .await
            {
                Ok(t) if &t.get_ref().external_id == external => {}
                Ok(t) => problems.lost.push(format!(
                    "GetTicket {id}: external id {} instead of {external}",
                    t.get_ref().external_id
                )),
                Err(s) => problems
                    .lost
                    .push(format!("GetTicket {id} ({external}): {s:?}")),
            }
        } else {
            match c.tickets.create_ticket(request_for(external)).await {
                Ok(t) if t.get_ref().ticket_id == id => {}
                Ok(t) => problems.lost.push(format!(
                    "a retry of acknowledged create {external} (ticket {id}) answered ticket {}",
                    t.get_ref().ticket_id
                )),
                Err(s) => problems.lost.push(format!(
                    "a retry of acknowledged create {external} (ticket {id}): {s:?}"
                )),
            }
        }
    }

    for id in &acked.resolved {
        match by_id.get(id) {
            Some(t) if t.state() == TicketState::Resolved => {}
            Some(t) => problems.lost.push(format!(
                "acknowledged resolve of {id} lost: the ticket is {:?}",
                t.state()
            )),
            None => problems.lost.push(format!("resolved ticket {id} is gone")),
        }
    }
    for (id, epochs) in &acked.assigned {
        let Some(t) = by_id.get(id) else {
            problems.lost.push(format!("assigned ticket {id} is gone"));
            continue;
        };
        let Some((&top, holder)) = epochs.last_key_value() else {
            continue;
        };
        if t.lease_epoch < top {
            problems.lost.push(format!(
                "ticket {id}: assignment to {holder} at epoch {top} was acknowledged, the \
                 ticket is at epoch {} ({:?}, agent {:?})",
                t.lease_epoch,
                t.state(),
                t.agent_id
            ));
        } else if t.lease_epoch == top && &t.agent_id != holder {
            problems.double.push(format!(
                "ticket {id} at epoch {top} was acknowledged to {holder}, the daemon says \
                 {:?} holds it ({:?})",
                t.agent_id,
                t.state()
            ));
        }
    }

    let known: HashSet<&str> = agents.iter().map(|a| a.agent_id.as_str()).collect();
    let mut held: HashMap<(String, String), u32> = HashMap::new();
    let mut holdings: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    for t in by_id.values() {
        let holds = matches!(t.state(), TicketState::Assigned | TicketState::Pending);
        if holds && !known.contains(t.agent_id.as_str()) {
            problems.double.push(format!(
                "ticket {} is {:?} but held by {:?}",
                t.ticket_id,
                t.state(),
                t.agent_id
            ));
        } else if holds {
            *held
                .entry((t.agent_id.clone(), channel_name(t.channel())))
                .or_default() += 1;
            let answered = t
                .sla
                .iter()
                .any(|s| s.metric() == pb::SlaMetric::FirstResponse && s.met_at.is_some());
            // Unanswered chat tickets are left to the L2 take-back.
            if answered || t.channel() != Channel::Chat {
                holdings
                    .entry(t.agent_id.clone())
                    .or_default()
                    .push((t.ticket_id, t.lease_epoch));
            }
        } else if !t.agent_id.is_empty() {
            problems.double.push(format!(
                "ticket {} is {:?} yet names agent {:?}",
                t.ticket_id,
                t.state(),
                t.agent_id
            ));
        }
    }
    for (agent, load) in loads(&agents) {
        let mine: BTreeMap<String, u32> = held
            .iter()
            .filter(|((a, _), _)| *a == agent)
            .map(|((_, ch), &n)| (ch.clone(), n))
            .collect();
        if load != mine {
            problems.double.push(format!(
                "agent {agent} has load {load:?} but the tickets naming it are {mine:?}"
            ));
        }
    }
    for list in holdings.values_mut() {
        list.sort_unstable();
    }
    (holdings, count)
}

/// The final comparison: every acknowledged create and resolve has exactly one event, every
/// acknowledged assignment at least one ASSIGNED event, and the ledger file, read afresh, says
/// exactly what the clients were told.
pub(super) fn events_against_ledger(ledger: &Ledger, tally: &Tally) -> Problems {
    let mut problems = Problems::default();
    let acked = &ledger.acked;
    for (id, external) in &acked.created {
        if tally.created.get(id) != Some(&1) {
            problems.lost.push(format!(
                "acknowledged create {id} ({external}) has {:?} CREATED events",
                tally.created.get(id)
            ));
        }
    }
    for id in &acked.resolved {
        if tally.resolved.get(id) != Some(&1) {
            problems.lost.push(format!(
                "acknowledged resolve of {id} has {:?} RESOLVED events",
                tally.resolved.get(id)
            ));
        }
    }
    let mut heard: HashMap<(u64, String), u32> = HashMap::new();
    for (id, epochs) in &acked.assigned {
        for agent in epochs.values() {
            *heard.entry((*id, agent.clone())).or_default() += 1;
        }
    }
    for (key, n) in heard {
        let events = tally.assigned.get(&key).copied().unwrap_or(0);
        if events < n {
            problems.lost.push(format!(
                "ticket {} was acknowledged to {} {n} times but has {events} ASSIGNED events",
                key.0, key.1
            ));
        }
    }
    let reread = ledger.reread();
    if reread != *acked {
        problems.other.push(
            "the ledger file does not say what the clients were told (re-read differs)".into(),
        );
    }
    problems
}
