//! [`ConfigDef`]: the definition of a configuration's keys, parsing and validation.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

use super::types::{ConfigType, Importance, TypedValue, Width, parse_type};
use super::validators::Validator;
use crate::error::ConfigError;

/// Values parsed so far, as recommenders see them: key to value (`None` for null).
pub type ParsedValues = HashMap<String, Option<TypedValue>>;

/// Suggests values for a key and says whether it applies, given the other values,
/// Java's `ConfigDef.Recommender`.
pub trait Recommender: Send + Sync + fmt::Debug {
    /// The values `name` may take given `parsed`.
    ///
    /// # Errors
    /// [`ConfigError`], which validation reports among the key's errors.
    fn valid_values(
        &self,
        name: &str,
        parsed: &ParsedValues,
    ) -> Result<Vec<TypedValue>, ConfigError>;

    /// Whether `name` is relevant given `parsed`.
    ///
    /// # Errors
    /// [`ConfigError`], which validation reports among the key's errors.
    fn visible(&self, name: &str, parsed: &ParsedValues) -> Result<bool, ConfigError>;
}

/// The default of a key.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigDefault {
    /// No default: the key is required (Java's `NO_DEFAULT_VALUE`).
    Required,
    /// The default is `null`.
    Null,
    /// A string to parse with the key's type when the key is defined.
    Unparsed(String),
    /// A parsed default.
    Value(TypedValue),
}

/// One key of a [`ConfigDef`], Java's `ConfigDef.ConfigKey`, built with chained setters.
///
/// ```
/// use ferry_connect::config::{ConfigKey, ConfigType, Importance, Range};
/// let key = ConfigKey::new("tasks.max", ConfigType::Int)
///     .default_value("1")
///     .validator(Range::at_least(1))
///     .importance(Importance::High)
///     .documentation("Maximum number of tasks to use for this connector.")
///     .group("Common")
///     .order(3)
///     .display_name("Tasks max");
/// assert_eq!(key.name(), "tasks.max");
/// ```
#[derive(Debug, Clone)]
pub struct ConfigKey {
    pub(super) name: String,
    pub(super) config_type: ConfigType,
    pub(super) default: ConfigDefault,
    pub(super) validator: Option<Arc<dyn Validator>>,
    pub(super) importance: Importance,
    pub(super) documentation: Option<String>,
    pub(super) group: Option<String>,
    pub(super) order_in_group: i32,
    pub(super) width: Width,
    pub(super) display_name: String,
    pub(super) dependents: Vec<String>,
    pub(super) recommender: Option<Arc<dyn Recommender>>,
    pub(super) internal: bool,
}

impl ConfigKey {
    /// A required key of `config_type`, importance `MEDIUM`, no group (order -1), width `NONE`,
    /// displayed as its name.
    pub fn new(name: impl Into<String>, config_type: ConfigType) -> Self {
        let name = name.into();
        Self {
            display_name: name.clone(),
            name,
            config_type,
            default: ConfigDefault::Required,
            validator: None,
            importance: Importance::Medium,
            documentation: None,
            group: None,
            order_in_group: -1,
            width: Width::None,
            dependents: Vec::new(),
            recommender: None,
            internal: false,
        }
    }

    /// Sets the default as a string, parsed with the key's type when the key is defined
    /// (`""` is the empty list for `LIST` keys).
    pub fn default_value(mut self, value: impl Into<String>) -> Self {
        self.default = ConfigDefault::Unparsed(value.into());
        self
    }

    /// Sets an already parsed default.
    pub fn default_typed(mut self, value: TypedValue) -> Self {
        self.default = ConfigDefault::Value(value);
        self
    }

    /// Makes the default `null`: the key is optional and has no value unless set.
    pub fn default_null(mut self) -> Self {
        self.default = ConfigDefault::Null;
        self
    }

    /// Sets the validator.
    pub fn validator(mut self, validator: impl Validator + 'static) -> Self {
        self.validator = Some(Arc::new(validator));
        self
    }

    /// Sets the importance.
    pub fn importance(mut self, importance: Importance) -> Self {
        self.importance = importance;
        self
    }

