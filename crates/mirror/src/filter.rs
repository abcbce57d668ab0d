//! Which topics, consumer groups and topic-config properties MirrorMaker 2 replicates: Java's
//! `DefaultTopicFilter`, `DefaultGroupFilter` and `DefaultConfigPropertyFilter`.
//!
//! Each setting is a Kafka `LIST` of regular expressions; a name is selected when one of them
//! matches the *whole* name (Java's `Pattern.matcher(name).matches()`), and an empty list selects
//! nothing.
//!
//! Java's `java.util.regex` and the `regex` crate agree on the syntax these lists use in practice
//! (literals, `.`, `*`, classes, alternation, groups), with these differences:
//! - the `regex` crate has no look-around, back-references, possessive quantifiers or `\Q…\E`
//!   quoting; such patterns fail to build with a [`FilterError`] instead of working;
//! - `\w`, `\d`, `\s` and `\b` are Unicode-aware in the `regex` crate but ASCII-only in Java by
//!   default, and `.` excludes only `\n` here but all of `\n`, `\r`, `\u{85}`, `\u{2028}` and
//!   `\u{2029}` in Java. Topic names are ASCII without line breaks, so only unusual group names
//!   can be told apart.
//!
//! ```
//! use std::collections::HashMap;
//! use ferry_mirror::filter::{DefaultTopicFilter, TopicFilter};
//!
//! let props = HashMap::from([("topics".to_owned(), "orders.*, payments".to_owned())]);
//! let filter = DefaultTopicFilter::from_config(&props)?;
//! assert!(filter.should_replicate_topic("orders-eu"));
//! assert!(!filter.should_replicate_topic("my-payments"));
//! assert!(!filter.should_replicate_topic("orders.internal"));
//! # Ok::<(), ferry_mirror::filter::FilterError>(())
//! ```

use std::collections::HashMap;
use std::fmt::Debug;

use regex::Regex;
use thiserror::Error;

/// `topics`: the topics to replicate.
pub const TOPICS_INCLUDE_CONFIG: &str = "topics";
/// The default of [`TOPICS_INCLUDE_CONFIG`].
pub const TOPICS_INCLUDE_DEFAULT: &str = ".*";
/// `topics.exclude`: the topics never to replicate.
pub const TOPICS_EXCLUDE_CONFIG: &str = "topics.exclude";
/// The default of [`TOPICS_EXCLUDE_CONFIG`]: internal topics, legacy MirrorMaker's `.replica`
/// topics and Kafka's own `__` topics.
pub const TOPICS_EXCLUDE_DEFAULT: &str = r".*[\-\.]internal, .*\.replica, __.*";
/// `topics.blacklist`: Kafka 3.x's deprecated alias of [`TOPICS_EXCLUDE_CONFIG`] (removed in 4.0).
pub const TOPICS_EXCLUDE_ALIAS_CONFIG: &str = "topics.blacklist";

/// `groups`: the consumer groups whose offsets are checkpointed.
pub const GROUPS_INCLUDE_CONFIG: &str = "groups";
/// The default of [`GROUPS_INCLUDE_CONFIG`].
pub const GROUPS_INCLUDE_DEFAULT: &str = ".*";
/// `groups.exclude`: the consumer groups never checkpointed.
pub const GROUPS_EXCLUDE_CONFIG: &str = "groups.exclude";
/// The default of [`GROUPS_EXCLUDE_CONFIG`].
pub const GROUPS_EXCLUDE_DEFAULT: &str = "console-consumer-.*, connect-.*, __.*";
/// `groups.blacklist`: Kafka 3.x's deprecated alias of [`GROUPS_EXCLUDE_CONFIG`] (removed in 4.0).
pub const GROUPS_EXCLUDE_ALIAS_CONFIG: &str = "groups.blacklist";

