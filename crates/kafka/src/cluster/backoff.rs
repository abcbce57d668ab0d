//! Exponential backoff with jitter, as Java's `ExponentialBackoff` computes it for reconnects
//! (`reconnect.backoff.ms` → `reconnect.backoff.max.ms`) and retries (`retry.backoff.ms` →
//! `retry.backoff.max.ms`): the base doubles with each attempt up to the maximum, then a random
//! factor in [0.8, 1.2) is applied and the result capped at the maximum.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// An exponential backoff policy with ±20 % jitter.
///
/// ```
/// use std::time::Duration;
/// use ferry_kafka::cluster::ExponentialBackoff;
/// let b = ExponentialBackoff::new(Duration::from_millis(50), Duration::from_millis(1000));
/// let first = b.backoff(0);
/// assert!(first >= Duration::from_millis(40) && first < Duration::from_millis(60));
/// assert!(b.backoff(30) <= Duration::from_millis(1000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialBackoff {
    initial: Duration,
    max: Duration,
    /// The exponent at which `initial · 2^exp` reaches `max`.
    exp_max: f64,
}

const MULTIPLIER: f64 = 2.0;
const JITTER: f64 = 0.2;

impl ExponentialBackoff {
    /// A policy starting at `initial` and never exceeding `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.min(max);
        let exp_max = if max > initial && !initial.is_zero() {
            (max.as_secs_f64() / initial.as_secs_f64()).ln() / MULTIPLIER.ln()
        } else {
            0.0
        };
        Self {
            initial,
            max,
            exp_max,
        }
    }

    /// How long to wait after `attempts` previous failures (0 for the first retry).
    pub fn backoff(&self, attempts: u32) -> Duration {
        self.backoff_with(attempts, random_unit())
    }

    /// `backoff` with the random draw `unit` in [0, 1) given, for tests.
    fn backoff_with(&self, attempts: u32, unit: f64) -> Duration {
        if self.exp_max == 0.0 {
            return self.initial;
        }
        let exp = f64::from(attempts).min(self.exp_max);
        let term = self.initial.as_secs_f64() * MULTIPLIER.powf(exp);
        let factor = 1.0 - JITTER + unit * 2.0 * JITTER;
        Duration::from_secs_f64(term * factor).min(self.max)
    }
}

/// A number in [0, 1) from the standard library's per-process random hash keys; enough for
/// jitter, which only has to keep clients from retrying in lockstep.
fn random_unit() -> f64 {
    let bits = RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn doubles_then_caps() {
        let b = ExponentialBackoff::new(MS(50), MS(1000));
        let mid = |a| b.backoff_with(a, 0.5);
        assert_eq!(mid(0), MS(50));
        assert_eq!(mid(1), MS(100));
        assert_eq!(mid(2), MS(200));
        assert_eq!(mid(4), MS(800));
        assert_eq!(mid(5), MS(1000));
        assert_eq!(mid(60), MS(1000));
        assert_eq!(b.backoff_with(0, 0.0), MS(40));
    }

    #[test]
    fn constant_when_max_not_above_initial() {
        let b = ExponentialBackoff::new(MS(100), MS(100));
        assert_eq!(b.backoff(7), MS(100));
        let capped = ExponentialBackoff::new(MS(500), MS(100));
        assert_eq!(capped.backoff(0), MS(100));
    }

    proptest! {
        #[test]
        fn within_jitter_bounds(initial in 1u64..5000, extra in 0u64..100_000, attempts in 0u32..100) {
            let b = ExponentialBackoff::new(MS(initial), MS(initial + extra));
            let d = b.backoff(attempts);
            prop_assert!(d <= MS(initial + extra));
            prop_assert!(d.as_secs_f64() >= MS(initial).as_secs_f64() * 0.8 - 1e-9);
        }
    }
}
