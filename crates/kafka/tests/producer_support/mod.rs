//! Helpers shared by the producer tests: topics created and records read back by librdkafka,
// Each test crate uses a part of these helpers.
#![allow(dead_code)]
//! the independent client.

use bytes::Bytes;
use ferry_kafka::producer::{Producer, ProducerRecord};
use ferry_kafka::{ClientConfig, Cluster};

/// A producer on its own cluster handle, with `extra` settings.
pub fn producer(bootstrap: &str, extra: &[(&str, &str)]) -> Producer {
    let mut pairs = vec![("bootstrap.servers", bootstrap)];
    pairs.extend_from_slice(extra);
    let cluster = Cluster::new(ClientConfig::from_pairs(pairs.iter().copied()).unwrap());
    Producer::new(cluster, pairs).unwrap()
}

/// Lower-case hex, as Python's `bytes.hex()`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn python(script: &'static str, args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || ferry_testkit::python(script, &args))
        .await
        .unwrap()
        .unwrap()
}

const CREATE: &str = r#"
import sys
from confluent_kafka.admin import AdminClient, NewTopic
bootstrap, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
admin = AdminClient({'bootstrap.servers': bootstrap})
for f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
    f.result()
"#;

/// Creates `topic` with `partitions` partitions.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    python(
        CREATE,
        vec![
            bootstrap.to_owned(),
            topic.to_owned(),
            partitions.to_string(),
        ],
    )
    .await;
}

/// A record as librdkafka read it; bytes in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<String>,
    pub value: Option<String>,
    pub headers: Vec<(String, Option<String>)>,
}

const READ: &str = r#"
import sys
from confluent_kafka import Consumer, TopicPartition, KafkaError
bootstrap, topic = sys.argv[1], sys.argv[2]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'ferry-producer-test',
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

fn unhex(field: &str) -> Option<String> {
    match field {
        "-" => None,
        "=" => Some(String::new()),
        other => Some(other.to_owned()),
    }
}

/// Every record of every partition of `topic`, read by librdkafka up to the end of each
/// partition, in partition and offset order.
pub async fn read_all(bootstrap: &str, topic: &str) -> Vec<Read> {
    let out = python(READ, vec![bootstrap.to_owned(), topic.to_owned()]).await;
    let mut records: Vec<Read> = out
        .lines()
        .map(|line| {
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
            Read {
                partition: f[0].parse().unwrap(),
                offset: f[1].parse().unwrap(),
                timestamp: f[2].parse().unwrap(),
                key: unhex(f[3]),
                value: unhex(f[4]),
                headers,
            }
        })
        .collect();
    records.sort_by_key(|r| (r.partition, r.offset));
    records
}

const PARTITIONS: &str = r#"
import sys
from confluent_kafka import Producer
bootstrap, topic = sys.argv[1], sys.argv[2]
p = Producer({'bootstrap.servers': bootstrap, 'partitioner': 'murmur2_random'})
def done(err, msg):
    if err is not None:
        raise SystemExit(str(err))
    print(msg.key().decode(), msg.partition())
for key in sys.argv[3:]:
    p.produce(topic, key=key.encode(), value=b'', on_delivery=done)
p.flush()
"#;

/// The partition librdkafka's Java-compatible partitioner (`murmur2_random`) picks for each
/// key, from its delivery reports.
pub async fn rdkafka_partitions(
    bootstrap: &str,
    topic: &str,
    keys: &[String],
) -> Vec<(String, i32)> {
    let mut args = vec![bootstrap.to_owned(), topic.to_owned()];
    args.extend(keys.iter().cloned());
    let out = python(PARTITIONS, args).await;
    let pairs: Vec<(String, i32)> = out
        .lines()
        .map(|line| {
            let (key, partition) = line.split_once(' ').unwrap();
            (key.to_owned(), partition.parse().unwrap())
        })
        .collect();
    assert_eq!(pairs.len(), keys.len());
    pairs
}

/// Record `n` of a numbered sequence: its value starts with `n` in eight digits.
pub fn numbered(topic: &str, n: u32) -> ProducerRecord {
    ProducerRecord::new(
        topic.to_owned(),
        Bytes::from(format!("{n:08}-{}", "y".repeat(200))),
    )
}

/// Checks that librdkafka reads `0..count` exactly once each, in order per partition.
pub async fn assert_exactly_once(bootstrap: &str, topic: &str, count: u32) {
    let read = read_all(bootstrap, topic).await;
    let numbers: Vec<u32> = read
        .iter()
        .map(|r| {
            let value = r.value.as_deref().unwrap();
            let digits = String::from_utf8(
                (0..16)
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&value[i..i + 2], 16).unwrap())
                    .collect(),
            )
            .unwrap();
            digits.parse().unwrap()
        })
        .collect();
    let mut seen = vec![0u32; count as usize];
    for n in &numbers {
        seen[*n as usize] += 1;
    }
    let missing = seen.iter().filter(|c| **c == 0).count();
    let duplicated = seen.iter().filter(|c| **c > 1).count();
    assert_eq!((missing, duplicated), (0, 0), "records missing, duplicated");
    let out_of_order = numbers.windows(2).position(|w| w[1] != w[0] + 1);
    assert_eq!(out_of_order, None, "records out of order");
}
