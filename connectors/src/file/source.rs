//! `FileStreamSourceConnector` and its task.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance, NonEmptyString};
use ferry_connect::connector::{
    ConfigMap, Connector, ExactlyOnceSupport, SourceConnector, SourceTask, SourceTaskContext,
};
use ferry_connect::data::{Schema, Value};
use ferry_connect::record::{SourceMap, SourceRecord};
use ferry_connect::{ConnectError, Result, async_trait};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::lines::LineBuffer;
use super::{
    DEFAULT_TASK_BATCH_SIZE, FILE_CONFIG, FILENAME_FIELD, POSITION_FIELD, TASK_BATCH_SIZE_CONFIG,
    TOPIC_CONFIG, configured_file,
};

/// How long `poll` waits when there is nothing to read, as Java's task does, so that an idle
/// task does not spin.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// How many bytes one read asks for.
const READ_CHUNK: usize = 8192;

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(FILE_CONFIG, ConfigType::String)
                .default_null()
                .importance(Importance::High)
                .documentation("The file to read lines from; standard input when not set."),
        )
        .define(
            ConfigKey::new(TOPIC_CONFIG, ConfigType::String)
                .validator(NonEmptyString)
                .importance(Importance::High)
                .documentation("The topic the lines are published to."),
        )
        .define(
            ConfigKey::new(TASK_BATCH_SIZE_CONFIG, ConfigType::Int)
                .default_value(DEFAULT_TASK_BATCH_SIZE.to_string())
                .importance(Importance::Low)
                .documentation("The most lines the task returns from one poll."),
        )
}

/// The source partition of `file`: `{"filename": FILE}`.
fn source_partition(file: &str) -> SourceMap {
    SourceMap::from_iter([(FILENAME_FIELD.to_owned(), file.into())])
}

/// Publishes each line of a file, or of standard input, as a record to one topic; Java's
/// `org.apache.kafka.connect.file.FileStreamSourceConnector`.
///
/// Configuration: `file` (standard input when absent or empty), `topic` (required, non-empty)
/// and `batch.size` (2000). It always runs a single task, since a file has one reader.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_connect::connector::Connector;
/// use ferry_connectors::file::FileStreamSourceConnector;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut connector = FileStreamSourceConnector::default();
/// let config = HashMap::from([("file".to_owned(), "/var/log/app.log".to_owned()),
///                             ("topic".to_owned(), "logs".to_owned())]);
/// connector.start(config.clone()).await.unwrap();
/// assert_eq!(connector.task_configs(4).await.unwrap(), vec![config]);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct FileStreamSourceConnector {
    props: ConfigMap,
}

#[async_trait]
impl Connector for FileStreamSourceConnector {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    async fn start(&mut self, config: ConfigMap) -> Result<()> {
        let parsed = config_def().parse(&config)?;
        let file = configured_file(&parsed);
        info!(
            "Starting file source connector reading from {}",
            file.as_deref().unwrap_or("standard input")
        );
        self.props = config;
        Ok(())
    }

    async fn task_configs(&mut self, _max_tasks: usize) -> Result<Vec<ConfigMap>> {
        Ok(vec![self.props.clone()])
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }

    fn config(&self) -> ConfigDef {
        config_def()
    }
}

#[async_trait]
impl SourceConnector for FileStreamSourceConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(FileStreamSourceTask::default())
    }

    /// Supported when reading a file, whose offsets are tracked; not for standard input.
    /// `None` for a configuration that does not parse.
    fn exactly_once_support(&self, config: &ConfigMap) -> Option<ExactlyOnceSupport> {
        let parsed = config_def().parse(config).ok()?;
        Some(match configured_file(&parsed) {
            Some(_) => ExactlyOnceSupport::Supported,
            None => ExactlyOnceSupport::Unsupported,
        })
    }

    /// Accepts new offsets that are `{"position": N}` with `N ≥ 0` for partitions with a
    /// `filename`, and any reset; the task checks the position against the file when it opens it.
    async fn alter_offsets(
        &mut self,
        config: &ConfigMap,
        offsets: &[(SourceMap, Option<SourceMap>)],
    ) -> Result<bool> {
        let parsed = config_def().parse(config)?;
        if configured_file(&parsed).is_none() {
            return Err(ConnectError::other(format!(
                "Offsets cannot be modified if the '{FILE_CONFIG}' configuration is unspecified. \
                 This is because stdin is used for input and offsets are not tracked."
            )));
        }
        for (partition, offset) in offsets {
            // Resets are always allowed, so that leftovers of older configurations can be removed.
            let Some(offset) = offset else { continue };
            let Some(position) = offset.get(POSITION_FIELD) else {
                return Err(ConnectError::other(format!(
                    "Offset objects should either be null or contain the key '{POSITION_FIELD}'"
                )));
            };
            let Some(position) = position.as_i64() else {
                return Err(ConnectError::other(format!(
                    "The value for the '{POSITION_FIELD}' key in the offset is expected to be a Long value"
                )));
            };
            if position < 0 {
                return Err(ConnectError::other(format!(
                    "The value for the '{POSITION_FIELD}' key in the offset should be a non-negative value"
                )));
            }
            if !partition.contains_key(FILENAME_FIELD) {
                return Err(ConnectError::other(format!(
                    "Partition objects should contain the key '{FILENAME_FIELD}'"
                )));
            }
        }
        Ok(true)
    }
}

