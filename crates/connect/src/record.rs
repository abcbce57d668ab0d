//! Source and sink records, Java's `ConnectRecord`, `SourceRecord` and `SinkRecord`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::data::{Schema, SchemaAndValue, Value};
use crate::header::Headers;

/// A source partition or source offset: a JSON object, since the runtime stores both as JSON in
/// the offset topic (key `["connector", {partition}]`, value `{offset}`).
pub type SourceMap = serde_json::Map<String, serde_json::Value>;

/// A record's source offset: a [`SourceMap`], held without one for the common offset made of a
/// single integer (a position, a sequence number).
///
/// A map of one entry costs a search tree node of several hundred bytes, made and kept for
/// every record in flight; [`SourceOffset::long`] costs nothing beyond the record. Both forms
/// are the same offset to the runtime, which stores them as the same JSON.
///
/// ```
/// use ferry_connect::record::{SourceMap, SourceOffset};
/// use serde_json::json;
/// let offset = SourceOffset::long("position", 42);
/// assert_eq!(offset.get_i64("position"), Some(42));
/// let map: SourceMap = json!({"position": 42}).as_object().cloned().unwrap();
/// assert_eq!(offset, SourceOffset::from(map.clone()));
/// assert_eq!(*offset.to_map(), map);
/// ```
#[derive(Clone)]
pub struct SourceOffset(OffsetRepr);

#[derive(Clone)]
enum OffsetRepr {
    Map(Arc<SourceMap>),
    /// `{key: value}`.
    Long(&'static str, i64),
}

impl SourceOffset {
    /// The offset `{key: value}`.
    pub fn long(key: &'static str, value: i64) -> Self {
        Self(OffsetRepr::Long(key, value))
    }

    /// The integer at `key`, if there is one.
    pub fn get_i64(&self, key: &str) -> Option<i64> {
        match &self.0 {
            OffsetRepr::Map(map) => map.get(key)?.as_i64(),
            OffsetRepr::Long(k, value) => (*k == key).then_some(*value),
        }
    }

    /// The offset as a map, made only when it is not held as one.
    pub fn as_map(&self) -> Cow<'_, SourceMap> {
        match &self.0 {
            OffsetRepr::Map(map) => Cow::Borrowed(&**map),
            OffsetRepr::Long(..) => Cow::Owned(self.make_map()),
        }
    }

    /// The offset as a shared map, made only when it is not held as one.
    pub fn to_map(&self) -> Arc<SourceMap> {
        match &self.0 {
            OffsetRepr::Map(map) => Arc::clone(map),
            OffsetRepr::Long(..) => Arc::new(self.make_map()),
        }
    }

    fn make_map(&self) -> SourceMap {
        match &self.0 {
            OffsetRepr::Map(map) => (**map).clone(),
            OffsetRepr::Long(key, value) => {
                SourceMap::from_iter([((*key).to_owned(), serde_json::Value::from(*value))])
            }
        }
    }
}

impl From<SourceMap> for SourceOffset {
    fn from(map: SourceMap) -> Self {
        Self(OffsetRepr::Map(Arc::new(map)))
    }
}

impl From<Arc<SourceMap>> for SourceOffset {
    fn from(map: Arc<SourceMap>) -> Self {
        Self(OffsetRepr::Map(map))
    }
}

impl PartialEq for SourceOffset {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (OffsetRepr::Long(k1, v1), OffsetRepr::Long(k2, v2)) => k1 == k2 && v1 == v2,
            (OffsetRepr::Map(a), OffsetRepr::Map(b)) => Arc::ptr_eq(a, b) || a == b,
            _ => *self.as_map() == *other.as_map(),
        }
    }
}

impl PartialEq<SourceMap> for SourceOffset {
    fn eq(&self, other: &SourceMap) -> bool {
        *self.as_map() == *other
    }
}

impl fmt::Debug for SourceOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.as_map(), f)
    }
}

