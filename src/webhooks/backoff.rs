//! How long to wait before retrying a failed delivery: exponential from `FIRST`, doubling per
//! failure, capped at `CAP`, with jitter (a random part of the wait, up to half) so that many
//! webhooks failing together do not retry in step.

use std::time::Duration;

/// The wait after the first failure (before jitter).
pub const FIRST: Duration = Duration::from_millis(200);
/// The longest wait between two attempts (before jitter).
pub const CAP: Duration = Duration::from_secs(60);

/// The wait before attempt `failures + 1`, without jitter: `FIRST × 2^(failures-1)`, at
/// most `CAP`.
pub fn base(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST.saturating_mul(1 << doublings).min(CAP)
}

/// The wait with jitter: between half of `base` and all of it, `unit` (in [0, 1)) choosing
/// where.
pub fn jittered(failures: u32, unit: f64) -> Duration {
    let base = base(failures);
    base.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

/// A random number in [0, 1) for `jittered`; 0.5 should the OS give no randomness.
pub fn random_unit() -> f64 {
    getrandom::u64().map_or(0.5, |r| (r >> 11) as f64 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_first_and_is_capped() {
        assert_eq!(base(1), FIRST);
        assert_eq!(base(2), FIRST * 2);
        assert_eq!(base(3), FIRST * 4);
        let waits: Vec<Duration> = (1..40).map(base).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "never shrinks");
        assert_eq!(base(39), CAP);
        assert_eq!(base(u32::MAX), CAP);
    }

    #[test]
    fn jitter_stays_within_half_and_all_of_the_wait() {
        for failures in 1..20 {
            let b = base(failures);
            assert_eq!(jittered(failures, 0.0), b / 2);
            assert_eq!(jittered(failures, 1.0), b);
            let j = jittered(failures, random_unit());
            assert!(j >= b / 2 && j <= b, "{j:?} outside [{:?}, {b:?}]", b / 2);
        }
    }
}
