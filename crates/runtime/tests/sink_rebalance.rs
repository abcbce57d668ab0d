//! Sink tasks across a consumer-group rebalance, as Java's `WorkerSinkTask`: when a second
//! worker runs the same sink connector (so joins its group `connect-NAME`), the first task
//! commits what it consumed and closes its revoked partitions before the group moves on, so
//! no record is delivered twice even though no periodic commit ran.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ferry_connect::async_trait;
use ferry_connect::config::ConfigDef;
use ferry_connect::connector::{
    ConfigMap, Connector, OffsetAndMetadata, SinkConnector, SinkTask, TopicPartition,
};
use ferry_connect::plugin::PluginRegistry;
use ferry_connect::record::SinkRecord;
use ferry_kafka::admin::NewTopic;
use ferry_kafka::{Admin, ClientConfig, Cluster, Producer, ProducerRecord};
use ferry_runtime::converters;
use ferry_runtime::herder::Herder;
use ferry_runtime::herder::standalone::StandaloneHerder;
use ferry_runtime::storage::offsets::MemoryOffsetBackingStore;
use ferry_runtime::worker::{MemoryStatusStore, Worker, WorkerConfig, WorkerMode};

/// What a task saw, in order.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Open(Vec<TopicPartition>),
    Put(Vec<(i32, i64)>),
    PreCommit(BTreeMap<i32, i64>),
    Close(Vec<TopicPartition>),
}

type Log = Arc<Mutex<Vec<Event>>>;

/// A sink connector whose tasks record every call in the log of their worker.
#[derive(Debug)]
struct Recording {
    log: Log,
    config: ConfigMap,
}

#[async_trait]
impl Connector for Recording {
    fn version(&self) -> String {
        "1".into()
    }
    async fn start(&mut self, config: ConfigMap) -> ferry_connect::Result<()> {
        self.config = config;
        Ok(())
    }
    async fn task_configs(&mut self, _: usize) -> ferry_connect::Result<Vec<ConfigMap>> {
        Ok(vec![self.config.clone()])
    }
    async fn stop(&mut self) -> ferry_connect::Result<()> {
        Ok(())
    }
    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}

impl SinkConnector for Recording {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(RecordingTask(self.log.clone()))
    }
}

#[derive(Debug)]
struct RecordingTask(Log);

