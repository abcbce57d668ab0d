use std::collections::HashMap;
use std::time::Duration;

use super::*;

fn props(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_are_javas() {
    let config = MirrorConfig::parse(
        &source_config_def(),
        &props(&[("source.cluster.alias", "A")]),
    )
    .unwrap();
    assert_eq!(config.target_alias(), "target");
    assert!(config.enabled());
    assert_eq!(config.admin_timeout(), Duration::from_secs(60));
    assert_eq!(config.consumer_poll_timeout(), Duration::from_secs(1));
    assert_eq!(config.get_int(REPLICATION_FACTOR), 2);
    assert_eq!(config.get_short(OFFSET_SYNCS_TOPIC_REPLICATION_FACTOR), 3);
    assert_eq!(config.get_long(OFFSET_LAG_MAX), 100);
    assert_eq!(
        config.interval(REFRESH_TOPICS),
        Some(Duration::from_secs(600))
    );
    assert_eq!(
        config.interval(SYNC_TOPIC_CONFIGS),
        Some(Duration::from_secs(600))
    );
    assert_eq!(
        config.interval(SYNC_TOPIC_ACLS),
        Some(Duration::from_secs(600))
    );
    assert!(config.get_bool(EMIT_OFFSET_SYNCS_ENABLED));
    assert!(config.get_bool(HEARTBEATS_REPLICATION_ENABLED));
    assert!(config.offset_syncs_on_source());

    let checkpoint = MirrorConfig::parse(
        &checkpoint_config_def(),
        &props(&[("source.cluster.alias", "A")]),
    )
    .unwrap();
    assert_eq!(
        checkpoint.interval(EMIT_CHECKPOINTS),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        checkpoint.interval(REFRESH_GROUPS),
        Some(Duration::from_secs(600))
    );
    assert_eq!(checkpoint.interval(SYNC_GROUP_OFFSETS), None);
    assert_eq!(
        checkpoint.get_short(CHECKPOINTS_TOPIC_REPLICATION_FACTOR),
        3
    );

    let heartbeat = MirrorConfig::parse(
        &heartbeat_config_def(),
        &props(&[("source.cluster.alias", "A")]),
    )
    .unwrap();
    assert_eq!(
        heartbeat.interval(EMIT_HEARTBEATS),
        Some(Duration::from_secs(1))
    );
    assert_eq!(heartbeat.get_short(HEARTBEATS_TOPIC_REPLICATION_FACTOR), 3);
}

#[test]
fn source_alias_is_required_and_location_validated() {
    let err = MirrorConfig::parse(&heartbeat_config_def(), &HashMap::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Missing required configuration \"source.cluster.alias\" which has no default value."
    );
    let bad = props(&[
        ("source.cluster.alias", "A"),
        ("offset-syncs.topic.location", "middle"),
    ]);
    assert!(MirrorConfig::parse(&source_config_def(), &bad).is_err());
    let errors: Vec<_> = source_config_def()
        .validate(&bad)
        .into_iter()
        .filter(|v| !v.errors.is_empty())
        .map(|v| v.name)
        .collect();
    assert_eq!(errors, ["offset-syncs.topic.location"]);
}

#[test]
fn offset_syncs_topic_is_named_after_the_other_cluster() {
    let base = [("source.cluster.alias", "A"), ("target.cluster.alias", "B")];
    let on_source = MirrorConfig::parse(&source_config_def(), &props(&base)).unwrap();
    assert_eq!(
        on_source.offset_syncs_topic(),
        "mm2-offset-syncs.B.internal"
    );
    let mut on_target = base.to_vec();
    on_target.push(("offset-syncs.topic.location", "target"));
    let on_target = MirrorConfig::parse(&source_config_def(), &props(&on_target)).unwrap();
    assert!(!on_target.offset_syncs_on_source());
    assert_eq!(
        on_target.offset_syncs_topic(),
        "mm2-offset-syncs.A.internal"
    );
    let mut separator = base.to_vec();
    separator.push(("replication.policy.separator", "_"));
    let separator = MirrorConfig::parse(&source_config_def(), &props(&separator)).unwrap();
    assert_eq!(
        separator.offset_syncs_topic(),
        "mm2-offset-syncs_B_internal"
    );
    assert_eq!(separator.checkpoints_topic(), "A_checkpoints_internal");
}

#[test]
fn disabled_features_have_no_interval() {
    let config = MirrorConfig::parse(
        &source_config_def(),
        &props(&[
            ("source.cluster.alias", "A"),
            ("refresh.topics.enabled", "false"),
            ("sync.topic.acls.interval.seconds", "5"),
        ]),
    )
    .unwrap();
    assert_eq!(config.interval(REFRESH_TOPICS), None);
    assert_eq!(
        config.interval(SYNC_TOPIC_ACLS),
        Some(Duration::from_secs(5))
    );
}

#[test]
fn only_builtin_classes_are_accepted() {
    let custom = props(&[
        ("source.cluster.alias", "A"),
        ("topic.filter.class", "com.x.Mine"),
    ]);
    let err = MirrorConfig::parse(&source_config_def(), &custom).unwrap_err();
    assert!(err.to_string().contains("topic.filter.class"), "{err}");
    let simple = props(&[
        ("source.cluster.alias", "A"),
        ("topic.filter.class", "DefaultTopicFilter"),
        ("replication.policy.class", "IdentityReplicationPolicy"),
    ]);
    let config = MirrorConfig::parse(&source_config_def(), &simple).unwrap();
    assert_eq!(config.policy().format_remote_topic("A", "t"), "t");
}

#[test]
fn clients_see_what_java_gives_them() {
    let all = props(&[
        ("name", "mm"),
        ("source.cluster.alias", "A"),
        ("target.cluster.alias", "B"),
        ("source.cluster.bootstrap.servers", "a:9092"),
        ("source.cluster.security.protocol", "SSL"),
        ("source.cluster.ssl.truststore.location", "/t"),
        ("source.cluster.acks", "1"),
        ("target.cluster.bootstrap.servers", "b:9092"),
        ("consumer.max.poll.records", "10"),
        ("source.consumer.max.poll.records", "20"),
        ("source.consumer.auto.offset.reset", "latest"),
        ("producer.client.id", "mine"),
        ("target.admin.request.timeout.ms", "5"),
    ]);
    let config = MirrorConfig::parse(&source_config_def(), &all).unwrap();
    let consumer = config.client_config(Side::Source, ClientKind::Consumer, "replication-consumer");
    let expected = props(&[
        ("bootstrap.servers", "a:9092"),
        ("security.protocol", "SSL"),
        ("ssl.truststore.location", "/t"),
        ("max.poll.records", "20"),
        ("auto.offset.reset", "latest"),
        ("enable.auto.commit", "false"),
        ("client.id", "A->B|mm|replication-consumer"),
    ]);
    assert_eq!(consumer, expected);
    let producer = config.client_config(Side::Target, ClientKind::Producer, "p");
    assert_eq!(
        producer,
        props(&[
            ("bootstrap.servers", "b:9092"),
            ("client.id", "mine|A->B|mm|p")
        ])
    );
    let admin = config.client_config(Side::Target, ClientKind::Admin, "a");
    assert_eq!(admin["request.timeout.ms"], "5");
    assert_eq!(admin["bootstrap.servers"], "b:9092");
    let source_admin = config.client_config(Side::Source, ClientKind::Admin, "a");
    assert!(!source_admin.contains_key("request.timeout.ms"));
    assert!(!source_admin.contains_key("acks"));
}
