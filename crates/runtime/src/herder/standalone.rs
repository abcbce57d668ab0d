//! The standalone herder (Java's `StandaloneHerder`): one worker, no group; connector configs
//! live in memory (the files given on the command line, plus REST changes), offsets in the
//! worker's offset store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use ferry_connect::ConnectError;
use ferry_connect::config::{ConfigDef, ConfigInfos, ConfigKeyInfo};
use ferry_connect::plugin::ConnectorPlugin;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, mpsc};

use super::entities::ConnectorOffset;
use super::{
    ActiveTopicsInfo, ConfigMap, ConnectorInfo, ConnectorOffsets, ConnectorState,
    ConnectorStateInfo, ConnectorType, Created, Herder, HerderError, HerderResult, Message,
    RequestSignature, RestartRequest, ServerInfo, TargetState, TaskInfo, TaskState,
};
use crate::ConnectorTaskId;
use crate::storage::offsets::{OffsetStorageWriter, connector_offsets};
use crate::worker::{
    CONNECTOR_CLASS_CONFIG, NAME_CONFIG, State, Status, TASKS_MAX_CONFIG, Worker,
    add_sink_topic_errors, connector_config_def, sink_offsets,
};

/// The answer to a successful `PATCH /connectors/NAME/offsets`.
const ALTERED: &str = "The offsets for this connector have been altered successfully";
/// The answer to a successful `DELETE /connectors/NAME/offsets`.
const RESET: &str = "The offsets for this connector have been reset successfully";

#[derive(Debug, Clone)]
struct Entry {
    config: ConfigMap,
    target: TargetState,
    tasks: Vec<ConfigMap>,
}

/// The standalone herder. Create it with [`StandaloneHerder::start`].
#[derive(Debug)]
pub struct StandaloneHerder {
    worker: Arc<Worker>,
    kafka_cluster_id: String,
    connectors: Mutex<BTreeMap<String, Entry>>,
    reconfigure: mpsc::UnboundedSender<String>,
}

