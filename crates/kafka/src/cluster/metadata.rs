//! A snapshot of cluster metadata: brokers, topics, partitions and their leaders.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use kafka_protocol::messages::MetadataResponse;

use crate::error::KafkaCode;

/// One broker as metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// `node.id` / `broker.id`.
    pub id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: u16,
    /// `broker.rack`, if set.
    pub rack: Option<String>,
}

/// One partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// Partition index.
    pub partition: i32,
    /// Leader's broker id, -1 while there is none.
    pub leader: i32,
    /// Leader epoch, -1 if the broker does not report it.
    pub leader_epoch: i32,
    /// Replica broker ids.
    pub replicas: Vec<i32>,
    /// In-sync replica broker ids.
    pub isr: Vec<i32>,
    /// Error reported for this partition (e.g. `LeaderNotAvailable`).
    pub error: Option<KafkaCode>,
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    /// Topic name.
    pub name: String,
    /// Topic id (all zero when the broker predates topic ids).
    pub id: [u8; 16],
    /// Whether this is an internal topic (`__consumer_offsets`).
    pub is_internal: bool,
    /// Error reported for the topic (e.g. `UnknownTopicOrPartition`).
    pub error: Option<KafkaCode>,
    /// Partitions, sorted by index.
    pub partitions: Vec<PartitionMetadata>,
}

/// A metadata snapshot. Snapshots are immutable; the [`Cluster`](crate::Cluster) replaces its
/// snapshot on every refresh.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// Cluster id, if the broker reports one.
    pub cluster_id: Option<String>,
    /// Broker id of the controller, -1 if unknown.
    pub controller_id: i32,
    /// Brokers by id.
    pub brokers: BTreeMap<i32, Broker>,
    /// Topics by name; only the topics that were asked for (or all, after a full refresh).
    pub topics: HashMap<String, TopicMetadata>,
    /// When this snapshot was fetched.
    pub fetched_at: Instant,
}

impl Metadata {
    pub(crate) fn empty() -> Self {
        Self {
            cluster_id: None,
            controller_id: -1,
            brokers: BTreeMap::new(),
            topics: HashMap::new(),
            fetched_at: Instant::now(),
        }
    }

    /// Builds a snapshot from a response, keeping the topics of `previous` that the response
    /// does not mention unless `replace_topics` (the response listed all topics).
    pub(crate) fn merge(
        previous: &Metadata,
        response: &MetadataResponse,
        replace_topics: bool,
    ) -> Self {
        let brokers = response
            .brokers
            .iter()
            .filter_map(|b| {
                Some((
                    b.node_id.0,
                    Broker {
                        id: b.node_id.0,
                        host: b.host.to_string(),
                        port: u16::try_from(b.port).ok()?,
                        rack: b.rack.as_ref().map(ToString::to_string),
                    },
                ))
            })
            .collect();
        let mut topics = if replace_topics {
            HashMap::new()
        } else {
            previous.topics.clone()
        };
        for t in &response.topics {
            let Some(name) = &t.name else { continue };
            let mut partitions: Vec<_> = t
                .partitions
                .iter()
                .map(|p| PartitionMetadata {
                    partition: p.partition_index,
                    leader: p.leader_id.0,
                    leader_epoch: p.leader_epoch,
                    replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                    isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                    error: KafkaCode::try_from_code(p.error_code),
                })
                .collect();
            partitions.sort_by_key(|p| p.partition);
            let topic = TopicMetadata {
                name: name.to_string(),
                id: *t.topic_id.as_bytes(),
                is_internal: t.is_internal,
                error: KafkaCode::try_from_code(t.error_code),
                partitions,
            };
            topics.insert(topic.name.clone(), topic);
        }
        Self {
            cluster_id: response.cluster_id.as_ref().map(ToString::to_string),
            controller_id: response.controller_id.0,
            brokers,
            topics,
            fetched_at: Instant::now(),
        }
    }

    /// The partition, if the topic and partition are known.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<&PartitionMetadata> {
        let partitions = &self.topics.get(topic)?.partitions;
        partitions
            .binary_search_by_key(&partition, |p| p.partition)
            .ok()
            .map(|i| &partitions[i])
    }
}
