//! The three MirrorMaker 2 connectors between two real clusters, driven through the
//! ferry-connect traits; librdkafka writes the source data and independently reads and
//! decodes what reached the target.

mod mirror_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ferry_connect::connector::{ConfigMap, Connector, SourceConnector};
use ferry_kafka::{Admin, ClientConfig, Cluster};
use ferry_mirror::checkpoint_connector::MirrorCheckpointConnector;
use ferry_mirror::heartbeat::MirrorHeartbeatConnector;
use ferry_mirror::source::MirrorSourceConnector;
use mirror_support::{
    Context, Driver, Offsets, alter_topic_configs, commit, create_topic, create_topic_with, decode,
    eventually, partition_count, produce, props, read_all, stay_in_group, topic_configs,
};

const RECORDS: usize = 90;

fn flow(a: &str, b: &str, extra: &[(&str, &str)]) -> ConfigMap {
    let mut config = props(&[
        ("name", "mm"),
        ("source.cluster.alias", "A"),
        ("target.cluster.alias", "B"),
        ("source.cluster.bootstrap.servers", a),
        ("target.cluster.bootstrap.servers", b),
        ("source.consumer.fetch.max.wait.ms", "50"),
        ("replication.factor", "1"),
        ("offset-syncs.topic.replication.factor", "1"),
        ("checkpoints.topic.replication.factor", "1"),
        ("heartbeats.topic.replication.factor", "1"),
    ]);
    config.extend(props(extra));
    config
}

/// The downstream offset MM2 translates `committed` to, from the decoded syncs of one
/// partition: the latest sync at or before it, one further when the group is past it.
fn translate(syncs: &[(i64, i64)], committed: i64) -> Option<i64> {
    let (up, down) = syncs.iter().rev().find(|(up, _)| *up <= committed)?;
    Some(if *up == committed { *down } else { down + 1 })
}

fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// The committed offsets of `group` in `topic` on a cluster, by partition.
async fn group_offsets(admin: &Admin, group: &str, topic: &str) -> BTreeMap<i32, i64> {
    let Ok(offsets) = admin.list_group_offsets(group, None).await else {
        return BTreeMap::new();
    };
    offsets
        .iter()
        .filter(|((t, _), _)| t == topic)
        .map(|((_, p), o)| (*p, o.offset))
        .collect()
}

