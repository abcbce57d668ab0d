//! Sink connectors and tasks.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{ConfigMap, Connector, OffsetAndMetadata, TopicPartition};
use crate::error::{ConnectError, Result};
use crate::record::SinkRecord;

/// A connector that exports data from Kafka, Java's `SinkConnector`.
///
/// Its configuration names the topics to consume with `topics` or `topics.regex`.
#[async_trait]
pub trait SinkConnector: Connector {
    /// A new, unstarted task of this connector.
    fn create_task(&self) -> Box<dyn SinkTask>;

    /// Handles a request of the offsets REST API (KIP-875) to alter (`Some`) or reset (`None`)
    /// the consumer offsets of topic partitions, before the runtime changes its consumer group's
    /// offsets. A connector that keeps offsets in an external system applies the change there;
    /// any connector may check the offsets. It may be called before the connector is started,
    /// and more than once with the same offsets (a retried request), so it must be idempotent.
    ///
    /// The result says whether the connector implements this method: the default returns
    /// `false`, any override that does not fail should return `true`. Either way the runtime
    /// changes the group's offsets; `false` only makes its answer warn that offsets the
    /// connector might keep elsewhere were not changed.
    ///
    /// # Errors
    /// To refuse the change, leaving the group's offsets as they were:
    /// [`ConnectError::BadRequest`] makes the REST API answer 400, as Java's
    /// `BadRequestException` does, and [`ConnectError::Other`] 500.
    async fn alter_offsets(
        &mut self,
        config: &ConfigMap,
        offsets: &HashMap<TopicPartition, Option<i64>>,
    ) -> Result<bool> {
        let _ = (config, offsets);
        Ok(false)
    }
}

/// Reports records a sink task could not process to the runtime's error handling (the
/// dead-letter queue and error log, per `errors.tolerance`), Java's `ErrantRecordReporter`
/// (KIP-610).
#[async_trait]
pub trait ErrantRecordReporter: Send + Sync + fmt::Debug {
    /// Reports `record` as failed with `error`; completes when the report is durable.
    ///
    /// # Errors
    /// [`ConnectError`] when the runtime's tolerance is exceeded or the report cannot be written.
    async fn report(&self, record: &SinkRecord, error: &ConnectError) -> Result<()>;
}

/// What a sink task can ask of the runtime, Java's `SinkTaskContext`.
///
/// The calls record requests that the runtime acts on after the current task call returns.
pub trait SinkTaskContext: Send + Sync + fmt::Debug {
    /// The task's configuration.
    fn configs(&self) -> ConfigMap;

    /// Asks the consumer to rewind or skip to these offsets, e.g. offsets the sink stores itself.
    fn offsets(&self, offsets: HashMap<TopicPartition, i64>);

    /// Asks the consumer to rewind or skip one partition to `offset`.
    fn offset(&self, partition: TopicPartition, offset: i64) {
        self.offsets(HashMap::from([(partition, offset)]));
    }

    /// Asks the runtime to call `put` again within `timeout` even if no records arrive, after
    /// the task raised a [`ConnectError::Retriable`] error.
    fn timeout(&self, timeout: Duration);

    /// The partitions currently assigned to the task.
    fn assignment(&self) -> HashSet<TopicPartition>;

    /// Stops fetching from these partitions until [`SinkTaskContext::resume`].
    fn pause(&self, partitions: &[TopicPartition]);

    /// Resumes fetching from paused partitions.
    fn resume(&self, partitions: &[TopicPartition]);

    /// Asks the runtime to commit offsets as soon as possible.
    fn request_commit(&self);

    /// The reporter for records the task cannot process; `None` when the runtime offers none.
    fn errant_record_reporter(&self) -> Option<Arc<dyn ErrantRecordReporter>> {
        None
    }
}

/// A task that writes records to a sink system, Java's `SinkTask`.
#[async_trait]
pub trait SinkTask: Send + fmt::Debug {
    /// The task's version.
    fn version(&self) -> String;

    /// Hands the task its context; called once, before [`SinkTask::start`].
    fn initialize(&mut self, context: Arc<dyn SinkTaskContext>) {
        let _ = context;
    }

    /// Starts the task with its configuration (one of the connector's `task_configs`).
    async fn start(&mut self, config: ConfigMap) -> Result<()>;

    /// Writes (or buffers) records. A [`ConnectError::Retriable`] error makes the runtime
    /// deliver the same batch again.
    async fn put(&mut self, records: Vec<SinkRecord>) -> Result<()>;

    /// Makes everything `put` so far durable, up to the given consumer offsets.
    async fn flush(&mut self, offsets: &HashMap<TopicPartition, OffsetAndMetadata>) -> Result<()> {
        let _ = offsets;
        Ok(())
    }

    /// Called before the runtime commits consumer offsets; returns the offsets that are safe
    /// to commit. The default flushes and returns `offsets` unchanged, as Java's does.
    async fn pre_commit(
        &mut self,
        offsets: HashMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<HashMap<TopicPartition, OffsetAndMetadata>> {
        self.flush(&offsets).await?;
        Ok(offsets)
    }

    /// Called when partitions are assigned to the task, before records of them are delivered.
    async fn open(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        let _ = partitions;
        Ok(())
    }

    /// Called when partitions are revoked from the task, after their last commit.
    async fn close(&mut self, partitions: &[TopicPartition]) -> Result<()> {
        let _ = partitions;
        Ok(())
    }

    /// Stops the task.
    async fn stop(&mut self) -> Result<()>;
}
