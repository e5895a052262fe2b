//! What every `Store` must do, checked against each implementation by one generic test body:
//! sled in a temp dir, and PostgreSQL in a fresh database on the test server (skipped, with
//! the reason, where PostgreSQL is not installed; a failure under TRIAGE_TEST_REQUIRE_TOOLS).

use super::codec::{self, Batch};
use super::{PgStore, SledStore, Store};
use crate::core::command::{AgentProfile, Command, NewTicket};
use crate::core::event::{Event, Recorded};
use crate::core::policy::SlaPolicy;
use crate::core::types::*;
use crate::core::{CoreConfig, Scheduler};

/// Opens the same store again and again (a restart).
pub trait Fixture {
    fn open(&self) -> Box<dyn Store>;
}

struct Sled(tempfile::TempDir);

impl Fixture for Sled {
    fn open(&self) -> Box<dyn Store> {
        Box::new(SledStore::open(self.0.path()).expect("open sled"))
    }
}

struct Pg(String);

impl Fixture for Pg {
    fn open(&self) -> Box<dyn Store> {
        Box::new(PgStore::open_as(&self.0, "test").expect("open postgres"))
    }
}

pub fn sled() -> Option<Box<dyn Fixture>> {
    Some(Box::new(Sled(tempfile::tempdir().expect("tempdir"))))
}

/// A fresh database on the test server, or `None` (the test skips) without PostgreSQL.
pub fn postgres() -> Option<Box<dyn Fixture>> {
    postgres_url().map(|url| Box::new(Pg(url)) as Box<dyn Fixture>)
}

/// The URL of a fresh database, or `None` after saying why the test skips.
pub fn postgres_url() -> Option<String> {
    match super::postgres::testdb::server().and_then(|s| s.fresh_database()) {
        Ok(url) => Some(url),
        Err(why) => {
            skip(&why);
            None
        }
    }
}

/// Skips the calling test with a visible reason, or fails it where skips are not allowed (CI
/// sets TRIAGE_TEST_REQUIRE_TOOLS, as for the integration suite).
pub fn skip(why: &str) {
    assert!(
        std::env::var_os("TRIAGE_TEST_REQUIRE_TOOLS").is_none(),
        "{why}, and TRIAGE_TEST_REQUIRE_TOOLS is set: this check may not be skipped here"
    );
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
}

/// One test per store for each generic check.
macro_rules! for_each_store {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[test]
            fn sled() {
                if let Some(f) = super::sled() { super::$check(&*f) }
            }
            #[test]
            fn postgres() {
                if let Some(f) = super::postgres() { super::$check(&*f) }
            }
        }
    )*};
}

for_each_store!(
    committed_records_come_back_after_reopening,
    expired_request_ids_are_deleted_with_the_commit_that_forgets_them,
    events_are_read_from_inside_a_commit_and_a_limit_can_end_inside_one,
    a_commit_of_more_events_than_a_record_holds_is_split_and_read_across,
    pruning_deletes_whole_commits_and_reports_the_first_event_it_kept,
    a_commit_of_events_recorded_at_different_times_goes_only_when_all_are_old,
    old_one_event_records_and_commit_records_make_one_log,
    archived_tickets_are_found_by_id_external_id_customer_and_time_and_pruned,
    a_put_policy_comes_back_whole_after_reopening,
);

pub(crate) const NOW: Ts = Ts(1_800_000_000_000);

pub(crate) fn new_ticket(n: u32, customer: &str) -> NewTicket {
    NewTicket {
        needs: None,
        first_skill: 0,
        request_id: format!("req-{n}"),
        external_id: format!("ext-{n}"),
        customer_id: customer.into(),
        tier: Tier::Vip,
        channel: Channel::Chat,
        priority: Priority::High,
        skills: SkillSet::new(vec![Skill::new("en")]),
        sentiment: Sentiment::Negative,
        preferred_agent: None,
        created_at: None,
    }
}

/// What the owner commits for the scheduler's journal (finished tickets archived).
pub(crate) fn commit_journal(store: &dyn Store, s: &mut Scheduler) {
    let mut journal = s.take_journal();
    s.archive_finished(&mut journal);
    store
        .commit(Batch::from_journal(&journal, s))
        .expect("commit");
}

