//! The stores through a fault-injecting proxy: connections cut while writing lose no write.

mod kafka_store_support;

use std::collections::BTreeMap;
use std::time::Duration;

use ferry_kafka::{ClientConfig, Cluster};
use ferry_runtime::ConnectorTaskId;
use ferry_runtime::storage::kafka::{KafkaConfigBackingStore, KafkaStatusBackingStore};
use ferry_runtime::storage::status_records::{State, Status};
use ferry_testkit::{FaultProxy, free_port};
use kafka_store_support::{Setup, TestResult};

/// A broker reached only through a proxy, and worker properties pointing at the proxy.
async fn proxied() -> (ferry_testkit::Cluster, FaultProxy, BTreeMap<String, String>) {
    let port = free_port().expect("a free port");
    let broker = ferry_testkit::Cluster::start_advertising(port)
        .await
        .expect("a test broker");
    let proxy = FaultProxy::start(port, broker.listen_port())
        .await
        .expect("a proxy");
    let mut props = Setup::props_for(format!("127.0.0.1:{port}"));
    props.insert("reconnect.backoff.max.ms".into(), "200".into());
    (broker, proxy, props)
}

fn cluster(props: &BTreeMap<String, String>) -> Cluster {
    Cluster::new(ClientConfig::from_pairs(props.iter()).expect("a client config"))
}

#[tokio::test]
async fn status_and_config_writes_survive_connection_cuts() -> TestResult {
    let (_broker, proxy, props) = proxied().await;
    let statuses = KafkaStatusBackingStore::start(&cluster(&props), &props).await?;
    let (configs, _updates) = KafkaConfigBackingStore::start(&cluster(&props), &props).await?;
    let accepted_before = proxy.accepted();
    // Writes held by a stalled connection, then cut: the status producer does not retry
    // (as in Java), so the store re-sends them.
    proxy.stall(true);
    for task in 0..40 {
        let status = Status {
            state: State::Running,
            trace: None,
            worker_id: "w1:8083".into(),
            generation: 1,
        };
        statuses.put_task(&ConnectorTaskId::new("c", task), status);
    }
    let stalled = tokio::time::timeout(Duration::from_millis(300), statuses.flush()).await;
    assert!(
        stalled.is_err(),
        "nothing is delivered while the proxy holds the bytes"
    );
    proxy.cut_all();
    proxy.stall(false);
    for n in 0..4 {
        let config = [("connector.class".to_owned(), format!("C{n}"))].into();
        configs
            .put_connector_config(&format!("conn-{n}"), &config, None)
            .await?;
        proxy.cut_all();
    }
    statuses.read_to_end().await?;
    assert!(
        proxy.accepted() > accepted_before,
        "the clients reconnected"
    );

    // Another worker, connected after the cuts, reads every write.
    let other = KafkaStatusBackingStore::start(&cluster(&props), &props).await?;
    assert_eq!(other.tasks("c").len(), 40);
    let (other_configs, _) = KafkaConfigBackingStore::start(&cluster(&props), &props).await?;
    assert_eq!(other_configs.snapshot().connectors().count(), 4);
    for store in [&statuses, &other] {
        store.stop().await;
    }
    configs.stop().await;
    other_configs.stop().await;
    Ok(())
}
