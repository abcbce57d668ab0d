//! `VerifiableSourceConnector` and its task.

use std::sync::Arc;

use ferry_connect::config::ConfigDef;
use ferry_connect::connector::{
    ConfigMap, Connector, SourceConnector, SourceTask, SourceTaskContext,
};
use ferry_connect::data::{Schema, SchemaBuilder, Struct, Value};
use ferry_connect::record::{SourceMap, SourceRecord};
use ferry_connect::{ConnectError, Result, async_trait};
use tracing::{debug, info};

use super::json::{SourceLine, to_line};
use super::throttle::Throttle;
use super::{
    COMPLETE_RECORD_DATA_CONFIG, ID_CONFIG, ID_FIELD, NAME_CONFIG, SEQNO_FIELD, THROUGHPUT_CONFIG,
    TOPIC_CONFIG, numbered_task_configs, parse_number,
};

/// Produces numbered records for delivery checks; Java's
/// `org.apache.kafka.connect.tools.VerifiableSourceConnector`.
///
/// Configuration (not validated, as in Java): `topic`, `throughput` (records per second per
/// task, negative for no limit) and optionally `complete.record.data`. It runs `tasks.max`
/// tasks, giving each its `id` from 0.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_connect::connector::Connector;
/// use ferry_connectors::verifiable::VerifiableSourceConnector;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut connector = VerifiableSourceConnector::default();
/// connector.start(HashMap::from([("topic".to_owned(), "test".to_owned())])).await.unwrap();
/// let tasks = connector.task_configs(2).await.unwrap();
/// assert_eq!(tasks[1]["id"], "1");
/// # });
/// ```
#[derive(Debug, Default)]
pub struct VerifiableSourceConnector {
    props: ConfigMap,
}

#[async_trait]
impl Connector for VerifiableSourceConnector {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    async fn start(&mut self, config: ConfigMap) -> Result<()> {
        self.props = config;
        Ok(())
    }

    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>> {
        Ok(numbered_task_configs(&self.props, max_tasks))
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}

impl SourceConnector for VerifiableSourceConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(VerifiableSourceTask::default())
    }
}

/// The value schema with `complete.record.data=true`.
fn complete_value_schema() -> Schema {
    SchemaBuilder::struct_()
        .field("name", Schema::string())
        .field("task", Schema::int32())
        .field("topic", Schema::string())
        .field("time_ms", Schema::int64())
        .field("seqno", Schema::int64())
        .build()
        .expect("a struct of primitive fields is a valid schema")
}

/// A started task's state.
#[derive(Debug)]
struct Sequence {
    name: Option<String>,
    id: i32,
    topic: String,
    partition: SourceMap,
    starting_seqno: i64,
    seqno: i64,
    throttle: Throttle,
    complete_value_schema: Option<Schema>,
}

impl Sequence {
    fn value(&self, now_ms: i64) -> Result<(Schema, Value)> {
        let Some(schema) = &self.complete_value_schema else {
            return Ok((Schema::int64(), Value::Int64(self.seqno)));
        };
        let mut value = Struct::new(schema.clone())?;
        value
            .put("name", self.name.clone().map(Value::String))?
            .put("task", Value::Int32(self.id))?
            .put("topic", Value::from(self.topic.as_str()))?
            .put("time_ms", Value::Int64(now_ms))?
            .put("seqno", Value::Int64(self.seqno))?;
        Ok((schema.clone(), Value::Struct(value)))
    }
}

/// The task of [`VerifiableSourceConnector`], Java's `VerifiableSourceTask`.
///
/// Each poll returns one record: key `id` (`INT32`), value `seqno` (`INT64`) or, with
/// `complete.record.data=true`, a struct `{name, task, topic, time_ms, seqno}`; source
/// partition `{"id": ID}` and offset `{"seqno": SEQNO}`, no timestamp. On start the sequence
/// resumes after the stored `seqno`, from 0 without one.
///
/// Java prints a JSON line to standard output for each record produced and each record
/// committed; this task logs the same lines with `tracing` at debug level instead, so that
/// the worker's standard output stays its own.
#[derive(Debug, Default)]
pub struct VerifiableSourceTask {
    context: Option<Arc<dyn SourceTaskContext>>,
    sequence: Option<Sequence>,
}

