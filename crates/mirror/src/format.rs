//! The text Java's KIP-597 formatters (`org.apache.kafka.connect.mirror.formatters.*`) print for
//! MirrorMaker 2's internal records: each record's Java `toString()`, one per line.
//!
//! The [`Display`] impls of the record types produce exactly that text:
//!
//! ```
//! use ferry_mirror::records::{Checkpoint, TopicPartition};
//!
//! let cp = Checkpoint {
//!     consumer_group_id: "app".into(),
//!     topic_partition: TopicPartition::new("A.orders", 0),
//!     upstream_offset: 100,
//!     downstream_offset: 100,
//!     metadata: String::new(),
//! };
//! assert_eq!(
//!     cp.to_string(),
//!     "Checkpoint{consumerGroupId=app, topicPartition=A.orders-0, upstreamOffset=100, \
//!      downstreamOffset=100, metadata=}"
//! );
//! ```

use std::fmt::{self, Display, Formatter};

use crate::records::{Checkpoint, DecodeError, Heartbeat, OffsetSync, TopicPartition};

impl Display for TopicPartition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

impl Display for Heartbeat {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Heartbeat{{sourceClusterAlias={}, targetClusterAlias={}, timestamp={}}}",
            self.source_cluster_alias, self.target_cluster_alias, self.timestamp
        )
    }
}

impl Display for Checkpoint {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Checkpoint{{consumerGroupId={}, topicPartition={}, upstreamOffset={}, \
             downstreamOffset={}, metadata={}}}",
            self.consumer_group_id,
            self.topic_partition,
            self.upstream_offset,
            self.downstream_offset,
            self.metadata
        )
    }
}

impl Display for OffsetSync {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OffsetSync{{topicPartition={}, upstreamOffset={}, downstreamOffset={}}}",
            self.topic_partition, self.upstream_offset, self.downstream_offset
        )
    }
}

/// One of Java's MirrorMaker 2 message formatters, chosen by class name.
///
/// ```
/// use ferry_mirror::format::RecordFormatter;
///
/// let f = RecordFormatter::from_class_name("HeartbeatFormatter").unwrap();
/// let line = f.format(b"\x00\x01A\x00\x01B", b"\x00\x00\x00\x00\x01\x8b\xcf\xe5\x68\x00")?;
/// assert_eq!(line, "Heartbeat{sourceClusterAlias=A, targetClusterAlias=B, timestamp=1700000000000}");
/// # Ok::<(), ferry_mirror::records::DecodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormatter {
    /// `org.apache.kafka.connect.mirror.formatters.HeartbeatFormatter`
    Heartbeat,
    /// `org.apache.kafka.connect.mirror.formatters.CheckpointFormatter`
    Checkpoint,
    /// `org.apache.kafka.connect.mirror.formatters.OffsetSyncFormatter`
    OffsetSync,
}

const FORMATTER_PACKAGE: &str = "org.apache.kafka.connect.mirror.formatters.";

impl RecordFormatter {
    /// Java's fully qualified class name of this formatter.
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Heartbeat => "org.apache.kafka.connect.mirror.formatters.HeartbeatFormatter",
            Self::Checkpoint => "org.apache.kafka.connect.mirror.formatters.CheckpointFormatter",
            Self::OffsetSync => "org.apache.kafka.connect.mirror.formatters.OffsetSyncFormatter",
        }
    }

    /// Finds a formatter by Java class name, fully qualified or simple.
    pub fn from_class_name(name: &str) -> Option<Self> {
        let simple = name.strip_prefix(FORMATTER_PACKAGE).unwrap_or(name);
        [Self::Heartbeat, Self::Checkpoint, Self::OffsetSync]
            .into_iter()
            .find(|f| f.class_name().strip_prefix(FORMATTER_PACKAGE) == Some(simple))
    }

    /// The line Java prints for a record with this key and value, without the line terminator.
    pub fn format(self, key: &[u8], value: &[u8]) -> Result<String, DecodeError> {
        Ok(match self {
            Self::Heartbeat => Heartbeat::decode(key, value)?.to_string(),
            Self::Checkpoint => Checkpoint::decode(key, value)?.to_string(),
            Self::OffsetSync => OffsetSync::decode(key, value)?.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_prints_like_java() {
        let hb = Heartbeat::new("A", "B", -5);
        assert_eq!(
            hb.to_string(),
            "Heartbeat{sourceClusterAlias=A, targetClusterAlias=B, timestamp=-5}"
        );
    }

    #[test]
    fn checkpoint_prints_like_java() {
        let cp = Checkpoint {
            consumer_group_id: "app".into(),
            topic_partition: TopicPartition::new("A.orders", 0),
            upstream_offset: 100,
            downstream_offset: 100,
            metadata: "meta data".into(),
        };
        assert_eq!(
            cp.to_string(),
            "Checkpoint{consumerGroupId=app, topicPartition=A.orders-0, upstreamOffset=100, \
             downstreamOffset=100, metadata=meta data}"
        );
    }

    #[test]
    fn offset_sync_prints_like_java() {
        let sync = OffsetSync {
            topic_partition: TopicPartition::new("t", 3),
            upstream_offset: 100,
            downstream_offset: 90,
        };
        assert_eq!(
            sync.to_string(),
            "OffsetSync{topicPartition=t-3, upstreamOffset=100, downstreamOffset=90}"
        );
    }

    #[test]
    fn formatters_decode_the_java_vectors() {
        let checkpoint = RecordFormatter::from_class_name(
            "org.apache.kafka.connect.mirror.formatters.CheckpointFormatter",
        )
        .unwrap();
        let line = checkpoint
            .format(
                b"\x00\x02g1\x00\x03A.t\x00\x00\x00\x03",
                b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x64\x00\x00\x00\x00\x00\x00\x00\x5a\x00\x00",
            )
            .unwrap();
        assert_eq!(
            line,
            "Checkpoint{consumerGroupId=g1, topicPartition=A.t-3, upstreamOffset=100, \
             downstreamOffset=90, metadata=}"
        );
        let sync = RecordFormatter::from_class_name("OffsetSyncFormatter").unwrap();
        let line = sync
            .format(
                b"\x00\x01t\x00\x00\x00\x03",
                b"\x00\x00\x00\x00\x00\x00\x00\x64\x00\x00\x00\x00\x00\x00\x00\x5a",
            )
            .unwrap();
        assert_eq!(
            line,
            "OffsetSync{topicPartition=t-3, upstreamOffset=100, downstreamOffset=90}"
        );
        assert!(sync.format(b"", b"").is_err());
    }

    #[test]
    fn formatter_names_resolve() {
        for f in [
            RecordFormatter::Heartbeat,
            RecordFormatter::Checkpoint,
            RecordFormatter::OffsetSync,
        ] {
            assert_eq!(RecordFormatter::from_class_name(f.class_name()), Some(f));
        }
        assert_eq!(RecordFormatter::from_class_name("Heartbeat"), None);
        assert_eq!(
            RecordFormatter::from_class_name("org.example.HeartbeatFormatter"),
            None
        );
    }
}
