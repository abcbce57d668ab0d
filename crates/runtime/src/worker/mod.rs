//! The Connect worker: runs connector instances and their tasks for a herder (Java's `Worker`).
//! The worker does not decide what runs where; the standalone and distributed herders drive it
//! through the same calls: start/stop a connector, generate its task configs, start/stop tasks,
//! set target states. States are reported to a [`StatusBackingStore`].
//!
//! | module | Java counterpart |
//! | --- | --- |
//! | `config` | `WorkerConfig`, `StandaloneConfig` |
//! | `connector_config` | `ConnectorConfig`, `SinkConnectorConfig` |
//! | `status` | `StatusBackingStore`, `MemoryStatusBackingStore` |
//! | `source` | `WorkerSourceTask` |
//! | `submitted` | `SubmittedRecords` |
//! | `sink` | `WorkerSinkTask` |
//! | [`sink_offsets`] | `SinkUtils`, the sink side of the offsets API |

mod config;
mod connector;
mod connector_config;
mod convert;
mod in_flight;
mod sink;
pub mod sink_offsets;
mod source;
mod status;
mod submitted;
mod task;

use std::collections::HashMap;
use std::sync::Arc;

use ferry_connect::ConnectError;
use ferry_connect::connector::ConfigMap;
use ferry_connect::plugin::{ConnectorPlugin, PluginRegistry};
use ferry_connect::record::{SinkRecord, SourceRecord};
use ferry_kafka::consumer::ConsumerConfig;
use ferry_kafka::group::consumer::{GroupConsumer, GroupConsumerConfig};
use ferry_kafka::producer::Producer;
use ferry_kafka::{Admin, ClientConfig, Cluster};
use tokio::sync::{Mutex, watch};

pub use config::{
    BOOTSTRAP_SERVERS_CONFIG, CLIENT_OVERRIDE_POLICY_CONFIG, CONFIG_PROVIDERS_CONFIG,
    HEADER_CONVERTER_CONFIG, KEY_CONVERTER_CONFIG, OFFSET_FLUSH_INTERVAL_CONFIG,
    OFFSET_FLUSH_TIMEOUT_CONFIG, OFFSET_STORAGE_FILE_CONFIG, OverridePolicy,
    SIMPLE_HEADER_CONVERTER, TASK_SHUTDOWN_TIMEOUT_CONFIG, TOPIC_CREATION_ENABLE_CONFIG,
    VALUE_CONVERTER_CONFIG, WorkerConfig, WorkerMode, with_prefix,
};
pub use connector::ReconfigureCallback;
pub use connector_config::{
    CONNECTOR_CLASS_CONFIG, ConnectorConfig, NAME_CONFIG, SinkTopics, TASKS_MAX_CONFIG,
    TOPICS_CONFIG, TOPICS_REGEX_CONFIG, add_sink_topic_errors, connector_config_def,
    sink_topic_errors,
};
pub use status::{MemoryStatusStore, State, Status, StatusBackingStore};
pub use submitted::SubmittedRecords;

use self::connector::{ConnectorRuntime, Context, Instance};
use self::convert::TaskConverters;
use self::sink::SinkTaskRunner;
use self::source::SourceTaskRunner;
use self::task::{TaskHandle, TaskSignal, supervise};
use crate::ConnectorTaskId;
use crate::errors::{
    DeadLetterQueueReporter, ErrorReporter, LogReporter, RetryWithToleranceOperator, trace,
};
use crate::herder::{ConnectorType, TargetState};
use crate::storage::offsets::{OffsetBackingStore, OffsetStorageWriter, TaskOffsetReader};
use crate::transforms::TransformationChain;

/// Runs connectors and tasks. Cheap to share (`Arc<Worker>`); every method takes `&self`.
#[derive(Debug)]
pub struct Worker {
    config: Arc<WorkerConfig>,
    plugins: Arc<PluginRegistry>,
    offsets: Arc<dyn OffsetBackingStore>,
    status: Arc<dyn StatusBackingStore>,
    worker_id: String,
    connectors: Mutex<HashMap<String, Arc<Mutex<ConnectorRuntime>>>>,
    tasks: Mutex<HashMap<ConnectorTaskId, TaskHandle>>,
}

