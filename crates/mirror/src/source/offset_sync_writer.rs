//! Writing offset syncs from the source task (Java's `OffsetSyncWriter`).
//!
//! Per replicated partition a [`PartitionState`] decides when a replicated record's
//! `(upstream, downstream)` pair must become a sync: the first of the task's lifetime, when the
//! replica got `offset.lag.max` or more past the last sync, when upstream offsets skipped (a
//! gap, so translation past it would be wrong) or when the downstream offset went back. Other
//! pairs are kept as *delayed* syncs, one per partition, which [`OffsetSyncWriter::commit`]
//! (called by the worker every `offset.flush.interval.ms`) promotes, so that an idle partition
//! still gets a sync for its last record. At most ten syncs are in flight; the rest wait,
//! newest per partition.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferry_kafka::{Producer, ProducerRecord};
use tracing::{error, warn};

use crate::records::{OffsetSync, TopicPartition};

/// Java's `MAX_OUTSTANDING_OFFSET_SYNCS`.
const MAX_OUTSTANDING: usize = 10;

/// When a partition's replicated records need an offset sync (Java's
/// `OffsetSyncWriter.PartitionState`).
///
/// ```
/// use ferry_mirror::source::PartitionState;
/// let mut state = PartitionState::new(100);
/// assert!(state.update(0, 0)); // first record of this lifetime
/// state.reset();
/// assert!(!state.update(1, 1)); // contiguous and close: no sync needed
/// assert!(state.update(3, 2)); // upstream offset 2 was skipped
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    previous_upstream: i64,
    previous_downstream: i64,
    last_sync_downstream: i64,
    max_offset_lag: i64,
    should_sync: bool,
}

impl PartitionState {
    /// A partition with no record seen, syncing at least every `max_offset_lag` offsets.
    pub fn new(max_offset_lag: i64) -> Self {
        Self {
            previous_upstream: -1,
            previous_downstream: -1,
            last_sync_downstream: -1,
            max_offset_lag,
            should_sync: false,
        }
    }

    /// Records a replicated record; true when a sync is due (it stays due until
    /// [`reset`](Self::reset)).
    pub fn update(&mut self, upstream: i64, downstream: i64) -> bool {
        let first = self.last_sync_downstream == -1;
        let too_stale = downstream.wrapping_sub(self.last_sync_downstream.wrapping_add(1))
            >= self.max_offset_lag;
        let skipped = upstream.wrapping_sub(self.previous_upstream) != 1;
        let truncated = downstream < self.previous_downstream;
        if first || too_stale || skipped || truncated {
            self.last_sync_downstream = downstream;
            self.should_sync = true;
        }
        self.previous_upstream = upstream;
        self.previous_downstream = downstream;
        self.should_sync
    }

    /// Marks the due sync as queued.
    pub fn reset(&mut self) {
        self.should_sync = false;
    }
}

/// Queues and sends offset syncs to partition 0 of the offset-syncs topic with its own producer.
#[derive(Debug)]
pub(crate) struct OffsetSyncWriter {
    producer: Producer,
    topic: String,
    max_offset_lag: i64,
    states: HashMap<TopicPartition, PartitionState>,
    delayed: HashMap<TopicPartition, OffsetSync>,
    pending: HashMap<TopicPartition, OffsetSync>,
    outstanding: Arc<AtomicUsize>,
}

impl OffsetSyncWriter {
    pub(crate) fn new(producer: Producer, topic: String, max_offset_lag: i64) -> Self {
        Self {
            producer,
            topic,
            max_offset_lag,
            states: HashMap::new(),
            delayed: HashMap::new(),
            pending: HashMap::new(),
            outstanding: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Notes that the record at `upstream` of `tp` was written at `downstream`, and sends
    /// whatever syncs are due.
    pub(crate) async fn record(&mut self, tp: &TopicPartition, upstream: i64, downstream: i64) {
        // Called for every replicated record: the common case (a known partition whose sync
        // can wait) updates in place rather than cloning the partition's name.
        let max_offset_lag = self.max_offset_lag;
        let state = match self.states.get_mut(tp) {
            Some(state) => state,
            None => self
                .states
                .entry(tp.clone())
                .or_insert_with(|| PartitionState::new(max_offset_lag)),
        };
        if state.update(upstream, downstream) {
            state.reset();
            self.delayed.remove(tp);
            let sync = OffsetSync {
                topic_partition: tp.clone(),
                upstream_offset: upstream,
                downstream_offset: downstream,
            };
            self.pending.insert(tp.clone(), sync);
        } else if let Some(delayed) = self.delayed.get_mut(tp) {
            delayed.upstream_offset = upstream;
            delayed.downstream_offset = downstream;
        } else {
            let sync = OffsetSync {
                topic_partition: tp.clone(),
                upstream_offset: upstream,
                downstream_offset: downstream,
            };
            self.delayed.insert(tp.clone(), sync);
        }
        if !self.pending.is_empty() {
            self.fire_pending().await;
        }
    }

    /// Promotes the delayed syncs and sends what is pending: the worker's offset commit.
    pub(crate) async fn commit(&mut self) {
        self.pending.extend(self.delayed.drain());
        self.fire_pending().await;
    }

    async fn fire_pending(&mut self) {
        while let Some(tp) = self.pending.keys().next().cloned() {
            let taken = self
                .outstanding
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < MAX_OUTSTANDING).then_some(n + 1)
                });
            if taken.is_err() {
                return;
            }
            let Some(sync) = self.pending.remove(&tp) else {
                continue;
            };
            self.send(sync).await;
        }
    }

    async fn send(&self, sync: OffsetSync) {
        let outstanding = self.outstanding.clone();
        let key = match sync.encode_key() {
            Ok(key) => key,
            Err(e) => {
                error!(
                    "Cannot encode the offset sync for {}: {e}",
                    sync.topic_partition
                );
                outstanding.fetch_sub(1, Ordering::AcqRel);
                return;
            }
        };
        let record = ProducerRecord::new(self.topic.clone(), sync.encode_value())
            .with_key(key)
            .with_partition(0);
        match self.producer.send(record).await {
            Ok(delivery) => {
                tokio::spawn(async move {
                    if let Err(e) = delivery.await {
                        error!("Failure sending offset sync: {e}");
                    }
                    outstanding.fetch_sub(1, Ordering::AcqRel);
                });
            }
            Err(e) => {
                warn!("Failure sending offset sync: {e}");
                outstanding.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Delivers what was sent and stops the producer.
    pub(crate) async fn close(&self) {
        self.producer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::PartitionState;

    #[test]
    fn syncs_when_the_replica_lags_the_last_sync_by_offset_lag_max() {
        let mut state = PartitionState::new(10);
        assert!(state.update(100, 0));
        state.reset();
        for i in 1..10 {
            assert!(!state.update(100 + i, i), "{i}");
        }
        // downstream 11 - (0 + 1) >= 10
        assert!(!state.update(110, 10));
        assert!(state.update(111, 11));
        state.reset();
        assert!(!state.update(112, 12));
    }

    #[test]
    fn syncs_on_downstream_truncation_and_stays_due_until_reset() {
        let mut state = PartitionState::new(100);
        assert!(state.update(0, 50));
        state.reset();
        assert!(!state.update(1, 51));
        assert!(state.update(2, 10)); // the replica went back
        assert!(state.update(3, 11)); // still due: not reset yet
        state.reset();
        assert!(!state.update(4, 12));
    }

    #[test]
    fn offset_lag_max_zero_syncs_every_record() {
        let mut state = PartitionState::new(0);
        for i in 0..5 {
            assert!(state.update(i, i));
            state.reset();
        }
    }
}
