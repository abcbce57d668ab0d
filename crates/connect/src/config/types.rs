//! The value types of `ConfigDef`: [`ConfigType`], [`TypedValue`], [`Password`], [`Importance`],
//! [`Width`], and Java's rules for parsing a string into a typed value.

use std::fmt;

use crate::error::ConfigError;
use crate::java;

/// The type of a configuration key, Java's `ConfigDef.Type`.
///
/// `Display` gives Java's upper-case name, as the validation JSON shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigType {
    /// `true` or `false`, case-insensitive.
    Boolean,
    /// A string, trimmed.
    String,
    /// A 32-bit integer.
    Int,
    /// A 16-bit integer.
    Short,
    /// A 64-bit integer.
    Long,
    /// A double.
    Double,
    /// A comma-separated list of strings.
    List,
    /// A class name. Ferry cannot load classes, so any name parses; the plugin registry decides
    /// whether it names something.
    Class,
    /// A string kept out of logs and REST responses.
    Password,
}

impl ConfigType {
    /// Java's enum name: `BOOLEAN`, `STRING`, `INT`, `SHORT`, `LONG`, `DOUBLE`, `LIST`, `CLASS`,
    /// `PASSWORD`.
    pub fn java_name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Short => "SHORT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Class => "CLASS",
            ConfigType::Password => "PASSWORD",
        }
    }
}

impl fmt::Display for ConfigType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_name())
    }
}

/// How important a key is, Java's `ConfigDef.Importance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Importance {
    /// `HIGH`.
    High,
    /// `MEDIUM`.
    Medium,
    /// `LOW`.
    Low,
}

impl Importance {
    /// Java's enum name.
    pub fn java_name(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// The width of a key's input field in a UI, Java's `ConfigDef.Width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Width {
    /// `NONE`, the default.
    #[default]
    None,
    /// `SHORT`.
    Short,
    /// `MEDIUM`.
    Medium,
    /// `LONG`.
    Long,
}

impl Width {
    /// Java's enum name.
    pub fn java_name(self) -> &'static str {
        match self {
            Width::None => "NONE",
            Width::Short => "SHORT",
            Width::Medium => "MEDIUM",
            Width::Long => "LONG",
        }
    }
}

/// A secret string; `Display` and `Debug` show `[hidden]`, as Java's `Password.toString()` does.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Password(String);

impl Password {
    /// What Java prints for a password.
    pub const HIDDEN: &'static str = "[hidden]";

    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself.
    pub fn value(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::HIDDEN)
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::HIDDEN)
    }
}

/// A parsed configuration value.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    /// [`ConfigType::Boolean`].
    Boolean(bool),
    /// [`ConfigType::String`].
    String(String),
    /// [`ConfigType::Int`].
    Int(i32),
    /// [`ConfigType::Short`].
    Short(i16),
    /// [`ConfigType::Long`].
    Long(i64),
    /// [`ConfigType::Double`].
    Double(f64),
    /// [`ConfigType::List`].
    List(Vec<String>),
    /// [`ConfigType::Class`]: the class name.
    Class(String),
    /// [`ConfigType::Password`].
    Password(Password),
}

impl TypedValue {
    /// The value as a number, for range checks.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            TypedValue::Int(v) => Some(f64::from(*v)),
            TypedValue::Short(v) => Some(f64::from(*v)),
            TypedValue::Long(v) => Some(*v as f64),
            TypedValue::Double(v) => Some(*v),
            _ => None,
        }
    }

    /// The string of a `STRING` or `CLASS` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TypedValue::String(s) | TypedValue::Class(s) => Some(s),
            _ => None,
        }
    }
}

