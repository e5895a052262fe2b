//! The integration suite: one test binary, one module per topic, each test against the real
//! `triage` daemon (or the `triage` command) on loopback. One binary links once instead of once
//! per topic, so `cargo test` builds faster; run one topic with `cargo test --test it api::`.
//!
//! Tests of one binary run on several threads at once, as many as the machine has cores; the
//! heavy ones (crash loop, bench and simulate runs) take turns through `common::heavy`, so a
//! wide machine does not start them all together.

mod common;

mod api;
mod archive;
mod audit;
mod auth;
mod bad_input;
mod bench_tool;
mod board;
mod crash_loop;
mod ctl;
mod deploy;
mod desk;
mod disk;
mod durability;
mod erasure;
mod events;
mod explain;
mod fuzz_corpus;
mod grpcurl;
mod ha;
mod idempotency;
mod import;
mod limits;
mod logs;
mod metrics;
mod offers;
mod operator;
mod policy;
mod policy_merge;
mod postgres;
mod proficiency;
mod prometheus;
mod simulate;
mod tls;
mod webhooks;
mod work;
mod wrap_up;
