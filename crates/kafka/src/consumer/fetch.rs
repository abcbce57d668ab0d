//! Fetching: which partitions to fetch from which broker, the Fetch request, and turning its
//! answer into buffered data. One regular fetch per broker is in flight at a time; it is sent
//! again as soon as the previous answer is buffered (not when it is polled), so the caller's
//! processing overlaps the next round trip, up to `fetch_buffer_bytes` of unpolled data. The
//! next fetch goes out as soon as the batch headers of an answer say where it ends, before its
//! records are checked and decoded, which then overlaps that fetch's round trip too. A
//! partition whose answer stopped short of its end is fetched by [read-ahead](super::read_ahead)
//! instead, several fetches at a time.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{ApiKey, FetchRequest, FetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use super::Shared;
use super::batch::{self, Aborted, DecodeOptions, Extent};
use super::config::{ConsumerConfig, IsolationLevel, OffsetReset};
use super::offsets;
use super::read_ahead;
use super::record::{ConsumerRecord, TopicPartition};
use super::state::{Chunk, PartitionState, State};
use crate::cluster::{ExponentialBackoff, PartitionMetadata};
use crate::error::{Error, KafkaCode, Result};
use crate::{Cluster, Connection};

/// Highest Fetch version used. From v13 on, topics are named by id (as Java's consumer does
/// when the broker knows topic ids); a fetch falls back to v12, by name, while a topic's id is
/// unknown.
const MAX_FETCH_VERSION: i16 = 16;
/// The highest Fetch version that names topics.
pub(super) const MAX_FETCH_BY_NAME: i16 = 12;

/// One partition of a fetch being sent, with what it was planned against.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub tp: TopicPartition,
    pub generation: u64,
    pub offset: i64,
    pub leader_epoch: i32,
}

/// Names the placeholders of answers being decoded, uniquely in the process.
static DECODING: AtomicU64 = AtomicU64::new(0);

/// One partition's records of a fetch answer, decoded after the next fetch has gone out.
#[derive(Debug)]
pub(super) struct Deferred {
    tp: TopicPartition,
    /// The [`Chunk::Decoding`] placeholder holding its place.
    id: u64,
    records: Bytes,
    /// Records before it were returned by an earlier answer and are skipped.
    pub fetch_offset: i64,
    next_offset: i64,
    aborted: Option<Vec<Aborted>>,
}

/// What one partition of a fetch answer means for the consumer.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Records to buffer; the partition is fetched next from the end of `extent`, or again
    /// from the same offset when the answer brought no batch.
    Data {
        chunk: Option<Chunk>,
        extent: Option<Extent>,
    },
    OutOfRange,
    /// Leadership moved or metadata is stale: fetch again after a metadata update.
    Retry,
    Failed(Error),
}

