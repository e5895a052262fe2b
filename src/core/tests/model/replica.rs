//! The replica that follows a run: compared with a fresh restore of the disk, and taking over.

use super::super::replica::same_as_restored;
use super::*;

impl Harness {
    /// The replica, brought to now, equals a fresh restore of the disk at now.
    pub(super) fn check_replica(&mut self) -> Result<(), TestCaseError> {
        let records = load_all(&self.disk);
        same_as_restored(&mut self.replica, records, &self.policy, self.now)
            .map_err(|e| self.fail(e))
    }

    /// The replica takes over; every agent pulls from it and from a fresh restore of the disk,
    /// in turn: each pull hands out the same ticket under the same lease, or nothing.
    pub(super) fn replica_takes_over(self) -> Result<(), TestCaseError> {
        let mut taken = self.replica.take_over(self.now);
        let mut fresh = Scheduler::restore(
            self.policy.clone(),
            CoreConfig::default(),
            load_all(&self.disk),
            self.now,
        )
        .expect("restore");
        for name in NAMES.iter().take(GHOST as usize) {
            let pull = || Command::Pull(agent_id(name));
            let got = outcome(taken.apply(pull(), self.now));
            let want = outcome(fresh.apply(pull(), self.now));
            if got != want {
                let what = format!("pull by {name}: replica {got:?}, restore {want:?}");
                return Err(TestCaseError::fail(what));
            }
        }
        Ok(())
    }
}
