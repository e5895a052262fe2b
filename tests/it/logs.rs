//! Structured logs: with `--log-format json` every line is a JSON object, and every committed
//! state change is logged at debug with its ticket id and no customer data.

use crate::common::{agent, create, temp, Daemon};
use pb::{Channel, Tier};
use triage::proto as pb;

#[tokio::test]
async fn json_logs_record_every_state_change_with_its_ticket_id() {
    let dir = temp();
    let d = Daemon::start_with_env(dir.path(), None, &[("TRIAGE_LOG_FORMAT", "json")]);
    let mut c = d.clients().await;
    c.available_agent(agent("ann", &[], &[], &[("chat", 2)]))
        .await;
    let mut req = create("secret-ext", Tier::Vip, Channel::Chat, &[]);
    req.customer_id = "customer-with-a-secret-name".into();
    let t = c.create(req).await;
    c.pull("ann").await.expect("assignment");
    let logs = d.terminate_and_read_logs().await;
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let changes: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "state change")
        .collect();
    let for_ticket = |kind: &str| {
        changes
            .iter()
            .any(|l| l["fields"]["ticket"] == t.ticket_id && l["fields"]["kind"] == kind)
    };
    assert!(for_ticket("created"), "creation logged: {changes:?}");
    assert!(for_ticket("assigned"), "assignment logged: {changes:?}");
    assert!(
        !logs.contains("customer-with-a-secret-name"),
        "customer ids stay out of the logs"
    );
}
