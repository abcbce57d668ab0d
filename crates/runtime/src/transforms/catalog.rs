//! The built-in transformations and predicates by Java class name, and their registration in
//! the plugin registry.

use ferry_connect::plugin::PluginRegistry;
use ferry_connect::record::{ConnectRecord, SinkRecord, SourceRecord};
use ferry_connect::transform::{Predicate, Transformation};

use super::predicates::{HasHeaderKey, RecordIsTombstone, TopicNameMatches};
use super::{
    Cast, DropHeaders, ExtractField, Filter, Flatten, HeaderFrom, HoistField, InsertField,
    InsertHeader, MaskField, RegexRouter, ReplaceField, SetSchemaMetadata, Side,
    TimestampConverter, TimestampRouter, ValueToKey,
};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const PACKAGE: &str = "org.apache.kafka.connect.transforms";

/// Whether a plugin is a transformation or a predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// A [`Transformation`].
    Transformation,
    /// A [`Predicate`].
    Predicate,
}

/// Which built-in transformation a [`TransformPlugin`] creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransformationKind {
    Cast(Side),
    DropHeaders,
    ExtractField(Side),
    Filter,
    Flatten(Side),
    HeaderFrom(Side),
    HoistField(Side),
    InsertField(Side),
    InsertHeader,
    MaskField(Side),
    RegexRouter,
    ReplaceField(Side),
    SetSchemaMetadata(Side),
    TimestampConverter(Side),
    TimestampRouter,
    ValueToKey,
}

impl TransformationKind {
    fn create<R: ConnectRecord>(self) -> Box<dyn Transformation<R>> {
        match self {
            Self::Cast(side) => Box::new(Cast::new(side)),
            Self::DropHeaders => Box::new(DropHeaders::default()),
            Self::ExtractField(side) => Box::new(ExtractField::new(side)),
            Self::Filter => Box::new(Filter),
            Self::Flatten(side) => Box::new(Flatten::new(side)),
            Self::HeaderFrom(side) => Box::new(HeaderFrom::new(side)),
            Self::HoistField(side) => Box::new(HoistField::new(side)),
            Self::InsertField(side) => Box::new(InsertField::new(side)),
            Self::InsertHeader => Box::new(InsertHeader::default()),
            Self::MaskField(side) => Box::new(MaskField::new(side)),
            Self::RegexRouter => Box::new(RegexRouter::default()),
            Self::ReplaceField(side) => Box::new(ReplaceField::new(side)),
            Self::SetSchemaMetadata(side) => Box::new(SetSchemaMetadata::new(side)),
            Self::TimestampConverter(side) => Box::new(TimestampConverter::new(side)),
            Self::TimestampRouter => Box::new(TimestampRouter::default()),
            Self::ValueToKey => Box::new(ValueToKey::default()),
        }
    }
}

/// Which built-in predicate a [`TransformPlugin`] creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PredicateKind {
    HasHeaderKey,
    RecordIsTombstone,
    TopicNameMatches,
}

