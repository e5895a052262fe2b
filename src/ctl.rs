//! `triage ctl`: a small command-line client over the generated gRPC client, so a new user can
//! drive the daemon from a shell with nothing else installed.

use crate::client::{ClientArgs, Conn};
use crate::core::types::{Channel, Span};
use crate::proto as pb;
use clap::{Args, Subcommand};
use pb::ticket_service_client::TicketServiceClient;
use pb::{admin_service_client::AdminServiceClient, agent_service_client::AgentServiceClient};
use std::time::Duration;

#[derive(Args)]
pub struct CtlArgs {
    /// The daemon's gRPC address
    #[arg(long, env = "TRIAGE_ADDR", default_value = "http://127.0.0.1:50051")]
    addr: String,
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: Ctl,
}

#[derive(Subcommand)]
enum Ctl {
    /// Create or replace an agent's profile.
    Agent {
        id: String,
        /// Skills, comma separated (e.g. en,billing)
        #[arg(long, value_delimiter = ',')]
        skills: Vec<String>,
        /// Tiers the agent may serve, comma separated (vip,new,standard); empty: all
        #[arg(long, value_delimiter = ',')]
        tiers: Vec<String>,
        /// Capacity per channel, e.g. chat=3,email=5
        #[arg(long, value_delimiter = ',')]
        capacity: Vec<String>,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Set an agent's presence: available, away or offline.
    Presence { id: String, presence: String },
    /// Keep an agent's presence alive.
    Heartbeat { id: String },
    /// List agents.
    Agents,
    /// Create a ticket.
    Create {
        #[arg(long)]
        external_id: String,
        #[arg(long)]
        customer: String,
        /// vip, new or standard
        #[arg(long, default_value = "standard")]
        tier: String,
        /// chat, messenger, email, phone, social or review
        #[arg(long)]
        channel: String,
        /// low, normal, high or urgent
        #[arg(long, default_value = "normal")]
        priority: String,
        #[arg(long, value_delimiter = ',')]
        skills: Vec<String>,
        /// neutral, positive or negative
        #[arg(long, default_value = "neutral")]
        sentiment: String,
        #[arg(long, default_value = "")]
        preferred_agent: String,
        #[arg(long, default_value = "")]
        request_id: String,
    },
    /// Show one ticket.
    Get { ticket: u64 },
    /// List tickets (optionally by state: queued, assigned, pending, resolved, cancelled).
    List {
        #[arg(long)]
        state: Option<String>,
    },
    /// Pull the next ticket for an agent, waiting up to --wait.
    Pull {
        agent: String,
        #[arg(long, default_value = "0s")]
        wait: String,
    },
    /// Record a reply: by the agent holding the ticket, or with --customer a customer message.
    Reply {
        ticket: u64,
        #[arg(long, default_value = "")]
        agent: String,
        #[arg(long, default_value_t = 0)]
        epoch: u64,
        #[arg(long)]
        customer: bool,
        /// Promise the next update within this span ("20m", "2h"): an interim-update clock.
        #[arg(long)]
        update_within: Option<String>,
    },
    /// Record the check-back after resolution.
    FollowUp {
        ticket: u64,
        #[arg(long, default_value = "")]
        agent: String,
    },
    /// Mark a ticket pending on the customer.
    Pending {
        ticket: u64,
        #[arg(long)]
        agent: String,
        #[arg(long)]
        epoch: u64,
    },
    /// Resolve a ticket (as its agent, or without --agent as the front end).
    Resolve {
        ticket: u64,
        #[arg(long, default_value = "")]
        agent: String,
        #[arg(long, default_value_t = 0)]
        epoch: u64,
    },
    /// Give a ticket back to the queue.
    Release {
        ticket: u64,
        #[arg(long)]
        agent: String,
        #[arg(long)]
        epoch: u64,
    },
    /// Reopen a resolved ticket.
    Reopen { ticket: u64 },
    /// Cancel a ticket (reason: abandoned, duplicate, other).
    Cancel {
        ticket: u64,
        #[arg(long, default_value = "other")]
        reason: String,
    },
    /// Queue statistics.
    Stats,
    /// The SLA policy in force.
    Policy,
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

fn parse<T>(what: &str, value: &str, options: &[(&str, T)]) -> anyhow::Result<i32>
where
    T: Copy + Into<i32>,
{
    options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value))
        .map(|(_, v)| (*v).into())
        .ok_or_else(|| {
            let names: Vec<_> = options.iter().map(|(n, _)| *n).collect();
            anyhow::anyhow!("{what} {value:?}: expected one of {}", names.join(", "))
        })
}

