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
