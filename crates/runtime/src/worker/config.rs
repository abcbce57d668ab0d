//! The worker's own settings (Java's `WorkerConfig` and `StandaloneConfig`), and the Kafka
//! client settings it derives for connectors' producers, consumers and admin clients.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use ferry_connect::ConfigError;
use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, ParsedConfig, Range, TypedValue, ValidString,
};
use ferry_connect::provider::ConfigTransformer;

use crate::ConnectorTaskId;

/// `bootstrap.servers`.
pub const BOOTSTRAP_SERVERS_CONFIG: &str = "bootstrap.servers";
/// `key.converter`.
pub const KEY_CONVERTER_CONFIG: &str = "key.converter";
/// `value.converter`.
pub const VALUE_CONVERTER_CONFIG: &str = "value.converter";
/// `header.converter`.
pub const HEADER_CONVERTER_CONFIG: &str = "header.converter";
/// `offset.flush.interval.ms`.
pub const OFFSET_FLUSH_INTERVAL_CONFIG: &str = "offset.flush.interval.ms";
/// `offset.flush.timeout.ms`.
pub const OFFSET_FLUSH_TIMEOUT_CONFIG: &str = "offset.flush.timeout.ms";
/// `task.shutdown.graceful.timeout.ms`.
pub const TASK_SHUTDOWN_TIMEOUT_CONFIG: &str = "task.shutdown.graceful.timeout.ms";
/// `connector.client.config.override.policy`.
pub const CLIENT_OVERRIDE_POLICY_CONFIG: &str = "connector.client.config.override.policy";
/// `config.providers`.
pub const CONFIG_PROVIDERS_CONFIG: &str = "config.providers";
/// `topic.creation.enable`.
pub const TOPIC_CREATION_ENABLE_CONFIG: &str = "topic.creation.enable";
/// `offset.storage.file.filename` (standalone only).
pub const OFFSET_STORAGE_FILE_CONFIG: &str = "offset.storage.file.filename";

/// Java's `SimpleHeaderConverter`, the default `header.converter`.
pub const SIMPLE_HEADER_CONVERTER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

/// Which herder the worker runs under; each has its own required keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerMode {
    /// `ferry standalone` (`StandaloneConfig`).
    Standalone,
    /// `ferry distributed` (`DistributedConfig`; its own keys are read by the distributed herder).
    Distributed,
}

/// Which connector-level client overrides (`producer.override.*`, `consumer.override.*`,
/// `admin.override.*`) the worker accepts (`connector.client.config.override.policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverridePolicy {
    /// `All` (Java's default): any client key may be overridden.
    All,
    /// `None`: no override is allowed.
    None,
    /// `Principal`: only `sasl.jaas.config`, `sasl.mechanism` and `security.protocol`.
    Principal,
}

impl OverridePolicy {
    /// Whether `key` (without its `*.override.` prefix) may be overridden.
    pub fn allows(self, key: &str) -> bool {
        match self {
            Self::All => true,
            Self::None => false,
            Self::Principal => matches!(
                key,
                "sasl.jaas.config" | "sasl.mechanism" | "security.protocol"
            ),
        }
    }

    /// The policy's name as configured.
    pub fn name(self) -> &'static str {
        match self {
            Self::All => "All",
            Self::None => "None",
            Self::Principal => "Principal",
        }
    }
}

/// The default `batch.size` of connector producers (source tasks, dead letter queues): 256 KiB,
/// where the Java client's default is 16 KiB.
pub const CONNECTOR_PRODUCER_BATCH_SIZE: usize = 256 * 1024;

