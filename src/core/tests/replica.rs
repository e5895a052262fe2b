//! A replica (`core::replica`) equals a fresh restore of the same records: targeted cases
//! here, and the model test (`model`) follows every run's commits with one.

use super::*;
use crate::core::policy::MAX_STATS_WINDOW;
use crate::core::queue::Slot;
use crate::core::rings::Rings;
use crate::core::webhook::{Webhook, WebhookProgress, WebhookPut};
use crate::core::Replica;
use crate::store::{codec::Batch, replicate};
use std::collections::BTreeMap;

/// Everything of a scheduler a restore derives, in a canonical form: caches (routing keys'
/// ids, agents' route caches) and the counters since boot left out; remembered requests
/// by (time, id), the order of expiry up to entries made at the same instant.
#[derive(Debug, PartialEq)]
pub(super) struct Derived {
    tickets: Vec<(Ticket, Option<Ts>, String, Option<String>)>,
    agents: Vec<Agent>,
    lines: Vec<(String, Vec<TicketId>)>,
    held: Vec<(AgentId, Vec<TicketId>)>,
    external: BTreeMap<String, TicketId>,
    requests: Vec<(Ts, String, String)>,
    next_id: TicketId,
    next_deadline: Option<Ts>,
    agent_timers: BTreeMap<AgentId, Ts>,
    gauges: String,
    stats: QueueStats,
    service_levels: Vec<ServiceLevel>,
    policy: SlaPolicy,
    webhooks: Vec<Webhook>,
}

pub(super) fn derived(s: &Scheduler, now: Ts) -> Derived {
    let place = |id| match s.queues.slot(id)? {
        Slot::Key(k) => Some(format!("{:?}", s.queues.key(k))),
        Slot::Held(a) => Some(format!("held for {a}")),
    };
    let tickets = s.tickets.iter().map(|t| {
        let ring = format!("{:?}", s.tickets.ring(t.id));
        (t.clone(), s.tickets.timer(t.id), ring, place(t.id))
    });
    let mut agents: Vec<Agent> = s.agents.iter().cloned().collect();
    for a in &mut agents {
        (a.routes, a.last_assignment, a.idle_since) = Default::default();
    }
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    let mut lines: Vec<_> = (s.queues.key_queues())
        .map(|(k, ids)| (format!("{k:?}"), ids))
        .collect();
    lines.sort();
    let mut held: Vec<_> = (s.agents.iter())
        .map(|a| (a.id.clone(), s.queues.held_ids(&a.id)))
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    held.sort();
    let mut requests: Vec<_> = (s.requests.iter())
        .map(|(id, e)| (e.at, id.to_string(), format!("{e:?}")))
        .collect();
    requests.sort();
    Derived {
        tickets: tickets.collect(),
        agents,
        lines,
        held,
        external: (s.tickets.external_ids())
            .map(|(k, id)| (k.to_string(), id))
            .collect(),
        requests,
        next_id: s.tickets.next_id(),
        next_deadline: s.next_deadline(),
        agent_timers: s.timers.agent_timers().collect(),
        gauges: format!("{:?}", s.gauges()),
        stats: s.stats(now),
        service_levels: s.service_levels(now, MAX_STATS_WINDOW),
        policy: s.policy.clone(),
        webhooks: s.webhooks().cloned().collect(),
    }
}

/// Brings `replica` to `now` and compares it with a fresh restore of `records` at `now`, part
/// by part; also checks that the replica's requests are in the order they expire in.
pub(super) fn same_as_restored(
    replica: &mut Replica,
    records: Recovered,
    policy: &SlaPolicy,
    now: Ts,
) -> Result<(), String> {
    replica.raise_last_ticket(records.last_ticket);
    replica.resume(now);
    let fresh = Scheduler::restore(policy.clone(), CoreConfig::default(), records, now)
        .map_err(|e| format!("restore failed: {e}"))?;
    let (got, want) = (derived(replica.scheduler(), now), derived(&fresh, now));
    let times: Vec<Ts> = replica
        .scheduler()
        .requests
        .iter()
        .map(|(_, e)| e.at)
        .collect();
    if !times.is_sorted() {
        return Err(format!("replica's requests not in expiry order: {times:?}"));
    }
    macro_rules! part {
        ($($field:ident),*) => {$(
            if got.$field != want.$field {
                return Err(format!(
                    "replica and restore differ in {}:\n  replica: {:?}\n  restore: {:?}",
                    stringify!($field), got.$field, want.$field
                ));
            }
        )*};
    }
    part!(tickets, agents, lines, held, external, requests, next_id);
    part!(
        next_deadline,
        agent_timers,
        gauges,
        stats,
        service_levels,
        policy,
        webhooks
    );
    Ok(())
}

