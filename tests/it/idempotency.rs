//! `request_id` on every mutating call, over the network: a retry is answered without being
//! applied again, also after kill -9 (the id is written with the change); another body under
//! the same id is INVALID_ARGUMENT; a retried long poll never gets a second ticket.

use crate::common::{self, agent, create, temp, Clients, Daemon};
use pb::{Channel, Tier};
use std::time::Duration;
use tonic::Code;
use triage::proto as pb;

fn pull(agent: &str, request_id: &str, wait_ms: u64) -> pb::PullNextTicketRequest {
    pb::PullNextTicketRequest {
        agent_id: agent.into(),
        wait: (wait_ms > 0).then(|| prost_types::Duration {
            seconds: (wait_ms / 1000) as i64,
            nanos: (wait_ms % 1000 * 1_000_000) as i32,
        }),
        request_id: request_id.into(),
    }
}

/// A long poll (20 s) by `agent` under `request_id`, in a task of its own.
fn long_poll(
    mut c: Clients,
    agent: &'static str,
    request_id: &'static str,
) -> tokio::task::JoinHandle<Result<Option<pb::Assignment>, tonic::Status>> {
    tokio::spawn(async move {
        c.agents
            .pull_next_ticket(pull(agent, request_id, 20_000))
            .await
            .map(|r| r.into_inner().assignment)
    })
}

async fn assigned(c: &mut Clients, req: pb::PullNextTicketRequest) -> pb::Assignment {
    c.agents
        .pull_next_ticket(req)
        .await
        .expect("pull")
        .into_inner()
        .assignment
        .expect("an assignment")
}

fn refused_for_request_id<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    let status = result.expect_err("a reused request_id with another body is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with("request_id"), "{status:?}");
}

#[tokio::test]
async fn retries_are_answered_not_applied_even_after_kill_9() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let mut upsert = agent("ana", &[], &[], &[]);
    upsert.request_id = "up-1".into();
    for _ in 0..2 {
        c.agents.upsert_agent(upsert.clone()).await.expect("upsert");
    }
    c.available_agent(agent("ana", &[], &[], &[])).await;
    let first = c
        .create(create("e1", Tier::Standard, Channel::Email, &[]))
        .await;
    let second = c
        .create(create("e2", Tier::Standard, Channel::Email, &[]))
        .await;

    let a = assigned(&mut c, pull("ana", "pull-1", 0)).await;
    let again = assigned(&mut c, pull("ana", "pull-1", 0)).await;
    assert_eq!(a, again, "a retried pull gets the same assignment");
    let t = a.ticket.clone().expect("ticket");
    assert_eq!(t.ticket_id, first.ticket_id);
    assert_eq!(
        c.get(second.ticket_id).await.state(),
        pb::TicketState::Queued
    );

    let mut reply = common::agent_reply(t.ticket_id, "ana", a.lease_epoch);
    reply.request_id = "reply-1".into();
    let replied = c.tickets.record_reply(reply.clone()).await.expect("reply");
    let mut other = reply.clone();
    other.author = pb::Author::Customer as i32;
    other.agent_id = String::new();
    other.lease_epoch = 0;
    refused_for_request_id(c.tickets.record_reply(other).await);

    let resolve = pb::ResolveTicketRequest {
        ticket_id: t.ticket_id,
        agent_id: "ana".into(),
        lease_epoch: a.lease_epoch,
        request_id: "resolve-1".into(),
    };
    let resolved = c
        .tickets
        .resolve_ticket(resolve.clone())
        .await
        .expect("resolve");
    d.kill9();

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let retried = c
        .tickets
        .resolve_ticket(resolve)
        .await
        .expect("retry after kill -9");
    assert_eq!(retried.get_ref().state(), pb::TicketState::Resolved);
    assert_eq!(
        retried.get_ref().resolved_at,
        resolved.get_ref().resolved_at,
        "answered from the record, not resolved again"
    );
    let retried = c.tickets.record_reply(reply).await.expect("reply retry");
    assert_eq!(
        retried.get_ref().ticket_id,
        replied.get_ref().ticket_id,
        "the same ticket"
    );
    let gone = c.agents.pull_next_ticket(pull("ana", "pull-1", 0)).await;
    assert_eq!(
        gone.expect_err("the lease it made has ended").code(),
        Code::FailedPrecondition
    );
    assert_eq!(
        c.get(second.ticket_id).await.state(),
        pb::TicketState::Queued
    );
    let events = c
        .admin
        .watch_events(pb::WatchEventsRequest {
            from_sequence: 1,
            ..Default::default()
        })
        .await
        .expect("watch");
    let mut stream = events.into_inner();
    let mut resolved_events = 0;
    while let Ok(Ok(Some(e))) =
        tokio::time::timeout(Duration::from_millis(500), stream.message()).await
    {
        if e.kind() == pb::EventKind::Resolved {
            resolved_events += 1;
        }
    }
    assert_eq!(
        resolved_events, 1,
        "resolved once, though asked twice (before and after kill -9)"
    );
}

