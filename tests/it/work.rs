//! AgentService.Work over the network: pushes within credit, answers by tag, protocol errors,
//! release of what a broken session held, durability of pushed leases across kill -9, and the
//! end of sessions at shutdown.

use crate::common::{agent, create, temp, Clients, Daemon};
use pb::work_request::Kind as In;
use pb::work_response::Kind as Out;
use pb::{Channel, Tier};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Streaming};
use triage::proto as pb;

/// The client end of one Work session.
struct Session {
    tx: Option<mpsc::Sender<pb::WorkRequest>>,
    rx: Streaming<pb::WorkResponse>,
}

impl Session {
    /// Opens a session whose first message is `first`.
    async fn open_with(c: &mut Clients, first: In) -> Session {
        let (tx, rx) = mpsc::channel(16);
        let session_tx = tx.clone();
        tx.send(pb::WorkRequest {
            tag: 0,
            kind: Some(first),
        })
        .await
        .expect("queue start");
        let rx = c
            .agents
            .work(ReceiverStream::new(rx))
            .await
            .expect("open session")
            .into_inner();
        Session {
            tx: Some(session_tx),
            rx,
        }
    }

    async fn open(c: &mut Clients, agent: &str, ready: u32) -> Session {
        let start = In::Start(pb::WorkStart {
            agent_id: agent.into(),
            ready,
        });
        Session::open_with(c, start).await
    }

    async fn send(&self, tag: u64, kind: In) {
        let req = pb::WorkRequest {
            tag,
            kind: Some(kind),
        };
        let tx = self.tx.as_ref().expect("open");
        tx.send(req).await.expect("send");
    }

    async fn next(&mut self) -> Result<Option<pb::WorkResponse>, tonic::Status> {
        tokio::time::timeout(Duration::from_secs(10), self.rx.message())
            .await
            .expect("an answer within 10 s")
    }

    async fn assignment(&mut self) -> pb::Assignment {
        match self.next().await.expect("no error").and_then(|r| r.kind) {
            Some(Out::Assignment(a)) => a,
            other => panic!("expected an assignment, got {other:?}"),
        }
    }

    async fn result(&mut self) -> pb::WorkResult {
        match self.next().await.expect("no error").and_then(|r| r.kind) {
            Some(Out::Result(r)) => r,
            other => panic!("expected a result, got {other:?}"),
        }
    }

    /// The status the session ended with.
    async fn ended(&mut self) -> tonic::Status {
        loop {
            match self.next().await {
                Err(status) => return status,
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the session ended without a status"),
            }
        }
    }

    /// Nothing arrives for a while (the server respects credit).
    async fn quiet(&mut self) {
        let next = tokio::time::timeout(Duration::from_millis(300), self.rx.message()).await;
        assert!(next.is_err(), "unexpected message: {next:?}");
    }
}

fn done(ticket_id: u64, lease_epoch: u64) -> In {
    In::Done(pb::WorkDone {
        ticket_id,
        lease_epoch,
        ..Default::default()
    })
}

fn chat(id: &str) -> pb::CreateTicketRequest {
    create(id, Tier::Standard, Channel::Chat, &[])
}

async fn daemon_with_agent(dir: &std::path::Path, name: &str) -> (Daemon, Clients) {
    let d = Daemon::start(dir, None);
    let mut c = d.clients().await;
    c.available_agent(agent(name, &[], &[], &[("chat", 10)]))
        .await;
    (d, c)
}

