//! The SLA policy across the API, in the same shape as the TOML `[policy]` table:
//! `GetSlaPolicy` shows the policy in force whole; `PutSlaPolicy` becomes a `PolicyPatch` that
//! the core merges onto it in one command (or, with `replace`, over the shipped defaults). The
//! core validates the result and names the offending field.

use super::convert::{
    channel as pb_channel, duration, level as pb_level, priority as pb_priority, tier as pb_tier,
};
use super::status::invalid;
use super::validate::{
    channel, optional_enum, priority, request_id, required_enum, span, tier, Checked,
};
use crate::core::calendar::{Calendar, Holiday, Hours};
use crate::core::idempotency::RequestKey;
use crate::core::policy::{QueueOrder, SlaPolicy, TargetOverride};
use crate::core::policy_patch::{OfferPatch, Overrides, PolicyPatch};
use crate::core::proficiency::Select;
use crate::core::rings::RingsPatch;
use crate::core::types::{Channel, Level, Priority, SlaMetric, Span, Tier, Widen};
use crate::proto as pb;
use prost::Message;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The policy in force, every field set.
pub fn to_proto(p: &SlaPolicy) -> pb::SlaPolicy {
    pb::SlaPolicy {
        targets: Channel::ALL
            .iter()
            .map(|&c| {
                let t = p.targets.get(c);
                pb::ChannelTargets {
                    channel: pb_channel(c) as i32,
                    first_response: Some(duration(t.first_response)),
                    next_reply: Some(duration(t.next_reply)),
                    resolution: Some(duration(t.resolution)),
                    follow_up: Some(duration(t.follow_up)),
                }
            })
            .collect(),
        tier_multipliers: Tier::ALL
            .iter()
            .map(|&t| pb::TierMultiplier {
                tier: pb_tier(t) as i32,
                multiplier: p.tier_multipliers.get(t),
            })
            .collect(),
        priority_multipliers: Priority::ALL
            .iter()
            .map(|&pr| pb::PriorityMultiplier {
                priority: pb_priority(pr) as i32,
                multiplier: p.priority_multipliers.get(pr),
            })
            .collect(),
        warning_fraction: p.warning_fraction,
        l2_offset: p.l2_offset,
        l3_offset: p.l3_offset,
        preferred_hold: Some(duration(p.preferred_hold)),
        presence_ttl: Some(duration(p.presence_ttl)),
        overrides: overrides_to_proto(p),
        calendars: p
            .calendars
            .iter()
            .map(|(name, c)| calendar_to_proto(name, c))
            .collect(),
        channel_calendars: p
            .channel_calendars
            .iter()
            .map(|(&c, name)| pb::ChannelCalendar {
                channel: pb_channel(c) as i32,
                calendar: name.clone(),
            })
            .collect(),
        follow_up_after: Some(duration(p.follow_up_after)),
        l2_widen: widen_to_proto(p.widening.l2) as i32,
        l3_widen: widen_to_proto(p.widening.l3) as i32,
        supervisor_skill: p.supervisor_skill.clone(),
        onboarding_skill: p.onboarding_skill.clone(),
        service_level_target: p.service_level_target,
        stats_window: Some(duration(p.stats_window)),
        order: order_to_proto(p.order) as i32,
        force_level: pb_level(p.force_level) as i32,
        offer_timeouts: p
            .offers
            .offer_timeout
            .iter()
            .map(|(&c, &t)| pb::ChannelOfferTimeout {
                channel: pb_channel(c) as i32,
                timeout: Some(duration(t)),
            })
            .collect(),
        max_missed_offers: Some(p.offers.max_missed_offers),
        reoffer_after: Some(duration(p.offers.reoffer_after)),
        wrap_up: p
            .presence
            .wrap_up
            .iter()
            .map(|(&c, &s)| pb::ChannelWrapUp {
                channel: pb_channel(c) as i32,
                wrap_up: Some(duration(s)),
            })
            .collect(),
        presence_reasons: p.presence.reasons.clone(),
        select: select_to_proto(p.select) as i32,
        rings: Some(pb::Rings {
            drop_optional: p.rings.drop_optional.map(duration),
            lower_minimums: p.rings.lower_minimums.map(duration),
            any_agent: p.rings.any_agent.map(duration),
        }),
        fifo_bound: Some(pb::FifoBound {
            factor: Some(p.fifo_bound.factor),
            floor: Some(duration(p.fifo_bound.floor)),
        }),
    }
}

