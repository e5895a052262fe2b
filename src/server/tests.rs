//! The owner against a store whose writes can be made to fail: a failed commit leaves nothing
//! of its batch, reads go on, writes are refused until the store works again, then resume.

use super::events::{EventFeed, EventLog, Retention};
use super::handle::{Answer, Handle, ServiceError};
use super::owner;
use super::phase::Phase;
use crate::core::command::{Command, NewTicket, Reply, TicketFilter};
use crate::core::event::{Actor, Recorded};
use crate::core::model::Ticket;
use crate::core::policy::SlaPolicy;
use crate::core::types::*;
use crate::core::{CoreConfig, RecoverySink, Scheduler};
use crate::store::{Batch, SledStore, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The caller these tests send commands as.
fn me() -> Actor {
    Actor::named("test")
}

/// A real sled store that fails as sled does on a full or broken disk: while `failing` is
/// set, commits and probes fail; a failed commit poisons the instance, which then fails reads
/// too (sled keeps the error, and a read may need to split a page) until `reopen`, which
/// fails while `reopen_fails` is set (no room even for recovery).
struct FlakyStore {
    inner: SledStore,
    failing: AtomicBool,
    poisoned: AtomicBool,
    reopen_fails: AtomicBool,
}

impl FlakyStore {
    fn new(dir: &std::path::Path) -> FlakyStore {
        FlakyStore {
            inner: SledStore::open(dir).expect("open"),
            failing: AtomicBool::new(false),
            poisoned: AtomicBool::new(false),
            reopen_fails: AtomicBool::new(false),
        }
    }

    fn check(&self, flag: &AtomicBool) -> Result<(), StoreError> {
        match flag.load(SeqCst) {
            true => Err(StoreError::Io(sled::Error::Io(std::io::Error::other(
                "injected: no space left on device",
            )))),
            false => Ok(()),
        }
    }

    fn write(&self) -> Result<(), StoreError> {
        self.check(&self.poisoned)?;
        let failed = self.check(&self.failing);
        if failed.is_err() {
            self.poisoned.store(true, SeqCst);
        }
        failed
    }
}

impl Store for FlakyStore {
    fn name(&self) -> &'static str {
        "test"
    }
    fn recover_into(&self, sink: &mut dyn RecoverySink) -> Result<(), StoreError> {
        self.check(&self.poisoned)?;
        self.inner.recover_into(sink)
    }
    fn archived_ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.archived_ticket(id)
    }
    fn archived_external(&self, external_id: &str) -> Result<Option<TicketId>, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.archived_external(external_id)
    }
    fn scan_archive(&self, after: Option<TicketId>, max: usize) -> Result<Vec<Ticket>, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.scan_archive(after, max)
    }
    fn prune_archive(&self, older_than: Ts, limit: usize) -> Result<usize, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.prune_archive(older_than, limit)
    }
    fn customer_tickets(
        &self,
        customer_id: &str,
        after: Option<TicketId>,
        max: usize,
    ) -> Result<Vec<TicketId>, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.customer_tickets(customer_id, after, max)
    }
    fn archived_since(&self, since: Ts) -> Result<Vec<Ticket>, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.archived_since(since)
    }
    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.write()?;
        self.inner.commit(batch)
    }
    fn last_event_seq(&self) -> Result<u64, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.last_event_seq()
    }
    fn read_events(&self, from: u64, limit: usize) -> Result<Vec<Recorded>, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.read_events(from, limit)
    }
    fn prune_events(&self, keep: u64, older: Ts, limit: usize) -> Result<u64, StoreError> {
        self.check(&self.poisoned)?;
        self.inner.prune_events(keep, older, limit)
    }
    fn probe(&self, at: Ts) -> Result<(), StoreError> {
        self.write()?;
        self.inner.probe(at)
    }
    fn keep_room(&self) -> Result<(), StoreError> {
        self.inner.keep_room()
    }
    fn reopen(&self) -> Result<(), StoreError> {
        self.check(&self.reopen_fails)?;
        self.inner.reopen()?;
        self.poisoned.store(false, SeqCst);
        Ok(())
    }
}

