//! A tiny stand-in for the Connect worker (poll → produce to the target → commit_record) and the
//! librdkafka snippets that write source data and independently decode what landed on the
//! target.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ferry_connect::connector::{
    ConfigMap, ConnectorContext, OffsetStorageReader, RecordMetadata, SourceTask, SourceTaskContext,
};
use ferry_connect::data::Value;
use ferry_connect::record::{SourceMap, SourceRecord};
use ferry_connect::{ConnectError, async_trait};
use ferry_kafka::producer::{Producer, ProducerRecord};
use ferry_kafka::{ClientConfig, Cluster};

/// Counts the reconfiguration requests of a connector.
#[derive(Debug, Default)]
pub struct Context {
    pub reconfigurations: AtomicUsize,
}

impl ConnectorContext for Context {
    fn request_task_reconfiguration(&self) {
        self.reconfigurations.fetch_add(1, Ordering::SeqCst);
    }

    fn raise_error(&self, error: ConnectError) {
        panic!("connector raised {error}");
    }
}

/// Committed source offsets in memory, keyed by the partition's JSON.
#[derive(Debug, Default)]
pub struct Offsets(Mutex<HashMap<String, SourceMap>>);

impl Offsets {
    pub fn put(&self, partition: &SourceMap, offset: &SourceMap) {
        let key = serde_json::Value::Object(partition.clone()).to_string();
        self.0.lock().unwrap().insert(key, offset.clone());
    }
}

#[async_trait]
impl OffsetStorageReader for Offsets {
    async fn offset(&self, partition: &SourceMap) -> ferry_connect::Result<Option<SourceMap>> {
        let key = serde_json::Value::Object(partition.clone()).to_string();
        Ok(self.0.lock().unwrap().get(&key).cloned())
    }
}

#[derive(Debug)]
struct TaskContext {
    configs: ConfigMap,
    offsets: Arc<Offsets>,
}

impl SourceTaskContext for TaskContext {
    fn configs(&self) -> ConfigMap {
        self.configs.clone()
    }

    fn offset_storage_reader(&self) -> Arc<dyn OffsetStorageReader> {
        self.offsets.clone()
    }
}

/// Runs one source task as the worker would, producing to the target cluster.
pub struct Driver {
    pub task: Box<dyn SourceTask>,
    producer: Producer,
    pub offsets: Arc<Offsets>,
}

fn bytes_of(value: Option<&Value>) -> Option<Bytes> {
    match value {
        None => None,
        Some(Value::Bytes(b)) => Some(b.clone()),
        Some(other) => panic!("a mirror record holds {other:?}, not bytes"),
    }
}

impl Driver {
    pub async fn start(
        mut task: Box<dyn SourceTask>,
        config: ConfigMap,
        target_bootstrap: &str,
        offsets: Arc<Offsets>,
    ) -> Self {
        task.initialize(Arc::new(TaskContext {
            configs: config.clone(),
            offsets: offsets.clone(),
        }));
        task.start(config).await.unwrap();
        Self {
            task,
            producer: producer(target_bootstrap),
            offsets,
        }
    }

    /// One poll; every record is written to the target and committed. Returns the records.
    pub async fn step(&mut self) -> Vec<SourceRecord> {
        let records = self.task.poll().await.unwrap();
        let mut deliveries = Vec::new();
        for record in &records {
            let mut produced = ProducerRecord {
                topic: record.topic.clone().into(),
                partition: record.kafka_partition,
                key: bytes_of(record.key.as_ref()),
                value: bytes_of(record.value.as_ref()),
                timestamp: record.timestamp,
                ..ProducerRecord::default()
            };
            for header in record.headers.iter() {
                produced = produced.with_header(header.key().to_owned(), bytes_of(header.value()));
            }
            deliveries.push(self.producer.send(produced).await.unwrap());
        }
        for (record, delivery) in records.iter().zip(deliveries) {
            let written = delivery.await.unwrap();
            let metadata = RecordMetadata {
                topic: written.topic.to_string(),
                partition: written.partition,
                offset: written.offset,
                timestamp: Some(written.timestamp),
            };
            self.task
                .commit_record(record, Some(&metadata))
                .await
                .unwrap();
            if let (Some(p), Some(o)) = (&record.source_partition, &record.source_offset) {
                self.offsets.put(p, &o.as_map());
            }
        }
        records
    }

    /// The worker's periodic offset commit, then the task's stop.
    pub async fn stop(mut self) {
        self.task.commit().await.unwrap();
        self.task.stop().await.unwrap();
        self.producer.close().await;
    }
}

pub fn producer(bootstrap: &str) -> Producer {
    let pairs = [("bootstrap.servers", bootstrap), ("linger.ms", "1")];
    let cluster = Cluster::new(ClientConfig::from_pairs(pairs).unwrap());
    Producer::new(cluster, pairs).unwrap()
}

