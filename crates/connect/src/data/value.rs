//! Connect values: [`Value`], [`Struct`], [`SchemaAndValue`], and validation of a value against a
//! schema with Java's `ConnectSchema.validateValue` rules and messages.

use std::fmt;

use bytes::Bytes;

use super::logical::{self, Decimal};
use super::schema::{Field, Schema, Type};
use crate::error::{ConnectError, Result};

/// A non-null Connect value: one of the Java objects a Connect value can be.
///
/// `null` is represented by `Option::None` wherever a value may be absent (record keys and values,
/// struct fields, array elements, map values). Logical types have their own variants: a value
/// for a schema named [`logical::DECIMAL_LOGICAL_NAME`] must be [`Value::Decimal`], and so on.
/// Map keys are never null; maps keep insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `INT8`, Java `Byte`.
    Int8(i8),
    /// `INT16`, Java `Short`.
    Int16(i16),
    /// `INT32`, Java `Integer`.
    Int32(i32),
    /// `INT64`, Java `Long`.
    Int64(i64),
    /// `FLOAT32`, Java `Float`.
    Float32(f32),
    /// `FLOAT64`, Java `Double`.
    Float64(f64),
    /// `BOOLEAN`, Java `Boolean`.
    Boolean(bool),
    /// `STRING`, Java `String`.
    String(String),
    /// `BYTES`, Java `byte[]` / `ByteBuffer`.
    Bytes(Bytes),
    /// `ARRAY`, Java `List`.
    Array(Vec<Option<Value>>),
    /// `MAP`, Java `Map`.
    Map(Vec<(Value, Option<Value>)>),
    /// `STRUCT`.
    Struct(Struct),
    /// The `Decimal` logical type (`BYTES`), Java `BigDecimal`.
    Decimal(Decimal),
    /// The `Date` logical type (`INT32`): days since the Unix epoch.
    Date(i32),
    /// The `Time` logical type (`INT32`): milliseconds since midnight.
    Time(i32),
    /// The `Timestamp` logical type (`INT64`): milliseconds since the Unix epoch.
    Timestamp(i64),
}

impl Value {
    /// The Java class of the value as Java's `Object.getClass()` prints it, used in messages.
    pub fn java_class(&self) -> &'static str {
        match self {
            Value::Int8(_) => "class java.lang.Byte",
            Value::Int16(_) => "class java.lang.Short",
            Value::Int32(_) => "class java.lang.Integer",
            Value::Int64(_) => "class java.lang.Long",
            Value::Float32(_) => "class java.lang.Float",
            Value::Float64(_) => "class java.lang.Double",
            Value::Boolean(_) => "class java.lang.Boolean",
            Value::String(_) => "class java.lang.String",
            Value::Bytes(_) => "class [B",
            Value::Array(_) => "class java.util.ArrayList",
            Value::Map(_) => "class java.util.HashMap",
            Value::Struct(_) => "class org.apache.kafka.connect.data.Struct",
            Value::Decimal(_) => "class java.math.BigDecimal",
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => "class java.util.Date",
        }
    }

    /// The schema type a schema-less value implies, Java's `ConnectSchema.schemaType(Class)`;
    /// `None` for logical values, whose schema cannot be inferred.
    pub fn inferred_type(&self) -> Option<Type> {
        Some(match self {
            Value::Int8(_) => Type::Int8,
            Value::Int16(_) => Type::Int16,
            Value::Int32(_) => Type::Int32,
            Value::Int64(_) => Type::Int64,
            Value::Float32(_) => Type::Float32,
            Value::Float64(_) => Type::Float64,
            Value::Boolean(_) => Type::Boolean,
            Value::String(_) => Type::String,
            Value::Bytes(_) => Type::Bytes,
            Value::Array(_) => Type::Array,
            Value::Map(_) => Type::Map,
            Value::Struct(_) => Type::Struct,
            Value::Decimal(_) | Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => {
                return None;
            }
        })
    }

    /// The string, if this is a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The struct, if this is a [`Value::Struct`].
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }
}

macro_rules! value_from {
    ($($ty:ty => $variant:ident),*) => {
        $(impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                Value::$variant(v.into())
            }
        })*
    };
}

