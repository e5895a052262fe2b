//! The SLA policy: targets per channel and clock, multipliers per tier and priority, and the
//! fractions that place warnings and escalation steps. The shipped defaults are DOMAIN.md's.
//!
//! One schema serves the TOML config (spans as `"30s"`), the persisted record and, through the
//! API's conversion, `GetSlaPolicy`/`PutSlaPolicy`.

use super::activity::PresencePolicy;
use super::calendar::Calendar;
use super::fifo_bound::FifoBound;
use super::proficiency::Select;
use super::rings::Rings;
use super::routing::BoundAt;
use super::types::{Channel, Level, Priority, SlaMetric, Span, Tier, Ts, Widen};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Targets of one channel, one per clock.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub first_response: Span,
    pub next_reply: Span,
    pub resolution: Span,
    /// From resolution until the check-back must have happened.
    #[serde(default = "default_follow_up")]
    pub follow_up: Span,
}

/// DOMAIN.md: a check-back is owed 24-72 h after resolution; 72 h is when it is late.
fn default_follow_up() -> Span {
    Span::hours(72)
}

impl Targets {
    const fn new(first_response: Span, next_reply: Span, resolution: Span) -> Targets {
        Targets {
            first_response,
            next_reply,
            resolution,
            follow_up: Span::hours(72),
        }
    }

    /// The target of `metric`; `None` for an interim update (its due is a promise).
    pub fn get(&self, metric: SlaMetric) -> Option<Span> {
        match metric {
            SlaMetric::FirstResponse => Some(self.first_response),
            SlaMetric::NextReply => Some(self.next_reply),
            SlaMetric::Resolution => Some(self.resolution),
            SlaMetric::FollowUp => Some(self.follow_up),
            SlaMetric::InterimUpdate => None,
        }
    }

    pub fn get_mut(&mut self, metric: SlaMetric) -> Option<&mut Span> {
        match metric {
            SlaMetric::FirstResponse => Some(&mut self.first_response),
            SlaMetric::NextReply => Some(&mut self.next_reply),
            SlaMetric::Resolution => Some(&mut self.resolution),
            SlaMetric::FollowUp => Some(&mut self.follow_up),
            SlaMetric::InterimUpdate => None,
        }
    }
}

/// Targets set directly for one tier on one channel (a VIP chat first response of 15 s):
/// each one replaces channel target × tier multiplier; the priority multiplier still applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetOverride {
    pub first_response: Option<Span>,
    pub next_reply: Option<Span>,
    pub resolution: Option<Span>,
    pub follow_up: Option<Span>,
}

impl TargetOverride {
    pub fn get(&self, metric: SlaMetric) -> Option<Span> {
        match metric {
            SlaMetric::FirstResponse => self.first_response,
            SlaMetric::NextReply => self.next_reply,
            SlaMetric::Resolution => self.resolution,
            SlaMetric::FollowUp => self.follow_up,
            SlaMetric::InterimUpdate => None,
        }
    }

    pub fn get_mut(&mut self, metric: SlaMetric) -> Option<&mut Option<Span>> {
        match metric {
            SlaMetric::FirstResponse => Some(&mut self.first_response),
            SlaMetric::NextReply => Some(&mut self.next_reply),
            SlaMetric::Resolution => Some(&mut self.resolution),
            SlaMetric::FollowUp => Some(&mut self.follow_up),
            SlaMetric::InterimUpdate => None,
        }
    }
}

/// How far routing widens at L2 and L3 (the bullseye).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Widening {
    pub l2: Widen,
    pub l3: Widen,
}

impl Default for Widening {
    /// L2: the first required skill is enough; L3: any available agent.
    fn default() -> Self {
        Widening {
            l2: Widen::FirstSkill,
            l3: Widen::AnyAgent,
        }
    }
}

/// Targets for every channel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelTargets {
    pub chat: Targets,
    pub messenger: Targets,
    pub email: Targets,
    pub phone: Targets,
    pub social: Targets,
    pub review: Targets,
}