impl RecordingTask {
    fn push(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

fn sorted(partitions: &[TopicPartition]) -> Vec<TopicPartition> {
    let mut partitions = partitions.to_vec();
    partitions.sort_by_key(|tp| tp.partition);
    partitions
}

#[async_trait]
impl SinkTask for RecordingTask {
    fn version(&self) -> String {
        "1".into()
    }
    async fn start(&mut self, _: ConfigMap) -> ferry_connect::Result<()> {
        Ok(())
    }
    async fn put(&mut self, records: Vec<SinkRecord>) -> ferry_connect::Result<()> {
        let put = records
            .iter()
            .map(|r| (r.kafka_partition, r.kafka_offset))
            .collect();
        self.push(Event::Put(put));
        Ok(())
    }
    async fn pre_commit(
        &mut self,
        offsets: HashMap<TopicPartition, OffsetAndMetadata>,
    ) -> ferry_connect::Result<HashMap<TopicPartition, OffsetAndMetadata>> {
        let seen = offsets.iter().map(|(tp, o)| (tp.partition, o.offset));
        self.push(Event::PreCommit(seen.collect()));
        Ok(offsets)
    }
    async fn open(&mut self, partitions: &[TopicPartition]) -> ferry_connect::Result<()> {
        self.push(Event::Open(sorted(partitions)));
        Ok(())
    }
    async fn close(&mut self, partitions: &[TopicPartition]) -> ferry_connect::Result<()> {
        self.push(Event::Close(sorted(partitions)));
        Ok(())
    }
    async fn stop(&mut self) -> ferry_connect::Result<()> {
        Ok(())
    }
}

/// A standalone worker whose sink tasks log into `log`, with periodic commits far away so
/// that only rebalances commit.
fn herder(bootstrap: &str, dir: &std::path::Path, log: &Log) -> Arc<StandaloneHerder> {
    let props = [
        ("bootstrap.servers", bootstrap.to_owned()),
        (
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter".to_owned(),
        ),
        (
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter".to_owned(),
        ),
        (
            "offset.storage.file.filename",
            dir.join("offsets").display().to_string(),
        ),
        ("offset.flush.interval.ms", "600000".to_owned()),
        ("consumer.session.timeout.ms", "6000".to_owned()),
        ("consumer.heartbeat.interval.ms", "500".to_owned()),
        ("consumer.fetch.max.wait.ms", "100".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = WorkerConfig::from_props(props, WorkerMode::Standalone).unwrap();
    let mut plugins = PluginRegistry::new();
    converters::register(&mut plugins);
    let log = log.clone();
    plugins.register_sink_connector("test.Recording", "1", move || {
        Box::new(Recording {
            log: log.clone(),
            config: ConfigMap::new(),
        })
    });
    let worker = Worker::new(
        Arc::new(config),
        Arc::new(plugins),
        Arc::new(MemoryOffsetBackingStore::new()),
        Arc::new(MemoryStatusStore::default()),
        "worker:8083",
    );
    StandaloneHerder::start(Arc::new(worker), "cluster")
}

fn puts(log: &Log) -> Vec<(i32, i64)> {
    let events = log.lock().unwrap();
    let puts = events.iter().filter_map(|e| match e {
        Event::Put(put) => Some(put.iter().copied()),
        _ => None,
    });
    puts.flatten().collect()
}

async fn produce(producer: &Producer, partition: i32, count: usize) {
    for _ in 0..count {
        let record = ProducerRecord::new("rb", Bytes::from_static(b"v")).with_partition(partition);
        producer.send(record).await.unwrap().await.unwrap();
    }
}

/// Waits until the records put by both workers together are `expected` many.
async fn wait_for_puts(a: &Log, b: &Log, expected: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while puts(a).len() + puts(b).len() < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {:?} and {:?} were put",
            puts(a),
            puts(b)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_partitions_are_committed_and_closed_before_the_rebalance() {
    let cluster = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = cluster.bootstrap();
    let client = Cluster::new(ClientConfig::new(&bootstrap).unwrap());
    let created = Admin::new(client.clone())
        .create_topics(&[NewTopic::new("rb", 2, 1)])
        .await
        .unwrap();
    created["rb"].as_ref().unwrap();
    let producer = Producer::new(client, [("linger.ms", "0")]).unwrap();
    produce(&producer, 0, 3).await;
    produce(&producer, 1, 2).await;

    let dir = tempfile::tempdir().unwrap();
    let connector: BTreeMap<String, String> = [
        ("connector.class", "test.Recording"),
        ("topics", "rb"),
        ("tasks.max", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let (a, b) = (Log::default(), Log::default());
    let first = herder(&bootstrap, &dir.path().join("a"), &a);
    first
        .put_connector_config("rec", connector.clone(), None, false)
        .await
        .unwrap();
    wait_for_puts(&a, &b, 5).await;
    assert_eq!(
        a.lock().unwrap()[0],
        Event::Open(vec![
            TopicPartition::new("rb", 0),
            TopicPartition::new("rb", 1)
        ])
    );

    // The second member's join revokes both partitions of the first (the default assignors
    // rebalance eagerly); only the revocation can have committed them.
    let second = herder(&bootstrap, &dir.path().join("b"), &b);
    second
        .put_connector_config("rec", connector, None, false)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !b
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, Event::Open(_)))
    {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", b.lock());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let revoked = vec![TopicPartition::new("rb", 0), TopicPartition::new("rb", 1)];
    let events = a.lock().unwrap().clone();
    let close = events
        .iter()
        .position(|e| *e == Event::Close(revoked.clone()))
        .unwrap_or_else(|| panic!("no close of {revoked:?} in {events:?}"));
    assert_eq!(
        events[close - 1],
        Event::PreCommit(BTreeMap::from([(0, 3), (1, 2)]))
    );

    produce(&producer, 0, 2).await;
    produce(&producer, 1, 2).await;
    wait_for_puts(&a, &b, 9).await;
    let mut all = puts(&a);
    all.extend(puts(&b));
    all.sort();
    let expected: Vec<(i32, i64)> = (0..5)
        .map(|o| (0, o))
        .chain((0..4).map(|o| (1, o)))
        .collect();
    assert_eq!(all, expected, "each record is put exactly once");
    first.stop().await;
    second.stop().await;
}
