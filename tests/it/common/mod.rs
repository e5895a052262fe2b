//! Test harness: starts the real `triage` binary on loopback (port 0) with a temp sled dir,
//! connects the generated tonic clients, scrapes `/metrics` over HTTP, and stops the daemon
//! with SIGTERM or SIGKILL.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use triage::proto as pb;
use triage::proto::admin_service_client::AdminServiceClient;
use triage::proto::agent_service_client::AgentServiceClient;
use triage::proto::ticket_service_client::TicketServiceClient;

mod requests;
pub use requests::*;

/// The PostgreSQL server fixture the unit tests use too (only std, so it compiles here).
#[path = "../../../src/store/postgres/testdb.rs"]
#[allow(dead_code)]
pub mod testdb;

/// `TRIAGE_TEST_STORE=postgres` runs every daemon the harness starts on PostgreSQL instead of
/// sled: each data dir gets a database of its own on the binary's shared test server (so a
/// daemon restarted on the same dir finds its records again).
pub const STORE_SWITCH: &str = "TRIAGE_TEST_STORE";

/// Whether this run puts the daemons on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(STORE_SWITCH).is_ok_and(|v| v == "postgres")
}

/// The arguments that put a daemon on `dir` on its store: none for sled (its `--data-dir` is
/// `dir/data`), `--store URL` of the database named for `dir` under the switch.
pub fn store_args(dir: &Path) -> Vec<String> {
    if !on_postgres() {
        return Vec::new();
    }
    use std::hash::{Hash, Hasher};
    let server = testdb::server()
        .unwrap_or_else(|why| panic!("{STORE_SWITCH}=postgres, but no PostgreSQL: {why}"));
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut hasher);
    let name = format!("d{:016x}", hasher.finish());
    let url = server.database(&name).unwrap_or_else(|e| panic!("{e}"));
    vec!["--store".into(), url]
}

/// For a test about sled's own files (its data dir, lock, reserve, disk): under the
/// PostgreSQL switch it says so and returns `true`, and the test returns at once.
pub fn sled_only() -> bool {
    if !on_postgres() {
        return false;
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {test}: about sled's data dir, not run with {STORE_SWITCH}=postgres"
    );
    true
}

/// A config whose chat targets are 3 s (first response, next reply; resolution 24 h), so
/// that warnings, breaches and escalations happen within a test; the other channels keep
/// their defaults.
pub const FAST_CHAT: &str = r#"
[policy.targets.chat]
first_response = "3s"
next_reply = "3s"
resolution = "24h"
"#;

pub struct Daemon {
    child: Option<Child>,
    pub grpc: String,
    pub metrics: String,
    log: PathBuf,
}

#[derive(Clone)]
pub struct Clients {
    pub tickets: TicketServiceClient<Channel>,
    pub agents: AgentServiceClient<Channel>,
    pub admin: AdminServiceClient<Channel>,
    pub channel: Channel,
}

impl Daemon {
    /// Starts a daemon on `dir` (a sled data dir) with an optional TOML config.
    pub fn start(dir: &Path, config: Option<&str>) -> Daemon {
        Daemon::start_with_env(dir, config, &[])
    }

