//! Where the worker reports the state of connectors and tasks (Java's `StatusBackingStore`):
//! a memory store for standalone mode; the distributed herder's store writes the status topic.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use crate::ConnectorTaskId;
pub use crate::storage::status_records::State;

/// The state of one connector or task instance, as `GET /connectors/NAME/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The state.
    pub state: State,
    /// Why it failed (the error and its causes), for [`State::Failed`].
    pub trace: Option<String>,
    /// The worker running it (`host:port`).
    pub worker_id: String,
}

impl Status {
    /// A status without a trace.
    pub fn new(state: State, worker_id: impl Into<String>) -> Self {
        Self {
            state,
            trace: None,
            worker_id: worker_id.into(),
        }
    }

    /// A FAILED status with its trace.
    pub fn failed(trace: impl Into<String>, worker_id: impl Into<String>) -> Self {
        Self {
            state: State::Failed,
            trace: Some(trace.into()),
            worker_id: worker_id.into(),
        }
    }
}

/// The states of connectors and tasks, and the topics each connector uses (KIP-558).
/// Writes must not block: a Kafka-backed store sends them in the background.
pub trait StatusBackingStore: Send + Sync + std::fmt::Debug {
    /// Records a connector's state.
    fn put_connector(&self, connector: &str, status: Status);
    /// Records a task's state.
    fn put_task(&self, id: &ConnectorTaskId, status: Status);
    /// A connector's last state.
    fn connector(&self, connector: &str) -> Option<Status>;
    /// The last state of each of a connector's tasks, ordered by task.
    fn tasks(&self, connector: &str) -> Vec<(ConnectorTaskId, Status)>;
    /// Forgets a connector's and its tasks' states (the connector was deleted).
    fn delete_connector(&self, connector: &str);
    /// Forgets one task's state (the connector has fewer tasks now).
    fn delete_task(&self, id: &ConnectorTaskId);
    /// Records that `connector` used `topic`.
    fn put_topic(&self, connector: &str, topic: &str);
    /// The topics `connector` used since they were last reset, sorted.
    fn topics(&self, connector: &str) -> Vec<String>;
    /// Forgets the topics `connector` used.
    fn reset_topics(&self, connector: &str);
}

#[derive(Debug, Default)]
struct Statuses {
    connectors: BTreeMap<String, Status>,
    tasks: BTreeMap<ConnectorTaskId, Status>,
    topics: BTreeMap<String, BTreeSet<String>>,
}

/// Statuses in memory (Java's `MemoryStatusBackingStore`), for standalone mode.
///
/// ```
/// use ferry_runtime::worker::{MemoryStatusStore, State, Status, StatusBackingStore};
/// let store = MemoryStatusStore::default();
/// store.put_connector("c", Status::new(State::Running, "host:8083"));
/// assert_eq!(store.connector("c").unwrap().state.name(), "RUNNING");
/// ```
#[derive(Debug, Default)]
pub struct MemoryStatusStore {
    statuses: Mutex<Statuses>,
}

impl MemoryStatusStore {
    fn lock(&self) -> MutexGuard<'_, Statuses> {
        self.statuses.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StatusBackingStore for MemoryStatusStore {
    fn put_connector(&self, connector: &str, status: Status) {
        self.lock().connectors.insert(connector.to_owned(), status);
    }

    fn put_task(&self, id: &ConnectorTaskId, status: Status) {
        self.lock().tasks.insert(id.clone(), status);
    }

    fn connector(&self, connector: &str) -> Option<Status> {
        self.lock().connectors.get(connector).cloned()
    }

    fn tasks(&self, connector: &str) -> Vec<(ConnectorTaskId, Status)> {
        self.lock()
            .tasks
            .iter()
            .filter(|(id, _)| id.connector == connector)
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect()
    }

    fn delete_connector(&self, connector: &str) {
        let mut statuses = self.lock();
        statuses.connectors.remove(connector);
        statuses.tasks.retain(|id, _| id.connector != connector);
        statuses.topics.remove(connector);
    }

    fn delete_task(&self, id: &ConnectorTaskId) {
        self.lock().tasks.remove(id);
    }

    fn put_topic(&self, connector: &str, topic: &str) {
        let mut statuses = self.lock();
        let topics = statuses.topics.entry(connector.to_owned()).or_default();
        if !topics.contains(topic) {
            topics.insert(topic.to_owned());
        }
    }

    fn topics(&self, connector: &str) -> Vec<String> {
        self.lock()
            .topics
            .get(connector)
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn reset_topics(&self, connector: &str) {
        self.lock().topics.remove(connector);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleting_a_connector_forgets_its_tasks_and_topics_only() {
        let store = MemoryStatusStore::default();
        for name in ["a", "ab"] {
            store.put_connector(name, Status::new(State::Running, "w"));
            store.put_task(&ConnectorTaskId::new(name, 0), Status::failed("boom", "w"));
            store.put_topic(name, "t");
        }
        store.delete_connector("a");
        assert!(store.connector("a").is_none());
        assert!(store.tasks("a").is_empty());
        assert!(store.topics("a").is_empty());
        assert_eq!(store.tasks("ab").len(), 1);
        assert_eq!(store.tasks("ab")[0].1.trace.as_deref(), Some("boom"));
        assert_eq!(store.topics("ab"), vec!["t"]);
    }
}
