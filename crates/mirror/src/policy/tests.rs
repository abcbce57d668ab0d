use proptest::prelude::*;

use super::*;

fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn default_policy_names_remote_topics() {
    let p = DefaultReplicationPolicy::default();
    assert_eq!(p.format_remote_topic("A", "topic"), "A.topic");
    assert_eq!(p.format_remote_topic("B", "A.topic"), "B.A.topic");
    assert_eq!(p.topic_source("A.B.topic"), some("A"));
    assert_eq!(p.upstream_topic("A.B.topic"), some("B.topic"));
    assert_eq!(p.original_topic("A.B.topic"), "topic");
    assert_eq!(p.topic_source("topic"), None);
    assert_eq!(p.upstream_topic("topic"), None);
    assert_eq!(p.original_topic("topic"), "topic");
}

#[test]
fn default_policy_splits_like_java_pattern_split() {
    let p = DefaultReplicationPolicy::default();
    // A leading separator gives an empty source alias.
    assert_eq!(p.topic_source(".topic"), some(""));
    assert_eq!(p.upstream_topic(".topic"), some("topic"));
    // Trailing separators leave a single piece: not a remote topic.
    assert_eq!(p.topic_source("A."), None);
    assert_eq!(p.topic_source("A.."), None);
    assert_eq!(p.topic_source("."), None);
    assert_eq!(p.topic_source(""), None);
    // Empty pieces in the middle still count.
    assert_eq!(p.topic_source("A..t"), some("A"));
    assert_eq!(p.upstream_topic("A..t"), some(".t"));
    assert_eq!(p.original_topic("A..t"), "t");
    assert_eq!(p.upstream_topic("A.t."), some("t."));
}

#[test]
fn java_split_matches_java() {
    assert_eq!(java_split("a.b", "."), ["a", "b"]);
    assert_eq!(java_split(".a", "."), ["", "a"]);
    assert_eq!(java_split("a..", "."), ["a"]);
    assert_eq!(java_split("..", "."), Vec::<&str>::new());
    assert_eq!(java_split("", "."), [""]);
    assert_eq!(java_split("ab", "-"), ["ab"]);
    assert_eq!(java_split("a__b__c", "__"), ["a", "b", "c"]);
    assert_eq!(java_split("a___b", "__"), ["a", "_b"]);
    assert_eq!(java_split("abc", ""), ["a", "b", "c"]);
    assert_eq!(java_split("", ""), [""]);
}

#[test]
fn default_policy_internal_topics() {
    let p = DefaultReplicationPolicy::default();
    assert_eq!(p.heartbeats_topic(), "heartbeats");
    assert_eq!(p.offset_syncs_topic("B"), "mm2-offset-syncs.B.internal");
    assert_eq!(p.checkpoints_topic("A"), "A.checkpoints.internal");
    assert!(p.is_heartbeats_topic("heartbeats"));
    assert!(p.is_heartbeats_topic("A.heartbeats"));
    assert!(p.is_heartbeats_topic("B.A.heartbeats"));
    assert!(!p.is_heartbeats_topic("A.heartbeats2"));
    assert!(!p.is_heartbeats_topic("myheartbeats"));
    assert!(p.is_checkpoints_topic("A.checkpoints.internal"));
    assert!(!p.is_checkpoints_topic("A.checkpoints"));
    assert!(p.is_mm2_internal_topic("mm2-offset-syncs.B.internal"));
    assert!(p.is_mm2_internal_topic("A.checkpoints.internal"));
    assert!(!p.is_mm2_internal_topic("A-internal"));
}

#[test]
fn internal_topics_as_java_counts_them() {
    let p = DefaultReplicationPolicy::default();
    assert!(p.is_internal_topic("__consumer_offsets"));
    assert!(p.is_internal_topic(".hiddentopic"));
    assert!(p.is_internal_topic("mm2-offsets.CLUSTER.internal"));
    assert!(p.is_internal_topic("mm2-offsets-CLUSTER-internal"));
    assert!(!p.is_internal_topic("mm2-offsets_CLUSTER_internal"));
    assert!(!p.is_internal_topic("_single_underscore"));
    assert!(!p.is_internal_topic("orders"));
    assert!(!p.is_internal_topic("heartbeats"));
}

