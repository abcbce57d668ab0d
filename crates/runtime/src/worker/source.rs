//! The source task runner (Java's `WorkerSourceTask`): poll → transformations → converters →
//! producer, with source offsets committed only once every earlier record of their source
//! partition was acknowledged ([`SubmittedRecords`]). As in Java, a pending `poll` is never
//! interrupted except to stop the task: offsets are committed every `offset.flush.interval.ms`
//! while it runs.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::ConnectError;
use ferry_connect::connector::{
    ConfigMap, OffsetStorageReader, RecordMetadata, SourceTask, SourceTaskContext,
};
use ferry_connect::convert::RecordHeader;
use ferry_connect::header::Headers;
use ferry_connect::record::SourceRecord;
use ferry_kafka::RecordMetadata as Written;
use ferry_kafka::kafka_protocol::protocol::StrBytes;
use ferry_kafka::producer::{Producer, ProducerRecord};
use tokio::sync::watch;

use super::convert::TaskConverters;
use super::in_flight::{Acknowledged, InFlight};
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

/// What the task must be told once it is not polling: Java calls `commitRecord` and `commit`
/// from other threads while `poll` runs, which `&mut self` methods cannot do.
#[derive(Default)]
struct Deferred {
    /// The `commitRecord` calls, in order: each record written (with where) or dropped. The
    /// producer's metadata is kept as it came (its topic shared by the batch's records) and
    /// turned into the task's only when the task is told.
    written: Vec<(SourceRecord, Option<Written>)>,
    /// The `commit` calls, each as the number of `written` calls before it (ascending, once per
    /// number: two commits with nothing acknowledged between them tell the task nothing new).
    commits: Vec<usize>,
}

impl Deferred {
    fn written(&mut self, record: SourceRecord, metadata: Option<Written>) {
        self.written.push((record, metadata));
    }

    fn committed(&mut self) {
        let at = self.written.len();
        if self.commits.last() != Some(&at) {
            self.commits.push(at);
        }
    }
}

/// How many `commitRecord` calls [`Deferred`] keeps room for once it was replayed: a poll
/// pending for long collects the acknowledgements of a whole producer buffer.
const DEFERRED_IDLE_CAPACITY: usize = 4096;

/// The mutable state of a running source task.
struct Pipeline {
    /// Whether records in flight keep their key, value and headers (see
    /// [`SourceTask::commit_record_reads_payload`]).
    keep_payload: bool,
    submitted: SubmittedRecords,
    in_flight: InFlight,
    topics: HashSet<String>,
    /// The topic of the latest record sent: records mostly share it, so its name is shared
    /// rather than copied per record, and it is known to be in `topics`.
    last_topic: Option<StrBytes>,
    deferred: Deferred,
}

/// What the task is told of where `written` went, reusing `slot`'s topic name when it is the
/// same (it mostly is: one allocation per record otherwise).
fn metadata<'a>(slot: &'a mut Option<RecordMetadata>, written: &Written) -> &'a RecordMetadata {
    let reused = match slot.take() {
        Some(m) if m.topic == written.topic.as_str() => m.topic,
        _ => written.topic.to_string(),
    };
    slot.insert(RecordMetadata {
        topic: reused,
        partition: written.partition,
        offset: written.offset,
        timestamp: Some(written.timestamp),
    })
}

