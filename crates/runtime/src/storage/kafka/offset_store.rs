//! [`KafkaOffsetBackingStore`]: source connectors' offsets on the offset topic, as Java's
//! `KafkaOffsetBackingStore` keeps them.
//!
//! Records are keyed `["NAME",{partition}]` with `{offset}` values (a tombstone resets a
//! partition), in the bytes of [`offset_records`](crate::storage::offset_records): the same
//! bytes Java writes, so the producer's key hash sends them to the partition Java would. Entries
//! are kept under the canonical re-encoding of their key, so a key Java wrote with its fields in
//! another order is found under the key Ferry computes for the same partition.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;
use ferry_kafka::{Admin, Cluster, ConsumerRecord};

use super::log::KafkaBasedLog;
use super::topic::InternalTopic;
use super::{
    READ_WRITE_TIMEOUT, Result, StoreError, WorkerProps, api_timeout, log_clients, within,
};
use crate::storage::offset_records::{OffsetKey, OffsetMap, offset_from_json};
use crate::storage::offsets::{KeyBytes, OffsetBackingStore, OffsetStoreError, ValueBytes};

/// The offset topic's contents, kept current in the background.
///
/// ```no_run
/// # async fn demo(cluster: ferry_kafka::Cluster, props: ferry_runtime::storage::kafka::WorkerProps) -> Result<(), Box<dyn std::error::Error>> {
/// use ferry_runtime::storage::kafka::KafkaOffsetBackingStore;
/// use ferry_runtime::storage::offsets::OffsetBackingStore;
/// let store = KafkaOffsetBackingStore::start(&cluster, &props).await?;
/// let key = br#"["file-source",{"filename":"/tmp/in.txt"}]"#.to_vec();
/// store.set(vec![(key.clone(), Some(br#"{"position":12}"#.to_vec()))]).await?; // acknowledged
/// assert_eq!(store.get(&[key.clone()]).await?[&key], br#"{"position":12}"#);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct KafkaOffsetBackingStore {
    log: KafkaBasedLog,
    shared: Arc<Mutex<Offsets>>,
}

#[derive(Debug, Default)]
struct Offsets {
    /// Offsets by canonical key.
    data: HashMap<KeyBytes, ValueBytes>,
    /// Each connector's source partitions that have an offset, by canonical key.
    partitions: BTreeMap<String, BTreeMap<KeyBytes, OffsetMap>>,
}

impl Offsets {
    fn apply(&mut self, record: &ConsumerRecord) {
        let Some(raw) = record.key.as_deref() else {
            tracing::warn!(
                offset = record.offset,
                "skipping an offset record without key"
            );
            return;
        };
        let parsed = OffsetKey::from_json(raw).ok();
        let key = parsed
            .as_ref()
            .map_or_else(|| raw.to_vec(), OffsetKey::to_json);
        if let Some(parsed) = parsed {
            let partitions = self.partitions.entry(parsed.connector).or_default();
            match record.value {
                Some(_) => partitions.insert(key.clone(), parsed.partition),
                None => partitions.remove(&key),
            };
        }
        match &record.value {
            Some(value) => self.data.insert(key, value.to_vec()),
            None => self.data.remove(&key),
        };
    }
}

impl KafkaOffsetBackingStore {
    /// Creates the offset topic if missing (`offset.storage.partitions`, compacted; an existing
    /// topic must be compacted), reads it to the end and follows it.
    pub async fn start(cluster: &Cluster, props: &WorkerProps) -> Result<Self> {
        let topic = InternalTopic::offsets(props)?;
        topic
            .ensure(&Admin::new(cluster.clone()), api_timeout(props))
            .await?;
        let shared = Arc::new(Mutex::new(Offsets::default()));
        let reader = shared.clone();
        let callback = Box::new(move |record: &ConsumerRecord| lock(&reader).apply(record));
        let clients = log_clients(props, &[("delivery.timeout.ms", "2147483647")])?;
        let log = KafkaBasedLog::start(cluster, &topic.name, clients, callback).await?;
        Ok(Self { log, shared })
    }

    /// The source partitions of `connector` that have an offset, as read so far (Java's
    /// `connectorPartitions`, for the offsets REST API).
    pub fn connector_partitions(&self, connector: &str) -> Vec<OffsetMap> {
        lock(&self.shared)
            .partitions
            .get(connector)
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default()
    }

