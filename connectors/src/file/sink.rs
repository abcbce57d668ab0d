//! `FileStreamSinkConnector` and its task.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Write};

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance};
use ferry_connect::connector::{ConfigMap, Connector, SinkConnector, SinkTask, TopicPartition};
use ferry_connect::record::SinkRecord;
use ferry_connect::{ConnectError, Result, async_trait};
use tracing::{info, trace};

use super::text::write_java_text;
use super::{FILE_CONFIG, configured_file};

fn config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(FILE_CONFIG, ConfigType::String)
            .default_null()
            .importance(Importance::High)
            .documentation("The file to append record values to; standard output when not set."),
    )
}

/// Appends the value of each record to a file, or to standard output, one per line; Java's
/// `org.apache.kafka.connect.file.FileStreamSinkConnector`.
///
/// Configuration: `file` (standard output when absent or empty), and the `topics` or
/// `topics.regex` every sink has, which the runtime checks. Every task gets the same
/// configuration, so several tasks append to the same file.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_connect::connector::Connector;
/// use ferry_connectors::file::FileStreamSinkConnector;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut connector = FileStreamSinkConnector::default();
/// let config = HashMap::from([("file".to_owned(), "/tmp/out.txt".to_owned()),
///                             ("topics".to_owned(), "logs".to_owned())]);
/// connector.start(config.clone()).await.unwrap();
/// assert_eq!(connector.task_configs(2).await.unwrap(), vec![config.clone(), config]);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct FileStreamSinkConnector {
    props: ConfigMap,
}

#[async_trait]
impl Connector for FileStreamSinkConnector {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    async fn start(&mut self, config: ConfigMap) -> Result<()> {
        let parsed = config_def().parse(&config)?;
        let file = configured_file(&parsed);
        info!(
            "Starting file sink connector writing to {}",
            file.as_deref().unwrap_or("standard output")
        );
        self.props = config;
        Ok(())
    }

    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>> {
        Ok(vec![self.props.clone(); max_tasks])
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }

    fn config(&self) -> ConfigDef {
        config_def()
    }
}

#[async_trait]
impl SinkConnector for FileStreamSinkConnector {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileStreamSinkTask::default())
    }

    /// The connector keeps no offsets of its own and has nothing to check, so any change of
    /// the consumer offsets is fine.
    async fn alter_offsets(
        &mut self,
        _config: &ConfigMap,
        _offsets: &HashMap<TopicPartition, Option<i64>>,
    ) -> Result<bool> {
        Ok(true)
    }
}

/// Where the task writes.
#[derive(Debug)]
enum Output {
    File { file: std::fs::File, path: String },
    Stdout,
}

impl Output {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Output::File { file, .. } => file.write_all(bytes),
            Output::Stdout => {
                let mut stdout = io::stdout().lock();
                stdout.write_all(bytes)?;
                stdout.flush()
            }
        }
    }

    fn name(&self) -> &str {
        match self {
            Output::File { path, .. } => path,
            Output::Stdout => "stdout",
        }
    }
}

/// The task of [`FileStreamSinkConnector`], Java's `FileStreamSinkTask`.
///
/// Writes each record's value as text followed by `\n`: strings as they are, `null` for a
/// null value, other values as Java's `toString` prints them (see the crate's tests for
/// structs, maps, arrays and dates), bytes raw. The file is opened for appending and created
/// if missing. Each `put` writes its batch with one write, so the lines are in the file when
/// `put` returns, as they are with Java's unbuffered stream, and `flush` has nothing left to do.
#[derive(Debug, Default)]
pub struct FileStreamSinkTask {
    output: Option<Output>,
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    async fn start(&mut self, config: ConfigMap) -> Result<()> {
        let parsed = config_def().parse(&config)?;
        self.output = Some(match configured_file(&parsed) {
            None => Output::Stdout,
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| {
                        ConnectError::other(format!(
                            "Couldn't find or create file '{path}' for FileStreamSinkTask: {e}"
                        ))
                    })?;
                Output::File { file, path }
            }
        });
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> Result<()> {
        let output = self.output.as_mut().ok_or_else(|| {
            ConnectError::IllegalState("FileStreamSinkTask used before start".to_owned())
        })?;
        let mut text = Vec::new();
        for record in &records {
            write_java_text(&mut text, record.value.as_ref());
            text.push(b'\n');
        }
        trace!("Writing {} lines to {}", records.len(), output.name());
        output.write_all(&text).map_err(|e| {
            ConnectError::other(format!("Error while writing to {}: {e}", output.name()))
        })
    }

    async fn stop(&mut self) -> Result<()> {
        self.output = None;
        Ok(())
    }
}

#[cfg(test)]
#[path = "sink_tests.rs"]
mod tests;
