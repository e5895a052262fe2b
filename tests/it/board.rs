//! The wallboard (`/board` on the metrics port) in a real browser: Debian's headless
//! `chromium` loads the page against a live daemon with traffic, and every figure it shows
//! (read from the page's `data-*` attributes after its scripts ran) is compared with
//! `GetQueueStats`. Also: the board's auth (401 without a token when authentication is on;
//! a token in the page's address is sent on its data requests), and a page that loads nothing
//! from anywhere else. Skipped without chromium (a failure in CI, which installs it).
//!
//! With `TRIAGE_BOARD_SCREENSHOT=path.png` the first test also writes a 1920x1080 screenshot
//! of the board there (the README's docs/board.png).

use crate::auth::{entry, start as start_with_tokens};
use crate::common::{agent, agent_reply, create, require_tool, temp, Clients, Daemon};
use pb::{Channel, Tier};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use triage::proto as pb;

/// Chat tickets reach the warning level 2 s after creation and stay there for minutes, so
/// the warning list is steady while the browser looks; messenger tickets breach after 1 s;
/// the other channels' clocks warn hours later.
const STEADY_WARNINGS: &str = r#"
[policy]
warning_fraction = 0.01
[policy.targets.chat]
first_response = "200s"
next_reply = "200s"
resolution = "24h"
[policy.targets.email]
first_response = "24h"
next_reply = "24h"
resolution = "72h"
[policy.targets.messenger]
first_response = "1s"
next_reply = "1s"
resolution = "24h"
[policy.targets.phone]
first_response = "24h"
next_reply = "24h"
resolution = "72h"
"#;

const ADMIN: &str = "adm-board-0123456789";
const INTEGRATOR: &str = "int-board-0123456789";
const AGENT: &str = "ana-board-0123456789";

fn chromium() -> Option<PathBuf> {
    require_tool("chromium", "TRIAGE_CHROMIUM", "apt-get install chromium")
}

