//! `MirrorHeartbeatConnector` and `MirrorHeartbeatTask`: a heartbeat every
//! `emit.heartbeats.interval.seconds` to the target's `heartbeats` topic, so that replication
//! paths and lag can be traced downstream.

use std::sync::Arc;
use std::time::Duration;

use ferry_connect::config::ConfigDef;
use ferry_connect::connector::{ConfigMap, Connector, SourceConnector, SourceTask};
use ferry_connect::data::{Schema, Value};
use ferry_connect::record::{SourceMap, SourceRecord};
use ferry_connect::{ConnectError, Result, async_trait};
use tracing::{error, warn};

use crate::config::{
    EMIT_HEARTBEATS, HEARTBEATS_TOPIC_REPLICATION_FACTOR, MirrorConfig, Side, heartbeat_config_def,
};
use crate::internal_topics::create_compacted_topic;
use crate::records::Heartbeat;
use crate::schedule::Pacer;
use crate::source_maps::{
    SOURCE_CLUSTER_ALIAS_KEY, TARGET_CLUSTER_ALIAS_KEY, heartbeat_partition, validate_offsets,
    wrap_offset,
};

/// Creates the `heartbeats` topic on the target and runs one [`MirrorHeartbeatTask`]; Java's
/// `org.apache.kafka.connect.mirror.MirrorHeartbeatConnector`.
#[derive(Debug, Default)]
pub struct MirrorHeartbeatConnector {
    config: Option<MirrorConfig>,
}

#[async_trait]
impl Connector for MirrorHeartbeatConnector {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    async fn start(&mut self, props: ConfigMap) -> Result<()> {
        let config = MirrorConfig::parse(&heartbeat_config_def(), &props)?;
        let admin = config.admin(Side::Target, "heartbeats-target-admin")?;
        let topic = config.policy().heartbeats_topic();
        let rf = config.get_short(HEARTBEATS_TOPIC_REPLICATION_FACTOR);
        let created = create_compacted_topic(&admin, &topic, rf);
        match tokio::time::timeout(config.admin_timeout(), created).await {
            // Like Java's scheduler: logged, and the connector starts anyway.
            Ok(Err(e)) => error!("Failure creating internal topic {topic}: {e}"),
            Ok(Ok(())) => {}
            Err(_) => warn!("Timed out creating the heartbeats topic {topic}"),
        }
        self.config = Some(config);
        Ok(())
    }

    /// One task, with the connector's own configuration; none when heartbeats are disabled.
    async fn task_configs(&mut self, _max_tasks: usize) -> Result<Vec<ConfigMap>> {
        Ok(match &self.config {
            Some(config) if config.interval(EMIT_HEARTBEATS).is_some() => {
                vec![config.originals().clone()]
            }
            _ => Vec::new(),
        })
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }

    fn config(&self) -> ConfigDef {
        heartbeat_config_def()
    }
}

#[async_trait]
impl SourceConnector for MirrorHeartbeatConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(MirrorHeartbeatTask::default())
    }

    /// Accepts only offset `{"offset": 0}` for partitions with both cluster aliases.
    async fn alter_offsets(
        &mut self,
        _config: &ConfigMap,
        offsets: &[(SourceMap, Option<SourceMap>)],
    ) -> Result<bool> {
        validate_offsets(
            offsets,
            &[SOURCE_CLUSTER_ALIAS_KEY, TARGET_CLUSTER_ALIAS_KEY],
            false,
            true,
        )?;
        Ok(true)
    }
}

/// Emits a [`Heartbeat`] every interval to partition 0 of `heartbeats`; Java's
/// `org.apache.kafka.connect.mirror.MirrorHeartbeatTask`.
#[derive(Debug, Default)]
pub struct MirrorHeartbeatTask {
    running: Option<Emitting>,
}

#[derive(Debug)]
struct Emitting {
    source: String,
    target: String,
    topic: String,
    pacer: Pacer,
}

#[async_trait]
impl SourceTask for MirrorHeartbeatTask {
    fn version(&self) -> String {
        crate::VERSION.to_owned()
    }

    async fn start(&mut self, props: ConfigMap) -> Result<()> {
        let config = MirrorConfig::parse(&heartbeat_config_def(), &props)?;
        let interval = config.interval(EMIT_HEARTBEATS).unwrap_or(Duration::ZERO);
        self.running = Some(Emitting {
            source: config.source_alias().to_owned(),
            target: config.target_alias().to_owned(),
            topic: config.policy().heartbeats_topic(),
            pacer: Pacer::new(interval),
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let Emitting {
            source,
            target,
            topic,
            pacer,
        } = self
            .running
            .as_mut()
            .ok_or_else(|| ConnectError::IllegalState("the task is not started".into()))?;
        pacer.due().await;
        pacer.emitted();
        let timestamp = crate::now_ms();
        let heartbeat = Heartbeat::new(source.as_str(), target.as_str(), timestamp);
        let key = heartbeat
            .encode_key()
            .map_err(|e| ConnectError::data(e.to_string()))?;
        Ok(vec![SourceRecord {
            source_partition: Some(Arc::new(heartbeat_partition(&heartbeat))),
            source_offset: Some(wrap_offset(0).into()),
            topic: topic.clone(),
            kafka_partition: Some(0),
            key_schema: Some(Schema::bytes()),
            key: Some(Value::Bytes(key)),
            value_schema: Some(Schema::bytes()),
            value: Some(Value::Bytes(heartbeat.encode_value())),
            timestamp: Some(timestamp),
            headers: Default::default(),
        }])
    }

    async fn stop(&mut self) -> Result<()> {
        self.running = None;
        Ok(())
    }
}
