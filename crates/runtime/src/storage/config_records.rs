//! Records of the config topic (`config.storage.topic`), keyed and valued exactly as Java's
//! `KafkaConfigBackingStore` writes them.
//!
//! | key | value |
//! | --- | --- |
//! | `connector-NAME` | `{"properties":{...}}`, tombstone when deleted |
//! | `task-NAME-N` | `{"properties":{...}}` |
//! | `commit-NAME` | `{"tasks":N}` |
//! | `target-state-NAME` | `{"state":"PAUSED","state.v2":"STOPPED"}`, tombstone when deleted |
//! | `session-key` | `{"key":BASE64,"algorithm":"HmacSHA256","creation-timestamp":MS}` |
//! | `tasks-fencing-NAME` | `{"task-count":N}` |
//! | `restart-connector-NAME` | `{"include-tasks":B,"only-failed":B}` |
//! | `logger-cluster-NAMESPACE` | `{"level":"DEBUG"}` |

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::{Map, Value, json};

use super::FormatError;
use super::json::to_vec;
use crate::ConnectorTaskId;

/// Connector or task configuration properties.
pub type Properties = BTreeMap<String, String>;

/// The desired state of a connector, as the config topic records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetState {
    /// Running (the default when no target state was written).
    Started,
    /// Tasks paused, connector and tasks still assigned.
    Paused,
    /// Connector and tasks shut down, task configs emptied (KIP-875).
    Stopped,
}

impl TargetState {
    /// The Java enum name written to the topic.
    pub fn name(self) -> &'static str {
        match self {
            Self::Started => "STARTED",
            Self::Paused => "PAUSED",
            Self::Stopped => "STOPPED",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Started, Self::Paused, Self::Stopped]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// The key that signs internal REST requests between workers (KIP-507).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey {
    /// The raw key bytes.
    pub key: Vec<u8>,
    /// The JCA algorithm name, e.g. `HmacSHA256`.
    pub algorithm: String,
    /// When the leader created the key, in epoch milliseconds.
    pub creation_timestamp: i64,
}

/// A request to restart a connector and maybe its tasks (KIP-745).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartRequest {
    /// The connector to restart.
    pub connector: String,
    /// Restart only instances that have failed.
    pub only_failed: bool,
    /// Restart the tasks too.
    pub include_tasks: bool,
}

/// One config-topic record: its key and its decoded value.
///
/// ```
/// use ferry_runtime::storage::config_records::{ConfigRecord, TargetState};
/// let record = ConfigRecord::TargetState { connector: "mm2".into(), state: Some(TargetState::Stopped) };
/// assert_eq!(record.key(), "target-state-mm2");
/// assert_eq!(record.value().unwrap(), br#"{"state":"PAUSED","state.v2":"STOPPED"}"#);
/// assert_eq!(ConfigRecord::parse("target-state-mm2", record.value().as_deref()).unwrap(), record);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigRecord {
    /// A connector's configuration; `None` (a tombstone) deletes the connector.
    ConnectorConfig {
        /// The connector's name.
        connector: String,
        /// Its configuration, or `None` when deleted.
        properties: Option<Properties>,
    },
    /// One task's configuration, applied once the connector's commit record arrives.
    TaskConfig {
        /// The task.
        task: ConnectorTaskId,
        /// Its configuration.
        properties: Properties,
    },
    /// Commits the task configurations written before it: the connector has `tasks` tasks.
    TaskCommit {
        /// The connector's name.
        connector: String,
        /// Its number of tasks.
        tasks: i32,
    },
    /// A connector's target state; `None` (a tombstone) is written with a connector's deletion.
    TargetState {
        /// The connector's name.
        connector: String,
        /// The state, or `None` when deleted.
        state: Option<TargetState>,
    },
    /// The current session key.
    SessionKey(SessionKey),
    /// The task count recorded after fencing a connector's zombie tasks (KIP-618).
    TaskCount {
        /// The connector's name.
        connector: String,
        /// The task count at fencing.
        task_count: i32,
    },
    /// A restart request.
    Restart(RestartRequest),
    /// A cluster-wide log level change (KIP-976).
    LoggerLevel {
        /// The logger namespace.
        namespace: String,
        /// The level name.
        level: String,
    },
}

