//! Webhooks against a real receiver: an HTTP server in the test (hyper on loopback) that
//! fails, recovers, goes away and comes back on the same port while the daemon is killed -9
//! and restarted; and receivers that never answer, which get the webhook paused.

use crate::common::{create, temp, Clients, Daemon};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use triage::proto as pb;

pub(crate) const SECRET: &str = "s3cret-for-the-test";

/// One request the receiver got, and the status it answered.
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    sequence: u64,
    idempotency_key: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
    status: u16,
}

/// The receiver's record of requests and the status it answers with now.
#[derive(Clone, Default)]
pub(crate) struct Log {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    pub(crate) answer: Arc<AtomicU16>,
}

impl Log {
    fn all(&self) -> Vec<Delivery> {
        self.deliveries.lock().expect("log").clone()
    }

    /// The sequences answered 2xx, each once, in the order of their first success.
    pub(crate) fn delivered(&self) -> Vec<u64> {
        let mut seen = Vec::new();
        for d in self.all().iter().filter(|d| d.status == 200) {
            if !seen.contains(&d.sequence) {
                seen.push(d.sequence);
            }
        }
        seen
    }
}

/// An HTTP/1 server on `addr` answering every POST with the log's current status.
pub(crate) struct Receiver {
    pub(crate) addr: SocketAddr,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Receiver {
    pub(crate) async fn start(addr: SocketAddr, log: Log) -> Receiver {
        let listener = TcpListener::bind(addr).await.expect("bind the receiver");
        let addr = listener.local_addr().expect("addr");
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let conns = Arc::clone(&connections);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                let service = service_fn(move |req| answer(req, log.clone()));
                let conn = tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                conns.lock().expect("conns").push(conn);
            }
        });
        Receiver {
            addr,
            accept,
            connections,
        }
    }

    /// Stops accepting and drops every open connection: the port refuses until a restart.
    pub(crate) fn stop(self) {
        self.accept.abort();
        for c in self.connections.lock().expect("conns").drain(..) {
            c.abort();
        }
    }
}

async fn answer(
    req: hyper::Request<Incoming>,
    log: Log,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (sequence, idempotency_key) = (header("x-triage-sequence"), header("idempotency-key"));
    let (timestamp, signature) = (header("x-triage-timestamp"), header("x-triage-signature"));
    let body = req.into_body().collect().await?.to_bytes().to_vec();
    let status = log.answer.load(Ordering::SeqCst);
    log.deliveries.lock().expect("log").push(Delivery {
        sequence: sequence.parse().unwrap_or(0),
        idempotency_key,
        timestamp,
        signature,
        body,
        status,
    });
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    Ok(response)
}

/// What a receiver computes to check a delivery: HMAC-SHA256(secret, timestamp "." body).
fn expected_signature(d: &Delivery) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(d.timestamp.as_bytes());
    mac.update(b".");
    mac.update(&d.body);
    let hex: String = (mac.finalize().into_bytes().iter())
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn put(id: &str, url: &str, kinds: &[pb::EventKind], give_up: Duration) -> pb::PutWebhookRequest {
    pb::PutWebhookRequest {
        id: id.into(),
        url: url.into(),
        kinds: kinds.iter().map(|&k| k as i32).collect(),
        secret: SECRET.into(),
        give_up_after: Some(prost_types::Duration {
            seconds: give_up.as_secs() as i64,
            nanos: give_up.subsec_nanos() as i32,
        }),
    }
}

pub(crate) async fn create_tickets(c: &mut Clients, n: usize) {
    for _ in 0..n {
        let external = format!("hook-{}", COUNTER.fetch_add(1, Ordering::SeqCst));
        c.create(create(
            &external,
            pb::Tier::Standard,
            pb::Channel::Email,
            &[],
        ))
        .await;
    }
}

/// External ids, unique across the tests of this module.
static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Waits (up to 60 s) until `done` holds.
pub(crate) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not within 60 s: {what}");
}

