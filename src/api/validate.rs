//! Request validation: every field of every request is checked here and turned into a core
//! command, or refused with INVALID_ARGUMENT naming the field. Nothing reaches the scheduler
//! unchecked, so a refused request changes nothing.

use super::convert::decode::cancel_reason;
/// The enum decoders, re-exported where requests are checked.
pub use super::convert::decode::{channel, presence, priority, sentiment, state, tier};
use super::status::invalid;
use crate::core::activity::parse_reason;
use crate::core::agent_stats::MAX_WINDOW;
use crate::core::command::*;
use crate::core::parse::{self, FieldError};
use crate::core::proficiency;
use crate::core::types::*;
use crate::proto as pb;
use std::time::Duration;
use tonic::Status;

/// Limits on pages. (The bounds on ids, names and skills are the core's: `core::parse`.)
pub const MAX_PAGE_SIZE: u32 = 1000;
pub const DEFAULT_PAGE_SIZE: u32 = 100;

pub type Checked<T> = Result<T, Status>;

/// Settings that validation needs from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest long-poll a pull may ask for; longer waits are capped, not refused.
    pub max_pull_wait: Duration,
    /// Largest message decoded or encoded.
    pub max_message_bytes: usize,
    /// `Work` sessions and `WatchEvents` streams open at once.
    pub max_streams: usize,
}

/// A request that may carry a `request_id`.
pub trait Keyed {
    fn take_request_id(&mut self) -> String;
}

macro_rules! keyed {
    ($($t:ty),+ $(,)?) => {
        $(impl Keyed for $t {
            fn take_request_id(&mut self) -> String {
                std::mem::take(&mut self.request_id)
            }
        })+
    };
}

keyed!(
    pb::RecordReplyRequest,
    pb::RecordFollowUpRequest,
    pb::SetPendingRequest,
    pb::ResolveTicketRequest,
    pb::ReopenTicketRequest,
    pb::CancelTicketRequest,
    pb::UpdateTicketRequest,
    pb::AssignTicketRequest,
    pb::TransferTicketRequest,
    pb::UpsertAgentRequest,
    pb::SetPresenceRequest,
    pb::ReleaseTicketRequest,
    pb::AcceptTicketRequest,
    pb::RejectTicketRequest,
    pb::PullNextTicketRequest,
    pb::PutSlaPolicyRequest,
    pb::EndWrapUpRequest,
);

/// Validates a mutating request with `validate` and makes its command idempotent under the
/// request's `request_id` (checked first).
pub fn once<R: Keyed>(mut r: R, validate: impl FnOnce(R) -> Checked<Command>) -> Checked<Command> {
    let id = request_id("request_id", r.take_request_id())?;
    Ok(validate(r)?.once(id))
}

/// An optional `request_id`: empty means none; otherwise 1 to 128 bytes, not only white
/// space, with no control or invisible formatting characters (`core::parse::request_id`).
pub fn request_id(field: &str, value: String) -> Checked<String> {
    Ok(parse::request_id(field, value)?)
}

pub(super) fn agent_id(field: &str, value: String) -> Result<AgentId, FieldError> {
    AgentId::parse_field(field, value)
}

fn optional_agent_id(field: &str, value: String) -> Checked<Option<AgentId>> {
    if value.is_empty() {
        Ok(None)
    } else {
        Ok(Some(agent_id(field, value)?))
    }
}

pub(super) fn lease(agent: String, epoch: u64) -> Checked<Lease> {
    let agent = agent_id("agent_id", agent)?;
    let epoch = parse::lease_epoch("lease_epoch", epoch)?;
    Ok(Lease { agent, epoch })
}

/// Decodes an enum that must be set.
pub(super) fn required_enum<P, T>(field: &str, raw: i32, map: impl Fn(P) -> Option<T>) -> Checked<T>
where
    P: TryFrom<i32>,
{
    let decoded =
        P::try_from(raw).map_err(|_| invalid(field, format!("{raw} is not a known value")))?;
    map(decoded).ok_or_else(|| invalid(field, "is required"))
}

