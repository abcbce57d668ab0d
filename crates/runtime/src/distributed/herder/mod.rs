//! The distributed herder (Java's `DistributedHerder`): workers sharing a `group.id` form one
//! Connect cluster. Each joins the group with protocol type `connect`, the elected leader
//! assigns connectors and tasks with the eager or the incremental cooperative assignor, and
//! every worker runs exactly what it is assigned through its [`Worker`].
//!
//! One control loop per worker ([`control`]) owns the group membership and the running work,
//! like Java's `tick()`: it reacts to group events, to config-topic changes (from any worker),
//! to connectors asking for new task configs, and to timers (scheduled rebalances, session key
//! rotation, retries). REST calls ([`DistributedHerder`]'s [`Herder`] impl) read the config,
//! offset and status stores directly; writes are served by the leader only, which writes the
//! config topic and lets every worker's loop react to what it reads back.
//!
//! Start a whole worker (stores, herder, REST server) with [`DistributedWorker::start`], or
//! run one until a shutdown signal with [`run_distributed`].

mod control;
pub mod plan;
mod rest;
mod run;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::plugin::PluginRegistry;
use ferry_kafka::group::MembershipConfig;
use ferry_kafka::{ClientConfig, Cluster};
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use run::{DistributedError, DistributedWorker, run_distributed};

use self::plan::Work;
use super::config::DistributedConfig;
use super::protocol::ConnectProtocolCompatibility;
use crate::ConnectorTaskId;
use crate::herder::requests::internal;
use crate::herder::{
    ConnectorState, ConnectorStateInfo, ConnectorType, HerderError, HerderResult, TargetState,
    TaskState,
};
use crate::rest::{LogLevels, RestClient};
use crate::storage::config_records::{self, Properties};
use crate::storage::kafka::{
    KafkaConfigBackingStore, KafkaOffsetBackingStore, KafkaStatusBackingStore, WorkerStatuses,
};
use crate::worker::{CONNECTOR_CLASS_CONFIG, StatusBackingStore, Worker};

/// How long REST calls wait for a rebalance in progress to finish before answering 409.
const REBALANCE_WAIT: Duration = Duration::from_secs(30);

/// What the control loop publishes about the group for REST calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct Membership {
    /// Set once the worker first joined the group (for `/health`).
    started: bool,
    /// The generation this worker belongs to; `None` while it (re)joins.
    generation: Option<i32>,
    /// The sub-protocol the group uses.
    protocol: Option<ConnectProtocolCompatibility>,
    /// Whether this worker leads the group.
    leader: bool,
    /// The leader's REST URL.
    leader_url: Option<String>,
    /// Who runs each connector and task (as the leader assigned them), by REST URL.
    connector_owners: BTreeMap<String, String>,
    task_owners: BTreeMap<ConnectorTaskId, String>,
    /// What this worker runs.
    running: Work,
}

/// Requests REST calls hand to the control loop, which alone starts and stops work.
#[derive(Debug)]
pub(crate) enum Command {
    /// Restart a connector instance this worker runs.
    RestartConnector(String, oneshot::Sender<HerderResult<()>>),
    /// Restart a task this worker runs.
    RestartTask(ConnectorTaskId, oneshot::Sender<HerderResult<()>>),
}

/// State shared by the REST side and the control loop.
#[derive(Debug)]
pub(crate) struct Inner {
    config: Arc<DistributedConfig>,
    worker: Arc<Worker>,
    configs: Arc<KafkaConfigBackingStore>,
    offsets: Arc<KafkaOffsetBackingStore>,
    statuses: Arc<WorkerStatuses>,
    kafka_cluster_id: String,
    url: String,
    membership: watch::Sender<Membership>,
    /// Serializes the leader's config-topic writes, as Java's single herder thread does.
    writes: Mutex<()>,
    client: RestClient,
    /// Where cluster-wide logger levels (KIP-976) read from the config topic are applied.
    loggers: Arc<dyn LogLevels>,
}