fn committed_records_come_back_after_reopening(f: &dyn Fixture) {
    let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let profile = AgentProfile {
        levels: Default::default(),
        id: AgentId::new("a"),
        display_name: "A".into(),
        skills: SkillSet::new(vec![Skill::new("en")]),
        tiers: vec![],
        capacity: [None; Channel::COUNT],
    };
    s.apply(Command::UpsertAgent(profile), NOW).expect("agent");
    for n in 0..3 {
        s.apply(Command::CreateTicket(new_ticket(n, "c")), NOW)
            .expect("create");
    }
    commit_journal(&*f.open(), &mut s);
    let rec = f.open().load_all().expect("load");
    assert_eq!(rec.tickets.len(), 3);
    assert_eq!(rec.tickets[2], *s.ticket(TicketId(3)).expect("t3"));
    assert_eq!(rec.agents.len(), 1);
    assert_eq!(rec.idempotency.len(), 3);
    assert_eq!(rec.idempotency[0].0, "req-0");
    assert_eq!(rec.policy, None, "the policy was never put");
}

/// Every field of a policy survives the store, the queue order's too (policy records are of
/// version 2 since it exists).
fn a_put_policy_comes_back_whole_after_reopening(f: &dyn Fixture) {
    use crate::core::policy::QueueOrder;
    let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let policy = SlaPolicy {
        order: QueueOrder::Deadline,
        force_level: crate::core::types::Level::L2,
        service_level_target: 0.9,
        ..SlaPolicy::default()
    };
    s.apply(Command::PutPolicy(Box::new(policy.clone())), NOW)
        .expect("put");
    commit_journal(&*f.open(), &mut s);
    let rec = f.open().load_all().expect("load");
    assert_eq!(rec.policy, Some(policy));
}

fn expired_request_ids_are_deleted_with_the_commit_that_forgets_them(f: &dyn Fixture) {
    let store = f.open();
    let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    s.apply(Command::CreateTicket(new_ticket(0, "c")), NOW)
        .expect("create");
    commit_journal(&*store, &mut s);
    assert_eq!(store.load_all().expect("load").idempotency.len(), 1);
    s.tick(NOW.plus(CoreConfig::default().request_window));
    let journal = s.take_journal();
    assert_eq!(journal.expired_requests, vec!["req-0".to_string()]);
    store
        .commit(Batch::from_journal(&journal, &s))
        .expect("commit");
    assert!(store.load_all().expect("load").idempotency.is_empty());
}

/// Event `seq`, a creation, recorded at `at`.
pub(crate) fn recorded(seq: u64, at: Ts) -> Recorded {
    let (tier, channel) = (Tier::Vip, Channel::Chat);
    let ticket = TicketId(seq);
    let event = Event::Created {
        ticket,
        tier,
        channel,
    };
    Recorded {
        seq,
        at,
        event,
        actor: crate::core::event::Actor::named("crm"),
        epoch: None,
    }
}

/// Commits events `seqs` recorded at `at` as one group commit does.
fn commit_events(store: &dyn Store, seqs: std::ops::RangeInclusive<u64>, at: Ts) {
    let events: Vec<Recorded> = seqs.map(|seq| recorded(seq, at)).collect();
    let mut batch = Batch::default();
    batch.push_events(&events);
    store.commit(batch).expect("commit");
}

/// Writes one event as releases before commit records did: its own `e` record.
fn write_old_event(store: &dyn Store, seq: u64, at: Ts) {
    let mut value = vec![1u8];
    value.extend(postcard::to_allocvec(&recorded(seq, at)).expect("encode"));
    let records = vec![(codec::event_key(seq), value)];
    let removals = Vec::new();
    store.commit(Batch { removals, records }).expect("commit");
}

fn seqs(store: &dyn Store, from: u64, limit: usize) -> Vec<u64> {
    let events = store.read_events(from, limit).expect("read");
    events.iter().map(|e| e.seq).collect()
}

fn events_are_read_from_inside_a_commit_and_a_limit_can_end_inside_one(f: &dyn Fixture) {
    let store = &*f.open();
    assert_eq!(store.last_event_seq().expect("last"), 0);
    assert!(seqs(store, 0, 10).is_empty());
    commit_events(store, 1..=4, Ts(1));
    commit_events(store, 5..=7, Ts(2));
    commit_events(store, 8..=8, Ts(3));
    assert_eq!(store.last_event_seq().expect("last"), 8);
    assert_eq!(seqs(store, 0, 100), (1..=8).collect::<Vec<_>>());
    assert_eq!(seqs(store, 3, 100), (3..=8).collect::<Vec<_>>());
    assert_eq!(seqs(store, 6, 2), vec![6, 7]);
    assert_eq!(seqs(store, 2, 4), vec![2, 3, 4, 5]);
    assert_eq!(seqs(store, 5, 1), vec![5]);
    assert!(seqs(store, 4, 0).is_empty());
    assert!(seqs(store, 9, 10).is_empty());
}

