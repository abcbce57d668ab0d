//! Offset lookups: ListOffsets by timestamp (earliest, latest, or a time), the resets that use
//! it, and partition ends read from Fetch answers' high watermarks.

use std::collections::{BTreeMap, HashMap};
use std::sync::Weak;

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, ListOffsetsRequest};

use super::Shared;
use super::config::{IsolationLevel, OffsetReset};
use super::fetch::{MAX_FETCH_BY_NAME, topic_name};
use super::record::TopicPartition;
use crate::Cluster;
use crate::error::{Error, KafkaCode, Result, check};

/// ListOffsets' timestamp for the log start offset.
pub(super) const EARLIEST: i64 = -2;
/// ListOffsets' timestamp for the end of the partition (the last stable offset under
/// `read_committed`).
pub(super) const LATEST: i64 = -1;

/// An offset found by timestamp (Java's `OffsetAndTimestamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetAndTimestamp {
    /// The earliest offset whose timestamp is at or after the one asked for.
    pub offset: i64,
    /// That record's timestamp.
    pub timestamp: i64,
    /// The leader epoch of that record, when known.
    pub leader_epoch: Option<i32>,
}

/// Sends ListOffsets for every `(partition, timestamp)` to the partitions' leaders, retrying
/// retriable errors per the cluster's retry policy. Partitions without an answer offset (-1)
/// map to `None`.
pub(super) async fn list_offsets(
    cluster: &Cluster,
    isolation: IsolationLevel,
    queries: &[(TopicPartition, i64)],
) -> Result<HashMap<TopicPartition, Option<OffsetAndTimestamp>>> {
    cluster
        .retry("ListOffsets", || {
            list_offsets_once(cluster, isolation, queries)
        })
        .await
}

async fn list_offsets_once(
    cluster: &Cluster,
    isolation: IsolationLevel,
    queries: &[(TopicPartition, i64)],
) -> Result<HashMap<TopicPartition, Option<OffsetAndTimestamp>>> {
    let mut by_leader: BTreeMap<i32, BTreeMap<&str, Vec<ListOffsetsPartition>>> = BTreeMap::new();
    for (tp, timestamp) in queries {
        let leader = cluster.leader_for(&tp.topic, tp.partition).await?;
        by_leader
            .entry(leader)
            .or_default()
            .entry(&tp.topic)
            .or_default()
            .push(
                ListOffsetsPartition::default()
                    .with_partition_index(tp.partition)
                    .with_timestamp(*timestamp),
            );
    }
    let timeout = i32::try_from(cluster.config().request_timeout.as_millis()).unwrap_or(i32::MAX);
    let mut found = HashMap::new();
    for (leader, topics) in by_leader {
        let request = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_isolation_level(isolation.code())
            .with_timeout_ms(timeout)
            .with_topics(
                topics
                    .into_iter()
                    .map(|(topic, partitions)| {
                        ListOffsetsTopic::default()
                            .with_name(topic_name(topic))
                            .with_partitions(partitions)
                    })
                    .collect(),
            );
        let response = cluster.connection(leader).await?.send(&request).await?;
        for topic in response.topics {
            let name: std::sync::Arc<str> = topic.name.0.as_str().into();
            for p in topic.partitions {
                check(p.error_code, None).map_err(|e| match e {
                    Error::Kafka { code, .. } => Error::Kafka {
                        code,
                        message: Some(format!("ListOffsets for {name}-{}", p.partition_index)),
                    },
                    other => other,
                })?;
                let answer = (p.offset >= 0).then_some(OffsetAndTimestamp {
                    offset: p.offset,
                    timestamp: p.timestamp,
                    leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
                });
                found.insert(TopicPartition::new(name.clone(), p.partition_index), answer);
            }
        }
    }
    Ok(found)
}

/// Resets the positions of `partitions` (planned at `generation`) per their strategy, then
/// lets the consumer plan again. Failures are retried by the next plan after a backoff, or
/// reported to the next poll when they are not retriable.
pub(super) async fn reset(
    shared: Weak<Shared>,
    cluster: Cluster,
    partitions: Vec<(TopicPartition, u64, OffsetReset)>,
) {
    let Some(isolation) = shared.upgrade().map(|s| s.config.isolation_level) else {
        return;
    };
    let queries: Vec<(TopicPartition, i64)> = partitions
        .iter()
        .map(|(tp, _, reset)| {
            let timestamp = if *reset == OffsetReset::Earliest {
                EARLIEST
            } else {
                LATEST
            };
            (tp.clone(), timestamp)
        })
        .collect();
    let answer = list_offsets(&cluster, isolation, &queries).await;
    if let Err(error) = &answer {
        tracing::debug!(%error, "offset reset failed");
        if error.is_retriable() {
            tokio::time::sleep(cluster.config().retry_backoff).await;
        }
    }
    let Some(shared) = shared.upgrade() else {
        return;
    };
    shared.update(|state| {
        state.resetting = false;
        let offsets = match answer {
            Ok(offsets) => offsets,
            Err(error) if error.is_retriable() => return,
            Err(error) => return state.errors.push_back(error),
        };
        for (tp, generation, _) in partitions {
            let Some(p) = state.partitions.get_mut(&tp) else {
                continue;
            };
            if p.generation != generation || p.position.is_some() {
                continue;
            }
            if let Some(Some(found)) = offsets.get(&tp) {
                p.position = Some(found.offset);
                p.fetch_offset = Some(found.offset);
                p.reset = None;
            }
        }
    });
}