impl ChannelTargets {
    pub fn get(&self, channel: Channel) -> &Targets {
        match channel {
            Channel::Chat => &self.chat,
            Channel::Messenger => &self.messenger,
            Channel::Email => &self.email,
            Channel::Phone => &self.phone,
            Channel::Social => &self.social,
            Channel::Review => &self.review,
        }
    }
    pub fn get_mut(&mut self, channel: Channel) -> &mut Targets {
        match channel {
            Channel::Chat => &mut self.chat,
            Channel::Messenger => &mut self.messenger,
            Channel::Email => &mut self.email,
            Channel::Phone => &mut self.phone,
            Channel::Social => &mut self.social,
            Channel::Review => &mut self.review,
        }
    }
}

impl Default for ChannelTargets {
    /// DOMAIN.md: first response per channel; next reply as first response; resolution 24 h
    /// (a standard question), 72 h for reviews, whose first answer alone may take 48 h.
    fn default() -> ChannelTargets {
        let day = Span::hours(24);
        ChannelTargets {
            chat: Targets::new(Span::secs(30), Span::secs(30), day),
            messenger: Targets::new(Span::mins(5), Span::mins(5), day),
            email: Targets::new(Span::hours(2), Span::hours(2), day),
            phone: Targets::new(Span::secs(30), Span::secs(30), day),
            social: Targets::new(Span::hours(1), Span::hours(1), day),
            review: Targets::new(Span::hours(48), Span::hours(48), Span::hours(72)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TierMultipliers {
    pub vip: f64,
    pub new: f64,
    pub standard: f64,
}

impl Default for TierMultipliers {
    fn default() -> Self {
        TierMultipliers {
            vip: 0.5,
            new: 0.75,
            standard: 1.0,
        }
    }
}

impl TierMultipliers {
    pub fn get(&self, tier: Tier) -> f64 {
        match tier {
            Tier::Vip => self.vip,
            Tier::New => self.new,
            Tier::Standard => self.standard,
        }
    }
    pub fn get_mut(&mut self, tier: Tier) -> &mut f64 {
        match tier {
            Tier::Vip => &mut self.vip,
            Tier::New => &mut self.new,
            Tier::Standard => &mut self.standard,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityMultipliers {
    pub low: f64,
    pub normal: f64,
    pub high: f64,
    pub urgent: f64,
}

impl Default for PriorityMultipliers {
    fn default() -> Self {
        PriorityMultipliers {
            low: 2.0,
            normal: 1.0,
            high: 0.5,
            urgent: 0.25,
        }
    }
}

impl PriorityMultipliers {
    pub fn get(&self, priority: Priority) -> f64 {
        match priority {
            Priority::Low => self.low,
            Priority::Normal => self.normal,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }
    pub fn get_mut(&mut self, priority: Priority) -> &mut f64 {
        match priority {
            Priority::Low => &mut self.low,
            Priority::Normal => &mut self.normal,
            Priority::High => &mut self.high,
            Priority::Urgent => &mut self.urgent,
        }
    }
}

/// The policy in force. Every default is DOMAIN.md's and every one is a setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaPolicy {
    pub targets: ChannelTargets,
    pub tier_multipliers: TierMultipliers,
    pub priority_multipliers: PriorityMultipliers,
    /// Share of a target after which the warning fires.
    pub warning_fraction: f64,
    /// L2 fires at breach + this share of the target; L3 at breach + `l3_offset`.
    pub l2_offset: f64,
    pub l3_offset: f64,
    /// How long a preferred agent (a VIP's personal manager) has a new ticket to itself.
    pub preferred_hold: Span,
    /// An agent with no heartbeat for this long goes OFFLINE.
    pub presence_ttl: Span,
    /// Per-tier targets that replace the multiplier, by tier then channel. A tier with no
    /// channel is dropped when read (`[policy.overrides.vip]` alone overrides nothing), so
    /// every policy has one form and survives the protobuf round trip unchanged.
    #[serde(deserialize_with = "overrides_with_channels")]
    pub overrides: BTreeMap<Tier, BTreeMap<Channel, TargetOverride>>,
    /// Named business-hours calendars.
    pub calendars: BTreeMap<String, Arc<Calendar>>,
    /// The calendar each channel's clocks count in; a channel left out counts 24/7.
    pub channel_calendars: BTreeMap<Channel, String>,
    /// When after resolution the check-back becomes due (the follow-up event); the follow-up
    /// target says when it is late.
    pub follow_up_after: Span,
    pub widening: Widening,
    /// The skill that makes an agent a supervisor (for `Widen::Supervisors`).
    pub supervisor_skill: String,
    /// New customers' tickets wait for an agent with this skill during the hold window, when
    /// one is present. Empty: no preference.
    pub onboarding_skill: String,
    /// The service level the desk aims for (share of first responses within target).
    pub service_level_target: f64,
    /// The sliding window of the service-level figures in `GetQueueStats`.
    pub stats_window: Span,
    /// How a pull chooses among the tickets an agent may take (see `QueueOrder`). The last
    /// fields of the record: a policy stored before they existed reads with their defaults
    /// (`store::codec::decode_policy`).
    pub order: QueueOrder,
    /// Under `savable_first`, a late ticket whose escalation reached this level (L1, L2 or
    /// L3) goes before savable ones: the bound on how long savable work can keep it waiting.
    pub force_level: Level,
    /// Offers with accept/reject (see `core::offer`). The last field of the record: a policy
    /// stored before it reads with the default, no offers.
    pub offers: super::offer::OfferPolicy,
    /// Wrap-up per channel and the presence reason codes (see `activity`). The record's
    /// last field: a policy stored before it reads with the defaults.
    pub presence: PresencePolicy,
    /// Which of several waiting agents a dispatch serves first (see `proficiency::Select`).
    /// With `rings`, the last fields of the record (`store::codec::decode_policy`).
    pub select: Select,
    /// The time rings (see `rings`): none by default.
    pub rings: Rings,
    /// How much longer than FIFO a ticket may wait before it goes first (see `fifo_bound`).
    /// The record's last field: a policy stored before it reads with the default.
    pub fifo_bound: FifoBound,
}

/// How a pull chooses among the tickets an agent may take. All keep VIP and priority (through
/// the targets), the preferred-agent and onboarding holds and the widening of routing; they
/// differ in where tickets already past their target go. The default is `savable_turns`: on
/// the simulated day it answers the most contacts within target whenever the desk is short of
/// people, and the same as `savable_first` when it is not (README "How it schedules").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOrder {
    /// Earliest due first: a late ticket goes before every ticket that can still make it.
    /// Optimal while the desk keeps up; under overload it spends agents on tickets that can
    /// no longer count as within target, and the ones behind them go late too.
    Deadline,
    /// Tickets that can still meet their target (due at or after now) first, least slack
    /// (earliest due) first; then late ones, longest late first. A late ticket whose
    /// escalation reached `force_level` goes before both, in due order among its kind, so
    /// savable work keeps a ticket waiting at most until (1 + that level's offset) × its
    /// target after its clock started (L3 by default: twice the target).
    SavableFirst,
    /// `savable_first`, except that an agent takes forced tickets first only on its turn,
    /// every other minute (`core::turns`), and otherwise as late work: after savable tickets,
    /// before other late ones. Why: under `savable_first`, when the desk is short for hours,
    /// every ticket left late comes back at `force_level` and goes first, which hands the
    /// agents back to late work (the domino effect a forcing level later); with turns, about
    /// half of the agents that free up take forced work and the rest savable work. The bound:
    /// savable work keeps a ticket waiting until `force_level`, and from then on at most until
    /// an eligible agent with room is on its turn (every agent's comes within a minute) and
    /// the forced tickets due before it are taken.
    #[default]
    SavableTurns,
}

impl QueueOrder {
    pub const ALL: &'static [QueueOrder] = &[
        QueueOrder::Deadline,
        QueueOrder::SavableFirst,
        QueueOrder::SavableTurns,
    ];

    pub fn label(self) -> &'static str {
        match self {
            QueueOrder::Deadline => "deadline",
            QueueOrder::SavableFirst => "savable_first",
            QueueOrder::SavableTurns => "savable_turns",
        }
    }

    pub fn from_label(label: &str) -> Option<QueueOrder> {
        QueueOrder::ALL.iter().copied().find(|o| o.label() == label)
    }
}

/// The overrides as written, without tiers that name no channel.
fn overrides_with_channels<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<Tier, BTreeMap<Channel, TargetOverride>>, D::Error> {
    let mut overrides = BTreeMap::<Tier, BTreeMap<Channel, TargetOverride>>::deserialize(d)?;
    overrides.retain(|_, by_channel| !by_channel.is_empty());
    Ok(overrides)
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            targets: ChannelTargets::default(),
            tier_multipliers: TierMultipliers::default(),
            priority_multipliers: PriorityMultipliers::default(),
            warning_fraction: 0.8,
            l2_offset: 0.5,
            l3_offset: 1.0,
            preferred_hold: Span::secs(60),
            presence_ttl: Span::secs(30),
            overrides: BTreeMap::new(),
            calendars: BTreeMap::new(),
            channel_calendars: BTreeMap::new(),
            follow_up_after: Span::hours(24),
            widening: Widening::default(),
            supervisor_skill: "supervisor".into(),
            onboarding_skill: "onboarding".into(),
            service_level_target: 0.8,
            stats_window: Span::hours(1),
            order: QueueOrder::default(),
            force_level: Level::L3,
            offers: Default::default(),
            presence: PresencePolicy::default(),
            select: Select::default(),
            rings: Rings::default(),
            fifo_bound: FifoBound::default(),
        }
    }
}

/// A policy that cannot be put in force, naming the offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct PolicyError {
    pub field: String,
    pub reason: String,
}

/// The longest `stats_window` allowed. The service-level buckets keep this much history (one
/// per minute and channel/tier with something in it), so a longer window is refused rather
/// than answered with figures missing.
pub const MAX_STATS_WINDOW: Span = Span::hours(24 * 30);

/// No target may exceed a year: longer spans are typos, and keeping them bounded keeps all
/// deadline arithmetic far from overflow.
const MAX_TARGET: Span = Span::hours(24 * 366);

impl SlaPolicy {
    /// The target of `metric` for a ticket with these routing facts: channel target × tier
    /// multiplier (or the tier's override for the channel) × priority multiplier, where
    /// negative sentiment counts one priority step up. `None` for an interim update.
    pub fn target(
        &self,
        metric: SlaMetric,
        channel: Channel,
        tier: Tier,
        priority: Priority,
        negative: bool,
    ) -> Option<Span> {
        let priority = if negative {
            priority.raised()
        } else {
            priority
        };
        let overridden = self
            .overrides
            .get(&tier)
            .and_then(|by_channel| by_channel.get(&channel))
            .and_then(|o| o.get(metric));
        let (base, tier_factor) = match overridden {
            Some(span) => (span, 1.0),
            None => (
                self.targets.get(channel).get(metric)?,
                self.tier_multipliers.get(tier),
            ),
        };
        Some(base.scale(tier_factor * self.priority_multipliers.get(priority)))
    }