/// A scheduler, a replica following its commits, and the records on "disk".
struct Followed {
    sim: Sim,
    replica: Replica,
    disk: Recovered,
    policy: SlaPolicy,
}

impl Followed {
    fn new(policy: SlaPolicy) -> Followed {
        let empty = Scheduler::restoring(policy.clone(), CoreConfig::default(), T0);
        Followed {
            sim: Sim::with_policy(policy.clone()),
            replica: Replica::new(empty),
            disk: Recovered::default(),
            policy,
        }
    }

    /// What the owner does after a batch: archive, persist (here: replicate, and keep the
    /// records as a store would).
    fn commit(&mut self) {
        let mut journal = self.sim.s.take_journal();
        self.sim.s.archive_finished(&mut journal);
        let batch = Batch::from_journal(&journal, &self.sim.s);
        let removed = batch.removals.into_iter().map(|k| (k, None));
        let written = batch.records.into_iter().map(|(k, v)| (k, Some(v)));
        let entries = removed.chain(written).collect();
        replicate::apply(&mut self.replica, entries, self.sim.now).expect("replicates");
        self.disk = Recovered {
            policy: Some(self.sim.s.policy().clone()),
            webhooks: self.sim.s.webhooks().cloned().collect(),
            tickets: self.sim.s.tickets.iter().cloned().collect(),
            last_ticket: self.sim.s.tickets.next_id().0 - 1,
            agents: self.sim.s.agents.iter().cloned().collect(),
            idempotency: (self.sim.s.requests.iter())
                .map(|(id, e)| (id.to_string(), e.clone()))
                .collect(),
        };
    }

    fn check(&mut self, now: Ts) {
        let records = std::mem::take(&mut self.disk);
        let policy = self.policy.clone();
        self.disk = Recovered {
            policy: records.policy.clone(),
            webhooks: records.webhooks.clone(),
            tickets: records.tickets.clone(),
            last_ticket: records.last_ticket,
            agents: records.agents.clone(),
            idempotency: records.idempotency.clone(),
        };
        if let Err(e) = same_as_restored(&mut self.replica, records, &policy, now) {
            panic!("{e}");
        }
    }
}

fn agent_ready(f: &mut Followed, name: &str) {
    f.sim.agent_with(name, &[], &[], PerChannelOpt::default());
    f.commit();
}

#[test]
fn a_replica_follows_assignments_replies_and_archiving_like_a_restore() {
    let mut f = Followed::new(SlaPolicy::default());
    agent_ready(&mut f, "ann");
    let ids: Vec<TicketId> = (0..4)
        .map(|_| f.sim.create(Tier::Standard, Channel::Email, &[]))
        .collect();
    f.commit();
    f.check(f.sim.now);
    let pulled = match f.sim.apply(Command::Pull(agent_id("ann"))) {
        Ok(Reply::Pulled(Some(a))) => a,
        other => panic!("pull: {other:?}"),
    };
    f.commit();
    f.check(f.sim.now);
    let lease = Lease {
        agent: agent_id("ann"),
        epoch: pulled.lease_epoch,
    };
    f.sim
        .apply(Command::Resolve {
            ticket: pulled.ticket.id,
            lease: Some(lease),
        })
        .expect("resolve");
    f.sim
        .apply(Command::Cancel {
            ticket: ids[3],
            reason: CancelReason::Duplicate,
        })
        .expect("cancel");
    f.commit();
    f.sim.advance(Span::hours(3));
    f.commit();
    let later = f.sim.now;
    f.check(later);
    assert_eq!(
        f.replica.scheduler().ticket_count(),
        f.sim.s.ticket_count(),
        "the cancelled ticket left both"
    );
    assert!(f.replica.scheduler().next_deadline().is_some());
}

