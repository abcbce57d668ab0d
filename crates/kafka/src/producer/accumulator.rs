//! The producer's shared state: per-partition batches being filled and waiting to be sent,
//! sequence numbers, and which batches are in flight. Everything here runs under one lock
//! and never waits; the sender and `send` do the waiting.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use super::ProducerRecord;
use super::batch::{BatchBuilder, Stamp, restamp};
use super::config::{Compression, CompressionLevels, ProducerConfig};
use super::delivery::{BatchResult, DeliveryFuture};
use super::partitioner::{Sticky, partition_for_key};
use super::split;
use crate::cluster::{ExponentialBackoff, Metadata, TopicMetadata};
use crate::error::{Error, KafkaCode, Result};

/// Everything the producer tracks between `send` and the broker's answer.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) topics: HashMap<StrBytes, TopicState>,
    next_batch_id: u64,
    /// Ids of batches not completed yet, for `flush`, with how many batches hold each: the
    /// pieces of a split batch keep its id, so that a flush waits for all of them.
    pub(crate) incomplete: BTreeMap<u64, usize>,
    /// Batches with a smaller id are sent without lingering (a flush is waiting for them).
    pub(crate) flush_below: u64,
    pub(crate) closing: bool,
    /// Produce requests awaiting an answer, per broker id.
    requests_in_flight: HashMap<i32, usize>,
    /// Producer id and epoch of the idempotent producer, once known.
    pub(crate) producer: Option<(i64, i16)>,
    /// A sequenced batch failed for good: sequences must restart under a new producer id.
    reset_producer: bool,
    /// An error that fails every batch (InitProducerId was refused).
    pub(crate) fatal: Option<Error>,
    /// Some batch failed with an error that calls for fresh metadata.
    pub(crate) metadata_wanted: bool,
    pub(crate) metadata_running: bool,
    pub(crate) init_running: bool,
    metadata_seen: Option<Instant>,
    /// Where the next drain starts visiting partitions.
    drain_start: usize,
}

#[derive(Debug)]
pub(crate) struct TopicState {
    id: Uuid,
    partitions: Vec<PartitionState>,
    /// Partitions with a leader, for the sticky partitioner.
    available: Vec<i32>,
    sticky: Sticky,
}

#[derive(Debug, Default)]
struct PartitionState {
    open: Option<Open>,
    /// Closed batches, oldest first; retried batches go back to the front in sequence order.
    queue: VecDeque<Batch>,
    in_flight: usize,
    /// Sequence of the next batch sent for the first time.
    next_sequence: i32,
    /// Sequence the broker expects next: everything before it was acknowledged.
    acked_sequence: i32,
    retry_at: Option<Instant>,
}

impl PartitionState {
    /// Where a batch that was sent goes back into the queue: in sequence order among the
    /// sequenced batches (ahead of those never sent), or at the front when not sequenced.
    fn requeue_position(&self, sequence: Option<i32>) -> usize {
        match sequence {
            Some(s) => self
                .queue
                .iter()
                .position(|b| b.sequence.is_none_or(|q| q > s))
                .unwrap_or(self.queue.len()),
            None => 0,
        }
    }
}

#[derive(Debug)]
struct Open {
    id: u64,
    builder: BatchBuilder,
    result: Arc<BatchResult>,
    created: Instant,
    reserved: usize,
}

impl Open {
    fn close(self) -> Batch {
        Batch {
            id: self.id,
            count: self.builder.count(),
            size: self.builder.size(),
            payload: Payload::Building(Some(self.builder)),
            result: self.result,
            created: self.created,
            reserved: self.reserved,
            attempts: 0,
            sequence: None,
        }
    }
}

/// A closed batch, waiting to be sent or in flight.
#[derive(Debug)]
pub(crate) struct Batch {
    id: u64,
    payload: Payload,
    result: Arc<BatchResult>,
    created: Instant,
    /// Bytes of `buffer.memory` held until the batch completes.
    reserved: usize,
    count: i32,
    /// Uncompressed size, an upper bound of the encoded size.
    size: usize,
    attempts: u32,
    sequence: Option<i32>,
}

#[derive(Debug)]
enum Payload {
    Building(Option<BatchBuilder>),
    Encoded(Bytes, Stamp),
}

