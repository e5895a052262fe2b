//! The daemon's wiring around the engine: opens the store, recovers, starts the owner task,
//! serves gRPC (with health and reflection) and `/metrics`, and shuts down cleanly when told:
//! stop accepting, answer waiting pulls, finish and flush the batch in flight, return.
//!
//! `serve` is what `triage serve` runs: it binds the configured addresses and stops on SIGTERM
//! or Ctrl-C. `run` is the seam beneath it: it takes listeners already bound and any shutdown
//! future, so a test or a follower can drive a daemon without signals or fixed ports. Only one
//! daemon runs per process: `run` installs the process-wide Prometheus recorder.

use crate::api::{validate::Limits, AdminServer, AgentServer, Api, TicketServer};
use crate::auth::Authenticator;
use crate::board::{self, Board};
use crate::config::{Settings, TlsFiles};
use crate::core::command::Command;
use crate::core::policy::SlaPolicy;
use crate::core::Scheduler;
use crate::proto;
use crate::server::events::{EventFeed, EventLog};
use crate::server::handle::{Handle, ServiceError};
use crate::server::owner;
use crate::server::phase::Phase;
use crate::store::{SledStore, Store};
use crate::telemetry;
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::oneshot::{self, error::RecvError};
use tokio::sync::watch;
use tonic::server::NamedService;
use tonic::transport::server::Router;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use tonic_health::ServingStatus;

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

mod lead;
use lead::Lead;

/// The daemon's two sockets, bound before `run` so the caller picks the addresses (port 0
/// included) and knows them before the daemon starts.
pub struct Listeners {
    pub grpc: TcpListener,
    pub metrics: TcpListener,
}

impl Listeners {
    /// Binds the addresses the settings name. `serve` binds before it opens the store, so a
    /// busy port fails at once, not after a recovery of every record.
    pub async fn bind(settings: &Settings) -> anyhow::Result<Listeners> {
        let bind = |addr: SocketAddr, what: &'static str| async move {
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} ({what})"))
        };
        Ok(Listeners {
            grpc: bind(settings.grpc_addr, "gRPC, --grpc-addr").await?,
            metrics: bind(settings.metrics_addr, "metrics, --metrics-addr").await?,
        })
    }
}

/// Runs the daemon on the configured addresses until SIGTERM or Ctrl-C.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listeners = Listeners::bind(&settings).await?;
    let shutdown = shutdown_signal().context("cannot listen for SIGTERM and SIGINT")?;
    run(listeners, settings, shutdown).await
}

