//! Transformation chains built from connector configs, predicates with `negate`, Java's
//! configuration errors, and registration in the plugin registry.

use ferry_connect::ConnectError;
use ferry_connect::connector::ConfigMap;
use ferry_connect::data::Value;
use ferry_connect::plugin::{PluginRegistry, PluginType};
use ferry_connect::record::{SinkRecord, SourceRecord};
use ferry_runtime::transforms::{PluginKind, TransformationChain, plugins, register};

fn configs(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn record(topic: &str, value: Option<Value>) -> SourceRecord {
    SourceRecord::new(None, None, topic, None, value)
}

fn chain(pairs: &[(&str, &str)]) -> TransformationChain<SourceRecord> {
    TransformationChain::from_connector_config(&configs(pairs)).unwrap()
}

fn chain_error(pairs: &[(&str, &str)]) -> (Option<String>, String) {
    match TransformationChain::<SourceRecord>::from_connector_config(&configs(pairs)).unwrap_err() {
        ConnectError::Config(e) => (e.key().map(str::to_owned), e.to_string()),
        other => panic!("not a config error: {other}"),
    }
}

const FILTER_TOMBSTONES: &[(&str, &str)] = &[
    ("transforms", "dropTombstones, route"),
    (
        "transforms.dropTombstones.type",
        "org.apache.kafka.connect.transforms.Filter",
    ),
    ("transforms.dropTombstones.predicate", "isTombstone"),
    (
        "transforms.route.type",
        "org.apache.kafka.connect.transforms.RegexRouter",
    ),
    ("transforms.route.regex", "(.*)"),
    ("transforms.route.replacement", "routed-$1"),
    ("transforms.route.predicate", "onLogs"),
    ("transforms.route.negate", "true"),
    ("predicates", "isTombstone,onLogs"),
    (
        "predicates.isTombstone.type",
        "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
    ),
    ("predicates.onLogs.type", "TopicNameMatches"),
    ("predicates.onLogs.pattern", "logs-.*"),
];

#[test]
fn predicates_guard_transformations_and_negate_inverts_them() {
    let mut chain = chain(FILTER_TOMBSTONES);
    assert_eq!(chain.stages().len(), 2);
    assert_eq!(chain.stages()[0].alias(), "dropTombstones");
    assert_eq!(chain.apply(record("orders", None)).unwrap(), None);
    let kept = chain
        .apply(record("orders", Some(Value::from("v"))))
        .unwrap()
        .unwrap();
    assert_eq!(kept.topic, "routed-orders");
    let logs = chain
        .apply(record("logs-app", Some(Value::from("v"))))
        .unwrap()
        .unwrap();
    assert_eq!(logs.topic, "logs-app");
    chain.close();
}

#[test]
fn has_header_key_predicate() {
    let mut chain = chain(&[
        ("transforms", "f"),
        ("transforms.f.type", "Filter"),
        ("transforms.f.predicate", "p"),
        ("predicates", "p"),
        ("predicates.p.type", "HasHeaderKey"),
        ("predicates.p.name", "skip"),
    ]);
    let mut flagged = record("t", Some(Value::Int32(1)));
    flagged.headers.add_boolean("skip", true);
    assert_eq!(chain.apply(flagged).unwrap(), None);
    assert!(
        chain
            .apply(record("t", Some(Value::Int32(1))))
            .unwrap()
            .is_some()
    );
}

#[test]
fn empty_config_is_an_identity_chain() {
    let mut chain = chain(&[]);
    let r = record("t", Some(Value::Int8(1)));
    assert_eq!(chain.apply(r.clone()).unwrap(), Some(r));
}

#[test]
fn configuration_errors_name_the_key() {
    assert_eq!(
        chain_error(&[("transforms", "a")]),
        (
            Some("transforms.a.type".into()),
            "Missing required configuration \"transforms.a.type\" which has no default value."
                .into()
        )
    );
    assert_eq!(
        chain_error(&[("transforms", "a"), ("transforms.a.type", "com.example.Nope")]),
        (
            Some("transforms.a.type".into()),
            "Invalid value com.example.Nope for configuration transforms.a.type: Class com.example.Nope could not be found.".into()
        )
    );
    assert_eq!(
        chain_error(&[("transforms", "a,b,a")]),
        (
            Some("transforms".into()),
            "Invalid value [a, b, a] for configuration transforms: Duplicate alias provided."
                .into()
        )
    );
    assert_eq!(
        chain_error(&[
            ("transforms", "a"),
            ("transforms.a.type", "Filter"),
            ("transforms.a.negate", "true")
        ])
        .1,
        "Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a predicate to be negated."
    );
    assert_eq!(
        chain_error(&[
            ("transforms", "r"),
            ("transforms.r.type", "RegexRouter"),
            ("transforms.r.replacement", "x")
        ]),
        (
            Some("transforms.r.regex".into()),
            "Missing required configuration \"transforms.r.regex\" which has no default value."
                .into()
        )
    );
    assert_eq!(
        chain_error(&[
            ("transforms", "f"),
            ("transforms.f.type", "Filter"),
            ("transforms.f.predicate", "p"),
            ("predicates.p.type", "TopicNameMatches"),
            ("predicates.p.pattern", "("),
        ])
        .0,
        Some("predicates.p.pattern".into())
    );
    assert_eq!(
        chain_error(&[
            ("transforms", "f"),
            ("transforms.f.type", "Filter"),
            ("transforms.f.predicate", "p")
        ])
        .0,
        Some("predicates.p.type".into())
    );
}

#[test]
fn registry_lists_and_creates_every_builtin() {
    let mut registry = PluginRegistry::new();
    register(&mut registry);
    ferry_runtime::converters::register(&mut registry);
    let listed = registry.plugins();
    for plugin in plugins() {
        let plugin_type = match plugin.kind() {
            PluginKind::Transformation => PluginType::Transformation,
            PluginKind::Predicate => PluginType::Predicate,
        };
        assert!(
            listed
                .iter()
                .any(|p| p.class_name == plugin.class_name && p.plugin_type == plugin_type),
            "{} is not listed",
            plugin.class_name
        );
        match plugin.kind() {
            PluginKind::Transformation => {
                assert!(registry.source_transformation(&plugin.class_name).is_some());
                assert!(registry.sink_transformation(&plugin.class_name).is_some());
            }
            PluginKind::Predicate => {
                assert!(registry.source_predicate(&plugin.class_name).is_some());
                assert!(registry.sink_predicate(&plugin.class_name).is_some());
            }
        }
    }
    assert_eq!(plugins().len(), 20 + 6 + 3);
    assert!(listed.iter().any(
        |p| p.class_name == "org.apache.kafka.connect.json.JsonConverter"
            && p.plugin_type == PluginType::HeaderConverter
    ));
    let sink = TransformationChain::<SinkRecord>::from_registry(
        &configs(&[
            ("transforms", "v2k"),
            ("transforms.v2k.type", "ValueToKey"),
            ("transforms.v2k.fields", "a"),
        ]),
        &registry,
    )
    .unwrap();
    assert_eq!(sink.stages().len(), 1);
    let source =
        TransformationChain::<SourceRecord>::from_registry(&configs(FILTER_TOMBSTONES), &registry)
            .unwrap();
    assert_eq!(source.stages().len(), 2);
}

#[test]
fn enrichment_adds_plugin_keys_for_validation() {
    use ferry_connect::config::ConfigDef;
    use ferry_runtime::transforms::enrich_config_def;

    let mut registry = PluginRegistry::new();
    register(&mut registry);
    let props = configs(&[
        ("transforms", "route,bad,neg"),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.replacement", "x"),
        ("transforms.bad.type", "com.example.Missing"),
        ("transforms.neg.type", "Filter"),
        ("transforms.neg.negate", "true"),
        ("predicates", "p"),
        ("predicates.p.type", "TopicNameMatches"),
        ("predicates.p.pattern", "a.*"),
    ]);
    let def = enrich_config_def(ConfigDef::new(), &props, &registry);
    let regex = def.key("transforms.route.regex").unwrap();
    assert_eq!(regex.get_group(), Some("Transforms: route"));
    let route_type = def.key("transforms.route.type").unwrap();
    assert_eq!(
        route_type.get_display_name(),
        "Transformation type for route"
    );
    assert!(def.key("transforms.route.predicate").is_some());
    assert!(def.key("transforms.route.negate").is_some());
    assert!(def.key("predicates.p.pattern").is_some());
    assert_eq!(
        def.key("predicates.p.type").unwrap().get_group(),
        Some("Predicates: p")
    );
    assert!(def.key("transforms.bad.type").is_some());

    let errors = |name: &str| {
        let values = def.validate(&props);
        values
            .into_iter()
            .find(|v| v.name == name)
            .map(|v| v.errors)
            .unwrap_or_default()
    };
    assert_eq!(
        errors("transforms.route.regex"),
        ["Missing required configuration \"transforms.route.regex\" which has no default value."]
    );
    assert_eq!(
        errors("transforms.bad.type"),
        [
            "Invalid value com.example.Missing for configuration transforms.bad.type: Class com.example.Missing could not be found."
        ]
    );
    assert_eq!(
        errors("transforms.neg.type"),
        [
            "Config 'transforms.neg.negate' was provided but there is no config 'transforms.neg.predicate' defining a predicate to be negated."
        ]
    );
    assert!(errors("predicates.p.pattern").is_empty());
}
