//! Validators of configuration values, Java's `ConfigDef.Validator` and its implementations.

use std::fmt;
use std::sync::Arc;

use super::types::TypedValue;
use crate::error::ConfigError;
use crate::java;

/// Checks a parsed value, Java's `ConfigDef.Validator`. `Display` is Java's `toString`, which
/// documentation generators print as the valid values.
pub trait Validator: Send + Sync + fmt::Debug + fmt::Display {
    /// Checks `value` (`None` for null) of key `name`.
    ///
    /// # Errors
    /// [`ConfigError`] worded as Java's validator words it.
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError>;
}

fn display_nullable(value: Option<&TypedValue>) -> String {
    value.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

/// A bound of a [`Range`], printed as Java prints the `Number` it was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// An integer bound (`Integer`, `Long`, `Short`).
    Integer(i64),
    /// A floating-point bound (`Double`).
    Double(f64),
}

impl Bound {
    fn value(self) -> f64 {
        match self {
            Bound::Integer(v) => v as f64,
            Bound::Double(v) => v,
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Integer(v) => write!(f, "{v}"),
            Bound::Double(v) => f.write_str(&java::double_to_string(*v)),
        }
    }
}

impl From<i32> for Bound {
    fn from(v: i32) -> Self {
        Bound::Integer(v.into())
    }
}

impl From<i64> for Bound {
    fn from(v: i64) -> Self {
        Bound::Integer(v)
    }
}

impl From<f64> for Bound {
    fn from(v: f64) -> Self {
        Bound::Double(v)
    }
}

/// An inclusive numeric range, Java's `ConfigDef.Range`.
///
/// ```
/// use ferry_connect::config::{Range, TypedValue, Validator};
/// let range = Range::between(1, 10);
/// assert_eq!(range.to_string(), "[1,...,10]");
/// let err = range.ensure_valid("tasks.max", Some(&TypedValue::Int(0))).unwrap_err();
/// assert_eq!(err.to_string(), "Invalid value 0 for configuration tasks.max: Value must be at least 1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    min: Option<Bound>,
    max: Option<Bound>,
}

impl Range {
    /// Values at least `min`.
    pub fn at_least(min: impl Into<Bound>) -> Self {
        Self {
            min: Some(min.into()),
            max: None,
        }
    }

    /// Values from `min` to `max`, both included.
    pub fn between(min: impl Into<Bound>, max: impl Into<Bound>) -> Self {
        Self {
            min: Some(min.into()),
            max: Some(max.into()),
        }
    }
}

impl Validator for Range {
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError> {
        let Some(value) = value else {
            return Err(ConfigError::invalid(
                name,
                "null",
                Some("Value must be non-null"),
            ));
        };
        let n = value
            .as_f64()
            .ok_or_else(|| ConfigError::invalid(name, value, Some("Value must be a number")))?;
        if let Some(min) = self.min.filter(|min| n < min.value()) {
            return Err(ConfigError::invalid(
                name,
                value,
                Some(&format!("Value must be at least {min}")),
            ));
        }
        if let Some(max) = self.max.filter(|max| n > max.value()) {
            return Err(ConfigError::invalid(
                name,
                value,
                Some(&format!("Value must be no more than {max}")),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (None, None) => f.write_str("[...]"),
            (None, Some(max)) => write!(f, "[...,{max}]"),
            (Some(min), None) => write!(f, "[{min},...]"),
            (Some(min), Some(max)) => write!(f, "[{min},...,{max}]"),
        }
    }
}

/// One of a fixed set of strings, case-sensitive, Java's `ConfigDef.ValidString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidString {
    valid: Vec<String>,
}

impl ValidString {
    /// Accepts exactly the strings in `valid`.
    pub fn of<S: Into<String>>(valid: impl IntoIterator<Item = S>) -> Self {
        Self {
            valid: valid.into_iter().map(Into::into).collect(),
        }
    }