    /// A connector's offsets by source partition, after reading the topic to its end; offsets
    /// that are not JSON objects are left out.
    pub async fn connector_offsets(&self, connector: &str) -> Result<Vec<(OffsetMap, OffsetMap)>> {
        self.read_to_end().await?;
        let offsets = lock(&self.shared);
        let Some(partitions) = offsets.partitions.get(connector) else {
            return Ok(Vec::new());
        };
        Ok(partitions
            .iter()
            .filter_map(|(key, partition)| {
                let value = offsets.data.get(key)?;
                let offset = offset_from_json(Some(value)).ok()??;
                Some((partition.clone(), offset))
            })
            .collect())
    }

    /// Delivers what was sent and stops following the topic.
    pub async fn stop(&self) {
        self.log.stop().await;
    }

    async fn read_to_end(&self) -> Result<()> {
        within(
            READ_WRITE_TIMEOUT,
            "reading the offset topic",
            self.log.read_to_end(),
        )
        .await
    }

    async fn write(&self, entries: Vec<(KeyBytes, Option<ValueBytes>)>) -> Result<()> {
        let mut deliveries = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let delivery = self
                .log
                .send(Some(Bytes::from(key)), value.map(Bytes::from))
                .await?;
            deliveries.push(delivery);
        }
        for delivery in deliveries {
            delivery.await?;
        }
        Ok(())
    }
}

#[async_trait]
impl OffsetBackingStore for KafkaOffsetBackingStore {
    /// The stored offsets of `keys` after reading the topic to its end (so offsets other
    /// workers wrote are seen); keys without an offset are left out. Keys are looked up by
    /// their canonical form and returned as given.
    async fn get(
        &self,
        keys: &[KeyBytes],
    ) -> Result<HashMap<KeyBytes, ValueBytes>, OffsetStoreError> {
        self.read_to_end().await.map_err(other)?;
        let offsets = lock(&self.shared);
        Ok(keys
            .iter()
            .filter_map(|key| {
                let value = offsets.data.get(&canonical(key))?;
                Some((key.clone(), value.clone()))
            })
            .collect())
    }

    /// Writes every entry (a `None` value is a tombstone) and returns once all are
    /// acknowledged; the first failure fails the whole call, as Java's callback does.
    async fn set(
        &self,
        entries: Vec<(KeyBytes, Option<ValueBytes>)>,
    ) -> Result<(), OffsetStoreError> {
        self.write(entries).await.map_err(other)
    }

    /// Every stored entry (canonical keys), after reading the topic to its end.
    async fn all(&self) -> Result<Vec<(KeyBytes, ValueBytes)>, OffsetStoreError> {
        self.read_to_end().await.map_err(other)?;
        let offsets = lock(&self.shared);
        let mut all: Vec<(KeyBytes, ValueBytes)> = offsets
            .data
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort();
        Ok(all)
    }
}

fn other(error: StoreError) -> OffsetStoreError {
    OffsetStoreError::Other(error.to_string())
}

/// The canonical form of a key; bytes that are not an offset key stay as they are.
fn canonical(key: &[u8]) -> KeyBytes {
    OffsetKey::from_json(key).map_or_else(|_| key.to_vec(), |k| k.to_json())
}

fn lock(shared: &Mutex<Offsets>) -> MutexGuard<'_, Offsets> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ferry_kafka::consumer::TimestampType;

    use super::*;

    fn record(offset: i64, key: &[u8], value: Option<&[u8]>) -> ConsumerRecord {
        ConsumerRecord {
            topic: Arc::from("offsets"),
            partition: 0,
            offset,
            timestamp: 0,
            timestamp_type: TimestampType::CreateTime,
            key: Some(Bytes::copy_from_slice(key)),
            value: value.map(Bytes::copy_from_slice),
            headers: Vec::new(),
            leader_epoch: None,
        }
    }

    #[test]
    fn keys_in_any_field_order_share_an_entry() {
        let mut offsets = Offsets::default();
        let java = br#"["c",{"topic":"t","cluster":"A","partition":3}]"#;
        offsets.apply(&record(0, java, Some(br#"{"offset":7}"#)));
        let ferry = br#"["c",{"cluster":"A","partition":3,"topic":"t"}]"#;
        assert_eq!(canonical(java), ferry);
        assert_eq!(offsets.data[&ferry.to_vec()], br#"{"offset":7}"#);
        assert_eq!(offsets.partitions["c"].len(), 1);
        offsets.apply(&record(1, ferry, None));
        assert!(offsets.data.is_empty());
        assert!(offsets.partitions["c"].is_empty());
    }

    #[test]
    fn keys_that_are_not_offset_keys_are_kept_as_bytes() {
        let mut offsets = Offsets::default();
        offsets.apply(&record(0, b"garbage", Some(b"{}")));
        assert_eq!(offsets.data[&b"garbage".to_vec()], b"{}");
        assert!(offsets.partitions.is_empty());
    }
}