fn ticket(n: u32) -> Command {
    Command::CreateTicket(NewTicket {
        needs: None,
        first_skill: 0,
        request_id: format!("req-{n}"),
        external_id: format!("ext-{n}"),
        customer_id: "c".into(),
        tier: Tier::Standard,
        channel: Channel::Email,
        priority: Priority::Normal,
        skills: SkillSet::new(vec![]),
        sentiment: Sentiment::Neutral,
        preferred_agent: None,
        created_at: None,
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

/// What a test holds of a running owner.
type Started = (
    Arc<FlakyStore>,
    Handle,
    watch::Sender<Phase>,
    tokio::task::JoinHandle<Result<(), ServiceError>>,
);

/// An owner on a fresh `FlakyStore` in `dir`, its event log made by `log` from the feed.
fn start_owner(dir: &std::path::Path, log: impl FnOnce(EventFeed) -> EventLog) -> Started {
    start_owner_with(dir, log, Duration::ZERO)
}

/// An owner as `start_owner` makes it, each step waiting up to `gather` for more calls.
fn start_gathering(dir: &std::path::Path, gather: Duration) -> Started {
    let log = |feed| EventLog::open(feed, Retention::default()).expect("event log");
    start_owner_with(dir, log, gather)
}

fn start_owner_with(
    dir: &std::path::Path,
    log: impl FnOnce(EventFeed) -> EventLog,
    gather: Duration,
) -> Started {
    let store = Arc::new(FlakyStore::new(dir));
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let dyn_store: Arc<dyn Store> = store.clone();
    let log = log(EventFeed::new(Arc::clone(&dyn_store), phase_rx.clone()));
    let scheduler = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let (owner, handle) = owner::owner(
        scheduler,
        dyn_store,
        1024,
        100,
        phase_rx,
        log,
        Span::hours(1),
    );
    let owner = tokio::spawn(owner.gathering(gather).run());
    (store, handle, phase_tx, owner)
}

/// Creates ticket `n` on a task of its own.
fn spawn_create(handle: &Handle, n: u32) -> tokio::task::JoinHandle<Result<Reply, ServiceError>> {
    let handle = handle.clone();
    tokio::spawn(async move { handle.call(&me(), ticket(n)).await })
}

/// Three creates at once: they take one step, or two (one, then two while the first
/// commits). Either way the last step answered at least two callers.
async fn three_at_once(handle: &Handle) {
    let calls: Vec<_> = (1..=3).map(|n| spawn_create(handle, n)).collect();
    for call in calls {
        call.await.expect("join").expect("create");
    }
}

/// A step waits, for as long as `gather` allows, until as many calls are in as the last
/// step answered: a call alone after a step of several is held until others come.
#[tokio::test]
async fn a_step_waits_for_as_many_calls_as_the_last_one_answered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, handle, _phase, _owner) = start_gathering(dir.path(), Duration::from_secs(60));
    three_at_once(&handle).await;
    let held = spawn_create(&handle, 4);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "a lone call waits for the others");
    let more: Vec<_> = (5..=6).map(|n| spawn_create(&handle, n)).collect();
    held.await.expect("join").expect("create 4");
    for call in more {
        call.await.expect("join").expect("create");
    }
}

/// The wait ends at `gather` when nobody else calls.
#[tokio::test]
async fn a_step_goes_alone_once_gather_has_passed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, handle, _phase, _owner) = start_gathering(dir.path(), Duration::from_millis(50));
    three_at_once(&handle).await;
    let alone = tokio::time::timeout(Duration::from_secs(30), handle.call(&me(), ticket(4))).await;
    assert!(matches!(alone, Ok(Ok(Reply::Ticket(_)))), "{alone:?}");
}

/// sled's background writer fails (the disk filled between commits): the instance is
/// poisoned before any commit fails, and the next store read (the archive's external-id check
/// of a create) is the first to hear. That read failure takes the owner to the same place as
/// a failed commit: reopen, serve reads only, resume once a write works.
#[tokio::test]
async fn a_failed_store_read_reloads_like_a_failed_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, handle, _phase, _owner) = started_with_one_ticket(dir.path()).await;
    store.failing.store(true, SeqCst);
    store.poisoned.store(true, SeqCst);
    let failed = handle.call(&me(), ticket(2)).await;
    assert!(matches!(failed, Err(ServiceError::Store(_))), "{failed:?}");
    let refused = handle.call(&me(), ticket(3)).await;
    assert!(
        matches!(refused, Err(ServiceError::ReadOnly)),
        "{refused:?}"
    );
    assert_eq!(external_ids(handle.call(&me(), list()).await), ["ext-1"]);
    store.failing.store(false, SeqCst);
    creates_once_healed(&handle, 4).await;
}

