//! [`KafkaConfigBackingStore`]: connector and task configurations, target states, session keys
//! and restart requests on the config topic, as Java's `KafkaConfigBackingStore` keeps them.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use ferry_kafka::{Admin, Cluster};
use tokio::sync::mpsc;

use super::config_state::{ClusterConfigState, ConfigLogState, ConfigUpdate};
use super::log::KafkaBasedLog;
use super::topic::InternalTopic;
use super::{
    READ_WRITE_TIMEOUT, Result, StoreError, WorkerProps, api_timeout, log_clients, within,
};
use crate::ConnectorTaskId;
use crate::storage::config_records::{
    ConfigRecord, Properties, RestartRequest, SessionKey, TargetState,
};

/// The config topic's contents, kept current in the background.
///
/// Writes return once the records are acknowledged and (except for target states and logger
/// levels, as in Java) read back, so a [`snapshot`](Self::snapshot) taken afterwards shows
/// them. Changes read after start, from this worker or others, arrive on the receiver
/// [`start`](Self::start) returns.
///
/// ```no_run
/// # async fn demo(cluster: ferry_kafka::Cluster, props: ferry_runtime::storage::kafka::WorkerProps) -> ferry_runtime::storage::kafka::Result<()> {
/// use ferry_runtime::storage::kafka::KafkaConfigBackingStore;
/// let (store, mut updates) = KafkaConfigBackingStore::start(&cluster, &props).await?;
/// let config = [("connector.class".to_owned(), "FileStreamSource".to_owned())].into();
/// store.put_connector_config("source", &config, None).await?;
/// assert!(store.snapshot().contains("source"));
/// println!("{:?}", updates.recv().await);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct KafkaConfigBackingStore {
    log: KafkaBasedLog,
    shared: Arc<Mutex<Shared>>,
}

#[derive(Debug)]
struct Shared {
    state: ConfigLogState,
    /// Set once the first read to the end is done: updates are reported from then on.
    started: bool,
    updates: mpsc::UnboundedSender<ConfigUpdate>,
}