pub fn props(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Waits until `check` holds, for state that settles asynchronously.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn python(script: &'static str, args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || ferry_testkit::python(script, &args))
        .await
        .unwrap()
        .unwrap()
}

const CREATE: &str = r#"
import sys
from confluent_kafka.admin import AdminClient, NewTopic
bootstrap, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = dict(kv.split('=', 1) for kv in sys.argv[4:])
admin = AdminClient({'bootstrap.servers': bootstrap})
new = NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config)
for f in admin.create_topics([new]).values():
    f.result()
"#;

/// Creates `topic` with librdkafka's admin client.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    create_topic_with(bootstrap, topic, partitions, &[]).await;
}

/// Creates `topic` with topic configs `(key, value)`.
pub async fn create_topic_with(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) {
    let mut args = vec![bootstrap.into(), topic.into(), partitions.to_string()];
    args.extend(configs.iter().map(|(k, v)| format!("{k}={v}")));
    python(CREATE, args).await;
}

const CONFIGS: &str = r#"
import sys
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigEntry, AlterConfigOpType
bootstrap, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({'bootstrap.servers': bootstrap})
resource = ConfigResource('topic', topic)
if len(sys.argv) > 3:
    ops = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
           for k, v in (kv.split('=', 1) for kv in sys.argv[3:])]
    for f in admin.incremental_alter_configs([ConfigResource('topic', topic, incremental_configs=ops)]).values():
        f.result()
else:
    for f in admin.describe_configs([resource]).values():
        for name, entry in sorted(f.result().items()):
            print(name, entry.value)
"#;

/// The explicitly set configs of `topic`, as librdkafka's admin client describes them.
pub async fn topic_configs(bootstrap: &str, topic: &str) -> HashMap<String, String> {
    let out = python(CONFIGS, vec![bootstrap.into(), topic.into()]).await;
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Sets topic configs `(key, value)` of `topic` (IncrementalAlterConfigs).
pub async fn alter_topic_configs(bootstrap: &str, topic: &str, configs: &[(&str, &str)]) {
    let mut args = vec![bootstrap.into(), topic.into()];
    args.extend(configs.iter().map(|(k, v)| format!("{k}={v}")));
    python(CONFIGS, args).await;
}

const PRODUCE: &str = r#"
import sys
from confluent_kafka import Producer
bootstrap, topic, count, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5})
for i in range(count):
    key = None if i % 7 == 0 else ('key-%d' % i).encode()
    value = None if i % 11 == 5 else bytes((i * 37 + j) % 256 for j in range(i % 50))
    headers = [('h', str(i).encode()), ('null', None), ('h', b'again')] if i % 3 == 0 else None
    p.produce(topic, value=value, key=key, partition=i % partitions,
              timestamp=1700000000000 + i, headers=headers)
p.flush(30)
"#;

/// Writes `count` varied records (null keys and values, repeated and null headers, set
/// timestamps) round-robin over `partitions` partitions of `topic` with librdkafka.
pub async fn produce(bootstrap: &str, topic: &str, count: usize, partitions: i32) {
    let args = vec![
        bootstrap.into(),
        topic.into(),
        count.to_string(),
        partitions.to_string(),
    ];
    python(PRODUCE, args).await;
}

const READ: &str = r#"
import sys
from confluent_kafka import Consumer, TopicPartition, KafkaError
bootstrap, topic = sys.argv[1], sys.argv[2]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'ferry-mirror-test-reader',
              'enable.auto.commit': False, 'enable.partition.eof': True,
              'fetch.wait.max.ms': 50})
parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
c.assign([TopicPartition(topic, p, 0) for p in parts])
def hexed(b):
    return '-' if b is None else (b.hex() or '=')
at_end = set()
while len(at_end) < len(parts):
    for m in c.consume(1000, 1.0):
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(m.partition())
                continue
            raise SystemExit(str(m.error()))
        at_end.discard(m.partition())
        hs = ','.join('%s:%s' % (k, hexed(v)) for k, v in (m.headers() or [])) or '.'
        print(m.partition(), m.offset(), m.timestamp()[1], hexed(m.key()), hexed(m.value()), hs)
c.close()
"#;

/// Every record of `topic` as librdkafka reads it, one line per record:
/// `partition offset timestamp key value headers`, bytes in hex.
pub async fn read_all(bootstrap: &str, topic: &str) -> Vec<String> {
    let out = python(READ, vec![bootstrap.into(), topic.into()]).await;
    let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
    lines.sort_by_key(|l| {
        let mut f = l.split(' ');
        let p: i32 = f.next().unwrap().parse().unwrap();
        let o: i64 = f.next().unwrap().parse().unwrap();
        (p, o)
    });
    lines
}

