//! Authentication and roles over the network: a table of calls by token, refusals that change
//! nothing, the token file reloaded on SIGHUP, and the refusal to serve a non-loopback address
//! without a token file.

use crate::common::{self, agent, create, temp, Daemon};
use pb::{Channel, Tier};
use std::process::Command;
use std::time::Duration;
use tonic::{Code, Request};
use triage::proto as pb;

const ADMIN: &str = "adm-0123456789";
const INTEGRATOR: &str = "int-0123456789";
const ANA: &str = "ana-0123456789";
const BO: &str = "bo-0123456789";

pub(crate) fn entry(name: &str, token: &str, role: &str, agent: Option<&str>) -> String {
    let agent = agent.map_or(String::new(), |a| format!("agent_id = \"{a}\"\n"));
    format!(
        "[[token]]\nname = \"{name}\"\nsha256 = \"{}\"\nrole = \"{role}\"\n{agent}\n",
        triage::auth::hash_token(token)
    )
}

fn token_file() -> String {
    [
        entry("ops", ADMIN, "admin", None),
        entry("helpdesk", INTEGRATOR, "integrator", None),
        entry("ana-desk", ANA, "agent", Some("ana")),
        entry("bo-desk", BO, "agent", Some("bo")),
    ]
    .concat()
}

pub(crate) fn start(dir: &std::path::Path, tokens: &str) -> Daemon {
    let file = dir.join("tokens.toml");
    std::fs::write(&file, tokens).expect("write token file");
    let path = file.to_str().expect("utf-8 path").to_string();
    Daemon::start_with_env(dir, None, &[("TRIAGE_AUTH_FILE", &path)])
}

/// `msg` with `authorization: Bearer <token>` (or `raw` as the whole header).
pub(crate) fn with<T>(msg: T, auth: Option<&str>) -> Request<T> {
    let mut r = Request::new(msg);
    if let Some(value) = auth {
        r.metadata_mut()
            .insert("authorization", value.parse().expect("ascii"));
    }
    r
}

pub(crate) fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// Setup done with the admin token: two available agents and one queued ticket.
async fn setup(c: &mut common::Clients) -> u64 {
    for name in ["ana", "bo"] {
        let upsert = agent(name, &[], &[], &[("chat", 5)]);
        c.agents
            .upsert_agent(with(upsert, bearer(ADMIN).as_deref()))
            .await
            .expect("upsert");
        let presence = pb::SetPresenceRequest {
            agent_id: name.into(),
            presence: pb::Presence::Available as i32,
            ..Default::default()
        };
        c.agents
            .set_presence(with(presence, bearer(ADMIN).as_deref()))
            .await
            .expect("presence");
    }
    let t = create("a-1", Tier::Standard, Channel::Chat, &[]);
    c.tickets
        .create_ticket(with(t, bearer(INTEGRATOR).as_deref()))
        .await
        .expect("create")
        .into_inner()
        .ticket_id
}

