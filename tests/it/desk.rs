//! The desk's everyday moves through the live daemon (issue 18): widening keeps the skill the
//! client listed first; replies recorded on an agent's behalf.

use crate::common::{self, agent, create, temp, Daemon};
use crate::events::{read_until, watch};
use crate::import::ago;
use pb::{Channel, EventKind, SlaMetric, Tier};
use triage::proto as pb;

/// A VIP email (first response 1 h, L2 at 1.5 h, L3 at 2 h) that began 100 minutes ago sits
/// at L2 on its first response: routing keeps only the skill listed first, `en`, not the
/// alphabetically first `billing`; and the ticket remembers which across a kill -9.
#[tokio::test]
async fn l2_widening_keeps_the_skill_listed_first_across_kill_9() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let request = pb::CreateTicketRequest {
        created_at: Some(ago(100 * 60)),
        ..create("en-billing", Tier::Vip, Channel::Email, &["en", "billing"])
    };
    let id = c.create(request).await.ticket_id;
    assert_eq!(c.get(id).await.required_skills, ["en", "billing"]);
    d.kill9();

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let t = c.get(id).await;
    assert_eq!(t.required_skills, ["en", "billing"], "kept across kill -9");
    assert_eq!(t.escalation(), pb::EscalationLevel::L2);
    c.available_agent(agent("bill", &["billing"], &[], &[]))
        .await;
    c.available_agent(agent("eve", &["en"], &[], &[])).await;
    assert!(
        c.pull("bill").await.is_none(),
        "billing alone is not enough"
    );
    let a = c.pull("eve").await.expect("en is what L2 keeps");
    assert_eq!(
        (a.ticket.map(|t| t.ticket_id), a.reason.as_str()),
        (Some(id), "escalated-l2")
    );
}

/// A reply bo typed in the help desk's own UI, recorded on his behalf while ana holds the
/// ticket: the first response is met, ana keeps the ticket at the same epoch (her lease still
/// works), and the event says who wrote it and that it was on behalf.
#[tokio::test]
async fn a_reply_on_behalf_meets_the_first_response_and_leaves_the_lease() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let id = c
        .create(create("ob-1", Tier::Standard, Channel::Email, &[]))
        .await
        .ticket_id;
    c.available_agent(agent("ana", &[], &[], &[])).await;
    c.available_agent(agent("bo", &[], &[], &[])).await;
    let epoch = c.pull("ana").await.expect("ana takes it").lease_epoch;
    let request = pb::RecordReplyRequest {
        on_behalf: true,
        ..common::agent_reply(id, "bo", 0)
    };
    let t = c
        .tickets
        .record_reply(request)
        .await
        .expect("on behalf")
        .into_inner();
    let first = t
        .sla
        .iter()
        .find(|c| c.metric() == SlaMetric::FirstResponse);
    assert!(first.and_then(|c| c.met_at.as_ref()).is_some(), "{t:?}");
    assert_eq!((t.agent_id.as_str(), t.lease_epoch), ("ana", epoch));
    let mut stream = watch(&mut c, 0).await;
    let events = read_until(&mut stream, |e| e.kind() == EventKind::Replied).await;
    let replied = events.last().expect("a REPLIED event");
    assert_eq!((replied.agent_id.as_str(), replied.on_behalf), ("bo", true));
    let resolve = common::resolve(id, "ana", epoch);
    c.tickets
        .resolve_ticket(resolve)
        .await
        .expect("ana's lease still holds");
}

fn assign_request(ticket_id: u64, agent_id: &str, force: bool) -> pb::AssignTicketRequest {
    pb::AssignTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        force,
        ..Default::default()
    }
}

fn transfer_to_agent(ticket_id: u64, agent_id: &str, note: &str) -> pb::TransferTicketRequest {
    pb::TransferTicketRequest {
        ticket_id,
        to: Some(pb::transfer_ticket_request::To::AgentId(agent_id.into())),
        note: note.into(),
        ..Default::default()
    }
}

/// A supervisor assigns a ticket to ana, then transfers it to bo; once the transfer is
/// acknowledged the daemon is killed with -9. After the restart bo holds it at the epoch the
/// transfer returned, ana's lease is stale, the first response is due when it was before the
/// transfer, and the event stream has the TRANSFERRED event with from, to and the note.
#[tokio::test]
async fn an_acknowledged_transfer_survives_kill_9_with_its_holder_and_epoch() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let id = c
        .create(create("tr-1", Tier::Standard, Channel::Chat, &[]))
        .await
        .ticket_id;
    c.available_agent(agent("ana", &[], &[], &[])).await;
    c.available_agent(agent("bo", &[], &[], &[])).await;
    let due = c.get(id).await.due_at;
    let t = c
        .tickets
        .assign_ticket(assign_request(id, "ana", false))
        .await
        .expect("assign")
        .into_inner();
    assert_eq!((t.agent_id.as_str(), t.lease_epoch), ("ana", 1));
    let moved = c
        .tickets
        .transfer_ticket(transfer_to_agent(id, "bo", "order 1234 needs a refund"))
        .await
        .expect("transfer")
        .into_inner();
    assert_eq!(moved.agent_id, "bo");
    assert!(moved.lease_epoch > 1);
    d.wait_for_metric(r#"triage_transfers_total{channel="chat",to="agent"}"#, 1.0)
        .await;
    d.kill9();

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let t = c.get(id).await;
    assert_eq!(
        (t.agent_id.as_str(), t.lease_epoch),
        ("bo", moved.lease_epoch)
    );
    assert_eq!(t.due_at, due, "the clocks kept running: same due");
    let stale = c
        .tickets
        .resolve_ticket(common::resolve(id, "ana", 1))
        .await;
    assert_eq!(
        stale.expect_err("ana's lease ended").code(),
        tonic::Code::FailedPrecondition
    );
    let mut stream = watch(&mut c, 0).await;
    let events = read_until(&mut stream, |e| e.kind() == EventKind::Transferred).await;
    let e = events.last().expect("TRANSFERRED");
    assert_eq!(
        (
            e.from_agent_id.as_str(),
            e.agent_id.as_str(),
            e.note.as_str()
        ),
        ("ana", "bo", "order 1234 needs a refund")
    );
    c.tickets
        .resolve_ticket(common::resolve(id, "bo", moved.lease_epoch))
        .await
        .expect("bo's lease holds");
}