/// Runs the daemon on `listeners` until `shutdown` completes or the owner task stops. Prints
/// one line to stdout once serving: `triage ready grpc=ADDR metrics=ADDR`.
pub async fn run(
    listeners: Listeners,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Listeners { grpc, metrics } = listeners;
    let (grpc_addr, metrics_addr) = (grpc.local_addr()?, metrics.local_addr()?);
    // Checked before anything else: a follower misconfigured this way would otherwise only
    // fail when it takes over.
    let auth = authenticator(&settings, grpc_addr)?;
    let board = Board::default();
    let board_routes = board::Routes::new(board.clone(), auth.clone());
    let mut metrics = MetricsServer::new(metrics, &settings, board_routes)?;
    let health = HealthReporter::new();
    let health_service = HealthServer::new(HealthService::from_health_reporter(health.clone()));
    // Registered before a follower's first line too: SIGHUP never kills a node.
    let hangups = hangups()?;
    tokio::pin!(shutdown);
    let mut standby = None;
    let store = match &settings.store {
        None => open_sled(&settings)?,
        Some(url) => {
            // A follower serves /metrics from the start (`triage_leader 0`).
            metrics.start();
            let lead = Lead {
                url,
                settings: &settings,
                advertise: settings.advertise(grpc_addr),
                metrics_addr,
                grpc: &grpc,
                health: &health,
                health_service: health_service.clone(),
                board: &board,
            };
            let Some((store, follower)) = lead.run(shutdown.as_mut()).await? else {
                metrics.stop();
                return Ok(());
            };
            standby = follower;
            store
        }
    };
    let mut engine = Engine::start(store, &settings)?;
    let board_task = board.lead(engine.handle.clone(), &engine.feed);
    metrics.start();
    if let Some(follower) = standby.take() {
        follower.stop();
    }

    set_health(&health, ServingStatus::Serving).await;
    // A follower's overall NOT_SERVING ends here, once it can serve.
    health.set_service_status("", ServingStatus::Serving).await;
    let reload = tokio::spawn(reload_on_sighup(hangups, auth.clone()));
    let router = router(&settings, &engine, auth)?.add_service(health_service);

    say(&format!(
        "triage ready grpc={grpc_addr} metrics={metrics_addr}"
    ));
    tracing::info!(%grpc_addr, %metrics_addr, data_dir = %settings.data_dir.display(), "serving");

    let (stop_tx, mut stop_rx) = watch::channel(false);
    let stopped = async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    };
    let incoming = incoming(grpc);
    let server = tokio::spawn(router.serve_with_incoming_shutdown(incoming, stopped));

    let owner_failed = tokio::select! {
        _ = shutdown => None,
        result = &mut engine.owner => Some(result),
    };
    tracing::info!("shutting down: no new requests, answering waiting pulls, flushing");
    set_health(&health, ServingStatus::NotServing).await;
    let _ = engine.phase.send(Phase::Draining);
    let _ = stop_tx.send(true);
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(joined) => joined.context("gRPC server task")?.context("gRPC server")?,
        Err(_) => {
            tracing::warn!("clients kept connections open past the grace period; closing them")
        }
    }
    // Whatever reached the owner is applied and flushed before it returns.
    let _ = engine.phase.send(Phase::Stopping);
    let owner_result = match owner_failed {
        Some(result) => result,
        None => engine.owner.await,
    };
    metrics.stop();
    board_task.abort();
    reload.abort();
    outcome(owner_result)
}

