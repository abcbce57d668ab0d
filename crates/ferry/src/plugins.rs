//! The one plugin registry: every converter, transformation, predicate and connector Ferry
//! ships, registered under its Java class name and aliases.

use ferry_connect::plugin::PluginRegistry;

/// Builds the registry every worker mode uses.
pub fn plugins() -> PluginRegistry {
    let mut registry = PluginRegistry::new();
    ferry_runtime::converters::register(&mut registry);
    ferry_runtime::transforms::register(&mut registry);
    ferry_connectors::register(&mut registry);
    ferry_mirror::register(&mut registry);
    registry
}

#[cfg(test)]
mod tests {
    #[test]
    fn java_names_resolve() {
        let registry = super::plugins();
        assert!(
            registry
                .source_connector("org.apache.kafka.connect.file.FileStreamSourceConnector")
                .is_some()
        );
        assert!(
            registry
                .converter("org.apache.kafka.connect.json.JsonConverter")
                .is_some()
        );
        assert!(
            registry
                .header_converter("org.apache.kafka.connect.storage.SimpleHeaderConverter")
                .is_some()
        );
        assert!(
            registry
                .source_transformation("org.apache.kafka.connect.transforms.InsertField$Value")
                .is_some()
        );
        assert!(
            registry
                .source_connector("org.apache.kafka.connect.mirror.MirrorSourceConnector")
                .is_some()
        );
    }
}