fn kafka_error(what: &str) -> impl Fn(ferry_kafka::Error) -> ConnectError + '_ {
    move |e| ConnectError::Other(format!("{what}: {e}"))
}

impl Worker {
    /// A worker identified as `worker_id` (its advertised `host:port`).
    pub fn new(
        config: Arc<WorkerConfig>,
        plugins: Arc<PluginRegistry>,
        offsets: Arc<dyn OffsetBackingStore>,
        status: Arc<dyn StatusBackingStore>,
        worker_id: impl Into<String>,
    ) -> Self {
        Self {
            config,
            plugins,
            offsets,
            status,
            worker_id: worker_id.into(),
            connectors: Mutex::new(HashMap::new()),
            tasks: Mutex::new(HashMap::new()),
        }
    }

    /// The worker's configuration.
    pub fn config(&self) -> &Arc<WorkerConfig> {
        &self.config
    }

    /// The plugins the worker can run.
    pub fn plugins(&self) -> &Arc<PluginRegistry> {
        &self.plugins
    }

    /// Where states are reported.
    pub fn status(&self) -> &Arc<dyn StatusBackingStore> {
        &self.status
    }

    /// Where source offsets are kept.
    pub fn offsets(&self) -> &Arc<dyn OffsetBackingStore> {
        &self.offsets
    }

    /// This worker's id (`host:port`).
    pub fn worker_id(&self) -> String {
        self.worker_id.clone()
    }

    /// Whether `class` names a source or a sink connector.
    pub fn connector_type(&self, class: &str) -> ConnectorType {
        match self.plugins.connector(class) {
            Some(ConnectorPlugin::Source(_)) => ConnectorType::Source,
            Some(ConnectorPlugin::Sink(_)) => ConnectorType::Sink,
            None => ConnectorType::Unknown,
        }
    }

    /// Creates and (unless `target` is STOPPED) starts a connector instance. A connector that
    /// fails to start is FAILED with its trace.
    pub async fn start_connector(
        &self,
        name: &str,
        config: ConfigMap,
        target: TargetState,
        on_reconfigure: ReconfigureCallback,
    ) -> Result<(), ConnectError> {
        self.stop_connector(name).await;
        let class = config
            .get(CONNECTOR_CLASS_CONFIG)
            .cloned()
            .unwrap_or_default();
        let mut instance = match self.plugins.connector(&class) {
            Some(ConnectorPlugin::Source(c)) => Instance::Source(c),
            Some(ConnectorPlugin::Sink(c)) => Instance::Sink(c),
            None => {
                let error = ConnectError::Other(format!(
                    "Failed to find any class that implements Connector and which name matches {class}"
                ));
                self.status
                    .put_connector(name, Status::failed(trace(&error), self.worker_id()));
                return Err(error);
            }
        };
        instance.connector().initialize(Arc::new(Context {
            name: name.to_owned(),
            on_reconfigure,
            status: self.status.clone(),
            worker_id: self.worker_id(),
        }));
        let mut runtime = ConnectorRuntime {
            instance,
            config,
            started: false,
            target,
        };
        let result = self.apply_connector_state(name, &mut runtime).await;
        self.connectors
            .lock()
            .await
            .insert(name.to_owned(), Arc::new(Mutex::new(runtime)));
        result
    }

