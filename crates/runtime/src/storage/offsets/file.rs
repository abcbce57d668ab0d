//! The standalone worker's offsets file (`offset.storage.file.filename`).
//!
//! Java's `FileOffsetBackingStore` writes a Java-serialized `HashMap<byte[], byte[]>`, which Ferry
//! cannot read. Ferry's file is a JSON list of `[key, offset]` pairs, each the JSON of the offset
//! topic's key and value, e.g. `[[["local-file-source",{"filename":"in.txt"}],{"position":12}]]`,
//! replaced atomically (written to a temporary file, then renamed) on every commit.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::Value;

use super::memory::MemoryOffsetBackingStore;
use super::{KeyBytes, OffsetBackingStore, OffsetStoreError, ValueBytes};
use crate::storage::offset_records::{OffsetKey, offset_from_json, offset_to_json};

/// Offsets in a JSON file, loaded when opened and rewritten on every [`OffsetBackingStore::set`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use ferry_runtime::storage::offsets::{FileOffsetBackingStore, OffsetBackingStore};
/// let dir = std::env::temp_dir().join(format!("ferry-doc-offsets-{}", std::process::id()));
/// let store = FileOffsetBackingStore::open(&dir).unwrap();
/// store.set(vec![(br#"["c",{"f":"a"}]"#.to_vec(), Some(br#"{"position":3}"#.to_vec()))]).await.unwrap();
/// let reopened = FileOffsetBackingStore::open(&dir).unwrap();
/// assert_eq!(reopened.all().await.unwrap().len(), 1);
/// # std::fs::remove_file(&dir).unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct FileOffsetBackingStore {
    path: PathBuf,
    memory: MemoryOffsetBackingStore,
    /// Serializes writers, so that the file always holds the latest complete state.
    write: tokio::sync::Mutex<()>,
}

impl FileOffsetBackingStore {
    /// Opens the store at `path`; a missing file is an empty store.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OffsetStoreError> {
        let path = path.as_ref().to_path_buf();
        let entries = match std::fs::read(&path) {
            Ok(bytes) => decode(&bytes).map_err(|reason| OffsetStoreError::Corrupt {
                path: path.display().to_string(),
                reason,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => {
                return Err(OffsetStoreError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Ok(Self {
            path,
            memory: MemoryOffsetBackingStore::with_entries(entries),
            write: tokio::sync::Mutex::new(()),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn write_file(
        &self,
        entries: &BTreeMap<KeyBytes, ValueBytes>,
    ) -> Result<(), OffsetStoreError> {
        let io = |source| OffsetStoreError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let mut temp = self.path.clone().into_os_string();
        temp.push(".tmp");
        let temp = PathBuf::from(temp);
        tokio::fs::write(&temp, encode(entries)).await.map_err(io)?;
        tokio::fs::rename(&temp, &self.path).await.map_err(io)
    }
}

#[async_trait]
impl OffsetBackingStore for FileOffsetBackingStore {
    async fn get(
        &self,
        keys: &[KeyBytes],
    ) -> Result<HashMap<KeyBytes, ValueBytes>, OffsetStoreError> {
        self.memory.get(keys).await
    }

    async fn set(
        &self,
        entries: Vec<(KeyBytes, Option<ValueBytes>)>,
    ) -> Result<(), OffsetStoreError> {
        let _writing = self.write.lock().await;
        let mut next = self.memory.lock().clone();
        MemoryOffsetBackingStore::apply(&mut next, entries);
        self.write_file(&next).await?;
        *self.memory.lock() = next;
        Ok(())
    }

    async fn all(&self) -> Result<Vec<(KeyBytes, ValueBytes)>, OffsetStoreError> {
        self.memory.all().await
    }
}

fn encode(entries: &BTreeMap<KeyBytes, ValueBytes>) -> Vec<u8> {
    let pairs: Vec<Value> = entries
        .iter()
        .map(|(k, v)| {
            let key = serde_json::from_slice(k)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(k).into_owned()));
            let value = serde_json::from_slice(v).unwrap_or(Value::Null);
            Value::Array(vec![key, value])
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&pairs).expect("JSON values serialize");
    bytes.push(b'\n');
    bytes
}

fn decode(bytes: &[u8]) -> Result<BTreeMap<KeyBytes, ValueBytes>, String> {
    let Value::Array(pairs) = serde_json::from_slice(bytes).map_err(|e| e.to_string())? else {
        return Err("not a list".into());
    };
    let mut entries = BTreeMap::new();
    for pair in pairs {
        let Value::Array(mut pair) = pair else {
            return Err("an entry is not a [key, offset] pair".into());
        };
        let (Some(value), Some(key), true) = (pair.pop(), pair.pop(), pair.is_empty()) else {
            return Err("an entry is not a [key, offset] pair".into());
        };
        let key = OffsetKey::from_json(&serde_json::to_vec(&key).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let value = serde_json::to_vec(&value).map_err(|e| e.to_string())?;
        if let Some(offset) = offset_from_json(Some(&value)).map_err(|e| e.to_string())? {
            let canonical = offset_to_json(Some(&offset)).expect("an offset is present");
            entries.insert(key.to_json(), canonical);
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_format_is_a_list_of_key_offset_pairs() {
        let entries = BTreeMap::from([(
            br#"["src",{"filename":"/tmp/in.txt"}]"#.to_vec(),
            br#"{"position":12}"#.to_vec(),
        )]);
        let text = String::from_utf8(encode(&entries)).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!([[["src", {"filename": "/tmp/in.txt"}], {"position": 12}]])
        );
        assert_eq!(decode(text.as_bytes()).unwrap(), entries);
    }

    #[test]
    fn keys_are_canonicalized_and_null_offsets_dropped() {
        let text = br#"[[["c",{"topic":"t","cluster":"A"}],{"offset":1}], [["c",{"x":1}], null]]"#;
        let entries = decode(text).unwrap();
        assert_eq!(
            entries.keys().collect::<Vec<_>>(),
            vec![&br#"["c",{"cluster":"A","topic":"t"}]"#.to_vec()]
        );
    }

    #[test]
    fn garbage_is_reported() {
        for bad in [&b"{}"[..], b"[1]", b"[[1,2,3]]", b"[[[1],{}]]", b"nope"] {
            assert!(decode(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[tokio::test]
    async fn writes_survive_reopening_and_tombstones_remove() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.json");
        let store = FileOffsetBackingStore::open(&path).unwrap();
        let key = br#"["c",{"f":"a"}]"#.to_vec();
        let other = br#"["c",{"f":"b"}]"#.to_vec();
        store
            .set(vec![
                (key.clone(), Some(br#"{"position":3}"#.to_vec())),
                (other.clone(), Some(br#"{"position":4}"#.to_vec())),
            ])
            .await
            .unwrap();
        store.set(vec![(other.clone(), None)]).await.unwrap();
        let reopened = FileOffsetBackingStore::open(&path).unwrap();
        let found = reopened.get(&[key.clone(), other]).await.unwrap();
        assert_eq!(found, HashMap::from([(key, br#"{"position":3}"#.to_vec())]));
        assert!(!path.with_extension("json.tmp").exists());
    }

    #[tokio::test]
    async fn a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            FileOffsetBackingStore::open(dir.path().join("missing-dir/offsets.json")).unwrap();
        let key = br#"["c",{"f":"a"}]"#.to_vec();
        assert!(
            store
                .set(vec![(key.clone(), Some(b"{}".to_vec()))])
                .await
                .is_err()
        );
        assert!(store.get(&[key]).await.unwrap().is_empty());
    }
}