/// Creates ticket `n`, retrying while the owner serves reads only; fails unless that works
/// within 6 s.
async fn creates_once_healed(handle: &Handle, n: u32) {
    for _ in 0..60 {
        match handle.call(&me(), ticket(n)).await {
            Err(ServiceError::ReadOnly) => tokio::time::sleep(Duration::from_millis(100)).await,
            other => {
                assert!(matches!(other, Ok(Reply::Ticket(_))), "{other:?}");
                return;
            }
        }
    }
    panic!("writes did not resume within 6 s");
}

/// An owner on a fresh `FlakyStore` in `dir` that has acknowledged one ticket (`ext-1`).
async fn started_with_one_ticket(dir: &std::path::Path) -> Started {
    let started = start_owner(dir, |feed| {
        EventLog::open(feed, Retention::default()).expect("event log")
    });
    started
        .1
        .call(&me(), ticket(1))
        .await
        .expect("first create");
    started
}

#[tokio::test]
async fn a_failed_commit_leaves_nothing_reads_go_on_and_writes_resume_when_the_store_heals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, handle, _phase, _owner) = started_with_one_ticket(dir.path()).await;

    store.failing.store(true, SeqCst);
    let failed = handle.call(&me(), ticket(2)).await;
    assert!(matches!(failed, Err(ServiceError::Store(_))), "{failed:?}");
    assert_eq!(
        external_ids(handle.call(&me(), list()).await),
        ["ext-1"],
        "reads go on, and nothing of the failed batch is there"
    );
    let refused = handle.call(&me(), ticket(3)).await;
    assert!(
        matches!(refused, Err(ServiceError::ReadOnly)),
        "{refused:?}"
    );
    let pull = handle
        .pull(
            &me(),
            Command::Pull(AgentId::new("ana")),
            Duration::from_secs(5),
        )
        .await;
    assert!(matches!(pull, Err(ServiceError::ReadOnly)), "{pull:?}");

    store.failing.store(false, SeqCst);
    creates_once_healed(&handle, 4).await;
    assert_eq!(
        external_ids(handle.call(&me(), list()).await),
        ["ext-1", "ext-4"]
    );

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
    let again = handle.call(&me(), ticket(2)).await;
    assert!(matches!(again, Ok(Reply::Ticket(_))), "{again:?}");
}

#[tokio::test]
async fn when_the_store_cannot_even_be_reopened_the_owner_stops_saying_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, handle, _phase, owner) = started_with_one_ticket(dir.path()).await;

    store.failing.store(true, SeqCst);
    store.reopen_fails.store(true, SeqCst);
    let failed = handle.call(&me(), ticket(2)).await;
    assert!(matches!(failed, Err(ServiceError::Store(_))), "{failed:?}");
    let stopped = owner.await.expect("owner task");
    let message = stopped.expect_err("the owner stops").to_string();
    assert!(
        message.contains("nothing acknowledged was lost") && message.contains("restart"),
        "{message}"
    );
    let on_disk = store.inner.load_all().expect("load");
    assert_eq!(on_disk.tickets.len(), 1, "the acknowledged ticket is there");
}

#[tokio::test]
async fn while_writes_work_the_store_keeps_room_for_a_reopen_as_it_grows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, handle, _phase, _owner) = started_with_one_ticket(dir.path()).await;
    let reserve = dir.path().join(crate::store::RESERVE_FILE);
    let reserved = || std::fs::metadata(&reserve).map(|m| m.len()).ok();
    assert_eq!(reserved(), Some(crate::store::RESERVE_BYTES));
    // As if sled had written a snapshot of a much bigger store.
    let snapshot = dir.path().join("snap.00000000000000FF");
    std::fs::write(&snapshot, vec![1u8; 3 << 20]).expect("snapshot");
    for n in 2..40 {
        if reserved() == Some(8 << 20) {
            return;
        }
        handle.call(&me(), ticket(n)).await.expect("create");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the reserve stayed at {:?} bytes", reserved());
}

