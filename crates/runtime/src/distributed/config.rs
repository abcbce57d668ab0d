//! The settings of a worker in distributed mode (Java's `DistributedConfig`): the common worker
//! settings plus the group, internal topics, rebalancing and KIP-507 request signing keys.

use std::collections::HashMap;
use std::time::Duration;

use ferry_connect::ConfigError;
use ferry_connect::config::{
    ConfigDef, ConfigKey, ConfigType, Importance, LambdaValidator, ParsedConfig, Range, TypedValue,
    ValidString,
};

use super::protocol::ConnectProtocolCompatibility;
use crate::rest::signature::is_supported;
use crate::worker::{WorkerConfig, WorkerMode};

/// `group.id`.
pub const GROUP_ID_CONFIG: &str = "group.id";
/// `config.storage.topic`.
pub const CONFIG_TOPIC_CONFIG: &str = "config.storage.topic";
/// `offset.storage.topic`.
pub const OFFSET_STORAGE_TOPIC_CONFIG: &str = "offset.storage.topic";
/// `status.storage.topic`.
pub const STATUS_STORAGE_TOPIC_CONFIG: &str = "status.storage.topic";
/// `session.timeout.ms`.
pub const SESSION_TIMEOUT_MS_CONFIG: &str = "session.timeout.ms";
/// `heartbeat.interval.ms`.
pub const HEARTBEAT_INTERVAL_MS_CONFIG: &str = "heartbeat.interval.ms";
/// `rebalance.timeout.ms`.
pub const REBALANCE_TIMEOUT_MS_CONFIG: &str = "rebalance.timeout.ms";
/// `connect.protocol`.
pub const CONNECT_PROTOCOL_CONFIG: &str = "connect.protocol";
/// `scheduled.rebalance.max.delay.ms`.
pub const SCHEDULED_REBALANCE_MAX_DELAY_MS_CONFIG: &str = "scheduled.rebalance.max.delay.ms";
/// `worker.sync.timeout.ms`.
pub const WORKER_SYNC_TIMEOUT_MS_CONFIG: &str = "worker.sync.timeout.ms";
/// `worker.unsync.backoff.ms`.
pub const WORKER_UNSYNC_BACKOFF_MS_CONFIG: &str = "worker.unsync.backoff.ms";
/// `inter.worker.key.generation.algorithm`.
pub const KEY_GENERATION_ALGORITHM_CONFIG: &str = "inter.worker.key.generation.algorithm";
/// `inter.worker.key.size`.
pub const KEY_SIZE_CONFIG: &str = "inter.worker.key.size";
/// `inter.worker.key.ttl.ms`.
pub const KEY_TTL_MS_CONFIG: &str = "inter.worker.key.ttl.ms";
/// `inter.worker.signature.algorithm`.
pub const SIGNATURE_ALGORITHM_CONFIG: &str = "inter.worker.signature.algorithm";
/// `inter.worker.verification.algorithms`.
pub const VERIFICATION_ALGORITHMS_CONFIG: &str = "inter.worker.verification.algorithms";
/// `exactly.once.source.support`.
pub const EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG: &str = "exactly.once.source.support";

/// The MAC algorithms Ferry can generate keys for and sign with (the JVM's HMAC family).
const SUPPORTED_MACS: &str = "[HmacSHA1, HmacSHA224, HmacSHA256, HmacSHA384, HmacSHA512]";