impl PredicateKind {
    fn create<R: ConnectRecord>(self) -> Box<dyn Predicate<R>> {
        match self {
            Self::HasHeaderKey => Box::new(HasHeaderKey::default()),
            Self::RecordIsTombstone => Box::new(RecordIsTombstone),
            Self::TopicNameMatches => Box::new(TopicNameMatches::default()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    Transformation(TransformationKind),
    Predicate(PredicateKind),
}

/// One built-in transformation or predicate under its Java class name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformPlugin {
    /// The Java class name, e.g. `org.apache.kafka.connect.transforms.InsertField$Value`.
    pub class_name: String,
    builtin: Builtin,
}

impl TransformPlugin {
    /// Transformation or predicate.
    pub fn kind(&self) -> PluginKind {
        match self.builtin {
            Builtin::Transformation(_) => PluginKind::Transformation,
            Builtin::Predicate(_) => PluginKind::Predicate,
        }
    }

    fn transformation<R: ConnectRecord>(&self) -> Option<Box<dyn Transformation<R>>> {
        match self.builtin {
            Builtin::Transformation(kind) => Some(kind.create()),
            Builtin::Predicate(_) => None,
        }
    }

    fn predicate<R: ConnectRecord>(&self) -> Option<Box<dyn Predicate<R>>> {
        match self.builtin {
            Builtin::Predicate(kind) => Some(kind.create()),
            Builtin::Transformation(_) => None,
        }
    }

    /// Whether `name` is this plugin's class name or simple class name. Nested `$Key`/`$Value`
    /// classes have no alias, as in Java, since their simple names collide.
    fn is_named(&self, name: &str) -> bool {
        if self.class_name == name {
            return true;
        }
        let simple = self.class_name.rsplit('.').next().unwrap_or_default();
        !simple.contains('$') && simple == name
    }
}

/// Every built-in transformation and predicate, with Java's class names.
pub fn plugins() -> Vec<TransformPlugin> {
    use TransformationKind as T;
    type SidedKind = fn(Side) -> TransformationKind;
    let sided: [(&str, SidedKind); 10] = [
        ("Cast", T::Cast),
        ("ExtractField", T::ExtractField),
        ("Flatten", T::Flatten),
        ("HeaderFrom", T::HeaderFrom),
        ("HoistField", T::HoistField),
        ("InsertField", T::InsertField),
        ("MaskField", T::MaskField),
        ("ReplaceField", T::ReplaceField),
        ("SetSchemaMetadata", T::SetSchemaMetadata),
        ("TimestampConverter", T::TimestampConverter),
    ];
    let mut out = Vec::new();
    for (name, make) in sided {
        for side in [Side::Key, Side::Value] {
            out.push(TransformPlugin {
                class_name: format!("{PACKAGE}.{name}{}", side.class_suffix()),
                builtin: Builtin::Transformation(make(side)),
            });
        }
    }
    let single = [
        ("DropHeaders", T::DropHeaders),
        ("Filter", T::Filter),
        ("InsertHeader", T::InsertHeader),
        ("RegexRouter", T::RegexRouter),
        ("TimestampRouter", T::TimestampRouter),
        ("ValueToKey", T::ValueToKey),
    ];
    for (name, kind) in single {
        out.push(TransformPlugin {
            class_name: format!("{PACKAGE}.{name}"),
            builtin: Builtin::Transformation(kind),
        });
    }
    let predicates = [
        ("HasHeaderKey", PredicateKind::HasHeaderKey),
        ("RecordIsTombstone", PredicateKind::RecordIsTombstone),
        ("TopicNameMatches", PredicateKind::TopicNameMatches),
    ];
    for (name, kind) in predicates {
        out.push(TransformPlugin {
            class_name: format!("{PACKAGE}.predicates.{name}"),
            builtin: Builtin::Predicate(kind),
        });
    }
    out
}

/// A new, unconfigured built-in transformation by Java class name or alias.
///
/// ```
/// use ferry_connect::record::SourceRecord;
/// use ferry_runtime::transforms::new_transformation;
/// assert!(new_transformation::<SourceRecord>("org.apache.kafka.connect.transforms.Cast$Value").is_some());
/// assert!(new_transformation::<SourceRecord>("RegexRouter").is_some());
/// assert!(new_transformation::<SourceRecord>("TopicNameMatches").is_none());
/// ```
pub fn new_transformation<R: ConnectRecord>(name: &str) -> Option<Box<dyn Transformation<R>>> {
    plugins()
        .iter()
        .filter(|p| p.is_named(name))
        .find_map(TransformPlugin::transformation)
}

/// A new, unconfigured built-in predicate by Java class name or alias.
pub fn new_predicate<R: ConnectRecord>(name: &str) -> Option<Box<dyn Predicate<R>>> {
    plugins()
        .iter()
        .filter(|p| p.is_named(name))
        .find_map(TransformPlugin::predicate)
}

/// Registers every built-in transformation and predicate in `registry` under its Java class
/// name (the registry derives the aliases).
///
/// ```
/// use ferry_connect::plugin::PluginRegistry;
/// let mut registry = PluginRegistry::new();
/// ferry_runtime::transforms::register(&mut registry);
/// assert!(registry.source_transformation("org.apache.kafka.connect.transforms.Filter").is_some());
/// assert!(registry.sink_predicate("RecordIsTombstone").is_some());
/// ```
pub fn register(registry: &mut PluginRegistry) {
    for plugin in plugins() {
        match plugin.builtin {
            Builtin::Transformation(kind) => registry.register_transformation(
                &plugin.class_name,
                VERSION,
                move || kind.create::<SourceRecord>(),
                move || kind.create::<SinkRecord>(),
            ),
            Builtin::Predicate(kind) => registry.register_predicate(
                &plugin.class_name,
                VERSION,
                move || kind.create::<SourceRecord>(),
                move || kind.create::<SinkRecord>(),
            ),
        }
    }
}
