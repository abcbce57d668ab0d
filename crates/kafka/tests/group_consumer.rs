//! The consumer group protocol against a real broker, with librdkafka (Python's
//! `confluent-kafka`) as the other member of the group.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use ferry_kafka::admin::{NewTopic, OffsetAndMetadata};
use ferry_kafka::consumer::{ConsumerConfig, OffsetReset, TopicPartition};
use ferry_kafka::group::MembershipConfig;
use ferry_kafka::group::consumer::assignor::by_name;
use ferry_kafka::group::consumer::{GroupConsumer, GroupConsumerConfig, PollEvent};
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

/// Polls once, collecting record values per topic.
async fn poll_by_topic(consumer: &mut GroupConsumer, values: &mut BTreeMap<String, Vec<String>>) {
    for record in consumer.poll(Duration::from_millis(200)).await.unwrap() {
        let value = String::from_utf8_lossy(record.value.as_deref().unwrap()).into_owned();
        values
            .entry(record.topic.to_string())
            .or_default()
            .push(value);
    }
}

#[tokio::test]
async fn resubscribing_after_the_first_join_keeps_delivering() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let cluster = Cluster::new(ClientConfig::new(&bootstrap).unwrap());
    let produce = |topic: &str| {
        let args = [
            bootstrap.clone(),
            topic.into(),
            "1".into(),
            RECORDS.to_string(),
        ];
        ferry_testkit::python(PRODUCE, &args).unwrap();
    };
    produce("first");
    let consumer_config = ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(100),
        ..ConsumerConfig::default()
    };
    // A sink task's settings: both default assignors (so eager), no auto-commit.
    let config = GroupConsumerConfig::from_pairs([
        ("group.id", "resubscribe"),
        ("enable.auto.commit", "false"),
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "1000"),
    ])
    .unwrap();
    let mut consumer = GroupConsumer::new(cluster, consumer_config, config);
    consumer.subscribe(["first"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    while consumer.assignment().is_empty() {
        assert!(Instant::now() < deadline, "never joined");
        poll_by_topic(&mut consumer, &mut values).await;
    }
    let first_generation = consumer.generation().unwrap().id;
    while values.get("first").map_or(0, Vec::len) < RECORDS {
        assert!(Instant::now() < deadline, "read {values:?}");
        poll_by_topic(&mut consumer, &mut values).await;
    }
    values.clear();
    consumer.commit().await.unwrap();
    // As a sink with `topics.regex` does when a matching topic appears.
    produce("second");
    consumer.subscribe(["first", "second"]);
    while values.get("second").map_or(0, Vec::len) < RECORDS {
        assert!(
            Instant::now() < deadline,
            "after resubscribing: assignment {:?}, read {values:?}",
            consumer.assignment()
        );
        poll_by_topic(&mut consumer, &mut values).await;
    }
    assert!(consumer.generation().unwrap().id > first_generation);
    let topics: BTreeSet<String> = consumer
        .assignment()
        .iter()
        .map(|tp| tp.topic.to_string())
        .collect();
    assert_eq!(topics, BTreeSet::from(["first".into(), "second".into()]));
    // Records produced after the rebalance arrive too, and what was committed before it is
    // not read again.
    produce("first");
    while values.get("first").map_or(0, Vec::len) < RECORDS {
        assert!(Instant::now() < deadline, "after the rebalance: {values:?}");
        poll_by_topic(&mut consumer, &mut values).await;
    }
    let expected: Vec<String> = (0..RECORDS).map(|i| format!("0-{i}")).collect();
    assert_eq!(values["first"], expected);
    consumer.close().await;
}

#[tokio::test]
async fn subscribing_after_joining_with_no_topics_delivers() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let cluster = Cluster::new(ClientConfig::new(&bootstrap).unwrap());
    let consumer_config = ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(100),
        ..ConsumerConfig::default()
    };
    let mut consumer = GroupConsumer::new(
        cluster,
        consumer_config,
        group_config("empty-first", "range"),
    );
    // A sink whose `topics.regex` matches nothing yet.
    consumer.subscribe(Vec::<String>::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut values = BTreeMap::new();
    while consumer.generation().is_none() {
        assert!(Instant::now() < deadline, "never joined");
        poll_by_topic(&mut consumer, &mut values).await;
    }
    assert!(consumer.assignment().is_empty());
    let args = [bootstrap, "late".into(), "1".into(), RECORDS.to_string()];
    ferry_testkit::python(PRODUCE, &args).unwrap();
    consumer.subscribe(["late"]);
    while values.get("late").map_or(0, Vec::len) < RECORDS {
        assert!(Instant::now() < deadline, "read {values:?}");
        poll_by_topic(&mut consumer, &mut values).await;
    }
    let expected: Vec<String> = (0..RECORDS).map(|i| format!("0-{i}")).collect();
    assert_eq!(values["late"], expected);
    consumer.close().await;
}

/// What the two members of a handover test did, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Revoked(usize, Vec<i32>),
    Assigned(usize, Vec<(i32, i64)>),
    Record(usize, i32, i64),
}

/// A member that commits what it has processed when partitions are revoked, as Connect's
/// sink task does.
struct Member {
    id: usize,
    consumer: GroupConsumer,
    processed: BTreeMap<TopicPartition, i64>,
}

