//! Bad input for the AdminService: PutSlaPolicy.

use super::build::*;
use super::wire::*;
use super::{Req, Row};
use pb::{Channel, Tier};
use prost::Message;
use prost_types::Duration;
use tonic::Code;
use triage::proto as pb;

/// (what, request, expected code, field): see `Row`.
#[rustfmt::skip]
pub(super) fn rows() -> Vec<Row> {
    use Code::*;
    vec![
        // ---- basics: The first rows: one or two of each kind, per request type.
        ("put a missing policy", Req::put_policy(pb::PutSlaPolicyRequest { policy: None, replace: false, ..Default::default() }), InvalidArgument, "policy"),
        ("erase an empty customer id", erase(""), InvalidArgument, "customer_id"),
        ("erase a blank customer id", erase("   "), InvalidArgument, "customer_id"),
        ("erase a customer id with a bidi override", erase("a\u{202E}b"), InvalidArgument, "customer_id"),
        ("erase an oversized customer id", erase(&super::build::long()), InvalidArgument, "customer_id"),
        ("control: erase a customer nobody has (zero erased)", erase("nobody-at-all"), Ok, ""),
        ("webhook with an ftp url", webhook(|w| w.url = "ftp://example.com/hook".into()), InvalidArgument, "url"),
        ("webhook with a url without scheme", webhook(|w| w.url = "example.com/hook".into()), InvalidArgument, "url"),
        ("webhook with an empty url", webhook(|w| w.url.clear()), InvalidArgument, "url"),
        ("webhook with an unknown kind", webhook(|w| w.kinds = vec![1, 999]), InvalidArgument, "kinds[1]"),
        ("webhook with kind unspecified", webhook(|w| w.kinds = vec![0]), InvalidArgument, "kinds[0]"),
        ("webhook with an empty secret", webhook(|w| w.secret.clear()), InvalidArgument, "secret"),
        ("webhook without an id", webhook(|w| w.id.clear()), InvalidArgument, "id"),
        ("webhook id with a space", webhook(|w| w.id = "a b".into()), InvalidArgument, "id"),
        ("webhook id of 65 bytes", webhook(|w| w.id = "w".repeat(65)), InvalidArgument, "id"),
        ("webhook giving up after zero", webhook(|w| w.give_up_after = Some(Duration { seconds: 0, nanos: 0 })), InvalidArgument, "give_up_after"),
        ("webhook giving up after a negative time", webhook(|w| w.give_up_after = Some(Duration { seconds: -1, nanos: 0 })), InvalidArgument, "give_up_after"),
        ("delete a webhook nobody put", Req::DeleteWebhook("nobody".into()), NotFound, "webhook"),
        ("delete a webhook without an id", Req::DeleteWebhook(String::new()), InvalidArgument, "id"),
        ("warning fraction above 1", policy(|p| p.warning_fraction = 1.5), InvalidArgument, "policy.warning_fraction"),
        ("zero target", zero_target(), InvalidArgument, "policy.targets.email.first_response"),
        ("negative target", negative_target(), InvalidArgument, "policy.targets[0].first_response"),
        ("target for channel unspecified", policy(|p| p.targets = vec![pb::ChannelTargets::default()]), InvalidArgument, "policy.targets[0].channel"),
        ("negative tier multiplier", negative_tier_multiplier(), InvalidArgument, "policy.tier_multipliers.vip"),
        ("NaN priority multiplier", nan_priority_multiplier(), InvalidArgument, "policy.priority_multipliers.high"),
        ("l3 before l2", policy(|p| { p.l2_offset = 2.0; p.l3_offset = 1.5 }), InvalidArgument, "policy.l3_offset"),
        ("fifo bound factor under 1", policy(|p| p.fifo_bound = Some(pb::FifoBound { factor: Some(0.5), floor: None })), InvalidArgument, "policy.fifo_bound.factor"),
        ("negative fifo bound floor", policy(|p| p.fifo_bound = Some(pb::FifoBound { factor: None, floor: Some(Duration { seconds: -1, nanos: 0 }) })), InvalidArgument, "policy.fifo_bound.floor"),
        ("presence ttl of zero", policy(|p| { p.presence_ttl = Some(Duration { seconds: 0, nanos: 0 }) }), InvalidArgument, "policy.presence_ttl"),
        ("calendar in an unknown time zone", office(|c| c.time_zone = "Mars/Olympus".into()), InvalidArgument, "policy.calendars[0].time_zone"),
        ("calendar hours that are not a time range", office(|c| c.mon = vec!["9 to 5".into()]), InvalidArgument, "policy.calendars[0].mon[0]"),
        ("calendar hours that end before they start", office(|c| c.mon = vec!["18:00-09:00".into()]), InvalidArgument, "policy.calendars.office.mon[0]"),
        ("calendar that is never open", office(|c| c.mon.clear()), InvalidArgument, "policy.calendars.office.hours"),
        ("calendar holiday that is not a date", calendar_holiday_that_is_not_a_date(), InvalidArgument, "policy.calendars[0].holidays[0].date"),
        ("channel calendar naming no calendar", channel_calendar_naming_no_calendar(), InvalidArgument, "policy.channel_calendars.email"),
        ("override with a zero target", override_with_a_zero_target(), InvalidArgument, "policy.overrides.vip.chat.first_response"),
        ("override without a tier", override_without_a_tier(), InvalidArgument, "policy.overrides[0].tier"),
        ("unknown widening", policy(|p| p.l3_widen = 42), InvalidArgument, "policy.l3_widen"),
        ("offer timeout of 2 hours", offer_timeout(Channel::Email as i32, Some(Duration { seconds: 7200, nanos: 0 })), InvalidArgument, "policy.offers.offer_timeout.email"),
        ("offer timeout of half a second", offer_timeout(Channel::Chat as i32, Some(Duration { seconds: 0, nanos: 500_000_000 })), InvalidArgument, "policy.offers.offer_timeout.chat"),
        ("negative offer timeout", offer_timeout(Channel::Chat as i32, Some(Duration { seconds: -1, nanos: 0 })), InvalidArgument, "policy.offer_timeouts[0].timeout"),
        ("offer timeout without a timeout", offer_timeout(Channel::Chat as i32, None), InvalidArgument, "policy.offer_timeouts[0].timeout"),
        ("offer timeout for channel unspecified", offer_timeout(0, Some(Duration { seconds: 10, nanos: 0 })), InvalidArgument, "policy.offer_timeouts[0].channel"),
        ("offer timeout for an unknown channel", offer_timeout(99, Some(Duration { seconds: 10, nanos: 0 })), InvalidArgument, "policy.offer_timeouts[0].channel"),
        ("offer timeout listed twice", offer_timeout_listed_twice(), InvalidArgument, "policy.offer_timeouts[1].channel"),
        ("101 missed offers", policy(|p| p.max_missed_offers = Some(101)), InvalidArgument, "policy.offers.max_missed_offers"),
        ("reoffer after 25 hours", policy(|p| p.reoffer_after = Some(Duration { seconds: 90_000, nanos: 0 })), InvalidArgument, "policy.offers.reoffer_after"),
        ("negative reoffer after", policy(|p| p.reoffer_after = Some(Duration { seconds: -5, nanos: 0 })), InvalidArgument, "policy.reoffer_after"),
        ("unknown queue order", policy(|p| p.order = 42), InvalidArgument, "policy.order"),
        ("unknown force level", policy(|p| p.force_level = 99), InvalidArgument, "policy.force_level"),
        ("unknown select", policy(|p| p.select = 42), InvalidArgument, "policy.select"),
        ("negative select", policy(|p| p.select = -1), InvalidArgument, "policy.select"),
        ("rings out of order", policy(|p| p.rings = Some(pb::Rings { drop_optional: Some(Duration { seconds: 60, nanos: 0 }), lower_minimums: Some(Duration { seconds: 30, nanos: 0 }), any_agent: None })), InvalidArgument, "policy.rings.lower_minimums"),
        ("negative ring", policy(|p| p.rings = Some(pb::Rings { any_agent: Some(Duration { seconds: -1, nanos: 0 }), ..Default::default() })), InvalidArgument, "policy.rings.any_agent"),
        ("ring over a year", policy(|p| p.rings = Some(pb::Rings { any_agent: Some(Duration { seconds: 400 * 86_400, nanos: 0 }), ..Default::default() })), InvalidArgument, "policy.rings.any_agent"),
        ("force level WARNING (not a late ticket's level)", policy(|p| p.force_level = pb::EscalationLevel::Warning as i32), InvalidArgument, "policy.force_level"),
        ("service level target above 100 %", policy(|p| p.service_level_target = 1.2), InvalidArgument, "policy.service_level_target"),
        ("upper-case onboarding skill", policy(|p| p.onboarding_skill = "Onboarding".into()), InvalidArgument, "policy.onboarding_skill"),

        // ---- raw bytes: Bytes prost types cannot build: invalid UTF-8 in every kind of string
        // field (tonic refuses the message while decoding it, before any handler runs: INTERNAL, as
        // gRPC's status-code guide says for a message that does not parse), malformed wire format,
        // unknown fields and methods.
        ("invalid UTF-8 in the supervisor skill", raw_policy(len_field(15, STRAY)), Internal, "SlaPolicy.supervisor_skill"),
        ("invalid UTF-8 in a calendar's time zone", calendar(len_field(2, b"Europe/Berl\xffn")), Internal, "Calendar.time_zone"),
        ("invalid UTF-8 in a calendar's hours", calendar(len_field(3, b"09:00\xe2\x80")), Internal, "Calendar.mon"),
        ("invalid UTF-8 in a holiday's date", calendar(len_field(10, &len_field(1, b"2026-12-2\xff"))), Internal, "Holiday.date"),
        ("invalid UTF-8 in a channel calendar", invalid_utf_8_in_a_channel_calendar(), Internal, "ChannelCalendar.calendar"),

        // ---- huge: Huge repeated fields, and messages over the 4 MiB limit (OUT_OF_RANGE from
        // tonic, before the handler).
        ("10,000 copies of one holiday", n10_000_copies_of_one_holiday(), InvalidArgument, "policy.calendars.office.holidays"),
        ("1,001 distinct holidays (over the cap of 1,000)", n1_001_distinct_holidays_over_the_cap_of_1_000(), InvalidArgument, "policy.calendars.office.holidays"),
        ("65 calendars (over the cap of 64)", n65_calendars_over_the_cap_of_64(), InvalidArgument, "policy.calendars"),
        ("a calendar name of white space", a_calendar_name_of_white_space(), InvalidArgument, "policy.calendars. "),
        ("10,000 copies of one override", policy(|p| p.overrides = vec![vip_chat_override(); 10_000]), InvalidArgument, "policy.overrides[1].channel"),
        ("10,000 unnamed calendars", policy(|p| p.calendars = vec![pb::Calendar::default(); 10_000]), InvalidArgument, "policy.calendars[0].name"),

        // ---- request ids: Request ids on every mutating call: one used before (by the setup's
        // resolve or the queued ticket's create) with another body, on any call, is refused naming
        // request_id, even where the call itself would have been fine; malformed ids are refused
        // like any field.
        reused("resolve's request_id on a policy put", policy(|p| p.warning_fraction = 0.5)),
        ("newline in a policy put's request_id", keyed(policy(|p| p.warning_fraction = 0.5), "pol\n"), InvalidArgument, "request_id"),

        // ---- policies: Invalid policies: shape errors (named by position) and range errors (named
        // by key).
        ("target with negative nanos", email_targets(|t| t.first_response = dur(60, -1)), InvalidArgument, "policy.targets[0].first_response"),
        ("target with nanos of 1e9", email_targets(|t| t.next_reply = dur(60, 1_000_000_000)), InvalidArgument, "policy.targets[0].next_reply"),
        ("target of i64::MAX seconds", email_targets(|t| t.resolution = secs(i64::MAX)), InvalidArgument, "policy.targets[0].resolution"),
        ("target of i64::MIN seconds", email_targets(|t| t.follow_up = secs(i64::MIN)), InvalidArgument, "policy.targets[0].follow_up"),
        ("target of 367 days", email_targets(|t| t.resolution = secs(367 * DAY)), InvalidArgument, "policy.targets.email.resolution"),
        ("zero next reply target", email_targets(|t| t.next_reply = secs(0)), InvalidArgument, "policy.targets.email.next_reply"),
        ("target of one nanosecond", email_targets(|t| t.next_reply = dur(0, 1)), InvalidArgument, "policy.targets.email.next_reply"),
        ("zero follow-up target", email_targets(|t| t.follow_up = secs(0)), InvalidArgument, "policy.targets.email.follow_up"),
        ("target for an unknown channel", email_targets(|t| t.channel = 42), InvalidArgument, "policy.targets[0].channel"),
        ("target for a negative channel", email_targets(|t| t.channel = -1), InvalidArgument, "policy.targets[0].channel"),
        ("zero tier multiplier", zero_tier_multiplier(), InvalidArgument, "policy.tier_multipliers.vip"),
        ("infinite tier multiplier", infinite_tier_multiplier(), InvalidArgument, "policy.tier_multipliers.standard"),
        ("tier multiplier over 100", tier_multiplier_over_100(), InvalidArgument, "policy.tier_multipliers.new"),
        ("tier multiplier for tier unspecified", tier_multiplier_for_tier_unspecified(), InvalidArgument, "policy.tier_multipliers[0].tier"),
        ("tier multiplier for an unknown tier", tier_multiplier_for_an_unknown_tier(), InvalidArgument, "policy.tier_multipliers[1].tier"),
        ("negative priority multiplier", negative_priority_multiplier(), InvalidArgument, "policy.priority_multipliers.low"),
        ("priority multiplier of 1e300", priority_multiplier_of_1e300(), InvalidArgument, "policy.priority_multipliers.urgent"),
        ("priority multiplier for an unknown priority", priority_multiplier_for_an_unknown_priority(), InvalidArgument, "policy.priority_multipliers[0].priority"),
        ("priority multiplier for priority unspecified", priority_multiplier_for_priority_unspecified(), InvalidArgument, "policy.priority_multipliers[0].priority"),
        ("negative warning fraction", policy(|p| p.warning_fraction = -0.5), InvalidArgument, "policy.warning_fraction"),
        ("warning fraction of 1", policy(|p| p.warning_fraction = 1.0), InvalidArgument, "policy.warning_fraction"),
        ("NaN warning fraction", policy(|p| p.warning_fraction = f64::NAN), InvalidArgument, "policy.warning_fraction"),
        ("negative l2 offset", policy(|p| p.l2_offset = -1.0), InvalidArgument, "policy.l2_offset"),
        ("l2 offset over 100", policy(|p| p.l2_offset = 150.0), InvalidArgument, "policy.l2_offset"),
        ("NaN l2 offset", policy(|p| p.l2_offset = f64::NAN), InvalidArgument, "policy.l2_offset"),
        ("l3 offset under the default l2", policy(|p| p.l3_offset = 0.4), InvalidArgument, "policy.l3_offset"),
        ("l3 offset over 100", policy(|p| p.l3_offset = 100.5), InvalidArgument, "policy.l3_offset"),
        ("negative service level target", policy(|p| p.service_level_target = -0.1), InvalidArgument, "policy.service_level_target"),
        ("NaN service level target", policy(|p| p.service_level_target = f64::NAN), InvalidArgument, "policy.service_level_target"),
        ("preferred hold of 25 hours", policy(|p| p.preferred_hold = secs(25 * HOUR)), InvalidArgument, "policy.preferred_hold"),
        ("negative preferred hold", policy(|p| p.preferred_hold = secs(-1)), InvalidArgument, "policy.preferred_hold"),
        ("preferred hold of i64::MAX seconds", policy(|p| p.preferred_hold = secs(i64::MAX)), InvalidArgument, "policy.preferred_hold"),
        ("presence ttl of half a second", policy(|p| p.presence_ttl = dur(0, 500_000_000)), InvalidArgument, "policy.presence_ttl"),
        ("presence ttl of 25 hours", policy(|p| p.presence_ttl = secs(25 * HOUR)), InvalidArgument, "policy.presence_ttl"),
        ("presence ttl with negative nanos", policy(|p| p.presence_ttl = dur(10, -1)), InvalidArgument, "policy.presence_ttl"),
        ("zero follow-up delay", policy(|p| p.follow_up_after = secs(0)), InvalidArgument, "policy.follow_up_after"),
        ("follow-up delay of 367 days", policy(|p| p.follow_up_after = secs(367 * DAY)), InvalidArgument, "policy.follow_up_after"),
        ("follow-up delay of i64::MIN seconds", policy(|p| p.follow_up_after = secs(i64::MIN)), InvalidArgument, "policy.follow_up_after"),
        ("stats window of 59 seconds", policy(|p| p.stats_window = secs(59)), InvalidArgument, "policy.stats_window"),
        ("stats window of 31 days", policy(|p| p.stats_window = secs(31 * DAY)), InvalidArgument, "policy.stats_window"),
        ("stats window with nanos of 1e9", policy(|p| p.stats_window = dur(600, 1_000_000_000)), InvalidArgument, "policy.stats_window"),
        ("unknown l2 widening", policy(|p| p.l2_widen = 99), InvalidArgument, "policy.l2_widen"),
        ("negative l3 widening", policy(|p| p.l3_widen = -1), InvalidArgument, "policy.l3_widen"),
        ("widening to supervisors with no supervisor skill", widening_to_supervisors_with_no_supervisor_skill(), InvalidArgument, "policy.supervisor_skill"),
        ("upper-case supervisor skill", policy(|p| p.supervisor_skill = "Supervisor".into()), InvalidArgument, "policy.supervisor_skill"),
        ("oversized supervisor skill", policy(|p| p.supervisor_skill = "s".repeat(65)), InvalidArgument, "policy.supervisor_skill"),
        ("a space in the supervisor skill", policy(|p| p.supervisor_skill = "has space".into()), InvalidArgument, "policy.supervisor_skill"),
        ("a slash and non-ASCII in the onboarding skill", policy(|p| p.onboarding_skill = "ü/x".into()), InvalidArgument, "policy.onboarding_skill"),
        ("newline in the supervisor skill", policy(|p| p.supervisor_skill = "sup\n".into()), InvalidArgument, "policy.supervisor_skill"),
        ("oversized onboarding skill", policy(|p| p.onboarding_skill = "o".repeat(65)), InvalidArgument, "policy.onboarding_skill"),
        ("bell in the onboarding skill", policy(|p| p.onboarding_skill = "on\u{7}".into()), InvalidArgument, "policy.onboarding_skill"),
        ("override for an unknown tier", vip_chat(|o| o.tier = 99), InvalidArgument, "policy.overrides[0].tier"),
        ("override for channel unspecified", vip_chat(|o| o.channel = 0), InvalidArgument, "policy.overrides[0].channel"),
        ("override for an unknown channel", vip_chat(|o| o.channel = 42), InvalidArgument, "policy.overrides[0].channel"),
        ("override listed twice", policy(|p| p.overrides = vec![vip_chat_override(), vip_chat_override()]), InvalidArgument, "policy.overrides[1].channel"),
        ("override with a negative target", vip_chat(|o| o.resolution = secs(-60)), InvalidArgument, "policy.overrides[0].resolution"),
        ("override with nanos of 1e9", vip_chat(|o| o.next_reply = dur(1, 1_000_000_000)), InvalidArgument, "policy.overrides[0].next_reply"),
        ("override of 367 days", vip_chat(|o| o.follow_up = secs(367 * DAY)), InvalidArgument, "policy.overrides.vip.chat.follow_up"),
        ("calendar without a name", office(|c| c.name.clear()), InvalidArgument, "policy.calendars[0].name"),
        ("calendar with a 65-byte name", office(|c| c.name = long_calendar()), InvalidArgument, long_calendar_field()),
        ("calendar listed twice", policy(|p| p.calendars = vec![office_calendar(), office_calendar()]), InvalidArgument, "policy.calendars[1].name"),
        ("calendar without a time zone", office(|c| c.time_zone.clear()), InvalidArgument, "policy.calendars[0].time_zone"),
        ("calendar in a UTC offset", office(|c| c.time_zone = "+02:00".into()), InvalidArgument, "policy.calendars[0].time_zone"),
        ("calendar in a zone with a NUL", office(|c| c.time_zone = "Europe/Berlin\0".into()), InvalidArgument, "policy.calendars[0].time_zone"),
        ("calendar hours that overlap", calendar_hours_that_overlap(), InvalidArgument, "policy.calendars.office.tue[1]"),
        ("calendar hours out of order", calendar_hours_out_of_order(), InvalidArgument, "policy.calendars.office.wed[1]"),
        ("calendar hours that are empty", office(|c| c.thu = vec!["09:00-09:00".into()]), InvalidArgument, "policy.calendars.office.thu[0]"),
        ("calendar hours past 24:00", office(|c| c.fri = vec!["20:00-24:01".into()]), InvalidArgument, "policy.calendars[0].fri[0]"),
        ("calendar hours at 25 o'clock", office(|c| c.sat = vec!["10:00-25:00".into()]), InvalidArgument, "policy.calendars[0].sat[0]"),
        ("calendar hours with minute 60", office(|c| c.sun = vec!["09:60-10:00".into()]), InvalidArgument, "policy.calendars[0].sun[0]"),
        ("calendar hours with negative time", office(|c| c.mon = vec!["-1:00-10:00".into()]), InvalidArgument, "policy.calendars[0].mon[0]"),
        ("holiday listed twice", holiday_listed_twice(), InvalidArgument, "policy.calendars.office.holidays[1].date"),
        ("holiday on February 30", office(|c| c.holidays = vec![holiday("2026-02-30", &[])]), InvalidArgument, "policy.calendars[0].holidays[0].date"),
        ("holiday with an empty date", office(|c| c.holidays = vec![holiday("", &[])]), InvalidArgument, "policy.calendars[0].holidays[0].date"),
        ("holiday hours that are not hours", holiday_hours_that_are_not_hours(), InvalidArgument, "policy.calendars[0].holidays[0].hours[0]"),
        ("holiday hours that end before they start", holiday_hours_that_end_before_they_start(), InvalidArgument, "policy.calendars.office.holidays[0].hours[0]"),
        ("channel calendar for channel unspecified", channel_calendar_for_channel_unspecified(), InvalidArgument, "policy.channel_calendars[0].channel"),
        ("channel calendar for an unknown channel", channel_calendar_for_an_unknown_channel(), InvalidArgument, "policy.channel_calendars[0].channel"),
        ("channel calendar listed twice", channel_calendar_listed_twice(), InvalidArgument, "policy.channel_calendars[1].channel"),
        ("channel calendar naming the empty name", channel_calendar_naming_the_empty_name(), InvalidArgument, "policy.channel_calendars.email"),
    ]
}