impl Shared {
    /// Starts whatever work the state calls for: offset resets, metadata lookups for partitions
    /// without a known leader, a fetch for each broker that has none in flight, and the
    /// windows of partitions being read ahead. Called with the lock held, after anything that
    /// may have made new work possible.
    pub(super) fn schedule(self: &Arc<Self>, state: &mut State) {
        let metadata = self.cluster.metadata();
        let room = state.buffered_bytes < self.config.fetch_buffer_bytes;
        let mut plans: HashMap<i32, Vec<Planned>> = HashMap::new();
        let mut behind = Vec::new();
        let mut leaderless = Vec::new();
        let mut resets = Vec::new();
        let mut unknown = Vec::new();
        // Each fetch starts at the next partition, as Java's consumer moves a partition whose
        // data was returned to the end: a broker that fills its answer from the first
        // partitions listed does not favour the same ones every time.
        let assignment = state.assignment();
        let start = state.fetch_rotation % assignment.len().max(1);
        let (front, back) = assignment.split_at(start);
        for tp in back.iter().chain(front) {
            let p = &state.partitions[tp];
            if p.position.is_none() {
                if let Some(reset) = p.reset.filter(|r| *r != OffsetReset::None) {
                    resets.push((tp.clone(), p.generation, reset));
                }
                continue;
            }
            let Some(offset) = p.fetch_offset.filter(|_| room && !p.paused) else {
                continue;
            };
            let planned = |m: &PartitionMetadata| Planned {
                tp: tp.clone(),
                generation: p.generation,
                offset,
                leader_epoch: m.leader_epoch,
            };
            match (
                metadata.partition(&tp.topic, tp.partition),
                p.ahead.is_reading(),
            ) {
                (Some(m), true) if m.leader >= 0 => behind.push(read_ahead::Behind {
                    planned: planned(m),
                    leader: m.leader,
                }),
                (Some(m), false) if m.leader >= 0 => {
                    if !state.fetching.contains(&m.leader) {
                        plans.entry(m.leader).or_default().push(planned(m));
                    }
                }
                (_, reading) => {
                    // The read-ahead stops with the leader unknown: the regular fetch waits
                    // for it.
                    if reading {
                        leaderless.push(tp.clone());
                    }
                    unknown.push(tp.topic.to_string());
                }
            }
        }
        for tp in leaderless {
            if let Some(p) = state.partitions.get_mut(&tp) {
                p.ahead.stop();
            }
        }
        read_ahead::schedule(self, state, behind);
        if !resets.is_empty() && !state.resetting {
            state.resetting = true;
            tokio::spawn(offsets::reset(
                Arc::downgrade(self),
                self.cluster.clone(),
                resets,
            ));
        }
        if !unknown.is_empty() && !state.refreshing {
            state.refreshing = true;
            unknown.sort();
            unknown.dedup();
            tokio::spawn(refresh_metadata(
                Arc::downgrade(self),
                self.cluster.clone(),
                unknown,
            ));
        }
        if !plans.is_empty() {
            state.fetch_rotation = state.fetch_rotation.wrapping_add(1);
        }
        for (broker, plan) in plans {
            state.fetching.insert(broker);
            tokio::spawn(fetch(
                Arc::downgrade(self),
                self.cluster.clone(),
                self.config.clone(),
                broker,
                plan,
            ));
        }
    }

    /// Locks the state, runs `f`, schedules new work and wakes a waiting poll.
    pub(super) fn update(self: &Arc<Self>, f: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        f(&mut state);
        self.schedule(&mut state);
        drop(state);
        self.wake.notify_waiters();
    }
}

/// Looks up leaders for `topics`, then lets the consumer plan again; waits `retry.backoff.ms`
/// after a lookup that did not help, so that a missing topic is not asked for in a loop.
async fn refresh_metadata(shared: Weak<Shared>, cluster: Cluster, topics: Vec<String>) {
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let allow_create = match shared.upgrade() {
        Some(shared) => shared.config.allow_auto_create_topics,
        None => return,
    };
    let resolved = match cluster.metadata_for(&names, allow_create).await {
        Ok(metadata) => names.iter().all(|t| {
            metadata
                .topics
                .get(*t)
                .is_some_and(|m| m.error.is_none() && m.partitions.iter().all(|p| p.leader >= 0))
        }),
        Err(error) => {
            tracing::debug!(%error, "metadata lookup for the consumer failed");
            false
        }
    };
    if !resolved {
        cluster.request_update();
        tokio::time::sleep(cluster.config().retry_backoff).await;
    }
    if let Some(shared) = shared.upgrade() {
        shared.update(|state| state.refreshing = false);
    }
}