/// A worker's configuration, parsed with Java's keys, defaults and messages.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_runtime::worker::{WorkerConfig, WorkerMode};
/// let props: HashMap<String, String> = [
///     ("bootstrap.servers", "kafka:9092"),
///     ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
///     ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
///     ("offset.storage.file.filename", "/tmp/connect.offsets"),
///     ("producer.linger.ms", "20"),
/// ]
/// .into_iter()
/// .map(|(k, v)| (k.to_owned(), v.to_owned()))
/// .collect();
/// let config = WorkerConfig::from_props(props, WorkerMode::Standalone).unwrap();
/// assert_eq!(config.offset_flush_interval.as_millis(), 60_000);
/// assert_eq!(config.header_converter, "org.apache.kafka.connect.storage.SimpleHeaderConverter");
/// let producer = config.producer_props(&ferry_runtime::ConnectorTaskId::new("c", 0), &Default::default());
/// assert_eq!(producer["linger.ms"], "20");
/// assert_eq!(producer["client.id"], "connector-producer-c-0");
/// ```
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Every property, with config provider variables resolved.
    pub props: HashMap<String, String>,
    /// `bootstrap.servers` (`localhost:9092`).
    pub bootstrap_servers: Vec<String>,
    /// `key.converter` (required).
    pub key_converter: String,
    /// `value.converter` (required).
    pub value_converter: String,
    /// `header.converter` (`SimpleHeaderConverter`).
    pub header_converter: String,
    /// `offset.flush.interval.ms` (60000).
    pub offset_flush_interval: Duration,
    /// `offset.flush.timeout.ms` (5000).
    pub offset_flush_timeout: Duration,
    /// `task.shutdown.graceful.timeout.ms` (5000).
    pub task_shutdown_timeout: Duration,
    /// `connector.client.config.override.policy` (`All`).
    pub override_policy: OverridePolicy,
    /// `topic.creation.enable` (true).
    pub topic_creation_enable: bool,
    /// `offset.storage.file.filename` (standalone, required there).
    pub offset_storage_file: Option<PathBuf>,
    /// The config providers of `config.providers`, to resolve connector configs with.
    transformer: std::sync::Arc<ConfigTransformer>,
}

/// The keys Ferry knows without reading them here: the REST server's, the distributed herder's,
/// and Java keys that have no effect in Ferry (metrics, plugin loading, SSL of Java clients).
const OTHER_KNOWN_KEYS: &[&str] = &[
    "listeners",
    "admin.listeners",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "rest.advertised.listener",
    "access.control.allow.origin",
    "access.control.allow.methods",
    "response.http.headers.config",
    "rest.extension.classes",
    "topic.tracking.enable",
    "topic.tracking.allow.reset",
    "client.dns.lookup",
    "plugin.path",
    "plugin.discovery",
    "metrics.sample.window.ms",
    "metrics.num.samples",
    "metrics.recording.level",
    "metric.reporters",
    "auto.include.jmx.reporter",
    "group.id",
    "config.storage.topic",
    "offset.storage.topic",
    "status.storage.topic",
    "config.storage.replication.factor",
    "offset.storage.replication.factor",
    "status.storage.replication.factor",
    "offset.storage.partitions",
    "status.storage.partitions",
    "heartbeat.interval.ms",
    "session.timeout.ms",
    "rebalance.timeout.ms",
    "scheduled.rebalance.max.delay.ms",
    "connect.protocol",
    "worker.sync.timeout.ms",
    "worker.unsync.backoff.ms",
    "inter.worker.key.generation.algorithm",
    "inter.worker.key.size",
    "inter.worker.key.ttl.ms",
    "inter.worker.signature.algorithm",
    "inter.worker.verification.algorithms",
    "exactly.once.source.support",
    "connections.max.idle.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "retry.backoff.ms",
    "retry.backoff.max.ms",
    "request.timeout.ms",
    "metadata.max.age.ms",
    "client.id",
    "security.protocol",
    "send.buffer.bytes",
    "receive.buffer.bytes",
    "socket.connection.setup.timeout.ms",
    "socket.connection.setup.timeout.max.ms",
    "rest.host.name",
    "rest.port",
    "admin.listeners.https",
    "health.check.timeout.ms",
];

