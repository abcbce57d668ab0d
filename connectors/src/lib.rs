//! Ferry's built-in connectors that are not part of MirrorMaker 2: the FileStream source and
//! sink of Kafka's `connect-file`, and the Verifiable source and sink that Kafka's system tests
//! use to check delivery.
//!
//! | module | Java counterpart |
//! | --- | --- |
//! | [`file`](mod@file) | `org.apache.kafka.connect.file` |
//! | [`verifiable`] | `org.apache.kafka.connect.tools.Verifiable{Source,Sink}{Connector,Task}` |
//!
//! [`register`] adds them all to a plugin registry under their Java class names and aliases.

pub mod file;
pub mod verifiable;

use std::time::{SystemTime, UNIX_EPOCH};

use ferry_connect::plugin::PluginRegistry;

/// The version every connector here reports: Ferry's.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Registers every connector of this crate under its Java class name, which also makes its
/// simple class name and the name without `Connector` aliases of it.
///
/// ```
/// use ferry_connect::plugin::PluginRegistry;
/// let mut registry = PluginRegistry::new();
/// ferry_connectors::register(&mut registry);
/// assert!(registry.source_connector("FileStreamSource").is_some());
/// assert!(registry.sink_connector("org.apache.kafka.connect.file.FileStreamSinkConnector").is_some());
/// ```
pub fn register(registry: &mut PluginRegistry) {
    registry.register_source_connector(
        "org.apache.kafka.connect.file.FileStreamSourceConnector",
        VERSION,
        || Box::new(file::FileStreamSourceConnector::default()),
    );
    registry.register_sink_connector(
        "org.apache.kafka.connect.file.FileStreamSinkConnector",
        VERSION,
        || Box::new(file::FileStreamSinkConnector::default()),
    );
    registry.register_source_connector(
        "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        VERSION,
        || Box::new(verifiable::VerifiableSourceConnector::default()),
    );
    registry.register_sink_connector(
        "org.apache.kafka.connect.tools.VerifiableSinkConnector",
        VERSION,
        || Box::new(verifiable::VerifiableSinkConnector::default()),
    );
}

/// The current time in milliseconds since the epoch, as Java's `System.currentTimeMillis`.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
