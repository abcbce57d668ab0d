//! Connect schemas: [`Type`], [`Schema`], [`Field`] and the [`SchemaBuilder`].

use std::fmt;
use std::sync::{Arc, LazyLock};

use indexmap::IndexMap;

use super::value::{Value, validate_value};
use crate::error::{ConnectError, Result};

/// The type of a schema, Java's `Schema.Type`.
///
/// `Display` gives Java's enum name (`INT32`), as used in error messages; [`Type::name`] gives the
/// lower-case name Java's `Type.getName()` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    /// 8-bit signed integer.
    Int8,
    /// 16-bit signed integer.
    Int16,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// 32-bit IEEE 754 float.
    Float32,
    /// 64-bit IEEE 754 float.
    Float64,
    /// Boolean.
    Boolean,
    /// UTF-8 string.
    String,
    /// Byte sequence.
    Bytes,
    /// Ordered sequence of values of one schema.
    Array,
    /// Map from keys of one schema to values of another.
    Map,
    /// Named fields, each with its own schema.
    Struct,
}

impl Type {
    /// Every type, in Java's declaration order.
    pub const ALL: [Type; 12] = [
        Type::Int8,
        Type::Int16,
        Type::Int32,
        Type::Int64,
        Type::Float32,
        Type::Float64,
        Type::Boolean,
        Type::String,
        Type::Bytes,
        Type::Array,
        Type::Map,
        Type::Struct,
    ];

    /// Java's enum constant name, e.g. `INT32`.
    pub fn java_name(self) -> &'static str {
        match self {
            Type::Int8 => "INT8",
            Type::Int16 => "INT16",
            Type::Int32 => "INT32",
            Type::Int64 => "INT64",
            Type::Float32 => "FLOAT32",
            Type::Float64 => "FLOAT64",
            Type::Boolean => "BOOLEAN",
            Type::String => "STRING",
            Type::Bytes => "BYTES",
            Type::Array => "ARRAY",
            Type::Map => "MAP",
            Type::Struct => "STRUCT",
        }
    }

    /// The lower-case name (`int32`), Java's `Type.getName()`.
    pub fn name(self) -> &'static str {
        match self {
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float32",
            Type::Float64 => "float64",
            Type::Boolean => "boolean",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Array => "array",
            Type::Map => "map",
            Type::Struct => "struct",
        }
    }

    /// Whether this is a primitive (non-container) type.
    pub fn is_primitive(self) -> bool {
        !matches!(self, Type::Array | Type::Map | Type::Struct)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_name())
    }
}

/// A field of a struct schema: its name, position and schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    name: String,
    index: usize,
    schema: Schema,
}

impl Field {
    /// A field at position `index` of its struct.
    pub fn new(name: impl Into<String>, index: usize, schema: Schema) -> Self {
        Self {
            name: name.into(),
            index,
            schema,
        }
    }

    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's position in its struct.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The field's schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}

#[derive(Debug, Clone, PartialEq)]
struct SchemaInner {
    schema_type: Type,
    optional: bool,
    default_value: Option<Value>,
    name: Option<String>,
    version: Option<i32>,
    doc: Option<String>,
    parameters: Option<IndexMap<String, String>>,
    fields: Vec<Field>,
    key_schema: Option<Schema>,
    value_schema: Option<Schema>,
}

/// An immutable Connect schema, Java's `ConnectSchema`. Cloning is cheap (an `Arc`).
///
/// ```
/// use ferry_connect::data::{Schema, SchemaBuilder, Type};
/// let person = SchemaBuilder::struct_()
///     .name("com.example.Person")
///     .field("name", Schema::string())
///     .field("age", Schema::optional_int32())
///     .build()
///     .unwrap();
/// assert_eq!(person.schema_type(), Type::Struct);
/// assert_eq!(person.field("age").unwrap().index(), 1);
/// assert_eq!(person.to_string(), "Schema{com.example.Person:STRUCT}");
/// ```
#[derive(Clone)]
pub struct Schema(Arc<SchemaInner>);

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.name {
            Some(name) => write!(f, "Schema{{{name}:{}}}", self.0.schema_type),
            None => write!(f, "Schema{{{}}}", self.0.schema_type),
        }
    }
}

