//! The plugin registry: connectors, converters, header converters, transformations and
//! predicates registered under their Java class names, found by class name or alias, and listed
//! in the JSON of `GET /connector-plugins`.
//!
//! Aliases follow Java's `PluginUtils`: a plugin is also known by its simple class name and by
//! that name with its type's suffix removed (`Connector` for connectors, `Converter`,
//! `HeaderConverter`, `Transformation`, `Predicate` for the others), e.g.
//! `org.apache.kafka.connect.mirror.MirrorSourceConnector`, `MirrorSourceConnector`,
//! `MirrorSource`. An alias shared by plugins of different classes is dropped.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::connector::{SinkConnector, SourceConnector};
use crate::convert::{Converter, HeaderConverter};
use crate::record::{SinkRecord, SourceRecord};
use crate::transform::{Predicate, Transformation};

/// What a plugin is, Java's `PluginType`; serialized lower-case as in the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginType {
    /// A source connector.
    Source,
    /// A sink connector.
    Sink,
    /// A converter.
    Converter,
    /// A header converter.
    HeaderConverter,
    /// A transformation.
    Transformation,
    /// A predicate.
    Predicate,
}

impl PluginType {
    /// The name the REST API shows: `source`, `sink`, `converter`, `header_converter`,
    /// `transformation`, `predicate`.
    pub fn name(self) -> &'static str {
        match self {
            PluginType::Source => "source",
            PluginType::Sink => "sink",
            PluginType::Converter => "converter",
            PluginType::HeaderConverter => "header_converter",
            PluginType::Transformation => "transformation",
            PluginType::Predicate => "predicate",
        }
    }

    /// The suffix removed from the simple class name to form the short alias.
    fn alias_suffix(self) -> &'static str {
        match self {
            PluginType::Source | PluginType::Sink => "Connector",
            PluginType::Converter => "Converter",
            PluginType::HeaderConverter => "HeaderConverter",
            PluginType::Transformation => "Transformation",
            PluginType::Predicate => "Predicate",
        }
    }

    /// The order `GET /connector-plugins?connectorsOnly=false` lists the types in.
    fn listing_rank(self) -> u8 {
        match self {
            PluginType::Sink => 0,
            PluginType::Source => 1,
            PluginType::Transformation => 2,
            PluginType::Predicate => 3,
            PluginType::Converter => 4,
            PluginType::HeaderConverter => 5,
        }
    }
}

impl fmt::Display for PluginType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Version Java reports for plugins that do not declare one; the REST API then omits it.
pub const UNDEFINED_VERSION: &str = "undefined";

/// One entry of `GET /connector-plugins`: `{"class", "type", "version"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// The Java class name.
    #[serde(rename = "class")]
    pub class_name: String,
    /// The plugin type.
    #[serde(rename = "type")]
    pub plugin_type: PluginType,
    /// The version; omitted when undefined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Creates a source connector.
pub type SourceConnectorFactory = Arc<dyn Fn() -> Box<dyn SourceConnector> + Send + Sync>;
/// Creates a sink connector.
pub type SinkConnectorFactory = Arc<dyn Fn() -> Box<dyn SinkConnector> + Send + Sync>;
/// Creates a converter.
pub type ConverterFactory = Arc<dyn Fn() -> Box<dyn Converter> + Send + Sync>;
/// Creates a header converter.
pub type HeaderConverterFactory = Arc<dyn Fn() -> Box<dyn HeaderConverter> + Send + Sync>;
/// Creates a transformation for records of type `R`.
pub type TransformationFactory<R> = Arc<dyn Fn() -> Box<dyn Transformation<R>> + Send + Sync>;
/// Creates a predicate for records of type `R`.
pub type PredicateFactory<R> = Arc<dyn Fn() -> Box<dyn Predicate<R>> + Send + Sync>;

/// A created connector of either kind.
#[derive(Debug)]
pub enum ConnectorPlugin {
    /// A source connector.
    Source(Box<dyn SourceConnector>),
    /// A sink connector.
    Sink(Box<dyn SinkConnector>),
}

