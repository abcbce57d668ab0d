//! Reading and writing one connector's offsets through an [`OffsetBackingStore`]: the
//! [`OffsetStorageReader`] tasks get, and the writer the source task runner commits with.

use std::sync::Arc;

use async_trait::async_trait;
use ferry_connect::ConnectError;
use ferry_connect::connector::OffsetStorageReader;
use ferry_connect::record::SourceMap;

use super::{OffsetBackingStore, OffsetStoreError};
use crate::storage::offset_records::{OffsetKey, OffsetMap, offset_from_json, offset_to_json};

fn key(connector: &str, partition: &OffsetMap) -> Vec<u8> {
    OffsetKey {
        connector: connector.to_owned(),
        partition: partition.clone(),
    }
    .to_json()
}

/// A connector's view of the offset store (Java's `OffsetStorageReaderImpl`): offsets are
/// namespaced by the connector's name.
#[derive(Debug, Clone)]
pub struct TaskOffsetReader {
    connector: String,
    store: Arc<dyn OffsetBackingStore>,
}

impl TaskOffsetReader {
    /// The reader of `connector`'s offsets in `store`.
    pub fn new(connector: impl Into<String>, store: Arc<dyn OffsetBackingStore>) -> Self {
        Self {
            connector: connector.into(),
            store,
        }
    }
}

#[async_trait]
impl OffsetStorageReader for TaskOffsetReader {
    async fn offset(&self, partition: &SourceMap) -> ferry_connect::Result<Option<SourceMap>> {
        let key = key(&self.connector, partition);
        let found = self
            .store
            .get(std::slice::from_ref(&key))
            .await
            .map_err(|e| ConnectError::Other(format!("Failed to fetch offsets: {e}")))?;
        match found.get(&key) {
            None => Ok(None),
            Some(bytes) => offset_from_json(Some(bytes))
                .map_err(|e| ConnectError::data(format!("Failed to deserialize offset data: {e}"))),
        }
    }
}

/// Writes one connector's offsets to a store (Java's `OffsetStorageWriter`, minus its buffering:
/// the source task runner hands it the offsets that became committable).
#[derive(Debug, Clone)]
pub struct OffsetStorageWriter {
    connector: String,
    store: Arc<dyn OffsetBackingStore>,
}

impl OffsetStorageWriter {
    /// The writer of `connector`'s offsets into `store`.
    pub fn new(connector: impl Into<String>, store: Arc<dyn OffsetBackingStore>) -> Self {
        Self {
            connector: connector.into(),
            store,
        }
    }

    /// Stores `offsets` atomically; a `None` offset resets its partition.
    pub async fn write(
        &self,
        offsets: Vec<(OffsetMap, Option<OffsetMap>)>,
    ) -> Result<(), OffsetStoreError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let entries = offsets
            .iter()
            .map(|(partition, offset)| {
                (
                    key(&self.connector, partition),
                    offset_to_json(offset.as_ref()),
                )
            })
            .collect();
        self.store.set(entries).await
    }
}

/// Every stored `(partition, offset)` of `connector`, sorted by the key's bytes.
pub async fn connector_offsets(
    store: &dyn OffsetBackingStore,
    connector: &str,
) -> Result<Vec<(OffsetMap, OffsetMap)>, OffsetStoreError> {
    let mut found = Vec::new();
    for (key, value) in store.all().await? {
        let Ok(key) = OffsetKey::from_json(&key) else {
            continue;
        };
        if key.connector != connector {
            continue;
        }
        if let Ok(Some(offset)) = offset_from_json(Some(&value)) {
            found.push((key.partition, offset));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::storage::offsets::MemoryOffsetBackingStore;

    fn map(v: serde_json::Value) -> OffsetMap {
        v.as_object().unwrap().clone()
    }

    #[tokio::test]
    async fn offsets_are_namespaced_by_connector() {
        let store: Arc<dyn OffsetBackingStore> = Arc::new(MemoryOffsetBackingStore::new());
        let partition = map(json!({"filename": "in.txt"}));
        OffsetStorageWriter::new("a", store.clone())
            .write(vec![(partition.clone(), Some(map(json!({"position": 7}))))])
            .await
            .unwrap();
        let a = TaskOffsetReader::new("a", store.clone());
        let b = TaskOffsetReader::new("b", store.clone());
        assert_eq!(
            a.offset(&partition).await.unwrap(),
            Some(map(json!({"position": 7})))
        );
        assert_eq!(b.offset(&partition).await.unwrap(), None);
        let stored = store.all().await.unwrap();
        assert_eq!(stored[0].0, br#"["a",{"filename":"in.txt"}]"#.to_vec());
        assert_eq!(stored[0].1, br#"{"position":7}"#.to_vec());
        assert_eq!(connector_offsets(&*store, "a").await.unwrap().len(), 1);
        assert!(connector_offsets(&*store, "b").await.unwrap().is_empty());
        OffsetStorageWriter::new("a", store.clone())
            .write(vec![(partition.clone(), None)])
            .await
            .unwrap();
        assert_eq!(a.offset(&partition).await.unwrap(), None);
    }
}
