//! Java's `SingleFieldPath` and `field.syntax.version` (KIP-821): `V1` names a top-level field,
//! `V2` walks nested structs and maps with dots, backticks quoting names that contain dots.

use ferry_connect::config::{
    CaseInsensitiveValidString, ConfigDef, ConfigKey, ConfigType, Importance,
};
use ferry_connect::data::{Field, Schema, Struct, Value};
use ferry_connect::{ConfigError, Result};

use super::support::{MapEntries, field_value, map_get, require_map, require_struct};

/// `field.syntax.version`: `V1` (default) or `V2`.
pub(crate) const FIELD_SYNTAX_VERSION_CONFIG: &str = "field.syntax.version";

/// Adds `field.syntax.version` to `def`, Java's `FieldSyntaxVersion.appendConfigTo`.
pub(crate) fn append_syntax_version(def: ConfigDef) -> ConfigDef {
    def.define(
        ConfigKey::new(FIELD_SYNTAX_VERSION_CONFIG, ConfigType::String)
            .default_value("V1")
            .validator(CaseInsensitiveValidString::of(["V1", "V2"]))
            .importance(Importance::High)
            .documentation(
                "Defines the version of the syntax to access fields. If set to `V1`, then the field \
                 paths are limited to access the elements at the root level of the struct or map. \
                 If set to `V2`, the syntax will support accessing nested elements. To access nested \
                 elements, dotted notation is used. If dots are already included in the field name, \
                 then backtick pairs can be used to wrap field names containing dots. E.g. to access \
                 the subfield `baz` from a field named \"foo.bar\" in a struct/map the following \
                 format can be used to access its elements: \"`foo.bar`.baz\".",
            ),
    )
}

/// A path to one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath {
    steps: Vec<String>,
}

impl FieldPath {
    /// A `V1` path: one top-level field.
    pub(crate) fn top_level(name: &str) -> Self {
        Self {
            steps: vec![name.to_owned()],
        }
    }

    /// Parses `path` with the syntax `version` names (`V1`/`V2`, case-insensitive).
    pub(crate) fn new(path: &str, version: &str) -> Result<Self, ConfigError> {
        if !version.eq_ignore_ascii_case("V2") {
            return Ok(Self::top_level(path));
        }
        let mut steps = parse_v2(path)?;
        if steps.is_empty() {
            steps.push(String::new());
        }
        Ok(Self { steps })
    }

    fn split(&self) -> (&[String], &str) {
        match self.steps.split_last() {
            Some((last, parents)) => (parents, last),
            None => (&[], ""),
        }
    }

    /// The field the path names in `schema`, if any.
    pub(crate) fn field_from<'a>(&self, schema: &'a Schema) -> Option<&'a Field> {
        let (parents, last) = self.split();
        let mut current = schema;
        for step in parents {
            current = current.field(step)?.schema();
        }
        current.field(last)
    }

    /// The value at the path in a struct; `None` where a step is missing or null.
    pub(crate) fn value_from_struct<'a>(
        &self,
        s: &'a Struct,
        with_default: bool,
    ) -> Result<Option<&'a Value>> {
        let (parents, last) = self.split();
        let mut current = s;
        for step in parents {
            if current.schema().field(step).is_none() {
                return Ok(None);
            }
            match current.get(step)? {
                None => return Ok(None),
                sub => current = require_struct(sub, "nested field access")?,
            }
        }
        if current.schema().field(last).is_none() {
            return Ok(None);
        }
        field_value(current, last, with_default)
    }

    /// The value at the path in a schema-less map.
    pub(crate) fn value_from_map<'a>(&self, map: &'a MapEntries) -> Result<Option<&'a Value>> {
        let (parents, last) = self.split();
        let mut current = map;
        for step in parents {
            match map_get(current, step) {
                None => return Ok(None),
                sub => current = require_map(sub, "nested field access")?,
            }
        }
        Ok(map_get(current, last))
    }
}

/// Java's `buildFieldPathV2`: dots separate steps; a step that starts with a backtick runs to the
/// next backtick followed by a dot (or the end), and `\`` keeps a backtick inside it.
fn parse_v2(path: &str) -> Result<Vec<String>, ConfigError> {
    let chars: Vec<char> = path.chars().collect();
    let incomplete = |at: usize| {
        ConfigError::new(format!(
            "Incomplete backtick pair in path: [{path}], consider adding a backslash before \
             backtick at position {at} to escape it"
        ))
    };
    let mut steps = Vec::new();
    let mut idx = 0;
    while idx < chars.len() {
        if chars[idx] != '`' {
            let end = chars[idx..].iter().position(|&c| c == '.').map(|p| p + idx);
            let stop = end.unwrap_or(chars.len());
            steps.push(chars[idx..stop].iter().collect());
            idx = end.map_or(chars.len(), |e| e + 1);
            continue;
        }
        let backtick_at = idx;
        idx += 1;
        let mut field = String::new();
        let mut start = idx;
        loop {
            let found = chars[idx..].iter().position(|&c| c == '`').map(|p| p + idx);
            let Some(at) = found else {
                return Err(incomplete(backtick_at));
            };
            let escaped = chars[at - 1] == '\\';
            if at >= chars.len() - 1 {
                if escaped {
                    return Err(incomplete(backtick_at));
                }
                field.extend(&chars[start..at]);
                steps.push(std::mem::take(&mut field));
                idx = at + 1;
                break;
            }
            if chars[at + 1] != '.' {
                idx = at + 1;
                continue;
            }
            if escaped {
                field.extend(&chars[start..at - 1]);
                field.push('`');
                idx = at + 1;
                start = idx;
                continue;
            }
            field.extend(&chars[start..at]);
            steps.push(std::mem::take(&mut field));
            idx = at + 2;
            break;
        }
    }
    if path.ends_with('.') {
        steps.push(String::new());
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(path: &str) -> Vec<String> {
        FieldPath::new(path, "v2").unwrap().steps
    }

    #[test]
    fn v2_paths_split_on_dots_with_backtick_quoting() {
        assert_eq!(steps("a.b.c"), ["a", "b", "c"]);
        assert_eq!(steps("`a.b`.c"), ["a.b", "c"]);
        assert_eq!(steps("a.`b.c`"), ["a", "b.c"]);
        assert_eq!(steps("a."), ["a", ""]);
        assert_eq!(steps("`a\\`.b`.c"), ["a`.b", "c"]);
        assert_eq!(FieldPath::new("a.b", "V1").unwrap().steps, ["a.b"]);
        let err = FieldPath::new("`a.b", "V2").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Incomplete backtick pair in path: [`a.b], consider adding a backslash before backtick \
             at position 0 to escape it"
        );
    }
}