/// A policy put with the office calendar, encoded, then `extra` appended to it.
fn calendar(extra: Vec<u8>) -> Req {
    let c = [office_calendar().encode_to_vec(), extra].concat();
    raw_policy(len_field(10, &c))
}

/// A calendar name one byte over the limit.
fn long_calendar() -> String {
    "c".repeat(65)
}

/// The field naming the calendar of `long_calendar`.
fn long_calendar_field() -> &'static str {
    leak(format!("policy.calendars.{}", long_calendar()))
}

/// The request of the row "zero target".
fn zero_target() -> Req {
    policy(|p| {
        p.targets = vec![email_target(Duration {
            seconds: 0,
            nanos: 0,
        })]
    })
}

/// The request of the row "negative target".
fn negative_target() -> Req {
    policy(|p| {
        p.targets = vec![email_target(Duration {
            seconds: -5,
            nanos: 0,
        })]
    })
}

/// The request of the row "negative tier multiplier".
fn negative_tier_multiplier() -> Req {
    policy(|p| {
        p.tier_multipliers = vec![pb::TierMultiplier {
            tier: Tier::Vip as i32,
            multiplier: -1.0,
        }]
    })
}

/// The request of the row "NaN priority multiplier".
fn nan_priority_multiplier() -> Req {
    policy(|p| {
        p.priority_multipliers = vec![pb::PriorityMultiplier {
            priority: pb::Priority::High as i32,
            multiplier: f64::NAN,
        }]
    })
}

