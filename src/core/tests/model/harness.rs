//! The harness: one core, one model and one in-memory "disk", driven step by step.

use super::*;

pub(super) type Disk = BTreeMap<Vec<u8>, Vec<u8>>;

/// The records on `disk`, read back as `SledStore::load_all` reads them from sled.
pub(super) fn load_all(disk: &Disk) -> Recovered {
    fn scan<T: DeserializeOwned>(disk: &Disk, kind: u8) -> Vec<(Vec<u8>, T)> {
        disk.range(vec![kind]..vec![kind + 1])
            .map(|(k, v)| (k.clone(), codec::decode(k, v).expect("record decodes")))
            .collect()
    }
    let last = |kind: u8| {
        disk.range(vec![kind]..vec![kind + 1])
            .next_back()
            .map_or(0, |(k, _)| codec::id_of(k, &k[1..]).expect("id key"))
    };
    Recovered {
        last_ticket: last(codec::TICKET).max(last(codec::ARCHIVE)),
        policy: disk
            .get(&[codec::POLICY][..])
            .map(|v| codec::decode_policy(&[codec::POLICY], v).expect("policy decodes")),
        webhooks: scan(disk, codec::WEBHOOK)
            .into_iter()
            .map(|(_, w)| w)
            .collect(),
        tickets: scan(disk, codec::TICKET)
            .into_iter()
            .map(|(_, t)| t)
            .collect(),
        agents: scan(disk, codec::AGENT)
            .into_iter()
            .map(|(_, a)| a)
            .collect(),
        idempotency: disk
            .range(vec![codec::IDEMPOTENCY]..vec![codec::IDEMPOTENCY + 1])
            .map(|(k, v)| {
                let e = codec::decode_idempotency(k, v).expect("record decodes");
                (String::from_utf8_lossy(&k[1..]).into_owned(), e)
            })
            .collect(),
    }
}

pub(super) struct Harness {
    pub(super) core: Scheduler,
    pub(super) model: Model,
    pub(super) now: Ts,
    pub(super) disk: Disk,
    /// The ticket the last successful pull handed out, 0 before any.
    pub(super) last_pulled: u64,
    /// Each step and what the core answered, for the failure message.
    pub(super) trace: Vec<String>,
    /// The core's escalation events since the last `check`.
    pub(super) escalated: Vec<(TicketId, SlaMetric, Level)>,
    /// A replica following every batch written to `disk`, as a warm follower does.
    pub(super) replica: Replica,
    /// The policy a restore starts from.
    pub(super) policy: SlaPolicy,
}

impl Harness {
    /// A harness whose core runs `policy` (the default but for its order), which the model
    /// follows; a restart restores with it, as the daemon does with its configured policy.
    pub(super) fn new(policy: SlaPolicy) -> Harness {
        let force_level = policy.forcing().map(|level| match level {
            Level::L3 => L3,
            Level::L2 => L2,
            _ => L1,
        });
        let offers = OfferRules::of(&policy.offers);
        let turns = policy.order == crate::core::policy::QueueOrder::SavableTurns;
        let empty = Scheduler::restoring(policy.clone(), CoreConfig::default(), T0);
        Harness {
            replica: Replica::new(empty),
            policy: policy.clone(),
            core: Scheduler::new(policy, CoreConfig::default()),
            model: Model {
                force_level,
                turns,
                offers,
                ..Model::default()
            },
            now: T0,
            disk: Disk::new(),
            last_pulled: 0,
            trace: Vec::new(),
            escalated: Vec::new(),
        }
    }

    pub(super) fn fail(&self, what: String) -> TestCaseError {
        let mut msg = String::from("core and model disagree; steps so far:\n");
        for line in &self.trace {
            msg.push_str(line);
            msg.push('\n');
        }
        msg.push_str(&what);
        TestCaseError::fail(msg)
    }

    pub(super) fn agree<T: PartialEq + std::fmt::Debug>(
        &self,
        what: &str,
        core: T,
        model: T,
    ) -> Result<(), TestCaseError> {
        if core == model {
            return Ok(());
        }
        Err(self.fail(format!("{what}:\n  core:  {core:?}\n  model: {model:?}")))
    }

    /// What the owner task does after every batch: finished tickets leave memory, and the
    /// journal's records (the archived ones among them) go to disk. Its escalation events
    /// are kept for `check`.
    pub(super) fn persist(&mut self) {
        let mut journal = self.core.take_journal();
        self.core.archive_finished(&mut journal);
        assert!(
            self.core.tickets.iter().all(|t| !t.is_finished()),
            "a finished ticket stayed in memory"
        );
        for e in &journal.events {
            if let Event::Escalated {
                ticket,
                metric,
                level,
                ..
            } = *e
            {
                self.escalated.push((ticket, metric, level));
            }
        }
        let batch = Batch::from_journal(&journal, &self.core);
        let mut entries = Vec::new();
        for k in batch.removals {
            self.disk.remove(&k);
            entries.push((k, None));
        }
        for (k, v) in batch.records {
            self.disk.insert(k.clone(), v.clone());
            entries.push((k, Some(v)));
        }
        replicate::apply(&mut self.replica, entries, self.now).expect("the replica follows");
    }