/// Every sequence of the events of `kinds` written so far, from the daemon's own log.
pub(crate) async fn wanted_sequences(c: &mut Clients, kinds: &[pb::EventKind]) -> Vec<u64> {
    let mut stream = c
        .admin
        .watch_events(pb::WatchEventsRequest {
            from_sequence: 0,
            kinds: kinds.iter().map(|&k| k as i32).collect(),
            ..Default::default()
        })
        .await
        .expect("watch")
        .into_inner();
    let mut out = Vec::new();
    while let Ok(Ok(Some(e))) =
        tokio::time::timeout(Duration::from_millis(500), stream.message()).await
    {
        out.push(e.sequence);
    }
    out
}

async fn webhooks(c: &mut Clients) -> Vec<pb::Webhook> {
    c.admin
        .list_webhooks(pb::ListWebhooksRequest {})
        .await
        .expect("list")
        .into_inner()
        .webhooks
}

#[tokio::test]
async fn every_wanted_event_arrives_in_order_signed_through_failures_restarts_and_kill9() {
    let dir = temp();
    let log = Log::default();
    log.answer.store(500, Ordering::SeqCst);
    let receiver = Receiver::start("127.0.0.1:0".parse().expect("addr"), log.clone()).await;
    let port = receiver.addr;
    let kinds = [pb::EventKind::Created, pb::EventKind::Cancelled];
    let url = format!("http://{port}/hook");

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let hook = (c
        .admin
        .put_webhook(put("crm", &url, &kinds, Duration::from_secs(3600))))
    .await
    .expect("put")
    .into_inner();
    assert_eq!((hook.id.as_str(), hook.paused), ("crm", false));
    create_tickets(&mut c, 5).await;
    // First it fails: the first event is retried, nothing after it is sent.
    eventually("three failed attempts", || log.all().len() >= 3).await;
    assert!(log
        .all()
        .iter()
        .all(|d| d.sequence == log.all()[0].sequence));
    log.answer.store(200, Ordering::SeqCst);
    eventually("5 created delivered", || log.delivered().len() >= 5).await;

    // The receiver goes away; events keep coming; the daemon is killed -9 meanwhile.
    receiver.stop();
    create_tickets(&mut c, 5).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    drop(c);
    d.kill9();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let receiver = Receiver::start(port, log.clone()).await;
    create_tickets(&mut c, 5).await;
    let cancel = crate::common::cancel(1, pb::CancelReason::Abandoned);
    c.tickets.cancel_ticket(cancel).await.expect("cancel");

    let wanted = wanted_sequences(&mut c, &kinds).await;
    assert_eq!(wanted.len(), 16, "15 created and one cancelled");
    eventually("every wanted event delivered", || {
        log.delivered().len() >= wanted.len()
    })
    .await;
    assert_eq!(
        log.delivered(),
        wanted,
        "each wanted event, in order of first success"
    );
    for d in log.all() {
        assert_eq!(d.idempotency_key, d.sequence.to_string());
        assert_eq!(d.signature, expected_signature(&d), "signature of {d:?}");
    }
    let mut bodies: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for d in log.all() {
        let body = bodies.entry(d.sequence).or_insert_with(|| d.body.clone());
        assert_eq!(*body, d.body, "a repeat is the same event");
        let json: serde_json::Value = serde_json::from_slice(&d.body).expect("json body");
        assert_eq!(json["sequence"], d.sequence);
    }
    let listed = webhooks(&mut c).await;
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].paused, "{:?}", listed[0]);
    assert!(!d.logs().contains(SECRET), "the secret is never logged");
    receiver.stop();
}

