//! A JSON tree that keeps numbers as their text and writes bytes the way Jackson's compact
//! `ObjectMapper` does, so that Ferry's JSON output is byte-identical to Java's.
//!
//! `serde_json` is not used here because it loses the scale of decimal numbers (`1.50`), escapes
//! control characters in lower-case hex, and formats floats differently from Java.

use std::fmt::Write;

use ferry_connect::java::double_to_string;
use ferry_connect::{ConnectError, Result};

/// A parsed or generated JSON value. Objects keep insertion order, as Jackson's `ObjectNode`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsonNode {
    Null,
    Bool(bool),
    /// A number as its JSON text, e.g. `-12`, `1.50`, `1.0E10`.
    Number(String),
    String(String),
    Array(Vec<JsonNode>),
    Object(Vec<(String, JsonNode)>),
}

impl JsonNode {
    /// Jackson's `JsonNodeType` name, used in error messages.
    pub(crate) fn node_type(&self) -> &'static str {
        match self {
            JsonNode::Null => "NULL",
            JsonNode::Bool(_) => "BOOLEAN",
            JsonNode::Number(_) => "NUMBER",
            JsonNode::String(_) => "STRING",
            JsonNode::Array(_) => "ARRAY",
            JsonNode::Object(_) => "OBJECT",
        }
    }

    /// The member `name` of an object.
    pub(crate) fn get(&self, name: &str) -> Option<&JsonNode> {
        match self {
            JsonNode::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets member `name` of an object, replacing an existing one in place like a `LinkedHashMap`.
    pub(crate) fn set(&mut self, name: &str, value: JsonNode) {
        if let JsonNode::Object(members) = self {
            match members.iter_mut().find(|(k, _)| k == name) {
                Some(slot) => slot.1 = value,
                None => members.push((name.to_owned(), value)),
            }
        }
    }

    /// Whether this is a number without fraction or exponent, Jackson's `isIntegralNumber`.
    pub(crate) fn is_integral(&self) -> bool {
        matches!(self, JsonNode::Number(n) if !n.contains(['.', 'e', 'E']))
    }

    /// Whether this is an integral number that fits an `int`, Jackson's `isInt` after parsing.
    pub(crate) fn is_int(&self) -> bool {
        match self {
            JsonNode::Number(n) if self.is_integral() => n.parse::<i32>().is_ok(),
            _ => false,
        }
    }

    /// Jackson's `longValue()`: integral numbers wrap like a Java narrowing cast, fractions are
    /// truncated, and anything that is not a number is 0.
    pub(crate) fn long_value(&self) -> i64 {
        match self {
            JsonNode::Number(n) if self.is_integral() => match n.parse::<i128>() {
                Ok(v) => v as i64,
                Err(_) => self.double_value() as i64,
            },
            JsonNode::Number(_) => self.double_value() as i64,
            _ => 0,
        }
    }

    /// Jackson's `doubleValue()`; 0 for anything that is not a number.
    pub(crate) fn double_value(&self) -> f64 {
        match self {
            JsonNode::Number(n) => n.parse().unwrap_or(0.0),
            _ => 0.0,
        }
    }

    /// Jackson's `floatValue()`: the decimal text rounded once, straight to a `float`.
    pub(crate) fn float_value(&self) -> f32 {
        match self {
            JsonNode::Number(n) => n.parse().unwrap_or(0.0),
            _ => 0.0,
        }
    }

    /// Compact JSON bytes as Jackson writes them.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.to_text().into_bytes()
    }

    /// Compact JSON text as Jackson writes it.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            JsonNode::Null => out.push_str("null"),
            JsonNode::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonNode::Number(n) => out.push_str(n),
            JsonNode::String(s) => write_string(s, out),
            JsonNode::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            JsonNode::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Parses one JSON document; empty input (only whitespace) gives `None`, as Jackson's
    /// `readTree` gives a missing node.
    ///
    /// # Errors
    /// [`ConnectError::Data`] for malformed JSON or trailing content.
    pub(crate) fn parse(input: &[u8]) -> Result<Option<JsonNode>> {
        let mut parser = Parser { input, pos: 0 };
        parser.skip_ws();
        if parser.pos == input.len() {
            return Ok(None);
        }
        let node = parser.value(0)?;
        parser.skip_ws();
        if parser.pos != input.len() {
            return Err(parser.error("trailing content after the JSON value"));
        }
        Ok(Some(node))
    }
}

