//! What a webhook definition must be, checked the same way for `PutWebhook` and for the
//! configuration's `[[webhooks]]`: an id fit for a metric label, an http(s) URL the client can
//! reach, known event kinds, a secret.

use crate::core::parse::{self, FieldError};
use crate::core::types::Span;
use crate::core::webhook::WebhookPut;
use crate::proto as pb;

/// How long deliveries of one event may fail before the webhook is paused, unless it says.
pub const DEFAULT_GIVE_UP_AFTER: Span = Span::hours(1);

/// The longest id: it is a label of the webhook metrics.
const MAX_ID: usize = 64;

/// A definition as given, before it is checked.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSpec {
    pub id: String,
    pub url: String,
    /// Kind names: `EVENT_KIND_CREATED` or `created` (none: every kind).
    pub kinds: Vec<String>,
    pub secret: String,
    pub give_up_after: Option<Span>,
}

impl WebhookSpec {
    /// The checked put; `start` and `resume` as `WebhookPut` says.
    pub fn check(self, start: u64, resume: bool) -> Result<WebhookPut, FieldError> {
        let kinds = self
            .kinds
            .iter()
            .enumerate()
            .map(|(i, name)| kind(name).ok_or_else(|| unknown_kind(i, name)))
            .collect::<Result<Vec<i32>, FieldError>>()?;
        let mut put = check_put(self.id, self.url, kinds, self.secret, self.give_up_after)?;
        put.start = start;
        put.resume = resume;
        Ok(put)
    }
}

/// The put of `PutWebhook`'s fields, checked (kinds already known to be kinds).
pub fn check_put(
    id: String,
    url: String,
    kinds: Vec<i32>,
    secret: String,
    give_up_after: Option<Span>,
) -> Result<WebhookPut, FieldError> {
    let id = check_id(id)?;
    let url = check_url(url)?;
    if secret.is_empty() {
        return Err(FieldError::new("secret", "must not be empty"));
    }
    let give_up_after = give_up_after.unwrap_or(DEFAULT_GIVE_UP_AFTER);
    if give_up_after == Span(0) {
        return Err(FieldError::new("give_up_after", "must be more than zero"));
    }
    Ok(WebhookPut {
        id,
        url,
        kinds,
        secret,
        give_up_after,
        start: 0,
        resume: true,
    })
}

/// 1 to 64 of `A-Z a-z 0-9 - _ .`.
pub fn check_id(id: String) -> Result<String, FieldError> {
    let fits = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.is_empty() {
        return Err(FieldError::new("id", "must not be empty"));
    }
    if id.len() > MAX_ID || !id.chars().all(fits) {
        return Err(FieldError::new(
            "id",
            format!("must be 1 to {MAX_ID} of A-Z a-z 0-9 - _ ."),
        ));
    }
    Ok(id)
}

/// An absolute http:// or https:// URL with a host.
fn check_url(url: String) -> Result<String, FieldError> {
    let url = parse::identifier("url", url)?;
    let parsed: hyper::Uri = url
        .parse()
        .map_err(|e| FieldError::new("url", format!("is not a URL: {e}")))?;
    match parsed.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(FieldError::new(
                "url",
                "must start with http:// or https://",
            ))
        }
    }
    if parsed.host().is_none_or(str::is_empty) {
        return Err(FieldError::new("url", "must name a host"));
    }
    Ok(url)
}

/// A kind by its wire name (`EVENT_KIND_CREATED`) or short name (`created`, any case).
pub fn kind(name: &str) -> Option<i32> {
    let upper = name.trim().to_ascii_uppercase();
    let wire = match upper.starts_with("EVENT_KIND_") {
        true => upper,
        false => format!("EVENT_KIND_{upper}"),
    };
    pb::EventKind::from_str_name(&wire)
        .filter(|k| *k != pb::EventKind::Unspecified)
        .map(|k| k as i32)
}

fn unknown_kind(i: usize, name: &str) -> FieldError {
    FieldError::new(
        format!("kinds[{i}]"),
        format!("{name:?} is not an event kind (created, assigned, ...)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str) -> WebhookSpec {
        WebhookSpec {
            id: "crm".into(),
            url: url.into(),
            kinds: vec!["created".into(), "EVENT_KIND_RESOLVED".into()],
            secret: "s".into(),
            give_up_after: None,
        }
    }

    #[test]
    fn a_good_spec_is_checked_into_a_put_with_the_kinds_numbered() {
        let put = spec("https://example.com/hook")
            .check(7, false)
            .expect("valid");
        assert_eq!(put.kinds, vec![1, 10]);
        assert_eq!((put.start, put.resume), (7, false));
        assert_eq!(put.give_up_after, DEFAULT_GIVE_UP_AFTER);
    }

    #[test]
    fn each_bad_field_is_named() {
        let field = |s: WebhookSpec| s.check(0, true).expect_err("invalid").field;
        assert_eq!(field(spec("ftp://example.com/")), "url");
        assert_eq!(field(spec("example.com/x")), "url");
        let mut s = spec("http://h/");
        s.kinds.push("nope".into());
        assert_eq!(field(s), "kinds[2]");
        let mut s = spec("http://h/");
        s.secret.clear();
        assert_eq!(field(s), "secret");
        let mut s = spec("http://h/");
        s.id = "a b".into();
        assert_eq!(field(s), "id");
    }
}
