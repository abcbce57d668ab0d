//! The JSON bodies of Kafka Connect's REST API (Java's `rest.entities`), with Java's field names
//! and field order, so that responses are byte-for-byte what Java's Jackson writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ConnectorTaskId;
use crate::worker::Status;

/// A connector's or a task's configuration as REST carries it.
pub type ConfigMap = BTreeMap<String, String>;

/// Whether a connector is a source or a sink (`unknown` when its plugin cannot be loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorType {
    /// A source connector.
    Source,
    /// A sink connector.
    Sink,
    /// The plugin is not known to this worker.
    Unknown,
}

/// `GET /connectors/{name}`: `{"name", "config", "tasks", "type"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// The connector's name.
    pub name: String,
    /// Its configuration.
    pub config: ConfigMap,
    /// Its tasks, in order.
    pub tasks: Vec<ConnectorTaskId>,
    /// Source or sink.
    #[serde(rename = "type")]
    pub kind: ConnectorType,
}

/// One entry of `GET /connectors/{name}/tasks`: `{"id": {"connector", "task"}, "config"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// The task.
    pub id: ConnectorTaskId,
    /// Its configuration, as the connector generated it.
    pub config: ConfigMap,
}

/// The state of a connector or task as `GET /connectors/{name}/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorState {
    /// `UNASSIGNED`, `RUNNING`, `PAUSED`, `STOPPED`, `FAILED` or `RESTARTING`.
    pub state: String,
    /// The advertised `host:port` of the worker running it.
    pub worker_id: String,
    /// The failure's stack trace; left out when empty, as Java does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// One task's entry in a status response: `{"id", "state", "worker_id", "trace"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskState {
    /// The task's index.
    pub id: i32,
    /// As [`ConnectorState::state`].
    pub state: String,
    /// As [`ConnectorState::worker_id`].
    pub worker_id: String,
    /// As [`ConnectorState::trace`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

impl From<Status> for ConnectorState {
    fn from(status: Status) -> Self {
        Self {
            state: status.state.name().to_owned(),
            worker_id: status.worker_id,
            trace: status.trace,
        }
    }
}

impl TaskState {
    /// Task `id`'s entry for the `status` a worker recorded.
    pub fn from_status(id: i32, status: Status) -> Self {
        Self {
            id,
            state: status.state.name().to_owned(),
            worker_id: status.worker_id,
            trace: status.trace,
        }
    }
}

/// `GET /connectors/{name}/status`: `{"name", "connector", "tasks", "type"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorStateInfo {
    /// The connector's name.
    pub name: String,
    /// The connector instance's state.
    pub connector: ConnectorState,
    /// Each task's state, ordered by task index.
    pub tasks: Vec<TaskState>,
    /// Source or sink.
    #[serde(rename = "type")]
    pub kind: ConnectorType,
}

/// `GET /connectors/{name}/topics`: `{"NAME": {"topics": [...]}}` is built from this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveTopicsInfo {
    /// The topics the connector has used since its active topics were last reset.
    pub topics: Vec<String>,
}

/// One source partition's offset, or one sink topic partition's committed offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorOffset {
    /// The source partition (`{"kafka_topic", "kafka_partition"}` for sinks).
    pub partition: Map<String, Value>,
    /// The offset (`{"kafka_offset"}` for sinks); `null` in a PATCH request resets it.
    pub offset: Option<Map<String, Value>>,
}

/// `GET/PATCH /connectors/{name}/offsets`: `{"offsets": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorOffsets {
    /// Every partition's offset.
    pub offsets: Vec<ConnectorOffset>,
}

/// A plain `{"message": ...}` answer (offsets API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// What happened.
    pub message: String,
}

/// `GET /`: `{"version", "commit", "kafka_cluster_id"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The worker's version.
    pub version: String,
    /// The commit it was built from.
    pub commit: String,
    /// The Kafka cluster the worker belongs to.
    pub kafka_cluster_id: String,
}

/// The body of `POST /connectors`: `{"name", "config", "initial_state"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateConnectorRequest {
    /// The connector's name (also accepted inside `config`).
    pub name: Option<String>,
    /// Its configuration.
    pub config: Option<ConfigMap>,
    /// `RUNNING` (default), `PAUSED` or `STOPPED`.
    #[serde(default)]
    pub initial_state: Option<InitialState>,
}

/// The states a connector may be created in (KIP-980).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum InitialState {
    /// Start it.
    Running,
    /// Create it paused.
    Paused,
    /// Create it stopped.
    Stopped,
}

impl From<InitialState> for TargetState {
    fn from(state: InitialState) -> Self {
        match state {
            InitialState::Running => TargetState::Started,
            InitialState::Paused => TargetState::Paused,
            InitialState::Stopped => TargetState::Stopped,
        }
    }
}

/// What the user wants a connector to be doing (Java's `TargetState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    /// Running.
    #[default]
    Started,
    /// Instances kept, but not processing records.
    Paused,
    /// Connector and tasks shut down, task configs emptied (KIP-875).
    Stopped,
}

/// `{"error_code", "message"}`: every error answer of the REST API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// The HTTP status code.
    pub error_code: u16,
    /// What went wrong.
    pub message: String,
}

/// `GET /admin/loggers/{logger}`: `{"level", "last_modified"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggerLevel {
    /// The effective level, e.g. `INFO`.
    pub level: String,
    /// When it was last set through the API (ms since the epoch), `null` if never.
    pub last_modified: Option<i64>,
}

/// What `POST /connectors/{name}/restart` asks for (KIP-745).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartRequest {
    /// The connector.
    pub connector: String,
    /// Restart only instances that are FAILED.
    pub only_failed: bool,
    /// Restart the tasks as well as the connector instance.
    pub include_tasks: bool,
}

/// A result that may have created something (`201 Created` rather than `200 OK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    /// Whether the request created the resource.
    pub created: bool,
    /// The resource.
    pub result: T,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::worker::State;

    #[test]
    fn recorded_statuses_show_as_java_shows_them() {
        let failed = Status::failed("boom", "w:8083");
        assert_eq!(
            serde_json::to_value(ConnectorState::from(failed.clone())).unwrap(),
            json!({"state": "FAILED", "worker_id": "w:8083", "trace": "boom"})
        );
        assert_eq!(
            serde_json::to_value(TaskState::from_status(2, failed)).unwrap(),
            json!({"id": 2, "state": "FAILED", "worker_id": "w:8083", "trace": "boom"})
        );
        assert_eq!(
            serde_json::to_value(TaskState::from_status(0, Status::new(State::Running, "w")))
                .unwrap(),
            json!({"id": 0, "state": "RUNNING", "worker_id": "w"})
        );
    }
}
