//! The daemon: opens the store, recovers, starts the owner task, serves gRPC (with health and
//! reflection) and `/metrics`, and shuts down cleanly on SIGTERM or Ctrl-C: stop accepting,
//! answer waiting pulls, finish and flush the batch in flight, exit 0.

pub mod events;
pub mod handle;
pub mod owner;
pub mod phase;
#[cfg(test)]
mod tests;
mod waiters;

use phase::Phase;

use crate::api::{validate::Limits, Api};
use crate::auth::Authenticator;
use crate::config::{Settings, TlsFiles};
use crate::core::command::Command;
use crate::core::Scheduler;
use crate::proto;
use crate::store::{SledStore, Store};
use crate::telemetry;
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the daemon until a shutdown signal. Prints one line to stdout once both listeners are
/// bound: `triage ready grpc=ADDR metrics=ADDR` (port 0 in the settings picks a free port).
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let prometheus = telemetry::install()?;
    let store = SledStore::open_with_cache(&settings.data_dir, settings.store_cache_bytes)
        .with_context(|| format!("opening data dir {}", settings.data_dir.display()))?;
    let scheduler = recover(&store, &settings)?;
    release_free_memory();

    let grpc = TcpListener::bind(settings.grpc_addr)
        .await
        .with_context(|| format!("binding {}", settings.grpc_addr))?;
    let metrics = TcpListener::bind(settings.metrics_addr)
        .await
        .with_context(|| format!("binding {}", settings.metrics_addr))?;
    let (grpc_addr, metrics_addr) = (grpc.local_addr()?, metrics.local_addr()?);

    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let store: Arc<dyn Store> = Arc::new(store);
    let feed = events::EventFeed::new(Arc::clone(&store), phase_rx.clone());
    let log =
        events::EventLog::open(feed.clone(), settings.events).context("opening the event log")?;
    let (owner, handle) = owner::owner(
        scheduler,
        store,
        settings.queue_capacity,
        settings.limits.max_long_polls,
        phase_rx,
        log,
    );
    let mut owner_task = tokio::spawn(owner.run());
    let (metrics_stop, metrics_stopped) = watch::channel(false);
    let metrics_task = tokio::spawn(telemetry::serve(metrics, prometheus, metrics_stopped));

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<proto::ticket_service_server::TicketServiceServer<Api>>()
        .await;
    health
        .set_serving::<proto::agent_service_server::AgentServiceServer<Api>>()
        .await;
    health
        .set_serving::<proto::admin_service_server::AdminServiceServer<Api>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;

    let limits = Limits {
        max_pull_wait: Duration::from_millis(settings.max_pull_wait.0),
        max_message_bytes: settings.limits.max_message_bytes,
        max_streams: settings.limits.max_streams,
    };
    let api = Api::new(handle, feed, limits);
    let auth = authenticator(&settings, grpc_addr)?;
    let reload = tokio::spawn(reload_on_sighup(auth.clone()));
    let mut builder = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .max_concurrent_streams(Some(settings.limits.max_streams_per_connection));
    if let Some(tls) = &settings.tls {
        builder = builder.tls_config(tls_config(tls)?)?;
    }
    let router = builder
        .add_service(health_service)
        .add_service(reflection)
        .add_service(api.ticket_service(auth.clone()))
        .add_service(api.agent_service(auth.clone()))
        .add_service(api.admin_service(auth));
    drop(api);

    println!("triage ready grpc={grpc_addr} metrics={metrics_addr}");
    tracing::info!(%grpc_addr, %metrics_addr, data_dir = %settings.data_dir.display(), "serving");

    let (stop_tx, stop_rx) = watch::channel(false);
    let shutdown = {
        let mut stop_rx = stop_rx.clone();
        async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
        }
    };
    let server = tokio::spawn(router.serve_with_incoming_shutdown(incoming(grpc), shutdown));

    let owner_failed = tokio::select! {
        _ = shutdown_signal() => None,
        result = &mut owner_task => Some(result),
    };
    tracing::info!("shutting down: no new requests, answering waiting pulls, flushing");
    health
        .set_not_serving::<proto::ticket_service_server::TicketServiceServer<Api>>()
        .await;
    let _ = phase_tx.send(Phase::Draining);
    let _ = stop_tx.send(true);
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(joined) => joined.context("gRPC server task")?.context("gRPC server")?,
        Err(_) => {
            tracing::warn!("clients kept connections open past the grace period; closing them")
        }
    }
    // Whatever reached the owner is applied and flushed before it returns.
    let _ = phase_tx.send(Phase::Stopping);
    let owner_result = match owner_failed {
        Some(result) => result,
        None => owner_task.await,
    };
    let _ = metrics_stop.send(true);
    metrics_task.abort();
    reload.abort();
    match owner_result {
        Ok(Ok(())) => {
            tracing::info!("stopped cleanly");
            Ok(())
        }
        Ok(Err(e)) => Err(anyhow::anyhow!("scheduler stopped: {e}")),
        Err(e) => Err(anyhow::anyhow!("scheduler task failed: {e}")),
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

/// Re-reads the token file on every SIGHUP.
async fn reload_on_sighup(auth: Authenticator) {
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; the token file will not be reloaded");
        return;
    };
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

/// Reads every record and rebuilds the scheduler; puts the config file's policy in force and
/// in the store.
fn recover(store: &SledStore, settings: &Settings) -> anyhow::Result<Scheduler> {
    let started = Instant::now();
    let records = store.load_all().context("reading the store")?;
    let now = owner::wall_now();
    let stored = records.policy.clone();
    let default_policy = settings.policy.clone().unwrap_or_default();
    let mut scheduler = Scheduler::restore(default_policy, settings.core.clone(), records, now)?;
    if let Some(policy) = &settings.policy {
        // Put (and so persist, with the first commit) unless the store holds it already: a
        // later boot without the file keeps it, like a policy put over the API.
        if stored.as_ref() != Some(policy) {
            tracing::info!("putting the config file's policy in force");
            scheduler.apply(Command::PutPolicy(Box::new(policy.clone())), now)?;
        }
    }
    tracing::info!(
        tickets = scheduler.ticket_count(),
        queued = scheduler.queued_count(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "recovered"
    );
    Ok(scheduler)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
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
