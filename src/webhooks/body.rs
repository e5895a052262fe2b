//! The JSON body of one delivery: one event, with the fields `WatchEvents` gives it that are
//! set (enums by their wire names, times in RFC 3339). One event per POST keeps "the next is
//! not sent before the previous one got a 2xx" simple for receivers: the sequence is the
//! idempotency key of the whole request.

use crate::proto as pb;
use serde_json::{json, Map, Value};

/// The body for `e`.
pub fn body(e: &pb::Event) -> Vec<u8> {
    let mut out = Map::new();
    out.insert("sequence".into(), json!(e.sequence));
    if let Some(at) = &e.at {
        out.insert("at".into(), json!(rfc3339(at)));
    }
    let kind =
        pb::EventKind::try_from(e.kind).map_or("EVENT_KIND_UNSPECIFIED", |k| k.as_str_name());
    out.insert("kind".into(), json!(kind));
    out.insert("actor".into(), json!(e.actor));
    let numbers = [
        ("ticket_id", e.ticket_id),
        ("lease_epoch", e.lease_epoch),
        ("count", e.count),
        ("missed_offers", u64::from(e.missed_offers)),
    ];
    for (name, n) in numbers {
        if n != 0 {
            out.insert(name.into(), json!(n));
        }
    }
    let texts = [
        ("agent_id", &e.agent_id),
        ("from_agent_id", &e.from_agent_id),
        ("reason", &e.reason),
        ("note", &e.note),
        ("ring", &e.ring),
        ("webhook_id", &e.webhook_id),
    ];
    for (name, text) in texts {
        if !text.is_empty() {
            out.insert(name.into(), json!(text));
        }
    }
    let enums = [
        (
            "tier",
            pb::Tier::try_from(e.tier).ok().map(|v| v.as_str_name()),
        ),
        (
            "channel",
            pb::Channel::try_from(e.channel)
                .ok()
                .map(|v| v.as_str_name()),
        ),
        (
            "metric",
            pb::SlaMetric::try_from(e.metric)
                .ok()
                .map(|v| v.as_str_name()),
        ),
        (
            "level",
            pb::EscalationLevel::try_from(e.level)
                .ok()
                .map(|v| v.as_str_name()),
        ),
        (
            "author",
            pb::Author::try_from(e.author).ok().map(|v| v.as_str_name()),
        ),
        (
            "presence",
            pb::Presence::try_from(e.presence)
                .ok()
                .map(|v| v.as_str_name()),
        ),
    ];
    for (name, value) in enums {
        if let Some(v) = value.filter(|v| !v.ends_with("_UNSPECIFIED")) {
            out.insert(name.into(), json!(v));
        }
    }
    flags(e, &mut out);
    if let Some(d) = &e.elapsed {
        out.insert(
            "elapsed_seconds".into(),
            json!(d.seconds as f64 + f64::from(d.nanos) / 1e9),
        );
    }
    if !e.changed_fields.is_empty() {
        out.insert("changed_fields".into(), json!(e.changed_fields));
    }
    // Serializing a map of plain values cannot fail.
    serde_json::to_vec(&Value::Object(out)).unwrap_or_default()
}

fn flags(e: &pb::Event, out: &mut Map<String, Value>) {
    let flags = [
        ("within_target", e.within_target),
        ("on_behalf", e.on_behalf),
        ("forced", e.forced),
        ("early", e.early),
    ];
    for (name, set) in flags {
        if set {
            out.insert(name.into(), json!(true));
        }
    }
}

fn rfc3339(t: &prost_types::Timestamp) -> String {
    chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_event_says_its_kind_ticket_and_routing_by_name() {
        let e = pb::Event {
            sequence: 7,
            at: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            kind: pb::EventKind::Created as i32,
            ticket_id: 3,
            tier: pb::Tier::Vip as i32,
            channel: pb::Channel::Chat as i32,
            actor: "frontend".into(),
            ..Default::default()
        };
        let v: Value = serde_json::from_slice(&body(&e)).expect("json");
        assert_eq!(
            v,
            json!({
                "sequence": 7, "at": "2023-11-14T22:13:20.000Z", "kind": "EVENT_KIND_CREATED",
                "actor": "frontend", "ticket_id": 3, "tier": "TIER_VIP", "channel": "CHANNEL_CHAT",
            })
        );
    }
}
