//! The producer against a real broker, read back by librdkafka (confluent-kafka).

mod producer_support;

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use ferry_kafka::producer::partitioner::partition_for_key;
use ferry_kafka::producer::{Producer, ProducerRecord};
use ferry_kafka::{Error, KafkaCode};
use producer_support::{assert_exactly_once, create_topic, hex, numbered, producer, read_all};

#[tokio::test]
async fn librdkafka_reads_back_every_field_and_partitions_agree() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "fields", 3).await;
    create_topic(&bootstrap, "rdkafka-keys", 3).await;
    let producer = producer(&bootstrap, &[]);
    let mut sent = Vec::new();
    for i in 0..300u32 {
        let mut record = ProducerRecord {
            topic: "fields".into(),
            key: (i % 7 != 0).then(|| Bytes::from(format!("key-{i}"))),
            value: (i % 11 != 0)
                .then(|| Bytes::from(format!("value-{i}-{}", "x".repeat(i as usize)))),
            timestamp: Some(1_700_000_000_000 + i64::from(i)),
            ..ProducerRecord::default()
        };
        if i % 3 == 0 {
            record = record
                .with_header("h", Some(Bytes::from(format!("{i}"))))
                .with_header("empty", Some(Bytes::new()))
                .with_header("null", None)
                .with_header("h", Some(Bytes::from_static(b"repeated")));
        }
        let delivery = producer.send(record.clone()).await.unwrap();
        sent.push((record, delivery));
    }
    let mut expected = BTreeMap::new();
    for (record, delivery) in sent {
        let metadata = delivery.await.unwrap();
        assert_eq!(metadata.topic.as_str(), "fields");
        assert_eq!(metadata.timestamp, record.timestamp.unwrap());
        if let Some(key) = &record.key {
            assert_eq!(metadata.partition, partition_for_key(key, 3));
        }
        expected.insert((metadata.partition, metadata.offset), record);
    }
    producer.close().await;

    let read = read_all(&bootstrap, "fields").await;
    assert_eq!(read.len(), expected.len());
    for r in &read {
        let record = &expected[&(r.partition, r.offset)];
        assert_eq!(r.key, record.key.as_deref().map(hex), "key at {r:?}");
        assert_eq!(r.value, record.value.as_deref().map(hex), "value at {r:?}");
        assert_eq!(Some(r.timestamp), record.timestamp);
        let headers: Vec<(String, Option<String>)> = record
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_deref().map(hex)))
            .collect();
        assert_eq!(r.headers, headers);
    }

    // librdkafka's Java-compatible partitioner puts the same keys in the same partitions.
    let keys: Vec<String> = (0..300).map(|i| format!("key-{i}")).collect();
    let theirs = producer_support::rdkafka_partitions(&bootstrap, "rdkafka-keys", &keys).await;
    for (key, partition) in theirs {
        assert_eq!(partition, partition_for_key(key.as_bytes(), 3), "{key}");
    }
}

/// Every codec, at its default level and at the ends of Java's level ranges (KIP-390).
#[tokio::test]
async fn every_compression_type_and_level_is_read_by_librdkafka() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let cases = [
        ("none", None),
        ("gzip", None),
        ("gzip", Some(("compression.gzip.level", "1"))),
        ("gzip", Some(("compression.gzip.level", "9"))),
        ("snappy", None),
        ("lz4", None),
        ("lz4", Some(("compression.lz4.level", "1"))),
        ("lz4", Some(("compression.lz4.level", "17"))),
        ("zstd", None),
        ("zstd", Some(("compression.zstd.level", "-5"))),
        ("zstd", Some(("compression.zstd.level", "19"))),
    ];
    for (n, (codec, level)) in cases.into_iter().enumerate() {
        let topic = format!("compressed-{n}-{codec}");
        create_topic(&bootstrap, &topic, 1).await;
        let mut settings = vec![("compression.type", codec), ("linger.ms", "50")];
        settings.extend(level);
        let producer = producer(&bootstrap, &settings);
        let mut deliveries = Vec::new();
        for i in 0..500 {
            let value = Bytes::from(format!("{codec} record {i} {}", "abc".repeat(i % 50)));
            deliveries.push(
                producer
                    .send(ProducerRecord::new(topic.clone(), value))
                    .await
                    .unwrap(),
            );
        }
        for delivery in deliveries {
            delivery.await.unwrap();
        }
        producer.close().await;
        let read = read_all(&bootstrap, &topic).await;
        let values: Vec<String> = read.iter().map(|r| r.value.clone().unwrap()).collect();
        let expected: Vec<String> = (0..500)
            .map(|i| hex(format!("{codec} record {i} {}", "abc".repeat(i % 50)).as_bytes()))
            .collect();
        assert_eq!(values, expected, "{codec} {level:?}");
    }
}

/// Five small compressed batches in flight per partition: the broker must receive them in
/// sequence order (a reordered write is answered OUT_OF_ORDER_SEQUENCE_NUMBER).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_idempotent_batches_arrive_in_order() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "pipelined", 2).await;
    let producer = producer(
        &bootstrap,
        &[
            ("compression.type", "zstd"),
            ("batch.size", "2048"),
            ("linger.ms", "1"),
        ],
    );
    let count = 20_000;
    let mut deliveries = Vec::new();
    for n in 0..count {
        deliveries.push(
            producer
                .send(numbered("pipelined", n).with_partition(0))
                .await
                .unwrap(),
        );
    }
    for delivery in deliveries {
        delivery.await.unwrap();
    }
    producer.close().await;
    assert_exactly_once(&bootstrap, "pipelined", count).await;
}

