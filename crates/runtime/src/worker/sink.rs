//! The sink task runner (Java's `WorkerSinkTask`): consumer group `connect-NAME` → converters →
//! transformations → `put`, with the consumed offsets committed after `pre_commit` every
//! `offset.flush.interval.ms`, when the task asks for it, and at stop. Rebalances are handled
//! as Java's `WorkerSinkTask` does: revoked partitions are committed and closed before the
//! group moves on, assigned ones are opened at their consumer positions.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_connect::ConnectError;
use ferry_connect::connector::{
    ConfigMap, OffsetAndMetadata, SinkTask, SinkTaskContext, TopicPartition,
};
use ferry_connect::convert::RecordHeader;
use ferry_connect::header::{Header, Headers};
use ferry_connect::record::{SinkRecord, TimestampType};
use ferry_kafka::admin::OffsetAndMetadata as KafkaOffset;
use ferry_kafka::consumer::TimestampType as KafkaTimestampType;
use ferry_kafka::group::consumer::{GroupConsumer, PollEvent};
use ferry_kafka::{Admin, ConsumerRecord};
use tokio::sync::watch;
use tokio::time::Instant;

use super::connector_config::SinkTopics;
use super::convert::TaskConverters;
use super::status::StatusBackingStore;
use super::task::{TaskSignal, report_run_state};
use crate::ConnectorTaskId;
use crate::errors::{DeadLetterQueueReporter, RetryWithToleranceOperator, Stage};
use crate::transforms::TransformationChain;

type Kafka = ferry_kafka::TopicPartition;

/// How long to wait before retrying a batch `put` failed on with a retriable error, unless the
/// task set a timeout through its context.
const RETRY_PUT_BACKOFF: Duration = Duration::from_millis(100);

fn to_connect(tp: &Kafka) -> TopicPartition {
    TopicPartition::new(tp.topic.to_string(), tp.partition)
}

fn to_kafka(tp: &TopicPartition) -> Kafka {
    Kafka::new(tp.topic.as_str(), tp.partition)
}

/// The existing topics `topics` subscribes to.
async fn matching_topics(admin: &Admin, topics: &SinkTopics) -> Result<Vec<String>, ConnectError> {
    Ok(admin
        .list_topics()
        .await
        .map_err(|e| ConnectError::Other(format!("Could not list topics: {e}")))?
        .into_iter()
        .filter(|t| topics.matches(t))
        .collect())
}

/// What the task asked of the runtime through its context, applied by the runner.
#[derive(Debug, Default)]
struct Requests {
    rewinds: HashMap<TopicPartition, i64>,
    pauses: Vec<(TopicPartition, bool)>,
    commit: bool,
}

/// A sink task's context (Java's `WorkerSinkTaskContext`).
#[derive(Debug)]
struct Context {
    config: ConfigMap,
    assignment: Mutex<HashSet<TopicPartition>>,
    /// The partitions the task paused (Java's `pausedPartitions`), kept across rebalances so
    /// that those assigned again are paused again.
    paused: Mutex<HashSet<TopicPartition>>,
    requests: Mutex<Requests>,
    timeout: Mutex<Option<Duration>>,
}