/// `config.properties.exclude`: the topic-config properties never copied to remote topics.
pub const CONFIG_PROPERTIES_EXCLUDE_CONFIG: &str = "config.properties.exclude";
/// The default of [`CONFIG_PROPERTIES_EXCLUDE_CONFIG`].
pub const CONFIG_PROPERTIES_EXCLUDE_DEFAULT: &str = r"follower\.replication\.throttled\.replicas, leader\.replication\.throttled\.replicas, message\.timestamp\.difference\.max\.ms, message\.timestamp\.type, unclean\.leader\.election\.enable, min\.insync\.replicas";
/// `config.properties.blacklist`: Kafka 3.x's deprecated alias of
/// [`CONFIG_PROPERTIES_EXCLUDE_CONFIG`] (removed in 4.0).
pub const CONFIG_PROPERTIES_EXCLUDE_ALIAS_CONFIG: &str = "config.properties.blacklist";
/// `use.defaults.from`: whose defaults (`source` or `target`) apply to topic configs left at
/// their default value.
pub const USE_DEFAULTS_FROM_CONFIG: &str = "use.defaults.from";
/// The default of [`USE_DEFAULTS_FROM_CONFIG`].
pub const USE_DEFAULTS_FROM_DEFAULT: &str = "target";

/// A filter setting that is not a valid regular-expression list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid value for '{key}': {message}")]
pub struct FilterError {
    /// The configuration key.
    pub key: &'static str,
    /// Why the regular expression was rejected.
    pub message: String,
}

/// A list of regular expressions selecting names by whole-name match, as Java's
/// `MirrorUtils.compilePatternList` builds from a Kafka `LIST` setting.
#[derive(Debug, Clone)]
pub struct PatternList {
    // None for an empty list: Java's empty pattern would match everything, a blank list nothing.
    regex: Option<Regex>,
}

impl PatternList {
    /// Parses a comma-separated list the way Kafka's `ConfigDef` parses a `LIST` (trimmed, split
    /// on commas with surrounding whitespace, empty entries kept) and compiles the entries joined
    /// with `|`, as Java does, so that a group may span commas.
    pub fn parse(key: &'static str, list: &str) -> Result<Self, FilterError> {
        let trimmed = java_trim(list);
        if trimmed.is_empty() {
            return Ok(Self { regex: None });
        }
        let entries: Vec<&str> = trimmed
            .split(',')
            .map(|entry| entry.trim_matches(is_java_whitespace))
            .collect();
        let anchored = format!(r"\A(?:{})\z", entries.join("|"));
        let regex = Regex::new(&anchored).map_err(|e| FilterError {
            key,
            message: e.to_string(),
        })?;
        Ok(Self { regex: Some(regex) })
    }

    /// Whether some entry matches all of `name`.
    pub fn matches(&self, name: &str) -> bool {
        self.regex.as_ref().is_some_and(|r| r.is_match(name))
    }
}

/// Java's `String.trim`, which `ConfigDef` applies to every string value.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Java's `\s`, the whitespace `ConfigDef` strips around list commas.
fn is_java_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

/// The value of `key`, or of its deprecated `alias` when only that is set (Kafka 3.x's
/// `ConfigUtils.translateDeprecatedConfigs`), or `default`.
fn setting<'a>(
    props: &'a HashMap<String, String>,
    key: &str,
    alias: Option<&str>,
    default: &'a str,
) -> &'a str {
    props
        .get(key)
        .or_else(|| alias.and_then(|alias| props.get(alias)))
        .map_or(default, String::as_str)
}

fn pattern_setting(
    props: &HashMap<String, String>,
    key: &'static str,
    alias: Option<&str>,
    default: &str,
) -> Result<PatternList, FilterError> {
    PatternList::parse(key, setting(props, key, alias, default))
}

/// Decides which topics are replicated (Java's `TopicFilter`).
pub trait TopicFilter: Debug + Send + Sync {
    /// Whether `topic` is replicated.
    fn should_replicate_topic(&self, topic: &str) -> bool;
}

/// Decides which consumer groups are checkpointed (Java's `GroupFilter`).
pub trait GroupFilter: Debug + Send + Sync {
    /// Whether `group` is checkpointed.
    fn should_replicate_group(&self, group: &str) -> bool;
}

