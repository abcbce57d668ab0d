//! A Java-compatible Kafka producer: per-partition batches filled up to `batch.size` or
//! `linger.ms`, one Produce request per broker carrying the ready batches of all the
//! partitions it leads, `buffer.memory` back-pressure, compression, Java's default
//! partitioner, and the idempotent protocol (producer id, epoch, sequence numbers, up to five
//! batches in flight per partition, ordered retries).
//!
//! ```no_run
//! # async fn demo() -> ferry_kafka::Result<()> {
//! use bytes::Bytes;
//! use ferry_kafka::producer::{Producer, ProducerRecord};
//! use ferry_kafka::{ClientConfig, Cluster};
//!
//! let pairs = [("bootstrap.servers", "localhost:9092"), ("linger.ms", "10")];
//! let cluster = Cluster::new(ClientConfig::from_pairs(pairs)?);
//! let producer = Producer::new(cluster, pairs)?;
//! let delivery = producer
//!     .send(ProducerRecord::new("orders", Bytes::from_static(b"hello")).with_key(Bytes::from_static(b"k")))
//!     .await?; // waits only for metadata and buffer space
//! let written = delivery.await?; // waits for the broker
//! println!("{}-{}@{}", written.topic, written.partition, written.offset);
//! producer.close().await;
//! # Ok(()) }
//! ```

mod accumulator;
mod batch;
mod compress;
mod config;
mod delivery;
pub mod partitioner;
mod sender;
mod split;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kafka_protocol::protocol::StrBytes;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

pub use config::{
    Acks, Compression, CompressionLevels, MAX_IN_FLIGHT_FOR_IDEMPOTENCE, ProducerConfig,
};
pub use delivery::{DeliveryFuture, RecordMetadata};

use crate::cluster::Cluster;
use crate::error::{Error, KafkaCode, Result};
use accumulator::State;

/// One record to send.
///
/// ```
/// use bytes::Bytes;
/// use ferry_kafka::producer::ProducerRecord;
/// let record = ProducerRecord::new("t", Bytes::from_static(b"v"))
///     .with_key(Bytes::from_static(b"k"))
///     .with_header("trace", Some(Bytes::from_static(b"1")))
///     .with_partition(2)
///     .with_timestamp(1_700_000_000_000);
/// assert_eq!(record.partition, Some(2));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerRecord {
    /// The topic.
    pub topic: StrBytes,
    /// The partition; `None` lets the partitioner choose (by key, or sticky without one).
    pub partition: Option<i32>,
    /// The key; `None` is a null key.
    pub key: Option<Bytes>,
    /// The value; `None` is a null value (a tombstone).
    pub value: Option<Bytes>,
    /// Headers, in order; names may repeat.
    pub headers: Vec<(StrBytes, Option<Bytes>)>,
    /// Create time in milliseconds since the epoch; `None` takes the current time.
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A record with a value and nothing else set.
    pub fn new(topic: impl Into<StrBytes>, value: Bytes) -> Self {
        Self {
            topic: topic.into(),
            value: Some(value),
            ..Self::default()
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: Bytes) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets the partition.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<StrBytes>, value: Option<Bytes>) -> Self {
        self.headers.push((name.into(), value));
        self
    }

    /// Sets the create time.
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// A producer on a [`Cluster`]. Cheap to clone; clones share batches and the sender. The
/// sender stops once the last clone is dropped and what was sent is delivered; call
/// [`Producer::close`] to wait for that.
#[derive(Debug, Clone)]
pub struct Producer {
    shared: Arc<Shared>,
    _closer: Arc<Closer>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    cluster: Cluster,
    config: ProducerConfig,
    idempotent: bool,
    state: Mutex<State>,
    /// `buffer.memory`, one permit per byte of records not yet acknowledged.
    memory: Semaphore,
    /// Wakes the sender: a batch was opened or filled, an answer arrived, a flush started.
    wake: Notify,
    /// Signalled whenever batches complete, for `flush`.
    completed: Notify,
    sender: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn release(&self, bytes: usize) {
        if bytes > 0 {
            self.memory.add_permits(bytes);
            self.completed.notify_waiters();
        }
    }
}