/// Java's `ConfigDef.convertToString`: lists joined with `,`, passwords as `[hidden]`, doubles
/// as Java prints them.
impl fmt::Display for TypedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypedValue::Boolean(v) => write!(f, "{v}"),
            TypedValue::String(v) | TypedValue::Class(v) => f.write_str(v),
            TypedValue::Int(v) => write!(f, "{v}"),
            TypedValue::Short(v) => write!(f, "{v}"),
            TypedValue::Long(v) => write!(f, "{v}"),
            TypedValue::Double(v) => f.write_str(&java::double_to_string(*v)),
            TypedValue::List(items) => f.write_str(&items.join(",")),
            TypedValue::Password(p) => write!(f, "{p}"),
        }
    }
}

/// Parses `value` as Java's `ConfigDef.parseType` does: the string is trimmed; booleans are
/// case-insensitive; lists split on commas with the whitespace around them dropped, and an empty
/// string is an empty list.
///
/// # Errors
/// [`ConfigError`] in Java's words, e.g.
/// `Invalid value abc for configuration tasks.max: Not a number of type INT`.
///
/// ```
/// use ferry_connect::config::{parse_type, ConfigType, TypedValue};
/// assert_eq!(parse_type("k", " a , b,c ", ConfigType::List).unwrap(),
///            TypedValue::List(vec!["a".into(), "b".into(), "c".into()]));
/// assert_eq!(parse_type("k", "TRUE", ConfigType::Boolean).unwrap(), TypedValue::Boolean(true));
/// assert_eq!(parse_type("k", "2147483648", ConfigType::Int).unwrap_err().to_string(),
///            "Invalid value 2147483648 for configuration k: Not a number of type INT");
/// ```
pub fn parse_type(
    name: &str,
    value: &str,
    config_type: ConfigType,
) -> Result<TypedValue, ConfigError> {
    let trimmed = java::trim(value);
    let not_a_number = || {
        ConfigError::invalid(
            name,
            value,
            Some(&format!("Not a number of type {config_type}")),
        )
    };
    Ok(match config_type {
        ConfigType::Boolean => {
            if trimmed.eq_ignore_ascii_case("true") {
                TypedValue::Boolean(true)
            } else if trimmed.eq_ignore_ascii_case("false") {
                TypedValue::Boolean(false)
            } else {
                return Err(ConfigError::invalid(
                    name,
                    value,
                    Some("Expected value to be either true or false"),
                ));
            }
        }
        ConfigType::String => TypedValue::String(trimmed.to_owned()),
        ConfigType::Password => TypedValue::Password(Password::new(trimmed)),
        ConfigType::Class => TypedValue::Class(trimmed.to_owned()),
        ConfigType::Int => TypedValue::Int(parse_java_integer(trimmed).ok_or_else(not_a_number)?),
        ConfigType::Short => {
            TypedValue::Short(parse_java_integer(trimmed).ok_or_else(not_a_number)?)
        }
        ConfigType::Long => TypedValue::Long(parse_java_integer(trimmed).ok_or_else(not_a_number)?),
        ConfigType::Double => {
            TypedValue::Double(parse_java_double(trimmed).ok_or_else(not_a_number)?)
        }
        ConfigType::List => TypedValue::List(parse_list(trimmed)),
    })
}