/// Decodes an enum where UNSPECIFIED means "not given".
pub(super) fn optional_enum<P, T>(
    field: &str,
    raw: i32,
    map: impl Fn(P) -> Option<T>,
) -> Checked<Option<T>>
where
    P: TryFrom<i32>,
{
    let decoded =
        P::try_from(raw).map_err(|_| invalid(field, format!("{raw} is not a known value")))?;
    Ok(map(decoded))
}

/// A protobuf Timestamp as an instant, within years 1970..=9999.
fn instant(field: &str, t: &prost_types::Timestamp) -> Checked<Ts> {
    const MAX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(0..=MAX_SECONDS).contains(&t.seconds) || !(0..1_000_000_000).contains(&t.nanos) {
        return Err(invalid(
            field,
            "must be a timestamp between 1970 and 9999 with nanos in [0, 1e9)",
        ));
    }
    Ok(Ts(t.seconds * 1000 + i64::from(t.nanos / 1_000_000)))
}

/// A protobuf Duration as a non-negative span.
pub(super) fn span(field: &str, d: &prost_types::Duration) -> Checked<Span> {
    if d.seconds < 0 || d.nanos < 0 || d.nanos >= 1_000_000_000 {
        return Err(invalid(
            field,
            "must be a non-negative duration with nanos in [0, 1e9)",
        ));
    }
    let ms = (d.seconds as u64)
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(d.nanos as u64 / 1_000_000))
        .ok_or_else(|| invalid(field, "is too long"))?;
    Ok(Span(ms))
}

/// The most tickets one `CreateTickets` call may carry.
pub const MAX_BATCH: usize = 1000;

pub fn create_ticket(r: pb::CreateTicketRequest) -> Checked<Command> {
    new_ticket(r).map(Command::CreateTicket)
}

pub fn new_ticket(r: pb::CreateTicketRequest) -> Checked<NewTicket> {
    let (skills, first_skill, needs) =
        proficiency::parse_ticket_skills(r.required_skills, r.optional_skills)?;
    Ok(NewTicket {
        request_id: request_id("request_id", r.request_id)?,
        external_id: parse::identifier("external_id", r.external_id)?,
        customer_id: parse::identifier("customer_id", r.customer_id)?,
        tier: required_enum("tier", r.tier, tier)?,
        channel: required_enum("channel", r.channel, channel)?,
        priority: optional_enum("priority", r.priority, priority)?.unwrap_or(Priority::Normal),
        skills,
        first_skill,
        sentiment: optional_enum("sentiment", r.sentiment, sentiment)?
            .unwrap_or(Sentiment::Neutral),
        preferred_agent: optional_agent_id("preferred_agent_id", r.preferred_agent_id)?,
        needs,
        // Its bounds (not in the future, at most max_backdate old) are the core's: they are
        // checked against the scheduler's clock when the create is applied.
        created_at: r
            .created_at
            .map(|t| instant("created_at", &t))
            .transpose()?,
    })
}

pub fn get_ticket(r: pb::GetTicketRequest) -> Checked<Command> {
    Ok(Command::GetTicket(TicketId::parse(
        "ticket_id",
        r.ticket_id,
    )?))
}

pub fn explain_ticket(r: pb::ExplainTicketRequest) -> Checked<Command> {
    Ok(Command::Explain(TicketId::parse("ticket_id", r.ticket_id)?))
}

fn page_size(size: u32) -> Checked<usize> {
    match size {
        0 => Ok(DEFAULT_PAGE_SIZE as usize),
        n if n > MAX_PAGE_SIZE => Err(invalid(
            "page_size",
            format!("must be at most {MAX_PAGE_SIZE}"),
        )),
        n => Ok(n as usize),
    }
}

/// Which events a `WatchEvents` caller wants: the request's filters, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFilter {
    pub kinds: Vec<pb::EventKind>,
    pub ticket_id: u64,
    pub agent_id: Option<String>,
}

impl EventFilter {
    /// Whether `e` passes every filter given.
    pub fn matches(&self, e: &pb::Event) -> bool {
        let kind = self.kinds.is_empty() || self.kinds.iter().any(|&k| k as i32 == e.kind);
        let ticket = self.ticket_id == 0 || e.ticket_id == self.ticket_id;
        let agent = self
            .agent_id
            .as_ref()
            .is_none_or(|a| e.agent_id == *a || e.from_agent_id == *a);
        kind && ticket && agent
    }
}

