//! Java's `ConnectorConfig.enrich`: the connector config definition extended with the keys of
//! each transformation and predicate the config names, so that validation
//! (`PUT /connector-plugins/{type}/config/validate`) reports `transforms.NAME.*` and
//! `predicates.NAME.*` like Java does.

use std::sync::Arc;

use ferry_connect::ConfigError;
use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, LambdaValidator, ParsedValues, Recommender,
    TypedValue, Width, parse_type,
};
use ferry_connect::connector::ConfigMap;
use ferry_connect::plugin::{PluginRegistry, PluginType};

use super::chain::{NEGATE_CONFIG, PREDICATE_CONFIG, PREDICATES_CONFIG, TRANSFORMS_CONFIG};

/// Adds to `base` the keys of every transformation listed in `transforms` and every predicate
/// listed in `predicates` of `props`: `transforms.NAME.type` (with the implicit
/// `transforms.NAME.predicate` and `transforms.NAME.negate`), `predicates.NAME.type`, and each
/// plugin's own keys under its prefix, grouped `Transforms: NAME` / `Predicates: NAME`.
///
/// A plugin whose type is missing or unknown contributes only its `type` key, whose validation
/// then reports the problem, as Java does when it does not require the full config.
///
/// ```
/// use ferry_connect::config::ConfigDef;
/// use ferry_connect::connector::ConfigMap;
/// use ferry_connect::plugin::PluginRegistry;
/// use ferry_runtime::transforms::{enrich_config_def, register};
/// let mut registry = PluginRegistry::new();
/// register(&mut registry);
/// let props: ConfigMap = [("transforms", "route"), ("transforms.route.type", "RegexRouter")]
///     .into_iter()
///     .map(|(k, v)| (k.to_owned(), v.to_owned()))
///     .collect();
/// let def = enrich_config_def(ConfigDef::new(), &props, &registry);
/// assert!(def.key("transforms.route.regex").is_some());
/// assert_eq!(def.key("transforms.route.regex").unwrap().get_group(), Some("Transforms: route"));
/// ```
pub fn enrich_config_def(
    base: ConfigDef,
    props: &ConfigMap,
    registry: &PluginRegistry,
) -> ConfigDef {
    let registry = Arc::new(registry.clone());
    let transforms = Enrichable {
        kind: "transformation",
        type_display: "Transformation",
        alias_config: TRANSFORMS_CONFIG,
        group: "Transforms",
        plugin_type: PluginType::Transformation,
    };
    let predicates = Enrichable {
        kind: "predicate",
        type_display: "Predicate",
        alias_config: PREDICATES_CONFIG,
        group: "Predicates",
        plugin_type: PluginType::Predicate,
    };
    let def = transforms.enrich(base, props, &registry);
    predicates.enrich(def, props, &registry)
}

/// What differs between transformations and predicates in Java's `EnrichablePlugin`.
struct Enrichable {
    kind: &'static str,
    type_display: &'static str,
    alias_config: &'static str,
    group: &'static str,
    plugin_type: PluginType,
}

impl Enrichable {
    fn enrich(
        &self,
        mut def: ConfigDef,
        props: &ConfigMap,
        registry: &Arc<PluginRegistry>,
    ) -> ConfigDef {
        let Some(raw) = props.get(self.alias_config) else {
            return def;
        };
        let Ok(TypedValue::List(aliases)) = parse_type(self.alias_config, raw, ConfigType::List)
        else {
            return def;
        };
        let mut seen = Vec::new();
        for alias in aliases {
            if seen.contains(&alias) {
                continue;
            }
            seen.push(alias.clone());
            let prefix = format!("{}.{alias}.", self.alias_config);
            let group = format!("{}: {alias}", self.group);
            let type_key = format!("{prefix}type");
            def = def.define(
                ConfigKey::new(type_key.clone(), ConfigType::Class)
                    .validator(self.type_validator(&alias, &prefix, props, registry))
                    .importance(Importance::High)
                    .documentation(format!("Class for the '{alias}' {}.", self.kind))
                    .group(group.clone())
                    .order(0)
                    .width(Width::Long)
                    .display_name(format!("{} type for {alias}", self.type_display))
                    .recommender(PluginRecommender {
                        registry: Arc::clone(registry),
                        plugin_type: self.plugin_type,
                    }),
            );
            let Some(class) = props.get(&type_key) else {
                continue;
            };
            let Some(plugin_def) = self.plugin_config(registry, class.trim()) else {
                continue;
            };
            def = def.embed(&prefix, &group, 1, &self.with_implicit_keys(&plugin_def));
        }
        def
    }