/// The request of the row "calendar holiday that is not a date".
fn calendar_holiday_that_is_not_a_date() -> Req {
    office(|c| {
        c.holidays = vec![pb::Holiday {
            date: "25.12.2026".into(),
            hours: vec![],
        }]
    })
}

/// The request of the row "channel calendar naming no calendar".
fn channel_calendar_naming_no_calendar() -> Req {
    policy(|p| {
        p.channel_calendars = vec![pb::ChannelCalendar {
            channel: Channel::Email as i32,
            calendar: "nowhere".into(),
        }]
    })
}

/// The request of the row "override with a zero target".
fn override_with_a_zero_target() -> Req {
    policy(|p| {
        p.overrides = vec![pb::TargetOverride {
            tier: Tier::Vip as i32,
            channel: Channel::Chat as i32,
            first_response: Some(Duration {
                seconds: 0,
                nanos: 0,
            }),
            ..Default::default()
        }]
    })
}

/// The request of the row "override without a tier".
fn override_without_a_tier() -> Req {
    policy(|p| {
        p.overrides = vec![pb::TargetOverride {
            channel: Channel::Chat as i32,
            ..Default::default()
        }]
    })
}

/// The request of the row "invalid UTF-8 in a channel calendar".
fn invalid_utf_8_in_a_channel_calendar() -> Req {
    raw_policy(len_field(
        11,
        &[varint_field(1, 3), len_field(2, STRAY)].concat(),
    ))
}

