//! The scheduler core: a plain, synchronous, deterministic state machine. It takes `now` as an
//! argument and never reads a clock, spawns a task, or touches sled, tonic or metrics; the
//! layers with I/O wrap it. That is what lets tests run hours of SLA time in milliseconds.

pub mod activity;
pub mod agent_stats;
mod agents;
pub mod archive;
pub mod board;
pub mod calendar;
pub mod chunked;
mod collections;
pub mod command;
pub mod erasure;
pub mod error;
pub mod escalation;
pub mod event;
pub mod explain;
pub mod fifo_bound;
pub mod idempotency;
mod intern;
pub mod lease;
mod lifecycle;
pub mod model;
pub mod offer;
pub mod parse;
pub mod policy;
pub mod policy_patch;
pub mod proficiency;
pub mod queue;
pub mod queue_groups;
pub mod replica;
mod restore;
pub mod rings;
mod roster;
pub mod routing;
pub mod scheduler;
pub mod sla;
mod stats;
mod table;
mod timers;
mod transfer;
pub mod turns;
pub mod types;
pub mod waiting;
mod warnings;
pub mod webhook;
mod wrap_up;

#[cfg(test)]
mod tests;

pub use command::{Command, Reply};
pub use error::CoreError;
pub use event::Event;
pub use intern::Shares;
pub use replica::Replica;
pub use scheduler::{CoreConfig, Journal, Recovered, RecoverySink, Restore, Scheduler};
