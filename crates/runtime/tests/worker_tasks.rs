//! The worker and the standalone herder together: task failures (errors and panics) are FAILED
//! with their trace without taking the worker down; target states and the offsets API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ferry_connect::async_trait;
use ferry_connect::config::ConfigDef;
use ferry_connect::connector::{ConfigMap, Connector, SourceConnector, SourceTask};
use ferry_connect::plugin::PluginRegistry;
use ferry_connect::record::SourceRecord;
use ferry_runtime::herder::entities::ConnectorOffset;
use ferry_runtime::herder::standalone::StandaloneHerder;
use ferry_runtime::herder::{ConnectorOffsets, Herder, HerderError, TargetState};
use ferry_runtime::storage::offsets::MemoryOffsetBackingStore;
use ferry_runtime::worker::{MemoryStatusStore, Worker, WorkerConfig, WorkerMode};
use ferry_runtime::{ConnectorTaskId, converters};
use serde_json::json;

/// A source whose task panics or fails in `poll`, as its `mode` config says.
#[derive(Debug, Default)]
struct Exploding {
    config: ConfigMap,
}

#[async_trait]
impl Connector for Exploding {
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

impl SourceConnector for Exploding {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(ExplodingTask { panic: false })
    }
}

#[derive(Debug)]
struct ExplodingTask {
    panic: bool,
}

#[async_trait]
impl SourceTask for ExplodingTask {
    fn version(&self) -> String {
        "1".into()
    }
    async fn start(&mut self, config: ConfigMap) -> ferry_connect::Result<()> {
        self.panic = config.get("mode").is_some_and(|m| m == "panic");
        Ok(())
    }
    async fn poll(&mut self) -> ferry_connect::Result<Vec<SourceRecord>> {
        if self.panic {
            panic!("poll exploded");
        }
        Err(ferry_connect::ConnectError::Other("poll failed".into()))
    }
    async fn stop(&mut self) -> ferry_connect::Result<()> {
        Ok(())
    }
}

