//! Webhooks as scheduler state: puts and deletes are journaled with an event, a cursor
//! advance is journaled without one, a pause is reported once, and all of it survives a
//! restart from the records.

use super::*;
use crate::core::webhook::{WebhookProgress, WebhookPut};

fn put(id: &str, start: u64, resume: bool) -> Command {
    Command::PutWebhook(WebhookPut {
        id: id.into(),
        url: "https://example.com/hook".into(),
        kinds: vec![1],
        secret: "s".into(),
        give_up_after: Span::mins(5),
        start,
        resume,
    })
}

fn progress(id: &str, cursor: u64, paused: Option<&str>) -> Command {
    Command::WebhookProgress(WebhookProgress {
        id: id.into(),
        cursor,
        paused: paused.map(str::to_owned),
    })
}

/// What the last batch journaled: the webhooks written, and the events.
fn journal(sim: &mut Sim) -> (Vec<String>, Vec<Event>) {
    let j = sim.s.take_journal();
    (j.webhooks, j.events)
}

#[test]
fn a_put_is_journaled_with_an_event_and_starts_at_its_start() {
    let mut sim = Sim::new();
    sim.apply(put("crm", 42, true)).expect("put");
    let (written, events) = journal(&mut sim);
    assert_eq!(written, vec!["crm".to_string()]);
    let put_event = Event::WebhookPut {
        webhook: "crm".into(),
        resumed: false,
    };
    assert_eq!(events, vec![put_event]);
    assert_eq!(sim.s.webhook("crm").map(|w| w.cursor), Some(42));
}

#[test]
fn the_same_definition_put_again_writes_and_reports_nothing() {
    let mut sim = Sim::new();
    sim.apply(put("crm", 1, false)).expect("put");
    journal(&mut sim);
    sim.apply(put("crm", 99, false)).expect("put again");
    assert_eq!(journal(&mut sim), (vec![], vec![]));
    assert_eq!(
        sim.s.webhook("crm").map(|w| w.cursor),
        Some(1),
        "cursor kept"
    );
}

#[test]
fn progress_moves_the_cursor_forward_only_and_reports_nothing() {
    let mut sim = Sim::new();
    sim.apply(put("crm", 1, true)).expect("put");
    journal(&mut sim);
    sim.apply(progress("crm", 10, None)).expect("advance");
    assert_eq!(journal(&mut sim), (vec!["crm".to_string()], vec![]));
    sim.apply(progress("crm", 5, None)).expect("stale advance");
    assert_eq!(journal(&mut sim), (vec![], vec![]), "nothing to write");
    assert_eq!(sim.s.webhook("crm").map(|w| w.cursor), Some(10));
}

#[test]
fn a_pause_is_reported_once_and_a_resuming_put_clears_it_but_a_boot_put_does_not() {
    let mut sim = Sim::new();
    sim.apply(put("crm", 1, true)).expect("put");
    journal(&mut sim);
    sim.apply(progress("crm", 3, Some("HTTP 500")))
        .expect("pause");
    let (_, events) = journal(&mut sim);
    let paused = Event::WebhookPaused {
        webhook: "crm".into(),
        error: "HTTP 500".into(),
    };
    assert_eq!(events, vec![paused]);
    sim.apply(progress("crm", 3, Some("again")))
        .expect("pause again");
    assert_eq!(journal(&mut sim).1, vec![], "reported once");
    sim.apply(put("crm", 50, false)).expect("boot put");
    let hook = sim.s.webhook("crm").expect("kept").clone();
    assert!(hook.paused && hook.last_error == "HTTP 500", "{hook:?}");
    sim.apply(put("crm", 50, true)).expect("resume");
    let hook = sim.s.webhook("crm").expect("kept").clone();
    assert!(!hook.paused && hook.last_error.is_empty(), "{hook:?}");
    assert_eq!(hook.cursor, 3, "resumes where it stopped");
    let resumed = Event::WebhookPut {
        webhook: "crm".into(),
        resumed: true,
    };
    assert_eq!(journal(&mut sim).1, vec![resumed]);
}

#[test]
fn delete_is_journaled_and_unknown_ids_are_not_found() {
    let mut sim = Sim::new();
    sim.apply(put("crm", 1, true)).expect("put");
    journal(&mut sim);
    sim.apply(Command::DeleteWebhook("crm".into()))
        .expect("delete");
    let (written, events) = journal(&mut sim);
    assert_eq!(written, vec!["crm".to_string()], "written as gone");
    let deleted = Event::WebhookDeleted {
        webhook: "crm".into(),
    };
    assert_eq!(events, vec![deleted]);
    let again = sim.apply(Command::DeleteWebhook("crm".into()));
    assert_eq!(again, Err(CoreError::WebhookNotFound("crm".into())));
    let late = sim.apply(progress("crm", 9, None));
    assert_eq!(late, Err(CoreError::WebhookNotFound("crm".into())));
}

#[test]
fn webhooks_and_cursors_survive_a_restart() {
    let mut sim = Sim::new();
    sim.apply(put("a", 1, true)).expect("put");
    sim.apply(put("b", 1, true)).expect("put");
    sim.apply(progress("a", 7, None)).expect("advance");
    sim.apply(progress("b", 2, Some("gone"))).expect("pause");
    let before: Vec<_> = sim.s.webhooks().cloned().collect();
    let restarted = restart_from(sim.records(), sim.now);
    let after: Vec<_> = restarted.webhooks().cloned().collect();
    assert_eq!(after, before);
}
