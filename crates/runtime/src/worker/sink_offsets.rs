//! A sink connector's offsets are its consumer group's committed offsets (KIP-875): read,
//! altered and reset through the admin client, in the REST API's
//! `{"kafka_topic", "kafka_partition"}` / `{"kafka_offset"}` shape (Java's `SinkUtils`).

use std::collections::{BTreeMap, HashMap};

use ferry_connect::ConnectError;
use ferry_kafka::admin::{OffsetAndMetadata, TopicPartition};
use ferry_kafka::{Admin, ClientConfig, Cluster, KafkaCode};
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
    let props = worker.admin_props(&format!("connector-worker-adminclient-{name}"), config);
    let client = ClientConfig::from_pairs(props.iter())
        .map_err(|e| ConnectError::Other(format!("Invalid admin config: {e}")))?;
    Ok(Admin::new(Cluster::new(client)))
}

/// Reads the group's committed offsets (Java's `Worker.sinkConnectorOffsets`).
///
/// # Errors
/// Java's `Failed to retrieve consumer group offsets for sink connector NAME` (the cause is
/// logged, as Java's REST answer carries only the message).
pub async fn read_sink_offsets(
    admin: &Admin,
    name: &str,
    group: &str,
) -> Result<Vec<ConnectorOffset>, ConnectError> {
    let offsets = admin.list_group_offsets(group, None).await.map_err(|e| {
        failed(
            format!("Failed to retrieve consumer group offsets for sink connector {name}"),
            &e,
        )
    })?;
    Ok(to_connector_offsets(&offsets))
}

/// The partitions the group has committed offsets for, each with `None`: what a reset
/// removes.
///
/// # Errors
/// Java's `Failed to list offsets prior to resetting offsets for sink connector NAME`.
pub async fn partitions_to_reset(
    admin: &Admin,
    name: &str,
    group: &str,
) -> Result<Vec<(TopicPartition, Option<i64>)>, ConnectError> {
    let offsets = admin.list_group_offsets(group, None).await.map_err(|e| {
        failed(
            format!("Failed to list offsets prior to resetting offsets for sink connector {name}"),
            &e,
        )
    })?;
    Ok(offsets.into_keys().map(|tp| (tp, None)).collect())
}

/// Commits the given offsets for the group and deletes those set to `None` (Java's
/// `Worker.alterSinkConnectorOffsets`).
///
/// # Errors
/// Java's messages: the group still has members (its tasks have not stopped), or any other
/// failure to alter the group's offsets.
pub async fn alter_sink_offsets(
    admin: &Admin,
    name: &str,
    group: &str,
    offsets: Vec<(TopicPartition, Option<i64>)>,
) -> Result<(), ConnectError> {
    let error = |e: &ferry_kafka::Error| {
        let message = if matches!(
            e.kafka_code(),
            Some(KafkaCode::UnknownMemberId | KafkaCode::GroupSubscribedToTopic)
        ) {
            format!(
                "Failed to alter consumer group offsets for connector {name} either because its tasks haven't stopped completely yet or the connector was resumed before the request to alter its offsets could be successfully completed. {ZOMBIES}"
            )
        } else {
            format!("Failed to alter consumer group offsets for connector {name}")
        };
        failed(message, e)
    };
    let (commits, deletes) = split(offsets);
    if !commits.is_empty() {
        let results = admin
            .alter_group_offsets(group, &commits)
            .await
            .map_err(|e| error(&e))?;
        for result in results.into_values() {
            result.map_err(|e| error(&e))?;
        }
    }
    if !deletes.is_empty() {
        delete_offsets(admin, group, &deletes)
            .await
            .map_err(|e| error(&e))?;
    }
    Ok(())
}

/// Resets the connector's offsets by deleting its consumer group (Java's
/// `Worker.resetSinkConnectorOffsets`); a group that is gone already counts as reset, since a
/// reset is idempotent. The group goes as a whole, whatever partitions it holds.
///
/// # Errors
/// Java's messages: the group still has members (its tasks have not stopped), or any other
/// failure to delete the group, such as a broker without DeleteGroups.
pub async fn reset_sink_offsets(
    admin: &Admin,
    name: &str,
    group: &str,
) -> Result<(), ConnectError> {
    let result = admin.delete_groups(&[group]).await.and_then(|mut results| {
        results.remove(group).unwrap_or_else(|| {
            let missing = format!("DeleteGroups left out {group}");
            Err(ferry_kafka::Error::Protocol(missing))
        })
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kafka_code() == Some(KafkaCode::GroupIdNotFound) => Ok(()),
        Err(e) => Err(reset_failed(name, &e)),
    }
}

fn reset_failed(name: &str, cause: &ferry_kafka::Error) -> ConnectError {
    let message = if cause.kafka_code() == Some(KafkaCode::NonEmptyGroup) {
        format!(
            "Failed to reset consumer group offsets for connector {name} either because its tasks haven't stopped completely yet or the connector was resumed before the request to reset its offsets could be successfully completed. {ZOMBIES}"
        )
    } else {
        format!("Failed to reset consumer group offsets for sink connector {name}")
    };
    failed(message, cause)
}

/// The advice ending Java's messages for a group that still has members.
const ZOMBIES: &str = "If the connector is in a stopped state, this operation can be safely retried. If it doesn't eventually succeed, the Connect cluster may need to be restarted to get rid of the zombie sink tasks.";

/// Java's REST answer carries the message only; the cause goes to the log.
fn failed(message: String, cause: &ferry_kafka::Error) -> ConnectError {
    tracing::error!(%cause, "{message}");
    ConnectError::Other(message)
}

type Split = (
    BTreeMap<TopicPartition, OffsetAndMetadata>,
    Vec<TopicPartition>,
);

fn split(offsets: Vec<(TopicPartition, Option<i64>)>) -> Split {
    let mut commits = BTreeMap::new();
    let mut deletes = Vec::new();
    for (tp, offset) in offsets {
        match offset {
            Some(offset) => {
                commits.insert(tp, OffsetAndMetadata::new(offset));
            }
            None => deletes.push(tp),
        }
    }
    (commits, deletes)
}

async fn delete_offsets(
    admin: &Admin,
    group: &str,
    partitions: &[TopicPartition],
) -> Result<(), ferry_kafka::Error> {
    for result in admin
        .delete_group_offsets(group, partitions)
        .await?
        .into_values()
    {
        result?;
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
    fn reset_failures_use_javas_messages() {
        let non_empty = ferry_kafka::Error::Kafka {
            code: KafkaCode::NonEmptyGroup,
            message: None,
        };
        assert_eq!(
            reset_failed("s", &non_empty).to_string(),
            format!(
                "Failed to reset consumer group offsets for connector s either because its tasks haven't stopped completely yet or the connector was resumed before the request to reset its offsets could be successfully completed. {ZOMBIES}"
            )
        );
        let unsupported = ferry_kafka::Error::Unsupported {
            api: ferry_kafka::kafka_protocol::messages::ApiKey::DeleteGroups,
        };
        assert_eq!(
            reset_failed("s", &unsupported).to_string(),
            "Failed to reset consumer group offsets for sink connector s"
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