impl KafkaConfigBackingStore {
    /// Creates the config topic if missing (one partition, compacted; an existing topic must be
    /// compacted), reads it to the end and follows it. Fails when the topic has more than one
    /// partition, as Java does.
    pub async fn start(
        cluster: &Cluster,
        props: &WorkerProps,
    ) -> Result<(Self, mpsc::UnboundedReceiver<ConfigUpdate>)> {
        let topic = InternalTopic::configs(props)?;
        topic
            .ensure(&Admin::new(cluster.clone()), api_timeout(props))
            .await?;
        let (updates, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Mutex::new(Shared {
            state: ConfigLogState::default(),
            started: false,
            updates,
        }));
        let reader = shared.clone();
        let callback = Box::new(move |record: &ferry_kafka::ConsumerRecord| {
            let Some(key) = record.key.as_deref().map(String::from_utf8_lossy) else {
                tracing::error!(
                    offset = record.offset,
                    "skipping a config record without key"
                );
                return;
            };
            let mut shared = lock(&reader);
            let update = shared
                .state
                .apply(record.offset, &key, record.value.as_deref());
            if let Some(update) = update.filter(|_| shared.started) {
                let _ = shared.updates.send(update);
            }
        });
        let clients = log_clients(props, &[("delivery.timeout.ms", "2147483647")])?;
        let log = KafkaBasedLog::start(cluster, &topic.name, clients, callback).await?;
        if log.partition_count() > 1 {
            log.stop().await;
            return Err(StoreError::Config(format!(
                "topic '{}' supplied via the 'config.storage.topic' property is required to have a \
                 single partition in order to guarantee consistency of connector configurations, \
                 but found {} partitions",
                topic.name,
                log.partition_count()
            )));
        }
        lock(&shared).started = true;
        Ok((Self { log, shared }, receiver))
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> ClusterConfigState {
        lock(&self.shared).state.snapshot.clone()
    }

    /// Whether the connector exists.
    pub fn contains(&self, connector: &str) -> bool {
        lock(&self.shared).state.snapshot.contains(connector)
    }

    /// Writes a connector's config, with its target state first when given, and reads it back.
    pub async fn put_connector_config(
        &self,
        connector: &str,
        properties: &Properties,
        target_state: Option<TargetState>,
    ) -> Result<()> {
        let mut records = Vec::new();
        if let Some(state) = target_state {
            records.push(ConfigRecord::TargetState {
                connector: connector.to_owned(),
                state: Some(state),
            });
        }
        records.push(ConfigRecord::ConnectorConfig {
            connector: connector.to_owned(),
            properties: Some(properties.clone()),
        });
        self.write_and_read_back(records, "writing a connector configuration")
            .await
    }

    /// Deletes a connector: tombstones for its config and its target state.
    pub async fn remove_connector_config(&self, connector: &str) -> Result<()> {
        let records = vec![
            ConfigRecord::ConnectorConfig {
                connector: connector.to_owned(),
                properties: None,
            },
            ConfigRecord::TargetState {
                connector: connector.to_owned(),
                state: None,
            },
        ];
        self.write_and_read_back(records, "removing a connector configuration")
            .await
    }

    /// Writes a connector's task configs (`task-NAME-0` …), reads them back, then writes the
    /// `commit-NAME` record that applies them and reads it back.
    pub async fn put_task_configs(&self, connector: &str, configs: &[Properties]) -> Result<()> {
        within(READ_WRITE_TIMEOUT, "writing task configurations", async {
            // Catch up first: this worker should be the only writer, but may lag.
            self.log.read_to_end().await?;
            let tasks = configs.iter().enumerate().map(|(i, properties)| {
                let task = i32::try_from(i).expect("fewer than 2^31 tasks");
                ConfigRecord::TaskConfig {
                    task: ConnectorTaskId::new(connector, task),
                    properties: properties.clone(),
                }
            });
            self.send_all(tasks.collect()).await?;
            if !configs.is_empty() {
                self.log.read_to_end().await?;
            }
            let tasks = i32::try_from(configs.len()).expect("fewer than 2^31 tasks");
            self.send_all(vec![ConfigRecord::TaskCommit {
                connector: connector.to_owned(),
                tasks,
            }])
            .await?;
            self.log.read_to_end().await
        })
        .await
    }

    /// Writes a connector's target state; returns once it is acknowledged (not read back, as in
    /// Java).
    pub async fn put_target_state(&self, connector: &str, state: TargetState) -> Result<()> {
        let record = ConfigRecord::TargetState {
            connector: connector.to_owned(),
            state: Some(state),
        };
        within(READ_WRITE_TIMEOUT, "writing a target state", async {
            self.send_all(vec![record]).await
        })
        .await
    }

    /// Writes a new session key and reads it back.
    pub async fn put_session_key(&self, key: &SessionKey) -> Result<()> {
        let record = ConfigRecord::SessionKey(key.clone());
        self.write_and_read_back(vec![record], "writing a session key")
            .await
    }

    /// Writes a restart request and reads it back.
    pub async fn put_restart_request(&self, request: &RestartRequest) -> Result<()> {
        let record = ConfigRecord::Restart(request.clone());
        self.write_and_read_back(vec![record], "writing a restart request")
            .await
    }

    /// Writes the task count of a connector's zombie fencing (KIP-618) and reads it back.
    pub async fn put_task_count_record(&self, connector: &str, task_count: i32) -> Result<()> {
        let record = ConfigRecord::TaskCount {
            connector: connector.to_owned(),
            task_count,
        };
        self.write_and_read_back(vec![record], "writing a task count record")
            .await
    }

    /// Writes a cluster-wide logger level (KIP-976); returns once acknowledged.
    pub async fn put_logger_level(&self, namespace: &str, level: &str) -> Result<()> {
        let record = ConfigRecord::LoggerLevel {
            namespace: namespace.to_owned(),
            level: level.to_owned(),
        };
        within(READ_WRITE_TIMEOUT, "writing a logger level", async {
            self.send_all(vec![record]).await
        })
        .await
    }

    /// Reads the topic to its end, for at most `timeout` (the herder passes
    /// `worker.sync.timeout.ms`).
    pub async fn refresh(&self, timeout: Duration) -> Result<()> {
        within(
            timeout,
            "reading the config topic to its end",
            self.log.read_to_end(),
        )
        .await
    }

    /// Stops following the topic.
    pub async fn stop(&self) {
        self.log.stop().await;
    }

    async fn write_and_read_back(&self, records: Vec<ConfigRecord>, what: &str) -> Result<()> {
        within(READ_WRITE_TIMEOUT, what, async {
            self.send_all(records).await?;
            self.log.read_to_end().await
        })
        .await
    }

    /// Sends the records in order and waits until all are acknowledged.
    async fn send_all(&self, records: Vec<ConfigRecord>) -> Result<()> {
        let mut deliveries = Vec::with_capacity(records.len());
        for record in records {
            let key = Bytes::from(record.key());
            let value = record.value().map(Bytes::from);
            deliveries.push(self.log.send(Some(key), value).await?);
        }
        for delivery in deliveries {
            delivery.await?;
        }
        Ok(())
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}