fn select_to_proto(s: Select) -> pb::AgentSelect {
    match s {
        Select::LeastLoaded => pb::AgentSelect::LeastLoaded,
        Select::LongestIdle => pb::AgentSelect::LongestIdle,
        Select::MostProficient => pb::AgentSelect::MostProficient,
    }
}

fn select(p: pb::AgentSelect) -> Option<Select> {
    match p {
        pb::AgentSelect::Unspecified => None,
        pb::AgentSelect::LeastLoaded => Some(Select::LeastLoaded),
        pb::AgentSelect::LongestIdle => Some(Select::LongestIdle),
        pb::AgentSelect::MostProficient => Some(Select::MostProficient),
    }
}

/// The rings a put gives (`policy.rings.<ring>`): unset keeps, zero turns a ring off.
fn rings(r: &Option<pb::Rings>) -> Checked<RingsPatch> {
    let Some(r) = r else {
        return Ok(RingsPatch::default());
    };
    let wait = |name: &str, d: &Option<prost_types::Duration>| {
        d.as_ref()
            .map(|d| span(&format!("policy.rings.{name}"), d))
            .transpose()
    };
    Ok(RingsPatch {
        drop_optional: wait("drop_optional", &r.drop_optional)?,
        lower_minimums: wait("lower_minimums", &r.lower_minimums)?,
        any_agent: wait("any_agent", &r.any_agent)?,
    })
}

fn order_to_proto(o: QueueOrder) -> pb::QueueOrder {
    match o {
        QueueOrder::Deadline => pb::QueueOrder::Deadline,
        QueueOrder::SavableFirst => pb::QueueOrder::SavableFirst,
        QueueOrder::SavableTurns => pb::QueueOrder::SavableTurns,
    }
}

fn queue_order(p: pb::QueueOrder) -> Option<QueueOrder> {
    match p {
        pb::QueueOrder::Unspecified => None,
        pb::QueueOrder::Deadline => Some(QueueOrder::Deadline),
        pb::QueueOrder::SavableFirst => Some(QueueOrder::SavableFirst),
        pb::QueueOrder::SavableTurns => Some(QueueOrder::SavableTurns),
    }
}

/// A level as `force_level` takes it; NONE and WARNING reach the core, which refuses them.
fn level(p: pb::EscalationLevel) -> Option<Level> {
    match p {
        pb::EscalationLevel::Unspecified => None,
        pb::EscalationLevel::None => Some(Level::None),
        pb::EscalationLevel::Warning => Some(Level::Warning),
        pb::EscalationLevel::L1 => Some(Level::L1),
        pb::EscalationLevel::L2 => Some(Level::L2),
        pb::EscalationLevel::L3 => Some(Level::L3),
    }
}

fn overrides_to_proto(p: &SlaPolicy) -> Vec<pb::TargetOverride> {
    let mut out = Vec::new();
    for (&t, by_channel) in &p.overrides {
        for (&c, o) in by_channel {
            let d = |s: Option<Span>| s.map(duration);
            out.push(pb::TargetOverride {
                tier: pb_tier(t) as i32,
                channel: pb_channel(c) as i32,
                first_response: d(o.first_response),
                next_reply: d(o.next_reply),
                resolution: d(o.resolution),
                follow_up: d(o.follow_up),
            });
        }
    }
    out
}