/// Decides which topic-config properties are copied to remote topics (Java's
/// `ConfigPropertyFilter`).
pub trait ConfigPropertyFilter: Debug + Send + Sync {
    /// Whether property `prop` is copied.
    fn should_replicate_config_property(&self, prop: &str) -> bool;

    /// Whether `prop`, left at its default on the source, is copied with the source's default.
    fn should_replicate_source_default(&self, prop: &str) -> bool;
}

/// Selects topics matching `topics` and not `topics.exclude`.
#[derive(Debug, Clone)]
pub struct DefaultTopicFilter {
    include: PatternList,
    exclude: PatternList,
}

impl DefaultTopicFilter {
    /// Reads `topics` and `topics.exclude` (or its alias `topics.blacklist`) with Java's defaults.
    pub fn from_config(props: &HashMap<String, String>) -> Result<Self, FilterError> {
        Ok(Self {
            include: pattern_setting(props, TOPICS_INCLUDE_CONFIG, None, TOPICS_INCLUDE_DEFAULT)?,
            exclude: pattern_setting(
                props,
                TOPICS_EXCLUDE_CONFIG,
                Some(TOPICS_EXCLUDE_ALIAS_CONFIG),
                TOPICS_EXCLUDE_DEFAULT,
            )?,
        })
    }
}

impl TopicFilter for DefaultTopicFilter {
    fn should_replicate_topic(&self, topic: &str) -> bool {
        self.include.matches(topic) && !self.exclude.matches(topic)
    }
}

/// Selects consumer groups matching `groups` and not `groups.exclude`.
#[derive(Debug, Clone)]
pub struct DefaultGroupFilter {
    include: PatternList,
    exclude: PatternList,
}

impl DefaultGroupFilter {
    /// Reads `groups` and `groups.exclude` (or its alias `groups.blacklist`) with Java's defaults.
    pub fn from_config(props: &HashMap<String, String>) -> Result<Self, FilterError> {
        Ok(Self {
            include: pattern_setting(props, GROUPS_INCLUDE_CONFIG, None, GROUPS_INCLUDE_DEFAULT)?,
            exclude: pattern_setting(
                props,
                GROUPS_EXCLUDE_CONFIG,
                Some(GROUPS_EXCLUDE_ALIAS_CONFIG),
                GROUPS_EXCLUDE_DEFAULT,
            )?,
        })
    }
}

impl GroupFilter for DefaultGroupFilter {
    fn should_replicate_group(&self, group: &str) -> bool {
        self.include.matches(group) && !self.exclude.matches(group)
    }
}

/// Copies every topic-config property except those matching `config.properties.exclude`.
#[derive(Debug, Clone)]
pub struct DefaultConfigPropertyFilter {
    exclude: PatternList,
    use_defaults_from_source: bool,
}

impl DefaultConfigPropertyFilter {
    /// Reads `config.properties.exclude` (or its alias `config.properties.blacklist`) and
    /// `use.defaults.from` with Java's defaults.
    pub fn from_config(props: &HashMap<String, String>) -> Result<Self, FilterError> {
        Ok(Self {
            exclude: pattern_setting(
                props,
                CONFIG_PROPERTIES_EXCLUDE_CONFIG,
                Some(CONFIG_PROPERTIES_EXCLUDE_ALIAS_CONFIG),
                CONFIG_PROPERTIES_EXCLUDE_DEFAULT,
            )?,
            // Java compares the trimmed string with "source": anything else means the target's.
            use_defaults_from_source: java_trim(setting(
                props,
                USE_DEFAULTS_FROM_CONFIG,
                None,
                USE_DEFAULTS_FROM_DEFAULT,
            )) == "source",
        })
    }
}

impl ConfigPropertyFilter for DefaultConfigPropertyFilter {
    fn should_replicate_config_property(&self, prop: &str) -> bool {
        !self.exclude.matches(prop)
    }

    fn should_replicate_source_default(&self, _prop: &str) -> bool {
        self.use_defaults_from_source
    }
}

#[cfg(test)]
mod tests;
