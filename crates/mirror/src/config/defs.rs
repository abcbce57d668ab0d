//! Setting names, defaults and definitions, each as Java's MirrorMaker 2 declares it.

use ferry_connect::config::{ConfigDef, ConfigKey, ConfigType, Importance, ValidString};

use crate::filter::{
    CONFIG_PROPERTIES_EXCLUDE_CONFIG, CONFIG_PROPERTIES_EXCLUDE_DEFAULT, GROUPS_EXCLUDE_CONFIG,
    GROUPS_EXCLUDE_DEFAULT, GROUPS_INCLUDE_CONFIG, GROUPS_INCLUDE_DEFAULT, TOPICS_EXCLUDE_CONFIG,
    TOPICS_EXCLUDE_DEFAULT, TOPICS_INCLUDE_CONFIG, TOPICS_INCLUDE_DEFAULT,
};
use crate::policy::{
    INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG, REPLICATION_POLICY_CLASS_CONFIG, SEPARATOR_CONFIG,
    SEPARATOR_DEFAULT,
};

/// `enabled` (true): whether to replicate source→target at all.
pub const ENABLED: &str = "enabled";
/// `source.cluster.alias` (required): the source cluster's alias.
pub const SOURCE_CLUSTER_ALIAS: &str = "source.cluster.alias";
/// `target.cluster.alias` (`target`): the target cluster's alias.
pub const TARGET_CLUSTER_ALIAS: &str = "target.cluster.alias";
/// The default of [`TARGET_CLUSTER_ALIAS`].
pub const TARGET_CLUSTER_ALIAS_DEFAULT: &str = "target";
/// `admin.timeout.ms` (60000): timeout of administrative work such as detecting new topics.
pub const ADMIN_TIMEOUT_MS: &str = "admin.timeout.ms";
/// `forwarding.admin.class`: the admin client class (only Java's default is supported).
pub const FORWARDING_ADMIN_CLASS: &str = "forwarding.admin.class";
/// The default and only supported [`FORWARDING_ADMIN_CLASS`].
pub const FORWARDING_ADMIN_CLASS_DEFAULT: &str = "org.apache.kafka.clients.admin.ForwardingAdmin";
/// `topic.filter.class`: the topic filter class (only the default is supported).
pub const TOPIC_FILTER_CLASS: &str = "topic.filter.class";
/// The default and only supported [`TOPIC_FILTER_CLASS`].
pub const TOPIC_FILTER_CLASS_DEFAULT: &str = "org.apache.kafka.connect.mirror.DefaultTopicFilter";
/// `group.filter.class`: the group filter class (only the default is supported).
pub const GROUP_FILTER_CLASS: &str = "group.filter.class";
/// The default and only supported [`GROUP_FILTER_CLASS`].
pub const GROUP_FILTER_CLASS_DEFAULT: &str = "org.apache.kafka.connect.mirror.DefaultGroupFilter";
/// `config.property.filter.class`: the topic-config filter class (only the default).
pub const CONFIG_PROPERTY_FILTER_CLASS: &str = "config.property.filter.class";
/// The default and only supported [`CONFIG_PROPERTY_FILTER_CLASS`].
pub const CONFIG_PROPERTY_FILTER_CLASS_DEFAULT: &str =
    "org.apache.kafka.connect.mirror.DefaultConfigPropertyFilter";
