//! `triage ctl policy set FILE`: a policy file (the daemon's `[policy]` TOML, or the same keys
//! at the top level) sent as one `PutSlaPolicy`. By default it merges: only what the file names
//! changes, and the daemon merges it in one step (no read-modify-write here that could undo
//! another admin's change). `--replace` puts the file whole; what it leaves out gets the
//! shipped default.

use crate::api::convert::decode;
use crate::api::policy::to_proto;
use crate::core::policy::SlaPolicy;
use crate::core::types::{Priority, SlaMetric, Tier};
use crate::proto as pb;
use anyhow::Context;
use std::path::Path;
use toml::value::Table;

/// The request `ctl policy set` sends for the policy file at `path`.
pub fn put_request(path: &Path, replace: bool) -> anyhow::Result<pb::PutSlaPolicyRequest> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let table = policy_table(&text).with_context(|| format!("{}", path.display()))?;
    // What the file leaves out, down to one metric of one channel, is read as the default, so
    // a partial file still makes a whole policy to check and convert.
    let mut whole = toml::Value::try_from(SlaPolicy::default())?;
    overlay(&mut whole, toml::Value::Table(table.clone()));
    let policy: SlaPolicy = whole
        .try_into()
        .with_context(|| format!("{}: the policy", path.display()))?;
    policy
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: policy.{e}", path.display()))?;
    let mut proto = to_proto(&policy);
    if !replace {
        keep_only_given(&mut proto, &table);
    }
    Ok(pb::PutSlaPolicyRequest {
        policy: Some(proto),
        replace,
        request_id: String::new(),
    })
}

/// The `[policy]` table of a config-style file, or the whole file when it has none.
fn policy_table(text: &str) -> anyhow::Result<Table> {
    let mut file: Table = toml::from_str(text)?;
    match file.remove("policy") {
        Some(toml::Value::Table(policy)) => Ok(policy),
        Some(_) => anyhow::bail!("`policy` must be a table"),
        None => Ok(file),
    }
}

