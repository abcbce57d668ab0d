//! The offset and status stores against a real broker, with librdkafka as the independent
//! reader and writer of the raw records.

mod kafka_store_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use ferry_runtime::ConnectorTaskId;
use ferry_runtime::storage::kafka::{
    KafkaOffsetBackingStore, KafkaStatusBackingStore, WorkerStatuses,
};
use ferry_runtime::storage::offset_records::{OffsetKey, offset_to_json};
use ferry_runtime::storage::offsets::OffsetBackingStore;
use ferry_runtime::storage::status_records::{State, Status, TopicStatus};
use ferry_runtime::worker::{self, StatusBackingStore};
use kafka_store_support::{Raw, Setup, TestResult, create_topic, read_raw, write_raw};
use serde_json::json;

fn offset_key(connector: &str, partition: serde_json::Value) -> Vec<u8> {
    let partition = partition.as_object().unwrap().clone();
    OffsetKey {
        connector: connector.into(),
        partition,
    }
    .to_json()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn offsets_are_written_as_java_writes_them_and_read_by_another_worker() -> TestResult {
    let setup = Setup::start().await;
    let bootstrap = setup.bootstrap();
    let first = KafkaOffsetBackingStore::start(&setup.cluster(), &setup.props).await?;
    let entries: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0..8)
        .map(|p| {
            let key = offset_key("mm2", json!({"topic": "t", "partition": p, "cluster": "A"}));
            let offset = json!({"offset": 100 + p});
            (key, offset_to_json(offset.as_object()))
        })
        .collect();
    first.set(entries.clone()).await?;

    // The exact bytes, on the partitions Java's murmur2 partitioner picks for those keys.
    let raw = read_raw(&bootstrap, "connect-offsets", 3, entries.len()).await;
    assert_eq!(raw.len(), entries.len());
    create_topic(&bootstrap, "java-placement", 3, &[]).await;
    let keys: Vec<String> = entries.iter().map(|(k, _)| text(k)).collect();
    let java: Vec<(&str, Option<&str>)> = keys.iter().map(|k| (k.as_str(), Some("x"))).collect();
    let java_partitions = write_raw(&bootstrap, "java-placement", &java).await;
    for ((key, value), java_partition) in entries.iter().zip(&java_partitions) {
        let found = raw
            .iter()
            .find(|r| r.key.as_deref() == Some(text(key).as_str()));
        let found = found.unwrap_or_else(|| panic!("{} was written", text(key)));
        assert_eq!(
            found.value.as_deref(),
            value.as_deref().map(text).as_deref()
        );
        assert_eq!(
            found.partition,
            *java_partition,
            "partition of {}",
            text(key)
        );
    }
    assert_eq!(
        keys[0], r#"["mm2",{"cluster":"A","partition":0,"topic":"t"}]"#,
        "fields in java.util.HashMap order"
    );
    assert_eq!(
        raw[0]
            .value
            .as_deref()
            .map(|v| v.starts_with(r#"{"offset":1"#)),
        Some(true)
    );
    assert!(
        java_partitions.iter().any(|p| *p != java_partitions[0]),
        "keys spread"
    );

    // A second worker, and offsets a Java worker wrote with its fields in another order.
    write_raw(
        &bootstrap,
        "connect-offsets",
        &[(
            r#"["java",{"topic":"t","partition":0,"cluster":"A"}]"#,
            Some(r#"{"offset":99}"#),
        )],
    )
    .await;
    let second = KafkaOffsetBackingStore::start(&setup.cluster(), &setup.props).await?;
    let java_key = offset_key(
        "java",
        json!({"cluster": "A", "partition": 0, "topic": "t"}),
    );
    let mut asked: Vec<Vec<u8>> = entries.iter().map(|(k, _)| k.clone()).collect();
    asked.push(java_key.clone());
    asked.push(offset_key("mm2", json!({"topic": "unknown"})));
    let found = second.get(&asked).await?;
    assert_eq!(found.len(), entries.len() + 1);
    for (key, value) in &entries {
        assert_eq!(Some(&found[key]), value.as_ref());
    }
    assert_eq!(found[&java_key], br#"{"offset":99}"#);
    assert_eq!(second.connector_partitions("java").len(), 1);
    assert_eq!(second.connector_partitions("mm2").len(), 8);

    // A reset (tombstone) written by the second reaches the first.
    second.set(vec![(entries[0].0.clone(), None)]).await?;
    let found = first
        .get(&[entries[0].0.clone(), entries[1].0.clone()])
        .await?;
    assert_eq!(found.len(), 1);
    assert!(found.contains_key(&entries[1].0));
    assert_eq!(first.connector_partitions("mm2").len(), 7);
    let offsets = first.connector_offsets("mm2").await?;
    assert_eq!(offsets.len(), 7);
    assert!(
        offsets
            .iter()
            .all(|(p, o)| o["offset"].as_i64() == Some(100 + p["partition"].as_i64().unwrap()))
    );
    first.stop().await;
    second.stop().await;
    Ok(())
}

fn status(state: State, worker: &str, generation: i32) -> Status {
    Status {
        state,
        trace: None,
        worker_id: worker.into(),
        generation,
    }
}

/// The latest value of each key, checking that every key stayed on one partition.
fn latest_by_key(raw: &[Raw]) -> BTreeMap<String, Option<String>> {
    let mut partitions: BTreeMap<String, i32> = BTreeMap::new();
    let mut latest = BTreeMap::new();
    for r in raw {
        let key = r.key.clone().unwrap();
        let partition = *partitions.entry(key.clone()).or_insert(r.partition);
        assert_eq!(partition, r.partition, "{key} stays on one partition");
        latest.insert(key, r.value.clone());
    }
    latest
}

#[tokio::test]
async fn statuses_are_shared_between_workers_with_java_generation_rules() -> TestResult {
    let setup = Setup::start().await;
    let bootstrap = setup.bootstrap();
    // A Java worker's leftovers.
    create_topic(
        &bootstrap,
        "connect-status",
        2,
        &[("cleanup.policy", "compact")],
    )
    .await;
    let java_status = r#"{"state":"FAILED","trace":"java.lang.Exception: boom","worker_id":"10.0.0.1:8083","generation":2}"#;
    write_raw(
        &bootstrap,
        "connect-status",
        &[
            ("status-task-java-conn-0", Some(java_status)),
            (
                "status-topic-orders:connector-java-conn",
                Some(r#"{"topic":{"name":"orders","connector":"java-conn","task":0,"discoverTimestamp":1700000000000}}"#),
            ),
        ],
    )
    .await;

    let first = KafkaStatusBackingStore::start(&setup.cluster(), &setup.props).await?;
    let task = first
        .task(&ConnectorTaskId::new("java-conn", 0))
        .expect("Java's task status");
    assert_eq!(task.state, State::Failed);
    assert_eq!(task.trace.as_deref(), Some("java.lang.Exception: boom"));
    assert_eq!(
        first.topics("java-conn")[0].discover_timestamp,
        1_700_000_000_000
    );

    let c0 = ConnectorTaskId::new("c", 0);
    first.put_connector("c", status(State::Running, "w1:8083", 5));
    first.put_task(&c0, status(State::Running, "w1:8083", 5));
    first.put_topic(&TopicStatus {
        topic: "orders".into(),
        connector: "c".into(),
        task: 0,
        discover_timestamp: 42,
    });
    first.put_connector("gone", status(State::Running, "w1:8083", 5));
    first.put_connector("gone", status(State::Destroyed, "w1:8083", 5));
    first.read_to_end().await?;
    assert!(first.connector("gone").is_none());

    let second = KafkaStatusBackingStore::start(&setup.cluster(), &setup.props).await?;
    assert_eq!(
        second.connector("c"),
        Some(status(State::Running, "w1:8083", 5))
    );
    assert_eq!(
        second.tasks("c"),
        [(c0.clone(), status(State::Running, "w1:8083", 5))]
    );
    assert_eq!(
        second.topic("c", "orders").map(|t| t.discover_timestamp),
        Some(42)
    );
    // As Java's store, a connector with only a task status is listed too.
    assert_eq!(second.connectors(), ["c", "java-conn"]);

    // An older generation of another worker does not overwrite with putSafe; a newer one does.
    second.put_task_safe(&c0, status(State::Unassigned, "w2:8083", 4));
    second.put_connector_safe("c", status(State::Failed, "w2:8083", 6));
    second.delete_topic("c", "orders");
    second.read_to_end().await?;
    first.read_to_end().await?;
    assert_eq!(first.task(&c0), Some(status(State::Running, "w1:8083", 5)));
    assert_eq!(first.connector("c").map(|s| s.state), Some(State::Failed));
    assert!(first.topics("c").is_empty());
    // A stale UNASSIGNED written without putSafe is still ignored by readers.
    second.put_task(&c0, status(State::Unassigned, "w2:8083", 5));
    second.read_to_end().await?;
    first.read_to_end().await?;
    assert_eq!(first.task(&c0).map(|s| s.state), Some(State::Running));

    let raw = read_raw(&bootstrap, "connect-status", 2, 10).await;
    assert_eq!(raw.len(), 10, "{raw:?}");
    let latest = latest_by_key(&raw);
    let expected: BTreeMap<String, Option<String>> = [
        ("status-task-java-conn-0", Some(java_status)),
        (
            "status-topic-orders:connector-java-conn",
            Some(r#"{"topic":{"name":"orders","connector":"java-conn","task":0,"discoverTimestamp":1700000000000}}"#),
        ),
        ("status-connector-c", Some(r#"{"state":"FAILED","trace":null,"worker_id":"w2:8083","generation":6}"#)),
        ("status-task-c-0", Some(r#"{"state":"UNASSIGNED","trace":null,"worker_id":"w2:8083","generation":5}"#)),
        ("status-topic-orders:connector-c", None),
        ("status-connector-gone", None),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
    .collect();
    assert_eq!(latest, expected);
    let first_write = raw
        .iter()
        .find(|r| r.key.as_deref() == Some("status-connector-c"));
    assert_eq!(
        first_write.and_then(|r| r.value.as_deref()),
        Some(r#"{"state":"RUNNING","trace":null,"worker_id":"w1:8083","generation":5}"#)
    );
    let topic_write = raw
        .iter()
        .find(|r| r.key.as_deref() == Some("status-topic-orders:connector-c"));
    assert_eq!(
        topic_write.and_then(|r| r.value.as_deref()),
        Some(r#"{"topic":{"name":"orders","connector":"c","task":0,"discoverTimestamp":42}}"#)
    );
    first.stop().await;
    second.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_workers_status_store_writes_with_its_id_and_generation() -> TestResult {
    let setup = Setup::start().await;
    let store = Arc::new(KafkaStatusBackingStore::start(&setup.cluster(), &setup.props).await?);
    let statuses = WorkerStatuses::new(store.clone(), "w1:8083");
    statuses.set_generation(3);
    let t0 = ConnectorTaskId::new("c", 0);
    statuses.put_connector("c", worker::Status::new(State::Running, "w1:8083"));
    statuses.put_task(&t0, worker::Status::failed("boom", "w1:8083"));
    statuses.put_topic("c", "orders");
    statuses.put_topic("c", "audit");
    store.read_to_end().await?;
    let first_seen = store.topic("c", "orders").expect("the topic is recorded");
    statuses.put_topic("c", "orders");
    store.read_to_end().await?;
    assert_eq!(
        store.topic("c", "orders"),
        Some(first_seen),
        "recorded once"
    );
    assert_eq!(statuses.topics("c"), ["audit", "orders"]);
    assert_eq!(
        store.connector("c"),
        Some(status(State::Running, "w1:8083", 3))
    );
    assert_eq!(statuses.tasks("c")[0].1.trace.as_deref(), Some("boom"));

    // FAILED and UNASSIGNED are written as Java's herder writes them: safely.
    let other = WorkerStatuses::new(store.clone(), "w2:8083");
    other.set_generation(2);
    other.put_task(&t0, worker::Status::new(State::Unassigned, "w2:8083"));
    store.read_to_end().await?;
    assert_eq!(store.task(&t0).map(|s| s.state), Some(State::Failed));
    other.set_generation(4);
    other.put_task(&t0, worker::Status::new(State::Unassigned, "w2:8083"));
    store.read_to_end().await?;
    assert_eq!(
        store.task(&t0),
        Some(status(State::Unassigned, "w2:8083", 4))
    );

    statuses.reset_topics("c");
    statuses.delete_connector("c");
    store.read_to_end().await?;
    assert!(statuses.topics("c").is_empty());
    assert!(statuses.connector("c").is_none());
    assert!(statuses.tasks("c").is_empty());
    let raw = read_raw(&setup.bootstrap(), "connect-status", 2, 9).await;
    let latest = latest_by_key(&raw);
    assert_eq!(raw.len(), 9, "{raw:?}");
    assert!(
        latest.values().all(Option::is_none),
        "all deleted: {latest:?}"
    );
    store.stop().await;
    Ok(())
}