impl Member {
    async fn step(&mut self, log: &mut Vec<Seen>) {
        let event = self
            .consumer
            .poll_events(Duration::from_millis(100))
            .await
            .unwrap();
        match event {
            PollEvent::Records(records) => {
                for record in records {
                    log.push(Seen::Record(self.id, record.partition, record.offset));
                    let tp = TopicPartition::new(record.topic.to_string(), record.partition);
                    self.processed.insert(tp, record.offset + 1);
                }
            }
            PollEvent::Revoked(partitions) => {
                let offsets = partitions
                    .iter()
                    .filter_map(|tp| {
                        Some((
                            tp.clone(),
                            OffsetAndMetadata::new(self.processed.remove(tp)?),
                        ))
                    })
                    .collect();
                self.consumer.commit_offsets(offsets).await.unwrap();
                log.push(Seen::Revoked(
                    self.id,
                    partitions.iter().map(|tp| tp.partition).collect(),
                ));
            }
            PollEvent::Assigned(partitions) => {
                let mut positions = Vec::new();
                for tp in &partitions {
                    let position = self.consumer.consumer().position(tp).await.unwrap();
                    positions.push((tp.partition, position));
                }
                log.push(Seen::Assigned(self.id, positions));
            }
            PollEvent::Lost(partitions) => panic!("member {} lost {partitions:?}", self.id),
        }
    }
}

/// Two members hand partitions over: the one losing them commits in its revocation, and the
/// one gaining them starts exactly there.
async fn hand_over(strategy: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let topic = "handover";
    let cluster = Cluster::new(ClientConfig::new(&bootstrap).unwrap());
    let created = Admin::new(cluster.clone())
        .create_topics(&[NewTopic::new(topic, PARTITIONS, 1)])
        .await
        .unwrap();
    created[topic].clone().unwrap();
    let produce = || {
        let args = [
            bootstrap.clone(),
            topic.to_owned(),
            PARTITIONS.to_string(),
            RECORDS.to_string(),
        ];
        ferry_testkit::python(PRODUCE, &args).unwrap();
    };
    produce();
    let consumer_config = ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        fetch_max_wait: Duration::from_millis(100),
        ..ConsumerConfig::default()
    };
    let group = format!("handover-{strategy}");
    let member = |id| {
        let mut consumer = GroupConsumer::new(
            cluster.clone(),
            consumer_config.clone(),
            group_config(&group, strategy),
        );
        consumer.subscribe([topic]);
        Member {
            id,
            consumer,
            processed: BTreeMap::new(),
        }
    };
    let records_of = |log: &[Seen]| log.iter().filter(|s| matches!(s, Seen::Record(..))).count();
    let partitions = usize::try_from(PARTITIONS).unwrap();
    let mut log = Vec::new();
    let mut first = member(0);
    let deadline = Instant::now() + Duration::from_secs(90);
    while records_of(&log) < partitions * RECORDS {
        assert!(Instant::now() < deadline, "the first member read {log:?}");
        first.step(&mut log).await;
    }

    let mut second = member(1);
    let mut produced = false;
    while records_of(&log) < 2 * partitions * RECORDS {
        assert!(Instant::now() < deadline, "the members read {log:?}");
        first.step(&mut log).await;
        second.step(&mut log).await;
        let split = first.consumer.assignment().len() == partitions / 2
            && second.consumer.assignment().len() == partitions / 2;
        if split && !produced {
            produce();
            produced = true;
        }
    }

    // Every record was read exactly once, in order per partition.
    let mut offsets: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for seen in &log {
        if let Seen::Record(_, partition, offset) = seen {
            offsets.entry(*partition).or_default().push(*offset);
        }
    }
    let expected: Vec<i64> = (0..i64::try_from(2 * RECORDS).unwrap()).collect();
    for partition in 0..PARTITIONS {
        assert_eq!(
            offsets[&partition], expected,
            "partition {partition}: {log:?}"
        );
    }
    // The second member got its partitions only after the first gave them up, and started
    // where the first one committed.
    let theirs: Vec<TopicPartition> = second.consumer.assignment();
    assert_eq!(theirs.len(), partitions / 2);
    for tp in &theirs {
        let p = tp.partition;
        let revoked = log
            .iter()
            .position(|s| matches!(s, Seen::Revoked(0, ps) if ps.contains(&p)))
            .unwrap_or_else(|| panic!("partition {p} was never revoked: {log:?}"));
        let assigned = log
            .iter()
            .position(|s| matches!(s, Seen::Assigned(1, ps) if ps.iter().any(|(q, _)| *q == p)))
            .unwrap_or_else(|| panic!("partition {p} was never assigned: {log:?}"));
        let read = log
            .iter()
            .position(|s| matches!(s, Seen::Record(1, q, _) if *q == p))
            .unwrap();
        assert!(revoked < assigned && assigned < read, "{log:?}");
        let Seen::Assigned(_, positions) = &log[assigned] else {
            unreachable!()
        };
        let committed = i64::try_from(RECORDS).unwrap();
        assert!(positions.contains(&(p, committed)), "{log:?}");
    }
    first.consumer.close().await;
    second.consumer.close().await;
}

#[tokio::test]
async fn eager_revocation_commits_before_the_new_owner_reads() {
    hand_over("range").await;
}

#[tokio::test]
async fn cooperative_revocation_commits_before_the_new_owner_reads() {
    hand_over("cooperative-sticky").await;
}
