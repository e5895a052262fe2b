//! A warm follower's scheduler, kept at one commit sequence: restored from one snapshot the
//! way a boot restores, then moved forward commit by commit from the change log (`changes`)
//! through `store::replicate`. At takeover it is brought to the end of the log and handed
//! over as it is (`PgStore::take_replica`): the new leader rebuilds nothing (README "High
//! availability"). It is the only copy a follower keeps: no records beside it.

use super::super::replicate;
use super::super::StoreError;
use super::changes::{self, Change, Tail};
use super::conn::wait;
use super::recover::{read_into, snapshot};
use crate::core::policy::SlaPolicy;
use crate::core::types::Ts;
use crate::core::{CoreConfig, Replica, Scheduler};
use tokio_postgres::Client;

/// Changes read per look at the log.
const CHANGES_PER_LOOK: i64 = 1024;

/// What a follower's scheduler is restored with: the policy in force when the records hold
/// none, and the core's settings (the node's own, as its boot would use).
#[derive(Clone, Debug, Default)]
pub struct Seed {
    pub policy: SlaPolicy,
    pub config: CoreConfig,
}

/// The follower's scheduler, as of commit `seq`.
pub struct Mirror {
    seq: i64,
    replica: Replica,
}

/// How far behind the leader a look at the log found this copy, before applying it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Lag {
    pub commits: i64,
    /// Age of the oldest commit not applied yet, by the database's clock (0 when none).
    pub seconds: f64,
}

impl Mirror {
    /// A scheduler restored at `now` from one consistent snapshot, with the commit sequence
    /// the snapshot is at.
    pub fn load(client: &mut Client, seed: &Seed, now: Ts) -> Result<Mirror, StoreError> {
        let tx = snapshot(client)?;
        let row = wait(tx.query_one("SELECT commit_seq FROM triage_lease WHERE id = 1", &[]))?;
        let mut restore = Scheduler::restoring(seed.policy.clone(), seed.config.clone(), now);
        read_into(&tx, &mut restore)?;
        wait(tx.commit())?;
        Ok(Mirror {
            seq: row.get(0),
            replica: Replica::new(restore),
        })
    }

    /// The commit sequence this copy is at.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Reads the log after this copy's sequence and applies it (as put at `now`), until it
    /// has read to the end as of the first look. Returns the lag the first look found;
    /// `Ok(None)` when the log misses a commit this copy needs (trimmed, or never written by
    /// an older release) or a commit does not apply: the copy is then unusable and must be
    /// loaded again.
    pub fn catch_up(&mut self, client: &Client, now: Ts) -> Result<Option<Lag>, StoreError> {
        let first = changes::tail(client, self.seq, CHANGES_PER_LOOK)?;
        let lag = Lag {
            commits: (first.leader_seq - self.seq).max(0),
            seconds: first.oldest_age.unwrap_or(0.0).max(0.0),
        };
        let target = first.leader_seq;
        let mut tail = first;
        loop {
            if !self.apply(tail, now) {
                return Ok(None);
            }
            if self.seq >= target {
                return Ok(Some(lag));
            }
            tail = changes::tail(client, self.seq, CHANGES_PER_LOOK)?;
        }
    }

    /// Applies a look's changes in order; `false` when they do not continue this copy's
    /// sequence, stop short of what the leader had committed before the look, or do not
    /// apply (a record that does not decode, a ticket held by no agent).
    fn apply(&mut self, tail: Tail, now: Ts) -> bool {
        let Tail {
            leader_seq,
            changes,
            ..
        } = tail;
        if leader_seq < self.seq {
            // The database went back in time (restored from a backup): nothing here holds.
            return false;
        }
        let complete = changes.len() as i64 == CHANGES_PER_LOOK;
        for Change { seq, entries } in changes {
            if seq != self.seq + 1 {
                return false;
            }
            if let Err(e) = replicate::apply(&mut self.replica, entries, now) {
                tracing::warn!(seq, error = %e, "a commit of the change log does not apply");
                return false;
            }
            self.seq = seq;
        }
        complete || self.seq >= leader_seq
    }

    /// The scheduler, to take over with (see `Replica::take_over`).
    pub fn into_replica(self) -> Replica {
        self.replica
    }
}
