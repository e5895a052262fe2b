//! Nothing acknowledged is lost: graceful restarts, SIGKILL with writes in flight, and SLA
//! steps that fall due while the daemon is down fire once after it comes back.

use crate::common::{self, agent, create, metric, temp, Clients, Daemon};
use pb::{Channel, Tier};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use triage::proto as pb;

/// Agents without the heartbeat-driven fields, for before/after comparisons.
fn agent_facts(agents: Vec<pb::Agent>) -> Vec<pb::Agent> {
    agents
        .into_iter()
        .map(|a| pb::Agent {
            last_seen: None,
            ..a
        })
        .collect()
}

#[tokio::test]
async fn a_graceful_stop_exits_zero_and_a_restart_keeps_everything() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    for a in 0..3 {
        c.available_agent(agent(
            &format!("a{a}"),
            &["en"],
            &[],
            &[("email", 10), ("chat", 2)],
        ))
        .await;
    }
    for i in 0..40 {
        let channel = if i % 2 == 0 {
            Channel::Chat
        } else {
            Channel::Email
        };
        let mut req = create(
            &format!("g{i}"),
            [Tier::Vip, Tier::New, Tier::Standard][i % 3],
            channel,
            &["en"],
        );
        req.request_id = format!("req-{i}");
        c.create(req).await;
    }
    for a in 0..3 {
        for _ in 0..4 {
            if let Some(asg) = c.pull(&format!("a{a}")).await {
                let t = asg.ticket.expect("ticket");
                let reply = common::agent_reply(t.ticket_id, &t.agent_id, asg.lease_epoch);
                c.tickets.record_reply(reply).await.expect("reply");
            }
        }
    }
    let tickets = c.all_tickets().await;
    let agents = agent_facts(c.all_agents().await);
    drop(c);
    let status = d.terminate().await;
    assert!(status.success(), "SIGTERM exits 0, got {status:?}");

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    assert_eq!(
        c.all_tickets().await,
        tickets,
        "every ticket, state, lease and clock survives"
    );
    assert_eq!(
        agent_facts(c.all_agents().await),
        agents,
        "agents, presence and loads survive"
    );
    let mut retry = create("g7", Tier::Standard, Channel::Email, &["en"]);
    retry.request_id = "req-7".into();
    retry.tier = Tier::New as i32;
    let again = c
        .tickets
        .create_ticket(retry)
        .await
        .expect("an idempotent retry")
        .into_inner();
    assert_eq!(
        again.ticket_id, 8,
        "the retry returns the ticket the first call created"
    );
    assert_eq!(c.all_tickets().await.len(), 40, "and creates nothing");
}

/// What clients heard "OK" for.
#[derive(Clone, Default)]
struct Ledger {
    created: HashMap<u64, String>,
    assigned: HashMap<u64, (String, u64)>,
}

