use bytes::Bytes;
use proptest::prelude::*;

use super::*;

fn person() -> Schema {
    SchemaBuilder::struct_()
        .name("Person")
        .field("name", Schema::string())
        .field(
            "age",
            SchemaBuilder::int32()
                .optional()
                .default_value(Value::Int32(18))
                .build()
                .unwrap(),
        )
        .field(
            "tags",
            SchemaBuilder::array(Schema::string())
                .optional()
                .build()
                .unwrap(),
        )
        .field(
            "attrs",
            SchemaBuilder::map(Schema::string(), Schema::optional_int64())
                .optional()
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn err(result: crate::Result<impl std::fmt::Debug>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn predefined_schemas() {
    assert_eq!(Schema::int8().schema_type(), Type::Int8);
    assert!(!Schema::string().is_optional());
    assert!(Schema::optional_bytes().is_optional());
    assert_eq!(Schema::optional_float64().to_string(), "Schema{FLOAT64}");
    assert_eq!(Schema::int32(), SchemaBuilder::int32().build().unwrap());
    assert_ne!(Schema::int32(), Schema::optional_int32());
    assert_eq!(Type::Float32.name(), "float32");
    assert_eq!(Type::ALL.len(), 12);
}

#[test]
fn builder_records_java_errors() {
    assert_eq!(
        err(SchemaBuilder::int32().field("a", Schema::int32()).build()),
        "Cannot create fields on type INT32"
    );
    assert_eq!(
        err(SchemaBuilder::struct_()
            .field("a", Schema::int32())
            .field("a", Schema::string())
            .build()),
        "Cannot create field because of field name duplication a"
    );
    assert_eq!(
        err(SchemaBuilder::int32().version(1).version(2).build()),
        "Invalid SchemaBuilder call: version has already been set."
    );
    assert_eq!(
        err(SchemaBuilder::int32().doc("a").doc("b").build()),
        "Invalid SchemaBuilder call: doc has already been set."
    );
    assert_eq!(
        err(SchemaBuilder::int32()
            .default_value(Value::from("x"))
            .build()),
        "Invalid default value: Invalid Java object for schema with type INT32: class java.lang.String for value"
    );
}

#[test]
fn schema_properties_and_accessors() {
    let s = SchemaBuilder::map(Schema::string(), Schema::int32())
        .name("m")
        .version(3)
        .doc("d")
        .parameter("b", "2")
        .parameter("a", "1")
        .build()
        .unwrap();
    assert_eq!(
        (s.name(), s.version(), s.doc()),
        (Some("m"), Some(3), Some("d"))
    );
    let keys: Vec<_> = s.parameters().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["b", "a"], "parameters keep insertion order");
    assert_eq!(s.key_schema().unwrap(), &Schema::string());
    assert_eq!(s.value_schema().unwrap(), &Schema::int32());
    assert_eq!(err(s.fields()), "Cannot list fields on non-struct type");
    assert_eq!(
        err(Schema::int32().key_schema()),
        "Cannot look up key schema on non-map type"
    );
    assert_eq!(
        err(Schema::int32().value_schema()),
        "Cannot look up value schema on non-array and non-map type"
    );
    let copy = s.to_builder().optional().build().unwrap();
    assert!(copy.is_optional());
    assert_eq!(copy.parameters(), s.parameters());
}

#[test]
fn struct_put_get_and_defaults() {
    let mut s = Struct::new(person()).unwrap();
    s.put("name", Value::from("ann")).unwrap();
    assert_eq!(
        s.get("age").unwrap(),
        Some(&Value::Int32(18)),
        "default applies"
    );
    assert_eq!(s.get_without_default("age").unwrap(), None);
    assert_eq!(
        s.get_int32("age").unwrap(),
        None,
        "typed getters do not apply defaults"
    );
    s.put("age", Value::Int32(40))
        .unwrap()
        .put("tags", Value::Array(vec![Some("a".into())]))
        .unwrap();
    assert_eq!(s.get_int32("age").unwrap(), Some(40));
    assert_eq!(s.get_string("name").unwrap(), Some("ann"));
    assert_eq!(err(s.get_int64("age")), "Field 'age' is not of type INT64");
    assert_eq!(err(s.get("nope")), "nope is not a valid field name");
    assert_eq!(err(s.put("nope", None)), "nope is not a valid field name");
    assert_eq!(s.to_string(), "Struct{name=ann,age=40,tags=[a]}");
    s.validate().unwrap();
    assert_eq!(
        err(Struct::new(Schema::int32())),
        "Not a struct schema: Schema{INT32}"
    );
}

#[test]
fn struct_validation_messages() {
    let mut s = Struct::new(person()).unwrap();
    assert_eq!(
        err(s.validate()),
        "Invalid value: null used for required field: \"name\", schema type: STRING"
    );
    assert_eq!(
        err(s.put("name", None)),
        "Invalid value: null used for required field: \"name\", schema type: STRING"
    );
    assert_eq!(
        err(s.put("tags", Value::Array(vec![Some(Value::Int32(1))]))),
        "Invalid Java object for schema with type STRING: class java.lang.Integer for element of array field: \"tags\""
    );
    assert_eq!(
        err(s.put("tags", Value::Array(vec![None]))),
        "Invalid value: null used for required element of array field: \"tags\", schema type: STRING"
    );
    assert_eq!(
        err(s.put("attrs", Value::Map(vec![(Value::Int32(1), None)]))),
        "Invalid Java object for schema with type STRING: class java.lang.Integer for key of map field: \"attrs\""
    );
    assert_eq!(
        err(s.put(
            "attrs",
            Value::Map(vec![("k".into(), Some(Value::Int32(1)))])
        )),
        "Invalid Java object for schema with type INT64: class java.lang.Integer for value of map field: \"attrs\""
    );
    s.put("attrs", Value::Map(vec![("k".into(), None)]))
        .unwrap();
}

#[test]
fn nested_struct_schema_must_match() {
    let outer = SchemaBuilder::struct_()
        .field("p", person())
        .build()
        .unwrap();
    let other = SchemaBuilder::struct_()
        .field("name", Schema::string())
        .build()
        .unwrap();
    let mut o = Struct::new(outer).unwrap();
    assert_eq!(
        err(o.put("p", Value::Struct(Struct::new(other).unwrap()))),
        "Struct schemas do not match."
    );
    let incomplete = Struct::new(person()).unwrap();
    assert_eq!(
        err(o.put("p", Value::Struct(incomplete))),
        "Invalid value: null used for required field: \"name\", schema type: STRING"
    );
}

#[test]
fn logical_values_need_their_logical_schemas() {
    assert!(validate_value(&Date::schema(), Some(&Value::Date(1)), None).is_ok());
    assert_eq!(
        err(validate_value(
            &Date::schema(),
            Some(&Value::Int32(1)),
            None
        )),
        "Invalid Java object for schema \"org.apache.kafka.connect.data.Date\" with type INT32: class java.lang.Integer for value"
    );
    assert_eq!(
        err(validate_value(
            &Schema::bytes(),
            Some(&Value::Decimal(Decimal::new(1, 0))),
            Some("f")
        )),
        "Invalid Java object for schema with type BYTES: class java.math.BigDecimal for field: \"f\""
    );
    assert!(
        validate_value(
            &Decimal::schema(2),
            Some(&Value::Decimal(Decimal::new(1, 2))),
            None
        )
        .is_ok()
    );
    assert!(validate_value(&Time::schema(), Some(&Value::Time(5)), None).is_ok());
    assert!(validate_value(&Timestamp::schema(), Some(&Value::Timestamp(5)), None).is_ok());
}

#[test]
fn logical_schemas_match_java() {
    let d = Decimal::schema(3);
    assert_eq!(
        (d.schema_type(), d.name(), d.version()),
        (Type::Bytes, Some(DECIMAL_LOGICAL_NAME), Some(1))
    );
    assert_eq!(d.parameters().unwrap()["scale"], "3");
    assert_eq!(Decimal::scale_of(&d).unwrap(), 3);
    assert_eq!(
        err(Decimal::scale_of(&Schema::bytes())),
        "Invalid Decimal schema: scale parameter not found."
    );
    assert_eq!(Date::schema().schema_type(), Type::Int32);
    assert_eq!(Time::schema().name(), Some(TIME_LOGICAL_NAME));
    assert_eq!(Timestamp::schema().schema_type(), Type::Int64);
}

#[test]
fn decimal_bytes_match_big_integer_to_byte_array() {
    let s = Decimal::schema(0);
    let cases: [(i64, &[u8]); 8] = [
        (0, &[0x00]),
        (1, &[0x01]),
        (-1, &[0xff]),
        (127, &[0x7f]),
        (128, &[0x00, 0x80]),
        (-128, &[0x80]),
        (-129, &[0xff, 0x7f]),
        (65536, &[0x01, 0x00, 0x00]),
    ];
    for (unscaled, bytes) in cases {
        assert_eq!(
            Decimal::from_logical(&s, &Decimal::new(unscaled, 0))
                .unwrap()
                .as_ref(),
            bytes,
            "{unscaled}"
        );
    }
    assert_eq!(
        err(Decimal::from_logical(
            &Decimal::schema(2),
            &Decimal::new(1, 3)
        )),
        "Decimal value has mismatching scale for given Decimal schema. Schema has scale 2, value has scale 3."
    );
}

#[test]
fn decimal_text_matches_big_decimal() {
    let cases = [
        ("123.45", "123.45"),
        ("-0.001", "-0.001"),
        ("0.0000001", "1E-7"),
        ("0.000001", "0.000001"),
        ("1E+3", "1E+3"),
        ("1.20E+3", "1.20E+3"),
        ("12300", "12300"),
        (".5", "0.5"),
        ("-7", "-7"),
        ("1e-2", "0.01"),
    ];
    for (input, expected) in cases {
        let d: Decimal = input.parse().unwrap();
        assert_eq!(d.to_string(), expected, "{input}");
    }
    assert_eq!("1.20E+3".parse::<Decimal>().unwrap().scale(), -1);
    for bad in ["", "-", "1.2.3", "abc", "1e", "0x10"] {
        assert!(bad.parse::<Decimal>().is_err(), "{bad}");
    }
}

#[test]
fn base_conversions() {
    let dec = Decimal::schema(2);
    let value = Value::Decimal("-1.50".parse().unwrap());
    let base = to_base(&dec, value.clone()).unwrap();
    assert_eq!(base, Value::Bytes(Bytes::from_static(&[0xff, 0x6a])));
    assert_eq!(from_base(&dec, base).unwrap(), value);
    assert_eq!(
        to_base(&Date::schema(), Value::Date(3)).unwrap(),
        Value::Int32(3)
    );
    assert_eq!(
        from_base(&Timestamp::schema(), Value::Int64(9)).unwrap(),
        Value::Timestamp(9)
    );
    assert_eq!(
        err(from_base(&Time::schema(), Value::Int32(-1))),
        "Time values must use number of milliseconds greater than 0 and less than 86400000"
    );
    assert_eq!(
        err(to_base(&Schema::int32(), Value::Date(1))),
        "Requested conversion of Date object but the schema does not match."
    );
    assert!(from_base(&Date::schema(), Value::from("x")).is_err());
    assert_eq!(
        from_base(&Schema::int32(), Value::Int32(1)).unwrap(),
        Value::Int32(1)
    );
    assert!(is_logical_schema(&Date::schema()) && !is_logical_schema(&Schema::int32()));
}

#[test]
fn date_and_time_from_millis() {
    assert_eq!(Date::from_unix_millis(2 * MILLIS_PER_DAY).unwrap(), 2);
    assert_eq!(Date::from_unix_millis(-MILLIS_PER_DAY).unwrap(), -1);
    assert_eq!(
        err(Date::from_unix_millis(1)),
        "Kafka Connect Date type should not have any time fields set to non-zero values."
    );
    assert_eq!(Date::to_unix_millis(3), 3 * MILLIS_PER_DAY);
    assert_eq!(Time::from_unix_millis(1000).unwrap(), 1000);
    assert!(Time::from_unix_millis(MILLIS_PER_DAY + 1).is_err());
}

#[test]
fn value_display_and_classes() {
    let v = Value::Map(vec![
        ("a".into(), Some(Value::Float64(1.0))),
        ("b".into(), None),
    ]);
    assert_eq!(v.to_string(), "{a=1.0, b=null}");
    assert_eq!(Value::Float32(0.1).to_string(), "0.1");
    assert_eq!(Value::Bytes(Bytes::new()).java_class(), "class [B");
    assert_eq!(Value::Int16(1).inferred_type(), Some(Type::Int16));
    assert_eq!(Value::Timestamp(1).inferred_type(), None);
}

proptest! {
    #[test]
    fn decimal_bytes_round_trip(unscaled in any::<i128>(), scale in -20i32..20) {
        let schema = Decimal::schema(scale);
        let d = Decimal::new(unscaled, scale);
        let bytes = Decimal::from_logical(&schema, &d).unwrap();
        prop_assert_eq!(Decimal::to_logical(&schema, &bytes).unwrap(), d);
        // Minimal two's complement: no redundant sign byte.
        if bytes.len() > 1 {
            let redundant = (bytes[0] == 0x00 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xff && bytes[1] & 0x80 != 0);
            prop_assert!(!redundant);
        }
    }

    #[test]
    fn decimal_text_round_trips(unscaled in any::<i64>(), scale in -12i32..12) {
        let d = Decimal::new(unscaled, scale);
        prop_assert_eq!(d.to_string().parse::<Decimal>().unwrap(), d);
    }
}
