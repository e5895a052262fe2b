//! `PutSlaPolicy` merges in the scheduler, in one step: two admins merging different fields at
//! the same moment both get their change in force (no read-merge-write race between them).

mod common;

use common::{temp, Daemon};
use triage::proto as pb;

/// A merge that sets only the warning fraction.
fn warning(fraction: f64) -> pb::PutSlaPolicyRequest {
    pb::PutSlaPolicyRequest {
        policy: Some(pb::SlaPolicy {
            warning_fraction: fraction,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A merge that sets only the L2 offset.
fn l2_offset(offset: f64) -> pb::PutSlaPolicyRequest {
    pb::PutSlaPolicyRequest {
        policy: Some(pb::SlaPolicy {
            l2_offset: offset,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn two_concurrent_merges_of_different_fields_both_apply() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let c = d.clients().await;
    for round in 1..=20 {
        let fraction = 0.5 + f64::from(round) / 100.0;
        let offset = 0.1 + f64::from(round) / 100.0;
        let (mut a, mut b) = (c.admin.clone(), c.admin.clone());
        let (first, second) = tokio::join!(
            a.put_sla_policy(warning(fraction)),
            b.put_sla_policy(l2_offset(offset)),
        );
        first.expect("warning merge");
        second.expect("offset merge");
        let mut c = c.clone();
        let policy = c.policy().await;
        assert_eq!(
            (policy.warning_fraction, policy.l2_offset),
            (fraction, offset),
            "round {round}: both merges are in force"
        );
    }
    d.terminate().await;
}
