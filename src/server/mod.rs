//! The engine: the owner task that drives the core with group commit (`owner`) and the event
//! log behind `WatchEvents` (`events`). The wiring around it (sockets, TLS, signals, telemetry)
//! is `crate::daemon`; the gRPC handlers are `crate::api`.

mod audit;
pub mod events;
pub mod handle;
pub mod owner;
pub mod phase;
#[cfg(test)]
mod tests;
mod waiters;