/// Java's producer, consumer and admin client keys (outside the `ssl.`/`sasl.`/`metrics.`
/// families). At the top level of the worker's properties they configure the clients of the
/// internal topics and the worker's own admin client, because Java hands the worker's whole
/// config to those clients; so they are used, not unknown.
const CLIENT_KEYS: &[&str] = &[
    "acks",
    "allow.auto.create.topics",
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "batch.size",
    "bootstrap.controllers",
    "buffer.memory",
    "check.crcs",
    "client.rack",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "default.api.timeout.ms",
    "delivery.timeout.ms",
    "enable.auto.commit",
    "enable.idempotence",
    "enable.metrics.push",
    "exclude.internal.topics",
    "fetch.max.bytes",
    "fetch.max.wait.ms",
    "fetch.min.bytes",
    "group.instance.id",
    "group.protocol",
    "group.remote.assignor",
    "interceptor.classes",
    "isolation.level",
    "key.deserializer",
    "key.serializer",
    "linger.ms",
    "max.block.ms",
    "max.partition.fetch.bytes",
    "max.poll.interval.ms",
    "max.poll.records",
    "max.request.size",
    "metadata.max.idle.ms",
    "metadata.recovery.strategy",
    "partition.assignment.strategy",
    "partitioner.adaptive.partitioning.enable",
    "partitioner.availability.timeout.ms",
    "partitioner.class",
    "partitioner.ignore.keys",
    "retries",
    "security.providers",
    "transaction.timeout.ms",
    "transactional.id",
    "value.deserializer",
    "value.serializer",
];

const KNOWN_PREFIXES: &[&str] = &[
    "producer.",
    "consumer.",
    "admin.",
    "config.providers.",
    "listeners.https.",
    "ssl.",
    "sasl.",
    "metrics.context.",
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "internal.key.converter",
    "internal.value.converter",
];

fn worker_def(mode: WorkerMode) -> ConfigDef {
    let def = ConfigDef::new()
        .define(
            ConfigKey::new(BOOTSTRAP_SERVERS_CONFIG, ConfigType::List)
                .default_value("localhost:9092")
                .importance(Importance::High),
        )
        .define(
            ConfigKey::new(KEY_CONVERTER_CONFIG, ConfigType::Class).importance(Importance::High),
        )
        .define(
            ConfigKey::new(VALUE_CONVERTER_CONFIG, ConfigType::Class).importance(Importance::High),
        )
        .define(
            ConfigKey::new(HEADER_CONVERTER_CONFIG, ConfigType::Class)
                .default_value(SIMPLE_HEADER_CONVERTER)
                .importance(Importance::Low),
        )
        .define(
            ConfigKey::new(TASK_SHUTDOWN_TIMEOUT_CONFIG, ConfigType::Long)
                .default_value("5000")
                .importance(Importance::Low),
        )
        .define(
            ConfigKey::new(OFFSET_FLUSH_INTERVAL_CONFIG, ConfigType::Long)
                .default_value("60000")
                .importance(Importance::Low),
        )
        .define(
            ConfigKey::new(OFFSET_FLUSH_TIMEOUT_CONFIG, ConfigType::Long)
                .default_value("5000")
                .importance(Importance::Low),
        )
        .define(
            ConfigKey::new(CONFIG_PROVIDERS_CONFIG, ConfigType::List)
                .default_value("")
                .importance(Importance::Low),
        )
        .define(
            ConfigKey::new(CLIENT_OVERRIDE_POLICY_CONFIG, ConfigType::String)
                .default_value("All")
                .validator(ValidString::of(["All", "None", "Principal"]))
                .importance(Importance::Medium),
        )
        .define(
            ConfigKey::new(TOPIC_CREATION_ENABLE_CONFIG, ConfigType::Boolean)
                .default_value("true")
                .importance(Importance::Low),
        )
        .define(
            ConfigKey::new("metrics.num.samples", ConfigType::Int)
                .default_value("2")
                .validator(Range::at_least(1))
                .importance(Importance::Low),
        );
    match mode {
        WorkerMode::Standalone => def.define(
            ConfigKey::new(OFFSET_STORAGE_FILE_CONFIG, ConfigType::String)
                .importance(Importance::High),
        ),
        WorkerMode::Distributed => def,
    }
}

fn millis(parsed: &ParsedConfig, key: &str) -> Duration {
    Duration::from_millis(parsed.get_long(key).unwrap_or(0).max(0).unsigned_abs())
}

