//! `triage ctl`: a small command-line client over the generated gRPC client, so a new user can
//! drive the daemon from a shell with nothing else installed. One function per subcommand
//! builds its request and prints the answer (`print`).

mod agent_time;
mod args;
mod desk;
mod explain;
mod offers;
mod policy;
mod print;
mod values;
mod webhooks;

use crate::api::convert;
pub use args::CtlArgs;

use crate::client::Conn;
use crate::core::types::{CancelReason, Span, TicketState};
use crate::proto as pb;
use args::{AgentArgs, CreateArgs, Ctl, HeldLease, ReplyArgs};
use pb::ticket_service_client::TicketServiceClient;
use pb::{admin_service_client::AdminServiceClient, agent_service_client::AgentServiceClient};
use print::{human, print_agent, print_event, print_policy, print_stats, print_ticket, time};
use std::time::Duration;

/// Runs one `ctl` command; a refused call comes back as `CODE: message`.
pub async fn run(args: CtlArgs) -> anyhow::Result<()> {
    execute(args)
        .await
        .map_err(|e| match e.downcast::<tonic::Status>() {
            Ok(status) => anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
            Err(other) => other,
        })
}

/// The three services' clients over one connection.
struct Clients {
    conn: Conn,
    tickets: TicketServiceClient<Conn>,
    agents: AgentServiceClient<Conn>,
    admin: AdminServiceClient<Conn>,
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
    let conn = args.client.connect_leader(&args.addr).await?;
    let mut c = Clients {
        tickets: TicketServiceClient::new(conn.clone()),
        agents: AgentServiceClient::new(conn.clone()),
        admin: AdminServiceClient::new(conn.clone()),
        conn,
    };
    match args.command {
        Ctl::Agent(a) => upsert_agent(&mut c, a).await,
        Ctl::Presence(a) => agent_time::set_presence(&mut c.agents, a).await,
        Ctl::EndWrapUp { id } => agent_time::end_wrap_up(&mut c.agents, id).await,
        Ctl::AgentStats(a) => agent_time::agent_stats(&mut c.agents, a).await,
        Ctl::Heartbeat { id } => heartbeat(&mut c, id).await,
        Ctl::Agents { page_size } => list_agents(&mut c, page_size).await,
        Ctl::Create(a) => create(&mut c, a).await,
        Ctl::Get { ticket } => get(&mut c, ticket).await,
        Ctl::Explain { ticket } => explain(&mut c, ticket).await,
        Ctl::List { state, customer } => list(&mut c, state, customer).await,
        Ctl::Erase { customer } => erase(&mut c, customer).await,
        Ctl::Pull { agent, wait } => pull(&mut c, agent, wait).await,
        Ctl::Reply(a) => reply(&mut c, a).await,
        Ctl::FollowUp { ticket, agent } => follow_up(&mut c, ticket, agent).await,
        Ctl::Pending(held) => pending(&mut c, held).await,
        Ctl::Resolve {
            ticket,
            agent,
            epoch,
        } => resolve(&mut c, ticket, agent, epoch).await,
        Ctl::Release(held) => release(&mut c, held).await,
        Ctl::Accept(held) => offers::accept(&mut c.agents, held).await,
        Ctl::Reject { held, reason } => offers::reject(&mut c.agents, held, reason).await,
        Ctl::Assign(a) => desk::assign(&mut c.tickets, a).await,
        Ctl::Transfer(a) => desk::transfer(&mut c.tickets, a).await,
        Ctl::Reopen { ticket } => reopen(&mut c, ticket).await,
        Ctl::Cancel { ticket, reason } => cancel(&mut c, ticket, reason).await,
        Ctl::Stats { by_key } => stats(&mut c, by_key).await,
        Ctl::Policy { action: None } => policy(&mut c).await,
        Ctl::Policy {
            action: Some(args::PolicyAction::Set { file, replace }),
        } => set_policy(&mut c, &file, replace).await,
        Ctl::Webhooks { action } => webhooks::run(&mut c.admin, action).await,
        Ctl::Health => health(c.conn).await,
        Ctl::Token { .. } => unreachable!("answered before connecting"),
        Ctl::Events {
            from,
            follow,
            kind,
            ticket,
            agent,
        } => {
            let req = pb::WatchEventsRequest {
                from_sequence: from,
                kinds: event_kinds(&kind)?,
                ticket_id: ticket.unwrap_or(0),
                agent_id: agent.unwrap_or_default(),
            };
            events(&mut c, req, follow).await
        }
    }
}

