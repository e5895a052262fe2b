//! Connections and the runtime that drives them. The `Store` trait is synchronous and the
//! owner calls it from inside its own current-thread tokio runtime, where `block_on` of a
//! tokio runtime panics. So the store has a runtime of its own, on its own thread, that runs
//! each connection's I/O task; the caller waits on client futures with
//! `futures::executor::block_on`, which only parks the calling thread (client futures talk to
//! their connection task over channels and need no tokio context).

use super::super::StoreError;
use std::future::Future;
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

/// The store's runtime. Dropped with `shutdown_background`, which, unlike a plain drop, may
/// happen on any thread (the store may be dropped inside the owner's runtime).
pub struct Driver {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Driver {
    pub fn new() -> Result<Driver, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("triage-pg")
            .enable_all()
            .build()
            .map_err(StoreError::Runtime)?;
        Ok(Driver {
            runtime: Some(runtime),
        })
    }

    /// Runs `future` on the store's runtime and waits for it from any thread, inside a tokio
    /// runtime or not.
    pub fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let joined = futures::executor::block_on(runtime.spawn(future));
        joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// A new connection to `url`, its I/O task running on the store's runtime.
    pub fn connect(&self, url: &str) -> Result<Client, StoreError> {
        let url = url.to_owned();
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let handle = runtime.handle().clone();
        self.run(async move {
            let mut config: Config = url.parse()?;
            with_time_limits(&mut config);
            let (client, connection) = config.connect(NoTls).await?;
            handle.spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "a PostgreSQL connection ended");
                }
            });
            Ok(client)
        })
    }
}

/// How long a connection attempt may take, unless the URL says (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long data sent may stay unacknowledged before the connection is given up, unless the
/// URL says (`tcp_user_timeout`). Without it a commit sent into a network partition waits for
/// the kernel's retransmissions, about a quarter of an hour; with it the commit fails, its
/// callers get UNAVAILABLE, and the failed-commit path reconnects. The lease lasts as long,
/// so by then another node may have taken over anyway.
const UNACKNOWLEDGED_LIMIT: Duration = Duration::from_secs(10);

/// Sets the time limits the URL leaves out.
fn with_time_limits(config: &mut Config) {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(UNACKNOWLEDGED_LIMIT);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Waits for a client future on the calling thread (see the module's doc).
pub fn wait<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// A connection whose statements are prepared once and reused: a read then costs one round
/// trip, not two (parse, then execute).
pub struct Prepared {
    client: Client,
    cache: std::sync::Mutex<std::collections::HashMap<String, tokio_postgres::Statement>>,
}

impl Prepared {
    pub fn new(client: Client) -> Prepared {
        Prepared {
            client,
            cache: Default::default(),
        }
    }

    fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(sql)
            .cloned();
        if let Some(statement) = cached {
            return Ok(statement);
        }
        let statement = wait(self.client.prepare(sql))?;
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Whether the connection ended (the server restarted or closed it).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// The rows of `sql` (prepared on first use) with `params`.
    pub fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let statement = self.statement(sql)?;
        Ok(wait(self.client.query(&statement, params))?)
    }
}

#[cfg(test)]
mod limits {
    use super::*;

    #[test]
    fn a_url_without_time_limits_gets_ours_and_one_with_them_keeps_its_own() {
        let mut bare: Config = "postgres://triage@db/triage".parse().unwrap();
        with_time_limits(&mut bare);
        assert_eq!(bare.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(bare.get_tcp_user_timeout(), Some(&UNACKNOWLEDGED_LIMIT));
        let url = "postgres://triage@db/triage?connect_timeout=2&tcp_user_timeout=3";
        let mut given: Config = url.parse().unwrap();
        with_time_limits(&mut given);
        assert_eq!(given.get_connect_timeout(), Some(&Duration::from_secs(2)));
        assert_eq!(given.get_tcp_user_timeout(), Some(&Duration::from_secs(3)));
    }
}