    /// The level from which a late ticket goes ahead of the others in its line and in a
    /// pull: `force_level` under `savable_first` and `savable_turns`, `None` under `deadline`.
    pub fn forcing(&self) -> Option<Level> {
        match self.order {
            QueueOrder::Deadline => None,
            QueueOrder::SavableFirst | QueueOrder::SavableTurns => Some(self.force_level),
        }
    }

    /// The FIFO-relative bound for a pull at `now`.
    pub fn bound_at(&self, now: Ts) -> BoundAt {
        BoundAt {
            bound: self.fifo_bound,
            now,
        }
    }

    /// The calendar a channel's clocks count in; `None`: 24/7.
    pub fn calendar(&self, channel: Channel) -> Option<Arc<Calendar>> {
        let name = self.channel_calendars.get(&channel)?;
        self.calendars.get(name).cloned()
    }

    /// Checks every field; the first bad one is named.
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.validate_targets()?;
        self.validate_calendars()?;
        self.validate_multipliers()?;
        self.validate_escalation()?;
        self.validate_skills()?;
        if let Err((field, reason)) = self.offers.check() {
            return invalid(&field, reason);
        }
        self.rings.validate()?;
        if let Err((field, reason)) = self.fifo_bound.check() {
            return invalid(field, &reason);
        }
        if self.fifo_bound.floor > MAX_TARGET {
            return invalid("fifo_bound.floor", "must be at most a year");
        }
        if !(self.service_level_target > 0.0 && self.service_level_target <= 1.0) {
            return invalid("service_level_target", "must be in (0, 1]");
        }
        if self.stats_window < Span::mins(1) || self.stats_window > MAX_STATS_WINDOW {
            return invalid("stats_window", "must be between 1m and 30d");
        }
        self.presence
            .check()
            .map_err(|(field, reason)| PolicyError { field, reason })
    }

