//! Several nodes on one PostgreSQL (README "High availability"): real daemon processes on
//! loopback. Followers refuse calls naming the leader and report NOT_SERVING; a killed leader
//! is replaced with nothing acknowledged lost (`failover`); a paused leader that comes back
//! acknowledges nothing and exits 75 (`paused`); a database restart under load loses nothing
//! and the same leader serves on (`restart`); a follower keeps a copy up to date and takes
//! over from it (`warm`). Skipped without PostgreSQL (a failure in CI).

mod failover;
mod ledger;
mod paused;
mod restart;
mod warm;
mod webhooks;

use crate::common::{self, metric, temp};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use triage::proto as pb;

/// One `triage serve` on a fixed loopback port (so a restarted node keeps its address).
pub struct Node {
    child: Option<Child>,
    pub port: u16,
    pub metrics: String,
    /// Whether its first line said it leads (else it follows).
    pub led_at_start: bool,
    log: PathBuf,
}

/// The nodes of one cluster, by index; `None` while one is down.
pub struct Cluster {
    pub url: String,
    dir: PathBuf,
    config: Option<PathBuf>,
    pub ports: Vec<u16>,
    pub nodes: Vec<Option<Node>>,
}

/// A free loopback port (bound, then let go: the node binds it right after).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl Cluster {
    /// `n` nodes on `url`, started one after another (the first leads), with `config` as
    /// their TOML file if given.
    pub fn start(url: &str, dir: &Path, n: usize, config: Option<&str>) -> Cluster {
        let config = config.map(|text| {
            let path = dir.join("triage.toml");
            std::fs::write(&path, text).expect("config");
            path
        });
        let mut cluster = Cluster {
            url: url.to_owned(),
            dir: dir.to_owned(),
            config,
            ports: (0..n).map(|_| free_port()).collect(),
            nodes: Vec::new(),
        };
        for i in 0..n {
            let node = cluster.spawn(i);
            assert_eq!(node.led_at_start, i == 0, "node {i} at start");
            cluster.nodes.push(Some(node));
        }
        cluster
    }

    /// Starts node `i` on its port; waits for its first line (leading or following).
    pub fn spawn(&self, i: usize) -> Node {
        let port = self.ports[i];
        let log = self.dir.join(format!(
            "node{i}-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
        cmd.arg("serve")
            .arg(format!("--grpc-addr=127.0.0.1:{port}"))
            .arg("--metrics-addr=127.0.0.1:0")
            .arg("--data-dir")
            .arg(self.dir.join(format!("data{i}")))
            .arg("--store")
            .arg(&self.url)
            .env("TRIAGE_LOG", "info,triage=debug")
            .env_remove("TRIAGE_CONFIG")
            .env_remove("TRIAGE_ADVERTISE_ADDR")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).expect("log")));
        if let Some(path) = &self.config {
            cmd.arg("--config").arg(path);
        }
        let mut child = cmd.spawn().expect("spawn triage");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("line");
        let led_at_start = line.starts_with("triage ready");
        assert!(
            led_at_start || line.starts_with("triage following"),
            "node {i} said {line:?}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let metrics = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("metrics="))
            .expect("metrics=")
            .to_owned();
        Node {
            child: Some(child),
            port,
            metrics,
            led_at_start,
            log,
        }
    }

    /// Every node's address, comma separated, as `ctl --addr` takes them.
    pub fn addrs(&self) -> String {
        let all: Vec<String> = self.ports.iter().map(|p| addr(*p)).collect();
        all.join(",")
    }

    /// The index of the node that leads now, waiting (bounded) while none does.
    pub async fn leader(&self) -> usize {
        let found = triage::client::ClientArgs::default()
            .leader_of(&self.addrs())
            .await
            .expect("a leader");
        self.ports
            .iter()
            .position(|p| addr(*p) == found)
            .expect("a node of the cluster")
    }

    pub fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("running")
    }
}

/// `127.0.0.1:port`.
pub fn addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

