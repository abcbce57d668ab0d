//! The consumer group protocol against a real broker, with librdkafka (Python's
//! `confluent-kafka`) as the other member of the group.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use ferry_kafka::admin::{NewTopic, OffsetAndMetadata};
use ferry_kafka::consumer::{ConsumerConfig, OffsetReset, TopicPartition};
use ferry_kafka::group::MembershipConfig;
use ferry_kafka::group::consumer::assignor::by_name;
use ferry_kafka::group::consumer::{GroupConsumer, GroupConsumerConfig};
use ferry_kafka::{Admin, ClientConfig, Cluster};
use tokio::time::Instant;

const PARTITIONS: i32 = 4;
const RECORDS: usize = 10;

const PRODUCE: &str = r#"
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1]})
for partition in range(int(sys.argv[3])):
    for i in range(int(sys.argv[4])):
        p.produce(sys.argv[2], value=f'{partition}-{i}'.encode(), partition=partition)
p.flush()
"#;

/// A librdkafka member: waits until it owns half the partitions, commits 100 + partition for
/// them, waits to see the other member's commits (200 + partition), prints what it saw.
const MEMBER: &str = r#"
import sys, json, time
from confluent_kafka import Consumer, TopicPartition
bootstrap, group, topic, strategy, partitions = sys.argv[1:6]
partitions = int(partitions)
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group,
              'partition.assignment.strategy': strategy,
              'session.timeout.ms': 6000, 'heartbeat.interval.ms': 1000,
              'enable.auto.commit': False, 'auto.offset.reset': 'earliest'})
c.subscribe([topic])
deadline = time.time() + 90
last, since = None, time.time()
while True:
    if time.time() > deadline:
        sys.exit('never owned half the partitions: %s' % last)
    c.poll(0.2)
    mine = sorted(tp.partition for tp in c.assignment())
    if mine != last:
        last, since = mine, time.time()
    if len(mine) == partitions // 2 and time.time() - since > 3:
        break
c.commit(offsets=[TopicPartition(topic, p, 100 + p) for p in last], asynchronous=False)
others = [p for p in range(partitions) if p not in last]
while True:
    if time.time() > deadline:
        sys.exit('never saw the other member commit: %s' % seen)
    c.poll(0.2)
    committed = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    seen = {tp.partition: tp.offset for tp in committed}
    if all(seen[p] == 200 + p for p in others):
        break
print(json.dumps({'assignment': last, 'committed': seen}))
c.close()
"#;

fn group_config(group: &str, strategy: &str) -> GroupConsumerConfig {
    GroupConsumerConfig {
        membership: MembershipConfig {
            session_timeout: Duration::from_millis(6_000),
            heartbeat_interval: Duration::from_millis(1_000),
            ..MembershipConfig::consumer(group)
        },
        assignors: vec![Arc::from(by_name(strategy).unwrap())],
        enable_auto_commit: false,
        auto_commit_interval: Duration::from_millis(5_000),
    }
}

fn parse_python_result(output: &str) -> (BTreeSet<i32>, BTreeMap<i32, i64>) {
    // {"assignment": [0, 1], "committed": {"0": 100, ...}} without a JSON dependency.
    let assignment = output
        .split('[')
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap_or_default()
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let committed = output
        .split("\"committed\": {")
        .nth(1)
        .and_then(|s| s.split('}').next())
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| {
            let (k, v) = kv.split_once(':')?;
            Some((
                k.trim().trim_matches('"').parse().ok()?,
                v.trim().parse().ok()?,
            ))
        })
        .collect();
    (assignment, committed)
}

/// Polls once, collecting record values per partition.
async fn poll_into(consumer: &mut GroupConsumer, values: &mut BTreeMap<i32, Vec<String>>) {
    for record in consumer.poll(Duration::from_millis(200)).await.unwrap() {
        let value = String::from_utf8_lossy(record.value.as_deref().unwrap()).into_owned();
        values.entry(record.partition).or_default().push(value);
    }
}

