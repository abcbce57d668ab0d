//! The Verifiable connectors of Kafka's system tests, Java's
//! `org.apache.kafka.connect.tools.Verifiable{Source,Sink}{Connector,Task}`.
//!
//! Each source task produces one gap-free sequence of numbers (`seqno`) keyed by its task id
//! and resumes after the last committed number when restarted; each sink task prints a JSON
//! line for every record it receives and again when the record's offset is flushed. Together
//! they show whether records were lost or duplicated across restarts and rebalances.

mod json;
mod sink;
mod source;
mod throttle;

pub use sink::{VerifiableSinkConnector, VerifiableSinkTask};
pub use source::{VerifiableSourceConnector, VerifiableSourceTask};

use ferry_connect::ConnectError;
use ferry_connect::connector::ConfigMap;

/// The connector name, which the runtime puts in every connector configuration.
pub const NAME_CONFIG: &str = "name";
/// The task's id, added to each task configuration by the connector.
pub const ID_CONFIG: &str = "id";
/// The topic the source writes to.
pub const TOPIC_CONFIG: &str = "topic";
/// Records per second of each source task; negative for no limit. With `0` a task produces
/// its first record and then waits until stopped, as Java's does.
pub const THROUGHPUT_CONFIG: &str = "throughput";
/// `true` makes the source's values structs with all the record's data instead of `seqno`.
pub const COMPLETE_RECORD_DATA_CONFIG: &str = "complete.record.data";
/// The source partition key holding the task id.
pub const ID_FIELD: &str = "id";
/// The source offset key holding the last sequence number.
pub const SEQNO_FIELD: &str = "seqno";

/// `max_tasks` copies of `config`, each with its own `id` from 0.
fn numbered_task_configs(config: &ConfigMap, max_tasks: usize) -> Vec<ConfigMap> {
    (0..max_tasks)
        .map(|id| {
            let mut task = config.clone();
            task.insert(ID_CONFIG.to_owned(), id.to_string());
            task
        })
        .collect()
}

/// Parses a numeric task setting as Java's `Integer.parseInt`/`Long.parseLong` would, failing
/// with Java's message (which names the source task for the sink too).
fn parse_number<T: std::str::FromStr>(config: &ConfigMap, key: &str) -> Result<T, ConnectError> {
    config.get(key).and_then(|v| v.parse().ok()).ok_or_else(|| {
        ConnectError::other(format!(
            "Invalid VerifiableSourceTask configuration: bad '{key}'"
        ))
    })
}
