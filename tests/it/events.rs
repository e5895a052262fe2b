//! `AdminService.WatchEvents`: every event once, in sequence order, from history then live,
//! resumable across a kill -9 of the daemon with no gap and no repeat.

use crate::common::{self, agent, create, temp, Clients, Daemon};
use pb::{Channel, EventKind, Tier};
use std::time::Duration;
use tonic::Streaming;
use triage::core::event::{Event, Recorded};
use triage::core::types::{Channel as CoreChannel, TicketId, Tier as CoreTier, Ts};
use triage::proto as pb;
use triage::store::{Batch, SledStore, Store};

pub(crate) async fn watch(c: &mut Clients, from: u64) -> Streaming<pb::Event> {
    c.admin
        .watch_events(pb::WatchEventsRequest {
            from_sequence: from,
            ..Default::default()
        })
        .await
        .expect("watch")
        .into_inner()
}

/// Reads events until `done` says the last one wanted has arrived.
pub(crate) async fn read_until(
    stream: &mut Streaming<pb::Event>,
    mut done: impl FnMut(&pb::Event) -> bool,
) -> Vec<pb::Event> {
    let mut out = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), stream.message())
            .await
            .expect("an event within 20s")
            .expect("stream ok")
            .expect("stream open");
        let stop = done(&next);
        out.push(next);
        if stop {
            return out;
        }
    }
}

fn kinds(events: &[pb::Event]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind()).collect()
}

fn assert_contiguous(events: &[pb::Event], first: u64) {
    let seqs: Vec<u64> = events.iter().map(|e| e.sequence).collect();
    let want: Vec<u64> = (first..first + events.len() as u64).collect();
    assert_eq!(seqs, want, "sequences have no gap and no repeat");
}

#[tokio::test]
async fn watch_streams_history_then_live_events_in_order() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ann", &["en"], &[], &[("chat", 2)]))
        .await;
    let t = c
        .create(create("w1", Tier::Vip, Channel::Chat, &["en"]))
        .await;
    let mut stream = watch(&mut c, 0).await;
    let history = read_until(&mut stream, |e| e.kind() == EventKind::Created).await;
    assert_eq!(
        kinds(&history),
        vec![EventKind::PresenceChanged, EventKind::Created]
    );
    assert_eq!(history[0].agent_id, "ann");
    assert_eq!(history[1].ticket_id, t.ticket_id);
    assert_eq!(history[1].tier(), Tier::Vip);

    let asg = c.pull("ann").await.expect("assignment");
    let lease = asg.lease_epoch;
    let reply = |author: pb::Author| pb::RecordReplyRequest {
        ticket_id: t.ticket_id,
        author: author as i32,
        agent_id: if author == pb::Author::Agent {
            "ann".into()
        } else {
            String::new()
        },
        lease_epoch: if author == pb::Author::Agent {
            lease
        } else {
            0
        },
        next_update_by: None,
        ..Default::default()
    };
    c.tickets
        .record_reply(reply(pb::Author::Agent))
        .await
        .expect("reply");
    c.tickets
        .set_pending(pb::SetPendingRequest {
            ticket_id: t.ticket_id,
            agent_id: "ann".into(),
            lease_epoch: lease,
            ..Default::default()
        })
        .await
        .expect("pending");
    c.tickets
        .record_reply(reply(pb::Author::Customer))
        .await
        .expect("customer");
    c.tickets
        .resolve_ticket(common::resolve(t.ticket_id, "ann", lease))
        .await
        .expect("resolve");
    let live = read_until(&mut stream, |e| e.kind() == EventKind::Resolved).await;
    assert_eq!(
        kinds(&live),
        vec![
            EventKind::Assigned,
            EventKind::Replied,
            EventKind::ClockMet,
            EventKind::Paused,
            EventKind::Replied,
            EventKind::Resumed,
            EventKind::ClockMet,
            EventKind::Resolved,
        ]
    );
    assert_eq!(live[0].agent_id, "ann");
    assert_eq!(live[0].reason, "due");
    assert_eq!(live[2].metric(), pb::SlaMetric::FirstResponse);
    assert!(live[2].within_target);
    assert_eq!(live[4].author(), pb::Author::Customer);
    assert_eq!(live[6].metric(), pb::SlaMetric::Resolution);
    let all: Vec<pb::Event> = history.into_iter().chain(live).collect();
    assert_contiguous(&all, 1);
    assert!(all[1..].iter().all(|e| e.ticket_id == t.ticket_id));
}

