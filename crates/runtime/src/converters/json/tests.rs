//! Exact bytes of Java's `JsonConverter` both ways (expected strings as Jackson writes them).

use ferry_connect::connector::ConfigMap;
use ferry_connect::convert::Converter;
use ferry_connect::data::{
    Date, Decimal, Schema, SchemaAndValue, SchemaBuilder, Struct, Time, Timestamp, Value,
};

use super::JsonConverter;
use super::node::{JsonNode, java_number};

fn converter(settings: &[(&str, &str)]) -> JsonConverter {
    let mut c = JsonConverter::default();
    let configs: ConfigMap = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Converter::configure(&mut c, &configs, false).unwrap();
    c
}

fn write(c: &JsonConverter, schema: Option<&Schema>, value: Option<&Value>) -> String {
    let bytes = c
        .from_connect_data("t", &mut Vec::new(), schema, value)
        .unwrap()
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn read(c: &JsonConverter, json: &str) -> SchemaAndValue {
    c.to_connect_data("t", &[], Some(json.as_bytes())).unwrap()
}

fn read_err(c: &JsonConverter, json: &str) -> String {
    c.to_connect_data("t", &[], Some(json.as_bytes()))
        .unwrap_err()
        .to_string()
}

/// Writes `value`, checks the exact bytes, and reads them back to the same schema and value.
fn round_trip(schema: Schema, value: Value, expected: &str) {
    let c = converter(&[]);
    assert_eq!(write(&c, Some(&schema), Some(&value)), expected);
    assert_eq!(
        read(&c, expected),
        SchemaAndValue::new(Some(schema), Some(value))
    );
}

#[test]
fn primitives_round_trip_with_exact_bytes() {
    let env = |ty: &str, payload: &str| {
        format!(r#"{{"schema":{{"type":"{ty}","optional":false}},"payload":{payload}}}"#)
    };
    round_trip(
        Schema::boolean(),
        Value::Boolean(true),
        &env("boolean", "true"),
    );
    round_trip(Schema::int8(), Value::Int8(-12), &env("int8", "-12"));
    round_trip(Schema::int16(), Value::Int16(1234), &env("int16", "1234"));
    round_trip(
        Schema::int32(),
        Value::Int32(i32::MIN),
        &env("int32", "-2147483648"),
    );
    round_trip(
        Schema::int64(),
        Value::Int64(4_398_046_511_104),
        &env("int64", "4398046511104"),
    );
    round_trip(
        Schema::float32(),
        Value::Float32(12.34),
        &env("float", "12.34"),
    );
    round_trip(
        Schema::float64(),
        Value::Float64(12.34),
        &env("double", "12.34"),
    );
    round_trip(
        Schema::float64(),
        Value::Float64(1.0),
        &env("double", "1.0"),
    );
    round_trip(
        Schema::float64(),
        Value::Float64(1e10),
        &env("double", "1.0E10"),
    );
    round_trip(
        Schema::float64(),
        Value::Float64(1.5e-5),
        &env("double", "1.5E-5"),
    );
    round_trip(
        Schema::string(),
        Value::from("a\"b\\c\n\u{1}é"),
        &env("string", "\"a\\\"b\\\\c\\n\\u0001é\""),
    );
    round_trip(
        Schema::bytes(),
        Value::Bytes(b"test-string".to_vec().into()),
        &env("bytes", "\"dGVzdC1zdHJpbmc=\""),
    );
}

#[test]
fn java_number_formatting() {
    let text = |n: JsonNode| String::from_utf8(n.to_bytes()).unwrap();
    assert_eq!(text(java_number(0.0)), "0.0");
    assert_eq!(text(java_number(-0.0)), "-0.0");
    assert_eq!(text(java_number(100.0)), "100.0");
    assert_eq!(text(java_number(0.001)), "0.001");
    assert_eq!(text(java_number(0.0001)), "1.0E-4");
    assert_eq!(text(java_number(9_999_999.0)), "9999999.0");
    assert_eq!(text(java_number(12_345_678.9)), "1.23456789E7");
    assert_eq!(text(java_number(-2.5e-300)), "-2.5E-300");
    assert_eq!(text(java_number(0.1f32)), "0.1");
    assert_eq!(text(java_number(3.4028235e38f32)), "3.4028235E38");
    assert_eq!(text(java_number(f64::NAN)), "\"NaN\"");
    assert_eq!(text(java_number(f64::NEG_INFINITY)), "\"-Infinity\"");
}

#[test]
fn schema_metadata_in_java_order() {
    let schema = SchemaBuilder::boolean()
        .name("bool")
        .version(3)
        .doc("the documentation")
        .parameter("foo", "bar")
        .default_value(Value::Boolean(true))
        .build()
        .unwrap();
    let expected = r#"{"schema":{"type":"boolean","optional":false,"name":"bool","version":3,"doc":"the documentation","parameters":{"foo":"bar"},"default":true},"payload":false}"#;
    round_trip(schema, Value::Boolean(false), expected);
}

#[test]
fn arrays_maps_and_structs() {
    let array = SchemaBuilder::array(Schema::int32()).build().unwrap();
    round_trip(
        array,
        Value::Array(vec![Some(Value::Int32(1)), Some(Value::Int32(2))]),
        r#"{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2]}"#,
    );
    let string_map = SchemaBuilder::map(Schema::string(), Schema::int32())
        .build()
        .unwrap();
    round_trip(
        string_map,
        Value::Map(vec![(Value::from("key1"), Some(Value::Int32(12)))]),
        r#"{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12}}"#,
    );
    let int_map = SchemaBuilder::map(Schema::int32(), Schema::optional_string())
        .build()
        .unwrap();
    round_trip(
        int_map,
        Value::Map(vec![
            (Value::Int32(1), Some(Value::from("a"))),
            (Value::Int32(2), None),
        ]),
        r#"{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":true},"optional":false},"payload":[[1,"a"],[2,null]]}"#,
    );
    let schema = SchemaBuilder::struct_()
        .name("rec")
        .field("field1", Schema::boolean())
        .field("field2", Schema::optional_string())
        .build()
        .unwrap();
    let mut value = Struct::new(schema.clone()).unwrap();
    value.put("field1", Value::Boolean(true)).unwrap();
    round_trip(
        schema,
        Value::Struct(value),
        r#"{"schema":{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"field1"},{"type":"string","optional":true,"field":"field2"}],"optional":false,"name":"rec"},"payload":{"field1":true,"field2":null}}"#,
    );
}

#[test]
fn logical_types() {
    let decimal = "1.56".parse::<Decimal>().unwrap();
    round_trip(
        Decimal::schema(2),
        Value::Decimal(decimal.clone()),
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}"#,
    );
    let numeric = converter(&[("decimal.format", "numeric")]);
    let out = write(
        &numeric,
        Some(&Decimal::schema(2)),
        Some(&Value::Decimal(decimal.clone())),
    );
    assert!(out.ends_with(r#""payload":1.56}"#), "{out}");
    assert_eq!(read(&numeric, &out).value, Some(Value::Decimal(decimal)));
    round_trip(
        Date::schema(),
        Value::Date(10_000),
        r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}"#,
    );
    round_trip(
        Time::schema(),
        Value::Time(14_400_000),
        r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}"#,
    );
    round_trip(
        Timestamp::schema(),
        Value::Timestamp(4_000_000_000),
        r#"{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}"#,
    );
    let c = converter(&[]);
    let msg = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1 }, "payload": 1.5 }"#;
    assert_eq!(
        read_err(&c, msg),
        "Invalid type for Date, underlying representation should be integer but was NUMBER"
    );
}

