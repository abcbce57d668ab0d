//! The connector API of Kafka Connect, as Ferry's connectors implement it: schemas and values,
//! source and sink records, headers, the connector/task/converter/transformation traits, `ConfigDef`
//! with validation, and the plugin registry that resolves Java class names and aliases.
