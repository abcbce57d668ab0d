//! The cluster layer's caches and connection lifetimes against a real broker.

use std::sync::Arc;
use std::time::Duration;

use counting::counted_cluster;
use ferry_kafka::{ClientConfig, Cluster, CoordinatorType};

mod counting;

fn cluster(bootstrap: &str, extra: &[(&str, &str)]) -> Cluster {
    let mut pairs = vec![("bootstrap.servers", bootstrap)];
    pairs.extend_from_slice(extra);
    Cluster::new(ClientConfig::from_pairs(pairs).unwrap())
}

#[tokio::test]
async fn metadata_is_cached_until_stale_or_old() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let cached = cluster(&broker.bootstrap(), &[]);
    let first = cached.metadata_for(&["cached"], true).await.unwrap();
    let second = cached.metadata_for(&["cached"], false).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second), "fresh metadata is reused");
    cached.request_update();
    let third = cached.metadata_for(&["cached"], false).await.unwrap();
    assert!(
        !Arc::ptr_eq(&second, &third),
        "request_update forces a refresh"
    );
    assert!(third.topics.contains_key("cached"));

    let aging = cluster(&broker.bootstrap(), &[("metadata.max.age.ms", "0")]);
    let first = aging.metadata_for(&["cached"], false).await.unwrap();
    let second = aging.metadata_for(&["cached"], false).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &second), "old metadata is refreshed");
    // Topics asked for once stay in later refreshes.
    let refreshed = aging.refresh_metadata().await.unwrap();
    assert!(refreshed.topics.contains_key("cached"));
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let cluster = cluster(&broker.bootstrap(), &[("connections.max.idle.ms", "200")]);
    let conn = cluster.any_connection().await.unwrap();
    assert!(!conn.is_closed());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !conn.is_closed() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "idle connection stayed open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A new one is opened on demand.
    let again = cluster.any_connection().await.unwrap();
    assert!(!again.is_closed());
}

#[tokio::test]
async fn finds_and_caches_group_coordinator() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let cluster = cluster(&broker.bootstrap(), &[]);
    let metadata = cluster.refresh_metadata().await.unwrap();
    let coordinator = cluster
        .coordinator("some-group", CoordinatorType::Group)
        .await
        .unwrap();
    assert!(metadata.brokers.contains_key(&coordinator.id));
    assert_eq!(
        cluster
            .coordinator("some-group", CoordinatorType::Group)
            .await
            .unwrap(),
        coordinator
    );
    cluster.invalidate_coordinator("some-group", CoordinatorType::Group);
    let conn = cluster
        .coordinator_connection("some-group", CoordinatorType::Group)
        .await
        .unwrap();
    assert!(!conn.is_closed());
    // The group's requests have a connection of their own, apart from the broker's shared one
    // (which a JoinGroup held by the coordinator would otherwise block).
    let shared = cluster.connection(coordinator.id).await.unwrap();
    conn.close();
    assert!(!shared.is_closed());
    let again = cluster
        .coordinator_connection("some-group", CoordinatorType::Group)
        .await
        .unwrap();
    assert!(!again.is_closed());
}

#[tokio::test]
async fn the_bootstrap_connection_serves_the_broker_at_its_address() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let (cluster, counting) = counted_cluster(&broker.bootstrap());
    let metadata = cluster.refresh_metadata().await.unwrap();
    let node = metadata.brokers.values().next().unwrap().clone();
    assert_eq!(counting.opened(), 1);
    let connection = cluster.connection_to(&node).await.unwrap();
    assert_eq!(
        counting.opened(),
        1,
        "the broker's connection is the bootstrap one"
    );
    // Once it closes, the broker gets a connection of its own.
    connection.close();
    let own = cluster.connection_to(&node).await.unwrap();
    assert!(!own.is_closed());
    assert_eq!(counting.opened(), 2);
}