#[test]
fn custom_separator_applies_to_internal_topics_by_default() {
    let p = DefaultReplicationPolicy::from_config(&props(&[(SEPARATOR_CONFIG, "__")]));
    assert_eq!(p.format_remote_topic("A", "t"), "A__t");
    assert_eq!(p.topic_source("A__B__t"), some("A"));
    assert_eq!(p.original_topic("A__B__t"), "t");
    assert_eq!(p.topic_source("A.t"), None);
    assert_eq!(
        p.offset_syncs_topic("CLUSTER"),
        "mm2-offset-syncs__CLUSTER__internal"
    );
    assert_eq!(
        p.checkpoints_topic("CLUSTER"),
        "CLUSTER__checkpoints__internal"
    );
    assert!(p.is_checkpoints_topic("CLUSTER__checkpoints__internal"));
    assert!(!p.is_checkpoints_topic("CLUSTER.checkpoints.internal"));
    assert!(p.is_mm2_internal_topic("x__internal"));
    assert!(!p.is_mm2_internal_topic("x.internal"));
    // The default internal-topic test still catches `.internal` names.
    assert!(p.is_internal_topic("x.internal"));
    assert_eq!(p.heartbeats_topic(), "heartbeats");
    assert!(p.is_heartbeats_topic("A__heartbeats"));
}

#[test]
fn internal_topic_separator_can_be_disabled() {
    let p = DefaultReplicationPolicy::from_config(&props(&[
        (SEPARATOR_CONFIG, "__"),
        (INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG, "false"),
    ]));
    assert_eq!(p.format_remote_topic("A", "t"), "A__t");
    assert_eq!(
        p.offset_syncs_topic("CLUSTER"),
        "mm2-offset-syncs.CLUSTER.internal"
    );
    assert_eq!(
        p.checkpoints_topic("CLUSTER"),
        "CLUSTER.checkpoints.internal"
    );
    assert!(p.is_checkpoints_topic("CLUSTER.checkpoints.internal"));
    assert_eq!(p.heartbeats_topic(), "heartbeats");
    // Java's Boolean.parseBoolean: only "true", in any case, is true.
    let p = DefaultReplicationPolicy::from_config(&props(&[
        (SEPARATOR_CONFIG, "__"),
        (INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG, "TRUE"),
    ]));
    assert_eq!(p.offset_syncs_topic("C"), "mm2-offset-syncs__C__internal");
    let p = DefaultReplicationPolicy::from_config(&props(&[
        (SEPARATOR_CONFIG, "__"),
        (INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG, "yes"),
    ]));
    assert_eq!(p.offset_syncs_topic("C"), "mm2-offset-syncs.C.internal");
}

#[test]
fn internal_separator_flag_is_ignored_without_a_separator_like_java() {
    let p = DefaultReplicationPolicy::from_config(&props(&[(
        INTERNAL_TOPIC_SEPARATOR_ENABLED_CONFIG,
        "false",
    )]));
    assert_eq!(p, DefaultReplicationPolicy::default());
}

#[test]
fn identity_policy_keeps_names_except_heartbeats() {
    let p = IdentityReplicationPolicy::from_config(&props(&[(SOURCE_CLUSTER_ALIAS_CONFIG, "A")]));
    assert_eq!(p.format_remote_topic("A", "orders"), "orders");
    assert_eq!(p.format_remote_topic("A", "B.orders"), "B.orders");
    assert_eq!(p.topic_source("orders"), some("A"));
    assert_eq!(p.topic_source("B.orders"), some("A"));
    assert_eq!(p.upstream_topic("orders"), some("orders"));
    assert_eq!(p.original_topic("orders"), "orders");
    assert_eq!(p.original_topic("B.orders"), "B.orders");
    // Heartbeats are renamed as by the default policy.
    assert_eq!(p.format_remote_topic("A", "heartbeats"), "A.heartbeats");
    assert_eq!(p.topic_source("A.heartbeats"), some("A"));
    assert_eq!(p.topic_source("heartbeats"), None);
    assert_eq!(p.upstream_topic("B.A.heartbeats"), some("A.heartbeats"));
    assert_eq!(p.upstream_topic("heartbeats"), None);
    assert_eq!(p.original_topic("B.A.heartbeats"), "heartbeats");
    assert!(p.is_heartbeats_topic("heartbeats"));
    assert!(p.is_heartbeats_topic("B.A.heartbeats"));
    assert!(!p.is_heartbeats_topic("orders"));
    // Java's check is a plain suffix test.
    assert_eq!(p.format_remote_topic("A", "myheartbeats"), "A.myheartbeats");
    assert_eq!(p.offset_syncs_topic("B"), "mm2-offset-syncs.B.internal");
    assert_eq!(p.checkpoints_topic("A"), "A.checkpoints.internal");
}

