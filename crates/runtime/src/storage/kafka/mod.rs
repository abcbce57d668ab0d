//! Kafka Connect's internal-topic stores on Kafka, for distributed mode: the config, offset and
//! status topics read and written as Java's `KafkaConfigBackingStore`,
//! `KafkaOffsetBackingStore` and `KafkaStatusBackingStore` do, so Java and Ferry workers can
//! share a cluster's topics.
//!
//! - [`topic`] holds the internal topics' settings from the worker config, and their creation
//!   (compacted).
//! - [`log`] holds [`KafkaBasedLog`], a topic read from its beginning and followed, with writes
//!   and read-to-end.
//! - [`config_store`] holds [`KafkaConfigBackingStore`]; [`config_state`] its
//!   [`ClusterConfigState`] snapshots and [`ConfigUpdate`]s.
//! - [`offset_store`] holds [`KafkaOffsetBackingStore`].
//! - [`status_store`] holds [`KafkaStatusBackingStore`]; [`worker_statuses`] the worker's
//!   [`StatusBackingStore`](crate::worker::StatusBackingStore) on it, [`WorkerStatuses`].
//!
//! The offset store implements the worker's
//! [`OffsetBackingStore`](crate::storage::offsets::OffsetBackingStore).
//!
//! Each store is started with the cluster's shared [`Cluster`](ferry_kafka::Cluster) and the
//! worker's properties (`bootstrap.servers`, `config.storage.topic`, …): the properties also
//! configure the store's producer and consumer, as Java passes the worker's originals to them.

pub mod config_state;
pub mod config_store;
pub mod log;
pub mod offset_store;
pub mod status_store;
pub mod topic;
pub mod worker_statuses;

use std::collections::BTreeMap;
use std::time::Duration;

use ferry_kafka::consumer::ConsumerConfig;

use log::LogClients;

pub use config_state::{ClusterConfigState, ConfigUpdate};
pub use config_store::KafkaConfigBackingStore;
pub use log::KafkaBasedLog;
pub use offset_store::KafkaOffsetBackingStore;
pub use status_store::KafkaStatusBackingStore;
pub use topic::InternalTopic;
pub use worker_statuses::WorkerStatuses;

/// The worker's properties, as read from its `.properties` file.
pub type WorkerProps = BTreeMap<String, String>;

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The Kafka client failed (after its own retries).
    #[error(transparent)]
    Kafka(#[from] ferry_kafka::Error),
    /// The operation did not complete in time.
    #[error("timed out after {} ms {what}", after.as_millis())]
    Timeout {
        /// What was being waited for.
        what: String,
        /// How long it was waited for.
        after: Duration,
    },
    /// The worker config or an internal topic is not usable (a missing topic name, a config
    /// topic with several partitions, a topic that is not compacted, …).
    #[error("{0}")]
    Config(String),
    /// The store was stopped.
    #[error("the store is stopped")]
    Stopped,
}

/// Shorthand for results of the stores.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How long a write, its read-back included, may take: Java's stores use 30 s. (The herder's
/// own catch-up bound, `worker.sync.timeout.ms`, is passed to
/// [`KafkaConfigBackingStore::refresh`].)
const READ_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `future` for at most `after`, naming `what` in the timeout error.
async fn within<T>(
    after: Duration,
    what: &str,
    future: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::time::timeout(after, future)
        .await
        .map_err(|_| StoreError::Timeout {
            what: what.to_owned(),
            after,
        })?
}

/// `default.api.timeout.ms` (60 s): how long Java keeps retrying to create an internal topic.
fn api_timeout(props: &WorkerProps) -> Duration {
    let millis = props
        .get("default.api.timeout.ms")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(60_000);
    Duration::from_millis(millis)
}

/// The producer and consumer of an internal topic. As in Java, they get the worker's whole
/// properties, so top-level client settings (`fetch.max.wait.ms`, `linger.ms`,
/// `request.timeout.ms`, …) apply to them. Every write acknowledged by all replicas, with one
/// request in flight so retries cannot reorder, are defaults the worker's properties may
/// change (as Java's producer defaults); no idempotence (as Connect's own producers) and the
/// store's `overrides` are forced, as Java forces its per-store settings.
fn log_clients(props: &WorkerProps, overrides: &[(&str, &str)]) -> Result<LogClients> {
    let defaults = [
        ("acks", "all"),
        ("max.in.flight.requests.per.connection", "1"),
    ];
    let mut producer: WorkerProps = defaults
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    producer.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
    for (key, value) in [("enable.idempotence", "false")].iter().chain(overrides) {
        producer.insert((*key).to_owned(), (*value).to_owned());
    }
    Ok(LogClients {
        producer: producer.into_iter().collect(),
        consumer: ConsumerConfig::from_pairs(props)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_client_settings_reach_the_internal_clients() {
        let props: WorkerProps = [
            ("bootstrap.servers", "kafka:9092"),
            ("group.id", "connect"),
            ("fetch.max.wait.ms", "50"),
            ("max.poll.records", "3"),
            ("linger.ms", "7"),
            ("acks", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let clients = log_clients(&props, &[("retries", "0")]).unwrap();
        assert_eq!(clients.consumer.fetch_max_wait, Duration::from_millis(50));
        assert_eq!(clients.consumer.max_poll_records, 3);
        let producer: BTreeMap<String, String> = clients.producer.into_iter().collect();
        assert_eq!(producer["linger.ms"], "7");
        assert_eq!(producer["retries"], "0");
        assert_eq!(producer["acks"], "1");
        assert_eq!(producer["max.in.flight.requests.per.connection"], "1");
        assert_eq!(producer["enable.idempotence"], "false");
        let defaults = log_clients(&WorkerProps::new(), &[]).unwrap();
        let producer: BTreeMap<String, String> = defaults.producer.into_iter().collect();
        assert_eq!(producer["acks"], "all");
        assert_eq!(api_timeout(&props), Duration::from_secs(60));
    }
}
