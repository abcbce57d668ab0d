//! Reading records from assigned partitions: Java's `KafkaConsumer` with `assign()`. Group
//! membership is a layer above: it assigns, seeks to committed offsets and commits
//! [`Consumer::positions`].
//!
//! A [`Consumer`] fetches from every partition leader of its assignment at once, one Fetch per
//! broker in flight, and keeps fetching ahead while the caller works through earlier records
//! (up to [`ConsumerConfig::fetch_buffer_bytes`] of unpolled data), so that throughput is not
//! bound to one round trip per poll. A partition that is behind is read with several fetches in
//! flight (read-ahead), so that it is not bound to one answer per round trip either. Records are
//! handed out with their keys, values and header values as slices of the fetched bytes.
//!
//! ```no_run
//! # async fn demo() -> ferry_kafka::Result<()> {
//! use std::time::Duration;
//! use ferry_kafka::consumer::{Consumer, ConsumerConfig, TopicPartition};
//! use ferry_kafka::{ClientConfig, Cluster};
//!
//! let cluster = Cluster::new(ClientConfig::new("localhost:9092")?);
//! let consumer = Consumer::new(cluster, ConsumerConfig::default());
//! let tp = TopicPartition::new("orders", 0);
//! consumer.assign([tp.clone()]);
//! consumer.seek(&tp, 0)?;
//! for record in consumer.poll(Duration::from_secs(1)).await? {
//!     println!("{}@{}: {:?}", record.partition, record.offset, record.value);
//! }
//! # Ok(()) }
//! ```

mod batch;
mod config;
mod fetch;
mod offsets;
mod read_ahead;
mod record;
mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

pub use config::{ConsumerConfig, IsolationLevel, OffsetReset};
pub use offsets::OffsetAndTimestamp;
pub use record::{ConsumerRecord, Header, TimestampType, TopicPartition};

use crate::Cluster;
use crate::error::{Error, Result};
use state::State;

/// A consumer of explicitly assigned partitions. Methods take `&self`, so one consumer can be
/// shared (`Arc`) between the task that polls and one that manages the assignment; dropping
/// it stops its fetching.
#[derive(Debug)]
pub struct Consumer {
    shared: Arc<Shared>,
}