#[test]
fn identity_policy_without_alias_has_no_source() {
    let p = IdentityReplicationPolicy::default();
    assert_eq!(p.topic_source("orders"), None);
    assert_eq!(p.upstream_topic("orders"), some("orders"));
}

#[test]
fn identity_policy_uses_the_configured_separator() {
    let p = IdentityReplicationPolicy::from_config(&props(&[(SEPARATOR_CONFIG, "-")]));
    assert_eq!(p.format_remote_topic("A", "heartbeats"), "A-heartbeats");
    assert_eq!(p.offset_syncs_topic("B"), "mm2-offset-syncs-B-internal");
    assert!(p.is_mm2_internal_topic("mm2-offset-syncs-B-internal"));
}

#[test]
fn policies_resolve_by_class_name() {
    let cfg = props(&[(SOURCE_CLUSTER_ALIAS_CONFIG, "A")]);
    for name in [
        "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
        "IdentityReplicationPolicy",
    ] {
        let p = replication_policy_for_class(name, &cfg).unwrap();
        assert_eq!(p.format_remote_topic("A", "t"), "t");
        assert_eq!(p.topic_source("t"), some("A"));
    }
    for name in [
        "org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
        "DefaultReplicationPolicy",
    ] {
        let p = replication_policy_for_class(name, &cfg).unwrap();
        assert_eq!(p.format_remote_topic("A", "t"), "A.t");
    }
    assert_eq!(
        replication_policy_for_class("com.example.Custom", &cfg).unwrap_err(),
        UnknownPolicyError("com.example.Custom".into())
    );
    assert!(replication_policy_for_class("org.example.DefaultReplicationPolicy", &cfg).is_err());
}

#[test]
fn policy_class_comes_from_config() {
    let p = replication_policy_from_config(&HashMap::new()).unwrap();
    assert_eq!(p.format_remote_topic("A", "t"), "A.t");
    let p = replication_policy_from_config(&props(&[
        (REPLICATION_POLICY_CLASS_CONFIG, "IdentityReplicationPolicy"),
        (SEPARATOR_CONFIG, "_"),
    ]))
    .unwrap();
    assert_eq!(p.format_remote_topic("A", "t"), "t");
    assert_eq!(p.format_remote_topic("A", "heartbeats"), "A_heartbeats");
}

proptest! {
    #[test]
    fn remote_topics_round_trip(
        alias in "[A-Za-z0-9_-]{1,8}", topic in "[A-Za-z0-9._-]{1,20}", sep in "[._-]{1,2}",
    ) {
        let p = DefaultReplicationPolicy::new(sep.clone(), true);
        let remote = p.format_remote_topic(&alias, &topic);
        // The alias must end where the first separator starts, and a topic made only of
        // separators leaves Java's split a single piece.
        prop_assume!(remote.find(&sep) == Some(alias.len()));
        prop_assume!(java_split(&remote, &sep).len() >= 2);
        prop_assert_eq!(p.topic_source(&remote), Some(alias));
        prop_assert_eq!(p.upstream_topic(&remote), Some(topic));
    }

    #[test]
    fn upstream_of_a_remote_topic_is_a_suffix(topic in "[A-Za-z0-9._-]{0,20}") {
        let p = DefaultReplicationPolicy::default();
        if let Some(up) = p.upstream_topic(&topic) {
            prop_assert!(topic.ends_with(&up));
            prop_assert!(up.len() < topic.len());
        }
        prop_assert!(topic.ends_with(&p.original_topic(&topic)));
    }
}
