//! One step of a run: the same operation applied to the core and to the model.

use super::*;

impl Harness {
    /// Applies `op` to the core and to the model, compares what they answer, and adds the step
    /// to the trace.
    pub(super) fn op(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let got = match op {
            Op::AgentReply { .. }
            | Op::CustomerReply { .. }
            | Op::SetPending { .. }
            | Op::Resolve { .. }
            | Op::Release { .. }
            | Op::Reopen { .. }
            | Op::Cancel { .. }
            | Op::Answer { .. } => Some(self.ticket_step(op)?),
            Op::Assign { .. } | Op::TransferToQueue { .. } => Some(self.supervisor_step(op)?),
            Op::Create { .. }
            | Op::Pull { .. }
            | Op::SetPresence { .. }
            | Op::Heartbeat { .. }
            | Op::Upsert { .. } => Some(self.desk_step(op)?),
            Op::Erase { customer } => Some(self.erase(*customer)?),
            Op::EveryoneBack
            | Op::Wait { .. }
            | Op::Live { .. }
            | Op::ToNextDeadline
            | Op::ToNextTicketStep
            | Op::Restart { .. } => {
                self.time_step(op)?;
                None
            }
        };
        let shown = match got {
            Some(got) => format!("{got:?}"),
            None => format!("now = T0 + {} ms", self.now.0 - T0.0),
        };
        self.trace
            .push(format!("#{} {op:?} -> {shown}", self.trace.len()));
        Ok(())
    }

    /// A command about one ticket, by a front end or an agent holding (or claiming) it.
    fn ticket_step(&mut self, op: &Op) -> Result<Outcome, TestCaseError> {
        let now = self.now.0;
        match *op {
            Op::AgentReply { ticket, lease } => {
                let ticket = self.id(ticket);
                let (arg, lease) = self.lease(ticket, lease);
                let expected = self.model.agent_reply(ticket, arg, now);
                let cmd = Command::RecordReply {
                    ticket: TicketId(ticket),
                    author: Author::Agent(lease),
                    next_update_by: None,
                };
                self.ticket_command(cmd, expected)
            }
            Op::CustomerReply { ticket } => {
                let ticket = self.id(ticket);
                let expected = self.model.customer_reply(ticket, now);
                let cmd = Command::RecordReply {
                    ticket: TicketId(ticket),
                    author: Author::Customer,
                    next_update_by: None,
                };
                self.ticket_command(cmd, expected)
            }
            Op::SetPending { ticket, lease } => {
                let ticket = self.id(ticket);
                let (arg, lease) = self.lease(ticket, lease);
                let expected = self.model.set_pending(ticket, arg, now);
                let cmd = Command::SetPending {
                    ticket: TicketId(ticket),
                    lease,
                };
                self.ticket_command(cmd, expected)
            }
            Op::Resolve { ticket, lease } => {
                let ticket = self.id(ticket);
                let lease = lease.map(|l| self.lease(ticket, l));
                let expected = self.model.resolve(ticket, lease.as_ref().map(|l| l.0), now);
                let cmd = Command::Resolve {
                    ticket: TicketId(ticket),
                    lease: lease.map(|l| l.1),
                };
                self.ticket_command(cmd, expected)
            }
            Op::Release { ticket, lease } => {
                let ticket = self.id(ticket);
                let (arg, lease) = self.lease(ticket, lease);
                let expected = self.model.release(ticket, arg, now);
                let cmd = Command::Release {
                    ticket: TicketId(ticket),
                    lease,
                };
                self.ticket_command(cmd, expected)
            }
            Op::Reopen { ticket } => {
                let ticket = self.id(ticket);
                let expected = self.model.reopen(ticket, now);
                let cmd = Command::Reopen {
                    ticket: TicketId(ticket),
                };
                self.ticket_command(cmd, expected)
            }
            Op::Cancel { ticket } => {
                let ticket = self.id(ticket);
                let expected = self.model.cancel(ticket);
                let cmd = Command::Cancel {
                    ticket: TicketId(ticket),
                    reason: CancelReason::Abandoned,
                };
                self.ticket_command(cmd, expected)
            }
            Op::Answer {
                ticket,
                lease,
                reject,
            } => {
                let ticket = self.id(ticket);
                let (arg, lease) = self.lease(ticket, lease);
                let id = TicketId(ticket);
                let (expected, cmd) = match reject {
                    false => (
                        self.model.accept(ticket, arg),
                        Command::Accept { ticket: id, lease },
                    ),
                    true => {
                        let reason = "busy".to_string();
                        let cmd = Command::Reject {
                            ticket: id,
                            lease,
                            reason,
                        };
                        (self.model.reject(ticket, arg, now), cmd)
                    }
                };
                self.ticket_command(cmd, expected)
            }
            _ => unreachable!("{op:?} is not about one ticket"),
        }
    }