#[async_trait]
impl SourceTask for VerifiableSourceTask {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    fn initialize(&mut self, context: Arc<dyn SourceTaskContext>) {
        self.context = Some(context);
    }

    async fn start(&mut self, config: ConfigMap) -> Result<()> {
        let id: i32 = parse_number(&config, ID_CONFIG)?;
        let throughput: i64 = parse_number(&config, THROUGHPUT_CONFIG)?;
        let name = config.get(NAME_CONFIG).cloned();
        let topic = config.get(TOPIC_CONFIG).cloned().ok_or_else(|| {
            ConnectError::other(format!(
                "Invalid VerifiableSourceTask configuration: missing '{TOPIC_CONFIG}'"
            ))
        })?;
        let context = self.context.as_ref().ok_or_else(|| {
            ConnectError::IllegalState(
                "VerifiableSourceTask started before it was initialized".to_owned(),
            )
        })?;
        let partition = SourceMap::from_iter([(ID_FIELD.to_owned(), id.into())]);
        let stored = context.offset_storage_reader().offset(&partition).await?;
        let seqno = match stored {
            None => 0,
            Some(offset) => {
                let last = offset
                    .get(SEQNO_FIELD)
                    .and_then(serde_json::Value::as_i64)
                    .ok_or_else(|| {
                        ConnectError::other(format!(
                            "The stored offset {offset:?} has no numeric '{SEQNO_FIELD}'"
                        ))
                    })?;
                last + 1
            }
        };
        let complete = config
            .get(COMPLETE_RECORD_DATA_CONFIG)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        info!(
            "Started VerifiableSourceTask {}-{id} producing to topic {topic} resuming from seqno {seqno}",
            name.as_deref().unwrap_or("null")
        );
        self.sequence = Some(Sequence {
            name,
            id,
            topic,
            partition,
            starting_seqno: seqno,
            seqno,
            throttle: Throttle::new(throughput, crate::now_ms()),
            complete_value_schema: complete.then(complete_value_schema),
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let sequence = self.sequence.as_mut().ok_or_else(|| {
            ConnectError::IllegalState("VerifiableSourceTask polled before start".to_owned())
        })?;
        if sequence
            .throttle
            .should_throttle(sequence.seqno - sequence.starting_seqno, crate::now_ms())
        {
            sequence.throttle.throttle().await;
        }
        let now_ms = crate::now_ms();
        let (value_schema, value) = sequence.value(now_ms)?;
        let line = SourceLine {
            committed: None,
            task: sequence.id,
            seqno: sequence.seqno,
            time_ms: now_ms,
            name: sequence.name.as_deref(),
            topic: &sequence.topic,
        };
        debug!("{}", to_line(&line));
        let offset = SourceMap::from_iter([(SEQNO_FIELD.to_owned(), sequence.seqno.into())]);
        let mut record = SourceRecord::new(
            Some(sequence.partition.clone()),
            Some(offset),
            sequence.topic.clone(),
            Some(value_schema),
            Some(value),
        );
        record.key_schema = Some(Schema::int32());
        record.key = Some(Value::Int32(sequence.id));
        sequence.seqno += 1;
        Ok(vec![record])
    }

    async fn commit_record(
        &mut self,
        record: &SourceRecord,
        _metadata: Option<&ferry_connect::connector::RecordMetadata>,
    ) -> Result<()> {
        let Some(sequence) = &self.sequence else {
            return Ok(());
        };
        let seqno = record
            .source_offset
            .as_ref()
            .and_then(|o| o.get_i64(SEQNO_FIELD));
        let line = SourceLine {
            committed: Some(true),
            task: sequence.id,
            seqno: seqno.unwrap_or_default(),
            time_ms: crate::now_ms(),
            name: sequence.name.as_deref(),
            topic: &sequence.topic,
        };
        debug!("{}", to_line(&line));
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
