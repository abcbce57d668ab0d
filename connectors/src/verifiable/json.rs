//! The JSON lines the Verifiable tasks print, with Java's key order, and the JSON form of
//! Connect values in them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ferry_connect::data::Value;
use serde::Serialize;
use serde_json::{Number, Value as Json};

/// What a source task reports for a record it produced (`committed` absent) or that Kafka
/// acknowledged (`committed: true`). Fields are in the order Java's `HashMap` prints them.
#[derive(Debug, Serialize)]
pub(crate) struct SourceLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) committed: Option<bool>,
    pub(crate) task: i32,
    pub(crate) seqno: i64,
    pub(crate) time_ms: i64,
    pub(crate) name: Option<&'a str>,
    pub(crate) topic: &'a str,
}

/// What a sink task reports for a record it received (`flushed` absent) or whose offset was
/// flushed (`flushed: true`). Fields are in the order Java's `HashMap` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SinkLine {
    /// The record's key: the id of the source task that produced it.
    pub(crate) task: Json,
    /// The record's value: the source task's sequence number.
    pub(crate) seqno: Json,
    pub(crate) offset: i64,
    pub(crate) time_ms: i64,
    pub(crate) name: Option<String>,
    pub(crate) topic: String,
    #[serde(rename = "sinkTask")]
    pub(crate) sink_task: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) flushed: Option<bool>,
}

/// A line as JSON text.
pub(crate) fn to_line(line: &impl Serialize) -> String {
    serde_json::to_string(line)
        .unwrap_or_else(|e| format!("Bad data can't be written as json: {e}"))
}

/// A Connect value as Jackson writes the Java object: numbers as numbers (non-finite ones as
/// strings), bytes in base64, dates as epoch milliseconds, maps with their keys' text, and
/// structs as objects of their fields.
pub(crate) fn value_to_json(value: Option<&Value>) -> Json {
    let Some(value) = value else {
        return Json::Null;
    };
    match value {
        Value::Int8(v) => Json::from(*v),
        Value::Int16(v) => Json::from(*v),
        Value::Int32(v) | Value::Time(v) => Json::from(*v),
        Value::Int64(v) | Value::Timestamp(v) => Json::from(*v),
        Value::Date(days) => Json::from(i64::from(*days) * 86_400_000),
        // Through the shortest text of the f32, so that 0.1f prints as 0.1 as in Java.
        Value::Float32(v) => float_json(
            v.to_string().parse().unwrap_or(f64::NAN),
            &value.to_string(),
        ),
        Value::Float64(v) => float_json(*v, &value.to_string()),
        Value::Boolean(v) => Json::Bool(*v),
        Value::String(v) => Json::String(v.clone()),
        Value::Bytes(v) => Json::String(STANDARD.encode(v)),
        Value::Decimal(d) => {
            let text = d.to_string();
            text.parse::<Number>()
                .map_or(Json::String(text), Json::Number)
        }
        Value::Array(items) => items
            .iter()
            .map(|item| value_to_json(item.as_ref()))
            .collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.to_string(), value_to_json(v.as_ref())))
            .collect(),
        Value::Struct(s) => s
            .schema()
            .fields()
            .unwrap_or_default()
            .iter()
            .map(|field| {
                let item = s.get_without_default(field.name()).ok().flatten();
                (field.name().to_owned(), value_to_json(item))
            })
            .collect(),
    }
}

fn float_json(v: f64, java_text: &str) -> Json {
    Number::from_f64(v).map_or_else(|| Json::String(java_text.to_owned()), Json::Number)
}

#[cfg(test)]
mod tests {
    use ferry_connect::data::{Schema, SchemaBuilder, Struct};
    use serde_json::json;

    use super::*;

    #[test]
    fn lines_keep_java_key_order() {
        let line = SourceLine {
            committed: None,
            task: 1,
            seqno: 7,
            time_ms: 5,
            name: Some("v"),
            topic: "t",
        };
        assert_eq!(
            to_line(&line),
            r#"{"task":1,"seqno":7,"time_ms":5,"name":"v","topic":"t"}"#
        );
        let line = SourceLine {
            committed: Some(true),
            name: None,
            ..line
        };
        assert_eq!(
            to_line(&line),
            r#"{"committed":true,"task":1,"seqno":7,"time_ms":5,"name":null,"topic":"t"}"#
        );
        let line = SinkLine {
            task: json!(1),
            seqno: json!(7),
            offset: 3,
            time_ms: 5,
            name: Some("s".into()),
            topic: "t".into(),
            sink_task: 0,
            flushed: Some(true),
        };
        assert_eq!(
            to_line(&line),
            r#"{"task":1,"seqno":7,"offset":3,"time_ms":5,"name":"s","topic":"t","sinkTask":0,"flushed":true}"#
        );
    }

    #[test]
    fn values_serialize_as_jackson_writes_java_objects() {
        let cases = [
            (None, json!(null)),
            (Some(Value::Int64(42)), json!(42)),
            (Some(Value::Float32(0.1)), json!(0.1)),
            (Some(Value::Float64(f64::NAN)), json!("NaN")),
            (Some(Value::from("x")), json!("x")),
            (Some(Value::from(vec![1u8, 2, 3])), json!("AQID")),
            (Some(Value::Date(1)), json!(86_400_000)),
            (Some(Value::Decimal("1.50".parse().unwrap())), json!(1.5)),
            (
                Some(Value::Array(vec![Some(Value::Int32(1)), None])),
                json!([1, null]),
            ),
            (
                Some(Value::Map(vec![(Value::Int32(1), Some(Value::from("a")))])),
                json!({"1": "a"}),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(value_to_json(value.as_ref()), expected, "{value:?}");
        }
    }

    #[test]
    fn structs_serialize_as_objects_of_their_fields() {
        let schema = SchemaBuilder::struct_()
            .field("seqno", Schema::int64())
            .field("name", Schema::optional_string())
            .build()
            .unwrap();
        let mut s = Struct::new(schema).unwrap();
        s.put("seqno", Value::Int64(9)).unwrap();
        assert_eq!(
            value_to_json(Some(&Value::Struct(s))),
            json!({"seqno": 9, "name": null})
        );
    }
}
