//! The key sets `MirrorMakerConfig` consults: the client keys every cluster's clients share
//! (`MirrorClientConfig.CLIENT_CONFIG_DEF`), every key the three connectors define (which top-level
//! keys reach the connector configs), and the top-level definition that validates the file.

use ferry_connect::ConfigError;
use ferry_connect::config::{
    CaseInsensitiveValidString, ConfigDef, ConfigKey, ConfigType, LambdaValidator, Range,
    TypedValue,
};

/// `clusters`: the cluster aliases.
pub const CLUSTERS: &str = "clusters";
/// `dedicated.mode.enable.internal.rest`: Java's switch for a node's internal-only REST server
/// (KIP-710). Ferry always serves REST in dedicated mode, so it only validates the value.
pub const ENABLE_INTERNAL_REST: &str = "dedicated.mode.enable.internal.rest";
/// `config.providers`: the names of the config providers.
pub const CONFIG_PROVIDERS: &str = "config.providers";
/// `listeners`: the URLs the node's REST server listens on.
pub const LISTENERS: &str = "listeners";
/// The default of [`LISTENERS`].
pub const LISTENERS_DEFAULT: &str = "http://:8083";
/// `rest.advertised.host.name`: the host other nodes reach this one at.
pub const REST_ADVERTISED_HOST_NAME: &str = "rest.advertised.host.name";
/// `rest.advertised.port`: the port other nodes reach this one at.
pub const REST_ADVERTISED_PORT: &str = "rest.advertised.port";
/// `rest.advertised.listener`: the protocol (`http`/`https`) other nodes use.
pub const REST_ADVERTISED_LISTENER: &str = "rest.advertised.listener";

const SECURITY_PROTOCOLS: [&str; 4] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

/// `SslConfigs.addClientSslSupport`, with each key's type.
const CLIENT_SSL: [(&str, ConfigType); 19] = [
    ("ssl.protocol", ConfigType::String),
    ("ssl.provider", ConfigType::String),
    ("ssl.cipher.suites", ConfigType::List),
    ("ssl.enabled.protocols", ConfigType::List),
    ("ssl.keystore.type", ConfigType::String),
    ("ssl.keystore.location", ConfigType::String),
    ("ssl.keystore.password", ConfigType::Password),
    ("ssl.key.password", ConfigType::Password),
    ("ssl.keystore.key", ConfigType::Password),
    ("ssl.keystore.certificate.chain", ConfigType::Password),
    ("ssl.truststore.certificates", ConfigType::Password),
    ("ssl.truststore.type", ConfigType::String),
    ("ssl.truststore.location", ConfigType::String),
    ("ssl.truststore.password", ConfigType::Password),
    ("ssl.keymanager.algorithm", ConfigType::String),
    ("ssl.trustmanager.algorithm", ConfigType::String),
    ("ssl.endpoint.identification.algorithm", ConfigType::String),
    ("ssl.secure.random.implementation", ConfigType::String),
    ("ssl.engine.factory.class", ConfigType::Class),
];

