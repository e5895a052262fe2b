//! What only the PostgreSQL store does: fencing by the lease's epoch, versioned migrations,
//! and being called from inside a tokio runtime (as the owner calls it).

use super::testdb;
use super::{Contest, PgStore};
use crate::store::tests::postgres_url;
use crate::store::{Batch, Store, StoreError};
use std::time::Duration;

/// A batch of one record no recovery reads, keyed `n`.
fn record(n: u8) -> Batch {
    Batch {
        removals: Vec::new(),
        records: vec![(vec![b'z', n], vec![n])],
    }
}

fn psql(url: &str, sql: &str) -> String {
    let database = url.rsplit('/').next().expect("database");
    let server = testdb::server().expect("server");
    server.psql(database, sql).expect("psql")
}

/// `a` holds the lease; `b` takes it once it lapsed (forced here, by moving its expiry
/// close): from then on `a` commits nothing, renews nothing, and what it tried is not there.
#[test]
fn a_node_whose_lease_was_taken_commits_nothing() {
    let Some(url) = postgres_url() else { return };
    let a = PgStore::open_as(&url, "a").expect("a");
    a.commit(record(1)).expect("a leads");
    let epoch_a = a.epoch().expect("epoch");
    psql(
        &url,
        "UPDATE triage_lease SET expires_at = now() + interval '300 ms'",
    );
    let b = PgStore::open_as(&url, "b").expect("b waits for a's lease to lapse");
    assert_eq!(b.epoch().expect("epoch"), epoch_a + 1);
    let refused = a.commit(record(2));
    assert!(
        matches!(refused, Err(StoreError::Fenced { epoch }) if epoch == epoch_a),
        "{refused:?}"
    );
    assert!(matches!(a.keep_room(), Err(StoreError::Fenced { .. })));
    b.commit(record(3)).expect("b leads");
    let keys = psql(
        &url,
        "SELECT string_agg(encode(key, 'hex'), ',' ORDER BY key) FROM triage_meta",
    );
    assert_eq!(
        keys.trim(),
        "7a01,7a03",
        "a's commit after b took over left nothing"
    );
    let seq = psql(&url, "SELECT commit_seq FROM triage_lease");
    assert_eq!(
        seq.trim(),
        "2",
        "one commit sequence number per committed transaction"
    );
}

/// A node restarted under the same name takes its lease back at once, with a new epoch
/// that fences the instance before it.
#[test]
fn the_same_holder_takes_its_lease_back_at_once_and_fences_its_predecessor() {
    let Some(url) = postgres_url() else { return };
    let old = PgStore::open_as(&url, "node").expect("old");
    let new = PgStore::open_as(&url, "node").expect("new");
    assert_eq!(new.epoch().expect("epoch"), old.epoch().expect("epoch") + 1);
    assert!(matches!(
        old.commit(record(1)),
        Err(StoreError::Fenced { .. })
    ));
    new.commit(record(2)).expect("new leads");
}

