//! Bad input for wrap-up and presence reasons: SetPresence's reason, EndWrapUp,
//! GetAgentStats, and the policy's wrap_up and presence_reasons. The setup: ana AVAILABLE with
//! no slot in wrap-up (the default policy has none), bob OFFLINE.

use super::{Req, Row};
use tonic::Code;
use triage::proto as pb;

fn presence(agent_id: &str, presence: pb::Presence, reason: &str) -> Req {
    Req::Presence(pb::SetPresenceRequest {
        agent_id: agent_id.into(),
        presence: presence as i32,
        reason: reason.into(),
        ..Default::default()
    })
}

fn end_wrap_up(agent_id: &str, request_id: &str) -> Req {
    Req::EndWrapUp(pb::EndWrapUpRequest {
        agent_id: agent_id.into(),
        request_id: request_id.into(),
    })
}

fn stats(agent_id: &str, window: Option<(i64, i32)>) -> Req {
    Req::AgentStats(pb::GetAgentStatsRequest {
        agent_id: agent_id.into(),
        window: window.map(|(seconds, nanos)| prost_types::Duration { seconds, nanos }),
    })
}

fn policy(f: impl FnOnce(&mut pb::SlaPolicy)) -> Req {
    let mut p = pb::SlaPolicy::default();
    f(&mut p);
    Req::put_policy(pb::PutSlaPolicyRequest {
        policy: Some(p),
        ..Default::default()
    })
}

fn wrap_up(channel: pb::Channel, seconds: i64) -> pb::ChannelWrapUp {
    pb::ChannelWrapUp {
        channel: channel as i32,
        wrap_up: Some(prost_types::Duration { seconds, nanos: 0 }),
    }
}

/// (what, request, expected code, field): see `Row`.
#[rustfmt::skip]
pub(super) fn rows() -> Vec<Row> {
    use pb::{Channel, Presence::*};
    use Code::*;
    vec![
        ("presence reason not in the policy", presence("ana", Away, "coffee"), InvalidArgument, "reason"),
        ("presence reason as free text", presence("ana", Away, "gone fishing"), InvalidArgument, "reason"),
        ("presence reason in capitals", presence("ana", Away, "Lunch"), InvalidArgument, "reason"),
        ("presence reason of 33 bytes", presence("ana", Away, &"a".repeat(33)), InvalidArgument, "reason"),
        ("presence reason with a NUL", presence("ana", Away, "lunch\0"), InvalidArgument, "reason"),
        ("presence reason with AVAILABLE", presence("ana", Available, "lunch"), InvalidArgument, "reason"),
        ("presence reason for an unknown agent", presence("ghost", Away, "lunch"), NotFound, ""),
        ("end wrap-up without agent_id", end_wrap_up("", ""), InvalidArgument, "agent_id"),
        ("end wrap-up of an agent id with a space", end_wrap_up("a b", ""), InvalidArgument, "agent_id"),
        ("end wrap-up with a blank request_id", end_wrap_up("ana", " "), InvalidArgument, "request_id"),
        ("end wrap-up of an unknown agent", end_wrap_up("ghost", ""), NotFound, ""),
        ("end wrap-up with none in progress", end_wrap_up("ana", ""), FailedPrecondition, "no slot in wrap-up"),
        ("agent stats without agent_id", stats("", None), InvalidArgument, "agent_id"),
        ("agent stats of an unknown agent", stats("ghost", None), NotFound, ""),
        ("agent stats over a zero window", stats("ana", Some((0, 0))), InvalidArgument, "window"),
        ("agent stats over 25 hours", stats("ana", Some((25 * 3600, 0))), InvalidArgument, "window"),
        ("agent stats over a negative window", stats("ana", Some((-60, 0))), InvalidArgument, "window"),
        ("agent stats with nanos out of range", stats("ana", Some((60, 2_000_000_000))), InvalidArgument, "window"),
        ("agent stats of ana over 24 hours", stats("ana", Some((24 * 3600, 0))), Ok, ""),
        ("agent stats of bob over the policy's window", stats("bob", None), Ok, ""),
        ("policy wrap-up over an hour", policy(|p| p.wrap_up = vec![wrap_up(Channel::Phone, 3601)]), InvalidArgument, "policy.wrap_up.phone"),
        ("policy wrap-up for channel unspecified", policy(|p| p.wrap_up = vec![wrap_up(Channel::Unspecified, 30)]), InvalidArgument, "policy.wrap_up[0].channel"),
        ("policy wrap-up negative", policy(|p| p.wrap_up = vec![wrap_up(Channel::Chat, -30)]), InvalidArgument, "policy.wrap_up[0].wrap_up"),
        ("policy presence reason with a space", policy(|p| p.presence_reasons = vec!["lunch".into(), "long lunch".into()]), InvalidArgument, "policy.presence_reasons[1]"),
        ("policy presence reason listed twice", policy(|p| p.presence_reasons = vec!["lunch".into(), "lunch".into()]), InvalidArgument, "policy.presence_reasons[1]"),
        ("policy with 33 presence reasons", policy(|p| p.presence_reasons = (0..33).map(|i| format!("r{i}")).collect()), InvalidArgument, "policy.presence_reasons"),
    ]
}
