//! Records of the status topic (`status.storage.topic`), as Java's `KafkaStatusBackingStore`
//! writes them.
//!
//! | key | value |
//! | --- | --- |
//! | `status-connector-NAME` | `{"state":"RUNNING","trace":null,"worker_id":"host:8083","generation":5}` |
//! | `status-task-NAME-N` | same as a connector's |
//! | `status-topic-TOPIC:connector-NAME` | `{"topic":{"name":T,"connector":C,"task":N,"discoverTimestamp":MS}}`, tombstone to forget |

use std::fmt;

use serde_json::{Map, Value};

use super::FormatError;
use super::config_records::parse_task_key;
use super::json::to_vec;
use crate::ConnectorTaskId;

const CONNECTOR_PREFIX: &str = "status-connector-";
const TASK_PREFIX: &str = "status-task-";
const TOPIC_PREFIX: &str = "status-topic-";
const TOPIC_SEPARATOR: &str = ":connector-";

/// What a status record is about.
///
/// ```
/// use ferry_runtime::storage::status_records::StatusKey;
/// let key = StatusKey::parse("status-task-my-connector-7").unwrap();
/// assert_eq!(key.to_string(), "status-task-my-connector-7");
/// assert!(matches!(key, StatusKey::Task(ref t) if t.connector == "my-connector" && t.task == 7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusKey {
    /// A connector instance.
    Connector(String),
    /// A task.
    Task(ConnectorTaskId),
    /// A topic a connector has used (KIP-558).
    Topic {
        /// The topic.
        topic: String,
        /// The connector.
        connector: String,
    },
}

impl StatusKey {
    /// Parses a key as Java does: the task number is after the last dash, and a topic key is
    /// split at its first `:`.
    pub fn parse(key: &str) -> Result<Self, FormatError> {
        let invalid = || FormatError::Key(key.to_owned());
        if let Some(connector) = key.strip_prefix(CONNECTOR_PREFIX) {
            if connector.is_empty() {
                return Err(invalid());
            }
            return Ok(Self::Connector(connector.to_owned()));
        }
        if key.starts_with(TASK_PREFIX) {
            return parse_task_key(key, 2).map(Self::Task).ok_or_else(invalid);
        }
        if let Some(rest) = key.strip_prefix(TOPIC_PREFIX) {
            let (topic, tail) = rest.split_once(':').ok_or_else(invalid)?;
            // Java skips the separator's length without checking its text.
            let connector = tail.get(TOPIC_SEPARATOR.len() - 1..).ok_or_else(invalid)?;
            if topic.is_empty() || connector.is_empty() {
                return Err(invalid());
            }
            return Ok(Self::Topic {
                topic: topic.to_owned(),
                connector: connector.to_owned(),
            });
        }
        Err(invalid())
    }
}

impl fmt::Display for StatusKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connector(c) => write!(f, "{CONNECTOR_PREFIX}{c}"),
            Self::Task(t) => write!(f, "{TASK_PREFIX}{t}"),
            Self::Topic { topic, connector } => {
                write!(f, "{TOPIC_PREFIX}{topic}{TOPIC_SEPARATOR}{connector}")
            }
        }
    }
}

/// The state of a connector or task instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not yet started by a worker.
    Unassigned,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Failed; the trace says why.
    Failed,
    /// Shut down for good (never shown to users).
    Destroyed,
    /// Being restarted.
    Restarting,
    /// Stopped (connectors only).
    Stopped,
}

impl State {
    const ALL: [Self; 7] = [
        Self::Unassigned,
        Self::Running,
        Self::Paused,
        Self::Failed,
        Self::Destroyed,
        Self::Restarting,
        Self::Stopped,
    ];

    /// The Java enum name, as written to the topic and shown by the REST API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unassigned => "UNASSIGNED",
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::Failed => "FAILED",
            Self::Destroyed => "DESTROYED",
            Self::Restarting => "RESTARTING",
            Self::Stopped => "STOPPED",
        }
    }
}

/// The status of a connector or task instance.
///
/// ```
/// use ferry_runtime::storage::status_records::{State, Status};
/// let s = Status { state: State::Running, trace: None, worker_id: "w1:8083".into(), generation: 5 };
/// assert_eq!(s.to_json(), br#"{"state":"RUNNING","trace":null,"worker_id":"w1:8083","generation":5}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The state.
    pub state: State,
    /// The failure's stack trace, if failed.
    pub trace: Option<String>,
    /// The worker's id (its advertised `host:port`).
    pub worker_id: String,
    /// The group generation the worker was in when it wrote this.
    pub generation: i32,
}

impl Status {
    /// The record value; every field is written, `trace` as `null` when absent.
    pub fn to_json(&self) -> Vec<u8> {
        let trace = self.trace.clone().map_or(Value::Null, Value::String);
        to_vec(&StatusJson {
            state: self.state.name(),
            trace,
            worker_id: &self.worker_id,
            generation: self.generation,
        })
    }

