//! Registration tests and what the connector tests share: a source task context whose offset
//! reader answers from memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ferry_connect::Result;
use ferry_connect::async_trait;
use ferry_connect::connector::{ConfigMap, OffsetStorageReader, SourceTaskContext};
use ferry_connect::plugin::{PluginRegistry, PluginType};
use ferry_connect::record::{SourceMap, SourceRecord};
use serde_json::Value as Json;

use super::register;

/// Stored source offsets, keyed by the JSON text of their partition.
#[derive(Debug, Default, Clone)]
pub(crate) struct MemoryOffsets {
    offsets: Arc<Mutex<HashMap<String, SourceMap>>>,
}

impl MemoryOffsets {
    /// Stores `offset` for `partition`, as the runtime does when it commits.
    pub(crate) fn store(&self, partition: &SourceMap, offset: &SourceMap) {
        let key = Json::Object(partition.clone()).to_string();
        self.offsets.lock().unwrap().insert(key, offset.clone());
    }

    /// Stores the source offset of every record, in order, as a commit after them would.
    pub(crate) fn commit(&self, records: &[SourceRecord]) {
        for record in records {
            if let (Some(partition), Some(offset)) =
                (&record.source_partition, &record.source_offset)
            {
                self.store(partition, &offset.as_map());
            }
        }
    }

    /// A context for a task with these offsets.
    pub(crate) fn context(&self) -> Arc<dyn SourceTaskContext> {
        Arc::new(TestContext {
            offsets: self.clone(),
        })
    }
}

#[async_trait]
impl OffsetStorageReader for MemoryOffsets {
    async fn offset(&self, partition: &SourceMap) -> Result<Option<SourceMap>> {
        let key = Json::Object(partition.clone()).to_string();
        Ok(self.offsets.lock().unwrap().get(&key).cloned())
    }
}

#[derive(Debug)]
struct TestContext {
    offsets: MemoryOffsets,
}

impl SourceTaskContext for TestContext {
    fn configs(&self) -> ConfigMap {
        ConfigMap::new()
    }

    fn offset_storage_reader(&self) -> Arc<dyn OffsetStorageReader> {
        Arc::new(self.offsets.clone())
    }
}

/// A configuration from string pairs.
pub(crate) fn config(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn every_connector_is_found_by_class_name_simple_name_and_alias() {
    let mut registry = PluginRegistry::new();
    register(&mut registry);
    let expected = [
        (
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "FileStreamSource",
            PluginType::Source,
        ),
        (
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "FileStreamSink",
            PluginType::Sink,
        ),
        (
            "org.apache.kafka.connect.tools.VerifiableSourceConnector",
            "VerifiableSource",
            PluginType::Source,
        ),
        (
            "org.apache.kafka.connect.tools.VerifiableSinkConnector",
            "VerifiableSink",
            PluginType::Sink,
        ),
    ];
    for (class, alias, plugin_type) in expected {
        let simple = class.rsplit('.').next().unwrap();
        for name in [class, simple, alias] {
            assert_eq!(registry.resolve(name), Some(class), "{name}");
            assert_eq!(registry.connector_type(name), Some(plugin_type), "{name}");
        }
        assert_eq!(
            registry.version(class, plugin_type),
            Some(env!("CARGO_PKG_VERSION"))
        );
    }
    assert!(registry.source_connector("FileStreamSource").is_some());
    assert!(registry.sink_connector("VerifiableSink").is_some());
}
