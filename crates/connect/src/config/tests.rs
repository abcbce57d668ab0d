use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::error::ConfigError;

fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn file_source_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("file", ConfigType::String)
                .default_null()
                .importance(Importance::High)
                .documentation("Source filename. If not specified, the standard input will be used")
                .group("Common")
                .order(1),
        )
        .define(
            ConfigKey::new("topic", ConfigType::List)
                .validator(NonEmptyString)
                .importance(Importance::High)
                .documentation("The topic to publish data to")
                .group("Common")
                .order(2)
                .width(Width::Long)
                .display_name("Topic"),
        )
        .define(
            ConfigKey::new("batch.size", ConfigType::Int)
                .default_value("2000")
                .validator(Range::at_least(1))
                .importance(Importance::Low)
                .documentation("The maximum number of records the source task can read from the file each time it is polled"),
        )
}

#[test]
fn define_rejects_duplicates_and_invalid_defaults() {
    let def = ConfigDef::new().define(ConfigKey::new("a", ConfigType::Int).default_value("1"));
    let err = def
        .clone()
        .try_define(ConfigKey::new("a", ConfigType::Int))
        .unwrap_err();
    assert_eq!(err.to_string(), "Configuration a is defined twice.");
    let err = def
        .clone()
        .try_define(ConfigKey::new("b", ConfigType::Int).default_value("x"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value x for configuration b: Not a number of type INT"
    );
    let err = def
        .try_define(
            ConfigKey::new("c", ConfigType::Int)
                .default_value("0")
                .validator(Range::at_least(1)),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value 0 for configuration c: Value must be at least 1"
    );
}

#[test]
#[should_panic(expected = "Configuration a is defined twice.")]
fn define_panics_on_programming_errors() {
    let key = ConfigKey::new("a", ConfigType::Int);
    let _ = ConfigDef::new().define(key.clone()).define(key);
}

#[test]
fn parse_applies_defaults_and_reports_the_first_error() {
    let def = file_source_def();
    let parsed = def
        .parse(&props(&[("topic", "a, b"), ("unknown", "x")]))
        .unwrap();
    assert_eq!(parsed.get("file"), None);
    assert_eq!(
        parsed.get_list("topic"),
        Some(&["a".to_owned(), "b".to_owned()][..])
    );
    assert_eq!(parsed.get_int("batch.size"), Some(2000));
    assert_eq!(parsed.iter().count(), 3);

    let err = def.parse(&props(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Missing required configuration \"topic\" which has no default value."
    );
    assert_eq!(err.key(), Some("topic"));
    let err = def
        .parse(&props(&[("topic", "t"), ("batch.size", "0")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value 0 for configuration batch.size: Value must be at least 1"
    );
    let err = def
        .parse(&props(&[("topic", "t"), ("batch.size", "2147483648")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value 2147483648 for configuration batch.size: Not a number of type INT"
    );
}

#[test]
fn parse_refuses_undefined_dependents() {
    let def = ConfigDef::new().define(
        ConfigKey::new("a", ConfigType::String)
            .default_null()
            .dependents(["b"]),
    );
    let err = def.parse(&props(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Some configurations in are referred in the dependents, but not defined: b"
    );
    let values = def.validate(&props(&[]));
    assert_eq!(values[1].name, "b");
    assert_eq!(
        values[1].errors,
        ["b is referred in the dependents, but not defined."]
    );
    assert!(!values[1].visible);
}

#[test]
fn validate_collects_every_error() {
    let def = file_source_def();
    let values = def.validate(&props(&[("batch.size", "-1")]));
    let errors: Vec<_> = values
        .iter()
        .map(|v| (v.name.as_str(), v.errors.clone()))
        .collect();
    assert_eq!(
        errors,
        [
            ("file", vec![]),
            (
                "topic",
                vec![
                    "Missing required configuration \"topic\" which has no default value."
                        .to_owned()
                ]
            ),
            (
                "batch.size",
                vec![
                    "Invalid value -1 for configuration batch.size: Value must be at least 1"
                        .to_owned()
                ]
            ),
        ]
    );
    assert_eq!(values[2].value, Some(TypedValue::Int(-1)));
    let values = def.validate(&props(&[("batch.size", "many"), ("topic", "t")]));
    assert_eq!(values[2].value, None);
    assert_eq!(
        values[2].errors,
        [
            "Invalid value many for configuration batch.size: Not a number of type INT",
            "Invalid value null for configuration batch.size: Value must be non-null"
        ]
    );
}

#[derive(Debug)]
struct ModeRecommender;

impl Recommender for ModeRecommender {
    fn valid_values(&self, _: &str, parsed: &ParsedValues) -> Result<Vec<TypedValue>, ConfigError> {
        match parsed.get("mode") {
            Some(Some(TypedValue::String(m))) if m == "bulk" => Ok(vec![]),
            Some(Some(TypedValue::String(m))) if m == "fail" => {
                Err(ConfigError::new("cannot recommend"))
            }
            _ => Ok(vec![
                TypedValue::String("id".into()),
                TypedValue::String("ts".into()),
            ]),
        }
    }
    fn visible(&self, _: &str, parsed: &ParsedValues) -> Result<bool, ConfigError> {
        Ok(!matches!(parsed.get("mode"), Some(Some(TypedValue::String(m))) if m == "bulk"))
    }
}

fn recommending_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("mode", ConfigType::String)
                .default_value("incrementing")
                .validator(ValidString::of(["bulk", "incrementing", "fail"]))
                .dependents(["column"])
                .group("Mode")
                .order(1),
        )
        .define(
            ConfigKey::new("column", ConfigType::String)
                .default_value("")
                .recommender(ModeRecommender)
                .group("Mode")
                .order(2),
        )
}

#[test]
fn recommenders_see_parsed_parents() {
    let def = recommending_def();
    let values = def.validate_all(&props(&[]));
    assert_eq!(
        values["column"].recommended_values,
        [
            TypedValue::String("id".into()),
            TypedValue::String("ts".into())
        ]
    );
    assert!(values["column"].visible);
    let values = def.validate_all(&props(&[("mode", "bulk")]));
    assert!(values["column"].recommended_values.is_empty());
    assert!(!values["column"].visible);
    let values = def.validate_all(&props(&[("mode", "fail")]));
    assert_eq!(values["column"].errors, ["cannot recommend"]);
}

#[test]
fn validation_json_has_connects_shape() {
    let def = file_source_def().define(
        ConfigKey::new("secret", ConfigType::Password)
            .default_value("x")
            .importance(Importance::Medium),
    );
    let infos = def.validate_to_infos(
        "org.apache.kafka.connect.file.FileStreamSourceConnector",
        &props(&[("secret", "hunter2")]),
    );
    assert_eq!(
        serde_json::to_value(&infos).unwrap(),
        json!({
            "name": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "error_count": 1,
            "groups": ["Common"],
            "configs": [
                {
                    "definition": {
                        "name": "file", "type": "STRING", "required": false, "default_value": null,
                        "importance": "HIGH",
                        "documentation": "Source filename. If not specified, the standard input will be used",
                        "group": "Common", "width": "NONE", "display_name": "file", "dependents": [], "order": 1
                    },
                    "value": {"name": "file", "value": null, "recommended_values": [], "errors": [], "visible": true}
                },
                {
                    "definition": {
                        "name": "topic", "type": "LIST", "required": true, "default_value": null,
                        "importance": "HIGH", "documentation": "The topic to publish data to",
                        "group": "Common", "width": "LONG", "display_name": "Topic", "dependents": [], "order": 2
                    },
                    "value": {
                        "name": "topic", "value": null, "recommended_values": [],
                        "errors": ["Missing required configuration \"topic\" which has no default value."],
                        "visible": true
                    }
                },
                {
                    "definition": {
                        "name": "batch.size", "type": "INT", "required": false, "default_value": "2000",
                        "importance": "LOW",
                        "documentation": "The maximum number of records the source task can read from the file each time it is polled",
                        "group": null, "width": "NONE", "display_name": "batch.size", "dependents": [], "order": -1
                    },
                    "value": {"name": "batch.size", "value": "2000", "recommended_values": [], "errors": [], "visible": true}
                },
                {
                    "definition": {
                        "name": "secret", "type": "PASSWORD", "required": false, "default_value": "[hidden]",
                        "importance": "MEDIUM", "documentation": null,
                        "group": null, "width": "NONE", "display_name": "secret", "dependents": [], "order": -1
                    },
                    "value": {"name": "secret", "value": "[hidden]", "recommended_values": [], "errors": [], "visible": true}
                }
            ]
        })
    );
    let text = serde_json::to_string(&infos.configs[0].definition).unwrap();
    assert!(text.starts_with(r#"{"name":"file","type":"STRING","required":false,"default_value":null,"importance":"HIGH""#), "{text}");
    assert!(
        text.ends_with(r#""display_name":"file","dependents":[],"order":1}"#),
        "{text}"
    );
    let round_trip: ConfigInfos =
        serde_json::from_value(serde_json::to_value(&infos).unwrap()).unwrap();
    assert_eq!(round_trip, infos);
}

#[test]
fn generate_lists_undefined_values_first() {
    let def =
        ConfigDef::new().define(ConfigKey::new("a", ConfigType::Boolean).default_value("TRUE"));
    let mut extra = ConfigValue::new("connector.class");
    extra.add_error("boom");
    let infos = ConfigInfos::generate("C", &def, &[extra]);
    assert_eq!(infos.error_count, 1);
    assert_eq!(
        serde_json::to_value(&infos.configs).unwrap(),
        json!([
            {"definition": null, "value": {"name": "connector.class", "value": null, "recommended_values": [], "errors": ["boom"], "visible": true}},
            {"definition": {"name": "a", "type": "BOOLEAN", "required": false, "default_value": "true", "importance": "MEDIUM",
                            "documentation": null, "group": null, "width": "NONE", "display_name": "a", "dependents": [], "order": -1},
             "value": null}
        ])
    );
}

#[test]
fn merge_and_embed() {
    let base = ConfigDef::new().define(ConfigKey::new("name", ConfigType::String).group("Common"));
    let child = recommending_def();
    let merged = base.clone().merge(&child).merge(&base);
    assert_eq!(
        merged.keys().map(ConfigKey::name).collect::<Vec<_>>(),
        ["name", "mode", "column"]
    );
    assert_eq!(merged.groups(), ["Common", "Mode"]);
    let embedded = base.embed("transforms.x.", "Transforms: x", 5, &child);
    let key = embedded.key("transforms.x.mode").unwrap();
    assert_eq!(key.get_group(), Some("Transforms: x: Mode"));
    assert_eq!(key.order_in_group(), 5);
    assert_eq!(key.get_dependents(), ["transforms.x.column"]);
    assert_eq!(
        embedded
            .key("transforms.x.column")
            .unwrap()
            .order_in_group(),
        6
    );
    assert_eq!(embedded.groups(), ["Common", "Transforms: x: Mode"]);
    let values = embedded.validate_all(&props(&[("name", "n"), ("transforms.x.mode", "bulk")]));
    assert!(
        !values["transforms.x.column"].visible,
        "recommender sees unprefixed values"
    );
    let values = embedded.validate_all(&props(&[("name", "n"), ("transforms.x.mode", "other")]));
    assert_eq!(
        values["transforms.x.mode"].errors,
        [
            "Invalid value other for configuration mode: String must be one of: bulk, incrementing, fail"
        ],
        "validators see the child's key names, as in Java"
    );
}
