use ferry_connect::data::{
    Date, Decimal, Schema, SchemaAndValue, SchemaBuilder, Time, Timestamp, Value,
};

use super::{convert_to_string, parse_string};

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
    assert_eq!(
        parse_string("2021-3-04x"),
        typed(Schema::string(), Value::from("2021-3-04x"))
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
    let map = parse_string(r#"{"k1":1,"k2":true}"#);
    assert_eq!(
        map,
        typed(Schema::string(), Value::from(r#"{"k1":1,"k2":true}"#))
    );
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
    let text = convert_to_string(&list);
    assert_eq!(text, "[1,70000]");
    assert_eq!(
        parse_string(&text).value,
        Some(Value::Array(vec![
            Some(Value::Int32(1)),
            Some(Value::Int32(70_000))
        ]))
    );
}
