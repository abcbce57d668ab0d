//! Offsets kept in memory only (tests, and the base of the file store).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{KeyBytes, OffsetBackingStore, OffsetStoreError, ValueBytes};

/// Offsets in memory, lost when the process stops (Java's `MemoryOffsetBackingStore`).
#[derive(Debug, Default)]
pub struct MemoryOffsetBackingStore {
    entries: Mutex<BTreeMap<KeyBytes, ValueBytes>>,
}

impl MemoryOffsetBackingStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `entries`.
    pub fn with_entries(entries: BTreeMap<KeyBytes, ValueBytes>) -> Self {
        Self {
            entries: Mutex::new(entries),
        }
    }

    /// The entries, locked.
    pub(super) fn lock(&self) -> MutexGuard<'_, BTreeMap<KeyBytes, ValueBytes>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `entries` to `map`.
    pub(super) fn apply(
        map: &mut BTreeMap<KeyBytes, ValueBytes>,
        entries: Vec<(KeyBytes, Option<ValueBytes>)>,
    ) {
        for (key, value) in entries {
            match value {
                Some(value) => map.insert(key, value),
                None => map.remove(&key),
            };
        }
    }
}

#[async_trait]
impl OffsetBackingStore for MemoryOffsetBackingStore {
    async fn get(
        &self,
        keys: &[KeyBytes],
    ) -> Result<HashMap<KeyBytes, ValueBytes>, OffsetStoreError> {
        let entries = self.lock();
        Ok(keys
            .iter()
            .filter_map(|k| entries.get(k).map(|v| (k.clone(), v.clone())))
            .collect())
    }

    async fn set(
        &self,
        entries: Vec<(KeyBytes, Option<ValueBytes>)>,
    ) -> Result<(), OffsetStoreError> {
        Self::apply(&mut self.lock(), entries);
        Ok(())
    }

    async fn all(&self) -> Result<Vec<(KeyBytes, ValueBytes)>, OffsetStoreError> {
        Ok(self
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}
