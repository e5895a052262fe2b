//! `ctl presence` (with a reason code), `ctl end-wrap-up` and `ctl agent-stats`: an agent's
//! time from the shell.

use super::print::{human, millis, print_agent};
use crate::api::convert;
use crate::client::Conn;
use crate::core::types::{Presence, Span};
use crate::proto as pb;
use clap::Args;
use pb::agent_service_client::AgentServiceClient;

#[derive(Args)]
pub(super) struct PresenceArgs {
    /// The agent's id
    pub(super) id: String,
    /// The new presence
    #[arg(value_enum, ignore_case = true)]
    pub(super) presence: Presence,
    /// With away or offline: one of the policy's presence_reasons (break, lunch, ...)
    #[arg(long)]
    pub(super) reason: Option<String>,
}

#[derive(Args)]
pub(super) struct AgentStatsArgs {
    /// The agent's id
    id: String,
    /// How far back from now (default: the policy's stats_window; at most 24h)
    #[arg(long, value_parser = Span::parse)]
    window: Option<Span>,
}

pub(super) async fn set_presence(
    c: &mut AgentServiceClient<Conn>,
    a: PresenceArgs,
) -> anyhow::Result<()> {
    let req = pb::SetPresenceRequest {
        agent_id: a.id,
        presence: convert::presence(a.presence).into(),
        reason: a.reason.unwrap_or_default(),
        ..Default::default()
    };
    print_agent(&c.set_presence(req).await?.into_inner());
    Ok(())
}

pub(super) async fn end_wrap_up(
    c: &mut AgentServiceClient<Conn>,
    id: String,
) -> anyhow::Result<()> {
    let req = pb::EndWrapUpRequest {
        agent_id: id,
        ..Default::default()
    };
    print_agent(&c.end_wrap_up(req).await?.into_inner());
    Ok(())
}

pub(super) async fn agent_stats(
    c: &mut AgentServiceClient<Conn>,
    a: AgentStatsArgs,
) -> anyhow::Result<()> {
    let req = pb::GetAgentStatsRequest {
        agent_id: a.id,
        window: a.window.map(convert::duration),
    };
    print_agent_stats(&c.get_agent_stats(req).await?.into_inner());
    Ok(())
}

fn print_agent_stats(s: &pb::AgentStats) {
    let span =
        |d: Option<&prost_types::Duration>| d.map_or_else(|| "-".into(), |d| human(millis(d)));
    let share = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{:.1}%", v * 100.0));
    println!(
        "agent {} over {}: handled={} aht={} sl={} ({} within, {} late)",
        s.agent_id,
        span(s.window.as_ref()),
        s.handled,
        span(s.average_handle_time.as_ref()),
        share(s.service_level),
        s.answered_within,
        s.answered_late,
    );
    println!(
        "  occupancy={} busy={} wrap_up={} signed_in={} offers missed={} rejected={}",
        share(s.occupancy),
        span(s.busy.as_ref()),
        span(s.wrap_up.as_ref()),
        span(s.signed_in.as_ref()),
        s.offers_missed,
        s.offers_rejected,
    );
    for t in &s.time_in_state {
        let presence = t.presence().as_str_name().trim_start_matches("PRESENCE_");
        let reason = match t.reason.as_str() {
            "" => String::new(),
            r => format!(" ({r})"),
        };
        println!(
            "  {}{reason}: {}",
            presence.to_lowercase(),
            span(t.time.as_ref())
        );
    }
}