    /// Every channel's targets, then every tier override's.
    fn validate_targets(&self) -> Result<(), PolicyError> {
        for &channel in Channel::ALL {
            for &metric in SlaMetric::FROM_POLICY {
                let span = self.targets.get(channel).get(metric);
                if !span.is_some_and(target_ok) {
                    let field = format!("targets.{channel}.{metric}");
                    return invalid(&field, "must be between 1ms and 366d");
                }
            }
        }
        for (tier, by_channel) in &self.overrides {
            for (channel, o) in by_channel {
                for &metric in SlaMetric::FROM_POLICY {
                    if o.get(metric).is_some_and(|span| !target_ok(span)) {
                        let field = format!("overrides.{tier}.{channel}.{metric}");
                        return invalid(&field, "must be between 1ms and 366d");
                    }
                }
            }
        }
        Ok(())
    }

    fn validate_multipliers(&self) -> Result<(), PolicyError> {
        for &tier in Tier::ALL {
            if !multiplier_ok(self.tier_multipliers.get(tier)) {
                return invalid(&format!("tier_multipliers.{tier}"), "must be in (0, 100]");
            }
        }
        for &priority in Priority::ALL {
            if !multiplier_ok(self.priority_multipliers.get(priority)) {
                let field = format!("priority_multipliers.{priority}");
                return invalid(&field, "must be in (0, 100]");
            }
        }
        Ok(())
    }