fn tier(v: &str) -> anyhow::Result<i32> {
    parse(
        "tier",
        v,
        &[
            ("vip", pb::Tier::Vip),
            ("new", pb::Tier::New),
            ("standard", pb::Tier::Standard),
        ],
    )
}

fn channel(v: &str) -> anyhow::Result<i32> {
    let options = [
        ("chat", pb::Channel::Chat),
        ("messenger", pb::Channel::Messenger),
        ("email", pb::Channel::Email),
        ("phone", pb::Channel::Phone),
        ("social", pb::Channel::Social),
        ("review", pb::Channel::Review),
    ];
    parse("channel", v, &options)
}

fn state(v: &str) -> anyhow::Result<i32> {
    let options = [
        ("queued", pb::TicketState::Queued),
        ("assigned", pb::TicketState::Assigned),
        ("pending", pb::TicketState::Pending),
        ("resolved", pb::TicketState::Resolved),
        ("cancelled", pb::TicketState::Cancelled),
    ];
    parse("state", v, &options)
}

/// Runs one `ctl` command; a refused call comes back as `CODE: message`.
pub async fn run(args: CtlArgs) -> anyhow::Result<()> {
    execute(args)
        .await
        .map_err(|e| match e.downcast::<tonic::Status>() {
            Ok(status) => anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
            Err(other) => other,
        })
}