impl Context {
    fn requests(&self) -> std::sync::MutexGuard<'_, Requests> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn assignment_mut(&self) -> std::sync::MutexGuard<'_, HashSet<TopicPartition>> {
        self.assignment.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn paused_mut(&self) -> std::sync::MutexGuard<'_, HashSet<TopicPartition>> {
        self.paused.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SinkTaskContext for Context {
    fn configs(&self) -> ConfigMap {
        self.config.clone()
    }

    fn offsets(&self, offsets: HashMap<TopicPartition, i64>) {
        self.requests().rewinds.extend(offsets);
    }

    fn timeout(&self, timeout: Duration) {
        *self.timeout.lock().unwrap_or_else(|e| e.into_inner()) = Some(timeout);
    }

    fn assignment(&self) -> HashSet<TopicPartition> {
        self.assignment_mut().clone()
    }

    fn pause(&self, partitions: &[TopicPartition]) {
        self.requests()
            .pauses
            .extend(partitions.iter().map(|tp| (tp.clone(), true)));
    }

    fn resume(&self, partitions: &[TopicPartition]) {
        self.requests()
            .pauses
            .extend(partitions.iter().map(|tp| (tp.clone(), false)));
    }

    fn request_commit(&self) {
        self.requests().commit = true;
    }
}

/// Everything one sink task needs to run.
#[derive(Debug)]
pub(crate) struct SinkTaskRunner {
    pub id: ConnectorTaskId,
    pub task: Box<dyn SinkTask>,
    pub config: ConfigMap,
    pub topics: SinkTopics,
    /// The topics subscribed to (for `topics.regex`, those that matched at the last look).
    pub subscribed: Vec<String>,
    pub chain: TransformationChain<SinkRecord>,
    pub converters: TaskConverters,
    pub consumer: GroupConsumer,
    pub admin: Admin,
    pub operator: RetryWithToleranceOperator,
    pub dlq: Option<Arc<DeadLetterQueueReporter>>,
    pub status: Arc<dyn StatusBackingStore>,
    pub signal: watch::Receiver<TaskSignal>,
    pub flush_interval: Duration,
    pub worker_id: String,
}

/// The consumed position of each partition: the offset after the last record handed to `put`.
type Positions = HashMap<TopicPartition, OffsetAndMetadata>;

impl SinkTaskRunner {
    /// Runs the task until it is told to stop or fails.
    pub async fn run(mut self) -> Result<(), ConnectError> {
        let context = Arc::new(Context {
            config: self.config.clone(),
            assignment: Mutex::new(HashSet::new()),
            paused: Mutex::new(HashSet::new()),
            requests: Mutex::new(Requests::default()),
            timeout: Mutex::new(None),
        });
        self.task.initialize(context.clone());
        self.task.start(self.config.clone()).await?;
        self.subscribe().await?;
        let mut positions = Positions::new();
        let result = self.execute(&context, &mut positions).await;
        let stopped = self.stop(&context, &positions, result.is_ok()).await;
        result.and(stopped)
    }

    async fn subscribe(&mut self) -> Result<(), ConnectError> {
        let topics: Vec<String> = match &self.topics {
            SinkTopics::List(topics) => topics.clone(),
            SinkTopics::Regex(_) => matching_topics(&self.admin, &self.topics).await?,
        };
        tracing::info!(task = %self.id, ?topics, "subscribing");
        self.subscribed = topics.clone();
        self.consumer.subscribe(topics);
        Ok(())
    }

    /// Picks up topics created since the last look that match `topics.regex` (Java's consumer
    /// does this on each metadata refresh).
    async fn refresh_regex_subscription(&mut self) {
        if !matches!(self.topics, SinkTopics::Regex(_)) {
            return;
        }
        match matching_topics(&self.admin, &self.topics).await {
            Ok(topics) if topics != self.subscribed => {
                tracing::info!(task = %self.id, ?topics, "the topics matching topics.regex changed");
                self.subscribed = topics.clone();
                self.consumer.subscribe(topics);
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(task = %self.id, %error, "cannot refresh the topics.regex subscription")
            }
        }
    }

    async fn execute(
        &mut self,
        context: &Context,
        positions: &mut Positions,
    ) -> Result<(), ConnectError> {
        let mut next_commit = Instant::now() + self.flush_interval;
        let mut paused_by_worker = false;
        let mut running = None;
        loop {
            let signal = *self.signal.borrow_and_update();
            if signal == TaskSignal::Stop {
                return Ok(());
            }
            report_run_state(
                &mut running,
                signal,
                &*self.status,
                &self.id,
                &self.worker_id,
            );
            let pause = signal == TaskSignal::Pause;
            if pause != paused_by_worker {
                paused_by_worker = pause;
                let assigned = self.consumer.assignment();
                if pause {
                    self.consumer.consumer().pause(&assigned);
                } else {
                    // What the task paused stays paused when the worker resumes it.
                    let paused = context.paused_mut();
                    let resumed: Vec<Kafka> = assigned
                        .into_iter()
                        .filter(|tp| !paused.contains(&to_connect(tp)))
                        .collect();
                    self.consumer.consumer().resume(&resumed);
                }
            }
            let wait = next_commit
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(500));
            let event = self.consumer.poll_events(wait).await.map_err(|e| {
                ConnectError::Other(format!("Exception while polling the consumer: {e}"))
            })?;
            match event {
                PollEvent::Records(records) if records.is_empty() => {}
                PollEvent::Records(records) => self.deliver(context, records, positions).await?,
                PollEvent::Revoked(partitions) => {
                    self.close_partitions(context, positions, &partitions, false)
                        .await?
                }
                PollEvent::Lost(partitions) => {
                    self.close_partitions(context, positions, &partitions, true)
                        .await?
                }
                PollEvent::Assigned(partitions) => {
                    self.open_partitions(context, positions, &partitions, paused_by_worker)
                        .await?
                }
            }
            self.apply_requests(context, positions, paused_by_worker);
            let requested = std::mem::take(&mut context.requests().commit);
            if requested || Instant::now() >= next_commit {
                self.commit(positions.clone(), None).await?;
                next_commit = Instant::now() + self.flush_interval;
                self.refresh_regex_subscription().await;
            }
        }
    }

    /// Starts newly assigned partitions (Java's `onPartitionsAssigned`): their consumed
    /// positions start at the consumer's, the partitions the worker or the task paused are
    /// paused again, the task opens them and then its requested rewinds apply.
    async fn open_partitions(
        &mut self,
        context: &Context,
        positions: &mut Positions,
        partitions: &[Kafka],
        paused_by_worker: bool,
    ) -> Result<(), ConnectError> {
        for tp in partitions {
            let position = self.consumer.consumer().position(tp).await.map_err(|e| {
                ConnectError::Other(format!("Could not read the position of {tp}: {e}"))
            })?;
            positions.insert(to_connect(tp), OffsetAndMetadata::new(position));
        }
        let opened: Vec<TopicPartition> = partitions.iter().map(to_connect).collect();
        let assignment = {
            let mut assignment = context.assignment_mut();
            assignment.extend(opened.iter().cloned());
            assignment.clone()
        };
        let repaused: Vec<Kafka> = if paused_by_worker {
            partitions.to_vec()
        } else {
            let mut paused = context.paused_mut();
            paused.retain(|tp| assignment.contains(tp));
            opened
                .iter()
                .filter(|tp| paused.contains(*tp))
                .map(to_kafka)
                .collect()
        };
        self.consumer.consumer().pause(&repaused);
        if opened.is_empty() {
            return Ok(());
        }
        tracing::debug!(task = %self.id, ?opened, "partitions assigned");
        self.task.open(&opened).await?;
        self.apply_requests(context, positions, paused_by_worker);
        Ok(())
    }

    /// Gives up partitions (Java's `closePartitions`). Revoked ones are still this member's
    /// until the next poll, so their offsets are committed first (after `pre_commit`; they are
    /// closed in the task whatever it returned) and the next owner starts where this one
    /// stopped. Lost ones may already have another owner, so they are only closed.
    async fn close_partitions(
        &mut self,
        context: &Context,
        positions: &mut Positions,
        partitions: &[Kafka],
        lost: bool,
    ) -> Result<(), ConnectError> {
        let closing: Vec<TopicPartition> = partitions.iter().map(to_connect).collect();
        tracing::debug!(task = %self.id, ?closing, lost, "partitions revoked");
        let closed = if closing.is_empty() {
            Ok(())
        } else if lost {
            self.task.close(&closing).await
        } else {
            let offsets = closing
                .iter()
                .filter_map(|tp| Some((tp.clone(), positions.get(tp)?.clone())))
                .collect();
            self.commit(offsets, Some(&closing)).await
        };
        for tp in &closing {
            positions.remove(tp);
        }
        context.assignment_mut().retain(|tp| !closing.contains(tp));
        closed
    }

    async fn deliver(
        &mut self,
        context: &Context,
        records: Vec<ConsumerRecord>,
        positions: &mut Positions,
    ) -> Result<(), ConnectError> {
        let mut batch = Vec::with_capacity(records.len());
        for record in &records {
            positions.insert(
                TopicPartition::new(record.topic.to_string(), record.partition),
                OffsetAndMetadata::new(record.offset + 1),
            );
            if let Some(converted) = self.convert(record).await? {
                batch.push(converted);
            }
        }
        loop {
            match self.task.put(batch.clone()).await {
                Ok(()) => return Ok(()),
                Err(ConnectError::Retriable(reason)) => {
                    tracing::warn!(task = %self.id, %reason, "retriable error from put; retrying the batch");
                    let backoff = context
                        .timeout
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .take();
                    tokio::time::sleep(backoff.unwrap_or(RETRY_PUT_BACKOFF)).await;
                    if *self.signal.borrow() == TaskSignal::Stop {
                        return Ok(());
                    }
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn convert(
        &mut self,
        record: &ConsumerRecord,
    ) -> Result<Option<SinkRecord>, ConnectError> {
        let c = &self.converters;
        let topic = record.topic.to_string();
        let raw_headers: Vec<RecordHeader> = record
            .headers
            .iter()
            .map(|h| RecordHeader {
                key: h.key.to_string(),
                value: h.value.clone(),
            })
            .collect();
        let consumed = Some(record);
        let Some(key) = self
            .operator
            .execute(Stage::KeyConverter, &c.key_class, consumed, None, || {
                c.key
                    .to_connect_data(&topic, &raw_headers, record.key.as_deref())
            })
            .await?
        else {
            return Ok(None);
        };
        let Some(value) = self
            .operator
            .execute(
                Stage::ValueConverter,
                &c.value_class,
                consumed,
                None,
                || {
                    c.value
                        .to_connect_data(&topic, &raw_headers, record.value.as_deref())
                },
            )
            .await?
        else {
            return Ok(None);
        };
        let mut headers = Headers::new();
        for header in &raw_headers {
            let Some(converted) = self
                .operator
                .execute(
                    Stage::HeaderConverter,
                    &c.header_class,
                    consumed,
                    None,
                    || {
                        c.header
                            .to_connect_header(&topic, &header.key, header.value.as_deref())
                    },
                )
                .await?
            else {
                return Ok(None);
            };
            headers.push(Header::new(
                header.key.clone(),
                converted.schema,
                converted.value,
            ));
        }
        let timestamp_type = match record.timestamp_type {
            _ if record.timestamp < 0 => TimestampType::NoTimestamp,
            KafkaTimestampType::CreateTime => TimestampType::CreateTime,
            KafkaTimestampType::LogAppendTime => TimestampType::LogAppendTime,
        };
        let sink_record = SinkRecord::new(
            topic,
            record.partition,
            key,
            value,
            record.offset,
            (record.timestamp >= 0).then_some(record.timestamp),
            timestamp_type,
            headers,
        );
        let chain = &mut self.chain;
        let transformed = self
            .operator
            .execute(Stage::Transformation, "transforms", consumed, None, || {
                chain.apply(sink_record.clone())
            })
            .await?;
        Ok(transformed.flatten())
    }

    /// Applies what the task asked for. While the worker has the task paused, the task's
    /// pauses and resumes are only recorded, to take effect when the worker resumes it.
    fn apply_requests(
        &mut self,
        context: &Context,
        positions: &mut Positions,
        paused_by_worker: bool,
    ) {
        let requests = std::mem::take(&mut *context.requests());
        for (tp, offset) in requests.rewinds {
            match self.consumer.consumer().seek(&to_kafka(&tp), offset) {
                Ok(()) => {
                    positions.insert(tp, OffsetAndMetadata::new(offset));
                }
                Err(error) => {
                    tracing::warn!(task = %self.id, %error, "cannot rewind {tp} to {offset}")
                }
            }
        }
        for (tp, pause) in requests.pauses {
            let partition = [to_kafka(&tp)];
            if pause {
                context.paused_mut().insert(tp);
                self.consumer.consumer().pause(&partition);
            } else {
                context.paused_mut().remove(&tp);
                if !paused_by_worker {
                    self.consumer.consumer().resume(&partition);
                }
            }
        }
        context.requests().commit |= requests.commit;
    }

    /// Asks the task what of `positions` may be committed (`pre_commit`, which flushes by
    /// default) and commits it, waiting for the answer. With `closing` (the partitions are being
    /// revoked) the task closes them right after `pre_commit`, even when it failed.
    async fn commit(
        &mut self,
        positions: Positions,
        closing: Option<&[TopicPartition]>,
    ) -> Result<(), ConnectError> {
        if positions.is_empty() && closing.is_none() {
            return Ok(());
        }
        if let Some(dlq) = &self.dlq {
            dlq.flush().await;
        }
        let pre_committed = self.task.pre_commit(positions.clone()).await;
        if let Some(partitions) = closing {
            self.task.close(partitions).await?;
        }
        let committable = match pre_committed {
            Ok(offsets) => offsets,
            Err(error) if closing.is_some() => {
                tracing::warn!(task = %self.id, %error, "Offset commit failed during close");
                return Ok(());
            }
            Err(error) => {
                tracing::error!(task = %self.id, %error, "Offset commit failed, rewinding to last committed offsets");
                return Ok(());
            }
        };
        let offsets: BTreeMap<Kafka, KafkaOffset> = committable
            .iter()
            .filter(|(tp, _)| positions.contains_key(*tp))
            .map(|(tp, o)| {
                let mut offset = KafkaOffset::new(o.offset);
                offset.metadata = o.metadata.clone();
                (to_kafka(tp), offset)
            })
            .collect();
        if offsets.is_empty() {
            return Ok(());
        }
        match self.consumer.commit_offsets(offsets).await {
            Ok(()) => tracing::debug!(task = %self.id, "committed consumer offsets"),
            Err(error) => tracing::warn!(task = %self.id, %error, "Commit of offsets failed"),
        }
        Ok(())
    }

    async fn stop(
        mut self,
        context: &Context,
        positions: &Positions,
        healthy: bool,
    ) -> Result<(), ConnectError> {
        if healthy {
            self.commit(positions.clone(), None).await?;
        }
        let assigned: Vec<TopicPartition> = context.assignment().into_iter().collect();
        let closed = if assigned.is_empty() {
            Ok(())
        } else {
            self.task.close(&assigned).await
        };
        let stopped = self.task.stop().await;
        self.chain.close();
        if let Some(dlq) = &self.dlq {
            dlq.close().await;
        }
        self.consumer.close().await;
        closed.and(stopped)
    }
}
