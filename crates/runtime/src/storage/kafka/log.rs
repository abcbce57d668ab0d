//! [`KafkaBasedLog`]: one topic used as a replicated log, as Java's `KafkaBasedLog` uses it.
//! Every partition is read from its beginning at start, then followed; each record is handed to
//! the owner's callback in order; writes go through a producer; [`KafkaBasedLog::read_to_end`]
//! waits until everything written before it has been read.
//!
//! The end of each partition is its high watermark, which Java asks for with ListOffsets
//! (latest); this log reads it from a Fetch answer instead, as some brokers (the test broker)
//! undercount ListOffsets.

use std::time::Duration;

use bytes::Bytes;
use ferry_kafka::Cluster;
use ferry_kafka::consumer::{
    Consumer, ConsumerConfig, ConsumerRecord, OffsetReset, TopicPartition,
};
use ferry_kafka::producer::{DeliveryFuture, Producer, ProducerRecord};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Result, StoreError};

/// How long Java's log waits for a new topic's partitions to appear in metadata.
const PARTITIONS_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one poll of the follow loop waits before looking at requests again.
const POLL_WAIT: Duration = Duration::from_secs(1);

/// What a log's owner does with each record read, in offset order per partition.
pub type RecordCallback = Box<dyn FnMut(&ConsumerRecord) + Send>;

/// The clients of a log: the producer's and consumer's settings (the worker's properties with
/// the store's overrides).
#[derive(Debug, Clone, Default)]
pub struct LogClients {
    /// Producer settings, `(key, value)` pairs for [`Producer::new`].
    pub producer: Vec<(String, String)>,
    /// Consumer settings; `auto.offset.reset` is always `earliest`.
    pub consumer: ConsumerConfig,
}