async fn execute(args: CtlArgs) -> anyhow::Result<()> {
    if let Ctl::Token {
        name,
        role,
        agent_id,
    } = &args.command
    {
        return print_token(name, *role, agent_id.as_deref());
    }
    let conn = args.client.connect(&args.addr).await?;
    let mut tickets = TicketServiceClient::new(conn.clone());
    let mut agents = AgentServiceClient::new(conn.clone());
    let mut admin = AdminServiceClient::new(conn.clone());
    match args.command {
        Ctl::Agent {
            id,
            skills,
            tiers,
            capacity,
            name,
        } => {
            let mut caps = std::collections::HashMap::new();
            for entry in capacity {
                let (ch, n) = entry
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("capacity {entry:?}: use channel=N"))?;
                caps.insert(ch.to_string(), n.parse()?);
            }
            let tiers = tiers
                .iter()
                .map(|t| tier(t))
                .collect::<anyhow::Result<_>>()?;
            let req = pb::UpsertAgentRequest {
                agent_id: id,
                display_name: name,
                skills,
                tiers,
                capacity: caps,
                ..Default::default()
            };
            print_agent(&agents.upsert_agent(req).await?.into_inner());
        }
        Ctl::Presence { id, presence } => {
            let options = [
                ("available", pb::Presence::Available),
                ("away", pb::Presence::Away),
                ("offline", pb::Presence::Offline),
            ];
            let presence = parse("presence", &presence, &options)?;
            let req = pb::SetPresenceRequest {
                agent_id: id,
                presence,
                ..Default::default()
            };
            print_agent(&agents.set_presence(req).await?.into_inner());
        }
        Ctl::Heartbeat { id } => {
            let r = agents
                .heartbeat(pb::HeartbeatRequest { agent_id: id })
                .await?
                .into_inner();
            println!(
                "presence={} expires_at={}",
                r.presence().as_str_name(),
                time(r.expires_at.as_ref())
            );
        }
        Ctl::Agents => {
            let r = agents
                .list_agents(pb::ListAgentsRequest::default())
                .await?
                .into_inner();
            r.agents.iter().for_each(print_agent);
        }
        Ctl::Create {
            external_id,
            customer,
            tier: t,
            channel: c,
            priority,
            skills,
            sentiment,
            preferred_agent,
            request_id,
        } => {
            let priority = parse(
                "priority",
                &priority,
                &[
                    ("low", pb::Priority::Low),
                    ("normal", pb::Priority::Normal),
                    ("high", pb::Priority::High),
                    ("urgent", pb::Priority::Urgent),
                ],
            )?;
            let sentiment = parse(
                "sentiment",
                &sentiment,
                &[
                    ("neutral", pb::Sentiment::Neutral),
                    ("positive", pb::Sentiment::Positive),
                    ("negative", pb::Sentiment::Negative),
                ],
            )?;
            let req = pb::CreateTicketRequest {
                request_id,
                external_id,
                customer_id: customer,
                tier: tier(&t)?,
                channel: channel(&c)?,
                priority,
                required_skills: skills,
                sentiment,
                preferred_agent_id: preferred_agent,
            };
            print_ticket(&tickets.create_ticket(req).await?.into_inner());
        }
        Ctl::Get { ticket } => print_ticket(
            &tickets
                .get_ticket(pb::GetTicketRequest { ticket_id: ticket })
                .await?
                .into_inner(),
        ),
        Ctl::List { state: s } => {
            let state = s.as_deref().map(state).transpose()?.unwrap_or(0);
            let mut page_token = String::new();
            loop {
                let req = pb::ListTicketsRequest {
                    state,
                    page_token,
                    page_size: 1000,
                    ..Default::default()
                };
                let r = tickets.list_tickets(req).await?.into_inner();
                r.tickets.iter().for_each(print_ticket);
                if r.next_page_token.is_empty() {
                    break;
                }
                page_token = r.next_page_token;
            }
        }
        Ctl::Pull { agent, wait } => {
            let wait = Span::parse(&wait).map_err(|e| anyhow::anyhow!("--wait: {e}"))?;
            let wait = Some(prost_types::Duration {
                seconds: (wait.0 / 1000) as i64,
                nanos: ((wait.0 % 1000) * 1_000_000) as i32,
            });
            let r = agents
                .pull_next_ticket(pb::PullNextTicketRequest {
                    agent_id: agent,
                    wait,
                    ..Default::default()
                })
                .await?
                .into_inner();
            match r.assignment {
                Some(a) => {
                    println!("assigned lease_epoch={} reason={}", a.lease_epoch, a.reason);
                    if let Some(t) = &a.ticket {
                        print_ticket(t);
                    }
                }
                None => println!("no ticket"),
            }
        }
        Ctl::Reply {
            ticket,
            agent,
            epoch,
            customer,
            update_within,
        } => {
            let author = if customer {
                pb::Author::Customer
            } else {
                pb::Author::Agent
            } as i32;
            let next_update_by = match update_within {
                Some(text) => {
                    let within = Span::parse(&text).map_err(anyhow::Error::msg)?;
                    let at = std::time::SystemTime::now() + Duration::from_millis(within.0);
                    Some(prost_types::Timestamp::from(at))
                }
                None => None,
            };
            let req = pb::RecordReplyRequest {
                ticket_id: ticket,
                author,
                agent_id: agent,
                lease_epoch: epoch,
                next_update_by,
                ..Default::default()
            };
            print_ticket(&tickets.record_reply(req).await?.into_inner());
        }
        Ctl::FollowUp { ticket, agent } => {
            let req = pb::RecordFollowUpRequest {
                ticket_id: ticket,
                agent_id: agent,
                ..Default::default()
            };
            print_ticket(&tickets.record_follow_up(req).await?.into_inner());
        }
        Ctl::Pending {
            ticket,
            agent,
            epoch,
        } => {
            let req = pb::SetPendingRequest {
                ticket_id: ticket,
                agent_id: agent,
                lease_epoch: epoch,
                ..Default::default()
            };
            print_ticket(&tickets.set_pending(req).await?.into_inner());
        }
        Ctl::Resolve {
            ticket,
            agent,
            epoch,
        } => {
            let req = pb::ResolveTicketRequest {
                ticket_id: ticket,
                agent_id: agent,
                lease_epoch: epoch,
                ..Default::default()
            };
            print_ticket(&tickets.resolve_ticket(req).await?.into_inner());
        }
        Ctl::Release {
            ticket,
            agent,
            epoch,
        } => {
            let req = pb::ReleaseTicketRequest {
                ticket_id: ticket,
                agent_id: agent,
                lease_epoch: epoch,
                ..Default::default()
            };
            print_ticket(&agents.release_ticket(req).await?.into_inner());
        }
        Ctl::Reopen { ticket } => print_ticket(
            &tickets
                .reopen_ticket(pb::ReopenTicketRequest {
                    ticket_id: ticket,
                    ..Default::default()
                })
                .await?
                .into_inner(),
        ),
        Ctl::Cancel { ticket, reason } => {
            let reason = parse(
                "reason",
                &reason,
                &[
                    ("abandoned", pb::CancelReason::Abandoned),
                    ("duplicate", pb::CancelReason::Duplicate),
                    ("other", pb::CancelReason::Other),
                ],
            )?;
            print_ticket(
                &tickets
                    .cancel_ticket(pb::CancelTicketRequest {
                        ticket_id: ticket,
                        reason,
                        ..Default::default()
                    })
                    .await?
                    .into_inner(),
            );
        }
        Ctl::Stats => print_stats(
            &admin
                .get_queue_stats(pb::GetQueueStatsRequest {})
                .await?
                .into_inner(),
        ),
        Ctl::Policy => print_policy(
            &admin
                .get_sla_policy(pb::GetSlaPolicyRequest {})
                .await?
                .into_inner(),
        ),
        Ctl::Health => health(conn).await?,
        Ctl::Token { .. } => unreachable!("answered before connecting"),
        Ctl::Events { from, follow } => {
            let req = pb::WatchEventsRequest {
                from_sequence: from,
            };
            let mut stream = admin.watch_events(req).await?.into_inner();
            // Without --follow, stop once the history is printed: when nothing new arrives
            // for a moment.
            let quiet = Duration::from_millis(if follow { u64::MAX / 4 } else { 300 });
            while let Ok(next) = tokio::time::timeout(quiet, stream.message()).await {
                match next? {
                    Some(e) => print_event(&e),
                    None => break,
                }
            }
        }
    }
    Ok(())
}