    /// Applies `cmd` to the core (as its own batch) and compares with the model's outcome.
    pub(super) fn command(
        &mut self,
        cmd: Command,
        expected: Outcome,
    ) -> Result<Outcome, TestCaseError> {
        self.persist();
        self.thaw_for(&cmd);
        let got = outcome(self.core.apply(cmd.clone(), self.now));
        if matches!(got, Outcome::Refused(_)) && !self.core.journal.is_empty() {
            return Err(self.fail(format!("{cmd:?} was refused but journaled something")));
        }
        self.agree(&format!("result of {cmd:?}"), got.clone(), expected)?;
        Ok(got)
    }

    /// What the owner does before applying a command: reads back from the archive on disk
    /// what the command may need.
    fn thaw_for(&mut self, cmd: &Command) {
        let refs = self.core.archive_refs(cmd);
        let mut ids = refs.tickets;
        for external_id in &refs.external_ids {
            let key = codec::key(codec::ARCHIVE_EXTERNAL, external_id.as_bytes());
            if let Some(v) = self.disk.get(&key) {
                ids.push(TicketId(codec::id_of(&key, v).expect("index entry")));
            }
        }
        for id in ids {
            if let Some(t) = self.archived(id) {
                self.core.thaw(t);
            }
        }
    }

    /// The archived record of ticket `id` on disk, if any.
    pub(super) fn archived(&self, id: TicketId) -> Option<Ticket> {
        let key = codec::key(codec::ARCHIVE, &id.0.to_be_bytes());
        let v = self.disk.get(&key)?;
        Some(codec::decode(&key, v).expect("archived record decodes"))
    }

    pub(super) fn ticket_command(
        &mut self,
        cmd: Command,
        expected: Result<usize, Refusal>,
    ) -> Result<Outcome, TestCaseError> {
        let expected = match expected {
            Ok(i) => Outcome::Ticket(i as u64 + 1),
            Err(r) => Outcome::Refused(r),
        };
        self.command(cmd, expected)
    }

    pub(super) fn tick(&mut self) {
        self.core.tick(self.now);
        self.model.tick(self.now.0);
    }

    pub(super) fn id(&self, ticket: Tk) -> u64 {
        match ticket {
            Tk::Id(id) => id,
            Tk::Recent => {
                let held = |id: &u64| self.model.ticket(*id).is_some_and(|t| t.holder.is_some());
                let first_held = (1..=self.model.tickets.len() as u64).find(held);
                Some(self.last_pulled)
                    .filter(held)
                    .or(first_held)
                    .unwrap_or(self.model.tickets.len() as u64)
            }
        }
    }

    pub(super) fn lease(&self, ticket: u64, arg: LeaseArg) -> ((u8, u64), Lease) {
        let (agent, epoch) = self.model.lease(ticket, arg);
        let lease = Lease {
            agent: agent_id(NAMES[agent as usize]),
            epoch: Epoch::new(epoch),
        };
        ((agent, epoch), lease)
    }

    pub(super) fn setup(&mut self) -> Result<(), TestCaseError> {
        for i in 0..GHOST {
            self.model.agents.push(MAgent {
                skills: &[],
                tiers: &[],
                capacity: [0; 6],
                presence: Presence::Offline,
                last_seen: self.now.0,
                missed: 0,
            });
            self.op(&Op::Upsert {
                agent: i,
                variant: false,
            })?;
            self.op(&Op::SetPresence {
                agent: i,
                presence: Presence::Available,
            })?;
        }
        self.persist();
        self.check()
    }

    /// Persists, restores from the disk at now + `down_ms` the way the daemon boots, checks that
    /// nothing durable changed, and goes on with the restored scheduler after a tick.
    pub(super) fn restart(&mut self, down_ms: u64) -> Result<(), TestCaseError> {
        self.persist();
        let at = self.now.plus(Span(down_ms));
        let restored = Scheduler::restore(
            self.core.policy().clone(),
            CoreConfig::default(),
            load_all(&self.disk),
            at,
        )
        .map_err(|e| self.fail(format!("restore failed: {e}")))?;
        let mut restored = restored;
        // As the daemon's recovery does, but for the whole ring, not only the policy's window
        // (the checks compare windows up to the longest allowed).
        let archived = self
            .disk
            .range(vec![codec::ARCHIVE]..vec![codec::ARCHIVE + 1]);
        for (k, v) in archived {
            let t: Ticket = codec::decode(k, v).expect("archived record decodes");
            restored.count_archived(&t);
        }
        self.same_after_restart(durable(&self.core), durable(&restored))?;
        self.core = restored;
        self.now = at;
        self.model.restart(at.0);
        self.tick();
        Ok(())
    }
}
