//! The framework's keys of every connector config (Java's `ConnectorConfig`,
//! `SourceConnectorConfig`, `SinkConnectorConfig`).

use std::collections::HashMap;

use ferry_connect::ConfigError;
use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, ConfigValue, Importance, Range, ValidString,
};
use regex::Regex;

use crate::errors::{DLQ_TOPIC_NAME_CONFIG, ErrorConfig, dlq_config_def, error_config_def};
use crate::herder::ConnectorType;

/// `name`.
pub const NAME_CONFIG: &str = "name";
/// `connector.class`.
pub const CONNECTOR_CLASS_CONFIG: &str = "connector.class";
/// `tasks.max`.
pub const TASKS_MAX_CONFIG: &str = "tasks.max";
/// `topics` (sinks).
pub const TOPICS_CONFIG: &str = "topics";
/// `topics.regex` (sinks).
pub const TOPICS_REGEX_CONFIG: &str = "topics.regex";

const COMMON_GROUP: &str = "Common";

/// The keys every connector has; sinks add `topics`, `topics.regex` and the DLQ keys.
pub fn connector_config_def(kind: ConnectorType) -> ConfigDef {
    let common = |name: &str, ty: ConfigType, order: i32| {
        ConfigKey::new(name, ty)
            .importance(Importance::High)
            .group(COMMON_GROUP)
            .order(order)
    };
    let def = ConfigDef::new()
        .define(
            common(NAME_CONFIG, ConfigType::String, 1)
                .documentation("Globally unique name to use for this connector."),
        )
        .define(
            common(CONNECTOR_CLASS_CONFIG, ConfigType::String, 2)
                .documentation("Name or alias of the class for this connector."),
        )
        .define(
            common(TASKS_MAX_CONFIG, ConfigType::Int, 3)
                .default_value("1")
                .validator(Range::at_least(1))
                .documentation("Maximum number of tasks to use for this connector."),
        )
        .define(
            common("tasks.max.enforce", ConfigType::Boolean, 4)
                .default_value("true")
                .importance(Importance::Low),
        )
        .define(
            common("key.converter", ConfigType::Class, 5)
                .default_null()
                .importance(Importance::Low),
        )
        .define(
            common("value.converter", ConfigType::Class, 6)
                .default_null()
                .importance(Importance::Low),
        )
        .define(
            common("header.converter", ConfigType::Class, 7)
                .default_null()
                .importance(Importance::Low),
        )
        .define(
            common("config.action.reload", ConfigType::String, 8)
                .default_value("restart")
                .validator(ValidString::of(["none", "restart"]))
                .importance(Importance::Low),
        )
        .define(
            ConfigKey::new("transforms", ConfigType::List)
                .default_value("")
                .importance(Importance::Low)
                .group("Transforms")
                .order(0),
        )
        .define(
            ConfigKey::new("predicates", ConfigType::List)
                .default_value("")
                .importance(Importance::Low)
                .group("Predicates")
                .order(0),
        )
        .merge(&error_config_def());
    match kind {
        ConnectorType::Sink => def
            .define(
                common(TOPICS_CONFIG, ConfigType::List, 4)
                    .default_value("")
                    .documentation("List of topics to consume, separated by commas"),
            )
            .define(
                common(TOPICS_REGEX_CONFIG, ConfigType::String, 4)
                    .default_value("")
                    .documentation("Regular expression giving topics to consume."),
            )
            .merge(&dlq_config_def()),
        _ => def,
    }
}

/// What a sink subscribes to.
#[derive(Debug, Clone)]
pub enum SinkTopics {
    /// `topics`.
    List(Vec<String>),
    /// `topics.regex`, matched against the whole topic name.
    Regex(Regex),
}

impl SinkTopics {
    /// Whether `topic` is subscribed.
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            Self::List(topics) => topics.iter().any(|t| t == topic),
            Self::Regex(regex) => regex.is_match(topic),
        }
    }
}