macro_rules! predefined {
    ($($(#[$doc:meta])* $fn:ident, $static:ident, $ty:expr, $optional:expr;)*) => {
        $(
            static $static: LazyLock<Schema> = LazyLock::new(|| Schema::primitive($ty, $optional));
        )*
        impl Schema {
            $(
                $(#[$doc])*
                pub fn $fn() -> Schema {
                    $static.clone()
                }
            )*
        }
    };
}

predefined! {
    /// Java's `Schema.INT8_SCHEMA`.
    int8, INT8, Type::Int8, false;
    /// Java's `Schema.INT16_SCHEMA`.
    int16, INT16, Type::Int16, false;
    /// Java's `Schema.INT32_SCHEMA`.
    int32, INT32, Type::Int32, false;
    /// Java's `Schema.INT64_SCHEMA`.
    int64, INT64, Type::Int64, false;
    /// Java's `Schema.FLOAT32_SCHEMA`.
    float32, FLOAT32, Type::Float32, false;
    /// Java's `Schema.FLOAT64_SCHEMA`.
    float64, FLOAT64, Type::Float64, false;
    /// Java's `Schema.BOOLEAN_SCHEMA`.
    boolean, BOOLEAN, Type::Boolean, false;
    /// Java's `Schema.STRING_SCHEMA`.
    string, STRING, Type::String, false;
    /// Java's `Schema.BYTES_SCHEMA`.
    bytes, BYTES, Type::Bytes, false;
    /// Java's `Schema.OPTIONAL_INT8_SCHEMA`.
    optional_int8, OPTIONAL_INT8, Type::Int8, true;
    /// Java's `Schema.OPTIONAL_INT16_SCHEMA`.
    optional_int16, OPTIONAL_INT16, Type::Int16, true;
    /// Java's `Schema.OPTIONAL_INT32_SCHEMA`.
    optional_int32, OPTIONAL_INT32, Type::Int32, true;
    /// Java's `Schema.OPTIONAL_INT64_SCHEMA`.
    optional_int64, OPTIONAL_INT64, Type::Int64, true;
    /// Java's `Schema.OPTIONAL_FLOAT32_SCHEMA`.
    optional_float32, OPTIONAL_FLOAT32, Type::Float32, true;
    /// Java's `Schema.OPTIONAL_FLOAT64_SCHEMA`.
    optional_float64, OPTIONAL_FLOAT64, Type::Float64, true;
    /// Java's `Schema.OPTIONAL_BOOLEAN_SCHEMA`.
    optional_boolean, OPTIONAL_BOOLEAN, Type::Boolean, true;
    /// Java's `Schema.OPTIONAL_STRING_SCHEMA`.
    optional_string, OPTIONAL_STRING, Type::String, true;
    /// Java's `Schema.OPTIONAL_BYTES_SCHEMA`.
    optional_bytes, OPTIONAL_BYTES, Type::Bytes, true;
}

impl Schema {
    fn primitive(schema_type: Type, optional: bool) -> Schema {
        let mut builder = SchemaBuilder::new(schema_type);
        builder.optional = optional;
        builder.into_schema()
    }

    /// The schema's type.
    pub fn schema_type(&self) -> Type {
        self.0.schema_type
    }

    /// Whether `null` is a valid value.
    pub fn is_optional(&self) -> bool {
        self.0.optional
    }

    /// The default value, used when a struct field holds no value.
    pub fn default_value(&self) -> Option<&Value> {
        self.0.default_value.as_ref()
    }

    /// The schema's name; logical types are recognised by it.
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The schema's version.
    pub fn version(&self) -> Option<i32> {
        self.0.version
    }

    /// The schema's documentation.
    pub fn doc(&self) -> Option<&str> {
        self.0.doc.as_deref()
    }

    /// The schema's parameters, in the order they were set; `None` when none were set.
    pub fn parameters(&self) -> Option<&IndexMap<String, String>> {
        self.0.parameters.as_ref()
    }

    /// The fields of a struct schema, in order.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the schema is not a struct.
    pub fn fields(&self) -> Result<&[Field]> {
        self.require_struct("Cannot list fields on non-struct type")?;
        Ok(&self.0.fields)
    }

    /// The field named `name` of a struct schema; `None` on other schemas or unknown names.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.0.fields.iter().find(|f| f.name == name)
    }

    /// The key schema of a map schema.
    ///
    /// # Errors
    /// [`ConnectError::Data`] when the schema is not a map.
    pub fn key_schema(&self) -> Result<&Schema> {
        match (&self.0.key_schema, self.0.schema_type) {
            (Some(schema), Type::Map) => Ok(schema),
            _ => Err(ConnectError::data(
                "Cannot look up key schema on non-map type",
            )),
        }
    }

    /// The element schema of an array schema, or the value schema of a map schema.
    ///
    /// # Errors
    /// [`ConnectError::Data`] on other schemas.
    pub fn value_schema(&self) -> Result<&Schema> {
        match (&self.0.value_schema, self.0.schema_type) {
            (Some(schema), Type::Array | Type::Map) => Ok(schema),
            _ => Err(ConnectError::data(
                "Cannot look up value schema on non-array and non-map type",
            )),
        }
    }

    /// A builder initialised with every property of this schema, for deriving a changed copy.
    pub fn to_builder(&self) -> SchemaBuilder {
        let inner = &self.0;
        SchemaBuilder {
            schema_type: inner.schema_type,
            optional: inner.optional,
            default_value: inner.default_value.clone(),
            name: inner.name.clone(),
            version: inner.version,
            doc: inner.doc.clone(),
            parameters: inner.parameters.clone(),
            fields: inner.fields.clone(),
            key_schema: inner.key_schema.clone(),
            value_schema: inner.value_schema.clone(),
            error: None,
        }
    }

    fn require_struct(&self, message: &str) -> Result<()> {
        if self.0.schema_type == Type::Struct {
            Ok(())
        } else {
            Err(ConnectError::data(message))
        }
    }
}

/// Builds a [`Schema`], Java's `SchemaBuilder`.
///
/// Misuse that Java reports at the call (setting a property twice, a field on a non-struct,
/// a duplicate field, an invalid default) is remembered and reported by [`SchemaBuilder::build`],
/// with Java's message.
///
/// ```
/// use ferry_connect::data::{Schema, SchemaBuilder, Value};
/// let schema = SchemaBuilder::int32().optional().default_value(Value::Int32(7)).build().unwrap();
/// assert_eq!(schema.default_value(), Some(&Value::Int32(7)));
/// let err = SchemaBuilder::int32().name("a").name("b").build().unwrap_err();
/// assert_eq!(err.to_string(), "Invalid SchemaBuilder call: name has already been set.");
/// ```
#[derive(Debug, Clone)]
pub struct SchemaBuilder {
    schema_type: Type,
    optional: bool,
    default_value: Option<Value>,
    name: Option<String>,
    version: Option<i32>,
    doc: Option<String>,
    parameters: Option<IndexMap<String, String>>,
    fields: Vec<Field>,
    key_schema: Option<Schema>,
    value_schema: Option<Schema>,
    error: Option<String>,
}

impl SchemaBuilder {
    /// A builder for a schema of `schema_type`.
    pub fn new(schema_type: Type) -> Self {
        Self {
            schema_type,
            optional: false,
            default_value: None,
            name: None,
            version: None,
            doc: None,
            parameters: None,
            fields: Vec::new(),
            key_schema: None,
            value_schema: None,
            error: None,
        }
    }

    /// An `INT8` builder.
    pub fn int8() -> Self {
        Self::new(Type::Int8)
    }
    /// An `INT16` builder.
    pub fn int16() -> Self {
        Self::new(Type::Int16)
    }
    /// An `INT32` builder.
    pub fn int32() -> Self {
        Self::new(Type::Int32)
    }
    /// An `INT64` builder.
    pub fn int64() -> Self {
        Self::new(Type::Int64)
    }
    /// A `FLOAT32` builder.
    pub fn float32() -> Self {
        Self::new(Type::Float32)
    }
    /// A `FLOAT64` builder.
    pub fn float64() -> Self {
        Self::new(Type::Float64)
    }
    /// A `BOOLEAN` builder.
    pub fn boolean() -> Self {
        Self::new(Type::Boolean)
    }
    /// A `STRING` builder.
    pub fn string() -> Self {
        Self::new(Type::String)
    }
    /// A `BYTES` builder.
    pub fn bytes() -> Self {
        Self::new(Type::Bytes)
    }
    /// A `STRUCT` builder; add fields with [`SchemaBuilder::field`].
    pub fn struct_() -> Self {
        Self::new(Type::Struct)
    }
    /// An `ARRAY` builder with elements of `value_schema`.
    pub fn array(value_schema: Schema) -> Self {
        let mut builder = Self::new(Type::Array);
        builder.value_schema = Some(value_schema);
        builder
    }
    /// A `MAP` builder from `key_schema` to `value_schema`.
    pub fn map(key_schema: Schema, value_schema: Schema) -> Self {
        let mut builder = Self::new(Type::Map);
        builder.key_schema = Some(key_schema);
        builder.value_schema = Some(value_schema);
        builder
    }

    /// A `MAP` builder with a key schema and no value schema, for maps whose values are all
    /// null (Java's package-private `SchemaBuilder.mapWithNullValues`).
    pub(crate) fn map_with_null_values(key_schema: Schema) -> Self {
        let mut builder = Self::new(Type::Map);
        builder.key_schema = Some(key_schema);
        builder
    }

    fn fail(&mut self, message: String) {
        self.error.get_or_insert(message);
    }

    fn check_unset(&mut self, property: &str, is_set: bool) {
        if is_set {
            self.fail(format!(
                "Invalid SchemaBuilder call: {property} has already been set."
            ));
        }
    }

    /// Makes `null` a valid value.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Makes `null` an invalid value (the default).
    pub fn required(mut self) -> Self {
        self.optional = false;
        self
    }

    /// Sets the default value; it must be valid for the schema being built.
    pub fn default_value(mut self, value: Value) -> Self {
        self.check_unset("default", self.default_value.is_some());
        self.default_value = Some(value);
        self
    }

    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.check_unset("name", self.name.is_some());
        self.name = Some(name.into());
        self
    }

    /// Sets the version.
    pub fn version(mut self, version: i32) -> Self {
        self.check_unset("version", self.version.is_some());
        self.version = Some(version);
        self
    }

    /// Sets the documentation.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.check_unset("doc", self.doc.is_some());
        self.doc = Some(doc.into());
        self
    }

    /// Sets one parameter; parameters keep the order they were first set in.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters
            .get_or_insert_default()
            .insert(key.into(), value.into());
        self
    }

    /// Sets several parameters.
    pub fn parameters<K: Into<String>, V: Into<String>>(
        mut self,
        parameters: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let map = self.parameters.get_or_insert_default();
        for (key, value) in parameters {
            map.insert(key.into(), value.into());
        }
        self
    }

    /// Appends a field to a struct schema.
    pub fn field(mut self, name: impl Into<String>, schema: Schema) -> Self {
        let name = name.into();
        if self.schema_type != Type::Struct {
            self.fail(format!("Cannot create fields on type {}", self.schema_type));
        } else if self.fields.iter().any(|f| f.name == name) {
            self.fail(format!(
                "Cannot create field because of field name duplication {name}"
            ));
        } else {
            let index = self.fields.len();
            self.fields.push(Field::new(name, index, schema));
        }
        self
    }

    /// The type being built.
    pub fn schema_type(&self) -> Type {
        self.schema_type
    }

    /// The fields added so far.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Builds the schema.
    ///
    /// # Errors
    /// [`ConnectError::Data`] with Java's `SchemaBuilderException` message for any misuse of the
    /// builder, or `Invalid default value` when the default does not match the schema.
    pub fn build(mut self) -> Result<Schema> {
        if let Some(message) = self.error.take() {
            return Err(ConnectError::Data(message));
        }
        let default = self.default_value.take();
        let schema = self.into_schema();
        let Some(default) = default else {
            return Ok(schema);
        };
        validate_value(&schema, Some(&default), None)
            .map_err(|e| ConnectError::data(format!("Invalid default value: {e}")))?;
        let mut inner = Arc::unwrap_or_clone(schema.0);
        inner.default_value = Some(default);
        Ok(Schema(Arc::new(inner)))
    }

    fn into_schema(self) -> Schema {
        Schema(Arc::new(SchemaInner {
            schema_type: self.schema_type,
            optional: self.optional,
            default_value: self.default_value,
            name: self.name,
            version: self.version,
            doc: self.doc,
            parameters: self.parameters,
            fields: self.fields,
            key_schema: self.key_schema,
            value_schema: self.value_schema,
        }))
    }
}
