use proptest::prelude::*;

use super::*;

fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn default_topic_filter_excludes_internal_topics() {
    let f = DefaultTopicFilter::from_config(&HashMap::new()).unwrap();
    assert!(f.should_replicate_topic("orders"));
    assert!(f.should_replicate_topic("A.orders"));
    assert!(f.should_replicate_topic("heartbeats"));
    assert!(!f.should_replicate_topic("mm2-offset-syncs.B.internal"));
    assert!(!f.should_replicate_topic("A.checkpoints.internal"));
    assert!(!f.should_replicate_topic("connect-configs-internal"));
    assert!(!f.should_replicate_topic("orders.replica"));
    assert!(!f.should_replicate_topic("__consumer_offsets"));
    // Whole-name matches only: these merely contain an excluded shape.
    assert!(f.should_replicate_topic("internal"));
    assert!(f.should_replicate_topic("x.internal.y"));
    assert!(f.should_replicate_topic("a__b"));
    assert!(f.should_replicate_topic("x_internal"));
}

#[test]
fn topic_includes_match_whole_names() {
    let f = DefaultTopicFilter::from_config(&props(&[("topics", "foo, bar.*")])).unwrap();
    assert!(f.should_replicate_topic("foo"));
    assert!(!f.should_replicate_topic("foo2"));
    assert!(!f.should_replicate_topic("xfoo"));
    assert!(f.should_replicate_topic("bar"));
    assert!(f.should_replicate_topic("bar-x"));
    assert!(!f.should_replicate_topic("foobar"));
}

#[test]
fn blank_lists_select_nothing() {
    let f = DefaultTopicFilter::from_config(&props(&[("topics", "  ")])).unwrap();
    assert!(!f.should_replicate_topic("orders"));
    assert!(!f.should_replicate_topic(""));
    let f = DefaultTopicFilter::from_config(&props(&[("topics.exclude", "")])).unwrap();
    assert!(f.should_replicate_topic("__consumer_offsets"));
}

#[test]
fn list_parsing_follows_configdef() {
    // A trailing comma keeps an empty entry, which matches the empty name.
    let list = PatternList::parse("topics", "a ,\tb,").unwrap();
    assert!(list.matches("a"));
    assert!(list.matches("b"));
    assert!(list.matches(""));
    assert!(!list.matches("a "));
    // Entries are joined before compiling, so a group may span a comma.
    let list = PatternList::parse("topics", "(a, b)c").unwrap();
    assert!(list.matches("ac"));
    assert!(list.matches("bc"));
    assert!(!list.matches("b"));
    // Whitespace inside an entry is kept.
    let list = PatternList::parse("topics", "a b").unwrap();
    assert!(list.matches("a b"));
}

#[test]
fn deprecated_topic_exclude_alias() {
    let f = DefaultTopicFilter::from_config(&props(&[("topics.blacklist", "secret.*")])).unwrap();
    assert!(!f.should_replicate_topic("secret-1"));
    // The alias replaces the default list.
    assert!(f.should_replicate_topic("__consumer_offsets"));
    // The current key wins over the alias.
    let f = DefaultTopicFilter::from_config(&props(&[
        ("topics.blacklist", "secret.*"),
        ("topics.exclude", "private.*"),
    ]))
    .unwrap();
    assert!(f.should_replicate_topic("secret-1"));
    assert!(!f.should_replicate_topic("private-1"));
}

#[test]
fn default_group_filter() {
    let f = DefaultGroupFilter::from_config(&HashMap::new()).unwrap();
    assert!(f.should_replicate_group("app"));
    assert!(!f.should_replicate_group("console-consumer-1234"));
    assert!(!f.should_replicate_group("connect-my-sink"));
    assert!(!f.should_replicate_group("__amazon"));
    assert!(f.should_replicate_group("my-console-consumer-1"));
    let f = DefaultGroupFilter::from_config(&props(&[
        ("groups", "app-.*"),
        ("groups.blacklist", "app-test"),
    ]))
    .unwrap();
    assert!(f.should_replicate_group("app-prod"));
    assert!(!f.should_replicate_group("app-test"));
    assert!(!f.should_replicate_group("other"));
    assert!(f.should_replicate_group("app-connect-x"));
}

#[test]
fn default_config_property_filter() {
    let f = DefaultConfigPropertyFilter::from_config(&HashMap::new()).unwrap();
    for excluded in [
        "follower.replication.throttled.replicas",
        "leader.replication.throttled.replicas",
        "message.timestamp.difference.max.ms",
        "message.timestamp.type",
        "unclean.leader.election.enable",
        "min.insync.replicas",
    ] {
        assert!(!f.should_replicate_config_property(excluded), "{excluded}");
    }
    assert!(f.should_replicate_config_property("retention.ms"));
    assert!(f.should_replicate_config_property("cleanup.policy"));
    // The escaped dots are literal.
    assert!(f.should_replicate_config_property("min-insync-replicas"));
    assert!(!f.should_replicate_source_default("retention.ms"));

    let f = DefaultConfigPropertyFilter::from_config(&props(&[
        ("config.properties.blacklist", "retention\\..*"),
        ("use.defaults.from", " source "),
    ]))
    .unwrap();
    assert!(!f.should_replicate_config_property("retention.ms"));
    assert!(f.should_replicate_config_property("min.insync.replicas"));
    assert!(f.should_replicate_source_default("retention.ms"));
}

#[test]
fn invalid_regexes_are_errors() {
    let err = DefaultTopicFilter::from_config(&props(&[("topics", "a(")])).unwrap_err();
    assert_eq!(err.key, "topics");
    // Look-around is Java-only.
    let err =
        DefaultGroupFilter::from_config(&props(&[("groups.exclude", "(?!x).*")])).unwrap_err();
    assert_eq!(err.key, "groups.exclude");
    let err =
        DefaultConfigPropertyFilter::from_config(&props(&[("config.properties.exclude", "[")]))
            .unwrap_err();
    assert_eq!(err.key, "config.properties.exclude");
}

proptest! {
    #[test]
    fn literal_entries_match_exactly_themselves(
        names in proptest::collection::vec("[a-z0-9_-]{1,8}", 1..5), probe in "[a-z0-9_-]{0,8}",
    ) {
        let list = PatternList::parse("topics", &names.join(", ")).unwrap();
        prop_assert_eq!(list.matches(&probe), names.contains(&probe));
    }
}
