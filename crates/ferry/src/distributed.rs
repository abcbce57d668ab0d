//! `ferry distributed WORKER.properties`: Java's `ConnectDistributed`, one worker of a Connect
//! cluster whose workers share a `group.id`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use ferry_connect::properties::Properties;
use ferry_runtime::distributed::herder::{DistributedError, run_distributed};
use ferry_runtime::rest::{LogLevels, RestError};

use crate::UsageError;
use crate::plugins::plugins;

/// Reads the worker file, then runs the worker until SIGINT or SIGTERM.
pub fn run(worker_file: &Path, levels: Arc<dyn LogLevels>) -> anyhow::Result<()> {
    let shown = worker_file.display();
    let props = Properties::load_latin1(worker_file)
        .map_err(|e| UsageError(format!("cannot read worker configuration {shown}: {e}")))?
        .into_map();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(run_distributed(
            props,
            Arc::new(plugins()),
            levels,
            shutdown_signal(),
        ));
    result.map_err(|error| match error {
        DistributedError::Config(e) | DistributedError::Rest(RestError::Config(e)) => {
            UsageError(format!("invalid worker configuration {shown}: {e}")).into()
        }
        DistributedError::Rest(e) => {
            UsageError(format!("cannot start the REST server: {e}")).into()
        }
        other => anyhow::Error::new(other).context("cannot start the distributed worker"),
    })
}

/// Completes on the first SIGINT or SIGTERM: the signals that stop a worker gracefully.
pub async fn shutdown_signal() {
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
