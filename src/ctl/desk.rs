//! `ctl assign` and `ctl transfer`: a supervisor's moves from the shell.

use super::print::print_ticket;
use crate::api::convert;
use crate::client::Conn;
use crate::core::types::Tier;
use crate::proto as pb;
use clap::Args;
use pb::ticket_service_client::TicketServiceClient;
use pb::transfer_ticket_request::To;

#[derive(Args)]
pub(super) struct AssignArgs {
    /// The ticket's id
    ticket: u64,
    /// The agent who gets it
    agent: String,
    /// Past the agent's presence (not offline), skills, tier and capacity
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("to").required(true).multiple(true).args(["to_agent", "skills", "tier"])))]
pub(super) struct TransferArgs {
    /// The ticket's id
    ticket: u64,
    /// To this agent
    #[arg(long, conflicts_with_all = ["skills", "tier"])]
    to_agent: Option<String>,
    /// With --to-agent: past the agent's presence (not offline), skills, tier and capacity
    #[arg(long, requires = "to_agent")]
    force: bool,
    /// Back to the queue needing these skills, comma separated, the first the one L2 keeps
    #[arg(long, value_delimiter = ',')]
    skills: Option<Vec<String>>,
    /// Back to the queue as this tier (vip, new, standard)
    #[arg(long, value_enum, ignore_case = true)]
    tier: Option<Tier>,
    /// A word for the next holder (at most 500 bytes)
    #[arg(long, default_value = "")]
    note: String,
}

pub(super) async fn assign(c: &mut TicketServiceClient<Conn>, a: AssignArgs) -> anyhow::Result<()> {
    let req = pb::AssignTicketRequest {
        ticket_id: a.ticket,
        agent_id: a.agent,
        force: a.force,
        ..Default::default()
    };
    print_ticket(&c.assign_ticket(req).await?.into_inner());
    Ok(())
}

pub(super) async fn transfer(
    c: &mut TicketServiceClient<Conn>,
    a: TransferArgs,
) -> anyhow::Result<()> {
    let to = match a.to_agent {
        Some(agent) => To::AgentId(agent),
        None => To::Queue(pb::TransferQueue {
            required_skills: a.skills.map(|skills| pb::SkillList { skills }),
            tier: a.tier.map(|t| convert::tier(t).into()),
        }),
    };
    let req = pb::TransferTicketRequest {
        ticket_id: a.ticket,
        to: Some(to),
        force: a.force,
        note: a.note,
        ..Default::default()
    };
    print_ticket(&c.transfer_ticket(req).await?.into_inner());
    Ok(())
}