fn calendar_to_proto(name: &str, c: &Calendar) -> pb::Calendar {
    let hours = |h: &[Hours]| h.iter().map(Hours::to_string).collect();
    pb::Calendar {
        name: name.to_string(),
        time_zone: c.time_zone.name().to_string(),
        mon: hours(&c.mon),
        tue: hours(&c.tue),
        wed: hours(&c.wed),
        thu: hours(&c.thu),
        fri: hours(&c.fri),
        sat: hours(&c.sat),
        sun: hours(&c.sun),
        holidays: c
            .holidays
            .iter()
            .map(|h| pb::Holiday {
                date: h.date.to_string(),
                hours: hours(&h.hours),
            })
            .collect(),
    }
}

fn widen_to_proto(w: Widen) -> pb::Widen {
    match w {
        Widen::Keep => pb::Widen::Keep,
        Widen::FirstSkill => pb::Widen::FirstSkill,
        Widen::AnyAgent => pb::Widen::AnyAgent,
        Widen::Supervisors => pb::Widen::Supervisors,
    }
}

fn widen(p: pb::Widen) -> Option<Widen> {
    match p {
        pb::Widen::Unspecified => None,
        pb::Widen::Keep => Some(Widen::Keep),
        pb::Widen::FirstSkill => Some(Widen::FirstSkill),
        pb::Widen::AnyAgent => Some(Widen::AnyAgent),
        pb::Widen::Supervisors => Some(Widen::Supervisors),
    }
}

/// The request key of a put sent with a `request_id` (taken out of `r`). The fingerprint is
/// of the request as sent (its protobuf encoding, which has no maps and so one form), not of
/// the policy it makes, which depends on the one in force when it is applied.
pub fn request_key(r: &mut pb::PutSlaPolicyRequest) -> Checked<Option<RequestKey>> {
    let id = request_id("request_id", std::mem::take(&mut r.request_id))?;
    if id.is_empty() {
        return Ok(None);
    }
    Ok(Some(RequestKey::of_bytes(id, &r.encode_to_vec())))
}

/// The change a put asks for, merged by the core onto the policy in force (or, with
/// `replace`, over the defaults). Shape errors are INVALID_ARGUMENT naming `policy.<field>`;
/// the core checks the ranges. Protobuf cannot tell an unset number, string or list from a
/// zero or empty one: those count as unset, except that `replace` takes strings and lists
/// as sent.
pub fn from_put(r: pb::PutSlaPolicyRequest) -> Checked<PolicyPatch> {
    let p = r.policy.ok_or_else(|| invalid("policy", "is required"))?;
    let (replace, given) = (r.replace, |empty: bool| r.replace || !empty);
    let scalar = |v: f64| (v != 0.0).then_some(v);
    let span_of = |name: &str, v: &Option<prost_types::Duration>| {
        v.as_ref()
            .map(|d| span(&format!("policy.{name}"), d))
            .transpose()
    };
    let skill = |s: &String| given(s.is_empty()).then(|| s.clone());
    Ok(PolicyPatch {
        replace,
        targets: targets(&p)?,
        tier_multipliers: tier_multipliers(&p)?,
        priority_multipliers: priority_multipliers(&p)?,
        warning_fraction: scalar(p.warning_fraction),
        l2_offset: scalar(p.l2_offset),
        l3_offset: scalar(p.l3_offset),
        service_level_target: scalar(p.service_level_target),
        preferred_hold: span_of("preferred_hold", &p.preferred_hold)?,
        presence_ttl: span_of("presence_ttl", &p.presence_ttl)?,
        follow_up_after: span_of("follow_up_after", &p.follow_up_after)?,
        stats_window: span_of("stats_window", &p.stats_window)?,
        l2_widen: optional_enum("policy.l2_widen", p.l2_widen, widen)?,
        l3_widen: optional_enum("policy.l3_widen", p.l3_widen, widen)?,
        order: optional_enum("policy.order", p.order, queue_order)?,
        force_level: optional_enum("policy.force_level", p.force_level, level)?,
        select: optional_enum("policy.select", p.select, select)?,
        rings: rings(&p.rings)?,
        fifo_factor: p.fifo_bound.as_ref().and_then(|b| b.factor),
        fifo_floor: span_of(
            "fifo_bound.floor",
            &p.fifo_bound.as_ref().and_then(|b| b.floor),
        )?,
        supervisor_skill: skill(&p.supervisor_skill),
        onboarding_skill: skill(&p.onboarding_skill),
        overrides: given(p.overrides.is_empty())
            .then(|| overrides(&p.overrides))
            .transpose()?,
        calendars: given(p.calendars.is_empty())
            .then(|| calendars(&p.calendars))
            .transpose()?,
        channel_calendars: given(p.channel_calendars.is_empty())
            .then(|| channel_calendars(&p.channel_calendars))
            .transpose()?,
        wrap_up: wrap_ups(&p)?,
        presence_reasons: given(p.presence_reasons.is_empty()).then(|| p.presence_reasons.clone()),
        offers: OfferPatch {
            offer_timeout: offer_timeouts(&p.offer_timeouts)?,
            max_missed_offers: p.max_missed_offers,
            reoffer_after: span_of("reoffer_after", &p.reoffer_after)?,
        },
    })
}

