//! The clients both tools share: an admin client and a consumer of one cluster.

use ferry_kafka::consumer::{ConsumerConfig, TopicPartition};
use ferry_kafka::{Admin, ClientConfig, Cluster, Consumer, KafkaCode};

use super::ToolError;

/// An admin client and a consumer sharing one cluster's connections.
pub(crate) struct Clients {
    pub(crate) admin: Admin,
    pub(crate) consumer: Consumer,
}

impl Clients {
    /// Clients of `bootstrap_servers` configured from client `properties` (Java's keys; unknown
    /// ones are ignored). The bootstrap servers given apart win over a `bootstrap.servers`
    /// property, as the console consumer's `--bootstrap-server` does. Call inside a Tokio
    /// runtime.
    pub(crate) fn new(
        bootstrap_servers: &str,
        properties: &[(String, String)],
    ) -> Result<Self, ToolError> {
        let pairs = || {
            properties
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain([("bootstrap.servers", bootstrap_servers)])
        };
        let cluster = Cluster::new(ClientConfig::from_pairs(pairs())?);
        let mut config = ConsumerConfig::from_pairs(pairs())?;
        // Reading a topic must never create it.
        config.allow_auto_create_topics = false;
        Ok(Self {
            admin: Admin::new(cluster.clone()),
            consumer: Consumer::new(cluster, config),
        })
    }

    /// Every partition of `topic`, or [`ToolError::UnknownTopic`].
    pub(crate) async fn partitions_of(
        &self,
        topic: &str,
    ) -> Result<Vec<TopicPartition>, ToolError> {
        let mut described = self.admin.describe_topics(&[topic]).await?;
        match described.remove(topic) {
            Some(Ok(metadata)) => Ok(metadata
                .partitions
                .iter()
                .map(|p| TopicPartition::new(topic, p.partition))
                .collect()),
            Some(Err(e)) if e.kafka_code() != Some(KafkaCode::UnknownTopicOrPartition) => {
                Err(e.into())
            }
            _ => Err(ToolError::UnknownTopic(topic.to_owned())),
        }
    }
}
