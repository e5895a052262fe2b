//! The owner against a store whose writes can be made to fail: a failed commit leaves nothing
//! of its batch, reads go on, writes are refused until the store works again, then resume.

use super::events::{EventFeed, EventLog, Retention};
use super::handle::{Answer, Handle, ServiceError};
use super::owner;
use super::phase::Phase;
use crate::core::command::{Command, NewTicket, Reply, TicketFilter};
use crate::core::event::Recorded;
use crate::core::policy::SlaPolicy;
use crate::core::types::*;
use crate::core::{CoreConfig, Recovered, Scheduler};
use crate::store::{Batch, SledStore, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A real sled store whose commits and probes fail while `failing` is set, as a full or
/// broken disk would make them.
struct FlakyStore {
    inner: SledStore,
    failing: AtomicBool,
}

impl FlakyStore {
    fn check(&self) -> Result<(), StoreError> {
        match self.failing.load(SeqCst) {
            true => Err(StoreError::Io(sled::Error::Io(std::io::Error::other(
                "injected: no space left on device",
            )))),
            false => Ok(()),
        }
    }
}

impl Store for FlakyStore {
    fn load_all(&self) -> Result<Recovered, StoreError> {
        self.inner.load_all()
    }
    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.check()?;
        self.inner.commit(batch)
    }
    fn last_event_seq(&self) -> Result<u64, StoreError> {
        self.inner.last_event_seq()
    }
    fn read_events(&self, from: u64, limit: usize) -> Result<Vec<Recorded>, StoreError> {
        self.inner.read_events(from, limit)
    }
    fn prune_events(&self, keep: u64, older: Ts, limit: usize) -> Result<u64, StoreError> {
        self.inner.prune_events(keep, older, limit)
    }
    fn probe(&self, at: Ts) -> Result<(), StoreError> {
        self.check()?;
        self.inner.probe(at)
    }
}

fn ticket(n: u32) -> Command {
    Command::CreateTicket(NewTicket {
        request_id: format!("req-{n}"),
        external_id: format!("ext-{n}"),
        customer_id: "c".into(),
        tier: Tier::Standard,
        channel: Channel::Email,
        priority: Priority::Normal,
        skills: SkillSet::new(vec![]),
        sentiment: Sentiment::Neutral,
        preferred_agent: None,
    })
}

fn list() -> Command {
    Command::ListTickets(TicketFilter {
        limit: 100,
        ..Default::default()
    })
}

fn external_ids(answer: Answer) -> Vec<String> {
    match answer {
        Ok(Reply::Tickets { tickets, .. }) => {
            tickets.iter().map(|t| t.external_id.to_string()).collect()
        }
        other => panic!("expected tickets, got {other:?}"),
    }
}

async fn start(store: Arc<FlakyStore>) -> (Handle, watch::Sender<Phase>) {
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let dyn_store: Arc<dyn Store> = store.clone();
    let feed = EventFeed::new(Arc::clone(&dyn_store), phase_rx.clone());
    let log = EventLog::open(feed, Retention::default()).expect("event log");
    let scheduler = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let (owner, handle) = owner::owner(scheduler, dyn_store, 1024, 100, phase_rx, log);
    tokio::spawn(owner.run());
    (handle, phase_tx)
}

#[tokio::test]
async fn a_failed_commit_leaves_nothing_reads_go_on_and_writes_resume_when_the_store_heals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(FlakyStore {
        inner: SledStore::open(dir.path()).expect("open"),
        failing: AtomicBool::new(false),
    });
    let (handle, _phase) = start(Arc::clone(&store)).await;
    handle.call(ticket(1)).await.expect("first create");

    store.failing.store(true, SeqCst);
    let failed = handle.call(ticket(2)).await;
    assert!(matches!(failed, Err(ServiceError::Store(_))), "{failed:?}");
    assert_eq!(
        external_ids(handle.call(list()).await),
        ["ext-1"],
        "reads go on, and nothing of the failed batch is there"
    );
    let refused = handle.call(ticket(3)).await;
    assert!(
        matches!(refused, Err(ServiceError::ReadOnly)),
        "{refused:?}"
    );
    let pull = handle
        .pull(Command::Pull(AgentId::new("ana")), Duration::from_secs(5))
        .await;
    assert!(matches!(pull, Err(ServiceError::ReadOnly)), "{pull:?}");

    store.failing.store(false, SeqCst);
    let mut healed = None;
    for _ in 0..60 {
        match handle.call(ticket(4)).await {
            Err(ServiceError::ReadOnly) => tokio::time::sleep(Duration::from_millis(100)).await,
            other => {
                healed = Some(other);
                break;
            }
        }
    }
    let healed = healed.expect("writes resume within 6 s");
    assert!(matches!(healed, Ok(Reply::Ticket(_))), "{healed:?}");
    assert_eq!(external_ids(handle.call(list()).await), ["ext-1", "ext-4"]);

    // What a restart would see: the same two tickets, and the idempotency key of the
    // failed create is free.
    let recovered = store.inner.load_all().expect("load");
    let mut on_disk: Vec<String> = recovered
        .tickets
        .iter()
        .map(|t| t.external_id.to_string())
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, ["ext-1", "ext-4"]);
    let again = handle.call(ticket(2)).await;
    assert!(matches!(again, Ok(Reply::Ticket(_))), "{again:?}");
}