async fn code_of<T>(result: Result<tonic::Response<T>, tonic::Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

async fn state(c: &mut common::Clients, ticket_id: u64) -> pb::TicketState {
    let get = pb::GetTicketRequest { ticket_id };
    c.tickets
        .get_ticket(with(get, bearer(ADMIN).as_deref()))
        .await
        .expect("get")
        .into_inner()
        .state()
}

async fn count_tickets(c: &mut common::Clients) -> usize {
    let list = pb::ListTicketsRequest {
        page_size: 1000,
        ..Default::default()
    };
    c.tickets
        .list_tickets(with(list, bearer(ADMIN).as_deref()))
        .await
        .expect("list")
        .into_inner()
        .tickets
        .len()
}

#[tokio::test]
async fn each_role_may_do_its_own_calls_and_nothing_else() {
    let dir = temp();
    let d = start(dir.path(), &token_file());
    let mut c = d.clients().await;
    let ticket_id = setup(&mut c).await;
    let no_token: Option<String> = None;
    let creates: Vec<(Option<String>, Code)> = vec![
        (no_token.clone(), Code::Unauthenticated),
        (bearer("not-a-token"), Code::Unauthenticated),
        (Some(format!("Basic {INTEGRATOR}")), Code::Unauthenticated),
        (Some("Bearer".into()), Code::Unauthenticated),
        (bearer(ANA), Code::PermissionDenied),
        (bearer(INTEGRATOR), Code::Ok),
        (bearer(ADMIN), Code::Ok),
    ];
    for (i, (auth, want)) in creates.iter().enumerate() {
        let t = create(&format!("c-{i}"), Tier::Standard, Channel::Email, &[]);
        let got = code_of(c.tickets.create_ticket(with(t, auth.as_deref())).await).await;
        assert_eq!(got, *want, "CreateTicket with {auth:?}");
    }
    assert_eq!(
        count_tickets(&mut c).await,
        3,
        "refused creates changed nothing"
    );

    // Explaining a ticket: the integrator and admin roles, not an agent (it tells about
    // other agents' presence and load).
    let explain = pb::ExplainTicketRequest { ticket_id };
    for (auth, want) in [
        (no_token.clone(), Code::Unauthenticated),
        (bearer(ANA), Code::PermissionDenied),
        (bearer(INTEGRATOR), Code::Ok),
        (bearer(ADMIN), Code::Ok),
    ] {
        let got = c.tickets.explain_ticket(with(explain, auth.as_deref()));
        assert_eq!(
            code_of(got.await).await,
            want,
            "ExplainTicket with {auth:?}"
        );
    }

    let admin_calls: Vec<(Option<String>, Code)> = vec![
        (bearer(INTEGRATOR), Code::PermissionDenied),
        (bearer(ANA), Code::PermissionDenied),
        (no_token.clone(), Code::Unauthenticated),
        (bearer(ADMIN), Code::Ok),
    ];
    let current = c
        .admin
        .get_sla_policy(with(pb::GetSlaPolicyRequest {}, bearer(ADMIN).as_deref()))
        .await
        .expect("policy")
        .into_inner();
    for (auth, want) in &admin_calls {
        let a = auth.as_deref();
        let stats = c
            .admin
            .get_queue_stats(with(pb::GetQueueStatsRequest {}, a));
        assert_eq!(code_of(stats.await).await, *want, "GetQueueStats {auth:?}");
        let policy = c.admin.get_sla_policy(with(pb::GetSlaPolicyRequest {}, a));
        assert_eq!(code_of(policy.await).await, *want, "GetSlaPolicy {auth:?}");
        let put = pb::PutSlaPolicyRequest {
            policy: Some(current.clone()),
            ..Default::default()
        };
        let put = c.admin.put_sla_policy(with(put, a));
        assert_eq!(code_of(put.await).await, *want, "PutSlaPolicy {auth:?}");
        // Webhooks: admin only (a put then a delete of the same one, so each call succeeds
        // when allowed).
        let hook = pb::PutWebhookRequest {
            id: "auth-matrix".into(),
            url: "http://127.0.0.1:9/".into(),
            secret: "s".into(),
            ..Default::default()
        };
        let put = c.admin.put_webhook(with(hook, a));
        assert_eq!(code_of(put.await).await, *want, "PutWebhook {auth:?}");
        let list = c.admin.list_webhooks(with(pb::ListWebhooksRequest {}, a));
        assert_eq!(code_of(list.await).await, *want, "ListWebhooks {auth:?}");
        let delete = pb::DeleteWebhookRequest {
            id: "auth-matrix".into(),
        };
        let delete = c.admin.delete_webhook(with(delete, a));
        assert_eq!(code_of(delete.await).await, *want, "DeleteWebhook {auth:?}");
    }

    // The event stream: the integrator reads it too (webhook-like consumers), not an agent.
    for (auth, want) in [
        (bearer(INTEGRATOR), Code::Ok),
        (bearer(ANA), Code::PermissionDenied),
        (no_token.clone(), Code::Unauthenticated),
        (bearer(ADMIN), Code::Ok),
    ] {
        let watch = pb::WatchEventsRequest::default();
        let watch = c.admin.watch_events(with(watch, auth.as_deref()));
        assert_eq!(code_of(watch.await).await, want, "WatchEvents {auth:?}");
    }

    // Pulls as ana: only ana's token (or the admin's).
    let pull = || common::pull_request("ana", None);
    for auth in [bearer(BO), bearer(INTEGRATOR), no_token.clone()] {
        let got = code_of(
            c.agents
                .pull_next_ticket(with(pull(), auth.as_deref()))
                .await,
        )
        .await;
        assert_ne!(got, Code::Ok, "pull as ana with {auth:?}");
    }
    assert_eq!(
        state(&mut c, ticket_id).await,
        pb::TicketState::Queued,
        "refused pulls leased nothing"
    );
    let a = c
        .agents
        .pull_next_ticket(with(pull(), bearer(ANA).as_deref()))
        .await
        .expect("ana pulls")
        .into_inner()
        .assignment
        .expect("an assignment");
    let epoch = a.lease_epoch;
    let id = a.ticket.expect("ticket").ticket_id;

    // An agent's reply only as that agent; a customer's only from the integration.
    let agent_reply = common::agent_reply(id, "ana", epoch);
    for (auth, want) in [
        (bearer(BO), Code::PermissionDenied),
        (bearer(INTEGRATOR), Code::PermissionDenied),
        (bearer(ANA), Code::Ok),
    ] {
        let got = c
            .tickets
            .record_reply(with(agent_reply.clone(), auth.as_deref()));
        assert_eq!(code_of(got.await).await, want, "agent reply with {auth:?}");
    }
    let customer = pb::RecordReplyRequest {
        ticket_id: id,
        author: pb::Author::Customer as i32,
        ..Default::default()
    };
    for (auth, want) in [
        (bearer(ANA), Code::PermissionDenied),
        (bearer(INTEGRATOR), Code::Ok),
    ] {
        let got = c
            .tickets
            .record_reply(with(customer.clone(), auth.as_deref()));
        assert_eq!(
            code_of(got.await).await,
            want,
            "customer reply with {auth:?}"
        );
    }

    // A reply recorded on an agent's behalf (no lease) comes from the integration: no agent
    // may record one, not even as itself. It leaves ana's lease as it was (resolved below).
    let on_behalf = pb::RecordReplyRequest {
        on_behalf: true,
        ..common::agent_reply(id, "bo", 0)
    };
    for (auth, want) in [
        (bearer(ANA), Code::PermissionDenied),
        (bearer(BO), Code::PermissionDenied),
        (no_token.clone(), Code::Unauthenticated),
        (bearer(INTEGRATOR), Code::Ok),
        (bearer(ADMIN), Code::Ok),
    ] {
        let got = c
            .tickets
            .record_reply(with(on_behalf.clone(), auth.as_deref()));
        let got = code_of(got.await).await;
        assert_eq!(got, want, "reply on behalf with {auth:?}");
    }

    // Resolving under ana's lease: ana only.
    let resolve = common::resolve(id, "ana", epoch);
    for (auth, want) in [
        (bearer(INTEGRATOR), Code::PermissionDenied),
        (bearer(BO), Code::PermissionDenied),
        (bearer(ANA), Code::Ok),
    ] {
        let got = c
            .tickets
            .resolve_ticket(with(resolve.clone(), auth.as_deref()));
        assert_eq!(code_of(got.await).await, want, "resolve with {auth:?}");
    }

    // Presence and heartbeats: the agent itself.
    let presence = pb::SetPresenceRequest {
        agent_id: "bo".into(),
        presence: pb::Presence::Away as i32,
        ..Default::default()
    };
    let got = c
        .agents
        .set_presence(with(presence.clone(), bearer(ANA).as_deref()));
    assert_eq!(code_of(got.await).await, Code::PermissionDenied);
    let got = c.agents.set_presence(with(presence, bearer(BO).as_deref()));
    assert_eq!(code_of(got.await).await, Code::Ok);
    let hb = pb::HeartbeatRequest {
        agent_id: "ana".into(),
    };
    let got = c.agents.heartbeat(with(hb, bearer(BO).as_deref()));
    assert_eq!(code_of(got.await).await, Code::PermissionDenied);

    // An agent's stats and ending its wrap-up: the agent itself, or the admin. Ana has no
    // slot in wrap-up (no wrap-up time in this policy): past the roles, FAILED_PRECONDITION.
    let stats = pb::GetAgentStatsRequest {
        agent_id: "ana".into(),
        window: None,
    };
    let end = pb::EndWrapUpRequest {
        agent_id: "ana".into(),
        ..Default::default()
    };
    for (auth, want_stats, want_end) in [
        (
            no_token.clone(),
            Code::Unauthenticated,
            Code::Unauthenticated,
        ),
        (bearer(BO), Code::PermissionDenied, Code::PermissionDenied),
        (
            bearer(INTEGRATOR),
            Code::PermissionDenied,
            Code::PermissionDenied,
        ),
        (bearer(ANA), Code::Ok, Code::FailedPrecondition),
        (bearer(ADMIN), Code::Ok, Code::FailedPrecondition),
    ] {
        let got = c
            .agents
            .get_agent_stats(with(stats.clone(), auth.as_deref()));
        assert_eq!(
            code_of(got.await).await,
            want_stats,
            "GetAgentStats {auth:?}"
        );
        let got = c.agents.end_wrap_up(with(end.clone(), auth.as_deref()));
        assert_eq!(code_of(got.await).await, want_end, "EndWrapUp {auth:?}");
    }

    // Agent profiles belong to the integration.
    let upsert = agent("cy", &[], &[], &[("chat", 1)]);
    let got = c
        .agents
        .upsert_agent(with(upsert.clone(), bearer(ANA).as_deref()));
    assert_eq!(code_of(got.await).await, Code::PermissionDenied);
    let got = c
        .agents
        .upsert_agent(with(upsert, bearer(INTEGRATOR).as_deref()));
    assert_eq!(code_of(got.await).await, Code::Ok);

    // A supervisor's moves belong to the integration and the admin; no agent may assign or
    // transfer, not even to itself.
    let t = create("a-move", Tier::Standard, Channel::Chat, &[]);
    let moved = c
        .tickets
        .create_ticket(with(t, bearer(INTEGRATOR).as_deref()))
        .await
        .expect("create")
        .into_inner()
        .ticket_id;
    let assign = pb::AssignTicketRequest {
        ticket_id: moved,
        agent_id: "bo".into(),
        force: true,
        ..Default::default()
    };
    for (auth, want) in [
        (bearer(BO), Code::PermissionDenied),
        (bearer(ANA), Code::PermissionDenied),
        (no_token.clone(), Code::Unauthenticated),
        (bearer(INTEGRATOR), Code::Ok),
    ] {
        let got = c
            .tickets
            .assign_ticket(with(assign.clone(), auth.as_deref()));
        assert_eq!(code_of(got.await).await, want, "AssignTicket with {auth:?}");
    }
    let transfer = pb::TransferTicketRequest {
        ticket_id: moved,
        to: Some(pb::transfer_ticket_request::To::AgentId("ana".into())),
        force: true,
        ..Default::default()
    };
    for (auth, want) in [
        (bearer(ANA), Code::PermissionDenied),
        (bearer(BO), Code::PermissionDenied),
        (bearer(ADMIN), Code::Ok),
    ] {
        let got = c
            .tickets
            .transfer_ticket(with(transfer.clone(), auth.as_deref()));
        assert_eq!(
            code_of(got.await).await,
            want,
            "TransferTicket with {auth:?}"
        );
    }
}

#[tokio::test]
async fn a_work_session_is_only_for_its_own_agent() {
    use tokio_stream::StreamExt;
    let dir = temp();
    let d = start(dir.path(), &token_file());
    let mut c = d.clients().await;
    let ticket_id = setup(&mut c).await;
    let start = |agent: &str| pb::WorkRequest {
        tag: 0,
        kind: Some(pb::work_request::Kind::Start(pb::WorkStart {
            agent_id: agent.into(),
            ready: 1,
        })),
    };
    let outbound = tokio_stream::iter(vec![start("ana")]).chain(tokio_stream::pending());
    let mut stream = c
        .agents
        .work(with(outbound, bearer(BO).as_deref()))
        .await
        .expect("stream opens")
        .into_inner();
    let status = stream.message().await.expect_err("refused");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(state(&mut c, ticket_id).await, pb::TicketState::Queued);

    let outbound = tokio_stream::iter(vec![start("ana")]).chain(tokio_stream::pending());
    let mut stream = c
        .agents
        .work(with(outbound, bearer(ANA).as_deref()))
        .await
        .expect("stream opens")
        .into_inner();
    let pushed = stream.message().await.expect("ok").expect("a message");
    assert!(matches!(
        pushed.kind,
        Some(pb::work_response::Kind::Assignment(_))
    ));

    let outbound = tokio_stream::iter(vec![start("ana")]);
    let refused = c.agents.work(with(outbound, None)).await;
    assert_eq!(code_of(refused).await, Code::Unauthenticated);
}

#[tokio::test]
async fn a_backdated_create_is_for_the_integrator_and_admin_roles_and_its_refusal_names_the_field()
{
    let dir = temp();
    let d = start(dir.path(), &token_file());
    let mut c = d.clients().await;
    let hour_ago = prost_types::Timestamp {
        seconds: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs() as i64
            - 3600,
        nanos: 0,
    };
    let import = |id: &str| pb::CreateTicketRequest {
        created_at: Some(hour_ago),
        ..create(id, Tier::Standard, Channel::Email, &[])
    };
    let refused = c
        .tickets
        .create_ticket(with(import("agent-import"), bearer(ANA).as_deref()))
        .await
        .expect_err("an agent may not create");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let says = refused.message();
    assert!(
        says.contains("created_at") && says.contains("integrator or admin role"),
        "{says}"
    );
    let batch = pb::CreateTicketsRequest {
        tickets: vec![
            create("plain", Tier::Standard, Channel::Email, &[]),
            import("batch-import"),
        ],
    };
    let refused = c
        .tickets
        .create_tickets(with(batch, bearer(ANA).as_deref()))
        .await
        .expect_err("an agent may not create");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("tickets[1].created_at"),
        "{}",
        refused.message()
    );
    assert_eq!(count_tickets(&mut c).await, 0, "refusals created nothing");
    for (id, token) in [("by-integrator", INTEGRATOR), ("by-admin", ADMIN)] {
        let t = c
            .tickets
            .create_ticket(with(import(id), bearer(token).as_deref()))
            .await
            .unwrap_or_else(|e| panic!("{id}: {e:?}"))
            .into_inner();
        assert_eq!(t.created_at, Some(hour_ago), "{id}");
    }
}

