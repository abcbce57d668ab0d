//! The Kafka-based log, internal topic creation and the config store against a real broker,
//! with librdkafka as the independent reader and writer of the raw records.

mod kafka_store_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ferry_kafka::Admin;
use ferry_kafka::admin::ConfigResource;
use ferry_runtime::ConnectorTaskId;
use ferry_runtime::storage::config_records::{RestartRequest, SessionKey, TargetState};
use ferry_runtime::storage::kafka::log::{KafkaBasedLog, LogClients};
use ferry_runtime::storage::kafka::{
    ConfigUpdate, InternalTopic, KafkaConfigBackingStore, StoreError,
};
use kafka_store_support::{
    Raw, Setup, TestResult, create_topic, read_raw, write_raw, write_raw_batched,
};

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

type Seen = Arc<Mutex<Vec<(i32, i64, Option<Bytes>)>>>;

async fn start_log(setup: &Setup, topic: &str) -> (KafkaBasedLog, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let mut clients = LogClients::default();
    // Small polls: a read to the end must not stop inside a batch.
    clients.consumer.max_poll_records = 4;
    let log = KafkaBasedLog::start(
        &setup.cluster(),
        topic,
        clients,
        Box::new(move |r| {
            sink.lock()
                .unwrap()
                .push((r.partition, r.offset, r.key.clone()))
        }),
    )
    .await
    .expect("the log starts");
    (log, seen)
}

/// Per partition, the offsets seen must be 0, 1, 2, … with no gap or repeat.
fn assert_in_order(seen: &[(i32, i64, Option<Bytes>)]) {
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for (partition, offset, _) in seen {
        let expected = next.entry(*partition).or_insert(0);
        assert_eq!(offset, expected, "partition {partition}");
        *expected += 1;
    }
}

#[tokio::test]
async fn log_reads_from_the_beginning_and_read_to_end_covers_concurrent_writes() -> TestResult {
    let setup = Setup::start().await;
    let bootstrap = setup.bootstrap();
    create_topic(&bootstrap, "log", 3, &[("cleanup.policy", "compact")]).await;
    let before: Vec<(String, Option<String>)> = (0..30)
        .map(|i| (format!("before-{i}"), Some(format!("v{i}"))))
        .collect();
    let before: Vec<(&str, Option<&str>)> = before
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    write_raw_batched(&bootstrap, "log", &before).await;

    let (log, seen) = start_log(&setup, "log").await;
    assert_eq!(log.partition_count(), 3);
    assert_eq!(
        seen.lock().unwrap().len(),
        30,
        "everything written before start is read"
    );

    // Records still lingering in the producer's batches are flushed and read back.
    for i in 0..25 {
        // Not awaited: the records wait in the producer's batches.
        let _delivery = log
            .send(
                Some(Bytes::from(format!("batch-{i}"))),
                Some(Bytes::from("v")),
            )
            .await?;
    }
    log.read_to_end().await?;
    assert_eq!(
        seen.lock().unwrap().len(),
        55,
        "a whole batch is read to its end"
    );

    // librdkafka and this log write at the same time; each reader's read_to_end must see
    // its own writes.
    let log = Arc::new(log);
    let other = tokio::spawn(async move {
        let keys: Vec<String> = (0..40).map(|i| format!("other-{i}")).collect();
        let records: Vec<(&str, Option<&str>)> = keys.iter().map(|k| (k.as_str(), None)).collect();
        write_raw(&bootstrap, "log", &records).await;
    });
    let mut writers = Vec::new();
    for w in 0..4 {
        let log = log.clone();
        let seen = seen.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..10 {
                let key = Bytes::from(format!("ferry-{w}-{i}"));
                let delivery = log.send(Some(key.clone()), Some(Bytes::from("v"))).await?;
                if i % 3 == 0 {
                    delivery.await?;
                    log.read_to_end().await?;
                    let found = seen
                        .lock()
                        .unwrap()
                        .iter()
                        .any(|s| s.2.as_ref() == Some(&key));
                    assert!(found, "{key:?} was read back by read_to_end");
                }
            }
            Ok::<_, StoreError>(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    other.await?;
    log.read_to_end().await?;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 55 + 40 + 40);
    assert_in_order(&seen);

    // A second reader of the same topic sees the same records.
    let (second, seen_again) = start_log(&setup, "log").await;
    let mut a = seen.clone();
    let mut b = seen_again.lock().unwrap().clone();
    a.sort_by_key(|s| (s.0, s.1));
    b.sort_by_key(|s| (s.0, s.1));
    assert_eq!(a, b);
    second.stop().await;
    log.stop().await;
    assert!(matches!(log.read_to_end().await, Err(StoreError::Stopped)));
    Ok(())
}

#[tokio::test]
async fn internal_topics_are_created_compacted_and_existing_ones_are_checked() -> TestResult {
    let setup = Setup::start().await;
    let cluster = setup.cluster();
    let admin = Admin::new(cluster.clone());
    let offsets = InternalTopic::offsets(&setup.props)?;
    assert!(
        offsets
            .ensure(&admin, std::time::Duration::from_secs(30))
            .await?
    );
    // Already there: not created again, and found compacted.
    assert!(
        !offsets
            .ensure(&admin, std::time::Duration::from_secs(30))
            .await?
    );
    let described = admin.describe_topics(&["connect-offsets"]).await?;
    let partitions = described["connect-offsets"]
        .as_ref()
        .unwrap()
        .partitions
        .len();
    assert_eq!(partitions, 3);
    let resource = ConfigResource::Topic("connect-offsets".into());
    let configs = admin
        .describe_configs(std::slice::from_ref(&resource))
        .await?;
    let policy = configs[&resource]
        .as_ref()
        .unwrap()
        .iter()
        .find(|e| e.name == "cleanup.policy");
    assert_eq!(policy.and_then(|e| e.value.as_deref()), Some("compact"));

    // A user-made status topic that deletes old records is refused.
    create_topic(
        &setup.bootstrap(),
        "connect-status",
        1,
        &[("cleanup.policy", "delete")],
    )
    .await;
    let statuses = InternalTopic::statuses(&setup.props)?;
    let refused = statuses
        .ensure(&admin, std::time::Duration::from_secs(30))
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Config(m)) if m.contains("cleanup.policy=delete")),
        "{refused:?}"
    );

    // A config topic must have one partition.
    create_topic(
        &setup.bootstrap(),
        "connect-configs",
        2,
        &[("cleanup.policy", "compact")],
    )
    .await;
    let refused = KafkaConfigBackingStore::start(&cluster, &setup.props).await;
    assert!(
        matches!(&refused, Err(StoreError::Config(m)) if m.contains("single partition")),
        "{:?}",
        refused.err()
    );
    Ok(())
}