/// Lays `top` over `base`: tables merge key by key, anything else replaces.
fn overlay(base: &mut toml::Value, top: toml::Value) {
    match (base, top) {
        (toml::Value::Table(base), toml::Value::Table(top)) => {
            for (key, value) in top {
                match base.get_mut(&key) {
                    Some(slot) => overlay(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, top) => *base = top,
    }
}

/// Keeps the rings the file's `[rings]` names (a merge leaves the others as they are).
fn keep_rings(p: &mut pb::SlaPolicy, given: Option<&Table>) {
    let Some(r) = p.rings.as_mut() else {
        return;
    };
    for (key, slot) in [
        ("drop_optional", &mut r.drop_optional),
        ("lower_minimums", &mut r.lower_minimums),
        ("any_agent", &mut r.any_agent),
    ] {
        if !given.is_some_and(|g| g.contains_key(key)) {
            *slot = None;
        }
    }
}

/// Keeps the fields of the bound the file's `[fifo_bound]` names.
fn keep_fifo_bound(p: &mut pb::SlaPolicy, given: Option<&Table>) {
    let Some(b) = p.fifo_bound.as_mut() else {
        return;
    };
    let named = |key: &str| given.is_some_and(|g| g.contains_key(key));
    if !named("factor") {
        b.factor = None;
    }
    if !named("floor") {
        b.floor = None;
    }
}

/// Clears from `p` every field the file did not name, so a merging put changes only those.
fn keep_only_given(p: &mut pb::SlaPolicy, given: &Table) {
    let has = |key: &str| given.contains_key(key);
    let sub = |key: &str| given.get(key).and_then(toml::Value::as_table);
    for (key, slot) in [
        ("warning_fraction", &mut p.warning_fraction),
        ("l2_offset", &mut p.l2_offset),
        ("l3_offset", &mut p.l3_offset),
        ("service_level_target", &mut p.service_level_target),
    ] {
        if !has(key) {
            *slot = 0.0;
        }
    }
    for (key, slot) in [
        ("preferred_hold", &mut p.preferred_hold),
        ("presence_ttl", &mut p.presence_ttl),
        ("follow_up_after", &mut p.follow_up_after),
        ("stats_window", &mut p.stats_window),
    ] {
        if !has(key) {
            *slot = None;
        }
    }
    for (key, slot) in [
        ("supervisor_skill", &mut p.supervisor_skill),
        ("onboarding_skill", &mut p.onboarding_skill),
    ] {
        if !has(key) {
            slot.clear();
        }
    }
    for (key, slot) in [
        ("order", &mut p.order),
        ("force_level", &mut p.force_level),
        ("select", &mut p.select),
    ] {
        if !has(key) {
            *slot = 0;
        }
    }
    keep_rings(p, sub("rings"));
    keep_fifo_bound(p, sub("fifo_bound"));
    let widening = sub("widening");
    let widen_given = |level: &str| widening.is_some_and(|w| w.contains_key(level));
    if !widen_given("l2") {
        p.l2_widen = 0;
    }
    if !widen_given("l3") {
        p.l3_widen = 0;
    }
    keep_targets(p, sub("targets"));
    let tiers = sub("tier_multipliers");
    p.tier_multipliers.retain(|m| {
        let tier = pb::Tier::try_from(m.tier).ok().and_then(decode::tier);
        named(tiers, tier.map(Tier::label))
    });
    let priorities = sub("priority_multipliers");
    p.priority_multipliers.retain(|m| {
        let priority = pb::Priority::try_from(m.priority)
            .ok()
            .and_then(decode::priority);
        named(priorities, priority.map(Priority::label))
    });
    if !has("overrides") {
        p.overrides.clear();
    }
    if !has("calendars") {
        p.calendars.clear();
    }
    if !has("channel_calendars") {
        p.channel_calendars.clear();
    }
    keep_presence(p, sub("presence"));
}

/// Keeps the wrap-ups of the channels the file's `[presence.wrap_up]` names, and the reason
/// codes only if it names `reasons`.
fn keep_presence(p: &mut pb::SlaPolicy, presence: Option<&Table>) {
    let wrap_up = presence.and_then(|t| t.get("wrap_up")?.as_table());
    p.wrap_up.retain(|w| {
        let channel = pb::Channel::try_from(w.channel)
            .ok()
            .and_then(decode::channel);
        named(wrap_up, channel.map(|c| c.label()))
    });
    if !presence.is_some_and(|t| t.contains_key("reasons")) {
        p.presence_reasons.clear();
    }
}

/// Keeps the channels the file's `[targets]` names, and in each only the metrics it names.
fn keep_targets(p: &mut pb::SlaPolicy, targets: Option<&Table>) {
    p.targets.retain_mut(|t| {
        let channel = pb::Channel::try_from(t.channel)
            .ok()
            .and_then(decode::channel);
        let Some(given) = channel.and_then(|c| targets?.get(c.label())?.as_table()) else {
            return false;
        };
        for (metric, slot) in [
            (SlaMetric::FirstResponse, &mut t.first_response),
            (SlaMetric::NextReply, &mut t.next_reply),
            (SlaMetric::Resolution, &mut t.resolution),
            (SlaMetric::FollowUp, &mut t.follow_up),
        ] {
            if !given.contains_key(metric.label()) {
                *slot = None;
            }
        }
        true
    });
}

/// Whether the file's table (`[tier_multipliers]`, ...) names this label.
fn named(table: Option<&Table>, label: Option<&str>) -> bool {
    matches!((table, label), (Some(t), Some(l)) if t.contains_key(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str, replace: bool) -> pb::PutSlaPolicyRequest {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, text).expect("write");
        put_request(&path, replace).expect("request")
    }

    #[test]
    fn a_merge_naming_the_bound_s_factor_sends_only_it_and_a_bad_one_is_refused_here() {
        let p = request("[fifo_bound]\nfactor = 0.0\n", false)
            .policy
            .expect("policy");
        let bound = p.fifo_bound.expect("bound");
        assert_eq!(bound.factor, Some(0.0), "0 turns it off: sent");
        assert!(bound.floor.is_none(), "not named: kept as it is");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, "[fifo_bound]\nfactor = 0.5\n").expect("write");
        let err = put_request(&path, false).expect_err("under 1");
        assert!(format!("{err:#}").contains("fifo_bound.factor"), "{err:#}");
    }

    #[test]
    fn a_merge_naming_select_and_one_ring_sends_only_those() {
        let r = request(
            "select = \"most_proficient\"\n[rings]\nany_agent = \"2m\"\n",
            false,
        );
        let p = r.policy.expect("policy");
        assert_eq!(p.select(), pb::AgentSelect::MostProficient);
        let rings = p.rings.expect("rings");
        assert_eq!(rings.any_agent.map(|d| d.seconds), Some(120));
        assert!(rings.drop_optional.is_none() && rings.lower_minimums.is_none());
        let p = request("warning_fraction = 0.7\n", false)
            .policy
            .expect("policy");
        assert_eq!(p.select, 0, "not named: kept as it is");
        assert_eq!(
            p.rings,
            Some(pb::Rings::default()),
            "no ring named: all kept"
        );
    }

    #[test]
    fn a_merge_sends_only_what_the_file_names() {
        let r = request(
            "[policy]\nwarning_fraction = 0.7\n[policy.targets.chat]\nfirst_response = \"20s\"\n\
             [policy.tier_multipliers]\nvip = 0.4\n[policy.widening]\nl3 = \"supervisors\"\n",
            false,
        );
        let p = r.policy.expect("policy");
        assert!(!r.replace);
        assert_eq!(p.warning_fraction, 0.7);
        assert_eq!(
            (p.l2_offset, p.l3_offset, p.service_level_target),
            (0.0, 0.0, 0.0)
        );
        assert!(p.preferred_hold.is_none() && p.supervisor_skill.is_empty());
        assert_eq!(p.targets.len(), 1, "chat only");
        let chat = &p.targets[0];
        assert_eq!(chat.channel, pb::Channel::Chat as i32);
        assert_eq!(chat.first_response.as_ref().map(|d| d.seconds), Some(20));
        assert!(chat.next_reply.is_none() && chat.resolution.is_none());
        assert_eq!(p.tier_multipliers.len(), 1);
        assert_eq!(p.tier_multipliers[0].multiplier, 0.4);
        assert!(p.priority_multipliers.is_empty());
        assert_eq!(p.l2_widen, 0, "l2 not named: kept as it is");
        assert_ne!(p.l3_widen, 0);
        assert_eq!(
            (p.order, p.force_level),
            (0, 0),
            "not named: kept as they are"
        );
    }

    #[test]
    fn a_merge_sends_the_wrap_ups_and_reasons_the_file_names() {
        let p = request("[presence.wrap_up]\nphone = \"30s\"\n", false)
            .policy
            .expect("policy");
        assert_eq!(p.wrap_up.len(), 1);
        assert_eq!(p.wrap_up[0].channel, pb::Channel::Phone as i32);
        assert!(p.presence_reasons.is_empty(), "reasons not named: kept");
        let p = request("[presence]\nreasons = [\"lunch\", \"coaching\"]\n", false)
            .policy
            .expect("policy");
        assert_eq!(p.presence_reasons, ["lunch", "coaching"]);
        assert!(p.wrap_up.is_empty());
    }

    #[test]
    fn a_merge_naming_the_order_sends_it() {
        let r = request("order = \"deadline\"\nforce_level = \"l2\"\n", false);
        let p = r.policy.expect("policy");
        assert_eq!(p.order(), pb::QueueOrder::Deadline);
        assert_eq!(p.force_level(), pb::EscalationLevel::L2);
    }

    #[test]
    fn a_replace_sends_the_whole_policy_and_a_bare_table_works_too() {
        let r = request("warning_fraction = 0.7\n", true);
        let p = r.policy.expect("policy");
        assert!(r.replace);
        assert_eq!(p.warning_fraction, 0.7);
        let channels = crate::core::types::Channel::ALL.len();
        assert_eq!(p.targets.len(), channels, "every channel, defaults filled");
        assert!(p.preferred_hold.is_some());
    }

    #[test]
    fn a_bad_file_is_refused_before_anything_is_sent() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[policy]\nwarning_fraction = 1.5\n").expect("write");
        let e = put_request(&path, false).expect_err("invalid");
        assert!(format!("{e:#}").contains("warning_fraction"), "{e:#}");
        std::fs::write(&path, "[policy]\nwarning_fractoin = 0.5\n").expect("write");
        assert!(
            put_request(&path, false).is_err(),
            "unknown keys are refused"
        );
    }
}