/// `offset-syncs.topic.location` (`source`): the cluster (`source` or `target`) holding the
/// offset-syncs topic.
pub const OFFSET_SYNCS_TOPIC_LOCATION: &str = "offset-syncs.topic.location";
/// `emit.offset-syncs.enabled` (true): whether the source task writes offset syncs.
pub const EMIT_OFFSET_SYNCS_ENABLED: &str = "emit.offset-syncs.enabled";
/// `replication.factor` (2): replication factor of remote topics created on the target.
pub const REPLICATION_FACTOR: &str = "replication.factor";
/// `offset-syncs.topic.replication.factor` (3).
pub const OFFSET_SYNCS_TOPIC_REPLICATION_FACTOR: &str = "offset-syncs.topic.replication.factor";
/// `checkpoints.topic.replication.factor` (3).
pub const CHECKPOINTS_TOPIC_REPLICATION_FACTOR: &str = "checkpoints.topic.replication.factor";
/// `heartbeats.topic.replication.factor` (3).
pub const HEARTBEATS_TOPIC_REPLICATION_FACTOR: &str = "heartbeats.topic.replication.factor";
/// `consumer.poll.timeout.ms` (1000): how long one poll of the source waits.
pub const CONSUMER_POLL_TIMEOUT_MS: &str = "consumer.poll.timeout.ms";
/// `refresh.topics` feature (`.enabled` true, `.interval.seconds` 600): look for new topics and
/// partitions on the source.
pub const REFRESH_TOPICS: &str = "refresh.topics";
/// `sync.topic.configs` feature (true, 600 s): copy topic configs to remote topics.
pub const SYNC_TOPIC_CONFIGS: &str = "sync.topic.configs";
/// `sync.topic.acls` feature (true, 600 s): copy topic ACLs to remote topics.
pub const SYNC_TOPIC_ACLS: &str = "sync.topic.acls";
/// `offset.lag.max` (100): how far a replica may get past the last offset sync before another
/// sync is written.
pub const OFFSET_LAG_MAX: &str = "offset.lag.max";
/// `heartbeats.replication.enabled` (true): replicate heartbeats topics whatever the topic filter.
pub const HEARTBEATS_REPLICATION_ENABLED: &str = "heartbeats.replication.enabled";
/// `refresh.groups` feature (true, 600 s): look for new consumer groups on the source.
pub const REFRESH_GROUPS: &str = "refresh.groups";
/// `emit.checkpoints` feature (true, 60 s): emit consumer-group checkpoints.
pub const EMIT_CHECKPOINTS: &str = "emit.checkpoints";
/// `sync.group.offsets` feature (false, 60 s): write translated offsets into target groups.
pub const SYNC_GROUP_OFFSETS: &str = "sync.group.offsets";
/// `emit.heartbeats` feature (true, 1 s): emit heartbeats.
pub const EMIT_HEARTBEATS: &str = "emit.heartbeats";
/// `task.assigned.partitions`: the source partitions of one source task (`topic-3,topic-4`).
pub const TASK_ASSIGNED_PARTITIONS: &str = "task.assigned.partitions";
/// `task.assigned.groups`: the consumer groups of one checkpoint task.
pub const TASK_ASSIGNED_GROUPS: &str = "task.assigned.groups";
/// `task.index`: the task's number.
pub const TASK_INDEX: &str = "task.index";

const METRIC_REPORTERS: &str = "metric.reporters";
const SECURITY_PROTOCOL: &str = "security.protocol";

fn key(name: &str, ty: ConfigType, default: &str, importance: Importance, doc: &str) -> ConfigKey {
    ConfigKey::new(name, ty)
        .default_value(default)
        .importance(importance)
        .documentation(doc)
}

fn feature(def: ConfigDef, name: &str, enabled: bool, seconds: u32, what: &str) -> ConfigDef {
    def.define(key(
        &format!("{name}.enabled"),
        ConfigType::Boolean,
        &enabled.to_string(),
        Importance::Low,
        &format!("Whether to {what}."),
    ))
    .define(key(
        &format!("{name}.interval.seconds"),
        ConfigType::Long,
        &seconds.to_string(),
        Importance::Low,
        &format!("How often to {what}, in seconds."),
    ))
}

