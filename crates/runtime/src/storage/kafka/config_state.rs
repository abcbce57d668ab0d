//! The state read from the config topic, applied record by record as Java's
//! `KafkaConfigBackingStore` applies them, and the [`ClusterConfigState`] snapshot it offers.
//!
//! Task configs wait for their connector's `commit-NAME` record; a commit whose task set is
//! incomplete (tasks 0..N-1 not all seen since the previous commit, e.g. after compaction)
//! marks the connector inconsistent and applies nothing, as in Java.

use std::collections::{BTreeMap, BTreeSet};

use crate::ConnectorTaskId;
use crate::storage::FormatError;
use crate::storage::config_records::{
    ConfigRecord, Properties, RestartRequest, SessionKey, TargetState,
};

/// What changed in the config topic, reported once the store has started (records read at
/// start are not reported, as in Java).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigUpdate {
    /// A connector was created or its config changed.
    ConnectorConfigUpdated(String),
    /// A connector was deleted.
    ConnectorConfigRemoved(String),
    /// A commit record applied new task configs; lists the tasks whose configs it applied
    /// (empty when it applied none, e.g. an inconsistent set).
    TasksReconfigured(Vec<ConnectorTaskId>),
    /// An existing connector's target state changed.
    TargetStateChanged(String),
    /// A new session key was read.
    SessionKeyUpdated(SessionKey),
    /// A restart was requested.
    RestartRequested(RestartRequest),
    /// A cluster-wide logger level was set (KIP-976).
    LoggerLevelUpdated {
        /// The logger namespace.
        namespace: String,
        /// The level.
        level: String,
    },
}

/// A snapshot of the cluster's connector configuration, Java's `ClusterConfigState`.
///
/// ```
/// use ferry_runtime::storage::kafka::ClusterConfigState;
/// let empty = ClusterConfigState::default();
/// assert_eq!(empty.offset(), -1);
/// assert!(empty.tasks("c").is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfigState {
    offset: i64,
    session_key: Option<SessionKey>,
    connector_configs: BTreeMap<String, Properties>,
    target_states: BTreeMap<String, TargetState>,
    task_configs: BTreeMap<ConnectorTaskId, Properties>,
    task_counts: BTreeMap<String, i32>,
    task_count_records: BTreeMap<String, i32>,
    task_config_generations: BTreeMap<String, i32>,
    applied_connector_configs: BTreeMap<String, Properties>,
    pending_fencing: BTreeSet<String>,
    inconsistent: BTreeSet<String>,
}

impl Default for ClusterConfigState {
    fn default() -> Self {
        Self {
            offset: -1,
            session_key: None,
            connector_configs: BTreeMap::new(),
            target_states: BTreeMap::new(),
            task_configs: BTreeMap::new(),
            task_counts: BTreeMap::new(),
            task_count_records: BTreeMap::new(),
            task_config_generations: BTreeMap::new(),
            applied_connector_configs: BTreeMap::new(),
            pending_fencing: BTreeSet::new(),
            inconsistent: BTreeSet::new(),
        }
    }
}

impl ClusterConfigState {
    /// The offset after the last record read (-1 before any): what the group protocol calls
    /// the config offset.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// The latest session key.
    pub fn session_key(&self) -> Option<&SessionKey> {
        self.session_key.as_ref()
    }

    /// Whether the connector exists.
    pub fn contains(&self, connector: &str) -> bool {
        self.connector_configs.contains_key(connector)
    }

    /// The connectors' names, sorted.
    pub fn connectors(&self) -> impl Iterator<Item = &str> {
        self.connector_configs.keys().map(String::as_str)
    }

    /// A connector's configuration (raw: config provider references are not resolved).
    pub fn connector_config(&self, connector: &str) -> Option<&Properties> {
        self.connector_configs.get(connector)
    }

    /// The connector configuration in force when its current task configs were committed.
    pub fn applied_connector_config(&self, connector: &str) -> Option<&Properties> {
        self.applied_connector_configs.get(connector)
    }

    /// A connector's target state.
    pub fn target_state(&self, connector: &str) -> Option<TargetState> {
        self.target_states.get(connector).copied()
    }

    /// A task's committed configuration.
    pub fn task_config(&self, task: &ConnectorTaskId) -> Option<&Properties> {
        self.task_configs.get(task)
    }

    /// The task count of the connector's last commit (0 when none).
    pub fn task_count(&self, connector: &str) -> i32 {
        self.task_counts.get(connector).copied().unwrap_or(0)
    }

    /// The connector's tasks per its last commit; none while it is inconsistent.
    pub fn tasks(&self, connector: &str) -> Vec<ConnectorTaskId> {
        if self.inconsistent.contains(connector) {
            return Vec::new();
        }
        (0..self.task_count(connector))
            .map(|task| ConnectorTaskId::new(connector, task))
            .collect()
    }

    /// The task count recorded at the connector's last zombie fencing (KIP-618).
    pub fn task_count_record(&self, connector: &str) -> Option<i32> {
        self.task_count_records.get(connector).copied()
    }

    /// How many task-config commits were applied for the connector (from 0).
    pub fn task_config_generation(&self, connector: &str) -> Option<i32> {
        self.task_config_generations.get(connector).copied()
    }

    /// Whether task configs were committed after the connector's last fencing record.
    pub fn pending_fencing(&self, connector: &str) -> bool {
        self.pending_fencing.contains(connector)
    }

