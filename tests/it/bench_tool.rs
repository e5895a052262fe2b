//! `triage bench` end to end: it spawns its own daemon, drives the DOMAIN.md mix, checks that
//! nothing was lost or held twice, and reports in JSON.

use crate::common;
use std::process::Command;

fn bench(args: &[&str]) -> serde_json::Value {
    let _heavy = common::heavy();
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("bench")
        .args(args)
        .arg("--json")
        .output()
        .expect("run triage bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
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
    ] {
        let p99 = r["latency"][rpc]["p99_ms"].as_f64().expect("a p99");
        assert!(p99 > 0.0, "{rpc} has latencies");
    }
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
    for rpc in ["Work.assignment", "Work.done", "RecordReply"] {
        let calls = r["latency"][rpc]["calls"].as_u64().expect("a count");
        assert!(calls >= 400, "{rpc}: {r}");
    }
    assert!(r["latency"].get("PullNextTicket").is_none(), "no polling");
    assert_eq!(r["errors"], serde_json::json!([]), "{r}");
}
