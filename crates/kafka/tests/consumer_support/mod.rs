//! Helpers shared by the consumer tests: records produced by librdkafka (the independent
//! client), and reading them back with Ferry.

// Each test crate that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use ferry_kafka::consumer::{Consumer, ConsumerConfig, ConsumerRecord, TopicPartition};
use ferry_kafka::{ClientConfig, Cluster};

/// A record as librdkafka produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Produced {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Produced {
    /// Asserts that Ferry read this record byte for byte.
    pub fn assert_matches(&self, record: &ConsumerRecord) {
        assert_eq!(record.partition, self.partition);
        assert_eq!(record.offset, self.offset);
        assert_eq!(
            record.timestamp, self.timestamp,
            "timestamp of {}",
            self.offset
        );
        assert_eq!(
            record.key.as_deref(),
            self.key.as_deref(),
            "key of {}",
            self.offset
        );
        assert_eq!(
            record.value.as_deref(),
            self.value.as_deref(),
            "value of {}",
            self.offset
        );
        let headers: Vec<(String, Option<Vec<u8>>)> = record
            .headers
            .iter()
            .map(|h| (h.key.to_string(), h.value.as_ref().map(|v| v.to_vec())))
            .collect();
        assert_eq!(headers, self.headers, "headers of {}", self.offset);
    }
}

const PRODUCE: &str = r#"
import sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic, partitions, count, compression, mode, start = sys.argv[1:8]
partitions, count, start = int(partitions), int(count), int(start)
if start == 0:
    admin = AdminClient({'bootstrap.servers': bootstrap})
    for f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
        f.result()
p = Producer({'bootstrap.servers': bootstrap, 'compression.type': compression,
              'linger.ms': 0 if mode == 'single' else 20, 'batch.num.messages': 1000})
out = []
def delivered(key, value, headers):
    def done(err, msg):
        if err is not None:
            raise SystemExit(str(err))
        out.append((msg.partition(), msg.offset(), msg.timestamp()[1], key, value, headers))
    return done
for n in range(start, start + count):
    key = None if n % 7 == 3 else b'key-%d' % n
    value = None if n % 11 == 5 else (b'value-%d-' % n) * (n % 13 + 1)
    headers = [('h', b'first'), ('h', b'%d' % n), ('empty', b''), ('null', None)] if n % 3 == 0 else []
    p.produce(topic, key=key, value=value, headers=headers, partition=n % partitions,
              timestamp=1_600_000_000_000 + n, on_delivery=delivered(key, value, headers))
    if mode == 'single':
        p.flush()
    else:
        p.poll(0)
p.flush()
def hexed(b):
    return '-' if b is None else (b.hex() or '=')
for (partition, offset, timestamp, key, value, headers) in out:
    hs = ','.join('%s:%s' % (k, hexed(v)) for k, v in headers) or '.'
    print(partition, offset, timestamp, hexed(key), hexed(value), hs)
"#;

/// How librdkafka batches what it produces.
#[derive(Debug, Clone, Copy)]
pub enum Batching {
    /// One record per batch (flushed one by one): the test broker's ListOffsets is exact then.
    Single,
    /// Many records per batch.
    Batched,
}

/// Produces `count` records (numbered from `start`) to `topic`, creating it with `partitions`
/// when `start` is 0, and returns them in partition and offset order. Python runs on a blocking
/// thread so that the test's runtime (and a proxy in it) keeps running meanwhile.
pub async fn produce(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    start: usize,
    count: usize,
    compression: &str,
    batching: Batching,
) -> Vec<Produced> {
    let mode = match batching {
        Batching::Single => "single",
        Batching::Batched => "batched",
    };
    let args = [
        bootstrap.to_owned(),
        topic.to_owned(),
        partitions.to_string(),
        count.to_string(),
        compression.to_owned(),
        mode.to_owned(),
        start.to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || ferry_testkit::python(PRODUCE, &args))
        .await
        .unwrap()
        .expect("librdkafka produces");
    let mut produced: Vec<Produced> = out.lines().map(parse).collect();
    produced.sort_by_key(|p| (p.partition, p.offset));
    assert_eq!(produced.len(), count);
    produced
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    match s {
        "-" => None,
        "=" => Some(Vec::new()),
        s => Some(
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect(),
        ),
    }
}

fn parse(line: &str) -> Produced {
    let f: Vec<&str> = line.split(' ').collect();
    let headers = match f[5] {
        "." => Vec::new(),
        hs => hs
            .split(',')
            .map(|h| {
                let (k, v) = h.split_once(':').unwrap();
                (k.to_owned(), unhex(v))
            })
            .collect(),
    };
    Produced {
        partition: f[0].parse().unwrap(),
        offset: f[1].parse().unwrap(),
        timestamp: f[2].parse().unwrap(),
        key: unhex(f[3]),
        value: unhex(f[4]),
        headers,
    }
}

/// A cluster handle for `bootstrap` with extra client settings.
pub fn cluster(bootstrap: &str, extra: &[(&str, &str)]) -> Cluster {
    let mut pairs = vec![("bootstrap.servers", bootstrap)];
    pairs.extend_from_slice(extra);
    Cluster::new(ClientConfig::from_pairs(pairs).unwrap())
}

/// A consumer with `auto.offset.reset=earliest`, a short fetch wait and `extra` settings.
pub fn consumer(cluster: &Cluster, extra: &[(&str, &str)]) -> Consumer {
    let mut pairs = vec![
        ("auto.offset.reset", "earliest"),
        ("fetch.max.wait.ms", "100"),
    ];
    pairs.extend_from_slice(extra);
    Consumer::new(cluster.clone(), ConsumerConfig::from_pairs(pairs).unwrap())
}

/// Polls until `count` records arrived and checks that no more came.
pub async fn poll_exactly(consumer: &Consumer, count: usize) -> Vec<ConsumerRecord> {
    let records = poll_at_least(consumer, count).await;
    assert_eq!(records.len(), count, "more records than produced");
    records
}

/// Polls until at least `count` records arrived (failing after a generous timeout), checking
/// that offsets within each partition follow each other with no gap and no duplicate (the
/// partitions hold no transactions).
pub async fn poll_at_least(consumer: &Consumer, count: usize) -> Vec<ConsumerRecord> {
    let mut records = Vec::with_capacity(count);
    let mut last: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while records.len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {count} records arrived",
            records.len()
        );
        for record in consumer.poll(Duration::from_millis(500)).await.unwrap() {
            let tp = record.topic_partition();
            if let Some(previous) = last.insert(tp.clone(), record.offset) {
                assert_eq!(record.offset, previous + 1, "{tp}: a gap or a duplicate");
            }
            records.push(record);
        }
    }
    records
}

/// `records` in partition and offset order.
pub fn sorted(mut records: Vec<ConsumerRecord>) -> Vec<ConsumerRecord> {
    records.sort_by_key(|r| (r.topic.clone(), r.partition, r.offset));
    records
}
