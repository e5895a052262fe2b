//! What callers ask of the scheduler, and what it answers. Inputs here are already validated
//! for shape by the API (sizes, enums, required fields); the core checks what needs state.

use super::error::CoreError;
use super::idempotency::RequestKey;
use super::model::{Agent, Ticket};
use super::policy::SlaPolicy;
use super::policy_patch::PolicyPatch;
use super::proficiency::{Levels, Needs};
use super::types::{
    AgentId, AssignReason, CancelReason, Channel, PerChannelOpt, Presence, Priority, Sentiment,
    SkillSet, Span, TicketId, TicketState, Tier, Ts,
};
use super::webhook::{Webhook, WebhookProgress, WebhookPut};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewTicket {
    /// Empty: no idempotency.
    pub request_id: String,
    pub external_id: String,
    pub customer_id: String,
    pub tier: Tier,
    pub channel: Channel,
    pub priority: Priority,
    pub skills: SkillSet,
    /// Where in `skills` the skill the client listed first is (`Ticket::first_skill`).
    pub first_skill: u8,
    pub sentiment: Sentiment,
    pub preferred_agent: Option<AgentId>,
    /// Minimum levels and optional skills (`proficiency::Needs`); none for plain skills.
    pub needs: Option<Needs>,
    /// An import's real start (`None`: now). See `began`.
    pub created_at: Option<Ts>,
}

/// How far ahead of the scheduler's clock a `created_at` may be and still count as now: the
/// sender's clock may run a little ahead of the daemon's.
pub const CLOCK_SKEW: Span = Span::mins(1);

/// When a ticket created at `now` began: `now`, or for an import the `created_at` it gives,
/// so that its SLA clocks carry the ticket's real age. Up to `CLOCK_SKEW` after `now` counts
/// as `now` (a ticket never begins in the future); later, or more than `max_backdate` before
/// `now`, is refused naming `created_at`.
pub fn began(created_at: Option<Ts>, now: Ts, max_backdate: Span) -> Result<Ts, CoreError> {
    let Some(at) = created_at else {
        return Ok(now);
    };
    if at > now.plus(CLOCK_SKEW) {
        return Err(CoreError::CreatedInFuture { skew: CLOCK_SKEW });
    }
    if now.since(at) > max_backdate {
        return Err(CoreError::CreatedTooLongAgo { max: max_backdate });
    }
    Ok(at.min(now))
}

pub use super::lease::{Epoch, Lease};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Author {
    Agent(Lease),
    Customer,
    /// An agent's reply recorded by the integration without a lease (typed in the help desk's
    /// own UI, or sent by email): it meets the clocks as the holder's reply would and changes
    /// neither the holder nor the lease epoch.
    OnBehalf(AgentId),
}

/// Fields of a ticket to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TicketUpdate {
    pub priority: Option<Priority>,
    /// The new set, and where in it the skill the client listed first is.
    pub skills: Option<(SkillSet, u8)>,
    pub sentiment: Option<Sentiment>,
    pub tier: Option<Tier>,
    /// `Some(None)` clears it.
    pub preferred_agent: Option<Option<AgentId>>,
}

/// Where `TransferTicket` sends a ticket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TransferTo {
    /// To this agent; `force` skips the presence, skill, tier and capacity checks.
    Agent { agent: AgentId, force: bool },
    /// Back to the queue under new routing: new required skills (and which was listed first),
    /// a new tier, or both.
    Queue {
        skills: Option<(SkillSet, u8)>,
        tier: Option<Tier>,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TicketFilter {
    pub state: Option<TicketState>,
    pub tier: Option<Tier>,
    pub channel: Option<Channel>,
    pub agent: Option<AgentId>,
    pub customer: Option<String>,
    /// Created at or after this instant.
    pub created_from: Option<Ts>,
    /// Created before this instant.
    pub created_before: Option<Ts>,
    /// List tickets with ids greater than this.
    pub after: Option<TicketId>,
    pub limit: usize,
}

/// One step of erasing a customer: the archive is worked through in id order from `after`,
/// a bounded number of tickets per step; `erased_before` counts what earlier steps erased, so
/// the last step's event reports the whole erasure.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Erase {
    pub customer_id: String,
    pub after: Option<TicketId>,
    pub erased_before: u64,
}

