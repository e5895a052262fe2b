//! `triage ctl`'s command line: the subcommands and their arguments. Enum arguments are the
//! core's closed enums (see `values`), so the names users type are the core's labels.

use crate::client::ClientArgs;
use crate::core::types::{CancelReason, Channel, Priority, Sentiment, Span, TicketState, Tier};
use clap::{Args, Subcommand};

#[derive(Args)]
pub struct CtlArgs {
    /// The daemon's gRPC address: host:port (127.0.0.1:50051, localhost: port 50051 if
    /// left out), or a URI (http://..., https://... with --ca-cert); several, comma
    /// separated (a,b,c: the nodes of one cluster), to talk to whichever leads
    #[arg(long, env = "TRIAGE_ADDR", default_value = "127.0.0.1:50051")]
    pub(super) addr: String,
    #[command(flatten)]
    pub(super) client: ClientArgs,
    #[command(subcommand)]
    pub(super) command: Ctl,
}

#[derive(Subcommand)]
pub(super) enum Ctl {
    /// Create or replace an agent's profile.
    Agent(AgentArgs),
    /// Set an agent's presence: available, away or offline (with --reason, away or offline
    /// for one of the policy's presence reasons).
    Presence(super::agent_time::PresenceArgs),
    /// Free every slot of an agent in wrap-up (after-call work) now.
    EndWrapUp {
        /// The agent's id
        id: String,
    },
    /// An agent's handled tickets, AHT, service level, occupancy and time per presence and
    /// reason over a window.
    AgentStats(super::agent_time::AgentStatsArgs),
    /// Keep an agent's presence alive.
    Heartbeat {
        /// The agent's id
        id: String,
    },
    /// List all agents, a page at a time.
    Agents {
        /// Agents asked for per call (every page is printed)
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
    },
    /// Create a ticket.
    Create(CreateArgs),
    /// Show one ticket.
    Get {
        /// The ticket's id
        ticket: u64,
    },
    /// Explain a ticket: why it waits (its place in line, who could take it, who cannot and
    /// why, which clock is due next), who holds it and what ends the lease, or when it finished.
    Explain {
        /// The ticket's id
        ticket: u64,
    },
    /// List tickets (optionally by state: queued, assigned, pending, resolved, cancelled).
    List {
        /// Only tickets in this state
        #[arg(long, value_enum, ignore_case = true)]
        state: Option<TicketState>,
        /// Only this customer's tickets (open and archived)
        #[arg(long)]
        customer: Option<String>,
    },
    /// Pull the next ticket for an agent, waiting up to --wait.
    Pull {
        /// The agent's id
        agent: String,
        /// Wait this long for a ticket ("30s", "2m"; the daemon caps it at its
        /// max_pull_wait, 30s by default)
        #[arg(long, default_value = "0s", value_parser = Span::parse)]
        wait: Span,
    },
    /// Record a reply: by the agent holding the ticket, with --on-behalf an agent's reply made
    /// outside triage, or with --customer a customer message.
    Reply(ReplyArgs),
    /// Record the check-back after resolution.
    FollowUp {
        /// The ticket's id
        ticket: u64,
        /// The agent who checked back (empty: the front end)
        #[arg(long, default_value = "")]
        agent: String,
    },
    /// Mark a ticket pending on the customer.
    Pending(HeldLease),
    /// Resolve a ticket (as its agent, or without --agent as the front end).
    Resolve {
        /// The ticket's id
        ticket: u64,
        /// The agent holding the ticket (empty: the front end resolves it)
        #[arg(long, default_value = "")]
        agent: String,
        /// The agent's lease epoch (printed by `pull`; with --agent)
        #[arg(long, default_value_t = 0)]
        epoch: u64,
    },
    /// Give a ticket back to the queue.
    Release(HeldLease),
    /// Accept a ticket offered to the agent (a pull under an offer timeout): it is assigned
    /// under the same lease epoch.
    Accept(HeldLease),
    /// Reject a ticket offered to the agent: back to its place in the queue, not offered to
    /// this agent again for the policy's reoffer_after.
    Reject {
        #[command(flatten)]
        held: HeldLease,
        /// Why (at most 200 bytes; shown in the OFFER_REJECTED event)
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Hand a ticket to an agent, from the queue or from its holder (supervisor: integrator or
    /// admin role). Prints the ticket with the new lease epoch.
    Assign(super::desk::AssignArgs),
    /// Move a ticket to another agent (--to-agent) or back to the queue under new routing
    /// (--skills, --tier), with a --note for the next holder (integrator or admin role).
    Transfer(super::desk::TransferArgs),
    /// Reopen a resolved ticket.
    Reopen {
        /// The ticket's id
        ticket: u64,
    },
    /// Cancel a ticket (reason: abandoned, duplicate, other).
    Cancel {
        /// The ticket's id
        ticket: u64,
        /// Why it is cancelled
        #[arg(long, value_enum, ignore_case = true, default_value_t = CancelReason::Other)]
        reason: CancelReason,
    },
    /// Erase a customer's personal data: every ticket of theirs, open or archived, loses its
    /// customer and external ids (admin role). Prints how many tickets were erased.
    Erase {
        /// The customer's id
        customer: String,
    },
    /// Queue statistics: totals overall, per channel and per tier, service levels.
    Stats {
        /// Also one line per routing key (tier, channel, skills)
        #[arg(long)]
        by_key: bool,
    },
    /// The SLA policy in force; `policy set FILE` changes it.
    Policy {
        #[command(subcommand)]
        action: Option<PolicyAction>,
    },
    /// Webhooks (admin role): `webhooks` lists them; `put` and `delete` change them.
    Webhooks {
        #[command(subcommand)]
        action: Option<super::webhooks::WebhookAction>,
    },
    /// Check the gRPC health service: exit 0 when SERVING (for container health checks).
    Health,
    /// Make a new random token and print it with the entry for the daemon's --auth-file (only
    /// the entry's hash is stored there; keep the token itself secret).
    Token {
        /// A name for the daemon's logs (who holds the token)
        #[arg(long)]
        name: String,
        /// What the token may do
        #[arg(long, value_enum)]
        role: crate::auth::Role,
        /// The agent this token acts as (role agent only)
        #[arg(long)]
        agent_id: Option<String>,
    },
    /// Print events from a sequence on (0: the oldest kept); `--follow` keeps streaming.
    Events {
        /// The first sequence to print (0: the oldest kept)
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Keep streaming new events; if the stream breaks, exit non-zero and say where to
        /// resume
        #[arg(long)]
        follow: bool,
        /// Only events of these kinds, comma separated (e.g. created,assigned,transferred)
        #[arg(long, value_delimiter = ',')]
        kind: Vec<String>,
        /// Only events of this ticket
        #[arg(long)]
        ticket: Option<u64>,
        /// Only events naming this agent
        #[arg(long)]
        agent: Option<String>,
    },
}

#[derive(Args)]
pub(super) struct AgentArgs {
    /// The agent's id
    pub(super) id: String,
    /// Skills, comma separated, each with an optional level 1-10 (e.g. en,billing:7)
    #[arg(long, value_delimiter = ',')]
    pub(super) skills: Vec<String>,
    /// Tiers the agent may serve, comma separated (vip,new,standard); empty: all
    #[arg(long, value_delimiter = ',', value_enum, ignore_case = true)]
    pub(super) tiers: Vec<Tier>,
    /// Capacity per channel, e.g. chat=3,email=5
    #[arg(long, value_delimiter = ',', value_parser = capacity)]
    pub(super) capacity: Vec<(String, u32)>,
    /// A display name
    #[arg(long, default_value = "")]
    pub(super) name: String,
}

#[derive(Args)]
pub(super) struct CreateArgs {
    /// The ticket's id in the help desk that sends it
    #[arg(long)]
    pub(super) external_id: String,
    /// The customer's id
    #[arg(long)]
    pub(super) customer: String,
    /// vip, new or standard
    #[arg(long, value_enum, ignore_case = true, default_value_t = Tier::Standard)]
    pub(super) tier: Tier,
    /// chat, messenger, email, phone, social or review
    #[arg(long, value_enum, ignore_case = true)]
    pub(super) channel: Channel,
    /// low, normal, high or urgent
    #[arg(long, value_enum, ignore_case = true, default_value_t = Priority::Normal)]
    pub(super) priority: Priority,
    /// Skills the ticket needs, comma separated, each with an optional minimum level
    /// (e.g. en,billing>=5)
    #[arg(long, value_delimiter = ',')]
    pub(super) skills: Vec<String>,
    /// Skills wanted on top until the policy's drop_optional ring, comma separated
    #[arg(long, value_delimiter = ',')]
    pub(super) optional_skills: Vec<String>,
    /// neutral, positive or negative
    #[arg(long, value_enum, ignore_case = true, default_value_t = Sentiment::Neutral)]
    pub(super) sentiment: Sentiment,
    /// An agent to hold the ticket for during the preferred-agent window
    #[arg(long, default_value = "")]
    pub(super) preferred_agent: String,
    /// Makes a retry safe: the same id creates the ticket once
    #[arg(long, default_value = "")]
    pub(super) request_id: String,
    /// An import: when the ticket really began, RFC 3339 (2026-12-01T09:30:00Z); its SLA
    /// clocks count from there (at most the daemon's max_backdate ago, 30d by default)
    #[arg(long, value_parser = rfc3339)]
    pub(super) created_at: Option<prost_types::Timestamp>,
}

#[derive(Args)]
pub(super) struct ReplyArgs {
    /// The ticket's id
    pub(super) ticket: u64,
    /// The agent holding the ticket
    #[arg(long, default_value = "")]
    pub(super) agent: String,
    /// The agent's lease epoch (printed by `pull`)
    #[arg(long, default_value_t = 0)]
    pub(super) epoch: u64,
    /// The customer wrote (no --agent, no --epoch)
    #[arg(long)]
    pub(super) customer: bool,
    /// --agent wrote it outside triage (help desk UI, email): recorded on the agent's behalf,
    /// without a lease (no --epoch; integrator or admin role). Changes no holder or epoch
    #[arg(long, conflicts_with_all = ["customer", "epoch"])]
    pub(super) on_behalf: bool,
    /// Promise the next update within this span ("20m", "2h"): an interim-update clock.
    #[arg(long, value_parser = Span::parse)]
    pub(super) update_within: Option<Span>,
}

/// A ticket and the lease its agent holds on it.
#[derive(Args)]
pub(super) struct HeldLease {
    /// The ticket's id
    pub(super) ticket: u64,
    /// The agent holding the ticket
    #[arg(long)]
    pub(super) agent: String,
    /// The agent's lease epoch (printed by `pull`)
    #[arg(long)]
    pub(super) epoch: u64,
}

/// What `ctl policy` does besides printing the policy in force.
#[derive(Subcommand)]
pub enum PolicyAction {
    /// Put a policy file: the daemon's `[policy]` TOML table (see deploy/triage.toml), or the same
    /// keys at the top level. Merges what the file names into the policy in force, in one step
    /// on the daemon; prints the policy now in force.
    Set {
        /// The TOML file
        file: std::path::PathBuf,
        /// Replace the whole policy: what the file leaves out gets the shipped default
        #[arg(long)]
        replace: bool,
    },
}

/// An RFC 3339 instant (`2026-12-01T09:30:00Z`, `2026-12-01T10:30:00+01:00`) as a protobuf
/// Timestamp.
fn rfc3339(text: &str) -> Result<prost_types::Timestamp, String> {
    let t = chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|e| {
        format!("{text:?} is not an RFC 3339 instant such as 2026-12-01T09:30:00Z ({e})")
    })?;
    Ok(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    })
}

/// One `--capacity` entry, `channel=N`: the channel's label and a whole number.
fn capacity(entry: &str) -> Result<(String, u32), String> {
    let (channel, n) = entry
        .split_once('=')
        .ok_or_else(|| format!("{entry:?} is not channel=N (e.g. chat=3)"))?;
    let channel = Channel::ALL
        .iter()
        .find(|c| c.label().eq_ignore_ascii_case(channel.trim()))
        .ok_or_else(|| {
            let names: Vec<&str> = Channel::ALL.iter().map(|c| c.label()).collect();
            format!("{channel:?} is not a channel ({})", names.join(", "))
        })?;
    let n = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not a whole number (channel=N, e.g. chat=3)"))?;
    Ok((channel.label().to_string(), n))
}
