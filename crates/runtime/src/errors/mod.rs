//! Error handling in the data path (Java's `org.apache.kafka.connect.runtime.errors`): a failing
//! conversion or transformation is retried (`errors.retry.timeout`), then tolerated or not
//! (`errors.tolerance`), logged (`errors.log.enable`) and, for sinks, written to a dead letter
//! queue (`errors.deadletterqueue.*`).

mod dlq;
mod operator;

use std::collections::HashMap;
use std::time::Duration;

use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, ParsedConfig, ValidString,
};
use ferry_connect::{ConfigError, ConnectError};

pub use dlq::{DeadLetterQueueReporter, HEADER_PREFIX};
pub use operator::{ErrorContext, ErrorReporter, LogReporter, RetryWithToleranceOperator};

/// Where in the pipeline an error happened (Java's `Stage`); its name goes into DLQ headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `SourceTask.poll`.
    TaskPoll,
    /// `SinkTask.put`.
    TaskPut,
    /// A transformation.
    Transformation,
    /// The key converter.
    KeyConverter,
    /// The value converter.
    ValueConverter,
    /// The header converter.
    HeaderConverter,
    /// Sending to Kafka.
    KafkaProduce,
    /// Reading from Kafka.
    KafkaConsume,
}

impl Stage {
    /// Java's enum name, e.g. `VALUE_CONVERTER`.
    pub fn name(self) -> &'static str {
        match self {
            Self::TaskPoll => "TASK_POLL",
            Self::TaskPut => "TASK_PUT",
            Self::Transformation => "TRANSFORMATION",
            Self::KeyConverter => "KEY_CONVERTER",
            Self::ValueConverter => "VALUE_CONVERTER",
            Self::HeaderConverter => "HEADER_CONVERTER",
            Self::KafkaProduce => "KAFKA_PRODUCE",
            Self::KafkaConsume => "KAFKA_CONSUME",
        }
    }

    /// Whether any error is tolerable at this stage (converters and transformations), or only
    /// retriable ones (Java's `TOLERABLE_EXCEPTIONS`).
    fn tolerates_any_error(self) -> bool {
        matches!(
            self,
            Self::Transformation
                | Self::KeyConverter
                | Self::ValueConverter
                | Self::HeaderConverter
        )
    }
}

/// `errors.tolerance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    /// `none` (default): the first error fails the task.
    None,
    /// `all`: records that fail are skipped.
    All,
}

/// `errors.tolerance`.
pub const ERRORS_TOLERANCE_CONFIG: &str = "errors.tolerance";
/// `errors.retry.timeout`.
pub const ERRORS_RETRY_TIMEOUT_CONFIG: &str = "errors.retry.timeout";
/// `errors.retry.delay.max.ms`.
pub const ERRORS_RETRY_MAX_DELAY_CONFIG: &str = "errors.retry.delay.max.ms";
/// `errors.log.enable`.
pub const ERRORS_LOG_ENABLE_CONFIG: &str = "errors.log.enable";
/// `errors.log.include.messages`.
pub const ERRORS_LOG_INCLUDE_MESSAGES_CONFIG: &str = "errors.log.include.messages";
/// `errors.deadletterqueue.topic.name`.
pub const DLQ_TOPIC_NAME_CONFIG: &str = "errors.deadletterqueue.topic.name";
/// `errors.deadletterqueue.topic.replication.factor`.
pub const DLQ_REPLICATION_FACTOR_CONFIG: &str = "errors.deadletterqueue.topic.replication.factor";
/// `errors.deadletterqueue.context.headers.enable`.
pub const DLQ_CONTEXT_HEADERS_CONFIG: &str = "errors.deadletterqueue.context.headers.enable";

/// The `errors.*` keys every connector has, with Java's defaults.
pub fn error_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(ERRORS_RETRY_TIMEOUT_CONFIG, ConfigType::Long)
                .default_value("0")
                .importance(Importance::Medium)
                .group("Error Handling")
                .order(1),
        )
        .define(
            ConfigKey::new(ERRORS_RETRY_MAX_DELAY_CONFIG, ConfigType::Long)
                .default_value("60000")
                .importance(Importance::Medium)
                .group("Error Handling")
                .order(2),
        )
        .define(
            ConfigKey::new(ERRORS_TOLERANCE_CONFIG, ConfigType::String)
                .default_value("none")
                .validator(ValidString::of(["none", "all"]))
                .importance(Importance::Medium)
                .group("Error Handling")
                .order(3),
        )
        .define(
            ConfigKey::new(ERRORS_LOG_ENABLE_CONFIG, ConfigType::Boolean)
                .default_value("false")
                .importance(Importance::Medium)
                .group("Error Handling")
                .order(4),
        )
        .define(
            ConfigKey::new(ERRORS_LOG_INCLUDE_MESSAGES_CONFIG, ConfigType::Boolean)
                .default_value("false")
                .importance(Importance::Medium)
                .group("Error Handling")
                .order(5),
        )
}

/// The sink-only dead letter queue keys.
pub fn dlq_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(DLQ_TOPIC_NAME_CONFIG, ConfigType::String)
                .default_value("")
                .importance(Importance::Medium)
                .group("Error Handling")
                .order(6),
        )
        .define(
            ConfigKey::new(DLQ_REPLICATION_FACTOR_CONFIG, ConfigType::Short)
                .default_value("3")
                .importance(Importance::Medium)
                .group("Error Handling")
                .order(7),
        )
        .define(
            ConfigKey::new(DLQ_CONTEXT_HEADERS_CONFIG, ConfigType::Boolean)
                .default_value("false")
                .importance(Importance::Medium)
                .group("Error Handling")
                .order(8),
        )
}