    /// Sets the documentation.
    pub fn documentation(mut self, documentation: impl Into<String>) -> Self {
        self.documentation = Some(documentation.into());
        self
    }

    /// Sets the group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Sets the order within the group.
    pub fn order(mut self, order_in_group: i32) -> Self {
        self.order_in_group = order_in_group;
        self
    }

    /// Sets the width.
    pub fn width(mut self, width: Width) -> Self {
        self.width = width;
        self
    }

    /// Sets the display name.
    pub fn display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = display_name.into();
        self
    }

    /// Sets the keys whose recommendations depend on this key's value.
    pub fn dependents<S: Into<String>>(mut self, dependents: impl IntoIterator<Item = S>) -> Self {
        self.dependents = dependents.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the recommender.
    pub fn recommender(mut self, recommender: impl Recommender + 'static) -> Self {
        self.recommender = Some(Arc::new(recommender));
        self
    }

    /// Marks the key internal: left out of generated documentation.
    pub fn internal(mut self) -> Self {
        self.internal = true;
        self
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's type.
    pub fn config_type(&self) -> ConfigType {
        self.config_type
    }

    /// Whether the key has no default and must be set.
    pub fn is_required(&self) -> bool {
        self.default == ConfigDefault::Required
    }

    /// The parsed default; `None` when required or `null`.
    pub fn default(&self) -> Option<&TypedValue> {
        match &self.default {
            ConfigDefault::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The importance.
    pub fn get_importance(&self) -> Importance {
        self.importance
    }

    /// The documentation.
    pub fn get_documentation(&self) -> Option<&str> {
        self.documentation.as_deref()
    }

    /// The group.
    pub fn get_group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The order within the group (-1 when unset).
    pub fn order_in_group(&self) -> i32 {
        self.order_in_group
    }

    /// The width.
    pub fn get_width(&self) -> Width {
        self.width
    }

    /// The display name.
    pub fn get_display_name(&self) -> &str {
        &self.display_name
    }

    /// The dependents.
    pub fn get_dependents(&self) -> &[String] {
        &self.dependents
    }

    /// Whether the key is internal.
    pub fn is_internal(&self) -> bool {
        self.internal
    }

    /// Parses an unparsed default and checks the default with the validator, as Java's
    /// `ConfigKey` constructor does.
    fn resolve_default(mut self) -> Result<Self, ConfigError> {
        if let ConfigDefault::Unparsed(raw) = &self.default {
            self.default = ConfigDefault::Value(parse_type(&self.name, raw, self.config_type)?);
        }
        if let Some(validator) = &self.validator
            && !self.is_required()
        {
            validator.ensure_valid(&self.name, self.default())?;
        }
        Ok(self)
    }
}

/// The result of validating one key, Java's `ConfigValue`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValue {
    /// The key.
    pub name: String,
    /// The parsed value, or the default; `None` for null or unparseable.
    pub value: Option<TypedValue>,
    /// Values a recommender suggests.
    pub recommended_values: Vec<TypedValue>,
    /// Error messages, in the order found.
    pub errors: Vec<String>,
    /// Whether the key is relevant given the other values.
    pub visible: bool,
}

impl ConfigValue {
    /// A value with no errors, visible.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: None,
            recommended_values: Vec::new(),
            errors: Vec::new(),
            visible: true,
        }
    }

    /// Records an error.
    pub fn add_error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }
}

/// A configuration parsed by [`ConfigDef::parse`]: every defined key with its value or default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedConfig {
    values: IndexMap<String, Option<TypedValue>>,
}

