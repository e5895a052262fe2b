//! Finished tickets leave the scheduler's memory for the archive in the store, in the commit
//! that finished them, and stay readable, listable, reopenable and unique, across kill -9.

use crate::common::{self, agent, create, temp, Clients, Daemon};
use pb::{Channel, Tier};
use tonic::Code;
use triage::proto as pb;

const IN_MEMORY: &str = "triage_tickets_in_memory";

fn state(t: &pb::Ticket) -> pb::TicketState {
    pb::TicketState::try_from(t.state).expect("known state")
}

/// Resolves the ticket `ann` pulls next and records its check-back; returns its id.
async fn resolve_and_check_back(c: &mut Clients) -> u64 {
    let asg = c.pull("ann").await.expect("an assignment");
    let t = asg.ticket.expect("ticket");
    let reply = common::agent_reply(t.ticket_id, "ann", asg.lease_epoch);
    c.tickets.record_reply(reply).await.expect("reply");
    let resolve = common::resolve(t.ticket_id, "ann", asg.lease_epoch);
    c.tickets.resolve_ticket(resolve).await.expect("resolve");
    let follow_up = pb::RecordFollowUpRequest {
        ticket_id: t.ticket_id,
        agent_id: "ann".into(),
        ..Default::default()
    };
    c.tickets
        .record_follow_up(follow_up)
        .await
        .expect("check-back");
    t.ticket_id
}

