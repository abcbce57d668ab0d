//! `VerifiableSinkConnector` and its task.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

use ferry_connect::config::ConfigDef;
use ferry_connect::connector::{
    ConfigMap, Connector, OffsetAndMetadata, SinkConnector, SinkTask, TopicPartition,
};
use ferry_connect::record::SinkRecord;
use ferry_connect::{ConnectError, Result, async_trait};

use super::json::{SinkLine, to_line, value_to_json};
use super::{ID_CONFIG, NAME_CONFIG, numbered_task_configs, parse_number};

/// Reports every record it consumes, for delivery checks; Java's
/// `org.apache.kafka.connect.tools.VerifiableSinkConnector`.
///
/// Configuration: only what every sink has (`topics` or `topics.regex`). It runs `tasks.max`
/// tasks, giving each its `id` from 0.
#[derive(Debug, Default)]
pub struct VerifiableSinkConnector {
    props: ConfigMap,
}

#[async_trait]
impl Connector for VerifiableSinkConnector {
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

impl SinkConnector for VerifiableSinkConnector {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(VerifiableSinkTask::default())
    }
}

/// The task of [`VerifiableSinkConnector`], Java's `VerifiableSinkTask`.
///
/// Writes one JSON line per record to standard output when it receives it,
/// `{"task":KEY,"seqno":VALUE,"offset":N,"time_ms":T,"name":CONNECTOR,"topic":TOPIC,"sinkTask":ID}`,
/// and the same line with a new `time_ms` and `"flushed":true` once the record's partition is
/// flushed. `task` and `seqno` are the record's key and value, which are the source task id
/// and sequence number when the records come from the Verifiable source.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_connect::connector::SinkTask;
/// use ferry_connect::data::{Schema, SchemaAndValue, Value};
/// use ferry_connect::header::Headers;
/// use ferry_connect::record::{SinkRecord, TimestampType};
/// use ferry_connectors::verifiable::VerifiableSinkTask;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut task = VerifiableSinkTask::with_output(std::io::sink());
/// task.start(HashMap::from([("name".into(), "check".into()), ("id".into(), "0".into())])).await.unwrap();
/// let key = SchemaAndValue::new(Some(Schema::int32()), Some(Value::Int32(1)));
/// let value = SchemaAndValue::new(Some(Schema::int64()), Some(Value::Int64(5)));
/// let record = SinkRecord::new("t", 0, key, value, 42, None, TimestampType::NoTimestamp, Headers::new());
/// task.put(vec![record]).await.unwrap();
/// # });
/// ```
pub struct VerifiableSinkTask {
    output: Box<dyn Write + Send>,
    name: Option<String>,
    id: i32,
    unflushed: HashMap<TopicPartition, Vec<SinkLine>>,
}

impl Default for VerifiableSinkTask {
    fn default() -> Self {
        Self::with_output(io::stdout())
    }
}

impl fmt::Debug for VerifiableSinkTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiableSinkTask")
            .field("name", &self.name)
            .field("id", &self.id)
            .field("unflushed", &self.unflushed)
            .finish_non_exhaustive()
    }
}

impl VerifiableSinkTask {
    /// A task that writes its lines to `output` instead of standard output, e.g. to check
    /// them in tests.
    pub fn with_output(output: impl Write + Send + 'static) -> Self {
        Self {
            output: Box::new(output),
            name: None,
            id: 0,
            unflushed: HashMap::new(),
        }
    }

    fn print(&mut self, lines: &[SinkLine]) -> Result<()> {
        let mut text = String::new();
        for line in lines {
            text.push_str(&to_line(line));
            text.push('\n');
        }
        self.output
            .write_all(text.as_bytes())
            .and_then(|()| self.output.flush())
            .map_err(|e| {
                ConnectError::other(format!(
                    "Error while writing the VerifiableSinkTask report: {e}"
                ))
            })
    }
}

#[async_trait]
impl SinkTask for VerifiableSinkTask {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    async fn start(&mut self, config: ConfigMap) -> Result<()> {
        self.name = config.get(NAME_CONFIG).cloned();
        self.id = parse_number(&config, ID_CONFIG)?;
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> Result<()> {
        let now_ms = crate::now_ms();
        let lines: Vec<(TopicPartition, SinkLine)> = records
            .into_iter()
            .map(|record| {
                let line = SinkLine {
                    task: value_to_json(record.key.as_ref()),
                    seqno: value_to_json(record.value.as_ref()),
                    offset: record.kafka_offset,
                    time_ms: now_ms,
                    name: self.name.clone(),
                    topic: record.topic.clone(),
                    sink_task: self.id,
                    flushed: None,
                };
                (
                    TopicPartition::new(record.topic, record.kafka_partition),
                    line,
                )
            })
            .collect();
        let printed: Vec<SinkLine> = lines.iter().map(|(_, line)| line.clone()).collect();
        self.print(&printed)?;
        for (partition, line) in lines {
            self.unflushed.entry(partition).or_default().push(line);
        }
        Ok(())
    }

    async fn flush(&mut self, offsets: &HashMap<TopicPartition, OffsetAndMetadata>) -> Result<()> {
        let now_ms = crate::now_ms();
        let mut flushed = Vec::new();
        for partition in offsets.keys() {
            for mut line in self.unflushed.remove(partition).unwrap_or_default() {
                line.time_ms = now_ms;
                line.flushed = Some(true);
                flushed.push(line);
            }
        }
        self.print(&flushed)
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "sink_tests.rs"]
mod tests;
