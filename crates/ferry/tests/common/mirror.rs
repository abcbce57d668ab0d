//! MirrorMaker 2 on a Connect cluster of `ferry distributed` processes in tests: the connector
//! configs a user POSTs, records with per-partition sequence numbers written by librdkafka, and
//! checks of what reached the target (every sequence number, in order, duplicates accounted
//! for) and of the source offsets committed in the Connect offset topic.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::cluster::{OFFSETS_TOPIC, read_topic};
use crate::common::python;

/// The source and target aliases of every flow in these tests.
pub const SOURCE_ALIAS: &str = "A";
pub const TARGET_ALIAS: &str = "B";

/// The `POST /connectors` body of `MirrorSourceConnector` `name` replicating `topics` from
/// `source` to `target`, as in the demo: Java's class name, byte-array converters, replication
/// factor 1 (one tansu node), ACL sync off (tansu answers CreateAcls with a truncated reply),
/// plus `extra`.
pub fn mirror_source(
    name: &str,
    source: &str,
    target: &str,
    topics: &str,
    extra: &[(&str, &str)],
) -> Value {
    let mut config = json!({
        "connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        "source.cluster.alias": SOURCE_ALIAS,
        "target.cluster.alias": TARGET_ALIAS,
        "source.cluster.bootstrap.servers": source,
        "target.cluster.bootstrap.servers": target,
        "topics": topics,
        "key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "replication.factor": "1",
        "offset-syncs.topic.replication.factor": "1",
        "sync.topic.acls.enabled": "false",
        "refresh.topics.interval.seconds": "1",
        "source.consumer.fetch.max.wait.ms": "50",
    });
    for (key, value) in extra {
        config[*key] = json!(value);
    }
    json!({"name": name, "config": config})
}

/// Creates `topic` with `partitions` partitions (replication factor 1).
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let script = r#"
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({'bootstrap.servers': sys.argv[1]})
for f in admin.create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1)]).values():
    f.result()
"#;
    python(
        script,
        vec![
            bootstrap.to_owned(),
            topic.to_owned(),
            partitions.to_string(),
        ],
    )
    .await;
}

/// Deletes `topic`.
pub async fn delete_topic(bootstrap: &str, topic: &str) {
    let script = r#"
import sys
from confluent_kafka.admin import AdminClient
admin = AdminClient({'bootstrap.servers': sys.argv[1]})
for f in admin.delete_topics([sys.argv[2]]).values():
    f.result()
"#;
    python(script, vec![bootstrap.to_owned(), topic.to_owned()]).await;
}

/// Writes sequence numbers `from..from + count` to every one of `partitions` partitions of
/// `topic`: key the partition, value the sequence number, both as text. They go out in rounds
/// of `chunk` records per partition with `pause_ms` between rounds, so that a test can fault
/// the replication while records are still arriving. On a fresh partition the sequence number
/// is the record's offset.
pub async fn produce_sequences(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    from: u64,
    count: u64,
    chunk: u64,
    pause_ms: u64,
) {
    let script = r#"
import sys, time
from confluent_kafka import Producer
bootstrap, topic = sys.argv[1], sys.argv[2]
partitions, start, count, chunk, pause = (int(a) for a in sys.argv[3:8])
p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5, 'enable.idempotence': True})
seq = start
while seq < start + count:
    end = min(seq + chunk, start + count)
    for part in range(partitions):
        for s in range(seq, end):
            p.produce(topic, str(s).encode(), str(part).encode(), partition=part)
        p.poll(0)
    p.flush()
    seq = end
    time.sleep(pause / 1000.0)
if p.flush(30) != 0:
    sys.exit('records left unsent')
"#;
    let args = [
        bootstrap.to_owned(),
        topic.to_owned(),
        partitions.to_string(),
        from.to_string(),
        count.to_string(),
        chunk.to_string(),
        pause_ms.to_string(),
    ];
    python(script, args.to_vec()).await;
}

/// Like [`produce_sequences`] from 0, in rounds of 50 records per partition every 100 ms, but
/// until the file `stop` exists (or two minutes passed); returns how many records each
/// partition got.
pub async fn produce_until(bootstrap: &str, topic: &str, partitions: i32, stop: &Path) -> u64 {
    let script = r#"
import os, sys, time
from confluent_kafka import Producer
bootstrap, topic, partitions, stop = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5, 'enable.idempotence': True})
seq, deadline = 0, time.time() + 120
while not os.path.exists(stop) and time.time() < deadline:
    for part in range(partitions):
        for s in range(seq, seq + 50):
            p.produce(topic, str(s).encode(), str(part).encode(), partition=part)
        p.poll(0)
    p.flush()
    seq += 50
    time.sleep(0.1)
if p.flush(30) != 0:
    sys.exit('records left unsent')