/// The request of the row "10,000 copies of one holiday".
fn n10_000_copies_of_one_holiday() -> Req {
    office(|c| c.holidays = vec![holiday("2026-12-25", &[]); 10_000])
}

/// The request of the row "1,001 distinct holidays (over the cap of 1,000)".
fn n1_001_distinct_holidays_over_the_cap_of_1_000() -> Req {
    office(|c| {
        let first = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        c.holidays = (0..1001)
            .map(|d| holiday(&(first + chrono::Days::new(d)).to_string(), &[]))
            .collect();
    })
}

/// The request of the row "65 calendars (over the cap of 64)".
fn n65_calendars_over_the_cap_of_64() -> Req {
    policy(|p| {
        p.calendars = (0..65)
            .map(|i| pb::Calendar {
                name: format!("cal-{i}"),
                ..office_calendar()
            })
            .collect();
    })
}

/// The request of the row "a calendar name of white space".
fn a_calendar_name_of_white_space() -> Req {
    policy(|p| {
        p.calendars = vec![pb::Calendar {
            name: " ".into(),
            ..office_calendar()
        }]
    })
}

/// The request of the row "zero tier multiplier".
fn zero_tier_multiplier() -> Req {
    policy(|p| {
        p.tier_multipliers = vec![pb::TierMultiplier {
            tier: Tier::Vip as i32,
            multiplier: 0.0,
        }]
    })
}