fn offer_timeouts(list: &[pb::ChannelOfferTimeout]) -> Checked<Vec<(Channel, Span)>> {
    let mut out: Vec<(Channel, Span)> = Vec::with_capacity(list.len());
    for (i, o) in list.iter().enumerate() {
        let field = |name: &str| format!("policy.offer_timeouts[{i}].{name}");
        let c = required_enum(&field("channel"), o.channel, channel)?;
        if out.iter().any(|&(seen, _)| seen == c) {
            return Err(invalid(&field("channel"), "is listed twice"));
        }
        let timeout = o
            .timeout
            .as_ref()
            .ok_or_else(|| invalid(&field("timeout"), "is required (0 turns offers off)"))?;
        out.push((c, span(&field("timeout"), timeout)?));
    }
    Ok(out)
}

fn wrap_ups(p: &pb::SlaPolicy) -> Checked<Vec<(Channel, Span)>> {
    let mut out = Vec::with_capacity(p.wrap_up.len());
    for (i, w) in p.wrap_up.iter().enumerate() {
        let field = |name: &str| format!("policy.wrap_up[{i}].{name}");
        let c = required_enum(&field("channel"), w.channel, channel)?;
        let d = w.wrap_up.as_ref().map(|d| span(&field("wrap_up"), d));
        out.push((c, d.transpose()?.unwrap_or_default()));
    }
    Ok(out)
}

fn targets(p: &pb::SlaPolicy) -> Checked<Vec<(Channel, TargetOverride)>> {
    let mut out = Vec::with_capacity(p.targets.len());
    for (i, t) in p.targets.iter().enumerate() {
        let field = |name: &str| format!("policy.targets[{i}].{name}");
        let c = required_enum(&field("channel"), t.channel, channel)?;
        let d = |metric: SlaMetric, v: &Option<prost_types::Duration>| {
            v.as_ref()
                .map(|d| span(&field(metric.label()), d))
                .transpose()
        };
        let set = TargetOverride {
            first_response: d(SlaMetric::FirstResponse, &t.first_response)?,
            next_reply: d(SlaMetric::NextReply, &t.next_reply)?,
            resolution: d(SlaMetric::Resolution, &t.resolution)?,
            follow_up: d(SlaMetric::FollowUp, &t.follow_up)?,
        };
        out.push((c, set));
    }
    Ok(out)
}