/// The archived tickets read back as they were, the list spans memory and archive, and an
/// external id only the archive holds is still taken.
async fn archived_are_served(c: &mut Clients, cancelled: u64, resolved: u64, open: u64) {
    assert_eq!(state(&c.get(cancelled).await), pb::TicketState::Cancelled);
    assert_eq!(state(&c.get(resolved).await), pb::TicketState::Resolved);
    assert_eq!(state(&c.get(open).await), pb::TicketState::Queued);
    let ids: Vec<u64> = c.all_tickets().await.iter().map(|t| t.ticket_id).collect();
    assert_eq!(ids, vec![cancelled, resolved, open]);
    let only_archived = pb::ListTicketsRequest {
        state: pb::TicketState::Cancelled as i32,
        ..Default::default()
    };
    let page = c.tickets.list_tickets(only_archived).await.expect("list");
    let page = page.into_inner();
    assert_eq!(page.tickets.len(), 1);
    assert_eq!(page.tickets[0].ticket_id, cancelled);
    let again = create("arch-cancelled", Tier::Vip, Channel::Chat, &[]);
    let err = c.tickets.create_ticket(again).await.expect_err("taken");
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    assert!(err.message().contains(&cancelled.to_string()), "{err:?}");
    let missing = c.tickets.get_ticket(pb::GetTicketRequest { ticket_id: 99 });
    assert_eq!(
        missing.await.expect_err("never issued").code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn finished_tickets_leave_memory_and_stay_readable_reopenable_and_unique_across_kill_9() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ann", &[], &[], &[("email", 10)]))
        .await;
    let mut created = Vec::new();
    for ext in ["arch-cancelled", "arch-resolved", "arch-open"] {
        let req = create(ext, Tier::Standard, Channel::Email, &[]);
        created.push(c.create(req).await.ticket_id);
    }
    let [cancelled, resolved, open] = created[..] else {
        panic!("three tickets");
    };
    let cancel = common::cancel(cancelled, pb::CancelReason::Duplicate);
    c.tickets.cancel_ticket(cancel).await.expect("cancel");
    assert_eq!(resolve_and_check_back(&mut c).await, resolved);
    d.wait_for_metric(IN_MEMORY, 1.0).await;
    let scrape = d
        .wait_for_metric("triage_tickets_archived_total", 2.0)
        .await;
    assert_eq!(common::metric(&scrape, IN_MEMORY), Some(1.0));
    archived_are_served(&mut c, cancelled, resolved, open).await;

    d.kill9();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    d.wait_for_metric(IN_MEMORY, 1.0).await;
    archived_are_served(&mut c, cancelled, resolved, open).await;

    // Reopened from the archive: back in memory and in the queue; numbering goes on.
    let reopened = c.tickets.reopen_ticket(common::reopen(resolved)).await;
    let reopened = reopened.expect("reopen").into_inner();
    assert_eq!(state(&reopened), pb::TicketState::Queued);
    let next = c
        .create(create("arch-next", Tier::Standard, Channel::Email, &[]))
        .await;
    assert_eq!(next.ticket_id, open + 1);
    d.wait_for_metric(IN_MEMORY, 3.0).await;

    d.kill9();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    d.wait_for_metric(IN_MEMORY, 3.0).await;
    let back = c.get(resolved).await;
    assert_eq!(state(&back), pb::TicketState::Queued);
    assert_eq!(back.reopens, 1);
    let ids: Vec<u64> = c.all_tickets().await.iter().map(|t| t.ticket_id).collect();
    assert_eq!(ids, vec![cancelled, resolved, open, next.ticket_id]);
    let mut served = Vec::new();
    while let Some(asg) = c.pull("ann").await {
        served.extend(asg.ticket.map(|t| t.ticket_id));
    }
    served.sort_unstable();
    assert_eq!(
        served,
        vec![resolved, open, next.ticket_id],
        "the reopened one among them"
    );
}

/// `[retention] finished_after` deletes archived tickets in the background, with their index
/// entries (the external id is free again), except the newest, from which numbering goes on
/// after a restart.
#[tokio::test]
async fn retention_deletes_old_archived_tickets_but_numbering_survives_kill_9() {
    let dir = temp();
    let config = "[retention]\nfinished_after = \"1s\"\n";
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    let mut ids = Vec::new();
    for ext in ["old-1", "open-2", "old-3"] {
        let req = create(ext, Tier::Standard, Channel::Email, &[]);
        ids.push(c.create(req).await.ticket_id);
    }
    for id in [ids[0], ids[2]] {
        let cancel = common::cancel(id, pb::CancelReason::Duplicate);
        c.tickets.cancel_ticket(cancel).await.expect("cancel");
    }
    d.wait_for_metric("triage_tickets_pruned_total", 1.0).await;
    let gone = c
        .tickets
        .get_ticket(pb::GetTicketRequest { ticket_id: ids[0] });
    assert_eq!(gone.await.expect_err("pruned").code(), Code::NotFound);
    let listed: Vec<u64> = c.all_tickets().await.iter().map(|t| t.ticket_id).collect();
    assert_eq!(
        listed,
        vec![ids[1], ids[2]],
        "the newest archived ticket stays"
    );

    d.kill9();
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    assert_eq!(state(&c.get(ids[2]).await), pb::TicketState::Cancelled);
    // Deletions are not flushed at once: one lost to the kill is done again after the boot.
    for _ in 0..100 {
        let get = c
            .tickets
            .get_ticket(pb::GetTicketRequest { ticket_id: ids[0] });
        if get.await.is_err_and(|e| e.code() == Code::NotFound) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let reused = create("old-1", Tier::Standard, Channel::Email, &[]);
    let t = c.create(reused).await;
    assert_eq!(t.ticket_id, ids[2] + 1, "ids are never given twice");
}

/// ListTickets by customer and by creation time spans memory and the archive.
#[tokio::test]
async fn tickets_are_listed_by_customer_and_creation_time_from_memory_and_archive() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let mut ids = Vec::new();
    for (ext, customer) in [
        ("l-1", "c-a"),
        ("l-2", "c-b"),
        ("l-3", "c-a"),
        ("l-4", "c-a"),
    ] {
        let req = pb::CreateTicketRequest {
            customer_id: customer.into(),
            ..create(ext, Tier::Standard, Channel::Email, &[])
        };
        ids.push(c.create(req).await);
        // Creation times are kept to the millisecond: keep them apart.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let cancel = common::cancel(ids[0].ticket_id, pb::CancelReason::Duplicate);
    c.tickets.cancel_ticket(cancel).await.expect("cancel");
    let list = |req: pb::ListTicketsRequest| {
        let mut c = c.tickets.clone();
        async move {
            let page = c.list_tickets(req).await.expect("list").into_inner();
            page.tickets.iter().map(|t| t.ticket_id).collect::<Vec<_>>()
        }
    };
    let of_a = pb::ListTicketsRequest {
        customer_id: "c-a".into(),
        ..Default::default()
    };
    let expected: Vec<u64> = [0, 2, 3].iter().map(|&i| ids[i].ticket_id).collect();
    assert_eq!(list(of_a).await, expected, "archived and open, in id order");
    let from_the_third = pb::ListTicketsRequest {
        created_from: ids[2].created_at,
        ..Default::default()
    };
    let later: Vec<u64> = ids[2..].iter().map(|t| t.ticket_id).collect();
    assert_eq!(list(from_the_third).await, later);
    let before_the_second = pb::ListTicketsRequest {
        created_before: ids[1].created_at,
        ..Default::default()
    };
    let first = list(before_the_second).await;
    assert!(first.contains(&ids[0].ticket_id) && !first.contains(&ids[1].ticket_id));
}

/// A batch of creates asks the archive about all its external ids at once (one read, not one
/// per create): an id only the archive holds is still refused, whatever its place in the
/// batch, and new ids beside it are created.
#[tokio::test]
async fn a_batch_of_creates_is_checked_against_the_archive_in_one_read_and_refused_per_item() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let gone = c
        .create(create("gone", Tier::Vip, Channel::Chat, &[]))
        .await;
    let cancel = pb::CancelTicketRequest {
        ticket_id: gone.ticket_id,
        reason: pb::CancelReason::Other as i32,
        ..Default::default()
    };
    c.tickets.cancel_ticket(cancel).await.expect("cancel");
    let items = vec![
        create("fresh-1", Tier::Vip, Channel::Chat, &[]),
        create("gone", Tier::Vip, Channel::Chat, &[]),
        create("fresh-2", Tier::Vip, Channel::Chat, &[]),
    ];
    let results = c
        .tickets
        .create_tickets(pb::CreateTicketsRequest { tickets: items })
        .await
        .expect("batch")
        .into_inner()
        .results;
    use pb::create_ticket_result::Result as Item;
    let codes: Vec<i32> = results
        .into_iter()
        .map(|r| match r.result.expect("a result") {
            Item::Ticket(_) => 0,
            Item::Error(e) => e.code,
        })
        .collect();
    assert_eq!(codes, vec![0, Code::AlreadyExists as i32, 0]);
}
