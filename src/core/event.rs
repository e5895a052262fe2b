//! Facts the scheduler reports: what telemetry counts and what `WatchEvents` streams. The
//! owner persists each one, numbered, in the same batch as the change it reports, so the stream
//! after a restart has no gap and no repeat. Events carry only bounded routing facts besides
//! ids; ids never become metric labels. Who caused each one (`Actor`) is not the core's to
//! know: the owner stamps it on the `Recorded` form, from the call that produced the event.

use super::lease::Epoch;
use super::types::{
    AgentId, AssignReason, CancelReason, Channel, Level, Party, Presence, SlaMetric, Span,
    TicketId, Tier,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

pub use super::types::RequeueReason;

/// One fact. New variants go at the end: the persisted form numbers variants by position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
        reason: AssignReason,
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
    /// A message on the ticket: an agent's reply (with its author) or the customer's.
    Replied {
        ticket: TicketId,
        from: Party,
        agent: Option<AgentId>,
    },
    /// A clock stopped counting (resolution while PENDING on the customer).
    Paused {
        ticket: TicketId,
        metric: SlaMetric,
    },
    Resumed {
        ticket: TicketId,
        metric: SlaMetric,
    },
    /// The check-back after resolution is due now.
    FollowUpDue {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
    },
    /// A customer's tickets lost their customer and external ids (`EraseCustomer`); the event
    /// says how many, never whose.
    Erased {
        tickets: u64,
    },
    /// An agent's reply recorded on its behalf by the integration, without a lease: it met
    /// the clocks as a `Replied` from the holder would; the holder did not change.
    RepliedOnBehalf {
        ticket: TicketId,
        agent: AgentId,
    },
    /// A supervisor moved the ticket (`AssignTicket` from a holder, `TransferTicket`): `from`
    /// held it (`None`: it was queued), `to` holds it now under a new epoch (`None`: it went
    /// back to the queue under new routing). Clocks kept running. `note` is the supervisor's
    /// word to the next holder (bounded by the API).
    Transferred {
        ticket: TicketId,
        from: Option<AgentId>,
        to: Option<AgentId>,
        tier: Tier,
        channel: Channel,
        forced: bool,
        note: String,
    },
    /// `UpdateTicket` changed these fields (none: the update set every field to the value it
    /// had). Routing facts are the ticket's after the update.
    Updated {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
        fields: Vec<TicketField>,
    },
    /// `UpsertAgent` created this agent's profile or replaced it.
    AgentUpserted {
        agent: AgentId,
        upsert: Upsert,
    },
    /// The SLA policy in force changed: replaced whole, or a put merged onto it.
    PolicyChanged {
        write: PolicyWrite,
    },
    /// A pull offered the ticket to `agent` (see `core::offer`): it holds an OFFERED lease
    /// until it accepts, rejects, or `until` passes.
    Offered {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
        until: super::types::Ts,
        reason: AssignReason,
    },
    /// The agent accepted the offer; an `Assigned` follows.
    OfferAccepted {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
    },
    /// The agent rejected the offer, saying why (bounded by the API); back in its place.
    OfferRejected {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
        reason: String,
    },
    /// Nobody answered the offer in time: back in its place. `missed` counts the agent's
    /// misses in a row; `away`: this one set the agent AWAY (reason `missed_offers`).
    OfferTimedOut {
        ticket: TicketId,
        agent: AgentId,
        tier: Tier,
        channel: Channel,
        missed: u32,
        away: bool,
    },
    /// An agent's presence changed (by `SetPresence` or its expiry), with the reason given.
    PresenceChanged {
        agent: AgentId,
        presence: Presence,
        reason: Option<String>,
    },
    /// An agent's slots in wrap-up freed: at their end, or `early` by `EndWrapUp`.
    WrapUpEnded {
        agent: AgentId,
        early: bool,
    },
    /// A queued ticket waited long enough for a time ring to widen what it asks (see
    /// `rings`): `ring` is the one reached.
    RingWidened {
        ticket: TicketId,
        tier: Tier,
        channel: Channel,
        ring: super::rings::Ring,
    },
    /// `PutWebhook` (or the configuration at boot) created or changed a webhook; `resumed`:
    /// it was paused and delivers again.
    WebhookPut {
        webhook: String,
        resumed: bool,
    },
    WebhookDeleted {
        webhook: String,
    },
    /// Deliveries to the webhook failed for its `give_up_after` (or its cursor fell behind
    /// retention): it stopped, with this error, until a put resumes it.
    WebhookPaused {
        webhook: String,
        error: String,
    },
}