/// The request of the row "infinite tier multiplier".
fn infinite_tier_multiplier() -> Req {
    policy(|p| {
        p.tier_multipliers = vec![pb::TierMultiplier {
            tier: Tier::Standard as i32,
            multiplier: f64::INFINITY,
        }]
    })
}

/// The request of the row "tier multiplier over 100".
fn tier_multiplier_over_100() -> Req {
    policy(|p| {
        p.tier_multipliers = vec![pb::TierMultiplier {
            tier: Tier::New as i32,
            multiplier: 101.0,
        }]
    })
}

/// The request of the row "tier multiplier for tier unspecified".
fn tier_multiplier_for_tier_unspecified() -> Req {
    policy(|p| {
        p.tier_multipliers = vec![pb::TierMultiplier {
            tier: 0,
            multiplier: 1.0,
        }]
    })
}

/// The request of the row "tier multiplier for an unknown tier".
fn tier_multiplier_for_an_unknown_tier() -> Req {
    policy(|p| {
        p.tier_multipliers = vec![
            pb::TierMultiplier {
                tier: 1,
                multiplier: 1.0,
            },
            pb::TierMultiplier {
                tier: 99,
                multiplier: 1.0,
            },
        ]
    })
}

/// The request of the row "negative priority multiplier".
fn negative_priority_multiplier() -> Req {
    policy(|p| {
        p.priority_multipliers = vec![pb::PriorityMultiplier {
            priority: pb::Priority::Low as i32,
            multiplier: -0.5,
        }]
    })
}

