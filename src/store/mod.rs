//! Persistence. The owner task hands the store one `Batch` per group commit; the store writes
//! it atomically and returns only once it is durable. At boot `load_all` reads every record
//! back for `Scheduler::restore`.
//!
//! The trait is small on purpose: sled is the implementation, and tests or a future store can
//! put something else behind it.

pub mod codec;
mod sled_store;

pub use codec::Batch;
pub use sled_store::SledStore;

use crate::core::Recovered;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage I/O failed: {0}")]
    Io(#[from] sled::Error),
    #[error("record {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

pub trait Store: Send + Sync + 'static {
    /// Every record, for recovery at boot.
    fn load_all(&self) -> Result<Recovered, StoreError>;
    /// Writes the batch atomically (all or nothing) and durably: on `Ok` it is on disk.
    fn commit(&self, batch: Batch) -> Result<(), StoreError>;
}
