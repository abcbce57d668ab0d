//! The sink dead letter queue (Java's `DeadLetterQueueReporter`): a record that failed is
//! written, as it was read, to `errors.deadletterqueue.topic.name`, optionally with
//! `__connect.errors.*` headers describing the failure.

use async_trait::async_trait;
use bytes::Bytes;
use ferry_connect::ConnectError;
use ferry_kafka::admin::NewTopic;
use ferry_kafka::kafka_protocol::protocol::StrBytes;
use ferry_kafka::producer::{Producer, ProducerRecord};
use ferry_kafka::{Admin, Cluster, KafkaCode};

use super::operator::{ErrorContext, ErrorReporter};
use super::{ErrorConfig, java_class, trace};

/// The prefix of the error context headers.
pub const HEADER_PREFIX: &str = "__connect.errors.";

/// Writes failed records to the dead letter queue topic.
#[derive(Debug)]
pub struct DeadLetterQueueReporter {
    producer: Producer,
    topic: String,
    context_headers: bool,
}

impl DeadLetterQueueReporter {
    /// Creates the topic if it is missing (one partition, the configured replication factor)
    /// and a producer configured by `producer_props` (see
    /// [`WorkerConfig::producer_props_with_client_id`](crate::worker::WorkerConfig::producer_props_with_client_id)).
    ///
    /// # Errors
    /// The topic could not be created or the producer could not be configured.
    pub async fn create(
        cluster: Cluster,
        producer_props: &std::collections::HashMap<String, String>,
        config: &ErrorConfig,
    ) -> Result<Self, ConnectError> {
        let topic = config.dlq_topic.clone();
        let setup = |e: ferry_kafka::Error| {
            ConnectError::Other(format!(
                "Could not initialize dead letter queue with topic={topic}: {e}"
            ))
        };
        let admin = Admin::new(cluster.clone());
        if !admin.list_topics().await.map_err(setup)?.contains(&topic) {
            tracing::error!("Topic {topic} doesn't exist. Will attempt to create topic.");
            let created = admin
                .create_topics(&[NewTopic::new(&topic, 1, config.dlq_replication_factor)])
                .await
                .map_err(setup)?;
            for result in created.into_values() {
                match result {
                    Err(e) if e.kafka_code() != Some(KafkaCode::TopicAlreadyExists) => {
                        return Err(setup(e));
                    }
                    _ => {}
                }
            }
        }
        let producer = Producer::new(cluster, producer_props.iter()).map_err(setup)?;
        Ok(Self {
            producer,
            topic,
            context_headers: config.dlq_context_headers,
        })
    }

    /// Waits until every record reported so far has been written.
    pub async fn flush(&self) {
        self.producer.flush().await;
    }

    /// Delivers what was reported and stops the producer.
    pub async fn close(&self) {
        self.producer.close().await;
    }
}

/// The `__connect.errors.*` headers for a failure.
pub fn context_headers(c: &ErrorContext<'_>) -> Vec<(String, Bytes)> {
    let mut headers = Vec::new();
    let mut add = |name: &str, value: String| {
        headers.push((format!("{HEADER_PREFIX}{name}"), Bytes::from(value)))
    };
    if let Some(record) = c.consumed {
        add("topic", record.topic.to_string());
        add("partition", record.partition.to_string());
        add("offset", record.offset.to_string());
    }
    add("connector.name", c.task.connector.clone());
    add("task.id", c.task.task.to_string());
    add("stage", c.stage.name().to_owned());
    add("class.name", c.class.to_owned());
    add("exception.class.name", java_class(c.error).to_owned());
    add("exception.message", exception_message(c.error));
    add("exception.stacktrace", trace(c.error));
    headers
}

fn exception_message(error: &ConnectError) -> String {
    error.to_string()
}

#[async_trait]
impl ErrorReporter for DeadLetterQueueReporter {
    async fn report(&self, c: &ErrorContext<'_>) {
        let Some(original) = c.consumed else { return };
        let mut record = ProducerRecord {
            topic: StrBytes::from_string(self.topic.clone()),
            partition: None,
            key: original.key.clone(),
            value: original.value.clone(),
            headers: original
                .headers
                .iter()
                .map(|h| (h.key.clone(), h.value.clone()))
                .collect(),
            timestamp: (original.timestamp >= 0).then_some(original.timestamp),
        };
        if self.context_headers {
            for (name, value) in context_headers(c) {
                record
                    .headers
                    .push((StrBytes::from_string(name), Some(value)));
            }
        }
        let topic = self.topic.clone();
        match self.producer.send(record).await {
            Ok(delivery) => {
                tokio::spawn(async move {
                    if let Err(error) = delivery.await {
                        tracing::error!(%error, "Could not produce message to dead letter queue. topic={topic}");
                    }
                });
            }
            Err(error) => {
                tracing::error!(%error, "Could not produce message to dead letter queue. topic={topic}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ferry_kafka::consumer::TimestampType;

    use super::*;
    use crate::ConnectorTaskId;
    use crate::errors::Stage;
    use ferry_kafka::ConsumerRecord;

    #[test]
    fn context_headers_are_javas() {
        let record = ConsumerRecord {
            topic: Arc::from("orders"),
            partition: 2,
            offset: 41,
            timestamp: 5,
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: Some(Bytes::from_static(b"{")),
            headers: vec![],
            leader_epoch: None,
        };
        let task = ConnectorTaskId::new("sink", 3);
        let error = ConnectError::data("Converting byte[] to Kafka Connect data failed");
        let c = ErrorContext {
            task: &task,
            stage: Stage::ValueConverter,
            class: "org.apache.kafka.connect.json.JsonConverter",
            error: &error,
            consumed: Some(&record),
            source: None,
            attempts: 1,
        };
        let headers: Vec<(String, String)> = context_headers(&c)
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "__connect.errors.topic",
                "__connect.errors.partition",
                "__connect.errors.offset",
                "__connect.errors.connector.name",
                "__connect.errors.task.id",
                "__connect.errors.stage",
                "__connect.errors.class.name",
                "__connect.errors.exception.class.name",
                "__connect.errors.exception.message",
                "__connect.errors.exception.stacktrace",
            ]
        );
        assert_eq!(headers[1].1, "2");
        assert_eq!(headers[2].1, "41");
        assert_eq!(headers[4].1, "3");
        assert_eq!(headers[5].1, "VALUE_CONVERTER");
        assert_eq!(
            headers[7].1,
            "org.apache.kafka.connect.errors.DataException"
        );
    }
}
