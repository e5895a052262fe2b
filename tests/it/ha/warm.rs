//! Warm followers: a follower keeps a scheduler up to date from the change log (its lag
//! metrics go back to 0 once writes stop), and a takeover leads with that scheduler, after
//! applying only the commits it lacked, with every acknowledged ticket there.

use super::{addr, database, Cluster};
use crate::common::{self, metric, temp, Clients};
use std::time::{Duration, Instant};
use tonic::transport::Channel;
use triage::proto as pb;

/// What a node's log says when it took over with the scheduler it kept (see
/// `PgStore::warm_replica`).
pub const WARM_TAKEOVER: &str = "recovering from the copy kept while following";

pub(super) async fn clients(port: u16) -> Clients {
    let channel = Channel::from_shared(format!("http://{}", addr(port)))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    Clients {
        tickets: pb::ticket_service_client::TicketServiceClient::new(channel.clone()),
        agents: pb::agent_service_client::AgentServiceClient::new(channel.clone()),
        admin: pb::admin_service_client::AdminServiceClient::new(channel.clone()),
        channel,
    }
}

/// Waits (bounded) until the node's follower lag metrics both say 0.
async fn caught_up(cluster: &Cluster, i: usize) -> String {
    let started = Instant::now();
    loop {
        let scrape = cluster.node(i).scrape().await;
        let lag = (
            metric(&scrape, "triage_follower_lag_commits"),
            metric(&scrape, "triage_follower_lag_seconds"),
        );
        if lag == (Some(0.0), Some(0.0)) {
            return scrape;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "node {i} lags {lag:?} 30 s after the writes\n{scrape}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_keeps_up_with_the_leader_and_takes_over_from_its_copy() {
    let Some(url) = database() else { return };
    let dir = temp();
    let mut cluster = Cluster::start(&url, dir.path(), 2, None);
    let mut leader = clients(cluster.ports[0]).await;
    let mut created = Vec::new();
    for n in 0..40 {
        let req = common::create(
            &format!("w{n}"),
            pb::Tier::Standard,
            pb::Channel::Email,
            &[],
        );
        created.push(leader.create(req).await);
    }
    let cancel = pb::CancelTicketRequest {
        ticket_id: created[0].ticket_id,
        reason: pb::CancelReason::Duplicate as i32,
        ..Default::default()
    };
    leader.tickets.cancel_ticket(cancel).await.expect("cancel");
    // An agent with room for one email holds one when the leader dies.
    let ann = common::agent("ann", &[], &[], &[("email", 1)]);
    leader.available_agent(ann).await;
    let held = leader.pull("ann").await.expect("ann gets the oldest");
    let held_id = held.ticket.as_ref().expect("ticket").ticket_id;
    assert_eq!(held_id, created[1].ticket_id);
    caught_up(&cluster, 1).await;
    assert!(cluster
        .node(1)
        .logs()
        .contains("loaded a copy of the records"));

    cluster.nodes[0].as_mut().expect("running").kill9();
    assert_eq!(cluster.leader().await, 1, "the follower took over");
    let logs = cluster.node(1).logs();
    assert!(logs.contains(WARM_TAKEOVER), "{logs}");
    let mut new_leader = clients(cluster.ports[1]).await;
    for ticket in &created[2..] {
        let found = new_leader.get(ticket.ticket_id).await;
        assert_eq!(found.external_id, ticket.external_id);
        assert_eq!(found.state, pb::TicketState::Queued as i32);
    }
    // The new leader's scheduler still counts ann's ticket against her room, and her lease
    // holds: she gets nothing more until she resolves it, then the next in line.
    let found = new_leader.get(held_id).await;
    assert_eq!(found.state, pb::TicketState::Assigned as i32);
    assert!(
        new_leader.pull("ann").await.is_none(),
        "ann's one slot is taken"
    );
    let resolve = common::resolve(held_id, "ann", held.lease_epoch);
    new_leader
        .tickets
        .resolve_ticket(resolve)
        .await
        .expect("resolve");
    let next = new_leader.pull("ann").await.expect("room again");
    assert_eq!(next.ticket.expect("ticket").ticket_id, created[2].ticket_id);
    let cancelled = new_leader.get(created[0].ticket_id).await;
    assert_eq!(cancelled.state, pb::TicketState::Cancelled as i32);
    let next = common::create("after", pb::Tier::Standard, pb::Channel::Email, &[]);
    let after = new_leader.create(next).await;
    assert_eq!(
        after.ticket_id, 41,
        "numbering continues past every id issued"
    );
    let scrape = cluster.node(1).scrape().await;
    assert_eq!(metric(&scrape, "triage_follower_lag_commits"), Some(0.0));
}
