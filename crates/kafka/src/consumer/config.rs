//! The fetch settings of Java's consumer (`ConsumerConfig`), with its keys and defaults.

use std::time::Duration;

use crate::error::{Error, Result};

/// `isolation.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// `read_uncommitted` (the default): every record, aborted transactions included.
    #[default]
    ReadUncommitted,
    /// `read_committed`: records of aborted transactions are dropped, and fetches stop at the
    /// last stable offset.
    ReadCommitted,
}

impl IsolationLevel {
    /// The protocol's value (0 or 1).
    pub fn code(self) -> i8 {
        match self {
            IsolationLevel::ReadUncommitted => 0,
            IsolationLevel::ReadCommitted => 1,
        }
    }
}

/// `auto.offset.reset`: where to start when a partition has no position or its position is out
/// of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetReset {
    /// `earliest`: the log start offset.
    Earliest,
    /// `latest` (the default): the end of the partition.
    #[default]
    Latest,
    /// `none`: [`Consumer::poll`](super::Consumer::poll) fails instead.
    None,
}

/// The consumer's own settings; the connection settings are the [`Cluster`](crate::Cluster)'s
/// [`ClientConfig`](crate::ClientConfig).
///
/// ```
/// use ferry_kafka::consumer::{ConsumerConfig, OffsetReset};
/// let config = ConsumerConfig::from_pairs([
///     ("auto.offset.reset", "earliest"),
///     ("fetch.max.wait.ms", "50"),
///     ("bootstrap.servers", "ignored:9092"),
/// ])?;
/// assert_eq!(config.auto_offset_reset, OffsetReset::Earliest);
/// assert_eq!(config.fetch_max_bytes, 52_428_800);
/// # Ok::<_, ferry_kafka::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// `fetch.min.bytes` (1).
    pub fetch_min_bytes: i32,
    /// `fetch.max.bytes` (52428800): the most data one fetch response may hold (the broker
    /// still returns a first batch larger than this).
    pub fetch_max_bytes: i32,
    /// `max.partition.fetch.bytes` (1048576): the most data per partition in one response.
    pub max_partition_fetch_bytes: i32,
    /// `fetch.max.wait.ms` (500): how long the broker may wait for `fetch.min.bytes`.
    pub fetch_max_wait: Duration,
    /// `isolation.level` (`read_uncommitted`).
    pub isolation_level: IsolationLevel,
    /// `auto.offset.reset` (`latest`).
    pub auto_offset_reset: OffsetReset,
    /// `check.crcs` (true): verify every batch's CRC32C.
    pub check_crcs: bool,
    /// `client.rack` (empty), sent with fetches.
    pub client_rack: String,
    /// `max.poll.records` (500): the most records one [`poll`](super::Consumer::poll) returns.
    pub max_poll_records: usize,
    /// `allow.auto.create.topics` (true): whether metadata lookups may create topics.
    pub allow_auto_create_topics: bool,
    /// Not a Java setting: how many fetched but not yet polled bytes the consumer holds before
    /// it stops prefetching (16 MiB). Fetches for the next data are sent while the caller
    /// processes earlier data, up to this bound. A caller slower than the fetches (a source
    /// task waiting on its producer) keeps the buffer full, so the bound is resident memory:
    /// librdkafka's 64 MiB (`queued.max.messages.kbytes`) added about 70 MB to a MirrorMaker 2
    /// worker's peak at the same copy speed.
    pub fetch_buffer_bytes: usize,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            fetch_min_bytes: 1,
            fetch_max_bytes: 50 * 1024 * 1024,
            max_partition_fetch_bytes: 1024 * 1024,
            fetch_max_wait: Duration::from_millis(500),
            isolation_level: IsolationLevel::ReadUncommitted,
            auto_offset_reset: OffsetReset::Latest,
            check_crcs: true,
            client_rack: String::new(),
            max_poll_records: 500,
            allow_auto_create_topics: true,
            fetch_buffer_bytes: 16 * 1024 * 1024,
        }
    }
}

