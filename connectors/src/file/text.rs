//! The text `FileStreamSinkTask` writes for a value: what Java's `String.valueOf` gives for the
//! object the value is in Java.

use std::io::Write;

use ferry_connect::data::Value;

const MS_PER_DAY: i64 = 86_400_000;

/// Appends Java's `String.valueOf(value)` to `out`: `null`, numbers as Java prints them,
/// `[a, b]` for arrays, `{k=v, k2=v2}` for maps, `Struct{a=1,b=x}` for structs and
/// `java.util.Date.toString` in UTC for the date and time logical types.
///
/// Bytes are written as they are. Java prints a `byte[]` as its identity (`[B@1b6d3586`),
/// which no reader can use, so the raw bytes are the useful reading of "the value's text".
pub(crate) fn write_java_text(out: &mut Vec<u8>, value: Option<&Value>) {
    let Some(value) = value else {
        out.extend_from_slice(b"null");
        return;
    };
    match value {
        Value::Bytes(bytes) => out.extend_from_slice(bytes),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_java_text(out, item.as_ref());
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_java_text(out, Some(key));
                out.push(b'=');
                write_java_text(out, item.as_ref());
            }
            out.push(b'}');
        }
        Value::Struct(s) => {
            out.extend_from_slice(b"Struct{");
            let fields = s.schema().fields().unwrap_or_default();
            let mut first = true;
            for field in fields {
                // Java's Struct.toString leaves out fields without a value.
                let Ok(Some(item)) = s.get_without_default(field.name()) else {
                    continue;
                };
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(field.name().as_bytes());
                out.push(b'=');
                write_java_text(out, Some(item));
            }
            out.push(b'}');
        }
        Value::Date(days) => write_date(out, i64::from(*days) * MS_PER_DAY),
        Value::Time(millis) => write_date(out, i64::from(*millis)),
        Value::Timestamp(millis) => write_date(out, *millis),
        scalar => {
            let _ = write!(out, "{scalar}");
        }
    }
}

/// Java's `java.util.Date.toString` in UTC: `Thu Jan 01 00:00:00 UTC 1970`.
fn write_date(out: &mut Vec<u8>, epoch_ms: i64) {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch_ms.div_euclid(MS_PER_DAY);
    let secs = epoch_ms.rem_euclid(MS_PER_DAY) / 1000;
    let (year, month, day) = civil_from_days(days);
    let weekday = WEEKDAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[(month - 1) as usize];
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let _ = write!(
        out,
        "{weekday} {month} {day:02} {h:02}:{m:02}:{s:02} UTC {year}"
    );
}

/// The proleptic Gregorian (year, month 1–12, day 1–31) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // Howard Hinnant's algorithm: count in 400-year eras starting on March 1st, so that the
    // leap day is the last day of the shifted year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use ferry_connect::data::{Decimal, Schema, SchemaBuilder, Struct};

    use super::*;

    fn text(value: Option<Value>) -> String {
        let mut out = Vec::new();
        write_java_text(&mut out, value.as_ref());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn scalars_print_as_java_objects() {
        assert_eq!(text(None), "null");
        assert_eq!(text(Some(Value::from("line"))), "line");
        assert_eq!(text(Some(Value::Int64(-7))), "-7");
        assert_eq!(text(Some(Value::Float64(1e7))), "1.0E7");
        assert_eq!(text(Some(Value::Float32(2.0))), "2.0");
        assert_eq!(text(Some(Value::Boolean(true))), "true");
        assert_eq!(
            text(Some(Value::Decimal("12.50".parse::<Decimal>().unwrap()))),
            "12.50"
        );
        assert_eq!(text(Some(Value::from(vec![b'h', b'i']))), "hi");
    }

    #[test]
    fn collections_print_as_java_collections() {
        let array = Value::Array(vec![Some(Value::Int32(1)), None, Some(Value::from("x"))]);
        assert_eq!(text(Some(array)), "[1, null, x]");
        let map = Value::Map(vec![
            (Value::from("a"), Some(Value::Int32(1))),
            (Value::from("b"), None),
        ]);
        assert_eq!(text(Some(map)), "{a=1, b=null}");
    }

    #[test]
    fn structs_print_as_java_struct_to_string() {
        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int32())
            .field("note", Schema::optional_string())
            .field(
                "tags",
                SchemaBuilder::array(Schema::string()).build().unwrap(),
            )
            .build()
            .unwrap();
        let mut s = Struct::new(schema).unwrap();
        s.put("id", Value::Int32(3)).unwrap();
        s.put(
            "tags",
            Value::Array(vec![Some(Value::from("a")), Some(Value::from("b"))]),
        )
        .unwrap();
        assert_eq!(text(Some(Value::Struct(s))), "Struct{id=3,tags=[a, b]}");
    }

    #[test]
    fn dates_print_as_java_util_date_in_utc() {
        assert_eq!(
            text(Some(Value::Timestamp(0))),
            "Thu Jan 01 00:00:00 UTC 1970"
        );
        assert_eq!(
            text(Some(Value::Timestamp(1_709_210_096_789))),
            "Thu Feb 29 12:34:56 UTC 2024"
        );
        assert_eq!(
            text(Some(Value::Timestamp(-1))),
            "Wed Dec 31 23:59:59 UTC 1969"
        );
        assert_eq!(
            text(Some(Value::Date(11_016))),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
        assert_eq!(
            text(Some(Value::Time(3_723_000))),
            "Thu Jan 01 01:02:03 UTC 1970"
        );
    }
}