/// Sends one fetch to `broker`, buffers its answer, and frees the broker for the next fetch
/// (after a backoff when it failed).
async fn fetch(
    shared: Weak<Shared>,
    cluster: Cluster,
    config: Arc<ConsumerConfig>,
    broker: i32,
    plan: Vec<Planned>,
) {
    let answer = match cluster.connection(broker).await {
        Ok(connection) => send(&connection, &cluster, &config, &plan).await,
        Err(error) => Err(error),
    };
    let mut deferred = Vec::new();
    let (outcomes, wait) = match answer {
        Ok(response) => {
            let outcomes = outcomes(&plan, response, &config, &mut deferred);
            let retry = outcomes.iter().any(|(_, o, _)| matches!(o, Outcome::Retry));
            (
                outcomes,
                retry.then(|| (cluster.config().retry_backoff, true)),
            )
        }
        Err(error) => {
            tracing::debug!(broker, %error, "fetch failed");
            let Some(consumer) = shared.upgrade() else {
                return;
            };
            let failures = {
                let mut state = consumer.lock();
                // Retried like the rest, but a broker or client that cannot work at all must
                // not fail silently.
                if !error.is_retriable() && !matches!(error, Error::Protocol(_)) {
                    state.errors.push_back(error.clone());
                }
                let failures = state.failures.entry(broker).or_default();
                *failures += 1;
                *failures
            };
            let wait = backoff(&cluster).backoff(failures - 1);
            (Vec::new(), Some((wait, error.invalidates_metadata())))
        }
    };
    let Some(consumer) = shared.upgrade() else {
        return;
    };
    let Some((wait, refresh)) = wait else {
        consumer.update(|state| {
            apply(state, outcomes, &config);
            state.fetching.remove(&broker);
            state.failures.remove(&broker);
        });
        decode(&consumer, deferred);
        return;
    };
    if !outcomes.is_empty() {
        consumer.update(|state| apply(state, outcomes, &config));
        decode(&consumer, deferred);
    }
    drop(consumer);
    if refresh {
        // Leadership may have moved: look it up again before the next fetch to this broker.
        cluster.request_update();
        let topics: Vec<&str> = plan.iter().map(|p| &*p.tp.topic).collect();
        if let Err(error) = cluster.metadata_for(&topics, false).await {
            tracing::debug!(%error, "metadata refresh after a failed fetch failed");
        }
    }
    tokio::time::sleep(wait).await;
    if let Some(consumer) = shared.upgrade() {
        consumer.update(|state| {
            state.fetching.remove(&broker);
        });
    }
}

fn backoff(cluster: &Cluster) -> ExponentialBackoff {
    let config = cluster.config();
    ExponentialBackoff::new(config.retry_backoff, config.retry_backoff_max)
}

/// Builds and sends the Fetch request of `plan` (a full fetch, no fetch session) on
/// `connection`.
pub(super) async fn send(
    connection: &Connection,
    cluster: &Cluster,
    config: &ConsumerConfig,
    plan: &[Planned],
) -> Result<FetchResponse> {
    let range = connection.version_of::<FetchRequest>()?;
    let metadata = cluster.metadata();
    let ids: Option<HashMap<&str, Uuid>> = plan
        .iter()
        .map(|p| {
            let id = metadata.topics.get(&*p.tp.topic)?.id;
            (id != [0; 16]).then(|| (&*p.tp.topic, Uuid::from_bytes(id)))
        })
        .collect();
    let by_id = ids.is_some() && range.max > MAX_FETCH_BY_NAME;
    let version = if by_id {
        range.max.min(MAX_FETCH_VERSION)
    } else {
        range.max.min(MAX_FETCH_BY_NAME)
    };
    if version < range.min {
        return Err(Error::Unsupported { api: ApiKey::Fetch });
    }
    let ids = ids.filter(|_| by_id);
    // Grouped by topic in the order topics first appear: the plan's partitions of one topic
    // need not be next to each other (the order rotates, see `schedule`).
    let mut grouped: Vec<(&str, Vec<FetchPartition>)> = Vec::new();
    for planned in plan {
        let partition = FetchPartition::default()
            .with_partition(planned.tp.partition)
            .with_current_leader_epoch(planned.leader_epoch)
            .with_fetch_offset(planned.offset)
            .with_partition_max_bytes(config.max_partition_fetch_bytes);
        let name = &*planned.tp.topic;
        match grouped.iter_mut().find(|(t, _)| *t == name) {
            Some((_, partitions)) => partitions.push(partition),
            None => grouped.push((name, vec![partition])),
        }
    }
    let topics: Vec<FetchTopic> = grouped
        .into_iter()
        .map(|(name, partitions)| {
            let topic = match &ids {
                Some(ids) => FetchTopic::default().with_topic_id(ids[name]),
                None => FetchTopic::default().with_topic(topic_name(name)),
            };
            topic.with_partitions(partitions)
        })
        .collect();
    let request = FetchRequest::default()
        .with_max_wait_ms(i32::try_from(config.fetch_max_wait.as_millis()).unwrap_or(i32::MAX))
        .with_min_bytes(config.fetch_min_bytes)
        .with_max_bytes(config.fetch_max_bytes)
        .with_isolation_level(config.isolation_level.code())
        .with_topics(topics)
        .with_rack_id(StrBytes::from_string(config.client_rack.clone()));
    let mut response = connection.send_version(&request, version).await?;
    crate::error::check(response.error_code, None)?;
    if let Some(ids) = ids {
        // Named again for the rest of the consumer; an id not asked for matches no partition.
        let names: HashMap<Uuid, &str> = ids.into_iter().map(|(name, id)| (id, name)).collect();
        for topic in &mut response.responses {
            if let Some(name) = names.get(&topic.topic_id) {
                topic.topic = topic_name(name);
            }
        }
    }
    Ok(response)
}