impl ConsumerConfig {
    /// Parses the consumer keys from `(key, value)` pairs; other keys are ignored (the common
    /// client keys belong to [`ClientConfig`](crate::ClientConfig)). Errors name the key.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = Self::default();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref().trim());
            match key {
                "fetch.min.bytes" => config.fetch_min_bytes = int(key, value, 0)?,
                "fetch.max.bytes" => config.fetch_max_bytes = int(key, value, 0)?,
                "max.partition.fetch.bytes" => {
                    config.max_partition_fetch_bytes = int(key, value, 0)?;
                }
                "fetch.max.wait.ms" => {
                    config.fetch_max_wait = Duration::from_millis(int(key, value, 0)? as u64);
                }
                "isolation.level" => {
                    config.isolation_level = match value {
                        "read_uncommitted" => IsolationLevel::ReadUncommitted,
                        "read_committed" => IsolationLevel::ReadCommitted,
                        _ => return Err(invalid(key, value, "read_committed, read_uncommitted")),
                    }
                }
                "auto.offset.reset" => {
                    config.auto_offset_reset = match value {
                        "earliest" => OffsetReset::Earliest,
                        "latest" => OffsetReset::Latest,
                        "none" => OffsetReset::None,
                        _ => return Err(invalid(key, value, "earliest, latest, none")),
                    }
                }
                "check.crcs" => config.check_crcs = boolean(key, value)?,
                "client.rack" => config.client_rack = value.to_owned(),
                "max.poll.records" => config.max_poll_records = int(key, value, 1)? as usize,
                "allow.auto.create.topics" => {
                    config.allow_auto_create_topics = boolean(key, value)?;
                }
                _ => {}
            }
        }
        Ok(config)
    }
}

fn invalid(key: &str, value: &str, expected: &str) -> Error {
    Error::Config {
        key: key.to_owned(),
        reason: format!("{value:?} is not one of {expected}"),
    }
}

/// A Java `INT` with `atLeast(min)`.
fn int(key: &str, value: &str, min: i32) -> Result<i32> {
    match value.parse::<i32>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(Error::Config {
            key: key.to_owned(),
            reason: format!("{value:?} is not an integer of at least {min}"),
        }),
    }
}

/// A Java `BOOLEAN`: `true`/`false`, any case.
fn boolean(key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, value, "true, false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_javas() {
        let config = ConsumerConfig::from_pairs(std::iter::empty::<(&str, &str)>()).unwrap();
        assert_eq!(config, ConsumerConfig::default());
        assert_eq!(config.fetch_min_bytes, 1);
        assert_eq!(config.fetch_max_bytes, 52_428_800);
        assert_eq!(config.max_partition_fetch_bytes, 1_048_576);
        assert_eq!(config.fetch_max_wait, Duration::from_millis(500));
        assert_eq!(config.isolation_level, IsolationLevel::ReadUncommitted);
        assert_eq!(config.auto_offset_reset, OffsetReset::Latest);
        assert!(config.check_crcs);
        assert_eq!(config.client_rack, "");
        assert_eq!(config.max_poll_records, 500);
        assert!(config.allow_auto_create_topics);
    }

    #[test]
    fn parses_every_key() {
        let config = ConsumerConfig::from_pairs([
            ("fetch.min.bytes", "10"),
            ("fetch.max.bytes", "1000"),
            ("max.partition.fetch.bytes", "100"),
            ("fetch.max.wait.ms", "50"),
            ("isolation.level", "read_committed"),
            ("auto.offset.reset", "none"),
            ("check.crcs", "FALSE"),
            ("client.rack", "r1"),
            ("max.poll.records", "7"),
            ("allow.auto.create.topics", "false"),
        ])
        .unwrap();
        assert_eq!(config.fetch_min_bytes, 10);
        assert_eq!(config.fetch_max_bytes, 1000);
        assert_eq!(config.max_partition_fetch_bytes, 100);
        assert_eq!(config.fetch_max_wait, Duration::from_millis(50));
        assert_eq!(config.isolation_level, IsolationLevel::ReadCommitted);
        assert_eq!(config.auto_offset_reset, OffsetReset::None);
        assert!(!config.check_crcs);
        assert_eq!(config.client_rack, "r1");
        assert_eq!(config.max_poll_records, 7);
        assert!(!config.allow_auto_create_topics);
    }

    #[test]
    fn rejects_bad_values_naming_the_key() {
        for (key, value) in [
            ("auto.offset.reset", "smallest"),
            ("isolation.level", "READ_COMMITTED"),
            ("max.poll.records", "0"),
            ("fetch.max.wait.ms", "-1"),
            ("check.crcs", "yes"),
        ] {
            match ConsumerConfig::from_pairs([(key, value)]) {
                Err(Error::Config { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}={value}: {other:?}"),
            }
        }
    }
}
