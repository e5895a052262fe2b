//! What a run against a daemon it does not own (`--target`) leaves there: its agents
//! (`agent-0`, `agent-1`, ..., AVAILABLE) and the tickets it created and did not resolve. The
//! report lists them; with `--cleanup` the bench removes them from service instead: it cancels
//! those tickets (reason OTHER) and sets its agents OFFLINE, and reports what it did. Nothing
//! can be deleted over the API, so the records themselves stay.

use super::workers::Shared;
use super::Plan;
use crate::client::Conn as Channel;
use crate::core::command::AgentProfile;
use crate::proto as pb;
use pb::agent_service_client::AgentServiceClient;
use pb::ticket_service_client::TicketServiceClient;
use tokio::task::JoinSet;
use tonic::Code;

/// What the run left in the daemon, and what `--cleanup` did about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Left {
    pub agents: Vec<String>,
    /// Tickets the run created and did not resolve, by id.
    pub tickets: Vec<u64>,
    pub cleanup: Option<Cleanup>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    pub cancelled: u64,
    /// Closed by someone else meanwhile (FAILED_PRECONDITION on cancel).
    pub already_closed: u64,
    pub offline: u64,
    /// The first few calls that failed otherwise.
    pub errors: Vec<String>,
    pub failed: u64,
}

/// Says or cleans up what the run leaves (see the module doc).
pub async fn settle(
    channel: &Channel,
    plan: &Plan,
    shared: &Shared,
    agents: &[AgentProfile],
) -> Left {
    let mut left = Left {
        agents: agents.iter().map(|a| a.id.to_string()).collect(),
        tickets: shared.unresolved_ids(),
        cleanup: None,
    };
    if plan.cleanup {
        let mut done = cancel(channel, &left.tickets).await;
        set_offline(channel, &left.agents, &mut done).await;
        left.cleanup = Some(done);
    }
    left
}

/// Cancels `tickets`, over several calls at once.
async fn cancel(channel: &Channel, tickets: &[u64]) -> Cleanup {
    let mut tasks = JoinSet::new();
    for part in tickets.chunks(tickets.len().div_ceil(16).max(1)) {
        let (channel, part) = (channel.clone(), part.to_vec());
        tasks.spawn(async move {
            let mut client = TicketServiceClient::new(channel);
            let mut out = Cleanup::default();
            for ticket_id in part {
                let req = pb::CancelTicketRequest {
                    ticket_id,
                    reason: pb::CancelReason::Other as i32,
                    ..Default::default()
                };
                match client.cancel_ticket(req).await {
                    Ok(_) => out.cancelled += 1,
                    Err(s) if s.code() == Code::FailedPrecondition => out.already_closed += 1,
                    Err(s) => out.failed(format!("cancel ticket {ticket_id}: {}", s.message())),
                }
            }
            out
        });
    }
    let mut all = Cleanup::default();
    while let Some(part) = tasks.join_next().await {
        match part {
            Ok(p) => {
                all.cancelled += p.cancelled;
                all.already_closed += p.already_closed;
                all.failed += p.failed;
                for e in p.errors {
                    all.failed_note(e);
                }
            }
            Err(e) => all.failed(format!("a cancel task failed: {e}")),
        }
    }
    all
}

async fn set_offline(channel: &Channel, agents: &[String], out: &mut Cleanup) {
    let mut client = AgentServiceClient::new(channel.clone());
    for agent_id in agents {
        let req = pb::SetPresenceRequest {
            agent_id: agent_id.clone(),
            presence: pb::Presence::Offline as i32,
            ..Default::default()
        };
        match client.set_presence(req).await {
            Ok(_) => out.offline += 1,
            Err(s) => out.failed(format!("set {agent_id} OFFLINE: {}", s.message())),
        }
    }
}

impl Cleanup {
    fn failed(&mut self, what: String) {
        self.failed += 1;
        self.failed_note(what);
    }

