//! The desk's everyday moves through the live daemon (issue 18): widening keeps the skill the
//! client listed first.

use crate::common::{agent, create, temp, Daemon};
use crate::import::ago;
use pb::{Channel, Tier};
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