fn hash(config: &ConfigMap) -> HashMap<String, String> {
    config.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn tree(config: HashMap<String, String>) -> ConfigMap {
    config.into_iter().collect()
}

fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

fn internal(error: impl std::fmt::Display) -> HerderError {
    HerderError::Internal(error.to_string())
}

impl StandaloneHerder {
    /// A herder driving `worker`; `kafka_cluster_id` is what `GET /` reports. Spawns the task
    /// that regenerates task configs when a connector asks for it.
    pub fn start(worker: Arc<Worker>, kafka_cluster_id: impl Into<String>) -> Arc<Self> {
        let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
        let herder = Arc::new(Self {
            worker,
            kafka_cluster_id: kafka_cluster_id.into(),
            connectors: Mutex::new(BTreeMap::new()),
            reconfigure: sender,
        });
        let weak: Weak<Self> = Arc::downgrade(&herder);
        tokio::spawn(async move {
            while let Some(name) = receiver.recv().await {
                let Some(herder) = weak.upgrade() else { return };
                let mut connectors = herder.connectors.lock().await;
                if let Some(entry) = connectors.get_mut(&name)
                    && entry.target == TargetState::Started
                    && let Err(error) = herder.update_tasks(&name, entry, false).await
                {
                    tracing::error!(connector = %name, %error, "task reconfiguration failed");
                }
            }
        });
        herder
    }

    /// The worker this herder drives.
    pub fn worker(&self) -> &Arc<Worker> {
        &self.worker
    }

    /// Stops every connector and task, committing offsets.
    pub async fn stop(&self) {
        self.worker.stop().await;
    }

    fn validation_error(&self, config: &ConfigMap) -> Result<(), HerderError> {
        let infos = self.validate(config)?;
        if infos.error_count == 0 {
            return Ok(());
        }
        let mut message = format!(
            "Connector configuration is invalid and contains the following {} error(s):",
            infos.error_count
        );
        for info in &infos.configs {
            if let Some(value) = &info.value {
                for error in &value.errors {
                    message.push('\n');
                    message.push_str(error);
                }
            }
        }
        message.push_str("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
        Err(HerderError::BadRequest(message))
    }

    fn validate(&self, config: &ConfigMap) -> Result<ConfigInfos, HerderError> {
        validate_config(&self.worker, config)
    }

    /// (Re)generates the task configs and restarts the tasks if they changed (or `force`).
    async fn update_tasks(
        &self,
        name: &str,
        entry: &mut Entry,
        force: bool,
    ) -> Result<(), HerderError> {
        let max = entry
            .config
            .get(TASKS_MAX_CONFIG)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1);
        let configs: Vec<ConfigMap> = self
            .worker
            .connector_task_configs(name, max)
            .await
            .map_err(internal)?
            .into_iter()
            .map(tree)
            .collect();
        if !force && configs == entry.tasks {
            return Ok(());
        }
        self.worker.stop_tasks(name).await;
        for (index, _) in entry.tasks.iter().enumerate().skip(configs.len()) {
            self.worker
                .status()
                .delete_task(&ConnectorTaskId::new(name, index as i32));
        }
        entry.tasks = configs;
        self.start_tasks(name, entry).await;
        Ok(())
    }

    async fn start_tasks(&self, name: &str, entry: &Entry) {
        let connector = hash(&entry.config);
        for (index, config) in entry.tasks.iter().enumerate() {
            let id = ConnectorTaskId::new(name, index as i32);
            // A task that cannot start is FAILED with its trace; the others still start.
            let _ = self
                .worker
                .start_task(&id, &connector, hash(config), entry.target)
                .await;
        }
    }

    /// Starts a connector in its target state, then its tasks unless it is STOPPED.
    async fn start_connector(&self, name: &str, entry: &mut Entry) -> Result<(), HerderError> {
        let sender = self.reconfigure.clone();
        let callback = Arc::new(move |name: &str| {
            let _ = sender.send(name.to_owned());
        });
        if self
            .worker
            .start_connector(name, hash(&entry.config), entry.target, callback)
            .await
            .is_err()
        {
            return Ok(());
        }
        if entry.target == TargetState::Stopped {
            entry.tasks.clear();
            return Ok(());
        }
        if entry.target == TargetState::Started || entry.tasks.is_empty() {
            match self.update_tasks(name, entry, true).await {
                Ok(()) => {}
                Err(error) => {
                    self.worker.status().put_connector(
                        name,
                        Status::failed(error.to_string(), self.worker.worker_id()),
                    );
                }
            }
        } else {
            self.start_tasks(name, entry).await;
        }
        Ok(())
    }

    async fn stop_connector(&self, name: &str) {
        self.worker.stop_tasks(name).await;
        self.worker.stop_connector(name).await;
    }

    fn info(&self, name: &str, entry: &Entry) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_owned(),
            config: entry.config.clone(),
            tasks: (0..entry.tasks.len())
                .map(|i| ConnectorTaskId::new(name, i as i32))
                .collect(),
            kind: self.kind(&entry.config),
        }
    }

    fn kind(&self, config: &ConfigMap) -> ConnectorType {
        config
            .get(CONNECTOR_CLASS_CONFIG)
            .map_or(ConnectorType::Unknown, |class| {
                self.worker.connector_type(class)
            })
    }

    fn state(&self, status: Option<Status>) -> (String, String, Option<String>) {
        match status {
            Some(s) => (s.state.name().to_owned(), s.worker_id, s.trace),
            None => (
                State::Unassigned.name().to_owned(),
                self.worker.worker_id(),
                None,
            ),
        }
    }

    async fn entry(&self, name: &str) -> HerderResult<Entry> {
        self.connectors
            .lock()
            .await
            .get(name)
            .cloned()
            .ok_or_else(|| not_found(name))
    }

    async fn require_stopped(&self, name: &str) -> HerderResult<Entry> {
        let entry = self.entry(name).await?;
        if entry.target != TargetState::Stopped {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(entry)
    }
}