/// The framework's view of a connector config.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    /// `name`.
    pub name: String,
    /// `connector.class`.
    pub connector_class: String,
    /// `tasks.max` (1).
    pub tasks_max: usize,
    /// `key.converter` override.
    pub key_converter: Option<String>,
    /// `value.converter` override.
    pub value_converter: Option<String>,
    /// `header.converter` override.
    pub header_converter: Option<String>,
    /// The `errors.*` keys.
    pub errors: ErrorConfig,
    /// The sink's subscription; `None` for sources.
    pub topics: Option<SinkTopics>,
    /// The whole config.
    pub props: HashMap<String, String>,
}

impl ConnectorConfig {
    /// Parses and checks a connector config of `kind`.
    ///
    /// # Errors
    /// The first invalid key, e.g. `Must configure one of topics or topics.regex`.
    pub fn parse(
        props: &HashMap<String, String>,
        kind: ConnectorType,
    ) -> Result<Self, ConfigError> {
        let parsed = connector_config_def(kind).parse(props)?;
        if let Some(error) = sink_topic_errors(props, kind).into_iter().next() {
            let value = props.get(&error.0).cloned().unwrap_or_default();
            return Err(ConfigError::invalid(&error.0, value, Some(&error.1)));
        }
        let class = |key: &str| parsed.get_string(key).map(str::to_owned);
        let topics = match kind {
            ConnectorType::Sink => Some(
                parse_sink_topics(props)
                    .map_err(|e| ConfigError::invalid(TOPICS_REGEX_CONFIG, e.0, Some(&e.1)))?,
            ),
            _ => None,
        };
        Ok(Self {
            name: class(NAME_CONFIG).unwrap_or_default(),
            connector_class: class(CONNECTOR_CLASS_CONFIG).unwrap_or_default(),
            tasks_max: parsed.get_int(TASKS_MAX_CONFIG).unwrap_or(1).max(1) as usize,
            key_converter: class("key.converter"),
            value_converter: class("value.converter"),
            header_converter: class("header.converter"),
            errors: ErrorConfig::from_connector_config(props)?,
            topics,
            props: props.clone(),
        })
    }
}

fn parse_sink_topics(props: &HashMap<String, String>) -> Result<SinkTopics, (String, String)> {
    let regex = props
        .get(TOPICS_REGEX_CONFIG)
        .map(|s| s.trim())
        .unwrap_or("");
    if !regex.is_empty() {
        return Regex::new(&format!("^(?:{regex})$"))
            .map(SinkTopics::Regex)
            .map_err(|e| (regex.to_owned(), e.to_string()));
    }
    Ok(SinkTopics::List(topics_list(props)))
}

fn topics_list(props: &HashMap<String, String>) -> Vec<String> {
    let mut topics: Vec<String> = Vec::new();
    for topic in props
        .get(TOPICS_CONFIG)
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
    {
        let topic = topic.trim();
        if !topic.is_empty() && !topics.iter().any(|t| t == topic) {
            topics.push(topic.to_owned());
        }
    }
    topics
}

