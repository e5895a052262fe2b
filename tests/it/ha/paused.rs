//! A paused leader: SIGSTOP it past its lease, a follower takes over and serves; SIGCONT the
//! old one: the call that waited for it is not acknowledged, nothing of it is stored, and
//! the old leader exits 75 (stepped down).

use super::ledger::ToLeader;
use super::{addr, database, Cluster};
use crate::common::{self, create, metric, temp};
use std::time::Duration;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use triage::proto as pb;
use triage::proto::ticket_service_client::TicketServiceClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_leader_acknowledges_nothing_after_a_takeover_and_steps_down() {
    let Some(url) = database() else { return };
    let dir = temp();
    let mut cluster = Cluster::start(&url, dir.path(), 2, Some("lease_ttl = \"2s\"\n"));
    let old = addr(cluster.ports[0]);
    let channel = Channel::from_shared(format!("http://{old}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut to_old = TicketServiceClient::new(channel);
    let email = |id: &str| create(id, pb::Tier::Standard, pb::Channel::Email, &["en"]);
    to_old.create_ticket(email("before")).await.expect("leads");

    // Every thread stopped before the call is sent, so no part of it can run before the
    // takeover (a call served in the moments a group stop takes would be committed under the
    // old lease, rightly acknowledged after SIGCONT, and found by the new leader).
    common::stop_process(cluster.node(0).pid());
    let during = tokio::spawn(async move { to_old.create_ticket(email("during")).await });
    // The follower takes the lease once the paused leader's lapses (2 s), then recovers.
    let waited = std::time::Instant::now();
    while cluster.node(1).health("").await != ServingStatus::Serving {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the follower never served\n{}",
            cluster.node(1).logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut leader = ToLeader::new(&cluster.addrs());
    let (port, channel) = leader.get().await;
    assert_eq!(
        port,
        cluster.ports[1],
        "the follower took over (ports {:?})\nnode 0:\n{}\nnode 1:\n{}",
        cluster.ports,
        cluster.node(0).logs(),
        cluster.node(1).logs()
    );
    let mut to_new = TicketServiceClient::new(channel);
    to_new
        .create_ticket(email("after"))
        .await
        .expect("the new leader serves");
    let new = cluster.node(1);
    assert_eq!(new.health("").await, ServingStatus::Serving);
    let scrape = new.scrape().await;
    assert_eq!(metric(&scrape, "triage_leader"), Some(1.0), "{scrape}");
    assert_eq!(
        metric(&scrape, "triage_failovers_total"),
        Some(1.0),
        "{scrape}"
    );

    common::send_signal(cluster.node(0).pid(), "CONT");
    let answer = tokio::time::timeout(Duration::from_secs(30), during)
        .await
        .expect("answered")
        .expect("joined");
    assert!(
        answer.is_err(),
        "the superseded leader acknowledged {answer:?}"
    );
    let node = cluster.nodes[0].as_mut().expect("running");
    let exit = node.exit(Duration::from_secs(30)).await;
    assert_eq!(exit.code(), Some(75), "{exit:?}\n{}", node.logs());
    assert!(node.logs().contains("stepping down"), "{}", node.logs());

    let mut externals = Vec::new();
    for id in 1..=4 {
        if let Ok(t) = to_new
            .get_ticket(pb::GetTicketRequest { ticket_id: id })
            .await
        {
            externals.push(t.into_inner().external_id);
        }
    }
    assert_eq!(externals, ["before", "after"], "nothing of the paused call");
}