/// A busy desk writes more events a second than one prune deletes: while events beyond the
/// count bound remain, every step prunes another batch instead of waiting for the next second.
#[tokio::test]
async fn the_event_log_prunes_batch_after_batch_until_it_is_within_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let newest_only = Retention {
        max_count: 1,
        ..Retention::default()
    };
    let (store, handle, _phase, _owner) = start_owner(dir.path(), |feed| {
        EventLog::open(feed, newest_only)
            .expect("event log")
            .with_prune_batch(2)
    });
    for n in 1..=12 {
        handle.call(&me(), ticket(n)).await.expect("create");
    }
    let retained = |store: &FlakyStore| store.read_events(0, 100).expect("read events").len();
    let written = retained(&store);
    assert!(written >= 12, "one event per create at least: {written}");
    // The first prune runs about a second after the owner started; wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while retained(&store) == written {
        assert!(
            std::time::Instant::now() < deadline,
            "the event log was never pruned"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        handle.call(&me(), list()).await.expect("list");
    }
    // Then each step prunes two more: a dozen steps leave only the newest event, long before
    // the next once-a-second prune.
    for _ in 0..written {
        handle.call(&me(), list()).await.expect("list");
    }
    assert_eq!(retained(&store), 1, "only the newest event is kept");
}

/// What recovery would size its tables by: the counts hint of the store.
#[derive(Default)]
struct Hint(Option<(usize, usize)>);

impl crate::core::RecoverySink for Hint {
    fn policy(&mut self, _: SlaPolicy) {}
    fn webhook(&mut self, _: crate::core::webhook::Webhook) {}
    fn expect(&mut self, tickets: usize, requests: usize) {
        self.0 = Some((tickets, requests));
    }
    fn agent(&mut self, _: crate::core::model::Agent) {}
    fn ticket(&mut self, _: Ticket) -> Result<(), crate::core::scheduler::RestoreError> {
        Ok(())
    }
    fn request(&mut self, _: &str, _: crate::core::idempotency::Idempotency) {}
    fn last_ticket(&mut self, _: u64) {}
}

/// The owner writes the live counts with its first commit, and again only once they have
/// drifted (more than 64 here): not one more record in every group commit.
#[tokio::test]
async fn the_counts_hint_is_written_first_and_then_only_when_it_drifts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, handle, _phase, _owner) = started_with_one_ticket(dir.path()).await;
    let hint = |store: &FlakyStore| {
        let mut hint = Hint::default();
        store.recover_into(&mut hint).expect("recover");
        hint.0.map(|(tickets, _)| tickets)
    };
    assert_eq!(hint(&store), Some(1), "written by the first commit");
    for n in 2..=60 {
        handle.call(&me(), ticket(n)).await.expect("create");
    }
    assert_eq!(
        hint(&store),
        Some(1),
        "59 more tickets are within the drift"
    );
    for n in 61..=70 {
        handle.call(&me(), ticket(n)).await.expect("create");
    }
    assert_eq!(
        hint(&store),
        Some(66),
        "rewritten once 65 more tickets are in memory"
    );
}

/// The count bound of retention waits for the slowest active webhook's cursor; a paused
/// webhook holds nothing back.
#[tokio::test]
async fn retention_keeps_what_an_active_webhook_has_yet_to_deliver() {
    use crate::core::webhook::{WebhookProgress, WebhookPut};
    let dir = tempfile::tempdir().expect("tempdir");
    let newest_only = Retention {
        max_count: 1,
        ..Retention::default()
    };
    let (store, handle, _phase, _owner) = start_owner(dir.path(), |feed| {
        EventLog::open(feed, newest_only).expect("event log")
    });
    let put = WebhookPut {
        id: "slow".into(),
        url: "http://127.0.0.1:9/".into(),
        kinds: Vec::new(),
        secret: "s".into(),
        give_up_after: Span::hours(1),
        start: 1,
        resume: true,
    };
    handle
        .call(&me(), Command::PutWebhook(put))
        .await
        .expect("put");
    for n in 1..=12 {
        handle.call(&me(), ticket(n)).await.expect("create");
    }
    let retained = |store: &FlakyStore| store.read_events(0, 100).expect("read events").len();
    let written = retained(&store);
    // Past the first once-a-second prune: everything from the cursor on is still there.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    handle.call(&me(), list()).await.expect("list");
    assert_eq!(retained(&store), written, "held for the webhook");
    let pause = WebhookProgress {
        id: "slow".into(),
        cursor: 1,
        paused: Some("gave up".into()),
    };
    let pause = Command::WebhookProgress(pause);
    handle.call(&me(), pause).await.expect("pause");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while retained(&store) > 1 {
        assert!(std::time::Instant::now() < deadline, "never pruned");
        tokio::time::sleep(Duration::from_millis(50)).await;
        handle.call(&me(), list()).await.expect("list");
    }
}
