//! The webhook metrics. The `webhook` label is a webhook's id: admins choose them and they
//! are few (a put per receiver), so the label stays bounded.

/// `triage_webhook_deliveries_total{webhook,outcome}`: attempts that got a 2xx (`ok`), that
/// failed (`failed`), and events given up on (`gave_up`, which pauses the webhook).
pub fn delivered(webhook: &str, outcome: &'static str) {
    metrics::counter!("triage_webhook_deliveries_total", "webhook" => webhook.to_owned(), "outcome" => outcome)
        .increment(1);
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
