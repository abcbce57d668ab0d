//! [`KafkaStatusBackingStore`]: connector, task and topic statuses on the status topic, as
//! Java's `KafkaStatusBackingStore` keeps them.
//!
//! Writes do not wait: they are queued, sent in order by one writer, and re-sent after
//! retriable failures unless a newer write or a deletion made them stale. Reads answer from
//! what was read from the topic (every worker's writes, this one's included, once read back).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use ferry_kafka::{Admin, Cluster, ConsumerRecord};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::log::KafkaBasedLog;
use super::topic::InternalTopic;
use super::{READ_WRITE_TIMEOUT, Result, WorkerProps, api_timeout, log_clients, within};
use crate::ConnectorTaskId;
use crate::storage::status_records::{State, Status, StatusKey, TopicStatus};

/// The status topic's contents, kept current in the background, and this worker's writes.
///
/// ```no_run
/// # async fn demo(cluster: ferry_kafka::Cluster, props: ferry_runtime::storage::kafka::WorkerProps) -> ferry_runtime::storage::kafka::Result<()> {
/// use ferry_runtime::storage::kafka::KafkaStatusBackingStore;
/// use ferry_runtime::storage::status_records::{State, Status};
/// let store = KafkaStatusBackingStore::start(&cluster, &props).await?;
/// let running = Status { state: State::Running, trace: None, worker_id: "w1:8083".into(), generation: 3 };
/// store.put_connector("source", running);
/// store.read_to_end().await?;
/// assert_eq!(store.connector("source").unwrap().state, State::Running);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct KafkaStatusBackingStore {
    log: Arc<KafkaBasedLog>,
    shared: Arc<Mutex<Statuses>>,
    writes: mpsc::UnboundedSender<Queued>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// The last status read for a connector or task, and what this worker wrote for it.
#[derive(Debug)]
struct Entry {
    value: Option<Status>,
    /// Counts this worker's writes, so a retry can tell that a newer one followed.
    sequence: u64,
    /// Tells entries apart across a deletion and re-creation, for retries of old writes.
    incarnation: u64,
}