/// The settings a task was started with.
#[derive(Debug)]
struct Settings {
    file: Option<String>,
    topic: String,
    batch_size: usize,
}

/// Where the lines come from.
#[derive(Debug)]
enum Input {
    /// A file and the byte position after the last line returned.
    File {
        file: File,
        path: String,
        position: u64,
    },
    /// Chunks of standard input, read by a thread of its own since reading it blocks.
    Stdin(mpsc::Receiver<Vec<u8>>),
}

impl Input {
    /// Reads what is available now into `lines`; `false` when nothing was.
    fn read_available(&mut self, lines: &mut LineBuffer) -> Result<bool> {
        match self {
            Input::File { file, path, .. } => {
                let mut chunk = [0; READ_CHUNK];
                let read = loop {
                    match file.read(&mut chunk) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                }
                .map_err(|e| {
                    ConnectError::other(format!("Error while reading file {path}: {e}"))
                })?;
                lines.extend(&chunk[..read]);
                Ok(read > 0)
            }
            Input::Stdin(chunks) => match chunks.try_recv() {
                Ok(chunk) => {
                    lines.extend(&chunk);
                    Ok(true)
                }
                Err(_) => Ok(false),
            },
        }
    }

    /// Waits a while for more input, without losing any if the wait is cancelled.
    async fn wait(&mut self, lines: &mut LineBuffer) {
        match self {
            Input::File { .. } => tokio::time::sleep(IDLE_WAIT).await,
            Input::Stdin(chunks) => match tokio::time::timeout(IDLE_WAIT, chunks.recv()).await {
                Ok(Some(chunk)) => lines.extend(&chunk),
                // Standard input ended: nothing more will come, but keep the pace of an idle file.
                Ok(None) => tokio::time::sleep(IDLE_WAIT).await,
                Err(_) => {}
            },
        }
    }
}

/// Reads standard input on a thread of its own; the thread ends at end of input, or at the
/// next input after the receiver was dropped.
fn spawn_stdin_reader() -> Result<mpsc::Receiver<Vec<u8>>> {
    let (sender, receiver) = mpsc::channel(16);
    std::thread::Builder::new()
        .name("ferry-file-source-stdin".to_owned())
        .spawn(move || {
            let mut stdin = io::stdin().lock();
            let mut chunk = vec![0; READ_CHUNK];
            loop {
                match stdin.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(read) => {
                        if sender.blocking_send(chunk[..read].to_vec()).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        warn!("Error while reading standard input: {e}");
                        break;
                    }
                }
            }
        })
        .map_err(|e| ConnectError::other(format!("Couldn't start reading standard input: {e}")))?;
    Ok(receiver)
}

/// The task of [`FileStreamSourceConnector`], Java's `FileStreamSourceTask`.
///
/// Each line becomes a record with a `STRING` value, no key, the current time as timestamp,
/// source partition `{"filename": FILE}` and source offset `{"position": N}`, `N` being the
/// byte position just after the line. A file that does not exist yet is waited for; on
/// opening it the task skips to the stored position. Lines appended later are picked up; a
/// file truncated below the position yields nothing until it grows past it again. Records
/// read from standard input carry no source partition or offset.
#[derive(Debug, Default)]
pub struct FileStreamSourceTask {
    context: Option<Arc<dyn SourceTaskContext>>,
    settings: Option<Settings>,
    input: Option<Input>,
    lines: LineBuffer,
}