/// A connector's error handling settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorConfig {
    /// `errors.tolerance` (`none`).
    pub tolerance: Tolerance,
    /// `errors.retry.timeout` (0: no retries); `None` for -1, retry forever.
    pub retry_timeout: Option<Duration>,
    /// `errors.retry.delay.max.ms` (60000).
    pub retry_max_delay: Duration,
    /// `errors.log.enable` (false).
    pub log_enable: bool,
    /// `errors.log.include.messages` (false).
    pub log_include_messages: bool,
    /// `errors.deadletterqueue.topic.name` (blank: no DLQ), sinks only.
    pub dlq_topic: String,
    /// `errors.deadletterqueue.topic.replication.factor` (3).
    pub dlq_replication_factor: i16,
    /// `errors.deadletterqueue.context.headers.enable` (false).
    pub dlq_context_headers: bool,
}

impl Default for ErrorConfig {
    fn default() -> Self {
        Self::from_connector_config(&HashMap::new()).expect("the defaults are valid")
    }
}

impl ErrorConfig {
    /// Reads the `errors.*` keys of a connector config.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use ferry_runtime::errors::{ErrorConfig, Tolerance};
    /// let config = HashMap::from([("errors.tolerance".to_owned(), "all".to_owned())]);
    /// let errors = ErrorConfig::from_connector_config(&config).unwrap();
    /// assert_eq!(errors.tolerance, Tolerance::All);
    /// assert!(errors.dlq_topic.is_empty());
    /// ```
    pub fn from_connector_config(config: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let parsed: ParsedConfig = error_config_def().merge(&dlq_config_def()).parse(config)?;
        let long = |key: &str| parsed.get_long(key).unwrap_or(0);
        let retry = long(ERRORS_RETRY_TIMEOUT_CONFIG);
        Ok(Self {
            tolerance: match parsed.get_string(ERRORS_TOLERANCE_CONFIG) {
                Some("all") => Tolerance::All,
                _ => Tolerance::None,
            },
            retry_timeout: (retry >= 0).then(|| Duration::from_millis(retry.unsigned_abs())),
            retry_max_delay: Duration::from_millis(
                long(ERRORS_RETRY_MAX_DELAY_CONFIG).max(0).unsigned_abs(),
            ),
            log_enable: parsed.get_bool(ERRORS_LOG_ENABLE_CONFIG).unwrap_or(false),
            log_include_messages: parsed
                .get_bool(ERRORS_LOG_INCLUDE_MESSAGES_CONFIG)
                .unwrap_or(false),
            dlq_topic: parsed
                .get_string(DLQ_TOPIC_NAME_CONFIG)
                .unwrap_or("")
                .trim()
                .to_owned(),
            dlq_replication_factor: parsed.get_short(DLQ_REPLICATION_FACTOR_CONFIG).unwrap_or(3),
            dlq_context_headers: parsed.get_bool(DLQ_CONTEXT_HEADERS_CONFIG).unwrap_or(false),
        })
    }
}

/// The Java exception class an error corresponds to, for traces and DLQ headers.
pub fn java_class(error: &ConnectError) -> &'static str {
    match error {
        ConnectError::Data(_) => "org.apache.kafka.connect.errors.DataException",
        ConnectError::Config(_) => "org.apache.kafka.common.config.ConfigException",
        ConnectError::Retriable(_) => "org.apache.kafka.connect.errors.RetriableException",
        ConnectError::IllegalState(_) => {
            "org.apache.kafka.connect.errors.IllegalWorkerStateException"
        }
        ConnectError::NotFound(_) => "org.apache.kafka.connect.errors.NotFoundException",
        _ => "org.apache.kafka.connect.errors.ConnectException",
    }
}

/// An error as a status trace: the Java class and the message, as the first line of a Java
/// stack trace reads (`org.apache.kafka.connect.errors.DataException: bad value`); wrapped
/// errors follow on `Caused by:` lines.
pub fn trace(error: &ConnectError) -> String {
    format!("{}: {error}", java_class(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_javas() {
        let config = ErrorConfig::default();
        assert_eq!(config.tolerance, Tolerance::None);
        assert_eq!(config.retry_timeout, Some(Duration::ZERO));
        assert_eq!(config.retry_max_delay, Duration::from_secs(60));
        assert!(!config.log_enable && !config.log_include_messages && !config.dlq_context_headers);
        assert_eq!(config.dlq_replication_factor, 3);
    }

    #[test]
    fn bad_values_name_the_key() {
        let config = HashMap::from([(ERRORS_TOLERANCE_CONFIG.to_owned(), "some".to_owned())]);
        let err = ErrorConfig::from_connector_config(&config).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value some for configuration errors.tolerance: String must be one of: none, all"
        );
        let forever = HashMap::from([(ERRORS_RETRY_TIMEOUT_CONFIG.to_owned(), "-1".to_owned())]);
        assert_eq!(
            ErrorConfig::from_connector_config(&forever)
                .unwrap()
                .retry_timeout,
            None
        );
    }

    #[test]
    fn traces_name_the_java_exception() {
        assert_eq!(
            trace(&ConnectError::data("bad")),
            "org.apache.kafka.connect.errors.DataException: bad"
        );
        assert_eq!(Stage::ValueConverter.name(), "VALUE_CONVERTER");
    }
}
