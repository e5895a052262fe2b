//! Leadership: one lease row (holder, epoch, expiry by the database's clock, and the server
//! process of the holder's writer connection). A node takes it when it is free, expired, its
//! own, or when the holder's connection is gone (a killed leader's session ends at once, long
//! before its lease would lapse), always with a new epoch; every commit then goes through
//! `triage_fence`, which locks the row and checks that epoch, so a node that was superseded
//! commits nothing. The expiry and the connection only say who should try: correctness rests
//! on the epoch check, never on clocks.

use super::super::StoreError;
use super::conn::wait;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// How long a lease lasts without renewal unless configured (`lease_ttl`). The owner renews it
/// about once a second.
pub const LEASE_TTL: Duration = Duration::from_secs(5);

/// How often a node waiting for a lease held by someone else looks again.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// Takes the lease for `holder`, waiting while another holder's lease is live, at most
/// `patience`; returns the new epoch.
pub fn take(
    client: &Client,
    holder: &str,
    ttl: Duration,
    patience: Duration,
) -> Result<i64, StoreError> {
    let started = Instant::now();
    let mut said = false;
    loop {
        if let Some(epoch) = try_take(client, holder, ttl)? {
            return Ok(epoch);
        }
        let (other, left) = current(client)?;
        if started.elapsed() >= patience {
            return Err(StoreError::LeaseHeld {
                holder: other,
                expires_in: left,
            });
        }
        if !said {
            tracing::warn!(holder = %other, expires_in_ms = left.as_millis() as u64, "another node holds the store's lease: waiting for it to lapse");
            said = true;
        }
        std::thread::sleep(RETRY_EVERY);
    }
}

/// Takes the lease if it is free, expired or `holder`'s own, or if its holder's writer
/// connection no longer exists (`pg_stat_activity` shows every session's pid to every role)
/// though the server has run since the holder last renewed: then the holder died or lost its
/// connection. After a database restart every session is gone, the leader's too, and it is
/// given its lease's TTL to reconnect and take its lease back; `None` while another holder's
/// lease is live.
pub fn try_take(client: &Client, holder: &str, ttl: Duration) -> Result<Option<i64>, StoreError> {
    let ttl = ttl.as_secs_f64();
    let row = wait(client.query_opt(
        "UPDATE triage_lease
            SET holder = $1, epoch = epoch + 1,
                expires_at = now() + make_interval(secs => $2),
                holder_pid = pg_backend_pid(), renewed_at = now()
          WHERE id = 1 AND (expires_at < now() OR holder = $1
                OR (holder_pid IS NOT NULL AND renewed_at > pg_postmaster_start_time()
                    AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                     WHERE a.pid = triage_lease.holder_pid)))
          RETURNING epoch",
        &[&holder, &ttl],
    ))?;
    Ok(row.map(|r| r.get(0)))
}

/// Who holds the lease and how long it has left by the database's clock.
pub fn current(client: &Client) -> Result<(String, Duration), StoreError> {
    let row = wait(client.query_one(
        "SELECT holder, (extract(epoch FROM expires_at) - extract(epoch FROM now()))::float8
           FROM triage_lease WHERE id = 1",
        &[],
    ))?;
    let left: f64 = row.get(1);
    let left = if left.is_finite() {
        left.clamp(0.0, 1e9)
    } else {
        0.0
    };
    Ok((row.get(0), Duration::from_secs_f64(left)))
}

/// Extends the lease while `epoch` still holds it; `Fenced` when another node took it since.
pub fn renew(client: &Client, epoch: i64, ttl: Duration) -> Result<(), StoreError> {
    let ttl = ttl.as_secs_f64();
    let renewed = wait(client.execute(
        "UPDATE triage_lease
            SET expires_at = now() + make_interval(secs => $2), renewed_at = now()
          WHERE id = 1 AND epoch = $1",
        &[&epoch, &ttl],
    ))?;
    match renewed {
        0 => Err(StoreError::Fenced { epoch }),
        _ => Ok(()),
    }
}

/// Ends the lease at once if `epoch` still holds it (a clean stop), so another node need
/// not wait for it to lapse.
pub fn release(client: &Client, epoch: i64) -> Result<(), StoreError> {
    wait(client.execute(
        "UPDATE triage_lease SET expires_at = '-infinity' WHERE id = 1 AND epoch = $1",
        &[&epoch],
    ))?;
    Ok(())
}
