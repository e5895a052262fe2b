//! The daemon on PostgreSQL where PostgreSQL itself is the point: a node whose lease another
//! node took answers UNAVAILABLE, writes nothing and steps down (exit 75); the database restarting under
//! the daemon loses nothing acknowledged and the daemon resumes by itself. Skipped without
//! PostgreSQL (a failure in CI).

use crate::common::{self, create, temp, Daemon};
use pb::{Channel, Tier};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use triage::proto as pb;

/// A daemon on `dir` whose records live at `url`.
fn daemon_on(dir: &Path, url: &str) -> Daemon {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
    cmd.arg("serve")
        .arg("--grpc-addr=127.0.0.1:0")
        .arg("--metrics-addr=127.0.0.1:0")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--store")
        .arg(url)
        .env("TRIAGE_LOG", "info,triage=debug")
        .env_remove("TRIAGE_CONFIG");
    Daemon::spawn(cmd, dir).unwrap_or_else(|(line, log)| panic!("{line}\n{log}"))
}

fn database(url: &str) -> &str {
    url.rsplit('/').next().expect("a database in the URL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_lease_was_taken_answers_unavailable_writes_nothing_and_exits_75() {
    let Some((server, url)) = common::pg_database() else {
        return;
    };
    let dir = temp();
    let d = daemon_on(dir.path(), &url);
    let mut c = d.clients().await;
    c.create(create("before", Tier::Standard, Channel::Email, &["en"]))
        .await;
    let steal = "UPDATE triage_lease SET holder = 'another', epoch = epoch + 1, \
                 expires_at = now() + interval '1 hour'";
    server.psql(database(&url), steal).expect("take the lease");
    let refused = c
        .tickets
        .create_ticket(create("after", Tier::Standard, Channel::Email, &["en"]))
        .await
        .expect_err("a fenced node acknowledges nothing");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("taken over"), "{refused:?}");
    let count = server.psql(database(&url), "SELECT count(*) FROM triage_tickets");
    assert_eq!(
        count.expect("count").trim(),
        "1",
        "the refused create left nothing"
    );
    // It steps down: exits with 75 (restart me), acknowledging nothing more.
    let exit = d.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(exit.code(), Some(75), "{exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_loses_nothing_acknowledged_and_the_daemon_resumes_by_itself() {
    let _heavy = common::heavy();
    let server = match common::testdb::Server::start_own() {
        Ok(server) => server,
        Err(why) => return common::skip(&why),
    };
    let url = server.database("restarted").expect("database");
    let dir = temp();
    let d = daemon_on(dir.path(), &url);
    let mut c = d.clients().await;
    let mut acknowledged = Vec::new();
    for n in 0..10 {
        let t = c
            .create(create(
                &format!("a{n}"),
                Tier::Standard,
                Channel::Email,
                &["en"],
            ))
            .await;
        acknowledged.push(t.ticket_id);
    }
    server.restart_immediate().expect("restart");
    let started = Instant::now();
    let mut n = 0;
    loop {
        n += 1;
        let req = create(&format!("b{n}"), Tier::Standard, Channel::Email, &["en"]);
        match c.tickets.create_ticket(req).await {
            Ok(t) => {
                acknowledged.push(t.into_inner().ticket_id);
                break;
            }
            Err(status) => assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "writes did not resume within 60 s\n{}",
            d.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let listed: Vec<u64> = c.all_tickets().await.iter().map(|t| t.ticket_id).collect();
    for id in &acknowledged {
        assert!(listed.contains(id), "acknowledged ticket {id} is gone");
    }
    assert!(d.terminate().await.success(), "the same daemon served on");
}

/// A leader that loses the lead while agents wait: its renewal is fenced, the long poll and
/// the Work session end with UNAVAILABLE (nothing was assigned), and it exits 75.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_lead_ends_long_polls_and_work_sessions_with_unavailable() {
    use tokio_stream::wrappers::ReceiverStream;
    let Some((server, url)) = common::pg_database() else {
        return;
    };
    let dir = temp();
    let d = daemon_on(dir.path(), &url);
    let mut c = d.clients().await;
    for id in ["poller", "worker"] {
        c.available_agent(common::agent(
            id,
            &["en"],
            &[Tier::Standard],
            &[("email", 1)],
        ))
        .await;
    }
    let mut agents = c.agents.clone();
    let poll = tokio::spawn(async move {
        let pull = pb::PullNextTicketRequest {
            agent_id: "poller".into(),
            wait: Some(prost_types::Duration {
                seconds: 30,
                nanos: 0,
            }),
            ..Default::default()
        };
        agents.pull_next_ticket(pull).await
    });
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let start = pb::work_request::Kind::Start(pb::WorkStart {
        agent_id: "worker".into(),
        ready: 1,
    });
    tx.send(pb::WorkRequest {
        tag: 0,
        kind: Some(start),
    })
    .await
    .expect("queue start");
    let mut session = c
        .agents
        .work(ReceiverStream::new(rx))
        .await
        .expect("open session")
        .into_inner();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let steal = "UPDATE triage_lease SET holder = 'another', epoch = epoch + 1, \
                 expires_at = now() + interval '1 hour'";
    server.psql(database(&url), steal).expect("take the lease");
    let polled = tokio::time::timeout(Duration::from_secs(20), poll)
        .await
        .expect("the long poll ended")
        .expect("joined");
    let refused = polled.expect_err("no assignment from a node that lost the lead");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    let ended = tokio::time::timeout(Duration::from_secs(20), session.message())
        .await
        .expect("the session ended");
    let refused = ended.expect_err("the session ends with an error");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    drop(tx);
    let exit = d.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(exit.code(), Some(75), "{exit:?}");
}
