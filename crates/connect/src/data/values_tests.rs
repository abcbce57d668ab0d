use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::data::{Struct, logical::BigInt};

fn string(text: &str) -> SchemaAndValue {
    SchemaAndValue::new(Some(Schema::string()), Some(Value::from(text)))
}

fn int(v: i64) -> Option<Value> {
    Some(match v {
        v if i8::try_from(v).is_ok() => Value::Int8(v as i8),
        v if i16::try_from(v).is_ok() => Value::Int16(v as i16),
        v if i32::try_from(v).is_ok() => Value::Int32(v as i32),
        v => Value::Int64(v),
    })
}

fn schema_type(parsed: &SchemaAndValue) -> Type {
    parsed
        .schema
        .as_ref()
        .map(Schema::schema_type)
        .unwrap_or(Type::Struct)
}

#[test]
fn literals_and_strings() {
    assert_eq!(parse_string(""), string(""));
    assert_eq!(parse_string("null"), SchemaAndValue::NULL);
    assert_eq!(parse_string(" \t null \n"), SchemaAndValue::NULL);
    assert_eq!(
        parse_string("  true "),
        SchemaAndValue::new(Some(Schema::boolean()), Some(Value::Boolean(true)))
    );
    assert_eq!(parse_string("false").value, Some(Value::Boolean(false)));
    for text in [
        "true}",
        "false]",
        "null=",
        "  ",
        "simple string",
        "si\\:mple",
        "{foo: 3}",
        "{3: foo}",
        "[foo]",
        "{6:9 4:20}",
        "[0 1 2]",
        "{null: 3}",
        "[1, 2, 3,,,]",
        "[1, null]",
        "[null, 1]",
        "123abc",
        "\u{ffff}",
    ] {
        assert_eq!(parse_string(text), string(text), "{text:?}");
    }
}

#[test]
fn numbers_take_the_smallest_type() {
    let cases: [(&str, Schema, Value); 9] = [
        ("1", Schema::int8(), Value::Int8(1)),
        ("-129", Schema::int16(), Value::Int16(-129)),
        ("32768", Schema::int32(), Value::Int32(32_768)),
        ("2147483648", Schema::int64(), Value::Int64(2_147_483_648)),
        ("1.0", Schema::int8(), Value::Int8(1)),
        ("1e3", Schema::int16(), Value::Int16(1000)),
        ("1.5", Schema::float32(), Value::Float32(1.5)),
        (
            "1.7976931348623157E308",
            Schema::float64(),
            Value::Float64(f64::MAX),
        ),
        ("+0.25", Schema::float32(), Value::Float32(0.25)),
    ];
    for (text, schema, value) in cases {
        assert_eq!(
            parse_string(text),
            SchemaAndValue::new(Some(schema), Some(value)),
            "{text}"
        );
    }
    let big = parse_string("99999999999999999999");
    assert_eq!(big.schema, Some(Decimal::schema(0)));
    assert_eq!(
        big.value,
        Some(Value::Decimal(Decimal::new(
            "99999999999999999999".parse::<BigInt>().unwrap(),
            0
        )))
    );
    assert_eq!(
        parse_string("1,2").value,
        Some(Value::Int8(1)),
        "Java ignores what follows a number"
    );
}

#[test]
fn temporal_values() {
    let ts = parse_string("2019-08-23T14:34:54.346Z");
    assert_eq!(ts.schema, Some(Timestamp::schema()));
    assert_eq!(ts.value, Some(Value::Timestamp(1_566_570_894_346)));
    assert_eq!(parse_string("2019-08-23T14\\:34\\:54.346Z").value, ts.value);
    assert_eq!(
        parse_string("2019-08-23"),
        SchemaAndValue::new(Some(Date::schema()), Some(Value::Date(18_131)))
    );
    assert_eq!(
        parse_string("14:34:54.346Z"),
        SchemaAndValue::new(Some(Time::schema()), Some(Value::Time(52_494_346)))
    );
    let array = parse_string(
        "[2019-08-23T14:34:54.346Z,2019-01-23T15:12:34.567Z,   2019-04-23T19:12:34.567Z]",
    );
    assert_eq!(
        array.schema,
        Some(SchemaBuilder::array(Timestamp::schema()).build().unwrap())
    );
    let map = parse_string("{\"k1\":\"14:34:54.346Z\"}");
    assert_eq!(
        map.schema,
        Some(
            SchemaBuilder::map(Schema::string(), Time::schema())
                .build()
                .unwrap()
        )
    );
    assert_eq!(
        map.value,
        Some(Value::Map(vec![(
            "k1".into(),
            Some(Value::Time(52_494_346))
        )]))
    );
}