#[tokio::test]
async fn health_stays_open() {
    let dir = temp();
    let d = start(dir.path(), &token_file());
    let c = d.clients().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(c.channel.clone());
    let req = tonic_health::pb::HealthCheckRequest {
        service: String::new(),
    };
    let status = health.check(req).await.expect("health without a token");
    assert_eq!(status.into_inner().status, 1, "SERVING");
}

#[tokio::test]
async fn sighup_reloads_the_token_file_and_a_bad_file_changes_nothing() {
    let dir = temp();
    let d = start(dir.path(), &entry("ops", ADMIN, "admin", None));
    let mut c = d.clients().await;
    let stats = |token: &str| with(pb::GetQueueStatsRequest {}, bearer(token).as_deref());
    let got = c.admin.get_queue_stats(stats("new-admin-token")).await;
    assert_eq!(code_of(got).await, Code::Unauthenticated);

    let file = dir.path().join("tokens.toml");
    let both =
        entry("ops", ADMIN, "admin", None) + &entry("ops2", "new-admin-token", "admin", None);
    std::fs::write(&file, both).expect("rewrite");
    d.signal("HUP");
    let mut accepted = false;
    for _ in 0..200 {
        if c.admin
            .get_queue_stats(stats("new-admin-token"))
            .await
            .is_ok()
        {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(accepted, "the new token works after SIGHUP");

    std::fs::write(&file, "[[token]]\nname = \"broken\"\n").expect("break the file");
    d.signal("HUP");
    for _ in 0..200 {
        if d.logs().contains("token file not reloaded") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(d.logs().contains("token file not reloaded"), "{}", d.logs());
    let got = c.admin.get_queue_stats(stats("new-admin-token")).await;
    assert_eq!(code_of(got).await, Code::Ok, "the tokens in force stay");
    assert!(
        !d.logs().contains("new-admin-token"),
        "tokens never reach the log"
    );
}

#[test]
fn a_bad_token_file_stops_the_daemon_at_boot() {
    let dir = temp();
    let file = dir.path().join("tokens.toml");
    let cases = [
        (
            "[[token]]\nname = \"x\"\nsha256 = \"zz\"\nrole = \"admin\"\n".to_string(),
            "sha256",
        ),
        (entry("x", "t", "agent", None), "agent_id is required"),
        (
            entry("x", "t", "admin", Some("ana")),
            "only for the agent role",
        ),
        (
            entry("x", "t", "admin", None) + &entry("y", "t", "integrator", None),
            "same hash",
        ),
        (
            "[[token]]\nname = \"x\"\nsha256 = \"00\"\nrole = \"root\"\n".to_string(),
            "root",
        ),
    ];
    for (text, mentions) in cases {
        std::fs::write(&file, &text).expect("write");
        let path = file.to_str().expect("utf-8");
        let (ready, stderr) = serve(
            dir.path(),
            &["--grpc-addr=127.0.0.1:0", "--auth-file", path],
        );
        assert!(!ready, "started with {text}");
        assert!(stderr.contains(mentions), "{mentions}: {stderr}");
    }
}

#[test]
fn no_token_file_means_loopback_only_unless_insecure() {
    let dir = temp();
    let (ready, stderr) = serve(dir.path(), &["--grpc-addr=0.0.0.0:0"]);
    assert!(!ready);
    assert!(stderr.contains("--insecure"), "{stderr}");

    let (ready, stderr) = serve(dir.path(), &["--grpc-addr=0.0.0.0:0", "--insecure"]);
    assert!(ready, "{stderr}");
    assert!(stderr.contains("authentication is off"), "{stderr}");
}

/// Runs `triage serve` with `args`: whether it said ready (then it is stopped), and what it
/// logged.
fn serve(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("serve")
        .arg("--metrics-addr=127.0.0.1:0")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .env_remove("TRIAGE_AUTH_FILE")
        .env_remove("TRIAGE_INSECURE")
        .env("TRIAGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run triage serve");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read");
    let ready = line.starts_with("triage ready");
    if ready {
        common::send_signal(child.id(), "TERM");
    }
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let _ = child.wait();
    (ready, stderr)
}

/// AcceptTicket and RejectTicket are agent calls: only the offered agent's token (or the
/// admin's, acting as any agent) may answer an offer; a refused answer leaves the offer open.
#[tokio::test]
async fn only_the_offered_agent_or_an_admin_answers_an_offer() {
    let dir = temp();
    let d = start(dir.path(), &token_file());
    let mut c = d.clients().await;
    let ticket_id = setup(&mut c).await;
    let offers = pb::SlaPolicy {
        offer_timeouts: vec![pb::ChannelOfferTimeout {
            channel: Channel::Chat as i32,
            timeout: Some(Duration::from_secs(600).try_into().expect("a duration")),
        }],
        ..Default::default()
    };
    let put = c
        .admin
        .put_sla_policy(with(common::merge_policy(offers), bearer(ADMIN).as_deref()));
    assert_eq!(code_of(put.await).await, Code::Ok);
    let epoch = offered(&mut c, ANA, "ana").await;
    let accept = pb::AcceptTicketRequest {
        ticket_id,
        agent_id: "ana".into(),
        lease_epoch: epoch,
        ..Default::default()
    };
    let reject = pb::RejectTicketRequest {
        ticket_id,
        agent_id: "ana".into(),
        lease_epoch: epoch,
        ..Default::default()
    };
    let refused = [
        (bearer(BO), Code::PermissionDenied),
        (bearer(INTEGRATOR), Code::PermissionDenied),
        (None, Code::Unauthenticated),
    ];
    for (auth, want) in refused {
        let got = c
            .agents
            .accept_ticket(with(accept.clone(), auth.as_deref()));
        assert_eq!(code_of(got.await).await, want, "AcceptTicket with {auth:?}");
        let got = c
            .agents
            .reject_ticket(with(reject.clone(), auth.as_deref()));
        assert_eq!(code_of(got.await).await, want, "RejectTicket with {auth:?}");
    }
    assert_eq!(
        state(&mut c, ticket_id).await,
        pb::TicketState::Assigned,
        "still offered to ana"
    );
    let got = c
        .agents
        .reject_ticket(with(reject, bearer(ADMIN).as_deref()));
    assert_eq!(code_of(got.await).await, Code::Ok, "the admin acts as ana");
    let epoch = offered(&mut c, BO, "bo").await;
    let accept = pb::AcceptTicketRequest {
        agent_id: "bo".into(),
        lease_epoch: epoch,
        ..accept
    };
    let got = c.agents.accept_ticket(with(accept, bearer(BO).as_deref()));
    assert_eq!(code_of(got.await).await, Code::Ok, "bo accepts as bo");
}

/// The lease epoch of the offer `agent`'s pull (with `token`) gets.
async fn offered(c: &mut common::Clients, token: &str, agent: &str) -> u64 {
    let req = with(common::pull_request(agent, None), bearer(token).as_deref());
    let a = c
        .agents
        .pull_next_ticket(req)
        .await
        .expect("pull")
        .into_inner();
    a.assignment.expect("an offer").lease_epoch
}
