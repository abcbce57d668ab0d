//! `ferry mirror mm2.properties [--clusters A,B]`: dedicated MirrorMaker 2, Java's
//! `connect-mirror-maker.sh`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use ferry_mirror::dedicated::{DriverError, Mm2Config, run_mirror_maker};
use ferry_runtime::rest::LogLevels;

use crate::UsageError;
use crate::distributed::shutdown_signal;
use crate::plugins::plugins;

/// Reads the file, then runs the flows that target `clusters` (all when empty) until SIGINT or
/// SIGTERM.
pub fn run(file: &Path, clusters: &[String], levels: Arc<dyn LogLevels>) -> anyhow::Result<()> {
    let shown = file.display();
    let config = Mm2Config::load(file)
        .map_err(|e| UsageError(format!("invalid MirrorMaker 2 configuration {shown}: {e}")))?;
    let clusters: Vec<String> = clusters
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let clusters = (!clusters.is_empty()).then_some(clusters.as_slice());
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(run_mirror_maker(
            &config,
            clusters,
            Arc::new(plugins()),
            levels,
            shutdown_signal(),
        ));
    result.map_err(|error| match error {
        DriverError::Config(_) | DriverError::WorkerConfig { .. } | DriverError::Rest(_) => {
            UsageError(format!(
                "invalid MirrorMaker 2 configuration {shown}: {error}"
            ))
            .into()
        }
        other => anyhow::Error::new(other).context("cannot start MirrorMaker 2"),
    })
}