async fn upsert_agent(c: &mut Clients, a: AgentArgs) -> anyhow::Result<()> {
    let req = pb::UpsertAgentRequest {
        agent_id: a.id,
        display_name: a.name,
        skills: a.skills,
        tiers: a
            .tiers
            .into_iter()
            .map(|t| convert::tier(t).into())
            .collect(),
        capacity: a.capacity.into_iter().collect(),
        ..Default::default()
    };
    print_agent(&c.agents.upsert_agent(req).await?.into_inner());
    Ok(())
}

async fn heartbeat(c: &mut Clients, id: String) -> anyhow::Result<()> {
    let req = pb::HeartbeatRequest { agent_id: id };
    let r = c.agents.heartbeat(req).await?.into_inner();
    println!(
        "presence={} expires_at={}",
        r.presence().as_str_name(),
        time(r.expires_at.as_ref())
    );
    Ok(())
}

/// Every agent, a page at a time.
async fn list_agents(c: &mut Clients, page_size: u32) -> anyhow::Result<()> {
    let mut page_token = String::new();
    loop {
        let req = pb::ListAgentsRequest {
            page_size,
            page_token,
            ..Default::default()
        };
        let r = c.agents.list_agents(req).await?.into_inner();
        r.agents.iter().for_each(print_agent);
        if r.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = r.next_page_token;
    }
}

async fn create(c: &mut Clients, a: CreateArgs) -> anyhow::Result<()> {
    let req = pb::CreateTicketRequest {
        optional_skills: a.optional_skills,
        request_id: a.request_id,
        external_id: a.external_id,
        customer_id: a.customer,
        tier: convert::tier(a.tier).into(),
        channel: convert::channel(a.channel).into(),
        priority: convert::priority(a.priority).into(),
        required_skills: a.skills,
        sentiment: convert::sentiment(a.sentiment).into(),
        preferred_agent_id: a.preferred_agent,
        created_at: a.created_at,
    };
    print_ticket(&c.tickets.create_ticket(req).await?.into_inner());
    Ok(())
}

async fn get(c: &mut Clients, ticket: u64) -> anyhow::Result<()> {
    let req = pb::GetTicketRequest { ticket_id: ticket };
    print_ticket(&c.tickets.get_ticket(req).await?.into_inner());
    Ok(())
}

async fn explain(c: &mut Clients, ticket: u64) -> anyhow::Result<()> {
    let req = pb::ExplainTicketRequest { ticket_id: ticket };
    let e = c.tickets.explain_ticket(req).await?.into_inner();
    for line in explain::sentences(&e, chrono::Utc::now().timestamp_millis()) {
        println!("{line}");
    }
    Ok(())
}

/// Every ticket (in the state, if given), a page at a time.
async fn list(
    c: &mut Clients,
    state: Option<TicketState>,
    customer: Option<String>,
) -> anyhow::Result<()> {
    let state = state.map_or(0, |s| convert::state(s).into());
    let customer_id = customer.unwrap_or_default();
    let mut page_token = String::new();
    loop {
        let req = pb::ListTicketsRequest {
            state,
            customer_id: customer_id.clone(),
            page_token,
            page_size: 1000,
            ..Default::default()
        };
        let r = c.tickets.list_tickets(req).await?.into_inner();
        r.tickets.iter().for_each(print_ticket);
        if r.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = r.next_page_token;
    }
}

/// The daemon's long-poll cap unless its config sets `max_pull_wait`.
const DEFAULT_MAX_PULL_WAIT: Span = Span::secs(30);

