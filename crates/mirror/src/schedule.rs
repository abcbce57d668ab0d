//! Periodic background work of the connectors and tasks (Java's MirrorMaker 2 `Scheduler`).

use std::time::Duration;

use ferry_connect::Result;
use tokio::task::JoinHandle;
use tracing::warn;

/// Runs `work` every `period` on a Tokio task, the first time at once or, when `delayed`, after
/// one period; failures are logged and the next run still happens. Abort the handle to stop.
pub(crate) fn repeat<F, Fut>(
    period: Duration,
    delayed: bool,
    what: &'static str,
    work: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<()>> + Send,
{
    tokio::spawn(async move {
        let first = if delayed { period } else { Duration::ZERO };
        let start = tokio::time::Instant::now() + first;
        let mut ticks = tokio::time::interval_at(start, period.max(Duration::from_millis(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = work().await {
                warn!("Failure {what}: {e}");
            }
        }
    })
}

/// Aborts background work when dropped, so that a connector or task dropped without `stop`
/// leaves nothing running.
#[derive(Debug, Default)]
pub(crate) struct Background(Vec<JoinHandle<()>>);

impl Background {
    pub(crate) fn push(&mut self, handle: JoinHandle<()>) {
        self.0.push(handle);
    }

    pub(crate) fn stop(&mut self) {
        for handle in self.0.drain(..) {
            handle.abort();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Paces a task's `poll` to one emission per interval, cancel-safely: the runtime may drop a
/// pending `poll` (to commit offsets, or to stop the task), and a plain `sleep(interval)` would
/// then start over on every call and, with a commit interval shorter than the emit interval,
/// never emit. The deadline lives here and moves only when an emission completes.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next: tokio::time::Instant,
}

impl Pacer {
    /// The first emission is due one interval from now, as Java's tasks sleep before emitting.
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: tokio::time::Instant::now() + interval,
        }
    }

    /// Waits until the next emission is due; dropping this future changes nothing.
    pub(crate) async fn due(&self) {
        tokio::time::sleep_until(self.next).await;
    }

    /// Records that an emission completed: the next is due one interval from now.
    pub(crate) fn emitted(&mut self) {
        self.next = tokio::time::Instant::now() + self.interval;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The clock is tokio's paused test clock: these are logical durations, not wall time.
    #[tokio::test(start_paused = true)]
    async fn a_dropped_wait_keeps_the_deadline() {
        let mut pacer = Pacer::new(Duration::from_secs(10));
        let interrupted = tokio::time::timeout(Duration::from_secs(6), pacer.due()).await;
        assert!(interrupted.is_err(), "due before the interval passed");
        // A plain sleep would need 10 s more here; the pacer needs what is left of the first.
        let resumed = tokio::time::timeout(Duration::from_secs(5), pacer.due()).await;
        assert!(
            resumed.is_ok(),
            "the deadline restarted after a dropped wait"
        );
        pacer.emitted();
        let early = tokio::time::timeout(Duration::from_secs(9), pacer.due()).await;
        assert!(
            early.is_err(),
            "the next emission came before a full interval"
        );
    }
}
