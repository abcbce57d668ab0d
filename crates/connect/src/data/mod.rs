//! The Connect data model, Java's `org.apache.kafka.connect.data`: schemas, values, structs and
//! the logical types.

mod conversion;
mod logical;
mod schema;
mod temporal;
mod value;
mod values;

pub use conversion::{convert_to, convert_value};
pub use logical::{
    BigInt, DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, DECIMAL_SCALE_FIELD, Date, Decimal,
    MILLIS_PER_DAY, TIME_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME, Time, Timestamp, from_base,
    is_logical_schema, to_base,
};
pub use schema::{Field, Schema, SchemaBuilder, Type};
pub use temporal::{civil_from_days, days_from_civil};
pub use value::{SchemaAndValue, Struct, Value, validate_value};
pub use values::{convert_to_string, infer_schema, parse_string};

#[cfg(test)]
mod tests;