/// Pulls, waiting up to `wait`; says on stderr when the daemon's cap on the wait may apply,
/// and when an empty answer came back sooner than asked (the cap did apply).
async fn pull(c: &mut Clients, agent: String, wait: Span) -> anyhow::Result<()> {
    if wait > DEFAULT_MAX_PULL_WAIT {
        eprintln!(
            "note: the daemon caps --wait at its max_pull_wait ({} unless its config sets \
             another), so the pull may end before {}",
            human(DEFAULT_MAX_PULL_WAIT.0),
            human(wait.0)
        );
    }
    let req = pb::PullNextTicketRequest {
        agent_id: agent,
        wait: Some(convert::duration(wait)),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let r = c.agents.pull_next_ticket(req).await?.into_inner();
    let waited = started.elapsed().as_millis() as u64;
    if r.assignment.is_none() && cut_short(wait.0, waited) {
        eprintln!(
            "note: the daemon answered after {} of the {} asked: its max_pull_wait caps --wait",
            human(waited),
            human(wait.0)
        );
    }
    match r.assignment {
        Some(a) => {
            println!("assigned lease_epoch={} reason={}", a.lease_epoch, a.reason);
            if let Some(t) = &a.ticket {
                print_ticket(t);
            }
        }
        None => println!("no ticket"),
    }
    Ok(())
}

async fn reply(c: &mut Clients, a: ReplyArgs) -> anyhow::Result<()> {
    let author = if a.customer {
        pb::Author::Customer
    } else {
        pb::Author::Agent
    };
    let next_update_by = a.update_within.map(|within| {
        let at = std::time::SystemTime::now() + Duration::from_millis(within.0);
        prost_types::Timestamp::from(at)
    });
    let req = pb::RecordReplyRequest {
        ticket_id: a.ticket,
        author: author.into(),
        agent_id: a.agent,
        lease_epoch: a.epoch,
        next_update_by,
        on_behalf: a.on_behalf,
        ..Default::default()
    };
    print_ticket(&c.tickets.record_reply(req).await?.into_inner());
    Ok(())
}

async fn follow_up(c: &mut Clients, ticket: u64, agent: String) -> anyhow::Result<()> {
    let req = pb::RecordFollowUpRequest {
        ticket_id: ticket,
        agent_id: agent,
        ..Default::default()
    };
    print_ticket(&c.tickets.record_follow_up(req).await?.into_inner());
    Ok(())
}

async fn pending(c: &mut Clients, held: HeldLease) -> anyhow::Result<()> {
    let req = pb::SetPendingRequest {
        ticket_id: held.ticket,
        agent_id: held.agent,
        lease_epoch: held.epoch,
        ..Default::default()
    };
    print_ticket(&c.tickets.set_pending(req).await?.into_inner());
    Ok(())
}

async fn resolve(c: &mut Clients, ticket: u64, agent: String, epoch: u64) -> anyhow::Result<()> {
    let req = pb::ResolveTicketRequest {
        ticket_id: ticket,
        agent_id: agent,
        lease_epoch: epoch,
        ..Default::default()
    };
    print_ticket(&c.tickets.resolve_ticket(req).await?.into_inner());
    Ok(())
}

async fn release(c: &mut Clients, held: HeldLease) -> anyhow::Result<()> {
    let req = pb::ReleaseTicketRequest {
        ticket_id: held.ticket,
        agent_id: held.agent,
        lease_epoch: held.epoch,
        ..Default::default()
    };
    print_ticket(&c.agents.release_ticket(req).await?.into_inner());
    Ok(())
}

async fn reopen(c: &mut Clients, ticket: u64) -> anyhow::Result<()> {
    let req = pb::ReopenTicketRequest {
        ticket_id: ticket,
        ..Default::default()
    };
    print_ticket(&c.tickets.reopen_ticket(req).await?.into_inner());
    Ok(())
}

async fn cancel(c: &mut Clients, ticket: u64, reason: CancelReason) -> anyhow::Result<()> {
    let req = pb::CancelTicketRequest {
        ticket_id: ticket,
        reason: convert::cancel_reason(reason).into(),
        ..Default::default()
    };
    print_ticket(&c.tickets.cancel_ticket(req).await?.into_inner());
    Ok(())
}

async fn erase(c: &mut Clients, customer_id: String) -> anyhow::Result<()> {
    let req = pb::EraseCustomerRequest { customer_id };
    let erased = c.admin.erase_customer(req).await?.into_inner();
    let n = erased.tickets_erased;
    println!("erased {n} ticket{}", if n == 1 { "" } else { "s" });
    Ok(())
}

async fn stats(c: &mut Clients, by_key: bool) -> anyhow::Result<()> {
    let req = pb::GetQueueStatsRequest {};
    print_stats(&c.admin.get_queue_stats(req).await?.into_inner(), by_key);
    Ok(())
}

async fn policy(c: &mut Clients) -> anyhow::Result<()> {
    let req = pb::GetSlaPolicyRequest {};
    print_policy(&c.admin.get_sla_policy(req).await?.into_inner());
    Ok(())
}

/// Puts a policy file (merging unless `replace`) and prints the policy now in force.
async fn set_policy(c: &mut Clients, file: &std::path::Path, replace: bool) -> anyhow::Result<()> {
    let req = policy::put_request(file, replace)?;
    print_policy(&c.admin.put_sla_policy(req).await?.into_inner());
    Ok(())
}

/// Prints the event stream from `from`; without `follow`, stops once the history is printed:
/// when nothing new arrives for a moment. With `follow` the stream only ends when it breaks
/// (the daemon stopped, or the connection was lost): an error naming where to resume.
async fn events(c: &mut Clients, req: pb::WatchEventsRequest, follow: bool) -> anyhow::Result<()> {
    let from = req.from_sequence;
    let mut stream = c.admin.watch_events(req).await?.into_inner();
    let quiet = Duration::from_millis(if follow { u64::MAX / 4 } else { 300 });
    let mut next_sequence = from;
    let ended = loop {
        match tokio::time::timeout(quiet, stream.message()).await {
            Err(_) => return Ok(()),
            Ok(Ok(Some(e))) => {
                print_event(&e);
                next_sequence = e.sequence + 1;
            }
            Ok(Ok(None)) if !follow => return Ok(()),
            Ok(Ok(None)) => break "the daemon closed the event stream".to_string(),
            Ok(Err(status)) if !follow || !broken(&status) => return Err(status.into()),
            Ok(Err(status)) => break format!("{:?}: {}", status.code(), status.message()),
        }
    };
    anyhow::bail!("{ended}; resume with --from {next_sequence}")
}

/// `--kind` names ("created", "transferred", ...) as the event kinds they name.
fn event_kinds(names: &[String]) -> anyhow::Result<Vec<i32>> {
    names
        .iter()
        .map(|name| {
            let wire = format!("EVENT_KIND_{}", name.trim().to_ascii_uppercase());
            pb::EventKind::from_str_name(&wire)
                .filter(|k| *k != pb::EventKind::Unspecified)
                .map(|k| k as i32)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--kind {name:?}: not an event kind (e.g. created, assigned, transferred)"
                    )
                })
        })
        .collect()
}

