//! How a node with a PostgreSQL store comes to lead: at once when the lease is free, else
//! as a follower (see `crate::follower`) serving refusals on a second handle of its gRPC
//! socket until it takes the lease over.

use super::{builder, incoming, reflection, say, set_health};
use crate::api::{AdminServer, AgentServer, TicketServer};
use crate::board::Board;
use crate::config::Settings;
use crate::follower::{self, LeaderAddr, Refuser};
use crate::store::{Contest, PgStore, Seed, Store};
use crate::telemetry;
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use tonic_health::ServingStatus;

/// What a node with a PostgreSQL store needs to become leader: lead at once if the lease is
/// free, else follow (see `follower`) until it can.
pub(super) struct Lead<'a> {
    pub(super) url: &'a str,
    pub(super) settings: &'a Settings,
    /// This node's name as lease holder.
    pub(super) advertise: String,
    pub(super) metrics_addr: SocketAddr,
    pub(super) grpc: &'a TcpListener,
    pub(super) health: &'a HealthReporter,
    pub(super) health_service: HealthServer<HealthService>,
    /// Says "follower" (and where the leader is) while this node follows.
    pub(super) board: &'a Board,
}

impl Lead<'_> {
    /// The store this node leads with, and the follower server to stop once the leader's
    /// serves (`None`: it led at once); `None` if told to shut down while following.
    pub(super) async fn run(
        self,
        shutdown: std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> anyhow::Result<Option<(Arc<dyn Store>, Option<Follower>)>> {
        let (url, holder) = (self.url.to_owned(), self.advertise.clone());
        let ttl = self.settings.lease_ttl;
        let contest = tokio::task::spawn_blocking(move || PgStore::contend(&url, &holder, ttl))
            .await?
            .with_context(|| {
                format!(
                    "opening the PostgreSQL store {}",
                    crate::config::redact(self.url)
                )
            })?;
        let candidate = match contest {
            Contest::Leader(store) => {
                telemetry::record_leader(true);
                return Ok(Some((Arc::new(*store), None)));
            }
            Contest::Follower(candidate) => candidate,
        };
        let leader = LeaderAddr::default();
        leader.set(candidate.leader()?);
        drop(candidate);
        telemetry::record_leader(false);
        set_health(self.health, ServingStatus::NotServing).await;
        // The whole server too: a follower serves nothing of its own.
        self.health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        self.board.follow(leader.clone());
        let follower = self.serve_follower(leader.clone())?;
        let (url, holder) = (self.url.to_owned(), self.advertise.clone());
        tokio::select! {
            store = follower::follow(url, holder, ttl, leader.clone(), self.seed()) => {
                let store = store?;
                // Until the leader's server takes over, refusals point here.
                leader.set(self.advertise.clone());
                telemetry::record_leader(true);
                telemetry::record_follower_lag(0, 0.0);
                telemetry::record_failover();
                tracing::info!("took the lead over: recovering, then serving");
                Ok(Some((Arc::new(store), Some(follower))))
            }
            _ = shutdown => {
                follower.stop();
                Ok(None)
            }
        }
    }

    /// What a follower's scheduler is restored with: what this node's boot would use.
    fn seed(&self) -> Seed {
        Seed {
            policy: self.settings.policy.clone().unwrap_or_default(),
            config: self.settings.core.clone(),
        }
    }

    /// Serves the follower's services (each call refused with the leader's address, health,
    /// reflection) on a second handle of the gRPC socket, so the leader's server can take the
    /// same socket over without closing it.
    fn serve_follower(&self, leader: LeaderAddr) -> anyhow::Result<Follower> {
        let std = self.grpc_clone()?;
        tracing::info!(leader = %leader.get(), advertise = %self.advertise, "another node leads: following (every call is answered UNAVAILABLE naming the leader)");
        say(&format!(
            "triage following grpc={} metrics={} leader={}",
            std.local_addr()?,
            self.metrics_addr,
            leader.get()
        ));
        let router = builder(self.settings)?
            .add_service(reflection().build_v1()?)
            .add_service(reflection().build_v1alpha()?)
            .add_service(Refuser::<TicketServer>::new(leader.clone()))
            .add_service(Refuser::<AgentServer>::new(leader.clone()))
            .add_service(Refuser::<AdminServer>::new(leader))
            .add_service(self.health_service.clone());
        let (stop, mut stopped) = watch::channel(false);
        let stopped = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let incoming = incoming(TcpListener::from_std(std)?);
        tokio::spawn(router.serve_with_incoming_shutdown(incoming, stopped));
        Ok(Follower { stop })
    }

    /// A second handle of the gRPC socket (the same socket: connections wait in its backlog
    /// whichever handle accepts them).
    fn grpc_clone(&self) -> anyhow::Result<std::net::TcpListener> {
        let fd = std::os::fd::AsFd::as_fd(self.grpc).try_clone_to_owned()?;
        let std = std::net::TcpListener::from(fd);
        std.set_nonblocking(true)?;
        Ok(std)
    }
}

/// The follower's server, serving until the leader's takes over the socket.
pub(super) struct Follower {
    stop: watch::Sender<bool>,
}

impl Follower {
    /// Stops accepting; connections open to it are told to go away (HTTP/2 GOAWAY) and their
    /// clients reconnect, to the leader's server now.
    pub(super) fn stop(self) {
        let _ = self.stop.send(true);
    }
}