impl Batch {
    /// The batch's bytes with `stamp` in its header; encoded (and compressed) the first time.
    pub(crate) fn wire(
        &mut self,
        compression: Compression,
        levels: &CompressionLevels,
        stamp: Stamp,
    ) -> Result<Bytes> {
        let bytes = match &mut self.payload {
            Payload::Encoded(bytes, current) if *current == stamp => return Ok(bytes.clone()),
            Payload::Encoded(bytes, _) => restamp(bytes, stamp),
            Payload::Building(builder) => builder
                .take()
                .ok_or_else(|| Error::InvalidRequest("batch encoded twice".into()))?
                .encode(compression, levels, stamp)?,
        };
        self.payload = Payload::Encoded(bytes.clone(), stamp);
        Ok(bytes)
    }

    /// The batch cut into smaller batches (see [`split::split`]) that take its place after
    /// the broker refused it as too large; its records' futures are pointed at the pieces.
    ///
    /// The pieces keep its id, creation time and attempts, and share its `buffer.memory`
    /// reservation in proportion to their sizes. When sequenced, they take its sequence and
    /// the ones after, which the broker has not seen since it never accepted this batch: every
    /// later batch keeps its sequence.
    fn split(&self, batch_size: usize) -> Result<Vec<Batch>> {
        let Payload::Encoded(bytes, _) = &self.payload else {
            return Err(Error::InvalidRequest("splitting a batch never sent".into()));
        };
        let pieces = split::split(bytes, batch_size)?;
        let total: usize = pieces.iter().map(|p| p.builder.size()).sum();
        let mut unassigned = self.reserved;
        let mut sequence = self.sequence;
        let mut results = Vec::with_capacity(pieces.len());
        let mut batches = Vec::with_capacity(pieces.len());
        let last = pieces.len() - 1;
        for (i, piece) in pieces.into_iter().enumerate() {
            let size = piece.builder.size();
            let reserved = if i == last {
                unassigned
            } else {
                let share = self.reserved as u128 * size as u128 / total.max(1) as u128;
                usize::try_from(share).unwrap_or(usize::MAX).min(unassigned)
            };
            unassigned -= reserved;
            let count = piece.builder.count();
            let result = BatchResult::new(self.result.topic().clone(), self.result.partition());
            results.push((piece.first_offset_delta, result.clone()));
            batches.push(Batch {
                id: self.id,
                payload: Payload::Building(Some(piece.builder)),
                result,
                created: self.created,
                reserved,
                count,
                size,
                attempts: self.attempts,
                sequence,
            });
            sequence = sequence.map(|s| increment_sequence(s, count));
        }
        self.result.split(results);
        Ok(batches)
    }

    pub(crate) fn fail(self, error: Error) -> (u64, usize) {
        self.result.complete(Err(error));
        (self.id, self.reserved)
    }
}

/// A batch taken out of the queues to be sent.
#[derive(Debug)]
pub(crate) struct Sent {
    pub(crate) topic: StrBytes,
    pub(crate) topic_id: Uuid,
    pub(crate) partition: i32,
    pub(crate) stamp: Stamp,
    pub(crate) batch: Batch,
}

/// What the sender should do after a drain.
#[derive(Debug, Default)]
pub(crate) struct Drained {
    /// Batches per broker id, each list becoming one Produce request.
    pub(crate) requests: Vec<(i32, Vec<Sent>)>,
    /// When to drain again if nothing wakes the sender earlier.
    pub(crate) next_check: Option<Instant>,
    pub(crate) need_metadata: bool,
    pub(crate) need_producer_id: bool,
    /// Bytes of `buffer.memory` freed by batches that expired or failed.
    pub(crate) released: usize,
    /// Closing, and nothing left to do.
    pub(crate) finished: bool,
}

/// What happened to the batches of an answered request.
#[derive(Debug, Default)]
pub(crate) struct Completed {
    pub(crate) released: usize,
}

/// Java's `DefaultRecordBatch.incrementSequence`: sequences wrap from `i32::MAX` to 0.
fn increment_sequence(sequence: i32, by: i32) -> i32 {
    if sequence > i32::MAX - by {
        by - (i32::MAX - sequence) - 1
    } else {
        sequence + by
    }
}

impl State {
    pub(crate) fn has_topic(&self, topic: &StrBytes, partition: Option<i32>) -> bool {
        self.topics.get(topic).is_some_and(|t| {
            partition.is_none_or(|p| usize::try_from(p).is_ok_and(|p| p < t.partitions.len()))
        })
    }

    /// Adds or updates a topic from metadata (partitions are only ever added).
    pub(crate) fn update_topic(&mut self, name: &StrBytes, meta: &TopicMetadata) {
        let topic = self
            .topics
            .entry(name.clone())
            .or_insert_with(|| TopicState {
                id: Uuid::from_bytes(meta.id),
                partitions: Vec::new(),
                available: Vec::new(),
                sticky: Sticky::default(),
            });
        topic.id = Uuid::from_bytes(meta.id);
        let count = meta.partitions.len();
        if topic.partitions.len() < count {
            topic.partitions.resize_with(count, PartitionState::default);
        }
        topic.available = meta
            .partitions
            .iter()
            .filter(|p| p.leader >= 0)
            .map(|p| p.partition)
            .collect();
    }