impl WorkerConfig {
    /// Resolves `${provider:path:key}` variables with the worker's `config.providers`, then
    /// parses and checks every key. Keys that nothing reads are logged, in the words and at the
    /// level of Java's clients.
    ///
    /// # Errors
    /// The first invalid or missing key, with Java's message (`Missing required configuration
    /// "key.converter" which has no default value.`).
    pub fn from_props(
        props: HashMap<String, String>,
        mode: WorkerMode,
    ) -> Result<Self, ConfigError> {
        let transformer = ConfigTransformer::from_config(&props)?;
        let props = transformer.transform(&props)?.data;
        let parsed = worker_def(mode).parse(&props)?;
        let unused = unused_keys(&props, mode);
        if !unused.is_empty() {
            // Java's words (`AbstractConfig.logUnused`, which its clients call on the worker's
            // properties), at Java's level.
            tracing::info!(
                "These configurations '[{}]' were supplied but are not used yet.",
                unused.join(", ")
            );
        }
        let string = |key: &str| parsed.get_string(key).unwrap_or_default().to_owned();
        let override_policy = match parsed.get_string(CLIENT_OVERRIDE_POLICY_CONFIG) {
            Some("None") => OverridePolicy::None,
            Some("Principal") => OverridePolicy::Principal,
            _ => OverridePolicy::All,
        };
        Ok(Self {
            bootstrap_servers: match parsed.get(BOOTSTRAP_SERVERS_CONFIG) {
                Some(TypedValue::List(list)) => list.clone(),
                _ => Vec::new(),
            },
            key_converter: string(KEY_CONVERTER_CONFIG),
            value_converter: string(VALUE_CONVERTER_CONFIG),
            header_converter: string(HEADER_CONVERTER_CONFIG),
            offset_flush_interval: millis(&parsed, OFFSET_FLUSH_INTERVAL_CONFIG),
            offset_flush_timeout: millis(&parsed, OFFSET_FLUSH_TIMEOUT_CONFIG),
            task_shutdown_timeout: millis(&parsed, TASK_SHUTDOWN_TIMEOUT_CONFIG),
            override_policy,
            topic_creation_enable: parsed
                .get_bool(TOPIC_CREATION_ENABLE_CONFIG)
                .unwrap_or(true),
            offset_storage_file: parsed
                .get_string(OFFSET_STORAGE_FILE_CONFIG)
                .map(PathBuf::from),
            props,
            transformer: std::sync::Arc::new(transformer),
        })
    }

    /// Resolves config provider variables in a connector's config with the worker's providers.
    pub fn transform(
        &self,
        config: &HashMap<String, String>,
    ) -> Result<HashMap<String, String>, ConfigError> {
        Ok(self.transformer.transform(config)?.data)
    }

    /// The properties under `prefix`, with the prefix removed.
    pub fn with_prefix(&self, prefix: &str) -> HashMap<String, String> {
        with_prefix(&self.props, prefix)
    }

    /// The configuration of a source task's producer (Java's `baseProducerConfigs`): Connect's
    /// safe defaults (with larger batches, see [`CONNECTOR_PRODUCER_BATCH_SIZE`]), then
    /// `producer.*`, then the connector's `producer.override.*`.
    pub fn producer_props(
        &self,
        id: &ConnectorTaskId,
        connector: &HashMap<String, String>,
    ) -> HashMap<String, String> {
        self.producer_props_with_client_id(&format!("connector-producer-{id}"), connector)
    }

