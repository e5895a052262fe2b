//! A node of several sharing one PostgreSQL store while another leads: it serves at once, but
//! only to send clients away. Every call of `triage.v1` is UNAVAILABLE naming the leader
//! (`Refuser`), health says NOT_SERVING, `/metrics` says `triage_leader 0`. Meanwhile it
//! watches the lease (`follow`) and takes it as soon as the leader's lease lapses or the
//! leader's database session ends (a killed leader's ends at once), then recovers and leads.
//!
//! Warm followers: between two tries of the lease a follower brings its scheduler (restored
//! once from the records, see `store::postgres::mirror`) up to the leader's last commit
//! (`Candidate::keep_warm`, from the change log every commit writes), and the store it takes
//! over with hands that scheduler to the boot, after applying only the commits it had not
//! seen yet: no table read, no rebuild.

use crate::api::status::not_leader;
use crate::server::owner::wall_now;
use crate::store::{Contest, PgStore, Seed, StoreError};
use crate::telemetry;
use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::body::Body;
use tonic::codegen::{http, Service};
use tonic::server::NamedService;

/// How often a follower tries the lease and reads the change log. A try is one indexed
/// UPDATE that matches nothing while the leader lives; this poll bounds how late a takeover
/// starts after the leader's session ended, and how many commits a takeover has left to read.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// How long a follower waits after the database failed it before trying again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// The leader's advertised address as this follower last read it from the lease.
#[derive(Clone, Default)]
pub struct LeaderAddr(Arc<RwLock<String>>);

impl LeaderAddr {
    pub fn get(&self) -> String {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set(&self, leader: String) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = leader;
    }
}

/// Stands in for the service `S` on a follower: answers every call UNAVAILABLE with the
/// leader's address (see `api::status::not_leader`).
pub struct Refuser<S> {
    leader: LeaderAddr,
    service: PhantomData<fn() -> S>,
}

impl<S> Refuser<S> {
    pub fn new(leader: LeaderAddr) -> Refuser<S> {
        Refuser {
            leader,
            service: PhantomData,
        }
    }
}

impl<S> Clone for Refuser<S> {
    fn clone(&self) -> Self {
        Refuser::new(self.leader.clone())
    }
}

impl<S: NamedService> NamedService for Refuser<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for Refuser<S> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<Body>) -> Self::Future {
        std::future::ready(Ok(not_leader(&self.leader.get()).into_http()))
    }
}

/// Contends for the lease as `holder` until this node leads, keeping `leader` up to date
/// and a scheduler restored with `seed` in step with the leader's commits meanwhile; returns
/// the store it leads with (holding that scheduler). Database failures are logged and retried (a
/// follower outlives a database restart).
pub async fn follow(
    url: String,
    holder: String,
    ttl: Duration,
    leader: LeaderAddr,
    seed: Seed,
) -> anyhow::Result<PgStore> {
    let mut said = String::new();
    loop {
        let (url, holder, leader) = (url.clone(), holder.clone(), leader.clone());
        let seed = seed.clone();
        let contest = tokio::task::spawn_blocking(move || -> Result<PgStore, StoreError> {
            let mut contest = PgStore::contend(&url, &holder, ttl)?;
            loop {
                match contest {
                    Contest::Leader(store) => return Ok(*store),
                    Contest::Follower(mut candidate) => {
                        leader.set(candidate.leader()?);
                        let lag = candidate.keep_warm(&seed, wall_now())?;
                        telemetry::record_follower_lag(lag.commits, lag.seconds);
                        std::thread::sleep(POLL_EVERY);
                        contest = candidate.try_lead()?;
                    }
                }
            }
        });
        match contest.await? {
            Ok(store) => return Ok(store),
            Err(e) => {
                let text = e.to_string();
                if text != said {
                    tracing::warn!(error = %text, "following: the database failed; trying again");
                    said = text;
                }
                tokio::time::sleep(RETRY_AFTER_FAILURE).await;
            }
        }
    }
}
