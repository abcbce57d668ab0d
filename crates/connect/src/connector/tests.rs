use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::record::{SinkRecord, SourceMap};

#[derive(Debug, Default)]
struct RecordingSink {
    flushed: Vec<HashMap<TopicPartition, OffsetAndMetadata>>,
}

#[async_trait]
impl SinkTask for RecordingSink {
    fn version(&self) -> String {
        "1".into()
    }
    async fn start(&mut self, _: ConfigMap) -> Result<()> {
        Ok(())
    }
    async fn put(&mut self, _: Vec<SinkRecord>) -> Result<()> {
        Ok(())
    }
    async fn flush(&mut self, offsets: &HashMap<TopicPartition, OffsetAndMetadata>) -> Result<()> {
        self.flushed.push(offsets.clone());
        Ok(())
    }
    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn pre_commit_flushes_and_commits_everything_by_default() {
    let mut task = RecordingSink::default();
    let offsets = HashMap::from([(TopicPartition::new("t", 0), OffsetAndMetadata::new(42))]);
    let committed = task.pre_commit(offsets.clone()).await.unwrap();
    assert_eq!(committed, offsets);
    assert_eq!(task.flushed, [offsets]);
    assert_eq!(TopicPartition::new("t", 3).to_string(), "t-3");
}

#[derive(Debug)]
struct MapReader(Mutex<Vec<(SourceMap, SourceMap)>>);

#[async_trait]
impl OffsetStorageReader for MapReader {
    async fn offset(&self, partition: &SourceMap) -> Result<Option<SourceMap>> {
        let stored = self
            .0
            .lock()
            .map_err(|e| ConnectError::other(e.to_string()))?;
        Ok(stored
            .iter()
            .find(|(p, _)| p == partition)
            .map(|(_, o)| o.clone()))
    }
}

fn object(value: serde_json::Value) -> SourceMap {
    value.as_object().cloned().unwrap_or_default()
}

#[tokio::test]
async fn offsets_reads_each_partition_and_skips_unknown_ones() {
    let known = object(json!({"file": "a"}));
    let offset = object(json!({"position": 7}));
    let reader: Box<dyn OffsetStorageReader> =
        Box::new(MapReader(Mutex::new(vec![(known.clone(), offset.clone())])));
    let found = reader
        .offsets(&[object(json!({"file": "b"})), known.clone()])
        .await
        .unwrap();
    assert_eq!(found, [(known, offset)]);
}