value_from!(i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64, f32 => Float32,
    f64 => Float64, bool => Boolean, String => String, &str => String, Bytes => Bytes,
    Vec<u8> => Bytes, Struct => Struct, Decimal => Decimal);

/// Formats like Java's `toString` of the corresponding objects, so messages read as Java's.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int8(v) => write!(f, "{v}"),
            Value::Int16(v) => write!(f, "{v}"),
            Value::Int32(v) | Value::Date(v) | Value::Time(v) => write!(f, "{v}"),
            Value::Int64(v) | Value::Timestamp(v) => write!(f, "{v}"),
            Value::Float32(v) => f.write_str(&crate::java::double_to_string(*v)),
            Value::Float64(v) => f.write_str(&crate::java::double_to_string(*v)),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::String(v) => f.write_str(v),
            Value::Bytes(v) => write!(f, "{:?}", v.as_ref()),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_nullable(f, item.as_ref())?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key}=")?;
                    write_nullable(f, value.as_ref())?;
                }
                f.write_str("}")
            }
            Value::Struct(s) => write!(f, "{s}"),
            Value::Decimal(d) => write!(f, "{d}"),
        }
    }
}

fn write_nullable(f: &mut fmt::Formatter<'_>, value: Option<&Value>) -> fmt::Result {
    match value {
        Some(v) => write!(f, "{v}"),
        None => f.write_str("null"),
    }
}

/// A schema and a value that matches it; either may be absent. Java's `SchemaAndValue`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaAndValue {
    /// The schema; `None` for schema-less data.
    pub schema: Option<Schema>,
    /// The value; `None` for `null`.
    pub value: Option<Value>,
}

impl SchemaAndValue {
    /// No schema and a `null` value, Java's `SchemaAndValue.NULL`.
    pub const NULL: SchemaAndValue = SchemaAndValue {
        schema: None,
        value: None,
    };

    /// A schema and value pair.
    pub fn new(schema: Option<Schema>, value: Option<Value>) -> Self {
        Self { schema, value }
    }
}

/// A structured value with fields named by its struct schema, Java's `Struct`.
///
/// ```
/// use ferry_connect::data::{Schema, SchemaBuilder, Struct, Value};
/// let schema = SchemaBuilder::struct_().field("id", Schema::int64()).build().unwrap();
/// let mut s = Struct::new(schema).unwrap();
/// s.put("id", Value::Int64(42)).unwrap();
/// assert_eq!(s.get_int64("id").unwrap(), Some(42));
/// let err = s.put("id", Value::from("x")).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "Invalid Java object for schema with type INT64: class java.lang.String for field: \"id\""
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    schema: Schema,
    values: Vec<Option<Value>>,
}