/// A commit bigger than a record is split, each part keyed by its first event, and read
/// back across the parts.
fn a_commit_of_more_events_than_a_record_holds_is_split_and_read_across(f: &dyn Fixture) {
    let per = codec::EVENTS_PER_RECORD as u64;
    let events: Vec<Recorded> = (1..=2 * per + 1).map(|seq| recorded(seq, Ts(5))).collect();
    let mut batch = Batch::default();
    batch.push_events(&events);
    let keys: Vec<&[u8]> = batch.records.iter().map(|(k, _)| &k[..]).collect();
    let parts = [1, per + 1, 2 * per + 1].map(codec::events_key);
    assert_eq!(keys, parts.iter().map(|k| &k[..]).collect::<Vec<_>>());
    let store = &*f.open();
    store.commit(batch).expect("commit");
    assert_eq!(store.last_event_seq().expect("last"), 2 * per + 1);
    assert_eq!(seqs(store, per - 1, 3), vec![per - 1, per, per + 1]);
    assert_eq!(seqs(store, 2 * per, 5), vec![2 * per, 2 * per + 1]);
    let kept = store.prune_events(per + 2, Ts(0), 10_000).expect("prune");
    assert_eq!(kept, per + 1);
}

fn pruning_deletes_whole_commits_and_reports_the_first_event_it_kept(f: &dyn Fixture) {
    let store = &*f.open();
    commit_events(store, 1..=4, Ts(10));
    commit_events(store, 5..=7, Ts(20));
    commit_events(store, 8..=9, Ts(30));
    // Nothing goes with a limit of 0; with 5 the second commit would take it to 7.
    assert_eq!(store.prune_events(9, Ts(0), 0).expect("prune"), 1);
    assert_eq!(store.prune_events(9, Ts(0), 5).expect("prune"), 5);
    assert_eq!(seqs(store, 0, 100), (5..=9).collect::<Vec<_>>());
    // The count bound falls inside the second commit: all of it stays.
    assert_eq!(store.prune_events(6, Ts(0), 100).expect("prune"), 5);
    assert_eq!(seqs(store, 0, 100), (5..=9).collect::<Vec<_>>());
    // By age the second commit goes, whole, though it alone holds more than `limit`.
    assert_eq!(store.prune_events(0, Ts(25), 1).expect("prune"), 8);
    assert_eq!(seqs(store, 0, 100), vec![8, 9]);
    assert_eq!(seqs(store, 5, 100), vec![8, 9], "the first read is 8");
    // The commit holding the newest event stays whatever the bounds.
    let everything = store.prune_events(u64::MAX, Ts(i64::MAX), 100);
    assert_eq!(everything.expect("prune"), 8);
    assert_eq!(store.last_event_seq().expect("last"), 9);
}

fn a_commit_of_events_recorded_at_different_times_goes_only_when_all_are_old(f: &dyn Fixture) {
    let store = &*f.open();
    let mixed = vec![recorded(1, Ts(10)), recorded(2, Ts(40))];
    let mut batch = Batch::default();
    batch.push_events(&mixed);
    store.commit(batch).expect("commit");
    commit_events(store, 3..=3, Ts(50));
    assert_eq!(store.prune_events(0, Ts(30), 100).expect("prune"), 1);
    assert_eq!(store.prune_events(0, Ts(45), 100).expect("prune"), 3);
    assert_eq!(seqs(store, 0, 100), vec![3]);
}

/// A store upgraded in place holds one-event records of earlier releases below the commit
/// records: both are read, counted and pruned as one log.
fn old_one_event_records_and_commit_records_make_one_log(f: &dyn Fixture) {
    {
        let store = &*f.open();
        for seq in 1..=3 {
            write_old_event(store, seq, Ts(10));
        }
        assert_eq!(store.last_event_seq().expect("last"), 3);
        assert_eq!(store.prune_events(10, Ts(0), 1).expect("prune"), 2);
        // Only old records: the newest of them stays.
        let everything = store.prune_events(u64::MAX, Ts(i64::MAX), 100);
        assert_eq!(everything.expect("prune"), 3);
    }
    let store = &*f.open();
    commit_events(store, 4..=6, Ts(20));
    commit_events(store, 7..=7, Ts(30));
    assert_eq!(store.last_event_seq().expect("last"), 7);
    assert_eq!(seqs(store, 0, 100), (3..=7).collect::<Vec<_>>());
    assert_eq!(seqs(store, 3, 2), vec![3, 4]);
    assert_eq!(seqs(store, 5, 10), vec![5, 6, 7]);
    assert_eq!(store.prune_events(5, Ts(0), 100).expect("prune"), 4);
    assert_eq!(seqs(store, 0, 100), (4..=7).collect::<Vec<_>>());
    assert_eq!(store.prune_events(0, Ts(25), 100).expect("prune"), 7);
    assert_eq!(seqs(store, 0, 100), vec![7]);
}

