//! MirrorMaker 2's internal records — [`Heartbeat`], [`Checkpoint`] and [`OffsetSync`] — with key
//! and value codecs byte-identical to Java's (`connect/mirror-client` and `connect/mirror`).
//!
//! Java encodes them with Kafka's protocol `Schema`/`Struct` types: big-endian integers and
//! `STRING` = int16 length + UTF-8. Heartbeat and Checkpoint values start with an int16 version
//! header (Java writes 0); OffsetSync values have none.
//!
//! ```
//! use ferry_mirror::records::Heartbeat;
//!
//! let hb = Heartbeat::new("A", "B", 1_700_000_000_000);
//! let key = hb.encode_key()?;
//! let value = hb.encode_value();
//! assert_eq!(&key[..], b"\x00\x01A\x00\x01B");
//! assert_eq!(Heartbeat::decode(&key, &value)?, hb);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod wire;

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use wire::{Reader, put_string, string_size};

/// The value-format version Java writes in Heartbeat and Checkpoint value headers.
///
/// Java reads the header and then parses the version-0 layout whatever the number is (its check
/// is a Java `assert`, disabled in production JVMs), so decoding here accepts any version too.
pub const RECORD_VERSION: i16 = 0;

/// A failure to encode a record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A `STRING` field longer than Kafka's int16 length prefix allows (32767 bytes).
    #[error("field '{field}' is {len} bytes long, more than the maximum string length 32767")]
    StringTooLong {
        /// Java's field name.
        field: &'static str,
        /// The UTF-8 length of the value.
        len: usize,
    },
}

/// A failure to decode a record's key or value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The bytes end before the field does.
    #[error("error reading field '{field}': needed {needed} bytes, only {available} available")]
    Truncated {
        /// Java's field name.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A `STRING` with a negative length prefix.
    #[error("error reading field '{field}': string length {len} cannot be negative")]
    NegativeLength {
        /// Java's field name.
        field: &'static str,
        /// The length read.
        len: i16,
    },
}

/// A topic name and partition number, printed the way Java's `TopicPartition` is: `topic-3`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// The topic name.
    pub topic: String,
    /// The partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// Builds a topic-partition.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

/// A heartbeat, emitted by `MirrorHeartbeatConnector` to the `heartbeats` topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Heartbeat {
    /// The alias of the cluster the heartbeat was emitted for (key field `sourceClusterAlias`).
    pub source_cluster_alias: String,
    /// The alias of the cluster it was written to (key field `targetClusterAlias`).
    pub target_cluster_alias: String,
    /// Milliseconds since the epoch (value field `timestamp`).
    pub timestamp: i64,
}

impl Heartbeat {
    /// Builds a heartbeat.
    pub fn new(source: impl Into<String>, target: impl Into<String>, timestamp: i64) -> Self {
        Self {
            source_cluster_alias: source.into(),
            target_cluster_alias: target.into(),
            timestamp,
        }
    }

    /// The record key: `STRING sourceClusterAlias, STRING targetClusterAlias`.
    pub fn encode_key(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(
            string_size(&self.source_cluster_alias) + string_size(&self.target_cluster_alias),
        );
        put_string(&mut buf, "sourceClusterAlias", &self.source_cluster_alias)?;
        put_string(&mut buf, "targetClusterAlias", &self.target_cluster_alias)?;
        Ok(buf.freeze())
    }

    /// The record value: `INT16 version` (0), `INT64 timestamp`.
    pub fn encode_value(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(10);
        buf.put_i16(RECORD_VERSION);
        buf.put_i64(self.timestamp);
        buf.freeze()
    }

    /// Reads a heartbeat from a record's key and value, as Java's `Heartbeat.deserializeRecord`.
    /// Bytes after the last field are ignored, as in Java.
    pub fn decode(key: &[u8], value: &[u8]) -> Result<Self, DecodeError> {
        let mut value = Reader::new(value);
        value.i16("version")?;
        let timestamp = value.i64("timestamp")?;
        let mut key = Reader::new(key);
        let source_cluster_alias = key.string("sourceClusterAlias")?;
        let target_cluster_alias = key.string("targetClusterAlias")?;
        Ok(Self {
            source_cluster_alias,
            target_cluster_alias,
            timestamp,
        })
    }
}

