//! `PutSlaPolicy` merges in the scheduler, in one step: two admins merging different fields at
//! the same moment both get their change in force (no read-merge-write race between them).

use crate::common::{merge_policy, temp, Daemon};
use triage::proto as pb;

/// A merge that sets only the warning fraction.
fn warning(fraction: f64) -> pb::PutSlaPolicyRequest {
    merge_policy(pb::SlaPolicy {
        warning_fraction: fraction,
        ..Default::default()
    })
}

/// A merge that sets only the L2 offset.
fn l2_offset(offset: f64) -> pb::PutSlaPolicyRequest {
    merge_policy(pb::SlaPolicy {
        l2_offset: offset,
        ..Default::default()
    })
}

/// Rounds of two merges at once.
const ROUNDS: u32 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_merges_of_different_fields_both_apply() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    // Two admins on two connections, as two front ends would be.
    let (mut c, other) = (d.clients().await, d.clients().await);
    for round in 1..=ROUNDS {
        let fraction = 0.5 + f64::from(round) / 1000.0;
        let offset = 0.1 + f64::from(round) / 1000.0;
        let (mut a, mut b) = (c.admin.clone(), other.admin.clone());
        let (first, second) = tokio::join!(
            a.put_sla_policy(warning(fraction)),
            b.put_sla_policy(l2_offset(offset)),
        );
        first.expect("warning merge");
        second.expect("offset merge");
        let policy = c.policy().await;
        assert_eq!(
            (policy.warning_fraction, policy.l2_offset),
            (fraction, offset),
            "round {round}: both merges are in force"
        );
    }
    d.terminate().await;
}