    /// Connectors whose last commit named task configs that were not all present.
    pub fn inconsistent_connectors(&self) -> &BTreeSet<String> {
        &self.inconsistent
    }
}

/// The snapshot and the task configs still waiting for a commit.
#[derive(Debug, Default)]
pub(crate) struct ConfigLogState {
    pub(crate) snapshot: ClusterConfigState,
    /// Task configs by connector, applied by its next commit. An entry stays (emptied) after
    /// a commit: Java counts a generation for a commit whenever the entry exists.
    deferred: BTreeMap<String, BTreeMap<ConnectorTaskId, Properties>>,
}

impl ConfigLogState {
    /// Applies one record read at `offset`; returns the change to report, if any. Records that
    /// cannot be read are skipped as Java skips them (a value that is not JSON does not even
    /// advance the offset).
    pub(crate) fn apply(
        &mut self,
        offset: i64,
        key: &str,
        value: Option<&[u8]>,
    ) -> Option<ConfigUpdate> {
        let record = match ConfigRecord::parse(key, value) {
            Ok(record) => record,
            Err(FormatError::Json(error)) => {
                tracing::error!(key, %error, "skipping a config record whose value is not JSON");
                return None;
            }
            Err(error) => {
                self.snapshot.offset = offset + 1;
                tracing::error!(key, %error, "skipping an invalid config record");
                return None;
            }
        };
        self.snapshot.offset = offset + 1;
        let state = &mut self.snapshot;
        match record {
            ConfigRecord::TargetState {
                connector,
                state: None,
            } => {
                state.target_states.remove(&connector);
                // A connector that still exists always has a target state.
                if state.contains(&connector) {
                    state.target_states.insert(connector, TargetState::Started);
                }
                None
            }
            ConfigRecord::TargetState {
                connector,
                state: Some(target),
            } => {
                let previous = state.target_states.insert(connector.clone(), target);
                (previous != Some(target) && state.contains(&connector))
                    .then_some(ConfigUpdate::TargetStateChanged(connector))
            }
            ConfigRecord::ConnectorConfig {
                connector,
                properties: None,
            } => {
                self.remove_connector(&connector);
                Some(ConfigUpdate::ConnectorConfigRemoved(connector))
            }
            ConfigRecord::ConnectorConfig {
                connector,
                properties: Some(properties),
            } => {
                state
                    .connector_configs
                    .insert(connector.clone(), properties);
                state
                    .target_states
                    .entry(connector.clone())
                    .or_insert(TargetState::Started);
                Some(ConfigUpdate::ConnectorConfigUpdated(connector))
            }
            ConfigRecord::TaskConfig { task, properties } => {
                self.deferred
                    .entry(task.connector.clone())
                    .or_default()
                    .insert(task, properties);
                None
            }
            ConfigRecord::TaskCommit { connector, tasks } => self.commit(connector, tasks),
            ConfigRecord::SessionKey(key) => {
                state.session_key = Some(key.clone());
                Some(ConfigUpdate::SessionKeyUpdated(key))
            }
            ConfigRecord::TaskCount {
                connector,
                task_count,
            } => {
                state.pending_fencing.remove(&connector);
                state.task_count_records.insert(connector, task_count);
                None
            }
            ConfigRecord::Restart(request) => Some(ConfigUpdate::RestartRequested(request)),
            ConfigRecord::LoggerLevel { namespace, level } => {
                Some(ConfigUpdate::LoggerLevelUpdated { namespace, level })
            }
        }
    }

    fn commit(&mut self, connector: String, tasks: i32) -> Option<ConfigUpdate> {
        let Some(applied) = self.snapshot.connector_configs.get(&connector).cloned() else {
            // Deleted before the commit, and compaction removed its config and tombstone.
            self.remove_connector(&connector);
            return None;
        };
        let state = &mut self.snapshot;
        let mut updated = Vec::new();
        let deferred = self.deferred.get_mut(&connector);
        let complete = (0..tasks).all(|task| {
            deferred
                .as_ref()
                .is_some_and(|d| d.contains_key(&ConnectorTaskId::new(connector.as_str(), task)))
        });
        if complete {
            if let Some(deferred) = deferred {
                updated.extend(deferred.keys().cloned());
                state.task_configs.append(deferred);
                state
                    .task_config_generations
                    .entry(connector.clone())
                    .and_modify(|g| *g += 1)
                    .or_insert(0);
            }
            state.inconsistent.remove(&connector);
            state
                .applied_connector_configs
                .insert(connector.clone(), applied);
        } else {
            tracing::debug!(%connector, tasks, "incomplete task configs (compaction?): not applied");
            state.inconsistent.insert(connector.clone());
            // An inconsistent set is dropped: the next commit needs a fresh complete one.
            if let Some(deferred) = deferred {
                deferred.clear();
            }
        }
        state.task_counts.insert(connector.clone(), tasks);
        state.pending_fencing.insert(connector);
        Some(ConfigUpdate::TasksReconfigured(updated))
    }

    fn remove_connector(&mut self, connector: &str) {
        let state = &mut self.snapshot;
        state.connector_configs.remove(connector);
        state.task_counts.remove(connector);
        state.task_configs.retain(|id, _| id.connector != connector);
        state.applied_connector_configs.remove(connector);
        self.deferred.remove(connector);
    }
}

#[cfg(test)]
#[path = "config_state_tests.rs"]
mod tests;