/// Java's `Integer.parseInt` and friends: an optional sign and ASCII digits, nothing else.
fn parse_java_integer<T: std::str::FromStr>(s: &str) -> Option<T> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Java's `Double.parseDouble` for decimal input: an optional `d`/`f` suffix, `NaN` and
/// `Infinity` spelled as Java spells them.
fn parse_java_double(s: &str) -> Option<f64> {
    let body = s.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(s);
    let unsigned = body.strip_prefix(['+', '-']).unwrap_or(body);
    match unsigned {
        "NaN" if body == unsigned => Some(f64::NAN),
        "Infinity" => Some(if body.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        _ if unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            && unsigned.bytes().any(|b| b.is_ascii_digit()) =>
        {
            body.parse().ok()
        }
        _ => None,
    }
}

/// Splits a trimmed list value on commas, dropping the whitespace around each comma.
fn parse_list(trimmed: &str) -> Vec<String> {
    if trimmed.is_empty() {
        return Vec::new();
    }
    let is_java_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r');
    trimmed
        .split(',')
        .map(|item| item.trim_matches(is_java_space).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(value: &str, config_type: ConfigType) -> String {
        parse_type("k", value, config_type).unwrap_err().to_string()
    }

    #[test]
    fn parses_each_type_as_java_does() {
        use TypedValue as V;
        assert_eq!(
            parse_type("k", " x ", ConfigType::String).unwrap(),
            V::String("x".into())
        );
        assert_eq!(
            parse_type("k", "fAlSe", ConfigType::Boolean).unwrap(),
            V::Boolean(false)
        );
        assert_eq!(
            parse_type("k", " -12 ", ConfigType::Int).unwrap(),
            V::Int(-12)
        );
        assert_eq!(
            parse_type("k", "+7", ConfigType::Short).unwrap(),
            V::Short(7)
        );
        assert_eq!(
            parse_type("k", "9223372036854775807", ConfigType::Long).unwrap(),
            V::Long(i64::MAX)
        );
        assert_eq!(
            parse_type("k", "1.5", ConfigType::Double).unwrap(),
            V::Double(1.5)
        );
        assert_eq!(
            parse_type("k", "2e3d", ConfigType::Double).unwrap(),
            V::Double(2000.0)
        );
        assert_eq!(
            parse_type("k", "", ConfigType::List).unwrap(),
            V::List(vec![])
        );
        assert_eq!(
            parse_type("k", "a,,b ,", ConfigType::List).unwrap(),
            V::List(vec!["a".into(), "".into(), "b".into(), "".into()])
        );
        assert_eq!(
            parse_type("k", "org.A", ConfigType::Class).unwrap(),
            V::Class("org.A".into())
        );
        let password = parse_type("k", " s3cret ", ConfigType::Password).unwrap();
        assert_eq!(password.to_string(), "[hidden]");
        assert_eq!(password, V::Password(Password::new("s3cret")));
    }

    #[test]
    fn errors_name_the_key_and_the_original_value() {
        assert_eq!(
            err("yes", ConfigType::Boolean),
            "Invalid value yes for configuration k: Expected value to be either true or false"
        );
        assert_eq!(
            err("32768", ConfigType::Short),
            "Invalid value 32768 for configuration k: Not a number of type SHORT"
        );
        assert_eq!(
            err(" 1x", ConfigType::Long),
            "Invalid value  1x for configuration k: Not a number of type LONG"
        );
        assert_eq!(
            err("", ConfigType::Int),
            "Invalid value  for configuration k: Not a number of type INT"
        );
        assert_eq!(
            err("inf", ConfigType::Double),
            "Invalid value inf for configuration k: Not a number of type DOUBLE"
        );
    }

    proptest::proptest! {
        #[test]
        fn lists_round_trip_through_their_string_form(
            items in proptest::collection::vec("[a-z0-9.]([a-z0-9. ]{0,8}[a-z0-9.])?", 1..6),
            space in "[ \t]{0,2}",
        ) {
            let text = items.join(&format!("{space},{space}"));
            let parsed = parse_type("k", &format!("{space}{text}{space}"), ConfigType::List).unwrap();
            proptest::prop_assert_eq!(&parsed, &TypedValue::List(items.clone()));
            proptest::prop_assert_eq!(parsed.to_string(), items.join(","));
        }
    }

    #[test]
    fn values_print_as_convert_to_string_does() {
        assert_eq!(
            TypedValue::List(vec!["a".into(), "b".into()]).to_string(),
            "a,b"
        );
        assert_eq!(TypedValue::Double(5.0).to_string(), "5.0");
        assert_eq!(TypedValue::Long(-1).to_string(), "-1");
        assert_eq!(format!("{:?}", Password::new("x")), "[hidden]");
    }
}
