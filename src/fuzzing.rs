//! The inputs a stranger controls, as functions of bytes: what the fuzz targets in `fuzz/`
//! drive with libFuzzer and what `tests/fuzz_corpus.rs` replays on stable Rust. Each must
//! return (with a value or an error) for any input; a panic is a bug.
//!
//! Public (hidden from the docs) only for the fuzz crate and the corpus test.

use crate::api::{policy, validate};
use crate::config::{FileConfig, Overrides, Settings};
use crate::core::model::{Agent, Ticket};
use crate::core::policy::SlaPolicy;
use crate::proto as pb;
use crate::store::codec::{self, decode};
use prost::Message;
use std::time::Duration;

/// The protobuf form of a policy (`GetSlaPolicy`'s), for the fuzz crate's seed inputs: the
/// API module itself is private to the crate.
pub fn policy_proto(p: &SlaPolicy) -> pb::SlaPolicy {
    policy::to_proto(p)
}

/// Bytes read back from the store: the first byte picks the record kind (ticket, agent,
/// idempotency, policy, events), as the key prefix does on disk; the rest is the value.
pub fn record_decode(data: &[u8]) {
    let Some((&kind, value)) = data.split_first() else {
        return;
    };
    match kind % 5 {
        0 => drop(decode::<Ticket>(&[codec::TICKET], value)),
        1 => drop(decode::<Agent>(&[codec::AGENT], value)),
        2 => drop(codec::decode_idempotency(&[codec::IDEMPOTENCY], value)),
        3 => drop(codec::decode_policy(&[codec::POLICY], value)),
        _ => {
            // The same bytes as one event record and as a commit's events record (the kind
            // is not a new arm, so the corpus keeps its meaning).
            drop(codec::decode_events(&codec::event_key(0), value));
            drop(codec::decode_events(&codec::events_key(0), value));
        }
    }
}

fn check<M: Message + Default, T>(bytes: &[u8], validate: impl FnOnce(M) -> T) {
    if let Ok(m) = M::decode(bytes) {
        let _ = validate(m);
    }
}

/// Bytes a client sends: the first byte picks the request, the rest is decoded as it and
/// validated into a command or a status.
pub fn request_validation(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let limits = validate::Limits {
        max_pull_wait: Duration::from_secs(30),
        max_message_bytes: 4 << 20,
        max_streams: 10,
    };
    match which % 18 {
        0 => check(bytes, validate::create_ticket),
        1 => check(bytes, validate::get_ticket),
        2 => check(bytes, validate::list_tickets),
        3 => check(bytes, |r| validate::once(r, validate::record_reply)),
        4 => check(bytes, |r| validate::once(r, validate::record_follow_up)),
        5 => check(bytes, |r| validate::once(r, validate::set_pending)),
        6 => check(bytes, |r| validate::once(r, validate::resolve)),
        7 => check(bytes, |r| validate::once(r, validate::reopen)),
        8 => check(bytes, |r| validate::once(r, validate::cancel)),
        9 => check(bytes, |r| validate::once(r, validate::update)),
        10 => check(bytes, |r| validate::once(r, validate::upsert_agent)),
        11 => check(bytes, validate::get_agent),
        12 => check(bytes, validate::list_agents),
        13 => check(bytes, |r| validate::once(r, validate::set_presence)),
        14 => check(bytes, |r| validate::pull(r, limits)),
        15 => check(bytes, |r| validate::once(r, validate::release)),
        16 => check(bytes, validate::work_start),
        _ => check(bytes, |r: pb::PutSlaPolicyRequest| {
            policy::from_put(r).map(|patch| patch.apply_to(&SlaPolicy::default()))
        }),
    }
}

/// Text given as the configuration file: it parses to settings or to an error; a policy that
/// validates survives the trip through the API's proto form unchanged.
pub fn policy_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = toml::from_str::<FileConfig>(text) else {
        return;
    };
    if let Some(p) = &file.policy {
        if p.validate().is_ok() {
            let put = pb::PutSlaPolicyRequest {
                policy: Some(policy::to_proto(p)),
                replace: true,
                ..Default::default()
            };
            match policy::from_put(put).map(|patch| patch.apply_to(p)) {
                Ok(back) => assert_eq!(&back, p, "the proto form keeps every field"),
                Err(e) => panic!("a valid policy was refused in its proto form: {e:?}"),
            }
        }
    }
    let _ = Settings::resolve(file, Overrides::default());
}
