//! The connector API of Kafka Connect, as Ferry's connectors implement it: schemas and values,
//! source and sink records, headers, the connector/task/converter/transformation traits, `ConfigDef`
//! with validation, and the plugin registry that resolves Java class names and aliases.
//!
//! | module | Java counterpart |
//! | --- | --- |
//! | [`data`] | `org.apache.kafka.connect.data` |
//! | [`header`] | `org.apache.kafka.connect.header` |
//! | [`record`] | `ConnectRecord`, `SourceRecord`, `SinkRecord` |
//! | [`connector`] | `org.apache.kafka.connect.{connector,source,sink}` |
//! | [`convert`] | `org.apache.kafka.connect.storage.{Converter,HeaderConverter}` |
//! | [`transform`] | `org.apache.kafka.connect.transforms.{Transformation,predicates.Predicate}` |
//! | [`config`] | `org.apache.kafka.common.config.ConfigDef` |
//! | [`properties`] | `java.util.Properties` file syntax |
//! | [`provider`] | `ConfigProvider`s and `ConfigTransformer` |
//! | [`plugin`] | the runtime's plugin scanning and aliases (`PluginUtils`) |
//! | [`java`] | `Double.toString` and `String.trim` text rules |

pub mod config;
pub mod connector;
pub mod convert;
pub mod data;
mod error;
pub mod header;
pub mod java;
pub mod plugin;
pub mod properties;
pub mod provider;
pub mod record;
pub mod transform;

pub use async_trait::async_trait;
pub use error::{ConfigError, ConnectError, Result};