/// A status that means the stream broke (daemon gone, connection lost), not a refusal.
fn broken(status: &tonic::Status) -> bool {
    use tonic::Code;
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal | Code::Aborted
    )
}

/// Whether a pull that asked to wait `asked` ms but answered after `waited` ms was cut short
/// (by more than scheduling noise: a second, or a tenth of the wait).
fn cut_short(asked: u64, waited: u64) -> bool {
    waited + (asked / 10).max(1000) < asked
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

/// Prints a new token's token-file entry (its SHA-256, never the token) on stdout, so
/// `>> tokens.toml` appends just the entry, and the token itself on stderr, for whoever will
/// use it: the secret never lands in the daemon's file.
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
    eprintln!("token for {name} (give it to them; only its SHA-256 is kept): {token}");
    println!("[[token]]");
    println!("name = {name:?}");
    println!("sha256 = {:?}", crate::auth::hash_token(&token));
    println!("role = {:?}", format!("{role:?}").to_lowercase());
    if let Some(agent) = agent_id {
        println!("agent_id = {agent:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::{Channel, Presence, Priority, Sentiment, Tier};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CtlArgs,
    }

    fn parse(line: &str) -> Result<Ctl, clap::Error> {
        let argv = std::iter::once("ctl").chain(line.split_whitespace());
        Cli::try_parse_from(argv).map(|cli| cli.args.command)
    }

    #[test]
    fn enum_arguments_take_the_core_labels_in_any_case() {
        let line = "create --external-id x --customer c --tier VIP --channel Chat";
        let Ok(Ctl::Create(a)) = parse(line) else {
            panic!("create parses")
        };
        assert_eq!((a.tier, a.channel), (Tier::Vip, Channel::Chat));
        assert_eq!(
            (a.priority, a.sentiment),
            (Priority::Normal, Sentiment::Neutral)
        );
        let Ok(Ctl::Agent(a)) = parse("agent ana --tiers vip,New,standard") else {
            panic!("agent parses")
        };
        assert_eq!(a.tiers, vec![Tier::Vip, Tier::New, Tier::Standard]);
        assert!(matches!(
            parse("list --state queued"),
            Ok(Ctl::List {
                state: Some(TicketState::Queued),
                customer: None,
            })
        ));
        assert!(matches!(
            parse("presence ana AWAY"),
            Ok(Ctl::Presence(p)) if p.presence == Presence::Away && p.reason.is_none()
        ));
        assert!(matches!(
            parse("presence ana away --reason lunch"),
            Ok(Ctl::Presence(p)) if p.reason.as_deref() == Some("lunch")
        ));
        assert!(matches!(
            parse("agent-stats ana --window 2h"),
            Ok(Ctl::AgentStats(_))
        ));
        assert!(matches!(parse("end-wrap-up ana"), Ok(Ctl::EndWrapUp { id }) if id == "ana"));
        assert!(matches!(
            parse("erase c-9"),
            Ok(Ctl::Erase { customer }) if customer == "c-9"
        ));
        assert!(matches!(
            parse("cancel 3"),
            Ok(Ctl::Cancel {
                reason: CancelReason::Other,
                ..
            })
        ));
    }

    #[test]
    fn every_label_of_every_enum_is_accepted_and_others_are_not() {
        use clap::ValueEnum;
        fn all<T: ValueEnum + PartialEq + std::fmt::Debug + Copy>(
            values: &[T],
            label: fn(T) -> &'static str,
        ) {
            for &v in values {
                assert_eq!(T::from_str(label(v), false), Ok(v));
                assert_eq!(T::from_str(&label(v).to_uppercase(), true), Ok(v));
            }
        }
        all(Tier::ALL, Tier::label);
        all(Channel::ALL, Channel::label);
        all(Priority::ALL, Priority::label);
        all(Sentiment::ALL, Sentiment::label);
        all(TicketState::ALL, TicketState::label);
        all(Presence::ALL, Presence::label);
        all(CancelReason::ALL, CancelReason::label);
        assert!(parse("create --external-id x --customer c --channel fax").is_err());
        assert!(parse("cancel 3 --reason lost").is_err());
    }

    #[test]
    fn a_bad_value_names_its_flag() {
        let Ok(Ctl::Agent(a)) = parse("agent ana --capacity chat=3,Email=5") else {
            panic!("agent parses")
        };
        assert_eq!(a.capacity, [("chat".into(), 3), ("email".into(), 5)]);
        for (line, says) in [
            (
                "agent ana --capacity chat=abc",
                "\"abc\" is not a whole number",
            ),
            ("agent ana --capacity fax=1", "\"fax\" is not a channel"),
            ("agent ana --capacity chat", "not channel=N"),
            ("pull ana --wait 60", "has no unit"),
            ("reply 1 --update-within soon --customer", "whole number"),
        ] {
            let err = parse(line).err().map(|e| e.to_string()).unwrap_or_default();
            let flag = line.split_whitespace().find(|w| w.starts_with("--"));
            let flag = flag.unwrap_or_default();
            assert!(err.contains(flag) && err.contains(says), "{line}: {err}");
        }
        assert!(matches!(
            parse("pull ana --wait 60s"),
            Ok(Ctl::Pull { wait, .. }) if wait == Span::secs(60)
        ));
    }

    #[test]
    fn created_at_takes_an_rfc_3339_instant_in_any_offset() {
        let line = "create --external-id x --customer c --channel email \
                    --created-at 2026-12-01T10:30:00.250+01:00";
        let Ok(Ctl::Create(a)) = parse(line) else {
            panic!("create parses")
        };
        let at = a.created_at.expect("created_at");
        // 2026-12-01T09:30:00.250Z
        assert_eq!((at.seconds, at.nanos), (1_796_117_400, 250_000_000));
        let Ok(Ctl::Create(a)) = parse("create --external-id x --customer c --channel email")
        else {
            panic!("create parses")
        };
        assert_eq!(a.created_at, None, "left out: the ticket begins now");
        let err =
            parse("create --external-id x --customer c --channel email --created-at 2026-12-01")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
        assert!(
            err.contains("--created-at") && err.contains("is not an RFC 3339 instant"),
            "{err}"
        );
    }

    #[test]
    fn every_argument_of_every_verb_has_a_help_line() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let mut missing = Vec::new();
        for verb in cli.get_subcommands() {
            for arg in verb.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{} {}", verb.get_name(), arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "no help: {missing:?}");
    }

    #[test]
    fn a_pull_answered_well_before_its_wait_was_cut_short() {
        assert!(cut_short(60_000, 30_000));
        assert!(cut_short(5_000, 1_000));
        assert!(!cut_short(5_000, 4_500));
        assert!(!cut_short(0, 3));
        assert!(!cut_short(60_000, 59_000));
    }
}