#[derive(Clone)]
enum Factory {
    Source(SourceConnectorFactory),
    Sink(SinkConnectorFactory),
    Converter(ConverterFactory),
    HeaderConverter(HeaderConverterFactory),
    Transformation(
        TransformationFactory<SourceRecord>,
        TransformationFactory<SinkRecord>,
    ),
    Predicate(PredicateFactory<SourceRecord>, PredicateFactory<SinkRecord>),
}

impl Factory {
    fn plugin_type(&self) -> PluginType {
        match self {
            Factory::Source(_) => PluginType::Source,
            Factory::Sink(_) => PluginType::Sink,
            Factory::Converter(_) => PluginType::Converter,
            Factory::HeaderConverter(_) => PluginType::HeaderConverter,
            Factory::Transformation(..) => PluginType::Transformation,
            Factory::Predicate(..) => PluginType::Predicate,
        }
    }
}

#[derive(Clone)]
struct Registration {
    class_name: String,
    version: String,
    factory: Factory,
}

/// Registered plugins by Java class name and alias.
///
/// ```
/// use ferry_connect::plugin::{PluginRegistry, PluginType};
/// # use ferry_connect::{async_trait, Result};
/// # use ferry_connect::config::ConfigDef;
/// # use ferry_connect::connector::*;
/// # #[derive(Debug)] struct Mirror;
/// # #[async_trait] impl Connector for Mirror {
/// #     fn version(&self) -> String { "1.0".into() }
/// #     async fn start(&mut self, _: ConfigMap) -> Result<()> { Ok(()) }
/// #     async fn task_configs(&mut self, _: usize) -> Result<Vec<ConfigMap>> { Ok(vec![]) }
/// #     async fn stop(&mut self) -> Result<()> { Ok(()) }
/// #     fn config(&self) -> ConfigDef { ConfigDef::new() }
/// # }
/// # impl SourceConnector for Mirror { fn create_task(&self) -> Box<dyn SourceTask> { unimplemented!() } }
/// let mut registry = PluginRegistry::new();
/// registry.register_source_connector(
///     "org.apache.kafka.connect.mirror.MirrorSourceConnector", "1.0", || Box::new(Mirror));
/// for name in ["org.apache.kafka.connect.mirror.MirrorSourceConnector", "MirrorSourceConnector", "MirrorSource"] {
///     assert!(registry.source_connector(name).is_some());
/// }
/// assert_eq!(
///     serde_json::to_string(&registry.connector_plugins()).unwrap(),
///     r#"[{"class":"org.apache.kafka.connect.mirror.MirrorSourceConnector","type":"source","version":"1.0"}]"#
/// );
/// ```
#[derive(Clone, Default)]
pub struct PluginRegistry {
    plugins: Vec<Registration>,
    aliases: HashMap<String, String>,
}

impl fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.plugins
                    .iter()
                    .map(|p| (&p.class_name, p.factory.plugin_type())),
            )
            .finish()
    }
}

fn simple_name(class_name: &str) -> &str {
    class_name.rsplit(['.', '$']).next().unwrap_or(class_name)
}

/// Java's `PluginUtils.prunedName`: the simple name cut at the last occurrence of the suffix,
/// unless that occurrence starts the name.
fn pruned_name(class_name: &str, plugin_type: PluginType) -> &str {
    let simple = simple_name(class_name);
    match simple.rfind(plugin_type.alias_suffix()) {
        Some(pos) if pos > 0 => &simple[..pos],
        _ => simple,
    }
}

