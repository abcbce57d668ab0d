//! Built-in transformations on records with and without schemas; expected outputs follow
//! Java's behaviour (Kafka's own transform tests use the same inputs).

use ferry_connect::connector::ConfigMap;
use ferry_connect::data::{Schema, SchemaAndValue, SchemaBuilder, Struct, Timestamp, Value};
use ferry_connect::header::Headers;
use ferry_connect::record::{SinkRecord, SourceRecord, TimestampType};
use ferry_connect::transform::Transformation;
use ferry_runtime::transforms::{
    Cast, ExtractField, Flatten, HoistField, InsertField, MaskField, ReplaceField,
    SetSchemaMetadata, Side, ValueToKey, new_transformation,
};

fn configs(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn configured<T: Transformation<SourceRecord>>(mut t: T, pairs: &[(&str, &str)]) -> T {
    t.configure(&configs(pairs)).unwrap();
    t
}

fn by_name(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Transformation<SourceRecord>> {
    let mut t = new_transformation::<SourceRecord>(class).unwrap();
    t.configure(&configs(pairs)).unwrap();
    t
}

fn record(schema: Option<Schema>, value: Option<Value>) -> SourceRecord {
    SourceRecord {
        topic: "test".into(),
        kafka_partition: Some(0),
        value_schema: schema,
        value,
        timestamp: Some(789),
        ..SourceRecord::default()
    }
}

fn map(entries: &[(&str, Option<Value>)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect(),
    )
}

fn structure(schema: &Schema, values: &[(&str, Option<Value>)]) -> Struct {
    let mut s = Struct::new(schema.clone()).unwrap();
    for (name, value) in values {
        s.put(name, value.clone()).unwrap();
    }
    s
}

fn apply<T: Transformation<SourceRecord> + ?Sized>(t: &mut T, r: SourceRecord) -> SourceRecord {
    t.apply(r).unwrap().unwrap()
}

const INSERT_ALL: &[(&str, &str)] = &[
    ("topic.field", "topic_field!"),
    ("partition.field", "partition_field"),
    ("timestamp.field", "timestamp_field?"),
    ("static.field", "instance_id"),
    ("static.value", "my-instance-id"),
];

#[test]
fn insert_field_with_schema_copies_the_schema_and_adds_fields() {
    let schema = SchemaBuilder::struct_()
        .name("name")
        .version(1)
        .doc("doc")
        .field("magic", Schema::optional_int64())
        .build()
        .unwrap();
    let value = structure(&schema, &[("magic", Some(Value::Int64(42)))]);
    let mut t = configured(InsertField::new(Side::Value), INSERT_ALL);
    let out = apply(&mut t, record(Some(schema), Some(Value::Struct(value))));
    let out_schema = out.value_schema.clone().unwrap();
    assert_eq!(out_schema.name(), Some("name"));
    assert_eq!(out_schema.version(), Some(1));
    assert_eq!(out_schema.doc(), Some("doc"));
    let field = |n: &str| out_schema.field(n).unwrap().schema().clone();
    assert_eq!(field("magic"), Schema::optional_int64());
    assert_eq!(field("topic_field"), Schema::string());
    assert_eq!(field("partition_field"), Schema::optional_int32());
    assert_eq!(
        field("timestamp_field"),
        Timestamp::builder().optional().build().unwrap()
    );
    assert_eq!(field("instance_id"), Schema::optional_string());
    let Some(Value::Struct(s)) = out.value else {
        panic!("not a struct")
    };
    assert_eq!(s.get("magic").unwrap(), Some(&Value::Int64(42)));
    assert_eq!(s.get("topic_field").unwrap(), Some(&Value::from("test")));
    assert_eq!(s.get("partition_field").unwrap(), Some(&Value::Int32(0)));
    assert_eq!(
        s.get("timestamp_field").unwrap(),
        Some(&Value::Timestamp(789))
    );
    assert_eq!(
        s.get("instance_id").unwrap(),
        Some(&Value::from("my-instance-id"))
    );
}

#[test]
fn insert_field_schemaless_and_errors() {
    let mut t = configured(InsertField::new(Side::Value), INSERT_ALL);
    let out = apply(
        &mut t,
        record(None, Some(map(&[("magic", Some(Value::Int64(42)))]))),
    );
    assert_eq!(
        out.value,
        Some(map(&[
            ("magic", Some(Value::Int64(42))),
            ("topic_field", Some(Value::from("test"))),
            ("partition_field", Some(Value::Int32(0))),
            ("timestamp_field", Some(Value::Int64(789))),
            ("instance_id", Some(Value::from("my-instance-id"))),
        ]))
    );
    let tombstone = record(None, None);
    assert_eq!(apply(&mut t, tombstone.clone()), tombstone);
    let err = t.apply(record(None, Some(Value::Int32(1)))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Only Map objects supported in absence of schema for [field insertion], found: java.lang.Integer"
    );

    let mut offset = configured(InsertField::new(Side::Value), &[("offset.field", "off")]);
    let err = offset.apply(record(None, Some(map(&[])))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord"
    );
    let mut sink_offset = InsertField::new(Side::Key);
    Transformation::<SinkRecord>::configure(&mut sink_offset, &configs(&[("offset.field", "off")]))
        .unwrap();
    let sink = SinkRecord::new(
        "t",
        3,
        SchemaAndValue::new(None, Some(map(&[]))),
        SchemaAndValue::NULL,
        100,
        None,
        TimestampType::NoTimestamp,
        Headers::new(),
    );
    let out = sink_offset.apply(sink).unwrap().unwrap();
    assert_eq!(out.key, Some(map(&[("off", Some(Value::Int64(100)))])));

    let mut bad = InsertField::new(Side::Value);
    let err = Transformation::<SourceRecord>::configure(&mut bad, &configs(&[])).unwrap_err();
    assert_eq!(err.to_string(), "No field insertion configured");
    let err =
        Transformation::<SourceRecord>::configure(&mut bad, &configs(&[("static.field", "s")]));
    assert!(
        err.unwrap_err()
            .to_string()
            .ends_with("No value specified for static field: s")
    );
}

#[test]
fn replace_field_excludes_includes_and_renames() {
    let value = map(&[
        ("dont", Some(Value::from("whatever"))),
        ("abc", Some(Value::Int32(42))),
        ("foo", Some(Value::Boolean(true))),
        ("etc", Some(Value::from("etc"))),
    ]);
    let mut t = configured(
        ReplaceField::new(Side::Value),
        &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
    );
    let out = apply(&mut t, record(None, Some(value.clone())));
    assert_eq!(
        out.value,
        Some(map(&[
            ("xyz", Some(Value::Int32(42))),
            ("bar", Some(Value::Boolean(true))),
            ("etc", Some(Value::from("etc"))),
        ]))
    );
    let mut old_names = configured(ReplaceField::new(Side::Value), &[("whitelist", "abc,foo")]);
    let out = apply(&mut old_names, record(None, Some(value)));
    assert_eq!(
        out.value,
        Some(map(&[
            ("abc", Some(Value::Int32(42))),
            ("foo", Some(Value::Boolean(true)))
        ]))
    );

    let schema = SchemaBuilder::struct_()
        .name("s")
        .field("dont", Schema::string())
        .field("abc", Schema::int32())
        .field("foo", Schema::boolean())
        .field("etc", Schema::string())
        .build()
        .unwrap();
    let value = structure(
        &schema,
        &[
            ("dont", Some(Value::from("whatever"))),
            ("abc", Some(Value::Int32(42))),
            ("foo", Some(Value::Boolean(true))),
            ("etc", Some(Value::from("etc"))),
        ],
    );
    let mut t = configured(
        ReplaceField::new(Side::Value),
        &[
            ("include", "abc,foo,etc"),
            ("exclude", "etc"),
            ("renames", "abc:xyz"),
        ],
    );
    let out = apply(&mut t, record(Some(schema), Some(Value::Struct(value))));
    let expected_schema = SchemaBuilder::struct_()
        .name("s")
        .field("xyz", Schema::int32())
        .field("foo", Schema::boolean())
        .build()
        .unwrap();
    let expected = structure(
        &expected_schema,
        &[
            ("xyz", Some(Value::Int32(42))),
            ("foo", Some(Value::Boolean(true))),
        ],
    );
    assert_eq!(out.value_schema, Some(expected_schema));
    assert_eq!(out.value, Some(Value::Struct(expected)));
}

#[test]
fn mask_field_with_and_without_schema() {
    let value = map(&[
        ("int", Some(Value::Int32(42))),
        ("str", Some(Value::from("secret"))),
        ("list", Some(Value::Array(vec![Some(Value::Int8(1))]))),
        ("keep", Some(Value::Boolean(true))),
        ("nil", None),
    ]);
    let mut t = configured(
        MaskField::new(Side::Value),
        &[("fields", "int,str,list,nil")],
    );
    let out = apply(&mut t, record(None, Some(value.clone())));
    assert_eq!(
        out.value,
        Some(map(&[
            ("int", Some(Value::Int32(0))),
            ("str", Some(Value::from(""))),
            ("list", Some(Value::Array(vec![]))),
            ("keep", Some(Value::Boolean(true))),
            ("nil", None),
        ]))
    );
    let mut replaced = configured(
        MaskField::new(Side::Value),
        &[("fields", "int,str"), ("replacement", "123")],
    );
    let out = apply(&mut replaced, record(None, Some(value.clone())));
    let Some(Value::Map(entries)) = out.value else {
        panic!("not a map")
    };
    assert_eq!(entries[0].1, Some(Value::Int32(123)));
    assert_eq!(entries[1].1, Some(Value::from("123")));
    let mut bad = configured(
        MaskField::new(Side::Value),
        &[("fields", "keep"), ("replacement", "x")],
    );
    let err = bad.apply(record(None, Some(value))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot mask value of type class java.lang.Boolean with custom replacement."
    );

    let schema = SchemaBuilder::struct_()
        .field("f", Schema::float64())
        .field("s", Schema::string())
        .build()
        .unwrap();
    let value = structure(
        &schema,
        &[
            ("f", Some(Value::Float64(1.5))),
            ("s", Some(Value::from("x"))),
        ],
    );
    let mut t = configured(MaskField::new(Side::Value), &[("fields", "f")]);
    let out = apply(
        &mut t,
        record(Some(schema.clone()), Some(Value::Struct(value))),
    );
    let expected = structure(
        &schema,
        &[
            ("f", Some(Value::Float64(0.0))),
            ("s", Some(Value::from("x"))),
        ],
    );
    assert_eq!(out.value, Some(Value::Struct(expected)));
    let mut empty = MaskField::new(Side::Value);
    let err = Transformation::<SourceRecord>::configure(&mut empty, &configs(&[("fields", "")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value [] for configuration fields: Empty list"
    );
}

#[test]
fn value_to_key_and_extract_and_hoist() {
    let value = map(&[
        ("a", Some(Value::Int32(1))),
        ("b", Some(Value::Int32(2))),
        ("c", Some(Value::Int32(3))),
    ]);
    let mut t = configured(ValueToKey::default(), &[("fields", "a,b")]);
    let out = apply(&mut t, record(None, Some(value)));
    assert_eq!(
        out.key,
        Some(map(&[
            ("a", Some(Value::Int32(1))),
            ("b", Some(Value::Int32(2)))
        ]))
    );
    assert_eq!(out.key_schema, None);

    let schema = SchemaBuilder::struct_()
        .field("a", Schema::int32())
        .field("b", Schema::int32())
        .field("c", Schema::int32())
        .build()
        .unwrap();
    let value = structure(
        &schema,
        &[
            ("a", Some(Value::Int32(1))),
            ("b", Some(Value::Int32(2))),
            ("c", Some(Value::Int32(3))),
        ],
    );
    let out = apply(
        &mut t,
        record(Some(schema.clone()), Some(Value::Struct(value.clone()))),
    );
    let key_schema = SchemaBuilder::struct_()
        .field("a", Schema::int32())
        .field("b", Schema::int32())
        .build()
        .unwrap();
    assert_eq!(out.key_schema, Some(key_schema.clone()));
    assert_eq!(
        out.key,
        Some(Value::Struct(structure(
            &key_schema,
            &[("a", Some(Value::Int32(1))), ("b", Some(Value::Int32(2)))]
        )))
    );
    let mut missing = configured(ValueToKey::default(), &[("fields", "not_exist")]);
    let err = missing
        .apply(record(
            Some(schema.clone()),
            Some(Value::Struct(value.clone())),
        ))
        .unwrap_err();
    assert_eq!(err.to_string(), "Field does not exist: not_exist");

    let mut extract = configured(ExtractField::new(Side::Value), &[("field", "b")]);
    let out = apply(
        &mut extract,
        record(Some(schema.clone()), Some(Value::Struct(value.clone()))),
    );
    assert_eq!(
        (out.value_schema, out.value),
        (Some(Schema::int32()), Some(Value::Int32(2)))
    );
    let out = apply(
        &mut extract,
        record(None, Some(map(&[("b", Some(Value::from("x")))]))),
    );
    assert_eq!(out.value, Some(Value::from("x")));
    let mut unknown = configured(ExtractField::new(Side::Value), &[("field", "nonexistent")]);
    let err = unknown
        .apply(record(Some(schema), Some(Value::Struct(value))))
        .unwrap_err();
    assert_eq!(err.to_string(), "Unknown field: nonexistent");
    let mut nested = configured(
        ExtractField::new(Side::Value),
        &[("field", "outer.inner"), ("field.syntax.version", "V2")],
    );
    let inner = map(&[("inner", Some(Value::Int64(7)))]);
    let out = apply(
        &mut nested,
        record(None, Some(map(&[("outer", Some(inner))]))),
    );
    assert_eq!(out.value, Some(Value::Int64(7)));

    let mut hoist = configured(HoistField::new(Side::Value), &[("field", "magic")]);
    let out = apply(&mut hoist, record(None, Some(Value::Int32(42))));
    assert_eq!(out.value, Some(map(&[("magic", Some(Value::Int32(42)))])));
    let out = apply(
        &mut hoist,
        record(Some(Schema::int32()), Some(Value::Int32(42))),
    );
    let hoisted = SchemaBuilder::struct_()
        .field("magic", Schema::int32())
        .build()
        .unwrap();
    assert_eq!(out.value_schema, Some(hoisted.clone()));
    assert_eq!(
        out.value,
        Some(Value::Struct(structure(
            &hoisted,
            &[("magic", Some(Value::Int32(42)))]
        )))
    );
}

#[test]
fn cast_whole_values_and_fields() {
    let mut whole = configured(Cast::new(Side::Value), &[("spec", "int64")]);
    let out = apply(
        &mut whole,
        record(Some(Schema::int32()), Some(Value::Int32(42))),
    );
    assert_eq!(
        (out.value_schema, out.value),
        (Some(Schema::int64()), Some(Value::Int64(42)))
    );
    let out = apply(&mut whole, record(None, Some(Value::from("42"))));
    assert_eq!(out.value, Some(Value::Int64(42)));

    let schema = SchemaBuilder::struct_()
        .field("int8", Schema::int8())
        .field("string", Schema::optional_string())
        .field("bool", Schema::boolean())
        .build()
        .unwrap();
    let value = structure(
        &schema,
        &[
            ("int8", Some(Value::Int8(8))),
            ("string", Some(Value::from("123"))),
            ("bool", Some(Value::Boolean(true))),
        ],
    );
    let mut fields = configured(
        Cast::new(Side::Value),
        &[("spec", "int8:int32,string:int16,bool:string")],
    );
    let out = apply(
        &mut fields,
        record(Some(schema), Some(Value::Struct(value))),
    );
    let expected_schema = SchemaBuilder::struct_()
        .field("int8", Schema::int32())
        .field("string", Schema::optional_int16())
        .field("bool", Schema::string())
        .build()
        .unwrap();
    let expected = structure(
        &expected_schema,
        &[
            ("int8", Some(Value::Int32(8))),
            ("string", Some(Value::Int16(123))),
            ("bool", Some(Value::from("true"))),
        ],
    );
    assert_eq!(out.value_schema, Some(expected_schema));
    assert_eq!(out.value, Some(Value::Struct(expected)));

    let value = map(&[
        ("a", Some(Value::Float64(1.9))),
        ("b", Some(Value::from("x"))),
    ]);
    let mut schemaless = configured(
        Cast::new(Side::Value),
        &[("spec", "a:int32,missing:string")],
    );
    let out = apply(&mut schemaless, record(None, Some(value)));
    assert_eq!(
        out.value,
        Some(map(&[
            ("a", Some(Value::Int32(1))),
            ("b", Some(Value::from("x"))),
            ("missing", None)
        ]))
    );
}

#[test]
fn flatten_nested_structs_and_maps() {
    let value = map(&[
        (
            "A",
            Some(map(&[
                ("B", Some(map(&[("int8", Some(Value::Int8(8)))]))),
                ("s", Some(Value::from("x"))),
            ])),
        ),
        ("top", None),
    ]);
    let mut t = configured(Flatten::new(Side::Value), &[]);
    let out = apply(&mut t, record(None, Some(value.clone())));
    assert_eq!(
        out.value,
        Some(map(&[
            ("A.B.int8", Some(Value::Int8(8))),
            ("A.s", Some(Value::from("x"))),
            ("top", None)
        ]))
    );
    let mut underscore = configured(Flatten::new(Side::Value), &[("delimiter", "_")]);
    let Some(Value::Map(entries)) = apply(&mut underscore, record(None, Some(value))).value else {
        panic!()
    };
    assert_eq!(entries[0].0, Value::from("A_B_int8"));

    let inner = SchemaBuilder::struct_()
        .field("int8", Schema::int8())
        .field("opt", Schema::optional_string())
        .build()
        .unwrap();
    let outer = SchemaBuilder::struct_()
        .optional()
        .field("B", inner.clone())
        .build()
        .unwrap();
    let schema = SchemaBuilder::struct_()
        .name("n")
        .field("A", outer.clone())
        .field("top", Schema::int32())
        .build()
        .unwrap();
    let b = structure(&inner, &[("int8", Some(Value::Int8(8)))]);
    let a = structure(&outer, &[("B", Some(Value::Struct(b)))]);
    let value = structure(
        &schema,
        &[
            ("A", Some(Value::Struct(a))),
            ("top", Some(Value::Int32(1))),
        ],
    );
    let out = apply(&mut t, record(Some(schema), Some(Value::Struct(value))));
    let expected_schema = SchemaBuilder::struct_()
        .name("n")
        .field("A.B.int8", Schema::optional_int8())
        .field("A.B.opt", Schema::optional_string())
        .field("top", Schema::int32())
        .build()
        .unwrap();
    let expected = structure(
        &expected_schema,
        &[
            ("A.B.int8", Some(Value::Int8(8))),
            ("top", Some(Value::Int32(1))),
        ],
    );
    assert_eq!(out.value_schema, Some(expected_schema));
    assert_eq!(out.value, Some(Value::Struct(expected)));
}

#[test]
fn routers_and_schema_metadata() {
    let routed = |regex: &str, replacement: &str, topic: &str| {
        let mut t = by_name(
            "RegexRouter",
            &[("regex", regex), ("replacement", replacement)],
        );
        let mut r = record(None, None);
        r.topic = topic.into();
        apply(t.as_mut(), r).topic
    };
    assert_eq!(routed("foo", "bar", "foo"), "bar");
    assert_eq!(routed("foo", "bar", "notfoo"), "notfoo");
    assert_eq!(routed("(.*)", "prefix-$1", "orig"), "prefix-orig");
    assert_eq!(routed("(.*)", "$1-suffix", "orig"), "orig-suffix");
    assert_eq!(routed("(.*)-(\\d+)", "$1", "index-1"), "index");

    let mut ts = by_name("org.apache.kafka.connect.transforms.TimestampRouter", &[]);
    let mut r = record(None, None);
    r.timestamp = Some(1_483_425_001_864);
    assert_eq!(apply(ts.as_mut(), r.clone()).topic, "test-20170103");
    let mut custom = by_name(
        "TimestampRouter",
        &[
            ("topic.format", "${timestamp}_${topic}"),
            ("timestamp.format", "yyyy-MM-dd'T'HH"),
        ],
    );
    assert_eq!(
        apply(custom.as_mut(), r.clone()).topic,
        "2017-01-03T06_test"
    );
    r.timestamp = None;
    assert!(
        ts.apply(r)
            .unwrap_err()
            .to_string()
            .starts_with("Timestamp missing on record: ")
    );

    let schema = SchemaBuilder::struct_()
        .name("old")
        .doc("d")
        .field("a", Schema::int32())
        .build()
        .unwrap();
    let value = structure(&schema, &[("a", Some(Value::Int32(1)))]);
    let mut meta = configured(
        SetSchemaMetadata::new(Side::Value),
        &[("schema.name", "foo"), ("schema.version", "42")],
    );
    let out = apply(&mut meta, record(Some(schema), Some(Value::Struct(value))));
    let new_schema = out.value_schema.clone().unwrap();
    assert_eq!(
        (new_schema.name(), new_schema.version(), new_schema.doc()),
        (Some("foo"), Some(42), Some("d"))
    );
    let Some(Value::Struct(s)) = out.value else {
        panic!("not a struct")
    };
    assert_eq!(s.schema(), &new_schema);
    let err = meta.apply(record(None, Some(Value::Int32(1)))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Schema required for [updating schema metadata]"
    );
    let mut none = SetSchemaMetadata::new(Side::Key);
    let err = Transformation::<SourceRecord>::configure(&mut none, &configs(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Neither schema name nor version configured"
    );
}

#[test]
fn header_transformations() {
    let mut r = record(
        None,
        Some(map(&[
            ("f", Some(Value::Int32(5))),
            ("g", Some(Value::from("x"))),
        ])),
    );
    r.headers
        .add_string("keep", "k")
        .add_string("drop", "d")
        .add_string("drop", "d2");

    let mut insert = by_name(
        "InsertHeader",
        &[("header", "inserted"), ("value.literal", "42")],
    );
    let out = apply(insert.as_mut(), r.clone());
    let inserted = out.headers.last_with_name("inserted").unwrap();
    assert_eq!(
        (inserted.schema(), inserted.value()),
        (Some(&Schema::int8()), Some(&Value::Int8(42)))
    );

    let mut drop = by_name("DropHeaders", &[("headers", "drop")]);
    let out = apply(drop.as_mut(), r.clone());
    let keys: Vec<&str> = out.headers.iter().map(|h| h.key()).collect();
    assert_eq!(keys, ["keep"]);

    let mut moved = by_name(
        "org.apache.kafka.connect.transforms.HeaderFrom$Value",
        &[
            ("fields", "f"),
            ("headers", "from_f"),
            ("operation", "move"),
        ],
    );
    let out = apply(moved.as_mut(), r.clone());
    assert_eq!(out.value, Some(map(&[("g", Some(Value::from("x")))])));
    assert_eq!(
        out.headers.last_with_name("from_f").unwrap().value(),
        Some(&Value::Int32(5))
    );

    let schema = SchemaBuilder::struct_()
        .field("f", Schema::int32())
        .field("g", Schema::string())
        .build()
        .unwrap();
    let value = structure(
        &schema,
        &[("f", Some(Value::Int32(5))), ("g", Some(Value::from("x")))],
    );
    let mut copied = by_name(
        "org.apache.kafka.connect.transforms.HeaderFrom$Value",
        &[
            ("fields", "f,g"),
            ("headers", "h1,h2"),
            ("operation", "copy"),
        ],
    );
    let out = apply(
        copied.as_mut(),
        record(Some(schema.clone()), Some(Value::Struct(value.clone()))),
    );
    assert_eq!(out.value, Some(Value::Struct(value)));
    let h2 = out.headers.last_with_name("h2").unwrap();
    assert_eq!(
        (h2.schema(), h2.value()),
        (Some(&Schema::string()), Some(&Value::from("x")))
    );

    let mut bad =
        new_transformation::<SourceRecord>("org.apache.kafka.connect.transforms.HeaderFrom$Key")
            .unwrap();
    let err = bad
        .configure(&configs(&[
            ("fields", "a,b"),
            ("headers", "h"),
            ("operation", "copy"),
        ]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "'fields' config must have the same number of elements as 'headers' config."
    );
}

#[test]
fn timestamp_converter_between_representations() {
    use ferry_connect::data::Date;
    use ferry_runtime::transforms::TimestampConverter;

    // 1970-01-02T00:00:01Z, as in Kafka's own tests.
    let millis = 86_401_000;
    let format = "yyyy MM dd HH mm ss SSS z";
    let mut to_string = configured(
        TimestampConverter::new(Side::Value),
        &[("target.type", "string"), ("format", format)],
    );
    let out = apply(&mut to_string, record(None, Some(Value::Timestamp(millis))));
    assert_eq!(out.value, Some(Value::from("1970 01 02 00 00 01 000 UTC")));

    let mut to_unix = configured(
        TimestampConverter::new(Side::Value),
        &[
            ("target.type", "unix"),
            ("format", format),
            ("unix.precision", "seconds"),
        ],
    );
    let out = apply(
        &mut to_unix,
        record(
            Some(Schema::string()),
            Some(Value::from("1970 01 02 00 00 01 000 UTC")),
        ),
    );
    assert_eq!(
        (out.value_schema, out.value),
        (Some(Schema::int64()), Some(Value::Int64(86_401)))
    );

    let mut to_date = configured(
        TimestampConverter::new(Side::Value),
        &[("target.type", "Date"), ("field", "ts")],
    );
    let schema = SchemaBuilder::struct_()
        .field("ts", Schema::optional_int64())
        .field("other", Schema::string())
        .build()
        .unwrap();
    let value = structure(
        &schema,
        &[
            ("ts", Some(Value::Int64(millis))),
            ("other", Some(Value::from("o"))),
        ],
    );
    let out = apply(
        &mut to_date,
        record(Some(schema), Some(Value::Struct(value))),
    );
    let expected_schema = SchemaBuilder::struct_()
        .field("ts", Date::builder().optional().build().unwrap())
        .field("other", Schema::string())
        .build()
        .unwrap();
    let expected = structure(
        &expected_schema,
        &[
            ("ts", Some(Value::Date(1))),
            ("other", Some(Value::from("o"))),
        ],
    );
    assert_eq!(out.value_schema, Some(expected_schema));
    assert_eq!(out.value, Some(Value::Struct(expected)));

    let schemaless = apply(
        &mut to_date,
        record(None, Some(map(&[("ts", Some(Value::Int64(millis)))]))),
    );
    assert_eq!(schemaless.value, Some(map(&[("ts", Some(Value::Date(1)))])));

    let err = to_unix.apply(record(Some(Schema::string()), Some(Value::from("nope"))));
    assert_eq!(
        err.unwrap_err().to_string(),
        "Could not parse timestamp: value (nope) does not match pattern (yyyy MM dd HH mm ss SSS z)"
    );
    let mut missing_format = TimestampConverter::new(Side::Key);
    let err = Transformation::<SourceRecord>::configure(
        &mut missing_format,
        &configs(&[("target.type", "string")]),
    );
    assert_eq!(
        err.unwrap_err().to_string(),
        "TimestampConverter requires format option to be specified when using string timestamps"
    );
}