/// A ticket field `UpdateTicket` may change; `label` is its name in the API's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketField {
    Priority,
    Skills,
    Sentiment,
    Tier,
    PreferredAgent,
}

impl TicketField {
    pub fn label(self) -> &'static str {
        match self {
            TicketField::Priority => "priority",
            TicketField::Skills => "required_skills",
            TicketField::Sentiment => "sentiment",
            TicketField::Tier => "tier",
            TicketField::PreferredAgent => "preferred_agent_id",
        }
    }
}

/// What an `UpsertAgent` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Upsert {
    Created,
    /// The agent existed: its profile was replaced (presence and load kept).
    Changed,
}

impl Upsert {
    pub fn label(self) -> &'static str {
        match self {
            Upsert::Created => "created",
            Upsert::Changed => "changed",
        }
    }
}

/// How a policy change was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyWrite {
    /// The policy was replaced whole (a put with `replace`, or the configuration's policy).
    Replace,
    /// The fields a put named were merged onto the policy in force.
    Merge,
}

impl PolicyWrite {
    pub fn label(self) -> &'static str {
        match self {
            PolicyWrite::Replace => "replace",
            PolicyWrite::Merge => "merge",
        }
    }
}

impl Event {
    /// The ticket the event is about, if any.
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            Event::Created { ticket, .. }
            | Event::Assigned { ticket, .. }
            | Event::ClockMet { ticket, .. }
            | Event::Escalated { ticket, .. }
            | Event::Requeued { ticket, .. }
            | Event::Resolved { ticket, .. }
            | Event::Cancelled { ticket, .. }
            | Event::Replied { ticket, .. }
            | Event::Paused { ticket, .. }
            | Event::Resumed { ticket, .. }
            | Event::FollowUpDue { ticket, .. }
            | Event::RepliedOnBehalf { ticket, .. }
            | Event::Transferred { ticket, .. }
            | Event::Offered { ticket, .. }
            | Event::OfferAccepted { ticket, .. }
            | Event::OfferRejected { ticket, .. }
            | Event::OfferTimedOut { ticket, .. }
            | Event::RingWidened { ticket, .. } => Some(*ticket),
            Event::Updated { ticket, .. } => Some(*ticket),
            Event::AgentExpired { .. }
            | Event::Erased { .. }
            | Event::AgentUpserted { .. }
            | Event::PolicyChanged { .. }
            | Event::PresenceChanged { .. }
            | Event::WrapUpEnded { .. }
            | Event::WebhookPut { .. }
            | Event::WebhookDeleted { .. }
            | Event::WebhookPaused { .. } => None,
        }
    }
}

/// An event as persisted and streamed: numbered from 1 without gaps, stamped with the instant
/// of the batch that produced it, who caused it and, for an agent's action under a lease (or
/// an assignment, which grants one), that lease's epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub seq: u64,
    pub at: super::types::Ts,
    pub event: Event,
    pub actor: Actor,
    pub epoch: Option<Epoch>,
}

/// Who caused an event: the name of the caller's token, `system` for the daemon's own doing
/// (timers, presence expiry, releasing an assignment nobody received), `anonymous` for a
/// caller while authentication is off, and `unknown` for events recorded before releases
/// kept actors. The token file may not use the reserved names (`Actor::RESERVED`), so a
/// name always says which of these it is. Cheap to clone: one is stamped on many events.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor(Arc<str>);

impl Actor {
    /// The names no token may have.
    pub const RESERVED: [&'static str; 3] = ["system", "anonymous", "unknown"];

    /// A caller known by its token's name.
    pub fn named(name: &str) -> Actor {
        Actor(name.into())
    }
    pub fn system() -> Actor {
        Actor::named("system")
    }
    pub fn anonymous() -> Actor {
        Actor::named("anonymous")
    }
    pub fn unknown() -> Actor {
        Actor::named("unknown")
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