    fn failed_note(&mut self, what: String) {
        if self.errors.len() < 5 {
            self.errors.push(what);
        }
    }
}

impl Left {
    /// The report's lines about it.
    pub fn describe(&self) -> Vec<String> {
        let agents = match self.agents.as_slice() {
            [] => "no agents".to_string(),
            [one] => format!("agent {one}"),
            [first, .., last] => format!("{} agents {first} .. {last}", self.agents.len()),
        };
        let Some(c) = &self.cleanup else {
            return vec![
                format!("left in the daemon: {agents} (AVAILABLE), and the {} tickets this run created and did not resolve{}",
                    self.tickets.len(),
                    if self.tickets.is_empty() { String::new() } else { format!(" (ids {})", ranges(&self.tickets)) }),
                "run with --cleanup to cancel such tickets and set the agents OFFLINE".to_string(),
            ];
        };
        let mut out = vec![format!(
            "cleanup: cancelled {} of the {} tickets this run left open ({} were closed meanwhile); set {} of the {} ({agents}) OFFLINE",
            c.cancelled,
            self.tickets.len(),
            c.already_closed,
            c.offline,
            self.agents.len()
        )];
        if c.failed > 0 {
            out.push(format!(
                "cleanup: {} calls failed: {}",
                c.failed,
                c.errors.join("; ")
            ));
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        let cleanup = self.cleanup.as_ref().map(|c| {
            serde_json::json!({
                "cancelled": c.cancelled,
                "already_closed": c.already_closed,
                "agents_offline": c.offline,
                "failed": c.failed,
                "errors": c.errors,
            })
        });
        serde_json::json!({
            "agents": self.agents,
            "tickets": self.tickets,
            "cleanup": cleanup,
        })
    }
}

/// Sorted ids as ranges, `1-3, 7, 9-10`, the first 20 of them and then how many ids more.
pub fn ranges(ids: &[u64]) -> String {
    const MOST: usize = 20;
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &id in ids {
        match runs.last_mut() {
            Some((_, last)) if id == *last + 1 => *last = id,
            _ => runs.push((id, id)),
        }
    }
    let text = |&(a, b): &(u64, u64)| match a == b {
        true => a.to_string(),
        false => format!("{a}-{b}"),
    };
    let shown: Vec<String> = runs.iter().take(MOST).map(text).collect();
    let more: u64 = runs.iter().skip(MOST).map(|(a, b)| b - a + 1).sum();
    match more {
        0 => shown.join(", "),
        n => format!("{}, and {n} more (--json lists them all)", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_ranges() {
        assert_eq!(ranges(&[]), "");
        assert_eq!(ranges(&[4]), "4");
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        let many: Vec<u64> = (0..30).map(|i| i * 3).chain([100, 101, 102]).collect();
        assert_eq!(
            ranges(&many),
            "0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, \
             and 13 more (--json lists them all)"
        );
    }

    #[test]
    fn the_report_names_what_is_left_or_what_was_cleaned_up() {
        let mut left = Left {
            agents: vec!["agent-0".into(), "agent-1".into(), "agent-2".into()],
            tickets: vec![5, 6, 9],
            cleanup: None,
        };
        let text = left.describe().join("\n");
        assert!(
            text.contains("3 agents agent-0 .. agent-2 (AVAILABLE)"),
            "{text}"
        );
        assert!(
            text.contains("the 3 tickets this run created and did not resolve (ids 5-6, 9)"),
            "{text}"
        );
        assert!(text.contains("--cleanup"), "{text}");
        left.cleanup = Some(Cleanup {
            cancelled: 2,
            already_closed: 1,
            offline: 3,
            ..Cleanup::default()
        });
        let text = left.describe().join("\n");
        assert!(text.contains("cancelled 2 of the 3 tickets"), "{text}");
        assert!(text.contains("(1 were closed meanwhile)"), "{text}");
        assert!(
            text.contains("set 3 of the 3 (3 agents agent-0 .. agent-2) OFFLINE"),
            "{text}"
        );
    }
}