#[test]
fn arrays_widen_to_a_common_schema() {
    let parsed = parse_string("[1, 2, 32768]");
    assert_eq!(
        parsed.schema,
        Some(SchemaBuilder::array(Schema::int32()).build().unwrap())
    );
    assert_eq!(
        parsed.value,
        Some(Value::Array(vec![
            Some(Value::Int32(1)),
            Some(Value::Int32(2)),
            Some(Value::Int32(32_768))
        ]))
    );
    let floats = parse_string("[1, 2.5]");
    assert_eq!(
        floats.value,
        Some(Value::Array(vec![
            Some(Value::Float32(1.0)),
            Some(Value::Float32(2.5))
        ]))
    );
    let mixed = parse_string("[1, 2, 300, \"four\"]");
    assert_eq!(
        mixed.schema,
        Some(SchemaBuilder::new(Type::Array).build().unwrap())
    );
    assert_eq!(
        mixed.value,
        Some(Value::Array(vec![
            int(1),
            int(2),
            int(300),
            Some(Value::from("four"))
        ]))
    );
    assert_eq!(
        parse_string("[true, false]").schema,
        Some(SchemaBuilder::array(Schema::boolean()).build().unwrap())
    );
    assert_eq!(parse_string("[null]").value, Some(Value::Array(vec![None])));
    assert_eq!(parse_string("[]").value, Some(Value::Array(vec![])));
    let nested = parse_string("[[]]");
    assert_eq!(
        nested.schema.unwrap().value_schema().unwrap().schema_type(),
        Type::Array
    );
    assert_eq!(schema_type(&parse_string("[{}]")), Type::Array);
}

#[test]
fn maps_align_keys_and_values() {
    let parsed = parse_string(" { \"foo\" :  12345 , \"bar\" : 0,  \"baz\" : -4321 }  ");
    assert_eq!(
        parsed.schema,
        Some(
            SchemaBuilder::map(Schema::string(), Schema::int16())
                .build()
                .unwrap()
        )
    );
    assert_eq!(
        parsed.value,
        Some(Value::Map(vec![
            ("foo".into(), Some(Value::Int16(12_345))),
            ("bar".into(), Some(Value::Int16(0))),
            ("baz".into(), Some(Value::Int16(-4321))),
        ]))
    );
    let mixed_values = parse_string("{1:1, 2:1, 300:300, 4:\"four\"}");
    let schema = mixed_values.schema.unwrap();
    assert_eq!(schema.key_schema().unwrap(), &Schema::int16());
    assert!(schema.value_schema().is_err(), "no common value schema");
    assert_eq!(
        mixed_values.value,
        Some(Value::Map(vec![
            (Value::Int16(1), int(1)),
            (Value::Int16(2), int(1)),
            (Value::Int16(300), int(300)),
            (Value::Int16(4), Some(Value::from("four"))),
        ]))
    );
    let mixed_keys = parse_string("{\"four\":1, 1:1}");
    assert_eq!(
        mixed_keys.schema,
        Some(SchemaBuilder::new(Type::Map).build().unwrap())
    );
    let null_values = parse_string("{3: null}");
    assert_eq!(
        null_values.value,
        Some(Value::Map(vec![(Value::Int8(3), None)]))
    );
    assert_eq!(
        parse_string("{true: false, false: true}").value,
        Some(Value::Map(vec![
            (Value::Boolean(true), Some(Value::Boolean(false))),
            (Value::Boolean(false), Some(Value::Boolean(true))),
        ]))
    );
    assert_eq!(parse_string("{}").value, Some(Value::Map(vec![])));
    assert_eq!(schema_type(&parse_string("{\"a\":[]}")), Type::Map);
}

#[test]
fn quoted_strings_keep_escapes_and_drop_blank_tokens() {
    let parsed = parse_string("[\"a , b\", \"x\\\"y\"]");
    assert_eq!(
        parsed.value,
        Some(Value::Array(vec![
            Some(Value::from("a , b")),
            Some(Value::from("x\\\"y"))
        ]))
    );
}