/// A distributed worker's configuration, with Java's keys, defaults and messages.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_runtime::distributed::config::DistributedConfig;
/// let props: HashMap<String, String> = [
///     ("group.id", "connect-cluster"),
///     ("config.storage.topic", "connect-configs"),
///     ("offset.storage.topic", "connect-offsets"),
///     ("status.storage.topic", "connect-status"),
///     ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
///     ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
/// ]
/// .into_iter()
/// .map(|(k, v)| (k.to_owned(), v.to_owned()))
/// .collect();
/// let config = DistributedConfig::from_props(props).unwrap();
/// assert_eq!(config.session_timeout.as_millis(), 10_000);
/// assert_eq!(config.key_ttl.as_millis(), 3_600_000);
/// assert_eq!(config.protocol.to_string(), "sessioned");
/// ```
#[derive(Debug, Clone)]
pub struct DistributedConfig {
    /// The settings every worker has (converters, flush intervals, client overrides, …).
    pub worker: WorkerConfig,
    /// `group.id` (required).
    pub group_id: String,
    /// `config.storage.topic` (required).
    pub config_topic: String,
    /// `offset.storage.topic` (required).
    pub offset_topic: String,
    /// `status.storage.topic` (required).
    pub status_topic: String,
    /// `session.timeout.ms` (10000).
    pub session_timeout: Duration,
    /// `heartbeat.interval.ms` (3000).
    pub heartbeat_interval: Duration,
    /// `rebalance.timeout.ms` (60000).
    pub rebalance_timeout: Duration,
    /// `connect.protocol` (`sessioned`).
    pub protocol: ConnectProtocolCompatibility,
    /// `scheduled.rebalance.max.delay.ms` (300000).
    pub scheduled_rebalance_max_delay_ms: i32,
    /// `worker.sync.timeout.ms` (3000): how long to wait to catch up with the config topic.
    pub worker_sync_timeout: Duration,
    /// `worker.unsync.backoff.ms` (300000): how long to stay out of the group after failing to.
    pub worker_unsync_backoff: Duration,
    /// `inter.worker.key.generation.algorithm` (`HmacSHA256`).
    pub key_generation_algorithm: String,
    /// `inter.worker.key.size` in bits (`null`: the algorithm's default).
    pub key_size: Option<u32>,
    /// `inter.worker.key.ttl.ms` (3600000): how long a session key is used before the leader
    /// rotates it.
    pub key_ttl: Duration,
    /// `inter.worker.signature.algorithm` (`HmacSHA256`).
    pub signature_algorithm: String,
    /// `inter.worker.verification.algorithms` (`[HmacSHA256]`).
    pub verification_algorithms: Vec<String>,
}

fn mac_validator() -> LambdaValidator {
    LambdaValidator::new(
        "Any MAC algorithm supported by the worker",
        |name, value| match value {
            Some(TypedValue::String(algorithm)) if !is_supported(algorithm) => {
                Err(unsupported(name, algorithm))
            }
            _ => Ok(()),
        },
    )
}

fn unsupported(name: &str, value: &str) -> ConfigError {
    ConfigError::invalid(
        name,
        value,
        Some(&format!(
            "the algorithm is not supported by this worker; the supported algorithms are: {SUPPORTED_MACS}"
        )),
    )
}

fn partitions_validator() -> LambdaValidator {
    LambdaValidator::new(
        "Positive number, or -1 to use the broker's default",
        |name, value| match value {
            Some(TypedValue::Int(n)) if *n != -1 && *n < 1 => Err(ConfigError::invalid(
                name,
                n,
                Some("Number of partitions must be positive, or -1 to use the broker's default"),
            )),
            _ => Ok(()),
        },
    )
}

fn replication_factor_validator() -> LambdaValidator {
    LambdaValidator::new(
        "Positive number not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default",
        |name, value| match value {
            Some(TypedValue::Short(n)) if *n != -1 && *n < 1 => Err(ConfigError::invalid(
                name,
                n,
                Some(
                    "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default",
                ),
            )),
            _ => Ok(()),
        },
    )
}