/// `WatchEvents`: where to start, and the filters.
pub fn watch_events(r: pb::WatchEventsRequest) -> Checked<(u64, EventFilter)> {
    let kinds = r
        .kinds
        .iter()
        .map(|&k| match pb::EventKind::try_from(k) {
            Ok(pb::EventKind::Unspecified) | Err(_) => Err(invalid(
                "kinds",
                format!("{k} is not an event kind (EVENT_KIND_CREATED = 1, ...)"),
            )),
            Ok(kind) => Ok(kind),
        })
        .collect::<Checked<Vec<_>>>()?;
    let agent_id = match r.agent_id.is_empty() {
        true => None,
        false => Some(AgentId::parse(&r.agent_id)?.as_str().to_owned()),
    };
    let filter = EventFilter {
        kinds,
        ticket_id: r.ticket_id,
        agent_id,
    };
    Ok((r.from_sequence, filter))
}

/// The first step of an erasure (the API takes the next ones as the replies say).
pub fn erase_customer(r: pb::EraseCustomerRequest) -> Checked<Erase> {
    Ok(Erase {
        customer_id: parse::identifier("customer_id", r.customer_id)?,
        after: None,
        erased_before: 0,
    })
}

pub fn list_tickets(r: pb::ListTicketsRequest) -> Checked<Command> {
    let optional_instant =
        |field, t: Option<prost_types::Timestamp>| t.map(|t| instant(field, &t)).transpose();
    let created_from = optional_instant("created_from", r.created_from)?;
    let created_before = optional_instant("created_before", r.created_before)?;
    if let (Some(from), Some(before)) = (created_from, created_before) {
        if before <= from {
            return Err(invalid("created_before", "must be later than created_from"));
        }
    }
    let after = match r.page_token.as_str() {
        "" => None,
        token => Some(TicketId(issued_number(token).ok_or_else(|| {
            invalid("page_token", "is not a token this server issued")
        })?)),
    };
    Ok(Command::ListTickets(TicketFilter {
        state: optional_enum("state", r.state, state)?,
        tier: optional_enum("tier", r.tier, tier)?,
        channel: optional_enum("channel", r.channel, channel)?,
        agent: optional_agent_id("agent_id", r.agent_id)?,
        customer: match r.customer_id.is_empty() {
            true => None,
            false => Some(parse::identifier("customer_id", r.customer_id)?),
        },
        created_from,
        created_before,
        after,
        limit: page_size(r.page_size)?,
    }))
}

/// A page token as the server writes it: a decimal number, no sign, no leading zero.
fn issued_number(token: &str) -> Option<u64> {
    let canonical = token.bytes().all(|b| b.is_ascii_digit()) && !token.starts_with('0');
    canonical.then(|| token.parse().ok()).flatten()
}

pub fn record_reply(r: pb::RecordReplyRequest) -> Checked<Command> {
    let ticket = TicketId::parse("ticket_id", r.ticket_id)?;
    let author = match (pb::Author::try_from(r.author), r.on_behalf) {
        (Ok(pb::Author::Agent), false) => Author::Agent(lease(r.agent_id, r.lease_epoch)?),
        (Ok(pb::Author::Agent), true) => on_behalf(r.agent_id, r.lease_epoch)?,
        (Ok(pb::Author::Customer), false) => Author::Customer,
        (Ok(pb::Author::Customer), true) => {
            return Err(invalid(
                "on_behalf",
                "only an agent's reply is recorded on behalf",
            ))
        }
        (Ok(pb::Author::Unspecified), _) => return Err(invalid("author", "is required")),
        (Err(_), _) => {
            return Err(invalid(
                "author",
                format!("{} is not a known value", r.author),
            ))
        }
    };
    let next_update_by = match (&author, r.next_update_by) {
        (_, None) => None,
        (Author::Agent(_) | Author::OnBehalf(_), Some(ts)) => Some(instant("next_update_by", &ts)?),
        (Author::Customer, Some(_)) => {
            return Err(invalid(
                "next_update_by",
                "only an agent's reply can promise an update",
            ))
        }
    };
    Ok(Command::RecordReply {
        ticket,
        author,
        next_update_by,
    })
}

