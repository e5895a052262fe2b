//! The integration suite: one test binary, one module per topic, each test against the real
//! `triage` daemon (or the `triage` command) on loopback. One binary links once instead of once
//! per topic, so `cargo test` builds faster; run one topic with `cargo test --test it api::`.
//!
//! Tests of one binary run on several threads at once; `common` bounds how many daemons the
//! heavy tests start together (see `common::heavy`).

mod common;

mod api;
mod auth;
mod bad_input;
mod bench_tool;
mod crash_loop;
mod durability;
mod events;
mod fuzz_corpus;
mod idempotency;
mod limits;
mod logs;
mod metrics;
mod policy;
mod prometheus;
mod simulate;
mod tls;
mod work;
