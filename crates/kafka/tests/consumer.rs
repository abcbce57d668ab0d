//! The consumer against a real broker, reading what librdkafka produced.

mod consumer_support;
mod counting;

use std::collections::HashMap;
use std::time::Duration;

use consumer_support::{Batching, cluster, consumer, poll_exactly, produce, sorted};
use counting::counted_cluster;
use ferry_kafka::admin::{Admin, NewTopic};
use ferry_kafka::consumer::{TimestampType, TopicPartition};
use ferry_kafka::{Error, KafkaCode};

fn partitions(topic: &str, count: i32) -> Vec<TopicPartition> {
    (0..count).map(|p| TopicPartition::new(topic, p)).collect()
}

#[tokio::test]
async fn reads_what_librdkafka_wrote_byte_for_byte_with_every_compression() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let cluster = cluster(&broker.bootstrap(), &[]);
    for compression in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("c-{compression}");
        let produced = produce(
            &broker.bootstrap(),
            &topic,
            3,
            0,
            600,
            compression,
            Batching::Batched,
        )
        .await;
        let consumer = consumer(&cluster, &[]);
        consumer.assign(partitions(&topic, 3));
        let records = sorted(poll_exactly(&consumer, produced.len()).await);
        for (record, expected) in records.iter().zip(&produced) {
            assert_eq!(&*record.topic, topic);
            assert_eq!(record.timestamp_type, TimestampType::CreateTime);
            expected.assert_matches(record);
        }
        // Nothing more arrives, and the positions are at the ends.
        assert!(
            consumer
                .poll(Duration::from_millis(300))
                .await
                .unwrap()
                .is_empty()
        );
        for tp in partitions(&topic, 3) {
            let end = produced
                .iter()
                .filter(|p| p.partition == tp.partition)
                .count() as i64;
            assert_eq!(consumer.position(&tp).await.unwrap(), end, "{tp}");
            assert_eq!(consumer.high_watermark(&tp), Some(end), "{tp}");
        }
    }
}

#[tokio::test]
async fn poll_returns_at_most_max_poll_records() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let produced = produce(
        &broker.bootstrap(),
        "small-polls",
        1,
        0,
        100,
        "none",
        Batching::Batched,
    )
    .await;
    let cluster = cluster(&broker.bootstrap(), &[]);
    let consumer = consumer(&cluster, &[("max.poll.records", "7")]);
    let tp = TopicPartition::new("small-polls", 0);
    consumer.assign([tp.clone()]);
    let mut seen = 0;
    while seen < produced.len() {
        let batch = consumer.poll(Duration::from_secs(10)).await.unwrap();
        assert!(
            !batch.is_empty() && batch.len() <= 7,
            "{} records",
            batch.len()
        );
        for record in &batch {
            produced[seen].assert_matches(record);
            seen += 1;
        }
        assert_eq!(consumer.positions()[&tp], seen as i64);
    }
}

#[tokio::test]
async fn seeks_and_resets_positions() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let produced = produce(
        &broker.bootstrap(),
        "seeks",
        1,
        0,
        30,
        "none",
        Batching::Single,
    )
    .await;
    let cluster = cluster(&broker.bootstrap(), &[]);
    let tp = TopicPartition::new("seeks", 0);

    // earliest: from the first record.
    let earliest = consumer(&cluster, &[]);
    earliest.assign([tp.clone()]);
    assert_eq!(earliest.position(&tp).await.unwrap(), 0);
    let first = earliest.poll(Duration::from_secs(10)).await.unwrap();
    produced[0].assert_matches(&first[0]);

    // seek backwards and forwards, inside batches too.
    earliest.seek(&tp, 17).unwrap();
    assert_eq!(earliest.positions()[&tp], 17);
    let records = poll_exactly(&earliest, 13).await;
    assert_eq!(records[0].offset, 17);
    earliest.seek(&tp, 3).unwrap();
    let records = earliest.poll(Duration::from_secs(10)).await.unwrap();
    produced[3].assert_matches(&records[0]);
    earliest.seek_to_end(std::slice::from_ref(&tp)).unwrap();
    assert_eq!(earliest.position(&tp).await.unwrap(), 30);
    earliest
        .seek_to_beginning(std::slice::from_ref(&tp))
        .unwrap();
    assert_eq!(earliest.position(&tp).await.unwrap(), 0);

    // latest: only what is produced after the position was found.
    let latest = consumer(&cluster, &[("auto.offset.reset", "latest")]);
    latest.assign([tp.clone()]);
    assert_eq!(latest.position(&tp).await.unwrap(), 30);
    assert!(
        latest
            .poll(Duration::from_millis(300))
            .await
            .unwrap()
            .is_empty()
    );
    let more = produce(
        &broker.bootstrap(),
        "seeks",
        1,
        30,
        5,
        "none",
        Batching::Single,
    )
    .await;
    let records = poll_exactly(&latest, 5).await;
    for (record, expected) in records.iter().zip(&more) {
        expected.assert_matches(record);
    }

    // none: a typed error until the caller seeks.
    let none = consumer(&cluster, &[("auto.offset.reset", "none")]);
    none.assign([tp.clone()]);
    for result in [
        none.poll(Duration::from_millis(100)).await.map(|_| ()),
        none.position(&tp).await.map(|_| ()),
    ] {
        match result {
            Err(Error::NoOffsetForPartition { topic, partition }) => {
                assert_eq!((topic.as_str(), partition), ("seeks", 0))
            }
            other => panic!("{other:?}"),
        }
    }
    none.seek(&tp, 34).unwrap();
    let records = poll_exactly(&none, 1).await;
    more[4].assert_matches(&records[0]);

    // Seeking a partition that is not assigned is refused.
    assert!(none.seek(&TopicPartition::new("seeks", 9), 0).is_err());
}

