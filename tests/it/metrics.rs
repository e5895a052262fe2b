//! `/metrics` as SRE tooling sees it: valid for promtool, bounded whatever clients send, and
//! right after a restart.

use crate::common::{self, agent, create, prometheus_tool, temp, Clients, Daemon};
use pb::{Channel, Tier};
use std::io::Write;
use std::process::{Command, Stdio};
use triage::proto as pb;

/// Series lines (not comments) in a scrape.
fn series(scrape: &str) -> Vec<&str> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.rsplit_once(' ').map_or(l, |(name, _)| name))
        .collect()
}

/// Some of everything: tickets on every channel, assignments, replies, a resolve, a cancel.
async fn traffic(c: &mut Clients, tag: &str, skills: &[&str]) {
    c.available_agent(agent(
        &format!("agent-{tag}"),
        skills,
        &[],
        &[("chat", 50), ("email", 50)],
    ))
    .await;
    for (i, channel) in [Channel::Chat, Channel::Email, Channel::Messenger]
        .into_iter()
        .enumerate()
    {
        let mut req = create(&format!("{tag}-{i}"), Tier::Vip, channel, skills);
        req.customer_id = format!("customer-{tag}-{i}");
        c.create(req).await;
    }
    for _ in 0..2 {
        if let Some(a) = c.pull(&format!("agent-{tag}")).await {
            let t = a.ticket.expect("ticket");
            c.tickets
                .resolve_ticket(common::resolve(t.ticket_id, &t.agent_id, a.lease_epoch))
                .await
                .expect("resolve");
        }
    }
}

#[tokio::test]
async fn metrics_pass_promtool_check_metrics() {
    let Some(promtool) = prometheus_tool("promtool") else {
        return;
    };
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    traffic(&mut c, "lint", &["en"]).await;
    let scrape = d.scrape().await;
    assert!(
        scrape.contains("triage_first_response_seconds_bucket")
            || scrape.contains("triage_wait_seconds_bucket")
    );
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(scrape.as_bytes())
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool output");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{report}"
    );
    assert_eq!(report.trim(), "", "promtool has lint findings");
}

#[tokio::test]
async fn the_number_of_series_stays_bounded_whatever_ids_and_skills_clients_send() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    // Warm up: every code path that registers series once.
    traffic(&mut c, "warm", &["en"]).await;
    let before = d.scrape().await;
    let nonce = std::process::id();
    for round in 0..20 {
        let tag = format!("rnd{nonce}x{round}");
        let skill = format!("skill{nonce}x{round}");
        traffic(&mut c, &tag, &[skill.as_str()]).await;
    }
    let after = d.scrape().await;
    assert_eq!(
        series(&after).len(),
        series(&before).len(),
        "new ids and skills added series"
    );
    for needle in [
        format!("rnd{nonce}"),
        format!("skill{nonce}"),
        "customer-".into(),
    ] {
        assert!(!after.contains(&needle), "{needle} leaked into a label");
    }
}

#[tokio::test]
async fn gauges_are_rebuilt_from_the_store_after_a_restart() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ann", &[], &[], &[("email", 10)]))
        .await;
    for i in 0..7 {
        c.create(create(&format!("g{i}"), Tier::New, Channel::Email, &[]))
            .await;
    }
    for _ in 0..3 {
        c.pull("ann").await.expect("assignment");
    }
    d.kill9();
    let d = Daemon::start(dir.path(), None);
    d.wait_for_metric(
        r#"triage_tickets_open{state="queued",tier="new",channel="email"}"#,
        4.0,
    )
    .await;
    let scrape = d
        .wait_for_metric(
            r#"triage_tickets_open{state="assigned",tier="new",channel="email"}"#,
            3.0,
        )
        .await;
    assert_eq!(
        common::metric(&scrape, r#"triage_queue_depth{tier="new",channel="email"}"#),
        Some(4.0)
    );
}

#[tokio::test]
async fn resident_memory_and_the_data_dir_size_are_gauges_with_sane_values() {
    if crate::common::sled_only() {
        return;
    }
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    traffic(&mut c, "size", &["en"]).await;
    // The data dir is measured every few seconds, the first time right after the start.
    let mut scrape = d.scrape().await;
    for _ in 0..100 {
        if common::metric(&scrape, "triage_store_size_bytes").is_some_and(|v| v > 0.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        scrape = d.scrape().await;
    }
    for name in ["process_resident_memory_bytes", "triage_store_size_bytes"] {
        assert!(
            scrape.contains(&format!("# TYPE {name} gauge")),
            "{name} is not a gauge:\n{scrape}"
        );
    }
    let rss = common::metric(&scrape, "process_resident_memory_bytes").expect("rss exported");
    assert!(
        rss > 1e6 && rss < 64e9,
        "a running daemon takes megabytes: {rss}"
    );
    // The data dir holds at least the full-disk reserve file, written block by block.
    let size = common::metric(&scrape, "triage_store_size_bytes").expect("size exported");
    assert!(
        size >= triage::store::RESERVE_BYTES as f64,
        "the data dir holds the reserve: {size}"
    );
    assert!(size < 1e10, "a few tickets take little room: {size}");
}

#[tokio::test]
async fn process_cpu_seconds_total_is_a_counter_that_grows_with_the_work_served() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let before = d.scrape().await;
    assert!(
        before.contains("# TYPE process_cpu_seconds_total counter"),
        "the standard process counter:\n{before}"
    );
    let cpu = |scrape: &str| {
        let v = common::metric(scrape, "process_cpu_seconds_total").expect("cpu exported");
        assert!(
            v.is_finite() && v > 0.0,
            "a started daemon has used CPU: {v}"
        );
        v
    };
    let first = cpu(&before);
    traffic(&mut c, "cpu", &["en"]).await;
    let second = cpu(&d.scrape().await);
    // Sub-second resolution: a few calls move it (whole seconds would read the same twice).
    assert!(second > first, "{first} then {second}");
}