    /// As [`WorkerConfig::producer_props`] with another default `client.id` (the DLQ producer's).
    pub fn producer_props_with_client_id(
        &self,
        client_id: &str,
        connector: &HashMap<String, String>,
    ) -> HashMap<String, String> {
        let mut props: HashMap<String, String> = [
            (BOOTSTRAP_SERVERS_CONFIG, self.bootstrap_servers.join(",")),
            ("max.block.ms", i64::MAX.to_string()),
            ("enable.idempotence", "false".into()),
            ("acks", "all".into()),
            ("max.in.flight.requests.per.connection", "1".into()),
            ("delivery.timeout.ms", i32::MAX.to_string()),
            ("client.id", client_id.to_owned()),
            // Ferry's one deliberate departure from Java's producer defaults here: 256 KiB
            // batches instead of the client's 16 KiB. With one request in flight (above), a
            // source task sends at most one batch per partition per round trip, so 16 KiB
            // batches cap a MirrorMaker 2 copy at a few tens of MB/s whatever the link allows;
            // ordering and delivery guarantees do not depend on the batch size, and
            // `producer.batch.size` or `producer.override.batch.size` restore Java's value.
            ("batch.size", CONNECTOR_PRODUCER_BATCH_SIZE.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        props.extend(self.with_prefix("producer."));
        props.extend(with_prefix(connector, "producer.override."));
        props
    }

    /// The configuration of a sink task's consumer (Java's `baseConsumerConfigs`): group
    /// `connect-NAME`, no auto-commit, `earliest`, then `consumer.*` and `consumer.override.*`.
    pub fn consumer_props(
        &self,
        id: &ConnectorTaskId,
        connector: &HashMap<String, String>,
    ) -> HashMap<String, String> {
        let mut props: HashMap<String, String> = [
            ("group.id", format!("connect-{}", id.connector)),
            ("client.id", format!("connector-consumer-{id}")),
            (BOOTSTRAP_SERVERS_CONFIG, self.bootstrap_servers.join(",")),
            ("enable.auto.commit", "false".into()),
            ("auto.offset.reset", "earliest".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        props.extend(self.with_prefix("consumer."));
        props.extend(with_prefix(connector, "consumer.override."));
        props
    }

    /// The configuration of an admin client working for `connector` (`admin.*`,
    /// `admin.override.*`).
    pub fn admin_props(
        &self,
        client_id: &str,
        connector: &HashMap<String, String>,
    ) -> HashMap<String, String> {
        let mut props = HashMap::from([
            (
                BOOTSTRAP_SERVERS_CONFIG.to_owned(),
                self.bootstrap_servers.join(","),
            ),
            ("client.id".to_owned(), client_id.to_owned()),
        ]);
        props.extend(self.with_prefix("admin."));
        props.extend(with_prefix(connector, "admin.override."));
        props
    }

    /// Checks a connector's client overrides against the policy; the error names the first
    /// override that is not allowed.
    pub fn check_overrides(&self, connector: &HashMap<String, String>) -> Result<(), ConfigError> {
        for prefix in [
            "producer.override.",
            "consumer.override.",
            "admin.override.",
        ] {
            let mut keys: Vec<&String> =
                connector.keys().filter(|k| k.starts_with(prefix)).collect();
            keys.sort();
            for key in keys {
                if !self.override_policy.allows(&key[prefix.len()..]) {
                    return Err(ConfigError::invalid(
                        key,
                        &connector[key],
                        Some(&format!(
                            "The '{}' policy does not allow '{}' to be overridden in the connector configuration.",
                            self.override_policy.name(),
                            &key[prefix.len()..]
                        )),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The keys of `props` that neither the worker nor a Kafka client reads, sorted.
fn unused_keys(props: &HashMap<String, String>, mode: WorkerMode) -> Vec<String> {
    let def = worker_def(mode);
    let mut unused: Vec<String> = props
        .keys()
        .filter(|key| {
            def.key(key).is_none()
                && !OTHER_KNOWN_KEYS.contains(&key.as_str())
                && !CLIENT_KEYS.contains(&key.as_str())
                && !KNOWN_PREFIXES.iter().any(|p| key.starts_with(p))
        })
        .cloned()
        .collect();
    unused.sort();
    unused
}

/// The entries of `props` under `prefix`, with the prefix removed.
pub fn with_prefix(props: &HashMap<String, String>, prefix: &str) -> HashMap<String, String> {
    props
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .map(|rest| (rest.to_owned(), v.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            ("offset.storage.file.filename", "/tmp/x"),
        ]
    }

    #[test]
    fn defaults_are_javas() {
        let config = WorkerConfig::from_props(props(&minimal()), WorkerMode::Standalone).unwrap();
        assert_eq!(config.bootstrap_servers, vec!["localhost:9092"]);
        assert_eq!(config.offset_flush_interval, Duration::from_secs(60));
        assert_eq!(config.offset_flush_timeout, Duration::from_secs(5));
        assert_eq!(config.task_shutdown_timeout, Duration::from_secs(5));
        assert_eq!(config.override_policy, OverridePolicy::All);
        assert!(config.topic_creation_enable);
        assert_eq!(config.offset_storage_file, Some(PathBuf::from("/tmp/x")));
    }

    #[test]
    fn required_keys_and_bad_values_name_the_key() {
        let mut missing = minimal();
        missing.retain(|(k, _)| *k != "value.converter");
        let err = WorkerConfig::from_props(props(&missing), WorkerMode::Standalone).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Missing required configuration \"value.converter\" which has no default value."
        );
        let mut bad = minimal();
        bad.push(("offset.flush.interval.ms", "soon"));
        let err = WorkerConfig::from_props(props(&bad), WorkerMode::Standalone).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG"
        );
        let mut file = minimal();
        file.retain(|(k, _)| *k != "offset.storage.file.filename");
        assert!(WorkerConfig::from_props(props(&file), WorkerMode::Standalone).is_err());
        assert!(WorkerConfig::from_props(props(&file), WorkerMode::Distributed).is_ok());
    }

    #[test]
    fn client_configs_layer_defaults_worker_and_connector_overrides() {
        let mut pairs = minimal();
        pairs.extend([
            ("producer.acks", "1"),
            ("consumer.max.poll.records", "7"),
            ("bootstrap.servers", "a:1,b:2"),
        ]);
        let config = WorkerConfig::from_props(props(&pairs), WorkerMode::Standalone).unwrap();
        let connector = props(&[
            ("producer.override.linger.ms", "9"),
            ("consumer.override.max.poll.records", "8"),
        ]);
        let id = ConnectorTaskId::new("sink", 2);
        let producer = config.producer_props(&id, &connector);
        assert_eq!(producer["acks"], "1");
        assert_eq!(producer["linger.ms"], "9");
        assert_eq!(producer["enable.idempotence"], "false");
        assert_eq!(producer["batch.size"], "262144");
        assert_eq!(producer["bootstrap.servers"], "a:1,b:2");
        let java_batches = props(&[("producer.override.batch.size", "16384")]);
        assert_eq!(
            config.producer_props(&id, &java_batches)["batch.size"],
            "16384"
        );
        let consumer = config.consumer_props(&id, &connector);
        assert_eq!(consumer["group.id"], "connect-sink");
        assert_eq!(consumer["client.id"], "connector-consumer-sink-2");
        assert_eq!(consumer["max.poll.records"], "8");
        assert_eq!(consumer["auto.offset.reset"], "earliest");
        assert_eq!(consumer["enable.auto.commit"], "false");
    }

    #[test]
    fn client_keys_at_the_top_level_are_used_and_others_are_not() {
        let mut pairs = minimal();
        pairs.extend([
            ("fetch.max.wait.ms", "50"),
            ("max.poll.records", "3"),
            ("linger.ms", "5"),
            ("default.api.timeout.ms", "1000"),
            ("group.id", "g"),
            ("producer.acks", "1"),
            ("no.such.setting", "x"),
            ("another.typo", "y"),
        ]);
        assert_eq!(
            unused_keys(&props(&pairs), WorkerMode::Standalone),
            vec!["another.typo", "no.such.setting"]
        );
        assert!(unused_keys(&props(&minimal()), WorkerMode::Standalone).is_empty());
        // The standalone offset file means nothing to a distributed worker.
        assert_eq!(
            unused_keys(&props(&minimal()), WorkerMode::Distributed),
            vec!["offset.storage.file.filename"]
        );
    }

    #[test]
    fn override_policy_is_enforced() {
        let mut pairs = minimal();
        pairs.push(("connector.client.config.override.policy", "None"));
        let config = WorkerConfig::from_props(props(&pairs), WorkerMode::Standalone).unwrap();
        let err = config
            .check_overrides(&props(&[("producer.override.acks", "1")]))
            .unwrap_err();
        assert_eq!(err.key(), Some("producer.override.acks"));
        assert!(
            config
                .check_overrides(&props(&[("producer.acks", "1")]))
                .is_ok()
        );
    }

    #[test]
    fn config_providers_resolve_worker_values() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join("secrets.properties");
        std::fs::write(&secrets, "servers=kafka:9093\n").unwrap();
        let mut pairs: Vec<(String, String)> = minimal()
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        pairs.push(("config.providers".into(), "file".into()));
        pairs.push((
            "config.providers.file.class".into(),
            "org.apache.kafka.common.config.provider.FileConfigProvider".into(),
        ));
        pairs.push((
            "bootstrap.servers".into(),
            format!("${{file:{}:servers}}", secrets.display()),
        ));
        let config =
            WorkerConfig::from_props(pairs.into_iter().collect(), WorkerMode::Standalone).unwrap();
        assert_eq!(config.bootstrap_servers, vec!["kafka:9093"]);
    }
}
