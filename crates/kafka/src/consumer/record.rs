//! What the consumer hands out: partitions and records whose payloads are slices of the fetched
//! buffers.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::protocol::StrBytes;

/// One partition of one topic. The topic name is shared (`Arc<str>`), so copies are cheap.
///
/// ```
/// use ferry_kafka::consumer::TopicPartition;
/// let tp = TopicPartition::new("orders", 3);
/// assert_eq!(tp.to_string(), "orders-3");
/// assert_eq!(&*tp.topic, "orders");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// The topic name.
    pub topic: Arc<str>,
    /// The partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// A partition of `topic`.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    /// `topic-partition`, as Java's `TopicPartition.toString` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// What a record's timestamp means (Java's `TimestampType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampType {
    /// Set by the producer (`CreateTime`).
    CreateTime,
    /// Set by the broker when it appended the batch (`LogAppendTime`).
    LogAppendTime,
}

/// One record header. Kafka allows the same key more than once; order is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header key (UTF-8, as Java decodes it).
    pub key: StrBytes,
    /// The header value; `None` for a null value.
    pub value: Option<Bytes>,
}

/// A record read from Kafka. `key`, `value` and header values are slices of the fetched
/// response (or of the batch's decompressed bytes): nothing is copied per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// The topic, shared by every record of the partition.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    /// The record's offset.
    pub offset: i64,
    /// Milliseconds since the epoch; its meaning is given by `timestamp_type`.
    pub timestamp: i64,
    /// Whether the producer or the broker set `timestamp`.
    pub timestamp_type: TimestampType,
    /// The key; `None` for a null key.
    pub key: Option<Bytes>,
    /// The value; `None` for a null value (a tombstone).
    pub value: Option<Bytes>,
    /// The headers, in order.
    pub headers: Vec<Header>,
    /// The leader epoch of the batch, when the broker recorded one.
    pub leader_epoch: Option<i32>,
}

impl ConsumerRecord {
    /// The record's partition as a [`TopicPartition`].
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition {
            topic: self.topic.clone(),
            partition: self.partition,
        }
    }
}