/// `SaslConfigs.addClientSaslSupport`, with each key's type (the ranged ones are in
/// [`sasl_ranged`]).
const CLIENT_SASL: [(&str, ConfigType); 25] = [
    ("sasl.kerberos.service.name", ConfigType::String),
    ("sasl.kerberos.kinit.cmd", ConfigType::String),
    (
        "sasl.kerberos.ticket.renew.window.factor",
        ConfigType::Double,
    ),
    ("sasl.kerberos.ticket.renew.jitter", ConfigType::Double),
    ("sasl.kerberos.min.time.before.relogin", ConfigType::Long),
    ("sasl.mechanism", ConfigType::String),
    ("sasl.jaas.config", ConfigType::Password),
    ("sasl.client.callback.handler.class", ConfigType::Class),
    ("sasl.login.callback.handler.class", ConfigType::Class),
    ("sasl.login.class", ConfigType::Class),
    ("sasl.login.connect.timeout.ms", ConfigType::Int),
    ("sasl.login.read.timeout.ms", ConfigType::Int),
    ("sasl.login.retry.backoff.max.ms", ConfigType::Long),
    ("sasl.login.retry.backoff.ms", ConfigType::Long),
    ("sasl.oauthbearer.scope.claim.name", ConfigType::String),
    ("sasl.oauthbearer.sub.claim.name", ConfigType::String),
    ("sasl.oauthbearer.token.endpoint.url", ConfigType::String),
    ("sasl.oauthbearer.jwks.endpoint.url", ConfigType::String),
    (
        "sasl.oauthbearer.jwks.endpoint.refresh.ms",
        ConfigType::Long,
    ),
    (
        "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms",
        ConfigType::Long,
    ),
    (
        "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms",
        ConfigType::Long,
    ),
    ("sasl.oauthbearer.clock.skew.seconds", ConfigType::Int),
    ("sasl.oauthbearer.expected.audience", ConfigType::List),
    ("sasl.oauthbearer.expected.issuer", ConfigType::String),
    ("sasl.oauthbearer.header.urlencode", ConfigType::Boolean),
];

/// The SASL keys Java validates with a range: name, type, default and the range.
fn sasl_ranged() -> [(&'static str, ConfigType, &'static str, Range); 4] {
    [
        (
            "sasl.login.refresh.window.factor",
            ConfigType::Double,
            "0.8",
            Range::between(0.5, 1.0),
        ),
        (
            "sasl.login.refresh.window.jitter",
            ConfigType::Double,
            "0.05",
            Range::between(0.0, 0.25),
        ),
        (
            "sasl.login.refresh.min.period.seconds",
            ConfigType::Short,
            "60",
            Range::between(0, 900),
        ),
        (
            "sasl.login.refresh.buffer.seconds",
            ConfigType::Short,
            "300",
            Range::between(0, 3600),
        ),
    ]
}

/// The keys `ConnectorConfig.configDef()` defines.
const CONNECTOR_BASE: [&str; 15] = [
    "name",
    "connector.class",
    "tasks.max",
    "tasks.max.enforce",
    "key.converter",
    "value.converter",
    "header.converter",
    "transforms",
    "predicates",
    "config.action.reload",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.tolerance",
    "errors.log.enable",
    "errors.log.include.messages",
];

/// The keys MirrorMaker 2's connector definitions add to [`CONNECTOR_BASE`] and the client
/// keys: `BASE_CONNECTOR_CONFIG_DEF`'s, then the source, checkpoint and heartbeat connectors'.
const MIRROR_CONNECTOR: [&str; 41] = [
    "enabled",
    "source.cluster.alias",
    "target.cluster.alias",
    "admin.timeout.ms",
    "replication.policy.class",
    "replication.policy.separator",
    "replication.policy.internal.topic.separator.enabled",
    "forwarding.admin.class",
    "metric.reporters",
    "security.protocol",
    "topics",
    "topics.exclude",
    "config.properties.exclude",
    "topic.filter.class",
    "config.property.filter.class",
    "consumer.poll.timeout.ms",
    "refresh.topics.enabled",
    "refresh.topics.interval.seconds",
    "sync.topic.configs.enabled",
    "sync.topic.configs.interval.seconds",
    "sync.topic.acls.enabled",
    "sync.topic.acls.interval.seconds",
    "replication.factor",
    "offset-syncs.topic.replication.factor",
    "offset.lag.max",
    "offset-syncs.topic.location",
    "emit.offset-syncs.enabled",
    "heartbeats.replication.enabled",
    "groups",
    "groups.exclude",
    "group.filter.class",
    "refresh.groups.enabled",
    "refresh.groups.interval.seconds",
    "emit.checkpoints.enabled",
    "emit.checkpoints.interval.seconds",
    "sync.group.offsets.enabled",
    "sync.group.offsets.interval.seconds",
    "checkpoints.topic.replication.factor",
    "emit.heartbeats.enabled",
    "emit.heartbeats.interval.seconds",
    "heartbeats.topic.replication.factor",
];

