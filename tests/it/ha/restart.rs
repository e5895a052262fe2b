//! PostgreSQL restarting (`pg_ctl restart -m immediate`) under load with a leader and a
//! follower: nothing acknowledged is lost, and the same leader process serves on (it takes
//! its lease back; the follower does not mistake the restart for a dead leader).

use super::ledger::{self, Ledger};
use super::Cluster;
use crate::common::{self, metric, temp};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_load_loses_nothing_and_the_leader_serves_on() {
    let _heavy = common::heavy();
    let server = match common::testdb::Server::start_own() {
        Ok(server) => server,
        Err(why) => return common::skip(&why),
    };
    let url = server.database("ha_restart").expect("database");
    let dir = temp();
    // A long lease: the leader must get the lease back after the restart, and on a starved
    // machine reconnecting can take longer than the default 5 s (the follower then rightly
    // takes over: safe, but not what this test is about).
    let cluster = Cluster::start(&url, dir.path(), 2, Some("lease_ttl = \"30s\"\n"));
    let ledger = Ledger::open(&dir.path().join("ledger"));
    let addrs = cluster.addrs();
    let tasks = vec![
        tokio::spawn(ledger::creator(ledger.clone(), addrs.clone(), "c")),
        tokio::spawn(ledger::agent(ledger.clone(), addrs.clone(), "agent-1")),
    ];
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.restart_immediate().expect("restart");
    let restarted = Instant::now();
    while ledger.first_assignment_after(restarted, 0).is_none() {
        assert!(
            restarted.elapsed() < Duration::from_secs(60),
            "no assignment within 60 s of the restart\n{}",
            cluster.node(0).logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "database restart -> first assignment {:?}",
        ledger.first_assignment_after(restarted, 0).expect("one") - restarted
    );
    ledger.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("workload task");
    }
    ledger::check(&ledger, &addrs, true).await;
    assert_eq!(cluster.leader().await, 0, "the same node leads");
    let follower = cluster.node(1).scrape().await;
    assert_eq!(metric(&follower, "triage_leader"), Some(0.0), "{follower}");
    let leader = cluster.node(0).scrape().await;
    assert_eq!(
        metric(&leader, "triage_failovers_total"),
        Some(0.0),
        "{leader}"
    );
}