#[test]
fn reads_java_test_inputs() {
    let c = converter(&[]);
    let v = read(&c, r#"{ "schema": { "type": "int8" }, "payload": 0012 }"#);
    assert_eq!(v.value, Some(Value::Int8(12)));
    let v = read(
        &c,
        r#"{ "schema": { "type": "int64" }, "payload": 00000123456789 }"#,
    );
    assert_eq!(v.value, Some(Value::Int64(123_456_789)));
    let v = read(&c, r#"{ "schema": { "type": "int32" }, "payload": -000 }"#);
    assert_eq!(v.value, Some(Value::Int32(0)));
    let default = read(
        &c,
        r#"{ "schema": { "type": "boolean", "default": true }, "payload": null }"#,
    );
    let schema = SchemaBuilder::boolean()
        .default_value(Value::Boolean(true))
        .build()
        .unwrap();
    assert_eq!(
        default,
        SchemaAndValue::new(Some(schema), Some(Value::Boolean(true)))
    );
    let optional = read(
        &c,
        r#"{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, { "field": "required", "type": "string" }] }, "payload": { "required": "required" } }"#,
    );
    let Some(Value::Struct(s)) = optional.value else {
        panic!("not a struct")
    };
    assert_eq!(s.get("optional").unwrap(), None);
    assert_eq!(s.get("required").unwrap(), Some(&Value::from("required")));
}

#[test]
fn null_handling() {
    let c = converter(&[]);
    assert_eq!(
        c.from_connect_data("t", &mut Vec::new(), None, None)
            .unwrap(),
        None
    );
    assert_eq!(
        c.to_connect_data("t", &[], None).unwrap(),
        SchemaAndValue::NULL
    );
    assert_eq!(
        write(&c, Some(&Schema::optional_string()), None),
        r#"{"schema":{"type":"string","optional":true},"payload":null}"#
    );
    let err = c
        .from_connect_data("t", &mut Vec::new(), Some(&Schema::string()), None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Conversion error: null value for field that is required and has no default value"
    );
    assert_eq!(
        read(&c, r#"{"schema":null,"payload":null}"#),
        SchemaAndValue::NULL
    );
    assert_eq!(
        read_err(&c, r#"{"schema":{"type":"int32"},"payload":null}"#),
        "Invalid null value for required INT32 field"
    );
    let with_default = SchemaBuilder::int32()
        .optional()
        .default_value(Value::Int32(5))
        .build()
        .unwrap();
    assert_eq!(
        write(&c, Some(&with_default), None),
        r#"{"schema":{"type":"int32","optional":true,"default":5},"payload":5}"#
    );
    let keep_null = converter(&[("replace.null.with.default", "false")]);
    assert_eq!(
        write(&keep_null, Some(&with_default), None),
        r#"{"schema":{"type":"int32","optional":true,"default":5},"payload":null}"#
    );
}

#[test]
fn schemaless_json() {
    let c = converter(&[("schemas.enable", "false")]);
    let map = Value::Map(vec![
        (Value::from("a"), Some(Value::Int64(1))),
        (
            Value::from("b"),
            Some(Value::Array(vec![Some(Value::Float64(2.5)), None])),
        ),
    ]);
    assert_eq!(write(&c, None, Some(&map)), r#"{"a":1,"b":[2.5,null]}"#);
    assert_eq!(
        read(&c, r#" {"a": 1, "b": [2.5, null]} "#),
        SchemaAndValue::new(None, Some(map))
    );
    let pairs = Value::Map(vec![(Value::Int32(1), Some(Value::from("x")))]);
    assert_eq!(write(&c, None, Some(&pairs)), r#"[[1,"x"]]"#);
    assert_eq!(write(&c, Some(&Schema::optional_int32()), None), "null");
    assert_eq!(read(&c, ""), SchemaAndValue::NULL);
    let envelope = converter(&[]);
    assert_eq!(
        write(&envelope, None, Some(&Value::from("s"))),
        r#"{"schema":null,"payload":"s"}"#
    );
    assert_eq!(
        read(&envelope, r#"{"schema":null,"payload":12}"#).value,
        Some(Value::Int64(12))
    );
    assert_eq!(
        read(&envelope, r#"{"schema":null,"payload":12.24}"#).value,
        Some(Value::Float64(12.24))
    );
    let err = read_err(&envelope, r#"{"payload":1}"#);
    assert!(
        err.starts_with("JsonConverter with schemas.enable requires \"schema\" and \"payload\"")
    );
    let err = c.from_connect_data(
        "t",
        &mut Vec::new(),
        None,
        Some(&Value::Decimal(Decimal::new(1, 0))),
    );
    assert_eq!(
        err.unwrap_err().to_string(),
        "Java class class java.math.BigDecimal does not have corresponding schema type."
    );
}

#[test]
fn type_mismatch_and_bad_config() {
    let c = converter(&[]);
    let err = c
        .from_connect_data(
            "t",
            &mut Vec::new(),
            Some(&Schema::int32()),
            Some(&Value::from("x")),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid type for INT32: class java.lang.String"
    );
    let mut bad = JsonConverter::default();
    let configs = ConfigMap::from([("decimal.format".to_owned(), "hex".to_owned())]);
    let err = Converter::configure(&mut bad, &configs, true).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Invalid value hex for configuration decimal.format"),
        "{err}"
    );
    assert_eq!(
        read_err(&c, r#"{"schema":{"type":"uint8"},"payload":1}"#),
        "Unknown schema type: uint8"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn round_trips(schema: Schema, value: Value) -> std::result::Result<(), TestCaseError> {
        let c = converter(&[]);
        let bytes = c
            .from_connect_data("t", &mut Vec::new(), Some(&schema), Some(&value))
            .unwrap();
        let back = c.to_connect_data("t", &[], bytes.as_deref()).unwrap();
        prop_assert_eq!(back, SchemaAndValue::new(Some(schema), Some(value)));
        Ok(())
    }

    proptest! {
        #[test]
        fn strings_round_trip(s in any::<String>()) {
            round_trips(Schema::string(), Value::String(s))?;
        }

        #[test]
        fn integers_round_trip(v in any::<i64>(), w in any::<i32>()) {
            round_trips(Schema::int64(), Value::Int64(v))?;
            round_trips(Schema::int32(), Value::Int32(w))?;
        }

        #[test]
        fn finite_doubles_round_trip(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            round_trips(Schema::float64(), Value::Float64(v))?;
        }

        #[test]
        fn finite_floats_round_trip(v in any::<f32>().prop_filter("finite", |v| v.is_finite())) {
            round_trips(Schema::float32(), Value::Float32(v))?;
        }

        #[test]
        fn bytes_round_trip(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            round_trips(Schema::bytes(), Value::Bytes(b.into()))?;
        }

        #[test]
        fn decimals_round_trip(unscaled in any::<i64>(), scale in 0i32..20) {
            round_trips(Decimal::schema(scale), Value::Decimal(Decimal::new(unscaled, scale)))?;
            let numeric = converter(&[("decimal.format", "NUMERIC")]);
            let value = Value::Decimal(Decimal::new(unscaled, scale));
            let schema = Decimal::schema(scale);
            let bytes = numeric.from_connect_data("t", &mut Vec::new(), Some(&schema), Some(&value)).unwrap();
            let back = numeric.to_connect_data("t", &[], bytes.as_deref()).unwrap();
            prop_assert_eq!(back.value, Some(value));
        }
    }
}

#[test]
fn cached_schemas_write_the_same_bytes() {
    let schema = SchemaBuilder::struct_()
        .name("cached")
        .field("a", Schema::int32())
        .build()
        .unwrap();
    let mut value = Struct::new(schema.clone()).unwrap();
    value.put("a", Value::Int32(1)).unwrap();
    let expected = r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"}],"optional":false,"name":"cached"},"payload":{"a":1}}"#;
    for settings in [
        &[][..],
        &[("schemas.cache.size", "0")][..],
        &[("schemas.cache.size", "1")][..],
    ] {
        let c = converter(settings);
        for _ in 0..3 {
            assert_eq!(
                write(&c, Some(&schema), Some(&Value::Struct(value.clone()))),
                expected
            );
        }
        assert_eq!(
            write(&c, Some(&Schema::int8()), Some(&Value::Int8(1))),
            r#"{"schema":{"type":"int8","optional":false},"payload":1}"#
        );
        assert_eq!(
            write(&c, Some(&schema), Some(&Value::Struct(value.clone()))),
            expected
        );
    }
}