/// The partition count librdkafka sees for `topic` (0 when it does not exist).
pub async fn partition_count(bootstrap: &str, topic: &str) -> usize {
    const COUNT: &str = r#"
import sys
from confluent_kafka.admin import AdminClient
bootstrap, topic = sys.argv[1], sys.argv[2]
md = AdminClient({'bootstrap.servers': bootstrap}).list_topics(timeout=10)
t = md.topics.get(topic)
print(0 if t is None or t.error is not None else len(t.partitions))
"#;
    let out = python(COUNT, vec![bootstrap.into(), topic.into()]).await;
    out.trim().parse().unwrap()
}

const COMMIT: &str = r#"
import sys
from confluent_kafka import Consumer, TopicPartition
bootstrap, group, topic = sys.argv[1], sys.argv[2], sys.argv[3]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False})
offsets = []
for spec in sys.argv[4:]:
    p, o = spec.split(':')
    offsets.append(TopicPartition(topic, int(p), int(o)))
c.commit(offsets=offsets, asynchronous=False)
c.close()
"#;

/// Commits `offsets` (partition, offset) of `topic` for `group` with librdkafka.
pub async fn commit(bootstrap: &str, group: &str, topic: &str, offsets: &[(i32, i64)]) {
    let mut args = vec![bootstrap.into(), group.into(), topic.into()];
    args.extend(offsets.iter().map(|(p, o)| format!("{p}:{o}")));
    python(COMMIT, args).await;
}

const DECODE: &str = r#"
import struct, sys
from confluent_kafka import Consumer, TopicPartition, KafkaError
bootstrap, topic, kind = sys.argv[1], sys.argv[2], sys.argv[3]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'ferry-mirror-test-decoder',
              'enable.auto.commit': False, 'enable.partition.eof': True, 'fetch.wait.max.ms': 50})
c.assign([TopicPartition(topic, 0, 0)])
def string(buf, at):
    (n,) = struct.unpack_from('>h', buf, at)
    return buf[at + 2:at + 2 + n].decode(), at + 2 + n
done = False
while not done:
    for m in c.consume(1000, 1.0):
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                done = True
                continue
            raise SystemExit(str(m.error()))
        k, v = m.key(), m.value()
        if kind == 'sync':
            t, at = string(k, 0)
            (p,) = struct.unpack_from('>i', k, at)
            up, down = struct.unpack('>qq', v)
            print(t, p, up, down)
        elif kind == 'checkpoint':
            g, at = string(k, 0)
            t, at = string(k, at)
            (p,) = struct.unpack_from('>i', k, at)
            version, up, down = struct.unpack_from('>hqq', v, 0)
            meta, _ = string(v, 18)
            print(g, t, p, version, up, down, meta or '-')
        else:
            s, at = string(k, 0)
            t, at = string(k, at)
            version, ts = struct.unpack('>hq', v)
            print(s, t, version, ts, m.timestamp()[1])
c.close()
"#;

/// The records of partition 0 of an MM2 internal topic, decoded by Python's `struct` from
/// Java's layouts: `kind` is `sync`, `checkpoint` or `heartbeat`; one line per record.
pub async fn decode(bootstrap: &str, topic: &str, kind: &str) -> Vec<Vec<String>> {
    let out = python(DECODE, vec![bootstrap.into(), topic.into(), kind.into()]).await;
    out.lines()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

const ACTIVE: &str = r#"
import sys, time
from confluent_kafka import Consumer, TopicPartition
bootstrap, group, topic, offset, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False,
              'session.timeout.ms': 6000, 'heartbeat.interval.ms': 1000, 'auto.offset.reset': 'earliest'})
c.subscribe([topic])
deadline = time.time() + 60
while not c.assignment():
    c.poll(0.2)
    if time.time() > deadline:
        raise SystemExit('never assigned')
c.commit(offsets=[TopicPartition(topic, p.partition, offset) for p in c.assignment()], asynchronous=False)
end = time.time() + seconds
while time.time() < end:
    c.poll(0.2)
c.close()
"#;

/// Keeps a librdkafka consumer in `group`, subscribed to `topic`, for `seconds` after it got
/// its assignment and committed `offset` for every assigned partition.
pub fn stay_in_group(
    bootstrap: &str,
    group: &str,
    topic: &str,
    offset: i64,
    seconds: u32,
) -> tokio::task::JoinHandle<String> {
    let args = vec![
        bootstrap.into(),
        group.into(),
        topic.into(),
        offset.to_string(),
        seconds.to_string(),
    ];
    tokio::task::spawn_blocking(move || ferry_testkit::python(ACTIVE, &args).unwrap())
}