const CONNECTOR_PREFIX: &str = "connector-";
const TASK_PREFIX: &str = "task-";
const COMMIT_PREFIX: &str = "commit-";
const TARGET_STATE_PREFIX: &str = "target-state-";
const SESSION_KEY_KEY: &str = "session-key";
const TASK_COUNT_PREFIX: &str = "tasks-fencing-";
const RESTART_PREFIX: &str = "restart-connector-";
const LOGGER_PREFIX: &str = "logger-cluster-";

/// Java's `Base64.getDecoder()`: standard alphabet, padding optional.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl ConfigRecord {
    /// The record key.
    pub fn key(&self) -> String {
        match self {
            Self::ConnectorConfig { connector, .. } => format!("{CONNECTOR_PREFIX}{connector}"),
            Self::TaskConfig { task, .. } => format!("{TASK_PREFIX}{task}"),
            Self::TaskCommit { connector, .. } => format!("{COMMIT_PREFIX}{connector}"),
            Self::TargetState { connector, .. } => format!("{TARGET_STATE_PREFIX}{connector}"),
            Self::SessionKey(_) => SESSION_KEY_KEY.to_owned(),
            Self::TaskCount { connector, .. } => format!("{TASK_COUNT_PREFIX}{connector}"),
            Self::Restart(r) => format!("{RESTART_PREFIX}{}", r.connector),
            Self::LoggerLevel { namespace, .. } => format!("{LOGGER_PREFIX}{namespace}"),
        }
    }

    /// The record value as Java writes it; `None` for a tombstone.
    pub fn value(&self) -> Option<Vec<u8>> {
        let value = match self {
            Self::ConnectorConfig { properties, .. } => {
                json!({ "properties": properties.as_ref()? })
            }
            Self::TaskConfig { properties, .. } => json!({ "properties": properties }),
            Self::TaskCommit { tasks, .. } => json!({ "tasks": tasks }),
            Self::TargetState { state, .. } => {
                let state = (*state)?;
                // Workers older than KIP-875 read only "state" and know no STOPPED.
                let legacy = if state == TargetState::Stopped {
                    TargetState::Paused
                } else {
                    state
                };
                return Some(to_vec(&ordered([
                    ("state", legacy.name().into()),
                    ("state.v2", state.name().into()),
                ])));
            }
            Self::SessionKey(k) => {
                return Some(to_vec(&ordered([
                    ("key", general_purpose::STANDARD.encode(&k.key).into()),
                    ("algorithm", k.algorithm.clone().into()),
                    ("creation-timestamp", k.creation_timestamp.into()),
                ])));
            }
            Self::TaskCount { task_count, .. } => json!({ "task-count": task_count }),
            Self::Restart(r) => {
                return Some(to_vec(&ordered([
                    ("include-tasks", r.include_tasks.into()),
                    ("only-failed", r.only_failed.into()),
                ])));
            }
            Self::LoggerLevel { level, .. } => json!({ "level": level }),
        };
        Some(to_vec(&value))
    }

    /// Reads a record as Java's config store does: the key decides the kind (prefixes tried in
    /// Java's order), `None` is a tombstone.
    pub fn parse(key: &str, value: Option<&[u8]>) -> Result<Self, FormatError> {
        let value = value.map(parse_object).transpose()?;
        if let Some(connector) = key.strip_prefix(TARGET_STATE_PREFIX) {
            let state = value.map(|v| target_state(&v)).transpose()?;
            return Ok(Self::TargetState {
                connector: connector.to_owned(),
                state,
            });
        }
        if let Some(connector) = key.strip_prefix(CONNECTOR_PREFIX) {
            let properties = value.map(|v| properties(&v)).transpose()?;
            return Ok(Self::ConnectorConfig {
                connector: connector.to_owned(),
                properties,
            });
        }
        if key.starts_with(TASK_PREFIX) {
            let task = parse_task_key(key, 1).ok_or_else(|| FormatError::Key(key.to_owned()))?;
            let properties = properties(&value.ok_or(FormatError::Tombstone)?)?;
            return Ok(Self::TaskConfig { task, properties });
        }
        let value = value.ok_or(FormatError::Tombstone);
        if let Some(connector) = key.strip_prefix(COMMIT_PREFIX) {
            return Ok(Self::TaskCommit {
                connector: connector.to_owned(),
                tasks: int_field(&value?, "tasks")?,
            });
        }
        if let Some(connector) = key.strip_prefix(RESTART_PREFIX) {
            let value = value?;
            // Java falls back to false for a missing or non-boolean flag.
            let flag = |name| value.get(name).and_then(Value::as_bool).unwrap_or(false);
            return Ok(Self::Restart(RestartRequest {
                connector: connector.to_owned(),
                only_failed: flag("only-failed"),
                include_tasks: flag("include-tasks"),
            }));
        }
        if let Some(connector) = key.strip_prefix(TASK_COUNT_PREFIX) {
            return Ok(Self::TaskCount {
                connector: connector.to_owned(),
                task_count: int_field(&value?, "task-count")?,
            });
        }
        if key == SESSION_KEY_KEY {
            return session_key(&value?).map(Self::SessionKey);
        }
        if let Some(namespace) = key.strip_prefix(LOGGER_PREFIX) {
            return Ok(Self::LoggerLevel {
                namespace: namespace.to_owned(),
                level: string_field(&value?, "level")?.to_owned(),
            });
        }
        Err(FormatError::Key(key.to_owned()))
    }
}

