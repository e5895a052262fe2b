//! Bad input gets the right status, names the offending field, and changes nothing: one table,
//! every row sent to a live daemon, then the daemon's state compared with a snapshot.

mod common;

use common::{agent, create, temp, Clients, Daemon};
use pb::{Channel, Tier};
use prost_types::Duration;
use tonic::{Code, Status};
use tonic_types::StatusExt;
use triage::proto as pb;

enum Req {
    Create(pb::CreateTicketRequest),
    Get(u64),
    Reply(pb::RecordReplyRequest),
    Pending(pb::SetPendingRequest),
    Resolve(pb::ResolveTicketRequest),
    Reopen(u64),
    Cancel(pb::CancelTicketRequest),
    Update(pb::UpdateTicketRequest),
    Upsert(pb::UpsertAgentRequest),
    GetAgent(&'static str),
    Presence(pb::SetPresenceRequest),
    Heartbeat(&'static str),
    Pull(pb::PullNextTicketRequest),
    Release(pb::ReleaseTicketRequest),
    List(pb::ListTicketsRequest),
    ListAgents(pb::ListAgentsRequest),
    PutPolicy(pb::PutSlaPolicyRequest),
    FollowUp(pb::RecordFollowUpRequest),
}

async fn send(c: &mut Clients, req: Req) -> Result<(), Status> {
    match req {
        Req::Create(r) => c.tickets.create_ticket(r).await.map(drop),
        Req::Get(id) => c
            .tickets
            .get_ticket(pb::GetTicketRequest { ticket_id: id })
            .await
            .map(drop),
        Req::Reply(r) => c.tickets.record_reply(r).await.map(drop),
        Req::Pending(r) => c.tickets.set_pending(r).await.map(drop),
        Req::Resolve(r) => c.tickets.resolve_ticket(r).await.map(drop),
        Req::Reopen(id) => c
            .tickets
            .reopen_ticket(pb::ReopenTicketRequest { ticket_id: id })
            .await
            .map(drop),
        Req::Cancel(r) => c.tickets.cancel_ticket(r).await.map(drop),
        Req::Update(r) => c.tickets.update_ticket(r).await.map(drop),
        Req::Upsert(r) => c.agents.upsert_agent(r).await.map(drop),
        Req::GetAgent(id) => c
            .agents
            .get_agent(pb::GetAgentRequest {
                agent_id: id.into(),
            })
            .await
            .map(drop),
        Req::Presence(r) => c.agents.set_presence(r).await.map(drop),
        Req::Heartbeat(id) => c
            .agents
            .heartbeat(pb::HeartbeatRequest {
                agent_id: id.into(),
            })
            .await
            .map(drop),
        Req::Pull(r) => c.agents.pull_next_ticket(r).await.map(drop),
        Req::Release(r) => c.agents.release_ticket(r).await.map(drop),
        Req::List(r) => c.tickets.list_tickets(r).await.map(drop),
        Req::ListAgents(r) => c.agents.list_agents(r).await.map(drop),
        Req::PutPolicy(r) => c.admin.put_sla_policy(r).await.map(drop),
        Req::FollowUp(r) => c.tickets.record_follow_up(r).await.map(drop),
    }
}

fn base() -> pb::CreateTicketRequest {
    create("fresh", Tier::Standard, Channel::Chat, &["en"])
}

fn with(f: impl FnOnce(&mut pb::CreateTicketRequest)) -> Req {
    let mut r = base();
    f(&mut r);
    Req::Create(r)
}

fn reply(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> Req {
    Req::Reply(common::agent_reply(ticket_id, agent_id, lease_epoch))
}

fn upsert(f: impl FnOnce(&mut pb::UpsertAgentRequest)) -> Req {
    let mut r = agent("carl", &["en"], &[], &[("chat", 2)]);
    f(&mut r);
    Req::Upsert(r)
}

fn pull_wait(seconds: i64, nanos: i32) -> Req {
    Req::Pull(pb::PullNextTicketRequest {
        agent_id: "ana".into(),
        wait: Some(Duration { seconds, nanos }),
    })
}

fn policy(f: impl FnOnce(&mut pb::SlaPolicy)) -> Req {
    let mut p = pb::SlaPolicy::default();
    f(&mut p);
    Req::PutPolicy(pb::PutSlaPolicyRequest {
        policy: Some(p),
        replace: false,
    })
}

fn office(f: impl FnOnce(&mut pb::Calendar)) -> Req {
    let mut c = pb::Calendar {
        name: "office".into(),
        time_zone: "Europe/Berlin".into(),
        mon: vec!["09:00-18:00".into()],
        ..Default::default()
    };
    f(&mut c);
    policy(|p| p.calendars = vec![c])
}

fn follow_up(ticket_id: u64, agent_id: &str) -> Req {
    Req::FollowUp(pb::RecordFollowUpRequest {
        ticket_id,
        agent_id: agent_id.into(),
    })
}

fn in_seconds(from_now: i64) -> Option<prost_types::Timestamp> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Some(prost_types::Timestamp {
        seconds: now + from_now,
        nanos: 0,
    })
}

fn email_target(first_response: Duration) -> pb::ChannelTargets {
    pb::ChannelTargets {
        channel: Channel::Email as i32,
        first_response: Some(first_response),
        ..Default::default()
    }
}

const ASSIGNED: u64 = 1;
const QUEUED: u64 = 2;
const RESOLVED: u64 = 3;

/// (what, request, expected code, field named in the BadRequest for INVALID_ARGUMENT)
fn table() -> Vec<(&'static str, Req, Code, &'static str)> {
    use Code::*;
    let long = "x".repeat(129);
    vec![
        (
            "empty external_id",
            with(|r| r.external_id.clear()),
            InvalidArgument,
            "external_id",
        ),
        (
            "oversized external_id",
            with(|r| r.external_id = long.clone()),
            InvalidArgument,
            "external_id",
        ),
        (
            "control character in external_id",
            with(|r| r.external_id = "a\u{7}b".into()),
            InvalidArgument,
            "external_id",
        ),
        (
            "empty customer_id",
            with(|r| r.customer_id.clear()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "oversized customer_id",
            with(|r| r.customer_id = long.clone()),
            InvalidArgument,
            "customer_id",
        ),
        (
            "tier unspecified",
            with(|r| r.tier = 0),
            InvalidArgument,
            "tier",
        ),
        (
            "unknown tier",
            with(|r| r.tier = 99),
            InvalidArgument,
            "tier",
        ),
        (
            "channel unspecified",
            with(|r| r.channel = 0),
            InvalidArgument,
            "channel",
        ),
        (
            "unknown channel",
            with(|r| r.channel = 42),
            InvalidArgument,
            "channel",
        ),
        (
            "unknown priority",
            with(|r| r.priority = 17),
            InvalidArgument,
            "priority",
        ),
        (
            "negative sentiment enum",
            with(|r| r.sentiment = -1),
            InvalidArgument,
            "sentiment",
        ),
        (
            "33 skills",
            with(|r| r.required_skills = (0..33).map(|i| format!("s{i}")).collect()),
            InvalidArgument,
            "required_skills",
        ),
        (
            "empty skill",
            with(|r| r.required_skills = vec![String::new()]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "skill with a space",
            with(|r| r.required_skills = vec!["en".into(), "bad skill".into()]),
            InvalidArgument,
            "required_skills[1]",
        ),
        (
            "oversized skill",
            with(|r| r.required_skills = vec!["s".repeat(65)]),
            InvalidArgument,
            "required_skills[0]",
        ),
        (
            "preferred agent with a slash",
            with(|r| r.preferred_agent_id = "a/b".into()),
            InvalidArgument,
            "preferred_agent_id",
        ),
        (
            "oversized request_id",
            with(|r| r.request_id = "r".repeat(200)),
            InvalidArgument,
            "request_id",
        ),
        (
            "duplicate external_id",
            with(|r| r.external_id = "dup".into()),
            AlreadyExists,
            "",
        ),
        (
            "request_id replayed with another body",
            with(|r| {
                r.request_id = "req-x".into();
                r.external_id = "other".into()
            }),
            InvalidArgument,
            "request_id",
        ),
        ("ticket_id 0", Req::Get(0), InvalidArgument, "ticket_id"),
        ("unknown ticket", Req::Get(9999), NotFound, ""),
        (
            "reply author unspecified",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                ..Default::default()
            }),
            InvalidArgument,
            "author",
        ),
        (
            "reply author unknown",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: 7,
                ..Default::default()
            }),
            InvalidArgument,
            "author",
        ),
        (
            "agent reply without agent_id",
            reply(ASSIGNED, "", 1),
            InvalidArgument,
            "agent_id",
        ),
        (
            "agent reply without epoch",
            reply(ASSIGNED, "ana", 0),
            InvalidArgument,
            "lease_epoch",
        ),
        (
            "agent reply with a stale epoch",
            reply(ASSIGNED, "ana", 7),
            FailedPrecondition,
            "",
        ),
        (
            "reply by an agent not holding the ticket",
            reply(ASSIGNED, "bob", 1),
            FailedPrecondition,
            "",
        ),
        (
            "reply by an unknown agent",
            reply(ASSIGNED, "ghost", 1),
            NotFound,
            "",
        ),
        (
            "reply to a ticket of 0",
            reply(0, "ana", 1),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "customer message on a resolved ticket",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: RESOLVED,
                author: pb::Author::Customer as i32,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "pending on a ticket not held",
            Req::Pending(pb::SetPendingRequest {
                ticket_id: QUEUED,
                agent_id: "ana".into(),
                lease_epoch: 1,
            }),
            FailedPrecondition,
            "",
        ),
        (
            "pending without epoch",
            Req::Pending(pb::SetPendingRequest {
                ticket_id: ASSIGNED,
                agent_id: "ana".into(),
                lease_epoch: 0,
            }),
            InvalidArgument,
            "lease_epoch",
        ),
        (
            "resolve a resolved ticket",
            Req::Resolve(pb::ResolveTicketRequest {
                ticket_id: RESOLVED,
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "resolve with agent but no epoch",
            Req::Resolve(pb::ResolveTicketRequest {
                ticket_id: ASSIGNED,
                agent_id: "ana".into(),
                lease_epoch: 0,
            }),
            InvalidArgument,
            "lease_epoch",
        ),
        (
            "resolve with epoch but no agent",
            Req::Resolve(pb::ResolveTicketRequest {
                ticket_id: ASSIGNED,
                agent_id: String::new(),
                lease_epoch: 1,
            }),
            InvalidArgument,
            "agent_id",
        ),
        (
            "reopen a queued ticket",
            Req::Reopen(QUEUED),
            FailedPrecondition,
            "",
        ),
        ("reopen an unknown ticket", Req::Reopen(12345), NotFound, ""),
        (
            "cancel an unknown ticket",
            Req::Cancel(pb::CancelTicketRequest {
                ticket_id: 9999,
                reason: 1,
            }),
            NotFound,
            "",
        ),
        (
            "cancel with an unknown reason",
            Req::Cancel(pb::CancelTicketRequest {
                ticket_id: QUEUED,
                reason: 9,
            }),
            InvalidArgument,
            "reason",
        ),
        (
            "cancel a resolved ticket",
            Req::Cancel(pb::CancelTicketRequest {
                ticket_id: RESOLVED,
                reason: 1,
            }),
            FailedPrecondition,
            "",
        ),
        (
            "update with no field",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: QUEUED,
                ..Default::default()
            }),
            InvalidArgument,
            "priority",
        ),
        (
            "update to an unknown priority",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: QUEUED,
                priority: Some(99),
                ..Default::default()
            }),
            InvalidArgument,
            "priority",
        ),
        (
            "update to tier unspecified",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: QUEUED,
                tier: Some(0),
                ..Default::default()
            }),
            InvalidArgument,
            "tier",
        ),
        (
            "update with 40 skills",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: QUEUED,
                required_skills: Some(pb::SkillList {
                    skills: (0..40).map(|i| format!("k{i}")).collect(),
                }),
                ..Default::default()
            }),
            InvalidArgument,
            "required_skills.skills",
        ),
        (
            "update a resolved ticket",
            Req::Update(pb::UpdateTicketRequest {
                ticket_id: RESOLVED,
                priority: Some(3),
                ..Default::default()
            }),
            FailedPrecondition,
            "",
        ),
        (
            "agent with empty id",
            upsert(|r| r.agent_id.clear()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "agent id with a space",
            upsert(|r| r.agent_id = "a b".into()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "oversized agent id",
            upsert(|r| r.agent_id = long.clone()),
            InvalidArgument,
            "agent_id",
        ),
        (
            "capacity for an unknown channel",
            upsert(|r| {
                r.capacity.insert("fax".into(), 1);
            }),
            InvalidArgument,
            "capacity[fax]",
        ),
        (
            "capacity over the limit",
            upsert(|r| {
                r.capacity.insert("chat".into(), 5000);
            }),
            InvalidArgument,
            "capacity[chat]",
        ),
        (
            "agent tier unspecified",
            upsert(|r| r.tiers = vec![0]),
            InvalidArgument,
            "tiers[0]",
        ),
        (
            "oversized display name",
            upsert(|r| r.display_name = "n".repeat(300)),
            InvalidArgument,
            "display_name",
        ),
        (
            "agent with 33 skills",
            upsert(|r| r.skills = (0..33).map(|i| format!("s{i}")).collect()),
            InvalidArgument,
            "skills",
        ),
        (
            "get agent with empty id",
            Req::GetAgent(""),
            InvalidArgument,
            "agent_id",
        ),
        ("get an unknown agent", Req::GetAgent("ghost"), NotFound, ""),
        (
            "presence unspecified",
            Req::Presence(pb::SetPresenceRequest {
                agent_id: "ana".into(),
                presence: 0,
            }),
            InvalidArgument,
            "presence",
        ),
        (
            "presence for an unknown agent",
            Req::Presence(pb::SetPresenceRequest {
                agent_id: "ghost".into(),
                presence: 1,
            }),
            NotFound,
            "",
        ),
        (
            "heartbeat of an unknown agent",
            Req::Heartbeat("ghost"),
            NotFound,
            "",
        ),
        (
            "pull by an unknown agent",
            Req::Pull(pb::PullNextTicketRequest {
                agent_id: "ghost".into(),
                wait: None,
            }),
            NotFound,
            "",
        ),
        (
            "pull by an offline agent",
            Req::Pull(pb::PullNextTicketRequest {
                agent_id: "bob".into(),
                wait: None,
            }),
            FailedPrecondition,
            "",
        ),
        (
            "pull with a negative wait",
            pull_wait(-1, 0),
            InvalidArgument,
            "wait",
        ),
        (
            "pull with nanos out of range",
            pull_wait(0, 2_000_000_000),
            InvalidArgument,
            "wait",
        ),
        (
            "release with a stale epoch",
            Req::Release(pb::ReleaseTicketRequest {
                ticket_id: ASSIGNED,
                agent_id: "ana".into(),
                lease_epoch: 2,
            }),
            FailedPrecondition,
            "",
        ),
        (
            "release a queued ticket",
            Req::Release(pb::ReleaseTicketRequest {
                ticket_id: QUEUED,
                agent_id: "ana".into(),
                lease_epoch: 1,
            }),
            FailedPrecondition,
            "",
        ),
        (
            "list with a huge page",
            Req::List(pb::ListTicketsRequest {
                page_size: 5000,
                ..Default::default()
            }),
            InvalidArgument,
            "page_size",
        ),
        (
            "list with a forged page token",
            Req::List(pb::ListTicketsRequest {
                page_token: "abc".into(),
                ..Default::default()
            }),
            InvalidArgument,
            "page_token",
        ),
        (
            "list with an unknown state",
            Req::List(pb::ListTicketsRequest {
                state: 77,
                ..Default::default()
            }),
            InvalidArgument,
            "state",
        ),
        (
            "list agents with a huge page",
            Req::ListAgents(pb::ListAgentsRequest {
                page_size: 1001,
                ..Default::default()
            }),
            InvalidArgument,
            "page_size",
        ),
        (
            "put a missing policy",
            Req::PutPolicy(pb::PutSlaPolicyRequest {
                policy: None,
                replace: false,
            }),
            InvalidArgument,
            "policy",
        ),
        (
            "warning fraction above 1",
            policy(|p| p.warning_fraction = 1.5),
            InvalidArgument,
            "policy.warning_fraction",
        ),
        (
            "zero target",
            policy(|p| {
                p.targets = vec![email_target(Duration {
                    seconds: 0,
                    nanos: 0,
                })]
            }),
            InvalidArgument,
            "policy.targets.email.first_response",
        ),
        (
            "negative target",
            policy(|p| {
                p.targets = vec![email_target(Duration {
                    seconds: -5,
                    nanos: 0,
                })]
            }),
            InvalidArgument,
            "policy.targets[0].first_response",
        ),
        (
            "target for channel unspecified",
            policy(|p| p.targets = vec![pb::ChannelTargets::default()]),
            InvalidArgument,
            "policy.targets[0].channel",
        ),
        (
            "negative tier multiplier",
            policy(|p| {
                p.tier_multipliers = vec![pb::TierMultiplier {
                    tier: Tier::Vip as i32,
                    multiplier: -1.0,
                }]
            }),
            InvalidArgument,
            "policy.tier_multipliers.vip",
        ),
        (
            "NaN priority multiplier",
            policy(|p| {
                p.priority_multipliers = vec![pb::PriorityMultiplier {
                    priority: pb::Priority::High as i32,
                    multiplier: f64::NAN,
                }]
            }),
            InvalidArgument,
            "policy.priority_multipliers.high",
        ),
        (
            "l3 before l2",
            policy(|p| {
                p.l2_offset = 2.0;
                p.l3_offset = 1.5
            }),
            InvalidArgument,
            "policy.l3_offset",
        ),
        (
            "presence ttl of zero",
            policy(|p| {
                p.presence_ttl = Some(Duration {
                    seconds: 0,
                    nanos: 0,
                })
            }),
            InvalidArgument,
            "policy.presence_ttl",
        ),
        (
            "calendar in an unknown time zone",
            office(|c| c.time_zone = "Mars/Olympus".into()),
            InvalidArgument,
            "policy.calendars[0].time_zone",
        ),
        (
            "calendar hours that are not a time range",
            office(|c| c.mon = vec!["9 to 5".into()]),
            InvalidArgument,
            "policy.calendars[0].mon[0]",
        ),
        (
            "calendar hours that end before they start",
            office(|c| c.mon = vec!["18:00-09:00".into()]),
            InvalidArgument,
            "policy.calendars.office.mon[0]",
        ),
        (
            "calendar that is never open",
            office(|c| c.mon.clear()),
            InvalidArgument,
            "policy.calendars.office.hours",
        ),
        (
            "calendar holiday that is not a date",
            office(|c| {
                c.holidays = vec![pb::Holiday {
                    date: "25.12.2026".into(),
                    hours: vec![],
                }]
            }),
            InvalidArgument,
            "policy.calendars[0].holidays[0].date",
        ),
        (
            "channel calendar naming no calendar",
            policy(|p| {
                p.channel_calendars = vec![pb::ChannelCalendar {
                    channel: Channel::Email as i32,
                    calendar: "nowhere".into(),
                }]
            }),
            InvalidArgument,
            "policy.channel_calendars.email",
        ),
        (
            "override with a zero target",
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
            }),
            InvalidArgument,
            "policy.overrides.vip.chat.first_response",
        ),
        (
            "override without a tier",
            policy(|p| {
                p.overrides = vec![pb::TargetOverride {
                    channel: Channel::Chat as i32,
                    ..Default::default()
                }]
            }),
            InvalidArgument,
            "policy.overrides[0].tier",
        ),
        (
            "unknown widening",
            policy(|p| p.l3_widen = 42),
            InvalidArgument,
            "policy.l3_widen",
        ),
        (
            "service level target above 100 %",
            policy(|p| p.service_level_target = 1.2),
            InvalidArgument,
            "policy.service_level_target",
        ),
        (
            "upper-case onboarding skill",
            policy(|p| p.onboarding_skill = "Onboarding".into()),
            InvalidArgument,
            "policy.onboarding_skill",
        ),
        (
            "a customer cannot promise an update",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: pb::Author::Customer as i32,
                next_update_by: in_seconds(600),
                ..Default::default()
            }),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise in the past",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: pb::Author::Agent as i32,
                agent_id: "ana".into(),
                lease_epoch: 1,
                next_update_by: in_seconds(-600),
            }),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "a promise before 1970",
            Req::Reply(pb::RecordReplyRequest {
                ticket_id: ASSIGNED,
                author: pb::Author::Agent as i32,
                agent_id: "ana".into(),
                lease_epoch: 1,
                next_update_by: Some(prost_types::Timestamp {
                    seconds: -5,
                    nanos: 0,
                }),
            }),
            InvalidArgument,
            "next_update_by",
        ),
        (
            "follow-up without a ticket id",
            follow_up(0, ""),
            InvalidArgument,
            "ticket_id",
        ),
        (
            "follow-up of an unknown ticket",
            follow_up(999, ""),
            NotFound,
            "",
        ),
        (
            "follow-up of an open ticket",
            follow_up(QUEUED, ""),
            FailedPrecondition,
            "",
        ),
        (
            "follow-up by an unknown agent",
            follow_up(RESOLVED, "ghost"),
            NotFound,
            "",
        ),
    ]
}