/// Lets the sender finish and stop when the last producer handle goes away.
#[derive(Debug)]
struct Closer(Arc<Shared>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.state().closing = true;
        self.0.wake.notify_one();
    }
}

impl Producer {
    /// A producer sending through `cluster`, configured from the same `(key, value)` pairs as
    /// the cluster's [`ClientConfig`](crate::ClientConfig) (see [`ProducerConfig::from_pairs`]).
    /// Must be called inside a Tokio runtime: it starts the sender task.
    pub fn new<K, V>(cluster: Cluster, pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let pairs: Vec<(K, V)> = pairs.into_iter().collect();
        let explicit_delivery_timeout = pairs
            .iter()
            .any(|(k, _)| k.as_ref() == "delivery.timeout.ms");
        let mut config = ProducerConfig::from_pairs(pairs)?;
        // Java's rule: a batch must be allowed to linger and then wait for one request.
        let minimum = config.linger + cluster.config().request_timeout;
        if config.delivery_timeout < minimum {
            if explicit_delivery_timeout {
                return Err(Error::Config {
                    key: "delivery.timeout.ms".into(),
                    reason: format!(
                        "must be at least linger.ms + request.timeout.ms ({} ms)",
                        minimum.as_millis()
                    ),
                });
            }
            config.delivery_timeout = minimum;
        }
        Ok(Self::with_config(cluster, config))
    }

