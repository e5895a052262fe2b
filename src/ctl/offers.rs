//! `ctl accept` and `ctl reject`: answering an offer from the shell (see `core::offer`).

use super::args::HeldLease;
use super::print::print_ticket;
use crate::client::Conn;
use crate::proto as pb;
use pb::agent_service_client::AgentServiceClient;

pub(super) async fn accept(
    agents: &mut AgentServiceClient<Conn>,
    held: HeldLease,
) -> anyhow::Result<()> {
    let req = pb::AcceptTicketRequest {
        ticket_id: held.ticket,
        agent_id: held.agent,
        lease_epoch: held.epoch,
        ..Default::default()
    };
    print_ticket(&agents.accept_ticket(req).await?.into_inner());
    Ok(())
}

pub(super) async fn reject(
    agents: &mut AgentServiceClient<Conn>,
    held: HeldLease,
    reason: String,
) -> anyhow::Result<()> {
    let req = pb::RejectTicketRequest {
        ticket_id: held.ticket,
        agent_id: held.agent,
        lease_epoch: held.epoch,
        reason,
        ..Default::default()
    };
    print_ticket(&agents.reject_ticket(req).await?.into_inner());
    Ok(())
}