    /// The warning, the ladder's offsets and the spans that drive holds, presence and the
    /// follow-up.
    fn validate_escalation(&self) -> Result<(), PolicyError> {
        if !(self.warning_fraction > 0.0 && self.warning_fraction < 1.0) {
            return invalid("warning_fraction", "must be in (0, 1)");
        }
        if !(self.l2_offset > 0.0 && self.l2_offset <= 100.0) {
            return invalid("l2_offset", "must be in (0, 100]");
        }
        if !(self.l3_offset > self.l2_offset && self.l3_offset <= 100.0) {
            return invalid(
                "l3_offset",
                "must be greater than l2_offset and at most 100",
            );
        }
        if self.preferred_hold > Span::hours(24) {
            return invalid("preferred_hold", "must be at most 24h");
        }
        if self.presence_ttl < Span::secs(1) || self.presence_ttl > Span::hours(24) {
            return invalid("presence_ttl", "must be between 1s and 24h");
        }
        if !target_ok(self.follow_up_after) {
            return invalid("follow_up_after", "must be between 1ms and 366d");
        }
        if self.force_level < Level::L1 {
            return invalid(
                "force_level",
                "must be l1, l2 or l3 (a late ticket's level)",
            );
        }
        Ok(())
    }

    fn validate_skills(&self) -> Result<(), PolicyError> {
        for (field, skill) in [
            ("supervisor_skill", &self.supervisor_skill),
            ("onboarding_skill", &self.onboarding_skill),
        ] {
            if !skill_ok(skill) {
                return invalid(
                    field,
                    "must be a skill of at most 64 bytes of a-z 0-9 . _ - :",
                );
            }
        }
        let uses_supervisors = [self.widening.l2, self.widening.l3].contains(&Widen::Supervisors);
        if uses_supervisors && self.supervisor_skill.is_empty() {
            return invalid(
                "supervisor_skill",
                "is required when a level widens to supervisors",
            );
        }
        Ok(())
    }

    fn validate_calendars(&self) -> Result<(), PolicyError> {
        if self.calendars.len() > MAX_CALENDARS {
            return Err(PolicyError {
                field: "calendars".into(),
                reason: format!("at most {MAX_CALENDARS} calendars"),
            });
        }
        for (name, calendar) in &self.calendars {
            let printable = name.chars().all(|c| !c.is_control()) && !name.trim().is_empty();
            if name.is_empty() || name.len() > 64 || !printable {
                return Err(PolicyError {
                    field: format!("calendars.{name}"),
                    reason: "a calendar name has 1 to 64 bytes, printable, not only white space"
                        .into(),
                });
            }
            calendar.validate().map_err(|e| PolicyError {
                field: format!("calendars.{name}.{}", e.field),
                reason: e.reason,
            })?;
        }
        for (channel, name) in &self.channel_calendars {
            if !self.calendars.contains_key(name) {
                return Err(PolicyError {
                    field: format!("channel_calendars.{channel}"),
                    reason: format!("names no calendar: {name:?}"),
                });
            }
        }
        Ok(())
    }
}