    async fn apply_connector_state(
        &self,
        name: &str,
        runtime: &mut ConnectorRuntime,
    ) -> Result<(), ConnectError> {
        let want_started = runtime.target == TargetState::Started;
        if want_started && !runtime.started {
            tracing::info!(connector = name, "starting connector");
            if let Err(error) = runtime
                .instance
                .connector()
                .start(runtime.config.clone())
                .await
            {
                tracing::error!(connector = name, %error, "failed to start connector");
                self.status
                    .put_connector(name, Status::failed(trace(&error), self.worker_id()));
                return Err(error);
            }
            runtime.started = true;
        } else if !want_started && runtime.started {
            if let Err(error) = runtime.instance.connector().stop().await {
                tracing::warn!(connector = name, %error, "error while stopping connector");
            }
            runtime.started = false;
        }
        let state = match runtime.target {
            TargetState::Started => State::Running,
            TargetState::Paused => State::Paused,
            TargetState::Stopped => State::Stopped,
        };
        self.status
            .put_connector(name, Status::new(state, self.worker_id()));
        Ok(())
    }

    /// Whether the worker holds connector `name`.
    pub async fn is_running(&self, name: &str) -> bool {
        self.connectors.lock().await.contains_key(name)
    }

    /// Sets a connector's target state, and its tasks'.
    pub async fn set_target_state(
        &self,
        name: &str,
        target: TargetState,
    ) -> Result<(), ConnectError> {
        let runtime = self.connectors.lock().await.get(name).cloned();
        if let Some(runtime) = runtime {
            let mut runtime = runtime.lock().await;
            runtime.target = target;
            self.apply_connector_state(name, &mut runtime).await?;
        }
        let signal = TaskSignal::from(target);
        if signal != TaskSignal::Stop {
            for (id, task) in self.tasks.lock().await.iter() {
                if id.connector == name {
                    let _ = task.signal.send(signal);
                }
            }
        }
        Ok(())
    }

    /// The connector's task configs for at most `max_tasks` tasks (Java's
    /// `Worker.connectorTaskConfigs`).
    pub async fn connector_task_configs(
        &self,
        name: &str,
        max_tasks: usize,
    ) -> Result<Vec<ConfigMap>, ConnectError> {
        let runtime = self
            .connectors
            .lock()
            .await
            .get(name)
            .cloned()
            .ok_or_else(|| ConnectError::NotFound(format!("Connector {name} not found")))?;
        let mut runtime = runtime.lock().await;
        let mut configs = runtime.instance.connector().task_configs(max_tasks).await?;
        if configs.len() > max_tasks {
            let message = format!(
                "The connector {name} has generated {} tasks, which is greater than {max_tasks}, the maximum number of tasks it is configured to create.",
                configs.len()
            );
            let enforce = runtime
                .config
                .get("tasks.max.enforce")
                .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
            if enforce {
                let error = ConnectError::Other(message);
                self.status
                    .put_connector(name, Status::failed(trace(&error), self.worker_id()));
                return Err(error);
            }
            tracing::warn!(connector = name, "{message}");
        }
        // Sink tasks learn their subscription from their config, as in Java.
        for key in [TOPICS_CONFIG, TOPICS_REGEX_CONFIG] {
            if let Some(value) = runtime.config.get(key) {
                for config in &mut configs {
                    config.insert(key.to_owned(), value.clone());
                }
            }
        }
        Ok(configs)
    }

    /// Stops and forgets a connector instance (its tasks are stopped separately).
    pub async fn stop_connector(&self, name: &str) {
        let runtime = self.connectors.lock().await.remove(name);
        if let Some(runtime) = runtime {
            let mut runtime = runtime.lock().await;
            if runtime.started
                && let Err(error) = runtime.instance.connector().stop().await
            {
                tracing::warn!(connector = name, %error, "error while stopping connector");
            }
            tracing::info!(connector = name, "stopped connector");
        }
    }

