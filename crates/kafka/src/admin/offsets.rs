//! Partition offsets by position or time (ListOffsets).

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::messages::ListOffsetsRequest;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};

use super::topics::group_by_topic;
use super::{Admin, TopicPartition, per_item, topic_name};
use crate::error::{Error, KafkaCode, Result, check};

/// Which offset of a partition to look up (`OffsetSpec` in Java).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The first offset still in the log.
    Earliest,
    /// The offset the next record will get (the high watermark).
    Latest,
    /// The first offset whose timestamp is at or after this (milliseconds since the epoch).
    Timestamp(i64),
}

impl OffsetSpec {
    /// The timestamp sent in ListOffsets: Kafka's -2 (earliest) and -1 (latest) sentinels.
    pub fn wire_timestamp(self) -> i64 {
        match self {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
            OffsetSpec::Timestamp(ts) => ts,
        }
    }
}

/// An offset found by ListOffsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedOffset {
    /// The offset; -1 when no record matches a timestamp.
    pub offset: i64,
    /// The timestamp of that record, -1 for earliest/latest.
    pub timestamp: i64,
    /// Leader epoch of that record, when known.
    pub leader_epoch: Option<i32>,
}

impl Admin {
    /// Looks up offsets per partition, asking each partition's leader, with
    /// `read_uncommitted` isolation (Java's default). Partitions of topics that do not exist
    /// fail at once with `UnknownTopicOrPartition`, as in Java; other lookup errors are retried.
    pub async fn list_offsets(
        &self,
        specs: &BTreeMap<TopicPartition, OffsetSpec>,
    ) -> Result<BTreeMap<TopicPartition, Result<ListedOffset>>> {
        let topics: BTreeSet<&str> = specs.keys().map(|(t, _)| t.as_str()).collect();
        let topics: Vec<&str> = topics.into_iter().collect();
        let metadata = self.cluster.metadata_for(&topics, false).await?;
        let missing = |topic: &str| {
            metadata
                .topics
                .get(topic)
                .is_none_or(|t| t.error == Some(KafkaCode::UnknownTopicOrPartition))
        };
        let (unknown, known): (Vec<TopicPartition>, Vec<TopicPartition>) =
            specs.keys().cloned().partition(|(t, _)| missing(t));
        let mut results = per_item(
            &self.cluster,
            "ListOffsets",
            known,
            |partitions| async move {
                let mut outcome = Vec::new();
                let mut by_leader: BTreeMap<i32, Vec<TopicPartition>> = BTreeMap::new();
                for tp in partitions {
                    match self.cluster.leader_for(&tp.0, tp.1).await {
                        Ok(leader) => by_leader.entry(leader).or_default().push(tp),
                        Err(e) => outcome.push((tp, Err(e))),
                    }
                }
                for (leader, partitions) in by_leader {
                    let topics = group_by_topic(&partitions, |tp| {
                        ListOffsetsPartition::default()
                            .with_partition_index(tp.1)
                            .with_current_leader_epoch(-1)
                            .with_timestamp(specs[tp].wire_timestamp())
                    });
                    let request = ListOffsetsRequest::default()
                        .with_replica_id((-1).into())
                        .with_isolation_level(0)
                        .with_timeout_ms(self.timeout_ms())
                        .with_topics(
                            topics
                                .into_iter()
                                .map(|(t, ps)| {
                                    ListOffsetsTopic::default()
                                        .with_name(topic_name(&t))
                                        .with_partitions(ps)
                                })
                                .collect(),
                        );
                    let response = self
                        .cluster
                        .connection(leader)
                        .await?
                        .send(&request)
                        .await?;
                    for t in &response.topics {
                        for p in &t.partitions {
                            let result = check(p.error_code, None).map(|()| ListedOffset {
                                offset: p.offset,
                                timestamp: p.timestamp,
                                leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
                            });
                            outcome.push(((t.name.to_string(), p.partition_index), result));
                        }
                    }
                }
                Ok(outcome)
            },
        )
        .await?;
        for tp in unknown {
            let error = Error::Kafka {
                code: KafkaCode::UnknownTopicOrPartition,
                message: Some(format!("topic {} does not exist", tp.0)),
            };
            results.insert(tp, Err(error));
        }
        Ok(results)
    }
}