impl FileStreamSourceTask {
    /// Opens `path` at its stored position; `None` when it does not exist yet.
    async fn open(&self, path: &str) -> Result<Option<Input>> {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                warn!(
                    "Couldn't find file {path} for FileStreamSourceTask, waiting for it to be created"
                );
                return Ok(None);
            }
            Err(e) => {
                return Err(ConnectError::other(format!(
                    "Error while trying to open file {path}: {e}"
                )));
            }
        };
        let context = self.context.as_ref().ok_or_else(|| {
            ConnectError::IllegalState(
                "FileStreamSourceTask polled before it was initialized".to_owned(),
            )
        })?;
        let stored = context
            .offset_storage_reader()
            .offset(&source_partition(path))
            .await?;
        let position = match stored
            .as_ref()
            .and_then(|offset| offset.get(POSITION_FIELD))
        {
            None | Some(serde_json::Value::Null) => 0,
            Some(position) => position
                .as_u64()
                .ok_or_else(|| ConnectError::other("Offset position is the incorrect type"))?,
        };
        if position > 0 {
            debug!("Found previous offset, skipping to position {position} of {path}");
            // Seeking past the end is allowed: reads return nothing until the file grows.
            file.seek(SeekFrom::Start(position)).map_err(|e| {
                ConnectError::other(format!("Error while seeking in file {path}: {e}"))
            })?;
        }
        debug!("Opened {path} for reading");
        Ok(Some(Input::File {
            file,
            path: path.to_owned(),
            position,
        }))
    }
}

#[async_trait]
impl SourceTask for FileStreamSourceTask {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    fn initialize(&mut self, context: Arc<dyn SourceTaskContext>) {
        self.context = Some(context);
    }

    async fn start(&mut self, config: ConfigMap) -> Result<()> {
        let parsed = config_def().parse(&config)?;
        let file = configured_file(&parsed);
        if file.is_none() {
            self.input = Some(Input::Stdin(spawn_stdin_reader()?));
        }
        let topic = parsed
            .get_string(TOPIC_CONFIG)
            .unwrap_or_default()
            .to_owned();
        // Java returns as soon as a batch holds at least `batch.size` records, so any value
        // below one means batches of one.
        let batch_size = parsed
            .get_int(TASK_BATCH_SIZE_CONFIG)
            .unwrap_or(DEFAULT_TASK_BATCH_SIZE);
        let batch_size = usize::try_from(batch_size).unwrap_or(0).max(1);
        self.settings = Some(Settings {
            file,
            topic,
            batch_size,
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let settings = self.settings.as_ref().ok_or_else(|| {
            ConnectError::IllegalState("FileStreamSourceTask polled before start".to_owned())
        })?;
        let input = match self.input.take() {
            Some(input) => input,
            None => {
                let path = settings.file.clone().unwrap_or_default();
                match self.open(&path).await? {
                    Some(input) => input,
                    None => {
                        tokio::time::sleep(IDLE_WAIT).await;
                        return Ok(Vec::new());
                    }
                }
            }
        };
        let input = self.input.insert(input);
        let lines = &mut self.lines;
        let mut records = Vec::new();
        loop {
            while records.len() < settings.batch_size {
                let Some((line, used)) = lines.next_line() else {
                    break;
                };
                records.push(line_record(settings, input, line, used));
            }
            if records.len() >= settings.batch_size || !input.read_available(lines)? {
                break;
            }
        }
        if records.is_empty() {
            input.wait(lines).await;
        }
        Ok(records)
    }

    async fn stop(&mut self) -> Result<()> {
        self.input = None;
        self.lines = LineBuffer::default();
        Ok(())
    }
}

/// The record of one line, advancing the file position past it.
fn line_record(settings: &Settings, input: &mut Input, line: String, used: usize) -> SourceRecord {
    let (partition, offset) = match input {
        Input::File { path, position, .. } => {
            *position += used as u64;
            let offset = SourceMap::from_iter([(POSITION_FIELD.to_owned(), (*position).into())]);
            (Some(source_partition(path)), Some(offset))
        }
        Input::Stdin(_) => (None, None),
    };
    let mut record = SourceRecord::new(
        partition,
        offset,
        settings.topic.clone(),
        Some(Schema::string()),
        Some(Value::String(line)),
    );
    record.timestamp = Some(crate::now_ms());
    record
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