/// A reply recorded on an agent's behalf names the agent and no lease: a lease epoch there
/// would suggest the lease is checked, and it is not.
fn on_behalf(agent: String, epoch: u64) -> Checked<Author> {
    let agent = agent_id("agent_id", agent)?;
    if epoch != 0 {
        return Err(invalid(
            "lease_epoch",
            "must be 0 on a reply on behalf (no lease is used)",
        ));
    }
    Ok(Author::OnBehalf(agent))
}

pub fn record_follow_up(r: pb::RecordFollowUpRequest) -> Checked<Command> {
    Ok(Command::RecordFollowUp {
        ticket: TicketId::parse("ticket_id", r.ticket_id)?,
        agent: optional_agent_id("agent_id", r.agent_id)?,
    })
}

pub fn set_pending(r: pb::SetPendingRequest) -> Checked<Command> {
    Ok(Command::SetPending {
        ticket: TicketId::parse("ticket_id", r.ticket_id)?,
        lease: lease(r.agent_id, r.lease_epoch)?,
    })
}

pub fn resolve(r: pb::ResolveTicketRequest) -> Checked<Command> {
    let ticket = TicketId::parse("ticket_id", r.ticket_id)?;
    let lease = if r.agent_id.is_empty() && r.lease_epoch == 0 {
        None
    } else {
        Some(lease(r.agent_id, r.lease_epoch)?)
    };
    Ok(Command::Resolve { ticket, lease })
}

pub fn reopen(r: pb::ReopenTicketRequest) -> Checked<Command> {
    Ok(Command::Reopen {
        ticket: TicketId::parse("ticket_id", r.ticket_id)?,
    })
}

pub fn cancel(r: pb::CancelTicketRequest) -> Checked<Command> {
    Ok(Command::Cancel {
        ticket: TicketId::parse("ticket_id", r.ticket_id)?,
        reason: optional_enum("reason", r.reason, cancel_reason)?.unwrap_or(CancelReason::Other),
    })
}

pub fn update(r: pb::UpdateTicketRequest) -> Checked<Command> {
    let ticket = TicketId::parse("ticket_id", r.ticket_id)?;
    let update = TicketUpdate {
        priority: r
            .priority
            .map(|p| required_enum("priority", p, priority))
            .transpose()?,
        skills: r
            .required_skills
            .map(|s| SkillSet::parse_listed("required_skills.skills", s.skills))
            .transpose()?,
        sentiment: r
            .sentiment
            .map(|s| required_enum("sentiment", s, sentiment))
            .transpose()?,
        tier: r.tier.map(|t| required_enum("tier", t, tier)).transpose()?,
        preferred_agent: r
            .preferred_agent_id
            .map(|a| optional_agent_id("preferred_agent_id", a))
            .transpose()?,
    };
    if update == TicketUpdate::default() {
        return Err(invalid(
            "priority",
            "at least one of priority, required_skills, sentiment, tier, preferred_agent_id must be set",
        ));
    }
    Ok(Command::Update { ticket, update })
}

pub fn upsert_agent(r: pb::UpsertAgentRequest) -> Checked<Command> {
    let id = agent_id("agent_id", r.agent_id)?;
    let display_name = parse::display_name("display_name", r.display_name)?;
    let (skills, levels) = proficiency::parse_agent_skills("skills", r.skills)?;
    let mut tiers = Vec::with_capacity(r.tiers.len());
    for (i, raw) in r.tiers.into_iter().enumerate() {
        let t = required_enum(&format!("tiers[{i}]"), raw, tier)?;
        if !tiers.contains(&t) {
            tiers.push(t);
        }
    }
    let capacity = parse::capacity(r.capacity)?;
    Ok(Command::UpsertAgent(AgentProfile {
        id,
        display_name,
        skills,
        levels,
        tiers,
        capacity,
    }))
}

pub fn get_agent(r: pb::GetAgentRequest) -> Checked<Command> {
    Ok(Command::GetAgent(agent_id("agent_id", r.agent_id)?))
}

