//! `triage bench` end to end: it spawns its own daemon, drives the DOMAIN.md mix, checks that
//! nothing was lost or held twice, and reports in JSON.

use crate::common;
use std::process::Command;

/// `triage bench` with `args` and `--json`, which must succeed: its JSON report.
fn bench(args: &[&str]) -> serde_json::Value {
    let (status, report) = bench_status(args);
    assert!(status.success(), "bench failed ({status}): {report}");
    report
}

#[test]
fn a_closed_loop_run_creates_assigns_and_resolves_every_ticket() {
    let r = bench(&["--tickets", "400", "--agents", "40", "--creators", "8"]);
    assert_eq!(r["created"], 400);
    assert_eq!(r["resolved"], 400, "{r}");
    assert_eq!(r["double_assigned"], 0);
    assert_eq!(r["problems"], serde_json::json!([]));
    for rpc in [
        "CreateTicket",
        "PullNextTicket",
        "RecordReply",
        "ResolveTicket",
        "RecordFollowUp",
    ] {
        let p99 = r["latency"][rpc]["p99_ms"].as_f64().expect("a p99");
        assert!(p99 > 0.0, "{rpc} has latencies");
    }
    // A full cycle: every resolved ticket also had its check-back, which finishes it.
    assert_eq!(r["latency"]["RecordFollowUp"]["calls"], 400, "{r}");
    assert_eq!(r["errors"], serde_json::json!([]), "{r}");
    assert!(r["assignments_per_s"].as_f64().is_some_and(|v| v > 0.0));
}

#[test]
fn an_open_loop_run_with_holding_agents_assigns_every_ticket_once() {
    let r = bench(&["--tickets", "300", "--rate", "600", "--hold"]);
    assert_eq!(r["mode"], "open");
    assert_eq!(r["created"], 300);
    assert_eq!(r["leased_tickets"], 300, "{r}");
    assert_eq!(r["resolved"], 0, "holding agents resolve nothing");
    assert_eq!(r["problems"], serde_json::json!([]));
}

#[test]
fn stream_agents_resolve_every_ticket_through_work_sessions() {
    let r = bench(&[
        "--tickets",
        "400",
        "--agents",
        "40",
        "--creators",
        "8",
        "--mode",
        "stream",
        "--window",
        "2",
    ]);
    assert_eq!(r["agent_mode"], "stream");
    assert_eq!(r["created"], 400);
    assert_eq!(r["resolved"], 400, "{r}");
    assert_eq!(r["leased_tickets"], 400, "{r}");
    assert_eq!(r["problems"], serde_json::json!([]));
    for rpc in [
        "Work.assignment",
        "Work.done",
        "RecordReply",
        "RecordFollowUp",
    ] {
        let calls = r["latency"][rpc]["calls"].as_u64().expect("a count");
        assert!(calls >= 400, "{rpc}: {r}");
    }
    assert!(r["latency"].get("PullNextTicket").is_none(), "no polling");
    assert_eq!(r["errors"], serde_json::json!([]), "{r}");
}

/// With `--offer-timeout` every pull is an offer, which the bench's agents accept before
/// working on it: every ticket is still resolved once, and each took one AcceptTicket.
#[test]
fn with_offers_on_every_ticket_is_accepted_then_resolved() {
    let r = bench(&[
        "--tickets",
        "300",
        "--agents",
        "30",
        "--creators",
        "8",
        "--offer-timeout",
        "30s",
    ]);
    assert_eq!(r["resolved"], 300, "{r}");
    assert_eq!(r["double_assigned"], 0);
    assert_eq!(r["problems"], serde_json::json!([]));
    assert_eq!(r["latency"]["AcceptTicket"]["calls"], 300, "{r}");
    assert_eq!(r["errors"], serde_json::json!([]), "{r}");
}