/// A consumer far behind reads by read-ahead windows: with answers far smaller than
/// librdkafka's batches (`fetch.max.bytes`, which the test broker applies to each answer),
/// windows overlap, start inside batches and come back whole, and every record must still
/// arrive once, in order.
#[tokio::test]
async fn reads_ahead_in_small_windows_without_gaps_or_duplicates() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let produced = produce(
        &broker.bootstrap(),
        "behind",
        3,
        0,
        20_000,
        "zstd",
        Batching::Batched,
    )
    .await;
    let (cluster, counting) = counted_cluster(&broker.bootstrap());
    let consumer = consumer(
        &cluster,
        &[
            ("max.partition.fetch.bytes", "4096"),
            ("fetch.max.bytes", "4096"),
        ],
    );
    consumer.assign(partitions("behind", 3));
    let records = sorted(poll_exactly(&consumer, produced.len()).await);
    for (record, expected) in records.iter().zip(&produced) {
        expected.assert_matches(record);
    }
    // The broker's connection is the bootstrap one: a second is read-ahead's own.
    assert_eq!(counting.opened(), 2, "windows were fetched");
}

#[tokio::test]
async fn reads_several_topics_and_partitions_and_follows_assignment_changes() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let a = produce(
        &broker.bootstrap(),
        "multi-a",
        4,
        0,
        400,
        "lz4",
        Batching::Batched,
    )
    .await;
    let b = produce(
        &broker.bootstrap(),
        "multi-b",
        2,
        0,
        100,
        "none",
        Batching::Batched,
    )
    .await;
    let cluster = cluster(&broker.bootstrap(), &[]);
    let consumer = consumer(&cluster, &[]);
    let mut assignment = partitions("multi-a", 4);
    assignment.extend(partitions("multi-b", 2));
    consumer.assign(assignment.clone());
    assert_eq!(consumer.assignment().len(), 6);
    let records = sorted(poll_exactly(&consumer, 500).await);
    for (record, expected) in records.iter().zip(a.iter().chain(&b)) {
        expected.assert_matches(record);
    }

    // Pausing holds a partition back; resuming releases it.
    let paused = TopicPartition::new("multi-b", 0);
    consumer.pause(std::slice::from_ref(&paused));
    assert_eq!(consumer.paused(), std::slice::from_ref(&paused));
    consumer.seek(&paused, 0).unwrap();
    consumer
        .seek(&TopicPartition::new("multi-b", 1), 0)
        .unwrap();
    let records = poll_exactly(&consumer, 50).await;
    assert!(
        records
            .iter()
            .all(|r| r.partition == 1 && &*r.topic == "multi-b")
    );
    assert!(
        consumer
            .poll(Duration::from_millis(300))
            .await
            .unwrap()
            .is_empty()
    );
    consumer.resume(std::slice::from_ref(&paused));
    let records = poll_exactly(&consumer, 50).await;
    assert!(
        records
            .iter()
            .all(|r| r.partition == 0 && &*r.topic == "multi-b")
    );

    // Removing and adding partitions at runtime keeps the others' positions.
    consumer.incremental_unassign(&partitions("multi-a", 4));
    assert_eq!(consumer.assignment().len(), 2);
    consumer.incremental_assign([TopicPartition::new("multi-a", 2)]);
    let records = poll_exactly(&consumer, 100).await;
    assert!(
        records
            .iter()
            .all(|r| r.partition == 2 && &*r.topic == "multi-a")
    );
    assert_eq!(consumer.positions().len(), 3);
    consumer.unassign();
    assert!(consumer.assignment().is_empty());
}