#[tokio::test]
async fn a_watcher_resumes_across_kill9_with_no_gap_and_no_repeat() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ann", &[], &[], &[("email", 1000)]))
        .await;
    let mut stream = watch(&mut c, 0).await;
    // Writes keep coming while the daemon is killed: some acknowledged, some not.
    let writer = {
        let mut c = c.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0.. {
                let req = create(&format!("k{i}"), Tier::Standard, Channel::Email, &[]);
                match c.tickets.create_ticket(req).await {
                    Ok(t) => acked.push(t.into_inner().ticket_id),
                    Err(_) => return acked,
                }
                if i % 3 == 0 {
                    let _ = c
                        .agents
                        .pull_next_ticket(common::pull_request("ann", None))
                        .await;
                }
            }
            acked
        })
    };
    let mut seen = read_until(&mut stream, |e| e.sequence >= 60).await;
    d.kill9();
    let acked = writer.await.expect("writer");
    // Whatever the old stream still delivered before it broke counts as seen.
    while let Ok(Some(e)) = stream.message().await {
        seen.push(e);
    }
    assert!(
        acked.len() >= 40,
        "writes were acknowledged before the kill"
    );

    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let resume_from = seen.last().expect("events seen").sequence + 1;
    let mut resumed = watch(&mut c, resume_from).await;
    let marker = c
        .create(create("marker", Tier::Vip, Channel::Chat, &[]))
        .await;
    let is_marker =
        |e: &pb::Event| e.kind() == EventKind::Created && e.ticket_id == marker.ticket_id;
    seen.extend(read_until(&mut resumed, is_marker).await);
    assert_contiguous(&seen, 1);

    let mut replay = watch(&mut c, 0).await;
    let history = read_until(&mut replay, is_marker).await;
    assert_eq!(
        history, seen,
        "a fresh watch from 0 replays exactly what was streamed"
    );
    for id in acked {
        let created = history
            .iter()
            .filter(|e| e.kind() == EventKind::Created && e.ticket_id == id)
            .count();
        assert_eq!(
            created, 1,
            "acknowledged ticket {id} has exactly one CREATED event"
        );
    }
}

