//! Running dedicated MirrorMaker 2 (Java's `MirrorMaker`, `connect-mirror-maker.sh`): every
//! flow a node serves is a distributed Connect worker of its own group (the flow's `group.id`
//! and internal topics on the target cluster) inside this process, and every flow's REST API
//! is served on the node's one REST server under `/{source}/{target}/`.
//!
//! Nodes started from the same file form one Connect cluster per flow: the group balances the
//! connectors and tasks over them and moves a dead node's work to the others. Whichever node
//! leads a flow's group writes the flow's three connector configs, again after every change of
//! leadership, so the configs of the file win even when the first leader died before writing
//! them.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::ConfigError;
use ferry_connect::plugin::PluginRegistry;
use ferry_runtime::distributed::config::DistributedConfig;
use ferry_runtime::distributed::herder::{DistributedError, DistributedHerder};
use ferry_runtime::herder::{Herder, HerderError};
use ferry_runtime::rest::{
    LogLevels, RestConfig, RestError, RestListeners, RestNamespace, RestServer,
};
use serde_json::json;
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Flow, Mm2Config, Mm2ConfigError, SourceAndTarget};

/// How often a flow's writer looks whether this node became the group's leader. The herder
/// publishes no leadership events, and a second is short next to a rebalance.
const LEADERSHIP_POLL: Duration = Duration::from_secs(1);

/// Why a dedicated MirrorMaker 2 node could not start.
#[derive(Debug, Error)]
pub enum DriverError {
    /// The `mm2.properties` file is unusable.
    #[error(transparent)]
    Config(#[from] Mm2ConfigError),
    /// A flow's worker config is invalid (the message names the key).
    #[error("invalid worker configuration of the {flow} flow: {source}")]
    WorkerConfig {
        /// The flow, `source->target`.
        flow: String,
        /// Why.
        source: ConfigError,
    },
    /// The REST settings (`listeners`, `rest.advertised.*`, …) are invalid, or a listener
    /// cannot bind.
    #[error("cannot start the REST server: {0}")]
    Rest(#[from] RestError),
    /// A flow's worker could not start (stores, Kafka).
    #[error("cannot start the worker of the {flow} flow: {source}")]
    Worker {
        /// The flow, `source->target`.
        flow: String,
        /// Why.
        source: DistributedError,
    },
}

/// A flow running on this node: its herder and the task that writes its connector configs
/// while this node leads the flow's group.
#[derive(Debug)]
struct RunningFlow {
    pair: SourceAndTarget,
    herder: Arc<DistributedHerder>,
    writer: JoinHandle<()>,
}

/// A running dedicated MirrorMaker 2 node.
///
/// ```no_run
/// # async fn demo(loggers: std::sync::Arc<dyn ferry_runtime::rest::LogLevels>,
/// #               plugins: std::sync::Arc<ferry_connect::plugin::PluginRegistry>)
/// #     -> Result<(), ferry_mirror::dedicated::DriverError> {
/// use ferry_mirror::dedicated::{MirrorMaker, Mm2Config};
/// let config = Mm2Config::load("mm2.properties")?;
/// let node = MirrorMaker::start(&config, Some(&["B".to_owned()]), plugins, loggers).await?;
/// println!("A->B at {}A/B/connectors", node.rest().advertised_url());
/// node.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MirrorMaker {
    flows: Vec<RunningFlow>,
    rest: RestServer,
    shutdown: watch::Sender<bool>,
}

impl MirrorMaker {
    /// Starts the flows that target `clusters` (every cluster when `None`): binds the node's
    /// REST listeners, starts one distributed worker per flow, then serves every flow's API.
    ///
    /// # Errors
    /// [`DriverError`]: no flow to run, an invalid worker or REST setting, a listener that
    /// cannot bind, or a worker whose stores cannot start.
    pub async fn start(
        config: &Mm2Config,
        clusters: Option<&[String]>,
        plugins: Arc<PluginRegistry>,
        loggers: Arc<dyn LogLevels>,
    ) -> Result<Self, DriverError> {
        let flows = config.flows(clusters)?;
        let mut workers = Vec::with_capacity(flows.len());
        for flow in flows {
            let worker_config = DistributedConfig::from_props(flow.runtime_worker_config())
                .map_err(|source| DriverError::WorkerConfig {
                    flow: flow.pair.to_string(),
                    source,
                })?;
            workers.push((flow, worker_config));
        }
        let Some((first, first_config)) = workers.first() else {
            return Err(Mm2ConfigError::NoFlows.into());
        };
        let rest_config = RestConfig::from_props(&first_config.worker.props).map_err(|source| {
            DriverError::WorkerConfig {
                flow: first.pair.to_string(),
                source,
            }
        })?;
        let listeners = RestListeners::bind(rest_config).await?;
        let worker_id = listeners.worker_id();
        let base_url = listeners.advertised_url().trim_end_matches('/').to_owned();
        if !config.enable_internal_rest() {
            // Java would open no port here: say why this node listens anyway.
            tracing::info!(
                url = %base_url,
                "dedicated.mode.enable.internal.rest is false, but Ferry always serves every \
                 flow's REST API: followers reach each flow's leader through it"
            );
        }
        let (shutdown, signal) = watch::channel(false);
        let mut running = Vec::with_capacity(workers.len());
        let mut namespaces = Vec::with_capacity(workers.len());
        for (flow, worker_config) in workers {
            let url = format!("{base_url}{}/", flow.rest.path_prefix());
            tracing::info!(flow = %flow.pair, %url, group = %worker_config.group_id, "starting flow");
            let herder = match DistributedHerder::start(
                worker_config,
                plugins.clone(),
                &worker_id,
                &url,
                loggers.clone(),
            )
            .await
            {
                Ok(herder) => herder,
                Err(source) => {
                    stop_all(running, &shutdown).await;
                    return Err(DriverError::Worker {
                        flow: flow.pair.to_string(),
                        source,
                    });
                }
            };
            namespaces.push(RestNamespace {
                path: flow.rest.path_prefix(),
                herder: herder.clone(),
                listing: json!({
                    "source": flow.pair.source,
                    "target": flow.pair.target,
                    "url": url,
                }),
            });
            let writer = tokio::spawn(write_while_leader(
                herder.clone(),
                flow.clone(),
                signal.clone(),
            ));
            running.push(RunningFlow {
                pair: flow.pair,
                herder,
                writer,
            });
        }
        let rest = listeners.serve_namespaces(namespaces, plugins, loggers);
        Ok(Self {
            flows: running,
            rest,
            shutdown,
        })
    }

