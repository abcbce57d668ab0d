//! Pacing records to a target rate, as Java's `ThroughputThrottler` does.

use std::time::Duration;

/// Sleeps shorter than this are saved up rather than taken, since timers are coarse.
const MIN_SLEEP: Duration = Duration::from_millis(2);

/// Keeps a producer at `throughput` records per second on average since it started.
///
/// A negative throughput means no limit; zero means no records at all.
#[derive(Debug)]
pub(crate) struct Throttle {
    start_ms: i64,
    throughput: f64,
    sleep_per_record: Duration,
    deficit: Duration,
}

impl Throttle {
    /// A throttle whose count starts at `start_ms`.
    pub(crate) fn new(throughput: i64, start_ms: i64) -> Self {
        let throughput = throughput as f64;
        let sleep_per_record = if throughput > 0.0 {
            Duration::from_secs_f64(1.0 / throughput)
        } else {
            Duration::MAX
        };
        Self {
            start_ms,
            throughput,
            sleep_per_record,
            deficit: Duration::ZERO,
        }
    }

    /// Whether `sent` records by `now_ms` is ahead of the target rate.
    pub(crate) fn should_throttle(&self, sent: i64, now_ms: i64) -> bool {
        if self.throughput < 0.0 {
            return false;
        }
        // Java computes the elapsed seconds as a float; kept for the same rounding.
        let elapsed_secs = (now_ms - self.start_ms) as f32 / 1000.0;
        elapsed_secs > 0.0 && sent as f64 / f64::from(elapsed_secs) > self.throughput
    }

    /// Waits for one record's share of time, in naps of at least [`MIN_SLEEP`]; forever when
    /// the throughput is zero. Cancel-safe: a cancelled nap is simply not taken.
    pub(crate) async fn throttle(&mut self) {
        if self.throughput == 0.0 {
            std::future::pending::<()>().await;
        }
        self.deficit = self.deficit.saturating_add(self.sleep_per_record);
        if self.deficit >= MIN_SLEEP {
            let nap = std::mem::take(&mut self.deficit);
            tokio::time::sleep(nap).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_only_when_ahead_of_the_target_rate() {
        let throttle = Throttle::new(100, 1_000);
        assert!(
            !throttle.should_throttle(1_000, 1_000),
            "no time elapsed yet"
        );
        assert!(throttle.should_throttle(101, 2_000));
        assert!(!throttle.should_throttle(100, 2_000));
        assert!(!throttle.should_throttle(150, 2_500));
    }

    #[test]
    fn negative_throughput_never_throttles() {
        let throttle = Throttle::new(-1, 0);
        assert!(!throttle.should_throttle(i64::MAX / 2, 1));
    }

    #[test]
    fn zero_throughput_throttles_from_the_first_record_after_start() {
        let throttle = Throttle::new(0, 0);
        assert!(throttle.should_throttle(1, 1));
    }

    #[tokio::test]
    async fn short_sleeps_are_saved_up_into_one_nap() {
        let mut throttle = Throttle::new(1_000_000, 0);
        throttle.throttle().await;
        assert_eq!(throttle.deficit, Duration::from_micros(1));
        let mut slow = Throttle::new(400, 0);
        slow.throttle().await;
        assert_eq!(slow.deficit, Duration::ZERO, "2.5 ms is taken at once");
    }
}
