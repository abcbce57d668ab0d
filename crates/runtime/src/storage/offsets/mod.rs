//! Where source connectors' offsets live: the [`OffsetBackingStore`] trait, an in-memory store,
//! the standalone worker's file store, and the reader and writer tasks use on top of a store.
//!
//! Entries are keyed by the bytes of the canonical offset key of
//! [`offset_records`](crate::storage::offset_records) (`["NAME",{partition}]`) and hold the JSON
//! bytes of the offset, as the offset topic does; a store never interprets them.

mod file;
mod memory;
mod reader;

use std::collections::HashMap;

use async_trait::async_trait;

pub use file::FileOffsetBackingStore;
pub use memory::MemoryOffsetBackingStore;
pub use reader::{OffsetStorageWriter, TaskOffsetReader, connector_offsets};

/// An offset key's bytes (`["NAME",{partition}]`).
pub type KeyBytes = Vec<u8>;
/// An offset's JSON bytes (`{"position":12}`).
pub type ValueBytes = Vec<u8>;

/// Why an offset store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OffsetStoreError {
    /// The backing file could not be read or written.
    #[error("offset file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The backing file holds something else than offsets.
    #[error("offset file {path} is not a JSON list of [key, offset] pairs: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Any other failure of the store (e.g. the Kafka-based store could not write).
    #[error("{0}")]
    Other(String),
}

/// A key-value store of source offsets, Java's `OffsetBackingStore`.
///
/// ```
/// # tokio_test_block(async {
/// use ferry_runtime::storage::offsets::{MemoryOffsetBackingStore, OffsetBackingStore};
/// let store = MemoryOffsetBackingStore::new();
/// store.set(vec![(b"k".to_vec(), Some(b"{}".to_vec()))]).await.unwrap();
/// let found = store.get(&[b"k".to_vec(), b"other".to_vec()]).await.unwrap();
/// assert_eq!(found.len(), 1);
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[async_trait]
pub trait OffsetBackingStore: Send + Sync + std::fmt::Debug {
    /// The stored values of `keys`; keys without a value are left out.
    async fn get(
        &self,
        keys: &[KeyBytes],
    ) -> Result<HashMap<KeyBytes, ValueBytes>, OffsetStoreError>;

    /// Stores every entry, all or none; a `None` value removes the key (a tombstone).
    async fn set(
        &self,
        entries: Vec<(KeyBytes, Option<ValueBytes>)>,
    ) -> Result<(), OffsetStoreError>;

    /// Every stored entry, for the offsets REST API.
    async fn all(&self) -> Result<Vec<(KeyBytes, ValueBytes)>, OffsetStoreError>;
}
