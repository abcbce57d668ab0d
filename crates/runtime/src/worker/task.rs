//! What the worker tells a running task, and how a task is supervised: a task that fails or
//! panics is FAILED with its trace, and never takes the worker down.

use std::future::Future;
use std::sync::Arc;

use ferry_connect::ConnectError;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

use super::status::{State, Status, StatusBackingStore};
use crate::ConnectorTaskId;
use crate::errors::trace;
use crate::herder::TargetState;

/// What a task should be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskSignal {
    /// Processing records.
    Run,
    /// Keeping its resources but processing nothing.
    Pause,
    /// Shutting down.
    Stop,
}

impl From<TargetState> for TaskSignal {
    fn from(state: TargetState) -> Self {
        match state {
            TargetState::Started => Self::Run,
            TargetState::Paused => Self::Pause,
            TargetState::Stopped => Self::Stop,
        }
    }
}

/// Waits until the signal is no longer [`TaskSignal::Pause`] (or the sender is gone).
pub(crate) async fn wait_while_paused(signal: &mut watch::Receiver<TaskSignal>) {
    while *signal.borrow_and_update() == TaskSignal::Pause {
        if signal.changed().await.is_err() {
            return;
        }
    }
}

/// Records RUNNING or PAUSED each time a task's signal moves between run and pause (and once at
/// the start); `reported` is whether RUNNING was the last state recorded.
pub(crate) fn report_run_state(
    reported: &mut Option<bool>,
    signal: TaskSignal,
    status: &dyn StatusBackingStore,
    id: &ConnectorTaskId,
    worker_id: &str,
) {
    let run = signal == TaskSignal::Run;
    if *reported == Some(run) {
        return;
    }
    *reported = Some(run);
    let state = if run { State::Running } else { State::Paused };
    status.put_task(id, Status::new(state, worker_id));
}

/// A running task: its control channel and the supervisor awaiting it.
#[derive(Debug)]
pub(crate) struct TaskHandle {
    pub signal: watch::Sender<TaskSignal>,
    /// The supervisor; it ends once the task has ended and its final state is recorded.
    pub join: JoinHandle<()>,
    /// Cancels the task itself, for a task that does not stop in time.
    pub abort: AbortHandle,
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a task panicked".to_owned())
}

/// Spawns `run` and a supervisor that records how it ended: FAILED with the error's trace (or
/// the panic's message), UNASSIGNED when it stopped normally.
pub(crate) fn supervise(
    id: ConnectorTaskId,
    worker_id: String,
    status: Arc<dyn StatusBackingStore>,
    run: impl Future<Output = Result<(), ConnectError>> + Send + 'static,
) -> (JoinHandle<()>, AbortHandle) {
    let inner = tokio::spawn(run);
    let abort = inner.abort_handle();
    let supervisor = tokio::spawn(async move {
        let outcome = match inner.await {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(trace(&error)),
            Err(join) if join.is_panic() => Some(format!(
                "org.apache.kafka.connect.errors.ConnectException: task panicked: {}",
                panic_message(&*join.into_panic())
            )),
            Err(_) => None,
        };
        match outcome {
            Some(trace) => {
                tracing::error!(task = %id, "{id} Task threw an uncaught and unrecoverable exception. Task is being killed and will not recover until manually restarted: {trace}");
                status.put_task(&id, Status::failed(trace, worker_id));
            }
            None => {
                tracing::info!(task = %id, "task stopped");
                status.put_task(&id, Status::new(State::Unassigned, worker_id));
            }
        }
    });
    (supervisor, abort)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::MemoryStatusStore;

    #[test]
    fn run_state_is_recorded_only_when_it_changes() {
        let store = MemoryStatusStore::default();
        let id = ConnectorTaskId::new("c", 0);
        let state = |store: &MemoryStatusStore| store.tasks("c").pop().map(|(_, s)| s.state);
        let mut reported = None;
        report_run_state(&mut reported, TaskSignal::Run, &store, &id, "w");
        assert_eq!(state(&store), Some(State::Running));
        store.put_task(&id, Status::failed("x", "w"));
        report_run_state(&mut reported, TaskSignal::Run, &store, &id, "w");
        assert_eq!(state(&store), Some(State::Failed));
        report_run_state(&mut reported, TaskSignal::Pause, &store, &id, "w");
        assert_eq!(state(&store), Some(State::Paused));
        report_run_state(&mut reported, TaskSignal::Run, &store, &id, "w");
        assert_eq!(state(&store), Some(State::Running));
    }
}
