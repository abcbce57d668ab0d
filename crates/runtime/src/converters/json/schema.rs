//! Connect schemas as JSON, Java's `JsonSchema` layout: `{"type":"struct","fields":[...],
//! "optional":false,"name":...,"version":...,"doc":...,"parameters":{...},"default":...}`.

use ferry_connect::data::{Schema, SchemaBuilder, Type};
use ferry_connect::{ConnectError, Result};

use super::node::JsonNode;
use super::value::{Options, convert_to_connect, convert_to_json};

/// The JSON schema of `schema`, members in the order Java's `JsonConverter.asJsonSchema` puts them.
pub(crate) fn as_json_schema(schema: &Schema, options: &Options) -> Result<JsonNode> {
    let mut json = JsonNode::Object(vec![("type".into(), JsonNode::String(type_name(schema)))]);
    match schema.schema_type() {
        Type::Array => json.set("items", as_json_schema(schema.value_schema()?, options)?),
        Type::Map => {
            json.set("keys", as_json_schema(schema.key_schema()?, options)?);
            json.set("values", as_json_schema(schema.value_schema()?, options)?);
        }
        Type::Struct => {
            let mut fields = Vec::new();
            for field in schema.fields()? {
                let mut field_json = as_json_schema(field.schema(), options)?;
                field_json.set("field", JsonNode::String(field.name().to_owned()));
                fields.push(field_json);
            }
            json.set("fields", JsonNode::Array(fields));
        }
        _ => {}
    }
    json.set("optional", JsonNode::Bool(schema.is_optional()));
    if let Some(name) = schema.name() {
        json.set("name", JsonNode::String(name.to_owned()));
    }
    if let Some(version) = schema.version() {
        json.set("version", JsonNode::Number(version.to_string()));
    }
    if let Some(doc) = schema.doc() {
        json.set("doc", JsonNode::String(doc.to_owned()));
    }
    if let Some(parameters) = schema.parameters() {
        let members = parameters
            .iter()
            .map(|(k, v)| (k.clone(), JsonNode::String(v.clone())))
            .collect();
        json.set("parameters", JsonNode::Object(members));
    }
    if let Some(default) = schema.default_value() {
        json.set(
            "default",
            convert_to_json(Some(schema), Some(default), options)?,
        );
    }
    Ok(json)
}

/// The JSON type name of a schema: Java writes `float` and `double` for the float types.
fn type_name(schema: &Schema) -> String {
    match schema.schema_type() {
        Type::Float32 => "float".to_owned(),
        Type::Float64 => "double".to_owned(),
        other => other.name().to_owned(),
    }
}

/// The Connect schema a JSON schema describes; `None` for JSON `null`.
pub(crate) fn as_connect_schema(json: &JsonNode, options: &Options) -> Result<Option<Schema>> {
    if *json == JsonNode::Null {
        return Ok(None);
    }
    let Some(JsonNode::String(type_name)) = json.get("type") else {
        return Err(ConnectError::data("Schema must contain 'type' field"));
    };
    let mut builder = match type_name.as_str() {
        "boolean" => SchemaBuilder::boolean(),
        "int8" => SchemaBuilder::int8(),
        "int16" => SchemaBuilder::int16(),
        "int32" => SchemaBuilder::int32(),
        "int64" => SchemaBuilder::int64(),
        "float" => SchemaBuilder::float32(),
        "double" => SchemaBuilder::float64(),
        "bytes" => SchemaBuilder::bytes(),
        "string" => SchemaBuilder::string(),
        "array" => match json.get("items") {
            Some(items) if *items != JsonNode::Null => {
                SchemaBuilder::array(required(items, options)?)
            }
            _ => {
                return Err(ConnectError::data(
                    "Array schema did not specify the element type",
                ));
            }
        },
        "map" => {
            let keys = json
                .get("keys")
                .ok_or_else(|| ConnectError::data("Map schema did not specify the key type"))?;
            let values = json
                .get("values")
                .ok_or_else(|| ConnectError::data("Map schema did not specify the value type"))?;
            SchemaBuilder::map(required(keys, options)?, required(values, options)?)
        }
        "struct" => {
            let Some(JsonNode::Array(fields)) = json.get("fields") else {
                return Err(ConnectError::data(
                    "Struct schema's \"fields\" argument is not an array.",
                ));
            };
            let mut builder = SchemaBuilder::struct_();
            for field in fields {
                let Some(JsonNode::String(name)) = field.get("field") else {
                    return Err(ConnectError::data(
                        "Struct schema's field name not specified properly",
                    ));
                };
                builder = builder.field(name.clone(), required(field, options)?);
            }
            builder
        }
        other => return Err(ConnectError::data(format!("Unknown schema type: {other}"))),
    };
    if json.get("optional") == Some(&JsonNode::Bool(true)) {
        builder = builder.optional();
    }
    if let Some(JsonNode::String(name)) = json.get("name") {
        builder = builder.name(name.clone());
    }
    if let Some(version) = json.get("version").filter(|v| v.is_integral()) {
        builder = builder.version(version.long_value() as i32);
    }
    if let Some(JsonNode::String(doc)) = json.get("doc") {
        builder = builder.doc(doc.clone());
    }
    if let Some(JsonNode::Object(parameters)) = json.get("parameters") {
        for (key, value) in parameters {
            let JsonNode::String(value) = value else {
                return Err(ConnectError::data(
                    "Schema parameters must have string values.",
                ));
            };
            builder = builder.parameter(key.clone(), value.clone());
        }
    }
    let schema = builder.build()?;
    match json.get("default") {
        None => Ok(Some(schema)),
        Some(default) => match convert_to_connect(Some(&schema), Some(default), options)? {
            Some(value) => Ok(Some(schema.to_builder().default_value(value).build()?)),
            None => Ok(Some(schema)),
        },
    }
}

fn required(json: &JsonNode, options: &Options) -> Result<Schema> {
    as_connect_schema(json, options)?
        .ok_or_else(|| ConnectError::data("Schema must contain 'type' field"))
}