async fn split_with_librdkafka(strategy: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let (topic, group) = ("orders", format!("shared-{strategy}"));
    let cluster = Cluster::new(ClientConfig::new(&bootstrap).unwrap());
    let created = Admin::new(cluster.clone())
        .create_topics(&[NewTopic::new(topic, PARTITIONS, 1)])
        .await
        .unwrap();
    created[topic].clone().unwrap();
    let args = [
        bootstrap.clone(),
        topic.to_owned(),
        PARTITIONS.to_string(),
        RECORDS.to_string(),
    ];
    ferry_testkit::python(PRODUCE, &args).unwrap();

    let consumer_config = ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(100),
        ..ConsumerConfig::default()
    };
    let mut consumer = GroupConsumer::new(cluster, consumer_config, group_config(&group, strategy));
    consumer.subscribe([topic]);
    // Alone in the group first: this member owns everything until the other one joins, so
    // that the rebalance has to take partitions away from it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut values: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    while consumer.assignment().len() < usize::try_from(PARTITIONS).unwrap() {
        assert!(Instant::now() < deadline, "never owned every partition");
        poll_into(&mut consumer, &mut values).await;
    }
    let args = [
        bootstrap,
        group.clone(),
        topic.to_owned(),
        strategy.to_owned(),
        PARTITIONS.to_string(),
    ];
    let python = tokio::task::spawn_blocking(move || ferry_testkit::python(MEMBER, &args));

    // Read until this member owns half the partitions and has read all their records.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mine: Vec<TopicPartition> = loop {
        assert!(Instant::now() < deadline, "never owned half the partitions");
        poll_into(&mut consumer, &mut values).await;
        let mine = consumer.assignment();
        let partitions = usize::try_from(PARTITIONS).unwrap();
        if mine.len() == partitions / 2
            && mine.iter().all(|tp| {
                values
                    .get(&tp.partition)
                    .is_some_and(|v| v.len() >= RECORDS)
            })
        {
            break mine;
        }
    };
    for tp in &mine {
        let expected: Vec<String> = (0..RECORDS)
            .map(|i| format!("{}-{i}", tp.partition))
            .collect();
        assert_eq!(values[&tp.partition][..RECORDS], expected);
    }
    let offsets = mine
        .iter()
        .map(|tp| {
            let committed = OffsetAndMetadata {
                metadata: "ferry".into(),
                ..OffsetAndMetadata::new(200 + i64::from(tp.partition))
            };
            (tp.clone(), committed)
        })
        .collect();
    consumer.commit_offsets(offsets).await.unwrap();

    // Stay in the group (polling) until the other member has seen our commits.
    while !python.is_finished() {
        consumer.poll(Duration::from_millis(200)).await.unwrap();
    }
    let output = python.await.unwrap().unwrap();
    let (theirs, seen_by_them) = parse_python_result(&output);
    let ours: BTreeSet<i32> = mine.iter().map(|tp| tp.partition).collect();
    assert!(ours.is_disjoint(&theirs), "{ours:?} and {theirs:?} overlap");
    assert_eq!(
        ours.union(&theirs).count(),
        usize::try_from(PARTITIONS).unwrap()
    );
    for p in &ours {
        assert_eq!(seen_by_them[p], 200 + i64::from(*p));
    }

    let committed = consumer.committed(None).await.unwrap();
    for p in &theirs {
        assert_eq!(
            committed[&TopicPartition::new(topic, *p)].offset,
            100 + i64::from(*p)
        );
    }
    consumer.close().await;
}

#[tokio::test]
async fn range_splits_a_group_with_librdkafka() {
    split_with_librdkafka("range").await;
}

#[tokio::test]
async fn cooperative_sticky_splits_a_group_with_librdkafka() {
    split_with_librdkafka("cooperative-sticky").await;
}

#[tokio::test]
async fn auto_commit_lets_a_successor_resume_where_the_last_member_stopped() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let cluster = Cluster::new(ClientConfig::new(&bootstrap).unwrap());
    let produce = |count: usize| {
        let args = [
            bootstrap.clone(),
            "events".into(),
            "1".into(),
            count.to_string(),
        ];
        ferry_testkit::python(PRODUCE, &args).unwrap();
    };
    produce(RECORDS);
    let consumer_config = ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        ..ConsumerConfig::default()
    };
    let config = GroupConsumerConfig {
        enable_auto_commit: true,
        auto_commit_interval: Duration::from_millis(200),
        ..group_config("resume", "range")
    };

    let mut first = GroupConsumer::new(cluster.clone(), consumer_config.clone(), config.clone());
    first.subscribe(["events"]);
    let mut values = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while values.get(&0).map_or(0, Vec::len) < RECORDS {
        assert!(Instant::now() < deadline, "first member read {values:?}");
        poll_into(&mut first, &mut values).await;
    }
    // Auto-commit runs in the background during polls: wait until it has stored the position.
    let tp = TopicPartition::new("events", 0);
    let committed_position = loop {
        assert!(Instant::now() < deadline, "nothing was auto-committed");
        poll_into(&mut first, &mut values).await;
        let committed = first
            .committed(Some(std::slice::from_ref(&tp)))
            .await
            .unwrap();
        if let Some(offset) = committed.get(&tp).filter(|o| o.offset >= 10) {
            break offset.offset;
        }
    };
    assert_eq!(committed_position, 10);
    first.close().await;

    // The successor starts at the committed offset, not at the earliest one.
    produce(1);
    let mut second = GroupConsumer::new(cluster, consumer_config, config);
    second.subscribe(["events"]);
    let mut resumed = BTreeMap::new();
    while resumed.is_empty() {
        assert!(Instant::now() < deadline, "the successor read nothing");
        poll_into(&mut second, &mut resumed).await;
    }
    assert_eq!(resumed[&0], ["0-0"]);
    assert_eq!(second.consumer().position(&tp).await.unwrap(), 11);
    second.close().await;
}
