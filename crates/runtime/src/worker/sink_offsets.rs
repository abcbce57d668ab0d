//! A sink connector's offsets are its consumer group's committed offsets (KIP-875): read,
//! altered and reset through the admin client, in the REST API's
//! `{"kafka_topic", "kafka_partition"}` / `{"kafka_offset"}` shape (Java's `SinkUtils`).

use std::collections::{BTreeMap, HashMap};

use ferry_connect::ConnectError;
use ferry_kafka::admin::{OffsetAndMetadata, TopicPartition};
use ferry_kafka::{Admin, ClientConfig, Cluster};
use serde_json::{Map, Value};

use super::config::WorkerConfig;
use crate::herder::entities::ConnectorOffset;

/// `kafka_topic`.
pub const KAFKA_TOPIC_KEY: &str = "kafka_topic";
/// `kafka_partition`.
pub const KAFKA_PARTITION_KEY: &str = "kafka_partition";
/// `kafka_offset`.
pub const KAFKA_OFFSET_KEY: &str = "kafka_offset";

/// The consumer group of sink connector `name`: `connect-NAME`, unless its config overrides
/// `consumer.override.group.id`.
pub fn consumer_group_id(name: &str, config: &HashMap<String, String>) -> String {
    config
        .get("consumer.override.group.id")
        .cloned()
        .unwrap_or_else(|| format!("connect-{name}"))
}

/// Group offsets as connector offsets.
pub fn to_connector_offsets(
    offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
) -> Vec<ConnectorOffset> {
    offsets
        .iter()
        .map(|((topic, partition), offset)| {
            let mut p = Map::new();
            p.insert(KAFKA_TOPIC_KEY.into(), Value::from(topic.as_str()));
            p.insert(KAFKA_PARTITION_KEY.into(), Value::from(*partition));
            let mut o = Map::new();
            o.insert(KAFKA_OFFSET_KEY.into(), Value::from(offset.offset));
            ConnectorOffset {
                partition: p,
                offset: Some(o),
            }
        })
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses a PATCH request's sink offsets (Java's `SinkUtils.parseSinkConnectorOffsets`): a
/// `None` offset resets the partition. Numbers may also be given as strings.
///
/// # Errors
/// The message of Java's `BadRequestException` for the first malformed entry.
pub fn parse_sink_offsets(
    offsets: &[ConnectorOffset],
) -> Result<Vec<(TopicPartition, Option<i64>)>, String> {
    offsets
        .iter()
        .map(|entry| {
            let p = &entry.partition;
            let (Some(topic), Some(partition)) = (p.get(KAFKA_TOPIC_KEY), p.get(KAFKA_PARTITION_KEY)) else {
                return Err(format!(
                    "The partition for a sink connector offset must contain the keys '{KAFKA_TOPIC_KEY}' and '{KAFKA_PARTITION_KEY}'"
                ));
            };
            if topic.is_null() {
                return Err("Kafka topic names must be valid strings and may not be null".into());
            }
            if partition.is_null() {
                return Err("Kafka partitions must be valid numbers and may not be null".into());
            }
            let partition: i32 = text(partition).parse().map_err(|_| {
                format!(
                    "Failed to parse the following Kafka partition value in the provided offsets: '{}'. Partition values for sink connectors need to be integers.",
                    text(partition)
                )
            })?;
            let offset = match &entry.offset {
                None => None,
                Some(o) => {
                    let value = o.get(KAFKA_OFFSET_KEY).ok_or_else(|| {
                        format!("The offset for a sink connector should either be null or contain the key '{KAFKA_OFFSET_KEY}'")
                    })?;
                    Some(text(value).parse::<i64>().map_err(|_| {
                        format!(
                            "Failed to parse the following Kafka offset value in the provided offsets: '{}'. Offset values for sink connectors need to be integers.",
                            text(value)
                        )
                    })?)
                }
            };
            Ok(((text(topic), partition), offset))
        })
        .collect()
}

