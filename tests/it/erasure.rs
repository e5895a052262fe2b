//! EraseCustomer: every ticket of the customer, open or archived, loses its customer and
//! external ids and keeps its SLA facts; nothing of anyone else changes; across kill -9 in the
//! middle of an erasure no ticket is half-erased, and erasing again finishes it.

use crate::common::{self, create, temp, Clients, Daemon};
use pb::{Channel, Tier};
use std::collections::HashMap;
use tonic::Code;
use triage::proto as pb;

const BIG: &str = "cust-big";

fn erase(customer_id: &str) -> pb::EraseCustomerRequest {
    pb::EraseCustomerRequest {
        customer_id: customer_id.into(),
    }
}

fn for_customer(ext: &str, customer: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        customer_id: customer.into(),
        ..create(ext, Tier::Standard, Channel::Email, &[])
    }
}

/// `n` tickets of `customer` (external ids `{prefix}-{i}`), created in batches; every one but
/// the last `open` is cancelled, so most are archived. Returns the ids.
async fn tickets_of(
    c: &mut Clients,
    customer: &str,
    prefix: &str,
    n: usize,
    open: usize,
) -> Vec<u64> {
    let mut ids = Vec::with_capacity(n);
    let items: Vec<_> = (0..n)
        .map(|i| for_customer(&format!("{prefix}-{i}"), customer))
        .collect();
    for batch in items.chunks(1000) {
        let req = pb::CreateTicketsRequest {
            tickets: batch.to_vec(),
        };
        let reply = c.tickets.create_tickets(req).await.expect("create batch");
        for item in reply.into_inner().results {
            match item.result {
                Some(pb::create_ticket_result::Result::Ticket(t)) => ids.push(t.ticket_id),
                other => panic!("create refused: {other:?}"),
            }
        }
    }
    for &id in &ids[..n - open] {
        let cancel = common::cancel(id, pb::CancelReason::Duplicate);
        c.tickets.cancel_ticket(cancel).await.expect("cancel");
    }
    ids
}

/// Every ticket by id, as the list has it.
async fn by_id(c: &mut Clients) -> HashMap<u64, pb::Ticket> {
    c.all_tickets()
        .await
        .into_iter()
        .map(|t| (t.ticket_id, t))
        .collect()
}

fn erased(t: &pb::Ticket) -> bool {
    t.customer_id.is_empty() && t.external_id.is_empty()
}

#[tokio::test]
async fn an_erasure_cut_by_kill_9_leaves_no_ticket_half_erased_and_finishes_when_repeated() {
    let _heavy = common::heavy();
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let big = tickets_of(&mut c, BIG, "big", 3000, 5).await;
    let other = tickets_of(&mut c, "cust-other", "other", 20, 2).await;
    let before = by_id(&mut c).await;

    // Erase, and kill the daemon once the first step is visible: while later steps (500
    // archived tickets each) are still to come, if it is quick enough; what follows must hold
    // wherever the kill lands.
    let mut admin = c.admin.clone();
    let call = tokio::spawn(async move { admin.erase_customer(erase(BIG)).await });
    for _ in 0..2000 {
        if erased(&c.get(big[0]).await) {
            break;
        }
        tokio::task::yield_now().await;
    }
    d.kill9();
    let answered = call.await.expect("task");
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let after = by_id(&mut c).await;
    let mut intact = 0;
    for id in &big {
        let (b, a) = (&before[id], &after[id]);
        if erased(a) {
            let facts = pb::Ticket {
                customer_id: b.customer_id.clone(),
                external_id: b.external_id.clone(),
                ..a.clone()
            };
            assert_eq!(&facts, b, "ticket {id} kept every SLA fact");
        } else {
            assert_eq!(a, b, "ticket {id} is wholly intact or wholly erased");
            intact += 1;
        }
    }
    for id in &other {
        assert_eq!(
            before[id], after[id],
            "another customer's ticket {id} changed"
        );
    }
    eprintln!(
        "erasure cut by kill -9: answered {:?}, {intact} of {} left",
        answered.is_ok(),
        big.len()
    );

    let done = c
        .admin
        .erase_customer(erase(BIG))
        .await
        .expect("erase again");
    assert_eq!(done.into_inner().tickets_erased, intact as u64);
    let after = by_id(&mut c).await;
    assert!(big.iter().all(|id| erased(&after[id])), "all erased");
    assert!(other.iter().all(|id| !erased(&after[id])));
    let again = c
        .admin
        .erase_customer(erase(BIG))
        .await
        .expect("erase a third time");
    assert_eq!(
        again.into_inner().tickets_erased,
        0,
        "nothing left to erase"
    );

    // The external ids are free again; the stream says that erasures happened, not whose.
    let reused = c.create(for_customer("big-7", "cust-new")).await;
    assert!(reused.ticket_id > *big.last().expect("ids"));
    let scrape = d.scrape().await;
    let counted = common::metric(&scrape, "triage_tickets_erased_total").unwrap_or(0.0);
    assert_eq!(counted, intact as f64, "this boot's erasure counted");
    let mut stream = c
        .admin
        .watch_events(pb::WatchEventsRequest {
            from_sequence: 0,
            ..Default::default()
        })
        .await
        .expect("watch")
        .into_inner();
    let mut erasures = 0;
    while let Ok(Ok(Some(e))) =
        tokio::time::timeout(std::time::Duration::from_millis(500), stream.message()).await
    {
        if e.kind == pb::EventKind::Erased as i32 {
            assert_eq!(e.ticket_id, 0);
            erasures += 1;
        }
    }
    // The erasure cut by the kill never reached its last step, and the third erased nothing:
    // one event, from the repeat that finished it.
    assert_eq!(erasures, 1, "ERASED events");
}

#[tokio::test]
async fn erasing_an_unknown_customer_is_ok_and_zero_and_a_bad_id_is_named() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let kept = c.create(for_customer("keep-1", "cust-keep")).await;
    let none = c.admin.erase_customer(erase("nobody")).await.expect("ok");
    assert_eq!(none.into_inner().tickets_erased, 0);
    for bad in ["", "   ", "a\u{202E}b"] {
        let err = c
            .admin
            .erase_customer(erase(bad))
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}: {err:?}");
        assert!(err.message().contains("customer_id"), "{err:?}");
    }
    assert_eq!(c.get(kept.ticket_id).await, kept, "nothing changed");
}