/// Asks `grpc.health.v1.Health` about the whole server; anything but SERVING is an error.
async fn health(conn: Conn) -> anyhow::Result<()> {
    use tonic_health::pb::{health_check_response::ServingStatus, health_client::HealthClient};
    let req = tonic_health::pb::HealthCheckRequest {
        service: String::new(),
    };
    let status = HealthClient::new(conn)
        .check(req)
        .await?
        .into_inner()
        .status();
    println!("{}", status.as_str_name());
    anyhow::ensure!(status == ServingStatus::Serving, "not serving");
    Ok(())
}

fn print_event(e: &pb::Event) {
    let mut line = format!(
        "{} {} {}",
        e.sequence,
        time(e.at.as_ref()),
        label(e.kind().as_str_name(), "EVENT_KIND_")
    );
    if e.ticket_id != 0 {
        line += &format!(" ticket={}", e.ticket_id);
    }
    for (name, value) in [
        ("agent", e.agent_id.clone()),
        ("reason", e.reason.clone()),
        ("metric", label(e.metric().as_str_name(), "SLA_METRIC_")),
        ("level", label(e.level().as_str_name(), "ESCALATION_LEVEL_")),
    ] {
        if !value.is_empty() && value != "unspecified" {
            line += &format!(" {name}={value}");
        }
    }
    println!("{line}");
}

fn time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        )
}

fn span(d: Option<&prost_types::Duration>) -> String {
    d.map_or_else(
        || "-".into(),
        |d| Span(d.seconds.max(0) as u64 * 1000 + d.nanos.max(0) as u64 / 1_000_000).to_string(),
    )
}

fn label(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_ascii_lowercase()
}

fn print_ticket(t: &pb::Ticket) {
    println!(
        "ticket {} ext={} state={} tier={} channel={} priority={} skills=[{}] agent={} epoch={} due={} escalation={}",
        t.ticket_id,
        t.external_id,
        label(t.state().as_str_name(), "TICKET_STATE_"),
        label(t.tier().as_str_name(), "TIER_"),
        label(t.channel().as_str_name(), "CHANNEL_"),
        label(t.priority().as_str_name(), "PRIORITY_"),
        t.required_skills.join(","),
        if t.agent_id.is_empty() { "-" } else { &t.agent_id },
        t.lease_epoch,
        time(t.due_at.as_ref()),
        label(t.escalation().as_str_name(), "ESCALATION_LEVEL_"),
    );
    for c in &t.sla {
        println!(
            "  {} target={} due={} met={} level={}{}",
            label(c.metric().as_str_name(), "SLA_METRIC_"),
            span(c.target.as_ref()),
            time(c.due_at.as_ref()),
            time(c.met_at.as_ref()),
            label(c.level().as_str_name(), "ESCALATION_LEVEL_"),
            if c.paused { " (paused)" } else { "" },
        );
    }
}

