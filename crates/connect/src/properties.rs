//! Java `.properties` files, the syntax of `java.util.Properties.load` and `store`, used for
//! worker configs (`connect-distributed.properties`), `mm2.properties` and `FileConfigProvider`.
//!
//! The rules: a logical line may span several natural lines, each but the last ending in an odd
//! number of backslashes; leading whitespace (space, tab, form feed) of every natural line is
//! dropped; lines whose first non-blank character is `#` or `!` are comments, and a comment never
//! continues onto the next line; the key ends at the first unescaped `=`, `:` or whitespace, and
//! whitespace plus at most one `=`/`:` separate it from the value; `\t \n \r \f \uXXXX` are
//! escapes, and a backslash before any other character stands for that character.

use std::fmt::Write as _;
use std::path::Path;

use indexmap::IndexMap;
use thiserror::Error;

/// Errors reading a properties file.
#[derive(Debug, Error)]
pub enum PropertiesError {
    /// A `\u` escape not followed by four hexadecimal digits (Java throws
    /// `IllegalArgumentException: Malformed \uxxxx encoding.`).
    #[error("Malformed \\uxxxx encoding.")]
    MalformedUnicodeEscape,
    /// The file could not be read.
    #[error("could not read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Key/value pairs read from a properties file, in the order keys first appeared; a repeated key
/// keeps its first position and its last value, as `Properties` (a hash table) keeps the last.
///
/// ```
/// use ferry_connect::properties::Properties;
/// let props = Properties::parse("# worker\nbootstrap.servers = localhost:9092\n\
///     group.id: connect\\\n    -cluster\nempty\n").unwrap();
/// assert_eq!(props.get("bootstrap.servers"), Some("localhost:9092"));
/// assert_eq!(props.get("group.id"), Some("connect-cluster"));
/// assert_eq!(props.get("empty"), Some(""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Properties {
    entries: IndexMap<String, String>,
}

impl Properties {
    /// No properties.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses properties text, as `Properties.load(Reader)` does.
    ///
    /// # Errors
    /// [`PropertiesError::MalformedUnicodeEscape`].
    pub fn parse(text: &str) -> Result<Self, PropertiesError> {
        let mut props = Self::new();
        for line in logical_lines(text) {
            let (key, value) = split_line(&line);
            props.insert(unescape(key)?, unescape(value)?);
        }
        Ok(props)
    }

    /// Parses bytes decoded as ISO-8859-1, as `Properties.load(InputStream)` does; Kafka reads
    /// worker and MirrorMaker config files this way.
    ///
    /// # Errors
    /// [`PropertiesError::MalformedUnicodeEscape`].
    pub fn parse_latin1(bytes: &[u8]) -> Result<Self, PropertiesError> {
        Self::parse(&bytes.iter().map(|&b| char::from(b)).collect::<String>())
    }

    /// Reads a file as ISO-8859-1 ([`Properties::parse_latin1`]).
    ///
    /// # Errors
    /// [`PropertiesError`] when the file cannot be read or parsed.
    pub fn load_latin1(path: impl AsRef<Path>) -> Result<Self, PropertiesError> {
        Self::parse_latin1(&read(path.as_ref())?)
    }

    /// Reads a file as UTF-8, as `FileConfigProvider` does.
    ///
    /// # Errors
    /// [`PropertiesError`] when the file cannot be read or parsed.
    pub fn load_utf8(path: impl AsRef<Path>) -> Result<Self, PropertiesError> {
        Self::parse(&String::from_utf8_lossy(&read(path.as_ref())?))
    }

    /// Sets `key` to `value`, keeping the key's position if it is already present.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.entries.insert(key.into(), value.into());
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The pairs as a map.
    pub fn into_map(self) -> std::collections::HashMap<String, String> {
        self.entries.into_iter().collect()
    }

    /// Writes the pairs as `Properties.store` does (without its date comment): one `key=value`
    /// line each, with spaces in keys, leading spaces of values, `= : # !`, backslashes and
    /// control characters escaped, and non-ASCII characters as `\uXXXX`.
    pub fn store(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.entries {
            escape_into(&mut out, key, true);
            out.push('=');
            escape_into(&mut out, value, false);
            out.push('\n');
        }
        out
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Properties {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut props = Self::new();
        for (k, v) in iter {
            props.insert(k, v);
        }
        props
    }
}

fn read(path: &Path) -> Result<Vec<u8>, PropertiesError> {
    std::fs::read(path).map_err(|source| PropertiesError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// Joins natural lines into logical lines, dropping blank and comment lines, leading whitespace,
/// and the backslash-newline of each continuation (Java's `Properties.LineReader`).
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut continuing = false;
    for natural in natural_lines(text) {
        let stripped = natural.trim_start_matches(is_blank);
        if !continuing && (stripped.is_empty() || stripped.starts_with(['#', '!'])) {
            continue;
        }
        let trailing = stripped.chars().rev().take_while(|&c| c == '\\').count();
        if trailing % 2 == 1 {
            current.push_str(&stripped[..stripped.len() - 1]);
            continuing = true;
        } else {
            current.push_str(stripped);
            continuing = false;
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Splits on `\n`, `\r` and `\r\n`.
fn natural_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(['\n', '\r']) {
            Some(end) => {
                let line = &rest[..end];
                let skip = if rest[end..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = &rest[end + skip..];
                Some(line)
            }
            None => Some(std::mem::take(&mut rest)),
        }
    })
}

/// Splits a logical line into its raw (still escaped) key and value.
fn split_line(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    let mut value_start = line.len();
    let mut has_separator = false;
    for (i, c) in line.char_indices() {
        if !escaped && (c == '=' || c == ':') {
            key_end = i;
            value_start = i + 1;
            has_separator = true;
            break;
        }
        if !escaped && is_blank(c) {
            key_end = i;
            value_start = i + c.len_utf8();
            break;
        }
        escaped = c == '\\' && !escaped;
    }
    let mut rest = &line[value_start..];
    loop {
        rest = rest.trim_start_matches(is_blank);
        match rest.strip_prefix(['=', ':']) {
            Some(after) if !has_separator => {
                has_separator = true;
                rest = after;
            }
            _ => break,
        }
    }
    (&line[..key_end], rest)
}

/// Resolves escapes (Java's `loadConvert`).
fn unescape(raw: &str) -> Result<String, PropertiesError> {
    let mut units: Vec<u16> = Vec::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        let c = if c == '\\' {
            match chars.next() {
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let unit = (hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                        .then(|| u16::from_str_radix(&hex, 16).ok())
                        .flatten()
                        .ok_or(PropertiesError::MalformedUnicodeEscape)?;
                    units.push(unit);
                    continue;
                }
                Some('t') => '\t',
                Some('n') => '\n',
                Some('r') => '\r',
                Some('f') => '\u{c}',
                Some(other) => other,
                None => break,
            }
        } else {
            c
        };
        let mut buf = [0u16; 2];
        units.extend_from_slice(c.encode_utf16(&mut buf));
    }
    Ok(String::from_utf16_lossy(&units))
}

/// Escapes as Java's `saveConvert` with Unicode escaping on.
fn escape_into(out: &mut String, text: &str, is_key: bool) {
    for (i, c) in text.chars().enumerate() {
        match c {
            ' ' if i == 0 || is_key => out.push_str("\\ "),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '=' | ':' | '#' | '!' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "properties_tests.rs"]
mod tests;