macro_rules! typed_getter {
    ($($(#[$doc:meta])* $fn:ident -> $ret:ty, $ty:expr, $pat:pat => $out:expr;)*) => {
        $(
            $(#[$doc])*
            ///
            /// Like Java, the field's default value is not applied.
            ///
            /// # Errors
            /// [`ConnectError::Data`] when the field does not exist or has another type.
            pub fn $fn(&self, name: &str) -> Result<Option<$ret>> {
                match self.get_checked(name, $ty)? {
                    None => Ok(None),
                    Some($pat) => Ok(Some($out)),
                    Some(other) => Err(ConnectError::data(format!(
                        "Field '{name}' holds a {} instead of a {} value",
                        other.java_class(),
                        $ty
                    ))),
                }
            }
        )*
    };
}

impl Struct {
    /// An empty struct of `schema`.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when `schema` is not a struct schema.
    pub fn new(schema: Schema) -> Result<Self> {
        let fields = schema
            .fields()
            .map_err(|_| ConnectError::data(format!("Not a struct schema: {schema}")))?
            .len();
        Ok(Self {
            schema,
            values: vec![None; fields],
        })
    }

    /// The struct's schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    fn lookup(&self, name: &str) -> Result<&Field> {
        self.schema
            .field(name)
            .ok_or_else(|| ConnectError::data(format!("{name} is not a valid field name")))
    }

    /// The value of field `name`, or the field schema's default when the field holds none.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the schema has no such field.
    pub fn get(&self, name: &str) -> Result<Option<&Value>> {
        let field = self.lookup(name)?;
        Ok(self.get_field(field))
    }

    /// The value of `field`, or its schema's default when the field holds none.
    pub fn get_field<'a>(&'a self, field: &'a Field) -> Option<&'a Value> {
        self.values
            .get(field.index())
            .and_then(Option::as_ref)
            .or_else(|| field.schema().default_value())
    }

    /// The value of field `name` without applying the default.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the schema has no such field.
    pub fn get_without_default(&self, name: &str) -> Result<Option<&Value>> {
        let field = self.lookup(name)?;
        Ok(self.values[field.index()].as_ref())
    }

    fn get_checked(&self, name: &str, expected: Type) -> Result<Option<&Value>> {
        let field = self.lookup(name)?;
        if field.schema().schema_type() != expected {
            return Err(ConnectError::data(format!(
                "Field '{name}' is not of type {expected}"
            )));
        }
        Ok(self.values[field.index()].as_ref())
    }

    typed_getter! {
        /// The `INT8` field `name`.
        get_int8 -> i8, Type::Int8, Value::Int8(v) => *v;
        /// The `INT16` field `name`.
        get_int16 -> i16, Type::Int16, Value::Int16(v) => *v;
        /// The `INT32` field `name`.
        get_int32 -> i32, Type::Int32, Value::Int32(v) => *v;
        /// The `INT64` field `name`.
        get_int64 -> i64, Type::Int64, Value::Int64(v) => *v;
        /// The `FLOAT32` field `name`.
        get_float32 -> f32, Type::Float32, Value::Float32(v) => *v;
        /// The `FLOAT64` field `name`.
        get_float64 -> f64, Type::Float64, Value::Float64(v) => *v;
        /// The `BOOLEAN` field `name`.
        get_boolean -> bool, Type::Boolean, Value::Boolean(v) => *v;
        /// The `STRING` field `name`.
        get_string -> &str, Type::String, Value::String(v) => v.as_str();
        /// The `BYTES` field `name`.
        get_bytes -> &Bytes, Type::Bytes, Value::Bytes(v) => v;
        /// The `ARRAY` field `name`.
        get_array -> &[Option<Value>], Type::Array, Value::Array(v) => v.as_slice();
        /// The `MAP` field `name`.
        get_map -> &[(Value, Option<Value>)], Type::Map, Value::Map(v) => v.as_slice();
        /// The `STRUCT` field `name`.
        get_struct -> &Struct, Type::Struct, Value::Struct(v) => v;
    }

    /// Sets field `name` after validating the value against the field's schema.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the field does not exist or the value does not match.
    pub fn put(&mut self, name: &str, value: impl Into<Option<Value>>) -> Result<&mut Self> {
        let field = self.lookup(name)?.clone();
        self.put_field(&field, value)
    }

    /// Sets `field` after validating the value against the field's schema.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the value does not match the field's schema, or the field is
    /// not one of this struct's.
    pub fn put_field(
        &mut self,
        field: &Field,
        value: impl Into<Option<Value>>,
    ) -> Result<&mut Self> {
        let value = value.into();
        if self.schema.field(field.name()) != Some(field) {
            return Err(ConnectError::data(format!(
                "{} is not a valid field name",
                field.name()
            )));
        }
        validate_value(field.schema(), value.as_ref(), Some(field.name()))?;
        self.values[field.index()] = value;
        Ok(self)
    }

    /// Checks that every field holds a valid value; fields without one must be optional or have
    /// a default.
    ///
    /// # Errors
    /// [`ConnectError::Data`] naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        for field in self.schema.fields()? {
            let schema = field.schema();
            let value = self.values[field.index()].as_ref();
            if value.is_none() && (schema.is_optional() || schema.default_value().is_some()) {
                continue;
            }
            validate_value(schema, value, Some(field.name()))?;
        }
        Ok(())
    }
}