/// A consumer group's offset translated to the target cluster, emitted by
/// `MirrorCheckpointConnector` to `SOURCE.checkpoints.internal`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The consumer group (key field `group`).
    pub consumer_group_id: String,
    /// The partition as named on the target cluster (key fields `topic`, `partition`).
    pub topic_partition: TopicPartition,
    /// The group's committed offset on the source cluster (value field `upstreamOffset`).
    pub upstream_offset: i64,
    /// The translated offset on the target cluster (value field `offset`).
    pub downstream_offset: i64,
    /// The commit metadata of the upstream offset (value field `metadata`).
    pub metadata: String,
}

impl Checkpoint {
    /// The record key: `STRING group, STRING topic, INT32 partition`.
    pub fn encode_key(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(
            string_size(&self.consumer_group_id) + string_size(&self.topic_partition.topic) + 4,
        );
        put_string(&mut buf, "group", &self.consumer_group_id)?;
        put_string(&mut buf, "topic", &self.topic_partition.topic)?;
        buf.put_i32(self.topic_partition.partition);
        Ok(buf.freeze())
    }

    /// The record value: `INT16 version` (0), `INT64 upstreamOffset, INT64 offset, STRING metadata`.
    pub fn encode_value(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(2 + 8 + 8 + string_size(&self.metadata));
        buf.put_i16(RECORD_VERSION);
        buf.put_i64(self.upstream_offset);
        buf.put_i64(self.downstream_offset);
        put_string(&mut buf, "metadata", &self.metadata)?;
        Ok(buf.freeze())
    }

    /// Reads a checkpoint from a record's key and value, as Java's `Checkpoint.deserializeRecord`.
    /// Bytes after the last field are ignored, as in Java.
    pub fn decode(key: &[u8], value: &[u8]) -> Result<Self, DecodeError> {
        let mut value = Reader::new(value);
        value.i16("version")?;
        let upstream_offset = value.i64("upstreamOffset")?;
        let downstream_offset = value.i64("offset")?;
        let metadata = value.string("metadata")?;
        let mut key = Reader::new(key);
        let consumer_group_id = key.string("group")?;
        let topic = key.string("topic")?;
        let partition = key.i32("partition")?;
        Ok(Self {
            consumer_group_id,
            topic_partition: TopicPartition { topic, partition },
            upstream_offset,
            downstream_offset,
            metadata,
        })
    }
}

/// A pair of offsets known to correspond, written by `MirrorSourceTask` to
/// `mm2-offset-syncs.TARGET.internal`: the record at `upstream_offset` in the source partition
/// was written at `downstream_offset` in the replica.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OffsetSync {
    /// The source partition (key fields `topic`, `partition`).
    pub topic_partition: TopicPartition,
    /// The offset in the source partition (value field `upstreamOffset`).
    pub upstream_offset: i64,
    /// The offset in the target partition (value field `offset`).
    pub downstream_offset: i64,
}

impl OffsetSync {
    /// The record key: `STRING topic, INT32 partition`.
    pub fn encode_key(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(string_size(&self.topic_partition.topic) + 4);
        put_string(&mut buf, "topic", &self.topic_partition.topic)?;
        buf.put_i32(self.topic_partition.partition);
        Ok(buf.freeze())
    }

    /// The record value: `INT64 upstreamOffset, INT64 offset`, with no version header.
    pub fn encode_value(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(16);
        buf.put_i64(self.upstream_offset);
        buf.put_i64(self.downstream_offset);
        buf.freeze()
    }

    /// Reads an offset sync from a record's key and value, as Java's `OffsetSync.deserializeRecord`.
    /// Bytes after the last field are ignored, as in Java.
    pub fn decode(key: &[u8], value: &[u8]) -> Result<Self, DecodeError> {
        let mut key = Reader::new(key);
        let topic = key.string("topic")?;
        let partition = key.i32("partition")?;
        let mut value = Reader::new(value);
        let upstream_offset = value.i64("upstreamOffset")?;
        let downstream_offset = value.i64("offset")?;
        Ok(Self {
            topic_partition: TopicPartition { topic, partition },
            upstream_offset,
            downstream_offset,
        })
    }
}

#[cfg(test)]
mod tests;
