//! Single message transformations and their predicates, Java's
//! `org.apache.kafka.connect.transforms.{Transformation, predicates.Predicate}`.
//!
//! Both are generic over the record type so one implementation serves source and sink
//! pipelines; the plugin registry holds a factory for each record type.

use std::fmt;

use crate::config::ConfigDef;
use crate::connector::ConfigMap;
use crate::error::Result;
use crate::record::ConnectRecord;

/// Transforms one record at a time, Java's `Transformation<R>`.
///
/// ```
/// use ferry_connect::config::ConfigDef;
/// use ferry_connect::connector::ConfigMap;
/// use ferry_connect::record::{ConnectRecord, SourceRecord};
/// use ferry_connect::transform::Transformation;
/// use ferry_connect::Result;
///
/// /// Prefixes the topic name.
/// #[derive(Debug, Default)]
/// struct Prefix(String);
///
/// impl<R: ConnectRecord> Transformation<R> for Prefix {
///     fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
///         self.0 = configs.get("prefix").cloned().unwrap_or_default();
///         Ok(())
///     }
///     fn apply(&mut self, record: R) -> Result<Option<R>> {
///         Ok(Some(record.with_topic(format!("{}{}", self.0, record.topic()))))
///     }
///     fn config(&self) -> ConfigDef {
///         ConfigDef::new()
///     }
/// }
///
/// let mut t = Prefix::default();
/// Transformation::<SourceRecord>::configure(&mut t, &ConfigMap::from([("prefix".into(), "x.".into())])).unwrap();
/// let out = t.apply(SourceRecord::new(None, None, "t", None, None)).unwrap().unwrap();
/// assert_eq!(out.topic, "x.t");
/// ```
pub trait Transformation<R: ConnectRecord>: Send + fmt::Debug {
    /// Configures the transformation with its own configs (prefix `transforms.NAME.` removed).
    ///
    /// # Errors
    /// [`crate::ConnectError::Config`] for an invalid configuration.
    fn configure(&mut self, configs: &ConfigMap) -> Result<()>;

    /// Transforms `record`; `None` drops it.
    ///
    /// # Errors
    /// [`crate::ConnectError::Data`] when the record cannot be transformed.
    fn apply(&mut self, record: R) -> Result<Option<R>>;

    /// The definition of the transformation's configuration.
    fn config(&self) -> ConfigDef;

    /// Releases resources; called when the task stops.
    fn close(&mut self) {}
}

/// Decides whether a transformation applies to a record, Java's `Predicate<R>` (KIP-585).
pub trait Predicate<R: ConnectRecord>: Send + fmt::Debug {
    /// Configures the predicate with its own configs (prefix `predicates.NAME.` removed).
    ///
    /// # Errors
    /// [`crate::ConnectError::Config`] for an invalid configuration.
    fn configure(&mut self, configs: &ConfigMap) -> Result<()>;

    /// Whether `record` matches.
    fn test(&self, record: &R) -> bool;

    /// The definition of the predicate's configuration.
    fn config(&self) -> ConfigDef;

    /// Releases resources; called when the task stops.
    fn close(&mut self) {}
}
