//! `triage ctl`'s command line: the subcommands and their arguments. Enum arguments are the
//! core's closed enums (see `values`), so the names users type are the core's labels.

use crate::client::ClientArgs;
use crate::core::types::{CancelReason, Channel, Presence, Priority, Sentiment, TicketState, Tier};
use clap::{Args, Subcommand};

#[derive(Args)]
pub struct CtlArgs {
    /// The daemon's gRPC address
    #[arg(long, env = "TRIAGE_ADDR", default_value = "http://127.0.0.1:50051")]
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
    /// Set an agent's presence: available, away or offline.
    Presence {
        id: String,
        #[arg(value_enum, ignore_case = true)]
        presence: Presence,
    },
    /// Keep an agent's presence alive.
    Heartbeat { id: String },
    /// List agents.
    Agents,
    /// Create a ticket.
    Create(CreateArgs),
    /// Show one ticket.
    Get { ticket: u64 },
    /// List tickets (optionally by state: queued, assigned, pending, resolved, cancelled).
    List {
        #[arg(long, value_enum, ignore_case = true)]
        state: Option<TicketState>,
    },
    /// Pull the next ticket for an agent, waiting up to --wait.
    Pull {
        agent: String,
        #[arg(long, default_value = "0s")]
        wait: String,
    },
    /// Record a reply: by the agent holding the ticket, or with --customer a customer message.
    Reply(ReplyArgs),
    /// Record the check-back after resolution.
    FollowUp {
        ticket: u64,
        #[arg(long, default_value = "")]
        agent: String,
    },
    /// Mark a ticket pending on the customer.
    Pending(HeldLease),
    /// Resolve a ticket (as its agent, or without --agent as the front end).
    Resolve {
        ticket: u64,
        #[arg(long, default_value = "")]
        agent: String,
        #[arg(long, default_value_t = 0)]
        epoch: u64,
    },
    /// Give a ticket back to the queue.
    Release(HeldLease),
    /// Reopen a resolved ticket.
    Reopen { ticket: u64 },
    /// Cancel a ticket (reason: abandoned, duplicate, other).
    Cancel {
        ticket: u64,
        #[arg(long, value_enum, ignore_case = true, default_value_t = CancelReason::Other)]
        reason: CancelReason,
    },
    /// Queue statistics.
    Stats,
    /// The SLA policy in force; `policy set FILE` changes it.
    Policy {
        #[command(subcommand)]
        action: Option<PolicyAction>,
    },
    /// Check the gRPC health service: exit 0 when SERVING (for container health checks).
    Health,
    /// Make a new random token and print it with the entry for the daemon's --auth-file (only
    /// the entry's hash is stored there; keep the token itself secret).
    Token {
        /// A name for the daemon's logs (who holds the token)
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: crate::auth::Role,
        /// The agent this token acts as (role agent only)
        #[arg(long)]
        agent_id: Option<String>,
    },
    /// Print events from a sequence on (0: the oldest kept); `--follow` keeps streaming.
    Events {
        #[arg(long, default_value_t = 0)]
        from: u64,
        #[arg(long)]
        follow: bool,
    },
}

#[derive(Args)]
pub(super) struct AgentArgs {
    pub(super) id: String,
    /// Skills, comma separated (e.g. en,billing)
    #[arg(long, value_delimiter = ',')]
    pub(super) skills: Vec<String>,
    /// Tiers the agent may serve, comma separated (vip,new,standard); empty: all
    #[arg(long, value_delimiter = ',', value_enum, ignore_case = true)]
    pub(super) tiers: Vec<Tier>,
    /// Capacity per channel, e.g. chat=3,email=5
    #[arg(long, value_delimiter = ',')]
    pub(super) capacity: Vec<String>,
    #[arg(long, default_value = "")]
    pub(super) name: String,
}

#[derive(Args)]
pub(super) struct CreateArgs {
    #[arg(long)]
    pub(super) external_id: String,
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
    #[arg(long, value_delimiter = ',')]
    pub(super) skills: Vec<String>,
    /// neutral, positive or negative
    #[arg(long, value_enum, ignore_case = true, default_value_t = Sentiment::Neutral)]
    pub(super) sentiment: Sentiment,
    #[arg(long, default_value = "")]
    pub(super) preferred_agent: String,
    #[arg(long, default_value = "")]
    pub(super) request_id: String,
}

#[derive(Args)]
pub(super) struct ReplyArgs {
    pub(super) ticket: u64,
    #[arg(long, default_value = "")]
    pub(super) agent: String,
    #[arg(long, default_value_t = 0)]
    pub(super) epoch: u64,
    #[arg(long)]
    pub(super) customer: bool,
    /// Promise the next update within this span ("20m", "2h"): an interim-update clock.
    #[arg(long)]
    pub(super) update_within: Option<String>,
}

/// A ticket and the lease its agent holds on it.
#[derive(Args)]
pub(super) struct HeldLease {
    pub(super) ticket: u64,
    #[arg(long)]
    pub(super) agent: String,
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