#[tokio::test]
async fn a_receiver_that_never_answers_or_refuses_gets_its_webhook_paused_with_the_error() {
    let dir = temp();
    // Accepts connections and never answers.
    let hang = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hang_addr = hang.local_addr().expect("addr");
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = hang.accept().await {
            open.push(stream);
        }
    });
    // A port nobody listens on.
    let refused_addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let give_up = Duration::from_secs(2);
    for (id, addr) in [("hangs", hang_addr), ("refuses", refused_addr)] {
        let url = format!("http://{addr}/");
        let req = put(id, &url, &[], give_up);
        c.admin.put_webhook(req).await.expect("put");
    }
    create_tickets(&mut c, 1).await;
    let mut listed = Vec::new();
    for _ in 0..300 {
        listed = webhooks(&mut c).await;
        if listed.iter().all(|w| w.paused) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed.iter().all(|w| w.paused), "both paused: {listed:?}");
    let error = |id: &str| {
        let w = listed.iter().find(|w| w.id == id).expect("listed");
        w.last_error.clone()
    };
    assert!(error("hangs").contains("no response"), "{}", error("hangs"));
    assert!(!error("refuses").is_empty());
    let scrape = d.scrape().await;
    assert!(
        scrape.contains("triage_webhook_paused{webhook=\"hangs\"} 1"),
        "{scrape}"
    );
    // A put resumes it.
    let url = format!("http://{hang_addr}/");
    let resumed = c.admin.put_webhook(put("hangs", &url, &[], give_up)).await;
    let resumed = resumed.expect("put").into_inner();
    assert!(
        !resumed.paused && resumed.last_error.is_empty(),
        "{resumed:?}"
    );
    let paused = wanted_sequences(&mut c, &[pb::EventKind::WebhookPaused]).await;
    assert!(paused.len() >= 2, "a WEBHOOK_PAUSED event per webhook");
    held.abort();
}

#[tokio::test]
async fn delete_removes_a_webhook_and_a_second_delete_is_not_found() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let req = put("gone", "http://127.0.0.1:9/", &[], Duration::from_secs(60));
    c.admin.put_webhook(req).await.expect("put");
    let delete = || pb::DeleteWebhookRequest { id: "gone".into() };
    c.admin.delete_webhook(delete()).await.expect("delete");
    assert!(webhooks(&mut c).await.is_empty());
    let again = c.admin.delete_webhook(delete()).await.expect_err("gone");
    assert_eq!(again.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn a_config_webhook_is_put_at_boot_and_keeps_its_cursor_across_restarts() {
    let dir = temp();
    let config = r#"
[[webhooks]]
id = "from-config"
url = "http://127.0.0.1:9/hook"
kinds = ["created", "EVENT_KIND_RESOLVED"]
secret = "config-secret"
give_up_after = "1h"
"#;
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    let listed = webhooks(&mut c).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let w = &listed[0];
    assert_eq!(w.id, "from-config");
    let created = [
        pb::EventKind::Created as i32,
        pb::EventKind::Resolved as i32,
    ];
    assert_eq!(w.kinds, created);
    let cursor = w.cursor;
    // Nobody listens on port 9: the first created event is never delivered.
    create_tickets(&mut c, 3).await;
    let first_created = wanted_sequences(&mut c, &[pb::EventKind::Created]).await[0];
    drop(c);
    d.terminate().await;
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    let again = webhooks(&mut c).await;
    assert_eq!(again.len(), 1);
    let kept = again[0].cursor;
    assert!(
        (cursor..=first_created).contains(&kept),
        "a boot's put keeps the cursor ({kept}) before the undelivered event {first_created}"
    );
    let puts = wanted_sequences(&mut c, &[pb::EventKind::WebhookPut]).await;
    assert_eq!(
        puts.len(),
        1,
        "an unchanged definition is put once, not at every boot"
    );
}

#[tokio::test]
async fn a_webhook_whose_undelivered_events_were_pruned_is_paused_saying_so_not_skipped() {
    let dir = temp();
    // A closed port, and events kept one second: the age bound does not wait for webhooks.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let config = format!(
        "[events]\nretain_age = \"1s\"\n\n[[webhooks]]\nid = \"late\"\nurl = \"http://{closed}/\"\nsecret = \"{SECRET}\"\n"
    );
    let d = Daemon::start(dir.path(), Some(&config));
    let mut c = d.clients().await;
    create_tickets(&mut c, 3).await;
    // Past the age bound and a prune or two; then the daemon restarts and reads the log again
    // from the stored cursor.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    create_tickets(&mut c, 1).await;
    drop(c);
    d.terminate().await;
    let d = Daemon::start(dir.path(), Some(&config));
    let mut c = d.clients().await;
    let mut hook = pb::Webhook::default();
    for _ in 0..100 {
        hook = webhooks(&mut c).await.remove(0);
        if hook.paused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(hook.paused, "{hook:?}");
    assert!(hook.last_error.contains("pruned by retention"), "{hook:?}");
}