/// The request of the row "priority multiplier of 1e300".
fn priority_multiplier_of_1e300() -> Req {
    policy(|p| {
        p.priority_multipliers = vec![pb::PriorityMultiplier {
            priority: pb::Priority::Urgent as i32,
            multiplier: 1e300,
        }]
    })
}

/// The request of the row "priority multiplier for an unknown priority".
fn priority_multiplier_for_an_unknown_priority() -> Req {
    policy(|p| {
        p.priority_multipliers = vec![pb::PriorityMultiplier {
            priority: 9,
            multiplier: 1.0,
        }]
    })
}

/// The request of the row "priority multiplier for priority unspecified".
fn priority_multiplier_for_priority_unspecified() -> Req {
    policy(|p| {
        p.priority_multipliers = vec![pb::PriorityMultiplier {
            priority: 0,
            multiplier: 1.0,
        }]
    })
}

/// The request of the row "widening to supervisors with no supervisor skill".
fn widening_to_supervisors_with_no_supervisor_skill() -> Req {
    Req::PutPolicy(Box::new(pb::PutSlaPolicyRequest {
        policy: Some(pb::SlaPolicy {
            l2_widen: pb::Widen::Supervisors as i32,
            ..Default::default()
        }),
        replace: true,
        ..Default::default()
    }))
}

