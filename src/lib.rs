//! triage: an SLA-driven ticket scheduler daemon.
//!
//! Layers, inside out: `core` (the pure scheduling state machine), `store` (sled persistence),
//! `server` (the engine: the owner task that drives the core with group commit, and the event
//! log), `api` (gRPC), `telemetry` (Prometheus), and `daemon` (the wiring: sockets, TLS,
//! signals); beside them `config`, `auth`, `client` and the `triage` subcommands (`ctl`,
//! `bench`, `simulate`).

// What a library user builds on: the protocol, the core state machine, its store, the daemon
// (`daemon::run` embeds one), its settings, the client connection and the token file's roles.
pub mod auth;
pub mod client;
pub mod config;
pub mod core;
pub mod daemon;
pub mod store;
// Delivering events to integrators' URLs; its `spec` is what `[[webhooks]]` in the config holds.
pub mod webhooks;

// The engine and the edges the daemon wires together; private to the crate.
pub(crate) mod api;
pub(crate) mod board;
pub(crate) mod follower;
pub(crate) mod server;
pub(crate) mod telemetry;

// Public only for the `triage` binary's subcommands, the benches (`bench::mix`, `simulate`),
// the integration tests (`simulate`) and the fuzz targets (`fuzzing`); not a supported API.
#[doc(hidden)]
pub mod bench;
#[doc(hidden)]
pub mod ctl;
#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod simulate;

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