fn tier_multipliers(p: &pb::SlaPolicy) -> Checked<Vec<(Tier, f64)>> {
    p.tier_multipliers
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let t = required_enum(&format!("policy.tier_multipliers[{i}].tier"), m.tier, tier)?;
            Ok((t, m.multiplier))
        })
        .collect()
}

fn priority_multipliers(p: &pb::SlaPolicy) -> Checked<Vec<(Priority, f64)>> {
    p.priority_multipliers
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let field = format!("policy.priority_multipliers[{i}].priority");
            Ok((required_enum(&field, m.priority, priority)?, m.multiplier))
        })
        .collect()
}

fn overrides(list: &[pb::TargetOverride]) -> Checked<Overrides> {
    let mut out = Overrides::new();
    for (i, o) in list.iter().enumerate() {
        let field = |name: &str| format!("policy.overrides[{i}].{name}");
        let t = required_enum(&field("tier"), o.tier, tier)?;
        let c = required_enum(&field("channel"), o.channel, channel)?;
        let d = |name: &str, v: &Option<prost_types::Duration>| {
            v.as_ref().map(|d| span(&field(name), d)).transpose()
        };
        let entry = TargetOverride {
            first_response: d("first_response", &o.first_response)?,
            next_reply: d("next_reply", &o.next_reply)?,
            resolution: d("resolution", &o.resolution)?,
            follow_up: d("follow_up", &o.follow_up)?,
        };
        if out.entry(t).or_default().insert(c, entry).is_some() {
            return Err(invalid(&field("channel"), "is listed twice for this tier"));
        }
    }
    Ok(out)
}

fn calendars(list: &[pb::Calendar]) -> Checked<BTreeMap<String, Arc<Calendar>>> {
    let mut out = BTreeMap::new();
    for (i, c) in list.iter().enumerate() {
        let field = |name: &str| format!("policy.calendars[{i}].{name}");
        if c.name.is_empty() {
            return Err(invalid(&field("name"), "is required"));
        }
        let time_zone = c
            .time_zone
            .parse()
            .map_err(|_| invalid(&field("time_zone"), "is not an IANA time zone name"))?;
        let hours = |name: &str, list: &[String]| -> Checked<Vec<Hours>> {
            list.iter()
                .enumerate()
                .map(|(j, h)| {
                    h.parse()
                        .map_err(|e: crate::core::calendar::CalendarError| {
                            invalid(&field(&format!("{name}[{j}]")), e.reason)
                        })
                })
                .collect()
        };
        let mut holidays = Vec::with_capacity(c.holidays.len());
        for (j, h) in c.holidays.iter().enumerate() {
            let date = h.date.parse().map_err(|_| {
                invalid(
                    &field(&format!("holidays[{j}].date")),
                    "is not a date like 2026-12-25",
                )
            })?;
            let hours = hours(&format!("holidays[{j}].hours"), &h.hours)?;
            holidays.push(Holiday { date, hours });
        }
        let calendar = Calendar {
            time_zone,
            mon: hours("mon", &c.mon)?,
            tue: hours("tue", &c.tue)?,
            wed: hours("wed", &c.wed)?,
            thu: hours("thu", &c.thu)?,
            fri: hours("fri", &c.fri)?,
            sat: hours("sat", &c.sat)?,
            sun: hours("sun", &c.sun)?,
            holidays,
        };
        if out.insert(c.name.clone(), Arc::new(calendar)).is_some() {
            return Err(invalid(&field("name"), "is listed twice"));
        }
    }
    Ok(out)
}

fn channel_calendars(list: &[pb::ChannelCalendar]) -> Checked<BTreeMap<Channel, String>> {
    let mut out = BTreeMap::new();
    for (i, cc) in list.iter().enumerate() {
        let field = format!("policy.channel_calendars[{i}].channel");
        let c = required_enum(&field, cc.channel, channel)?;
        if out.insert(c, cc.calendar.clone()).is_some() {
            return Err(invalid(&field, "is listed twice"));
        }
    }
    Ok(out)
}