#[tokio::test]
async fn source_checkpoint_and_heartbeat_connectors_mirror_a_to_b() {
    init_logging();
    let [a, b] = ferry_testkit::Cluster::start_many::<2>().await.unwrap();
    let (a, b) = (a.bootstrap(), b.bootstrap());
    create_topic(&a, "orders", 3).await;
    create_topic(&a, "skipped", 1).await;
    create_topic(&a, "B.loop", 1).await;
    create_topic(&a, "heartbeats", 1).await;
    create_topic(&a, "B.heartbeats", 1).await;
    produce(&a, "orders", RECORDS, 3).await;
    produce(&a, "B.loop", 5, 1).await;

    // The source connector: topic selection (heartbeats whatever the filter, never a topic that
    // came from B), remote topic creation, task split.
    let context = Arc::new(Context::default());
    let mut source = MirrorSourceConnector::default();
    source.initialize(context.clone());
    let config = flow(
        &a,
        &b,
        &[
            ("topics", "orders.*, B\\.loop"),
            ("refresh.topics.interval.seconds", "1"),
            ("sync.topic.configs.interval.seconds", "1"),
            // tansu reports topic overrides with config source DEFAULT_CONFIG (5), which Java's
            // rules copy only when defaults come from the source.
            ("use.defaults.from", "source"),
        ],
    );
    source.start(config).await.unwrap();
    let tasks = source.task_configs(2).await.unwrap();
    let assigned: Vec<&str> = tasks
        .iter()
        .map(|t| t["task.assigned.partitions"].as_str())
        .collect();
    assert_eq!(assigned, ["heartbeats-0,orders-1", "orders-0,orders-2"]);
    assert_eq!(partition_count(&b, "A.orders").await, 3);
    assert_eq!(partition_count(&b, "A.heartbeats").await, 1);
    assert_eq!(partition_count(&b, "A.B.loop").await, 0);
    assert_eq!(partition_count(&b, "A.B.heartbeats").await, 0);
    assert_eq!(partition_count(&b, "A.skipped").await, 0);

    // Replication, byte for byte, with offset syncs.
    let offsets = Arc::new(Offsets::default());
    let mut drivers = Vec::new();
    for config in tasks.clone() {
        let task = source.create_task();
        drivers.push(Driver::start(task, config, &b, offsets.clone()).await);
    }
    let mut replicated = 0;
    while replicated < RECORDS {
        for driver in &mut drivers {
            let records = driver.step().await;
            assert!(records.iter().all(|r| r.topic == "A.orders"), "{records:?}");
            replicated += records.len();
        }
    }
    assert_eq!(replicated, RECORDS);
    for driver in drivers {
        driver.stop().await;
    }
    let upstream = read_all(&a, "orders").await;
    let downstream = read_all(&b, "A.orders").await;
    assert_eq!(upstream.len(), RECORDS);
    assert_eq!(downstream, upstream);

    let mut syncs: BTreeMap<i32, Vec<(i64, i64)>> = BTreeMap::new();
    for line in decode(&a, "mm2-offset-syncs.B.internal", "sync").await {
        assert_eq!(line[0], "orders", "{line:?}");
        let sync = (line[2].parse().unwrap(), line[3].parse().unwrap());
        syncs
            .entry(line[1].parse().unwrap())
            .or_default()
            .push(sync);
    }
    let per_partition = i64::try_from(RECORDS / 3).unwrap();
    for partition in 0..3 {
        let partition_syncs = &syncs[&partition];
        assert_eq!(
            partition_syncs.first(),
            Some(&(0, 0)),
            "{partition_syncs:?}"
        );
        // The delayed sync of the last record is written at the offset commit.
        let last = per_partition - 1;
        assert_eq!(
            partition_syncs.last(),
            Some(&(last, last)),
            "{partition_syncs:?}"
        );
    }

    // A restarted task resumes after the committed offsets: nothing is replicated twice.
    produce(&a, "orders", 3, 3).await;
    let mut again =
        Driver::start(source.create_task(), tasks[1].clone(), &b, offsets.clone()).await;
    let mut resumed = Vec::new();
    while resumed.len() < 2 {
        resumed.extend(again.step().await);
    }
    assert_eq!(resumed.len(), 2, "{resumed:?}");
    for record in &resumed {
        let offset = record.source_offset.as_ref().unwrap().get_i64("offset");
        assert_eq!(offset, Some(per_partition), "{record:?}");
    }
    again.stop().await;

    // Topic configs follow the source.
    alter_topic_configs(&a, "orders", &[("retention.ms", "7777")]).await;
    eventually("the config change to reach A.orders", || async {
        topic_configs(&b, "A.orders")
            .await
            .get("retention.ms")
            .map(String::as_str)
            == Some("7777")
    })
    .await;

    // New topics are found and created, and the worker is asked for new task configs.
    create_topic_with(&a, "orders-new", 2, &[("retention.ms", "123456")]).await;
    eventually("the new topic to be noticed", || async {
        context.reconfigurations.load(Ordering::SeqCst) > 0
    })
    .await;
    assert_eq!(partition_count(&b, "A.orders-new").await, 2);
    let configs = topic_configs(&b, "A.orders-new").await;
    assert_eq!(
        configs.get("retention.ms").map(String::as_str),
        Some("123456")
    );
    let tasks = source.task_configs(10).await.unwrap();
    assert_eq!(tasks.len(), 6);
    source.stop().await.unwrap();

    // Checkpoints, translated through the offset syncs, and group offsets synced into B.
    let committed = [(0, per_partition), (1, 0), (2, 3)];
    commit(&a, "app", "orders", &committed).await;
    let mut checkpointer = MirrorCheckpointConnector::default();
    checkpointer.initialize(Arc::new(Context::default()));
    let config = flow(
        &a,
        &b,
        &[
            ("emit.checkpoints.interval.seconds", "1"),
            ("sync.group.offsets.enabled", "true"),
            ("sync.group.offsets.interval.seconds", "1"),
        ],
    );
    checkpointer.start(config).await.unwrap();
    let tasks = checkpointer.task_configs(4).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["task.assigned.groups"], "app");
    let mut driver = Driver::start(
        checkpointer.create_task(),
        tasks[0].clone(),
        &b,
        Arc::new(Offsets::default()),
    )
    .await;
    let mut emitted = 0;
    while emitted < committed.len() {
        emitted += driver.step().await.len();
    }
    let expected: BTreeMap<i32, i64> = committed
        .iter()
        .map(|(p, o)| (*p, translate(&syncs[p], *o).unwrap()))
        .collect();
    assert_eq!(expected[&0], per_partition);
    assert_eq!(expected[&1], 0);
    assert_eq!(expected[&2], 1);
    let checkpoints = decode(&b, "A.checkpoints.internal", "checkpoint").await;
    assert_eq!(checkpoints.len(), committed.len(), "{checkpoints:?}");
    for line in &checkpoints {
        let partition: i32 = line[2].parse().unwrap();
        let upstream = committed.iter().find(|(p, _)| *p == partition).unwrap().1;
        assert_eq!(line[..4], ["app", "A.orders", &line[2], "0"], "{line:?}");
        assert_eq!(line[4], upstream.to_string(), "{line:?}");
        assert_eq!(line[5], expected[&partition].to_string(), "{line:?}");
    }
    let target = Admin::new(Cluster::new(ClientConfig::new(&b).unwrap()));
    eventually("group offsets synced into B", || async {
        group_offsets(&target, "app", "A.orders").await == expected
    })
    .await;
    driver.stop().await;
    checkpointer.stop().await.unwrap();

    // Heartbeats on B.
    let mut heartbeats = MirrorHeartbeatConnector::default();
    heartbeats.start(flow(&a, &b, &[])).await.unwrap();
    let tasks = heartbeats.task_configs(3).await.unwrap();
    assert_eq!(tasks.len(), 1);
    let mut driver = Driver::start(
        heartbeats.create_task(),
        tasks[0].clone(),
        &b,
        Arc::new(Offsets::default()),
    )
    .await;
    let mut beats = Vec::new();
    while beats.len() < 2 {
        beats.extend(driver.step().await);
    }
    driver.stop().await;
    heartbeats.stop().await.unwrap();
    let decoded = decode(&b, "heartbeats", "heartbeat").await;
    assert_eq!(decoded.len(), 2, "{decoded:?}");
    for line in decoded {
        assert_eq!(line[..3], ["A", "B", "0"], "{line:?}");
        assert_eq!(
            line[3], line[4],
            "the value's timestamp is the record's: {line:?}"
        );
    }
}