fn distributed_def() -> ConfigDef {
    let required =
        |name: &str| ConfigKey::new(name, ConfigType::String).importance(Importance::High);
    let int = |name: &str, default: &str| {
        ConfigKey::new(name, ConfigType::Int)
            .default_value(default)
            .importance(Importance::Low)
    };
    ConfigDef::new()
        .define(required(GROUP_ID_CONFIG))
        .define(required(CONFIG_TOPIC_CONFIG))
        .define(required(OFFSET_STORAGE_TOPIC_CONFIG))
        .define(required(STATUS_STORAGE_TOPIC_CONFIG))
        .define(int(SESSION_TIMEOUT_MS_CONFIG, "10000"))
        .define(int(HEARTBEAT_INTERVAL_MS_CONFIG, "3000"))
        .define(int(REBALANCE_TIMEOUT_MS_CONFIG, "60000"))
        .define(int(WORKER_SYNC_TIMEOUT_MS_CONFIG, "3000"))
        .define(int(WORKER_UNSYNC_BACKOFF_MS_CONFIG, "300000"))
        .define(int("offset.storage.partitions", "25").validator(partitions_validator()))
        .define(int("status.storage.partitions", "5").validator(partitions_validator()))
        .define(
            ConfigKey::new("config.storage.replication.factor", ConfigType::Short)
                .default_value("3")
                .validator(replication_factor_validator()),
        )
        .define(
            ConfigKey::new("offset.storage.replication.factor", ConfigType::Short)
                .default_value("3")
                .validator(replication_factor_validator()),
        )
        .define(
            ConfigKey::new("status.storage.replication.factor", ConfigType::Short)
                .default_value("3")
                .validator(replication_factor_validator()),
        )
        .define(
            ConfigKey::new(CONNECT_PROTOCOL_CONFIG, ConfigType::String)
                .default_value("sessioned")
                .validator(LambdaValidator::new(
                    "[eager, compatible, sessioned]",
                    |name, value| match value {
                        Some(TypedValue::String(v))
                            if v.parse::<ConnectProtocolCompatibility>().is_err() =>
                        {
                            Err(ConfigError::invalid(
                                name,
                                v,
                                Some("Invalid Connect protocol compatibility"),
                            ))
                        }
                        _ => Ok(()),
                    },
                )),
        )
        .define(
            int(SCHEDULED_REBALANCE_MAX_DELAY_MS_CONFIG, "300000")
                .validator(Range::between(0, i64::from(i32::MAX))),
        )
        .define(int(KEY_TTL_MS_CONFIG, "3600000").validator(Range::between(0, i64::from(i32::MAX))))
        .define(
            ConfigKey::new(KEY_GENERATION_ALGORITHM_CONFIG, ConfigType::String)
                .default_value("HmacSHA256")
                .validator(mac_validator()),
        )
        .define(ConfigKey::new(KEY_SIZE_CONFIG, ConfigType::Int).default_null())
        .define(
            ConfigKey::new(SIGNATURE_ALGORITHM_CONFIG, ConfigType::String)
                .default_value("HmacSHA256")
                .validator(mac_validator()),
        )
        .define(
            ConfigKey::new(VERIFICATION_ALGORITHMS_CONFIG, ConfigType::List)
                .default_value("HmacSHA256")
                .validator(LambdaValidator::new(
                    "A list of one or more MAC algorithms, each supported by the worker",
                    |name, value| match value {
                        Some(TypedValue::List(list)) if list.is_empty() => {
                            Err(ConfigError::invalid(
                                name,
                                "",
                                Some("At least one signature verification algorithm must be provided"),
                            ))
                        }
                        Some(TypedValue::List(list)) => list
                            .iter()
                            .find(|a| !is_supported(a))
                            .map_or(Ok(()), |a| Err(unsupported(name, a))),
                        _ => Ok(()),
                    },
                )),
        )
        .define(
            ConfigKey::new(EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG, ConfigType::String)
                .default_value("disabled")
                .validator(ValidString::of(["enabled", "preparing", "disabled"])),
        )
}

fn millis(parsed: &ParsedConfig, key: &str) -> Duration {
    Duration::from_millis(
        parsed
            .get_int(key)
            .unwrap_or(0)
            .max(0)
            .unsigned_abs()
            .into(),
    )
}