impl PluginRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn register(&mut self, class_name: &str, version: &str, factory: Factory) {
        let plugin_type = factory.plugin_type();
        self.plugins
            .retain(|p| !(p.class_name == class_name && p.factory.plugin_type() == plugin_type));
        self.plugins.push(Registration {
            class_name: class_name.to_owned(),
            version: version.to_owned(),
            factory,
        });
        self.aliases = self.compute_aliases();
    }

    fn compute_aliases(&self) -> HashMap<String, String> {
        let mut candidates: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for p in &self.plugins {
            let class = p.class_name.as_str();
            candidates
                .entry(simple_name(class))
                .or_default()
                .insert(class);
            candidates
                .entry(pruned_name(class, p.factory.plugin_type()))
                .or_default()
                .insert(class);
        }
        candidates
            .into_iter()
            .filter_map(|(alias, classes)| {
                let mut classes = classes.into_iter();
                match (classes.next(), classes.next()) {
                    (Some(class), None) => Some((alias.to_owned(), class.to_owned())),
                    _ => None,
                }
            })
            .collect()
    }

    /// Registers a source connector.
    pub fn register_source_connector(
        &mut self,
        class_name: &str,
        version: &str,
        factory: impl Fn() -> Box<dyn SourceConnector> + Send + Sync + 'static,
    ) {
        self.register(class_name, version, Factory::Source(Arc::new(factory)));
    }

    /// Registers a sink connector.
    pub fn register_sink_connector(
        &mut self,
        class_name: &str,
        version: &str,
        factory: impl Fn() -> Box<dyn SinkConnector> + Send + Sync + 'static,
    ) {
        self.register(class_name, version, Factory::Sink(Arc::new(factory)));
    }

    /// Registers a converter.
    pub fn register_converter(
        &mut self,
        class_name: &str,
        version: &str,
        factory: impl Fn() -> Box<dyn Converter> + Send + Sync + 'static,
    ) {
        self.register(class_name, version, Factory::Converter(Arc::new(factory)));
    }

    /// Registers a header converter.
    pub fn register_header_converter(
        &mut self,
        class_name: &str,
        version: &str,
        factory: impl Fn() -> Box<dyn HeaderConverter> + Send + Sync + 'static,
    ) {
        self.register(
            class_name,
            version,
            Factory::HeaderConverter(Arc::new(factory)),
        );
    }

    /// Registers a transformation with a factory for each record type.
    pub fn register_transformation(
        &mut self,
        class_name: &str,
        version: &str,
        source: impl Fn() -> Box<dyn Transformation<SourceRecord>> + Send + Sync + 'static,
        sink: impl Fn() -> Box<dyn Transformation<SinkRecord>> + Send + Sync + 'static,
    ) {
        self.register(
            class_name,
            version,
            Factory::Transformation(Arc::new(source), Arc::new(sink)),
        );
    }

    /// Registers a predicate with a factory for each record type.
    pub fn register_predicate(
        &mut self,
        class_name: &str,
        version: &str,
        source: impl Fn() -> Box<dyn Predicate<SourceRecord>> + Send + Sync + 'static,
        sink: impl Fn() -> Box<dyn Predicate<SinkRecord>> + Send + Sync + 'static,
    ) {
        self.register(
            class_name,
            version,
            Factory::Predicate(Arc::new(source), Arc::new(sink)),
        );
    }

    /// The Java class name `name` refers to: itself if registered, else the class it is an
    /// alias of.
    pub fn resolve(&self, name: &str) -> Option<&str> {
        if let Some(p) = self.plugins.iter().find(|p| p.class_name == name) {
            return Some(&p.class_name);
        }
        self.aliases.get(name).map(String::as_str)
    }

    fn find(&self, name: &str, plugin_type: PluginType) -> Option<&Registration> {
        let class = self.resolve(name)?;
        self.plugins
            .iter()
            .find(|p| p.class_name == class && p.factory.plugin_type() == plugin_type)
    }

    /// The type of the connector `name` refers to.
    pub fn connector_type(&self, name: &str) -> Option<PluginType> {
        [PluginType::Source, PluginType::Sink]
            .into_iter()
            .find(|t| self.find(name, *t).is_some())
    }

    /// The version of the plugin `name` refers to.
    pub fn version(&self, name: &str, plugin_type: PluginType) -> Option<&str> {
        self.find(name, plugin_type).map(|p| p.version.as_str())
    }

    /// A new source connector.
    pub fn source_connector(&self, name: &str) -> Option<Box<dyn SourceConnector>> {
        match &self.find(name, PluginType::Source)?.factory {
            Factory::Source(f) => Some(f()),
            _ => None,
        }
    }

    /// A new sink connector.
    pub fn sink_connector(&self, name: &str) -> Option<Box<dyn SinkConnector>> {
        match &self.find(name, PluginType::Sink)?.factory {
            Factory::Sink(f) => Some(f()),
            _ => None,
        }
    }

    /// A new connector of whichever kind `name` refers to.
    pub fn connector(&self, name: &str) -> Option<ConnectorPlugin> {
        self.source_connector(name)
            .map(ConnectorPlugin::Source)
            .or_else(|| self.sink_connector(name).map(ConnectorPlugin::Sink))
    }

    /// A new converter.
    pub fn converter(&self, name: &str) -> Option<Box<dyn Converter>> {
        match &self.find(name, PluginType::Converter)?.factory {
            Factory::Converter(f) => Some(f()),
            _ => None,
        }
    }

    /// A new header converter.
    pub fn header_converter(&self, name: &str) -> Option<Box<dyn HeaderConverter>> {
        match &self.find(name, PluginType::HeaderConverter)?.factory {
            Factory::HeaderConverter(f) => Some(f()),
            _ => None,
        }
    }

    /// A new transformation for source records.
    pub fn source_transformation(
        &self,
        name: &str,
    ) -> Option<Box<dyn Transformation<SourceRecord>>> {
        match &self.find(name, PluginType::Transformation)?.factory {
            Factory::Transformation(f, _) => Some(f()),
            _ => None,
        }
    }

    /// A new transformation for sink records.
    pub fn sink_transformation(&self, name: &str) -> Option<Box<dyn Transformation<SinkRecord>>> {
        match &self.find(name, PluginType::Transformation)?.factory {
            Factory::Transformation(_, f) => Some(f()),
            _ => None,
        }
    }

    /// A new predicate for source records.
    pub fn source_predicate(&self, name: &str) -> Option<Box<dyn Predicate<SourceRecord>>> {
        match &self.find(name, PluginType::Predicate)?.factory {
            Factory::Predicate(f, _) => Some(f()),
            _ => None,
        }
    }

    /// A new predicate for sink records.
    pub fn sink_predicate(&self, name: &str) -> Option<Box<dyn Predicate<SinkRecord>>> {
        match &self.find(name, PluginType::Predicate)?.factory {
            Factory::Predicate(_, f) => Some(f()),
            _ => None,
        }
    }

    /// Every plugin as `GET /connector-plugins?connectorsOnly=false` lists them: sinks, sources,
    /// transformations, predicates, converters, header converters, each sorted by class name.
    pub fn plugins(&self) -> Vec<PluginInfo> {
        let mut listed: Vec<&Registration> = self.plugins.iter().collect();
        listed.sort_by(|a, b| {
            let rank = |r: &Registration| r.factory.plugin_type().listing_rank();
            rank(a)
                .cmp(&rank(b))
                .then_with(|| a.class_name.cmp(&b.class_name))
        });
        listed
            .into_iter()
            .map(|p| PluginInfo {
                class_name: p.class_name.clone(),
                plugin_type: p.factory.plugin_type(),
                version: (p.version != UNDEFINED_VERSION).then(|| p.version.clone()),
            })
            .collect()
    }

    /// The connectors as `GET /connector-plugins` lists them: sinks, then sources.
    pub fn connector_plugins(&self) -> Vec<PluginInfo> {
        self.plugins()
            .into_iter()
            .filter(|p| matches!(p.plugin_type, PluginType::Source | PluginType::Sink))
            .collect()
    }
}

#[cfg(test)]
#[path = "plugin_tests.rs"]
mod tests;