/// Everything a refused call could have changed.
async fn snapshot(c: &mut Clients) -> (Vec<pb::Ticket>, Vec<pb::Agent>, pb::SlaPolicy) {
    let agents = c
        .all_agents()
        .await
        .into_iter()
        .map(|a| pb::Agent {
            last_seen: None,
            ..a
        })
        .collect();
    let policy = c.policy().await;
    (c.all_tickets().await, agents, policy)
}

#[tokio::test]
async fn every_malformed_or_hostile_request_gets_its_status_and_changes_nothing() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ana", &["en"], &[], &[("chat", 1)]))
        .await;
    c.agents
        .upsert_agent(agent("bob", &["en"], &[], &[]))
        .await
        .expect("bob stays offline");
    let assigned = c
        .create(create("dup", Tier::Standard, Channel::Chat, &["en"]))
        .await;
    let mut queued = create("q", Tier::Standard, Channel::Chat, &["en"]);
    queued.request_id = "req-x".into();
    let queued = c.create(queued).await;
    let resolved = c
        .create(create("r", Tier::Standard, Channel::Email, &[]))
        .await;
    assert_eq!(
        (assigned.ticket_id, queued.ticket_id, resolved.ticket_id),
        (ASSIGNED, QUEUED, RESOLVED)
    );
    let a = c.pull("ana").await.expect("ana takes the first chat");
    assert_eq!(
        (a.ticket.expect("t").ticket_id, a.lease_epoch),
        (ASSIGNED, 1)
    );
    c.tickets
        .resolve_ticket(pb::ResolveTicketRequest {
            ticket_id: RESOLVED,
            ..Default::default()
        })
        .await
        .expect("resolve");

    let before = snapshot(&mut c).await;
    let rows = table();
    assert!(rows.len() >= 25, "{} rows", rows.len());
    let mut failures = Vec::new();
    for (what, req, code, field) in rows {
        match send(&mut c, req).await {
            Ok(()) => failures.push(format!("{what}: accepted, expected {code:?}")),
            Err(status) if status.code() != code => failures.push(format!(
                "{what}: got {:?} ({}), expected {code:?}",
                status.code(),
                status.message()
            )),
            Err(status) if code == Code::InvalidArgument => {
                let named = status
                    .get_details_bad_request()
                    .and_then(|b| b.field_violations.first().map(|v| v.field.clone()));
                if named.as_deref() != Some(field) {
                    failures.push(format!(
                        "{what}: BadRequest names {named:?}, expected {field:?}"
                    ));
                }
                if !status.message().contains(field) {
                    failures.push(format!(
                        "{what}: message {:?} does not name {field:?}",
                        status.message()
                    ));
                }
            }
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot(&mut c).await,
        before,
        "a refused call changed something"
    );
}