fn ssl_and_sasl_names() -> impl Iterator<Item = &'static str> {
    CLIENT_SSL
        .iter()
        .chain(&CLIENT_SASL)
        .map(|(name, _)| *name)
        .chain(sasl_ranged().into_iter().map(|(name, ..)| name))
}

/// The client keys a cluster's producer, consumer and admin share
/// (`MirrorClientConfig.CLIENT_CONFIG_DEF`), in Java's definition order: `bootstrap.servers`,
/// `security.protocol` and the client SSL and SASL keys.
pub fn client_keys() -> impl Iterator<Item = &'static str> {
    ["bootstrap.servers", "security.protocol"]
        .into_iter()
        .chain(ssl_and_sasl_names())
}

/// Whether any of the three connectors defines `key` (`MirrorMakerConfig.allConfigNames`): such
/// top-level keys are copied into every connector's config.
pub fn is_connector_key(key: &str) -> bool {
    CONNECTOR_BASE.contains(&key)
        || MIRROR_CONNECTOR.contains(&key)
        || ssl_and_sasl_names().any(|n| n == key)
}

/// The definition `MirrorMakerConfig` validates the whole file against: the keys above, the
/// cluster-independent security keys and the REST server's internal keys.
pub fn mm2_config_def() -> ConfigDef {
    let mut def = ConfigDef::new()
        .define(ConfigKey::new(CLUSTERS, ConfigType::List))
        .define(ConfigKey::new(ENABLE_INTERNAL_REST, ConfigType::Boolean).default_value("false"))
        .define(ConfigKey::new(CONFIG_PROVIDERS, ConfigType::List).default_value(""))
        .define(
            ConfigKey::new("security.protocol", ConfigType::String)
                .default_value("PLAINTEXT")
                .validator(CaseInsensitiveValidString::of(SECURITY_PROTOCOLS)),
        );
    for (name, ty) in CLIENT_SSL.iter().chain(&CLIENT_SASL) {
        def = def.define(ConfigKey::new(*name, *ty).default_null());
    }
    for (name, ty, default, range) in sasl_ranged() {
        def = def.define(
            ConfigKey::new(name, ty)
                .default_value(default)
                .validator(range),
        );
    }
    def.define(
        ConfigKey::new(LISTENERS, ConfigType::List)
            .default_value(LISTENERS_DEFAULT)
            .validator(listeners_validator()),
    )
    .define(ConfigKey::new(REST_ADVERTISED_HOST_NAME, ConfigType::String).default_null())
    .define(ConfigKey::new(REST_ADVERTISED_PORT, ConfigType::Int).default_null())
    .define(ConfigKey::new(REST_ADVERTISED_LISTENER, ConfigType::String).default_null())
    .define(ConfigKey::new("access.control.allow.origin", ConfigType::String).default_value(""))
    .define(ConfigKey::new("access.control.allow.methods", ConfigType::String).default_value(""))
    .define(ConfigKey::new("response.http.headers.config", ConfigType::String).default_value(""))
    .define(
        ConfigKey::new("ssl.client.auth", ConfigType::String)
            .default_value("none")
            .validator(CaseInsensitiveValidString::of([
                "required",
                "requested",
                "none",
            ])),
    )
}

/// `RestServerConfig`'s listeners check, with its messages.
fn listeners_validator() -> LambdaValidator {
    LambdaValidator::new(
        "List of comma-separated URLs, ex: http://localhost:8080,https://localhost:8443.",
        |_, value| match value {
            Some(TypedValue::List(items)) if items.is_empty() => Err(ConfigError::new(
                "Invalid value for listeners, at least one URL is expected, ex: \
                 http://localhost:8080,https://localhost:8443.",
            )),
            Some(TypedValue::List(items)) if items.iter().any(|i| i.trim().is_empty()) => Err(
                ConfigError::new("Empty URL found when parsing listeners list."),
            ),
            Some(TypedValue::List(_)) => Ok(()),
            _ => Err(ConfigError::new(
                "Invalid value type for listeners (expected list of URLs , ex: \
                 http://localhost:8080,https://localhost:8443).",
            )),
        },
    )
}
