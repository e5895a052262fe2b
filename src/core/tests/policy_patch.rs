//! `PatchPolicy`: the scheduler merges a policy patch onto the policy in force in one step.

use super::*;
use crate::core::idempotency::RequestKey;
use crate::core::policy_patch::PolicyPatch;

fn policy(reply: Result<Reply, CoreError>) -> SlaPolicy {
    match reply {
        Ok(Reply::Policy(p)) => *p,
        other => panic!("expected a policy, got {other:?}"),
    }
}

fn patch(p: PolicyPatch) -> Command {
    Command::PatchPolicy(Box::new(p))
}

#[test]
fn two_patches_of_different_fields_both_apply() {
    let mut sim = Sim::new();
    let warning = PolicyPatch {
        warning_fraction: Some(0.7),
        ..Default::default()
    };
    let offset = PolicyPatch {
        l2_offset: Some(0.25),
        targets: vec![(
            Channel::Chat,
            crate::core::policy::TargetOverride {
                first_response: Some(Span::secs(45)),
                ..Default::default()
            },
        )],
        ..Default::default()
    };
    policy(sim.apply(patch(warning)));
    let after = policy(sim.apply(patch(offset)));
    let mut want = SlaPolicy {
        warning_fraction: 0.7,
        l2_offset: 0.25,
        ..SlaPolicy::default()
    };
    want.targets.get_mut(Channel::Chat).first_response = Span::secs(45);
    assert_eq!(after, want, "the second patch kept the first one's change");
    assert_eq!(sim.s.policy(), &want);
    assert!(sim.s.take_journal().policy, "the policy is persisted");
}

#[test]
fn a_replacing_patch_starts_from_the_defaults_without_skills_or_tables() {
    let mut sim = Sim::new();
    let custom = SlaPolicy {
        l3_offset: 2.0,
        supervisor_skill: "lead".into(),
        ..SlaPolicy::default()
    };
    sim.apply(Command::PutPolicy(Box::new(custom)))
        .expect("put");
    let replaced = policy(sim.apply(patch(PolicyPatch {
        replace: true,
        warning_fraction: Some(0.6),
        ..Default::default()
    })));
    let want = SlaPolicy {
        warning_fraction: 0.6,
        supervisor_skill: String::new(),
        onboarding_skill: String::new(),
        ..SlaPolicy::default()
    };
    assert_eq!(replaced, want);
}

#[test]
fn an_invalid_patch_changes_nothing() {
    let mut sim = Sim::new();
    let refused = sim.apply(patch(PolicyPatch {
        warning_fraction: Some(1.5),
        l2_offset: Some(0.25),
        ..Default::default()
    }));
    assert!(
        matches!(refused, Err(CoreError::InvalidPolicy(_))),
        "{refused:?}"
    );
    assert_eq!(sim.s.policy(), &SlaPolicy::default());
    assert!(!sim.s.take_journal().policy);
}

#[test]
fn a_retried_patch_after_another_change_answers_the_policy_in_force() {
    let mut sim = Sim::new();
    let key = RequestKey::of_bytes("put-1".into(), b"the request as sent");
    let first = PolicyPatch {
        warning_fraction: Some(0.7),
        ..Default::default()
    };
    let once = || patch(first.clone()).once_as(key.clone());
    assert_eq!(policy(sim.apply(once())).warning_fraction, 0.7);
    policy(sim.apply(patch(PolicyPatch {
        warning_fraction: Some(0.6),
        ..Default::default()
    })));
    let retried = policy(sim.apply(once()));
    assert_eq!(retried.warning_fraction, 0.6, "not applied again");
    assert_eq!(&retried, sim.s.policy());
}