/// Headless chromium, a fresh profile each run, nothing of its own on the network.
fn browser(chromium: &Path, profile: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// The page at `url` as chromium has it once its scripts ran (the first poll answered).
async fn dump_dom(chromium: &Path, url: &str) -> String {
    let profile = temp();
    let mut cmd = browser(chromium, profile.path());
    cmd.args(["--dump-dom", "--virtual-time-budget=5000", url]);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run chromium");
    assert!(out.status.success(), "chromium: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

/// Writes a 1920x1080 screenshot of `url` to `path`.
async fn screenshot(chromium: &Path, url: &str, path: &Path) {
    let profile = temp();
    let mut cmd = browser(chromium, profile.path());
    cmd.args([
        "--window-size=1920,1080",
        "--virtual-time-budget=5000",
        &format!("--screenshot={}", path.display()),
        url,
    ]);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run chromium");
    assert!(out.status.success() && path.is_file(), "chromium: {out:?}");
}

/// One element carrying `attr`: the attribute's value, the whole opening tag, and its text.
struct Shown {
    key: String,
    tag: String,
    text: String,
}

impl Shown {
    /// Another attribute of the same element.
    fn attr(&self, name: &str) -> Option<&str> {
        let start = self.tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = self.tag[start..].find('"')?;
        Some(&self.tag[start..start + len])
    }

    fn number(&self, name: &str) -> f64 {
        let value = self
            .attr(name)
            .unwrap_or_else(|| panic!("no {name} in {}", self.tag));
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} in {}", self.tag))
    }
}

/// Every element of `dom` with the attribute `attr`, by its value.
fn shown(dom: &str, attr: &str) -> BTreeMap<String, Shown> {
    let needle = format!(" {attr}=\"");
    let mut found = BTreeMap::new();
    let mut rest = dom;
    while let Some(at) = rest.find(&needle) {
        let tag_start = rest[..at].rfind('<').expect("inside a tag");
        let tag_end = at + rest[at..].find('>').expect("tag closes");
        let tag = &rest[tag_start..=tag_end];
        let key_start = at + needle.len();
        let key = &rest[key_start..key_start + rest[key_start..].find('"').expect("quoted")];
        let text_end = tag_end + 1 + rest[tag_end + 1..].find('<').unwrap_or(0);
        found.insert(
            key.to_string(),
            Shown {
                key: key.to_string(),
                tag: tag.to_string(),
                text: rest[tag_end + 1..text_end].to_string(),
            },
        );
        rest = &rest[tag_end..];
    }
    found
}

/// `chat/vip`, as the page keys a channel and tier.
fn key(channel: i32, tier: i32) -> String {
    let name = |full: &str, prefix: &str| full.trim_start_matches(prefix).to_lowercase();
    let channel = Channel::try_from(channel).expect("channel").as_str_name();
    let tier = Tier::try_from(tier).expect("tier").as_str_name();
    format!("{}/{}", name(channel, "CHANNEL_"), name(tier, "TIER_"))
}

fn presence_name(presence: i32) -> String {
    pb::Presence::try_from(presence)
        .expect("presence")
        .as_str_name()
        .trim_start_matches("PRESENCE_")
        .to_lowercase()
}

/// Agents in every presence, tickets on four channels and all tiers, two assignments and
/// one first response, two tickets past due; then nothing changes. Returns the chat tickets whose first response
/// still runs (they reach the warning level 2 s after creation) and when the last
/// assignment was made.
async fn traffic(c: &mut Clients) -> (Vec<u64>, Instant) {
    for id in ["ana", "bo"] {
        c.available_agent(agent(id, &[], &[], &[("chat", 1), ("email", 1)]))
            .await;
    }
    c.agents
        .upsert_agent(agent("cy", &[], &[], &[("chat", 1)]))
        .await
        .expect("upsert cy (offline)");
    c.available_agent(agent("dee", &[], &[], &[("phone", 1)]))
        .await;
    c.agents
        .set_presence(pb::SetPresenceRequest {
            agent_id: "dee".into(),
            presence: pb::Presence::Away as i32,
            ..Default::default()
        })
        .await
        .expect("dee away");
    let mut chat = Vec::new();
    let plan = [
        (Channel::Chat, Tier::Vip, 2),
        (Channel::Chat, Tier::Standard, 3),
        (Channel::Chat, Tier::New, 1),
        (Channel::Email, Tier::Standard, 2),
        (Channel::Email, Tier::Vip, 1),
        (Channel::Phone, Tier::New, 1),
    ];
    for (channel, tier, n) in plan {
        for i in 0..n {
            let ext = format!("{}-{}-{i}", channel.as_str_name(), tier.as_str_name());
            let t = c.create(create(&ext, tier, channel, &[])).await;
            if channel == Channel::Chat {
                chat.push(t.ticket_id);
            }
        }
    }
    let a = c.pull("ana").await.expect("ana gets a ticket");
    let t = a.ticket.expect("ticket");
    c.tickets
        .record_reply(agent_reply(t.ticket_id, "ana", a.lease_epoch))
        .await
        .expect("ana answers");
    chat.retain(|&id| id != t.ticket_id);
    let b = c.pull("bo").await.expect("bo gets a ticket");
    assert!(b.ticket.is_some());
    // Created after the pulls, so that they stay queued and breach.
    for i in 0..2 {
        let ext = format!("messenger-{i}");
        c.create(create(&ext, Tier::Standard, Channel::Messenger, &[]))
            .await;
    }
    (chat, Instant::now())
}

/// Polls the board's JSON (bounded) until `warnings` clocks are at warning and `breached`
/// queued tickets past due: the traffic's clocks have all done what they will do while the
/// test looks.
async fn wait_for_clocks(d: &Daemon, warnings: usize, breached: u64) {
    let mut json = String::new();
    for _ in 0..100 {
        json = crate::common::http_get(&d.metrics, "/board/data").await;
        let data: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let rows = data["rows"].as_array().cloned().unwrap_or_default();
        let past_due: u64 = rows.iter().filter_map(|r| r["breached"].as_u64()).sum();
        if data["warning_total"] == warnings && past_due == breached {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the board never showed {warnings} warnings and {breached} breached: {json}");
}

/// The page shows what GetQueueStats says: depths and presence counts exactly, oldest
/// waits within a few seconds, service levels and the target; and the clocks at warning are
/// the chat tickets not yet answered.
#[tokio::test]
async fn the_board_in_a_browser_shows_what_get_queue_stats_says() {
    let Some(chromium) = chromium() else { return };
    let dir = temp();
    let d = Daemon::start(dir.path(), Some(STEADY_WARNINGS));
    let mut c = d.clients().await;
    let (chat, assigned_at) = traffic(&mut c).await;
    wait_for_clocks(&d, chat.len(), 2).await;

    let url = format!("http://{}/board", d.metrics);
    let dom = dump_dom(&chromium, &url).await;
    let stats = c.stats().await;

    assert_eq!(shown(&dom, "data-role")["leader"].text, "LIVE", "{dom}");
    // Depth and oldest wait per channel and tier, summed over skill sets as the page does.
    let mut want: BTreeMap<String, (u32, i64, u32)> = BTreeMap::new();
    for q in &stats.queues {
        let age = q.oldest_age.as_ref().map_or(0, |a| a.seconds);
        let row = want.entry(key(q.channel, q.tier)).or_default();
        row.0 += q.depth;
        row.1 = row.1.max(age);
        row.2 += q.breached;
    }
    let depths = shown(&dom, "data-depth");
    let oldest = shown(&dom, "data-oldest");
    let statuses = shown(&dom, "data-warnings");
    for (k, (depth, age, breached)) in &want {
        let on_status = statuses[k].number("data-breached");
        assert_eq!(on_status, f64::from(*breached), "breached in {k}");
        let on_page = depths
            .get(k)
            .unwrap_or_else(|| panic!("no depth for {k}\n{dom}"));
        assert_eq!(on_page.text, depth.to_string(), "depth of {k}");
        let seconds = oldest[k].number("data-seconds");
        assert!(
            (seconds - *age as f64).abs() <= 3.0,
            "oldest wait of {k}: page {seconds} s, API {age} s"
        );
    }
    for (k, on_page) in &depths {
        if !want.contains_key(k) {
            assert_eq!(on_page.text, "0", "{k} has nothing queued per the API");
        }
    }
    // Both VIP chats went to ana and bo (VIP first): chat/vip shows no depth but stays on
    // the board, for bo's ticket is at warning.
    assert_eq!(depths["chat/vip"].text, "0");
    assert_eq!(depths.len(), want.len() + 1, "{want:?}");
    assert!(
        dom.contains("✖ BREACH 2"),
        "messenger's two breached tickets are marked"
    );

    let agents = shown(&dom, "data-agents");
    for p in &stats.agents_by_presence {
        let name = presence_name(p.presence);
        assert_eq!(agents[&name].text, p.count.to_string(), "{name} agents");
    }
    assert_eq!(agents.len(), stats.agents_by_presence.len());

    let target = &shown(&dom, "data-target")[&stats.service_level_target.to_string()];
    assert_eq!(target.text, "80%");
    let levels = shown(&dom, "data-sl");
    assert!(!stats.service_levels.is_empty(), "ana answered one chat");
    for l in &stats.service_levels {
        let k = key(l.channel, l.tier);
        let page = levels.get(&k).unwrap_or_else(|| panic!("no SL for {k}"));
        match l.service_level {
            Some(sl) => assert!((page.number("data-value") - sl).abs() < 1e-9, "SL of {k}"),
            None => assert_eq!(page.attr("data-value"), Some(""), "SL of {k}"),
        }
    }

    // Every chat ticket not yet answered is at warning, with time left to its 200 s target.
    let warnings = shown(&dom, "data-warning");
    let listed: Vec<u64> = warnings.keys().map(|k| k.parse().expect("id")).collect();
    let mut expected = chat.clone();
    expected.sort_unstable();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort_unstable();
    assert_eq!(listed_sorted, expected, "{dom}");
    for w in warnings.values() {
        let left = w.number("data-time-left");
        assert!(
            left > 0.0 && left <= 200.0,
            "ticket {}: {left} s left",
            w.key
        );
    }
    let total = &shown(&dom, "data-warning-total");
    assert_eq!(total[&chat.len().to_string()].text, chat.len().to_string());

    // Two assignments were made, within the last minute if the test got here in time.
    let rate = &shown(&dom, "data-rate");
    let (value, _) = rate.iter().next().expect("a rate");
    if assigned_at.elapsed() < Duration::from_secs(50) {
        assert_eq!(value, "2", "assignments in the last minute");
    }

    if let Some(path) = std::env::var_os("TRIAGE_BOARD_SCREENSHOT") {
        screenshot(&chromium, &url, Path::new(&path)).await;
    }
}

/// GET `path` with `Authorization: Bearer <token>`: the status line.
async fn status_with_bearer(addr: &str, path: &str, token: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response.lines().next().unwrap_or_default().to_string()
}

/// With a token file, the page and its data need an admin or integrator token: 401 without
/// one (or with an unknown one), 403 for an agent's; the token may come in the address,
/// and the page sends it on its data requests. The token is never logged.
#[tokio::test]
async fn with_authentication_the_board_needs_an_admin_or_integrator_token() {
    let dir = temp();
    let tokens = [
        entry("ops", ADMIN, "admin", None),
        entry("helpdesk", INTEGRATOR, "integrator", None),
        entry("ana-desk", AGENT, "agent", Some("ana")),
    ]
    .concat();
    let d = start_with_tokens(dir.path(), &tokens);
    let get = |path: String| {
        let addr = d.metrics.clone();
        async move { crate::common::http_get_any(&addr, &path).await.0 }
    };
    for path in ["/board", "/board/data"] {
        assert!(get(path.to_string()).await.contains(" 401 "), "{path}");
        let unknown = format!("{path}?token=not-a-token");
        assert!(get(unknown).await.contains(" 401 "), "{path}");
        assert!(get(format!("{path}?token={AGENT}")).await.contains(" 403 "));
        for token in [ADMIN, INTEGRATOR] {
            assert!(get(format!("{path}?token={token}")).await.contains(" 200 "));
            let status = status_with_bearer(&d.metrics, path, token).await;
            assert!(status.contains(" 200 "), "{path}: {status}");
        }
        let status = status_with_bearer(&d.metrics, path, AGENT).await;
        assert!(status.contains(" 403 "), "{path}: {status}");
    }
    if let Some(chromium) = chromium() {
        let url = format!("http://{}/board?token={INTEGRATOR}", d.metrics);
        let dom = dump_dom(&chromium, &url).await;
        assert!(shown(&dom, "data-role").contains_key("leader"), "{dom}");
        let url = format!("http://{}/board/data", d.metrics);
        let dom = dump_dom(&chromium, &url).await;
        assert!(!dom.contains("\"role\""), "no data without a token: {dom}");
    }
    let logs = d.terminate_and_read_logs().await;
    for token in [ADMIN, INTEGRATOR, AGENT] {
        assert!(!logs.contains(token), "a token was logged");
    }
}

/// The page, its script and its style name no other origin (no CDN, no web font), and the
/// browser is told to load nothing from one (Content-Security-Policy).
#[tokio::test]
async fn the_board_loads_nothing_from_elsewhere() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    for path in ["/board", "/board/board.js", "/board/board.css"] {
        let body = crate::common::http_get(&d.metrics, path).await;
        for external in ["http:", "https:", "//", "@import", "url("] {
            let outside_comments = body
                .lines()
                .filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with("/*"));
            for line in outside_comments {
                assert!(!line.contains(external), "{path}: {line}");
            }
        }
    }
    let mut stream = tokio::net::TcpStream::connect(&d.metrics)
        .await
        .expect("connect");
    let request = format!("GET /board HTTP/1.0\r\nHost: {}\r\n\r\n", d.metrics);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let head = response
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{head}"
    );
}
