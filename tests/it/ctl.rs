//! `triage ctl` as a user runs it: the real binary against a daemon on loopback, checking what
//! it prints and how it exits (paging, a broken event stream, addresses without a scheme,
//! stats totals, human spans, help lines, the pull-wait cap, bad flag values, a backdated
//! create).

use crate::common::{self, temp, Daemon};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use triage::proto as pb;

/// `triage ctl` with `args`, and no address, token or TLS from the environment.
fn ctl_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
    cmd.arg("ctl")
        .args(args)
        .env_remove("TRIAGE_ADDR")
        .env_remove("TRIAGE_TOKEN")
        .env_remove("TRIAGE_CA_CERT")
        .env_remove("TRIAGE_CLIENT_CERT")
        .env_remove("TRIAGE_CLIENT_KEY");
    cmd
}

/// Runs `triage ctl --addr <daemon> args...` to the end.
pub(crate) fn ctl(daemon: &Daemon, args: &[&str]) -> Output {
    let mut all = vec!["--addr", daemon.grpc.as_str()];
    all.extend_from_slice(args);
    ctl_command(&all).output().expect("run triage ctl")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stdout of a run that must succeed.
pub(crate) fn ok(out: Output) -> String {
    assert!(out.status.success(), "{out:?}\n{}", text(&out.stderr));
    text(&out.stdout)
}

#[tokio::test]
async fn agents_prints_every_page() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), None);
    let mut c = daemon.clients().await;
    // More than the daemon's default page (100), which is all `agents` printed before.
    for i in 0..150 {
        let id = format!("agent-{i:03}");
        let req = common::agent(&id, &["en"], &[], &[("chat", 1)]);
        c.agents.upsert_agent(req).await.expect("upsert");
    }
    for args in [&["agents"][..], &["agents", "--page-size", "7"]] {
        let out = ok(ctl(&daemon, args));
        let mut ids: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("agent ")?.split_whitespace().next())
            .collect();
        assert_eq!(ids.len(), 150, "{args:?}");
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 150, "{args:?}: each agent once");
    }
}

#[tokio::test]
async fn events_follow_fails_and_says_where_to_resume_when_the_daemon_stops() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), None);
    let mut c = daemon.clients().await;
    let last = c
        .create(common::create(
            "f-2",
            pb::Tier::Standard,
            pb::Channel::Email,
            &[],
        ))
        .await;
    let mut child = ctl_command(&["--addr", &daemon.grpc, "events", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ctl events");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    // Read until the ticket's creation has been printed: the stream is live.
    let created = format!("ticket={}", last.ticket_id);
    let mut printed = Vec::new();
    while !printed
        .iter()
        .any(|l: &String| l.split_whitespace().any(|w| w == created))
    {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).expect("read events");
        assert!(n > 0, "stream ended early: {printed:?}");
        printed.push(line);
    }
    daemon.terminate().await;
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("read rest");
    printed.extend(rest.lines().map(str::to_string));
    let mut stderr = String::new();
    let mut err = child.stderr.take().expect("stderr");
    err.read_to_string(&mut stderr).expect("read stderr");
    let status = child.wait().expect("wait ctl");
    assert!(
        !status.success(),
        "exit 0 after the daemon stopped: {stderr}"
    );
    let last_sequence: u64 = printed
        .last()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .expect("a sequence");
    let resume = format!("resume with --from {}", last_sequence + 1);
    assert!(stderr.contains(&resume), "{resume:?} in {stderr}");
}

#[tokio::test]
async fn addresses_without_a_scheme_reach_the_daemon() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), None);
    let host_port = daemon.grpc.trim_start_matches("http://").to_string();
    let port = host_port.rsplit_once(':').expect("port").1;
    let localhost = format!("localhost:{port}");
    for addr in [host_port.as_str(), localhost.as_str(), daemon.grpc.as_str()] {
        let out = ok(ctl_command(&["--addr", addr, "health"])
            .output()
            .expect("run"));
        assert_eq!(out.trim(), "SERVING", "--addr {addr}");
    }
    // https:// without a CA to trust is explained, not reported as a daemon that is down.
    let https = format!("https://{host_port}");
    let out = ctl_command(&["--addr", &https, "health"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--ca-cert"), "{out:?}");
}

#[tokio::test]
async fn stats_print_totals_first_and_keys_only_when_asked() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), None);
    let mut c = daemon.clients().await;
    for (id, tier, channel, skills) in [
        ("s-1", pb::Tier::Vip, pb::Channel::Chat, &["en"][..]),
        (
            "s-2",
            pb::Tier::Standard,
            pb::Channel::Chat,
            &["en", "billing"],
        ),
        ("s-3", pb::Tier::Standard, pb::Channel::Email, &["de"]),
        ("s-4", pb::Tier::Standard, pb::Channel::Email, &["fr"]),
    ] {
        c.create(common::create(id, tier, channel, skills)).await;
    }
    let out = ok(ctl(&daemon, &["stats"]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("queued total depth=4 "), "{out}");
    for total in [
        "queued channel=chat depth=2 ",
        "queued channel=email depth=2 ",
        "queued tier=vip depth=1 ",
        "queued tier=standard depth=3 ",
    ] {
        assert!(
            lines[..5].iter().any(|l| l.starts_with(total)),
            "{total}: {out}"
        );
    }
    assert!(!out.contains("\nqueue "), "keys without --by-key: {out}");
    assert!(out.contains("4 routing keys; --by-key lists them"), "{out}");

    let out = ok(ctl(&daemon, &["stats", "--by-key"]));
    assert_eq!(out.lines().filter(|l| l.starts_with("queue ")).count(), 4);
    assert!(out.starts_with("queued total depth=4 "), "{out}");
}

