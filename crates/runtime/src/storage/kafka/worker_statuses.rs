//! [`WorkerStatuses`]: the worker's [`StatusBackingStore`] on the status topic. The worker
//! reports states without a group generation; this adds the current generation, as Java's
//! herder does for every status it writes, and writes deletions as this worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::KafkaStatusBackingStore;
use crate::ConnectorTaskId;
use crate::storage::status_records::{self, State, TopicStatus};
use crate::worker::{Status, StatusBackingStore};

/// One worker's view of a [`KafkaStatusBackingStore`].
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<ferry_runtime::storage::kafka::KafkaStatusBackingStore>) {
/// use ferry_runtime::storage::kafka::WorkerStatuses;
/// use ferry_runtime::worker::{State, Status, StatusBackingStore};
/// let statuses = WorkerStatuses::new(store, "10.0.0.1:8083");
/// statuses.set_generation(7); // after each rebalance
/// statuses.put_connector("c", Status::new(State::Running, "10.0.0.1:8083"));
/// # }
/// ```
#[derive(Debug)]
pub struct WorkerStatuses {
    store: Arc<KafkaStatusBackingStore>,
    worker_id: String,
    generation: AtomicI32,
}

impl WorkerStatuses {
    /// Statuses written by worker `worker_id` (its advertised `host:port`), at generation -1
    /// until [`WorkerStatuses::set_generation`].
    pub fn new(store: Arc<KafkaStatusBackingStore>, worker_id: impl Into<String>) -> Self {
        Self {
            store,
            worker_id: worker_id.into(),
            generation: AtomicI32::new(-1),
        }
    }

    /// Sets the group generation written with the following statuses.
    pub fn set_generation(&self, generation: i32) {
        self.generation.store(generation, Ordering::Relaxed);
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<KafkaStatusBackingStore> {
        &self.store
    }

    fn with_generation(&self, status: Status) -> status_records::Status {
        status_records::Status {
            state: status.state,
            trace: status.trace,
            worker_id: status.worker_id,
            generation: self.generation.load(Ordering::Relaxed),
        }
    }

    fn destroyed(&self) -> Status {
        Status::new(State::Destroyed, self.worker_id.clone())
    }
}

fn plain(status: status_records::Status) -> Status {
    Status {
        state: status.state,
        trace: status.trace,
        worker_id: status.worker_id,
    }
}

/// Java's herder writes FAILED and UNASSIGNED (shutdown) with `putSafe`, so that a worker
/// that lost a connector or task in a rebalance does not overwrite its new owner's status.
fn is_safe_write(status: &Status) -> bool {
    matches!(status.state, State::Failed | State::Unassigned)
}

impl StatusBackingStore for WorkerStatuses {
    fn put_connector(&self, connector: &str, status: Status) {
        let safe = is_safe_write(&status);
        let status = self.with_generation(status);
        if safe {
            self.store.put_connector_safe(connector, status);
        } else {
            self.store.put_connector(connector, status);
        }
    }

    fn put_task(&self, id: &ConnectorTaskId, status: Status) {
        let safe = is_safe_write(&status);
        let status = self.with_generation(status);
        if safe {
            self.store.put_task_safe(id, status);
        } else {
            self.store.put_task(id, status);
        }
    }

    fn connector(&self, connector: &str) -> Option<Status> {
        self.store.connector(connector).map(plain)
    }

    fn tasks(&self, connector: &str) -> Vec<(ConnectorTaskId, Status)> {
        self.store
            .tasks(connector)
            .into_iter()
            .map(|(id, status)| (id, plain(status)))
            .collect()
    }

    /// Writes DESTROYED (a tombstone) for each known task, then for the connector, as Java's
    /// herder does on deletion.
    fn delete_connector(&self, connector: &str) {
        for (id, _) in self.store.tasks(connector) {
            self.delete_task(&id);
        }
        self.put_connector(connector, self.destroyed());
    }

    fn delete_task(&self, id: &ConnectorTaskId) {
        self.put_task(id, self.destroyed());
    }

    /// Writes the topic once: a topic already recorded for the connector keeps its first
    /// discovery. The worker does not say which task found it, so task 0 is recorded.
    fn put_topic(&self, connector: &str, topic: &str) {
        if self.store.topic(connector, topic).is_some() {
            return;
        }
        let discover_timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.store.put_topic(&TopicStatus {
            topic: topic.to_owned(),
            connector: connector.to_owned(),
            task: 0,
            discover_timestamp,
        });
    }

    fn topics(&self, connector: &str) -> Vec<String> {
        self.store
            .topics(connector)
            .into_iter()
            .map(|t| t.topic)
            .collect()
    }

    fn reset_topics(&self, connector: &str) {
        for topic in self.store.topics(connector) {
            self.store.delete_topic(connector, &topic.topic);
        }
    }
}