#[tokio::test]
async fn events_beyond_retention_are_pruned_and_resuming_before_them_is_refused() {
    let dir = temp();
    let d = Daemon::start(dir.path(), Some("[events]\nretain_count = 5\n"));
    let mut c = d.clients().await;
    for i in 0..20 {
        c.create(create(
            &format!("r{i}"),
            Tier::Standard,
            Channel::Email,
            &[],
        ))
        .await;
    }
    // Pruning runs in the background about once a second; wait for it to catch up.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        let mut stream = watch(&mut c, 1).await;
        match stream.message().await {
            Err(status) => break status,
            Ok(Some(e)) => assert_eq!(e.sequence, 1, "nothing is skipped silently"),
            Ok(None) => panic!("stream ended"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "events were never pruned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(status.message().contains("pruned"), "{}", status.message());
    let mut oldest = watch(&mut c, 0).await;
    let rest = read_until(&mut oldest, |e| e.sequence == 20).await;
    assert!(
        rest.len() >= 5 && rest.len() < 20,
        "kept {} events",
        rest.len()
    );
    assert_contiguous(&rest, 21 - rest.len() as u64);
}

#[tokio::test]
async fn both_retention_bounds_apply_the_newest_event_stays_and_numbering_survives_a_restart() {
    let dir = temp();
    let config = "[events]\nretain_count = 5\nretain_age = \"1s\"\n";
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    for i in 0..8 {
        c.create(create(
            &format!("a{i}"),
            Tier::Standard,
            Channel::Email,
            &[],
        ))
        .await;
    }
    // The age bound is the stricter one here: once the events are older than a second and
    // the background prune (about once a second) has run, only the newest is left.
    wait_for_oldest(&mut c, 8, |first| assert!(first < 8, "{first}")).await;
    // Asking for a pruned event (3 to 7 are gone) is refused at once, though nothing new is
    // written.
    assert_pruned_before(&mut c, 3, 8).await;

    // After a restart the next event is 9, not 1: a sequence is never given twice.
    assert!(d.terminate().await.success());
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    c.create(create("after", Tier::Standard, Channel::Email, &[]))
        .await;
    let mut next = watch(&mut c, 9).await;
    let created = read_until(&mut next, |e| e.kind() == EventKind::Created).await;
    assert_eq!(created.last().map(|e| e.sequence), Some(9));
}

/// Watches from 0 until the oldest event sent is `want` (pruning runs in the background about
/// once a second), checking each older first event with `before`.
async fn wait_for_oldest(c: &mut Clients, want: u64, before: impl Fn(u64)) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut oldest = watch(c, 0).await;
        let first = tokio::time::timeout(Duration::from_secs(3), oldest.message())
            .await
            .expect("the newest event is always kept")
            .expect("ok")
            .expect("an event")
            .sequence;
        if first == want {
            return;
        }
        before(first);
        assert!(
            tokio::time::Instant::now() < deadline,
            "events were never pruned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asserts that a watch from `from` is refused at once as pruned, naming `first` as the
/// oldest event still there.
async fn assert_pruned_before(c: &mut Clients, from: u64, first: u64) {
    let mut stale = watch(c, from).await;
    let refused = tokio::time::timeout(Duration::from_secs(5), stale.message())
        .await
        .expect("answered without waiting for the next event")
        .expect_err("refused: the event was pruned");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    let message = refused.message();
    assert!(message.contains(&first.to_string()), "{message}");
}

/// Creates `n` tickets in one `CreateTickets` call: one command, so one group commit.
async fn create_batch(c: &mut Clients, prefix: &str, n: usize) {
    let tickets = (0..n)
        .map(|i| create(&format!("{prefix}{i}"), Tier::Standard, Channel::Email, &[]))
        .collect();
    c.tickets
        .create_tickets(pb::CreateTicketsRequest { tickets })
        .await
        .expect("batch");
}

/// A commit's events are stored as one record: a watch can start inside it, retention keeps
/// it whole while any of its events is retained (and the refusal names its first), and both
/// hold after a kill -9.
#[tokio::test]
async fn a_commits_events_are_read_from_inside_it_and_pruned_whole() {
    let dir = temp();
    let config = "[events]\nretain_count = 5\n";
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    create_batch(&mut c, "first", 10).await;
    create_batch(&mut c, "second", 10).await;
    let mut middle = watch(&mut c, 14).await;
    assert_contiguous(&read_until(&mut middle, |e| e.sequence == 20).await, 14);

    // The last 5 (16 to 20) are retained: the first commit goes, all of the second stays.
    let whole = |first| assert_eq!(first, 1, "a commit is pruned whole or not at all");
    wait_for_oldest(&mut c, 11, whole).await;
    assert_pruned_before(&mut c, 5, 11).await;

    d.kill9();
    let d = Daemon::start(dir.path(), Some(config));
    let mut c = d.clients().await;
    let mut resumed = watch(&mut c, 12).await;
    c.create(create("after", Tier::Standard, Channel::Email, &[]))
        .await;
    assert_contiguous(&read_until(&mut resumed, |e| e.sequence == 21).await, 12);
}

/// Writes events `1..=n` into the data dir of a daemon on `dir` as releases before commit records did: one
/// `e` record each (`e` and the big-endian sequence; version 1 and the postcard event).
fn write_one_record_per_event(dir: &std::path::Path, n: u64) {
    let store = SledStore::open(&dir.join("data")).expect("open the store");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let at = Ts(now.expect("after 1970").as_millis() as i64);
    let records = (1..=n)
        .map(|seq| {
            let (tier, channel) = (CoreTier::Standard, CoreChannel::Email);
            let event = Event::Created {
                ticket: TicketId(seq),
                tier,
                channel,
            };
            let mut key = vec![b'e'];
            key.extend_from_slice(&seq.to_be_bytes());
            let mut value = vec![1];
            value.extend(postcard::to_allocvec(&Recorded { seq, at, event }).expect("encode"));
            (key, value)
        })
        .collect();
    let removals = Vec::new();
    store.commit(Batch { removals, records }).expect("commit");
}

/// A data dir upgraded in place: the events an earlier release wrote one record each are
/// served with the new ones in one stream, numbering goes on after them, and retention
/// prunes them.
#[tokio::test]
async fn events_of_an_earlier_release_are_served_numbered_on_from_and_pruned() {
    if crate::common::sled_only() {
        return;
    }
    let dir = temp();
    write_one_record_per_event(dir.path(), 3);
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    create_batch(&mut c, "new", 4).await;
    let mut all = watch(&mut c, 0).await;
    assert_contiguous(&read_until(&mut all, |e| e.sequence == 7).await, 1);
    let mut across = watch(&mut c, 2).await;
    let read = read_until(&mut across, |e| e.sequence == 7).await;
    assert_contiguous(&read, 2);
    assert!(read.iter().all(|e| e.kind() == EventKind::Created));
    assert!(d.terminate().await.success());

    // Keeping 3 (5 to 7): the old records go, the commit of 4 to 7 stays whole.
    let d = Daemon::start(dir.path(), Some("[events]\nretain_count = 3\n"));
    let mut c = d.clients().await;
    wait_for_oldest(&mut c, 4, |first| assert_eq!(first, 1, "old records go")).await;
    assert_pruned_before(&mut c, 2, 4).await;
}

/// Reads what the filtered stream `req` holds of the history: every event until none comes
/// for half a second.
async fn filtered(c: &mut Clients, req: pb::WatchEventsRequest) -> Vec<pb::Event> {
    let mut stream = c.admin.watch_events(req).await.expect("watch").into_inner();
    let mut out = Vec::new();
    while let Ok(next) = tokio::time::timeout(Duration::from_millis(500), stream.message()).await {
        out.push(next.expect("stream ok").expect("stream open"));
    }
    out
}

/// `WatchEvents` filters by kind, by ticket and by agent (the holder, or the one a transfer
/// took the ticket from); a filtered event keeps its sequence, so a resume works as without
/// filters. An unknown kind is INVALID_ARGUMENT naming `kinds`, a bad agent id `agent_id`.
#[tokio::test]
async fn watch_filters_by_kind_ticket_and_agent() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    for name in ["ann", "bo"] {
        c.available_agent(agent(name, &["en"], &[], &[("email", 5)]))
            .await;
    }
    let first = c
        .create(create("f1", Tier::Standard, Channel::Email, &["en"]))
        .await;
    let second = c
        .create(create("f2", Tier::Standard, Channel::Email, &["en"]))
        .await;
    let pulled = c.pull("ann").await.expect("ann gets one");
    let moved = pb::TransferTicketRequest {
        ticket_id: pulled.ticket.as_ref().map_or(0, |t| t.ticket_id),
        to: Some(pb::transfer_ticket_request::To::AgentId("bo".into())),
        ..Default::default()
    };
    c.tickets.transfer_ticket(moved).await.expect("transfer");
    let all = filtered(&mut c, pb::WatchEventsRequest::default()).await;
    assert_eq!(
        kinds(&all),
        [
            EventKind::PresenceChanged,
            EventKind::PresenceChanged,
            EventKind::Created,
            EventKind::Created,
            EventKind::Assigned,
            EventKind::Transferred
        ]
    );

    let created = filtered(
        &mut c,
        pb::WatchEventsRequest {
            kinds: vec![EventKind::Created as i32],
            ..Default::default()
        },
    )
    .await;
    let ids: Vec<u64> = created.iter().map(|e| e.ticket_id).collect();
    assert_eq!(ids, [first.ticket_id, second.ticket_id]);
    let want: Vec<u64> = all
        .iter()
        .filter(|e| e.kind() == EventKind::Created)
        .map(|e| e.sequence)
        .collect();
    let got: Vec<u64> = created.iter().map(|e| e.sequence).collect();
    assert_eq!(got, want, "filtered events keep their sequences");

    let of_second = filtered(
        &mut c,
        pb::WatchEventsRequest {
            ticket_id: second.ticket_id,
            ..Default::default()
        },
    )
    .await;
    let want: Vec<&pb::Event> = all
        .iter()
        .filter(|e| e.ticket_id == second.ticket_id)
        .collect();
    assert_eq!(of_second.iter().collect::<Vec<_>>(), want);

    let of_ann = filtered(
        &mut c,
        pb::WatchEventsRequest {
            agent_id: "ann".into(),
            ..Default::default()
        },
    )
    .await;
    let ann_kinds = kinds(&of_ann);
    assert!(ann_kinds.contains(&EventKind::Assigned), "{of_ann:?}");
    assert!(
        ann_kinds.contains(&EventKind::Transferred),
        "the transfer away from ann names her: {of_ann:?}"
    );
    assert!(of_ann
        .iter()
        .all(|e| e.agent_id == "ann" || e.from_agent_id == "ann"));

    for (req, field) in [
        (
            pb::WatchEventsRequest {
                kinds: vec![999],
                ..Default::default()
            },
            "kinds",
        ),
        (
            pb::WatchEventsRequest {
                kinds: vec![0],
                ..Default::default()
            },
            "kinds",
        ),
        (
            pb::WatchEventsRequest {
                agent_id: "no spaces".into(),
                ..Default::default()
            },
            "agent_id",
        ),
    ] {
        let refused = c.admin.watch_events(req).await.expect_err("refused");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
        assert!(refused.message().contains(field), "{refused:?}");
    }
}