/// Tickets cancelled at two times move to the archive: found by id, external id, customer
/// (paged) and archive time; pruning by age deletes the old ones with their index entries
/// but never the newest ticket, and recovery's last id counts the archive.
fn archived_tickets_are_found_by_id_external_id_customer_and_time_and_pruned(f: &dyn Fixture) {
    let store = &*f.open();
    let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let later = NOW.plus(Span::secs(60));
    for n in 0..4 {
        let customer = if n % 2 == 0 { "even" } else { "odd" };
        s.apply(Command::CreateTicket(new_ticket(n, customer)), NOW)
            .expect("create");
    }
    commit_journal(store, &mut s);
    for (id, at) in [(1, NOW), (2, NOW), (3, later), (4, later)] {
        let cancel = Command::Cancel {
            ticket: TicketId(id),
            reason: CancelReason::Other,
        };
        s.apply(cancel, at).expect("cancel");
        commit_journal(store, &mut s);
    }
    let ids = |tickets: Vec<crate::core::model::Ticket>| -> Vec<u64> {
        tickets.iter().map(|t| t.id.0).collect()
    };
    assert_eq!(store.load_all().expect("load").tickets.len(), 0);
    let archived = store.archived_ticket(TicketId(3)).expect("read");
    assert_eq!(
        archived.map(|t| t.external_id.to_string()),
        Some("ext-2".into())
    );
    assert_eq!(store.archived_ticket(TicketId(9)).expect("read"), None);
    let by_external = store.archived_external("ext-3").expect("read");
    assert_eq!(by_external, Some(TicketId(4)));
    assert_eq!(store.archived_external("nope").expect("read"), None);
    assert_eq!(
        ids(store.scan_archive(None, 10).expect("scan")),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        ids(store.scan_archive(Some(TicketId(1)), 2).expect("scan")),
        vec![2, 3]
    );
    let even = store.customer_tickets("even", None, 10).expect("customer");
    assert_eq!(even, vec![TicketId(1), TicketId(3)]);
    let page = store.customer_tickets("even", Some(TicketId(1)), 10);
    assert_eq!(page.expect("customer"), vec![TicketId(3)]);
    assert!(store
        .customer_tickets("eve", None, 10)
        .expect("customer")
        .is_empty());
    assert_eq!(ids(store.archived_since(later).expect("since")), vec![3, 4]);
    assert_eq!(
        ids(store.archived_since(NOW).expect("since")),
        vec![1, 2, 3, 4]
    );
    let mut last = None;
    store
        .recover_into(&mut LastTicket(&mut last))
        .expect("recover");
    assert_eq!(last, Some(4), "the archive's ids count");

    assert_eq!(store.prune_archive(later, 1).expect("prune"), 1);
    assert_eq!(
        ids(store.scan_archive(None, 10).expect("scan")),
        vec![2, 3, 4]
    );
    assert_eq!(store.prune_archive(Ts(i64::MAX), 100).expect("prune"), 2);
    assert_eq!(
        ids(store.scan_archive(None, 10).expect("scan")),
        vec![4],
        "the newest stays"
    );
    assert_eq!(store.archived_external("ext-0").expect("read"), None);
    assert!(store
        .customer_tickets("even", None, 10)
        .expect("customer")
        .is_empty());
    assert_eq!(ids(store.archived_since(NOW).expect("since")), vec![4]);
}

/// A sink that keeps only the last ticket id it is told.
struct LastTicket<'a>(&'a mut Option<u64>);

impl crate::core::RecoverySink for LastTicket<'_> {
    fn policy(&mut self, _: SlaPolicy) {}
    fn webhook(&mut self, _: crate::core::webhook::Webhook) {}
    fn agent(&mut self, _: crate::core::model::Agent) {}
    fn ticket(
        &mut self,
        _: crate::core::model::Ticket,
    ) -> Result<(), crate::core::scheduler::RestoreError> {
        Ok(())
    }
    fn request(&mut self, _: &str, _: crate::core::idempotency::Idempotency) {}
    fn last_ticket(&mut self, id: u64) {
        *self.0 = Some(id);
    }
}
