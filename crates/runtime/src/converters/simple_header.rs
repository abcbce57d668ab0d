//! `org.apache.kafka.connect.storage.SimpleHeaderConverter`: header values as the strings of
//! Connect's `Values.convertToString`, read back with `Values.parseString`'s inference.

use bytes::Bytes;
use ferry_connect::Result;
use ferry_connect::connector::ConfigMap;
use ferry_connect::convert::HeaderConverter;
use ferry_connect::data::{Schema, SchemaAndValue, Value, convert_to_string, parse_string};

/// Writes header values as strings and infers a schema when reading them.
///
/// Reading infers the schema as Connect's `Values.parseString` does: `BOOLEAN` for
/// `true`/`false`, the smallest integer type (`INT8` → `INT64`) for whole numbers,
/// `FLOAT32`/`FLOAT64` for fractions, a `Decimal` beyond those, ISO-8601 dates and times, arrays
/// and maps, and `STRING` otherwise.
///
/// ```
/// use ferry_connect::convert::HeaderConverter;
/// use ferry_connect::data::{Schema, Value};
/// use ferry_runtime::converters::SimpleHeaderConverter;
/// let c = SimpleHeaderConverter;
/// let parsed = c.to_connect_header("t", "h", Some(b"300")).unwrap();
/// assert_eq!(parsed.schema, Some(Schema::int16()));
/// assert_eq!(parsed.value, Some(Value::Int16(300)));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SimpleHeaderConverter;

impl HeaderConverter for SimpleHeaderConverter {
    fn configure(&mut self, _configs: &ConfigMap) -> Result<()> {
        Ok(())
    }

    fn from_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        _schema: Option<&Schema>,
        value: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        Ok(convert_to_string(value).map(Bytes::from))
    }

    fn to_connect_header(
        &self,
        _topic: &str,
        _header_key: &str,
        value: Option<&[u8]>,
    ) -> Result<SchemaAndValue> {
        let Some(value) = value else {
            return Ok(SchemaAndValue::NULL);
        };
        // Java decodes with replacement characters, so any bytes parse.
        Ok(parse_string(&String::from_utf8_lossy(value)))
    }
}

#[cfg(test)]
mod tests {
    use ferry_connect::data::Decimal;

    use super::*;

    fn parse(text: &str) -> SchemaAndValue {
        SimpleHeaderConverter
            .to_connect_header("t", "h", Some(text.as_bytes()))
            .unwrap()
    }

    fn write(value: Value) -> String {
        let bytes = SimpleHeaderConverter.from_connect_header("t", "h", None, Some(&value));
        String::from_utf8(bytes.unwrap().unwrap().to_vec()).unwrap()
    }

    #[test]
    fn infers_the_smallest_number_type() {
        assert_eq!(
            parse("12"),
            SchemaAndValue::new(Some(Schema::int8()), Some(Value::Int8(12)))
        );
        assert_eq!(parse("-129").value, Some(Value::Int16(-129)));
        assert_eq!(parse("40000").value, Some(Value::Int32(40000)));
        assert_eq!(parse("5000000000").value, Some(Value::Int64(5_000_000_000)));
        assert_eq!(parse("1.0").value, Some(Value::Int8(1)));
        assert_eq!(parse("1e3").value, Some(Value::Int16(1000)));
        assert_eq!(
            parse("1.5"),
            SchemaAndValue::new(Some(Schema::float32()), Some(Value::Float32(1.5)))
        );
        assert_eq!(parse("1e300").schema, Some(Schema::float64()));
        let big = parse("123456789012345678901234567890");
        assert_eq!(big.schema, Some(Decimal::schema(0)));
    }

    #[test]
    fn infers_booleans_strings_and_null() {
        assert_eq!(parse("true").value, Some(Value::Boolean(true)));
        assert_eq!(parse("false").schema, Some(Schema::boolean()));
        assert_eq!(parse("null"), SchemaAndValue::NULL);
        assert_eq!(parse("hello world").value, Some(Value::from("hello world")));
        assert_eq!(parse("").schema, Some(Schema::string()));
        assert_eq!(parse("-x").value, Some(Value::from("-x")));
        let none = SimpleHeaderConverter
            .to_connect_header("t", "h", None)
            .unwrap();
        assert_eq!(none, SchemaAndValue::NULL);
    }

    #[test]
    fn writes_values_as_java_values_strings() {
        assert_eq!(write(Value::from("a\"b")), "a\"b");
        assert_eq!(write(Value::Float64(1.0)), "1.0");
        assert_eq!(write(Value::Bytes(vec![1u8, 2, 3].into())), "AQID");
        let list = Value::Array(vec![Some(Value::from("x\"y")), None, Some(Value::Int32(3))]);
        assert_eq!(write(list), r#"["x\"y",null,3]"#);
        let map = Value::Map(vec![(Value::from("k"), Some(Value::Boolean(true)))]);
        assert_eq!(write(map), r#"{"k":true}"#);
        assert_eq!(write(Value::Date(18_690)), "2021-03-04");
        assert_eq!(write(Value::Time(3_723_004)), "01:02:03.004Z");
        assert_eq!(
            write(Value::Timestamp(1_614_834_367_089)),
            "2021-03-04T05:06:07.089Z"
        );
    }
}
