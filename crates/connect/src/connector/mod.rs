//! The connector and task traits, Java's `org.apache.kafka.connect.{connector,source,sink}`.
//!
//! The runtime holds plugins as trait objects (`Box<dyn SourceConnector>`, `Box<dyn SinkTask>`),
//! so the traits use `async_trait` for the calls it awaits. A connector instance is created from
//! the plugin registry for each lifecycle (validate, run, or just to create its tasks), as Java
//! instantiates the connector class for each.

mod sink;
mod source;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{ConfigDef, ConfigValue};
use crate::error::{ConnectError, Result};

pub use sink::{ErrantRecordReporter, SinkConnector, SinkTask, SinkTaskContext};
pub use source::{
    ConnectorTransactionBoundaries, ExactlyOnceSupport, OffsetStorageReader, RecordMetadata,
    SourceConnector, SourceTask, SourceTaskContext,
};

/// A connector's or task's configuration: string keys and values, as submitted over REST.
pub type ConfigMap = HashMap<String, String>;

/// A topic partition, Java's `TopicPartition`; `Display` gives Java's `topic-partition`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
}

impl TopicPartition {
    /// The partition `partition` of `topic`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A consumer offset to commit with its metadata, Java's `OffsetAndMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OffsetAndMetadata {
    /// The offset of the next record to consume.
    pub offset: i64,
    /// Free-form metadata stored with the offset.
    pub metadata: String,
}

impl OffsetAndMetadata {
    /// An offset with empty metadata.
    pub fn new(offset: i64) -> Self {
        Self {
            offset,
            metadata: String::new(),
        }
    }
}

/// What a connector can ask of the runtime, Java's `ConnectorContext`.
pub trait ConnectorContext: Send + Sync + fmt::Debug {
    /// Asks the runtime to call `task_configs` again and restart the tasks with the new configs,
    /// e.g. after the set of source tables changed.
    fn request_task_reconfiguration(&self);

    /// Reports an unrecoverable error in a thread of the connector's own; the runtime marks the
    /// connector failed.
    fn raise_error(&self, error: ConnectError);
}

/// What sources and sinks share, Java's `Connector`.
#[async_trait]
pub trait Connector: Send + Sync + fmt::Debug {
    /// The connector's version, shown in `GET /connector-plugins`.
    fn version(&self) -> String;

    /// Hands the connector its context; called once, before [`Connector::start`].
    fn initialize(&mut self, context: Arc<dyn ConnectorContext>) {
        let _ = context;
    }

    /// Starts the connector with its configuration.
    async fn start(&mut self, config: ConfigMap) -> Result<()>;

    /// The configurations for at most `max_tasks` tasks.
    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>>;

    /// Stops the connector.
    async fn stop(&mut self) -> Result<()>;

    /// The definition of the connector's configuration.
    fn config(&self) -> ConfigDef;

    /// Validates a configuration; the default checks it against [`Connector::config`], as Java's
    /// `Connector.validate` does.
    fn validate(&self, config: &ConfigMap) -> Vec<ConfigValue> {
        self.config().validate(config)
    }
}

#[cfg(test)]
mod tests;
