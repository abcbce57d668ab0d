//! `ferry standalone WORKER.properties CONNECTOR...`: Java's `ConnectStandalone`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ferry_connect::properties::Properties;
use ferry_kafka::{ClientConfig, Cluster};
use ferry_runtime::herder::standalone::{StandaloneHerder, validate_config};
use ferry_runtime::herder::{Herder, HerderError};
use ferry_runtime::rest::{LogLevels, RestConfig, RestListeners};
use ferry_runtime::storage::offsets::FileOffsetBackingStore;
use ferry_runtime::worker::{
    MemoryStatusStore, OFFSET_STORAGE_FILE_CONFIG, Worker, WorkerConfig, WorkerMode,
};

use crate::UsageError;
use crate::connector_file::{self, ConnectorFile};
use crate::plugins::plugins;

/// How long to wait for the Kafka cluster's id at startup.
const CLUSTER_ID_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads and checks every file, then runs the worker until SIGINT or SIGTERM.
pub fn run(
    worker_file: &Path,
    connector_files: &[PathBuf],
    levels: Arc<dyn LogLevels>,
) -> anyhow::Result<()> {
    let shown = worker_file.display();
    let props = Properties::load_latin1(worker_file)
        .map_err(|e| UsageError(format!("cannot read worker configuration {shown}: {e}")))?
        .into_map();
    let config = WorkerConfig::from_props(props, WorkerMode::Standalone)
        .map_err(|e| UsageError(format!("invalid worker configuration {shown}: {e}")))?;
    let rest_config = RestConfig::from_props(&config.props)
        .map_err(|e| UsageError(format!("invalid worker configuration {shown}: {e}")))?;
    let offsets_path = config.offset_storage_file.clone().unwrap_or_default();
    let offsets = FileOffsetBackingStore::open(&offsets_path).map_err(|e| {
        UsageError(format!(
            "invalid worker configuration {shown}: {OFFSET_STORAGE_FILE_CONFIG}: {e}"
        ))
    })?;
    let connectors = connector_files
        .iter()
        .map(|path| connector_file::read(path).map(|c| (path.clone(), c)))
        .collect::<Result<Vec<_>, _>>()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(serve(config, rest_config, offsets, connectors, levels))
}

async fn cluster_id(config: &WorkerConfig) -> anyhow::Result<String> {
    let props = config.admin_props("ferry-standalone-cluster-id", &Default::default());
    let client = ClientConfig::from_pairs(props.iter())
        .map_err(|e| UsageError(format!("invalid worker configuration: {e}")))?;
    let cluster = Cluster::new(client);
    let id = tokio::time::timeout(CLUSTER_ID_TIMEOUT, cluster.cluster_id())
        .await
        .context("timed out looking up the Kafka cluster id")?
        .context("cannot look up the Kafka cluster id")?;
    Ok(id.unwrap_or_default())
}

/// The first validation error of a connector config, on one line naming the key.
fn check(worker: &Worker, path: &Path, connector: &ConnectorFile) -> anyhow::Result<()> {
    let shown = path.display();
    let resolved = worker
        .config()
        .transform(&connector.config.clone().into_iter().collect())
        .map_err(|e| UsageError(format!("invalid connector configuration {shown}: {e}")))?;
    let infos = match validate_config(worker, &resolved.into_iter().collect()) {
        Ok(infos) => infos,
        Err(error) => {
            return Err(
                UsageError(format!("invalid connector configuration {shown}: {error}")).into(),
            );
        }
    };
    for info in &infos.configs {
        if let Some(value) = &info.value
            && let Some(error) = value.errors.first()
        {
            let message = if error.contains(&value.name) {
                error.clone()
            } else {
                format!("{}: {error}", value.name)
            };
            return Err(UsageError(format!(
                "invalid connector configuration {shown}: {message}"
            ))
            .into());
        }
    }
    Ok(())
}

async fn serve(
    config: WorkerConfig,
    rest_config: RestConfig,
    offsets: FileOffsetBackingStore,
    connectors: Vec<(PathBuf, ConnectorFile)>,
    levels: Arc<dyn LogLevels>,
) -> anyhow::Result<()> {
    let plugins = Arc::new(plugins());
    let listeners = RestListeners::bind(rest_config)
        .await
        .map_err(|e| UsageError(format!("cannot start the REST server: {e}")))?;
    let worker = Arc::new(Worker::new(
        Arc::new(config),
        plugins.clone(),
        Arc::new(offsets),
        Arc::new(MemoryStatusStore::default()),
        listeners.worker_id(),
    ));
    for (path, connector) in &connectors {
        check(&worker, path, connector)?;
    }
    let kafka_cluster_id = cluster_id(worker.config()).await?;
    tracing::info!(%kafka_cluster_id, "Kafka cluster id");
    let herder = StandaloneHerder::start(worker.clone(), kafka_cluster_id);
    let rest = listeners.serve(herder.clone(), plugins, levels);
    for (path, connector) in connectors {
        match herder
            .put_connector_config(
                &connector.name,
                connector.config,
                connector.initial_state,
                false,
            )
            .await
        {
            Ok(_) => tracing::info!("Created connector {}", connector.name),
            Err(HerderError::BadRequest(message)) => {
                return Err(UsageError(format!(
                    "invalid connector configuration {}: {message}",
                    path.display()
                ))
                .into());
            }
            Err(error) => {
                tracing::error!("Failed to create connector for {}", path.display());
                herder.stop().await;
                rest.stop().await;
                return Err(anyhow::anyhow!("Stopping after connector error: {error}"));
            }
        }
    }
    tracing::info!("Kafka Connect started");
    shutdown_signal().await;
    tracing::info!("Kafka Connect stopping");
    herder.stop().await;
    rest.stop().await;
    tracing::info!("Kafka Connect stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