/// What every record has: topic, partition, key, value, timestamp and headers.
///
/// Transformations work on any record type through this trait and build their output with
/// [`ConnectRecord::new_record`], which keeps whatever the record type adds (source offsets,
/// Kafka offsets) unchanged.
pub trait ConnectRecord: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// The topic.
    fn topic(&self) -> &str;
    /// The Kafka partition, when one is chosen.
    fn kafka_partition(&self) -> Option<i32>;
    /// The key's schema.
    fn key_schema(&self) -> Option<&Schema>;
    /// The key.
    fn key(&self) -> Option<&Value>;
    /// The value's schema.
    fn value_schema(&self) -> Option<&Schema>;
    /// The value.
    fn value(&self) -> Option<&Value>;
    /// The timestamp in milliseconds since the epoch.
    fn timestamp(&self) -> Option<i64>;
    /// The headers.
    fn headers(&self) -> &Headers;

    /// A copy of this record with the given topic, partition, key, value, timestamp and headers,
    /// and everything else unchanged. Java's `newRecord`.
    fn new_record(
        &self,
        topic: String,
        kafka_partition: Option<i32>,
        key: SchemaAndValue,
        value: SchemaAndValue,
        timestamp: Option<i64>,
        headers: Headers,
    ) -> Self;

    /// The key with its schema.
    fn key_and_schema(&self) -> SchemaAndValue {
        SchemaAndValue::new(self.key_schema().cloned(), self.key().cloned())
    }

    /// The value with its schema.
    fn value_and_schema(&self) -> SchemaAndValue {
        SchemaAndValue::new(self.value_schema().cloned(), self.value().cloned())
    }

    /// A copy with another topic.
    fn with_topic(&self, topic: String) -> Self {
        Replaced {
            topic: Some(topic),
            ..Replaced::default()
        }
        .apply(self)
    }

    /// A copy with another key and key schema.
    fn with_key(&self, key: SchemaAndValue) -> Self {
        Replaced {
            key: Some(key),
            ..Replaced::default()
        }
        .apply(self)
    }

    /// A copy with another value and value schema.
    fn with_value(&self, value: SchemaAndValue) -> Self {
        Replaced {
            value: Some(value),
            ..Replaced::default()
        }
        .apply(self)
    }

    /// A copy with other headers.
    fn with_headers(&self, headers: Headers) -> Self {
        Replaced {
            headers: Some(headers),
            ..Replaced::default()
        }
        .apply(self)
    }

    /// A copy with another timestamp.
    fn with_timestamp(&self, timestamp: Option<i64>) -> Self {
        Replaced {
            timestamp: Some(timestamp),
            ..Replaced::default()
        }
        .apply(self)
    }
}

/// The parts a `with_*` copy replaces; every part left `None` is taken from the record, so only
/// the parts kept are cloned.
#[derive(Default)]
struct Replaced {
    topic: Option<String>,
    key: Option<SchemaAndValue>,
    value: Option<SchemaAndValue>,
    timestamp: Option<Option<i64>>,
    headers: Option<Headers>,
}

impl Replaced {
    fn apply<R: ConnectRecord>(self, record: &R) -> R {
        record.new_record(
            self.topic.unwrap_or_else(|| record.topic().to_owned()),
            record.kafka_partition(),
            self.key.unwrap_or_else(|| record.key_and_schema()),
            self.value.unwrap_or_else(|| record.value_and_schema()),
            self.timestamp.unwrap_or_else(|| record.timestamp()),
            self.headers.unwrap_or_else(|| record.headers().clone()),
        )
    }
}

/// The accessors of [`ConnectRecord`] that read a record struct's same-named fields.
macro_rules! field_accessors {
    () => {
        fn topic(&self) -> &str {
            &self.topic
        }
        fn key_schema(&self) -> Option<&Schema> {
            self.key_schema.as_ref()
        }
        fn key(&self) -> Option<&Value> {
            self.key.as_ref()
        }
        fn value_schema(&self) -> Option<&Schema> {
            self.value_schema.as_ref()
        }
        fn value(&self) -> Option<&Value> {
            self.value.as_ref()
        }
        fn timestamp(&self) -> Option<i64> {
            self.timestamp
        }
        fn headers(&self) -> &Headers {
            &self.headers
        }
    };
}