#[tokio::test]
async fn a_retried_long_poll_replaces_the_waiting_one_and_gets_one_ticket() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("bo", &[], &[], &[])).await;
    let first = long_poll(c.clone(), "bo", "lp-1");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let retry = long_poll(c.clone(), "bo", "lp-1");
    tokio::time::sleep(Duration::from_millis(150)).await;
    for i in 0..3 {
        c.create(create(&format!("lp{i}"), Tier::Vip, Channel::Chat, &[]))
            .await;
    }
    let first = first.await.expect("task").expect("first poll");
    let retry = retry.await.expect("task").expect("retry");
    assert_eq!(first, None, "the replaced poll hears that nothing came");
    let got = retry.expect("the retry gets a ticket");
    let again = assigned(&mut c, pull("bo", "lp-1", 0)).await;
    assert_eq!(got, again);
    let held = c
        .agents
        .get_agent(pb::GetAgentRequest {
            agent_id: "bo".into(),
        })
        .await
        .expect("agent")
        .into_inner();
    assert_eq!(held.load.get("chat"), Some(&1), "one request, one ticket");
}

#[tokio::test]
async fn a_policy_put_retried_after_another_change_is_still_a_retry() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let put = |fraction: f64, id: &str| pb::PutSlaPolicyRequest {
        policy: Some(pb::SlaPolicy {
            warning_fraction: fraction,
            ..Default::default()
        }),
        replace: false,
        request_id: id.into(),
    };
    c.admin
        .put_sla_policy(put(0.6, "pol-1"))
        .await
        .expect("put");
    c.admin
        .put_sla_policy(put(0.7, "pol-2"))
        .await
        .expect("put");
    let retried = c
        .admin
        .put_sla_policy(put(0.6, "pol-1"))
        .await
        .expect("retry");
    assert_eq!(
        retried.get_ref().warning_fraction,
        0.7,
        "answered with the policy in force, not applied again"
    );
    refused_for_request_id(c.admin.put_sla_policy(put(0.5, "pol-1")).await);
    assert_eq!(c.policy().await.warning_fraction, 0.7);
}

#[tokio::test]
async fn request_ids_are_checked_like_any_field() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("cy", &[], &[], &[])).await;
    for bad in [
        "   ",
        "a\u{202E}b",
        "x\u{200B}",
        &"r".repeat(129),
        "line\nbreak",
    ] {
        let status = c
            .agents
            .pull_next_ticket(pull("cy", bad, 0))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}");
        assert!(status.message().starts_with("request_id"), "{status:?}");
    }
}

#[tokio::test]
async fn another_body_under_a_waiting_polls_id_is_refused_at_once() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("bo", &[], &[], &[])).await;
    c.available_agent(agent("cy", &[], &[], &[])).await;
    let first = long_poll(c.clone(), "bo", "lp-x");
    tokio::time::sleep(Duration::from_millis(150)).await;
    refused_for_request_id(c.agents.pull_next_ticket(pull("cy", "lp-x", 20_000)).await);
    c.create(create("x1", Tier::Vip, Channel::Chat, &[])).await;
    let got = first.await.expect("task").expect("first poll");
    assert_eq!(
        got.and_then(|a| a.ticket).map(|t| t.agent_id),
        Some("bo".into())
    );
}