    /// The node's REST server.
    pub fn rest(&self) -> &RestServer {
        &self.rest
    }

    /// The herder of a flow this node runs.
    pub fn herder(&self, pair: &SourceAndTarget) -> Option<&Arc<DistributedHerder>> {
        self.flows
            .iter()
            .find(|f| &f.pair == pair)
            .map(|f| &f.herder)
    }

    /// The flows this node runs.
    pub fn flows(&self) -> impl Iterator<Item = &SourceAndTarget> {
        self.flows.iter().map(|f| &f.pair)
    }

    /// Graceful shutdown: every flow's worker (work stopped, offsets committed, group left),
    /// then the REST server.
    pub async fn stop(self) {
        stop_all(self.flows, &self.shutdown).await;
        self.rest.stop().await;
    }
}

async fn stop_all(flows: Vec<RunningFlow>, shutdown: &watch::Sender<bool>) {
    let _ = shutdown.send(true);
    for flow in flows {
        let _ = flow.writer.await;
        tracing::info!(flow = %flow.pair, "stopping flow");
        flow.herder.stop().await;
    }
}

/// `ferry mirror mm2.properties [--clusters …]`: starts a node and runs it until `shutdown`
/// completes (the CLI passes SIGINT/SIGTERM), then stops it gracefully.
///
/// # Errors
/// As [`MirrorMaker::start`].
pub async fn run_mirror_maker(
    config: &Mm2Config,
    clusters: Option<&[String]>,
    plugins: Arc<PluginRegistry>,
    loggers: Arc<dyn LogLevels>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DriverError> {
    let node = MirrorMaker::start(config, clusters, plugins, loggers).await?;
    tracing::info!("MirrorMaker 2 started");
    shutdown.await;
    tracing::info!("MirrorMaker 2 stopping");
    node.stop().await;
    tracing::info!("MirrorMaker 2 stopped");
    Ok(())
}

/// Writes the flow's connector configs when this node becomes the group's leader, retrying
/// until they are written or leadership is lost, as Java's `MirrorHerder` does after a
/// rebalance that makes it leader. Leadership kept over later rebalances writes nothing, so
/// changes made over REST stand until the next leader takes over. A leader that loses
/// leadership mid-way answers [`HerderError::NotLeader`]; the new leader writes in its turn.
async fn write_while_leader(
    herder: Arc<DistributedHerder>,
    flow: Flow,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut was_leader = false;
    let mut pending = false;
    let mut ticks = tokio::time::interval(LEADERSHIP_POLL);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        // Mid-rebalance says nothing about leadership: judge by settled generations only, as
        // Java judges after each successful rebalance.
        if herder.generation().is_none() {
            continue;
        }
        let leader = herder.is_leader();
        pending = leader && (pending || !was_leader);
        was_leader = leader;
        if !pending {
            continue;
        }
        tracing::info!(flow = %flow.pair, "this node leads the flow; configuring its connectors");
        match write_connectors(herder.as_ref(), &flow).await {
            Ok(()) => pending = false,
            Err(error) => {
                tracing::warn!(flow = %flow.pair, %error, "cannot write the connector configs; retrying");
            }
        }
    }
}

/// Puts each connector config that differs from the stored one (Java's
/// `MirrorHerder.maybeConfigureConnector`); an unchanged config is left alone, since putting it
/// would restart the connector.
async fn write_connectors(herder: &dyn Herder, flow: &Flow) -> Result<(), HerderError> {
    for connector in &flow.connectors {
        let wanted: BTreeMap<String, String> = connector.config.clone().into_iter().collect();
        match herder.connector_config(&connector.name).await {
            Ok(stored) if stored == wanted => continue,
            Ok(_) | Err(HerderError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
        tracing::info!(flow = %flow.pair, connector = %connector.name, "writing connector config");
        herder
            .put_connector_config(&connector.name, wanted, None, true)
            .await?;
    }
    Ok(())
}
