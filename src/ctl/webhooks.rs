//! `ctl webhooks`: list, put and delete webhooks from the shell (admin role).

use crate::client::Conn;
use crate::core::types::Span;
use crate::proto as pb;
use clap::Subcommand;
use pb::admin_service_client::AdminServiceClient;

/// What `ctl webhooks` does; without one, it lists them.
#[derive(Subcommand)]
pub enum WebhookAction {
    /// Every webhook: id, state, cursor, url, kinds and last error (never the secret)
    List,
    /// Create or replace a webhook; a paused one resumes from its cursor
    Put {
        /// The webhook's id (A-Z a-z 0-9 - _ ., up to 64)
        id: String,
        /// Where events are POSTed (http:// or https://)
        #[arg(long)]
        url: String,
        /// The HMAC-SHA256 key of X-Triage-Signature (or set TRIAGE_WEBHOOK_SECRET)
        #[arg(long, env = "TRIAGE_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
        /// Only events of these kinds, comma separated (e.g. created,resolved); none: all
        #[arg(long, value_delimiter = ',')]
        kind: Vec<String>,
        /// Pause after deliveries of one event failed this long (e.g. 30m; default 1h)
        #[arg(long, value_parser = Span::parse)]
        give_up_after: Option<Span>,
    },
    /// Remove a webhook
    Delete {
        /// The webhook's id
        id: String,
    },
}

pub(super) async fn run(
    admin: &mut AdminServiceClient<Conn>,
    action: Option<WebhookAction>,
) -> anyhow::Result<()> {
    match action.unwrap_or(WebhookAction::List) {
        WebhookAction::List => {
            let hooks = admin.list_webhooks(pb::ListWebhooksRequest {}).await?;
            for w in &hooks.into_inner().webhooks {
                print_webhook(w);
            }
        }
        WebhookAction::Put {
            id,
            url,
            secret,
            kind,
            give_up_after,
        } => {
            let req = pb::PutWebhookRequest {
                id,
                url,
                kinds: super::event_kinds(&kind)?,
                secret,
                give_up_after: give_up_after.map(crate::api::convert::duration),
            };
            print_webhook(&admin.put_webhook(req).await?.into_inner());
        }
        WebhookAction::Delete { id } => {
            admin
                .delete_webhook(pb::DeleteWebhookRequest { id: id.clone() })
                .await?;
            println!("deleted webhook {id}");
        }
    }
    Ok(())
}

fn print_webhook(w: &pb::Webhook) {
    let state = if w.paused { "PAUSED" } else { "active" };
    let kinds: Vec<&str> = (w.kinds.iter())
        .filter_map(|&k| pb::EventKind::try_from(k).ok())
        .map(|k| k.as_str_name().trim_start_matches("EVENT_KIND_"))
        .collect();
    let kinds = if kinds.is_empty() {
        "all kinds".to_string()
    } else {
        kinds.join(",").to_ascii_lowercase()
    };
    println!(
        "{}  {state}  next sequence {}  {}  ({kinds})",
        w.id, w.cursor, w.url
    );
    if !w.last_error.is_empty() {
        println!("    last error: {}", w.last_error);
    }
}
