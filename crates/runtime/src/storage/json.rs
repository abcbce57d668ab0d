//! JSON written byte for byte as Java's `JsonConverter` (schemas disabled) writes it through
//! Jackson: compact, fields in schema order, control characters escaped with upper-case hex,
//! and schemaless maps in the iteration order of a `java.util.HashMap`.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// Serializes `value` compactly with Jackson's escapes.
///
/// ```
/// let bytes = ferry_runtime::storage::json::to_vec(&serde_json::json!({"a": "\u{1}"}));
/// assert_eq!(bytes, br#"{"a":"\u0001"}"#);
/// ```
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, JacksonFormatter);
    value
        .serialize(&mut serializer)
        .expect("serializing plain data into memory cannot fail");
    out
}

/// Compact JSON whose escapes match Jackson's defaults.
struct JacksonFormatter;

impl Formatter for JacksonFormatter {
    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        match char_escape {
            // Jackson writes `\u00XX` with upper-case hex digits.
            CharEscape::AsciiControl(byte) => write!(writer, "\\u{:04X}", byte),
            other => CompactFormatter.write_char_escape(writer, other),
        }
    }
}

/// Orders map keys as a `java.util.HashMap<String, _>` filled with them in this order iterates
/// them: by hash bucket, then insertion order within a bucket.
///
/// Java connectors build their source partitions and offsets in `HashMap`s (MirrorMaker 2
/// does), and Java's offset store finds an offset by the exact key bytes, so Ferry writes map
/// keys in this order for a Java worker to find what Ferry wrote.
///
/// ```
/// let keys = ferry_runtime::storage::json::java_hash_map_order(["topic", "partition", "cluster"]);
/// assert_eq!(keys, ["cluster", "partition", "topic"]);
/// ```
pub fn java_hash_map_order<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut keys: Vec<&str> = keys.into_iter().collect();
    // A HashMap starts with 16 buckets and doubles when more than 3/4 full.
    let mut buckets: usize = 16;
    while keys.len() > buckets / 4 * 3 {
        buckets *= 2;
    }
    keys.sort_by_key(|k| java_hash_spread(k) as usize & (buckets - 1));
    keys
}

/// `String.hashCode` mixed the way `HashMap.hash` mixes it.
fn java_hash_spread(s: &str) -> u32 {
    let h = s
        .encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c))) as u32;
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn strings_read_back_and_differ_from_serde_only_in_hex_case(s in any::<String>()) {
            let ours = to_vec(&s);
            prop_assert_eq!(serde_json::from_slice::<String>(&ours).unwrap(), s.clone());
            let serde = serde_json::to_string(&s).unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap().to_lowercase(), serde.to_lowercase());
        }
    }

    #[test]
    fn escapes_like_jackson() {
        let s = "q\"b\\s/\u{8}\u{c}\n\r\t\u{1f}\u{7f}é";
        assert_eq!(
            String::from_utf8(to_vec(s)).unwrap(),
            "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u001F\u{7f}é\""
        );
    }

    #[test]
    fn hash_map_order_by_bucket_then_insertion() {
        // "Aa" and "BB" share a String.hashCode, so they share a bucket.
        assert_eq!(java_hash_map_order(["BB", "Aa"]), ["BB", "Aa"]);
        assert_eq!(java_hash_map_order(["Aa", "BB"]), ["Aa", "BB"]);
        // Single letters hash to their code point: q (113) and a (97) share bucket 1, b is in 2.
        assert_eq!(java_hash_map_order(["q", "b", "a"]), ["q", "a", "b"]);
    }

    #[test]
    fn hash_map_grows_past_twelve_keys() {
        // With 13 keys the table has 32 buckets: "a" (97 -> 1) now precedes "q" (113 -> 17).
        let keys: Vec<String> = (0..11).map(|i| format!("k{i}")).collect();
        let mut all: Vec<&str> = vec!["q", "a"];
        all.extend(keys.iter().map(String::as_str));
        let ordered = java_hash_map_order(all);
        let a = ordered.iter().position(|k| *k == "a").unwrap();
        let q = ordered.iter().position(|k| *k == "q").unwrap();
        assert!(a < q);
        let few = java_hash_map_order(["q", "a"]);
        assert_eq!(few, ["q", "a"]);
    }
}