pub fn list_agents(r: pb::ListAgentsRequest) -> Checked<Command> {
    Ok(Command::ListAgents(AgentFilter {
        presence: optional_enum("presence", r.presence, presence)?,
        after: optional_agent_id("page_token", r.page_token)?,
        limit: page_size(r.page_size)?,
    }))
}

/// The reason's shape is checked here; whether the policy knows it, by the core.
pub fn set_presence(r: pb::SetPresenceRequest) -> Checked<Command> {
    Ok(Command::SetPresence {
        agent: agent_id("agent_id", r.agent_id)?,
        presence: required_enum("presence", r.presence, presence)?,
        reason: parse_reason("reason", r.reason)?,
    })
}

pub fn end_wrap_up(r: pb::EndWrapUpRequest) -> Checked<Command> {
    Ok(Command::EndWrapUp(agent_id("agent_id", r.agent_id)?))
}

/// The window: unset, the policy's `stats_window` (the core's default); else more than 0
/// and at most `MAX_WINDOW`.
pub fn agent_stats(r: pb::GetAgentStatsRequest) -> Checked<Command> {
    let agent = agent_id("agent_id", r.agent_id)?;
    let window = r.window.as_ref().map(|d| span("window", d)).transpose()?;
    if window.is_some_and(|w| w.0 == 0 || w > MAX_WINDOW) {
        let why = format!("must be more than 0 and at most {MAX_WINDOW}");
        return Err(invalid("window", why));
    }
    Ok(Command::AgentStats { agent, window })
}

pub fn heartbeat(r: pb::HeartbeatRequest) -> Checked<Command> {
    Ok(Command::Heartbeat(agent_id("agent_id", r.agent_id)?))
}

/// A pull (idempotent under its `request_id`) and how long to wait (capped at
/// `limits.max_pull_wait`).
pub fn pull(r: pb::PullNextTicketRequest, limits: Limits) -> Checked<(Command, Duration)> {
    let id = request_id("request_id", r.request_id)?;
    let agent = agent_id("agent_id", r.agent_id)?;
    let wait = match &r.wait {
        Some(d) => Duration::from_millis(span("wait", d)?.0),
        None => Duration::ZERO,
    };
    Ok((
        Command::Pull(agent).once(id),
        wait.min(limits.max_pull_wait),
    ))
}

pub fn release(r: pb::ReleaseTicketRequest) -> Checked<Command> {
    Ok(Command::Release {
        ticket: TicketId::parse("ticket_id", r.ticket_id)?,
        lease: lease(r.agent_id, r.lease_epoch)?,
    })
}

/// The most credit a Work session may hold unspent: it bounds what the daemon pushes ahead.
pub const MAX_WORK_CREDIT: u32 = 1000;

/// A Work session's first message: the agent and its first credit.
pub fn work_start(r: pb::WorkRequest) -> Checked<(AgentId, u32)> {
    let Some(pb::work_request::Kind::Start(start)) = r.kind else {
        return Err(invalid("start", "the first message must start the session"));
    };
    let agent = agent_id("start.agent_id", start.agent_id)?;
    Ok((agent, work_credit("start.ready", 0, start.ready)?))
}

/// More credit for a session that holds `unspent`.
pub fn work_credit(field: &str, unspent: u32, tickets: u32) -> Checked<u32> {
    match unspent.checked_add(tickets) {
        Some(total) if total <= MAX_WORK_CREDIT => Ok(tickets),
        _ => Err(invalid(
            field,
            format!("a session may hold at most {MAX_WORK_CREDIT} unspent credit"),
        )),
    }
}

/// Done or release in a session, given as (ticket_id, lease_epoch, request_id): the
/// session's agent holds the lease.
pub fn work_lease(
    field: &str,
    agent: &AgentId,
    (ticket, epoch, id): (u64, u64, String),
) -> Checked<(TicketId, Lease, String)> {
    let ticket = TicketId::parse(&format!("{field}.ticket_id"), ticket)?;
    let lease = Lease {
        agent: agent.clone(),
        epoch: parse::lease_epoch(&format!("{field}.lease_epoch"), epoch)?,
    };
    let id = request_id(&format!("{field}.request_id"), id)?;
    Ok((ticket, lease, id))
}
