//! triage's own desk: the production scheduler core, unmodified, driven through its commands
//! on virtual time. Contact `i` becomes ticket `i + 1` (tickets are numbered in creation
//! order); agents pull with `Command::Pull`, answer with an agent reply under their lease, set
//! PENDING and resolve under it; customers write with a customer reply; customers who leave
//! are cancelled as ABANDONED. What the core puts back in the queue (an agent who did not
//! answer the customer in time, at L2) the engine hears of as taken back.

use super::engine::Desk;
use super::traffic::Contact;
use crate::core::chunked;
use crate::core::command::{AgentProfile, Author, Command, Epoch, Lease, NewTicket, Reply};
use crate::core::event::Event;
use crate::core::policy::SlaPolicy;
use crate::core::types::{AgentId, CancelReason, Channel, Level, Presence, Span, TicketId, Ts};
use crate::core::{CoreConfig, CoreError, Scheduler};

pub struct TriageDesk<'a> {
    core: Scheduler,
    contacts: &'a [Contact],
    agents: Vec<AgentId>,
    /// The lease each taken contact is held under.
    leases: Vec<u64>,
    /// Contacts the core put back in the queue since the engine last asked.
    requeued: Vec<usize>,
}

impl<'a> TriageDesk<'a> {
    /// A core with `policy` and the roster on duty. Simulated agents are present for the whole
    /// run, so the presence TTL is set beyond it (they send no heartbeats between pulls).
    pub fn new(
        policy: &SlaPolicy,
        roster: &[AgentProfile],
        contacts: &'a [Contact],
    ) -> Result<Self, CoreError> {
        let policy = SlaPolicy {
            presence_ttl: Span::hours(24 * 365),
            ..policy.clone()
        };
        let mut core = Scheduler::new(policy, CoreConfig::default());
        let start = contacts.first().map_or(Ts(0), |c| c.at);
        let mut agents = Vec::with_capacity(roster.len());
        for profile in roster {
            let id = profile.id.clone();
            let on_duty = Command::SetPresence {
                agent: id.clone(),
                presence: Presence::Available,
                reason: None,
            };
            core.apply(Command::UpsertAgent(profile.clone()), start)?;
            core.apply(on_duty, start)?;
            agents.push(id);
        }
        core.take_journal();
        Ok(TriageDesk {
            core,
            contacts,
            agents,
            leases: vec![0; contacts.len()],
            requeued: Vec::new(),
        })
    }

    /// Applies a command the simulation knows to be valid; the journal is dropped (nothing is
    /// persisted in a simulation).
    fn apply(&mut self, cmd: Command, now: Ts) -> Option<Reply> {
        let reply = self.core.apply(cmd, now).ok();
        self.drain();
        reply
    }

    /// Drops the journal but for what the engine must hear: requeued tickets. True if
    /// something may have become takeable by more agents (an escalation to L2 or L3, which
    /// widens routing, or a requeue).
    fn drain(&mut self) -> bool {
        let journal = self.core.take_journal();
        let mut widened = false;
        for e in &journal.events {
            match e {
                Event::Requeued { ticket, .. } => {
                    widened = true;
                    self.requeued.extend(chunked::position(*ticket));
                }
                Event::Escalated { level, .. } => widened |= *level >= Level::L2,
                _ => {}
            }
        }
        widened
    }

    fn lease(&self, contact: usize, agent: usize) -> Lease {
        Lease {
            agent: self.agents[agent].clone(),
            epoch: Epoch::new(self.leases[contact]),
        }
    }
}

fn ticket(contact: usize) -> TicketId {
    TicketId(contact as u64 + 1)
}

impl Desk for TriageDesk<'_> {
    fn arrive(&mut self, contact: usize, now: Ts) -> Option<usize> {
        let c = &self.contacts[contact];
        let new = NewTicket {
            needs: None,
            first_skill: c.first_skill,
            request_id: String::new(),
            external_id: format!("sim-{contact}"),
            customer_id: format!("customer-{contact}"),
            tier: c.tier,
            channel: c.channel,
            priority: c.priority,
            skills: c.skills.clone(),
            sentiment: c.sentiment,
            preferred_agent: None,
            created_at: None,
        };
        self.apply(Command::CreateTicket(new), now);
        None
    }

    fn pull(&mut self, agent: usize, now: Ts) -> Option<usize> {
        match self.apply(Command::Pull(self.agents[agent].clone()), now) {
            Some(Reply::Pulled(Some(a))) => {
                // Contacts arrive as tickets 1, 2, 3, ...: ticket n is contact n - 1.
                let contact = chunked::position(a.ticket.id)?;
                self.leases[contact] = a.lease_epoch.get();
                Some(contact)
            }
            _ => None,
        }
    }

    fn answer(&mut self, contact: usize, agent: usize, now: Ts) {
        let reply = Command::RecordReply {
            ticket: ticket(contact),
            author: Author::Agent(self.lease(contact, agent)),
            next_update_by: None,
        };
        self.apply(reply, now);
    }

    fn resolve(&mut self, contact: usize, agent: usize, now: Ts) {
        let lease = Some(self.lease(contact, agent));
        self.apply(
            Command::Resolve {
                ticket: ticket(contact),
                lease,
            },
            now,
        );
    }

    fn abandon(&mut self, contact: usize, now: Ts) -> bool {
        let cancel = Command::Cancel {
            ticket: ticket(contact),
            reason: CancelReason::Abandoned,
        };
        self.apply(cancel, now).is_some()
    }

    fn eligible(&self, agent: usize, contact: usize) -> bool {
        match (
            self.core.agent(&self.agents[agent]),
            self.core.ticket(ticket(contact)),
        ) {
            (Some(a), Some(t)) => a.may_take(t),
            _ => false,
        }
    }

    fn has_room(&self, agent: usize) -> bool {
        self.core
            .agent(&self.agents[agent])
            .is_some_and(|a| Channel::ALL.iter().any(|&c| a.has_room(c)))
    }

    /// Off duty is AWAY: no new work, and what the agent holds stays its own to finish.
    fn on_duty(&mut self, agent: usize, on: bool, now: Ts) {
        let presence = if on {
            Presence::Available
        } else {
            Presence::Away
        };
        let agent = self.agents[agent].clone();
        let reason = None;
        self.apply(
            Command::SetPresence {
                agent,
                presence,
                reason,
            },
            now,
        );
    }

    fn next_deadline(&self) -> Option<Ts> {
        self.core.next_deadline()
    }

    /// Escalations to L2 and L3 widen routing, and requeues put tickets back: either may give
    /// idle agents something to take.
    fn tick(&mut self, now: Ts) -> bool {
        self.core.tick(now);
        self.drain()
    }

    fn customer_writes(&mut self, contact: usize, now: Ts) {
        let message = Command::RecordReply {
            ticket: ticket(contact),
            author: Author::Customer,
            next_update_by: None,
        };
        self.apply(message, now);
    }

    fn reply(&mut self, contact: usize, agent: usize, now: Ts) {
        self.answer(contact, agent, now);
    }

    fn set_pending(&mut self, contact: usize, agent: usize, now: Ts) {
        let lease = self.lease(contact, agent);
        let pending = Command::SetPending {
            ticket: ticket(contact),
            lease,
        };
        self.apply(pending, now);
    }

    fn taken_back(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.requeued)
    }
}