/// What the consumer and its background fetches share.
#[derive(Debug)]
struct Shared {
    cluster: Cluster,
    config: Arc<ConsumerConfig>,
    state: Mutex<State>,
    /// Wakes every waiting poll or position lookup when fetched data, an error or a reset
    /// arrives.
    wake: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Consumer {
    /// A consumer reading through `cluster` (whose connections and metadata it shares). Call
    /// inside a Tokio runtime.
    pub fn new(cluster: Cluster, config: ConsumerConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                cluster,
                config: Arc::new(config),
                state: Mutex::new(State::default()),
                wake: Notify::new(),
            }),
        }
    }

    /// The configuration this consumer was built with.
    pub fn config(&self) -> &ConsumerConfig {
        &self.shared.config
    }

    /// Makes `partitions` the whole assignment (Java's `assign`). Partitions already assigned
    /// keep their positions and fetched data; new ones start at their `auto.offset.reset`
    /// position unless [`Consumer::seek`] is called before the next poll.
    pub fn assign(&self, partitions: impl IntoIterator<Item = TopicPartition>) {
        let reset = self.shared.config.auto_offset_reset;
        self.shared.lock().assign(partitions, reset);
    }

    /// Adds `partitions` to the assignment, keeping the others (cooperative rebalancing).
    pub fn incremental_assign(&self, partitions: impl IntoIterator<Item = TopicPartition>) {
        let reset = self.shared.config.auto_offset_reset;
        let mut state = self.shared.lock();
        let mut all = state.assignment().to_vec();
        all.extend(partitions);
        state.assign(all, reset);
    }

    /// Removes `partitions` from the assignment, dropping their fetched data.
    pub fn incremental_unassign(&self, partitions: &[TopicPartition]) {
        self.shared.lock().remove(partitions);
    }

    /// Removes every partition (Java's `unsubscribe` for an assigned consumer).
    pub fn unassign(&self) {
        let reset = self.shared.config.auto_offset_reset;
        self.shared.lock().assign([], reset);
    }

    /// The assigned partitions.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.shared.lock().assignment().to_vec()
    }

    /// Makes the next record polled from `tp` the one at `offset`. Fails when `tp` is not
    /// assigned.
    pub fn seek(&self, tp: &TopicPartition, offset: i64) -> Result<()> {
        self.shared.lock().seek(tp, offset)
    }

    /// Moves `partitions` to their log start offsets (looked up at the next poll).
    pub fn seek_to_beginning(&self, partitions: &[TopicPartition]) -> Result<()> {
        self.reset_to(partitions, OffsetReset::Earliest)
    }

    /// Moves `partitions` to their ends (looked up at the next poll).
    pub fn seek_to_end(&self, partitions: &[TopicPartition]) -> Result<()> {
        self.reset_to(partitions, OffsetReset::Latest)
    }

    fn reset_to(&self, partitions: &[TopicPartition], reset: OffsetReset) -> Result<()> {
        let mut state = self.shared.lock();
        partitions
            .iter()
            .try_for_each(|tp| state.request_reset(tp, reset))
    }

    /// The offset of the next record [`Consumer::poll`] will return for `tp`, looking it up
    /// first when the partition has none yet (as Java's `position` does). Fails with
    /// [`Error::NoOffsetForPartition`] when there is none to look up (`auto.offset.reset=none`).
    pub async fn position(&self, tp: &TopicPartition) -> Result<i64> {
        loop {
            let mut notified = std::pin::pin!(self.shared.wake.notified());
            notified.as_mut().enable();
            {
                let mut state = self.shared.lock();
                let p = state.partitions.get(tp).ok_or_else(|| {
                    Error::InvalidRequest(format!("partition {tp} is not assigned"))
                })?;
                if let Some(position) = p.position {
                    return Ok(position);
                }
                if p.reset == Some(OffsetReset::None) {
                    return Err(no_offset(tp));
                }
                if let Some(error) = state.errors.pop_front() {
                    return Err(error);
                }
                self.shared.schedule(&mut state);
            }
            notified.await;
        }
    }

    /// The positions of the assigned partitions that have one, without any lookup: what a
    /// group member commits.
    pub fn positions(&self) -> HashMap<TopicPartition, i64> {
        let state = self.shared.lock();
        state
            .partitions
            .iter()
            .filter_map(|(tp, p)| p.position.map(|o| (tp.clone(), o)))
            .collect()
    }

    /// Stops returning and fetching records of `partitions` until resumed; their positions and
    /// fetched data are kept.
    pub fn pause(&self, partitions: &[TopicPartition]) {
        self.set_paused(partitions, true);
    }

    /// Undoes [`Consumer::pause`].
    pub fn resume(&self, partitions: &[TopicPartition]) {
        self.set_paused(partitions, false);
    }

    fn set_paused(&self, partitions: &[TopicPartition], paused: bool) {
        let mut state = self.shared.lock();
        for tp in partitions {
            if let Some(p) = state.partitions.get_mut(tp) {
                p.paused = paused;
            }
        }
    }

    /// The paused partitions.
    pub fn paused(&self) -> Vec<TopicPartition> {
        let state = self.shared.lock();
        let mut paused: Vec<TopicPartition> = state
            .partitions
            .iter()
            .filter(|(_, p)| p.paused)
            .map(|(tp, _)| tp.clone())
            .collect();
        paused.sort();
        paused
    }

    /// Waits up to `timeout` for records and returns at most `max.poll.records` of them, in
    /// offset order per partition. An empty batch means none arrived in time. Errors: a
    /// partition without position under `auto.offset.reset=none`
    /// ([`Error::NoOffsetForPartition`]), an out-of-range position under `none`
    /// (`OffsetOutOfRange`), corrupt data, or a non-retriable fetch error; retriable errors are
    /// retried in the background.
    pub async fn poll(&self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut notified = std::pin::pin!(self.shared.wake.notified());
            notified.as_mut().enable();
            {
                let mut state = self.shared.lock();
                if let Some(error) = state.errors.pop_front() {
                    return Err(error);
                }
                if let Some(tp) = state.assignment().iter().find(|tp| {
                    let p = &state.partitions[*tp];
                    p.position.is_none() && p.reset == Some(OffsetReset::None)
                }) {
                    return Err(no_offset(tp));
                }
                let config = &self.shared.config;
                let records = state.drain(config.max_poll_records, config.auto_offset_reset);
                self.shared.schedule(&mut state);
                match records {
                    Ok(records) if records.is_empty() => {}
                    result => return result,
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    /// The high watermark of `tp` from the latest fetch answer: the end of the partition
    /// as the broker last reported it (`None` before the first answer).
    pub fn high_watermark(&self, tp: &TopicPartition) -> Option<i64> {
        self.shared.lock().partitions.get(tp)?.high_watermark
    }

    /// The last stable offset of `tp` from the latest fetch answer (the end under
    /// `read_committed`).
    pub fn last_stable_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.shared.lock().partitions.get(tp)?.last_stable_offset
    }

    /// The log start offset of `tp` from the latest fetch answer.
    pub fn log_start_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.shared.lock().partitions.get(tp)?.log_start_offset
    }

    /// The log start offsets of `partitions` (ListOffsets with "earliest").
    pub async fn beginning_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>> {
        self.offsets_at(partitions, offsets::EARLIEST).await
    }

    /// The end offsets of `partitions` (ListOffsets with "latest": the high watermark, or the
    /// last stable offset under `read_committed`). Some brokers answer this badly (the test
    /// broker undercounts); [`Consumer::end_offsets_from_fetch`] reads the end from a Fetch.
    pub async fn end_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>> {
        self.offsets_at(partitions, offsets::LATEST).await
    }

    async fn offsets_at(
        &self,
        partitions: &[TopicPartition],
        timestamp: i64,
    ) -> Result<HashMap<TopicPartition, i64>> {
        let queries: Vec<_> = partitions
            .iter()
            .map(|tp| (tp.clone(), timestamp))
            .collect();
        let found = self.offsets_for_times_inner(&queries).await?;
        Ok(found
            .into_iter()
            .filter_map(|(tp, o)| Some((tp, o?.offset)))
            .collect())
    }

    /// For each partition, the earliest offset whose timestamp is at or after the given one
    /// (milliseconds since the epoch); `None` when no record is that late.
    pub async fn offsets_for_times(
        &self,
        timestamps: &HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, Option<OffsetAndTimestamp>>> {
        let queries: Vec<_> = timestamps.iter().map(|(tp, t)| (tp.clone(), *t)).collect();
        self.offsets_for_times_inner(&queries).await
    }

    async fn offsets_for_times_inner(
        &self,
        queries: &[(TopicPartition, i64)],
    ) -> Result<HashMap<TopicPartition, Option<OffsetAndTimestamp>>> {
        let shared = &self.shared;
        offsets::list_offsets(&shared.cluster, shared.config.isolation_level, queries).await
    }

    /// The end of each partition read from a Fetch answer (the high watermark, or the last
    /// stable offset under `read_committed`), for reading a topic to its end where
    /// ListOffsets cannot be trusted. Works on any partition, assigned or not.
    ///
    /// ```no_run
    /// # async fn demo(consumer: ferry_kafka::consumer::Consumer) -> ferry_kafka::Result<()> {
    /// use std::time::Duration;
    /// let partitions = consumer.assignment();
    /// let ends = consumer.end_offsets_from_fetch(&partitions).await?;
    /// // Read to the end: poll until every position has reached its end.
    /// for tp in &partitions {
    ///     while consumer.position(tp).await? < ends[tp] {
    ///         consumer.poll(Duration::from_millis(100)).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn end_offsets_from_fetch(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>> {
        let shared = &self.shared;
        offsets::ends_from_fetch(&shared.cluster, shared.config.isolation_level, partitions).await
    }
}

fn no_offset(tp: &TopicPartition) -> Error {
    Error::NoOffsetForPartition {
        topic: tp.topic.to_string(),
        partition: tp.partition,
    }
}
