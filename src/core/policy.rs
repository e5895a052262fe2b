//! The SLA policy: targets per channel and clock, multipliers per tier and priority, and the
//! fractions that place warnings and escalation steps. The shipped defaults are DOMAIN.md's.
//!
//! One schema serves the TOML config (spans as `"30s"`), the persisted record and, through the
//! API's conversion, `GetSlaPolicy`/`PutSlaPolicy`.

use super::types::{Channel, Priority, SlaMetric, Span, Tier};
use serde::{Deserialize, Serialize};

/// Targets of one channel, one per clock.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub first_response: Span,
    pub next_reply: Span,
    pub resolution: Span,
}

impl Targets {
    const fn new(first_response: Span, next_reply: Span, resolution: Span) -> Targets {
        Targets {
            first_response,
            next_reply,
            resolution,
        }
    }

    pub fn get(&self, metric: SlaMetric) -> Span {
        match metric {
            SlaMetric::FirstResponse => self.first_response,
            SlaMetric::NextReply => self.next_reply,
            SlaMetric::Resolution => self.resolution,
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

/// No target may exceed a year: longer spans are typos, and keeping them bounded keeps all
/// deadline arithmetic far from overflow.
const MAX_TARGET: Span = Span::hours(24 * 366);

impl SlaPolicy {
    /// The target of `metric` for a ticket with these routing facts: channel target × tier
    /// multiplier × priority multiplier, where negative sentiment counts one priority step up.
    pub fn target(
        &self,
        metric: SlaMetric,
        channel: Channel,
        tier: Tier,
        priority: Priority,
        negative: bool,
    ) -> Span {
        let priority = if negative {
            priority.raised()
        } else {
            priority
        };
        let factor = self.tier_multipliers.get(tier) * self.priority_multipliers.get(priority);
        self.targets.get(channel).get(metric).scale(factor)
    }

    /// Checks every field; the first bad one is named.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let err = |field: String, reason: &str| {
            Err(PolicyError {
                field,
                reason: reason.to_string(),
            })
        };
        for &channel in Channel::ALL {
            for &metric in SlaMetric::ALL {
                let span = self.targets.get(channel).get(metric);
                if span.0 == 0 || span > MAX_TARGET {
                    let field = format!("targets.{channel}.{metric}");
                    return err(field, "must be between 1ms and 366d");
                }
            }
        }
        for &tier in Tier::ALL {
            if !multiplier_ok(self.tier_multipliers.get(tier)) {
                return err(format!("tier_multipliers.{tier}"), "must be in (0, 100]");
            }
        }
        for &priority in Priority::ALL {
            if !multiplier_ok(self.priority_multipliers.get(priority)) {
                return err(
                    format!("priority_multipliers.{priority}"),
                    "must be in (0, 100]",
                );
            }
        }
        if !(self.warning_fraction > 0.0 && self.warning_fraction < 1.0) {
            return err("warning_fraction".into(), "must be in (0, 1)");
        }
        if !(self.l2_offset > 0.0 && self.l2_offset <= 100.0) {
            return err("l2_offset".into(), "must be in (0, 100]");
        }
        if !(self.l3_offset > self.l2_offset && self.l3_offset <= 100.0) {
            return err(
                "l3_offset".into(),
                "must be greater than l2_offset and at most 100",
            );
        }
        if self.preferred_hold > Span::hours(24) {
            return err("preferred_hold".into(), "must be at most 24h");
        }
        if self.presence_ttl < Span::secs(1) || self.presence_ttl > Span::hours(24) {
            return err("presence_ttl".into(), "must be between 1s and 24h");
        }
        Ok(())
    }
}

fn multiplier_ok(m: f64) -> bool {
    m.is_finite() && m > 0.0 && m <= 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_channel_target_times_tier_times_priority() {
        let p = SlaPolicy::default();
        let chat =
            |tier, prio, neg| p.target(SlaMetric::FirstResponse, Channel::Chat, tier, prio, neg);
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
