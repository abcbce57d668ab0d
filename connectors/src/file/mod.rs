//! The FileStream connectors, Java's `org.apache.kafka.connect.file`: a source that publishes
//! the lines of a file (or standard input) to a topic, and a sink that writes record values to
//! a file (or standard output), one per line.

mod lines;
mod sink;
mod source;
mod text;

pub use sink::{FileStreamSinkConnector, FileStreamSinkTask};
pub use source::{FileStreamSourceConnector, FileStreamSourceTask};

use ferry_connect::config::ParsedConfig;

/// The file to read or write; standard input or output when absent or empty.
pub const FILE_CONFIG: &str = "file";
/// The topic the source publishes to.
pub const TOPIC_CONFIG: &str = "topic";
/// The most records the source returns from one poll.
pub const TASK_BATCH_SIZE_CONFIG: &str = "batch.size";
/// The default of [`TASK_BATCH_SIZE_CONFIG`].
pub const DEFAULT_TASK_BATCH_SIZE: i32 = 2000;
/// The source partition key holding the file name.
pub const FILENAME_FIELD: &str = "filename";
/// The source offset key holding the byte position after the last line read.
pub const POSITION_FIELD: &str = "position";

/// The configured file, `None` for the standard stream.
fn configured_file(config: &ParsedConfig) -> Option<String> {
    config
        .get_string(FILE_CONFIG)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
}