#[tokio::test]
async fn pushes_within_credit_and_answers_by_tag() {
    let dir = temp();
    let (_d, mut c) = daemon_with_agent(dir.path(), "ana").await;
    let mut s = Session::open(&mut c, "ana", 2).await;
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(c.create(chat(&format!("w-{i}"))).await.ticket_id);
    }
    let first = s.assignment().await;
    let second = s.assignment().await;
    s.quiet().await;
    let pushed: HashSet<u64> = [&first, &second]
        .iter()
        .map(|a| a.ticket.as_ref().expect("ticket").ticket_id)
        .collect();
    assert_eq!(pushed.len(), 2, "two different tickets");
    for a in [&first, &second] {
        let t = a.ticket.as_ref().expect("ticket");
        assert_eq!(
            (t.state(), t.agent_id.as_str()),
            (pb::TicketState::Assigned, "ana")
        );
        assert_eq!(
            c.get(t.ticket_id).await.agent_id,
            "ana",
            "the lease is real"
        );
    }

    s.send(0, In::Ready(pb::WorkReady { tickets: 1 })).await;
    let third = s.assignment().await;
    let third_id = third.ticket.as_ref().expect("ticket").ticket_id;
    assert!(!pushed.contains(&third_id));
    assert_eq!(pushed.len() + 1, created.len());

    let first_id = first.ticket.as_ref().expect("ticket").ticket_id;
    s.send(7, done(first_id, first.lease_epoch)).await;
    let r = s.result().await;
    assert_eq!((r.tag, r.code), (7, 0), "{}", r.message);
    assert_eq!(r.ticket.expect("ticket").state(), pb::TicketState::Resolved);

    // A refused request is answered with its code and the session goes on.
    s.send(8, done(third_id, third.lease_epoch + 1)).await;
    let r = s.result().await;
    assert_eq!((r.tag, r.code), (8, Code::FailedPrecondition as i32));
    assert_eq!(c.get(third_id).await.state(), pb::TicketState::Assigned);
    s.send(9, done(0, 1)).await;
    let r = s.result().await;
    assert_eq!((r.tag, r.code), (9, Code::InvalidArgument as i32));
    assert!(r.message.contains("done.ticket_id"), "{}", r.message);

    s.send(10, In::Heartbeat(pb::WorkHeartbeat {})).await;
    let r = s.result().await;
    assert_eq!((r.tag, r.code), (10, 0));
    let hb = r.heartbeat.expect("heartbeat");
    assert_eq!(hb.presence(), pb::Presence::Available);

    let release = In::Release(pb::WorkRelease {
        ticket_id: third_id,
        lease_epoch: third.lease_epoch,
        ..Default::default()
    });
    s.send(11, release).await;
    let r = s.result().await;
    assert_eq!((r.tag, r.code), (11, 0), "{}", r.message);
    assert_eq!(c.get(third_id).await.state(), pb::TicketState::Queued);

    // Done under a request id: its retry (say, from a new session after a broken one) is
    // answered as the first was, and the same id with another body is refused.
    let second_id = second.ticket.as_ref().expect("ticket").ticket_id;
    let keyed = |ticket_id, lease_epoch| {
        In::Done(pb::WorkDone {
            ticket_id,
            lease_epoch,
            request_id: "done-2".into(),
        })
    };
    for tag in [12, 13] {
        s.send(tag, keyed(second_id, second.lease_epoch)).await;
        let r = s.result().await;
        assert_eq!((r.tag, r.code), (tag, 0), "{}", r.message);
        assert_eq!(r.ticket.expect("ticket").state(), pb::TicketState::Resolved);
    }
    s.send(14, keyed(second_id, second.lease_epoch + 1)).await;
    let r = s.result().await;
    assert_eq!((r.tag, r.code), (14, Code::InvalidArgument as i32));
    assert!(r.message.starts_with("request_id"), "{}", r.message);
}

#[tokio::test]
async fn protocol_errors_end_the_session_with_a_clear_status() {
    let dir = temp();
    let (_d, mut c) = daemon_with_agent(dir.path(), "ana").await;
    let cases: Vec<(In, Option<In>, Code, &str)> = vec![
        (
            In::Ready(pb::WorkReady { tickets: 1 }),
            None,
            Code::InvalidArgument,
            "start",
        ),
        (
            In::Start(pb::WorkStart {
                agent_id: String::new(),
                ready: 1,
            }),
            None,
            Code::InvalidArgument,
            "start.agent_id",
        ),
        (
            In::Start(pb::WorkStart {
                agent_id: "ana".into(),
                ready: 1001,
            }),
            None,
            Code::InvalidArgument,
            "start.ready",
        ),
        (
            In::Start(pb::WorkStart {
                agent_id: "ana".into(),
                ready: 600,
            }),
            Some(In::Ready(pb::WorkReady { tickets: 401 })),
            Code::InvalidArgument,
            "ready.tickets",
        ),
        (
            In::Start(pb::WorkStart {
                agent_id: "ana".into(),
                ready: 0,
            }),
            Some(In::Start(pb::WorkStart {
                agent_id: "ana".into(),
                ready: 0,
            })),
            Code::InvalidArgument,
            "start",
        ),
        (
            In::Start(pb::WorkStart {
                agent_id: "nobody".into(),
                ready: 1,
            }),
            None,
            Code::NotFound,
            "nobody",
        ),
    ];
    for (first, then, code, mentions) in cases {
        let mut s = Session::open_with(&mut c, first.clone()).await;
        if let Some(then) = then {
            s.send(1, then).await;
        }
        let status = s.ended().await;
        assert_eq!(status.code(), code, "{first:?}: {status:?}");
        assert!(status.message().contains(mentions), "{status:?}");
    }
    // None of it leased anything.
    let t = c.create(chat("after")).await;
    assert_eq!(c.get(t.ticket_id).await.state(), pb::TicketState::Queued);
}

#[tokio::test]
async fn an_agent_that_goes_away_ends_its_session() {
    let dir = temp();
    let (_d, mut c) = daemon_with_agent(dir.path(), "ana").await;
    let mut s = Session::open(&mut c, "ana", 1).await;
    c.agents
        .set_presence(pb::SetPresenceRequest {
            agent_id: "ana".into(),
            presence: pb::Presence::Away as i32,
            ..Default::default()
        })
        .await
        .expect("away");
    let t = c.create(chat("while-away")).await;
    let status = s.ended().await;
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(c.get(t.ticket_id).await.state(), pb::TicketState::Queued);
}