macro_rules! parsed_getter {
    ($($(#[$doc:meta])* $fn:ident -> $ret:ty, $pat:pat => $out:expr;)*) => {
        $(
            $(#[$doc])*
            /// `None` when the key is undefined, null, or of another type.
            pub fn $fn(&self, name: &str) -> Option<$ret> {
                match self.get(name) {
                    Some($pat) => Some($out),
                    _ => None,
                }
            }
        )*
    };
}

impl ParsedConfig {
    /// The value of `name`; `None` when undefined or null.
    pub fn get(&self, name: &str) -> Option<&TypedValue> {
        self.values.get(name).and_then(Option::as_ref)
    }

    /// Every key with its value, in definition order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&TypedValue>)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_ref()))
    }

    parsed_getter! {
        /// A `BOOLEAN` value.
        get_bool -> bool, TypedValue::Boolean(v) => *v;
        /// A `STRING` or `CLASS` value.
        get_string -> &str, TypedValue::String(v) | TypedValue::Class(v) => v.as_str();
        /// An `INT` value.
        get_int -> i32, TypedValue::Int(v) => *v;
        /// A `SHORT` value.
        get_short -> i16, TypedValue::Short(v) => *v;
        /// A `LONG` value.
        get_long -> i64, TypedValue::Long(v) => *v;
        /// A `DOUBLE` value.
        get_double -> f64, TypedValue::Double(v) => *v;
        /// A `LIST` value.
        get_list -> &[String], TypedValue::List(v) => v.as_slice();
        /// A `PASSWORD` value.
        get_password -> &super::Password, TypedValue::Password(v) => v;
    }
}

/// The definition of a configuration, Java's `ConfigDef`: keys in definition order and the
/// groups they belong to, in order of first use.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance};
/// let def = ConfigDef::new()
///     .define(ConfigKey::new("topic", ConfigType::String).importance(Importance::High))
///     .define(ConfigKey::new("batch.size", ConfigType::Int).default_value("2000"));
/// let props = HashMap::from([("topic".to_owned(), " lines ".to_owned())]);
/// let parsed = def.parse(&props).unwrap();
/// assert_eq!(parsed.get_string("topic"), Some("lines"));
/// assert_eq!(parsed.get_int("batch.size"), Some(2000));
/// let err = def.parse(&HashMap::new()).unwrap_err();
/// assert_eq!(err.to_string(), "Missing required configuration \"topic\" which has no default value.");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConfigDef {
    keys: IndexMap<String, ConfigKey>,
    groups: Vec<String>,
}

impl ConfigDef {
    /// An empty definition.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    ///
    /// # Panics
    /// When the key is already defined or its default is invalid: both are mistakes in the
    /// definition itself, which Java reports by throwing at class initialisation. Use
    /// [`ConfigDef::try_define`] for definitions built at run time.
    pub fn define(self, key: ConfigKey) -> Self {
        match self.try_define(key) {
            Ok(def) => def,
            Err(e) => panic!("invalid ConfigDef: {e}"),
        }
    }

    /// Adds a key.
    ///
    /// # Errors
    /// `Configuration NAME is defined twice.`, or the error of parsing or validating the default.
    pub fn try_define(mut self, key: ConfigKey) -> Result<Self, ConfigError> {
        if self.keys.contains_key(&key.name) {
            return Err(ConfigError::for_key(
                &key.name,
                format!("Configuration {} is defined twice.", key.name),
            ));
        }
        let key = key.resolve_default()?;
        if let Some(group) = &key.group
            && !self.groups.contains(group)
        {
            self.groups.push(group.clone());
        }
        self.keys.insert(key.name.clone(), key);
        Ok(self)
    }

    /// Adds every key of `other` that is not defined here yet, Java's copy-and-define pattern
    /// (`new ConfigDef(base).define(...)`).
    pub fn merge(mut self, other: &ConfigDef) -> Self {
        for key in other.keys.values() {
            if !self.keys.contains_key(&key.name) {
                if let Some(group) = &key.group
                    && !self.groups.contains(group)
                {
                    self.groups.push(group.clone());
                }
                self.keys.insert(key.name.clone(), key.clone());
            }
        }
        self
    }

    /// Adds the keys of `child` under `key_prefix`, in group `group_prefix` (`: child group`
    /// appended when the child key has one), ordered from `starting_order`: Java's
    /// `ConfigDef.embed`, used to describe a transformation's keys as `transforms.NAME.*`.
    pub fn embed(
        mut self,
        key_prefix: &str,
        group_prefix: &str,
        starting_order: i32,
        child: &ConfigDef,
    ) -> Self {
        for (order, key) in (starting_order..).zip(child.keys.values()) {
            let mut embedded = key.clone();
            embedded.name = format!("{key_prefix}{}", key.name);
            embedded.group = Some(match &key.group {
                Some(group) => format!("{group_prefix}: {group}"),
                None => group_prefix.to_owned(),
            });
            embedded.order_in_group = order;
            embedded.dependents = key
                .dependents
                .iter()
                .map(|d| format!("{key_prefix}{d}"))
                .collect();
            embedded.validator = key.validator.clone().map(|inner| {
                Arc::new(Embedded {
                    prefix: key_prefix.to_owned(),
                    inner,
                }) as Arc<dyn Validator>
            });
            embedded.recommender = key.recommender.clone().map(|inner| {
                Arc::new(Embedded {
                    prefix: key_prefix.to_owned(),
                    inner,
                }) as Arc<dyn Recommender>
            });
            if let Some(group) = &embedded.group
                && !self.groups.contains(group)
            {
                self.groups.push(group.clone());
            }
            self.keys.insert(embedded.name.clone(), embedded);
        }
        self
    }

    /// The keys, in definition order.
    pub fn keys(&self) -> impl Iterator<Item = &ConfigKey> {
        self.keys.values()
    }

    /// The key named `name`.
    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.get(name)
    }

    /// The groups, in order of first use.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    fn undefined_dependents(&self) -> Vec<String> {
        let mut undefined: Vec<String> = Vec::new();
        for dependent in self.keys.values().flat_map(|k| &k.dependents) {
            if !self.keys.contains_key(dependent) && !undefined.contains(dependent) {
                undefined.push(dependent.clone());
            }
        }
        undefined
    }

    /// Parses and validates `props`: every defined key gets its value, parsed with Java's rules,
    /// or its default; keys not defined are ignored.
    ///
    /// # Errors
    /// The first [`ConfigError`] in definition order: a value that does not parse or validate,
    /// or a missing required key.
    pub fn parse(&self, props: &HashMap<String, String>) -> Result<ParsedConfig, ConfigError> {
        let undefined = self.undefined_dependents();
        if !undefined.is_empty() {
            return Err(ConfigError::new(format!(
                "Some configurations in are referred in the dependents, but not defined: {}",
                undefined.join(",")
            )));
        }
        let mut values = IndexMap::with_capacity(self.keys.len());
        for key in self.keys.values() {
            let value = match props.get(&key.name) {
                Some(raw) => Some(parse_type(&key.name, raw, key.config_type)?),
                None if key.is_required() => return Err(missing(key)),
                None => key.default().cloned(),
            };
            if let Some(validator) = &key.validator {
                validator.ensure_valid(&key.name, value.as_ref())?;
            }
            values.insert(key.name.clone(), value);
        }
        Ok(ParsedConfig { values })
    }

    /// Validates `props` key by key, collecting every error instead of stopping at the first,
    /// and asking recommenders for values and visibility: Java's `ConfigDef.validate`. Results
    /// come in definition order, then keys named as dependents but not defined.
    pub fn validate(&self, props: &HashMap<String, String>) -> Vec<ConfigValue> {
        self.validate_all(props).into_values().collect()
    }

    /// [`ConfigDef::validate`] keyed by name.
    pub fn validate_all(&self, props: &HashMap<String, String>) -> IndexMap<String, ConfigValue> {
        let mut results: IndexMap<String, ConfigValue> = self
            .keys
            .keys()
            .map(|name| (name.clone(), ConfigValue::new(name.as_str())))
            .collect();
        for name in self.undefined_dependents() {
            let mut value = ConfigValue::new(name.as_str());
            value.add_error(format!(
                "{name} is referred in the dependents, but not defined."
            ));
            value.visible = false;
            results.insert(name, value);
        }
        let roots = self.keys_without_parent();
        let mut parsed = ParsedValues::new();
        for name in &roots {
            self.parse_for_validate(name, props, &mut parsed, &mut results, &mut HashSet::new());
        }
        for name in &roots {
            self.recommend(name, &parsed, &mut results, &mut HashSet::new());
        }
        results
    }

    fn keys_without_parent(&self) -> Vec<String> {
        let children: HashSet<&String> = self.keys.values().flat_map(|k| &k.dependents).collect();
        self.keys
            .keys()
            .filter(|k| !children.contains(k))
            .cloned()
            .collect()
    }

    fn parse_for_validate(
        &self,
        name: &str,
        props: &HashMap<String, String>,
        parsed: &mut ParsedValues,
        results: &mut IndexMap<String, ConfigValue>,
        visiting: &mut HashSet<String>,
    ) {
        let (Some(key), Some(result)) = (self.keys.get(name), results.get_mut(name)) else {
            return;
        };
        if !visiting.insert(name.to_owned()) {
            return;
        }
        let value = match props.get(name) {
            Some(raw) => parse_type(name, raw, key.config_type)
                .map_err(|e| result.add_error(e.to_string()))
                .ok(),
            None if key.is_required() => {
                result.add_error(missing(key).to_string());
                None
            }
            None => key.default().cloned(),
        };
        if let Some(validator) = &key.validator
            && let Err(e) = validator.ensure_valid(name, value.as_ref())
        {
            result.add_error(e.to_string());
        }
        result.value = value.clone();
        parsed.insert(name.to_owned(), value);
        for dependent in &key.dependents {
            self.parse_for_validate(dependent, props, parsed, results, visiting);
        }
    }

    fn recommend(
        &self,
        name: &str,
        parsed: &ParsedValues,
        results: &mut IndexMap<String, ConfigValue>,
        visiting: &mut HashSet<String>,
    ) {
        let (Some(key), Some(result)) = (self.keys.get(name), results.get_mut(name)) else {
            return;
        };
        if !visiting.insert(name.to_owned()) {
            return;
        }
        if let Some(recommender) = &key.recommender {
            let outcome = recommender
                .valid_values(name, parsed)
                .and_then(|mut values| {
                    if !result.recommended_values.is_empty() {
                        values.retain(|v| result.recommended_values.contains(v));
                    }
                    Ok((values, recommender.visible(name, parsed)?))
                });
            match outcome {
                Ok((values, visible)) => {
                    result.recommended_values = values;
                    result.visible = visible;
                }
                Err(e) => result.add_error(e.to_string()),
            }
        }
        for dependent in &key.dependents {
            self.recommend(dependent, parsed, results, visiting);
        }
    }
}