    /// The ids of the running tasks of `connector`.
    pub async fn task_ids(&self, connector: &str) -> Vec<ConnectorTaskId> {
        let mut ids: Vec<ConnectorTaskId> = self
            .tasks
            .lock()
            .await
            .keys()
            .filter(|id| id.connector == connector)
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    /// Starts task `id` with `task_config`, under the connector config `connector_config`.
    /// A task that cannot be created is FAILED with its trace (and the error is returned).
    pub async fn start_task(
        &self,
        id: &ConnectorTaskId,
        connector_config: &ConfigMap,
        task_config: ConfigMap,
        target: TargetState,
    ) -> Result<(), ConnectError> {
        self.stop_task(id).await;
        let (sender, receiver) = watch::channel(TaskSignal::from(target));
        let run = match self
            .build_task(id, connector_config, task_config, receiver)
            .await
        {
            Ok(run) => run,
            Err(error) => {
                tracing::error!(task = %id, %error, "failed to start task");
                self.status
                    .put_task(id, Status::failed(trace(&error), self.worker_id()));
                return Err(error);
            }
        };
        let (join, abort) = supervise(id.clone(), self.worker_id(), self.status.clone(), run);
        self.tasks.lock().await.insert(
            id.clone(),
            TaskHandle {
                signal: sender,
                join,
                abort,
            },
        );
        Ok(())
    }

    async fn build_task(
        &self,
        id: &ConnectorTaskId,
        connector_config: &ConfigMap,
        task_config: ConfigMap,
        signal: watch::Receiver<TaskSignal>,
    ) -> Result<futures_util::future::BoxFuture<'static, Result<(), ConnectError>>, ConnectError>
    {
        let class = connector_config
            .get(CONNECTOR_CLASS_CONFIG)
            .cloned()
            .unwrap_or_default();
        let kind = self.connector_type(&class);
        let config = ConnectorConfig::parse(connector_config, kind)?;
        self.config.check_overrides(connector_config)?;
        let converters = TaskConverters::build(&self.plugins, &self.config, &config)?;
        let mut reporters: Vec<Arc<dyn ErrorReporter>> = Vec::new();
        if config.errors.log_enable {
            reporters.push(Arc::new(LogReporter {
                include_messages: config.errors.log_include_messages,
            }));
        }
        match self.plugins.connector(&class) {
            Some(ConnectorPlugin::Source(connector)) => {
                let props = self.config.producer_props(id, connector_config);
                let cluster = Cluster::new(
                    ClientConfig::from_pairs(props.iter())
                        .map_err(kafka_error("Invalid producer config"))?,
                );
                let producer = Producer::new(cluster, props.iter())
                    .map_err(kafka_error("Invalid producer config"))?;
                let runner = SourceTaskRunner {
                    id: id.clone(),
                    task: connector.create_task(),
                    config: task_config,
                    chain: TransformationChain::<SourceRecord>::from_registry(
                        connector_config,
                        &self.plugins,
                    )?,
                    converters,
                    producer,
                    reader: Arc::new(TaskOffsetReader::new(&id.connector, self.offsets.clone())),
                    writer: OffsetStorageWriter::new(&id.connector, self.offsets.clone()),
                    operator: RetryWithToleranceOperator::new(
                        config.errors.clone(),
                        id.clone(),
                        reporters,
                    ),
                    status: self.status.clone(),
                    signal,
                    flush_interval: self.config.offset_flush_interval,
                    flush_timeout: self.config.offset_flush_timeout,
                    worker_id: self.worker_id(),
                };
                Ok(Box::pin(runner.run()))
            }
            Some(ConnectorPlugin::Sink(connector)) => {
                let props = self.config.consumer_props(id, connector_config);
                let cluster = Cluster::new(
                    ClientConfig::from_pairs(props.iter())
                        .map_err(kafka_error("Invalid consumer config"))?,
                );
                let consumer_config = ConsumerConfig::from_pairs(props.iter())
                    .map_err(kafka_error("Invalid consumer config"))?;
                let group = GroupConsumerConfig::from_pairs(props.iter())
                    .map_err(kafka_error("Invalid consumer config"))?;
                let dlq = if config.errors.dlq_topic.is_empty() {
                    None
                } else {
                    let props = self.config.producer_props_with_client_id(
                        &format!("connector-dlq-producer-{id}"),
                        connector_config,
                    );
                    let dlq_cluster = Cluster::new(
                        ClientConfig::from_pairs(props.iter())
                            .map_err(kafka_error("Invalid producer config"))?,
                    );
                    let reporter = Arc::new(
                        DeadLetterQueueReporter::create(dlq_cluster, &props, &config.errors)
                            .await?,
                    );
                    reporters.push(reporter.clone());
                    Some(reporter)
                };
                let runner = SinkTaskRunner {
                    id: id.clone(),
                    task: connector.create_task(),
                    config: task_config,
                    topics: config
                        .topics
                        .clone()
                        .unwrap_or(SinkTopics::List(Vec::new())),
                    subscribed: Vec::new(),
                    chain: TransformationChain::<SinkRecord>::from_registry(
                        connector_config,
                        &self.plugins,
                    )?,
                    converters,
                    consumer: GroupConsumer::new(cluster.clone(), consumer_config, group),
                    admin: Admin::new(cluster),
                    operator: RetryWithToleranceOperator::new(
                        config.errors.clone(),
                        id.clone(),
                        reporters,
                    ),
                    dlq,
                    status: self.status.clone(),
                    signal,
                    flush_interval: self.config.offset_flush_interval,
                    worker_id: self.worker_id(),
                };
                Ok(Box::pin(runner.run()))
            }
            None => Err(ConnectError::Other(format!(
                "Failed to find any class that implements Connector and which name matches {class}"
            ))),
        }
    }

    /// Stops task `id`: tells it to stop and waits for it up to
    /// `task.shutdown.graceful.timeout.ms` (then abandons it, as Java does).
    pub async fn stop_task(&self, id: &ConnectorTaskId) {
        let handle = self.tasks.lock().await.remove(id);
        if let Some(handle) = handle {
            Self::await_stop(id, handle, self.stop_timeout()).await;
        }
    }

    /// How long a stopping task may take: `task.shutdown.graceful.timeout.ms`, plus
    /// `offset.flush.timeout.ms` because it commits its offsets while stopping.
    fn stop_timeout(&self) -> std::time::Duration {
        self.config.task_shutdown_timeout + self.config.offset_flush_timeout
    }

    async fn await_stop(id: &ConnectorTaskId, handle: TaskHandle, timeout: std::time::Duration) {
        let _ = handle.signal.send(TaskSignal::Stop);
        if tokio::time::timeout(timeout, handle.join).await.is_err() {
            tracing::error!(task = %id, "Graceful stop of task {id} failed.");
            handle.abort.abort();
        }
    }

    /// Stops every task of `connector` in parallel.
    pub async fn stop_tasks(&self, connector: &str) {
        let handles: Vec<(ConnectorTaskId, TaskHandle)> = {
            let mut tasks = self.tasks.lock().await;
            let ids: Vec<ConnectorTaskId> = tasks
                .keys()
                .filter(|id| id.connector == connector)
                .cloned()
                .collect();
            ids.into_iter()
                .filter_map(|id| tasks.remove(&id).map(|h| (id, h)))
                .collect()
        };
        let timeout = self.stop_timeout();
        futures_util::future::join_all(
            handles
                .into_iter()
                .map(|(id, h)| async move { Self::await_stop(&id, h, timeout).await }),
        )
        .await;
    }

    /// Stops every task and connector (worker shutdown); offsets are committed as tasks stop.
    pub async fn stop(&self) {
        let names: Vec<String> = self.connectors.lock().await.keys().cloned().collect();
        let mut all: Vec<String> = self
            .tasks
            .lock()
            .await
            .keys()
            .map(|id| id.connector.clone())
            .collect();
        all.extend(names.iter().cloned());
        all.sort();
        all.dedup();
        futures_util::future::join_all(all.iter().map(|name| self.stop_tasks(name))).await;
        for name in names {
            self.stop_connector(&name).await;
        }
    }
}
