//! Request builders: a valid request of each kind from the few fields a test cares about, so
//! that tests say what they send and not how a protobuf message is filled in.

use std::time::Duration;
use triage::proto as pb;

pub fn create(
    external_id: &str,
    tier: pb::Tier,
    channel: pb::Channel,
    skills: &[&str],
) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        optional_skills: Vec::new(),
        request_id: String::new(),
        external_id: external_id.into(),
        customer_id: format!("customer-of-{external_id}"),
        tier: tier as i32,
        channel: channel as i32,
        priority: pb::Priority::Normal as i32,
        required_skills: skills.iter().map(|s| s.to_string()).collect(),
        sentiment: pb::Sentiment::Neutral as i32,
        preferred_agent_id: String::new(),
        created_at: None,
    }
}

/// An agent's reply on a ticket it holds at `lease_epoch`.
pub fn agent_reply(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> pb::RecordReplyRequest {
    pb::RecordReplyRequest {
        ticket_id,
        author: pb::Author::Agent as i32,
        agent_id: agent_id.into(),
        lease_epoch,
        next_update_by: None,
        ..Default::default()
    }
}

pub fn agent(
    id: &str,
    skills: &[&str],
    tiers: &[pb::Tier],
    capacity: &[(&str, u32)],
) -> pb::UpsertAgentRequest {
    pb::UpsertAgentRequest {
        agent_id: id.into(),
        display_name: format!("Agent {id}"),
        skills: skills.iter().map(|s| s.to_string()).collect(),
        tiers: tiers.iter().map(|&t| t as i32).collect(),
        capacity: capacity.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
        ..Default::default()
    }
}

/// A customer's message on a ticket (no agent, no lease).
pub fn customer_reply(ticket_id: u64) -> pb::RecordReplyRequest {
    pb::RecordReplyRequest {
        ticket_id,
        author: pb::Author::Customer as i32,
        ..Default::default()
    }
}

/// A pull by `agent_id`: answered at once with `wait` None, else a long poll of `wait`.
pub fn pull_request(agent_id: &str, wait: Option<Duration>) -> pb::PullNextTicketRequest {
    pb::PullNextTicketRequest {
        agent_id: agent_id.into(),
        wait: wait.map(|w| prost_types::Duration::try_from(w).expect("a wait prost can carry")),
        ..Default::default()
    }
}

/// `agent_id` sets the ticket it holds at `lease_epoch` pending on the customer.
pub fn set_pending(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> pb::SetPendingRequest {
    pb::SetPendingRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    }
}

/// `agent_id` resolves the ticket it holds at `lease_epoch`.
pub fn resolve(ticket_id: u64, agent_id: &str, lease_epoch: u64) -> pb::ResolveTicketRequest {
    pb::ResolveTicketRequest {
        ticket_id,
        agent_id: agent_id.into(),
        lease_epoch,
        ..Default::default()
    }
}

pub fn reopen(ticket_id: u64) -> pb::ReopenTicketRequest {
    pb::ReopenTicketRequest {
        ticket_id,
        ..Default::default()
    }
}

pub fn cancel(ticket_id: u64, reason: pb::CancelReason) -> pb::CancelTicketRequest {
    pb::CancelTicketRequest {
        ticket_id,
        reason: reason as i32,
        ..Default::default()
    }
}

/// An update of the ticket's priority alone.
pub fn update_priority(ticket_id: u64, priority: pb::Priority) -> pb::UpdateTicketRequest {
    pb::UpdateTicketRequest {
        ticket_id,
        priority: Some(priority as i32),
        ..Default::default()
    }
}

/// A put that merges `policy` into the live one (fields left unset keep their value).
pub fn merge_policy(policy: pb::SlaPolicy) -> pb::PutSlaPolicyRequest {
    pb::PutSlaPolicyRequest {
        policy: Some(policy),
        replace: false,
        request_id: String::new(),
    }
}