#[tokio::test]
async fn spans_print_in_human_units() {
    // A VIP multiplier that turns the 20 m chat target into 1199999 ms.
    let config = r#"
[policy.targets.chat]
first_response = "20m"
next_reply = "20m"
resolution = "24h"
[policy.tier_multipliers]
vip = 0.99999917
"#;
    let dir = temp();
    let daemon = Daemon::start(dir.path(), Some(config));
    let mut c = daemon.clients().await;
    let t = c
        .create(common::create("h-1", pb::Tier::Vip, pb::Channel::Chat, &[]))
        .await;
    let out = ok(ctl(&daemon, &["get", &t.ticket_id.to_string()]));
    assert!(
        out.contains("first_response target=20m "),
        "first response target: {out}"
    );
    assert!(!out.contains("1199999ms"), "{out}");
}

/// The entries of the `Arguments:` and `Options:` sections of a help text that have no
/// description (as they would be printed: `--epoch <EPOCH>`).
fn undescribed(help: &str) -> Vec<String> {
    let mut missing = Vec::new();
    let mut in_section = false;
    let lines: Vec<&str> = help.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with(' ') {
            in_section = matches!(line.trim(), "Arguments:" | "Options:");
            continue;
        }
        let entry = line.trim_start();
        let indent = line.len() - entry.len();
        if !in_section || indent > 6 || !entry.starts_with(['-', '<', '[']) {
            continue;
        }
        let described = match entry.split_once("  ") {
            Some((_, help)) => !help.trim().is_empty() && !help.trim().starts_with('['),
            // Help on the next, deeper indented line (clap's long layout).
            None => lines
                .get(i + 1)
                .is_some_and(|next| next.len() - next.trim_start().len() > indent),
        };
        if !described {
            missing.push(entry.to_string());
        }
    }
    missing
}

#[test]
fn every_verb_explains_every_flag() {
    let help = ok(ctl_command(&["--help"]).output().expect("ctl --help"));
    assert!(undescribed(&help).is_empty(), "{help}");
    let verbs: Vec<String> = help
        .lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|v| v != "help")
        .collect();
    assert!(verbs.len() > 15, "verbs: {verbs:?}");
    assert!(undescribed("Options:\n  --epoch <EPOCH>  [default: 0]").len() == 1);
    for verb in verbs {
        let help = ok(ctl_command(&[verb.as_str(), "--help"])
            .output()
            .expect("verb --help"));
        let missing = undescribed(&help);
        assert!(
            missing.is_empty(),
            "ctl {verb}: no help for {missing:?}\n{help}"
        );
    }
}

#[tokio::test]
async fn create_created_at_imports_a_ticket_with_its_real_age() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), None);
    let mut c = daemon.clients().await;
    let began = chrono::Utc::now().timestamp() - 3 * 3600;
    let berlin_winter = chrono::FixedOffset::east_opt(3600).expect("offset");
    let rfc3339 = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .expect("in range")
            .with_timezone(&berlin_winter)
            .to_rfc3339()
    };
    let create = |id: &str, at: &str| {
        let args = [
            "create",
            "--external-id",
            id,
            "--customer",
            "c-1",
            "--channel",
            "email",
        ];
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--created-at", at]);
        ctl(&daemon, &all)
    };
    ok(create("imp-1", &rfc3339(began)));
    let t = c.get(1).await;
    assert_eq!(t.created_at.map(|at| at.seconds), Some(began));
    let too_old = create("imp-2", &rfc3339(began - 40 * 86_400));
    assert!(!too_old.status.success(), "{too_old:?}");
    let stderr = text(&too_old.stderr);
    assert!(stderr.contains("created_at"), "{stderr}");
}

#[tokio::test]
async fn a_pull_wait_over_the_daemons_cap_is_reported() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), Some("max_pull_wait = \"1s\"\n"));
    let mut c = daemon.clients().await;
    c.available_agent(common::agent("ana", &["en"], &[], &[("chat", 1)]))
        .await;
    let out = ctl(&daemon, &["pull", "ana", "--wait", "40s"]);
    let stderr = text(&out.stderr);
    assert_eq!(ok(out).trim(), "no ticket");
    assert!(
        stderr.contains("caps --wait at its max_pull_wait (30s"),
        "{stderr}"
    );
    assert!(stderr.contains("answered after"), "{stderr}");
}