/// Java's `Struct.toString`: `Struct{a=1,b=x}`, fields without a value left out.
impl fmt::Display for Struct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Struct{")?;
        let mut first = true;
        for (field, value) in self
            .schema
            .fields()
            .unwrap_or_default()
            .iter()
            .zip(&self.values)
        {
            if let Some(value) = value {
                if !first {
                    f.write_str(",")?;
                }
                first = false;
                write!(f, "{}={value}", field.name())?;
            }
        }
        f.write_str("}")
    }
}

/// Checks `value` against `schema` as Java's `ConnectSchema.validateValue` does, with its messages;
/// `field` names the struct field being checked, for the message.
///
/// # Errors
/// [`ConnectError::Data`] describing the first mismatch.
///
/// ```
/// use ferry_connect::data::{validate_value, Schema, Value};
/// assert!(validate_value(&Schema::int32(), Some(&Value::Int32(1)), None).is_ok());
/// let err = validate_value(&Schema::int32(), None, None).unwrap_err();
/// assert_eq!(err.to_string(), "Invalid value: null used for required value, schema type: INT32");
/// ```
pub fn validate_value(schema: &Schema, value: Option<&Value>, field: Option<&str>) -> Result<()> {
    let location = match field {
        Some(name) => format!("field: \"{name}\""),
        None => "value".to_owned(),
    };
    validate_at(schema, value, &location)
}

fn validate_at(schema: &Schema, value: Option<&Value>, location: &str) -> Result<()> {
    let Some(value) = value else {
        if schema.is_optional() {
            return Ok(());
        }
        return Err(ConnectError::data(format!(
            "Invalid value: null used for required {location}, schema type: {}",
            schema.schema_type()
        )));
    };
    if !class_matches(schema, value) {
        let name = schema
            .name()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        return Err(ConnectError::data(format!(
            "Invalid Java object for schema{name} with type {}: {} for {location}",
            schema.schema_type(),
            value.java_class()
        )));
    }
    match value {
        Value::Struct(s) => {
            if s.schema() != schema {
                return Err(ConnectError::data("Struct schemas do not match."));
            }
            s.validate()
        }
        Value::Array(items) => {
            let location = format!("element of array {location}");
            let element_schema = schema_for(schema.value_schema(), &location)?;
            items
                .iter()
                .try_for_each(|item| validate_at(element_schema, item.as_ref(), &location))
        }
        Value::Map(entries) => {
            let key_location = format!("key of map {location}");
            let value_location = format!("value of map {location}");
            let key_schema = schema_for(schema.key_schema(), &key_location)?;
            let value_schema = schema_for(schema.value_schema(), &value_location)?;
            entries.iter().try_for_each(|(k, v)| {
                validate_at(key_schema, Some(k), &key_location)?;
                validate_at(value_schema, v.as_ref(), &value_location)
            })
        }
        _ => Ok(()),
    }
}

fn schema_for<'a>(schema: Result<&'a Schema>, location: &str) -> Result<&'a Schema> {
    schema.map_err(|_| ConnectError::data(format!("No schema defined for {location}")))
}

fn class_matches(schema: &Schema, value: &Value) -> bool {
    match schema.name() {
        Some(logical::DECIMAL_LOGICAL_NAME) => return matches!(value, Value::Decimal(_)),
        Some(logical::DATE_LOGICAL_NAME) => return matches!(value, Value::Date(_)),
        Some(logical::TIME_LOGICAL_NAME) => return matches!(value, Value::Time(_)),
        Some(logical::TIMESTAMP_LOGICAL_NAME) => return matches!(value, Value::Timestamp(_)),
        _ => {}
    }
    matches!(
        (schema.schema_type(), value),
        (Type::Int8, Value::Int8(_))
            | (Type::Int16, Value::Int16(_))
            | (Type::Int32, Value::Int32(_))
            | (Type::Int64, Value::Int64(_))
            | (Type::Float32, Value::Float32(_))
            | (Type::Float64, Value::Float64(_))
            | (Type::Boolean, Value::Boolean(_))
            | (Type::String, Value::String(_))
            | (Type::Bytes, Value::Bytes(_))
            | (Type::Array, Value::Array(_))
            | (Type::Map, Value::Map(_))
            | (Type::Struct, Value::Struct(_))
    )
}
