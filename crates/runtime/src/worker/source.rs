//! The source task runner (Java's `WorkerSourceTask`): poll → transformations → converters →
//! producer, with source offsets committed only once every earlier record of their source
//! partition was acknowledged ([`SubmittedRecords`]).

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::ConnectError;
use ferry_connect::connector::{
    ConfigMap, OffsetStorageReader, RecordMetadata, SourceTask, SourceTaskContext,
};
use ferry_connect::convert::RecordHeader;
use ferry_connect::record::SourceRecord;
use ferry_kafka::kafka_protocol::protocol::StrBytes;
use ferry_kafka::producer::{Producer, ProducerRecord};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use tokio::sync::watch;

use super::convert::TaskConverters;
use super::status::StatusBackingStore;
use super::submitted::{Submitted, SubmittedRecords};
use super::task::{TaskSignal, report_run_state, wait_while_paused};
use crate::ConnectorTaskId;
use crate::errors::{RetryWithToleranceOperator, Stage};
use crate::storage::offsets::OffsetStorageWriter;
use crate::transforms::TransformationChain;

/// What a source task sees of the runtime.
#[derive(Debug)]
struct Context {
    config: ConfigMap,
    reader: Arc<dyn OffsetStorageReader>,
}

impl SourceTaskContext for Context {
    fn configs(&self) -> ConfigMap {
        self.config.clone()
    }

    fn offset_storage_reader(&self) -> Arc<dyn OffsetStorageReader> {
        self.reader.clone()
    }
}

/// A record sent to Kafka, its offset tracking (when it has a source offset) and the answer.
type Delivery = BoxFuture<
    'static,
    (
        Option<Submitted>,
        SourceRecord,
        Result<ferry_kafka::RecordMetadata, ferry_kafka::Error>,
    ),
>;

/// Everything one source task needs to run.
#[derive(Debug)]
pub(crate) struct SourceTaskRunner {
    pub id: ConnectorTaskId,
    pub task: Box<dyn SourceTask>,
    pub config: ConfigMap,
    pub chain: TransformationChain<SourceRecord>,
    pub converters: TaskConverters,
    pub producer: Producer,
    pub reader: Arc<dyn OffsetStorageReader>,
    pub writer: OffsetStorageWriter,
    pub operator: RetryWithToleranceOperator,
    pub status: Arc<dyn StatusBackingStore>,
    pub signal: watch::Receiver<TaskSignal>,
    pub flush_interval: Duration,
    pub flush_timeout: Duration,
    pub worker_id: String,
}

/// The mutable state of a running source task.
struct Pipeline {
    submitted: SubmittedRecords,
    in_flight: FuturesUnordered<Delivery>,
    topics: HashSet<String>,
}

fn metadata(written: &ferry_kafka::RecordMetadata) -> RecordMetadata {
    RecordMetadata {
        topic: written.topic.to_string(),
        partition: written.partition,
        offset: written.offset,
        timestamp: Some(written.timestamp),
    }
}

impl SourceTaskRunner {
    /// Runs the task until it is told to stop or fails.
    pub async fn run(mut self) -> Result<(), ConnectError> {
        self.task.initialize(Arc::new(Context {
            config: self.config.clone(),
            reader: self.reader.clone(),
        }));
        self.task.start(self.config.clone()).await?;
        let mut pipeline = Pipeline {
            submitted: SubmittedRecords::default(),
            in_flight: FuturesUnordered::new(),
            topics: HashSet::new(),
        };
        let result = self.execute(&mut pipeline).await;
        let stopped = self.stop(&mut pipeline).await;
        result.and(stopped)
    }

