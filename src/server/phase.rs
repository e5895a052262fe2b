//! Where the daemon is in its life, as the owner task and the event feed follow it.

/// Where the daemon is in its life. The owner answers waiting pulls once `Draining`, and
/// at `Stopping` takes no new commands, applies and commits those already queued, and returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Running,
    Draining,
    Stopping,
}
