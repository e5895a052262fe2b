//! Webhooks with two nodes on one PostgreSQL: only the leader delivers, and the node that
//! takes over after a kill -9 resumes from the stored cursor, skipping nothing.

use super::warm::clients;
use super::{database, Cluster};
use crate::common::{metric, temp};
use crate::webhooks::{create_tickets, eventually, wanted_sequences, Log, Receiver, SECRET};
use std::sync::atomic::Ordering;
use triage::proto as pb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_delivers_and_a_new_leader_resumes_from_the_stored_cursor() {
    let Some(url) = database() else { return };
    let dir = temp();
    let log = Log::default();
    log.answer.store(200, Ordering::SeqCst);
    let receiver = Receiver::start("127.0.0.1:0".parse().expect("addr"), log.clone()).await;
    let config = format!(
        "[[webhooks]]\nid = \"ha\"\nurl = \"http://{}/\"\nkinds = [\"created\"]\nsecret = \"{SECRET}\"\n",
        receiver.addr
    );
    let mut cluster = Cluster::start(&url, dir.path(), 2, Some(&config));
    let mut leader = clients(cluster.ports[0]).await;
    create_tickets(&mut leader, 10).await;
    eventually("10 delivered by the leader", || log.delivered().len() >= 10).await;
    let follower = cluster.node(1).scrape().await;
    let sent = r#"triage_webhook_deliveries_total{webhook="ha",outcome="ok"}"#;
    assert_eq!(metric(&follower, sent), None, "a follower delivers nothing");

    drop(leader);
    cluster.nodes[0].as_mut().expect("running").kill9();
    assert_eq!(cluster.leader().await, 1, "the follower took over");
    let mut leader = clients(cluster.ports[1]).await;
    create_tickets(&mut leader, 10).await;
    let wanted = wanted_sequences(&mut leader, &[pb::EventKind::Created]).await;
    assert_eq!(wanted.len(), 20);
    eventually("20 delivered", || log.delivered().len() >= 20).await;
    assert_eq!(log.delivered(), wanted, "each created event, in order");
    let scrape = cluster.node(1).scrape().await;
    assert!(metric(&scrape, sent).is_some_and(|n| n > 0.0), "{scrape}");
    receiver.stop();
}
