//! A change to the SLA policy, merged onto the policy in force by the scheduler itself, in one
//! command: two admins patching different fields at once both get their change, since no
//! caller reads the policy, merges and writes it back.

use super::calendar::Calendar;
use super::offer::OfferPolicy;
use super::policy::{QueueOrder, SlaPolicy, TargetOverride};
use super::proficiency::Select;
use super::rings::RingsPatch;
use super::types::{Channel, Level, Priority, SlaMetric, Span, Tier, Widen};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Per-tier target overrides, by tier then channel, as `SlaPolicy::overrides`.
pub type Overrides = BTreeMap<Tier, BTreeMap<Channel, TargetOverride>>;

/// What a `PutSlaPolicy` asks to change. Every field left `None` (or list left empty) keeps
/// the value of the base; the base is the policy in force, or with `replace` the shipped
/// defaults without skills, overrides or calendars (so what the patch leaves out of those is
/// empty).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PolicyPatch {
    pub replace: bool,
    /// Targets to set, per channel; a metric left `None` keeps its target. Applied in order.
    pub targets: Vec<(Channel, TargetOverride)>,
    pub tier_multipliers: Vec<(Tier, f64)>,
    pub priority_multipliers: Vec<(Priority, f64)>,
    pub warning_fraction: Option<f64>,
    pub l2_offset: Option<f64>,
    pub l3_offset: Option<f64>,
    pub service_level_target: Option<f64>,
    pub preferred_hold: Option<Span>,
    pub presence_ttl: Option<Span>,
    pub follow_up_after: Option<Span>,
    pub stats_window: Option<Span>,
    pub l2_widen: Option<Widen>,
    pub l3_widen: Option<Widen>,
    pub order: Option<QueueOrder>,
    pub force_level: Option<Level>,
    pub select: Option<Select>,
    /// Each ring given replaces that ring (see `rings`).
    pub rings: RingsPatch,
    /// The FIFO-relative bound's fields given (see `fifo_bound`).
    pub fifo_factor: Option<f64>,
    pub fifo_floor: Option<Span>,
    pub supervisor_skill: Option<String>,
    pub onboarding_skill: Option<String>,
    /// Each of these replaces its whole table.
    pub overrides: Option<Overrides>,
    pub calendars: Option<BTreeMap<String, Arc<Calendar>>>,
    pub channel_calendars: Option<BTreeMap<Channel, String>>,
    /// Wrap-up per channel to set, merged by channel (zero: none).
    pub wrap_up: Vec<(Channel, Span)>,
    /// Replaces the presence reason codes.
    pub presence_reasons: Option<Vec<String>>,
    pub offers: OfferPatch,
}

/// What a put changes of the offer settings: each channel's timeout given (0: off), and the
/// scalars given.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OfferPatch {
    pub offer_timeout: Vec<(Channel, Span)>,
    pub max_missed_offers: Option<u32>,
    pub reoffer_after: Option<Span>,
}

impl OfferPatch {
    fn apply_to(&self, out: &mut OfferPolicy) {
        for &(channel, timeout) in &self.offer_timeout {
            out.offer_timeout.insert(channel, timeout);
        }
        out.offer_timeout.retain(|_, t| t.0 > 0);
        out.max_missed_offers = self.max_missed_offers.unwrap_or(out.max_missed_offers);
        out.reoffer_after = self.reoffer_after.unwrap_or(out.reoffer_after);
    }
}

impl PolicyPatch {
    /// The policy this patch makes of `current`. It is not validated here: putting it in
    /// force does that, naming the offending field.
    pub fn apply_to(&self, current: &SlaPolicy) -> SlaPolicy {
        let mut out = match self.replace {
            true => SlaPolicy {
                supervisor_skill: String::new(),
                onboarding_skill: String::new(),
                overrides: BTreeMap::new(),
                calendars: BTreeMap::new(),
                channel_calendars: BTreeMap::new(),
                ..SlaPolicy::default()
            },
            false => current.clone(),
        };
        self.merge_targets(&mut out);
        self.merge_scalars(&mut out);
        let set = |slot: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                slot.clone_from(v);
            }
        };
        set(&mut out.supervisor_skill, &self.supervisor_skill);
        set(&mut out.onboarding_skill, &self.onboarding_skill);
        if let Some(o) = &self.overrides {
            out.overrides.clone_from(o);
        }
        if let Some(c) = &self.calendars {
            out.calendars.clone_from(c);
        }
        if let Some(c) = &self.channel_calendars {
            out.channel_calendars.clone_from(c);
        }
        self.offers.apply_to(&mut out.offers);
        self.merge_presence(&mut out);
        out
    }

    /// Wrap-ups by channel (zero removes the channel's), then the reason codes.
    fn merge_presence(&self, out: &mut SlaPolicy) {
        for &(channel, span) in &self.wrap_up {
            match span.0 {
                0 => out.presence.wrap_up.remove(&channel),
                _ => out.presence.wrap_up.insert(channel, span),
            };
        }
        if let Some(r) = &self.presence_reasons {
            out.presence.reasons.clone_from(r);
        }
    }

    fn merge_targets(&self, out: &mut SlaPolicy) {
        for (channel, set) in &self.targets {
            let targets = out.targets.get_mut(*channel);
            for &metric in SlaMetric::FROM_POLICY {
                if let (Some(value), Some(slot)) = (set.get(metric), targets.get_mut(metric)) {
                    *slot = value;
                }
            }
        }
        for &(tier, m) in &self.tier_multipliers {
            *out.tier_multipliers.get_mut(tier) = m;
        }
        for &(priority, m) in &self.priority_multipliers {
            *out.priority_multipliers.get_mut(priority) = m;
        }
    }

    fn merge_scalars(&self, out: &mut SlaPolicy) {
        for (value, slot) in [
            (self.warning_fraction, &mut out.warning_fraction),
            (self.l2_offset, &mut out.l2_offset),
            (self.l3_offset, &mut out.l3_offset),
            (self.service_level_target, &mut out.service_level_target),
        ] {
            *slot = value.unwrap_or(*slot);
        }
        for (value, slot) in [
            (self.preferred_hold, &mut out.preferred_hold),
            (self.presence_ttl, &mut out.presence_ttl),
            (self.follow_up_after, &mut out.follow_up_after),
            (self.stats_window, &mut out.stats_window),
        ] {
            *slot = value.unwrap_or(*slot);
        }
        out.widening.l2 = self.l2_widen.unwrap_or(out.widening.l2);
        out.widening.l3 = self.l3_widen.unwrap_or(out.widening.l3);
        out.order = self.order.unwrap_or(out.order);
        out.force_level = self.force_level.unwrap_or(out.force_level);
        out.select = self.select.unwrap_or(out.select);
        self.rings.merge(&mut out.rings);
        out.fifo_bound.factor = self.fifo_factor.unwrap_or(out.fifo_bound.factor);
        out.fifo_bound.floor = self.fifo_floor.unwrap_or(out.fifo_bound.floor);
    }
}
