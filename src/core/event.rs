//! Facts the scheduler reports: what telemetry counts and, later, what `WatchEvents` streams.
//! Events carry only bounded routing facts besides ids; ids never become metric labels.

use super::types::{AgentId, CancelReason, Channel, Level, SlaMetric, Span, TicketId, Tier};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequeueReason {
    Released,
    PresenceExpired,
    AgentOffline,
    /// L2 escalation took the ticket back from an agent that had not replied.
    TakenBack,
    Reopened,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Created {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
    },
    Assigned {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
        waited: Span,
        reason: &'static str,
    },
    /// A clock stopped by the action it measures; `within` says whether it met its target.
    ClockMet {
        ticket: TicketId,
        metric: SlaMetric,
        tier: Tier,
        channel: Channel,
        elapsed: Span,
        within: bool,
    },
    /// An escalation step of one clock fired: Warning, L1 (the breach), L2 or L3.
    Escalated {
        ticket: TicketId,
        metric: SlaMetric,
        tier: Tier,
        channel: Channel,
        level: Level,
    },
    Requeued {
        ticket: TicketId,
        reason: RequeueReason,
    },
    Resolved {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
    },
    Cancelled {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
        reason: CancelReason,
    },
    AgentExpired {
        agent: AgentId,
    },
}
