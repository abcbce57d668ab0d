//! MirrorMaker 2 on Ferry: the source, checkpoint and heartbeat connectors, replication policies,
//! the Heartbeat/Checkpoint/OffsetSync record formats, offset translation, and the dedicated-mode
//! driver that runs flows from an `mm2.properties` file.
//!
//! The pure building blocks, each matching Java's MirrorMaker 2:
//! - [`records`]: the internal records and their byte-identical codecs;
//! - [`format`](mod@format): the text Java's KIP-597 formatters print for them;
//! - [`policy`]: replication policies, which name remote and internal topics;
//! - [`filter`]: topic, group and topic-config-property filters;
//! - [`offset_sync_store`]: the per-partition offset-sync store and offset translation;
//! - [`checkpoint`]: which translated offsets become checkpoints.
//!
//! The connectors, on the `ferry-connect` API:
//! - [`config`]: their settings (Java's names and defaults) and which client sees which;
//! - [`source`]: `MirrorSourceConnector` and `MirrorSourceTask`;
//! - [`checkpoint_connector`]: `MirrorCheckpointConnector` and `MirrorCheckpointTask`;
//! - [`heartbeat`]: `MirrorHeartbeatConnector` and `MirrorHeartbeatTask`;
//! - [`source_maps`]: the source partitions and offsets they store, in Java's layout.
//!
//! [`register`] adds the connectors to a plugin registry under Java's class names.

pub mod checkpoint;
pub mod checkpoint_connector;
pub mod config;
pub mod dedicated;
pub mod filter;
pub mod format;
pub mod heartbeat;
mod internal_topics;
pub mod offset_sync_store;
pub mod policy;
pub mod records;
mod schedule;
pub mod source;
pub mod source_maps;
pub mod tools;

use std::time::{SystemTime, UNIX_EPOCH};

use ferry_connect::plugin::PluginRegistry;

/// The version the connectors report: Ferry's.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Registers the three MirrorMaker 2 connectors under Java's class names, which also makes their
/// simple names (`MirrorSourceConnector`) and aliases (`MirrorSource`) resolve.
///
/// ```
/// use ferry_connect::plugin::PluginRegistry;
/// let mut registry = PluginRegistry::new();
/// ferry_mirror::register(&mut registry);
/// assert!(registry.source_connector("MirrorSource").is_some());
/// assert!(registry.source_connector("MirrorCheckpointConnector").is_some());
/// assert!(registry
///     .source_connector("org.apache.kafka.connect.mirror.MirrorHeartbeatConnector")
///     .is_some());
/// ```
pub fn register(registry: &mut PluginRegistry) {
    registry.register_source_connector(
        "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        VERSION,
        || Box::new(source::MirrorSourceConnector::default()),
    );
    registry.register_source_connector(
        "org.apache.kafka.connect.mirror.MirrorCheckpointConnector",
        VERSION,
        || Box::new(checkpoint_connector::MirrorCheckpointConnector::default()),
    );
    registry.register_source_connector(
        "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector",
        VERSION,
        || Box::new(heartbeat::MirrorHeartbeatConnector::default()),
    );
}

/// The current time in milliseconds since the epoch, as Java's `System.currentTimeMillis`.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