/// The settings every MirrorMaker 2 connector has (Java's `BASE_CONNECTOR_CONFIG_DEF` without
/// the generic connector keys and the SSL/SASL client keys).
pub fn base_config_def() -> ConfigDef {
    use ConfigType::{Boolean, Class, List, Long, String};
    use Importance::{High, Low, Medium};
    ConfigDef::new()
        .define(key(
            ENABLED,
            Boolean,
            "true",
            Low,
            "Whether to replicate source->target.",
        ))
        .define(
            ConfigKey::new(SOURCE_CLUSTER_ALIAS, String)
                .importance(High)
                .documentation("Alias of source cluster"),
        )
        .define(key(
            TARGET_CLUSTER_ALIAS,
            String,
            TARGET_CLUSTER_ALIAS_DEFAULT,
            High,
            "Alias of target cluster. Used in metrics reporting.",
        ))
        .define(key(
            ADMIN_TIMEOUT_MS,
            Long,
            "60000",
            Low,
            "Timeout for administrative tasks, e.g. detecting new topics.",
        ))
        .define(key(
            REPLICATION_POLICY_CLASS_CONFIG,
            Class,
            "org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
            Low,
            "Class which defines the remote topic naming convention.",
        ))
        .define(key(
            SEPARATOR_CONFIG,
            String,
            SEPARATOR_DEFAULT,
            Low,
            "Separator used in remote topic naming convention.",
        ))
        .define(key(
            INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG,
            Boolean,
            "true",
            Low,
            "Whether to use replication.policy.separator to control the names of the offset-syncs \
             and checkpoints topics.",
        ))
        .define(key(
            FORWARDING_ADMIN_CLASS,
            Class,
            FORWARDING_ADMIN_CLASS_DEFAULT,
            Low,
            "Class which extends ForwardingAdmin to define custom cluster resource management.",
        ))
        .define(key(
            METRIC_REPORTERS,
            List,
            "org.apache.kafka.common.metrics.JmxReporter",
            Low,
            "A list of classes to use as metrics reporters.",
        ))
        .define(
            key(
                SECURITY_PROTOCOL,
                String,
                "PLAINTEXT",
                Medium,
                "Protocol used to communicate with brokers.",
            )
            .validator(ValidString::of([
                "PLAINTEXT",
                "SSL",
                "SASL_PLAINTEXT",
                "SASL_SSL",
            ])),
        )
}

fn offset_syncs_location(def: ConfigDef) -> ConfigDef {
    def.define(
        key(
            OFFSET_SYNCS_TOPIC_LOCATION,
            ConfigType::String,
            "source",
            Importance::Low,
            "The location (source/target) of the offset-syncs topic.",
        )
        .validator(ValidString::of(["source", "target"])),
    )
}

fn poll_timeout(def: ConfigDef) -> ConfigDef {
    def.define(key(
        CONSUMER_POLL_TIMEOUT_MS,
        ConfigType::Long,
        "1000",
        Importance::Low,
        "Timeout when polling source cluster.",
    ))
}

fn topic_filter(def: ConfigDef) -> ConfigDef {
    def.define(key(
        TOPIC_FILTER_CLASS,
        ConfigType::Class,
        TOPIC_FILTER_CLASS_DEFAULT,
        Importance::Low,
        "TopicFilter to use. Selects topics to replicate.",
    ))
}

/// `MirrorSourceConnector`'s settings (Java's `MirrorSourceConfig.CONNECTOR_CONFIG_DEF`).
pub fn source_config_def() -> ConfigDef {
    use ConfigType::{Boolean, Class, Int, List, Long, Short};
    use Importance::{High, Low};
    let def = base_config_def()
        .define(key(
            TOPICS_INCLUDE_CONFIG,
            List,
            TOPICS_INCLUDE_DEFAULT,
            High,
            "Topics to replicate. Supports comma-separated topic names and regexes.",
        ))
        .define(key(
            TOPICS_EXCLUDE_CONFIG,
            List,
            TOPICS_EXCLUDE_DEFAULT,
            High,
            "Excluded topics. Supports comma-separated topic names and regexes. Excludes take \
             precedence over includes.",
        ))
        .define(key(
            CONFIG_PROPERTIES_EXCLUDE_CONFIG,
            List,
            CONFIG_PROPERTIES_EXCLUDE_DEFAULT,
            High,
            "Topic config properties that should not be replicated. Supports comma-separated \
             property names and regexes.",
        ));
    let def = poll_timeout(topic_filter(def)).define(key(
        CONFIG_PROPERTY_FILTER_CLASS,
        Class,
        CONFIG_PROPERTY_FILTER_CLASS_DEFAULT,
        Low,
        "ConfigPropertyFilter to use. Selects topic config properties to replicate.",
    ));
    let def = feature(
        def,
        REFRESH_TOPICS,
        true,
        600,
        "check for new topics and partitions",
    );
    let def = feature(
        def,
        SYNC_TOPIC_CONFIGS,
        true,
        600,
        "sync remote topic configs",
    );
    let def = feature(def, SYNC_TOPIC_ACLS, true, 600, "sync remote topic ACLs");
    let def = def
        .define(key(
            REPLICATION_FACTOR,
            Int,
            "2",
            Low,
            "Replication factor for newly created remote topics.",
        ))
        .define(key(
            OFFSET_SYNCS_TOPIC_REPLICATION_FACTOR,
            Short,
            "3",
            Low,
            "Replication factor for offset-syncs topic.",
        ))
        .define(key(
            OFFSET_LAG_MAX,
            Long,
            "100",
            Low,
            "How out-of-sync a remote partition can be before it is resynced.",
        ));
    offset_syncs_location(def)
        .define(key(
            EMIT_OFFSET_SYNCS_ENABLED,
            Boolean,
            "true",
            Low,
            "Whether to store the new offset of the replicated records in offset-syncs topic.",
        ))
        .define(key(
            HEARTBEATS_REPLICATION_ENABLED,
            Boolean,
            "true",
            Low,
            "Whether to replicate the heartbeats topics even when the topic filter does not \
             include them.",
        ))
}