#[tokio::test]
async fn a_broken_session_leaves_nothing_leased() {
    let dir = temp();
    let (_d, mut c) = daemon_with_agent(dir.path(), "ana").await;
    c.available_agent(agent("bo", &[], &[], &[("chat", 10)]))
        .await;
    let s = Session::open(&mut c, "ana", 5).await;
    drop(s);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(c.create(chat(&format!("b-{i}"))).await.ticket_id);
    }
    // Whether a ticket was pushed before the server saw the client go or not, every one ends
    // up queued again and another agent can take it.
    for _ in 0..200 {
        let mut queued = 0;
        for &id in &ids {
            queued += usize::from(c.get(id).await.state() == pb::TicketState::Queued);
        }
        if queued == ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut pulled = HashSet::new();
    while let Some(a) = c.pull("bo").await {
        pulled.insert(a.ticket.expect("ticket").ticket_id);
    }
    assert_eq!(pulled, ids.into_iter().collect());
}

#[tokio::test]
async fn pushed_assignments_survive_kill_9() {
    let dir = temp();
    let (d, mut c) = daemon_with_agent(dir.path(), "ana").await;
    // Credit 10 = ana's chat capacity.
    let mut s = Session::open(&mut c, "ana", 10).await;
    for i in 0..10 {
        c.create(chat(&format!("k-{i}"))).await;
    }
    let mut got = Vec::new();
    for _ in 0..10 {
        let a = s.assignment().await;
        got.push((a.ticket.expect("ticket").ticket_id, a.lease_epoch));
    }
    d.kill9();
    drop(s);
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    for (id, epoch) in got {
        let t = c.get(id).await;
        assert_eq!(
            (t.state(), t.agent_id.as_str(), t.lease_epoch),
            (pb::TicketState::Assigned, "ana", epoch),
            "ticket {id}"
        );
    }
}

#[tokio::test]
async fn shutdown_ends_sessions_with_unavailable() {
    let dir = temp();
    let (d, mut c) = daemon_with_agent(dir.path(), "ana").await;
    let mut s = Session::open(&mut c, "ana", 1).await;
    // The session is registered with the owner once a heartbeat has gone round.
    s.send(1, In::Heartbeat(pb::WorkHeartbeat {})).await;
    assert_eq!(s.result().await.code, 0);
    let stopping = tokio::spawn(d.terminate());
    let status = s.ended().await;
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    drop(s);
    let exit = stopping.await.expect("join");
    assert!(exit.success(), "{exit:?}");
}

/// With offers on chat, a session's pushes are offers: `accept` makes one ASSIGNED under its
/// epoch and `reject` puts the other back in the queue, each answered by its tag.
#[tokio::test]
async fn a_session_carries_offers_and_their_accept_and_reject() {
    let dir = temp();
    let (_d, mut c) = daemon_with_agent(dir.path(), "ana").await;
    let policy = pb::SlaPolicy {
        offer_timeouts: vec![pb::ChannelOfferTimeout {
            channel: Channel::Chat as i32,
            timeout: Some(Duration::from_secs(600).try_into().expect("a duration")),
        }],
        ..Default::default()
    };
    let put = crate::common::merge_policy(policy);
    c.admin.put_sla_policy(put).await.expect("offers on chat");
    let mut s = Session::open(&mut c, "ana", 2).await;
    for i in 0..2 {
        c.create(chat(&format!("wo-{i}"))).await;
    }
    let offers = [s.assignment().await, s.assignment().await];
    let held = |a: &pb::Assignment| {
        let t = a.ticket.as_ref().expect("ticket");
        assert!(t.offered_until.is_some(), "an offer: {t:?}");
        (t.ticket_id, a.lease_epoch)
    };
    let ((take, take_epoch), (skip, skip_epoch)) = (held(&offers[0]), held(&offers[1]));
    s.send(
        1,
        In::Accept(pb::WorkAccept {
            ticket_id: take,
            lease_epoch: take_epoch,
            ..Default::default()
        }),
    )
    .await;
    s.send(
        2,
        In::Reject(pb::WorkReject {
            ticket_id: skip,
            lease_epoch: skip_epoch,
            reason: "busy".into(),
            ..Default::default()
        }),
    )
    .await;
    let mut results = [s.result().await, s.result().await];
    results.sort_by_key(|r| r.tag);
    let states: Vec<_> = results
        .iter()
        .map(|r| (r.tag, r.code, r.ticket.as_ref().map(|t| t.state())))
        .collect();
    assert_eq!(
        states,
        [
            (1, 0, Some(pb::TicketState::Assigned)),
            (2, 0, Some(pb::TicketState::Queued))
        ]
    );
}
