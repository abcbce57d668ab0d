//! The transformation chain of a connector: Java's `TransformationStage` (a transformation
//! applied only when its predicate, maybe negated, matches) and `ConnectorConfig
//! .transformationStages()` (the chain built from `transforms`, `transforms.NAME.*`, `predicates`
//! and `predicates.NAME.*`).

use std::collections::HashSet;
use std::fmt;

use ferry_connect::config::{ConfigType, TypedValue, parse_type};
use ferry_connect::connector::ConfigMap;
use ferry_connect::plugin::PluginRegistry;
use ferry_connect::record::{ConnectRecord, SinkRecord, SourceRecord};
use ferry_connect::transform::{Predicate, Transformation};
use ferry_connect::{ConfigError, ConnectError, Result};

use super::catalog::{new_predicate, new_transformation};

/// `transforms`: the aliases of the connector's transformations, in order.
pub const TRANSFORMS_CONFIG: &str = "transforms";
/// `predicates`: the aliases of the predicates the transformations use.
pub const PREDICATES_CONFIG: &str = "predicates";
/// `transforms.NAME.predicate`: the alias of the predicate that guards a transformation.
pub const PREDICATE_CONFIG: &str = "predicate";
/// `transforms.NAME.negate`: apply the transformation when the predicate does *not* match.
pub const NEGATE_CONFIG: &str = "negate";

/// A transformation applied only to records its predicate (possibly negated) matches; without a
/// predicate it applies to every record. Java's `TransformationStage`.
pub struct PredicatedTransformation<R: ConnectRecord> {
    alias: String,
    transformation: Box<dyn Transformation<R>>,
    predicate: Option<Box<dyn Predicate<R>>>,
    negate: bool,
}

impl<R: ConnectRecord> fmt::Debug for PredicatedTransformation<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PredicatedTransformation")
            .field("alias", &self.alias)
            .field("transformation", &self.transformation)
            .field("predicate", &self.predicate)
            .field("negate", &self.negate)
            .finish()
    }
}

impl<R: ConnectRecord> PredicatedTransformation<R> {
    /// A stage named `alias`; `predicate` with `negate` decides which records it transforms.
    pub fn new(
        alias: impl Into<String>,
        transformation: Box<dyn Transformation<R>>,
        predicate: Option<Box<dyn Predicate<R>>>,
        negate: bool,
    ) -> Self {
        Self {
            alias: alias.into(),
            transformation,
            predicate,
            negate,
        }
    }

    /// The alias from `transforms`.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// Transforms `record` if the predicate allows it; otherwise returns it unchanged.
    ///
    /// # Errors
    /// Whatever the transformation reports.
    pub fn apply(&mut self, record: R) -> Result<Option<R>> {
        if let Some(predicate) = &self.predicate
            && predicate.test(&record) == self.negate
        {
            return Ok(Some(record));
        }
        self.transformation.apply(record)
    }

    /// Closes the transformation and the predicate.
    pub fn close(&mut self) {
        self.transformation.close();
        if let Some(predicate) = &mut self.predicate {
            predicate.close();
        }
    }
}

/// The ordered transformations of a connector.
#[derive(Debug)]
pub struct TransformationChain<R: ConnectRecord> {
    stages: Vec<PredicatedTransformation<R>>,
}

impl<R: ConnectRecord> Default for TransformationChain<R> {
    fn default() -> Self {
        Self { stages: Vec::new() }
    }
}