    /// Reads a record value.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FormatError> {
        let value = object(serde_json::from_slice(bytes)?)?;
        let state = str_field(&value, "state")?;
        let state = State::ALL
            .into_iter()
            .find(|s| s.name() == state)
            .ok_or(FormatError::Field("state"))?;
        let trace = match value.get("trace") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(FormatError::Field("trace")),
        };
        Ok(Self {
            state,
            trace,
            worker_id: str_field(&value, "worker_id")?.to_owned(),
            generation: int_field(&value, "generation")? as i32,
        })
    }
}

#[derive(serde::Serialize)]
struct StatusJson<'a> {
    state: &'a str,
    trace: Value,
    worker_id: &'a str,
    generation: i32,
}

/// A topic a connector's task produced to or consumed from (KIP-558).
///
/// ```
/// use ferry_runtime::storage::status_records::TopicStatus;
/// let s = TopicStatus { topic: "t".into(), connector: "c".into(), task: 0, discover_timestamp: 7 };
/// assert_eq!(s.to_json(), br#"{"topic":{"name":"t","connector":"c","task":0,"discoverTimestamp":7}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TopicStatus {
    /// The topic.
    #[serde(rename = "name")]
    pub topic: String,
    /// The connector.
    pub connector: String,
    /// The task that first used the topic.
    pub task: i32,
    /// When the topic was first used, in epoch milliseconds.
    #[serde(rename = "discoverTimestamp")]
    pub discover_timestamp: i64,
}

impl TopicStatus {
    /// The record value.
    pub fn to_json(&self) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Wrapped<'a> {
            topic: &'a TopicStatus,
        }
        to_vec(&Wrapped { topic: self })
    }

    /// Reads a record value.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FormatError> {
        let outer = object(serde_json::from_slice(bytes)?)?;
        let Some(Value::Object(inner)) = outer.get("topic") else {
            return Err(FormatError::Field("topic"));
        };
        Ok(Self {
            topic: str_field(inner, "name")?.to_owned(),
            connector: str_field(inner, "connector")?.to_owned(),
            task: int_field(inner, "task")? as i32,
            discover_timestamp: int_field(inner, "discoverTimestamp")?,
        })
    }
}

fn object(value: Value) -> Result<Map<String, Value>, FormatError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(FormatError::Shape("a JSON object")),
    }
}

fn str_field<'a>(
    value: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, FormatError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .ok_or(FormatError::Field(name))
}

fn int_field(value: &Map<String, Value>, name: &'static str) -> Result<i64, FormatError> {
    value
        .get(name)
        .and_then(Value::as_i64)
        .ok_or(FormatError::Field(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for key in [
            "status-connector-a-b",
            "status-task-a-b-12",
            "status-topic-orders:connector-my-conn",
        ] {
            assert_eq!(StatusKey::parse(key).unwrap().to_string(), key);
        }
    }

    #[test]
    fn task_key_splits_at_the_last_dash() {
        let key = StatusKey::parse("status-task-a--b-3").unwrap();
        assert_eq!(key, StatusKey::Task(ConnectorTaskId::new("a--b", 3)));
    }

    #[test]
    fn invalid_keys_are_refused_as_java_refuses_them() {
        for key in [
            "status-connector-",
            "status-task-x",
            "status-task-x-y",
            "status-task-x-",
            "status-topic-t",
            "status-topic-:connector-c",
            "status-topic-t:connector-",
            "status-topic-t:c",
            "other",
        ] {
            assert!(StatusKey::parse(key).is_err(), "{key}");
        }
    }

    #[test]
    fn topic_key_takes_connector_after_separator_length() {
        let key = StatusKey::parse("status-topic-t:XXXXXXXXXXc").unwrap();
        assert_eq!(
            key,
            StatusKey::Topic {
                topic: "t".into(),
                connector: "c".into()
            }
        );
    }

    #[test]
    fn status_with_trace_round_trips() {
        let status = Status {
            state: State::Failed,
            trace: Some("java.lang.Exception: boom\n\tat x".into()),
            worker_id: "10.0.0.1:8083".into(),
            generation: -1,
        };
        let bytes = status.to_json();
        assert_eq!(
            bytes,
            br#"{"state":"FAILED","trace":"java.lang.Exception: boom\n\tat x","worker_id":"10.0.0.1:8083","generation":-1}"#
        );
        assert_eq!(Status::from_json(&bytes).unwrap(), status);
    }

    #[test]
    fn status_reads_unknown_state_as_error() {
        let bytes = br#"{"state":"SLEEPING","trace":null,"worker_id":"w","generation":1}"#;
        assert!(matches!(
            Status::from_json(bytes),
            Err(FormatError::Field("state"))
        ));
        assert!(Status::from_json(b"[1]").is_err());
    }

    #[test]
    fn topic_status_round_trips() {
        let status = TopicStatus {
            topic: "orders".into(),
            connector: "sink".into(),
            task: 2,
            discover_timestamp: 1_700_000_000_000,
        };
        assert_eq!(TopicStatus::from_json(&status.to_json()).unwrap(), status);
        assert!(TopicStatus::from_json(br#"{"topic":null}"#).is_err());
    }
}