fn herder(bootstrap: &str, dir: &std::path::Path) -> Arc<StandaloneHerder> {
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
        ("offset.flush.interval.ms", "200".to_owned()),
        ("config.providers", "file".to_owned()),
        (
            "config.providers.file.class",
            "org.apache.kafka.common.config.provider.FileConfigProvider".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = WorkerConfig::from_props(props, WorkerMode::Standalone).unwrap();
    let mut plugins = PluginRegistry::new();
    converters::register(&mut plugins);
    ferry_connectors::register(&mut plugins);
    plugins.register_source_connector("test.Exploding", "1", || Box::new(Exploding::default()));
    let worker = Worker::new(
        Arc::new(config),
        Arc::new(plugins),
        Arc::new(MemoryOffsetBackingStore::new()),
        Arc::new(MemoryStatusStore::default()),
        "worker:8083",
    );
    StandaloneHerder::start(Arc::new(worker), "cluster")
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn wait_for_task_state(
    herder: &StandaloneHerder,
    name: &str,
    state: &str,
) -> ferry_runtime::herder::TaskState {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(task) = herder.task_status(&ConnectorTaskId::new(name, 0)).await
            && task.state == state
        {
            return task;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never became {state}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn failing_and_panicking_tasks_are_failed_with_their_trace() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing is sent, so no broker is needed.
    let herder = herder("127.0.0.1:1", dir.path());
    for (name, mode) in [("panics", "panic"), ("fails", "error")] {
        let created = herder
            .put_connector_config(
                name,
                config(&[("connector.class", "test.Exploding"), ("mode", mode)]),
                None,
                false,
            )
            .await
            .unwrap();
        assert!(created.created);
    }
    let panicked = wait_for_task_state(&herder, "panics", "FAILED").await;
    assert!(
        panicked.trace.as_deref().unwrap().contains("poll exploded"),
        "{panicked:?}"
    );
    assert_eq!(panicked.worker_id, "worker:8083");
    let failed = wait_for_task_state(&herder, "fails", "FAILED").await;
    assert_eq!(
        failed.trace.as_deref(),
        Some("org.apache.kafka.connect.errors.ConnectException: poll failed")
    );
    // The herder still serves, and a failed task can be restarted (and fails again).
    assert_eq!(herder.connectors().await.unwrap(), vec!["fails", "panics"]);
    assert_eq!(
        herder
            .connector_status("panics")
            .await
            .unwrap()
            .connector
            .state,
        "RUNNING"
    );
    herder
        .restart_task(&ConnectorTaskId::new("fails", 0))
        .await
        .unwrap();
    wait_for_task_state(&herder, "fails", "FAILED").await;
    let again = herder
        .put_connector_config(
            "fails",
            config(&[("connector.class", "test.Exploding")]),
            None,
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(
        again,
        HerderError::Conflict("Connector fails already exists".into())
    );
    herder.delete_connector("panics").await.unwrap();
    assert!(matches!(
        herder.connector_status("panics").await,
        Err(HerderError::NotFound(_))
    ));
    herder.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn target_states_and_the_offsets_api() {
    let cluster = ferry_testkit::Cluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "a\nb\nc\n").unwrap();
    let herder = herder(&cluster.bootstrap(), dir.path());
    let file = input.display().to_string();
    herder
        .put_connector_config(
            "src",
            config(&[
                ("connector.class", "FileStreamSource"),
                ("file", &file),
                ("topic", "t"),
            ]),
            None,
            false,
        )
        .await
        .unwrap();
    let partition = json!({"filename": file}).as_object().unwrap().clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let offsets = herder.connector_offsets("src").await.unwrap().offsets;
        if offsets
            .first()
            .and_then(|o| o.offset.as_ref())
            .is_some_and(|o| o["position"] == 6)
        {
            assert_eq!(offsets[0].partition, partition);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "offsets never committed: {offsets:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(herder.active_topics("src").await.unwrap().topics, vec!["t"]);

    herder
        .set_target_state("src", TargetState::Paused)
        .await
        .unwrap();
    wait_for_task_state(&herder, "src", "PAUSED").await;
    assert_eq!(
        herder
            .connector_status("src")
            .await
            .unwrap()
            .connector
            .state,
        "PAUSED"
    );
    let altered = ConnectorOffsets {
        offsets: vec![ConnectorOffset {
            partition: partition.clone(),
            offset: Some(json!({"position": 2}).as_object().unwrap().clone()),
        }],
    };
    let not_stopped = herder
        .alter_connector_offsets("src", altered.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(not_stopped, HerderError::BadRequest(ref m) if m.contains("STOPPED")),
        "{not_stopped:?}"
    );

    herder
        .set_target_state("src", TargetState::Stopped)
        .await
        .unwrap();
    let stopped = herder.connector_status("src").await.unwrap();
    assert_eq!(stopped.connector.state, "STOPPED");
    assert!(stopped.tasks.is_empty());
    assert!(herder.task_configs("src").await.unwrap().is_empty());
    let message = herder
        .alter_connector_offsets("src", altered)
        .await
        .unwrap();
    assert_eq!(
        message.message,
        "The offsets for this connector have been altered successfully"
    );
    let offsets = herder.connector_offsets("src").await.unwrap().offsets;
    assert_eq!(offsets[0].offset.as_ref().unwrap()["position"], 2);
    let message = herder.reset_connector_offsets("src").await.unwrap();
    assert_eq!(
        message.message,
        "The offsets for this connector have been reset successfully"
    );
    assert!(
        herder
            .connector_offsets("src")
            .await
            .unwrap()
            .offsets
            .is_empty()
    );

    herder
        .set_target_state("src", TargetState::Started)
        .await
        .unwrap();
    wait_for_task_state(&herder, "src", "RUNNING").await;
    assert_eq!(herder.task_configs("src").await.unwrap().len(), 1);

    // A sink's offsets are its consumer group's.
    let output = dir.path().join("out.txt");
    let sink_config = config(&[
        ("connector.class", "FileStreamSink"),
        ("file", &output.display().to_string()),
        ("topics", "t"),
        ("consumer.override.session.timeout.ms", "4000"),
        ("consumer.override.heartbeat.interval.ms", "1000"),
    ]);
    herder
        .put_connector_config("snk", sink_config, None, false)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let committed = loop {
        let offsets = herder.connector_offsets("snk").await.unwrap().offsets;
        let total: i64 = offsets
            .iter()
            .filter_map(|o| o.offset.as_ref()?["kafka_offset"].as_i64())
            .sum();
        if total >= 3 {
            break offsets;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sink offsets never committed: {offsets:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(committed[0].partition["kafka_topic"], "t");
    herder
        .set_target_state("snk", TargetState::Stopped)
        .await
        .unwrap();
    let rewind = ConnectorOffsets {
        offsets: vec![ConnectorOffset {
            partition: committed[0].partition.clone(),
            offset: Some(json!({"kafka_offset": 0}).as_object().unwrap().clone()),
        }],
    };
    herder.alter_connector_offsets("snk", rewind).await.unwrap();
    let after = herder.connector_offsets("snk").await.unwrap().offsets;
    let rewound = after
        .iter()
        .find(|o| o.partition == committed[0].partition)
        .unwrap();
    assert_eq!(rewound.offset.as_ref().unwrap()["kafka_offset"], 0);
    let bad = ConnectorOffsets {
        offsets: vec![ConnectorOffset {
            partition: json!({"kafka_topic": "t"}).as_object().unwrap().clone(),
            offset: None,
        }],
    };
    assert!(matches!(
        herder.alter_connector_offsets("snk", bad).await,
        Err(HerderError::BadRequest(_))
    ));
    herder.stop().await;
}