print(seq)
"#;
    let args = vec![
        bootstrap.to_owned(),
        topic.to_owned(),
        partitions.to_string(),
        stop.display().to_string(),
    ];
    python(script, args).await.trim().parse().unwrap()
}

/// The number of records in each partition of `topic` (the Fetch high watermark, which tansu
/// reports right, unlike ListOffsets); empty while the topic does not exist.
pub async fn record_counts(bootstrap: &str, topic: &str) -> BTreeMap<i32, i64> {
    let script = r#"
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'e2e-counter'})
md = c.list_topics(timeout=10).topics.get(sys.argv[2])
if md is not None and md.error is None:
    for p in sorted(md.partitions):
        low, high = c.get_watermark_offsets(TopicPartition(sys.argv[2], p), timeout=10)
        print(p, high)
c.close()
"#;
    python(script, vec![bootstrap.to_owned(), topic.to_owned()])
        .await
        .lines()
        .filter_map(|line| {
            let (p, n) = line.split_once(' ')?;
            Some((p.parse().ok()?, n.parse().ok()?))
        })
        .collect()
}

/// The sequence numbers in each partition of `topic`, in offset order; asserts that every
/// record is in the partition its key names.
pub async fn sequences(bootstrap: &str, topic: &str) -> BTreeMap<i32, Vec<u64>> {
    let mut by_partition: BTreeMap<i32, Vec<u64>> = BTreeMap::new();
    for record in read_topic(bootstrap, topic).await {
        let partition = record["partition"].as_i64().unwrap() as i32;
        let key: i32 = record["key"].as_str().unwrap().parse().unwrap();
        assert_eq!(key, partition, "a record of partition {key} in {partition}");
        let seq = record["value"].as_str().unwrap().parse().unwrap();
        by_partition.entry(partition).or_default().push(seq);
    }
    by_partition
}

/// What replicating one partition left on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// Records copied more than once.
    pub duplicates: usize,
    /// Where the copy started over: the sequence number it went back to.
    pub restarts: Vec<u64>,
}

/// Asserts that each of `partitions` partitions of the replica holds every sequence number
/// `0..count`, first copies in order (no sequence number copied before its predecessor);
/// returns the duplicates and the restart points (where the copy went back).
pub fn assert_replicated(
    replica: &BTreeMap<i32, Vec<u64>>,
    partitions: i32,
    count: u64,
) -> BTreeMap<i32, Replica> {
    assert_eq!(
        replica.keys().copied().collect::<Vec<_>>(),
        (0..partitions).collect::<Vec<_>>(),
        "replicated partitions"
    );
    let mut out = BTreeMap::new();
    for (partition, seqs) in replica {
        let (mut next, mut previous, mut restarts) = (0, None, Vec::new());
        for seq in seqs {
            assert!(
                *seq <= next,
                "partition {partition}: {seq} copied before {next}"
            );
            if *seq == next {
                next += 1;
            } else if previous.is_none_or(|p: u64| p + 1 != *seq) {
                restarts.push(*seq);
            }
            previous = Some(*seq);
        }
        assert_eq!(
            next, count,
            "partition {partition}: copied up to {next} of {count}"
        );
        out.insert(
            *partition,
            Replica {
                duplicates: seqs.len() - count as usize,
                restarts,
            },
        );
    }
    out
}

/// The source offsets committed for `connector` in the Connect offset topic, per source
/// `(topic, partition)`, in commit order (Java's layout: key `[connector, {"cluster",
/// "partition", "topic"}]`, value `{"offset": N}`).
pub async fn committed_history(
    connect_bootstrap: &str,
    connector: &str,
) -> BTreeMap<(String, i32), Vec<i64>> {
    let mut history: BTreeMap<(String, i32), Vec<i64>> = BTreeMap::new();
    for record in read_topic(connect_bootstrap, OFFSETS_TOPIC).await {
        let (Some(key), Some(value)) = (record["key"].as_str(), record["value"].as_str()) else {
            continue;
        };
        let key: Value = serde_json::from_str(key).unwrap();
        if key[0] != connector {
            continue;
        }
        let value: Value = serde_json::from_str(value).unwrap();
        assert_eq!(key[1]["cluster"], SOURCE_ALIAS, "{key}");
        let topic = key[1]["topic"].as_str().unwrap().to_owned();
        let partition = key[1]["partition"].as_i64().unwrap() as i32;
        history
            .entry((topic, partition))
            .or_default()
            .push(value["offset"].as_i64().unwrap());
    }
    history
}

/// The committed offset of each partition of `topic`, from the offsets API (KIP-875).
pub fn committed_offsets(offsets: &Value, topic: &str) -> BTreeMap<i32, i64> {
    offsets["offsets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["partition"]["topic"] == topic)
        .filter_map(|o| {
            Some((
                o["partition"]["partition"].as_i64()? as i32,
                o["offset"]["offset"].as_i64()?,
            ))
        })
        .collect()
}