/// `triage bench` with `args` and `--json`: its exit status and its JSON report.
fn bench_status(args: &[&str]) -> (std::process::ExitStatus, serde_json::Value) {
    let _heavy = common::heavy();
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("bench")
        .args(args)
        .arg("--json")
        .output()
        .expect("run triage bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    (out.status, report)
}

#[test]
fn a_default_run_drains_even_with_three_agents() {
    // Three random agents cannot cover the mix's 72 routing keys; the bench widens them so
    // that every ticket has an agent (`--tickets 3000 --agents 20` used to never end).
    let r = bench(&["--tickets", "300", "--agents", "3"]);
    assert_eq!(r["drain"]["end"], "drained", "{r}");
    assert_eq!(r["resolved"], 300, "{r}");
    assert_eq!(r["stuck"], serde_json::json!([]), "{r}");
    assert_eq!(r["problems"], serde_json::json!([]));
}

#[test]
fn with_random_agents_the_drain_times_out_and_the_report_names_the_stuck_tickets() {
    let (status, r) = bench_status(&[
        "--tickets",
        "300",
        "--agents",
        "3",
        "--random-agents",
        "--drain-timeout",
        "2s",
    ]);
    assert!(status.success(), "{status}: {r}");
    assert_eq!(r["drain"]["end"], "stalled", "{r}");
    let stuck = r["stuck"].as_array().expect("a list");
    let queued: u64 = stuck
        .iter()
        .map(|s| s["tickets"].as_u64().unwrap_or(0))
        .sum();
    assert!(queued > 0, "{r}");
    assert_eq!(r["resolved"].as_u64().map(|n| n + queued), Some(300), "{r}");
    assert_eq!(r["untakeable"].as_u64(), Some(queued), "{r}");
    for s in stuck {
        let why = s["why"].as_str().unwrap_or("");
        assert!(
            why.contains("no bench agent has") || why.contains("do not serve"),
            "{s}"
        );
    }
    assert_eq!(r["problems"], serde_json::json!([]));
}

#[test]
fn sigterm_prints_a_partial_report_and_leaves_no_temporary_data_dir() {
    let _heavy = common::heavy();
    let tmp = common::temp();
    let child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["bench", "--duration", "5m", "--agents", "20", "--json"])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start triage bench");
    // Wait until the bench's daemon has its data dir, then give the load a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_dir(tmp.path()).map_or(0, |d| d.count()) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the bench never started its daemon"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    common::send_signal(child.id(), "TERM");
    let out = child.wait_with_output().expect("the bench ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(143), "{stdout}");
    let r: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    assert_eq!(r["drain"]["end"], "interrupted", "{r}");
    assert_eq!(r["drain"]["signal"], "SIGTERM", "{r}");
    assert!(r["created"].as_u64().is_some_and(|n| n > 0), "{r}");
    assert_eq!(
        r["problems"],
        serde_json::json!([]),
        "nothing lost when interrupted"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("the temp dir")
        .map(|e| e.map(|e| e.path()))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn against_a_target_it_lists_what_it_leaves_and_cleans_that_up_with_cleanup() {
    let tmp = common::temp();
    let d = common::Daemon::start(tmp.path(), None);
    let run = |cleanup: bool| {
        let mut args = vec![
            "--target",
            &d.grpc,
            "--tickets",
            "300",
            "--agents",
            "3",
            "--random-agents",
            "--drain-timeout",
            "1s",
        ];
        if cleanup {
            args.push("--cleanup");
        }
        bench(&args)
    };
    let r = run(false);
    assert_eq!(
        r["left"]["agents"],
        serde_json::json!(["agent-0", "agent-1", "agent-2"])
    );
    let open = r["left"]["tickets"].as_array().map_or(0, Vec::len) as u64;
    assert!(open > 0, "random agents leave tickets: {r}");
    assert_eq!(r["resolved"].as_u64().map(|n| n + open), Some(300), "{r}");
    assert!(r["left"]["cleanup"].is_null(), "{r}");

    let r = run(true);
    let open = r["left"]["tickets"].as_array().map_or(0, Vec::len) as u64;
    assert!(open > 0, "{r}");
    assert_eq!(
        r["left"]["cleanup"]["cancelled"].as_u64(),
        Some(open),
        "{r}"
    );
    assert_eq!(r["left"]["cleanup"]["agents_offline"], 3, "{r}");
    assert_eq!(r["left"]["cleanup"]["failed"], 0, "{r}");
}

/// The soak samples of a report: each one's elapsed seconds, created, resolved, rss and
/// data-dir bytes (every field must be there).
fn samples(r: &serde_json::Value) -> Vec<(f64, u64, u64, u64, u64)> {
    let list = r["samples"].as_array().expect("a samples list");
    list.iter()
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k} in {s}"));
            let elapsed = s["elapsed_s"].as_f64().expect("elapsed_s");
            let figures = (n("created"), n("resolved"), n("rss_bytes"));
            (
                elapsed,
                figures.0,
                figures.1,
                figures.2,
                n("data_dir_bytes"),
            )
        })
        .collect()
}

