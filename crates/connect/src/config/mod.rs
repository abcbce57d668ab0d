//! Configuration definitions, Java's `org.apache.kafka.common.config.ConfigDef`: typed keys with
//! defaults, validators and recommenders; parsing string maps with Java's rules; and validation
//! results in the JSON shape of Connect's `config/validate` endpoint.

mod def;
mod info;
mod types;
mod validators;

pub use def::{
    ConfigDef, ConfigDefault, ConfigKey, ConfigValue, ParsedConfig, ParsedValues, Recommender,
};
pub use info::{ConfigInfo, ConfigInfos, ConfigKeyInfo, ConfigValueInfo};
pub use types::{ConfigType, Importance, Password, TypedValue, Width, parse_type};
pub use validators::{
    Bound, CaseInsensitiveValidString, LambdaValidator, NonEmptyString,
    NonEmptyStringWithoutControlChars, Range, ValidList, ValidString, Validator,
};

#[cfg(test)]
mod tests;