#[tokio::test]
async fn group_offsets_are_synced_only_into_groups_idle_on_the_target() {
    init_logging();
    let [a, b] = ferry_testkit::Cluster::start_many::<2>().await.unwrap();
    let (a, b) = (a.bootstrap(), b.bootstrap());
    create_topic(&a, "orders", 1).await;
    produce(&a, "orders", 20, 1).await;

    // Offset syncs kept on the target this time.
    let location = [("offset-syncs.topic.location", "target")];
    let mut source = MirrorSourceConnector::default();
    source.initialize(Arc::new(Context::default()));
    source.start(flow(&a, &b, &location)).await.unwrap();
    let tasks = source.task_configs(1).await.unwrap();
    let offsets = Arc::new(Offsets::default());
    let mut driver = Driver::start(source.create_task(), tasks[0].clone(), &b, offsets).await;
    let mut replicated = 0;
    while replicated < 20 {
        replicated += driver.step().await.len();
    }
    driver.stop().await;
    source.stop().await.unwrap();
    let syncs = decode(&b, "mm2-offset-syncs.A.internal", "sync").await;
    assert_eq!(
        syncs.first().unwrap()[..],
        ["orders", "0", "0", "0"],
        "{syncs:?}"
    );
    assert_eq!(
        syncs.last().unwrap()[..],
        ["orders", "0", "19", "19"],
        "{syncs:?}"
    );

    commit(&a, "a-busy", "orders", &[(0, 20)]).await;
    commit(&a, "b-idle", "orders", &[(0, 20)]).await;
    let busy = stay_in_group(&b, "a-busy", "A.orders", 5, 20);
    let target = Admin::new(Cluster::new(ClientConfig::new(&b).unwrap()));
    eventually("a-busy to be active on B", || async {
        group_offsets(&target, "a-busy", "A.orders").await == BTreeMap::from([(0, 5)])
    })
    .await;

    let mut checkpointer = MirrorCheckpointConnector::default();
    checkpointer.initialize(Arc::new(Context::default()));
    let mut config = location.to_vec();
    config.extend([
        ("emit.checkpoints.interval.seconds", "1"),
        ("sync.group.offsets.enabled", "true"),
        ("sync.group.offsets.interval.seconds", "1"),
    ]);
    checkpointer.start(flow(&a, &b, &config)).await.unwrap();
    let tasks = checkpointer.task_configs(1).await.unwrap();
    assert_eq!(tasks[0]["task.assigned.groups"], "a-busy,b-idle");
    let mut driver = Driver::start(
        checkpointer.create_task(),
        tasks[0].clone(),
        &b,
        Arc::new(Offsets::default()),
    )
    .await;
    let mut emitted = 0;
    while emitted < 2 {
        emitted += driver.step().await.len();
    }
    // Groups are synced in name order: once b-idle is written, a-busy was considered.
    eventually("b-idle synced into B", || async {
        group_offsets(&target, "b-idle", "A.orders").await == BTreeMap::from([(0, 20)])
    })
    .await;
    assert_eq!(
        group_offsets(&target, "a-busy", "A.orders").await,
        BTreeMap::from([(0, 5)]),
        "an active group's offsets were overwritten"
    );
    driver.stop().await;
    checkpointer.stop().await.unwrap();
    assert!(
        !busy.is_finished(),
        "the busy consumer left before the check"
    );
    busy.await.unwrap();
}
