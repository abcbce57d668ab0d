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