    async fn execute(&mut self, p: &mut Pipeline) -> Result<(), ConnectError> {
        let mut commit = tokio::time::interval_at(
            tokio::time::Instant::now() + self.flush_interval,
            self.flush_interval,
        );
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
            if signal == TaskSignal::Pause && p.in_flight.is_empty() {
                self.commit_offsets(p).await?;
                wait_while_paused(&mut self.signal).await;
                continue;
            }
            tokio::select! {
                biased;
                changed = self.signal.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                }
                Some((submitted, record, result)) = p.in_flight.next(), if !p.in_flight.is_empty() => {
                    self.acknowledge(p, submitted, record, result).await?;
                }
                _ = commit.tick() => self.commit_offsets(p).await?,
                polled = self.task.poll(), if signal == TaskSignal::Run => match polled {
                    Ok(records) => self.send_all(p, records).await?,
                    Err(ConnectError::Retriable(reason)) => {
                        tracing::warn!(task = %self.id, %reason, "retriable error while polling; polling again");
                    }
                    Err(error) => return Err(error),
                },
            }
        }
    }

    async fn send_all(
        &mut self,
        p: &mut Pipeline,
        records: Vec<SourceRecord>,
    ) -> Result<(), ConnectError> {
        for record in records {
            let submitted = p.submitted.submit(
                record.source_partition.as_ref(),
                record.source_offset.as_ref(),
            );
            match self.convert(&record).await? {
                None => {
                    p.submitted.ack_if_tracked(submitted);
                    self.commit_record(&record, None).await;
                }
                Some(produced) => {
                    if !p.topics.contains(produced.topic.as_str()) {
                        self.status.put_topic(&self.id.connector, &produced.topic);
                        p.topics.insert(produced.topic.to_string());
                    }
                    match self.producer.send(produced).await {
                        Ok(delivery) => {
                            p.in_flight.push(Box::pin(async move {
                                let result = delivery.await;
                                (submitted, record, result)
                            }));
                        }
                        Err(error) => {
                            let error = ConnectError::Other(format!(
                                "Unrecoverable exception from producer send callback: {error}"
                            ));
                            if !self
                                .operator
                                .report_and_tolerate(
                                    Stage::KafkaProduce,
                                    "KafkaProducer",
                                    Some(&record),
                                    &error,
                                )
                                .await
                            {
                                return Err(error);
                            }
                            p.submitted.ack_if_tracked(submitted);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Transforms and converts one record; `None` when it was dropped or skipped.
    async fn convert(
        &mut self,
        record: &SourceRecord,
    ) -> Result<Option<ProducerRecord>, ConnectError> {
        // Without transformations the record is converted as it is, not copied.
        let r = if self.chain.stages().is_empty() {
            Cow::Borrowed(record)
        } else {
            let chain = &mut self.chain;
            let transformed = self
                .operator
                .execute(
                    Stage::Transformation,
                    "transforms",
                    None,
                    Some(record),
                    || chain.apply(record.clone()),
                )
                .await?;
            let Some(Some(r)) = transformed else {
                return Ok(None);
            };
            Cow::Owned(r)
        };
        let converters = &self.converters;
        let mut headers = Vec::new();
        for header in r.headers.iter() {
            let value = self
                .operator
                .execute(
                    Stage::HeaderConverter,
                    &converters.header_class,
                    None,
                    Some(record),
                    || {
                        converters.header.from_connect_header(
                            &r.topic,
                            header.key(),
                            header.schema(),
                            header.value(),
                        )
                    },
                )
                .await?;
            let Some(value) = value else { return Ok(None) };
            headers.push(RecordHeader {
                key: header.key().to_owned(),
                value,
            });
        }
        let Some(key) = self
            .operator
            .execute(
                Stage::KeyConverter,
                &converters.key_class,
                None,
                Some(record),
                || {
                    converters.key.from_connect_data(
                        &r.topic,
                        &mut headers,
                        r.key_schema.as_ref(),
                        r.key.as_ref(),
                    )
                },
            )
            .await?
        else {
            return Ok(None);
        };
        let Some(value) = self
            .operator
            .execute(
                Stage::ValueConverter,
                &converters.value_class,
                None,
                Some(record),
                || {
                    converters.value.from_connect_data(
                        &r.topic,
                        &mut headers,
                        r.value_schema.as_ref(),
                        r.value.as_ref(),
                    )
                },
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(ProducerRecord {
            topic: StrBytes::from_string(r.topic.clone()),
            partition: r.kafka_partition,
            key,
            value,
            headers: headers
                .into_iter()
                .map(|h| (StrBytes::from_string(h.key), h.value))
                .collect(),
            timestamp: r.timestamp,
        }))
    }

    async fn acknowledge(
        &mut self,
        p: &mut Pipeline,
        submitted: Option<Submitted>,
        record: SourceRecord,
        result: Result<ferry_kafka::RecordMetadata, ferry_kafka::Error>,
    ) -> Result<(), ConnectError> {
        match result {
            Ok(written) => {
                p.submitted.ack_if_tracked(submitted);
                self.commit_record(&record, Some(&metadata(&written))).await;
                Ok(())
            }
            Err(error) => {
                let error = ConnectError::Other(format!(
                    "Unrecoverable exception from producer send callback: {error}"
                ));
                if self
                    .operator
                    .report_and_tolerate(
                        Stage::KafkaProduce,
                        "KafkaProducer",
                        Some(&record),
                        &error,
                    )
                    .await
                {
                    p.submitted.ack_if_tracked(submitted);
                    Ok(())
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Tells the task a record was written (or dropped); its failures are only logged, as in Java.
    async fn commit_record(&mut self, record: &SourceRecord, metadata: Option<&RecordMetadata>) {
        if let Err(error) = self.task.commit_record(record, metadata).await {
            tracing::error!(task = %self.id, %error, "Exception thrown while calling task.commitRecord()");
        }
    }

    /// Writes the committable offsets, then tells the task.
    async fn commit_offsets(&mut self, p: &mut Pipeline) -> Result<(), ConnectError> {
        let offsets: Vec<_> = p
            .submitted
            .committable()
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect();
        if offsets.is_empty() {
            return Ok(());
        }
        match tokio::time::timeout(self.flush_timeout, self.writer.write(offsets)).await {
            Ok(Ok(())) => {
                tracing::debug!(task = %self.id, "committed source offsets");
                if let Err(error) = self.task.commit().await {
                    tracing::error!(task = %self.id, %error, "Exception thrown while calling task.commit()");
                }
            }
            Ok(Err(error)) => tracing::error!(task = %self.id, %error, "Failed to commit offsets"),
            Err(_) => {
                tracing::error!(task = %self.id, "Failed to flush offsets to storage: timed out")
            }
        }
        Ok(())
    }

    /// Waits (up to `offset.flush.timeout.ms`) for records in flight, commits what they cover,
    /// and stops the task and the producer. This also runs after a failure: the offsets of
    /// records Kafka acknowledged are still right.
    async fn stop(&mut self, p: &mut Pipeline) -> Result<(), ConnectError> {
        // As Java: wait up to offset.flush.timeout.ms for the records in flight.
        let timeout = self.flush_timeout;
        let drain = async {
            self.producer.flush().await;
            while let Some((submitted, record, result)) = p.in_flight.next().await {
                if let Ok(written) = result {
                    p.submitted.ack_if_tracked(submitted);
                    self.commit_record(&record, Some(&metadata(&written))).await;
                }
            }
        };
        if tokio::time::timeout(timeout, drain).await.is_err() {
            tracing::warn!(task = %self.id, "records still in flight at shutdown; their offsets are not committed");
        }
        self.commit_offsets(p).await?;
        let stopped = self.task.stop().await;
        self.chain.close();
        self.producer.close().await;
        stopped
    }
}
