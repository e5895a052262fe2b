//! triage: an SLA-driven ticket scheduler daemon.
//!
//! Layers, inside out: `core` (the pure scheduling state machine), `store` (sled persistence),
//! `server` (the owner task that drives the core with group commit, and the daemon's wiring),
//! `api` (gRPC), `telemetry` (Prometheus), `config`, and `ctl` (a command-line client).

pub mod api;
pub mod auth;
pub mod bench;
pub mod client;
pub mod config;
pub mod core;
pub mod ctl;
pub mod daemon;
pub mod fuzzing;
pub mod server;
pub mod simulate;
pub mod store;
pub mod telemetry;

// Links mimalloc's C library for `daemon::release_free_memory` even where the global allocator
// is another (the binary makes mimalloc the global allocator).
use mimalloc as _;

/// Code generated from `proto/triage/v1/triage.proto`.
pub mod proto {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("triage.v1");

    /// Encoded descriptor set, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("triage_descriptor");
}
