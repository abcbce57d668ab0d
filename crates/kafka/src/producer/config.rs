//! The producer's own settings, parsed from the same `(key, value)` pairs as
//! [`ClientConfig`](crate::ClientConfig), with the keys and defaults of Java's `ProducerConfig`.

use std::time::Duration;

use crate::error::{Error, Result};

/// Largest `max.in.flight.requests.per.connection` the idempotent producer allows (Java's
/// `MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE`): the broker remembers the last five
/// batches per producer and partition to detect duplicates.
pub const MAX_IN_FLIGHT_FOR_IDEMPOTENCE: usize = 5;

/// How many brokers must acknowledge a write (`acks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `0`: no answer is awaited; offsets are unknown (-1).
    None = 0,
    /// `1`: the leader has written the records.
    Leader = 1,
    /// `all` / `-1`: every in-sync replica has written them.
    All = -1,
}

/// Compression of record batches (`compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// `none`.
    None,
    /// `gzip`.
    Gzip,
    /// `snappy` (xerial framing, as Java's producer writes it).
    Snappy,
    /// `lz4` (LZ4 frame format).
    Lz4,
    /// `zstd`.
    Zstd,
}

impl Compression {
    /// The codec id in a record batch's attributes.
    pub fn attribute(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }
}

/// Compression levels per codec (KIP-390), with Java's defaults and ranges.
///
/// ```
/// use ferry_kafka::producer::{CompressionLevels, ProducerConfig};
/// let config = ProducerConfig::from_pairs([("compression.zstd.level", "9")])?;
/// assert_eq!(config.compression_levels, CompressionLevels { zstd: 9, ..CompressionLevels::default() });
/// assert!(ProducerConfig::from_pairs([("compression.lz4.level", "18")]).is_err());
/// # Ok::<_, ferry_kafka::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionLevels {
    /// `compression.gzip.level` (-1, zlib's default, which is 6): 1 to 9, or -1.
    pub gzip: i32,
    /// `compression.lz4.level` (9): 1 to 17. liblz4 treats levels above 12 as 12.
    pub lz4: i32,
    /// `compression.zstd.level` (3): -131072 to 22.
    pub zstd: i32,
}

impl Default for CompressionLevels {
    fn default() -> Self {
        Self {
            gzip: -1,
            lz4: 9,
            zstd: 3,
        }
    }
}

/// Producer settings (Java's `ProducerConfig`). The common client settings
/// (`request.timeout.ms`, `retry.backoff.ms`, `retry.backoff.max.ms`, …) are read from the
/// [`Cluster`](crate::Cluster)'s [`ClientConfig`](crate::ClientConfig).
///
/// ```
/// use ferry_kafka::producer::{Acks, ProducerConfig};
/// let config = ProducerConfig::from_pairs([("acks", "1"), ("bootstrap.servers", "ignored:1")])?;
/// assert_eq!(config.acks, Acks::Leader);
/// assert!(!config.enable_idempotence); // acks=1 turns implicit idempotence off, as in Java
/// # Ok::<_, ferry_kafka::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerConfig {
    /// `acks` (`all`).
    pub acks: Acks,
    /// `enable.idempotence` (true; turned off when `acks`, `retries` or
    /// `max.in.flight.requests.per.connection` conflict and it was not set explicitly).
    pub enable_idempotence: bool,
    /// `linger.ms` (5, since Kafka 4.0 / KIP-1030).
    pub linger: Duration,
    /// `batch.size` (16384): bytes per partition batch before it is sent.
    pub batch_size: usize,
    /// `buffer.memory` (33554432): bytes of records waiting to be acknowledged.
    pub buffer_memory: usize,
    /// `compression.type` (`none`).
    pub compression: Compression,
    /// `compression.gzip.level`, `compression.lz4.level` and `compression.zstd.level`.
    pub compression_levels: CompressionLevels,
    /// `max.in.flight.requests.per.connection` (5).
    pub max_in_flight: usize,
    /// `retries` (`i32::MAX`).
    pub retries: u32,
    /// `delivery.timeout.ms` (120000): the time a record has from `send` to its outcome.
    pub delivery_timeout: Duration,
    /// `max.request.size` (1048576): bytes per Produce request, and the largest record.
    pub max_request_size: usize,
    /// `max.block.ms` (60000): how long `send` may wait for metadata or buffer space.
    pub max_block: Duration,
    /// `partitioner.ignore.keys` (false): when true, keyed records are spread like unkeyed ones.
    pub partitioner_ignore_keys: bool,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            acks: Acks::All,
            enable_idempotence: true,
            linger: Duration::from_millis(5),
            batch_size: 16_384,
            buffer_memory: 33_554_432,
            compression: Compression::None,
            compression_levels: CompressionLevels::default(),
            max_in_flight: 5,
            retries: i32::MAX as u32,
            delivery_timeout: Duration::from_millis(120_000),
            max_request_size: 1_048_576,
            max_block: Duration::from_millis(60_000),
            partitioner_ignore_keys: false,
        }
    }
}

