//! The audit trail over the network (issue 19): each change kind reports its event, every
//! event names who caused it (the token's name from the token file, `system` for timers,
//! `anonymous` with authentication off), and an agent's actions under a lease carry its epoch,
//! for calls, for a long poll served later and for a `Work` session.

use crate::auth::{bearer, entry, start, with};
use crate::common::{agent, create, temp, Clients, Daemon};
use pb::work_request::Kind as In;
use pb::work_response::Kind as Out;
use pb::{Channel, EventKind, Tier};
use std::time::Duration;
use tokio_stream::wrappers::ReceiverStream;
use triage::proto as pb;

const OPS: &str = "ops-audit-0123456789";
const DESK: &str = "desk-audit-0123456789";
const ANA: &str = "ana-audit-0123456789";
const BO: &str = "bo-audit-0123456789";

fn tokens() -> String {
    [
        entry("ops", OPS, "admin", None),
        entry("helpdesk", DESK, "integrator", None),
        entry("ana-desk", ANA, "agent", Some("ana")),
        entry("bo-desk", BO, "agent", Some("bo")),
    ]
    .concat()
}

/// Every event from the first, read as `ops`, up to the first one `last` holds for.
async fn events_until(c: &mut Clients, last: impl Fn(&pb::Event) -> bool) -> Vec<pb::Event> {
    let watch = with(pb::WatchEventsRequest::default(), bearer(OPS).as_deref());
    let mut stream = c
        .admin
        .watch_events(watch)
        .await
        .expect("watch")
        .into_inner();
    let mut out = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(30), stream.message()).await;
        let event = next
            .expect("the event within 30 s")
            .expect("ok")
            .expect("open");
        let done = last(&event);
        out.push(event);
        if done {
            return out;
        }
    }
}

/// The events of `kind` (about `ticket`, unless 0): (actor, lease epoch, reason).
fn of(events: &[pb::Event], kind: EventKind, ticket: u64) -> Vec<(&str, u64, &str)> {
    events
        .iter()
        .filter(|e| e.kind() == kind && (ticket == 0 || e.ticket_id == ticket))
        .map(|e| (e.actor.as_str(), e.lease_epoch, e.reason.as_str()))
        .collect()
}

fn is(kind: EventKind, ticket: u64) -> impl Fn(&pb::Event) -> bool {
    move |e| e.kind() == kind && e.ticket_id == ticket
}

/// Makes `name` an agent (as the integration) who is available (as itself, `token`).
async fn available(c: &mut Clients, name: &str, token: &str) {
    let upsert = agent(name, &[], &[], &[("chat", 5)]);
    let desk = bearer(DESK);
    c.agents
        .upsert_agent(with(upsert, desk.as_deref()))
        .await
        .expect("upsert");
    let presence = pb::SetPresenceRequest {
        agent_id: name.into(),
        presence: pb::Presence::Available as i32,
        ..Default::default()
    };
    let me = bearer(token);
    c.agents
        .set_presence(with(presence, me.as_deref()))
        .await
        .expect("presence");
}

async fn create_as(c: &mut Clients, token: &str, id: &str) -> u64 {
    let t = create(id, Tier::Standard, Channel::Chat, &[]);
    let auth = bearer(token);
    let created = c.tickets.create_ticket(with(t, auth.as_deref())).await;
    created.expect("create").into_inner().ticket_id
}

async fn put_policy(c: &mut Clients, policy: pb::SlaPolicy, replace: bool) {
    let put = pb::PutSlaPolicyRequest {
        policy: Some(policy),
        replace,
        ..Default::default()
    };
    let ops = bearer(OPS);
    let put = c.admin.put_sla_policy(with(put, ops.as_deref())).await;
    put.expect("policy put");
}

/// Profiles, the policy, a ticket's creation and update, an agent's pull and resolve: each
/// event names the token that caused it, and the agent's carry its lease epoch.
#[tokio::test]
async fn each_change_reports_its_event_and_the_token_that_made_it() {
    let dir = temp();
    let d = start(dir.path(), &tokens());
    let mut c = d.clients().await;
    available(&mut c, "ana", ANA).await;
    available(&mut c, "ana", ANA).await;
    let merge = pb::SlaPolicy {
        warning_fraction: 0.7,
        ..Default::default()
    };
    put_policy(&mut c, merge, false).await;
    put_policy(&mut c, pb::SlaPolicy::default(), true).await;
    let id = create_as(&mut c, DESK, "audit-1").await;
    let update = pb::UpdateTicketRequest {
        ticket_id: id,
        priority: Some(pb::Priority::High as i32),
        tier: Some(pb::Tier::Standard as i32),
        ..Default::default()
    };
    let (desk, ana) = (bearer(DESK), bearer(ANA));
    let updated = c.tickets.update_ticket(with(update, desk.as_deref())).await;
    updated.expect("update");
    let pull = pb::PullNextTicketRequest {
        agent_id: "ana".into(),
        ..Default::default()
    };
    let pulled = c.agents.pull_next_ticket(with(pull, ana.as_deref())).await;
    let a = pulled
        .expect("pull")
        .into_inner()
        .assignment
        .expect("assigned");
    let resolve = pb::ResolveTicketRequest {
        ticket_id: id,
        agent_id: "ana".into(),
        lease_epoch: a.lease_epoch,
        ..Default::default()
    };
    let resolved = c
        .tickets
        .resolve_ticket(with(resolve, ana.as_deref()))
        .await;
    resolved.expect("resolve");

    let events = events_until(&mut c, is(EventKind::Resolved, id)).await;
    let upserts = of(&events, EventKind::AgentUpserted, 0);
    let expected = [("helpdesk", 0, "created"), ("helpdesk", 0, "changed")];
    assert_eq!(upserts, expected);
    let policy = of(&events, EventKind::PolicyChanged, 0);
    assert_eq!(policy, [("ops", 0, "merge"), ("ops", 0, "replace")]);
    assert_eq!(of(&events, EventKind::Created, id), [("helpdesk", 0, "")]);
    let update = events.iter().find(|e| e.kind() == EventKind::TicketUpdated);
    let update = update.expect("the update's event");
    assert_eq!((update.ticket_id, update.actor.as_str()), (id, "helpdesk"));
    assert_eq!(
        update.changed_fields,
        ["priority"],
        "the tier did not change"
    );
    let epoch = a.lease_epoch;
    let assigned = of(&events, EventKind::Assigned, id);
    assert_eq!(assigned, [("ana-desk", epoch, a.reason.as_str())]);
    assert_eq!(
        of(&events, EventKind::Resolved, id),
        [("ana-desk", epoch, "")]
    );
}