    fn check(&self, name: &str, value: Option<&str>) -> Result<(), ConfigError> {
        if value.is_some_and(|v| self.valid.iter().any(|s| s == v)) {
            return Ok(());
        }
        let reason = format!("String must be one of: {}", self.valid.join(", "));
        Err(ConfigError::invalid(
            name,
            value.unwrap_or("null"),
            Some(&reason),
        ))
    }
}

impl Validator for ValidString {
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError> {
        match value {
            None => self.check(name, None),
            Some(v) => self.check(name, Some(&v.to_string())),
        }
    }
}

impl fmt::Display for ValidString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.valid.join(", "))
    }
}

/// A list whose every item is one of a fixed set of strings, Java's `ConfigDef.ValidList`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidList {
    valid: ValidString,
}

impl ValidList {
    /// Accepts lists of the strings in `valid`.
    pub fn of<S: Into<String>>(valid: impl IntoIterator<Item = S>) -> Self {
        Self {
            valid: ValidString::of(valid),
        }
    }
}

impl Validator for ValidList {
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError> {
        match value {
            Some(TypedValue::List(items)) => items
                .iter()
                .try_for_each(|item| self.valid.check(name, Some(item))),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for ValidList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.valid.fmt(f)
    }
}

/// One of a fixed set of strings, ignoring case, Java's `ConfigDef.CaseInsensitiveValidString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInsensitiveValidString {
    valid: Vec<String>,
}

impl CaseInsensitiveValidString {
    /// Accepts the strings in `valid`, in any case.
    pub fn of<S: Into<String>>(valid: impl IntoIterator<Item = S>) -> Self {
        Self {
            valid: valid.into_iter().map(|s| s.into().to_uppercase()).collect(),
        }
    }
}

impl Validator for CaseInsensitiveValidString {
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError> {
        let text = value.map(ToString::to_string);
        if text
            .as_ref()
            .is_some_and(|t| self.valid.contains(&t.to_uppercase()))
        {
            return Ok(());
        }
        let reason = format!(
            "String must be one of (case insensitive): {}",
            self.valid.join(", ")
        );
        Err(ConfigError::invalid(
            name,
            display_nullable(value),
            Some(&reason),
        ))
    }
}

impl fmt::Display for CaseInsensitiveValidString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(case insensitive) [{}]", self.valid.join(", "))
    }
}

/// A string that is not empty (null passes), Java's `ConfigDef.NonEmptyString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NonEmptyString;

impl Validator for NonEmptyString {
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError> {
        match value {
            Some(v) if v.as_str() == Some("") => Err(ConfigError::invalid(
                name,
                "",
                Some("String must be non-empty"),
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for NonEmptyString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("non-empty string")
    }
}

/// A non-empty string without ISO control characters (null passes), Java's
/// `ConfigDef.NonEmptyStringWithoutControlChars`, which validates connector names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NonEmptyStringWithoutControlChars;

impl Validator for NonEmptyStringWithoutControlChars {
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError> {
        let Some(text) = value.and_then(TypedValue::as_str) else {
            return Ok(());
        };
        if text.is_empty() {
            return Err(ConfigError::invalid(
                name,
                text,
                Some("String may not be empty"),
            ));
        }
        let controls: Vec<String> = text
            .chars()
            .filter(|c| c.is_control())
            .map(|c| u32::from(c).to_string())
            .collect();
        if controls.is_empty() {
            return Ok(());
        }
        let reason = format!(
            "String may not contain control sequences but had the following ASCII chars: {}",
            controls.join(", ")
        );
        Err(ConfigError::invalid(name, text, Some(&reason)))
    }
}

impl fmt::Display for NonEmptyStringWithoutControlChars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("non-empty string without ISO control characters")
    }
}

type CheckFn = dyn Fn(&str, Option<&TypedValue>) -> Result<(), ConfigError> + Send + Sync;

/// A validator made of a closure and a description, Java's `ConfigDef.LambdaValidator`.
///
/// ```
/// use ferry_connect::config::{LambdaValidator, TypedValue, Validator};
/// use ferry_connect::ConfigError;
/// let even = LambdaValidator::new("an even number", |name, value| match value {
///     Some(TypedValue::Int(n)) if n % 2 == 0 => Ok(()),
///     _ => Err(ConfigError::for_key(name, "must be even")),
/// });
/// assert!(even.ensure_valid("n", Some(&TypedValue::Int(4))).is_ok());
/// assert_eq!(even.to_string(), "an even number");
/// ```
#[derive(Clone)]
pub struct LambdaValidator {
    check: Arc<CheckFn>,
    description: String,
}

impl LambdaValidator {
    /// A validator running `check`, described as `description`.
    pub fn new(
        description: impl Into<String>,
        check: impl Fn(&str, Option<&TypedValue>) -> Result<(), ConfigError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            check: Arc::new(check),
            description: description.into(),
        }
    }
}