/// The admin client a herder uses for sink connector `name`'s offsets.
pub fn sink_admin(
    worker: &WorkerConfig,
    name: &str,
    config: &HashMap<String, String>,
) -> Result<Admin, ConnectError> {
    let props = worker.admin_props(&format!("connector-adminclient-{name}"), config);
    let client = ClientConfig::from_pairs(props.iter())
        .map_err(|e| ConnectError::Other(format!("Invalid admin config: {e}")))?;
    Ok(Admin::new(Cluster::new(client)))
}

/// Reads the group's committed offsets.
pub async fn read_sink_offsets(
    admin: &Admin,
    group: &str,
) -> Result<Vec<ConnectorOffset>, ConnectError> {
    let offsets = admin.list_group_offsets(group, None).await.map_err(|e| {
        ConnectError::Other(format!(
            "Failed to retrieve consumer group offsets for sink connector: {e}"
        ))
    })?;
    Ok(to_connector_offsets(&offsets))
}

/// Commits the given offsets for the group and deletes those reset to `None`.
pub async fn alter_sink_offsets(
    admin: &Admin,
    group: &str,
    offsets: Vec<(TopicPartition, Option<i64>)>,
) -> Result<(), ConnectError> {
    let failed = |e: ferry_kafka::Error| {
        ConnectError::Other(format!(
            "Failed to alter consumer group offsets for sink connector: {e}"
        ))
    };
    let commits: BTreeMap<TopicPartition, OffsetAndMetadata> = offsets
        .iter()
        .filter_map(|(tp, o)| o.map(|o| (tp.clone(), OffsetAndMetadata::new(o))))
        .collect();
    let deletes: Vec<TopicPartition> = offsets
        .iter()
        .filter(|(_, o)| o.is_none())
        .map(|(tp, _)| tp.clone())
        .collect();
    if !commits.is_empty() {
        for result in admin
            .alter_group_offsets(group, &commits)
            .await
            .map_err(failed)?
            .into_values()
        {
            result.map_err(failed)?;
        }
    }
    if !deletes.is_empty() {
        for result in admin
            .delete_group_offsets(group, &deletes)
            .await
            .map_err(failed)?
            .into_values()
        {
            result.map_err(failed)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(partition: Value, offset: Option<Value>) -> ConnectorOffset {
        ConnectorOffset {
            partition: partition.as_object().unwrap().clone(),
            offset: offset.map(|o| o.as_object().unwrap().clone()),
        }
    }

    #[test]
    fn parses_javas_shapes_and_reports_javas_messages() {
        let parsed = parse_sink_offsets(&[
            entry(
                json!({"kafka_topic": "t", "kafka_partition": 1}),
                Some(json!({"kafka_offset": 5})),
            ),
            entry(
                json!({"kafka_topic": "t", "kafka_partition": "2"}),
                Some(json!({"kafka_offset": "6"})),
            ),
            entry(json!({"kafka_topic": "t", "kafka_partition": 3}), None),
        ])
        .unwrap();
        assert_eq!(
            parsed,
            vec![
                (("t".into(), 1), Some(5)),
                (("t".into(), 2), Some(6)),
                (("t".into(), 3), None)
            ]
        );
        let err = parse_sink_offsets(&[entry(json!({"kafka_topic": "t"}), None)]).unwrap_err();
        assert_eq!(
            err,
            "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'"
        );
        let err = parse_sink_offsets(&[entry(
            json!({"kafka_topic": "t", "kafka_partition": "x"}),
            None,
        )])
        .unwrap_err();
        assert!(err.starts_with(
            "Failed to parse the following Kafka partition value in the provided offsets: 'x'"
        ));
        let err = parse_sink_offsets(&[entry(
            json!({"kafka_topic": "t", "kafka_partition": 0}),
            Some(json!({})),
        )])
        .unwrap_err();
        assert_eq!(
            err,
            "The offset for a sink connector should either be null or contain the key 'kafka_offset'"
        );
    }

    #[test]
    fn group_offsets_render_as_connector_offsets() {
        let offsets = BTreeMap::from([(("t".to_owned(), 0), OffsetAndMetadata::new(7))]);
        let rendered = serde_json::to_value(to_connector_offsets(&offsets)).unwrap();
        assert_eq!(
            rendered,
            json!([{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": 7}}])
        );
        assert_eq!(consumer_group_id("s", &HashMap::new()), "connect-s");
    }
}