/// An assignment served later to a waiting long poll, or pushed to a Work session, is caused
/// by whoever opened that poll or session, under the epoch it granted; the session's `done`
/// acts under that epoch; the create that made the ticket available is the integration's.
#[tokio::test]
async fn an_assignment_served_to_a_waiter_is_caused_by_who_opened_it() {
    let dir = temp();
    let d = start(dir.path(), &tokens());
    let mut c = d.clients().await;
    available(&mut c, "ana", ANA).await;
    let mut poller = d.clients().await;
    let poll = tokio::spawn(async move {
        let pull = pb::PullNextTicketRequest {
            agent_id: "ana".into(),
            wait: Some(prost_types::Duration {
                seconds: 20,
                nanos: 0,
            }),
            ..Default::default()
        };
        let ana = bearer(ANA);
        let pulled = poller.agents.pull_next_ticket(with(pull, ana.as_deref()));
        pulled.await.expect("pull").into_inner().assignment
    });
    d.wait_for_metric("triage_long_polls", 1.0).await;
    let first = create_as(&mut c, DESK, "audit-poll").await;
    let polled = poll.await.expect("poll task").expect("the poll got it");

    available(&mut c, "bo", BO).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let start = In::Start(pb::WorkStart {
        agent_id: "bo".into(),
        ready: 1,
    });
    let send = |tag, kind| pb::WorkRequest {
        tag,
        kind: Some(kind),
    };
    tx.send(send(0, start)).await.expect("start");
    let bo = bearer(BO);
    let session = c.agents.work(with(ReceiverStream::new(rx), bo.as_deref()));
    let mut session = session.await.expect("session").into_inner();
    let second = create_as(&mut c, DESK, "audit-session").await;
    let next = tokio::time::timeout(Duration::from_secs(20), session.message()).await;
    let pushed = match next.expect("within 20 s").expect("ok").and_then(|r| r.kind) {
        Some(Out::Assignment(a)) => a,
        other => panic!("expected an assignment, got {other:?}"),
    };
    let done = In::Done(pb::WorkDone {
        ticket_id: second,
        lease_epoch: pushed.lease_epoch,
        ..Default::default()
    });
    tx.send(send(1, done)).await.expect("done");

    let events = events_until(&mut c, is(EventKind::Resolved, second)).await;
    assert_eq!(
        of(&events, EventKind::Created, first),
        [("helpdesk", 0, "")]
    );
    let assigned = of(&events, EventKind::Assigned, first);
    let polled_as = ("ana-desk", polled.lease_epoch, polled.reason.as_str());
    assert_eq!(assigned, [polled_as]);
    let assigned = of(&events, EventKind::Assigned, second);
    let pushed_as = ("bo-desk", pushed.lease_epoch, pushed.reason.as_str());
    assert_eq!(assigned, [pushed_as]);
    let resolved = of(&events, EventKind::Resolved, second);
    assert_eq!(resolved, [("bo-desk", pushed.lease_epoch, "")]);
}

/// What a timer does is the daemon's own: an agent whose heartbeats stop expires as `system`
/// (its presence was set by its own token).
#[tokio::test]
async fn a_timer_acts_as_system() {
    let dir = temp();
    let d = start(dir.path(), &tokens());
    let mut c = d.clients().await;
    let ttl = pb::SlaPolicy {
        presence_ttl: Some(prost_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        ..Default::default()
    };
    put_policy(&mut c, ttl, false).await;
    available(&mut c, "ana", ANA).await;
    let expired = |e: &pb::Event| e.kind() == EventKind::AgentExpired;
    let events = events_until(&mut c, expired).await;
    let last = events.last().expect("the expiry");
    assert_eq!(
        (last.agent_id.as_str(), last.actor.as_str()),
        ("ana", "system")
    );
    assert_eq!(last.lease_epoch, 0);
}

/// Without a token file every caller is `anonymous`.
#[tokio::test]
async fn without_authentication_every_caller_is_anonymous() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let t = c
        .create(create("anon-1", Tier::Vip, Channel::Email, &[]))
        .await;
    let watch = pb::WatchEventsRequest::default();
    let mut stream = c
        .admin
        .watch_events(watch)
        .await
        .expect("watch")
        .into_inner();
    let next = tokio::time::timeout(Duration::from_secs(30), stream.message()).await;
    let first = next.expect("within 30 s").expect("ok").expect("open");
    assert_eq!(
        (first.ticket_id, first.kind()),
        (t.ticket_id, EventKind::Created)
    );
    assert_eq!(first.actor, "anonymous");
}
