//! The source partitions and offsets MirrorMaker 2's connectors store in Connect's offsets
//! topic, with Java's keys (`MirrorUtils`, `Checkpoint.connectPartition`,
//! `Heartbeat.connectPartition`), so that a deployment moved from Java continues where it was;
//! and the `topic-partition` text of task configs.
//!
//! ```
//! use ferry_mirror::records::TopicPartition;
//! use ferry_mirror::source_maps::{wrap_offset, wrap_partition, unwrap_offset};
//!
//! let partition = wrap_partition(&TopicPartition::new("orders", 3), "A");
//! assert_eq!(serde_json::Value::Object(partition).to_string(),
//!            r#"{"cluster":"A","partition":3,"topic":"orders"}"#);
//! assert_eq!(unwrap_offset(Some(&wrap_offset(41))), Some(41));
//! ```

use ferry_connect::ConnectError;
use ferry_connect::record::SourceMap;
use serde_json::Value;

use crate::records::{Checkpoint, Heartbeat, TopicPartition};

/// Key of the source cluster alias in a replicated partition's source partition.
pub const SOURCE_CLUSTER_KEY: &str = "cluster";
/// Key of the topic.
pub const TOPIC_KEY: &str = "topic";
/// Key of the partition number.
pub const PARTITION_KEY: &str = "partition";
/// Key of the offset in a source offset.
pub const OFFSET_KEY: &str = "offset";
/// Key of the consumer group in a checkpoint's source partition.
pub const CONSUMER_GROUP_ID_KEY: &str = "group";
/// Key of the source alias in a heartbeat's source partition.
pub const SOURCE_CLUSTER_ALIAS_KEY: &str = "sourceClusterAlias";
/// Key of the target alias in a heartbeat's source partition.
pub const TARGET_CLUSTER_ALIAS_KEY: &str = "targetClusterAlias";

/// The source partition of a replicated partition: `{"cluster", "partition", "topic"}`.
pub fn wrap_partition(tp: &TopicPartition, source_cluster_alias: &str) -> SourceMap {
    // Inserted in the order Java's HashMap iterates these keys, for maps that keep it.
    SourceMap::from_iter([
        (
            SOURCE_CLUSTER_KEY.to_owned(),
            Value::from(source_cluster_alias),
        ),
        (PARTITION_KEY.to_owned(), Value::from(tp.partition)),
        (TOPIC_KEY.to_owned(), Value::from(tp.topic.as_str())),
    ])
}

/// The source offset `{"offset": N}`.
pub fn wrap_offset(offset: i64) -> SourceMap {
    SourceMap::from_iter([(OFFSET_KEY.to_owned(), Value::from(offset))])
}

/// The topic-partition of a source partition made by [`wrap_partition`] or
/// [`checkpoint_partition`].
pub fn unwrap_partition(partition: &SourceMap) -> Option<TopicPartition> {
    let topic = partition.get(TOPIC_KEY)?.as_str()?;
    let number = i32::try_from(partition.get(PARTITION_KEY)?.as_i64()?).ok()?;
    Some(TopicPartition::new(topic, number))
}

/// The offset of a source offset; `None` when absent or null (Java's -1, "uncommitted").
pub fn unwrap_offset(offset: Option<&SourceMap>) -> Option<i64> {
    offset?.get(OFFSET_KEY)?.as_i64()
}

/// A checkpoint's source partition: `{"group", "partition", "topic"}` (target-named topic).
pub fn checkpoint_partition(checkpoint: &Checkpoint) -> SourceMap {
    // Inserted in the order Java's HashMap iterates these keys, for maps that keep it.
    SourceMap::from_iter([
        (
            PARTITION_KEY.to_owned(),
            Value::from(checkpoint.topic_partition.partition),
        ),
        (
            TOPIC_KEY.to_owned(),
            Value::from(checkpoint.topic_partition.topic.as_str()),
        ),
        (
            CONSUMER_GROUP_ID_KEY.to_owned(),
            Value::from(checkpoint.consumer_group_id.as_str()),
        ),
    ])
}

/// A heartbeat's source partition: `{"sourceClusterAlias", "targetClusterAlias"}`.
pub fn heartbeat_partition(heartbeat: &Heartbeat) -> SourceMap {
    SourceMap::from_iter([
        (
            SOURCE_CLUSTER_ALIAS_KEY.to_owned(),
            Value::from(heartbeat.source_cluster_alias.as_str()),
        ),
        (
            TARGET_CLUSTER_ALIAS_KEY.to_owned(),
            Value::from(heartbeat.target_cluster_alias.as_str()),
        ),
    ])
}

/// `topic-3`, as Java's `TopicPartition.toString` writes it into `task.assigned.partitions`.
pub fn encode_topic_partition(tp: &TopicPartition) -> String {
    format!("{}-{}", tp.topic, tp.partition)
}

/// Reads [`encode_topic_partition`]'s text: the partition follows the *last* `-`.
pub fn decode_topic_partition(text: &str) -> Option<TopicPartition> {
    let (topic, partition) = text.rsplit_once('-')?;
    Some(TopicPartition::new(topic, partition.parse().ok()?))
}