    /// Appends a record to its partition's open batch. Returns its future and whether the
    /// sender should look at the queues (a batch was opened or became full).
    pub(crate) fn append(
        &mut self,
        config: &ProducerConfig,
        record: &ProducerRecord,
        timestamp: i64,
        reserved: usize,
    ) -> Result<(DeliveryFuture, bool)> {
        if let Some(error) = &self.fatal {
            return Err(error.clone());
        }
        let topic = self
            .topics
            .get_mut(&record.topic)
            .ok_or_else(|| Error::InvalidRequest(format!("unknown topic {}", record.topic)))?;
        let count = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
        let (partition, sticky) = match (record.partition, &record.key) {
            (Some(p), _) if (0..count).contains(&p) => (p, false),
            (Some(p), _) => {
                return Err(Error::InvalidRequest(format!(
                    "partition {p} of topic {} does not exist (it has {count})",
                    record.topic
                )));
            }
            (None, Some(key)) if !config.partitioner_ignore_keys => {
                (partition_for_key(key, count), false)
            }
            (None, _) => (
                topic
                    .sticky
                    .partition(&topic.available, count, config.batch_size),
                true,
            ),
        };
        let ps = &mut topic.partitions[partition as usize];
        let mut wake = false;
        if let Some(open) = &ps.open {
            let full =
                open.builder.count() > 0 && open.builder.size() + reserved > config.batch_size;
            if full {
                let open = ps.open.take().expect("checked above");
                ps.queue.push_back(open.close());
                wake = true;
            }
        }
        let open = match &mut ps.open {
            Some(open) => open,
            None => {
                let id = self.next_batch_id;
                self.next_batch_id += 1;
                self.incomplete.insert(id, 1);
                wake = true;
                ps.open.insert(Open {
                    id,
                    builder: BatchBuilder::new(config.batch_size.max(reserved + 64)),
                    result: BatchResult::new(record.topic.clone(), partition),
                    created: Instant::now(),
                    reserved: 0,
                })
            }
        };
        let offset_delta = open.builder.append(
            timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        );
        open.reserved += reserved;
        let future = DeliveryFuture::new(open.result.clone(), offset_delta, timestamp);
        if open.builder.size() >= config.batch_size {
            let open = ps.open.take().expect("just appended to");
            ps.queue.push_back(open.close());
            wake = true;
        }
        if sticky {
            topic.sticky.record(partition, reserved);
        }
        Ok((future, wake))
    }

    /// Makes every batch that exists now sendable at once; returns the id below which all
    /// batches must complete for a flush to be done.
    pub(crate) fn flush_all(&mut self) -> u64 {
        self.flush_below = self.next_batch_id;
        self.next_batch_id
    }

    /// Closes batches that lingered long enough, expires old ones, and takes the batches to
    /// send now, grouped per leader.
    pub(crate) fn drain(
        &mut self,
        config: &ProducerConfig,
        metadata: &Metadata,
        now: Instant,
        idempotent: bool,
    ) -> Drained {
        let mut out = Drained::default();
        if self.metadata_seen != Some(metadata.fetched_at) {
            self.metadata_seen = Some(metadata.fetched_at);
            let names: Vec<StrBytes> = self.topics.keys().cloned().collect();
            for name in names {
                if let Some(meta) = metadata.topics.get(name.as_str()) {
                    self.update_topic(&name, meta);
                }
            }
        }
        self.close_and_expire(config, now, &mut out);
        if let Some(error) = self.fatal.clone() {
            self.fail_queued(&error, &mut out);
        }
        if idempotent && !self.ready_to_sequence() {
            out.need_producer_id = self.producer.is_none() && !self.reset_producer;
        } else {
            self.take_sendable(config, metadata, now, idempotent, &mut out);
        }
        out.need_metadata |= self.metadata_wanted;
        out.finished = self.closing
            && self.incomplete.is_empty()
            && self.requests_in_flight.values().all(|n| *n == 0);
        out
    }

