//! The checks after every step and across restarts: core and model agree, the core's own
//! bookkeeping is consistent, and nothing durable changes across a restart.

use super::*;

/// An agent as far as it must survive a restart (its last-seen instant is refreshed).
#[derive(Debug, PartialEq)]
pub(super) struct AgentRecord {
    pub(super) id: String,
    pub(super) skills: SkillSet,
    pub(super) tiers: Vec<Tier>,
    pub(super) capacity: [u32; 6],
    pub(super) presence: Presence,
    pub(super) load: [u32; 6],
    pub(super) holding: Vec<TicketId>,
}

/// What must survive a restart unchanged: every ticket record, each agent's profile, presence
/// and holdings, where each ticket is queued (by routing key, or held for an agent), every
/// ticket timer, and the external and request ids.
pub(super) struct Durable {
    pub(super) tickets: Vec<Ticket>,
    pub(super) agents: Vec<AgentRecord>,
    pub(super) queued: Vec<(TicketId, Option<Place>)>,
    pub(super) ticket_timers: BTreeMap<TicketId, Ts>,
    pub(super) external: BTreeMap<String, TicketId>,
    pub(super) idempotency: BTreeMap<String, Idempotency>,
}

/// Where a queued ticket waits: under a routing key, or held for one agent (a reopened
/// ticket, for the agent who resolved it).
#[derive(Debug, PartialEq)]
pub(super) enum Place {
    Key(RoutingKey),
    HeldFor(String),
}

