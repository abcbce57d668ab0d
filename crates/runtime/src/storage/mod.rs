//! Kafka Connect's internal topics: the byte formats of their records.
//!
//! Values are JSON as Java's `JsonConverter` with `schemas.enable=false` writes them (see
//! [`json`]), so a cluster can move between Java and Ferry workers on the same topics.

pub mod config_records;
pub mod json;
pub mod kafka;
pub mod offset_records;
pub mod offsets;
pub mod status_records;

/// Why an internal-topic record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The key names no record kind, or its connector/task part cannot be parsed.
    #[error("invalid record key '{0}'")]
    Key(String),
    /// The value is not JSON.
    #[error("value is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The value is JSON of the wrong shape.
    #[error("value is not {0}")]
    Shape(&'static str),
    /// A required field is missing or of the wrong type.
    #[error("field '{0}' is missing or of the wrong type")]
    Field(&'static str),
    /// A tombstone where this kind of record must have a value.
    #[error("unexpected tombstone")]
    Tombstone,
}
