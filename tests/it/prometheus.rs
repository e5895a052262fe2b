//! A real Prometheus scrapes a running daemon, evaluates the shipped rules, and its HTTP query
//! API returns the `triage_` series with the values the test drove.

use crate::common::{
    self, agent, cancel, create, http_get_any, prometheus_tool, temp, Daemon, FAST_CHAT,
};
use pb::{Channel, Tier};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use triage::proto as pb;

struct Prometheus {
    child: Child,
    addr: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Starts Prometheus scraping `target` every second with the repository's rules.
fn start_prometheus(binary: &std::path::Path, dir: &std::path::Path, target: &str) -> Prometheus {
    let rules =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus/rules.yml");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: triage\n    static_configs:\n      - targets: ['{target}']\n",
        rules.display()
    );
    let config_path = dir.join("prometheus.yml");
    std::fs::write(&config_path, config).expect("write prometheus.yml");
    let addr = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("log");
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start prometheus");
    Prometheus { child, addr }
}

/// The series an instant query returns, once Prometheus answers.
async fn query_series(p: &Prometheus, promql: &str) -> Option<Vec<serde_json::Value>> {
    let encoded: String = promql
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    // Not listening yet, or listening but not ready (503 while its storage starts, more
    // often on a loaded machine): no answer yet, rather than a panic.
    tokio::net::TcpStream::connect(&p.addr).await.ok()?;
    let (status, body) = http_get_any(&p.addr, &format!("/api/v1/query?query={encoded}")).await;
    if status.contains(" 503 ") {
        return None;
    }
    assert!(status.contains(" 200 "), "{promql}: {status}\r\n\r\n{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["status"], "success", "{promql}: {body}");
    json["data"]["result"].as_array().cloned()
}

/// The value of an instant query with one result, if it has one yet.
async fn query(p: &Prometheus, promql: &str) -> Option<f64> {
    let result = query_series(p, promql).await?;
    let value = result.first()?["value"][1].as_str()?;
    value.parse().ok()
}

/// Polls until `promql` answers `want` (bounded by a minute of scrapes and rule evaluations).
async fn wait_for(p: &Prometheus, promql: &str, want: f64) {
    let mut last = None;
    for _ in 0..120 {
        last = query(p, promql).await;
        if last == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{promql} never answered {want}; last {last:?}");
}

#[tokio::test]
async fn prometheus_scrapes_the_daemon_and_returns_the_driven_values() {
    let Some(prometheus) = prometheus_tool("prometheus") else {
        return;
    };
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ann", &[], &[], &[("email", 100)]))
        .await;
    for i in 0..30 {
        c.create(create(
            &format!("p{i}"),
            Tier::Standard,
            Channel::Email,
            &[],
        ))
        .await;
    }
    let mut assigned = Vec::new();
    for _ in 0..12 {
        assigned.push(c.pull("ann").await.expect("assignment"));
    }
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).expect("dir");
    let p = start_prometheus(&prometheus, &prom_dir, &d.metrics);

    wait_for(&p, r#"up{job="triage"}"#, 1.0).await;
    wait_for(&p, "sum(triage_tickets_created_total)", 30.0).await;
    wait_for(&p, "sum(triage_assignments_total)", 12.0).await;
    wait_for(
        &p,
        r#"triage_queue_depth{tier="standard",channel="email"}"#,
        18.0,
    )
    .await;
    wait_for(&p, r#"triage_agents{presence="available"}"#, 1.0).await;
    wait_for(&p, "triage_service_level_target", 0.8).await;

    // The shipped recording rules: answer the 12 assigned tickets within target after the
    // first scrapes, and the 5m service level of standard email is 100 %.
    for a in &assigned {
        let t = a.ticket.as_ref().expect("ticket");
        c.tickets
            .record_reply(common::agent_reply(t.ticket_id, "ann", a.lease_epoch))
            .await
            .expect("reply");
    }
    wait_for(
        &p,
        r#"channel_tier:triage_service_level:ratio_rate5m{channel="email",tier="standard"}"#,
        1.0,
    )
    .await;
    assert_eq!(
        query(
            &p,
            r#"channel_tier:triage_service_level:ratio_rate5m{channel="chat"}"#
        )
        .await,
        None,
        "no contacts, no series (not NaN)"
    );
}

/// Every query of the shipped Grafana dashboard (deploy/grafana/dashboards/triage.json), with
/// its variables set to "all": (panel title, legend, PromQL).
fn dashboard_queries() -> Vec<(String, String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/grafana/dashboards/triage.json");
    let text = std::fs::read_to_string(path).expect("read the dashboard");
    let board: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
    let mut out = Vec::new();
    for panel in board["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("expr");
            let expr = expr
                .replace("$channel", ".*")
                .replace("$tier", ".*")
                .replace("$__rate_interval", "1m");
            let title = panel["title"].as_str().unwrap_or_default().to_string();
            let legend = target["legendFormat"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            out.push((title, legend, expr));
        }
    }
    out
}

/// Traffic that touches every panel: first responses met in each tier, resolutions, a chat
/// ticket that breaches its 3 s target and stays queued, an abandoned contact, a refused call.
/// `round` names this round's tickets: a rate needs a counter to move between two scrapes, so
/// the test drives twice.
async fn drive_every_panel(c: &mut common::Clients, round: u32) {
    let tiers = [Tier::Vip, Tier::New, Tier::Standard];
    c.available_agent(agent("ann", &[], &tiers, &[("email", 100), ("chat", 0)]))
        .await;
    for (i, tier) in tiers.iter().cycle().take(9).enumerate() {
        c.create(create(&format!("e{round}-{i}"), *tier, Channel::Email, &[]))
            .await;
    }
    for _ in 0..9 {
        let a = c.pull("ann").await.expect("an email ticket");
        let t = a.ticket.as_ref().expect("ticket");
        c.tickets
            .record_reply(common::agent_reply(t.ticket_id, "ann", a.lease_epoch))
            .await
            .expect("reply");
        c.tickets
            .resolve_ticket(common::resolve(t.ticket_id, "ann", a.lease_epoch))
            .await
            .expect("resolve");
    }
    c.create(create(
        &format!("late-chat-{round}"),
        Tier::Vip,
        Channel::Chat,
        &[],
    ))
    .await;
    let gone = c
        .create(create(
            &format!("gone-{round}"),
            Tier::Standard,
            Channel::Email,
            &[],
        ))
        .await;
    c.tickets
        .cancel_ticket(cancel(gone.ticket_id, pb::CancelReason::Abandoned))
        .await
        .expect("cancel");
    let missing = pb::GetTicketRequest { ticket_id: 999_999 };
    let refused = c
        .tickets
        .get_ticket(missing)
        .await
        .expect_err("no such ticket");
    assert_eq!(refused.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn every_dashboard_query_returns_data_from_a_live_prometheus_with_the_shipped_rules() {
    let Some(prometheus) = prometheus_tool("prometheus") else {
        return;
    };
    let dir = temp();
    let d = Daemon::start(dir.path(), Some(FAST_CHAT));
    let mut c = d.clients().await;
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).expect("dir");
    let p = start_prometheus(&prometheus, &prom_dir, &d.metrics);
    wait_for(&p, r#"up{job="triage"}"#, 1.0).await;
    drive_every_panel(&mut c, 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    drive_every_panel(&mut c, 2).await;

    let queries = dashboard_queries();
    assert!(
        queries.len() >= 20,
        "the dashboard's queries: {}",
        queries.len()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    for (title, legend, expr) in &queries {
        loop {
            let series = query_series(&p, expr).await.unwrap_or_default();
            if !series.is_empty() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "panel {title:?} ({legend}) shows nothing: {expr}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