    /// A producer with an already parsed configuration.
    pub fn with_config(cluster: Cluster, config: ProducerConfig) -> Self {
        let shared = Arc::new(Shared {
            cluster,
            idempotent: config.enable_idempotence,
            memory: Semaphore::new(config.buffer_memory.min(Semaphore::MAX_PERMITS)),
            config,
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            completed: Notify::new(),
            sender: Mutex::new(None),
        });
        let task = tokio::spawn(sender::run(shared.clone()));
        *shared.sender.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Self {
            _closer: Arc::new(Closer(shared.clone())),
            shared,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ProducerConfig {
        &self.shared.config
    }

    /// Adds `record` to its partition's batch. Waits (up to `max.block.ms`) only for the
    /// topic's metadata and for `buffer.memory` to have room; the returned future resolves
    /// once the broker has answered for the record's batch.
    ///
    /// Errors here: the record is larger than `max.request.size` or `buffer.memory`
    /// ([`KafkaCode::MessageTooLarge`]), the topic or partition did not appear within
    /// `max.block.ms`, no memory became free in time ([`Error::Timeout`]), a negative
    /// partition or timestamp, or the producer is closed ([`Error::InvalidRequest`]).
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture> {
        let config = &self.shared.config;
        if let Some(p) = record.partition.filter(|p| *p < 0) {
            return Err(Error::InvalidRequest(format!("invalid partition {p}")));
        }
        if let Some(t) = record.timestamp.filter(|t| *t < 0) {
            return Err(Error::InvalidRequest(format!("invalid timestamp {t}")));
        }
        let size = batch::record_size_bound(
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        );
        let limit = config.max_request_size.min(config.buffer_memory);
        if size + batch::HEADER_SIZE > limit {
            return Err(Error::Kafka {
                code: KafkaCode::MessageTooLarge,
                message: Some(format!(
                    "the record is {size} bytes serialized, larger than max.request.size or buffer.memory ({limit})"
                )),
            });
        }
        let permits = u32::try_from(size).expect("records are below max.request.size");
        // The common case, with one lock: the topic is known and memory is free.
        if let Ok(permit) = self.shared.memory.try_acquire_many(permits) {
            permit.forget();
            let state = self.shared.state();
            if state.has_topic(&record.topic, record.partition) {
                return self.append(state, &record, size);
            }
            drop(state);
            self.shared.memory.add_permits(size);
        }
        // `max.block.ms` counts from here: the fast path above takes no time worth counting,
        // and reading the clock for every record is not free.
        let start = Instant::now();
        self.wait_for_topic(&record, start).await?;
        self.reserve(permits, start).await?;
        self.append(self.shared.state(), &record, size)
    }

    fn append(
        &self,
        mut state: MutexGuard<'_, State>,
        record: &ProducerRecord,
        size: usize,
    ) -> Result<DeliveryFuture> {
        let timestamp = record.timestamp.unwrap_or_else(now_millis);
        let appended = if state.closing {
            Err(Error::InvalidRequest("the producer is closed".into()))
        } else {
            state.append(&self.shared.config, record, timestamp, size)
        };
        drop(state);
        match appended {
            Ok((future, wake)) => {
                if wake {
                    self.shared.wake.notify_one();
                }
                Ok(future)
            }
            Err(error) => {
                self.shared.release(size);
                Err(error)
            }
        }
    }

    /// Sends every batch now, without waiting for `linger.ms`, and waits until every record
    /// sent before the call has its outcome.
    pub async fn flush(&self) {
        let target = self.shared.state().flush_all();
        self.shared.wake.notify_one();
        loop {
            let completed = self.shared.completed.notified();
            tokio::pin!(completed);
            completed.as_mut().enable();
            if self
                .shared
                .state()
                .incomplete
                .keys()
                .next()
                .is_none_or(|id| *id >= target)
            {
                return;
            }
            completed.await;
        }
    }

    /// Stops accepting records, delivers what was sent (within `delivery.timeout.ms`), and
    /// waits for the sender to stop.
    pub async fn close(&self) {
        self.shared.state().closing = true;
        self.shared.wake.notify_one();
        self.flush().await;
        let task = self
            .shared
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    async fn wait_for_topic(&self, record: &ProducerRecord, start: Instant) -> Result<()> {
        if self
            .shared
            .state()
            .has_topic(&record.topic, record.partition)
        {
            return Ok(());
        }
        let cluster = &self.shared.cluster;
        let max_block = self.shared.config.max_block;
        loop {
            let remaining = remaining(start, max_block).ok_or_else(|| Error::Timeout {
                what: match record.partition {
                    Some(p) => format!("partition {p} of topic {} in metadata", record.topic),
                    None => format!("topic {} in metadata", record.topic),
                },
                after: max_block,
            })?;
            let topics = [record.topic.as_str()];
            let lookup = cluster.metadata_for(&topics, true);
            let found = tokio::time::timeout(remaining, lookup).await;
            if let Ok(Ok(metadata)) = &found
                && let Some(meta) = metadata.topics.get(record.topic.as_str())
            {
                match meta.error {
                    None if !meta.partitions.is_empty() => {
                        let mut state = self.shared.state();
                        state.update_topic(&record.topic, meta);
                        if state.has_topic(&record.topic, record.partition) {
                            return Ok(());
                        }
                    }
                    Some(code) if !code.is_retriable() => {
                        return Err(Error::Kafka {
                            code,
                            message: Some(record.topic.to_string()),
                        });
                    }
                    _ => {}
                }
            }
            cluster.request_update();
            let pause = cluster.config().retry_backoff;
            tokio::time::sleep(pause.min(remaining)).await;
        }
    }

    async fn reserve(&self, permits: u32, start: Instant) -> Result<()> {
        let memory = &self.shared.memory;
        if let Ok(permit) = memory.try_acquire_many(permits) {
            permit.forget();
            return Ok(());
        }
        let max_block = self.shared.config.max_block;
        let timeout = Error::Timeout {
            what: format!("{permits} bytes of buffer.memory"),
            after: max_block,
        };
        let remaining = remaining(start, max_block).ok_or_else(|| timeout.clone())?;
        match tokio::time::timeout(remaining, memory.acquire_many(permits)).await {
            Ok(Ok(permit)) => {
                permit.forget();
                Ok(())
            }
            Ok(Err(_)) | Err(_) => Err(timeout),
        }
    }
}

fn remaining(start: Instant, limit: Duration) -> Option<Duration> {
    limit.checked_sub(start.elapsed()).filter(|d| !d.is_zero())
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