fn task_props(i: i32) -> BTreeMap<String, String> {
    props(&[
        ("task.class", "FileStreamSourceTask"),
        ("file", &format!("/tmp/{i}")),
    ])
}

#[tokio::test]
async fn config_store_writes_are_seen_by_a_second_worker_and_match_java_bytes() -> TestResult {
    let setup = Setup::start().await;
    let (first, _updates) = KafkaConfigBackingStore::start(&setup.cluster(), &setup.props).await?;
    let connector = props(&[("connector.class", "FileStreamSource"), ("tasks.max", "2")]);
    first
        .put_connector_config("src", &connector, Some(TargetState::Stopped))
        .await?;
    first.put_connector_config("gone", &connector, None).await?;
    first
        .put_task_configs("src", &[task_props(0), task_props(1)])
        .await?;
    first.put_target_state("src", TargetState::Paused).await?;
    let key = SessionKey {
        key: b"0123456789abcdef".to_vec(),
        algorithm: "HmacSHA256".into(),
        creation_timestamp: 1_700_000_000_000,
    };
    first.put_session_key(&key).await?;
    first.remove_connector_config("gone").await?;
    let restart = RestartRequest {
        connector: "src".into(),
        only_failed: true,
        include_tasks: false,
    };
    first.put_restart_request(&restart).await?;
    first.refresh(std::time::Duration::from_secs(10)).await?;

    let snapshot = first.snapshot();
    assert_eq!(snapshot.connectors().collect::<Vec<_>>(), ["src"]);
    assert_eq!(snapshot.connector_config("src"), Some(&connector));
    assert_eq!(snapshot.target_state("src"), Some(TargetState::Paused));
    assert_eq!(snapshot.tasks("src").len(), 2);
    assert_eq!(
        snapshot.task_config(&ConnectorTaskId::new("src", 1)),
        Some(&task_props(1))
    );
    assert_eq!(snapshot.session_key(), Some(&key));
    assert_eq!(snapshot.offset(), 11);

    // Another worker reads the same state from the topic.
    let (second, mut updates) =
        KafkaConfigBackingStore::start(&setup.cluster(), &setup.props).await?;
    assert_eq!(second.snapshot(), snapshot);

    // What the first writes now reaches the second as updates.
    first.put_target_state("src", TargetState::Started).await?;
    first.put_task_configs("src", &[task_props(7)]).await?;
    second.refresh(std::time::Duration::from_secs(10)).await?;
    assert_eq!(
        updates.recv().await,
        Some(ConfigUpdate::TargetStateChanged("src".into()))
    );
    assert_eq!(
        updates.recv().await,
        Some(ConfigUpdate::TasksReconfigured(vec![ConnectorTaskId::new(
            "src", 0
        )]))
    );
    let snapshot = second.snapshot();
    assert_eq!(snapshot.tasks("src"), [ConnectorTaskId::new("src", 0)]);
    assert_eq!(
        snapshot.task_config(&ConnectorTaskId::new("src", 0)),
        Some(&task_props(7))
    );
    assert_eq!(snapshot.task_config_generation("src"), Some(1));

    let raw = read_raw(&setup.bootstrap(), "connect-configs", 1, 14).await;
    let expected: Vec<(&str, Option<&str>)> = vec![
        (
            "target-state-src",
            Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#),
        ),
        (
            "connector-src",
            Some(r#"{"properties":{"connector.class":"FileStreamSource","tasks.max":"2"}}"#),
        ),
        (
            "connector-gone",
            Some(r#"{"properties":{"connector.class":"FileStreamSource","tasks.max":"2"}}"#),
        ),
        (
            "task-src-0",
            Some(r#"{"properties":{"file":"/tmp/0","task.class":"FileStreamSourceTask"}}"#),
        ),
        (
            "task-src-1",
            Some(r#"{"properties":{"file":"/tmp/1","task.class":"FileStreamSourceTask"}}"#),
        ),
        ("commit-src", Some(r#"{"tasks":2}"#)),
        (
            "target-state-src",
            Some(r#"{"state":"PAUSED","state.v2":"PAUSED"}"#),
        ),
        (
            "session-key",
            Some(
                r#"{"key":"MDEyMzQ1Njc4OWFiY2RlZg==","algorithm":"HmacSHA256","creation-timestamp":1700000000000}"#,
            ),
        ),
        ("connector-gone", None),
        ("target-state-gone", None),
        (
            "restart-connector-src",
            Some(r#"{"include-tasks":false,"only-failed":true}"#),
        ),
        (
            "target-state-src",
            Some(r#"{"state":"STARTED","state.v2":"STARTED"}"#),
        ),
        (
            "task-src-0",
            Some(r#"{"properties":{"file":"/tmp/7","task.class":"FileStreamSourceTask"}}"#),
        ),
        ("commit-src", Some(r#"{"tasks":1}"#)),
    ];
    let expected: Vec<Raw> = expected
        .into_iter()
        .enumerate()
        .map(|(offset, (key, value))| Raw {
            partition: 0,
            offset: offset as i64,
            key: Some(key.to_owned()),
            value: value.map(str::to_owned),
        })
        .collect();
    assert_eq!(raw, expected);
    first.stop().await;
    second.stop().await;
    Ok(())
}

#[tokio::test]
async fn config_records_left_by_java_workers_are_read() -> TestResult {
    let setup = Setup::start().await;
    create_topic(
        &setup.bootstrap(),
        "connect-configs",
        1,
        &[("cleanup.policy", "compact")],
    )
    .await;
    // What a Java cluster may leave: a pre-KIP-875 target state, a task set whose task 0 was
    // compacted away, a complete later set, a deleted connector and a session key.
    let records: Vec<(&str, Option<&str>)> = vec![
        (
            "connector-old",
            Some(r#"{"properties":{"connector.class":"X","name":"old"}}"#),
        ),
        ("target-state-old", Some(r#"{"state":"PAUSED"}"#)),
        (
            "connector-mm2",
            Some(r#"{"properties":{"connector.class":"MirrorSourceConnector"}}"#),
        ),
        (
            "task-mm2-1",
            Some(r#"{"properties":{"task.class":"T","n":"1"}}"#),
        ),
        ("commit-mm2", Some(r#"{"tasks":2}"#)),
        (
            "connector-dead",
            Some(r#"{"properties":{"connector.class":"X"}}"#),
        ),
        ("connector-dead", None),
        ("target-state-dead", None),
        (
            "session-key",
            Some(r#"{"key":"AAEC","algorithm":"HmacSHA256","creation-timestamp":5}"#),
        ),
        (
            "target-state-mm2",
            Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#),
        ),
        (
            "task-mm2-0",
            Some(r#"{"properties":{"task.class":"T","n":"0"}}"#),
        ),
    ];
    write_raw(&setup.bootstrap(), "connect-configs", &records).await;
    let (store, _updates) = KafkaConfigBackingStore::start(&setup.cluster(), &setup.props).await?;
    let snapshot = store.snapshot();
    assert_eq!(snapshot.offset(), 11);
    assert_eq!(snapshot.connectors().collect::<Vec<_>>(), ["mm2", "old"]);
    assert_eq!(snapshot.target_state("old"), Some(TargetState::Paused));
    assert_eq!(snapshot.target_state("mm2"), Some(TargetState::Stopped));
    assert!(snapshot.inconsistent_connectors().contains("mm2"));
    assert!(snapshot.tasks("mm2").is_empty());
    assert_eq!(
        snapshot.session_key().map(|k| k.key.clone()),
        Some(vec![0, 1, 2])
    );

    // The herder repairs the inconsistency by writing a complete set.
    store
        .put_task_configs("mm2", &[task_props(0), task_props(1)])
        .await?;
    let snapshot = store.snapshot();
    assert!(snapshot.inconsistent_connectors().is_empty());
    assert_eq!(snapshot.tasks("mm2").len(), 2);
    store.stop().await;
    Ok(())
}