/// The distributed herder. Create it with [`DistributedHerder::start`] (or a whole worker with
/// [`DistributedWorker::start`]); stop it with [`DistributedHerder::stop`].
#[derive(Debug)]
pub struct DistributedHerder {
    inner: Arc<Inner>,
    commands: mpsc::UnboundedSender<Command>,
    shutdown: watch::Sender<bool>,
    control: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl DistributedHerder {
    /// Starts the internal-topic stores (offsets, statuses, configs, creating the topics when
    /// missing), then the control loop, which joins the group `group.id`.
    ///
    /// `worker_id` is the advertised `host:port` and `url` the advertised REST URL, both known
    /// once the REST listeners are bound; `loggers` receives the cluster-wide logger levels
    /// other workers write.
    ///
    /// # Errors
    /// When the Kafka client config is invalid or a store cannot start.
    pub async fn start(
        config: DistributedConfig,
        plugins: Arc<PluginRegistry>,
        worker_id: &str,
        url: &str,
        loggers: Arc<dyn LogLevels>,
    ) -> Result<Arc<Self>, DistributedError> {
        let props = config.store_props();
        let cluster = Cluster::new(ClientConfig::from_pairs(props.iter())?);
        let kafka_cluster_id = tokio::time::timeout(
            Duration::from_secs(60),
            cluster.retry("looking up the cluster id", || cluster.cluster_id()),
        )
        .await
        .map_err(|_| {
            DistributedError::Startup("timed out looking up the Kafka cluster id".into())
        })??
        .unwrap_or_default();
        let offsets = Arc::new(KafkaOffsetBackingStore::start(&cluster, &props).await?);
        let status_store = Arc::new(KafkaStatusBackingStore::start(&cluster, &props).await?);
        let statuses = Arc::new(WorkerStatuses::new(status_store, worker_id));
        let (configs, updates) = KafkaConfigBackingStore::start(&cluster, &props).await?;
        let worker = Arc::new(Worker::new(
            Arc::new(config.worker.clone()),
            plugins,
            offsets.clone(),
            statuses.clone(),
            worker_id,
        ));
        let membership_config = MembershipConfig {
            group_id: config.group_id.clone(),
            group_instance_id: None,
            session_timeout: config.session_timeout,
            rebalance_timeout: config.rebalance_timeout,
            heartbeat_interval: config.heartbeat_interval,
        };
        let (membership, _) = watch::channel(Membership::default());
        let inner = Arc::new(Inner {
            config: Arc::new(config),
            worker,
            configs: Arc::new(configs),
            offsets,
            statuses,
            kafka_cluster_id,
            url: url.to_owned(),
            membership,
            writes: Mutex::new(()),
            client: RestClient::new(),
            loggers,
        });
        let (commands, command_queue) = mpsc::unbounded_channel();
        let (shutdown, shutdown_signal) = watch::channel(false);
        // The group member gets its own connections, as Java's `WorkerGroupMember` has its
        // own client: a JoinGroup held by the coordinator must not delay the stores' writes.
        let group_cluster = Cluster::new(ClientConfig::from_pairs(props.iter())?);
        let control = control::Control::new(
            inner.clone(),
            group_cluster,
            membership_config,
            updates,
            command_queue,
            shutdown_signal,
        );
        let handle = tokio::spawn(control.run());
        Ok(Arc::new(Self {
            inner,
            commands,
            shutdown,
            control: std::sync::Mutex::new(Some(handle)),
        }))
    }

    /// The worker this herder drives.
    pub fn worker(&self) -> &Arc<Worker> {
        &self.inner.worker
    }

    /// Whether this worker leads the group now.
    pub fn is_leader(&self) -> bool {
        self.inner.membership.borrow().leader
    }

    /// The group generation this worker belongs to, `None` while it (re)joins.
    pub fn generation(&self) -> Option<i32> {
        self.inner.membership.borrow().generation
    }

    /// The connectors and tasks this worker runs now.
    pub fn running(&self) -> Work {
        self.inner.membership.borrow().running.clone()
    }

    /// Graceful shutdown: stops every connector and task (committing offsets), leaves the
    /// group, then stops the stores.
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        let handle = self
            .control
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.await;
        }
        self.inner.configs.stop().await;
        self.inner.statuses.store().flush().await;
        self.inner.statuses.store().stop().await;
        self.inner.offsets.stop().await;
    }
}

impl Inner {
    /// Waits until the worker belongs to a generation (a rebalance in progress is finished).
    async fn stable(&self) -> HerderResult<Membership> {
        let mut receiver = self.membership.subscribe();
        let wait = receiver.wait_for(|m| m.generation.is_some());
        match tokio::time::timeout(REBALANCE_WAIT, wait).await {
            Ok(Ok(membership)) => Ok(membership.clone()),
            _ => Err(HerderError::Conflict(
                "Request cannot be completed because a rebalance is expected".into(),
            )),
        }
    }

    /// Fails with [`HerderError::NotLeader`] unless this worker leads a stable group.
    async fn require_leader(&self) -> HerderResult<Membership> {
        let membership = self.stable().await?;
        if !membership.leader {
            return Err(HerderError::NotLeader {
                leader_url: membership.leader_url.clone(),
            });
        }
        Ok(membership)
    }

    fn kind(&self, config: Option<&Properties>) -> ConnectorType {
        config
            .and_then(|c| c.get(CONNECTOR_CLASS_CONFIG))
            .map_or(ConnectorType::Unknown, |class| {
                self.worker.connector_type(class)
            })
    }

    /// The connector's status from the status topic, as every worker wrote it.
    fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let connector = self.statuses.connector(name).ok_or_else(|| {
            HerderError::NotFound(format!("No status found for connector {name}"))
        })?;
        let tasks = self
            .statuses
            .tasks(name)
            .into_iter()
            .map(|(id, status)| TaskState::from_status(id.task, status))
            .collect();
        let snapshot = self.configs.snapshot();
        Ok(ConnectorStateInfo {
            name: name.to_owned(),
            connector: ConnectorState::from(connector),
            tasks,
            kind: self.kind(snapshot.connector_config(name)),
        })
    }

    /// Writes a connector's task configs as the leader (and the commit record that applies
    /// them).
    async fn write_task_configs(&self, name: &str, configs: &[Properties]) -> HerderResult<()> {
        let _guard = self.writes.lock().await;
        let snapshot = self.configs.snapshot();
        if !configs.is_empty()
            && snapshot.target_state(name) == Some(config_records::TargetState::Stopped)
        {
            return Err(HerderError::BadRequest(format!(
                "Cannot submit non-empty set of task configs for stopped connector {name}"
            )));
        }
        self.configs
            .put_task_configs(name, configs)
            .await
            .map_err(internal)
    }
}

/// The herder's target state for the config topic's.
fn from_stored(state: config_records::TargetState) -> TargetState {
    match state {
        config_records::TargetState::Started => TargetState::Started,
        config_records::TargetState::Paused => TargetState::Paused,
        config_records::TargetState::Stopped => TargetState::Stopped,
    }
}

/// The config topic's target state for the herder's.
fn to_stored(state: TargetState) -> config_records::TargetState {
    match state {
        TargetState::Started => config_records::TargetState::Started,
        TargetState::Paused => config_records::TargetState::Paused,
        TargetState::Stopped => config_records::TargetState::Stopped,
    }
}
