//! Wrap-up and presence reasons through the live daemon: a resolved phone call keeps its slot
//! busy across kill -9 until EndWrapUp (or its end) frees it; a reasoned presence shows in the
//! agent, the event stream and GetAgentStats.

use crate::common::{self, agent, create, temp, Clients, Daemon};
use crate::events::{read_until, watch};
use pb::{Channel, EventKind, Tier};
use std::time::Duration;
use triage::proto as pb;

/// Phone calls leave `wrap_up` of after-call work.
fn config(wrap_up: &str) -> String {
    format!("[policy.presence.wrap_up]\nphone = \"{wrap_up}\"\n")
}

/// ana (phone capacity 1) takes the first of two phone calls, answers and resolves it.
async fn resolve_first_call(c: &mut Clients) -> (u64, u64) {
    c.available_agent(agent("ana", &[], &[], &[("phone", 1)]))
        .await;
    let first = c
        .create(create("call-1", Tier::Standard, Channel::Phone, &[]))
        .await;
    let second = c
        .create(create("call-2", Tier::Standard, Channel::Phone, &[]))
        .await;
    let a = c.pull("ana").await.expect("ana takes the first call");
    assert_eq!(a.ticket.map(|t| t.ticket_id), Some(first.ticket_id));
    c.tickets
        .record_reply(common::agent_reply(first.ticket_id, "ana", a.lease_epoch))
        .await
        .expect("reply");
    c.tickets
        .resolve_ticket(common::resolve(first.ticket_id, "ana", a.lease_epoch))
        .await
        .expect("resolve");
    (first.ticket_id, second.ticket_id)
}

async fn get_agent(c: &mut Clients, id: &str) -> pb::Agent {
    c.agents
        .get_agent(pb::GetAgentRequest {
            agent_id: id.into(),
        })
        .await
        .expect("get agent")
        .into_inner()
}

#[tokio::test]
async fn a_slot_in_wrap_up_stays_busy_across_kill9_until_end_wrap_up() {
    let dir = temp();
    let d = Daemon::start(dir.path(), Some(&config("1h")));
    let mut c = d.clients().await;
    let (_, second) = resolve_first_call(&mut c).await;
    let ana = get_agent(&mut c, "ana").await;
    assert_eq!(ana.wrap_up.get("phone"), Some(&1));
    let until = ana.wrap_up_until.expect("wrap-up end");
    assert!(c.pull("ana").await.is_none(), "the slot is in wrap-up");
    d.kill9();

    let d = Daemon::start(dir.path(), Some(&config("1h")));
    let mut c = d.clients().await;
    let ana = get_agent(&mut c, "ana").await;
    assert_eq!(ana.wrap_up.get("phone"), Some(&1), "kept across kill -9");
    assert_eq!(ana.wrap_up_until, Some(until), "with the same end");
    c.available_agent(agent("ana", &[], &[], &[("phone", 1)]))
        .await;
    assert!(
        c.pull("ana").await.is_none(),
        "still busy after the restart"
    );
    let end = pb::EndWrapUpRequest {
        agent_id: "ana".into(),
        ..Default::default()
    };
    let ana = c.agents.end_wrap_up(end).await.expect("end").into_inner();
    assert!(ana.wrap_up.values().all(|&n| n == 0) && ana.wrap_up_until.is_none());
    let a = c.pull("ana").await.expect("free again");
    assert_eq!(a.ticket.map(|t| t.ticket_id), Some(second));
    let mut stream = watch(&mut c, 0).await;
    let events = read_until(&mut stream, |e| e.kind() == EventKind::WrapUpEnded).await;
    let ended = events.last().expect("WRAP_UP_ENDED");
    assert_eq!((ended.agent_id.as_str(), ended.early), ("ana", true));
    let stats = c
        .agents
        .get_agent_stats(pb::GetAgentStatsRequest {
            agent_id: "ana".into(),
            window: None,
        })
        .await
        .expect("stats")
        .into_inner();
    assert_eq!((stats.handled, stats.answered_within), (1, 1));
    assert!(stats.wrap_up.is_some_and(|w| w.seconds > 0 || w.nanos > 0));
}

/// A short wrap-up ends by itself: a long poll waiting through it gets the next call.
#[tokio::test]
async fn a_wrap_up_frees_its_slot_at_its_end_for_a_waiting_pull() {
    let dir = temp();
    let d = Daemon::start(dir.path(), Some(&config("1s")));
    let mut c = d.clients().await;
    let (_, second) = resolve_first_call(&mut c).await;
    let wait = Some(Duration::from_secs(20));
    let a = c
        .agents
        .pull_next_ticket(common::pull_request("ana", wait))
        .await
        .expect("pull")
        .into_inner()
        .assignment
        .expect("the call once the wrap-up ended");
    assert_eq!(a.ticket.map(|t| t.ticket_id), Some(second));
    d.wait_for_metric(r#"triage_wrap_ups_ended_total{how="timed"}"#, 1.0)
        .await;
}

#[tokio::test]
async fn a_presence_reason_shows_in_the_agent_the_events_and_the_stats() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ana", &[], &[], &[])).await;
    let lunch = pb::SetPresenceRequest {
        agent_id: "ana".into(),
        presence: pb::Presence::Away as i32,
        reason: "lunch".into(),
        ..Default::default()
    };
    let ana = c
        .agents
        .set_presence(lunch)
        .await
        .expect("away")
        .into_inner();
    assert_eq!(
        (ana.presence(), ana.presence_reason.as_str()),
        (pb::Presence::Away, "lunch")
    );
    let coffee = pb::SetPresenceRequest {
        agent_id: "ana".into(),
        presence: pb::Presence::Away as i32,
        reason: "coffee".into(),
        ..Default::default()
    };
    let refused = c
        .agents
        .set_presence(coffee)
        .await
        .expect_err("not a policy reason");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let mut stream = watch(&mut c, 0).await;
    let events = read_until(&mut stream, |e| {
        e.kind() == EventKind::PresenceChanged && e.presence() == pb::Presence::Away
    })
    .await;
    assert_eq!(events.last().map(|e| e.reason.as_str()), Some("lunch"));
    c.agents
        .set_presence(pb::SetPresenceRequest {
            agent_id: "ana".into(),
            presence: pb::Presence::Available as i32,
            ..Default::default()
        })
        .await
        .expect("back");
    let stats = c
        .agents
        .get_agent_stats(pb::GetAgentStatsRequest {
            agent_id: "ana".into(),
            window: Some(prost_types::Duration {
                seconds: 3600,
                nanos: 0,
            }),
        })
        .await
        .expect("stats")
        .into_inner();
    let states: Vec<(pb::Presence, &str)> = stats
        .time_in_state
        .iter()
        .map(|t| (t.presence(), t.reason.as_str()))
        .collect();
    assert!(
        states.contains(&(pb::Presence::Away, "lunch")),
        "{states:?}"
    );
    assert_eq!(stats.handled, 0);
    assert!(stats.service_level.is_none(), "nothing answered yet");
    assert_eq!((stats.offers_missed, stats.offers_rejected), (0, 0));
}
