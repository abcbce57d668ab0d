//! Connections and the cluster layer against a real broker, with faults from a proxy.

use std::sync::Arc;

use ferry_kafka::connection::{Connection, ConnectionConfig, TcpConnector};
use ferry_kafka::kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, MetadataRequest, ProduceRequest,
};
use ferry_kafka::kafka_protocol::protocol::Message;
use ferry_kafka::{ClientConfig, Cluster, Error};
use ferry_testkit::{FaultProxy, free_port};

fn config(bootstrap: &str, extra: &[(&str, &str)]) -> ClientConfig {
    let mut pairs = vec![("bootstrap.servers", bootstrap)];
    pairs.extend_from_slice(extra);
    ClientConfig::from_pairs(pairs).unwrap()
}

async fn proxied() -> (ferry_testkit::Cluster, FaultProxy) {
    let port = free_port().unwrap();
    let broker = ferry_testkit::Cluster::start_advertising(port)
        .await
        .unwrap();
    let proxy = FaultProxy::start(port, broker.listen_port()).await.unwrap();
    (broker, proxy)
}

#[tokio::test]
async fn negotiates_versions_within_both_ranges() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let conn = Connection::connect(
        &TcpConnector,
        "127.0.0.1",
        broker.listen_port(),
        ConnectionConfig::default(),
    )
    .await
    .unwrap();
    let metadata = conn.version_of::<MetadataRequest>().unwrap();
    assert!(metadata.max <= MetadataRequest::VERSIONS.max);
    assert!(metadata.min <= metadata.max);
    let produce = conn.api_versions(ApiKey::Produce).unwrap();
    assert!(produce.max <= ProduceRequest::VERSIONS.max);
    // ApiVersions itself goes through the generic path too.
    let versions = conn.send(&ApiVersionsRequest::default()).await.unwrap();
    assert_eq!(versions.error_code, 0);
    assert!(
        versions
            .api_keys
            .iter()
            .any(|k| k.api_key == ApiKey::Metadata as i16)
    );
}

#[tokio::test]
async fn metadata_auto_creates_and_finds_leaders() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let cluster = Cluster::new(config(&broker.bootstrap(), &[]));
    let metadata = cluster.metadata_for(&["auto-created"], true).await.unwrap();
    let topic = &metadata.topics["auto-created"];
    assert_eq!(topic.error, None);
    assert!(!topic.partitions.is_empty());
    let leader = cluster.leader_for("auto-created", 0).await.unwrap();
    assert!(metadata.brokers.contains_key(&leader));
    assert_eq!(
        cluster.cluster_id().await.unwrap().as_deref(),
        Some(broker.cluster_id())
    );
    let missing = cluster
        .leader_for("auto-created", 10_000)
        .await
        .unwrap_err();
    assert_eq!(
        missing.kafka_code(),
        Some(ferry_kafka::KafkaCode::UnknownTopicOrPartition)
    );
}

#[tokio::test]
async fn pipelines_many_requests_on_one_connection() {
    let (broker, proxy) = proxied().await;
    let cluster = Cluster::new(config(&broker.bootstrap(), &[]));
    cluster.refresh_metadata().await.unwrap();
    let conn = cluster.any_connection().await.unwrap();
    let accepted = proxy.accepted();
    let requests = (0..200).map(|_| {
        let conn = conn.clone();
        tokio::spawn(async move {
            conn.send(&MetadataRequest::default().with_topics(None))
                .await
        })
    });
    for request in requests.collect::<Vec<_>>() {
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.brokers.len(), 1);
    }
    assert_eq!(
        proxy.accepted(),
        accepted,
        "all requests shared one connection"
    );
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn request_times_out_under_a_stalled_proxy() {
    let (broker, proxy) = proxied().await;
    let cluster = Cluster::new(config(
        &broker.bootstrap(),
        &[("request.timeout.ms", "500")],
    ));
    let conn = cluster.any_connection().await.unwrap();
    proxy.stall(true);
    let err = conn
        .send(&MetadataRequest::default().with_topics(None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(
        conn.is_closed(),
        "a timed-out request closes its connection"
    );
    proxy.stall(false);
    let again = cluster.any_connection().await.unwrap();
    again
        .send(&MetadataRequest::default().with_topics(None))
        .await
        .unwrap();
}

#[tokio::test]
async fn reconnects_after_cut() {
    let (broker, proxy) = proxied().await;
    let cluster = Cluster::new(config(&broker.bootstrap(), &[]));
    cluster.refresh_metadata().await.unwrap();
    let conn = cluster.connection(111).await.unwrap();
    let before = proxy.accepted();
    proxy.cut_all();
    let err = conn
        .send(&MetadataRequest::default().with_topics(None))
        .await
        .unwrap_err();
    assert!(err.is_retriable(), "{err}");
    assert!(conn.is_closed());
    // Refused for a while: the pool keeps trying with backoff through `retry`.
    proxy.reject(true);
    assert!(cluster.connection(111).await.is_err());
    proxy.reject(false);
    let again = cluster
        .retry("test", || async {
            let c = cluster.connection(111).await?;
            c.send(&MetadataRequest::default().with_topics(None)).await
        })
        .await
        .unwrap();
    assert_eq!(again.brokers.len(), 1);
    assert!(proxy.accepted() > before);
    assert!(proxy.rejected() >= 1);
}

#[tokio::test]
async fn malformed_response_is_typed_and_next_request_reconnects() {
    let (broker, proxy) = proxied().await;
    let cluster = Cluster::new(config(&broker.bootstrap(), &[]));
    let conn = cluster.any_connection().await.unwrap();
    proxy.garble(true);
    let err = conn
        .send(&MetadataRequest::default().with_topics(None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err}");
    assert!(conn.is_closed());
    proxy.garble(false);
    let response = cluster
        .retry("test", || async {
            cluster
                .any_connection()
                .await?
                .send(&MetadataRequest::default().with_topics(None))
                .await
        })
        .await
        .unwrap();
    assert_eq!(response.brokers.len(), 1);
}

#[tokio::test]
async fn connection_errors_are_typed() {
    let port = free_port().unwrap();
    let cluster = Cluster::with_connector(
        config(&format!("127.0.0.1:{port}"), &[]),
        Arc::new(TcpConnector),
    );
    let err = cluster.any_connection().await.unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}