/// The request of the row "calendar hours that overlap".
fn calendar_hours_that_overlap() -> Req {
    office(|c| c.tue = vec!["09:00-12:00".into(), "11:00-13:00".into()])
}

/// The request of the row "calendar hours out of order".
fn calendar_hours_out_of_order() -> Req {
    office(|c| c.wed = vec!["14:00-18:00".into(), "09:00-12:00".into()])
}

/// The request of the row "holiday listed twice".
fn holiday_listed_twice() -> Req {
    office(|c| {
        c.holidays = vec![
            holiday("2026-12-25", &[]),
            holiday("2026-12-25", &["09:00-12:00"]),
        ]
    })
}

/// The request of the row "holiday hours that are not hours".
fn holiday_hours_that_are_not_hours() -> Req {
    office(|c| c.holidays = vec![holiday("2026-12-24", &["morning"])])
}

/// The request of the row "holiday hours that end before they start".
fn holiday_hours_that_end_before_they_start() -> Req {
    office(|c| c.holidays = vec![holiday("2026-12-24", &["13:00-09:00"])])
}

/// The request of the row "channel calendar for channel unspecified".
fn channel_calendar_for_channel_unspecified() -> Req {
    policy(|p| p.channel_calendars = vec![channel_calendar(0, "office")])
}