/// `/metrics` (and `/healthz`): started once, before recovery for a node that may follow,
/// after it otherwise.
struct MetricsServer {
    listener: Option<TcpListener>,
    prometheus: metrics_exporter_prometheus::PrometheusHandle,
    board: board::Routes,
    data_dir: std::path::PathBuf,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MetricsServer {
    /// Installs the process-wide recorder; serves nothing yet.
    fn new(
        listener: TcpListener,
        settings: &Settings,
        board: board::Routes,
    ) -> anyhow::Result<MetricsServer> {
        Ok(MetricsServer {
            listener: Some(listener),
            prometheus: telemetry::install()?,
            board,
            data_dir: settings.data_dir.clone(),
            stop: watch::channel(false).0,
            task: None,
        })
    }

    /// Starts serving (again: nothing).
    fn start(&mut self) {
        if let Some(listener) = self.listener.take() {
            let serve = telemetry::serve(
                listener,
                self.prometheus.clone(),
                self.board.clone(),
                self.data_dir.clone(),
                self.stop.subscribe(),
            );
            self.task = Some(tokio::spawn(serve));
        }
    }

    fn stop(self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task {
            task.abort();
        }
    }
}

/// Prints one line to stdout. A follower says two (following, then ready), and whoever
/// started it may have stopped reading after the first: a closed stdout is no reason to fail.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// The daemon stopped because another node leads now: it was superseded (paused, cut off)
/// and stepped down. `triage serve` exits with `EXIT_CODE` so a supervisor restarts it (as a
/// follower); nothing was acknowledged after the takeover (every commit is fenced).
#[derive(Debug, thiserror::Error)]
#[error("stepped down: another node leads now ({0}); restart this node to follow it")]
pub struct SteppedDown(pub String);

impl SteppedDown {
    /// EX_TEMPFAIL: try again (restart), unlike a failure an operator must fix.
    pub const EXIT_CODE: i32 = 75;
}

/// The engine as the wiring holds it: the owner task, the way to it, the event feed, and the
/// phase it is told.
struct Engine {
    owner: oneshot::Receiver<Result<(), ServiceError>>,
    handle: Handle,
    feed: EventFeed,
    phase: watch::Sender<Phase>,
}

impl Engine {
    /// Recovers the scheduler from the store and starts the owner task.
    fn start(store: Arc<dyn Store>, settings: &Settings) -> anyhow::Result<Engine> {
        let scheduler = recover(&*store, settings)?;
        release_free_memory();

        let (phase, phase_rx) = watch::channel(Phase::Running);
        let feed = EventFeed::new(Arc::clone(&store), phase_rx.clone());
        let log = EventLog::open(feed.clone(), settings.events).context("opening the event log")?;
        let (owner, handle) = owner::owner(
            scheduler,
            store,
            settings.queue_capacity,
            settings.limits.max_long_polls,
            phase_rx,
            log,
            settings.keep_finished,
        );
        let owner = owner.gathering(Duration::from_millis(settings.commit_gather.0));
        // Deliveries run apart from the owner; only a leader gets here.
        crate::webhooks::start(handle.clone(), feed.clone());
        Ok(Engine {
            owner: owner::spawn(owner).context("starting the scheduler's thread")?,
            handle,
            feed,
            phase,
        })
    }
}

/// The sled store in the data dir (created if missing, locked against a second daemon, its
/// reserve kept).
fn open_sled(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = SledStore::open_with_cache(&settings.data_dir, settings.store_cache_bytes)
        .with_context(|| format!("opening data dir {}", settings.data_dir.display()))?;
    Ok(Arc::new(store))
}

/// How the daemon ends, from how its owner ended.
fn outcome(owner: Result<Result<(), ServiceError>, RecvError>) -> anyhow::Result<()> {
    match owner {
        Ok(Ok(())) => {
            tracing::info!("stopped cleanly");
            Ok(())
        }
        Ok(Err(e)) if e.superseded() => Err(SteppedDown(e.to_string()).into()),
        Ok(Err(e)) => Err(anyhow::anyhow!("scheduler stopped: {e}")),
        Err(_) => Err(anyhow::anyhow!(
            "the scheduler's thread ended without a result (it panicked: see the log above)"
        )),
    }
}

/// The gRPC services (reflection and the three of `triage.v1`, each behind `auth`) with the
/// settings' stream bound and TLS. Reflection is served in both versions: `v1`, and the older
/// `v1alpha` that grpcurl before 1.9 and many other tools still speak.
fn router(settings: &Settings, engine: &Engine, auth: Authenticator) -> anyhow::Result<Router> {
    let limits = Limits {
        max_pull_wait: Duration::from_millis(settings.max_pull_wait.0),
        max_message_bytes: settings.limits.max_message_bytes,
        max_streams: settings.limits.max_streams,
    };
    let api = Api::new(engine.handle.clone(), engine.feed.clone(), limits);
    Ok(builder(settings)?
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(api.ticket_service(auth.clone()))
        .add_service(api.agent_service(auth.clone()))
        .add_service(api.admin_service(auth)))
}

/// Server reflection of `triage.v1` and `grpc.health.v1`.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// The gRPC server with the settings' stream bound and TLS.
fn builder(settings: &Settings) -> anyhow::Result<tonic::transport::Server> {
    let mut builder = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .max_concurrent_streams(Some(settings.limits.max_streams_per_connection));
    if let Some(tls) = &settings.tls {
        builder = builder.tls_config(tls_config(tls)?)?;
    }
    Ok(builder)
}

/// The names `grpc.health.v1.Health` reports for, one per service of `triage.v1`.
const SERVICES: [&str; 3] = [TicketServer::NAME, AgentServer::NAME, AdminServer::NAME];

/// Reports every service of `triage.v1` as `status` (on shutdown all three stop serving, so a
/// balancer checking any one of them moves traffic away).
async fn set_health(health: &HealthReporter, status: ServingStatus) {
    for name in SERVICES {
        health.set_service_status(name, status).await;
    }
}

/// The token file's authenticator, or an open one where that is safe: without a token file
/// the daemon serves only loopback unless told `--insecure`.
fn authenticator(settings: &Settings, grpc_addr: SocketAddr) -> anyhow::Result<Authenticator> {
    if let Some(path) = &settings.auth_file {
        return Authenticator::from_file(path);
    }
    anyhow::ensure!(
        grpc_addr.ip().is_loopback() || settings.insecure,
        "refusing to serve {grpc_addr} without authentication: give --auth-file, bind a loopback \
         address, or pass --insecure to let anyone who can connect do anything"
    );
    tracing::warn!(%grpc_addr, "authentication is off (no --auth-file): every caller may do anything");
    Ok(Authenticator::open())
}

/// SIGHUP, listened for from now on: registered before the ready line, so a SIGHUP sent as
/// soon as the daemon says it is ready reloads instead of killing it.
fn hangups() -> anyhow::Result<Signal> {
    signal(SignalKind::hangup()).context("cannot listen for SIGHUP")
}

/// Re-reads the token file on every SIGHUP.
async fn reload_on_sighup(mut hangups: Signal, auth: Authenticator) {
    while hangups.recv().await.is_some() {
        auth.reload();
    }
}

/// The server's TLS settings from PEM files; with a client CA, clients must present a
/// certificate it issued (mutual TLS).
fn tls_config(files: &TlsFiles) -> anyhow::Result<ServerTlsConfig> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    };
    let identity = Identity::from_pem(read(&files.cert)?, read(&files.key)?);
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &files.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(config)
}