#[test]
fn a_policy_put_on_a_replica_re_derives_every_ticket_as_a_restore_does() {
    let mut f = Followed::new(SlaPolicy::default());
    agent_ready(&mut f, "ann");
    for _ in 0..3 {
        f.sim.create(Tier::Vip, Channel::Chat, &[]);
    }
    f.sim.apply(Command::Pull(agent_id("ann"))).expect("pull");
    f.commit();
    let mut policy = deadline_order();
    policy.presence_ttl = Span::mins(7);
    f.sim
        .apply(Command::PutPolicy(Box::new(policy)))
        .expect("put policy");
    f.commit();
    f.sim.advance(Span::mins(1));
    f.commit();
    f.check(f.sim.now);
}

#[test]
fn resume_moves_queued_tickets_to_the_time_ring_they_reached_meanwhile() {
    let policy = SlaPolicy {
        rings: Rings {
            drop_optional: Some(Span::mins(2)),
            any_agent: Some(Span::mins(10)),
            ..Rings::default()
        },
        ..SlaPolicy::default()
    };
    let mut f = Followed::new(policy);
    agent_ready(&mut f, "ann");
    f.sim.create(Tier::Standard, Channel::Email, &["billing"]);
    f.sim.create(Tier::Standard, Channel::Chat, &["tax"]);
    f.commit();
    // The leader's clock moves on with no commit: the replica learns nothing, yet a takeover
    // now must find the tickets in their widest ring, as a restore now would.
    f.check(T0.plus(Span::mins(11)));
}

#[test]
fn a_replica_forgets_requests_in_any_order_and_keeps_them_in_expiry_order() {
    let mut f = Followed::new(SlaPolicy::default());
    for i in 0..5 {
        let mut new = f.sim.new_ticket(Tier::Standard, Channel::Email, &[]);
        new.request_id = format!("req-{}", 5 - i);
        f.sim.create_with(new);
        if i % 2 == 0 {
            f.sim.advance(Span::mins(1));
        }
    }
    f.commit();
    f.check(f.sim.now);
    let mut replica = f.replica;
    replica.remove_request("req-3");
    replica.remove_request("req-5");
    let left: Vec<String> = (replica.scheduler().requests.iter())
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(left, ["req-4", "req-2", "req-1"]);
    for id in ["req-4", "req-2", "req-1"] {
        assert!(replica.scheduler().requests.outcome(id).is_some(), "{id}");
    }
}

#[test]
fn a_replica_follows_webhook_puts_cursor_advances_pauses_and_deletes() {
    let mut f = Followed::new(SlaPolicy::default());
    for id in ["crm", "bi"] {
        let put = Command::PutWebhook(WebhookPut {
            id: id.into(),
            url: format!("https://example.com/{id}"),
            kinds: vec![1],
            secret: "s".into(),
            give_up_after: Span::mins(5),
            start: 1,
            resume: true,
        });
        f.sim.apply(put).expect("put");
    }
    f.commit();
    f.check(f.sim.now);
    let progress = |id: &str, cursor, paused: Option<&str>| {
        Command::WebhookProgress(WebhookProgress {
            id: id.into(),
            cursor,
            paused: paused.map(str::to_owned),
        })
    };
    f.sim.apply(progress("crm", 7, None)).expect("advance");
    f.sim
        .apply(progress("bi", 3, Some("HTTP 500")))
        .expect("pause");
    f.commit();
    f.check(f.sim.now);
    f.sim
        .apply(Command::DeleteWebhook("crm".into()))
        .expect("delete");
    f.commit();
    f.check(f.sim.now);
    let left: Vec<(String, u64, bool)> = (f.replica.scheduler().webhooks())
        .map(|w| (w.id.clone(), w.cursor, w.paused))
        .collect();
    assert_eq!(left, vec![("bi".to_string(), 3, true)]);
}
