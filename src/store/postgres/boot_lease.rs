//! The lease while a new leader boots. Renewing is the owner's job (`keep_room`, about once a
//! second), so that a leader whose owner is stuck loses its lease; but the owner only starts
//! once recovery is done, and recovering a million tickets takes longer than the lease's TTL.
//! Without this, another node took the lease just as the booting leader said ready, and a
//! cluster with a large store could hand the lease round and round, each node recovering in
//! turn. So from the moment a node takes the lease until its owner first renews, a thread of
//! its own renews it on a connection of its own. Fencing is untouched: the renewal is the same
//! epoch-checked UPDATE, so a superseded node renews nothing.

use super::conn::Driver;
use super::lease;
use crate::store::StoreError;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the boot renewer renews: as often as the owner does.
const EVERY: Duration = Duration::from_secs(1);

/// Renews the lease until stopped (dropped), or until another node took it.
pub struct BootRenewer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BootRenewer {
    /// Starts renewing `epoch`'s lease on a new connection; `renewed` is set at each renewal.
    /// Without a connection or a thread it says so and renews nothing: the boot goes on, and
    /// a long one may lose the lease as before (the node then steps down and follows).
    pub fn start(
        driver: &Driver,
        url: &str,
        epoch: i64,
        ttl: Duration,
        renewed: Arc<Mutex<Instant>>,
    ) -> BootRenewer {
        let client = match driver.connect(url) {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(error = %e, "no connection to renew the lease on while booting");
                return BootRenewer {
                    stop: None,
                    thread: None,
                };
            }
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("triage-boot-lease".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    match lease::renew(&client, epoch, ttl) {
                        Ok(()) => {
                            *renewed.lock().unwrap_or_else(PoisonError::into_inner) =
                                Instant::now();
                        }
                        Err(e @ StoreError::Fenced { .. }) => {
                            tracing::warn!(error = %e, "another node took the lease while this one booted");
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "the lease could not be renewed while booting")
                        }
                    }
                }
            })
            .inspect_err(|e| tracing::warn!(error = %e, "no thread to renew the lease while booting"))
            .ok();
        BootRenewer {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for BootRenewer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
