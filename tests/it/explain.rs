//! ExplainTicket against the real daemon: agents blocked for each reason and one that could
//! take the ticket, counted as the core counts them; the holder of an assigned ticket and what
//! ends its lease; a resolved ticket read back from the archive; and `triage ctl explain`.

use crate::common::{self, temp, Daemon};
use crate::ctl::{ctl, ok};
use pb::ticket_explanation::Detail;
use pb::{BlockReason, Channel, Tier};
use triage::proto as pb;

async fn explain(c: &mut common::Clients, ticket_id: u64) -> pb::TicketExplanation {
    let req = pb::ExplainTicketRequest { ticket_id };
    c.tickets
        .explain_ticket(req)
        .await
        .expect("explain")
        .into_inner()
}

#[tokio::test]
async fn a_waiting_ticket_is_explained_by_its_agents_reasons_and_a_held_one_by_its_lease() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), None);
    let mut c = daemon.clients().await;
    let both = &["billing", "en"];
    c.available_agent(common::agent("ana", both, &[], &[]))
        .await;
    c.available_agent(common::agent("bo", &["en"], &[], &[]))
        .await;
    let standard_only = common::agent("cy", both, &[Tier::Standard], &[]);
    c.available_agent(standard_only).await;
    c.available_agent(common::agent("di", both, &[], &[])).await;
    let away = pb::SetPresenceRequest {
        agent_id: "di".into(),
        presence: pb::Presence::Away.into(),
        ..Default::default()
    };
    c.agents.set_presence(away).await.expect("away");
    c.available_agent(common::agent("ed", both, &[], &[("email", 1)]))
        .await;
    let first = c
        .create(common::create("x-1", Tier::Vip, Channel::Email, both))
        .await;
    let held = c.pull("ed").await.expect("ed gets the first ticket");
    let waiting = c
        .create(common::create("x-2", Tier::Vip, Channel::Email, both))
        .await;

    let e = explain(&mut c, waiting.ticket_id).await;
    assert_eq!(e.state(), pb::TicketState::Queued);
    assert_eq!(e.next_due_metric(), pb::SlaMetric::FirstResponse);
    assert_eq!(
        e.next_due_at, waiting.due_at,
        "the clock due next is the ticket's due"
    );
    let Some(Detail::Waiting(w)) = &e.detail else {
        panic!("not waiting: {e:?}");
    };
    assert_eq!((w.tier(), w.channel()), (Tier::Vip, Channel::Email));
    assert_eq!(w.skills, ["billing", "en"]);
    assert_eq!((w.rank_in_queue, w.queue_depth), (1, 1));
    assert_eq!((w.rank_overall, w.queued_total), (1, 1));
    assert_eq!(w.agents_can_take, 1, "only ana: {w:?}");
    let blocked: Vec<(BlockReason, u64)> =
        w.blocked.iter().map(|b| (b.reason(), b.agents)).collect();
    assert_eq!(
        blocked,
        [
            (BlockReason::TierNotServed, 1),
            (BlockReason::MissingSkill, 1),
            (BlockReason::NotAvailable, 1),
            (BlockReason::ChannelFull, 1),
        ]
    );
    assert_eq!(w.missing_skills.len(), 1);
    assert_eq!(
        (
            w.missing_skills[0].skill.as_str(),
            w.missing_skills[0].agents
        ),
        ("billing", 1)
    );
    assert_eq!(
        c.get(waiting.ticket_id).await.state(),
        pb::TicketState::Queued,
        "explaining changed nothing"
    );

    let e = explain(&mut c, first.ticket_id).await;
    let Some(Detail::Holding(h)) = &e.detail else {
        panic!("not held: {e:?}");
    };
    assert_eq!(
        (h.agent_id.as_str(), h.lease_epoch),
        ("ed", held.lease_epoch)
    );
    assert!(
        h.held_since.is_some(),
        "the first holder's grant time is known"
    );
    assert!(
        h.presence_expires_at.is_some(),
        "unanswered: presence expiry hands it back"
    );
    let take_back = h.take_back.as_ref().expect("L2 takes it back unanswered");
    assert_eq!(take_back.level(), pb::EscalationLevel::L2);

    let out = ok(ctl(&daemon, &["explain", &waiting.ticket_id.to_string()]));
    println!("$ triage ctl explain {}\n{out}", waiting.ticket_id);
    assert!(
        out.contains("waits 1st of 1 in vip/email/[billing,en]"),
        "{out}"
    );
    assert!(out.contains("1 agent could take it now; of the others, 1 does not serve the tier, 1 lacks skill billing, 1 is away or offline, 1 is full on the channel."), "{out}");
    let out = ok(ctl(&daemon, &["explain", &first.ticket_id.to_string()]));
    println!("$ triage ctl explain {}\n{out}", first.ticket_id);
    assert!(
        out.contains("is assigned to ed under lease epoch 1"),
        "{out}"
    );

    // Resolved: read back from the archive, its state and when.
    c.tickets
        .record_reply(common::agent_reply(first.ticket_id, "ed", held.lease_epoch))
        .await
        .expect("reply");
    let resolve = common::resolve(first.ticket_id, "ed", held.lease_epoch);
    c.tickets.resolve_ticket(resolve).await.expect("resolve");
    let e = explain(&mut c, first.ticket_id).await;
    assert_eq!(e.state(), pb::TicketState::Resolved);
    assert!(matches!(e.detail, Some(Detail::Finished(_))), "{e:?}");
    let out = ok(ctl(&daemon, &["explain", &first.ticket_id.to_string()]));
    assert!(out.contains("is resolved since"), "{out}");
}