/// Escapes like Jackson: the two-character escapes for `"`, `\`, `\b`, `\t`, `\n`, `\f`, `\r`,
/// upper-case `\u00XX` for other control characters, and everything else as UTF-8.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Jackson's default nesting limit for reading (`StreamReadConstraints`).
const MAX_DEPTH: usize = 1000;

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> ConnectError {
        ConnectError::data(format!(
            "Converting byte[] to Kafka Connect data failed due to serialization error: {what} at \
             byte {}",
            self.pos
        ))
    }

    fn skip_ws(&mut self) {
        while matches!(self.input.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, literal: &[u8]) -> bool {
        if self.input[self.pos..].starts_with(literal) {
            self.pos += literal.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonNode> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.skip_ws();
        match self.input.get(self.pos) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(JsonNode::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ if self.eat(b"true") => Ok(JsonNode::Bool(true)),
            _ if self.eat(b"false") => Ok(JsonNode::Bool(false)),
            _ if self.eat(b"null") => Ok(JsonNode::Null),
            _ => Err(self.error("unexpected character")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonNode> {
        self.pos += 1;
        let mut node = JsonNode::Object(Vec::new());
        self.skip_ws();
        if self.eat(b"}") {
            return Ok(node);
        }
        loop {
            self.skip_ws();
            if self.input.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a field name"));
            }
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(b":") {
                return Err(self.error("expected ':'"));
            }
            let value = self.value(depth + 1)?;
            node.set(&key, value);
            self.skip_ws();
            if self.eat(b"}") {
                return Ok(node);
            }
            if !self.eat(b",") {
                return Err(self.error("expected ',' or '}'"));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonNode> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b"]") {
            return Ok(JsonNode::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            if self.eat(b"]") {
                return Ok(JsonNode::Array(items));
            }
            if !self.eat(b",") {
                return Err(self.error("expected ',' or ']'"));
            }
        }
    }

    fn number(&mut self) -> Result<JsonNode> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while matches!(p.input.get(p.pos), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos - from
        };
        self.eat(b"-");
        let int_start = self.pos;
        let int_len = digits(self);
        if int_len == 0 {
            return Err(self.error("invalid number"));
        }
        if self.eat(b".") && digits(self) == 0 {
            return Err(self.error("invalid number"));
        }
        if matches!(self.input.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.input.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        // Kafka's deserializer enables ALLOW_LEADING_ZEROS_FOR_NUMBERS; the zeros carry no value.
        let zeros = self.input[int_start..int_start + int_len - 1]
            .iter()
            .take_while(|&&b| b == b'0');
        let skip = zeros.count();
        let mut text = String::from_utf8_lossy(&self.input[start..int_start]).into_owned();
        text.push_str(&String::from_utf8_lossy(
            &self.input[int_start + skip..self.pos],
        ));
        Ok(JsonNode::Number(text))
    }

    fn string(&mut self) -> Result<String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.input.get(self.pos) else {
                return Err(self.error("unterminated string"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => self.escape(&mut out)?,
                b if b < 0x20 => return Err(self.error("unescaped control character")),
                b => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let Some(&b) = self.input.get(self.pos) else {
            return Err(self.error("unterminated escape"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&first) && self.eat(b"\\u") {
                    let second = self.hex4()?;
                    0x10000 + ((first - 0xD800) << 10) + (second.wrapping_sub(0xDC00) & 0x3FF)
                } else {
                    first
                };
                char::from_u32(code).unwrap_or('\u{FFFD}')
            }
            _ => return Err(self.error("invalid escape")),
        };
        let mut buf = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32> {
        let hex = self
            .input
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("bad \\u"))?;
        let text = std::str::from_utf8(hex).map_err(|_| self.error("bad \\u"))?;
        let code = u32::from_str_radix(text, 16).map_err(|_| self.error("bad \\u"))?;
        self.pos += 4;
        Ok(code)
    }
}

/// A `float` or `double` as Jackson writes it: a number in Java's `Float.toString` /
/// `Double.toString` text (the shortest digits that identify the value in its own width), or for
/// NaN and the infinities that text as a string.
pub(crate) fn java_number<T>(v: T) -> JsonNode
where
    T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp,
{
    let text = double_to_string(v);
    if v.into().is_finite() {
        JsonNode::Number(text)
    } else {
        JsonNode::String(text)
    }
}
