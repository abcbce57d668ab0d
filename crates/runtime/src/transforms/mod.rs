//! Kafka Connect's built-in single message transformations and predicates
//! (`org.apache.kafka.connect.transforms.*`), with Java's class names, configuration keys,
//! defaults and error messages, and the chain that applies them as a connector config asks.
//!
//! Transformations that work on the key or the value come in two flavours named like Java's
//! nested classes, e.g. `org.apache.kafka.connect.transforms.InsertField$Value`; in Rust each is
//! one type built with a [`Side`]. Every type implements [`Transformation`] (or [`Predicate`]) for
//! any record type, so one instance serves source and sink pipelines alike.
//!
//! ```
//! use ferry_connect::connector::ConfigMap;
//! use ferry_connect::data::Value;
//! use ferry_connect::record::SourceRecord;
//! use ferry_runtime::transforms::TransformationChain;
//!
//! let config: ConfigMap = [
//!     ("transforms", "route"),
//!     ("transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter"),
//!     ("transforms.route.regex", "orders-(.*)"),
//!     ("transforms.route.replacement", "$1-orders"),
//! ]
//! .into_iter()
//! .map(|(k, v)| (k.to_owned(), v.to_owned()))
//! .collect();
//! let mut chain = TransformationChain::<SourceRecord>::from_connector_config(&config).unwrap();
//! let record = SourceRecord::new(None, None, "orders-eu", None, Some(Value::from("x")));
//! assert_eq!(chain.apply(record).unwrap().unwrap().topic, "eu-orders");
//! ```
//!
//! [`Transformation`]: ferry_connect::transform::Transformation
//! [`Predicate`]: ferry_connect::transform::Predicate

mod cast;
mod catalog;
mod chain;
mod enrich;
mod extract_field;
mod field_path;
mod filter;
mod flatten;
mod headers;
mod hoist_field;
mod insert_field;
mod mask_field;
pub mod predicates;
mod replace_field;
mod routers;
mod set_schema_metadata;
mod support;
mod timestamp_converter;
mod value_to_key;

pub use cast::Cast;
pub use catalog::{
    PluginKind, TransformPlugin, new_predicate, new_transformation, plugins, register,
};
pub use chain::{
    NEGATE_CONFIG, PREDICATE_CONFIG, PREDICATES_CONFIG, PredicatedTransformation,
    TRANSFORMS_CONFIG, TransformationChain,
};
pub use enrich::enrich_config_def;
pub use extract_field::ExtractField;
pub use filter::Filter;
pub use flatten::Flatten;
pub use headers::{DropHeaders, HeaderFrom, InsertHeader};
pub use hoist_field::HoistField;
pub use insert_field::InsertField;
pub use mask_field::MaskField;
pub use replace_field::ReplaceField;
pub use routers::{RegexRouter, TimestampRouter};
pub use set_schema_metadata::SetSchemaMetadata;
pub use timestamp_converter::TimestampConverter;
pub use value_to_key::ValueToKey;

use ferry_connect::data::{Schema, SchemaAndValue, Value};
use ferry_connect::record::ConnectRecord;

/// Which part of a record a transformation works on: Java's `$Key` and `$Value` variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The record key (`X$Key`).
    Key,
    /// The record value (`X$Value`).
    Value,
}

impl Side {
    /// The Java nested-class suffix, `$Key` or `$Value`.
    pub fn class_suffix(self) -> &'static str {
        match self {
            Side::Key => "$Key",
            Side::Value => "$Value",
        }
    }

    fn schema<R: ConnectRecord>(self, record: &R) -> Option<&Schema> {
        match self {
            Side::Key => record.key_schema(),
            Side::Value => record.value_schema(),
        }
    }

    fn value<R: ConnectRecord>(self, record: &R) -> Option<&Value> {
        match self {
            Side::Key => record.key(),
            Side::Value => record.value(),
        }
    }

    /// A copy of `record` with this side replaced.
    fn replace<R: ConnectRecord>(
        self,
        record: &R,
        schema: Option<Schema>,
        value: Option<Value>,
    ) -> R {
        let replacement = SchemaAndValue::new(schema, value);
        match self {
            Side::Key => record.with_key(replacement),
            Side::Value => record.with_value(replacement),
        }
    }
}