impl Entry {
    /// Java's rule for `putSafe`: overwrite only our own status or one of an older or equal
    /// generation.
    fn can_write_safely(&self, status: &Status) -> bool {
        self.value.as_ref().is_none_or(|current| {
            current.worker_id == status.worker_id || current.generation <= status.generation
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    Connector(String),
    Task(ConnectorTaskId),
}

#[derive(Debug, Default)]
struct Statuses {
    entries: BTreeMap<Subject, Entry>,
    /// Topic statuses by connector, then topic.
    topics: BTreeMap<String, BTreeMap<String, TopicStatus>>,
    /// The generation of the latest status written: retries of older ones are dropped.
    generation: i32,
    incarnations: u64,
}

impl Statuses {
    fn entry(&mut self, subject: Subject) -> &mut Entry {
        let next = self.incarnations + 1;
        let entry = self.entries.entry(subject).or_insert_with(|| Entry {
            value: None,
            sequence: 0,
            incarnation: next,
        });
        if entry.incarnation == next {
            self.incarnations = next;
        }
        entry
    }

    fn remove_connector(&mut self, connector: &str) {
        self.entries.retain(|subject, _| match subject {
            Subject::Connector(c) => c != connector,
            Subject::Task(t) => t.connector != connector,
        });
    }

    fn apply(&mut self, record: &ConsumerRecord) {
        let Some(raw) = record.key.as_deref() else {
            tracing::warn!(
                offset = record.offset,
                "skipping a status record without key"
            );
            return;
        };
        let key = String::from_utf8_lossy(raw);
        let subject = match StatusKey::parse(&key) {
            Ok(StatusKey::Connector(c)) => Subject::Connector(c),
            Ok(StatusKey::Task(t)) => Subject::Task(t),
            Ok(StatusKey::Topic { topic, connector }) => {
                return self.apply_topic(topic, connector, record.value.as_deref());
            }
            Err(error) => {
                tracing::warn!(%key, %error, "skipping a status record with an invalid key");
                return;
            }
        };
        let Some(value) = record.value.as_deref() else {
            match subject {
                Subject::Connector(c) => self.remove_connector(&c),
                task => {
                    self.entries.remove(&task);
                }
            }
            return;
        };
        let status = match Status::from_json(value) {
            Ok(status) => status,
            Err(error) => {
                tracing::warn!(%key, %error, "skipping an unreadable status record");
                return;
            }
        };
        let is_task = matches!(subject, Subject::Task(_));
        let entry = self.entry(subject);
        // A worker that had not yet read a task's RUNNING status may write UNASSIGNED for it
        // during a rebalance; the newer or equal generation's RUNNING wins.
        let stale = is_task
            && status.state == State::Unassigned
            && entry.value.as_ref().is_some_and(|current| {
                current.state == State::Running && current.generation >= status.generation
            });
        if !stale {
            entry.value = Some(status);
        }
    }

    fn apply_topic(&mut self, topic: String, connector: String, value: Option<&[u8]>) {
        let Some(value) = value else {
            if let Some(topics) = self.topics.get_mut(&connector) {
                topics.remove(&topic);
            }
            return;
        };
        match TopicStatus::from_json(value) {
            Ok(status) => {
                self.topics
                    .entry(connector)
                    .or_default()
                    .insert(topic, status);
            }
            Err(error) => {
                tracing::warn!(%topic, %connector, %error, "skipping an unreadable topic status")
            }
        }
    }
}

/// What the writer's queue holds.
#[derive(Debug)]
enum Queued {
    Write(Write),
    /// Answered once every earlier write has been handed to the producer.
    Drained(oneshot::Sender<()>),
}

/// One queued write, and when a failed one is still worth re-sending.
#[derive(Debug, Clone)]
struct Write {
    key: String,
    value: Option<Vec<u8>>,
    guard: Option<RetryGuard>,
}

#[derive(Debug, Clone)]
struct RetryGuard {
    subject: Subject,
    incarnation: u64,
    generation: i32,
    /// For safe writes: the entry's sequence when this was written; a later write of this
    /// worker supersedes it.
    safe: Option<(Status, u64)>,
}

impl RetryGuard {
    fn still_wanted(&self, statuses: &Statuses) -> bool {
        let Some(entry) = statuses.entries.get(&self.subject) else {
            return false;
        };
        entry.incarnation == self.incarnation
            && statuses.generation == self.generation
            && self.safe.as_ref().is_none_or(|(status, sequence)| {
                entry.can_write_safely(status) && entry.sequence == *sequence
            })
    }
}

impl KafkaStatusBackingStore {
    /// Creates the status topic if missing (`status.storage.partitions`, compacted; an
    /// existing topic must be compacted), reads it to the end and follows it.
    pub async fn start(cluster: &Cluster, props: &WorkerProps) -> Result<Self> {
        let topic = InternalTopic::statuses(props)?;
        topic
            .ensure(&Admin::new(cluster.clone()), api_timeout(props))
            .await?;
        let shared = Arc::new(Mutex::new(Statuses::default()));
        let reader = shared.clone();
        let callback = Box::new(move |record: &ConsumerRecord| lock(&reader).apply(record));
        // Retries are this store's: it drops those a newer status made stale.
        let clients = log_clients(props, &[("retries", "0")])?;
        let log = Arc::new(KafkaBasedLog::start(cluster, &topic.name, clients, callback).await?);
        let (writes, queue) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_in_order(
            log.clone(),
            shared.clone(),
            writes.clone(),
            queue,
        ));
        Ok(Self {
            log,
            shared,
            writes,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Writes a connector's status (a DESTROYED status is written as a tombstone).
    pub fn put_connector(&self, connector: &str, status: Status) {
        self.put(Subject::Connector(connector.to_owned()), status, false);
    }

    /// Writes a connector's status unless the status read last is another worker's of a newer
    /// generation (Java's `putSafe`).
    pub fn put_connector_safe(&self, connector: &str, status: Status) {
        self.put(Subject::Connector(connector.to_owned()), status, true);
    }

    /// Writes a task's status (a DESTROYED status is written as a tombstone).
    pub fn put_task(&self, task: &ConnectorTaskId, status: Status) {
        self.put(Subject::Task(task.clone()), status, false);
    }

    /// Writes a task's status unless the status read last is another worker's of a newer
    /// generation (Java's `putSafe`).
    pub fn put_task_safe(&self, task: &ConnectorTaskId, status: Status) {
        self.put(Subject::Task(task.clone()), status, true);
    }

    /// Records that a connector used a topic (`status-topic-TOPIC:connector-NAME`).
    pub fn put_topic(&self, status: &TopicStatus) {
        let key = StatusKey::Topic {
            topic: status.topic.clone(),
            connector: status.connector.clone(),
        };
        self.enqueue(Write {
            key: key.to_string(),
            value: Some(status.to_json()),
            guard: None,
        });
    }

    /// Forgets that a connector used a topic (a tombstone), for `PUT /connectors/NAME/topics/reset`.
    pub fn delete_topic(&self, connector: &str, topic: &str) {
        let key = StatusKey::Topic {
            topic: topic.to_owned(),
            connector: connector.to_owned(),
        };
        self.enqueue(Write {
            key: key.to_string(),
            value: None,
            guard: None,
        });
    }

    /// A connector's status, as last read.
    pub fn connector(&self, connector: &str) -> Option<Status> {
        let subject = Subject::Connector(connector.to_owned());
        lock(&self.shared).entries.get(&subject)?.value.clone()
    }

    /// A task's status, as last read.
    pub fn task(&self, task: &ConnectorTaskId) -> Option<Status> {
        let subject = Subject::Task(task.clone());
        lock(&self.shared).entries.get(&subject)?.value.clone()
    }

    /// The statuses of a connector's tasks, ordered by task.
    pub fn tasks(&self, connector: &str) -> Vec<(ConnectorTaskId, Status)> {
        let start = Subject::Task(ConnectorTaskId::new(connector, i32::MIN));
        lock(&self.shared)
            .entries
            .range(start..)
            .map_while(|(subject, entry)| match subject {
                Subject::Task(t) if t.connector == connector => Some((t, entry)),
                _ => None,
            })
            .filter_map(|(t, entry)| Some((t.clone(), entry.value.clone()?)))
            .collect()
    }

    /// The connectors with a connector or task status, sorted (Java's `connectors()`).
    pub fn connectors(&self) -> Vec<String> {
        let shared = lock(&self.shared);
        let names: std::collections::BTreeSet<&String> = shared
            .entries
            .iter()
            .filter(|(_, entry)| entry.value.is_some())
            .map(|(subject, _)| match subject {
                Subject::Connector(c) => c,
                Subject::Task(t) => &t.connector,
            })
            .collect();
        names.into_iter().cloned().collect()
    }

    /// A topic a connector used, as last read.
    pub fn topic(&self, connector: &str, topic: &str) -> Option<TopicStatus> {
        lock(&self.shared)
            .topics
            .get(connector)?
            .get(topic)
            .cloned()
    }

    /// The topics a connector used (its active topics), sorted by topic.
    pub fn topics(&self, connector: &str) -> Vec<TopicStatus> {
        lock(&self.shared)
            .topics
            .get(connector)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Sends the queued writes and waits for their outcomes.
    pub async fn flush(&self) {
        self.drain().await;
        self.log.flush().await;
    }

    /// Waits until every write queued before the call is with the producer.
    async fn drain(&self) {
        let (done, drained) = oneshot::channel();
        if self.writes.send(Queued::Drained(done)).is_ok() {
            let _ = drained.await;
        }
    }

    /// Reads the topic to its end (after sending this worker's writes), so that reads show
    /// every status written before the call.
    pub async fn read_to_end(&self) -> Result<()> {
        within(READ_WRITE_TIMEOUT, "reading the status topic", async {
            self.flush().await;
            self.log.read_to_end().await
        })
        .await
    }

    /// Hands the queued writes to the producer, stops writing (re-sends of failed writes are
    /// dropped), delivers what was sent and stops following the topic.
    pub async fn stop(&self) {
        self.drain().await;
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(writer) = writer {
            writer.abort();
            let _ = writer.await;
        }
        self.log.stop().await;
    }

    fn put(&self, subject: Subject, status: Status, safe: bool) {
        let key = match &subject {
            Subject::Connector(c) => StatusKey::Connector(c.clone()),
            Subject::Task(t) => StatusKey::Task(t.clone()),
        };
        let guard = {
            let mut statuses = lock(&self.shared);
            statuses.generation = status.generation;
            let entry = statuses.entry(subject.clone());
            if safe && !entry.can_write_safely(&status) {
                tracing::debug!(%key, "not overwriting a newer generation's status");
                return;
            }
            entry.sequence += 1;
            RetryGuard {
                subject,
                incarnation: entry.incarnation,
                generation: status.generation,
                safe: safe.then(|| (status.clone(), entry.sequence)),
            }
        };
        let value = (status.state != State::Destroyed).then(|| status.to_json());
        self.enqueue(Write {
            key: key.to_string(),
            value,
            guard: Some(guard),
        });
    }

    fn enqueue(&self, write: Write) {
        if self.writes.send(Queued::Write(write)).is_err() {
            tracing::warn!("the status store is stopped: a status update is dropped");
        }
    }
}

impl Drop for KafkaStatusBackingStore {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            writer.abort();
        }
    }
}

/// Hands queued writes to the producer one at a time (so they keep their order), and re-queues
/// those that fail with a retriable error while still wanted.
async fn write_in_order(
    log: Arc<KafkaBasedLog>,
    shared: Arc<Mutex<Statuses>>,
    requeue: mpsc::UnboundedSender<Queued>,
    mut queue: mpsc::UnboundedReceiver<Queued>,
) {
    while let Some(queued) = queue.recv().await {
        let write = match queued {
            Queued::Write(write) => write,
            Queued::Drained(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let key = Bytes::from(write.key.clone());
        let value = write.value.clone().map(Bytes::from);
        let sent = log.send(Some(key), value).await;
        let shared = shared.clone();
        let requeue = requeue.clone();
        tokio::spawn(async move {
            let error = match sent {
                Ok(delivery) => match delivery.await {
                    Ok(_) => return,
                    Err(error) => error,
                },
                Err(super::StoreError::Kafka(error)) => error,
                Err(error) => {
                    tracing::error!(key = %write.key, %error, "failed to write a status update");
                    return;
                }
            };
            let wanted = error.is_retriable()
                && write
                    .guard
                    .as_ref()
                    .is_none_or(|guard| guard.still_wanted(&lock(&shared)));
            if wanted {
                tracing::debug!(key = %write.key, %error, "re-sending a status update");
                let _ = requeue.send(Queued::Write(write));
            } else {
                tracing::error!(key = %write.key, %error, "failed to write a status update");
            }
        });
    }
}

fn lock(shared: &Mutex<Statuses>) -> MutexGuard<'_, Statuses> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
#[path = "status_store_tests.rs"]
mod tests;