#[test]
fn a_bad_capacity_names_the_flag() {
    let out = ctl_command(&["agent", "ana", "--capacity", "chat=abc"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--capacity") && stderr.contains("\"abc\" is not a whole number"),
        "{stderr}"
    );
}

/// `list --customer` shows one customer's tickets, and `erase` erases them and says how many.
#[tokio::test]
async fn a_customer_is_listed_and_erased_from_the_shell() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), None);
    let mut c = daemon.clients().await;
    for (ext, customer) in [("e-1", "c-9"), ("e-2", "c-8"), ("e-3", "c-9")] {
        let req = triage::proto::CreateTicketRequest {
            customer_id: customer.into(),
            ..common::create(
                ext,
                triage::proto::Tier::Vip,
                triage::proto::Channel::Chat,
                &[],
            )
        };
        c.create(req).await;
    }
    let listed = ok(ctl(&daemon, &["list", "--customer", "c-9"]));
    assert_eq!(
        listed.lines().filter(|l| l.starts_with("ticket ")).count(),
        2,
        "{listed}"
    );
    assert!(
        listed.contains("ext=e-1") && listed.contains("ext=e-3"),
        "{listed}"
    );
    assert_eq!(
        ok(ctl(&daemon, &["erase", "c-9"])).trim(),
        "erased 2 tickets"
    );
    let after = ok(ctl(&daemon, &["list", "--customer", "c-9"]));
    assert_eq!(
        after.lines().filter(|l| l.starts_with("ticket ")).count(),
        0,
        "{after}"
    );
    assert_eq!(
        ok(ctl(&daemon, &["erase", "c-9"])).trim(),
        "erased 0 tickets"
    );
}

/// Offers from the shell, with offers on chat from the daemon's config file: `pull` shows
/// the offer, `reject` puts one back, `accept` takes the other; `policy` shows the setting.
#[tokio::test]
async fn offers_are_accepted_and_rejected_from_the_shell() {
    let dir = temp();
    let config = "[policy.offers]\noffer_timeout = { chat = \"10m\" }\nreoffer_after = \"1m\"\n";
    let daemon = Daemon::start(dir.path(), Some(config));
    let mut c = daemon.clients().await;
    c.available_agent(common::agent("ana", &[], &[], &[("chat", 2)]))
        .await;
    for ext in ["o-1", "o-2"] {
        let chat = triage::proto::Channel::Chat;
        c.create(common::create(
            ext,
            triage::proto::Tier::Standard,
            chat,
            &[],
        ))
        .await;
    }
    let policy = ok(ctl(&daemon, &["policy"]));
    assert!(policy.contains("offers chat=10m;"), "{policy}");
    let pulled = ok(ctl(&daemon, &["pull", "ana"]));
    assert!(pulled.contains("offered to ana until"), "{pulled}");
    let rejected = ok(ctl(
        &daemon,
        &[
            "reject", "1", "--agent", "ana", "--epoch", "1", "--reason", "busy",
        ],
    ));
    assert!(rejected.contains("state=queued"), "{rejected}");
    let pulled = ok(ctl(&daemon, &["pull", "ana"]));
    assert!(pulled.contains("ticket 2 "), "the other one: {pulled}");
    let accepted = ok(ctl(
        &daemon,
        &["accept", "2", "--agent", "ana", "--epoch", "1"],
    ));
    assert!(
        accepted.contains("state=assigned") && !accepted.contains("offered to"),
        "{accepted}"
    );
}

#[tokio::test]
async fn webhooks_put_list_and_delete_without_ever_printing_the_secret() {
    let dir = temp();
    let daemon = Daemon::start(dir.path(), None);
    let put = ok(ctl(
        &daemon,
        &[
            "webhooks",
            "put",
            "crm",
            "--url",
            "http://127.0.0.1:9/hook",
            "--secret",
            "do-not-print-me",
            "--kind",
            "created,resolved",
            "--give-up-after",
            "30m",
        ],
    ));
    assert!(put.contains("crm  active"), "{put}");
    let listed = ok(ctl(&daemon, &["webhooks"]));
    assert!(listed.contains("http://127.0.0.1:9/hook"), "{listed}");
    assert!(listed.contains("(created,resolved)"), "{listed}");
    assert!(!listed.contains("do-not-print-me") && !put.contains("do-not-print-me"));
    let deleted = ok(ctl(&daemon, &["webhooks", "delete", "crm"]));
    assert!(deleted.contains("deleted webhook crm"), "{deleted}");
    assert_eq!(ok(ctl(&daemon, &["webhooks", "list"])), "");
    let again = ctl(&daemon, &["webhooks", "delete", "crm"]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("NotFound"), "{again:?}");
}
