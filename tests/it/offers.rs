//! Offers (reservations) through the live daemon (issue 18, point 1): an OFFERED lease
//! survives kill -9 with its remaining time and is accepted after it; a timeout puts the
//! ticket back in its place and the misses set the agent AWAY; a rejected ticket goes to
//! someone else.

use crate::common::{self, agent, create, merge_policy, temp, Clients, Daemon};
use crate::events::{read_until, watch};
use pb::{Channel, EventKind, Tier};
use std::time::Duration;
use tonic::Code;
use triage::proto as pb;

/// Offers on email, open for `timeout`; AWAY after `max_missed` misses in a row.
async fn offer_email(c: &mut Clients, timeout: Duration, max_missed: u32) {
    let policy = pb::SlaPolicy {
        offer_timeouts: vec![pb::ChannelOfferTimeout {
            channel: Channel::Email as i32,
            timeout: Some(timeout.try_into().expect("a duration")),
        }],
        max_missed_offers: Some(max_missed),
        ..Default::default()
    };
    let put = c.admin.put_sla_policy(merge_policy(policy)).await;
    let p = put.expect("offers on email").into_inner();
    assert_eq!(p.offer_timeouts.len(), 1);
    assert_eq!(p.max_missed_offers, Some(max_missed));
}

fn accept(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> pb::AcceptTicketRequest {
    pb::AcceptTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    }
}

fn reject(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> pb::RejectTicketRequest {
    pb::RejectTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        reason: "not my language".into(),
        ..Default::default()
    }
}

/// An offer acknowledged before kill -9 is still open after the restart, to the same agent,
/// until the same instant, holding a slot of its capacity; the agent cannot work on it
/// before accepting, and accepting after the restart makes it ASSIGNED under the same epoch.
#[tokio::test]
async fn an_offer_survives_kill_9_with_its_remaining_time_and_is_accepted_after_it() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    offer_email(&mut c, Duration::from_secs(3600), 3).await;
    let id = c
        .create(create("of-1", Tier::Standard, Channel::Email, &[]))
        .await
        .ticket_id;
    c.available_agent(agent("ana", &[], &[], &[])).await;
    let a = c.pull("ana").await.expect("an offer");
    let until = a.ticket.as_ref().and_then(|t| t.offered_until);
    assert!(until.is_some(), "offered, not assigned: {a:?}");
    let early = c
        .tickets
        .record_reply(common::agent_reply(id, "ana", a.lease_epoch))
        .await;
    assert_eq!(
        early.expect_err("not accepted yet").code(),
        Code::FailedPrecondition
    );
    d.kill9();

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let t = c.get(id).await;
    assert_eq!((t.agent_id.as_str(), t.offered_until), ("ana", until));
    let ana = c
        .all_agents()
        .await
        .into_iter()
        .find(|x| x.agent_id == "ana");
    assert_eq!(
        ana.expect("ana").load.get("email"),
        Some(&1),
        "the offer holds a slot"
    );
    let t = c
        .agents
        .accept_ticket(accept(id, "ana", a.lease_epoch))
        .await
        .expect("accepted after the restart")
        .into_inner();
    assert_eq!((t.offered_until, t.lease_epoch), (None, a.lease_epoch));
    assert_eq!(t.state(), pb::TicketState::Assigned);
    let mut stream = watch(&mut c, 0).await;
    let events = read_until(&mut stream, |e| e.kind() == EventKind::Assigned).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert!(kinds.ends_with(&[
        EventKind::Offered,
        EventKind::OfferAccepted,
        EventKind::Assigned
    ]));
    d.wait_for_metric(
        r#"triage_offers_total{channel="email",outcome="accepted"}"#,
        1.0,
    )
    .await;
    c.tickets
        .record_reply(common::agent_reply(id, "ana", a.lease_epoch))
        .await
        .expect("works on it once accepted");
}

/// With one miss allowed, an offer nobody answers times out: the ticket is QUEUED again with
/// the age and due it had, the agent is AWAY (the event's reason says `missed_offers`), and
/// the late accept is FAILED_PRECONDITION.
#[tokio::test]
async fn a_timed_out_offer_goes_back_in_place_and_the_miss_sets_the_agent_away() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    offer_email(&mut c, Duration::from_secs(1), 1).await;
    let id = c
        .create(create("of-2", Tier::Standard, Channel::Email, &[]))
        .await
        .ticket_id;
    let before = c.get(id).await;
    c.available_agent(agent("ana", &[], &[], &[])).await;
    let mut stream = watch(&mut c, 0).await;
    let a = c.pull("ana").await.expect("an offer");
    let events = read_until(&mut stream, |e| e.kind() == EventKind::OfferTimedOut).await;
    let e = events.last().expect("OFFER_TIMED_OUT");
    assert_eq!(
        (e.agent_id.as_str(), e.missed_offers, e.reason.as_str()),
        ("ana", 1, "missed_offers")
    );
    let t = c.get(id).await;
    assert_eq!(t.state(), pb::TicketState::Queued);
    assert_eq!((t.agent_id.as_str(), t.due_at), ("", before.due_at));
    let ana = c
        .all_agents()
        .await
        .into_iter()
        .find(|x| x.agent_id == "ana");
    assert_eq!(ana.expect("ana").presence(), pb::Presence::Away);
    let late = c
        .agents
        .accept_ticket(accept(id, "ana", a.lease_epoch))
        .await;
    assert_eq!(
        late.expect_err("timed out").code(),
        Code::FailedPrecondition
    );
    d.wait_for_metric(
        r#"triage_offers_total{channel="email",outcome="timed_out"}"#,
        1.0,
    )
    .await;
}

/// A rejected offer goes back to the queue; the agent who rejected it is not offered it
/// again (its next pull finds nothing), another agent is.
#[tokio::test]
async fn a_rejected_offer_goes_to_another_agent() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    offer_email(&mut c, Duration::from_secs(600), 3).await;
    let id = c
        .create(create("of-3", Tier::Standard, Channel::Email, &[]))
        .await
        .ticket_id;
    c.available_agent(agent("ana", &[], &[], &[])).await;
    c.available_agent(agent("bo", &[], &[], &[])).await;
    let a = c.pull("ana").await.expect("an offer");
    let t = c
        .agents
        .reject_ticket(reject(id, "ana", a.lease_epoch))
        .await
        .expect("rejected")
        .into_inner();
    assert_eq!(t.state(), pb::TicketState::Queued);
    assert!(
        c.pull("ana").await.is_none(),
        "not offered to ana again so soon"
    );
    let b = c.pull("bo").await.expect("bo gets the offer");
    assert_eq!(b.ticket.map(|t| t.ticket_id), Some(id));
    let mut stream = watch(&mut c, 0).await;
    let events = read_until(&mut stream, |e| e.kind() == EventKind::OfferRejected).await;
    assert_eq!(
        events.last().map(|e| e.reason.as_str()),
        Some("not my language")
    );
}