    fn close_and_expire(&mut self, config: &ProducerConfig, now: Instant, out: &mut Drained) {
        let mut expired = Vec::new();
        for ps in self
            .topics
            .values_mut()
            .flat_map(|t| t.partitions.iter_mut())
        {
            if let Some(open) = &ps.open {
                let due = open.created + config.linger;
                if due <= now || open.id < self.flush_below || self.closing {
                    let open = ps.open.take().expect("checked above");
                    ps.queue.push_back(open.close());
                } else {
                    out.next_check = Some(out.next_check.map_or(due, |t| t.min(due)));
                }
            }
            // Queues are in creation order (retries go back in front of younger batches), so
            // only the front can have expired.
            while ps
                .queue
                .front()
                .is_some_and(|b| b.created + config.delivery_timeout <= now)
            {
                expired.extend(ps.queue.pop_front());
            }
        }
        for batch in expired {
            if batch.sequence.is_some() {
                self.reset_producer = true;
            }
            let error = Error::Timeout {
                what: format!(
                    "delivery of {} record(s) to {}-{}",
                    batch.count,
                    batch.result.topic(),
                    batch.result.partition()
                ),
                after: config.delivery_timeout,
            };
            self.finish(batch, Err(error), out);
        }
    }

    fn fail_queued(&mut self, error: &Error, out: &mut Drained) {
        let mut failed = Vec::new();
        for ps in self
            .topics
            .values_mut()
            .flat_map(|t| t.partitions.iter_mut())
        {
            failed.extend(ps.open.take().map(Open::close));
            failed.extend(ps.queue.drain(..));
        }
        for batch in failed {
            self.finish(batch, Err(error.clone()), out);
        }
    }

    /// Whether batches can get sequence numbers now; performs a pending producer id reset
    /// once nothing is in flight any more.
    fn ready_to_sequence(&mut self) -> bool {
        if self.reset_producer {
            if self.requests_in_flight.values().any(|n| *n > 0) {
                return false;
            }
            self.reset_producer = false;
            self.producer = None;
            for ps in self
                .topics
                .values_mut()
                .flat_map(|t| t.partitions.iter_mut())
            {
                ps.next_sequence = 0;
                ps.acked_sequence = 0;
                for batch in &mut ps.queue {
                    batch.sequence = None;
                }
            }
        }
        self.producer.is_some()
    }

    fn take_sendable(
        &mut self,
        config: &ProducerConfig,
        metadata: &Metadata,
        now: Instant,
        idempotent: bool,
        out: &mut Drained,
    ) {
        let mut requests: HashMap<i32, (usize, Vec<Sent>)> = HashMap::new();
        // Partitions are visited from the first one left out of a full request last time, so
        // that a request limited by max.request.size does not always serve the same ones.
        let total: usize = self.topics.values().map(|t| t.partitions.len()).sum();
        let start = self.drain_start.min(total);
        let mut left_out = None;
        for from_start in [true, false] {
            let mut index = 0;
            for (name, topic) in &mut self.topics {
                for (p, ps) in topic.partitions.iter_mut().enumerate() {
                    index += 1;
                    if (index > start) != from_start {
                        continue;
                    }
                    let Some(head) = ps.queue.front() else {
                        continue;
                    };
                    if let Some(at) = ps.retry_at.filter(|at| *at > now) {
                        out.next_check = Some(out.next_check.map_or(at, |t| t.min(at)));
                        continue;
                    }
                    // A retried batch goes out alone, after every earlier one has been answered,
                    // so that the broker sees sequences in order.
                    if (head.sequence.is_some() && ps.in_flight > 0)
                        || ps.in_flight >= config.max_in_flight
                    {
                        continue;
                    }
                    let partition = p as i32;
                    let leader = metadata
                        .partition(name.as_str(), partition)
                        .map_or(-1, |m| m.leader);
                    if leader < 0 {
                        out.need_metadata = true;
                        continue;
                    }
                    let busy = self.requests_in_flight.get(&leader).copied().unwrap_or(0);
                    let (size, batches) = match requests.get_mut(&leader) {
                        Some(entry) => entry,
                        None if busy >= config.max_in_flight => continue,
                        None => requests.entry(leader).or_default(),
                    };
                    if !batches.is_empty() && *size + head.size > config.max_request_size {
                        left_out.get_or_insert(index - 1);
                        continue;
                    }
                    let mut batch = ps.queue.pop_front().expect("checked above");
                    ps.retry_at = None;
                    let stamp = match (idempotent, self.producer) {
                        (true, Some((producer_id, producer_epoch))) => {
                            let base_sequence = *batch.sequence.get_or_insert_with(|| {
                                let s = ps.next_sequence;
                                ps.next_sequence = increment_sequence(s, batch.count);
                                s
                            });
                            Stamp {
                                producer_id,
                                producer_epoch,
                                base_sequence,
                            }
                        }
                        _ => Stamp::NONE,
                    };
                    ps.in_flight += 1;
                    *size += batch.size;
                    batches.push(Sent {
                        topic: name.clone(),
                        topic_id: topic.id,
                        partition,
                        stamp,
                        batch,
                    });
                }
            }
        }
        self.drain_start = left_out.unwrap_or(0);
        for (broker, (_, batches)) in requests {
            *self.requests_in_flight.entry(broker).or_default() += 1;
            out.requests.push((broker, batches));
        }
    }