    /// As `start`, with extra environment variables for the daemon.
    pub fn start_with_env(dir: &Path, config: Option<&str>, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
        cmd.arg("serve")
            .arg("--grpc-addr=127.0.0.1:0")
            .arg("--metrics-addr=127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(store_args(dir))
            .env("TRIAGE_LOG", "info,triage=debug")
            .env_remove("TRIAGE_CONFIG")
            .envs(env.iter().copied());
        if let Some(text) = config {
            let path = dir.join("triage.toml");
            std::fs::write(&path, text).expect("write config");
            cmd.arg("--config").arg(path);
        }
        Daemon::spawn(cmd, dir).unwrap_or_else(|(line, log)| {
            panic!("daemon did not start: {line:?}\n{log}");
        })
    }

    /// Runs `cmd` (a `triage serve` command line) with its log in `dir`, and waits for its
    /// ready line; or hands back what it printed and logged when it exits without one.
    pub fn spawn(cmd: Command, dir: &Path) -> Result<Daemon, (String, String)> {
        Daemon::spawn_saying(cmd, dir, &["triage ready"])
    }

    /// As `spawn`, for a daemon whose first line starts with one of `firsts` (a PostgreSQL
    /// node that follows says `triage following ...`).
    pub fn spawn_saying(
        mut cmd: Command,
        dir: &Path,
        firsts: &[&str],
    ) -> Result<Daemon, (String, String)> {
        let log = dir.join(format!(
            "daemon-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")));
        let mut child = cmd.spawn().expect("spawn triage");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read ready line");
        if !firsts.iter().any(|first| line.starts_with(first)) {
            let _ = child.kill();
            let _ = child.wait();
            return Err((line, std::fs::read_to_string(&log).unwrap_or_default()));
        }
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
                .replace("0.0.0.0:", "127.0.0.1:")
        };
        Ok(Daemon {
            grpc: format!("http://{}", field("grpc=")),
            metrics: field("metrics="),
            child: Some(child),
            log,
        })
    }

    pub async fn clients(&self) -> Clients {
        let channel = Channel::from_shared(self.grpc.clone())
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        Clients {
            tickets: TicketServiceClient::new(channel.clone()),
            agents: AgentServiceClient::new(channel.clone()),
            admin: AdminServiceClient::new(channel.clone()),
            channel,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("kill -9");
        child.wait().expect("reap");
    }

    /// Sends `signal` ("TERM", "HUP", ...) to the daemon.
    pub fn signal(&self, signal: &str) {
        send_signal(self.pid(), signal);
    }

    /// SIGTERM and wait (without blocking the runtime, so clients can close) for the exit.
    pub async fn terminate(mut self) -> ExitStatus {
        self.signal("TERM");
        let mut child = self.child.take().expect("running");
        for _ in 0..300 {
            if let Some(exit) = child.try_wait().expect("try_wait") {
                return exit;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        panic!(
            "daemon did not stop within 15 s of SIGTERM\n{}",
            self.logs()
        );
    }

    /// Waits (without blocking the runtime) for the daemon to exit by itself, at most `limit`.
    pub async fn wait_exit(mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        wait_exit(&mut child, limit, &self.log).await
    }

    /// Stops the daemon with SIGTERM (expecting exit 0) and returns everything it logged.
    pub async fn terminate_and_read_logs(self) -> String {
        let log = self.log.clone();
        let exit = self.terminate().await;
        assert!(exit.success(), "daemon exit {exit:?}");
        std::fs::read_to_string(log).expect("read log")
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The Prometheus text from GET /metrics.
    pub async fn scrape(&self) -> String {
        http_get(&self.metrics, "/metrics").await
    }

    /// Waits (bounded) until the metric line `series` has `value`; returns the last scrape.
    pub async fn wait_for_metric(&self, series: &str, value: f64) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            last = self.scrape().await;
            if metric(&last, series) == Some(value) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{series} never reached {value}; last value {:?}",
            metric(&last, series)
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits (without blocking the runtime) for `child` to exit by itself, at most `limit`; kills
/// it and fails with its log (`log`) past that.
pub async fn wait_exit(child: &mut Child, limit: Duration, log: &Path) -> ExitStatus {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if let Some(exit) = child.try_wait().expect("try_wait") {
            return exit;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(log).unwrap_or_default();
    panic!("the daemon did not exit within {limit:?}\n{logged}");
}

/// A fresh database on the test binary's PostgreSQL server, with the server; `None` (said
/// with `skip`) when there is no PostgreSQL.
pub fn pg_database() -> Option<(&'static testdb::Server, String)> {
    match testdb::server() {
        Ok(server) => Some((server, server.fresh_database().expect("database"))),
        Err(why) => {
            skip(&why);
            None
        }
    }
}

/// `kill -<signal> <pid>`.
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// SIGSTOP `pid` and wait until every one of its threads is stopped: the kernel wakes one
/// thread to begin a group stop and the others stop only once it ran, so on a busy machine the
/// process can go on serving for a while after `kill` returned.
pub fn stop_process(pid: u32) {
    send_signal(pid, "STOP");
    let waited = std::time::Instant::now();
    while !all_threads_stopped(pid) {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(30),
            "{pid} did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Whether every thread of `pid` is in state T (stopped), by /proc/PID/task/*/stat.
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The state follows the parenthesised command name, which may hold spaces.
        let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
        state == Some(Some('T'))
    })
}

/// GET `path` from `addr` over plain HTTP/1.0 (so no chunked bodies); the body of a 200.
pub async fn http_get(addr: &str, path: &str) -> String {
    let (status, body) = http_get_any(addr, path).await;
    assert!(
        status.contains(" 200 "),
        "GET {path}: {status}\r\n\r\n{body}"
    );
    body
}

/// GET `path` from `addr` over plain HTTP/1.0: the status line and the body, whatever the
/// status.
pub async fn http_get_any(addr: &str, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response);
    let status = response.lines().next().unwrap_or_default().to_string();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Prometheus' own tools (`prometheus`, `promtool`), from Debian's `prometheus` package.
pub fn prometheus_tool(name: &str) -> Option<PathBuf> {
    require_tool(name, "", "apt-get install prometheus")
}

/// Set by `.ci/run` (which installs every tool the tests use): a missing tool then fails the
/// test instead of skipping it, so CI never passes by skipping.
pub const REQUIRE_TOOLS: &str = "TRIAGE_TEST_REQUIRE_TOOLS";

/// A system tool a test needs: the path in `env_override` if that variable is set, else `name`
/// on the PATH. When it is missing the test should return early: this prints, past the test
/// harness' output capture, that the test skipped and how to install the tool, so a plain
/// `cargo test` on a machine with only Rust stays green and says what it did not check. With
/// `TRIAGE_TEST_REQUIRE_TOOLS` set, a missing tool is a failure.
pub fn require_tool(name: &str, env_override: &str, install: &str) -> Option<PathBuf> {
    let overridden = (!env_override.is_empty())
        .then(|| std::env::var_os(env_override))
        .flatten()
        .map(PathBuf::from);
    let found = overridden.or_else(|| on_path(name)).filter(|p| p.is_file());
    if found.is_none() {
        skip(&format!("{name} is not installed ({install})"));
    }
    found
}

/// Skips the calling test with a visible reason, or fails it where skips are not allowed (CI).
pub fn skip(why: &str) {
    assert!(
        std::env::var_os(REQUIRE_TOOLS).is_none(),
        "{why}, and {REQUIRE_TOOLS} is set: this check may not be skipped here"
    );
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    // Straight to the stream: `eprintln!` would be captured and shown only on failure.
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// The value of one series (exact `name{labels}` text as rendered) in a scrape.
pub fn metric(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

impl Clients {
    /// Upserts an agent and makes it AVAILABLE.
    pub async fn available_agent(&mut self, req: pb::UpsertAgentRequest) {
        let id = req.agent_id.clone();
        self.agents.upsert_agent(req).await.expect("upsert agent");
        let presence = pb::SetPresenceRequest {
            agent_id: id,
            presence: pb::Presence::Available as i32,
            ..Default::default()
        };
        self.agents
            .set_presence(presence)
            .await
            .expect("set presence");
    }

    pub async fn create(&mut self, req: pb::CreateTicketRequest) -> pb::Ticket {
        self.tickets
            .create_ticket(req)
            .await
            .expect("create ticket")
            .into_inner()
    }

    pub async fn pull(&mut self, agent: &str) -> Option<pb::Assignment> {
        self.agents
            .pull_next_ticket(pull_request(agent, None))
            .await
            .expect("pull")
            .into_inner()
            .assignment
    }

    pub async fn get(&mut self, id: u64) -> pb::Ticket {
        self.tickets
            .get_ticket(pb::GetTicketRequest { ticket_id: id })
            .await
            .expect("get")
            .into_inner()
    }

    /// Every ticket, through the paginated list.
    pub async fn all_tickets(&mut self) -> Vec<pb::Ticket> {
        let mut out = Vec::new();
        let mut page_token = String::new();
        loop {
            let req = pb::ListTicketsRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            };
            let page = self
                .tickets
                .list_tickets(req)
                .await
                .expect("list")
                .into_inner();
            out.extend(page.tickets);
            if page.next_page_token.is_empty() {
                return out;
            }
            page_token = page.next_page_token;
        }
    }

    pub async fn policy(&mut self) -> pb::SlaPolicy {
        self.admin
            .get_sla_policy(pb::GetSlaPolicyRequest {})
            .await
            .expect("get policy")
            .into_inner()
    }

    pub async fn stats(&mut self) -> pb::GetQueueStatsResponse {
        self.admin
            .get_queue_stats(pb::GetQueueStatsRequest {})
            .await
            .expect("queue stats")
            .into_inner()
    }

    pub async fn all_agents(&mut self) -> Vec<pb::Agent> {
        let req = pb::ListAgentsRequest {
            page_size: 1000,
            ..Default::default()
        };
        self.agents
            .list_agents(req)
            .await
            .expect("list agents")
            .into_inner()
            .agents
    }
}

// ---- heavy tests ----------------------------------------------------------------------------

/// How many heavy tests (the crash loop, the bench and simulate runs: long, CPU-bound or
/// starting many daemons) run at once. The suite is one binary whose tests share one pool of
/// threads, as wide as the machine; without this bound a many-core runner would start all of
/// them together and make the timing-sensitive ones (kill delays, long polls) flaky.
const HEAVY_AT_ONCE: usize = 1;

static HEAVY_RUNNING: Mutex<usize> = Mutex::new(0);
static HEAVY_FREED: Condvar = Condvar::new();

/// A place among the heavy tests, held until dropped (the end of the test).
pub struct Heavy(());

/// Waits (blocking: call it first, before the test starts a runtime's work) for a place among
/// the heavy tests. A test that panicked while holding a place still gives it back.
pub fn heavy() -> Heavy {
    let mut running = HEAVY_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    while *running >= HEAVY_AT_ONCE {
        running = HEAVY_FREED.wait(running).unwrap_or_else(|e| e.into_inner());
    }
    *running += 1;
    Heavy(())
}

impl Drop for Heavy {
    fn drop(&mut self) {
        let mut running = HEAVY_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        HEAVY_FREED.notify_one();
    }
}