/// What `alter_offsets` checks of the offsets a user writes for an MM2 connector (Java's
/// `MirrorUtils.validateSource*`): `string_keys` must be strings, `partition` (when
/// `with_partition`) a non-negative int, and the offset a non-negative integer (exactly 0 when
/// `only_zero`). A `None` offset (a reset) is always accepted.
///
/// Refusals are [`ConnectError::Other`], not [`ConnectError::BadRequest`]: Java's checks throw
/// a plain `ConnectException`, which its REST API answers with 500.
pub fn validate_offsets(
    offsets: &[(SourceMap, Option<SourceMap>)],
    string_keys: &[&str],
    with_partition: bool,
    only_zero: bool,
) -> Result<(), ConnectError> {
    for (partition, offset) in offsets {
        let Some(offset) = offset else { continue };
        let shown = Value::Object(partition.clone());
        for key in string_keys {
            match partition.get(*key) {
                None => {
                    return Err(ConnectError::other(format!(
                        "Source partition {shown} is missing the '{key}' key, which is required"
                    )));
                }
                Some(Value::String(_)) => {}
                Some(value) => {
                    return Err(ConnectError::other(format!(
                        "Source partition {shown} has an invalid value {value} for the '{key}' key, which must be a string"
                    )));
                }
            }
        }
        if with_partition {
            let value = partition.get(PARTITION_KEY).ok_or_else(|| {
                ConnectError::other(format!(
                    "Source partition {shown} is missing the '{PARTITION_KEY}' key, which is required"
                ))
            })?;
            match value.as_i64().map(i32::try_from) {
                Some(Ok(p)) if p >= 0 => {}
                Some(Ok(_)) => {
                    return Err(ConnectError::other(format!(
                        "Source partition {shown} has an invalid value {value} for the '{PARTITION_KEY}' key, which cannot be negative"
                    )));
                }
                _ => {
                    return Err(ConnectError::other(format!(
                        "Source partition {shown} has an invalid value {value} for the '{PARTITION_KEY}' key, which must be an integer"
                    )));
                }
            }
        }
        let shown_offset = Value::Object(offset.clone());
        let value = offset.get(OFFSET_KEY).ok_or_else(|| {
            ConnectError::other(format!(
                "Source offset {shown_offset} for source partition {shown} is missing the '{OFFSET_KEY}' key, which is required"
            ))
        })?;
        let Some(n) = value.as_i64() else {
            return Err(ConnectError::other(format!(
                "Source offset {shown_offset} for source partition {shown} has an invalid value {value} for the '{OFFSET_KEY}' key, which must be an integer"
            )));
        };
        if only_zero && n != 0 {
            return Err(ConnectError::other(format!(
                "Source offset {shown_offset} for source partition {shown} has an invalid value {value} for the '{OFFSET_KEY}' key; the only accepted value is 0"
            )));
        }
        if !only_zero && n < 0 {
            return Err(ConnectError::other(format!(
                "Source offset {shown_offset} for source partition {shown} has an invalid value {value} for the '{OFFSET_KEY}' key, which cannot be negative"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_partitions_round_trip_with_dashes_in_topic_names() {
        let tp = TopicPartition::new("my-topic-1", 12);
        assert_eq!(encode_topic_partition(&tp), "my-topic-1-12");
        assert_eq!(decode_topic_partition("my-topic-1-12"), Some(tp));
        assert_eq!(decode_topic_partition("nodash"), None);
    }

    #[test]
    fn maps_have_javas_keys() {
        let cp = Checkpoint {
            consumer_group_id: "g".into(),
            topic_partition: TopicPartition::new("A.t", 1),
            upstream_offset: 5,
            downstream_offset: 4,
            metadata: String::new(),
        };
        let partition = Value::Object(checkpoint_partition(&cp));
        let expected = serde_json::json!({"group": "g", "partition": 1, "topic": "A.t"});
        assert_eq!(partition, expected);
        let hb = Heartbeat::new("A", "B", 0);
        let text = Value::Object(heartbeat_partition(&hb)).to_string();
        assert_eq!(
            text,
            r#"{"sourceClusterAlias":"A","targetClusterAlias":"B"}"#
        );
        assert_eq!(Value::Object(wrap_offset(7)).to_string(), r#"{"offset":7}"#);
        assert_eq!(unwrap_offset(None), None);
        let back = unwrap_partition(&wrap_partition(&TopicPartition::new("t", 2), "A"));
        assert_eq!(back, Some(TopicPartition::new("t", 2)));
    }

    #[test]
    fn offsets_are_validated_with_javas_messages() {
        let partition = wrap_partition(&TopicPartition::new("t", 0), "A");
        let keys = [SOURCE_CLUSTER_KEY, TOPIC_KEY];
        let ok = [
            (partition.clone(), Some(wrap_offset(3))),
            (partition.clone(), None),
        ];
        assert!(validate_offsets(&ok, &keys, true, false).is_ok());
        let negative = [(partition.clone(), Some(wrap_offset(-1)))];
        let err = validate_offsets(&negative, &keys, true, false).unwrap_err();
        assert!(
            err.to_string().ends_with("which cannot be negative"),
            "{err}"
        );
        let nonzero = [(partition.clone(), Some(wrap_offset(2)))];
        let err = validate_offsets(&nonzero, &keys, true, true).unwrap_err();
        assert!(
            err.to_string().ends_with("the only accepted value is 0"),
            "{err}"
        );
        let mut no_topic = partition;
        no_topic.remove(TOPIC_KEY);
        let err =
            validate_offsets(&[(no_topic, Some(wrap_offset(0)))], &keys, true, false).unwrap_err();
        assert!(
            err.to_string().contains("is missing the 'topic' key"),
            "{err}"
        );
    }
}