fn print_agent(a: &pb::Agent) {
    let mut caps: Vec<String> = Channel::ALL
        .iter()
        .filter_map(|c| {
            let cap = a.capacity.get(c.label())?;
            Some(format!(
                "{}={}/{}",
                c.label(),
                a.load.get(c.label()).copied().unwrap_or(0),
                cap
            ))
        })
        .collect();
    caps.sort();
    let tiers: Vec<String> = a.tiers().map(|t| label(t.as_str_name(), "TIER_")).collect();
    println!(
        "agent {} presence={} skills=[{}] tiers=[{}] load/capacity=[{}]",
        a.agent_id,
        label(a.presence().as_str_name(), "PRESENCE_"),
        a.skills.join(","),
        if tiers.is_empty() {
            "all".to_string()
        } else {
            tiers.join(",")
        },
        caps.join(" "),
    );
}

fn print_stats(s: &pb::GetQueueStatsResponse) {
    for q in &s.queues {
        println!(
            "queue tier={} channel={} skills=[{}] depth={} oldest_age={} breached={}",
            label(q.tier().as_str_name(), "TIER_"),
            label(q.channel().as_str_name(), "CHANNEL_"),
            q.skills.join(","),
            q.depth,
            span(q.oldest_age.as_ref()),
            q.breached
        );
    }
    let open: Vec<String> = s
        .open_by_state
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                label(c.state().as_str_name(), "TICKET_STATE_"),
                c.count
            )
        })
        .collect();
    let agents: Vec<String> = s
        .agents_by_presence
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                label(c.presence().as_str_name(), "PRESENCE_"),
                c.count
            )
        })
        .collect();
    println!("open {}", open.join(" "));
    println!("agents {}", agents.join(" "));
    let pct = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0));
    for l in &s.service_levels {
        println!(
            "service_level channel={} tier={} sl={}{} within={} breached={} abandoned={} asa={} fcr={} aht={} (window {}, target {})",
            label(l.channel().as_str_name(), "CHANNEL_"),
            label(l.tier().as_str_name(), "TIER_"),
            pct(l.service_level),
            if l.below_target { " BELOW TARGET" } else { "" },
            l.answered_within,
            l.breached,
            l.abandoned,
            span(l.average_speed_of_answer.as_ref()),
            pct(l.first_contact_resolution),
            span(l.average_handle_time.as_ref()),
            span(s.window.as_ref()),
            pct(Some(s.service_level_target)),
        );
    }
}

fn print_policy(p: &pb::SlaPolicy) {
    for t in &p.targets {
        println!(
            "{:<10} first_response={} next_reply={} resolution={}",
            label(t.channel().as_str_name(), "CHANNEL_"),
            span(t.first_response.as_ref()),
            span(t.next_reply.as_ref()),
            span(t.resolution.as_ref())
        );
    }
    let tiers: Vec<String> = p
        .tier_multipliers
        .iter()
        .map(|m| {
            format!(
                "{}×{}",
                label(m.tier().as_str_name(), "TIER_"),
                m.multiplier
            )
        })
        .collect();
    let prios: Vec<String> = p
        .priority_multipliers
        .iter()
        .map(|m| {
            format!(
                "{}×{}",
                label(m.priority().as_str_name(), "PRIORITY_"),
                m.multiplier
            )
        })
        .collect();
    println!("tiers {}", tiers.join(" "));
    println!("priorities {}", prios.join(" "));
    println!(
        "warning at {}%, L2 at breach+{}%, L3 at breach+{}%, preferred hold {}, presence ttl {}",
        p.warning_fraction * 100.0,
        p.l2_offset * 100.0,
        p.l3_offset * 100.0,
        span(p.preferred_hold.as_ref()),
        span(p.presence_ttl.as_ref())
    );
}

/// Prints a new token and its token-file entry.
fn print_token(name: &str, role: crate::auth::Role, agent_id: Option<&str>) -> anyhow::Result<()> {
    use crate::auth::Role;
    match (role, agent_id) {
        (Role::Agent, None) => anyhow::bail!("--agent-id is required for --role agent"),
        (Role::Integrator | Role::Admin, Some(_)) => {
            anyhow::bail!("--agent-id is only for --role agent")
        }
        _ => {}
    }
    let token = crate::auth::new_token()?;
    println!("# token (give it to {name}; it is not stored anywhere): {token}");
    println!("[[token]]");
    println!("name = {name:?}");
    println!("sha256 = {:?}", crate::auth::hash_token(&token));
    println!("role = {:?}", format!("{role:?}").to_lowercase());
    if let Some(agent) = agent_id {
        println!("agent_id = {agent:?}");
    }
    Ok(())
}