    fn plugin_config(&self, registry: &PluginRegistry, class: &str) -> Option<ConfigDef> {
        match self.plugin_type {
            PluginType::Predicate => registry.source_predicate(class).map(|p| p.config()),
            _ => registry.source_transformation(class).map(|t| t.config()),
        }
    }

    /// Transformations implicitly take `predicate` and `negate`, which mask keys of the same name.
    fn with_implicit_keys(&self, plugin_def: &ConfigDef) -> ConfigDef {
        if self.plugin_type != PluginType::Transformation {
            return plugin_def.clone();
        }
        let mut def = ConfigDef::new()
            .define(
                ConfigKey::new(PREDICATE_CONFIG, ConfigType::String)
                    .default_null()
                    .importance(Importance::Medium)
                    .documentation("The alias of a predicate used to determine whether to apply this transformation."),
            )
            .define(
                ConfigKey::new(NEGATE_CONFIG, ConfigType::Boolean)
                    .default_value("false")
                    .importance(Importance::Medium)
                    .documentation("Whether the configured predicate should be negated."),
            );
        for key in plugin_def.keys() {
            if key.name() != PREDICATE_CONFIG && key.name() != NEGATE_CONFIG {
                def = def.define(key.clone());
            }
        }
        def
    }

    /// Checks that the class exists and, for transformations, that `negate` comes with a
    /// `predicate`.
    fn type_validator(
        &self,
        alias: &str,
        prefix: &str,
        props: &ConfigMap,
        registry: &Arc<PluginRegistry>,
    ) -> LambdaValidator {
        let negate_without_predicate = self.plugin_type == PluginType::Transformation
            && props.contains_key(&format!("{prefix}{NEGATE_CONFIG}"))
            && !props.contains_key(&format!("{prefix}{PREDICATE_CONFIG}"));
        let negate_error = format!(
            "Config '{prefix}{NEGATE_CONFIG}' was provided but there is no config \
             '{prefix}{PREDICATE_CONFIG}' defining a predicate to be negated."
        );
        let registry = Arc::clone(registry);
        let plugin_type = self.plugin_type;
        LambdaValidator::new(
            format!("valid configs for {alias} {}", self.kind),
            move |name: &str, value: Option<&TypedValue>| {
                if negate_without_predicate {
                    return Err(ConfigError::new(negate_error.clone()));
                }
                let Some(class) = value.and_then(TypedValue::as_str) else {
                    return Ok(());
                };
                let known = match plugin_type {
                    PluginType::Predicate => registry.source_predicate(class).is_some(),
                    _ => registry.source_transformation(class).is_some(),
                };
                if known {
                    Ok(())
                } else {
                    let reason = format!("Class {class} could not be found.");
                    Err(ConfigError::invalid(name, class, Some(&reason)))
                }
            },
        )
    }
}

/// Java's `ClassRecommender`: every registered plugin of the kind.
#[derive(Debug)]
struct PluginRecommender {
    registry: Arc<PluginRegistry>,
    plugin_type: PluginType,
}

impl Recommender for PluginRecommender {
    fn valid_values(
        &self,
        _name: &str,
        _parsed: &ParsedValues,
    ) -> Result<Vec<TypedValue>, ConfigError> {
        Ok(self
            .registry
            .plugins()
            .into_iter()
            .filter(|p| p.plugin_type == self.plugin_type)
            .map(|p| TypedValue::Class(p.class_name))
            .collect())
    }

    fn visible(&self, _name: &str, _parsed: &ParsedValues) -> Result<bool, ConfigError> {
        Ok(true)
    }
}
