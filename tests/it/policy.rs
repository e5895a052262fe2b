//! The policy matrix through the API: calendars, per-channel calendars, per-tier overrides
//! and widening are put live, apply to open tickets at once, and survive a restart.

use crate::common::{create, merge_policy, temp, Daemon};
use pb::{Channel, Tier};
use prost_types::{Duration, Timestamp};
use triage::core::calendar::Calendar;
use triage::core::types::{Span, Ts};
use triage::proto as pb;

fn ts(t: &Timestamp) -> Ts {
    Ts(t.seconds * 1000 + i64::from(t.nanos / 1_000_000))
}

/// Open one hour a day (UTC): a 2 h target takes two days, whenever the test runs.
fn short_days() -> pb::Calendar {
    let hour = vec!["06:00-07:00".to_string()];
    pb::Calendar {
        name: "short".into(),
        time_zone: "UTC".into(),
        mon: hour.clone(),
        tue: hour.clone(),
        wed: hour.clone(),
        thu: hour.clone(),
        fri: hour.clone(),
        sat: hour.clone(),
        sun: hour,
        holidays: vec![pb::Holiday {
            date: "2030-01-01".into(),
            hours: vec!["06:00-06:30".into()],
        }],
    }
}

fn expected_calendar() -> Calendar {
    toml::from_str(
        r#"time_zone = "UTC"
        mon = ["06:00-07:00"]
        tue = ["06:00-07:00"]
        wed = ["06:00-07:00"]
        thu = ["06:00-07:00"]
        fri = ["06:00-07:00"]
        sat = ["06:00-07:00"]
        sun = ["06:00-07:00"]
        holidays = [{ date = "2030-01-01", hours = ["06:00-06:30"] }]"#,
    )
    .expect("calendar")
}

fn first_response(t: &pb::Ticket) -> &pb::SlaClock {
    t.sla
        .iter()
        .find(|c| c.metric() == pb::SlaMetric::FirstResponse)
        .expect("first response clock")
}

#[tokio::test]
async fn calendars_and_overrides_are_put_live_and_survive_a_restart() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let email = c
        .create(create("e1", Tier::Standard, Channel::Email, &[]))
        .await;
    let created = ts(email.created_at.as_ref().expect("created_at"));
    let policy = pb::SlaPolicy {
        calendars: vec![short_days()],
        channel_calendars: vec![pb::ChannelCalendar {
            channel: Channel::Email as i32,
            calendar: "short".into(),
        }],
        overrides: vec![pb::TargetOverride {
            tier: Tier::Vip as i32,
            channel: Channel::Chat as i32,
            first_response: Some(Duration {
                seconds: 10,
                nanos: 0,
            }),
            ..Default::default()
        }],
        l3_widen: pb::Widen::Supervisors as i32,
        order: pb::QueueOrder::Deadline as i32,
        force_level: pb::EscalationLevel::L2 as i32,
        ..Default::default()
    };
    let put = pb::PutSlaPolicyRequest {
        policy: Some(policy),
        replace: false,
        ..Default::default()
    };
    let shown = c.admin.put_sla_policy(put).await.expect("put").into_inner();
    assert_eq!(shown.calendars, vec![short_days()]);
    assert_eq!(shown.l3_widen(), pb::Widen::Supervisors);
    assert_eq!(shown.l2_widen(), pb::Widen::FirstSkill, "merge keeps L2");
    assert_eq!(shown.order(), pb::QueueOrder::Deadline);
    assert_eq!(shown.force_level(), pb::EscalationLevel::L2);
    assert_eq!(shown.warning_fraction, 0.8);

    let want = expected_calendar().add(created, Span::hours(2));
    let due = |t: &pb::Ticket| first_response(t).due_at.as_ref().map(ts);
    let email = c.get(email.ticket_id).await;
    assert_eq!(
        due(&email),
        Some(want),
        "the open ticket counts office hours now"
    );
    assert!(want.since(created) >= Span::hours(24));
    let vip = c.create(create("v1", Tier::Vip, Channel::Chat, &[])).await;
    assert_eq!(
        first_response(&vip).target.as_ref().map(|d| d.seconds),
        Some(10)
    );

    d.kill9();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let again = c.policy().await;
    assert_eq!(again, shown, "the policy is persisted whole");
    let email = c.get(email.ticket_id).await;
    assert_eq!(
        due(&email),
        Some(want),
        "calendars apply again after recovery"
    );

    let replace = pb::PutSlaPolicyRequest {
        policy: Some(pb::SlaPolicy::default()),
        replace: true,
        ..Default::default()
    };
    let defaults = c
        .admin
        .put_sla_policy(replace)
        .await
        .expect("replace")
        .into_inner();
    assert!(defaults.calendars.is_empty() && defaults.overrides.is_empty());
    assert_eq!(
        defaults.order(),
        pb::QueueOrder::SavableTurns,
        "the default order"
    );
    assert_eq!(defaults.force_level(), pb::EscalationLevel::L3);
    assert_eq!(
        defaults.onboarding_skill, "",
        "a replacing put leaves it unset"
    );
    let email = c.get(email.ticket_id).await;
    assert_eq!(
        due(&email),
        Some(created.plus(Span::hours(2))),
        "24/7 again"
    );
}

