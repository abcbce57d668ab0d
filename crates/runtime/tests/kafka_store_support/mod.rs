//! Helpers for the internal-topic store tests: a broker, the worker properties naming the
//! internal topics, and the independent client (librdkafka) to read and write raw records.

#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use ferry_kafka::{ClientConfig, Cluster};
use ferry_runtime::storage::kafka::WorkerProps;
use serde_json::Value;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A broker and the properties of a worker using it with small internal topics.
pub struct Setup {
    pub broker: ferry_testkit::Cluster,
    pub props: WorkerProps,
}

impl Setup {
    pub async fn start() -> Self {
        let broker = ferry_testkit::Cluster::start()
            .await
            .expect("a test broker");
        let props = Self::props_for(broker.bootstrap());
        Self { broker, props }
    }

    /// The worker properties for a broker at `bootstrap`.
    pub fn props_for(bootstrap: String) -> WorkerProps {
        [
            ("bootstrap.servers", bootstrap),
            ("group.id", "connect-cluster".to_owned()),
            ("config.storage.topic", "connect-configs".to_owned()),
            ("offset.storage.topic", "connect-offsets".to_owned()),
            ("status.storage.topic", "connect-status".to_owned()),
            ("config.storage.replication.factor", "1".to_owned()),
            ("offset.storage.replication.factor", "1".to_owned()),
            ("status.storage.replication.factor", "1".to_owned()),
            ("offset.storage.partitions", "3".to_owned()),
            ("status.storage.partitions", "2".to_owned()),
            // Multi-partition fetches on the test broker wait for this long (TEST-BROKER.md, 11).
            ("fetch.max.wait.ms", "50".to_owned()),
            // Small polls: a read to the end must not stop inside a batch.
            ("max.poll.records", "3".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// A client of the broker, as one worker would have (each call is another worker).
    pub fn cluster(&self) -> Cluster {
        Cluster::new(ClientConfig::from_pairs(self.props.iter()).expect("a client config"))
    }

    pub fn bootstrap(&self) -> String {
        self.broker.bootstrap()
    }
}

/// One record as librdkafka read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Option<String>,
}

const READ: &str = r#"
import sys, json, time, base64
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, partitions, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'raw-reader', 'enable.auto.commit': False})
c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
out = []
deadline = time.time() + 30
settle = None
while time.time() < deadline:
    if len(out) >= expected:
        settle = settle or time.time() + 0.5
        if time.time() > settle:
            break
    m = c.poll(0.2)
    if m is None or m.error():
        continue
    b64 = lambda b: None if b is None else base64.b64encode(b).decode()
    out.append({'p': m.partition(), 'o': m.offset(), 'k': b64(m.key()), 'v': b64(m.value())})
c.close()
print(json.dumps(out))
"#;

/// Reads at least `expected` records of all `partitions` of `topic` with librdkafka (and any
/// that follow within half a second), sorted by partition and offset.
pub async fn read_raw(bootstrap: &str, topic: &str, partitions: i32, expected: usize) -> Vec<Raw> {
    let args = [
        bootstrap.to_owned(),
        topic.to_owned(),
        partitions.to_string(),
        expected.to_string(),
    ];
    let out = python(READ, args).await;
    let records: Vec<Value> = serde_json::from_str(&out).expect("the reader's JSON");
    let text = |v: &Value| {
        v.as_str().map(|s| {
            let bytes = base64_decode(s);
            String::from_utf8(bytes).expect("UTF-8 record bytes")
        })
    };
    let mut raw: Vec<Raw> = records
        .iter()
        .map(|r| Raw {
            partition: r["p"].as_i64().unwrap() as i32,
            offset: r["o"].as_i64().unwrap(),
            key: text(&r["k"]),
            value: text(&r["v"]),
        })
        .collect();
    raw.sort_by_key(|r| (r.partition, r.offset));
    raw
}

const WRITE: &str = r#"
import sys, json
from confluent_kafka import Producer
bootstrap, topic, records, batched = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == 'batched'
# Java's default partitioner for keyed records: murmur2 of the key bytes.
p = Producer({'bootstrap.servers': bootstrap, 'partitioner': 'murmur2_random', 'acks': 'all',
              'max.in.flight.requests.per.connection': 1, 'linger.ms': 100 if batched else 0})
placed = []
def done(err, msg):
    if err is not None:
        raise SystemExit(str(err))
    placed.append(msg.partition())
for key, value in records:
    p.produce(topic, key=key.encode(), value=None if value is None else value.encode(), on_delivery=done)
    if not batched:
        p.flush()
p.flush()
print(json.dumps(placed))
"#;

/// Writes `(key, value)` records in order with librdkafka, one batch each, partitioned as
/// Java's producer partitions keyed records; returns the partition of each.
pub async fn write_raw(bootstrap: &str, topic: &str, records: &[(&str, Option<&str>)]) -> Vec<i32> {
    write(bootstrap, topic, records, "single").await
}

/// Like [`write_raw`], letting librdkafka put many records in one batch (the test broker's
/// ListOffsets answers only the last batch's base offset + 1 for the end).
pub async fn write_raw_batched(bootstrap: &str, topic: &str, records: &[(&str, Option<&str>)]) {
    write(bootstrap, topic, records, "batched").await;
}

async fn write(
    bootstrap: &str,
    topic: &str,
    records: &[(&str, Option<&str>)],
    mode: &str,
) -> Vec<i32> {
    let records = serde_json::to_string(records).unwrap();
    let args = [
        bootstrap.to_owned(),
        topic.to_owned(),
        records,
        mode.to_owned(),
    ];
    serde_json::from_str(&python(WRITE, args).await).expect("the writer's JSON")
}

const CREATE: &str = r#"
import sys, json
from confluent_kafka.admin import AdminClient, NewTopic
bootstrap, topic, partitions, configs = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
admin = AdminClient({'bootstrap.servers': bootstrap})
for f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1, config=configs)]).values():
    f.result()
"#;

/// Creates a topic with librdkafka's admin client.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32, configs: &[(&str, &str)]) {
    let configs: serde_json::Map<String, Value> = configs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    let args = [
        bootstrap.to_owned(),
        topic.to_owned(),
        partitions.to_string(),
        Value::Object(configs).to_string(),
    ];
    python(CREATE, args).await;
}

async fn python<const N: usize>(script: &'static str, args: [String; N]) -> String {
    tokio::task::spawn_blocking(move || ferry_testkit::python(script, &args))
        .await
        .expect("the python task")
        .expect("the python snippet")
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64 from the reader")
}

/// Waits until `condition` holds, polling; panics after 30 s.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
