//! String, byte-array and number converters: exact bytes both ways, nulls, and configuration.

use ferry_connect::connector::ConfigMap;
use ferry_connect::convert::{Converter, HeaderConverter};
use ferry_connect::data::{Schema, SchemaAndValue, Value};
use ferry_runtime::converters::{
    BooleanConverter, ByteArrayConverter, NumberConverter, NumberKind, StringConverter,
};

fn to_bytes(c: &dyn Converter, schema: Option<&Schema>, value: Option<Value>) -> Option<Vec<u8>> {
    c.from_connect_data("t", &mut Vec::new(), schema, value.as_ref())
        .unwrap()
        .map(|b| b.to_vec())
}

#[test]
fn string_converter_round_trips_and_encodings() {
    let mut c = StringConverter::default();
    Converter::configure(&mut c, &ConfigMap::new(), false).unwrap();
    assert_eq!(
        to_bytes(&c, None, Some(Value::from("héllo"))),
        Some("héllo".as_bytes().to_vec())
    );
    assert_eq!(
        to_bytes(&c, None, Some(Value::Float64(1.0))),
        Some(b"1.0".to_vec())
    );
    assert_eq!(to_bytes(&c, None, None), None);
    assert_eq!(
        c.to_connect_data("t", &[], Some("héllo".as_bytes()))
            .unwrap(),
        SchemaAndValue::new(Some(Schema::optional_string()), Some(Value::from("héllo")))
    );
    assert_eq!(
        c.to_connect_data("t", &[], None).unwrap(),
        SchemaAndValue::new(Some(Schema::optional_string()), None)
    );

    let mut latin = StringConverter::default();
    let conf = ConfigMap::from([("converter.encoding".to_owned(), "ISO-8859-1".to_owned())]);
    Converter::configure(&mut latin, &conf, true).unwrap();
    assert_eq!(
        to_bytes(&latin, None, Some(Value::from("é€"))),
        Some(vec![0xE9, b'?'])
    );
    assert_eq!(
        latin
            .to_connect_data("t", &[], Some(&[0xE9]))
            .unwrap()
            .value,
        Some(Value::from("é"))
    );

    let mut bad = StringConverter::default();
    let conf = ConfigMap::from([("converter.encoding".to_owned(), "EBCDIC-9".to_owned())]);
    let err = HeaderConverter::configure(&mut bad, &conf).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value EBCDIC-9 for configuration converter.encoding: Unsupported character set"
    );
}

#[test]
fn byte_array_converter_passes_bytes_through() {
    let c = ByteArrayConverter;
    let bytes = Value::Bytes(vec![0u8, 255, 7].into());
    assert_eq!(
        to_bytes(&c, Some(&Schema::bytes()), Some(bytes.clone())),
        Some(vec![0, 255, 7])
    );
    assert_eq!(to_bytes(&c, None, None), None);
    assert_eq!(
        c.to_connect_data("t", &[], Some(&[0, 255, 7])).unwrap(),
        SchemaAndValue::new(Some(Schema::optional_bytes()), Some(bytes))
    );
    let err = c.from_connect_data(
        "t",
        &mut Vec::new(),
        Some(&Schema::int32()),
        Some(&Value::Int32(1)),
    );
    assert_eq!(
        err.unwrap_err().to_string(),
        "Invalid schema type for ByteArrayConverter: INT32"
    );
    let err = c.from_connect_data("t", &mut Vec::new(), None, Some(&Value::from("s")));
    assert_eq!(
        err.unwrap_err().to_string(),
        "ByteArrayConverter is not compatible with objects of type class java.lang.String"
    );
}

#[test]
fn number_converters_use_big_endian_serializer_bytes() {
    let cases = [
        (
            NumberKind::Short,
            Value::Int16(-2),
            vec![0xFF, 0xFE],
            Schema::optional_int16(),
        ),
        (
            NumberKind::Integer,
            Value::Int32(258),
            vec![0, 0, 1, 2],
            Schema::optional_int32(),
        ),
        (
            NumberKind::Long,
            Value::Int64(-1),
            vec![0xFF; 8],
            Schema::optional_int64(),
        ),
        (
            NumberKind::Float,
            Value::Float32(1.5),
            vec![0x3F, 0xC0, 0, 0],
            Schema::optional_float32(),
        ),
        (
            NumberKind::Double,
            Value::Float64(-2.0),
            vec![0xC0, 0, 0, 0, 0, 0, 0, 0],
            Schema::optional_float64(),
        ),
    ];
    for (kind, value, bytes, schema) in cases {
        let mut c = NumberConverter::new(kind);
        Converter::configure(&mut c, &ConfigMap::new(), false).unwrap();
        assert_eq!(to_bytes(&c, None, Some(value.clone())), Some(bytes.clone()));
        assert_eq!(
            c.to_connect_data("t", &[], Some(&bytes)).unwrap(),
            SchemaAndValue::new(Some(schema.clone()), Some(value))
        );
        assert_eq!(
            c.to_connect_data("t", &[], None).unwrap(),
            SchemaAndValue::new(Some(schema), None)
        );
        assert_eq!(to_bytes(&c, None, None), None);
    }
    let c = NumberConverter::new(NumberKind::Integer);
    let err = c.to_connect_data("t", &[], Some(&[1, 2])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to deserialize integer: Size of data received by IntegerDeserializer is not 4"
    );
    let err = c
        .from_connect_data("t", &mut Vec::new(), None, Some(&Value::Int64(1)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to serialize to integer (was class java.lang.Long): "
    );

    let b = BooleanConverter;
    assert_eq!(
        to_bytes(&b, Some(&Schema::boolean()), Some(Value::Boolean(true))),
        Some(vec![1])
    );
    assert_eq!(
        b.to_connect_data("t", &[], Some(&[0])).unwrap().value,
        Some(Value::Boolean(false))
    );
    let err = b.to_connect_data("t", &[], Some(&[2])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: 2"
    );
}