#[tokio::test]
async fn a_config_file_policy_is_persisted_and_outlives_the_file() {
    let dir = temp();
    let config = "[policy]\nwarning_fraction = 0.6\n";
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    assert_eq!(c.policy().await.warning_fraction, 0.6);
    d.kill9();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    assert_eq!(
        c.policy().await.warning_fraction,
        0.6,
        "the file's policy was written at boot, not only applied"
    );
}

#[tokio::test]
async fn the_log_says_which_policy_wins_at_boot_and_a_config_policy_undoes_api_changes() {
    let dir = temp();
    let config = "[policy]\nwarning_fraction = 0.6\n";
    let d = Daemon::start(dir.path(), Some(config));
    assert!(
        d.logs()
            .contains("policy: the config file's [policy] (nothing stored yet)"),
        "{}",
        d.logs()
    );
    let mut c = d.clients().await;
    c.admin
        .put_sla_policy(merge_policy(pb::SlaPolicy {
            warning_fraction: 0.7,
            ..Default::default()
        }))
        .await
        .expect("put");
    assert!(d.terminate().await.success());

    // The same file again: its policy replaces the API's change, and the log says so.
    let d = Daemon::start(dir.path(), Some(config));
    assert!(
        d.logs()
            .contains("policy: the config file's [policy] replaces the stored one"),
        "{}",
        d.logs()
    );
    assert_eq!(d.clients().await.policy().await.warning_fraction, 0.6);
    assert!(d.terminate().await.success());

    // Unchanged since: the log says they agree. Without a file: the stored one.
    let d = Daemon::start(dir.path(), Some(config));
    assert!(
        d.logs().contains("the same as the stored one"),
        "{}",
        d.logs()
    );
    assert!(d.terminate().await.success());
    let d = Daemon::start(dir.path(), None);
    assert!(
        d.logs()
            .contains("policy: the stored one (the config file has no [policy])"),
        "{}",
        d.logs()
    );
    assert_eq!(d.clients().await.policy().await.warning_fraction, 0.6);
}

#[tokio::test]
async fn ctl_policy_set_merges_a_file_or_replaces_with_it() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let ctl = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(["ctl", "--addr", &d.grpc, "policy"])
            .args(args)
            .output()
            .expect("triage ctl");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let file = dir.path().join("policy.toml");
    std::fs::write(
        &file,
        "[policy]\nwarning_fraction = 0.6\n[policy.targets.chat]\nfirst_response = \"20s\"\n",
    )
    .expect("write");
    let file = file.display().to_string();
    ctl(&["set", &file]);
    let p = c.policy().await;
    assert_eq!(p.warning_fraction, 0.6);
    let chat = p
        .targets
        .iter()
        .find(|t| t.channel == pb::Channel::Chat as i32);
    let chat = chat.expect("chat targets");
    assert_eq!(chat.first_response.as_ref().map(|d| d.seconds), Some(20));
    assert_eq!(
        chat.next_reply.as_ref().map(|d| d.seconds),
        Some(30),
        "a merge keeps what the file leaves out"
    );

    std::fs::write(dir.path().join("l2.toml"), "l2_offset = 0.7\n").expect("write");
    ctl(&["set", &dir.path().join("l2.toml").display().to_string()]);
    let p = c.policy().await;
    assert_eq!(
        (p.warning_fraction, p.l2_offset),
        (0.6, 0.7),
        "both merges in force"
    );

    ctl(&["set", "--replace", &file]);
    let p = c.policy().await;
    assert_eq!(
        (p.warning_fraction, p.l2_offset),
        (0.6, 0.5),
        "a replace resets what the file leaves out to the default"
    );
}

#[tokio::test]
async fn an_order_other_than_the_default_is_put_live_and_survives_a_restart() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let policy = pb::SlaPolicy {
        order: pb::QueueOrder::SavableFirst as i32,
        ..Default::default()
    };
    let put = c.admin.put_sla_policy(merge_policy(policy)).await;
    let shown = put.expect("put").into_inner();
    assert_eq!(shown.order(), pb::QueueOrder::SavableFirst);
    assert_eq!(
        shown.force_level(),
        pb::EscalationLevel::L3,
        "merge keeps it"
    );

    d.kill9();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    assert_eq!(c.policy().await.order(), pb::QueueOrder::SavableFirst);
}

#[tokio::test]
async fn the_fifo_bound_is_put_live_merged_by_field_and_survives_a_restart() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let shown = c.policy().await.fifo_bound.expect("bound");
    assert_eq!(shown.factor, Some(1.5), "on by default");
    let policy = pb::SlaPolicy {
        fifo_bound: Some(pb::FifoBound {
            factor: Some(3.0),
            floor: None,
        }),
        ..Default::default()
    };
    let put = c.admin.put_sla_policy(merge_policy(policy)).await;
    let shown = put.expect("put").into_inner().fifo_bound.expect("bound");
    assert_eq!(shown.factor, Some(3.0));
    assert_eq!(
        shown.floor.map(|f| f.seconds),
        Some(60),
        "merge keeps the floor"
    );

    d.kill9();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let shown = c.policy().await.fifo_bound.expect("bound");
    assert_eq!(
        (shown.factor, shown.floor.map(|f| f.seconds)),
        (Some(3.0), Some(60))
    );
}
