//! The standalone herder (Java's `StandaloneHerder`): one worker, no group; connector configs
//! live in memory (the files given on the command line, plus REST changes), offsets in the
//! worker's offset store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use ferry_connect::ConnectError;
use ferry_connect::config::{ConfigInfos, ConfigKeyInfo};
use tokio::sync::{Mutex, mpsc};

use super::offsets::{OffsetsChange, modify_offsets, read_offsets};
use super::requests::{
    already_exists, apply_patch, hash, internal, no_task_status, not_found,
    offsets_require_stopped, server_info,
};
use super::validation::{connector_plugin_config, require_valid, validate_resolved};
use super::variables::{resolve_or_report, reverse_transform};
use super::{
    ActiveTopicsInfo, ConfigMap, ConnectorInfo, ConnectorOffsets, ConnectorState,
    ConnectorStateInfo, ConnectorType, Created, Herder, HerderError, HerderResult, Message,
    RequestSignature, RestartRequest, ServerInfo, TargetState, TaskInfo, TaskState,
};
use crate::ConnectorTaskId;
use crate::worker::{CONNECTOR_CLASS_CONFIG, NAME_CONFIG, State, Status, TASKS_MAX_CONFIG, Worker};

/// Kept where `ferry` imports it from; the implementation is shared with the distributed herder.
pub use super::validation::validate_config;

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

fn tree(config: HashMap<String, String>) -> ConfigMap {
    config.into_iter().collect()
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
        // Generated from the resolved config: secrets go back to their variables before the
        // configs are kept and shown.
        let configs = reverse_transform(&entry.config, configs);
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
        for index in 0..entry.tasks.len() {
            self.start_task(&ConnectorTaskId::new(name, index as i32), entry)
                .await;
        }
    }

    /// Starts one task with its config and its connector's resolved; a task that cannot be
    /// resolved or started is FAILED with its trace.
    async fn start_task(&self, id: &ConnectorTaskId, entry: &Entry) {
        let Some(task) = entry
            .tasks
            .get(usize::try_from(id.task).unwrap_or(usize::MAX))
        else {
            return;
        };
        let status = self.worker.status();
        let Some(connector) =
            resolve_or_report(&self.worker, &entry.config, |s| status.put_task(id, s))
        else {
            return;
        };
        let Some(task) = resolve_or_report(&self.worker, task, |s| status.put_task(id, s)) else {
            return;
        };
        let _ = self
            .worker
            .start_task(id, &connector, task, entry.target)
            .await;
    }

    /// Starts the connector instance with its resolved config (Java's `startConnector`).
    async fn start_instance(&self, name: &str, entry: &Entry) -> bool {
        let status = self.worker.status();
        let Some(config) = resolve_or_report(&self.worker, &entry.config, |s| {
            status.put_connector(name, s)
        }) else {
            return false;
        };
        let sender = self.reconfigure.clone();
        let callback = Arc::new(move |name: &str| {
            let _ = sender.send(name.to_owned());
        });
        self.worker
            .start_connector(name, config, entry.target, callback)
            .await
            .is_ok()
    }

    /// Starts a connector in its target state, then its tasks unless it is STOPPED.
    async fn start_connector(&self, name: &str, entry: &mut Entry) -> Result<(), HerderError> {
        if !self.start_instance(name, entry).await {
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

    /// The recorded status, or UNASSIGNED on this worker for an instance not started yet.
    fn recorded(&self, status: Option<Status>) -> Status {
        status.unwrap_or_else(|| Status::new(State::Unassigned, self.worker.worker_id()))
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
            return Err(offsets_require_stopped(name));
        }
        Ok(entry)
    }
}

#[async_trait]
impl Herder for StandaloneHerder {
    async fn server_info(&self) -> HerderResult<ServerInfo> {
        Ok(server_info(&self.kafka_cluster_id))
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
        require_valid(&self.worker, &config)?;
        let mut connectors = self.connectors.lock().await;
        let existing = connectors.get(name).cloned();
        if existing.is_some() && !allow_replace {
            return Err(already_exists(name));
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
        apply_patch(&mut config, patch);
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
        let connector = self.recorded(status.connector(name));
        let mut recorded: HashMap<i32, Status> = status
            .tasks(name)
            .into_iter()
            .map(|(id, s)| (id.task, s))
            .collect();
        let tasks = (0..entry.tasks.len() as i32)
            .map(|i| TaskState::from_status(i, self.recorded(recorded.remove(&i))))
            .collect();
        Ok(ConnectorStateInfo {
            name: name.to_owned(),
            connector: ConnectorState::from(connector),
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
            .ok_or_else(|| no_task_status(id))
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
            self.start_instance(&name, entry).await;
        }
        for task in &restart_tasks {
            self.start_task(&ConnectorTaskId::new(&name, *task), entry)
                .await;
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
        let connector = self
            .worker
            .config()
            .transform(&hash(&entry.config))
            .map_err(internal)?;
        let task = self
            .worker
            .config()
            .transform(&hash(config))
            .map_err(internal)?;
        self.worker
            .start_task(id, &connector, task, entry.target)
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
        read_offsets(&self.worker, name, &entry.config).await
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message> {
        let entry = self.require_stopped(name).await?;
        modify_offsets(
            &self.worker,
            name,
            &entry.config,
            OffsetsChange::Alter(offsets),
        )
        .await
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        let entry = self.require_stopped(name).await?;
        modify_offsets(&self.worker, name, &entry.config, OffsetsChange::Reset).await
    }

    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        connector_plugin_config(&self.worker, plugin)
    }

    async fn set_cluster_logger_level(&self, _namespace: &str, _level: &str) -> HerderResult<()> {
        // Standalone: the REST layer has already set the level on this, the only, worker.
        Ok(())
    }

    async fn validate_connector_config(&self, config: ConfigMap) -> HerderResult<ConfigInfos> {
        validate_resolved(&self.worker, &config)
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
            ConnectError::BadRequest(m) => Self::BadRequest(m),
            other => Self::Internal(other.to_string()),
        }
    }
}