impl Validator for LambdaValidator {
    fn ensure_valid(&self, name: &str, value: Option<&TypedValue>) -> Result<(), ConfigError> {
        (self.check)(name, value)
    }
}

impl fmt::Debug for LambdaValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaValidator")
            .field("description", &self.description)
            .finish()
    }
}

impl fmt::Display for LambdaValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(v: &dyn Validator, value: Option<TypedValue>) -> String {
        v.ensure_valid("k", value.as_ref()).unwrap_err().to_string()
    }

    #[test]
    fn range_messages_and_descriptions() {
        let r = Range::between(1, 5);
        assert!(r.ensure_valid("k", Some(&TypedValue::Long(5))).is_ok());
        assert_eq!(
            error(&r, Some(TypedValue::Int(6))),
            "Invalid value 6 for configuration k: Value must be no more than 5"
        );
        assert_eq!(
            error(&r, None),
            "Invalid value null for configuration k: Value must be non-null"
        );
        let d = Range::at_least(0.5);
        assert_eq!(d.to_string(), "[0.5,...]");
        assert_eq!(
            error(&d, Some(TypedValue::Double(0.25))),
            "Invalid value 0.25 for configuration k: Value must be at least 0.5"
        );
    }

    #[test]
    fn string_validators() {
        let v = ValidString::of(["none", "all"]);
        assert_eq!(v.to_string(), "[none, all]");
        assert_eq!(
            error(&v, Some(TypedValue::String("some".into()))),
            "Invalid value some for configuration k: String must be one of: none, all"
        );
        assert_eq!(
            error(&v, None),
            "Invalid value null for configuration k: String must be one of: none, all"
        );
        let l = ValidList::of(["a", "b"]);
        assert!(
            l.ensure_valid("k", Some(&TypedValue::List(vec!["b".into(), "a".into()])))
                .is_ok()
        );
        assert_eq!(
            error(&l, Some(TypedValue::List(vec!["a".into(), "c".into()]))),
            "Invalid value c for configuration k: String must be one of: a, b"
        );
        let c = CaseInsensitiveValidString::of(["Fail", "skip"]);
        assert!(
            c.ensure_valid("k", Some(&TypedValue::String("SKIP".into())))
                .is_ok()
        );
        assert_eq!(
            error(&c, Some(TypedValue::String("x".into()))),
            "Invalid value x for configuration k: String must be one of (case insensitive): FAIL, SKIP"
        );
        assert_eq!(
            error(&NonEmptyString, Some(TypedValue::String(String::new()))),
            "Invalid value  for configuration k: String must be non-empty"
        );
        assert!(NonEmptyString.ensure_valid("k", None).is_ok());
        let names = NonEmptyStringWithoutControlChars;
        assert!(
            names
                .ensure_valid("name", Some(&TypedValue::String("my-connector".into())))
                .is_ok()
        );
        assert!(names.ensure_valid("name", None).is_ok());
        assert_eq!(
            error(&names, Some(TypedValue::String(String::new()))),
            "Invalid value  for configuration k: String may not be empty"
        );
        assert_eq!(
            error(&names, Some(TypedValue::String("a\tb\u{7f}".into()))),
            "Invalid value a\tb\u{7f} for configuration k: String may not contain control sequences but had \
             the following ASCII chars: 9, 127"
        );
    }
}