    /// A supervisor's move. Besides agreeing with the model: a move to an agent gives the
    /// ticket a later epoch than it had and leaves every clock as it was; a move to a queue
    /// leaves it held by nobody, at a later epoch if someone held it.
    fn supervisor_step(&mut self, op: &Op) -> Result<Outcome, TestCaseError> {
        let now = self.now.0;
        let (id, expected, cmd) = match *op {
            Op::Assign {
                ticket,
                agent,
                force,
                transfer,
            } => {
                let id = self.id(ticket);
                let expected = self.model.assign(id, agent, force);
                let agent = agent_id(NAMES[agent as usize]);
                let cmd = match transfer {
                    false => Command::Assign {
                        ticket: TicketId(id),
                        agent,
                        force,
                    },
                    true => Command::Transfer {
                        ticket: TicketId(id),
                        to: TransferTo::Agent { agent, force },
                        note: String::new(),
                    },
                };
                (id, expected, cmd)
            }
            Op::TransferToQueue {
                ticket,
                skills: need,
            } => {
                let id = self.id(ticket);
                let expected = self.model.transfer_to_queue(id, need, now);
                let to = TransferTo::Queue {
                    skills: Some((skills(need), 0)),
                    tier: None,
                };
                let cmd = Command::Transfer {
                    ticket: TicketId(id),
                    to,
                    note: String::new(),
                };
                (id, expected, cmd)
            }
            _ => unreachable!("{op:?} is not a supervisor's move"),
        };
        let before = self.core.ticket(TicketId(id)).cloned();
        let moved = expected.is_ok();
        let got = self.ticket_command(cmd, expected)?;
        if let (true, Some(before)) = (moved, before) {
            let after = self.core.ticket(TicketId(id)).expect("still in memory");
            let grew = after.epoch().get() > before.epoch().get();
            if matches!(op, Op::Assign { .. }) {
                prop_assert!(grew, "a new holder gets a new epoch");
                let clocks = |t: &Ticket| t.clocks().cloned().collect::<Vec<_>>();
                prop_assert_eq!(clocks(after), clocks(&before), "a move keeps the clocks");
            } else {
                prop_assert!(after.holder().is_none());
                prop_assert_eq!(grew, before.holder().is_some(), "the holder's lease ends");
            }
        }
        Ok(got)
    }

    /// A create, or a command about one agent.
    fn desk_step(&mut self, op: &Op) -> Result<Outcome, TestCaseError> {
        let now = self.now.0;
        match *op {
            Op::Create {
                ext,
                request,
                tier,
                channel,
                priority,
                upset,
                skills: need,
                age,
            } => {
                let created_at = age.at(now);
                let fp = (ext, tier, channel, priority, upset, need, created_at);
                let expected = self.model.create(fp, request, now);
                let new = NewTicket {
                    needs: None,
                    first_skill: 0,
                    request_id: request.map_or(String::new(), |r| format!("req-{r}")),
                    external_id: format!("ext-{ext}"),
                    customer_id: format!("cust-{}", customer_of(ext)),
                    tier,
                    channel,
                    priority,
                    skills: skills(need),
                    sentiment: if upset {
                        Sentiment::Negative
                    } else {
                        Sentiment::Neutral
                    },
                    preferred_agent: None,
                    created_at: created_at.map(Ts),
                };
                self.command(Command::CreateTicket(new), expected)
            }
            Op::Pull { agent } => {
                let expected = self.model.pull(agent, now);
                let cmd = Command::Pull(agent_id(NAMES[agent as usize]));
                self.command(cmd, expected)
            }
            Op::SetPresence { agent, presence } => {
                let expected = self.model.set_presence(agent, presence, now);
                let cmd = Command::SetPresence {
                    agent: agent_id(NAMES[agent as usize]),
                    presence,
                    reason: None,
                };
                self.command(cmd, expected)
            }
            Op::Heartbeat { agent } => {
                let expected = self.model.heartbeat(agent, now);
                let cmd = Command::Heartbeat(agent_id(NAMES[agent as usize]));
                self.command(cmd, expected)
            }
            Op::Upsert { agent, variant } => {
                let expected = self.model.upsert(agent, variant);
                let p = profile(agent as usize, variant);
                let cmd = Command::UpsertAgent(AgentProfile {
                    levels: Default::default(),
                    id: agent_id(NAMES[agent as usize]),
                    display_name: NAMES[agent as usize].into(),
                    skills: skills(p.skills),
                    tiers: p.tiers.to_vec(),
                    capacity: p.capacity,
                });
                self.command(cmd, expected)
            }
            _ => unreachable!("{op:?} is not a create or an agent command"),
        }
    }

