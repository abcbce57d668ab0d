use async_trait::async_trait;
use bytes::Bytes;
use serde_json::json;

use super::*;
use crate::Result;
use crate::config::ConfigDef;
use crate::connector::{ConfigMap, Connector, SinkTask, SourceTask};
use crate::convert::RecordHeader;
use crate::data::{Schema, SchemaAndValue, Value};
use crate::record::ConnectRecord;

#[derive(Debug)]
struct Dummy(&'static str);

#[async_trait]
impl Connector for Dummy {
    fn version(&self) -> String {
        self.0.to_owned()
    }
    async fn start(&mut self, _: ConfigMap) -> Result<()> {
        Ok(())
    }
    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<ConfigMap>> {
        Ok(vec![ConfigMap::new(); max_tasks])
    }
    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}

impl SourceConnector for Dummy {
    fn create_task(&self) -> Box<dyn SourceTask> {
        unreachable!("not used in these tests")
    }
}

impl SinkConnector for Dummy {
    fn create_task(&self) -> Box<dyn SinkTask> {
        unreachable!("not used in these tests")
    }
}

#[derive(Debug)]
struct Both;

impl Converter for Both {
    fn configure(&mut self, _: &ConfigMap, _: bool) -> Result<()> {
        Ok(())
    }
    fn from_connect_data(
        &self,
        _: &str,
        _: &mut Vec<RecordHeader>,
        _: Option<&Schema>,
        _: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        Ok(None)
    }
    fn to_connect_data(
        &self,
        _: &str,
        _: &[RecordHeader],
        _: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        Ok(SchemaAndValue::NULL)
    }
}

impl HeaderConverter for Both {
    fn configure(&mut self, _: &ConfigMap) -> Result<()> {
        Ok(())
    }
    fn from_connect_header(
        &self,
        _: &str,
        _: &str,
        _: Option<&Schema>,
        _: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        Ok(None)
    }
    fn to_connect_header(&self, _: &str, _: &str, _: Option<&[u8]>) -> Result<SchemaAndValue> {
        Ok(SchemaAndValue::NULL)
    }
}

#[derive(Debug, Default)]
struct Drop;

impl<R: ConnectRecord> Transformation<R> for Drop {
    fn configure(&mut self, _: &ConfigMap) -> Result<()> {
        Ok(())
    }
    fn apply(&mut self, _: R) -> Result<Option<R>> {
        Ok(None)
    }
    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}

impl<R: ConnectRecord> Predicate<R> for Drop {
    fn configure(&mut self, _: &ConfigMap) -> Result<()> {
        Ok(())
    }
    fn test(&self, record: &R) -> bool {
        record.topic() == "match"
    }
    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}

fn registry() -> PluginRegistry {
    let mut r = PluginRegistry::new();
    r.register_source_connector(
        "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        "4.0.0",
        || Box::new(Dummy("4.0.0")),
    );
    r.register_sink_connector(
        "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "4.0.0",
        || Box::new(Dummy("4.0.0")),
    );
    r.register_source_connector("com.a.DupConnector", "1", || Box::new(Dummy("a")));
    r.register_sink_connector("com.b.DupConnector", "1", || Box::new(Dummy("b")));
    r.register_converter(
        "org.apache.kafka.connect.json.JsonConverter",
        "4.0.0",
        || Box::new(Both),
    );
    r.register_header_converter(
        "org.apache.kafka.connect.json.JsonConverter",
        "4.0.0",
        || Box::new(Both),
    );
    r.register_transformation(
        "org.apache.kafka.connect.transforms.InsertField$Value",
        UNDEFINED_VERSION,
        || Box::new(Drop),
        || Box::new(Drop),
    );
    r.register_predicate(
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        "4.0.0",
        || Box::new(Drop),
        || Box::new(Drop),
    );
    r
}

#[test]
fn connectors_resolve_by_class_simple_name_and_alias() {
    let r = registry();
    for name in [
        "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        "MirrorSourceConnector",
        "MirrorSource",
    ] {
        assert_eq!(
            r.resolve(name),
            Some("org.apache.kafka.connect.mirror.MirrorSourceConnector"),
            "{name}"
        );
        assert!(
            matches!(r.connector(name), Some(ConnectorPlugin::Source(_))),
            "{name}"
        );
        assert!(r.sink_connector(name).is_none());
    }
    assert_eq!(r.connector_type("FileStreamSink"), Some(PluginType::Sink));
    assert!(matches!(
        r.connector("FileStreamSinkConnector"),
        Some(ConnectorPlugin::Sink(_))
    ));
    assert_eq!(r.version("MirrorSource", PluginType::Source), Some("4.0.0"));
    assert!(r.connector("Mirror").is_none());
}

#[test]
fn ambiguous_aliases_are_dropped_but_class_names_work() {
    let r = registry();
    assert!(r.resolve("DupConnector").is_none());
    assert!(r.resolve("Dup").is_none());
    assert_eq!(
        r.source_connector("com.a.DupConnector").unwrap().version(),
        "a"
    );
    assert_eq!(
        r.sink_connector("com.b.DupConnector").unwrap().version(),
        "b"
    );
}

#[test]
fn other_plugin_types_resolve_with_their_suffixes() {
    let r = registry();
    assert!(r.converter("Json").is_some());
    assert!(r.converter("JsonConverter").is_some());
    assert!(r.header_converter("JsonConverter").is_some());
    assert!(
        r.source_transformation("org.apache.kafka.connect.transforms.InsertField$Value")
            .is_some()
    );
    assert!(
        r.sink_transformation("Value").is_some(),
        "simple name of a nested class"
    );
    assert!(r.source_predicate("TopicNameMatches").is_some());
    assert!(r.sink_predicate("TopicNameMatch").is_none());
    assert!(r.source_transformation("TopicNameMatches").is_none());
    let record = crate::record::SourceRecord::new(None, None, "match", None, None);
    assert!(
        r.source_predicate("TopicNameMatches")
            .unwrap()
            .test(&record)
    );
    assert_eq!(
        r.source_transformation("Value")
            .unwrap()
            .apply(record)
            .unwrap(),
        None
    );
}

#[test]
fn pruning_follows_plugin_utils() {
    assert_eq!(
        pruned_name("a.b.MirrorSourceConnector", PluginType::Source),
        "MirrorSource"
    );
    assert_eq!(pruned_name("a.Connector", PluginType::Source), "Connector");
    assert_eq!(pruned_name("a.MyConnectorImpl", PluginType::Sink), "My");
    assert_eq!(
        pruned_name("a.SimpleHeaderConverter", PluginType::HeaderConverter),
        "Simple"
    );
    assert_eq!(
        pruned_name("a.StringConverter", PluginType::HeaderConverter),
        "StringConverter"
    );
    assert_eq!(
        pruned_name("a.HasHeaderKey", PluginType::Predicate),
        "HasHeaderKey"
    );
}

#[test]
fn listings_match_the_rest_api() {
    let r = registry();
    assert_eq!(
        serde_json::to_value(r.connector_plugins()).unwrap(),
        json!([
            {"class": "com.b.DupConnector", "type": "sink", "version": "1"},
            {"class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "type": "sink", "version": "4.0.0"},
            {"class": "com.a.DupConnector", "type": "source", "version": "1"},
            {"class": "org.apache.kafka.connect.mirror.MirrorSourceConnector", "type": "source", "version": "4.0.0"}
        ])
    );
    let all = serde_json::to_value(r.plugins()).unwrap();
    assert_eq!(
        all.as_array().unwrap()[4..],
        json!([
            {"class": "org.apache.kafka.connect.transforms.InsertField$Value", "type": "transformation"},
            {"class": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "type": "predicate", "version": "4.0.0"},
            {"class": "org.apache.kafka.connect.json.JsonConverter", "type": "converter", "version": "4.0.0"},
            {"class": "org.apache.kafka.connect.json.JsonConverter", "type": "header_converter", "version": "4.0.0"}
        ])
        .as_array()
        .unwrap()[..]
    );
}

#[tokio::test]
async fn created_connectors_are_usable_trait_objects() {
    let r = registry();
    let mut connector = r.source_connector("MirrorSource").unwrap();
    connector.start(ConfigMap::new()).await.unwrap();
    assert_eq!(connector.task_configs(3).await.unwrap().len(), 3);
    assert!(connector.validate(&ConfigMap::new()).is_empty());
    connector.stop().await.unwrap();
}