/// The request of the row "channel calendar for an unknown channel".
fn channel_calendar_for_an_unknown_channel() -> Req {
    policy(|p| p.channel_calendars = vec![channel_calendar(42, "office")])
}

/// The request of the row "channel calendar listed twice".
fn channel_calendar_listed_twice() -> Req {
    policy(|p| {
        p.calendars = vec![office_calendar()];
        p.channel_calendars = vec![channel_calendar(3, "office"), channel_calendar(3, "office")];
    })
}

/// The request of the row "channel calendar naming the empty name".
fn channel_calendar_naming_the_empty_name() -> Req {
    policy(|p| p.channel_calendars = vec![channel_calendar(3, "")])
}

/// A valid `PutWebhook` changed by `f`.
fn webhook(f: impl FnOnce(&mut pb::PutWebhookRequest)) -> Req {
    let mut r = pb::PutWebhookRequest {
        id: "crm".into(),
        url: "http://127.0.0.1:9/hook".into(),
        kinds: vec![pb::EventKind::Created as i32],
        secret: "secret".into(),
        give_up_after: None,
    };
    f(&mut r);
    Req::PutWebhook(r)
}

fn erase(customer_id: &str) -> Req {
    Req::Erase(pb::EraseCustomerRequest {
        customer_id: customer_id.into(),
    })
}

fn offer_timeout_listed_twice() -> Req {
    let ten = |channel: Channel| pb::ChannelOfferTimeout {
        channel: channel as i32,
        timeout: Some(Duration {
            seconds: 10,
            nanos: 0,
        }),
    };
    policy(|p| p.offer_timeouts = vec![ten(Channel::Chat), ten(Channel::Chat)])
}