#[tokio::test]
async fn acks_zero_one_and_all_deliver() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    for acks in ["0", "1", "all"] {
        let topic = format!("acks-{acks}");
        create_topic(&bootstrap, &topic, 1).await;
        let producer = producer(&bootstrap, &[("acks", acks)]);
        assert_eq!(producer.config().enable_idempotence, acks == "all");
        let mut deliveries = Vec::new();
        for i in 0..100 {
            let record = ProducerRecord::new(topic.clone(), Bytes::from(format!("{i}")));
            deliveries.push(producer.send(record).await.unwrap());
        }
        for (i, delivery) in deliveries.into_iter().enumerate() {
            let metadata = delivery.await.unwrap();
            let expected = if acks == "0" { -1 } else { i as i64 };
            assert_eq!(metadata.offset, expected, "acks={acks}");
        }
        producer.close().await;
        assert_eq!(read_all(&bootstrap, &topic).await.len(), 100, "acks={acks}");
    }
}

#[tokio::test]
async fn small_buffer_memory_applies_back_pressure_and_delivers_everything() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "pressure", 2).await;
    let producer = producer(
        &bootstrap,
        &[("buffer.memory", "65536"), ("batch.size", "16384")],
    );
    let mut deliveries = Vec::new();
    for i in 0..3_000u32 {
        let record = ProducerRecord::new("pressure", Bytes::from(vec![(i % 251) as u8; 1_000]))
            .with_key(Bytes::from(i.to_be_bytes().to_vec()));
        deliveries.push(producer.send(record).await.unwrap());
    }
    let mut offsets = HashSet::new();
    for delivery in deliveries {
        let m = delivery.await.unwrap();
        assert!(offsets.insert((m.partition, m.offset)));
    }
    let too_big = ProducerRecord::new("pressure", Bytes::from(vec![0u8; 70_000]));
    let error = producer.send(too_big).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Kafka {
                code: KafkaCode::MessageTooLarge,
                ..
            }
        ),
        "{error}"
    );
    producer.close().await;
    assert_eq!(read_all(&bootstrap, "pressure").await.len(), 3_000);
}

#[tokio::test]
async fn explicit_partitions_and_sticky_spreading() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "placed", 4).await;
    let producer = producer(
        &bootstrap,
        &[("batch.size", "2000"), ("max.block.ms", "1000")],
    );
    let mut deliveries = Vec::new();
    for i in 0..200 {
        let record = ProducerRecord::new("placed", Bytes::from(vec![b'p'; 100]))
            .with_key(Bytes::from(format!("{i}")))
            .with_partition(i % 4);
        deliveries.push((i % 4, producer.send(record).await.unwrap()));
    }
    for (partition, delivery) in deliveries {
        assert_eq!(delivery.await.unwrap().partition, partition);
    }
    // Unkeyed records stick to a partition for about batch.size bytes, then move on.
    let mut partitions = Vec::new();
    for _ in 0..200 {
        let delivery = producer
            .send(ProducerRecord::new("placed", Bytes::from(vec![b's'; 100])))
            .await
            .unwrap();
        partitions.push(delivery.await.unwrap().partition);
    }
    let switches = partitions.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(
        (5..=40).contains(&switches),
        "{switches} switches: {partitions:?}"
    );

    let negative = ProducerRecord::new("placed", Bytes::new()).with_partition(-1);
    assert!(matches!(
        producer.send(negative).await.unwrap_err(),
        Error::InvalidRequest(_)
    ));
    let missing = ProducerRecord::new("placed", Bytes::new()).with_partition(9);
    assert!(matches!(
        producer.send(missing).await.unwrap_err(),
        Error::Timeout { .. }
    ));
    producer.close().await;
    let read = read_all(&bootstrap, "placed").await;
    assert_eq!(read.len(), 400);
}

#[tokio::test]
async fn flush_sends_without_waiting_for_linger() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    // A linger far longer than the test may take: only flush can send this record.
    let producer = producer(
        &bootstrap,
        &[("linger.ms", "600000"), ("delivery.timeout.ms", "900000")],
    );
    let delivery = producer
        .send(ProducerRecord::new("flushed", Bytes::from_static(b"now")))
        .await
        .unwrap();
    producer.flush().await;
    assert_eq!(delivery.await.unwrap().offset, 0);
    // Producers are shared between tasks: `send` and its delivery future are `Send`.
    let shared = producer.clone();
    let second = tokio::spawn(async move {
        let record = ProducerRecord::new("flushed", Bytes::from_static(b"later"));
        let delivery = shared.send(record).await.unwrap();
        shared.flush().await;
        delivery.await.unwrap()
    });
    assert_eq!(second.await.unwrap().offset, 1);
    let closed = producer.clone();
    producer.close().await;
    assert!(
        closed
            .send(ProducerRecord::new("flushed", Bytes::new()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn config_errors_name_the_key() {
    let cluster = ferry_kafka::Cluster::new(ferry_kafka::ClientConfig::new("127.0.0.1:1").unwrap());
    let error = Producer::new(
        cluster.clone(),
        [("enable.idempotence", "true"), ("acks", "1")],
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Config { ref key, .. } if key == "acks"),
        "{error}"
    );
    let error = Producer::new(cluster, [("delivery.timeout.ms", "1000")]).unwrap_err();
    assert!(
        matches!(error, Error::Config { ref key, .. } if key == "delivery.timeout.ms"),
        "{error}"
    );
}