impl<R: ConnectRecord> TransformationChain<R> {
    /// A chain of `stages`.
    pub fn new(stages: Vec<PredicatedTransformation<R>>) -> Self {
        Self { stages }
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[PredicatedTransformation<R>] {
        &self.stages
    }

    /// Runs `record` through every stage; `None` once a stage drops it.
    ///
    /// # Errors
    /// The first error a stage reports.
    pub fn apply(&mut self, record: R) -> Result<Option<R>> {
        let mut current = record;
        for stage in &mut self.stages {
            match stage.apply(current)? {
                Some(next) => current = next,
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    /// Closes every stage.
    pub fn close(&mut self) {
        self.stages
            .iter_mut()
            .for_each(PredicatedTransformation::close);
    }

    /// Builds the chain a connector config describes with Ferry's built-in transformations and
    /// predicates, found by Java class name or alias.
    ///
    /// # Errors
    /// [`ConnectError::Config`] naming the offending key, as Java's `ConnectorConfig` does.
    pub fn from_connector_config(config: &ConfigMap) -> Result<Self> {
        Self::build(config, new_transformation::<R>, new_predicate::<R>)
    }

    /// Builds the chain with `transformation` and `predicate` creating plugins by class name.
    ///
    /// # Errors
    /// [`ConnectError::Config`] naming the offending key, as Java's `ConnectorConfig` does.
    pub fn build(
        config: &ConfigMap,
        transformation: impl Fn(&str) -> Option<Box<dyn Transformation<R>>>,
        predicate: impl Fn(&str) -> Option<Box<dyn Predicate<R>>>,
    ) -> Result<Self> {
        let transforms = aliases(config, TRANSFORMS_CONFIG)?;
        aliases(config, PREDICATES_CONFIG)?;
        let mut stages = Vec::with_capacity(transforms.len());
        for alias in transforms {
            let prefix = format!("{TRANSFORMS_CONFIG}.{alias}.");
            let mut configs = with_prefix(config, &prefix);
            let predicate_alias = configs.remove(PREDICATE_CONFIG);
            let negate = configs.remove(NEGATE_CONFIG);
            if negate.is_some() && predicate_alias.is_none() {
                return Err(ConfigError::new(format!(
                    "Config '{prefix}{NEGATE_CONFIG}' was provided but there is no config \
                     '{prefix}{PREDICATE_CONFIG}' defining a predicate to be negated."
                ))
                .into());
            }
            let negate = match negate {
                None => false,
                Some(value) => match parse_type(
                    &format!("{prefix}{NEGATE_CONFIG}"),
                    &value,
                    ConfigType::Boolean,
                )? {
                    TypedValue::Boolean(b) => b,
                    _ => false,
                },
            };
            let mut stage = create(config, &prefix, &transformation)?;
            stage
                .configure(&configs)
                .map_err(|e| prefixed(e, &prefix))?;
            let guard = match predicate_alias {
                None => None,
                Some(predicate_alias) => {
                    let predicate_prefix = format!("{PREDICATES_CONFIG}.{predicate_alias}.");
                    let mut guard = create(config, &predicate_prefix, &predicate)?;
                    let predicate_configs = with_prefix(config, &predicate_prefix);
                    guard
                        .configure(&predicate_configs)
                        .map_err(|e| prefixed(e, &predicate_prefix))?;
                    Some(guard)
                }
            };
            stages.push(PredicatedTransformation::new(alias, stage, guard, negate));
        }
        Ok(Self { stages })
    }
}

impl TransformationChain<SourceRecord> {
    /// Builds a source connector's chain with the plugins of `registry`.
    ///
    /// # Errors
    /// [`ConnectError::Config`] naming the offending key.
    pub fn from_registry(config: &ConfigMap, registry: &PluginRegistry) -> Result<Self> {
        Self::build(
            config,
            |name| registry.source_transformation(name),
            |name| registry.source_predicate(name),
        )
    }
}

impl TransformationChain<SinkRecord> {
    /// Builds a sink connector's chain with the plugins of `registry`.
    ///
    /// # Errors
    /// [`ConnectError::Config`] naming the offending key.
    pub fn from_registry(config: &ConfigMap, registry: &PluginRegistry) -> Result<Self> {
        Self::build(
            config,
            |name| registry.sink_transformation(name),
            |name| registry.sink_predicate(name),
        )
    }
}

/// The aliases listed under `key`, checked for duplicates like Java's `aliasValidator`.
fn aliases(config: &ConfigMap, key: &str) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = config.get(key) else {
        return Ok(Vec::new());
    };
    let TypedValue::List(aliases) = parse_type(key, raw, ConfigType::List)? else {
        return Ok(Vec::new());
    };
    let unique: HashSet<&String> = aliases.iter().collect();
    if unique.len() < aliases.len() {
        let shown = format!("[{}]", aliases.join(", "));
        return Err(ConfigError::invalid(
            key,
            shown,
            Some("Duplicate alias provided."),
        ));
    }
    Ok(aliases)
}

/// The settings under `prefix` with the prefix removed, Java's `originalsWithPrefix`.
fn with_prefix(config: &ConfigMap, prefix: &str) -> ConfigMap {
    config
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .map(|rest| (rest.to_owned(), v.clone()))
        })
        .collect()
}

/// Instantiates the plugin `PREFIXtype` names.
fn create<T: ?Sized>(
    config: &ConfigMap,
    prefix: &str,
    factory: impl Fn(&str) -> Option<Box<T>>,
) -> Result<Box<T>> {
    let key = format!("{prefix}type");
    let Some(class) = config.get(&key).map(|c| c.trim()) else {
        return Err(ConfigError::for_key(
            &key,
            format!("Missing required configuration \"{key}\" which has no default value."),
        )
        .into());
    };
    factory(class).ok_or_else(|| {
        ConfigError::invalid(
            &key,
            class,
            Some(&format!("Class {class} could not be found.")),
        )
        .into()
    })
}

/// Reports a plugin's configuration error under the connector-level key, as Java's enriched
/// `ConfigDef` validation names `transforms.NAME.KEY`.
fn prefixed(error: ConnectError, prefix: &str) -> ConnectError {
    let ConnectError::Config(config_error) = &error else {
        return error;
    };
    let Some(key) = config_error.key() else {
        return error;
    };
    let full = format!("{prefix}{key}");
    let message = config_error
        .message()
        .replacen(
            &format!("configuration {key}"),
            &format!("configuration {full}"),
            1,
        )
        .replacen(&format!("\"{key}\""), &format!("\"{full}\""), 1);
    ConfigError::for_key(&full, message).into()
}
