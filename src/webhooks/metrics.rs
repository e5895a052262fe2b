//! The webhook metrics. The `webhook` label is a webhook's id: admins choose them and they
//! are few (a put per receiver), so the label stays bounded.

/// `triage_webhook_deliveries_total{webhook,outcome}`: attempts that got a 2xx (`ok`), that
/// failed (`failed`), and events given up on (`gave_up`, which pauses the webhook).
pub fn delivered(webhook: &str, outcome: Outcome) {
    metrics::counter!("triage_webhook_deliveries_total", "webhook" => webhook.to_owned(), "outcome" => outcome.label())
        .increment(1);
}

/// What became of one POST (or, `GaveUp`, of one event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    GaveUp,
}

impl Outcome {
    const ALL: [Outcome; 3] = [Outcome::Ok, Outcome::Failed, Outcome::GaveUp];

    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::GaveUp => "gave_up",
        }
    }
}

/// `triage_webhook_paused{webhook}`: 1 while the webhook is paused.
pub fn paused(webhook: &str, paused: bool) {
    metrics::gauge!("triage_webhook_paused", "webhook" => webhook.to_owned())
        .set(f64::from(u8::from(paused)));
}

/// `triage_webhook_lag_seconds{webhook}`: the age of the event being delivered (0 when
/// nothing waits).
pub fn lag(webhook: &str, seconds: f64) {
    metrics::gauge!("triage_webhook_lag_seconds", "webhook" => webhook.to_owned()).set(seconds);
}

/// Says what each series means (the HELP lines).
pub fn describe() {
    metrics::describe_counter!(
        "triage_webhook_deliveries_total",
        "Webhook POSTs by outcome: ok (2xx), failed (retried), gave_up (the webhook was paused)."
    );
    metrics::describe_gauge!(
        "triage_webhook_paused",
        "1 while the webhook is paused after failing for its give_up_after."
    );
    metrics::describe_gauge!(
        "triage_webhook_lag_seconds",
        "Age of the event the webhook is delivering (0 when nothing waits)."
    );
}

/// Registers a webhook's counters at zero, so rates work before its first delivery.
pub fn register(webhook: &str) {
    for outcome in Outcome::ALL {
        metrics::counter!("triage_webhook_deliveries_total", "webhook" => webhook.to_owned(), "outcome" => outcome.label())
            .increment(0);
    }
}