impl fmt::Display for TargetState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A JSON object whose fields keep the given order, as a Java `Struct` keeps its schema's.
fn ordered<const N: usize>(fields: [(&str, Value); N]) -> OrderedObject<N> {
    OrderedObject(fields.map(|(k, v)| (k.to_owned(), v)))
}

struct OrderedObject<const N: usize>([(String, Value); N]);

impl<const N: usize> serde::Serialize for OrderedObject<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(N))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Splits `PREFIX-...-NAME-N` at dashes as Java's `String.split("-")` does (dropping trailing
/// empty parts) and rejoins the parts after the first `skip` + 1 and before the last as the
/// connector name; so a connector name may contain dashes.
pub(crate) fn parse_task_key(key: &str, skip: usize) -> Option<ConnectorTaskId> {
    let mut parts: Vec<&str> = key.split('-').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    if parts.len() < skip + 2 {
        return None;
    }
    let (last, rest) = parts.split_last()?;
    let task = last.parse().ok()?;
    Some(ConnectorTaskId::new(rest[skip..].join("-"), task))
}

fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, FormatError> {
    match serde_json::from_slice(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(FormatError::Shape("a JSON object")),
    }
}

fn properties(value: &Map<String, Value>) -> Result<Properties, FormatError> {
    let Some(Value::Object(props)) = value.get("properties") else {
        return Err(FormatError::Shape("'properties' as an object"));
    };
    let mut out = Properties::new();
    for (k, v) in props {
        match v {
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            // Java's schema allows null values; a null property reads as unset.
            Value::Null => {}
            _ => return Err(FormatError::Shape("string property values")),
        }
    }
    Ok(out)
}

fn target_state(value: &Map<String, Value>) -> Result<TargetState, FormatError> {
    // Newer workers write "state.v2"; a non-string there falls back to "state" as in Java.
    let name = match value.get("state.v2") {
        Some(Value::String(s)) => s.as_str(),
        _ => string_field(value, "state")?,
    };
    TargetState::from_name(name).ok_or(FormatError::Shape("a known target state"))
}

fn session_key(value: &Map<String, Value>) -> Result<SessionKey, FormatError> {
    let key = BASE64_LENIENT
        .decode(string_field(value, "key")?)
        .map_err(|_| FormatError::Shape("'key' in base64"))?;
    let creation_timestamp = value
        .get("creation-timestamp")
        .and_then(Value::as_i64)
        .ok_or(FormatError::Shape("'creation-timestamp' as an integer"))?;
    Ok(SessionKey {
        key,
        algorithm: string_field(value, "algorithm")?.to_owned(),
        creation_timestamp,
    })
}

fn string_field<'a>(
    value: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, FormatError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .ok_or(FormatError::Field(name))
}

/// Reads an integer field, truncated to 32 bits as Java's `(int) longValue` does.
fn int_field(value: &Map<String, Value>, name: &'static str) -> Result<i32, FormatError> {
    value
        .get(name)
        .and_then(Value::as_i64)
        .map(|n| n as i32)
        .ok_or(FormatError::Field(name))
}

#[cfg(test)]
#[path = "config_records_tests.rs"]
mod tests;
