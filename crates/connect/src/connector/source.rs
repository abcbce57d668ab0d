//! Source connectors and tasks.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use super::{ConfigMap, Connector};
#[cfg(doc)]
use crate::error::ConnectError;
use crate::error::Result;
use crate::record::{SourceMap, SourceRecord};

/// Whether a source connector can provide exactly-once semantics (KIP-618),
/// Java's `ExactlyOnceSupport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactlyOnceSupport {
    /// The connector supports exactly-once delivery.
    Supported,
    /// The connector does not.
    Unsupported,
}

/// Whether a source connector defines its own transaction boundaries (KIP-618),
/// Java's `ConnectorTransactionBoundaries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorTransactionBoundaries {
    /// Tasks may define transaction boundaries.
    Supported,
    /// They may not.
    Unsupported,
}

/// A connector that imports data into Kafka, Java's `SourceConnector`.
#[async_trait]
pub trait SourceConnector: Connector {
    /// A new, unstarted task of this connector.
    fn create_task(&self) -> Box<dyn SourceTask>;

    /// Whether the connector supports exactly-once delivery with `config`; `None` when unknown.
    fn exactly_once_support(&self, config: &ConfigMap) -> Option<ExactlyOnceSupport> {
        let _ = config;
        None
    }

    /// Whether the connector can define transaction boundaries with `config`.
    fn can_define_transaction_boundaries(
        &self,
        config: &ConfigMap,
    ) -> ConnectorTransactionBoundaries {
        let _ = config;
        ConnectorTransactionBoundaries::Unsupported
    }

    /// Handles a request of the offsets REST API (KIP-875) to alter (`Some`) or reset (`None`)
    /// the offsets of source partitions, before the runtime writes them to its offset store. A
    /// connector that keeps offsets in an external system applies the change there; any
    /// connector may check that the partitions and offsets have a shape it understands. It may be
    /// called before the connector is started, and more than once with the same offsets (a
    /// retried request), so it must be idempotent. The list may be empty (nothing to reset).
    ///
    /// The result says whether the connector implements this method: the default returns
    /// `false`, any override that does not fail should return `true`. Either way the runtime
    /// writes the offsets; `false` only makes its answer warn that offsets the connector might
    /// keep elsewhere were not changed.
    ///
    /// # Errors
    /// To refuse the change, with nothing written: [`ConnectError::BadRequest`] makes the REST
    /// API answer 400, as Java's `BadRequestException` does, and [`ConnectError::Other`] 500.
    async fn alter_offsets(
        &mut self,
        config: &ConfigMap,
        offsets: &[(SourceMap, Option<SourceMap>)],
    ) -> Result<bool> {
        let _ = (config, offsets);
        Ok(false)
    }
}

/// Reads the offsets the runtime stored for source partitions, Java's `OffsetStorageReader`.
#[async_trait]
pub trait OffsetStorageReader: Send + Sync + fmt::Debug {
    /// The last committed offset of `partition`.
    async fn offset(&self, partition: &SourceMap) -> Result<Option<SourceMap>>;

    /// The last committed offsets of several partitions; partitions without one are left out.
    async fn offsets(&self, partitions: &[SourceMap]) -> Result<Vec<(SourceMap, SourceMap)>> {
        let mut found = Vec::new();
        for partition in partitions {
            if let Some(offset) = self.offset(partition).await? {
                found.push((partition.clone(), offset));
            }
        }
        Ok(found)
    }
}

/// What a source task can ask of the runtime, Java's `SourceTaskContext`.
pub trait SourceTaskContext: Send + Sync + fmt::Debug {
    /// The task's configuration.
    fn configs(&self) -> ConfigMap;

    /// Reads the stored offsets of the task's source partitions, e.g. to resume on start.
    fn offset_storage_reader(&self) -> Arc<dyn OffsetStorageReader>;
}

/// Where the producer wrote a record, Java's `RecordMetadata` as passed to `commitRecord`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The topic written to.
    pub topic: String,
    /// The partition written to.
    pub partition: i32,
    /// The record's offset in the partition.
    pub offset: i64,
    /// The record's timestamp.
    pub timestamp: Option<i64>,
}

/// A task that polls a source system for records, Java's `SourceTask`.
///
/// The runtime calls `poll` in a loop. To stop the task it drops a pending `poll` future and
/// then calls [`SourceTask::stop`], so `poll` must be cancel-safe: a record must not be lost
/// when the future is dropped before it returns.
#[async_trait]
pub trait SourceTask: Send + fmt::Debug {
    /// The task's version.
    fn version(&self) -> String;

    /// Hands the task its context; called once, before [`SourceTask::start`].
    fn initialize(&mut self, context: Arc<dyn SourceTaskContext>) {
        let _ = context;
    }

    /// Starts the task with its configuration (one of the connector's `task_configs`).
    async fn start(&mut self, config: ConfigMap) -> Result<()>;

    /// The next records; an empty batch when there are none yet. A
    /// [`ConnectError::Retriable`] error makes the runtime call `poll` again.
    async fn poll(&mut self) -> Result<Vec<SourceRecord>>;

    /// Called after the offsets of the records polled so far were committed.
    async fn commit(&mut self) -> Result<()> {
        Ok(())
    }

    /// Whether [`SourceTask::commit_record`] reads the key, value or headers of the records it
    /// is given (true unless the task says otherwise). A task that reads only their topic,
    /// partition and source partition and offset returns false: the runtime then lets go of the
    /// payload once the producer has copied it, so that records waiting for Kafka's answer do
    /// not hold the buffers they were read into (a replicated record's bytes are a slice of a
    /// whole fetch answer). Not part of Java's API, where the record is kept whole.
    fn commit_record_reads_payload(&self) -> bool {
        true
    }

    /// Called for each record once it was acknowledged by Kafka, or dropped by a transformation
    /// (then `metadata` is `None`).
    async fn commit_record(
        &mut self,
        record: &SourceRecord,
        metadata: Option<&RecordMetadata>,
    ) -> Result<()> {
        let _ = (record, metadata);
        Ok(())
    }

    /// Stops the task.
    async fn stop(&mut self) -> Result<()>;
}
