//! Records of the offset topic (`offset.storage.topic`): source connectors' offsets, keyed by
//! connector name and source partition as Java's `OffsetStorageWriter` writes them through
//! `JsonConverter`.
//!
//! Key `["NAME",{partition}]`, value `{offset}`, a tombstone value to reset a partition. Java's
//! offset store looks offsets up by the key's exact bytes, and its producer picks the topic
//! partition from a hash of those bytes, so map fields are written in the order a Java
//! `HashMap` iterates them (see [`java_hash_map_order`]).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use super::FormatError;
use super::json::{java_hash_map_order, to_vec};

/// A source partition or an offset: a map of primitive values.
pub type OffsetMap = Map<String, Value>;

/// The key of an offset record: which connector, which source partition.
///
/// ```
/// use ferry_runtime::storage::offset_records::OffsetKey;
/// let partition = serde_json::json!({"topic": "t", "partition": 0, "cluster": "A"});
/// let key = OffsetKey { connector: "MirrorSourceConnector".into(), partition: partition.as_object().unwrap().clone() };
/// assert_eq!(key.to_json(), br#"["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"t"}]"#);
/// assert_eq!(OffsetKey::from_json(&key.to_json()).unwrap(), key);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetKey {
    /// The connector's name (the offset namespace).
    pub connector: String,
    /// The source partition.
    pub partition: OffsetMap,
}

impl OffsetKey {
    /// The record key. It is canonical: keys Java wrote with fields in another order read back
    /// and re-encode to the same bytes for equal partitions.
    pub fn to_json(&self) -> Vec<u8> {
        to_vec(&KeyJson(self))
    }

    /// Reads a record key; Java skips keys that are not a two-element array of a string and an
    /// object, and so does this (with an error).
    pub fn from_json(bytes: &[u8]) -> Result<Self, FormatError> {
        let Value::Array(mut items) = serde_json::from_slice(bytes)? else {
            return Err(FormatError::Shape("a [connector, partition] array"));
        };
        match (items.pop(), items.pop(), items.is_empty()) {
            (Some(Value::Object(partition)), Some(Value::String(connector)), true) => Ok(Self {
                connector,
                partition,
            }),
            _ => Err(FormatError::Shape("a [connector, partition] array")),
        }
    }
}

/// The value of an offset record; `None` for a tombstone.
///
/// ```
/// use ferry_runtime::storage::offset_records::offset_to_json;
/// let offset = serde_json::json!({"offset": 41}).as_object().cloned();
/// assert_eq!(offset_to_json(offset.as_ref()).unwrap(), br#"{"offset":41}"#);
/// assert_eq!(offset_to_json(None), None);
/// ```
pub fn offset_to_json(offset: Option<&OffsetMap>) -> Option<Vec<u8>> {
    offset.map(|o| to_vec(&JavaMap(o)))
}

/// Reads an offset record value; `None` (a tombstone) or JSON `null` means no offset.
pub fn offset_from_json(bytes: Option<&[u8]>) -> Result<Option<OffsetMap>, FormatError> {
    let Some(bytes) = bytes else { return Ok(None) };
    match serde_json::from_slice(bytes)? {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        _ => Err(FormatError::Shape("an offset object")),
    }
}

struct KeyJson<'a>(&'a OffsetKey);

impl Serialize for KeyJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&self.0.connector)?;
        seq.serialize_element(&JavaMap(&self.0.partition))?;
        seq.end()
    }
}

/// A map serialized in `java.util.HashMap` order, nested maps too.
struct JavaMap<'a>(&'a OffsetMap);

impl Serialize for JavaMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for key in java_hash_map_order(self.0.keys().map(String::as_str)) {
            match &self.0[key] {
                Value::Object(nested) => map.serialize_entry(key, &JavaMap(nested))?,
                value => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(v: Value) -> OffsetMap {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn single_field_partition_like_file_stream_source() {
        let key = OffsetKey {
            connector: "local-file-source".into(),
            partition: object(json!({"filename": "/tmp/test.txt"})),
        };
        assert_eq!(
            key.to_json(),
            br#"["local-file-source",{"filename":"/tmp/test.txt"}]"#
        );
        let offset = object(json!({"position": 1234}));
        assert_eq!(
            offset_to_json(Some(&offset)).unwrap(),
            br#"{"position":1234}"#
        );
    }

    #[test]
    fn keys_written_in_any_order_read_back_equal() {
        let java = br#"["c",{"topic":"t","cluster":"A","partition":3}]"#;
        let key = OffsetKey::from_json(java).unwrap();
        assert_eq!(
            key.to_json(),
            br#"["c",{"cluster":"A","partition":3,"topic":"t"}]"#
        );
    }

    #[test]
    fn malformed_keys_are_errors() {
        for bad in [
            &br#"["c"]"#[..],
            br#"["c",null]"#,
            br#"[1,{}]"#,
            br#"["c",{},{}]"#,
            br#"{"c":{}}"#,
            b"not json",
        ] {
            assert!(OffsetKey::from_json(bad).is_err());
        }
    }

    #[test]
    fn tombstones_and_null_mean_no_offset() {
        assert_eq!(offset_from_json(None).unwrap(), None);
        assert_eq!(offset_from_json(Some(b"null")).unwrap(), None);
        let read = offset_from_json(Some(br#"{"offset":5}"#)).unwrap();
        assert_eq!(read, Some(object(json!({"offset": 5}))));
        assert!(offset_from_json(Some(b"5")).is_err());
    }
}
