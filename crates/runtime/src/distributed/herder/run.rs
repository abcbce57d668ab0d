//! A whole distributed worker: config, REST listeners, stores, herder and REST server, started
//! in Java's order (`ConnectDistributed`), and the entry point `ferry distributed` calls.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use ferry_connect::ConfigError;
use ferry_connect::plugin::PluginRegistry;

use super::DistributedHerder;
use crate::distributed::config::DistributedConfig;
use crate::rest::{LogLevels, RestConfig, RestError, RestListeners, RestServer};
use crate::storage::kafka::StoreError;

/// Why a distributed worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    /// The worker configuration is invalid (the message names the key).
    #[error("invalid worker configuration: {0}")]
    Config(#[from] ConfigError),
    /// The REST server could not bind its listeners.
    #[error("cannot start the REST server: {0}")]
    Rest(#[from] RestError),
    /// The Kafka client could not be configured or reach the cluster.
    #[error(transparent)]
    Kafka(#[from] ferry_kafka::Error),
    /// An internal-topic store could not start.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else went wrong while starting.
    #[error("{0}")]
    Startup(String),
}

/// A running distributed worker: its herder and its REST server.
///
/// ```no_run
/// # async fn demo(props: std::collections::HashMap<String, String>,
/// #               loggers: std::sync::Arc<dyn ferry_runtime::rest::LogLevels>) -> Result<(), ferry_runtime::distributed::herder::DistributedError> {
/// use std::sync::Arc;
/// use ferry_connect::plugin::PluginRegistry;
/// use ferry_runtime::distributed::herder::DistributedWorker;
/// let worker = DistributedWorker::start(props, Arc::new(PluginRegistry::new()), loggers).await?;
/// println!("serving at {}", worker.rest().advertised_url());
/// worker.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DistributedWorker {
    herder: Arc<DistributedHerder>,
    rest: RestServer,
}

impl DistributedWorker {
    /// Parses `props` (a `connect-distributed.properties`), binds the REST listeners (the
    /// advertised URL is the worker id), starts the stores and the herder, then serves REST.
    ///
    /// # Errors
    /// An invalid config, a listener that cannot bind, or a store that cannot start.
    pub async fn start(
        props: HashMap<String, String>,
        plugins: Arc<PluginRegistry>,
        loggers: Arc<dyn LogLevels>,
    ) -> Result<Self, DistributedError> {
        let config = DistributedConfig::from_props(props)?;
        let rest_config = RestConfig::from_props(&config.worker.props)?;
        let listeners = RestListeners::bind(rest_config).await?;
        let worker_id = listeners.worker_id();
        let url = listeners.advertised_url().to_owned();
        tracing::info!(%worker_id, group = %config.group_id, "starting distributed worker");
        let herder =
            DistributedHerder::start(config, plugins.clone(), &worker_id, &url, loggers.clone())
                .await?;
        let rest = listeners.serve(herder.clone(), plugins, loggers);
        Ok(Self { herder, rest })
    }

    /// The herder.
    pub fn herder(&self) -> &Arc<DistributedHerder> {
        &self.herder
    }

    /// The REST server.
    pub fn rest(&self) -> &RestServer {
        &self.rest
    }

    /// Graceful shutdown: the herder (work stopped, offsets committed, group left, stores
    /// stopped), then the REST server.
    pub async fn stop(self) {
        self.herder.stop().await;
        self.rest.stop().await;
    }
}

/// `ferry distributed WORKER.properties`: starts a worker and runs it until `shutdown`
/// completes (the CLI passes SIGINT/SIGTERM), then stops it gracefully.
///
/// # Errors
/// As [`DistributedWorker::start`].
pub async fn run_distributed(
    props: HashMap<String, String>,
    plugins: Arc<PluginRegistry>,
    loggers: Arc<dyn LogLevels>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DistributedError> {
    let worker = DistributedWorker::start(props, plugins, loggers).await?;
    tracing::info!("Kafka Connect started");
    shutdown.await;
    tracing::info!("Kafka Connect stopping");
    worker.stop().await;
    tracing::info!("Kafka Connect stopped");
    Ok(())
}