/// Validates a connector config as `PUT /connector-plugins/{plugin}/config/validate` does: the
/// connector's own keys, the framework's, the sink topic rules and the client override policy.
///
/// # Errors
/// [`HerderError::BadRequest`] when the config names no connector class or an unknown one.
pub fn validate_config(worker: &Worker, config: &ConfigMap) -> Result<ConfigInfos, HerderError> {
    let class = config.get(CONNECTOR_CLASS_CONFIG).ok_or_else(|| {
        HerderError::BadRequest(
            "Connector config {} contains no connector type".replace("{}", &format!("{config:?}")),
        )
    })?;
    let props = hash(config);
    let (def, kind) = match worker.plugins().connector(class) {
        Some(ConnectorPlugin::Source(c)) => (
            connector_config_def(ConnectorType::Source).merge(&c.config()),
            ConnectorType::Source,
        ),
        Some(ConnectorPlugin::Sink(c)) => (
            connector_config_def(ConnectorType::Sink).merge(&c.config()),
            ConnectorType::Sink,
        ),
        None => {
            return Err(HerderError::BadRequest(format!(
                "Failed to find any class that implements Connector and which name matches {class}"
            )));
        }
    };
    let mut values = def.validate(&props);
    add_sink_topic_errors(&mut values, &props, kind);
    if let Err(error) = worker.config().check_overrides(&props) {
        let key = error.key().unwrap_or_default().to_owned();
        let mut value = ferry_connect::config::ConfigValue::new(key);
        value.add_error(error.message());
        values.push(value);
    }
    let resolved = worker.plugins().resolve(class).unwrap_or(class).to_owned();
    Ok(ConfigInfos::generate(&resolved, &def, &values))
}

