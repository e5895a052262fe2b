//! The policy matrix through the API: calendars, per-channel calendars, per-tier overrides
//! and widening are put live, apply to open tickets at once, and survive a restart.

use crate::common::{create, temp, Daemon};
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