    /// Records the outcome of one batch of an answered (or failed) request: completes it, or
    /// puts it back for a retry when the error allows and time remains.
    pub(crate) fn complete(
        &mut self,
        config: &ProducerConfig,
        backoff: &ExponentialBackoff,
        sent: Sent,
        outcome: Result<(i64, i64)>,
        out: &mut Completed,
    ) {
        let Sent {
            topic,
            partition,
            mut batch,
            ..
        } = sent;
        let Some(ps) = self
            .topics
            .get_mut(&topic)
            .and_then(|t| t.partitions.get_mut(partition as usize))
        else {
            let (id, reserved) = batch.fail(Error::InvalidRequest("topic vanished".into()));
            self.done(id);
            out.released += reserved;
            return;
        };
        ps.in_flight = ps.in_flight.saturating_sub(1);
        let outcome = match outcome {
            Err(e) if e.kafka_code() == Some(KafkaCode::DuplicateSequenceNumber) => Ok((-1, -1)),
            other => other,
        };
        let error = match outcome {
            Ok(offsets) => {
                if let Some(sequence) = batch.sequence {
                    ps.acked_sequence = increment_sequence(sequence, batch.count);
                }
                batch.result.complete(Ok(offsets));
                self.done(batch.id);
                out.released += batch.reserved;
                return;
            }
            Err(error) => error,
        };
        // Java splits a refused batch of several records and sends the pieces as if never
        // tried: no backoff, no attempt counted, no producer id reset. Splitting decompresses
        // under the lock, which is fine for something this rare.
        if error.kafka_code() == Some(KafkaCode::MessageTooLarge) && batch.count > 1 {
            match batch.split(config.batch_size) {
                Ok(pieces) => {
                    tracing::warn!(
                        %topic, partition, records = batch.count, pieces = pieces.len(),
                        "batch too large for the broker (MESSAGE_TOO_LARGE), splitting it"
                    );
                    *self.incomplete.entry(batch.id).or_default() += pieces.len() - 1;
                    // In front of the younger batches, as retries go, so that the pieces (and
                    // any later batch retried after OUT_OF_ORDER_SEQUENCE_NUMBER, which the
                    // refused batch's sequence causes) keep the record order.
                    let at = ps.requeue_position(batch.sequence);
                    for (i, piece) in pieces.into_iter().enumerate() {
                        ps.queue.insert(at + i, piece);
                    }
                    return;
                }
                Err(split_error) => {
                    tracing::warn!(%topic, partition, %split_error, "cannot split a batch");
                }
            }
        }
        // Out of order behind an unanswered earlier batch: that one is being retried.
        let waits_for_earlier = error.kafka_code() == Some(KafkaCode::OutOfOrderSequenceNumber)
            && batch.sequence.is_some_and(|s| s != ps.acked_sequence);
        let now = Instant::now();
        if (error.is_retriable() || waits_for_earlier)
            && batch.attempts < config.retries
            && now < batch.created + config.delivery_timeout
        {
            tracing::debug!(%topic, partition, %error, attempt = batch.attempts, "retrying batch");
            ps.retry_at = Some(now + backoff.backoff(batch.attempts));
            batch.attempts += 1;
            if error.invalidates_metadata() {
                self.metadata_wanted = true;
            }
            let at = ps.requeue_position(batch.sequence);
            ps.queue.insert(at, batch);
            return;
        }
        if batch.sequence.is_some() {
            self.reset_producer = true;
        }
        let (id, reserved) = batch.fail(error);
        self.done(id);
        out.released += reserved;
    }

    /// One request to `broker` is answered.
    pub(crate) fn request_done(&mut self, broker: i32) {
        if let Some(n) = self.requests_in_flight.get_mut(&broker) {
            *n = n.saturating_sub(1);
        }
    }

    fn finish(&mut self, batch: Batch, outcome: Result<(i64, i64)>, out: &mut Drained) {
        batch.result.complete(outcome);
        self.done(batch.id);
        out.released += batch.reserved;
    }

    /// One batch with this id completed.
    fn done(&mut self, id: u64) {
        if let Some(left) = self.incomplete.get_mut(&id) {
            *left -= 1;
            if *left == 0 {
                self.incomplete.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests;