#[tokio::test]
async fn finds_offsets_by_listing_and_from_fetch() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    produce(
        &broker.bootstrap(),
        "list-single",
        2,
        0,
        20,
        "none",
        Batching::Single,
    )
    .await;
    produce(
        &broker.bootstrap(),
        "list-batched",
        1,
        0,
        500,
        "none",
        Batching::Batched,
    )
    .await;
    let cluster = cluster(&broker.bootstrap(), &[]);
    let consumer = consumer(&cluster, &[]);
    let single = partitions("list-single", 2);
    let batched = TopicPartition::new("list-batched", 0);

    let beginnings = consumer.beginning_offsets(&single).await.unwrap();
    assert_eq!(
        beginnings,
        single.iter().map(|tp| (tp.clone(), 0)).collect()
    );
    // One record per batch: the test broker's ListOffsets(latest) is exact.
    let ends = consumer.end_offsets(&single).await.unwrap();
    assert_eq!(ends, single.iter().map(|tp| (tp.clone(), 10)).collect());

    // Many records per batch: the Fetch high watermark is the end, whatever ListOffsets says
    // (the test broker answers the last batch's base offset + 1 there).
    let mut all = single.clone();
    all.push(batched.clone());
    let from_fetch = consumer.end_offsets_from_fetch(&all).await.unwrap();
    assert_eq!(from_fetch[&batched], 500);
    assert_eq!(from_fetch[&single[0]], 10);
    assert_eq!(from_fetch[&single[1]], 10);

    // Reading to the end with the fetched end offsets.
    consumer.assign([batched.clone()]);
    let records = poll_exactly(&consumer, 500).await;
    assert_eq!(records.last().unwrap().offset, 499);
    assert_eq!(
        consumer.position(&batched).await.unwrap(),
        from_fetch[&batched]
    );

    // By timestamp: the test broker answers offset 0 for every timestamp, so only the shape of
    // the answer is checked here (the request itself follows Kafka's ListOffsets).
    let query: HashMap<_, _> = single
        .iter()
        .map(|tp| (tp.clone(), 1_600_000_000_005))
        .collect();
    let found = consumer.offsets_for_times(&query).await.unwrap();
    assert_eq!(found.len(), 2);
    for tp in &single {
        assert!(found[tp].is_some(), "{tp}");
    }

    // A partition that does not exist is a typed error (after retrying for request.timeout.ms).
    let impatient =
        consumer_support::cluster(&broker.bootstrap(), &[("request.timeout.ms", "1000")]);
    let missing = consumer_support::consumer(&impatient, &[])
        .end_offsets(&[TopicPartition::new("list-single", 7)])
        .await
        .unwrap_err();
    assert_eq!(
        missing.kafka_code(),
        Some(KafkaCode::UnknownTopicOrPartition)
    );
}

#[tokio::test]
async fn end_offsets_from_fetch_of_empty_new_and_missing_partitions() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    // Two records over three partitions: the last partition stays empty.
    produce(
        &broker.bootstrap(),
        "ends-mixed",
        3,
        0,
        2,
        "none",
        Batching::Batched,
    )
    .await;
    let cluster = cluster(&broker.bootstrap(), &[]);
    let consumer = consumer(&cluster, &[]);
    let mixed = partitions("ends-mixed", 3);
    let ends = consumer.end_offsets_from_fetch(&mixed).await.unwrap();
    let expected: HashMap<_, _> = mixed.iter().cloned().zip([1, 1, 0]).collect();
    assert_eq!(ends, expected);

    // A topic created a moment ago, never written to.
    let created = Admin::new(cluster.clone())
        .create_topics(&[NewTopic::new("ends-new", 2, -1)])
        .await
        .unwrap();
    assert!(created["ends-new"].is_ok(), "{created:?}");
    let fresh = partitions("ends-new", 2);
    let ends = consumer.end_offsets_from_fetch(&fresh).await.unwrap();
    assert_eq!(ends, fresh.iter().map(|tp| (tp.clone(), 0)).collect());

    // A topic that does not exist has no end: a typed error once request.timeout.ms has
    // passed, not 0 and not an endless wait (the outer timeout only turns a hang into a
    // failure).
    let impatient =
        consumer_support::cluster(&broker.bootstrap(), &[("request.timeout.ms", "1000")]);
    let missing = tokio::time::timeout(
        Duration::from_secs(60),
        consumer_support::consumer(&impatient, &[])
            .end_offsets_from_fetch(&[TopicPartition::new("ends-missing", 0)]),
    )
    .await
    .expect("end_offsets_from_fetch never returned")
    .unwrap_err();
    assert_eq!(
        missing.kafka_code(),
        Some(KafkaCode::UnknownTopicOrPartition),
        "{missing}"
    );
}

#[tokio::test]
async fn waits_for_a_topic_that_does_not_exist_yet() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let cluster = cluster(&broker.bootstrap(), &[("retry.backoff.ms", "50")]);
    let consumer = consumer(&cluster, &[("allow.auto.create.topics", "false")]);
    let tp = TopicPartition::new("late", 0);
    consumer.assign([tp.clone()]);
    // Unknown topic: no records and no error, the consumer keeps looking it up.
    assert!(
        consumer
            .poll(Duration::from_millis(300))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(consumer.positions().get(&tp), None);
    let produced = produce(
        &broker.bootstrap(),
        "late",
        1,
        0,
        50,
        "snappy",
        Batching::Batched,
    )
    .await;
    let records = poll_exactly(&consumer, 50).await;
    for (record, expected) in records.iter().zip(&produced) {
        expected.assert_matches(record);
    }
}