/// Without force a full agent is refused naming why, and nothing changes; with force the
/// supervisor's word wins and the agent goes past its capacity.
#[tokio::test]
async fn a_full_agent_is_refused_unless_forced() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ana", &[], &[], &[("phone", 1)]))
        .await;
    let mut ids = Vec::new();
    for n in 0..2 {
        let req = create(&format!("ph-{n}"), Tier::Standard, Channel::Phone, &[]);
        ids.push(c.create(req).await.ticket_id);
    }
    c.tickets
        .assign_ticket(assign_request(ids[0], "ana", false))
        .await
        .expect("room for one");
    let refused = c
        .tickets
        .assign_ticket(assign_request(ids[1], "ana", false))
        .await;
    let status = refused.expect_err("full");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(
        status.message().contains("is full on phone (1 of 1)"),
        "{}",
        status.message()
    );
    assert_eq!(c.get(ids[1]).await.state(), pb::TicketState::Queued);
    let t = c
        .tickets
        .assign_ticket(assign_request(ids[1], "ana", true))
        .await
        .expect("forced")
        .into_inner();
    assert_eq!(t.agent_id, "ana");
}

/// The walk-through's lines: `ctl assign`, `ctl transfer` (to an agent, then to a queue) and
/// `ctl reply --on-behalf`, each printing the ticket as it now is.
#[tokio::test]
async fn ctl_assigns_transfers_and_replies_on_behalf() {
    use crate::ctl::{ctl, ok};
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ana", &["en"], &[], &[])).await;
    c.available_agent(agent("bo", &["en"], &[], &[])).await;
    let id = c
        .create(create("ctl-1", Tier::Standard, Channel::Email, &["en"]))
        .await
        .ticket_id
        .to_string();
    let out = ok(ctl(&d, &["assign", &id, "ana"]));
    assert!(out.contains("agent=ana epoch=1"), "{out}");
    let out = ok(ctl(
        &d,
        &[
            "transfer",
            &id,
            "--to-agent",
            "bo",
            "--note",
            "VIP, be quick",
        ],
    ));
    assert!(out.contains("agent=bo epoch=3"), "{out}");
    let out = ok(ctl(&d, &["reply", &id, "--agent", "ana", "--on-behalf"]));
    assert!(out.contains("agent=bo epoch=3"), "the holder stays: {out}");
    let out = ok(ctl(
        &d,
        &["transfer", &id, "--skills", "de,en", "--note", "German"],
    ));
    assert!(out.contains("state=queued"), "{out}");
    assert_eq!(
        c.get(id.parse().expect("id")).await.required_skills,
        ["de", "en"]
    );
    let refused = ctl(&d, &["assign", &id, "ana"]);
    assert!(!refused.status.success());
    let says = String::from_utf8_lossy(&refused.stderr);
    assert!(
        says.contains("FailedPrecondition") && says.contains("lacks the skill \"de\""),
        "{says}"
    );
}

/// A ticket ana resolved and the front end reopened waits for ana for the hold window, across
/// a kill -9: bo's pull finds nothing, ana's gets it back as `preferred-agent`.
#[tokio::test]
async fn a_reopened_ticket_waits_for_its_resolver_across_kill_9() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ana", &[], &[], &[])).await;
    let id = c
        .create(create("re-1", Tier::Standard, Channel::Email, &[]))
        .await
        .ticket_id;
    let epoch = c.pull("ana").await.expect("ana takes it").lease_epoch;
    c.tickets
        .resolve_ticket(common::resolve(id, "ana", epoch))
        .await
        .expect("resolve");
    c.tickets
        .reopen_ticket(common::reopen(id))
        .await
        .expect("reopen");
    d.kill9();

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("bo", &[], &[], &[])).await;
    assert!(
        c.pull("bo").await.is_none(),
        "held for ana, who resolved it"
    );
    c.available_agent(agent("ana", &[], &[], &[])).await;
    let a = c.pull("ana").await.expect("ana gets it back");
    assert_eq!(
        (a.ticket.map(|t| t.ticket_id), a.reason.as_str()),
        (Some(id), "preferred-agent")
    );
}