impl Erase {
    /// Takes in the reply to this step: `Ok(Some(total))` when the erasure is done (`total`
    /// tickets in all its steps), `Ok(None)` when another step is due (`self` now describes
    /// it), `Err` with any other reply.
    pub fn advance(&mut self, reply: Reply) -> Result<Option<u64>, Reply> {
        match reply {
            Reply::Erased { tickets, next } => {
                self.erased_before += tickets;
                self.after = next;
                Ok(next.is_none().then_some(self.erased_before))
            }
            other => Err(other),
        }
    }
}

impl TicketFilter {
    pub fn matches(&self, t: &Ticket) -> bool {
        self.state.is_none_or(|s| t.state == s)
            && self.tier.is_none_or(|tier| t.tier == tier)
            && self.channel.is_none_or(|c| t.channel == c)
            && self.agent.as_ref().is_none_or(|a| t.holder() == Some(a))
            && self
                .customer
                .as_deref()
                .is_none_or(|c| *t.customer_id == *c)
            && self.created_from.is_none_or(|from| t.created_at >= from)
            && self
                .created_before
                .is_none_or(|before| t.created_at < before)
    }

    /// Whether an archived (finished, unheld) ticket could match.
    pub fn may_match_archived(&self) -> bool {
        self.agent.is_none() && self.state.is_none_or(|s| !s.is_open())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgentProfile {
    pub id: AgentId,
    pub display_name: String,
    pub skills: SkillSet,
    /// Levels above 1 in `skills` (`billing:7`).
    pub levels: Levels,
    pub tiers: Vec<Tier>,
    /// Channels left out get the configured default capacity.
    pub capacity: PerChannelOpt,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AgentFilter {
    pub presence: Option<Presence>,
    pub after: Option<AgentId>,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Command {
    CreateTicket(NewTicket),
    /// Several creates, each applied (or refused) on its own, in order.
    CreateTickets(Vec<NewTicket>),
    GetTicket(TicketId),
    ListTickets(TicketFilter),
    RecordReply {
        ticket: TicketId,
        author: Author,
        /// An agent's promise of the next update by this instant (the interim-update clock).
        next_update_by: Option<Ts>,
    },
    /// The check-back after resolution was done (by this agent, if the front end says).
    RecordFollowUp {
        ticket: TicketId,
        agent: Option<AgentId>,
    },
    SetPending {
        ticket: TicketId,
        lease: Lease,
    },
    /// `lease` is `None` when the front end resolves on its own.
    Resolve {
        ticket: TicketId,
        lease: Option<Lease>,
    },
    Reopen {
        ticket: TicketId,
    },
    Cancel {
        ticket: TicketId,
        reason: CancelReason,
    },
    Update {
        ticket: TicketId,
        update: TicketUpdate,
    },
    /// A supervisor gives the ticket to `agent` (see `core::transfer`).
    Assign {
        ticket: TicketId,
        agent: AgentId,
        force: bool,
    },
    /// A supervisor moves the ticket to another agent or queue, with a note for the next
    /// holder (see `core::transfer`).
    Transfer {
        ticket: TicketId,
        to: TransferTo,
        note: String,
    },
    UpsertAgent(AgentProfile),
    GetAgent(AgentId),
    ListAgents(AgentFilter),
    /// `reason`: one of the policy's presence reasons, with AWAY or OFFLINE only.
    SetPresence {
        agent: AgentId,
        presence: Presence,
        reason: Option<String>,
    },
    Heartbeat(AgentId),
    Pull(AgentId),
    Release {
        ticket: TicketId,
        lease: Lease,
    },
    /// The holder of an open offer takes the ticket (see `core::offer`).
    Accept {
        ticket: TicketId,
        lease: Lease,
    },
    /// The holder of an open offer turns it down, saying why.
    Reject {
        ticket: TicketId,
        lease: Lease,
        reason: String,
    },
    QueueStats,
    /// The queue stats and the clocks at the warning level, for the wallboard (see
    /// `core::board`): a read.
    Board,
    /// Why the ticket is where it is (see `core::explain`): a read.
    Explain(TicketId),
    GetPolicy,
    PutPolicy(Box<SlaPolicy>),
    /// Merges the patch onto the policy in force and puts the result in force, in one step.
    PatchPolicy(Box<PolicyPatch>),
    /// Erases a customer's personal data: every ticket of `customer_id` loses its customer
    /// and external ids (see `core::erasure`).
    EraseCustomer(Erase),
    /// A mutating `command` made safe to retry: applied once per `request_id` within the
    /// request window, its retries answered from current state (see `core::idempotency`).
    Once {
        key: RequestKey,
        command: Box<Command>,
    },
    /// Frees every slot of the agent in wrap-up now (see `core::wrap_up`).
    EndWrapUp(AgentId),
    /// How the agent did over `window` ending now (see `core::agent_stats`): a read.
    /// `window` unset: the policy's `stats_window` (at most `agent_stats::MAX_WINDOW`).
    AgentStats {
        agent: AgentId,
        window: Option<Span>,
    },
    /// Creates or replaces a webhook (see `core::webhook`).
    PutWebhook(WebhookPut),
    DeleteWebhook(String),
    /// Every webhook, secrets included (the API leaves them out): a read.
    ListWebhooks,
    /// A deliverer's cursor advance or pause: written, reported only when it pauses.
    WebhookProgress(WebhookProgress),
}

impl Command {
    /// `self`, remembered under `request_id` (with a fingerprint of `self`) unless that is
    /// empty.
    pub fn once(self, request_id: String) -> Command {
        if request_id.is_empty() {
            return self;
        }
        let key = RequestKey::of(request_id, &self);
        self.once_as(key)
    }

    /// `self`, remembered under `key`: for callers who fingerprint the request as sent (a
    /// policy patch) rather than the command it became.
    pub fn once_as(self, key: RequestKey) -> Command {
        Command::Once {
            key,
            command: Box::new(self),
        }
    }

    /// For a pull (idempotent or not): the agent, and the request key if any.
    pub fn as_pull(&self) -> Option<(&AgentId, Option<&RequestKey>)> {
        match self {
            Command::Pull(agent) => Some((agent, None)),
            Command::Once { key, command } => match &**command {
                Command::Pull(agent) => Some((agent, Some(key))),
                _ => None,
            },
            _ => None,
        }
    }

    /// The ticket the command names, if it names one (not counting what `Once` wraps).
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            Command::GetTicket(ticket)
            | Command::Explain(ticket)
            | Command::RecordReply { ticket, .. }
            | Command::RecordFollowUp { ticket, .. }
            | Command::SetPending { ticket, .. }
            | Command::Resolve { ticket, .. }
            | Command::Reopen { ticket }
            | Command::Cancel { ticket, .. }
            | Command::Update { ticket, .. }
            | Command::Release { ticket, .. }
            | Command::Accept { ticket, .. }
            | Command::Reject { ticket, .. }
            | Command::Assign { ticket, .. }
            | Command::Transfer { ticket, .. } => Some(*ticket),
            Command::CreateTicket(_)
            | Command::CreateTickets(_)
            | Command::ListTickets(_)
            | Command::UpsertAgent(_)
            | Command::GetAgent(_)
            | Command::ListAgents(_)
            | Command::SetPresence { .. }
            | Command::Heartbeat(_)
            | Command::Pull(_)
            | Command::QueueStats
            | Command::Board
            | Command::GetPolicy
            | Command::PutPolicy(_)
            | Command::PatchPolicy(_)
            | Command::EraseCustomer(_)
            | Command::EndWrapUp(_)
            | Command::AgentStats { .. }
            | Command::PutWebhook(_)
            | Command::DeleteWebhook(_)
            | Command::ListWebhooks
            | Command::WebhookProgress(_)
            | Command::Once { .. } => None,
        }
    }

    /// The lease the command acts under, if it is an agent's action under one (resolve,
    /// pending, release, an agent's reply), looking inside `Once`: what the audit trail
    /// stamps on the events the command causes.
    pub fn lease(&self) -> Option<&Lease> {
        match self {
            Command::SetPending { lease, .. } | Command::Release { lease, .. } => Some(lease),
            Command::Resolve { lease, .. } => lease.as_ref(),
            Command::RecordReply {
                author: Author::Agent(lease),
                ..
            } => Some(lease),
            Command::Once { command, .. } => command.lease(),
            _ => None,
        }
    }

    /// Whether the command hands the ticket to an agent under a new lease: a pull, or a
    /// supervisor's assign or transfer to an agent (looking inside `Once`).
    pub fn grants_lease(&self) -> bool {
        match self {
            Command::Pull(_)
            | Command::Assign { .. }
            | Command::Transfer {
                to: TransferTo::Agent { .. },
                ..
            } => true,
            Command::Once { command, .. } => command.grants_lease(),
            _ => false,
        }
    }

    /// Whether the command only reads: it changes no state, so it can be answered without a
    /// write (and while the store refuses writes).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Command::GetTicket(_)
                | Command::Explain(_)
                | Command::ListTickets(_)
                | Command::GetAgent(_)
                | Command::ListAgents(_)
                | Command::QueueStats
                | Command::Board
                | Command::GetPolicy
                | Command::AgentStats { .. }
                | Command::ListWebhooks
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    pub ticket: Ticket,
    pub lease_epoch: Epoch,
    pub reason: AssignReason,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueStat {
    pub tier: Tier,
    pub channel: Channel,
    pub skills: SkillSet,
    pub depth: u32,
    pub oldest_age: Span,
    pub breached: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueStats {
    pub queues: Vec<QueueStat>,
    pub open_by_state: Vec<(TicketState, u64)>,
    pub agents_by_presence: Vec<(Presence, u64)>,
    /// The sliding window of `service_levels` and the target they are held to.
    pub window: Span,
    pub service_level_target: f64,
    pub service_levels: Vec<ServiceLevel>,
}

/// How one (channel, tier) did over the stats window. Shares and means are `None` when there
/// was nothing to divide by.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceLevel {
    pub channel: Channel,
    pub tier: Tier,
    /// First responses within target, and first-response breaches, in the window.
    pub answered_within: u32,
    pub breached: u32,
    /// answered_within / (answered_within + breached).
    pub service_level: Option<f64>,
    pub below_target: bool,
    /// Contacts cancelled as ABANDONED: missed, counted apart from resolved ones.
    pub abandoned: u32,
    /// abandoned / (abandoned + answered).
    pub abandonment_rate: Option<f64>,
    /// ASA: mean time to the first response, over first responses in the window.
    pub average_speed_of_answer: Option<Span>,
    pub resolved: u32,
    /// FCR: resolved without the customer writing again and never reopened.
    pub first_contact_resolution: Option<f64>,
    /// AHT: mean time from first assignment to resolution.
    pub average_handle_time: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Ticket(Box<Ticket>),
    Tickets {
        tickets: Vec<Ticket>,
        next: Option<TicketId>,
    },
    Agent(Box<Agent>),
    Agents {
        agents: Vec<Agent>,
        next: Option<AgentId>,
    },
    Pulled(Option<Box<Assignment>>),
    Heartbeat {
        presence: Presence,
        expires_at: Ts,
    },
    Stats(QueueStats),
    Board(Box<super::board::BoardSnapshot>),
    Explanation(Box<super::explain::Explanation>),
    /// One result per item of a `CreateTickets`, in order.
    Created(Vec<Result<Ticket, CoreError>>),
    Policy(Box<SlaPolicy>),
    /// Tickets erased by one step of an erasure, and where the next step starts in the archive
    /// (`None`: done).
    Erased {
        tickets: u64,
        next: Option<TicketId>,
    },
    AgentStats(Box<super::agent_stats::AgentStats>),
    Webhook(Box<Webhook>),
    Webhooks(Vec<Webhook>),
    /// The change was made; there is nothing to show of it.
    Done,
}