pub(super) fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_owned()))
}

/// The partition's offsets as the broker reported them with a fetch answer.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Marks {
    high_watermark: Option<i64>,
    last_stable_offset: Option<i64>,
    log_start_offset: Option<i64>,
}

impl Marks {
    /// Keeps the offsets the broker reported in the partition's state.
    pub(super) fn record(self, p: &mut PartitionState) {
        p.high_watermark = self.high_watermark.or(p.high_watermark);
        p.last_stable_offset = self.last_stable_offset.or(p.last_stable_offset);
        p.log_start_offset = self.log_start_offset.or(p.log_start_offset);
    }

    fn of(data: &PartitionData) -> Self {
        let known = |o: i64| (o >= 0).then_some(o);
        Self {
            high_watermark: known(data.high_watermark),
            last_stable_offset: known(data.last_stable_offset),
            log_start_offset: known(data.log_start_offset),
        }
    }
}

/// Checks and decodes the records of `deferred` (without the lock held) and puts them in
/// their placeholders' places.
pub(super) fn decode(consumer: &Arc<Shared>, deferred: Vec<Deferred>) {
    if deferred.is_empty() {
        return;
    }
    let options = DecodeOptions {
        check_crcs: consumer.config.check_crcs,
    };
    let decoded: Vec<_> = deferred.into_iter().map(|d| d.decode(options)).collect();
    consumer.update(|state| {
        for (tp, id, next_offset, records) in decoded {
            state.decoded(&tp, id, next_offset, records);
        }
    });
}

impl Deferred {
    /// Checks and decodes the records: what [`State::decoded`] takes.
    pub(super) fn decode(
        self,
        options: DecodeOptions,
    ) -> (TopicPartition, u64, i64, Result<VecDeque<ConsumerRecord>>) {
        let records = batch::decode(
            &self.tp.topic,
            self.tp.partition,
            &self.records,
            self.fetch_offset,
            self.aborted.as_deref(),
            options,
        )
        .map(|decoded| decoded.records.into());
        (self.tp, self.id, self.next_offset, records)
    }
}

/// What every planned partition's part of the answer means (without the lock held); the
/// records to decode go to `deferred`.
pub(super) fn outcomes(
    plan: &[Planned],
    response: FetchResponse,
    config: &ConsumerConfig,
    deferred: &mut Vec<Deferred>,
) -> Vec<(Planned, Outcome, Marks)> {
    let mut answers: HashMap<(StrBytes, i32), PartitionData> = HashMap::new();
    for topic in response.responses {
        for partition in topic.partitions {
            answers.insert(
                (topic.topic.0.clone(), partition.partition_index),
                partition,
            );
        }
    }
    plan.iter()
        .map(|planned| {
            let key = (
                StrBytes::from_string(planned.tp.topic.to_string()),
                planned.tp.partition,
            );
            match answers.remove(&key) {
                Some(data) => {
                    let marks = Marks::of(&data);
                    let outcome = outcome(config, planned, data, deferred);
                    (planned.clone(), outcome, marks)
                }
                // Not answered: fetched again at the same offset next time.
                None => (
                    planned.clone(),
                    Outcome::Data {
                        chunk: None,
                        extent: None,
                    },
                    Marks::default(),
                ),
            }
        })
        .collect()
}