#[async_trait]
impl Herder for StandaloneHerder {
    async fn server_info(&self) -> HerderResult<ServerInfo> {
        Ok(ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: option_env!("FERRY_COMMIT").unwrap_or("unknown").to_owned(),
            kafka_cluster_id: self.kafka_cluster_id.clone(),
        })
    }

    async fn health(&self) -> HerderResult<()> {
        Ok(())
    }

    async fn connectors(&self) -> HerderResult<Vec<String>> {
        Ok(self.connectors.lock().await.keys().cloned().collect())
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let entry = self.entry(name).await?;
        Ok(self.info(name, &entry))
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        Ok(self.entry(name).await?.config)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        mut config: ConfigMap,
        initial_state: Option<TargetState>,
        allow_replace: bool,
    ) -> HerderResult<Created<ConnectorInfo>> {
        config.insert(NAME_CONFIG.to_owned(), name.to_owned());
        let resolved = self
            .worker
            .config()
            .transform(&hash(&config))
            .map_err(|e| HerderError::BadRequest(e.to_string()))?;
        self.validation_error(&tree(resolved))?;
        let mut connectors = self.connectors.lock().await;
        let existing = connectors.get(name).cloned();
        if existing.is_some() && !allow_replace {
            return Err(HerderError::Conflict(format!(
                "Connector {name} already exists"
            )));
        }
        if existing.is_some() {
            self.stop_connector(name).await;
        }
        let mut entry = Entry {
            config,
            target: existing
                .as_ref()
                .map_or(initial_state.unwrap_or_default(), |e| e.target),
            tasks: Vec::new(),
        };
        self.start_connector(name, &mut entry).await?;
        let info = self.info(name, &entry);
        connectors.insert(name.to_owned(), entry);
        Ok(Created {
            created: existing.is_none(),
            result: info,
        })
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        let mut config = self.entry(name).await?.config;
        for (key, value) in patch {
            match value {
                Some(value) => config.insert(key, value),
                None => config.remove(&key),
            };
        }
        self.put_connector_config(name, config, None, true).await
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        let mut connectors = self.connectors.lock().await;
        if connectors.remove(name).is_none() {
            return Err(not_found(name));
        }
        self.stop_connector(name).await;
        self.worker.status().delete_connector(name);
        Ok(())
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let entry = self.entry(name).await?;
        let status = self.worker.status();
        let (state, worker_id, trace) = self.state(status.connector(name));
        let recorded: HashMap<i32, Status> = status
            .tasks(name)
            .into_iter()
            .map(|(id, s)| (id.task, s))
            .collect();
        let tasks = (0..entry.tasks.len() as i32)
            .map(|i| {
                let (state, worker_id, trace) = self.state(recorded.get(&i).cloned());
                TaskState {
                    id: i,
                    state,
                    worker_id,
                    trace,
                }
            })
            .collect();
        Ok(ConnectorStateInfo {
            name: name.to_owned(),
            connector: ConnectorState {
                state,
                worker_id,
                trace,
            },
            tasks,
            kind: self.kind(&entry.config),
        })
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        let status = self.connector_status(&id.connector).await?;
        status
            .tasks
            .into_iter()
            .find(|t| t.id == id.task)
            .ok_or_else(|| HerderError::NotFound(format!("No status found for task {id}")))
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let entry = self.entry(name).await?;
        Ok(entry
            .tasks
            .iter()
            .enumerate()
            .map(|(i, config)| TaskInfo {
                id: ConnectorTaskId::new(name, i as i32),
                config: config.clone(),
            })
            .collect())
    }

    async fn restart_connector(
        &self,
        request: RestartRequest,
    ) -> HerderResult<Option<ConnectorStateInfo>> {
        let name = request.connector.clone();
        let before = self.connector_status(&name).await?;
        let failed = |s: &str| s == State::Failed.name();
        let restart_connector = !request.only_failed || failed(&before.connector.state);
        let restart_tasks: Vec<i32> = if request.include_tasks {
            before
                .tasks
                .iter()
                .filter(|t| !request.only_failed || failed(&t.state))
                .map(|t| t.id)
                .collect()
        } else {
            Vec::new()
        };
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(&name).ok_or_else(|| not_found(&name))?;
        if restart_connector {
            self.worker.stop_connector(&name).await;
            let sender = self.reconfigure.clone();
            let callback = Arc::new(move |n: &str| {
                let _ = sender.send(n.to_owned());
            });
            let _ = self
                .worker
                .start_connector(&name, hash(&entry.config), entry.target, callback)
                .await;
        }
        let connector = hash(&entry.config);
        for task in &restart_tasks {
            if let Some(config) = entry.tasks.get(*task as usize) {
                let id = ConnectorTaskId::new(&name, *task);
                let _ = self
                    .worker
                    .start_task(&id, &connector, hash(config), entry.target)
                    .await;
            }
        }
        drop(connectors);
        if !request.only_failed && !request.include_tasks {
            return Ok(None);
        }
        let mut after = before;
        if restart_connector {
            after.connector.state = State::Restarting.name().to_owned();
        }
        for task in after
            .tasks
            .iter_mut()
            .filter(|t| restart_tasks.contains(&t.id))
        {
            task.state = State::Restarting.name().to_owned();
        }
        Ok(Some(after))
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        let entry = self.entry(&id.connector).await?;
        let config = entry
            .tasks
            .get(usize::try_from(id.task).unwrap_or(usize::MAX))
            .ok_or_else(|| HerderError::NotFound(format!("Task {id} not found")))?;
        self.worker
            .start_task(id, &hash(&entry.config), hash(config), entry.target)
            .await
            .map_err(internal)
    }

    async fn set_target_state(&self, name: &str, state: TargetState) -> HerderResult<()> {
        let mut connectors = self.connectors.lock().await;
        let entry = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        let previous = entry.target;
        entry.target = state;
        if state == TargetState::Stopped {
            self.worker.stop_tasks(name).await;
            let _ = self.worker.set_target_state(name, state).await;
            for index in 0..entry.tasks.len() {
                self.worker
                    .status()
                    .delete_task(&ConnectorTaskId::new(name, index as i32));
            }
            entry.tasks.clear();
        } else if previous == TargetState::Stopped {
            self.stop_connector(name).await;
            self.start_connector(name, entry).await?;
        } else {
            self.worker
                .set_target_state(name, state)
                .await
                .map_err(internal)?;
            if state == TargetState::Started {
                self.update_tasks(name, entry, false).await?;
            }
        }
        Ok(())
    }

    async fn active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo> {
        self.entry(name).await?;
        Ok(ActiveTopicsInfo {
            topics: self.worker.status().topics(name),
        })
    }

    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        self.entry(name).await?;
        self.worker.status().reset_topics(name);
        Ok(())
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        let entry = self.entry(name).await?;
        if self.kind(&entry.config) == ConnectorType::Sink {
            let config = hash(&entry.config);
            let admin = sink_offsets::sink_admin(self.worker.config(), name, &config)?;
            let group = sink_offsets::consumer_group_id(name, &config);
            return Ok(ConnectorOffsets {
                offsets: sink_offsets::read_sink_offsets(&admin, &group).await?,
            });
        }
        let offsets = connector_offsets(&**self.worker.offsets(), name)
            .await
            .map_err(internal)?;
        Ok(ConnectorOffsets {
            offsets: offsets
                .into_iter()
                .map(|(partition, offset)| ConnectorOffset {
                    partition,
                    offset: Some(offset),
                })
                .collect(),
        })
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message> {
        let entry = self.require_stopped(name).await?;
        if self.kind(&entry.config) == ConnectorType::Sink {
            let parsed = sink_offsets::parse_sink_offsets(&offsets.offsets)
                .map_err(HerderError::BadRequest)?;
            let config = hash(&entry.config);
            let admin = sink_offsets::sink_admin(self.worker.config(), name, &config)?;
            let group = sink_offsets::consumer_group_id(name, &config);
            sink_offsets::alter_sink_offsets(&admin, &group, parsed).await?;
            return Ok(Message {
                message: ALTERED.into(),
            });
        }
        let changes: Vec<(Map<String, Value>, Option<Map<String, Value>>)> = offsets
            .offsets
            .into_iter()
            .map(|o| (o.partition, o.offset))
            .collect();
        OffsetStorageWriter::new(name, self.worker.offsets().clone())
            .write(changes)
            .await
            .map_err(internal)?;
        Ok(Message {
            message: ALTERED.into(),
        })
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        let entry = self.require_stopped(name).await?;
        if self.kind(&entry.config) == ConnectorType::Sink {
            let config = hash(&entry.config);
            let admin = sink_offsets::sink_admin(self.worker.config(), name, &config)?;
            let group = sink_offsets::consumer_group_id(name, &config);
            let resets = sink_offsets::parse_sink_offsets(
                &sink_offsets::read_sink_offsets(&admin, &group).await?,
            )
            .map_err(HerderError::Internal)?
            .into_iter()
            .map(|(tp, _)| (tp, None))
            .collect();
            sink_offsets::alter_sink_offsets(&admin, &group, resets).await?;
            return Ok(Message {
                message: RESET.into(),
            });
        }
        let existing = connector_offsets(&**self.worker.offsets(), name)
            .await
            .map_err(internal)?;
        let resets = existing
            .into_iter()
            .map(|(partition, _)| (partition, None))
            .collect();
        OffsetStorageWriter::new(name, self.worker.offsets().clone())
            .write(resets)
            .await
            .map_err(internal)?;
        Ok(Message {
            message: RESET.into(),
        })
    }

    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        let (own, kind): (ConfigDef, ConnectorType) = match self.worker.plugins().connector(plugin)
        {
            Some(ConnectorPlugin::Source(c)) => (c.config(), ConnectorType::Source),
            Some(ConnectorPlugin::Sink(c)) => (c.config(), ConnectorType::Sink),
            None => return Err(HerderError::NotFound(format!("Unknown plugin {plugin}."))),
        };
        let mut keys: Vec<ConfigKeyInfo> = own.keys().map(ConfigKeyInfo::from).collect();
        let framework = connector_config_def(kind);
        keys.extend(
            framework
                .keys()
                .filter(|k| own.key(k.name()).is_none())
                .map(ConfigKeyInfo::from),
        );
        Ok(keys)
    }

    async fn set_cluster_logger_level(&self, _namespace: &str, _level: &str) -> HerderResult<()> {
        // Standalone: the REST layer has already set the level on this, the only, worker.
        Ok(())
    }

    async fn validate_connector_config(&self, config: ConfigMap) -> HerderResult<ConfigInfos> {
        let resolved = self
            .worker
            .config()
            .transform(&hash(&config))
            .map_err(|e| HerderError::BadRequest(e.to_string()))?;
        self.validate(&tree(resolved))
    }

    async fn put_task_configs(
        &self,
        _name: &str,
        _configs: Vec<ConfigMap>,
        _signature: Option<RequestSignature>,
    ) -> HerderResult<()> {
        Err(HerderError::Unsupported(
            "This worker is in standalone mode and cannot handle writing task configurations"
                .into(),
        ))
    }

    async fn fence_zombie_source_tasks(
        &self,
        _name: &str,
        _signature: Option<RequestSignature>,
    ) -> HerderResult<()> {
        Err(HerderError::Unsupported(
            "This worker is in standalone mode and cannot handle fencing zombie tasks".into(),
        ))
    }
}

impl From<ConnectError> for HerderError {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::NotFound(m) => Self::NotFound(m),
            ConnectError::Config(e) => Self::BadRequest(e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}