impl DistributedConfig {
    /// Parses the worker properties: the common worker keys, then the distributed ones.
    ///
    /// # Errors
    /// The first missing or invalid key, with Java's message naming it.
    pub fn from_props(props: HashMap<String, String>) -> Result<Self, ConfigError> {
        let worker = WorkerConfig::from_props(props, WorkerMode::Distributed)?;
        let parsed = distributed_def().parse(&worker.props)?;
        let string = |key: &str| parsed.get_string(key).unwrap_or_default().to_owned();
        let signature_algorithm = string(SIGNATURE_ALGORITHM_CONFIG);
        let verification_algorithms = parsed
            .get_list(VERIFICATION_ALGORITHMS_CONFIG)
            .unwrap_or_default()
            .to_vec();
        if !verification_algorithms.contains(&signature_algorithm) {
            return Err(ConfigError::invalid(
                SIGNATURE_ALGORITHM_CONFIG,
                &signature_algorithm,
                Some(&format!(
                    "Signature algorithm must be present in {VERIFICATION_ALGORITHMS_CONFIG} list"
                )),
            ));
        }
        let key_size = match parsed.get_int(KEY_SIZE_CONFIG) {
            None => None,
            // The JVM's HMAC key generators refuse keys shorter than 40 bits.
            Some(bits) if bits < 40 => {
                return Err(ConfigError::invalid(
                    KEY_SIZE_CONFIG,
                    bits,
                    Some("Key length must be at least 40 bits"),
                ));
            }
            Some(bits) => Some(bits.unsigned_abs()),
        };
        if parsed.get_string(EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG) != Some("disabled") {
            tracing::warn!(
                "{EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG} is set, but this version of Ferry runs source connectors without exactly-once support"
            );
        }
        let protocol = string(CONNECT_PROTOCOL_CONFIG)
            .parse()
            .unwrap_or(ConnectProtocolCompatibility::Sessioned);
        Ok(Self {
            group_id: string(GROUP_ID_CONFIG),
            config_topic: string(CONFIG_TOPIC_CONFIG),
            offset_topic: string(OFFSET_STORAGE_TOPIC_CONFIG),
            status_topic: string(STATUS_STORAGE_TOPIC_CONFIG),
            session_timeout: millis(&parsed, SESSION_TIMEOUT_MS_CONFIG),
            heartbeat_interval: millis(&parsed, HEARTBEAT_INTERVAL_MS_CONFIG),
            rebalance_timeout: millis(&parsed, REBALANCE_TIMEOUT_MS_CONFIG),
            protocol,
            scheduled_rebalance_max_delay_ms: parsed
                .get_int(SCHEDULED_REBALANCE_MAX_DELAY_MS_CONFIG)
                .unwrap_or(300_000),
            worker_sync_timeout: millis(&parsed, WORKER_SYNC_TIMEOUT_MS_CONFIG),
            worker_unsync_backoff: millis(&parsed, WORKER_UNSYNC_BACKOFF_MS_CONFIG),
            key_generation_algorithm: string(KEY_GENERATION_ALGORITHM_CONFIG),
            key_size,
            key_ttl: millis(&parsed, KEY_TTL_MS_CONFIG),
            signature_algorithm,
            verification_algorithms,
            worker,
        })
    }

    /// The session key length in bytes: `inter.worker.key.size` rounded up to whole bytes, or
    /// the JVM's default for the algorithm (its digest length; 64 bytes for HmacSHA1).
    pub fn key_bytes(&self) -> usize {
        if let Some(bits) = self.key_size {
            return bits.div_ceil(8) as usize;
        }
        match self.key_generation_algorithm.to_ascii_uppercase().as_str() {
            "HMACSHA224" => 28,
            "HMACSHA384" => 48,
            "HMACSHA1" | "HMACSHA512" => 64,
            _ => 32,
        }
    }