impl Node {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("kill -9");
        child.wait().expect("reap");
    }

    /// Waits (bounded) for the node to exit by itself.
    pub async fn exit(&mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        common::wait_exit(&mut child, limit, &self.log).await
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn scrape(&self) -> String {
        common::http_get(&self.metrics, "/metrics").await
    }

    /// The node's overall health as `grpc.health.v1` reports it; `Unknown` when it does not
    /// answer (a node switching from its follower's server to its leader's closes the
    /// connections of the first: callers that poll simply ask again).
    pub async fn health(&self, service: &str) -> ServingStatus {
        let uri = format!("http://{}", addr(self.port));
        let Ok(channel) = tonic::transport::Channel::from_shared(uri)
            .expect("uri")
            .connect()
            .await
        else {
            return ServingStatus::Unknown;
        };
        let request = HealthCheckRequest {
            service: service.into(),
        };
        match HealthClient::new(channel).check(request).await {
            Ok(reply) => reply.into_inner().status(),
            Err(_) => ServingStatus::Unknown,
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A fresh database on the binary's shared test server, or `None` (skipped).
fn database() -> Option<String> {
    common::pg_database().map(|(_, url)| url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_refuse_naming_the_leader_and_report_not_serving() {
    let Some(url) = database() else { return };
    let dir = temp();
    let cluster = Cluster::start(&url, dir.path(), 2, None);
    let (leader, follower) = (cluster.node(0), cluster.node(1));
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", addr(follower.port)))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut tickets = pb::ticket_service_client::TicketServiceClient::new(channel.clone());
    let mut agents = pb::agent_service_client::AgentServiceClient::new(channel.clone());
    let mut admin = pb::admin_service_client::AdminServiceClient::new(channel);
    let create = common::create("f1", pb::Tier::Standard, pb::Channel::Email, &["en"]);
    let refusals = [
        tickets.create_ticket(create).await.expect_err("create"),
        tickets
            .get_ticket(pb::GetTicketRequest { ticket_id: 1 })
            .await
            .expect_err("get"),
        agents
            .heartbeat(pb::HeartbeatRequest {
                agent_id: "a".into(),
            })
            .await
            .expect_err("heartbeat"),
        admin
            .get_queue_stats(pb::GetQueueStatsRequest {})
            .await
            .expect_err("stats"),
    ];
    let leader_addr = addr(leader.port);
    for refused in refusals {
        assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
        assert!(refused.message().contains(&leader_addr), "{refused:?}");
        assert_eq!(
            triage::client::leader_named(&refused).as_deref(),
            Some(leader_addr.as_str()),
            "{refused:?}"
        );
    }
    for service in [
        "",
        "triage.v1.TicketService",
        "triage.v1.AgentService",
        "triage.v1.AdminService",
    ] {
        assert_eq!(
            follower.health(service).await,
            ServingStatus::NotServing,
            "{service:?}"
        );
        assert_eq!(
            leader.health(service).await,
            ServingStatus::Serving,
            "{service:?}"
        );
    }
    let (f, l) = (follower.scrape().await, leader.scrape().await);
    assert_eq!(metric(&f, "triage_leader"), Some(0.0), "{f}");
    assert_eq!(metric(&l, "triage_leader"), Some(1.0), "{l}");
    assert_eq!(metric(&f, "triage_failovers_total"), Some(0.0), "{f}");
    // The follower's wallboard says what it is and where the leader is, and shows no figures.
    let board = common::http_get(&follower.metrics, "/board/data").await;
    let board: serde_json::Value = serde_json::from_str(&board).expect("JSON");
    assert_eq!(board["role"], "follower", "{board}");
    assert_eq!(board["leader"], leader_addr.as_str(), "{board}");
    assert!(board.get("rows").is_none(), "{board}");
    assert_eq!(cluster.leader().await, 0);
    // ctl over both addresses, the follower first, reaches the leader.
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args([
            "ctl",
            "--addr",
            &format!("{},{leader_addr}", addr(follower.port)),
        ])
        .args(["create", "--external-id", "via-ctl", "--customer", "c"])
        .args(["--channel", "email"])
        .output()
        .expect("ctl");
    assert!(out.status.success(), "{out:?}");
}
