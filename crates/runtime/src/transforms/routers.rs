//! `org.apache.kafka.connect.transforms.RegexRouter` and `TimestampRouter`.

use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, LambdaValidator, TypedValue,
};
use ferry_connect::connector::ConfigMap;
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;
use ferry_connect::{ConfigError, ConnectError, Result};
use regex::Regex;

use super::support::parse;
use crate::converters::date_format::DateFormat;

/// Compiles a Java regular expression for whole-string matching (Java's `Matcher.matches`).
///
/// Rust's `regex` covers Java's syntax except look-around and back-references, which Java
/// users rarely put in topic patterns; those report an invalid regex.
pub(crate) fn compile_full_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Java's `RegexValidator`.
pub(crate) fn regex_validator() -> LambdaValidator {
    LambdaValidator::new("valid regex", |name: &str, value: Option<&TypedValue>| {
        let pattern = value.and_then(TypedValue::as_str).unwrap_or_default();
        compile_full_match(pattern)
            .map(|_| ())
            .map_err(|e| ConfigError::invalid(name, pattern, Some(&format!("Invalid regex: {e}"))))
    })
}

/// Translates a `Matcher.replaceFirst` replacement into the `regex` crate's syntax: `$n` takes
/// as many digits as name an existing group, `${name}` names a group, and `\x` is `x` literally.
fn translate_replacement(replacement: &str, groups: usize) -> String {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut number = chars.next().and_then(|d| d.to_digit(10)).unwrap_or(0) as usize;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    let extended = number * 10 + d as usize;
                    if extended > groups {
                        break;
                    }
                    number = extended;
                    chars.next();
                }
                out.push_str(&format!("${{{number}}}"));
            }
            '$' => out.push('$'),
            c => out.push(c),
        }
    }
    out
}

/// Renames topics that match `regex` (the whole name) to `replacement`, where `$1` refers to
/// capture groups.
///
/// ```
/// use ferry_connect::connector::ConfigMap;
/// use ferry_connect::record::SourceRecord;
/// use ferry_connect::transform::Transformation;
/// use ferry_runtime::transforms::RegexRouter;
/// let mut router = RegexRouter::default();
/// let configs = ConfigMap::from([
///     ("regex".to_owned(), "(.*)-raw".to_owned()),
///     ("replacement".to_owned(), "$1".to_owned()),
/// ]);
/// Transformation::<SourceRecord>::configure(&mut router, &configs).unwrap();
/// let out = router.apply(SourceRecord::new(None, None, "clicks-raw", None, None)).unwrap();
/// assert_eq!(out.unwrap().topic, "clicks");
/// ```
#[derive(Debug, Clone, Default)]
pub struct RegexRouter {
    regex: Option<Regex>,
    replacement: String,
}

impl RegexRouter {
    /// The configuration definition, Java's `RegexRouter.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("regex", ConfigType::String)
                    .validator(regex_validator())
                    .importance(Importance::High)
                    .documentation("Regular expression to use for matching."),
            )
            .define(
                ConfigKey::new("replacement", ConfigType::String)
                    .importance(Importance::High)
                    .documentation("Replacement string."),
            )
    }
}

impl<R: ConnectRecord> Transformation<R> for RegexRouter {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        let pattern = config.get_string("regex").unwrap_or_default();
        let regex = compile_full_match(pattern).map_err(|e| {
            ConfigError::invalid("regex", pattern, Some(&format!("Invalid regex: {e}")))
        })?;
        let groups = regex.captures_len() - 1;
        self.replacement =
            translate_replacement(config.get_string("replacement").unwrap_or_default(), groups);
        self.regex = Some(regex);
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let Some(regex) = &self.regex else {
            return Ok(Some(record));
        };
        if !regex.is_match(record.topic()) {
            return Ok(Some(record));
        }
        let topic = regex
            .replace(record.topic(), self.replacement.as_str())
            .into_owned();
        Ok(Some(record.with_topic(topic)))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

/// Renames topics to `topic.format` (default `${topic}-${timestamp}`) with the record timestamp
/// formatted by `timestamp.format` (default `yyyyMMdd`, Java `SimpleDateFormat` in UTC).
#[derive(Debug, Clone)]
pub struct TimestampRouter {
    topic_format: String,
    timestamp_format: DateFormat,
}

impl Default for TimestampRouter {
    fn default() -> Self {
        Self {
            topic_format: "${topic}-${timestamp}".to_owned(),
            timestamp_format: DateFormat::new("yyyyMMdd")
                .unwrap_or_else(|_| unreachable!("valid pattern")),
        }
    }
}

impl TimestampRouter {
    /// The configuration definition, Java's `TimestampRouter.CONFIG_DEF`.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("topic.format", ConfigType::String)
                    .default_value("${topic}-${timestamp}")
                    .importance(Importance::High)
                    .documentation(
                        "Format string which can contain <code>${topic}</code> and \
                         <code>${timestamp}</code> as placeholders for the topic and timestamp, \
                         respectively.",
                    ),
            )
            .define(
                ConfigKey::new("timestamp.format", ConfigType::String)
                    .default_value("yyyyMMdd")
                    .importance(Importance::High)
                    .documentation(
                        "Format string for the timestamp that is compatible with \
                         <code>java.text.SimpleDateFormat</code>.",
                    ),
            )
    }
}

impl<R: ConnectRecord> Transformation<R> for TimestampRouter {
    fn configure(&mut self, configs: &ConfigMap) -> Result<()> {
        let config = parse(&Self::config_def(), configs)?;
        self.topic_format = config
            .get_string("topic.format")
            .unwrap_or_default()
            .to_owned();
        let pattern = config.get_string("timestamp.format").unwrap_or_default();
        self.timestamp_format = DateFormat::for_config("timestamp.format", pattern)?;
        Ok(())
    }

    fn apply(&mut self, record: R) -> Result<Option<R>> {
        let Some(timestamp) = record.timestamp() else {
            return Err(ConnectError::data(format!(
                "Timestamp missing on record: {record:?}"
            )));
        };
        let formatted = self.timestamp_format.format(timestamp);
        let topic = self
            .topic_format
            .replace("${topic}", record.topic())
            .replace("${timestamp}", &formatted);
        Ok(Some(record.with_topic(topic)))
    }

    fn config(&self) -> ConfigDef {
        Self::config_def()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_replacements_translate() {
        assert_eq!(translate_replacement("$1-x", 1), "${1}-x");
        assert_eq!(translate_replacement("$12", 1), "${1}2");
        assert_eq!(translate_replacement("$12", 12), "${12}");
        assert_eq!(translate_replacement("a\\$b\\\\", 0), "a$$b\\");
        assert_eq!(translate_replacement("${name}", 1), "${name}");
    }
}
