//! Request builders for the tables: the setup's three tickets (ASSIGNED to ana at epoch 1,
//! QUEUED, RESOLVED under a request id), and small functions that change one field of a valid
//! request.

use super::{Req, Row};
use crate::common::{self, agent, create};
use pb::{Channel, Tier};
use prost_types::{Duration, Timestamp};
use tonic::Code;
use triage::proto as pb;

pub(super) fn base() -> pb::CreateTicketRequest {
    create("fresh", Tier::Standard, Channel::Chat, &["en"])
}

pub(super) fn with(f: impl FnOnce(&mut pb::CreateTicketRequest)) -> Req {
    let mut r = base();
    f(&mut r);
    Req::Create(r)
}

/// The create of the QUEUED ticket, under its request id "req-x".
pub(super) fn queued_create() -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        request_id: "req-x".into(),
        ..create("q", Tier::Standard, Channel::Chat, &["en"])
    }
}

pub(super) fn replay(f: impl FnOnce(&mut pb::CreateTicketRequest)) -> Req {
    let mut r = queued_create();
    f(&mut r);
    Req::Create(r)
}

pub(super) fn batch_item(f: impl FnOnce(&mut pb::CreateTicketRequest)) -> Req {
    let mut r = base();
    f(&mut r);
    Req::BatchItem(r)
}

pub(super) fn reply(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Reply(common::agent_reply(ticket_id, agent_id, lease_epoch))
}

/// A reply by `agent_id` recorded on its behalf (no lease: `lease_epoch` should be 0).
pub(super) fn on_behalf(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Reply(pb::RecordReplyRequest {
        on_behalf: true,
        ..common::agent_reply(ticket_id, agent_id, lease_epoch)
    })
}

/// Ana's reply on the ticket she holds, promising an update by `seconds`, `nanos`.
pub(super) fn promise(seconds: i64, nanos: i32) -> Req {
    Req::Reply(pb::RecordReplyRequest {
        next_update_by: Some(Timestamp { seconds, nanos }),
        ..common::agent_reply(ASSIGNED, "ana", 1)
    })
}

pub(super) fn author(ticket_id: u64, author: i32) -> Req {
    Req::Reply(pb::RecordReplyRequest {
        ticket_id,
        author,
        ..Default::default()
    })
}

pub(super) fn pending(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Pending(pb::SetPendingRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    })
}

pub(super) fn resolve(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Resolve(pb::ResolveTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    })
}

pub(super) fn release(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Release(pb::ReleaseTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    })
}

pub(super) fn cancel(ticket_id: u64, reason: i32) -> Req {
    Req::Cancel(pb::CancelTicketRequest {
        ticket_id,
        reason,
        ..Default::default()
    })
}

/// An update of the QUEUED ticket.
pub(super) fn update(f: impl FnOnce(&mut pb::UpdateTicketRequest)) -> Req {
    let mut r = pb::UpdateTicketRequest {
        ticket_id: QUEUED,
        ..Default::default()
    };
    f(&mut r);
    Req::Update(r)
}

pub(super) fn skill_list(skills: Vec<String>) -> Option<pb::SkillList> {
    Some(pb::SkillList { skills })
}

pub(super) fn upsert(f: impl FnOnce(&mut pb::UpsertAgentRequest)) -> Req {
    let mut r = agent("carl", &["en"], &[], &[("chat", 2)]);
    f(&mut r);
    Req::Upsert(r)
}

pub(super) fn get_agent(agent_id: impl Into<String>) -> Req {
    Req::GetAgent(agent_id.into())
}

pub(super) fn heartbeat(agent_id: impl Into<String>) -> Req {
    Req::Heartbeat(agent_id.into())
}

pub(super) fn presence(agent_id: impl Into<String>, presence: i32) -> Req {
    Req::Presence(pb::SetPresenceRequest {
        agent_id: agent_id.into(),
        presence,
        ..Default::default()
    })
}

pub(super) fn pull(agent_id: impl Into<String>) -> Req {
    Req::Pull(pb::PullNextTicketRequest {
        agent_id: agent_id.into(),
        wait: None,
        ..Default::default()
    })
}