/// A record produced by a source task, Java's `SourceRecord`.
///
/// ```
/// use ferry_connect::data::{Schema, Value};
/// use ferry_connect::record::{ConnectRecord, SourceRecord};
/// use serde_json::json;
/// let partition = json!({"filename": "/tmp/in.txt"}).as_object().cloned();
/// let offset = json!({"position": 42}).as_object().cloned();
/// let record = SourceRecord::new(partition, offset, "lines", Some(Schema::string()), Some(Value::from("hi")));
/// assert_eq!(record.topic(), "lines");
/// assert_eq!(record.source_offset.unwrap().get_i64("position"), Some(42));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceRecord {
    /// Where the record came from in the source system, e.g. `{"filename": "..."}`. Shared, so
    /// that a task can hand one map to every record of a partition and the runtime can track
    /// records in flight without copying it.
    pub source_partition: Option<Arc<SourceMap>>,
    /// The position after this record within its source partition, e.g. `{"position": 42}`
    /// ([`SourceOffset::long`] makes that one without a map per record).
    pub source_offset: Option<SourceOffset>,
    /// The topic to write to.
    pub topic: String,
    /// The partition to write to; `None` lets the producer's partitioner choose.
    pub kafka_partition: Option<i32>,
    /// The key's schema.
    pub key_schema: Option<Schema>,
    /// The key.
    pub key: Option<Value>,
    /// The value's schema.
    pub value_schema: Option<Schema>,
    /// The value.
    pub value: Option<Value>,
    /// The timestamp in milliseconds since the epoch; `None` lets the producer set it.
    pub timestamp: Option<i64>,
    /// The headers.
    pub headers: Headers,
}

impl SourceRecord {
    /// A record with no key, partition, timestamp or headers.
    pub fn new(
        source_partition: Option<SourceMap>,
        source_offset: Option<SourceMap>,
        topic: impl Into<String>,
        value_schema: Option<Schema>,
        value: Option<Value>,
    ) -> Self {
        Self {
            source_partition: source_partition.map(Arc::new),
            source_offset: source_offset.map(SourceOffset::from),
            topic: topic.into(),
            value_schema,
            value,
            ..Self::default()
        }
    }
}

impl ConnectRecord for SourceRecord {
    field_accessors!();
    fn kafka_partition(&self) -> Option<i32> {
        self.kafka_partition
    }

    fn new_record(
        &self,
        topic: String,
        kafka_partition: Option<i32>,
        key: SchemaAndValue,
        value: SchemaAndValue,
        timestamp: Option<i64>,
        headers: Headers,
    ) -> Self {
        Self {
            source_partition: self.source_partition.clone(),
            source_offset: self.source_offset.clone(),
            topic,
            kafka_partition,
            key_schema: key.schema,
            key: key.value,
            value_schema: value.schema,
            value: value.value,
            timestamp,
            headers,
        }
    }
}

/// How a record's timestamp was set, Java's `TimestampType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// The record has no timestamp (`NoTimestampType`, id -1).
    #[default]
    NoTimestamp,
    /// Set by the producer (`CreateTime`, id 0).
    CreateTime,
    /// Set by the broker on append (`LogAppendTime`, id 1).
    LogAppendTime,
}

impl TimestampType {
    /// Java's name for the type: `NoTimestampType`, `CreateTime`, `LogAppendTime`.
    pub fn java_name(self) -> &'static str {
        match self {
            TimestampType::NoTimestamp => "NoTimestampType",
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        }
    }
}

/// A record delivered to a sink task, Java's `SinkRecord`.
///
/// `original_*` keep where the record was consumed from, even after transformations changed its
/// topic or partition; the runtime commits consumer offsets for those.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SinkRecord {
    /// The topic (possibly renamed by a transformation).
    pub topic: String,
    /// The partition (possibly changed by a transformation).
    pub kafka_partition: i32,
    /// The key's schema.
    pub key_schema: Option<Schema>,
    /// The key.
    pub key: Option<Value>,
    /// The value's schema.
    pub value_schema: Option<Schema>,
    /// The value.
    pub value: Option<Value>,
    /// The offset of the consumed record.
    pub kafka_offset: i64,
    /// The timestamp in milliseconds since the epoch.
    pub timestamp: Option<i64>,
    /// How the timestamp was set.
    pub timestamp_type: TimestampType,
    /// The headers.
    pub headers: Headers,
    /// The topic the record was consumed from.
    pub original_topic: String,
    /// The partition the record was consumed from.
    pub original_kafka_partition: i32,
    /// The offset the record was consumed at.
    pub original_kafka_offset: i64,
}

impl SinkRecord {
    /// A freshly consumed record: its original position is its current one.
    #[allow(clippy::too_many_arguments)] // Mirrors Java's constructor; every part is required.
    pub fn new(
        topic: impl Into<String>,
        partition: i32,
        key: SchemaAndValue,
        value: SchemaAndValue,
        kafka_offset: i64,
        timestamp: Option<i64>,
        timestamp_type: TimestampType,
        headers: Headers,
    ) -> Self {
        let topic = topic.into();
        Self {
            original_topic: topic.clone(),
            topic,
            kafka_partition: partition,
            key_schema: key.schema,
            key: key.value,
            value_schema: value.schema,
            value: value.value,
            kafka_offset,
            timestamp,
            timestamp_type,
            headers,
            original_kafka_partition: partition,
            original_kafka_offset: kafka_offset,
        }
    }
}

