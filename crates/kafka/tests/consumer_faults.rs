//! The consumer through a fault-injecting proxy: whatever happens to the connections, poll
//! hands out every record once, in order.

mod consumer_support;

use std::time::Duration;

use consumer_support::{Batching, cluster, poll_at_least, poll_exactly, produce, sorted};
use ferry_kafka::consumer::{Consumer, ConsumerConfig, TopicPartition};
use ferry_testkit::{FaultProxy, free_port};

async fn proxied() -> (ferry_testkit::Cluster, FaultProxy) {
    let port = free_port().unwrap();
    let broker = ferry_testkit::Cluster::start_advertising(port)
        .await
        .unwrap();
    let proxy = FaultProxy::start(port, broker.listen_port()).await.unwrap();
    (broker, proxy)
}

/// A consumer that fetches little at a time, so that a long read takes many fetches.
fn small_fetches(cluster: &ferry_kafka::Cluster) -> Consumer {
    let mut config = ConsumerConfig::from_pairs([
        ("auto.offset.reset", "earliest"),
        ("fetch.max.wait.ms", "100"),
        ("max.partition.fetch.bytes", "16384"),
        ("max.poll.records", "200"),
    ])
    .unwrap();
    config.fetch_buffer_bytes = 64 * 1024;
    Consumer::new(cluster.clone(), config)
}

fn all_partitions(topic: &str, count: i32) -> Vec<TopicPartition> {
    (0..count).map(|p| TopicPartition::new(topic, p)).collect()
}

#[tokio::test]
async fn connection_cuts_lose_and_repeat_nothing() {
    let (broker, proxy) = proxied().await;
    let produced = produce(
        &broker.bootstrap(),
        "cuts",
        3,
        0,
        6000,
        "none",
        Batching::Batched,
    )
    .await;
    let cluster = cluster(&broker.bootstrap(), &[("reconnect.backoff.max.ms", "200")]);
    let consumer = small_fetches(&cluster);
    consumer.assign(all_partitions("cuts", 3));
    let mut records = Vec::new();
    let accepted_before = proxy.accepted();
    for _ in 0..6 {
        records.extend(poll_at_least(&consumer, 500).await);
        proxy.cut_all();
    }
    records.extend(poll_exactly(&consumer, produced.len() - records.len()).await);
    assert!(
        consumer
            .poll(Duration::from_millis(300))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        proxy.accepted() > accepted_before,
        "the consumer never reconnected"
    );
    let records = sorted(records);
    assert_eq!(records.len(), produced.len());
    for (record, expected) in records.iter().zip(&produced) {
        expected.assert_matches(record);
    }
}

#[tokio::test]
async fn a_stalled_fetch_times_out_and_the_consumer_carries_on() {
    let (broker, proxy) = proxied().await;
    let produced = produce(
        &broker.bootstrap(),
        "stalls",
        2,
        0,
        4000,
        "zstd",
        Batching::Batched,
    )
    .await;
    let cluster = cluster(&broker.bootstrap(), &[("request.timeout.ms", "1500")]);
    let consumer = small_fetches(&cluster);
    consumer.assign(all_partitions("stalls", 2));
    let mut records = poll_at_least(&consumer, 1000).await;
    proxy.stall(true);
    // While stalled, the fetch in flight times out and the consumer connects again (accepted
    // by the proxy, then stalled too); buffered records may still be handed out meanwhile.
    let accepted = proxy.accepted();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while proxy.accepted() == accepted {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reconnect while stalled"
        );
        records.extend(consumer.poll(Duration::from_millis(200)).await.unwrap());
    }
    proxy.stall(false);
    records.extend(poll_exactly(&consumer, produced.len() - records.len()).await);
    assert!(
        consumer
            .poll(Duration::from_millis(300))
            .await
            .unwrap()
            .is_empty()
    );
    let records = sorted(records);
    assert_eq!(records.len(), produced.len());
    for (pair, (record, expected)) in records.iter().zip(&produced).enumerate() {
        assert_eq!(record.offset, expected.offset, "record {pair}");
        expected.assert_matches(record);
    }
}

#[tokio::test]
async fn garbled_answers_are_dropped_and_fetched_again() {
    let (broker, proxy) = proxied().await;
    let produced = produce(
        &broker.bootstrap(),
        "garbled",
        1,
        0,
        3000,
        "gzip",
        Batching::Batched,
    )
    .await;
    let cluster = cluster(&broker.bootstrap(), &[("reconnect.backoff.max.ms", "200")]);
    let consumer = small_fetches(&cluster);
    consumer.assign(all_partitions("garbled", 1));
    let mut records = poll_at_least(&consumer, 500).await;
    proxy.garble(true);
    let accepted = proxy.accepted();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while proxy.accepted() == accepted {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reconnect while garbled"
        );
        records.extend(consumer.poll(Duration::from_millis(100)).await.unwrap());
    }
    proxy.garble(false);
    records.extend(poll_exactly(&consumer, produced.len() - records.len()).await);
    for (record, expected) in records.iter().zip(&produced) {
        expected.assert_matches(record);
    }
}