pub(super) fn durable(s: &Scheduler) -> Durable {
    let tickets: Vec<Ticket> = s.tickets.iter().cloned().collect();
    let mut agents: Vec<_> = s
        .agents
        .iter()
        .map(|a| AgentRecord {
            id: a.id.to_string(),
            skills: a.skills.clone(),
            tiers: a.tiers.clone(),
            capacity: a.capacity,
            presence: a.presence,
            load: a.load,
            holding: a.held_tickets(),
        })
        .collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    let queued = tickets
        .iter()
        .map(|t| {
            let key = s.queues.slot(t.id).map(|slot| match slot {
                Slot::Key(k) => Place::Key(s.queues.key(k).clone()),
                Slot::Held(a) => Place::HeldFor(a.to_string()),
            });
            (t.id, key)
        })
        .collect();
    Durable {
        tickets,
        agents,
        queued,
        ticket_timers: s.timers.ticket_timers().collect(),
        external: s
            .tickets
            .external_ids()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        idempotency: s
            .requests()
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

impl Harness {
    /// Compares the durable parts before and after a restart, one item at a time.
    pub(super) fn same_after_restart(
        &self,
        before: Durable,
        after: Durable,
    ) -> Result<(), TestCaseError> {
        fn same<T: PartialEq + std::fmt::Debug>(
            h: &Harness,
            what: String,
            before: T,
            after: T,
        ) -> Result<(), TestCaseError> {
            if before == after {
                return Ok(());
            }
            let diff = format!(
                "{what} changed across a restart:\n  before: {before:?}\n  after:  {after:?}"
            );
            Err(h.fail(diff))
        }
        same(
            self,
            "ticket count".into(),
            before.tickets.len(),
            after.tickets.len(),
        )?;
        for (b, a) in before.tickets.iter().zip(&after.tickets) {
            same(self, format!("ticket {}", b.id), b, a)?;
        }
        same(
            self,
            "agent count".into(),
            before.agents.len(),
            after.agents.len(),
        )?;
        for (b, a) in before.agents.iter().zip(&after.agents) {
            same(self, format!("agent {}", b.id), b, a)?;
        }
        for (b, a) in before.queued.iter().zip(&after.queued) {
            same(self, format!("queue of ticket {}", b.0), b, a)?;
        }
        same(
            self,
            "ticket timers".into(),
            before.ticket_timers,
            after.ticket_timers,
        )?;
        same(self, "external ids".into(), before.external, after.external)?;
        same(
            self,
            "request ids".into(),
            before.idempotency,
            after.idempotency,
        )
    }

    /// Core and model agree on every ticket and agent and on the escalation steps fired since
    /// the last check; the core's bookkeeping is consistent.
    pub(super) fn check(&mut self) -> Result<(), TestCaseError> {
        for (i, m) in self.model.tickets.iter().enumerate() {
            let id = TicketId(i as u64 + 1);
            let archived = self.archived(id);
            let t = match (self.core.ticket(id), &archived) {
                (Some(t), _) => t,
                (None, Some(t)) => t,
                (None, None) => return Err(self.fail(format!("ticket {id} is nowhere"))),
            };
            self.agree(&format!("ticket {id}"), core_ticket(t), m.view())?;
        }
        let issued = self.model.tickets.len() as u64 + 1;
        self.agree(
            "next ticket id",
            self.core.tickets.next_id(),
            TicketId(issued),
        )?;
        self.agree("agent count", self.core.agents.len(), GHOST as usize)?;
        for (i, name) in NAMES.iter().enumerate().take(GHOST as usize) {
            let a = self.core.agent(&agent_id(name)).expect("agent exists");
            let core = AgentView {
                presence: a.presence,
                last_seen: a.last_seen.0,
                skills: a.skills.iter().map(|s| s.0.to_string()).collect(),
                tiers: a.tiers.clone(),
                capacity: a.capacity,
                load: a.load,
                missed_offers: a.missed_offers,
            };
            self.agree(&format!("agent {name}"), core, self.model.agent_view(i))?;
        }
        self.check_escalations()?;
        self.check_bookkeeping()?;
        self.check_stats()
    }

    /// GetQueueStats from the running aggregates equals a scan of every ticket: the service
    /// levels over a minute, the default hour and the longest window allowed, and the queue
    /// groups, at now and at instants around it (`queue_instants`); and the wallboard's clocks
    /// at warning, from their index, equal a scan of every clock.
    pub(super) fn check_stats(&self) -> Result<(), TestCaseError> {
        // Every ticket ever created: in memory, or archived on disk (its calendars derived
        // from the policy, as a read back does).
        let everywhere: Vec<Ticket> = (1..self.core.tickets.next_id().0)
            .filter_map(|id| {
                let id = TicketId(id);
                self.core.ticket(id).cloned().or_else(|| {
                    let mut t = self.archived(id)?;
                    t.retarget(self.core.policy());
                    Some(t)
                })
            })
            .collect();
        for window in [Span::mins(1), Span::hours(1), MAX_STATS_WINDOW] {
            self.agree(
                &format!("service levels over {window}"),
                self.core.service_levels(self.now, window),
                scanned_levels_of(&self.core, everywhere.iter(), self.now, window),
            )?;
        }
        let board = self.core.board(self.now);
        self.agree(
            "clocks at warning",
            (board.warning_counts, board.warnings),
            scanned_warnings(&self.core, self.now),
        )?;
        for at in queue_instants(&self.core, self.now) {
            self.agree(
                &format!("queue groups at {at:?}"),
                self.core.stats(at).queues,
                scanned_queues(&self.core, at),
            )?;
        }
        Ok(())
    }

    /// The core reported exactly the escalation steps the model fired since the last check:
    /// each once (a backdated create's past steps included), in any order across tickets.
    fn check_escalations(&mut self) -> Result<(), TestCaseError> {
        let mut core = std::mem::take(&mut self.escalated);
        let mut model = std::mem::take(&mut self.model.fired);
        core.sort();
        model.sort();
        self.agree("escalation steps fired", core, model)
    }

    /// No ticket in two agents' holdings; holdings and loads match the assignees; exactly the
    /// QUEUED tickets are in a queue; the timers match the tickets.
    pub(super) fn check_bookkeeping(&self) -> Result<(), TestCaseError> {
        let mut held_by: BTreeMap<TicketId, AgentId> = BTreeMap::new();
        for a in self.core.agents.iter() {
            let mut load = [0u32; 6];
            for id in a.held_tickets() {
                if let Some(other) = held_by.insert(id, a.id.clone()) {
                    return Err(self.fail(format!("ticket {id} held by {other} and {}", a.id)));
                }
                let t = self.core.ticket(id).expect("held ticket exists");
                load[t.channel.index()] += 1;
                self.agree(
                    &format!("assignee of ticket {id} held by {}", a.id),
                    t.holder(),
                    Some(&a.id),
                )?;
            }
            self.agree(&format!("load of {}", a.id), a.load, load)?;
        }
        for t in self.core.tickets.iter() {
            self.agree(
                &format!("holding of ticket {}", t.id),
                held_by.get(&t.id),
                t.holder(),
            )?;
            self.agree(
                &format!("ticket {} in a queue", t.id),
                self.core.queues.slot(t.id).is_some(),
                t.state == TicketState::Queued,
            )?;
        }
        // Each armed timer is the one its ticket in memory records, and no other is armed.
        let armed: BTreeMap<TicketId, Ts> = self.core.timers.ticket_timers().collect();
        let recorded: BTreeMap<TicketId, Ts> = self
            .core
            .tickets
            .iter()
            .filter_map(|t| Some((t.id, self.core.tickets.timer(t.id)?)))
            .collect();
        self.agree("armed ticket timers", armed, recorded)?;
        self.agree(
            "queued count",
            self.core.queued_count(),
            self.model
                .tickets
                .iter()
                .filter(|t| t.state == TicketState::Queued)
                .count(),
        )
    }
}