/// A node that finds another leading follows it (and names it); once the leader's session
/// ends (as a killed leader's does), the follower takes the lease at once, long before the
/// lease would lapse, and the old leader is fenced.
#[test]
fn a_follower_takes_over_as_soon_as_the_leaders_session_ends() {
    let Some(url) = postgres_url() else { return };
    let hour = Duration::from_secs(3600);
    let Contest::Leader(a) = PgStore::contend(&url, "a:1", hour).expect("a") else {
        panic!("the lease was free")
    };
    let Contest::Follower(b) = PgStore::contend(&url, "b:1", hour).expect("b") else {
        panic!("a leads for an hour")
    };
    assert_eq!(b.leader().expect("leader"), "a:1");
    let Contest::Follower(b) = b.try_lead().expect("b again") else {
        panic!("a's session lives")
    };
    psql(
        &url,
        "SELECT pg_terminate_backend(holder_pid) FROM triage_lease",
    );
    let started = std::time::Instant::now();
    let mut b = b;
    let store = loop {
        match b.try_lead().expect("b tries") {
            Contest::Leader(store) => break store,
            Contest::Follower(again) => b = again,
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no takeover");
        std::thread::sleep(Duration::from_millis(50));
    };
    store.commit(record(1)).expect("b leads");
    assert!(
        a.commit(record(2)).is_err(),
        "a is fenced (and its writer gone)"
    );
    // What a's owner does after a failed commit: reconnect and try to take its lease back.
    // b's writer is alive and b's lease is live: a may not.
    let reopened = a.reopen();
    assert!(
        matches!(&reopened, Err(e) if e.superseded()),
        "{reopened:?}"
    );
    store.commit(record(3)).expect("b still leads");
}

#[test]
fn migrations_make_the_schema_once_and_a_newer_schema_is_refused() {
    let Some(url) = postgres_url() else { return };
    drop(PgStore::open_as(&url, "a").expect("migrates"));
    drop(PgStore::open_as(&url, "a").expect("a second open migrates nothing"));
    let versions = psql(
        &url,
        "SELECT string_agg(version::text, ',') FROM triage_schema_migrations",
    );
    let all: Vec<String> = (1..=super::known_version())
        .map(|v| v.to_string())
        .collect();
    assert_eq!(versions.trim(), all.join(","));
    psql(
        &url,
        "INSERT INTO triage_schema_migrations (version) VALUES (999)",
    );
    let refused = PgStore::open_as(&url, "a");
    let Err(e) = refused else {
        panic!("a schema newer than the release opened")
    };
    assert!(
        matches!(e, StoreError::SchemaTooNew { found: 999, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("newer than this release knows"),
        "{e}"
    );
}

/// The owner calls the store from inside its current-thread runtime, where blocking on a
/// tokio runtime would panic: opening, committing, reading and reopening all work there.
#[tokio::test(flavor = "current_thread")]
async fn the_store_works_when_called_from_inside_a_tokio_runtime() {
    let Some(url) = postgres_url() else { return };
    let store = PgStore::open_as(&url, "owner").expect("open");
    store.commit(record(1)).expect("commit");
    assert_eq!(store.last_event_seq().expect("read"), 0);
    store.reopen().expect("reopen");
    store.probe(crate::core::types::Ts(1)).expect("probe");
    drop(store);
}

/// Three creates, one ticket cancelled (it leaves the live records for the archive), one
/// more created: commits of every kind a follower's copy must follow.
fn write(store: &dyn Store, s: &mut crate::core::Scheduler, round: u32) {
    use crate::core::command::Command;
    use crate::core::types::{CancelReason, TicketId};
    use crate::store::tests::{commit_journal, new_ticket, NOW};
    for n in 0..3 {
        let create = Command::CreateTicket(new_ticket(round * 10 + n, "c"));
        s.apply(create, NOW).expect("create");
        commit_journal(store, s);
    }
    let ticket = TicketId(u64::from(round) * 3 + 1);
    let reason = CancelReason::Duplicate;
    s.apply(Command::Cancel { ticket, reason }, NOW)
        .expect("cancel");
    commit_journal(store, s);
}

/// A follower's scheduler follows the leader's commits through the change log (its lag goes
/// to 0) and the store it takes over with hands it over once, equal in every ticket, agent
/// and remembered request to a scheduler restored from every table; a copy that the trimmed
/// log no longer continues is loaded again, never patched.
#[test]
fn a_warm_follower_takes_over_with_what_a_cold_read_restores_even_past_a_trimmed_log() {
    use crate::core::{CoreConfig, Scheduler};
    use crate::store::tests::NOW;
    use crate::store::Seed;
    let Some(url) = postgres_url() else { return };
    let hour = Duration::from_secs(3600);
    let Contest::Leader(a) = PgStore::contend(&url, "a:1", hour).expect("a") else {
        panic!("the lease was free")
    };
    let mut s = Scheduler::new(Default::default(), CoreConfig::default());
    write(&*a, &mut s, 0);
    let Contest::Follower(mut b) = PgStore::contend(&url, "b:1", hour).expect("b") else {
        panic!("a leads for an hour")
    };
    let seed = Seed::default();
    assert_eq!(
        b.keep_warm(&seed, NOW).expect("load").commits,
        0,
        "a load lacks nothing"
    );
    write(&*a, &mut s, 1);
    let lag = b.keep_warm(&seed, NOW).expect("catch up");
    assert_eq!(lag.commits, 4, "four commits since the load");
    assert_eq!(b.keep_warm(&seed, NOW).expect("again").commits, 0);
    // Commits the copy lacks, then trimmed from the log: it must load again.
    write(&*a, &mut s, 2);
    psql(&url, "DELETE FROM triage_changes");
    assert_eq!(b.keep_warm(&seed, NOW).expect("reload").commits, 0);
    // Commits the copy lacks when the lease changes hands: read at takeover.
    write(&*a, &mut s, 3);
    psql(
        &url,
        "SELECT pg_terminate_backend(holder_pid) FROM triage_lease",
    );
    // The terminated backend ends a moment after the call returns: try as a follower does.
    let mut tries = 0;
    let b = loop {
        match b.try_lead().expect("b tries the lease") {
            Contest::Leader(store) => break store,
            Contest::Follower(candidate) => b = candidate,
        }
        tries += 1;
        assert!(
            tries < 50,
            "a's session is gone, yet b could not take the lease"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let replica = b.take_replica(NOW).expect("catch up").expect("a replica");
    assert!(
        b.take_replica(NOW).expect("again").is_none(),
        "handed over once"
    );
    let warm = replica.take_over(NOW);
    let cold = b.load_all().expect("every table");
    assert_eq!(cold.tickets.len(), 8, "12 created, 4 cancelled");
    assert_eq!(cold.last_ticket, 12);
    let cold =
        Scheduler::restore(Default::default(), CoreConfig::default(), cold, NOW).expect("restore");
    assert_eq!(warm.ticket_count(), cold.ticket_count());
    for id in 1..=13 {
        let id = crate::core::types::TicketId(id);
        assert_eq!(warm.ticket(id), cold.ticket(id), "ticket {id}");
    }
    let requests = |s: &Scheduler| format!("{:?}", s.requests().iter().collect::<Vec<_>>());
    assert_eq!(requests(&warm), requests(&cold));
    assert_eq!(
        format!("{:?}", warm.gauges()),
        format!("{:?}", cold.gauges())
    );
}

/// A leader's lease outlives a boot longer than its TTL (a big recovery: nobody else takes it
/// just as the booting node is ready), renewed by the boot renewer until the owner renews it
/// itself; from then on only the owner keeps it, so an owner that stops renewing loses it.
#[test]
fn the_lease_is_kept_through_a_long_boot_and_then_only_by_the_owner() {
    let Some(url) = postgres_url() else { return };
    let ttl = Duration::from_secs(2);
    let Ok(Contest::Leader(a)) = PgStore::contend(&url, "a", ttl) else {
        panic!("a leads a fresh database");
    };
    std::thread::sleep(ttl + Duration::from_millis(1500));
    assert!(
        matches!(PgStore::contend(&url, "b", ttl), Ok(Contest::Follower(_))),
        "b took the lease while a booted"
    );
    a.keep_room().expect("a's owner renews");
    a.commit(record(1)).expect("a still leads");
    std::thread::sleep(ttl + Duration::from_millis(1500));
    let Ok(Contest::Leader(b)) = PgStore::contend(&url, "b", ttl) else {
        panic!("the lease of an owner that stopped renewing lapsed");
    };
    assert!(matches!(
        a.commit(record(2)),
        Err(StoreError::Fenced { .. })
    ));
    b.commit(record(3)).expect("b leads");
}

/// A commit far larger than the sockets' buffers (here 130 MB, as a boot that escalates a
/// million tickets at once writes) while the connection may leave data unacknowledged for
/// only a second: the server executes one statement at a time, and a pipeline that had
/// queued the rest behind it would sit on a closed TCP window for longer than that, so the
/// kernel would drop the connection and the commit would fail. It commits.
#[test]
fn a_commit_larger_than_the_socket_buffers_outlasts_a_short_tcp_user_timeout() {
    let Some(url) = postgres_url() else { return };
    let store = PgStore::open(&format!("{url}?tcp_user_timeout=1")).expect("open");
    let records: Vec<(Vec<u8>, Vec<u8>)> = (0..400_000u32)
        .map(|n| {
            let mut key = vec![b'z'];
            key.extend_from_slice(&n.to_be_bytes());
            (key, vec![7u8; 320])
        })
        .collect();
    let batch = Batch {
        removals: Vec::new(),
        records,
    };
    store.commit(batch).expect("the big commit");
    let rows = psql(&url, "SELECT count(*) FROM triage_meta");
    assert_eq!(rows.trim(), "400000");
}
