//! Limits over the network: oversized messages, too many long polls, too many open streams,
//! and long polls that answer before the caller's deadline. Each refusal changes nothing.

use crate::common::{self, agent, create, temp, Clients, Daemon};
use pb::{Channel, Tier};
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::{Code, Request};
use triage::proto as pb;

fn limits(body: &str) -> String {
    format!("[limits]\n{body}\n")
}

async fn available(c: &mut Clients, names: &[&str]) {
    for name in names {
        c.available_agent(agent(name, &[], &[], &[("chat", 5)]))
            .await;
    }
}

fn long_poll(agent: &str, wait_ms: u64) -> pb::PullNextTicketRequest {
    common::pull_request(agent, Some(Duration::from_millis(wait_ms)))
}

#[tokio::test]
async fn an_oversized_message_is_refused_and_creates_nothing() {
    let dir = temp();
    let d = Daemon::start(dir.path(), Some(&limits("max_message_bytes = 2048")));
    let mut c = d.clients().await;
    let tickets = (0..100)
        .map(|i| create(&format!("big-{i}"), Tier::Standard, Channel::Chat, &["en"]))
        .collect();
    let err = c
        .tickets
        .create_tickets(pb::CreateTicketsRequest { tickets })
        .await
        .expect_err("over 2 KiB");
    assert!(
        matches!(err.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{err:?}"
    );
    assert!(c.all_tickets().await.is_empty(), "nothing was created");
    c.create(create("small", Tier::Standard, Channel::Chat, &[]))
        .await;
    assert_eq!(c.all_tickets().await.len(), 1);
}

#[tokio::test]
async fn long_polls_beyond_the_limit_are_refused_and_the_others_still_served() {
    let dir = temp();
    let d = Daemon::start(dir.path(), Some(&limits("max_long_polls = 2")));
    let mut c = d.clients().await;
    available(&mut c, &["ana", "bo", "cy"]).await;
    let mut waiting = Vec::new();
    for name in ["ana", "bo"] {
        let mut agents = c.agents.clone();
        waiting.push(tokio::spawn(async move {
            agents.pull_next_ticket(long_poll(name, 10_000)).await
        }));
    }
    // The third is refused once the first two are waiting.
    d.wait_for_metric("triage_long_polls", 2.0).await;
    let refused = c
        .agents
        .pull_next_ticket(long_poll("cy", 10_000))
        .await
        .expect_err("a third long poll");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("long polls"), "{refused:?}");
    c.create(create("t1", Tier::Standard, Channel::Chat, &[]))
        .await;
    c.create(create("t2", Tier::Standard, Channel::Chat, &[]))
        .await;
    let mut served = 0;
    for w in waiting {
        let answer = w.await.expect("join").expect("served");
        served += usize::from(answer.into_inner().assignment.is_some());
    }
    assert_eq!(served, 2, "both waiting polls got a ticket");
}

#[tokio::test]
async fn streams_beyond_the_limit_are_refused_until_one_closes() {
    let dir = temp();
    let d = Daemon::start(dir.path(), Some(&limits("max_streams = 1")));
    let mut c = d.clients().await;
    available(&mut c, &["ana"]).await;
    let start = pb::WorkRequest {
        tag: 0,
        kind: Some(pb::work_request::Kind::Start(pb::WorkStart {
            agent_id: "ana".into(),
            ready: 0,
        })),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(start.clone()).await.expect("queue start");
    let session = c
        .agents
        .work(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("the first stream");
    let second = c.agents.work(tokio_stream::iter(vec![start.clone()])).await;
    let status = second.expect_err("a second stream");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let watch = c
        .admin
        .watch_events(pb::WatchEventsRequest {
            from_sequence: 0,
            ..Default::default()
        })
        .await;
    assert_eq!(
        watch.expect_err("a watcher too").code(),
        Code::ResourceExhausted
    );

    drop(tx);
    let mut ended = session.into_inner();
    while let Some(Ok(_)) = ended.next().await {}
    let mut reopened = None;
    for _ in 0..200 {
        let stream = tokio_stream::iter(vec![start.clone()]).chain(tokio_stream::pending());
        match c.agents.work(stream).await {
            Ok(s) => {
                reopened = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(
        reopened.is_some(),
        "a stream is allowed again once the first closed"
    );
}

#[tokio::test]
async fn a_long_poll_answers_before_the_callers_deadline() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    available(&mut c, &["ana"]).await;
    let mut req = Request::new(long_poll("ana", 10_000));
    req.set_timeout(Duration::from_millis(400));
    let answer = c
        .agents
        .pull_next_ticket(req)
        .await
        .expect("OK with no ticket, not DEADLINE_EXCEEDED");
    assert!(answer.into_inner().assignment.is_none());
}