fn outcome(
    config: &ConsumerConfig,
    planned: &Planned,
    data: PartitionData,
    deferred: &mut Vec<Deferred>,
) -> Outcome {
    let tp = &planned.tp;
    let code = match KafkaCode::try_from_code(data.error_code) {
        None => return records_outcome(config, planned, data, deferred),
        Some(code) => code,
    };
    match code {
        KafkaCode::OffsetOutOfRange => Outcome::OutOfRange,
        KafkaCode::NotLeaderOrFollower
        | KafkaCode::UnknownTopicOrPartition
        | KafkaCode::UnknownTopicId
        | KafkaCode::FencedLeaderEpoch
        | KafkaCode::UnknownLeaderEpoch
        | KafkaCode::LeaderNotAvailable
        | KafkaCode::ReplicaNotAvailable
        | KafkaCode::KafkaStorageError
        | KafkaCode::OffsetNotAvailable
        | KafkaCode::InconsistentTopicId => {
            tracing::debug!(%tp, ?code, "fetch must be retried after a metadata update");
            Outcome::Retry
        }
        code => Outcome::Failed(Error::Kafka {
            code,
            message: Some(format!("fetching {tp} at offset {}", planned.offset)),
        }),
    }
}

fn records_outcome(
    config: &ConsumerConfig,
    planned: &Planned,
    data: PartitionData,
    deferred: &mut Vec<Deferred>,
) -> Outcome {
    let records = data.records.unwrap_or_default();
    if records.is_empty() {
        return Outcome::Data {
            chunk: None,
            extent: None,
        };
    }
    let tp = &planned.tp;
    let extent = match batch::extent(&records) {
        Ok(Some(extent)) => extent,
        Ok(None) => {
            return Outcome::Failed(Error::Kafka {
                code: KafkaCode::RecordListTooLarge,
                message: Some(format!(
                    "the batch of {tp} at offset {} is larger than the {} bytes fetched; \
                     raise max.partition.fetch.bytes / fetch.max.bytes",
                    planned.offset,
                    records.len()
                )),
            });
        }
        Err(error) => return Outcome::Failed(error),
    };
    let aborted: Option<Vec<Aborted>> = (config.isolation_level == IsolationLevel::ReadCommitted)
        .then(|| {
            data.aborted_transactions
                .unwrap_or_default()
                .iter()
                .map(|a| Aborted {
                    producer_id: a.producer_id.0,
                    first_offset: a.first_offset,
                })
                .collect()
        });
    let id = DECODING.fetch_add(1, Ordering::Relaxed);
    let bytes = records.len();
    deferred.push(Deferred {
        tp: tp.clone(),
        id,
        records,
        fetch_offset: planned.offset,
        next_offset: extent.next,
        aborted,
    });
    Outcome::Data {
        chunk: Some(Chunk::Decoding { id, bytes }),
        extent: Some(extent),
    }
}

/// Buffers the outcomes of partitions whose position did not change since the fetch was
/// planned; the others are dropped. A partition whose records stopped short of its high
/// watermark goes on by read-ahead.
fn apply(state: &mut State, outcomes: Vec<(Planned, Outcome, Marks)>, config: &ConsumerConfig) {
    for (planned, outcome, marks) in outcomes {
        let Some(p) = state.partitions.get_mut(&planned.tp) else {
            continue;
        };
        if p.generation != planned.generation || p.fetch_offset != Some(planned.offset) {
            continue;
        }
        marks.record(p);
        match outcome {
            Outcome::Data { chunk, extent } => {
                state.buffered_bytes += chunk.as_ref().map_or(0, Chunk::bytes);
                p.chunks.extend(chunk);
                p.fetch_offset = Some(extent.map_or(planned.offset, |e| e.next));
                let end = read_ahead::end(p, config);
                p.ahead.answered(planned.offset, extent, end);
            }
            Outcome::OutOfRange => {
                p.chunks.push_back(Chunk::OutOfRange {
                    offset: planned.offset,
                });
                p.fetch_offset = None;
            }
            Outcome::Retry => {}
            Outcome::Failed(error) => {
                p.chunks.push_back(Chunk::Failed(error));
                p.fetch_offset = None;
            }
        }
    }
}
