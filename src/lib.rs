//! triage: an SLA-driven ticket scheduler daemon.
//!
//! Layers, inside out: `core` (pure scheduling state machine), `store` (sled persistence with
//! group commit), `server` (the owner task that drives the core), `api` (gRPC), `telemetry`
//! (Prometheus), `config`.

pub mod core;

/// Code generated from `proto/triage/v1/triage.proto`.
pub mod proto {
    #![allow(clippy::all)]
    tonic::include_proto!("triage.v1");

    /// Encoded descriptor set, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("triage_descriptor");
}
