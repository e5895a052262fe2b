//! What is compared between the core and the model: command outcomes and views of tickets,
//! clocks and agents.

use super::*;

/// A refusal, as far as the model can predict it.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Refusal {
    TicketNotFound(u64),
    AgentNotFound(String),
    ExternalIdTaken(u64),
    RequestIdReused(String),
    WrongState(u64, TicketState),
    StaleLease(u64, String, u64),
    AgentNotAvailable(String, Presence),
    /// Ticket, agent, why (`CoreError::CannotTake`).
    CannotTake(u64, String, String),
    NoFollowUp(u64),
    /// The ticket is offered to this agent, who has not accepted it (`CoreError::OfferOpen`).
    OfferOpen(u64, String),
    NotOffered(u64),
    CreatedInFuture,
    CreatedTooLongAgo,
    Unexpected(String),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Outcome {
    Ticket(u64),
    /// Ticket, lease epoch, holder, reason.
    Pulled(Option<(u64, u64, Option<String>, AssignReason)>),
    Agent(Presence),
    Heartbeat(Presence, i64),
    Refused(Refusal),
    /// Tickets an erasure erased, in all its steps.
    Erased(u64),
    Unexpected(String),
}

pub(super) fn outcome(result: Result<Reply, CoreError>) -> Outcome {
    match result {
        Ok(Reply::Ticket(t)) => Outcome::Ticket(t.id.0),
        Ok(Reply::Pulled(a)) => Outcome::Pulled(a.map(|a| {
            let holder = a.ticket.holder().map(|h| h.to_string());
            (a.ticket.id.0, a.lease_epoch.get(), holder, a.reason)
        })),
        Ok(Reply::Agent(a)) => Outcome::Agent(a.presence),
        Ok(Reply::Heartbeat {
            presence,
            expires_at,
        }) => Outcome::Heartbeat(presence, expires_at.0),
        Ok(other) => Outcome::Unexpected(format!("{other:?}")),
        Err(e) => Outcome::Refused(match e {
            CoreError::TicketNotFound(id) => Refusal::TicketNotFound(id.0),
            CoreError::AgentNotFound(a) => Refusal::AgentNotFound(a.to_string()),
            CoreError::ExternalIdTaken { ticket, .. } => Refusal::ExternalIdTaken(ticket.0),
            CoreError::RequestIdReused(r) => Refusal::RequestIdReused(r),
            CoreError::WrongState { ticket, state, .. } => Refusal::WrongState(ticket.0, state),
            CoreError::StaleLease {
                ticket,
                agent,
                epoch,
            } => Refusal::StaleLease(ticket.0, agent.to_string(), epoch.get()),
            CoreError::AgentNotAvailable { agent, presence } => {
                Refusal::AgentNotAvailable(agent.to_string(), presence)
            }
            CoreError::CannotTake { ticket, agent, why } => {
                Refusal::CannotTake(ticket.0, agent.to_string(), why)
            }
            CoreError::NoFollowUp(id) => Refusal::NoFollowUp(id.0),
            CoreError::OfferOpen { ticket, agent } => {
                Refusal::OfferOpen(ticket.0, agent.to_string())
            }
            CoreError::NotOffered { ticket } => Refusal::NotOffered(ticket.0),
            CoreError::CreatedInFuture { .. } => Refusal::CreatedInFuture,
            CoreError::CreatedTooLongAgo { .. } => Refusal::CreatedTooLongAgo,
            other => Refusal::Unexpected(other.to_string()),
        }),
    }
}

#[derive(Debug, PartialEq)]
pub(super) struct ClockView {
    pub(super) target: i64,
    pub(super) met: bool,
    pub(super) paused: bool,
    pub(super) level: Level,
}

#[derive(Debug, PartialEq)]
pub(super) struct TicketView {
    pub(super) state: TicketState,
    pub(super) holder: Option<String>,
    pub(super) epoch: u64,
    pub(super) due: Option<i64>,
    /// First response, next reply, resolution, follow-up.
    pub(super) clocks: [Option<ClockView>; 4],
    pub(super) promise: bool,
    pub(super) erased: bool,
    pub(super) offered_until: Option<i64>,
}

#[derive(Debug, PartialEq)]
pub(super) struct AgentView {
    pub(super) presence: Presence,
    pub(super) last_seen: i64,
    pub(super) skills: Vec<String>,
    pub(super) tiers: Vec<Tier>,
    pub(super) capacity: [u32; 6],
    pub(super) load: [u32; 6],
    pub(super) missed_offers: u32,
}

pub(super) fn clock_view(c: &Clock) -> ClockView {
    ClockView {
        target: c.target.0 as i64,
        met: c.is_met(),
        paused: c.paused_since.is_some(),
        level: c.level,
    }
}

pub(super) fn core_ticket(t: &Ticket) -> TicketView {
    TicketView {
        state: t.state,
        holder: t.holder().map(|a| a.to_string()),
        epoch: t.epoch().get(),
        due: t.due().map(|d| d.0),
        clocks: [
            Some(clock_view(&t.first_response)),
            t.next_reply.as_deref().map(clock_view),
            Some(clock_view(&t.resolution)),
            t.follow_up.as_deref().map(clock_view),
        ],
        promise: t.interim.is_some(),
        erased: t.is_erased(),
        offered_until: t.offer().map(|o| o.until.0),
    }
}