pub(super) fn pull_wait(seconds: i64, nanos: i32) -> Req {
    Req::Pull(pb::PullNextTicketRequest {
        agent_id: "ana".into(),
        wait: Some(Duration { seconds, nanos }),
        ..Default::default()
    })
}

pub(super) fn list(f: impl FnOnce(&mut pb::ListTicketsRequest)) -> Req {
    let mut r = pb::ListTicketsRequest::default();
    f(&mut r);
    Req::List(r)
}

pub(super) fn list_agents(f: impl FnOnce(&mut pb::ListAgentsRequest)) -> Req {
    let mut r = pb::ListAgentsRequest::default();
    f(&mut r);
    Req::ListAgents(r)
}

pub(super) fn follow_up(ticket_id: u64, agent_id: &str) -> Req {
    Req::FollowUp(pb::RecordFollowUpRequest {
        ticket_id,
        agent_id: agent_id.into(),
        ..Default::default()
    })
}

pub(super) fn policy(f: impl FnOnce(&mut pb::SlaPolicy)) -> Req {
    let mut p = pb::SlaPolicy::default();
    f(&mut p);
    Req::PutPolicy(Box::new(pb::PutSlaPolicyRequest {
        policy: Some(p),
        replace: false,
        ..Default::default()
    }))
}

pub(super) fn office_calendar() -> pb::Calendar {
    pb::Calendar {
        name: "office".into(),
        time_zone: "Europe/Berlin".into(),
        mon: vec!["09:00-18:00".into()],
        ..Default::default()
    }
}

pub(super) fn office(f: impl FnOnce(&mut pb::Calendar)) -> Req {
    let mut c = office_calendar();
    f(&mut c);
    policy(|p| p.calendars = vec![c])
}

pub(super) fn holiday(date: &str, hours: &[&str]) -> pb::Holiday {
    pb::Holiday {
        date: date.into(),
        hours: hours.iter().map(|h| h.to_string()).collect(),
    }
}

pub(super) fn channel_calendar(channel: i32, calendar: &str) -> pb::ChannelCalendar {
    pb::ChannelCalendar {
        channel,
        calendar: calendar.into(),
    }
}

/// A policy put whose only target entry is email's, as `f` leaves it.
pub(super) fn email_targets(f: impl FnOnce(&mut pb::ChannelTargets)) -> Req {
    let mut t = pb::ChannelTargets {
        channel: Channel::Email as i32,
        ..Default::default()
    };
    f(&mut t);
    policy(|p| p.targets = vec![t])
}

pub(super) fn vip_chat_override() -> pb::TargetOverride {
    pb::TargetOverride {
        tier: Tier::Vip as i32,
        channel: Channel::Chat as i32,
        resolution: secs(3600),
        ..Default::default()
    }
}

/// A policy put whose only override is VIP chat's, as `f` leaves it.
pub(super) fn vip_chat(f: impl FnOnce(&mut pb::TargetOverride)) -> Req {
    let mut o = vip_chat_override();
    f(&mut o);
    policy(|p| p.overrides = vec![o])
}

pub(super) fn in_seconds(from_now: i64) -> Option<Timestamp> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Some(Timestamp {
        seconds: now + from_now,
        nanos: 0,
    })
}

pub(super) fn email_target(first_response: Duration) -> pb::ChannelTargets {
    pb::ChannelTargets {
        channel: Channel::Email as i32,
        first_response: Some(first_response),
        ..Default::default()
    }
}

pub(super) fn dur(seconds: i64, nanos: i32) -> Option<Duration> {
    Some(Duration { seconds, nanos })
}

pub(super) fn secs(seconds: i64) -> Option<Duration> {
    dur(seconds, 0)
}

pub(super) const HOUR: i64 = 3600;
pub(super) const DAY: i64 = 24 * HOUR;