/// `MirrorCheckpointConnector`'s settings (Java's `MirrorCheckpointConfig.CONNECTOR_CONFIG_DEF`).
pub fn checkpoint_config_def() -> ConfigDef {
    use ConfigType::{Class, List, Short};
    use Importance::{High, Low};
    let def = poll_timeout(base_config_def())
        .define(key(
            GROUPS_INCLUDE_CONFIG,
            List,
            GROUPS_INCLUDE_DEFAULT,
            High,
            "Consumer groups to replicate. Supports comma-separated group IDs and regexes.",
        ))
        .define(key(
            GROUPS_EXCLUDE_CONFIG,
            List,
            GROUPS_EXCLUDE_DEFAULT,
            High,
            "Exclude groups. Supports comma-separated group IDs and regexes. Excludes take \
             precedence over includes.",
        ))
        .define(key(
            GROUP_FILTER_CLASS,
            Class,
            GROUP_FILTER_CLASS_DEFAULT,
            Low,
            "GroupFilter to use. Selects consumer groups to replicate.",
        ));
    let def = feature(
        def,
        REFRESH_GROUPS,
        true,
        600,
        "check for new consumer groups",
    );
    let def = feature(
        def,
        EMIT_CHECKPOINTS,
        true,
        60,
        "emit consumer group checkpoints",
    );
    let def = feature(
        def,
        SYNC_GROUP_OFFSETS,
        false,
        60,
        "sync consumer group offsets",
    );
    let def = def.define(key(
        CHECKPOINTS_TOPIC_REPLICATION_FACTOR,
        Short,
        "3",
        Low,
        "Replication factor for checkpoints topic.",
    ));
    topic_filter(offset_syncs_location(def))
}

/// `MirrorHeartbeatConnector`'s settings (Java's `MirrorHeartbeatConfig.CONNECTOR_CONFIG_DEF`).
pub fn heartbeat_config_def() -> ConfigDef {
    feature(
        base_config_def(),
        EMIT_HEARTBEATS,
        true,
        1,
        "emit heartbeats",
    )
    .define(key(
        HEARTBEATS_TOPIC_REPLICATION_FACTOR,
        ConfigType::Short,
        "3",
        Importance::Low,
        "Replication factor for heartbeats topic.",
    ))
}

/// A task's settings: its connector's plus `key` (a list) and `task.index`.
pub fn task_config_def(connector: ConfigDef, key: &str) -> ConfigDef {
    connector
        .define(
            ConfigKey::new(key, ConfigType::List)
                .default_null()
                .importance(Importance::Low),
        )
        .define(
            ConfigKey::new(TASK_INDEX, ConfigType::Int)
                .default_null()
                .importance(Importance::Low)
                .documentation("The index of the task"),
        )
}