/// Java's `SinkConnectorConfig.validate`: `(key, message)` for each problem with `topics`,
/// `topics.regex` and the DLQ topic; empty for sources.
pub fn sink_topic_errors(
    props: &HashMap<String, String>,
    kind: ConnectorType,
) -> Vec<(String, String)> {
    if kind != ConnectorType::Sink {
        return Vec::new();
    }
    let blank = |key: &str| props.get(key).is_none_or(|v| v.trim().is_empty());
    let (has_topics, has_regex) = (!blank(TOPICS_CONFIG), !blank(TOPICS_REGEX_CONFIG));
    let dlq = props
        .get(DLQ_TOPIC_NAME_CONFIG)
        .map(|s| s.trim())
        .unwrap_or("");
    let mut errors = Vec::new();
    let mut both = |message: String| {
        errors.push((TOPICS_CONFIG.to_owned(), message.clone()));
        errors.push((TOPICS_REGEX_CONFIG.to_owned(), message));
    };
    if has_topics && has_regex {
        both("topics and topics.regex are mutually exclusive options, but both are set.".into());
    }
    if !has_topics && !has_regex {
        both("Must configure one of topics or topics.regex".into());
    }
    if !dlq.is_empty() {
        let topics = topics_list(props);
        if has_topics && topics.iter().any(|t| t == dlq) {
            errors.push((
                TOPICS_CONFIG.to_owned(),
                format!(
                    "The DLQ topic '{dlq}' may not be included in the list of topics ('topics=[{}]') consumed by the connector",
                    topics.join(", ")
                ),
            ));
        }
        if has_regex
            && let Ok(SinkTopics::Regex(regex)) = parse_sink_topics(props)
            && regex.is_match(dlq)
        {
            errors.push((
                TOPICS_REGEX_CONFIG.to_owned(),
                format!(
                    "The DLQ topic '{dlq}' may not be matched by the regex for the topics ('topics.regex={}') consumed by the connector",
                    props[TOPICS_REGEX_CONFIG]
                ),
            ));
        }
    }
    errors
}

/// Adds [`sink_topic_errors`] to validation results (for `PUT .../config/validate`).
pub fn add_sink_topic_errors(
    values: &mut [ConfigValue],
    props: &HashMap<String, String>,
    kind: ConnectorType,
) {
    for (key, message) in sink_topic_errors(props, kind) {
        if let Some(value) = values.iter_mut().find(|v| v.name == key) {
            value.add_error(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn sink_topics_rules_are_javas() {
        let none = props(&[("name", "s"), ("connector.class", "X")]);
        let err = ConnectorConfig::parse(&none, ConnectorType::Sink).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value  for configuration topics: Must configure one of topics or topics.regex"
        );
        let both = props(&[("topics", "a"), ("topics.regex", "a.*")]);
        assert_eq!(sink_topic_errors(&both, ConnectorType::Sink).len(), 2);
        let dlq = props(&[
            ("topics", "a, b,a"),
            ("errors.deadletterqueue.topic.name", "b"),
        ]);
        assert_eq!(
            sink_topic_errors(&dlq, ConnectorType::Sink)[0].1,
            "The DLQ topic 'b' may not be included in the list of topics ('topics=[a, b]') consumed by the connector"
        );
        let regex = props(&[
            ("topics.regex", "dl.*"),
            ("errors.deadletterqueue.topic.name", "dlq"),
        ]);
        assert_eq!(
            sink_topic_errors(&regex, ConnectorType::Sink)[0].0,
            "topics.regex"
        );
        assert!(sink_topic_errors(&none, ConnectorType::Source).is_empty());
    }

    #[test]
    fn parses_framework_keys() {
        let config = props(&[
            ("name", "s"),
            ("connector.class", "FileStreamSink"),
            ("tasks.max", "3"),
            ("topics.regex", "orders-.*"),
            (
                "value.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
        ]);
        let parsed = ConnectorConfig::parse(&config, ConnectorType::Sink).unwrap();
        assert_eq!(parsed.tasks_max, 3);
        assert_eq!(
            parsed.value_converter.as_deref(),
            Some("org.apache.kafka.connect.storage.StringConverter")
        );
        assert_eq!(parsed.key_converter, None);
        let topics = parsed.topics.unwrap();
        assert!(topics.matches("orders-eu"));
        assert!(!topics.matches("x-orders-eu"));
        let bad = props(&[("name", "s"), ("connector.class", "X"), ("tasks.max", "0")]);
        assert_eq!(
            ConnectorConfig::parse(&bad, ConnectorType::Source)
                .unwrap_err()
                .to_string(),
            "Invalid value 0 for configuration tasks.max: Value must be at least 1"
        );
    }
}
