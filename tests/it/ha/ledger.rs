//! The failover tests' workload and what it proves: creators and pulling agents that follow
//! the leader (re-resolving it after any failure) and write every ACKNOWLEDGED call to an
//! fsynced ledger file before going on, and the checks of the store against that ledger.

use super::addr;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::Channel;
use triage::proto as pb;
use triage::proto::admin_service_client::AdminServiceClient;
use triage::proto::agent_service_client::AgentServiceClient;
use triage::proto::ticket_service_client::TicketServiceClient;

/// One acknowledged call.
#[derive(Clone, Debug)]
pub enum Entry {
    Created {
        ticket: u64,
        external: String,
    },
    Assigned {
        ticket: u64,
        agent: String,
        epoch: u64,
        at: Instant,
        /// The port of the node that answered.
        port: u16,
    },
}

/// The ledger: a file written and fsynced before a call counts as acknowledged, and the same
/// entries in memory for the checks.
pub struct Ledger {
    file: Mutex<std::fs::File>,
    entries: Mutex<Vec<Entry>>,
    pub stop: AtomicBool,
}

impl Ledger {
    pub fn open(path: &std::path::Path) -> Arc<Ledger> {
        let file = std::fs::File::create(path).expect("ledger file");
        Arc::new(Ledger {
            file: Mutex::new(file),
            entries: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        })
    }

    fn record(&self, entry: Entry) {
        let mut file = self.file.lock().expect("ledger");
        writeln!(file, "{entry:?}").expect("write ledger");
        file.sync_data().expect("fsync ledger");
        self.entries.lock().expect("entries").push(entry);
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.entries.lock().expect("entries").clone()
    }