pub(super) fn work(kinds: Vec<pb::work_request::Kind>) -> Req {
    let messages = kinds
        .into_iter()
        .enumerate()
        .map(|(tag, kind)| pb::WorkRequest {
            tag: tag as u64,
            kind: Some(kind),
        })
        .collect();
    Req::Work {
        messages,
        close: false,
    }
}

pub(super) fn start(agent_id: &str, ready: u32) -> pb::work_request::Kind {
    pb::work_request::Kind::Start(pb::WorkStart {
        agent_id: agent_id.into(),
        ready,
    })
}

pub(super) fn ready(tickets: u32) -> pb::work_request::Kind {
    pb::work_request::Kind::Ready(pb::WorkReady { tickets })
}

pub(super) fn done(ticket_id: u64, lease_epoch: u64) -> pb::work_request::Kind {
    pb::work_request::Kind::Done(pb::WorkDone {
        ticket_id,
        lease_epoch,
        ..Default::default()
    })
}

pub(super) fn work_release(ticket_id: u64, lease_epoch: u64) -> pb::work_request::Kind {
    pb::work_request::Kind::Release(pb::WorkRelease {
        ticket_id,
        lease_epoch,
        ..Default::default()
    })
}

pub(super) fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// A field name built at run time, for the table's `&'static str` column.
pub(super) fn leak(field: String) -> &'static str {
    Box::leak(field.into_boxed_str())
}

pub(super) const ASSIGNED: u64 = 1;
pub(super) const QUEUED: u64 = 2;
pub(super) const RESOLVED: u64 = 3;

/// The setup's resolve of the RESOLVED ticket, under a request id the rows reuse.
pub(super) fn resolved_by_request() -> pb::ResolveTicketRequest {
    pb::ResolveTicketRequest {
        ticket_id: RESOLVED,
        request_id: "req-resolve".into(),
        ..Default::default()
    }
}

/// `req` with its `request_id` set to `id`.
pub(super) fn keyed(req: Req, id: &str) -> Req {
    let id = id.to_string();
    match req {
        Req::Reply(r) => Req::Reply(pb::RecordReplyRequest {
            request_id: id,
            ..r
        }),
        Req::Pending(r) => Req::Pending(pb::SetPendingRequest {
            request_id: id,
            ..r
        }),
        Req::Resolve(r) => Req::Resolve(pb::ResolveTicketRequest {
            request_id: id,
            ..r
        }),
        Req::Cancel(r) => Req::Cancel(pb::CancelTicketRequest {
            request_id: id,
            ..r
        }),
        Req::Update(r) => Req::Update(pb::UpdateTicketRequest {
            request_id: id,
            ..r
        }),
        Req::Upsert(r) => Req::Upsert(pb::UpsertAgentRequest {
            request_id: id,
            ..r
        }),
        Req::Presence(r) => Req::Presence(pb::SetPresenceRequest {
            request_id: id,
            ..r
        }),
        Req::Pull(r) => Req::Pull(pb::PullNextTicketRequest {
            request_id: id,
            ..r
        }),
        Req::Release(r) => Req::Release(pb::ReleaseTicketRequest {
            request_id: id,
            ..r
        }),
        Req::FollowUp(r) => Req::FollowUp(pb::RecordFollowUpRequest {
            request_id: id,
            ..r
        }),
        Req::PutPolicy(r) => Req::PutPolicy(Box::new(pb::PutSlaPolicyRequest {
            request_id: id,
            ..*r
        })),
        other => other,
    }
}

/// A text one byte over the 128-byte limit of ids.
pub(super) fn long() -> String {
    "x".repeat(129)
}

/// 130 bytes in 65 characters: over the limit, which counts bytes.
pub(super) fn wide() -> String {
    "é".repeat(65)
}

/// Over the 4 MiB message limit.
pub(super) const FIVE_MIB: usize = 5 << 20;

/// `req` under the request id of the setup's resolve: refused, naming request_id, whatever
/// the call.
pub(super) fn reused(what: &'static str, req: Req) -> Row {
    (
        what,
        keyed(req, "req-resolve"),
        Code::InvalidArgument,
        "request_id",
    )
}
