//! Imports with their real age: a ticket created with a `created_at` in the past comes back with
//! that start and its first-response due in the past, escalated at once to the level its age
//! implies with one event per step, first in its queue by its real due; and all of it survives
//! a kill -9 without any step firing again.

use crate::common::{agent, create, merge_policy, temp, Clients, Daemon};
use crate::events::{read_until, watch};
use pb::{Channel, EscalationLevel, EventKind, SlaMetric, Tier};
use prost_types::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};
use triage::proto as pb;

/// `secs` seconds before now, in whole seconds (the daemon keeps milliseconds).
pub(crate) fn ago(secs: i64) -> Timestamp {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    Timestamp {
        seconds: now - secs,
        nanos: 0,
    }
}

/// A standard email (first response 2 h, resolution 24 h) that began `secs_ago` seconds ago.
fn import(external_id: &str, secs_ago: i64) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        created_at: Some(ago(secs_ago)),
        ..create(external_id, Tier::Standard, Channel::Email, &[])
    }
}

/// The escalation steps of `ticket` in the event stream, as (clock, level), up to the creation
/// of `marker`, a ticket created after everything the test looks at (and due after it).
async fn steps(c: &mut Clients, ticket: u64, marker: u64) -> Vec<(SlaMetric, EscalationLevel)> {
    let mut stream = watch(c, 0).await;
    let events = read_until(&mut stream, |e| {
        e.ticket_id == marker && e.kind() == EventKind::Created
    })
    .await;
    let step = |e: &pb::Event| {
        matches!(
            e.kind(),
            EventKind::Warning | EventKind::Breached | EventKind::Escalated
        )
    };
    events
        .iter()
        .filter(|e| e.ticket_id == ticket && step(e))
        .map(|e| (e.metric(), e.level()))
        .collect()
}

/// Three days old: both clocks are past L3 (first response at 4 h, resolution at 48 h).
fn assert_three_days_old(t: &pb::Ticket, began: &Timestamp) {
    assert_eq!(t.created_at.as_ref(), Some(began));
    let clock = |metric| {
        t.sla
            .iter()
            .find(|c| c.metric() == metric)
            .unwrap_or_else(|| panic!("a {metric:?} clock"))
    };
    let first = clock(SlaMetric::FirstResponse);
    assert_eq!(first.started_at.as_ref(), Some(began));
    let due = first.due_at.as_ref().expect("a counting clock has a due");
    assert_eq!(due.seconds, began.seconds + 2 * 3600, "due long past");
    assert!(first.breached && clock(SlaMetric::Resolution).breached);
    assert_eq!(t.escalation(), EscalationLevel::L3);
}

#[tokio::test]
async fn a_backdated_ticket_is_escalated_by_its_age_once_and_keeps_it_across_kill_9() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let fresh = c
        .create(create("fresh", Tier::Standard, Channel::Email, &[]))
        .await
        .ticket_id;
    let request = import("three-days", 72 * 3600);
    let began = request.created_at.expect("set");
    let created = c.create(request).await;
    assert_three_days_old(&created, &began);
    let old = created.ticket_id;
    assert_three_days_old(&c.get(old).await, &began);
    let batch = c
        .tickets
        .create_tickets(pb::CreateTicketsRequest {
            tickets: vec![import("one-day", 24 * 3600)],
        })
        .await
        .expect("batch")
        .into_inner();
    let day_old = match batch.results.first().and_then(|r| r.result.as_ref()) {
        Some(pb::create_ticket_result::Result::Ticket(t)) => t.ticket_id,
        other => panic!("the batch item was not created: {other:?}"),
    };

    let marker = c
        .create(create("marker-1", Tier::Standard, Channel::Email, &[]))
        .await;
    let ladder = [
        EscalationLevel::Warning,
        EscalationLevel::L1,
        EscalationLevel::L2,
        EscalationLevel::L3,
    ];
    let each_step_once: Vec<_> = [SlaMetric::FirstResponse, SlaMetric::Resolution]
        .into_iter()
        .flat_map(|m| ladder.map(|level| (m, level)))
        .collect();
    assert_eq!(steps(&mut c, old, marker.ticket_id).await, each_step_once);

    d.kill9();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    assert_three_days_old(&c.get(old).await, &began);
    let marker = c
        .create(create("marker-2", Tier::Standard, Channel::Email, &[]))
        .await;
    assert_eq!(
        steps(&mut c, old, marker.ticket_id).await,
        each_step_once,
        "no step fired again after the restart"
    );
    // Under `savable_first` both forced tickets go before the fresh one, by due. (Under the
    // default `savable_turns` an agent off its turn would take the fresh one first: which
    // minute the test runs in must not decide what it sees.)
    let savable_first = merge_policy(pb::SlaPolicy {
        order: pb::QueueOrder::SavableFirst as i32,
        ..Default::default()
    });
    c.admin
        .put_sla_policy(savable_first)
        .await
        .expect("put the order");
    c.available_agent(agent("ana", &[], &[], &[("email", 5)]))
        .await;
    let mut order = Vec::new();
    for _ in 0..3 {
        let a = c.pull("ana").await.expect("an email for ana");
        order.push(a.ticket.expect("ticket").ticket_id);
    }
    assert_eq!(
        order,
        vec![old, day_old, fresh],
        "each by its real due, not by arrival"
    );
}