/// A topic read from its beginning and followed in the background, with writes.
///
/// ```no_run
/// # async fn demo(cluster: ferry_kafka::Cluster) -> ferry_runtime::storage::kafka::Result<()> {
/// use bytes::Bytes;
/// use ferry_runtime::storage::kafka::log::{KafkaBasedLog, LogClients};
/// let log = KafkaBasedLog::start(&cluster, "connect-configs", LogClients::default(), Box::new(|record| {
///     println!("{:?} at {}", record.key, record.offset);
/// }))
/// .await?;
/// let written = log.send(Some(Bytes::from_static(b"k")), Some(Bytes::from_static(b"v"))).await?;
/// written.await?;
/// log.read_to_end().await?; // the callback has now seen the record
/// log.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct KafkaBasedLog {
    topic: String,
    producer: Producer,
    partitions: usize,
    requests: mpsc::UnboundedSender<oneshot::Sender<Result<()>>>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl KafkaBasedLog {
    /// Finds the topic's partitions (waiting up to 30 s for a new topic to appear), reads them
    /// all from the beginning to their ends through `callback`, then follows them in the
    /// background. The topic must exist (see [`InternalTopic::ensure`](super::InternalTopic::ensure)).
    pub async fn start(
        cluster: &Cluster,
        topic: &str,
        clients: LogClients,
        mut callback: RecordCallback,
    ) -> Result<Self> {
        let producer = Producer::new(cluster.clone(), clients.producer)?;
        let mut consumer_config = clients.consumer;
        consumer_config.auto_offset_reset = OffsetReset::Earliest;
        let consumer = Consumer::new(cluster.clone(), consumer_config);
        let partitions = partitions_of(cluster, topic).await?;
        consumer.assign(partitions.iter().cloned());
        // Committed offsets never apply: the whole topic is the state.
        consumer.seek_to_beginning(&partitions)?;
        read_to_end(&consumer, &partitions, &mut callback).await?;
        let (requests, receiver) = mpsc::unbounded_channel();
        let follower = Follower {
            consumer,
            partitions: partitions.clone(),
            callback,
            backoff: cluster.config().retry_backoff,
        };
        let task = tokio::spawn(follower.run(receiver));
        Ok(Self {
            topic: topic.to_owned(),
            producer,
            partitions: partitions.len(),
            requests,
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// How many partitions the topic had at start.
    pub fn partition_count(&self) -> usize {
        self.partitions
    }

    /// Sends a record (a `None` value is a tombstone); the producer picks the partition from
    /// the key as Java's does. Waits only for metadata and buffer space; the returned future
    /// resolves when the broker has acknowledged the record.
    pub async fn send(&self, key: Option<Bytes>, value: Option<Bytes>) -> Result<DeliveryFuture> {
        let record = ProducerRecord {
            topic: self.topic.clone().into(),
            key,
            value,
            ..ProducerRecord::default()
        };
        Ok(self.producer.send(record).await?)
    }

    /// Sends every record now and waits for the outcomes of those sent before the call.
    pub async fn flush(&self) {
        self.producer.flush().await;
    }

    /// Flushes the producer, then waits until the callback has seen every record that was in
    /// the topic when the ends were looked up: everything this log wrote before the call, and
    /// what other writers had written by then.
    pub async fn read_to_end(&self) -> Result<()> {
        self.flush().await;
        let (done, wait) = oneshot::channel();
        self.requests.send(done).map_err(|_| StoreError::Stopped)?;
        wait.await.map_err(|_| StoreError::Stopped)?
    }

    /// Delivers what was sent, stops following the topic and waits for the follower to stop.
    /// Waiting `read_to_end` calls fail with [`StoreError::Stopped`].
    pub async fn stop(&self) {
        self.producer.close().await;
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            // The callback is synchronous, so aborting never interrupts a record half-applied.
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for KafkaBasedLog {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }
}

/// The background half: follows the topic and answers read-to-end requests.
struct Follower {
    consumer: Consumer,
    partitions: Vec<TopicPartition>,
    callback: RecordCallback,
    backoff: Duration,
}

impl Follower {
    async fn run(mut self, mut requests: mpsc::UnboundedReceiver<oneshot::Sender<Result<()>>>) {
        loop {
            tokio::select! {
                biased;
                request = requests.recv() => {
                    let Some(first) = request else { return };
                    // Requests that arrived meanwhile are answered by the same read: their
                    // writes were flushed before they were queued.
                    let mut waiting = vec![first];
                    while let Ok(more) = requests.try_recv() {
                        waiting.push(more);
                    }
                    let outcome = self.read_to_end_retrying().await;
                    for done in waiting {
                        let _ = done.send(outcome.clone());
                    }
                }
                // `poll` hands records out without awaiting, so dropping it loses none.
                polled = self.consumer.poll(POLL_WAIT) => match polled {
                    Ok(records) => records.iter().for_each(|r| (self.callback)(r)),
                    Err(error) => {
                        tracing::warn!(%error, "reading an internal topic failed");
                        tokio::time::sleep(self.backoff).await;
                    }
                },
            }
        }
    }

    /// Retries retriable failures, as Java's log does until its callers give up.
    async fn read_to_end_retrying(&mut self) -> Result<()> {
        loop {
            match read_to_end(&self.consumer, &self.partitions, &mut self.callback).await {
                Err(StoreError::Kafka(e)) if e.is_retriable() => {
                    tracing::warn!(error = %e, "reading an internal topic to its end failed, retrying");
                    tokio::time::sleep(self.backoff).await;
                }
                outcome => return outcome,
            }
        }
    }
}

async fn read_to_end(
    consumer: &Consumer,
    partitions: &[TopicPartition],
    callback: &mut RecordCallback,
) -> Result<()> {
    let ends = consumer.end_offsets_from_fetch(partitions).await?;
    for tp in partitions {
        let end = ends.get(tp).copied().unwrap_or(0);
        while consumer.position(tp).await? < end {
            for record in consumer.poll(POLL_WAIT).await? {
                callback(&record);
            }
        }
    }
    Ok(())
}

async fn partitions_of(cluster: &Cluster, topic: &str) -> Result<Vec<TopicPartition>> {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        let metadata = cluster.metadata_for(&[topic], false).await?;
        let found = metadata.topics.get(topic).filter(|t| t.error.is_none());
        if let Some(meta) = found.filter(|t| !t.partitions.is_empty()) {
            return Ok(meta
                .partitions
                .iter()
                .map(|p| TopicPartition::new(topic, p.partition))
                .collect());
        }
        if started.elapsed() >= PARTITIONS_TIMEOUT {
            return Err(StoreError::Timeout {
                what: format!("looking up the partitions of topic '{topic}'"),
                after: PARTITIONS_TIMEOUT,
            });
        }
        cluster.request_update();
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}