    /// The first assignment acknowledged after `since` by a node other than `port`.
    pub fn first_assignment_after(&self, since: Instant, port: u16) -> Option<Instant> {
        self.entries().into_iter().find_map(|e| match e {
            Entry::Assigned { at, port: p, .. } if at > since && p != port => Some(at),
            _ => None,
        })
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A connection to whichever node leads, found again after a failure.
pub struct ToLeader {
    addrs: String,
    current: Option<(u16, Channel)>,
}

impl ToLeader {
    pub fn new(addrs: &str) -> ToLeader {
        ToLeader {
            addrs: addrs.to_owned(),
            current: None,
        }
    }

    /// The leader's port and a channel to it.
    pub async fn get(&mut self) -> (u16, Channel) {
        if let Some(current) = &self.current {
            return current.clone();
        }
        let args = triage::client::ClientArgs::default();
        let found = loop {
            if let Ok(found) = args.leader_of(&self.addrs).await {
                break found;
            }
        };
        let port = found
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        let channel = Channel::from_shared(format!("http://{}", addr(port)))
            .expect("uri")
            .connect_lazy();
        self.current = Some((port, channel.clone()));
        (port, channel)
    }

    pub fn failed(&mut self) {
        self.current = None;
    }
}

/// Creates tickets (each retried with its request id until acknowledged) until stopped.
pub async fn creator(ledger: Arc<Ledger>, addrs: String, name: &'static str) {
    let mut leader = ToLeader::new(&addrs);
    for n in 0.. {
        let external = format!("{name}-{n}");
        let mut req =
            crate::common::create(&external, pb::Tier::Standard, pb::Channel::Email, &["en"]);
        req.request_id = external.clone();
        loop {
            if ledger.stopped() {
                return;
            }
            let (_, channel) = leader.get().await;
            match TicketServiceClient::new(channel)
                .create_ticket(req.clone())
                .await
            {
                Ok(t) => {
                    let ticket = t.into_inner().ticket_id;
                    ledger.record(Entry::Created { ticket, external });
                    break;
                }
                Err(_) => {
                    leader.failed();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An agent that pulls (long poll), records each assignment, and resolves it, until stopped.
pub async fn agent(ledger: Arc<Ledger>, addrs: String, id: &'static str) {
    let mut leader = ToLeader::new(&addrs);
    let mut ready_at = None;
    // A pull is retried with its request id until answered: one committed by a leader that
    // died before answering comes back from the next, instead of leaving a ticket held.
    let mut pulls = 0;
    while !ledger.stopped() {
        let (port, channel) = leader.get().await;
        let mut agents = AgentServiceClient::new(channel.clone());
        if ready_at.is_none_or(|at: Instant| at.elapsed() > Duration::from_secs(5)) {
            if available(&mut agents, id).await.is_err() {
                leader.failed();
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            ready_at = Some(Instant::now());
        }
        let pull = pb::PullNextTicketRequest {
            agent_id: id.into(),
            wait: Some(prost_types::Duration {
                seconds: 0,
                nanos: 500_000_000,
            }),
            request_id: format!("{id}-pull-{pulls}"),
        };
        let assignment = match agents.pull_next_ticket(pull).await {
            Ok(reply) => {
                pulls += 1;
                reply.into_inner().assignment
            }
            Err(_) => {
                leader.failed();
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(a) = assignment else { continue };
        let ticket = a.ticket.as_ref().map_or(0, |t| t.ticket_id);
        ledger.record(Entry::Assigned {
            ticket,
            agent: id.into(),
            epoch: a.lease_epoch,
            at: Instant::now(),
            port,
        });
        let resolve = pb::ResolveTicketRequest {
            ticket_id: ticket,
            agent_id: id.into(),
            lease_epoch: a.lease_epoch,
            request_id: format!("resolve-{ticket}-{}", a.lease_epoch),
        };
        // Best effort: a resolve lost in a failover leaves the ticket held, which is fine.
        let _ = TicketServiceClient::new(channel)
            .resolve_ticket(resolve)
            .await;
    }
}

/// Upserts the agent and makes it AVAILABLE; also its heartbeat. Room for 20 tickets: a
/// resolve lost in a failover leaves its ticket held.
async fn available(
    agents: &mut AgentServiceClient<Channel>,
    id: &str,
) -> Result<(), tonic::Status> {
    let mut profile = crate::common::agent(id, &["en"], &[pb::Tier::Standard], &[("email", 20)]);
    profile.display_name = id.into();
    agents.upsert_agent(profile).await?;
    let presence = pb::SetPresenceRequest {
        agent_id: id.into(),
        presence: pb::Presence::Available as i32,
        ..Default::default()
    };
    agents.set_presence(presence).await?;
    Ok(())
}

/// Checks the store (through the leader) against everything acknowledged so far: every
/// created ticket is there; no (ticket, epoch) was acknowledged to two pulls, so no ticket
/// had two holders; each assignment's epoch is at most its ticket's now; the event stream
/// has no gap and no repeat, and holds each acknowledged create and assignment (`events`:
/// only once the workload stopped, as the stream is read until it is quiet).
pub async fn check(ledger: &Ledger, addrs: &str, events: bool) -> (usize, usize) {
    let entries = ledger.entries();
    let (_, channel) = ToLeader::new(addrs).get().await;
    let mut tickets = TicketServiceClient::new(channel.clone());
    let mut holders: HashMap<(u64, u64), String> = HashMap::new();
    let (mut created, mut assigned) = (HashSet::new(), HashSet::new());
    for entry in &entries {
        match entry {
            Entry::Created { ticket, external } => {
                let got = tickets
                    .get_ticket(pb::GetTicketRequest { ticket_id: *ticket })
                    .await
                    .unwrap_or_else(|e| panic!("acknowledged ticket {ticket} is gone: {e:?}"))
                    .into_inner();
                assert_eq!(&got.external_id, external, "ticket {ticket}");
                created.insert(*ticket);
            }
            Entry::Assigned {
                ticket,
                agent,
                epoch,
                ..
            } => {
                let before = holders.insert((*ticket, *epoch), agent.clone());
                assert!(
                    before.is_none(),
                    "ticket {ticket} epoch {epoch} acknowledged to {before:?} and {agent}"
                );
                let got = tickets
                    .get_ticket(pb::GetTicketRequest { ticket_id: *ticket })
                    .await
                    .expect("an assigned ticket")
                    .into_inner();
                assert!(got.lease_epoch >= *epoch, "ticket {ticket}: {got:?}");
                assigned.insert((*ticket, agent.clone()));
            }
        }
    }
    if !events {
        return (0, holders.len());
    }
    let events = all_events(AdminServiceClient::new(channel)).await;
    let first = events.first().map_or(1, |e| e.sequence);
    for (expected, e) in (first..).zip(&events) {
        assert_eq!(
            e.sequence, expected,
            "the event stream has a gap or a repeat"
        );
        if e.kind == pb::EventKind::Created as i32 {
            created.remove(&e.ticket_id);
        }
        if e.kind == pb::EventKind::Assigned as i32 {
            assigned.remove(&(e.ticket_id, e.agent_id.clone()));
        }
    }
    assert!(created.is_empty(), "creates with no event: {created:?}");
    assert!(
        assigned.is_empty(),
        "assignments with no event: {assigned:?}"
    );
    (events.len(), holders.len())
}

/// Every event retained, read until the stream has been quiet for a second.
async fn all_events(mut admin: AdminServiceClient<Channel>) -> Vec<pb::Event> {
    let request = pb::WatchEventsRequest {
        from_sequence: 0,
        ..Default::default()
    };
    let mut stream = admin
        .watch_events(request)
        .await
        .expect("watch")
        .into_inner();
    let mut out = Vec::new();
    while let Ok(Ok(Some(event))) =
        tokio::time::timeout(Duration::from_secs(1), stream.message()).await
    {
        out.push(event);
    }
    out
}
