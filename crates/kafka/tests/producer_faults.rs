//! The producer through a fault-injecting proxy: connections cut and stalled mid-produce. With
//! idempotence, every record must arrive exactly once and in order, as librdkafka reads it.

mod producer_support;

use std::time::Duration;

use ferry_kafka::producer::{DeliveryFuture, Producer};
use ferry_testkit::{FaultProxy, free_port};
use producer_support::{assert_exactly_once, create_topic, numbered, producer};

async fn proxied() -> (ferry_testkit::Cluster, FaultProxy) {
    let port = free_port().unwrap();
    let broker = ferry_testkit::Cluster::start_advertising(port)
        .await
        .unwrap();
    let proxy = FaultProxy::start(port, broker.listen_port()).await.unwrap();
    (broker, proxy)
}

const FAST_FAILURE: [(&str, &str); 4] = [
    ("request.timeout.ms", "2000"),
    ("retry.backoff.ms", "20"),
    ("reconnect.backoff.ms", "20"),
    ("linger.ms", "2"),
];

async fn await_all(deliveries: Vec<DeliveryFuture>) {
    for delivery in deliveries {
        delivery.await.unwrap();
    }
}

#[tokio::test]
async fn cut_connections_lose_and_duplicate_nothing() {
    let (broker, proxy) = proxied().await;
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "cut", 1).await;
    let producer: Producer = producer(&bootstrap, &FAST_FAILURE);
    assert!(producer.config().enable_idempotence);
    let count = 30_000;
    let mut deliveries = Vec::new();
    for n in 0..count {
        deliveries.push(producer.send(numbered("cut", n)).await.unwrap());
        if n % 5_000 == 2_500 {
            proxy.cut_all();
        }
        if n % 1_000 == 0 {
            tokio::task::yield_now().await;
        }
    }
    await_all(deliveries).await;
    producer.close().await;
    assert!(proxy.accepted() > 2, "the connection was never cut");
    assert_exactly_once(&bootstrap, "cut", count).await;
}

#[tokio::test]
async fn stalled_connection_times_out_and_the_producer_recovers() {
    let (broker, proxy) = proxied().await;
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "stalled", 1).await;
    let producer = producer(&bootstrap, &FAST_FAILURE);
    let mut deliveries = Vec::new();
    for n in 0..1_000 {
        deliveries.push(producer.send(numbered("stalled", n)).await.unwrap());
    }
    // Make sure the first records are on their way before stalling.
    deliveries.remove(0).await.unwrap();
    let accepted = proxy.accepted();
    proxy.stall(true);
    for n in 1_000..3_000 {
        deliveries.push(producer.send(numbered("stalled", n)).await.unwrap());
    }
    // The stalled request times out and the producer opens a new connection.
    while proxy.accepted() == accepted {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.stall(false);
    await_all(deliveries).await;
    producer.close().await;
    assert_exactly_once(&bootstrap, "stalled", 3_000).await;
}

#[tokio::test]
async fn send_blocks_at_most_max_block_when_buffer_memory_is_full() {
    let (broker, proxy) = proxied().await;
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "blocked", 1).await;
    let producer = producer(
        &bootstrap,
        &[
            ("buffer.memory", "20000"),
            ("max.block.ms", "300"),
            ("batch.size", "4096"),
        ],
    );
    producer
        .send(numbered("blocked", 0))
        .await
        .unwrap()
        .await
        .unwrap();
    proxy.stall(true);
    let mut deliveries = Vec::new();
    let error = loop {
        match producer.send(numbered("blocked", 1)).await {
            Ok(delivery) => deliveries.push(delivery),
            Err(error) => break error,
        }
    };
    assert!(
        matches!(error, ferry_kafka::Error::Timeout { .. }),
        "{error}"
    );
    assert!(!deliveries.is_empty() && deliveries.len() < 100);
    proxy.stall(false);
    await_all(deliveries).await;
}