/// The end of each partition as a Fetch answer reports it: the high watermark, or the last
/// stable offset under `read_committed`. ListOffsets first finds a record near the end; then
/// one Fetch per leader, sent for the record before that end and answered without waiting,
/// carries at most a batch per partition and the true end. An empty partition (ListOffsets
/// says 0) ends at 0. Both steps are retried together per the cluster's retry policy, so a
/// topic without a leader yet is waited for up to `request.timeout.ms`, then reported.
pub(super) async fn ends_from_fetch(
    cluster: &Cluster,
    isolation: IsolationLevel,
    partitions: &[TopicPartition],
) -> Result<HashMap<TopicPartition, i64>> {
    let queries: Vec<(TopicPartition, i64)> =
        partitions.iter().map(|tp| (tp.clone(), LATEST)).collect();
    cluster
        .retry("Fetch for the end offsets", || async {
            let latest = list_offsets_once(cluster, isolation, &queries).await?;
            let mut by_leader: BTreeMap<i32, BTreeMap<&str, Vec<FetchPartition>>> = BTreeMap::new();
            let mut ends = HashMap::new();
            for tp in partitions {
                // A partition left out of the answer is not known to be empty.
                let latest = latest
                    .get(tp)
                    .ok_or_else(|| missing_answer("ListOffsets", tp))?
                    .map_or(0, |o| o.offset);
                if latest <= 0 {
                    ends.insert(tp.clone(), 0);
                    continue;
                }
                // Asking for the last record rather than the end: some brokers (the test
                // broker) leave partitions without data out of the answer.
                let leader = cluster.leader_for(&tp.topic, tp.partition).await?;
                by_leader
                    .entry(leader)
                    .or_default()
                    .entry(&tp.topic)
                    .or_default()
                    .push(
                        FetchPartition::default()
                            .with_partition(tp.partition)
                            .with_fetch_offset(latest - 1)
                            .with_partition_max_bytes(1),
                    );
            }
            for (leader, topics) in by_leader {
                let connection = cluster.connection(leader).await?;
                let version = connection
                    .version_of::<FetchRequest>()?
                    .max
                    .min(MAX_FETCH_BY_NAME);
                let request = FetchRequest::default()
                    .with_max_wait_ms(10)
                    .with_min_bytes(1)
                    .with_max_bytes(i32::MAX)
                    .with_isolation_level(isolation.code())
                    .with_topics(
                        topics
                            .into_iter()
                            .map(|(t, ps)| {
                                FetchTopic::default()
                                    .with_topic(topic_name(t))
                                    .with_partitions(ps)
                            })
                            .collect(),
                    );
                let response = connection.send_version(&request, version).await?;
                check(response.error_code, None)?;
                for topic in response.responses {
                    let name: std::sync::Arc<str> = topic.topic.0.as_str().into();
                    for p in topic.partitions {
                        let tp = TopicPartition::new(name.clone(), p.partition_index);
                        let end = match KafkaCode::try_from_code(p.error_code) {
                            // The record before the end is gone (deleted or past retention):
                            // the partition is empty, and a broker that says so also answers
                            // ListOffsets exactly, so its end is the one to trust.
                            Some(KafkaCode::OffsetOutOfRange) => {
                                latest
                                    .get(&tp)
                                    .copied()
                                    .flatten()
                                    .ok_or_else(|| missing_answer("ListOffsets", &tp))?
                                    .offset
                            }
                            Some(code) => {
                                return Err(Error::Kafka {
                                    code,
                                    message: Some(format!("Fetch for {tp}")),
                                });
                            }
                            None => match isolation {
                                IsolationLevel::ReadCommitted if p.last_stable_offset >= 0 => {
                                    p.last_stable_offset
                                }
                                _ => p.high_watermark,
                            },
                        };
                        if end < 0 {
                            return Err(Error::Protocol(format!(
                                "Fetch answer for {tp} without an end offset"
                            )));
                        }
                        ends.insert(tp, end);
                    }
                }
            }
            match partitions.iter().find(|tp| !ends.contains_key(*tp)) {
                Some(tp) => Err(missing_answer("Fetch", tp)),
                None => Ok(ends),
            }
        })
        .await
}

/// A retriable error for a partition a broker left out of its answer.
fn missing_answer(api: &str, tp: &TopicPartition) -> Error {
    Error::Kafka {
        code: KafkaCode::UnknownTopicOrPartition,
        message: Some(format!("no {api} answer for {tp}")),
    }
}