#[test]
fn convert_to_string_matches_values() {
    let s = |v: Value| convert_to_string(Some(&v)).unwrap();
    assert_eq!(convert_to_string(None), None);
    assert_eq!(s(Value::from("plain \"text\"")), "plain \"text\"");
    assert_eq!(s(Value::Float64(1.0)), "1.0");
    assert_eq!(s(Value::Float32(0.1)), "0.1");
    assert_eq!(s(Value::Bytes(Bytes::from_static(b"hi!"))), "aGkh");
    assert_eq!(
        s(Value::Array(vec![
            Some(Value::from("a\"b\\c")),
            Some(Value::Bytes(Bytes::from_static(b"x")))
        ])),
        r#"["a\"b\\c","eA=="]"#
    );
    assert_eq!(s(Value::Date(18_131)), "2019-08-23");
    assert_eq!(s(Value::Time(52_494_346)), "14:34:54.346Z");
    assert_eq!(
        s(Value::Timestamp(1_566_570_894_346)),
        "2019-08-23T14:34:54.346Z"
    );
    assert_eq!(s(Value::Decimal("1.50".parse().unwrap())), "1.50");
    let schema = SchemaBuilder::struct_()
        .field("name", Schema::string())
        .field(
            "n",
            SchemaBuilder::int32()
                .optional()
                .default_value(Value::Int32(3))
                .build()
                .unwrap(),
        )
        .field("o", Schema::optional_string())
        .build()
        .unwrap();
    let mut st = Struct::new(schema).unwrap();
    st.put("name", Value::from("x")).unwrap();
    assert_eq!(s(Value::Struct(st)), r#"{"name":"x","n":3,"o":null}"#);
}

#[test]
fn infer_schema_matches_values() {
    assert_eq!(infer_schema(&Value::Int8(1)), Some(Schema::int8()));
    assert_eq!(
        infer_schema(&Value::Bytes(Bytes::new())),
        Some(Schema::bytes())
    );
    assert_eq!(infer_schema(&Value::Array(vec![])), None);
    assert_eq!(infer_schema(&Value::Map(vec![])), None);
    assert_eq!(infer_schema(&Value::Decimal(Decimal::new(1, 0))), None);
    assert_eq!(
        infer_schema(&Value::Array(vec![Some(Value::Decimal(Decimal::new(
            1, 0
        )))])),
        None
    );
    assert_eq!(
        infer_schema(&Value::Array(vec![Some(Value::Int32(1)), None])),
        Some(
            SchemaBuilder::array(Schema::optional_int32())
                .build()
                .unwrap()
        )
    );
    assert_eq!(
        infer_schema(&Value::Array(vec![
            Some(Value::Int32(1)),
            Some(Value::Int64(1))
        ])),
        None
    );
    assert_eq!(
        infer_schema(&Value::Map(vec![("k".into(), Some(Value::Boolean(true)))])),
        Some(
            SchemaBuilder::map(Schema::string(), Schema::boolean())
                .build()
                .unwrap()
        )
    );
}

// The header converter's and InsertHeader's cases, from the runtime's former copy of `Values`.

fn typed(schema: Schema, value: Value) -> SchemaAndValue {
    SchemaAndValue::new(Some(schema), Some(value))
}

#[test]
fn scalars() {
    assert_eq!(parse_string("12"), typed(Schema::int8(), Value::Int8(12)));
    assert_eq!(
        parse_string(" 300 "),
        typed(Schema::int16(), Value::Int16(300))
    );
    assert_eq!(
        parse_string("1.5"),
        typed(Schema::float32(), Value::Float32(1.5))
    );
    assert_eq!(parse_string("1e400").schema, Some(Decimal::schema(-400)));
    assert_eq!(
        parse_string("true"),
        typed(Schema::boolean(), Value::Boolean(true))
    );
    assert_eq!(
        parse_string("true}"),
        typed(Schema::string(), Value::from("true}"))
    );
    assert_eq!(parse_string("null"), SchemaAndValue::NULL);
    assert_eq!(
        parse_string("a,b"),
        typed(Schema::string(), Value::from("a,b"))
    );
    // Java stops at the first token of a number followed by delimiters.
    assert_eq!(
        parse_string("12:30"),
        typed(Schema::int8(), Value::Int8(12))
    );
}

#[test]
fn temporals() {
    assert_eq!(
        parse_string("2021-03-04"),
        typed(Date::schema(), Value::Date(18_690))
    );
    assert_eq!(
        parse_string("01:02:03.004Z"),
        typed(Time::schema(), Value::Time(3_723_004))
    );
    assert_eq!(
        parse_string("2021-03-04T05:06:07.089Z"),
        typed(Timestamp::schema(), Value::Timestamp(1_614_834_367_089))
    );
    // Java's lenient `SimpleDateFormat` accepts a one-digit month and ignores what follows a
    // parsed prefix; only the length (10, a date's) chooses the pattern.
    assert_eq!(
        parse_string("2021-3-04x"),
        typed(Date::schema(), Value::Date(18_690))
    );
    assert_eq!(
        parse_string("2021/03/04"),
        typed(Schema::string(), Value::from("2021/03/04"))
    );
}

#[test]
fn arrays_and_maps_share_a_widened_schema() {
    let array = parse_string("[1, 2, 300]");
    assert_eq!(
        array.schema,
        Some(SchemaBuilder::array(Schema::int16()).build().unwrap())
    );
    assert_eq!(
        array.value,
        Some(Value::Array(vec![
            Some(Value::Int16(1)),
            Some(Value::Int16(2)),
            Some(Value::Int16(300))
        ]))
    );
    let floats = parse_string("[1,2.5]");
    assert_eq!(
        floats.value,
        Some(Value::Array(vec![
            Some(Value::Float32(1.0)),
            Some(Value::Float32(2.5))
        ]))
    );
    let strings = parse_string(r#"["a,b","c\"d"]"#);
    assert_eq!(
        strings.schema,
        Some(SchemaBuilder::array(Schema::string()).build().unwrap())
    );
    // Values with no common schema keep their own types under a map schema without a value
    // schema, as Java's `SchemaBuilder.mapWithNullValues` (Kafka 3.8+).
    let map = parse_string(r#"{"k1":1,"k2":true}"#);
    assert_eq!(
        map.value,
        Some(Value::Map(vec![
            (Value::from("k1"), Some(Value::Int8(1))),
            (Value::from("k2"), Some(Value::Boolean(true))),
        ]))
    );
    let schema = map.schema.unwrap();
    assert_eq!(schema.key_schema().unwrap(), &Schema::string());
    assert!(schema.value_schema().is_err(), "no common value schema");
    let map = parse_string(r#"{"k1":1, "k2":2}"#);
    assert_eq!(
        map.schema,
        Some(
            SchemaBuilder::map(Schema::string(), Schema::int8())
                .build()
                .unwrap()
        )
    );
    assert_eq!(
        map.value,
        Some(Value::Map(vec![
            (Value::from("k1"), Some(Value::Int8(1))),
            (Value::from("k2"), Some(Value::Int8(2))),
        ]))
    );
    assert_eq!(
        parse_string("[1,null]").value,
        Some(Value::from("[1,null]"))
    );
    assert_eq!(parse_string("[1,").value, Some(Value::from("[1,")));
    assert_eq!(parse_string("[a]").value, Some(Value::from("[a]")));
}

#[test]
fn strings_of_containers_parse_back() {
    let list = Value::Array(vec![Some(Value::Int32(1)), Some(Value::Int32(70_000))]);
    let text = convert_to_string(Some(&list)).unwrap();
    assert_eq!(text, "[1,70000]");
    assert_eq!(
        parse_string(&text).value,
        Some(Value::Array(vec![
            Some(Value::Int32(1)),
            Some(Value::Int32(70_000))
        ]))
    );
}

proptest! {
    #[test]
    fn parse_string_never_panics(text in "[ -~]{0,40}") {
        let _ = parse_string(&text);
    }

    #[test]
    fn integers_round_trip_through_text(v in any::<i64>()) {
        let parsed = parse_string(&convert_to_string(Some(&Value::Int64(v))).unwrap());
        prop_assert_eq!(parsed.value, int(v));
    }

    #[test]
    fn timestamps_round_trip_through_text(ms in 86_400_001i64..253_402_300_799_999) {
        prop_assume!(ms % MILLIS_PER_DAY != 0);
        let text = convert_to_string(Some(&Value::Timestamp(ms))).unwrap();
        prop_assert_eq!(parse_string(&text).value, Some(Value::Timestamp(ms)));
    }
}
