//! Kafka Connect's built-in predicates (KIP-585), `org.apache.kafka.connect.transforms.predicates`:
//! [`TopicNameMatches`], [`HasHeaderKey`] and [`RecordIsTombstone`].

use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, LambdaValidator, NonEmptyString, TypedValue,
    Validator,
};
use ferry_connect::connector::ConfigMap;
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Predicate;
use ferry_connect::{ConfigError, Result};
use regex::Regex;

use super::routers::{compile_full_match, regex_validator};
use super::support::parse;

/// True for records whose whole topic name matches `pattern`.
///
/// ```
/// use ferry_connect::connector::ConfigMap;
/// use ferry_connect::record::SourceRecord;
/// use ferry_connect::transform::Predicate;
/// use ferry_runtime::transforms::predicates::TopicNameMatches;
/// let mut p = TopicNameMatches::default();
/// let configs = ConfigMap::from([("pattern".to_owned(), "logs-.*".to_owned())]);
/// Predicate::<SourceRecord>::configure(&mut p, &configs).unwrap();
/// assert!(p.test(&SourceRecord::new(None, None, "logs-app", None, None)));
/// assert!(!p.test(&SourceRecord::new(None, None, "my-logs-app", None, None)));
/// ```
#[derive(Debug, Clone, Default)]
pub struct TopicNameMatches {
    pattern: Option<Regex>,
}

impl TopicNameMatches {
    /// The configuration definition, Java's `TopicNameMatches.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("pattern", ConfigType::String)
                .validator(LambdaValidator::new(
                    "non-empty string, valid regex",
                    |name: &str, value: Option<&TypedValue>| {
                        if value.and_then(TypedValue::as_str) == Some("") {
                            return Err(ConfigError::invalid(
                                name,
                                "",
                                Some("String must be non-empty"),
                            ));
                        }
                        regex_validator().ensure_valid(name, value)
                    },
                ))
                .importance(Importance::Medium)
                .documentation(
                    "A Java regular expression for matching against the name of a record's topic.",
                ),
        )
    }
}

impl<R: ConnectRecord> Predicate<R> for TopicNameMatches {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        let pattern = config.get_string("pattern").unwrap_or_default();
        if pattern.is_empty() {
            return Err(
                ConfigError::invalid("pattern", pattern, Some("String must be non-empty")).into(),
            );
        }
        let regex = compile_full_match(pattern).map_err(|e| {
            ConfigError::invalid(
                "pattern",
                pattern,
                Some(&format!(
                    "entry must be a Java-compatible regular expression: {e}"
                )),
            )
        })?;
        self.pattern = Some(regex);
        Ok(())
    }

    fn test(&self, record: &R) -> bool {
        self.pattern
            .as_ref()
            .is_some_and(|p| p.is_match(record.topic()))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

/// True for records with at least one header named `name`.
#[derive(Debug, Clone, Default)]
pub struct HasHeaderKey {
    name: String,
}

impl HasHeaderKey {
    /// The configuration definition, Java's `HasHeaderKey.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("name", ConfigType::String)
                .validator(NonEmptyString)
                .importance(Importance::Medium)
                .documentation("The header name."),
        )
    }
}

impl<R: ConnectRecord> Predicate<R> for HasHeaderKey {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.name = config.get_string("name").unwrap_or_default().to_owned();
        Ok(())
    }

    fn test(&self, record: &R) -> bool {
        record.headers().all_with_name(&self.name).next().is_some()
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

/// True for tombstones: records with a null value.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordIsTombstone;

impl<R: ConnectRecord> Predicate<R> for RecordIsTombstone {
    fn configure(&mut self, _configs: &ConfigMap) -> Result<()> {
        Ok(())
    }

    fn test(&self, record: &R) -> bool {
        record.value().is_none()
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}