    /// The worker properties as the internal-topic stores read them.
    pub fn store_props(&self) -> crate::storage::kafka::WorkerProps {
        self.worker
            .props
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HashMap<String, String> {
        [
            ("group.id", "g"),
            ("config.storage.topic", "c"),
            ("offset.storage.topic", "o"),
            ("status.storage.topic", "s"),
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn with(key: &str, value: &str) -> Result<DistributedConfig, ConfigError> {
        let mut props = base();
        props.insert(key.to_owned(), value.to_owned());
        DistributedConfig::from_props(props)
    }

    #[test]
    fn defaults_are_javas() {
        let config = DistributedConfig::from_props(base()).unwrap();
        assert_eq!(config.group_id, "g");
        assert_eq!(config.heartbeat_interval, Duration::from_millis(3000));
        assert_eq!(config.rebalance_timeout, Duration::from_millis(60_000));
        assert_eq!(config.scheduled_rebalance_max_delay_ms, 300_000);
        assert_eq!(config.worker_sync_timeout, Duration::from_millis(3000));
        assert_eq!(config.worker_unsync_backoff, Duration::from_millis(300_000));
        assert_eq!(config.signature_algorithm, "HmacSHA256");
        assert_eq!(config.verification_algorithms, ["HmacSHA256"]);
        assert_eq!(config.key_bytes(), 32);
        assert_eq!(config.key_size, None);
    }

    #[test]
    fn required_keys_are_named() {
        for key in [
            "group.id",
            "config.storage.topic",
            "offset.storage.topic",
            "status.storage.topic",
        ] {
            let mut props = base();
            props.remove(key);
            let error = DistributedConfig::from_props(props).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("Missing required configuration \"{key}\" which has no default value.")
            );
        }
    }

    #[test]
    fn invalid_values_name_their_key() {
        let error = with("connect.protocol", "fancy").unwrap_err();
        assert_eq!(
            error.to_string(),
            "Invalid value fancy for configuration connect.protocol: Invalid Connect protocol compatibility"
        );
        assert_eq!(
            with("offset.storage.partitions", "0")
                .unwrap_err()
                .to_string(),
            "Invalid value 0 for configuration offset.storage.partitions: Number of partitions must be positive, or -1 to use the broker's default"
        );
        assert!(with("offset.storage.partitions", "-1").is_ok());
        assert_eq!(
            with("status.storage.replication.factor", "-2")
                .unwrap_err()
                .key(),
            Some("status.storage.replication.factor")
        );
        assert_eq!(
            with("session.timeout.ms", "soon").unwrap_err().key(),
            Some("session.timeout.ms")
        );
        assert_eq!(
            with("inter.worker.signature.algorithm", "HmacSHA512")
                .unwrap_err()
                .to_string(),
            "Invalid value HmacSHA512 for configuration inter.worker.signature.algorithm: Signature algorithm must be present in inter.worker.verification.algorithms list"
        );
        assert_eq!(
            with("inter.worker.verification.algorithms", "HmacSHA256,HmacMD5")
                .unwrap_err()
                .key(),
            Some("inter.worker.verification.algorithms")
        );
        assert_eq!(
            with("inter.worker.key.generation.algorithm", "AES")
                .unwrap_err()
                .key(),
            Some("inter.worker.key.generation.algorithm")
        );
        assert_eq!(
            with("inter.worker.key.size", "16").unwrap_err().key(),
            Some("inter.worker.key.size")
        );
    }

    #[test]
    fn key_sizes_round_up_to_bytes() {
        assert_eq!(
            with("inter.worker.key.size", "129").unwrap().key_bytes(),
            17
        );
        let sha512 = with("inter.worker.key.generation.algorithm", "HmacSHA512").unwrap();
        assert_eq!(sha512.key_bytes(), 64);
        let eager = with("connect.protocol", "EAGER").unwrap();
        assert_eq!(eager.protocol, ConnectProtocolCompatibility::Eager);
    }
}