/// The accepted gRPC connections, with Nagle's algorithm off. (The builder's `tcp_nodelay` only
/// applies to listeners tonic binds itself; without this, small responses waited for the
/// peer's delayed ACK: a 40 ms stall on about one call in ten under load.)
fn incoming(listener: TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// The scheduler a warm follower kept, or else every record streamed into a rebuilt one;
/// puts the config file's policy in force and in the store.
fn recover(store: &dyn Store, settings: &Settings) -> anyhow::Result<Scheduler> {
    let started = Instant::now();
    let now = owner::wall_now();
    let (mut scheduler, stored) = match store.take_replica(now).context("catching up")? {
        Some(replica) => {
            let stored = replica.stored_policy().cloned();
            (replica.take_over(now), stored)
        }
        None => {
            let default_policy = settings.policy.clone().unwrap_or_default();
            let mut restore = Scheduler::restoring(default_policy, settings.core.clone(), now);
            store
                .recover_into(&mut restore)
                .context("reading the store")?;
            let stored = restore.stored_policy().cloned();
            (restore.finish(), stored)
        }
    };
    if let Some(policy) = config_policy_wins(settings.policy.as_ref(), stored.as_ref()) {
        // Put, and so persist with the first commit: a later boot without the file keeps it,
        // like a policy put over the API.
        scheduler.apply(Command::PutPolicy(Box::new(policy.clone())), now)?;
    }
    let start = store.last_event_seq().context("reading the event log")? + 1;
    for spec in &settings.webhooks {
        // Checked when the configuration was read.
        let put = spec
            .clone()
            .check(start, false)
            .map_err(|e| anyhow::anyhow!("webhooks {:?}: {}: {}", spec.id, e.field, e.reason))?;
        scheduler.apply(Command::PutWebhook(put), now)?;
    }
    let archived = owner::count_recent_archive(&mut scheduler, store, now)
        .context("reading the archive's recent tickets")?;
    tracing::info!(
        tickets = scheduler.ticket_count(),
        queued = scheduler.queued_count(),
        archived_in_window = archived,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "recovered"
    );
    Ok(scheduler)
}

/// Which policy is in force after boot, said in the log because it surprises people: a config
/// file's `[policy]` is put back at every start, over whatever `PutSlaPolicy` changed since.
/// Returns the config's policy when it must be put (it differs from the stored one).
fn config_policy_wins<'a>(
    config: Option<&'a SlaPolicy>,
    stored: Option<&SlaPolicy>,
) -> Option<&'a SlaPolicy> {
    match (config, stored) {
        (Some(c), Some(s)) if c == s => {
            tracing::info!("policy: the config file's [policy], the same as the stored one");
            None
        }
        (Some(c), Some(_)) => {
            tracing::warn!(
                "policy: the config file's [policy] replaces the stored one, so changes made \
                 with PutSlaPolicy since it was last put are undone; remove [policy] from the \
                 config file to keep the policy the API sets"
            );
            Some(c)
        }
        (Some(c), None) => {
            tracing::info!("policy: the config file's [policy] (nothing stored yet)");
            Some(c)
        }
        (None, Some(_)) => {
            tracing::info!("policy: the stored one (the config file has no [policy])");
            None
        }
        (None, None) => {
            tracing::info!("policy: the defaults (nothing stored, no [policy] in a config file)");
            None
        }
    }
}

