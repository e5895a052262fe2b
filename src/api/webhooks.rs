//! `PutWebhook`, `ListWebhooks`, `DeleteWebhook`: requests checked into core commands (the
//! same rules as the configuration's `[[webhooks]]`, `webhooks::spec`) and webhooks answered
//! without their secrets.

use super::convert::duration;
use super::status::invalid;
use super::validate::{span, Checked};
use crate::core::command::Command;
use crate::core::webhook::Webhook;
use crate::proto as pb;
use crate::webhooks::spec;

/// The put of `r`; a new webhook starts at `start`, the next sequence to be written.
pub fn put(r: pb::PutWebhookRequest, start: u64) -> Checked<Command> {
    let kinds = r
        .kinds
        .iter()
        .enumerate()
        .map(|(i, &k)| match pb::EventKind::try_from(k) {
            Ok(pb::EventKind::Unspecified) | Err(_) => Err(invalid(
                &format!("kinds[{i}]"),
                format!("{k} is not an event kind (EVENT_KIND_CREATED = 1, ...)"),
            )),
            Ok(_) => Ok(k),
        })
        .collect::<Checked<Vec<i32>>>()?;
    let give_up_after = match &r.give_up_after {
        Some(d) => Some(span("give_up_after", d)?),
        None => None,
    };
    let mut put = spec::check_put(r.id, r.url, kinds, r.secret, give_up_after)?;
    put.start = start;
    Ok(Command::PutWebhook(put))
}

pub fn delete(r: pb::DeleteWebhookRequest) -> Checked<Command> {
    Ok(Command::DeleteWebhook(spec::check_id(r.id)?))
}

/// A webhook as answered: never its secret.
pub fn to_proto(w: &Webhook) -> pb::Webhook {
    pb::Webhook {
        id: w.id.clone(),
        url: w.url.clone(),
        kinds: w.kinds.clone(),
        give_up_after: Some(duration(w.give_up_after)),
        cursor: w.cursor,
        paused: w.paused,
        last_error: w.last_error.clone(),
    }
}