#[test]
fn a_soak_run_samples_memory_and_the_data_dir_every_period_and_at_the_end() {
    let r = bench(&["--duration", "3s", "--rss-every", "1s", "--agents", "20"]);
    let s = samples(&r);
    // Every second of the 3 s run and once at the end (a slow machine may miss a tick).
    assert!(s.len() >= 2, "{r}");
    for pair in s.windows(2) {
        assert!(pair[0].0 < pair[1].0, "elapsed grows: {r}");
        assert!(pair[0].1 <= pair[1].1, "created grows: {r}");
    }
    assert!(
        s.iter().all(|&(_, _, _, rss, data)| rss > 0 && data > 0),
        "{r}"
    );
    let last = s.last().expect("a last sample");
    assert_eq!(
        last.1, r["created"],
        "the last sample is taken after the run"
    );
    assert!(last.1 > 0, "{r}");
    let growth = &r["growth_per_100k"];
    assert_eq!(growth["method"], "least squares over the samples", "{r}");
    assert!(growth["rss_bytes"].is_f64(), "{r}");
}

#[test]
fn a_soak_run_against_a_target_reads_the_daemons_metrics_address() {
    if crate::common::sled_only() {
        return;
    }
    let tmp = common::temp();
    let d = common::Daemon::start(tmp.path(), None);
    let r = bench(&[
        "--target",
        &d.grpc,
        "--metrics",
        &format!("http://{}", d.metrics),
        "--rss-every",
        "1s",
        "--tickets",
        "200",
        "--agents",
        "20",
    ]);
    let s = samples(&r);
    let last = s.last().expect("at least the sample at the end");
    assert_eq!(last.1, 200, "{r}");
    assert_eq!(
        last.2, 200,
        "every ticket resolved before the last sample: {r}"
    );
    assert!(last.3 > 0 && last.4 > 0, "{r}");
}

/// The report's server CPU figure `key`, which must be there, positive and finite.
fn server_us(r: &serde_json::Value, key: &str) -> f64 {
    let v = r["server_cpu"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {r}"));
    assert!(v.is_finite() && v > 0.0, "{key}: {v}");
    v
}

#[test]
fn a_phased_run_reports_the_servers_cpu_per_create_per_assignment_and_per_cycle() {
    let r = bench(&["--tickets", "300", "--agents", "10", "--hold", "--phased"]);
    assert_eq!(r["phased"], true);
    assert_eq!(r["leased_tickets"], 300, "{r}");
    let (create, assignment) = (
        server_us(&r, "us_per_create"),
        server_us(&r, "us_per_assignment"),
    );
    // The whole run is both phases over the same tickets: it costs what they cost together.
    let cycle = server_us(&r, "us_per_cycle");
    assert!((cycle - (create + assignment)).abs() < 1e-3, "{r}");
    let cpu = r["server_cpu"]["cpu_s"].as_f64().expect("cpu_s");
    let parts = ["creating_cpu_s", "draining_cpu_s"].map(|k| r["server_cpu"][k].as_f64());
    let sum: f64 = parts.iter().map(|p| p.expect("both phases")).sum();
    assert!((sum - cpu).abs() < 1e-6, "{r}");
}

#[test]
fn concurrent_creates_and_pulls_report_the_servers_cpu_per_cycle_only() {
    let r = bench(&["--tickets", "200", "--agents", "10", "--creators", "4"]);
    server_us(&r, "us_per_cycle");
    assert!(r["server_cpu"]["us_per_create"].is_null(), "{r}");
    assert!(r["server_cpu"]["us_per_assignment"].is_null(), "{r}");
}

#[test]
fn against_a_target_the_metrics_address_gives_the_servers_cpu_per_create() {
    let tmp = common::temp();
    let d = common::Daemon::start(tmp.path(), None);
    let target = ["--target", &d.grpc, "--tickets", "200", "--agents", "0"];
    let r = bench(&target);
    assert!(r["server_cpu"].is_null(), "no metrics address: {r}");
    let metrics = format!("http://{}", d.metrics);
    let r = bench(&[&target[..], &["--metrics", &metrics]].concat());
    server_us(&r, "us_per_create");
    assert!(
        r["server_cpu"]["us_per_cycle"].is_null(),
        "nothing done: {r}"
    );
}