impl ProducerConfig {
    /// Parses the producer keys from `(key, value)` pairs; other keys are ignored. Errors name
    /// the offending key. Follows Java's idempotence rules: an explicit
    /// `enable.idempotence=true` with `acks` other than `all`, `retries=0` or more than 5 requests
    /// in flight is an error; without the explicit setting idempotence is quietly turned off.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = Self::default();
        let mut explicit_idempotence = false;
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref().trim());
            match key {
                "acks" => config.acks = parse_acks(key, value)?,
                "enable.idempotence" => {
                    config.enable_idempotence = parse_bool(key, value)?;
                    explicit_idempotence = true;
                }
                "linger.ms" => config.linger = millis(key, value)?,
                "batch.size" => config.batch_size = number(key, value, 0)?,
                "buffer.memory" => config.buffer_memory = number(key, value, 0)?,
                "compression.type" => config.compression = parse_compression(key, value)?,
                "compression.gzip.level" => {
                    let level = integer(key, value)?;
                    if level != -1 && !(1..=9).contains(&level) {
                        return Err(bad(key, format!("{level} is not between 1 and 9, or -1")));
                    }
                    config.compression_levels.gzip = level;
                }
                "compression.lz4.level" => {
                    config.compression_levels.lz4 = integer_in(key, value, 1, 17)?
                }
                "compression.zstd.level" => {
                    config.compression_levels.zstd = integer_in(key, value, -131_072, 22)?
                }
                "max.in.flight.requests.per.connection" => {
                    config.max_in_flight = number(key, value, 1)?
                }
                "retries" => config.retries = number(key, value, 0)?,
                "delivery.timeout.ms" => config.delivery_timeout = millis(key, value)?,
                "max.request.size" => config.max_request_size = number(key, value, 0)?,
                "max.block.ms" => config.max_block = millis(key, value)?,
                "partitioner.ignore.keys" => {
                    config.partitioner_ignore_keys = parse_bool(key, value)?
                }
                "transactional.id" if !value.is_empty() => {
                    return Err(bad(key, "transactions are not supported by this producer"));
                }
                _ => {}
            }
        }
        if config.enable_idempotence {
            config.check_idempotence(explicit_idempotence)?;
        }
        Ok(config)
    }

    fn check_idempotence(&mut self, explicit: bool) -> Result<()> {
        let conflict = if self.retries == 0 {
            Some(("retries", "must be non-zero to use the idempotent producer"))
        } else if self.acks != Acks::All {
            Some(("acks", "must be all to use the idempotent producer"))
        } else if self.max_in_flight > MAX_IN_FLIGHT_FOR_IDEMPOTENCE {
            Some((
                "max.in.flight.requests.per.connection",
                "must be at most 5 to use the idempotent producer",
            ))
        } else {
            None
        };
        match conflict {
            Some((key, reason)) if explicit => Err(bad(key, reason)),
            Some(_) => {
                self.enable_idempotence = false;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

fn bad(key: &str, reason: impl Into<String>) -> Error {
    Error::Config {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

fn parse_acks(key: &str, value: &str) -> Result<Acks> {
    match value.to_ascii_lowercase().as_str() {
        "all" | "-1" => Ok(Acks::All),
        "1" => Ok(Acks::Leader),
        "0" => Ok(Acks::None),
        _ => Err(bad(key, format!("{value:?} is not one of all, -1, 0, 1"))),
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(key, format!("{value:?} is not true or false"))),
    }
}

fn parse_compression(key: &str, value: &str) -> Result<Compression> {
    match value.to_ascii_lowercase().as_str() {
        "none" => Ok(Compression::None),
        "gzip" => Ok(Compression::Gzip),
        "snappy" => Ok(Compression::Snappy),
        "lz4" => Ok(Compression::Lz4),
        "zstd" => Ok(Compression::Zstd),
        _ => Err(bad(
            key,
            format!("{value:?} is not one of none, gzip, snappy, lz4, zstd"),
        )),
    }
}

fn number<T: std::str::FromStr + TryFrom<u64>>(key: &str, value: &str, min: u64) -> Result<T> {
    let n: u64 = value
        .parse()
        .map_err(|_| bad(key, format!("{value:?} is not a non-negative integer")))?;
    if n < min {
        return Err(bad(key, format!("{n} is below the minimum {min}")));
    }
    let limit = i32::MAX as u64;
    if n > limit && key != "buffer.memory" {
        return Err(bad(key, format!("{n} is above the maximum {limit}")));
    }
    T::try_from(n).map_err(|_| bad(key, format!("{n} is out of range")))
}

fn integer(key: &str, value: &str) -> Result<i32> {
    value
        .parse()
        .map_err(|_| bad(key, format!("{value:?} is not an integer")))
}

fn integer_in(key: &str, value: &str, min: i32, max: i32) -> Result<i32> {
    let n = integer(key, value)?;
    if !(min..=max).contains(&n) {
        return Err(bad(key, format!("{n} is not between {min} and {max}")));
    }
    Ok(n)
}

fn millis(key: &str, value: &str) -> Result<Duration> {
    value
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| {
            bad(
                key,
                format!("{value:?} is not a non-negative number of milliseconds"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_javas() {
        let c = ProducerConfig::from_pairs(std::iter::empty::<(&str, &str)>()).unwrap();
        assert_eq!(c, ProducerConfig::default());
        assert_eq!(c.acks, Acks::All);
        assert!(c.enable_idempotence);
        assert_eq!(c.linger, Duration::from_millis(5));
        assert_eq!(c.batch_size, 16_384);
        assert_eq!(c.buffer_memory, 32 * 1024 * 1024);
        assert_eq!(c.compression, Compression::None);
        let levels = c.compression_levels;
        assert_eq!((levels.gzip, levels.lz4, levels.zstd), (-1, 9, 3));
        assert_eq!(c.max_in_flight, 5);
        assert_eq!(c.retries, 2_147_483_647);
        assert_eq!(c.delivery_timeout, Duration::from_millis(120_000));
        assert_eq!(c.max_request_size, 1_048_576);
        assert_eq!(c.max_block, Duration::from_millis(60_000));
        assert!(!c.partitioner_ignore_keys);
    }

    #[test]
    fn parses_every_key() {
        let c = ProducerConfig::from_pairs([
            ("acks", "-1"),
            ("linger.ms", "20"),
            ("batch.size", "65536"),
            ("buffer.memory", "1000000"),
            ("compression.type", "ZSTD"),
            ("max.in.flight.requests.per.connection", "3"),
            ("retries", "7"),
            ("delivery.timeout.ms", "5000"),
            ("max.request.size", "2000000"),
            ("max.block.ms", "100"),
            ("partitioner.ignore.keys", "true"),
        ])
        .unwrap();
        assert_eq!(c.linger, Duration::from_millis(20));
        assert_eq!(c.batch_size, 65_536);
        assert_eq!(c.buffer_memory, 1_000_000);
        assert_eq!(c.compression, Compression::Zstd);
        assert_eq!(c.max_in_flight, 3);
        assert_eq!(c.retries, 7);
        assert_eq!(c.max_request_size, 2_000_000);
        assert_eq!(c.max_block, Duration::from_millis(100));
        assert!(c.partitioner_ignore_keys && c.enable_idempotence);
    }

    #[test]
    fn implicit_idempotence_yields_to_conflicts() {
        for (key, value) in [
            ("acks", "0"),
            ("acks", "1"),
            ("retries", "0"),
            ("max.in.flight.requests.per.connection", "6"),
        ] {
            let c = ProducerConfig::from_pairs([(key, value)]).unwrap();
            assert!(!c.enable_idempotence, "{key}={value}");
        }
    }

    #[test]
    fn explicit_idempotence_conflicts_are_errors_naming_the_key() {
        for (key, value) in [
            ("acks", "1"),
            ("retries", "0"),
            ("max.in.flight.requests.per.connection", "6"),
        ] {
            let e = ProducerConfig::from_pairs([("enable.idempotence", "true"), (key, value)])
                .unwrap_err();
            assert!(
                matches!(e, Error::Config { key: ref k, .. } if k == key),
                "{e}"
            );
        }
        let c =
            ProducerConfig::from_pairs([("enable.idempotence", "false"), ("acks", "1")]).unwrap();
        assert!(!c.enable_idempotence);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (key, value) in [
            ("acks", "2"),
            ("compression.type", "brotli"),
            ("linger.ms", "-1"),
            ("batch.size", "x"),
            ("max.in.flight.requests.per.connection", "0"),
            ("enable.idempotence", "yes"),
            ("transactional.id", "tx"),
        ] {
            let e = ProducerConfig::from_pairs([(key, value)]).unwrap_err();
            assert!(
                matches!(e, Error::Config { key: ref k, .. } if k == key),
                "{e}"
            );
        }
    }

    #[test]
    fn compression_levels_have_javas_ranges() {
        let levels = |pairs: &[(&str, &str)]| {
            ProducerConfig::from_pairs(pairs.iter().copied()).map(|c| c.compression_levels)
        };
        let set = levels(&[
            ("compression.gzip.level", "9"),
            ("compression.lz4.level", "1"),
            ("compression.zstd.level", "-131072"),
        ])
        .unwrap();
        assert_eq!((set.gzip, set.lz4, set.zstd), (9, 1, -131_072));
        for ok in [
            ("compression.gzip.level", "-1"),
            ("compression.gzip.level", "1"),
        ] {
            assert!(levels(&[ok]).is_ok(), "{ok:?}");
        }
        for (key, value) in [
            ("compression.gzip.level", "0"),
            ("compression.gzip.level", "10"),
            ("compression.gzip.level", "-2"),
            ("compression.lz4.level", "0"),
            ("compression.lz4.level", "18"),
            ("compression.zstd.level", "23"),
            ("compression.zstd.level", "-131073"),
            ("compression.zstd.level", "fast"),
        ] {
            let err = levels(&[(key, value)]).unwrap_err();
            assert!(
                matches!(&err, Error::Config { key: k, .. } if k == key),
                "{err}"
            );
        }
    }
}
