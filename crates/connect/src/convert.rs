//! Converters between Connect data and the bytes of Kafka records, Java's
//! `org.apache.kafka.connect.storage.{Converter, HeaderConverter}`.

use std::fmt;

use bytes::Bytes;

use crate::config::ConfigDef;
use crate::connector::ConfigMap;
use crate::data::{Schema, SchemaAndValue, Value};
use crate::error::Result;

/// A header of a Kafka record as bytes, Java's `org.apache.kafka.common.header.Header`.
///
/// Converters see the record's raw headers, not the Connect [`crate::header::Headers`]: a
/// converter may read them (to find a schema id, say) or add to them when serializing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHeader {
    /// The header's key.
    pub key: String,
    /// The header's value; `None` for a null value.
    pub value: Option<Bytes>,
}

/// Converts record keys or values between Connect data and bytes, Java's `Converter`.
///
/// One instance serves either keys or values, as told by [`Converter::configure`]. Conversions
/// take `&self` so the runtime may share an instance; keep caches behind a lock.
pub trait Converter: Send + Sync + fmt::Debug {
    /// Configures the converter; `is_key` tells whether it converts keys or values. The configs
    /// are the converter's own, with the `key.converter.`/`value.converter.` prefix removed.
    ///
    /// # Errors
    /// [`crate::ConnectError::Config`] for an invalid configuration.
    fn configure(&mut self, configs: &ConfigMap, is_key: bool) -> Result<()>;

    /// Serializes a value with its schema for `topic`; `None` for a null record key or value.
    ///
    /// # Errors
    /// [`crate::ConnectError::Data`] when the value cannot be serialized.
    #[allow(clippy::wrong_self_convention)] // Java's name, kept so implementations map 1:1.
    fn from_connect_data(
        &self,
        topic: &str,
        headers: &mut Vec<RecordHeader>,
        schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>>;

    /// Deserializes the bytes of a record key or value from `topic`.
    ///
    /// # Errors
    /// [`crate::ConnectError::Data`] when the bytes cannot be deserialized.
    fn to_connect_data(
        &self,
        topic: &str,
        headers: &[RecordHeader],
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue>;

    /// The definition of the converter's configuration.
    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}

/// Converts Connect headers to and from the bytes of Kafka record headers,
/// Java's `HeaderConverter`.
pub trait HeaderConverter: Send + Sync + fmt::Debug {
    /// Configures the converter with its own configs (prefix `header.converter.` removed).
    ///
    /// # Errors
    /// [`crate::ConnectError::Config`] for an invalid configuration.
    fn configure(&mut self, configs: &ConfigMap) -> Result<()>;

    /// Serializes one header value; `None` for a null header value.
    ///
    /// # Errors
    /// [`crate::ConnectError::Data`] when the value cannot be serialized.
    #[allow(clippy::wrong_self_convention)] // Java's name, kept so implementations map 1:1.
    fn from_connect_header(
        &self,
        topic: &str,
        header_key: &str,
        schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>>;

    /// Deserializes one header value.
    ///
    /// # Errors
    /// [`crate::ConnectError::Data`] when the bytes cannot be deserialized.
    fn to_connect_header(
        &self,
        topic: &str,
        header_key: &str,
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue>;

    /// The definition of the converter's configuration.
    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}