/// Handles Kafka's answer for one record: its offset becomes committable once written, or once
/// the failure is tolerated.
async fn acknowledge(
    p: &mut Pipeline,
    operator: &mut RetryWithToleranceOperator,
    submitted: Option<Submitted>,
    record: SourceRecord,
    result: Result<Written, ferry_kafka::Error>,
) -> Result<(), ConnectError> {
    match result {
        Ok(written) => {
            p.submitted.ack_if_tracked(submitted);
            p.deferred.written(record, Some(written));
            Ok(())
        }
        Err(error) => {
            let error = ConnectError::Other(format!(
                "Unrecoverable exception from producer send callback: {error}"
            ));
            if operator
                .report_and_tolerate(Stage::KafkaProduce, "KafkaProducer", Some(&record), &error)
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

/// Handles `first` and every other answer already in, without waiting.
async fn acknowledge_answered(
    p: &mut Pipeline,
    operator: &mut RetryWithToleranceOperator,
    first: Acknowledged,
) -> Result<(), ConnectError> {
    let (submitted, record, result) = first;
    acknowledge(p, operator, submitted, record, result).await?;
    while let Some((submitted, record, result)) = p.in_flight.take_answered() {
        acknowledge(p, operator, submitted, record, result).await?;
    }
    Ok(())
}

/// Writes the committable offsets (waiting at most `timeout`); failures are logged and the
/// task goes on, as in Java, and the offsets are written again at the next commit.
async fn write_offsets(
    p: &mut Pipeline,
    writer: &OffsetStorageWriter,
    timeout: Duration,
    id: &ConnectorTaskId,
) {
    let committable = p.submitted.committable();
    if committable.is_empty() {
        return;
    }
    let offsets = committable
        .iter()
        .map(|(k, v)| ((**k).clone(), Some((**v).clone())))
        .collect();
    match tokio::time::timeout(timeout, writer.write(offsets)).await {
        Ok(Ok(())) => {
            tracing::debug!(task = %id, "committed source offsets");
            p.deferred.committed();
            return;
        }
        Ok(Err(error)) => tracing::error!(task = %id, %error, "Failed to commit offsets"),
        Err(_) => tracing::error!(task = %id, "Failed to flush offsets to storage: timed out"),
    }
    // Retried at the next commit, as Java does: an idle partition's last offset would
    // otherwise never be committed and its tail copied again after a restart.
    p.submitted.uncommitted(committable);
}

impl SourceTaskRunner {
    /// Runs the task until it is told to stop or fails.
    pub async fn run(mut self) -> Result<(), ConnectError> {
        self.task.initialize(Arc::new(Context {
            config: self.config.clone(),
            reader: self.reader.clone(),
        }));
        self.task.start(self.config.clone()).await?;
        let errors = self.operator.config();
        let mut pipeline = Pipeline {
            // An error log that prints records needs them whole, as the task may.
            keep_payload: self.task.commit_record_reads_payload()
                || (errors.log_enable && errors.log_include_messages),
            submitted: SubmittedRecords::default(),
            in_flight: InFlight::default(),
            topics: HashSet::new(),
            last_topic: None,
            deferred: Deferred::default(),
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
            // The task is idle here: hand it what happened while it was polling.
            self.replay_deferred(p).await;
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
            if signal == TaskSignal::Pause {
                if p.in_flight.is_empty() {
                    self.commit_offsets(p).await;
                    self.replay_deferred(p).await;
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
                    Some(answered) = p.in_flight.next() => {
                        acknowledge_answered(p, &mut self.operator, answered).await?;
                    }
                    _ = commit.tick() => self.commit_offsets(p).await,
                }
                continue;
            }
            // As Java, a poll is never interrupted by the offset commits, the acknowledgements
            // or a pause: dropping it could lose what the task did inside it (records fetched
            // but not yet returned). Only a stop drops it. Meanwhile acknowledgements and
            // commits go on; what the task must hear of them waits in `p.deferred`.
            let polled = {
                let mut poll = self.task.poll();
                loop {
                    tokio::select! {
                        biased;
                        changed = self.signal.changed() => {
                            if changed.is_err() || *self.signal.borrow() == TaskSignal::Stop {
                                return Ok(());
                            }
                        }
                        Some(answered) = p.in_flight.next(), if !p.in_flight.is_empty() => {
                            acknowledge_answered(p, &mut self.operator, answered).await?;
                        }
                        _ = commit.tick() => {
                            write_offsets(p, &self.writer, self.flush_timeout, &self.id).await;
                        }
                        polled = &mut poll => break polled,
                    }
                }
            };
            match polled {
                Ok(records) => self.send_all(p, records).await?,
                Err(ConnectError::Retriable(reason)) => {
                    tracing::warn!(task = %self.id, %reason, "retriable error while polling; polling again");
                }
                Err(error) => return Err(error),
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
            match self.convert(&record, p.last_topic.as_ref()).await? {
                None => {
                    p.submitted.ack_if_tracked(submitted);
                    p.deferred.written(record, None);
                }
                Some(produced) => {
                    let topic = produced.topic.clone();
                    if p.last_topic.as_ref() != Some(&topic) {
                        if !p.topics.contains(topic.as_str()) {
                            self.status.put_topic(&self.id.connector, &topic);
                            p.topics.insert(topic.to_string());
                        }
                        p.last_topic = Some(topic.clone());
                    }
                    let partition = produced.partition;
                    match self.producer.send(produced).await {
                        Ok(delivery) => {
                            let mut record = record;
                            if !p.keep_payload {
                                record.key = None;
                                record.value = None;
                                record.headers = Headers::default();
                            }
                            p.in_flight
                                .push(submitted, record, &topic, partition, delivery);
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

    /// Transforms and converts one record; `None` when it was dropped or skipped. The record's
    /// topic name shares `last_topic`'s bytes when it is the same.
    async fn convert(
        &mut self,
        record: &SourceRecord,
        last_topic: Option<&StrBytes>,
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
        let topic = match last_topic {
            Some(last) if last.as_str() == r.topic => last.clone(),
            _ => StrBytes::from_string(r.topic.clone()),
        };
        Ok(Some(ProducerRecord {
            topic,
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

    /// Tells the task a record was written (or dropped); its failures are only logged, as in Java.
    async fn commit_record(&mut self, record: &SourceRecord, metadata: Option<&RecordMetadata>) {
        if let Err(error) = self.task.commit_record(record, metadata).await {
            tracing::error!(task = %self.id, %error, "Exception thrown while calling task.commitRecord()");
        }
    }

    /// Writes the committable offsets; the task hears of it at its next [`Self::replay_deferred`].
    async fn commit_offsets(&mut self, p: &mut Pipeline) {
        write_offsets(p, &self.writer, self.flush_timeout, &self.id).await;
    }

    /// Tells the task, in order, of the records written and the offset commits since it last
    /// heard; its failures are only logged, as in Java.
    async fn replay_deferred(&mut self, p: &mut Pipeline) {
        let commits = std::mem::take(&mut p.deferred.commits);
        let mut commits = commits.into_iter().peekable();
        let mut told = None;
        for (at, (record, written)) in p.deferred.written.drain(..).enumerate() {
            if commits.next_if_eq(&at).is_some() {
                self.commit_task().await;
            }
            let metadata = written.as_ref().map(|w| metadata(&mut told, w));
            self.commit_record(&record, metadata).await;
        }
        p.deferred.written.shrink_to(DEFERRED_IDLE_CAPACITY);
        if commits.next().is_some() {
            self.commit_task().await;
        }
    }

    /// Tells the task its offsets were committed; its failures are only logged, as in Java.
    async fn commit_task(&mut self) {
        if let Err(error) = self.task.commit().await {
            tracing::error!(task = %self.id, %error, "Exception thrown while calling task.commit()");
        }
    }

    /// Waits (up to `offset.flush.timeout.ms`) for records in flight, commits what they cover,
    /// and stops the task and the producer. This also runs after a failure: the offsets of
    /// records Kafka acknowledged are still right.
    async fn stop(&mut self, p: &mut Pipeline) -> Result<(), ConnectError> {
        // As Java: wait up to offset.flush.timeout.ms for the records in flight.
        let timeout = self.flush_timeout;
        self.replay_deferred(p).await;
        let drain = async {
            self.producer.flush().await;
            let mut told = None;
            while let Some((submitted, record, result)) = p.in_flight.next().await {
                if let Ok(written) = result {
                    p.submitted.ack_if_tracked(submitted);
                    let metadata = metadata(&mut told, &written);
                    self.commit_record(&record, Some(metadata)).await;
                }
            }
        };
        if tokio::time::timeout(timeout, drain).await.is_err() {
            tracing::warn!(task = %self.id, "records still in flight at shutdown; their offsets are not committed");
        }
        self.commit_offsets(p).await;
        self.replay_deferred(p).await;
        let stopped = self.task.stop().await;
        self.chain.close();
        self.producer.close().await;
        stopped
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};

    use ferry_connect::async_trait;
    use ferry_connect::convert::Converter;
    use ferry_connect::data::Value;
    use ferry_connect::record::SourceMap;
    use ferry_kafka::{ClientConfig, Cluster};
    use serde_json::json;

    use super::*;
    use crate::converters::{SimpleHeaderConverter, StringConverter};
    use crate::errors::ErrorConfig;
    use crate::storage::offsets::{
        KeyBytes, MemoryOffsetBackingStore, OffsetBackingStore, OffsetStoreError, TaskOffsetReader,
        ValueBytes,
    };
    use crate::worker::MemoryStatusStore;

    /// How often the slow task's polls started and returned, and how often it heard of a commit.
    #[derive(Debug, Default)]
    struct Counts {
        started: AtomicU64,
        completed: AtomicU64,
        commits: AtomicU64,
        /// For each `commit_record` call, whether the record still had its value.
        with_value: std::sync::Mutex<Vec<bool>>,
    }

    /// A task whose every poll takes `poll_time`; the first `records` polls return one record
    /// each (source offset `{"n": N}` of partition `{"p": 0}`), the others none.
    #[derive(Debug)]
    struct SlowTask {
        counts: Arc<Counts>,
        poll_time: Duration,
        records: u64,
        /// What [`SourceTask::commit_record_reads_payload`] answers.
        reads_payload: bool,
    }

    fn map(value: serde_json::Value) -> SourceMap {
        value.as_object().cloned().unwrap_or_default()
    }

    #[async_trait]
    impl SourceTask for SlowTask {
        fn version(&self) -> String {
            "1".into()
        }
        async fn start(&mut self, _: ConfigMap) -> ferry_connect::Result<()> {
            Ok(())
        }
        async fn poll(&mut self) -> ferry_connect::Result<Vec<SourceRecord>> {
            let n = self.counts.started.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.poll_time).await;
            self.counts.completed.fetch_add(1, Ordering::SeqCst);
            if n >= self.records {
                return Ok(Vec::new());
            }
            Ok(vec![SourceRecord::new(
                Some(map(json!({"p": 0}))),
                Some(map(json!({"n": n}))),
                "slow-polls",
                None,
                Some(Value::String(format!("record {n}"))),
            )])
        }
        async fn commit(&mut self) -> ferry_connect::Result<()> {
            self.counts.commits.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        fn commit_record_reads_payload(&self) -> bool {
            self.reads_payload
        }
        async fn commit_record(
            &mut self,
            record: &SourceRecord,
            _: Option<&RecordMetadata>,
        ) -> ferry_connect::Result<()> {
            let mut with_value = self.counts.with_value.lock().unwrap();
            with_value.push(record.value.is_some());
            Ok(())
        }
        async fn stop(&mut self) -> ferry_connect::Result<()> {
            Ok(())
        }
    }

    /// An in-memory offset store whose first `failures` writes fail.
    #[derive(Debug, Default)]
    struct FlakyStore {
        inner: MemoryOffsetBackingStore,
        failures: AtomicU64,
    }

    #[async_trait]
    impl OffsetBackingStore for FlakyStore {
        async fn get(
            &self,
            keys: &[KeyBytes],
        ) -> Result<HashMap<KeyBytes, ValueBytes>, OffsetStoreError> {
            self.inner.get(keys).await
        }
        async fn set(
            &self,
            entries: Vec<(KeyBytes, Option<ValueBytes>)>,
        ) -> Result<(), OffsetStoreError> {
            let left = self.failures.load(Ordering::SeqCst);
            if left > 0 {
                self.failures.store(left - 1, Ordering::SeqCst);
                return Err(OffsetStoreError::Other("the store is down".into()));
            }
            self.inner.set(entries).await
        }
        async fn all(&self) -> Result<Vec<(KeyBytes, ValueBytes)>, OffsetStoreError> {
            self.inner.all().await
        }
    }

    fn converters() -> TaskConverters {
        let mut key = StringConverter::default();
        key.configure(&ConfigMap::new(), true).unwrap();
        let mut value = StringConverter::default();
        value.configure(&ConfigMap::new(), false).unwrap();
        TaskConverters {
            key: Box::new(key),
            value: Box::new(value),
            header: Box::new(SimpleHeaderConverter),
            key_class: "StringConverter".into(),
            value_class: "StringConverter".into(),
            header_class: "SimpleHeaderConverter".into(),
        }
    }

    /// A runner of `task` producing to `broker` and committing to `store` every
    /// `flush_interval`, and the sender of its signal.
    fn runner(
        broker: &ferry_testkit::Cluster,
        task: SlowTask,
        store: Arc<dyn OffsetBackingStore>,
        flush_interval: Duration,
    ) -> (SourceTaskRunner, watch::Sender<TaskSignal>) {
        let props = ConfigMap::from([("bootstrap.servers".to_owned(), broker.bootstrap())]);
        let cluster = Cluster::new(ClientConfig::from_pairs(props.iter()).unwrap());
        let id = ConnectorTaskId::new("slow", 0);
        let (signal, receiver) = watch::channel(TaskSignal::Run);
        let runner = SourceTaskRunner {
            id: id.clone(),
            task: Box::new(task),
            config: ConfigMap::new(),
            chain: TransformationChain::default(),
            converters: converters(),
            producer: Producer::new(cluster, props.iter()).unwrap(),
            reader: Arc::new(TaskOffsetReader::new("slow", store.clone())),
            writer: OffsetStorageWriter::new("slow", store),
            operator: RetryWithToleranceOperator::new(ErrorConfig::default(), id, Vec::new()),
            status: Arc::new(MemoryStatusStore::default()),
            signal: receiver,
            flush_interval,
            flush_timeout: Duration::from_secs(10),
            worker_id: "worker".into(),
        };
        (runner, signal)
    }

    /// Waits (polling every `every`) until the offset committed for `{"p": 0}` is `n` or more.
    async fn committed_at_least(store: Arc<dyn OffsetBackingStore>, n: u64, every: Duration) {
        let reader = TaskOffsetReader::new("slow", store);
        let partition = map(json!({"p": 0}));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let committed = reader.offset(&partition).await.unwrap();
            if committed.is_some_and(|o| o["n"].as_u64() >= Some(n)) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "offset {n} never committed"
            );
            tokio::time::sleep(every).await;
        }
    }

    /// Java never interrupts `poll`: an offset commit falling due while a poll is pending must
    /// neither drop that poll (losing what it did) nor wait for it.
    #[tokio::test]
    async fn offset_commits_do_not_cancel_a_pending_poll() {
        let broker = ferry_testkit::Cluster::start().await.unwrap();
        let store: Arc<dyn OffsetBackingStore> = Arc::new(MemoryOffsetBackingStore::new());
        let counts = Arc::new(Counts::default());
        let flush_interval = Duration::from_millis(40);
        let task = SlowTask {
            counts: counts.clone(),
            poll_time: flush_interval * 5,
            records: u64::MAX,
            reads_payload: true,
        };
        let (runner, signal) = runner(&broker, task, store.clone(), flush_interval);
        let run = tokio::spawn(runner.run());
        // Offsets are committed on the timer while the next poll is still pending, and the
        // task hears of it once that poll returned.
        committed_at_least(store.clone(), 2, flush_interval).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while counts.commits.load(Ordering::SeqCst) == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "commit() never called"
            );
            tokio::time::sleep(flush_interval).await;
        }
        signal.send(TaskSignal::Stop).unwrap();
        run.await.unwrap().unwrap();
        let (started, completed) = (
            counts.started.load(Ordering::SeqCst),
            counts.completed.load(Ordering::SeqCst),
        );
        // Only the poll pending at the stop may have been dropped.
        assert!(
            started <= completed + 1,
            "{started} polls started, {completed} completed"
        );
        let reader = TaskOffsetReader::new("slow", store);
        let committed = reader.offset(&map(json!({"p": 0}))).await.unwrap().unwrap();
        assert_eq!(committed["n"].as_u64(), Some(completed - 1));
    }

    /// As Java's `OffsetStorageWriter.cancelFlush`: offsets whose write failed are written at
    /// the next commit, even when their partition has nothing new.
    #[tokio::test]
    async fn offsets_whose_write_failed_are_written_at_the_next_commit() {
        let broker = ferry_testkit::Cluster::start().await.unwrap();
        let store = Arc::new(FlakyStore {
            failures: AtomicU64::new(1),
            ..FlakyStore::default()
        });
        let flush_interval = Duration::from_millis(40);
        let task = SlowTask {
            counts: Arc::new(Counts::default()),
            poll_time: flush_interval,
            records: 1,
            reads_payload: true,
        };
        let (runner, signal) = runner(&broker, task, store.clone(), flush_interval);
        let run = tokio::spawn(runner.run());
        committed_at_least(store.clone(), 0, flush_interval).await;
        assert_eq!(store.failures.load(Ordering::SeqCst), 0, "no write failed");
        signal.send(TaskSignal::Stop).unwrap();
        run.await.unwrap().unwrap();
    }

    /// A task that reads only where its records came from and went lets the runtime drop their
    /// payload once it is sent; any other task gets its records whole.
    #[tokio::test]
    async fn records_keep_their_payload_only_for_tasks_that_read_it() {
        let broker = ferry_testkit::Cluster::start().await.unwrap();
        for reads_payload in [false, true] {
            let store: Arc<dyn OffsetBackingStore> = Arc::new(MemoryOffsetBackingStore::new());
            let counts = Arc::new(Counts::default());
            let flush_interval = Duration::from_millis(40);
            let task = SlowTask {
                counts: counts.clone(),
                poll_time: Duration::from_millis(5),
                records: 3,
                reads_payload,
            };
            let (runner, signal) = runner(&broker, task, store.clone(), flush_interval);
            let run = tokio::spawn(runner.run());
            committed_at_least(store, 2, flush_interval).await;
            signal.send(TaskSignal::Stop).unwrap();
            run.await.unwrap().unwrap();
            let with_value = counts.with_value.lock().unwrap();
            assert_eq!(
                *with_value, [reads_payload; 3],
                "reads_payload={reads_payload}"
            );
        }
    }
}