/// A validator or recommender of an embedded key: it sees names without the embedding prefix,
/// as Java's `embeddedValidator`/`embeddedRecommender` do, so messages name the child's key.
#[derive(Debug)]
struct Embedded<T: ?Sized> {
    prefix: String,
    inner: Arc<T>,
}

impl<T: ?Sized> Embedded<T> {
    fn unprefixed<'a>(&self, name: &'a str) -> &'a str {
        name.strip_prefix(self.prefix.as_str()).unwrap_or(name)
    }

    fn unprefixed_values(&self, parsed: &ParsedValues) -> ParsedValues {
        parsed
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(self.prefix.as_str())
                    .map(|k| (k.to_owned(), v.clone()))
            })
            .collect()
    }
}

impl fmt::Display for Embedded<dyn Validator> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Validator for Embedded<dyn Validator> {
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError> {
        self.inner.ensure_valid(self.unprefixed(name), value)
    }
}

impl Recommender for Embedded<dyn Recommender> {
    fn valid_values(
        &self,
        name: &str,
        parsed: &ParsedValues,
    ) -> Result<Vec<TypedValue>, ConfigError> {
        self.inner
            .valid_values(self.unprefixed(name), &self.unprefixed_values(parsed))
    }

    fn visible(&self, name: &str, parsed: &ParsedValues) -> Result<bool, ConfigError> {
        self.inner
            .visible(self.unprefixed(name), &self.unprefixed_values(parsed))
    }
}

fn missing(key: &ConfigKey) -> ConfigError {
    ConfigError::for_key(
        &key.name,
        format!(
            "Missing required configuration \"{}\" which has no default value.",
            key.name
        ),
    )
}