    /// An erasure as the owner runs it: steps of at most two archived tickets (read back from
    /// the customer index on disk), each persisted before the next.
    fn erase(&mut self, customer: u8) -> Result<Outcome, TestCaseError> {
        const STEP: usize = 2;
        let expected = self.model.erase(customer);
        let customer_id = format!("cust-{customer}");
        let mut step = crate::core::command::Erase {
            customer_id: customer_id.clone(),
            ..Default::default()
        };
        loop {
            self.persist();
            let prefix = codec::customer_prefix(&customer_id);
            let from = step.after.map_or(0, |id| id.0 + 1);
            let start = [prefix.clone(), from.to_be_bytes().to_vec()].concat();
            let ids: Vec<TicketId> = (self.disk.range(start..))
                .take_while(|(k, _)| k.starts_with(&prefix))
                .take(STEP)
                .map(|(k, _)| TicketId(codec::id_of(k, &k[prefix.len()..]).expect("id")))
                .collect();
            let next = (ids.len() == STEP).then(|| ids.last().copied()).flatten();
            for id in ids {
                let t = self.archived(id).expect("indexed tickets are archived");
                self.core.thaw(t);
            }
            let reply = self.core.erase_customer(&step, next);
            match step.advance(reply) {
                Ok(None) => {}
                Ok(Some(total)) => {
                    let got = Outcome::Erased(total);
                    self.agree(&format!("erasure of {customer_id}"), got.clone(), expected)?;
                    return Ok(got);
                }
                Err(other) => return Err(self.fail(format!("erasure answered {other:?}"))),
            }
        }
    }

    /// Time passing (with or without heartbeats), everyone coming back, or a restart.
    fn time_step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::EveryoneBack => {
                for agent in 0..GHOST {
                    self.op(&Op::SetPresence {
                        agent,
                        presence: Presence::Available,
                    })?;
                }
                Ok(())
            }
            Op::Wait { ms } => {
                self.now = self.now.plus(Span(ms));
                self.tick();
                Ok(())
            }
            Op::Live { ms } => {
                let end = self.now.plus(Span(ms));
                while self.now < end {
                    self.now = self.now.plus(Span(end.since(self.now).0.min(20_000)));
                    self.tick();
                    for agent in 0..GHOST {
                        let expected = self.model.heartbeat(agent, self.now.0);
                        let cmd = Command::Heartbeat(agent_id(NAMES[agent as usize]));
                        self.command(cmd, expected)?;
                    }
                }
                Ok(())
            }
            Op::ToNextDeadline => {
                if let Some(at) = self.core.next_deadline() {
                    self.now = self.now.max(at);
                }
                self.tick();
                Ok(())
            }
            Op::ToNextTicketStep => {
                if let Some((_, at)) = self.core.timers.next_ticket() {
                    self.now = self.now.max(at);
                }
                self.tick();
                Ok(())
            }
            Op::Restart { down_ms } => self.restart(down_ms),
            _ => unreachable!("{op:?} is not about time"),
        }
    }
}