/// The error naming `field`, as `validate` reports it.
fn invalid(field: &str, reason: &str) -> Result<(), PolicyError> {
    Err(PolicyError {
        field: field.to_string(),
        reason: reason.to_string(),
    })
}

fn target_ok(span: Span) -> bool {
    span.0 > 0 && span <= MAX_TARGET
}

/// Skills in the policy follow the API's rule for skills: lower case, at most 64 bytes.
/// As the API takes skills (`a-z 0-9 . _ - :`, at most 64 bytes); empty means none.
fn skill_ok(skill: &str) -> bool {
    skill.len() <= 64
        && skill
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-:".contains(&b))
}

/// Named calendars one policy may hold.
const MAX_CALENDARS: usize = 64;

fn multiplier_ok(m: f64) -> bool {
    m.is_finite() && m > 0.0 && m <= 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_channel_target_times_tier_times_priority() {
        let p = SlaPolicy::default();
        let chat = |tier, prio, neg| {
            p.target(SlaMetric::FirstResponse, Channel::Chat, tier, prio, neg)
                .expect("first response has a policy target")
        };
        assert_eq!(
            chat(Tier::Standard, Priority::Normal, false),
            Span::secs(30)
        );
        assert_eq!(chat(Tier::Vip, Priority::Normal, false), Span::secs(15));
        assert_eq!(chat(Tier::New, Priority::Normal, false), Span(22_500));
        assert_eq!(chat(Tier::Standard, Priority::Urgent, false), Span(7_500));
        assert_eq!(chat(Tier::Standard, Priority::Low, false), Span::secs(60));
        assert_eq!(chat(Tier::Vip, Priority::High, false), Span(7_500));
    }

    #[test]
    fn negative_sentiment_counts_one_priority_step_up() {
        let p = SlaPolicy::default();
        let email = |prio, neg| {
            p.target(
                SlaMetric::FirstResponse,
                Channel::Email,
                Tier::Standard,
                prio,
                neg,
            )
            .expect("first response has a policy target")
        };
        assert_eq!(email(Priority::Normal, true), email(Priority::High, false));
        assert_eq!(email(Priority::Low, true), email(Priority::Normal, false));
        assert_eq!(
            email(Priority::Urgent, true),
            email(Priority::Urgent, false)
        );
    }

    #[test]
    fn default_policy_is_valid_and_bad_fields_are_named() {
        assert_eq!(SlaPolicy::default().validate(), Ok(()));
        let mut p = SlaPolicy::default();
        p.targets.email.resolution = Span(0);
        assert_eq!(p.validate().unwrap_err().field, "targets.email.resolution");
        let mut p = SlaPolicy::default();
        p.tier_multipliers.vip = f64::NAN;
        assert_eq!(p.validate().unwrap_err().field, "tier_multipliers.vip");
        let p = SlaPolicy {
            warning_fraction: 1.0,
            ..SlaPolicy::default()
        };
        assert_eq!(p.validate().unwrap_err().field, "warning_fraction");
        let p = SlaPolicy {
            l3_offset: 0.5,
            ..SlaPolicy::default()
        };
        assert_eq!(p.validate().unwrap_err().field, "l3_offset");
    }

    #[test]
    fn policy_reads_from_toml_with_human_spans() {
        let p: SlaPolicy = toml::from_str(
            "warning_fraction = 0.75\n[targets.chat]\nfirst_response = \"15s\"\nnext_reply = \"1m\"\nresolution = \"4h\"\n",
        )
        .expect("valid toml");
        assert_eq!(p.targets.chat.first_response, Span::secs(15));
        assert_eq!(p.targets.chat.resolution, Span::hours(4));
        assert_eq!(p.targets.email, ChannelTargets::default().email);
        assert_eq!(p.warning_fraction, 0.75);
    }
}