async fn load(mut c: Clients, worker: usize, ledger: Arc<Mutex<Ledger>>, cycle: usize) {
    let agent_id = format!("k{}", worker % 4);
    for i in 0.. {
        let external = format!("c{cycle}-w{worker}-{i}");
        let req = create(
            &external,
            [Tier::Vip, Tier::Standard][i % 2],
            [Channel::Email, Channel::Chat][worker % 2],
            &[],
        );
        match c.tickets.create_ticket(req).await {
            Ok(t) => {
                ledger
                    .lock()
                    .expect("ledger")
                    .created
                    .insert(t.into_inner().ticket_id, external);
            }
            Err(_) => return,
        }
        let pull = common::pull_request(&agent_id, None);
        match c.agents.pull_next_ticket(pull).await {
            Ok(r) => {
                if let Some(a) = r.into_inner().assignment {
                    let t = a.ticket.expect("ticket");
                    ledger
                        .lock()
                        .expect("ledger")
                        .assigned
                        .insert(t.ticket_id, (agent_id.clone(), a.lease_epoch));
                }
            }
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_writes_in_flight_loses_nothing_acknowledged() {
    let dir = temp();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for cycle in 0..3 {
        let d = Daemon::start(dir.path(), None);
        let mut c = d.clients().await;
        if cycle == 0 {
            for a in 0..4 {
                c.available_agent(agent(
                    &format!("k{a}"),
                    &[],
                    &[],
                    &[("email", 1000), ("chat", 1000)],
                ))
                .await;
            }
        }
        let acknowledged = ledger.lock().expect("ledger").clone();
        verify(&mut c, &acknowledged).await;
        let workers: Vec<_> = (0..8)
            .map(|w| tokio::spawn(load(c.clone(), w, Arc::clone(&ledger), cycle)))
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + 150 * cycle as u64)).await;
        d.kill9();
        for w in workers {
            w.await.expect("worker");
        }
    }
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let ledger = ledger.lock().expect("ledger").clone();
    assert!(
        ledger.created.len() > 50,
        "the load did real work: {} creates",
        ledger.created.len()
    );
    assert!(!ledger.assigned.is_empty());
    verify(&mut c, &ledger).await;
}

/// Every acknowledged create and assignment is there; loads agree with the tickets held.
async fn verify(c: &mut Clients, ledger: &Ledger) {
    let tickets: HashMap<u64, pb::Ticket> = c
        .all_tickets()
        .await
        .into_iter()
        .map(|t| (t.ticket_id, t))
        .collect();
    for (id, external) in &ledger.created {
        let t = tickets
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged ticket {id} lost"));
        assert_eq!(&t.external_id, external);
    }
    for (id, (agent_id, epoch)) in &ledger.assigned {
        let t = &tickets[id];
        assert_eq!(
            (&t.agent_id, t.lease_epoch, t.state()),
            (agent_id, *epoch, pb::TicketState::Assigned),
            "acknowledged assignment of {id}"
        );
    }
    let mut held: HashMap<String, u32> = HashMap::new();
    for t in tickets.values().filter(|t| !t.agent_id.is_empty()) {
        *held.entry(t.agent_id.clone()).or_default() += 1;
    }
    for a in c.all_agents().await {
        let load: u32 = a.load.values().sum();
        assert_eq!(
            load,
            held.get(&a.agent_id).copied().unwrap_or(0),
            "agent {} load matches its tickets",
            a.agent_id
        );
    }
}

#[tokio::test]
async fn a_breach_that_fell_due_while_down_is_escalated_once_after_restart() {
    let dir = temp();
    let d = Daemon::start(dir.path(), Some(common::FAST_CHAT));
    let mut c = d.clients().await;
    let t = c
        .create(create("late", Tier::Standard, Channel::Chat, &[]))
        .await;
    let fr = |t: &pb::Ticket| {
        t.sla
            .iter()
            .find(|s| s.metric() == pb::SlaMetric::FirstResponse)
            .cloned()
            .expect("clock")
    };
    assert_eq!(fr(&t).level(), pb::EscalationLevel::None);
    d.kill9();
    tokio::time::sleep(Duration::from_millis(6500)).await; // past L3 = 3 s + 100 %

    let d = Daemon::start(dir.path(), Some(common::FAST_CHAT));
    let mut c = d.clients().await;
    let after = c.get(t.ticket_id).await;
    assert_eq!(fr(&after).level(), pb::EscalationLevel::L3);
    assert!(fr(&after).breached);
    let chat = r#"{metric="first_response",tier="standard",channel="chat"}"#;
    let scrape = d
        .wait_for_metric(&format!("triage_sla_breaches_total{chat}"), 1.0)
        .await;
    assert_eq!(
        metric(&scrape, &format!("triage_sla_warnings_total{chat}")),
        Some(1.0)
    );
    for level in ["l1", "l2", "l3"] {
        assert_eq!(
            metric(
                &scrape,
                &format!("triage_escalations_total{{level=\"{level}\"}}")
            ),
            Some(1.0),
            "{level} once"
        );
    }
    assert!(d.terminate().await.success());

    let d = Daemon::start(dir.path(), Some(common::FAST_CHAT));
    let mut c = d.clients().await;
    let again = c.get(t.ticket_id).await; // served after the boot tick
    assert_eq!(fr(&again).level(), pb::EscalationLevel::L3);
    let scrape = d.scrape().await;
    assert_eq!(
        metric(&scrape, &format!("triage_sla_breaches_total{chat}")),
        Some(0.0),
        "not fired again"
    );
    assert_eq!(
        metric(&scrape, r#"triage_escalations_total{level="l1"}"#),
        Some(0.0)
    );
}

/// GetQueueStats' service levels are rebuilt at recovery from the ticket records: the same
/// after SIGKILL as before it, including a ticket resolved, reopened and resolved again (counted
/// once) and an abandoned contact.
#[tokio::test]
async fn queue_stats_are_the_same_after_kill_9() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ann", &[], &[], &[("chat", 3)]))
        .await;
    let twice = c
        .create(create("q1", Tier::Standard, Channel::Chat, &[]))
        .await;
    let asg = c.pull("ann").await.expect("assignment");
    let reply = common::agent_reply(twice.ticket_id, "ann", asg.lease_epoch);
    c.tickets.record_reply(reply).await.expect("reply");
    let resolve = common::resolve(twice.ticket_id, "ann", asg.lease_epoch);
    c.tickets.resolve_ticket(resolve).await.expect("resolve");
    let reopen = common::reopen(twice.ticket_id);
    c.tickets.reopen_ticket(reopen).await.expect("reopen");
    let asg = c.pull("ann").await.expect("assignment again");
    let resolve = common::resolve(twice.ticket_id, "ann", asg.lease_epoch);
    c.tickets
        .resolve_ticket(resolve)
        .await
        .expect("resolve again");
    let left = c.create(create("q2", Tier::Vip, Channel::Email, &[])).await;
    let abandoned = common::cancel(left.ticket_id, pb::CancelReason::Abandoned);
    c.tickets.cancel_ticket(abandoned).await.expect("cancel");
    c.create(create("q3", Tier::New, Channel::Messenger, &["fr"]))
        .await;
    let before = c.stats().await;
    let chat = before
        .service_levels
        .iter()
        .find(|l| l.channel() == Channel::Chat)
        .expect("a chat row");
    assert_eq!((chat.answered_within, chat.resolved), (1, 1), "{before:?}");
    assert_eq!(chat.first_contact_resolution, Some(0.0), "it was reopened");
    d.kill9();

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let after = c.stats().await;
    assert_eq!(after.service_levels, before.service_levels);
    let depths = |s: &pb::GetQueueStatsResponse| -> Vec<(i32, i32, u32)> {
        s.queues
            .iter()
            .map(|q| (q.tier, q.channel, q.depth))
            .collect()
    };
    assert_eq!(depths(&after), depths(&before));
    assert_eq!(depths(&after).len(), 1, "the messenger ticket waits");
}