/// A future that completes on SIGTERM or SIGINT. The handlers are registered here, before
/// the future is first polled: a signal sent right after the ready line stops the daemon
/// cleanly instead of killing it with the default action.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Hands the memory that recovery freed (the decoded records, about half a GiB for a million
/// tickets) back to the OS now; mimalloc would otherwise keep it mapped. The binary's global
/// allocator is mimalloc; where another allocator is in use this only trims mimalloc's own
/// (empty) heap.
pub fn release_free_memory() {
    extern "C" {
        /// mimalloc's `void mi_collect(bool force)`, in the C library the `mimalloc` crate links.
        fn mi_collect(force: bool);
    }
    // SAFETY: mi_collect takes no pointers and may be called from any thread at any time; it
    // only returns pages that hold no live allocation to the OS.
    unsafe { mi_collect(true) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_health::pb::health_check_response::ServingStatus as Reported;
    use tonic_health::pb::health_server::Health;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::server::HealthService;

    async fn status(health: &HealthReporter, service: &str) -> Reported {
        let request = tonic::Request::new(HealthCheckRequest {
            service: service.to_string(),
        });
        HealthService::from_health_reporter(health.clone())
            .check(request)
            .await
            .expect("registered")
            .into_inner()
            .status()
    }

    #[tokio::test]
    async fn shutdown_takes_every_service_out_of_serving() {
        let (health, _service) = tonic_health::server::health_reporter();
        set_health(&health, ServingStatus::Serving).await;
        for name in SERVICES {
            assert_eq!(status(&health, name).await, Reported::Serving, "{name}");
        }
        set_health(&health, ServingStatus::NotServing).await;
        let names = [
            "triage.v1.TicketService",
            "triage.v1.AgentService",
            "triage.v1.AdminService",
        ];
        for name in names {
            assert_eq!(status(&health, name).await, Reported::NotServing, "{name}");
        }
    }

    /// `run` as a test or a follower drives it: listeners bound by the caller, a future for
    /// shutdown. Health watchers of every service hear NOT_SERVING before the daemon returns.
    #[tokio::test]
    async fn run_serves_until_its_shutdown_future_and_reports_not_serving() {
        use tonic_health::pb::health_client::HealthClient;
        let dir = tempfile::tempdir().expect("tempdir");
        let loopback: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let over = crate::config::Overrides {
            grpc_addr: Some(loopback),
            metrics_addr: Some(loopback),
            data_dir: Some(dir.path().join("data")),
            ..Default::default()
        };
        let settings = Settings::resolve(Default::default(), over).expect("settings");
        let listeners = Listeners::bind(&settings).await.expect("bind");
        let addr = listeners.grpc.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let daemon = tokio::spawn(run(listeners, settings, async {
            let _ = stopped.await;
        }));

        let conn = crate::client::ClientArgs::default()
            .connect(&format!("http://{addr}"))
            .await
            .expect("connect");
        let mut watches = Vec::new();
        for name in SERVICES {
            let request = HealthCheckRequest {
                service: name.to_string(),
            };
            let mut stream = HealthClient::new(conn.clone())
                .watch(request)
                .await
                .expect("watch")
                .into_inner();
            let first = stream.message().await.expect("status").expect("one");
            assert_eq!(first.status(), Reported::Serving, "{name}");
            watches.push((name, stream));
        }
        stop.send(()).expect("daemon running");
        for (name, mut stream) in watches {
            let next = tokio::time::timeout(Duration::from_secs(10), stream.message())
                .await
                .unwrap_or_else(|_| panic!("{name}: no NOT_SERVING within 10 s"))
                .expect("status")
                .expect("one more");
            assert_eq!(next.status(), Reported::NotServing, "{name}");
        }
        daemon.await.expect("joined").expect("stopped cleanly");
    }
}