impl ConnectRecord for SinkRecord {
    field_accessors!();
    fn kafka_partition(&self) -> Option<i32> {
        Some(self.kafka_partition)
    }

    /// A sink record has a partition; `None` keeps the current one.
    fn new_record(
        &self,
        topic: String,
        kafka_partition: Option<i32>,
        key: SchemaAndValue,
        value: SchemaAndValue,
        timestamp: Option<i64>,
        headers: Headers,
    ) -> Self {
        Self {
            topic,
            kafka_partition: kafka_partition.unwrap_or(self.kafka_partition),
            key_schema: key.schema,
            key: key.value,
            value_schema: value.schema,
            value: value.value,
            kafka_offset: self.kafka_offset,
            timestamp,
            timestamp_type: self.timestamp_type,
            headers,
            original_topic: self.original_topic.clone(),
            original_kafka_partition: self.original_kafka_partition,
            original_kafka_offset: self.original_kafka_offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_new_record_keeps_offsets_and_original_position() {
        let mut headers = Headers::new();
        headers.add_string("h", "v");
        let record = SinkRecord::new(
            "in",
            3,
            SchemaAndValue::new(Some(Schema::string()), Some(Value::from("k"))),
            SchemaAndValue::NULL,
            17,
            Some(1000),
            TimestampType::CreateTime,
            headers,
        );
        let renamed = record.with_topic("out".to_owned());
        assert_eq!(renamed.topic, "out");
        assert_eq!(renamed.kafka_partition, 3);
        assert_eq!(renamed.original_topic, "in");
        assert_eq!(renamed.original_kafka_partition, 3);
        assert_eq!(renamed.original_kafka_offset, 17);
        assert_eq!(renamed.kafka_offset, 17);
        assert_eq!(renamed.key, Some(Value::from("k")));
        assert_eq!(renamed.headers.len(), 1);
        assert_eq!(renamed.timestamp_type, TimestampType::CreateTime);
        let moved = record.new_record(
            "in".into(),
            Some(9),
            SchemaAndValue::NULL,
            SchemaAndValue::NULL,
            None,
            Headers::new(),
        );
        assert_eq!(
            (moved.kafka_partition, moved.original_kafka_partition),
            (9, 3)
        );
    }

    #[test]
    fn source_new_record_keeps_source_partition_and_offset() {
        let partition = serde_json::json!({"file": "a"}).as_object().cloned();
        let offset = serde_json::json!({"pos": 1}).as_object().cloned();
        let record = SourceRecord::new(partition.clone(), offset.clone(), "t", None, None);
        let changed = record.with_value(SchemaAndValue::new(None, Some(Value::Int32(1))));
        assert_eq!(changed.source_partition.as_deref(), partition.as_ref());
        assert_eq!(changed.source_offset, offset.map(SourceOffset::from));
        assert_eq!(changed.value, Some(Value::Int32(1)));
        assert_eq!(changed.kafka_partition, None);
        assert_eq!(changed.with_timestamp(Some(5)).timestamp, Some(5));
    }

    #[test]
    fn a_long_offset_is_the_map_of_its_one_entry() {
        let map = |v: serde_json::Value| v.as_object().cloned().unwrap();
        let long = SourceOffset::long("offset", 7);
        assert_eq!(*long.to_map(), map(serde_json::json!({"offset": 7})));
        assert_eq!(
            long,
            SourceOffset::from(map(serde_json::json!({"offset": 7})))
        );
        assert_eq!(
            SourceOffset::from(map(serde_json::json!({"offset": 7}))),
            long
        );
        assert_ne!(long, SourceOffset::long("offset", 8));
        assert_ne!(long, SourceOffset::long("position", 7));
        assert_ne!(
            long,
            SourceOffset::from(map(serde_json::json!({"offset": 7, "x": 1})))
        );
        assert_eq!(long.get_i64("offset"), Some(7));
        assert_eq!(long.get_i64("position"), None);
        let text = SourceOffset::from(map(serde_json::json!({"offset": "7"})));
        assert_eq!(text.get_i64("offset"), None);
        assert_eq!(
            format!("{long:?}"),
            format!("{:?}", map(serde_json::json!({"offset": 7})))
        );
    }
}
