use proptest::prelude::*;

use super::*;

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

#[test]
fn subscription_v3_bytes_follow_the_schema() {
    let subscription = Subscription {
        topics: vec!["t".into()],
        user_data: None,
        owned_partitions: vec![tp("t", 0)],
        generation_id: 5,
        rack_id: None,
    };
    let expected: &[u8] = &[
        0, 3, // version
        0, 0, 0, 1, 0, 1, b't', // topics
        0xff, 0xff, 0xff, 0xff, // user data: null
        0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 0, // owned partitions
        0, 0, 0, 5, // generation
        0xff, 0xff, // rack: null
    ];
    assert_eq!(&subscription.encode(3)[..], expected);
    assert_eq!(Subscription::decode(expected).unwrap(), subscription);
}

#[test]
fn subscription_sorts_topics_and_owned_partitions() {
    let subscription = Subscription {
        topics: vec!["b".into(), "a".into()],
        owned_partitions: vec![tp("b", 1), tp("a", 2), tp("b", 0)],
        generation_id: -1,
        ..Default::default()
    };
    let decoded = Subscription::decode(&subscription.encode(3)).unwrap();
    assert_eq!(decoded.topics, ["a", "b"]);
    assert_eq!(
        decoded.owned_partitions,
        [tp("a", 2), tp("b", 0), tp("b", 1)]
    );
}

#[test]
fn a_v0_subscription_reads_with_defaults() {
    // What a client writing version 0 sends: topics and user data only.
    let v0: &[u8] = &[0, 0, 0, 0, 0, 1, 0, 2, b'o', b'k', 0, 0, 0, 4, 0, 0, 0, 7];
    let decoded = Subscription::decode(v0).unwrap();
    assert_eq!(decoded.topics, ["ok"]);
    assert_eq!(decoded.user_data.as_deref(), Some(&[0, 0, 0, 7][..]));
    assert!(decoded.owned_partitions.is_empty());
    assert_eq!(decoded.generation_id, -1);
    assert_eq!(decoded.rack_id, None);
}

#[test]
fn a_newer_version_reads_as_the_latest() {
    let mut bytes = Subscription {
        topics: vec!["t".into()],
        rack_id: Some("r1".into()),
        generation_id: 2,
        ..Default::default()
    }
    .encode(3)
    .to_vec();
    bytes[1] = 4;
    bytes.extend_from_slice(&[1, 2, 3]); // a field added by version 4
    let decoded = Subscription::decode(&bytes).unwrap();
    assert_eq!(decoded.rack_id.as_deref(), Some("r1"));
    assert_eq!(decoded.generation_id, 2);
}

#[test]
fn truncated_subscriptions_are_errors() {
    assert!(Subscription::decode(&[0]).is_err());
    assert!(Subscription::decode(&[0, 1, 0, 0, 0, 1]).is_err());
    assert!(Subscription::decode(&[0xff, 0xff]).is_err());
}

#[test]
fn assignment_bytes_group_partitions_by_topic() {
    let assignment = Assignment {
        partitions: vec![tp("x", 1), tp("y", 0), tp("x", 0)],
        user_data: None,
    };
    let expected: &[u8] = &[
        0, 3, // version
        0, 0, 0, 2, // two topics
        0, 1, b'x', 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, // x: 1, 0
        0, 1, b'y', 0, 0, 0, 1, 0, 0, 0, 0, // y: 0
        0xff, 0xff, 0xff, 0xff, // user data: null
    ];
    assert_eq!(&assignment.encode(3)[..], expected);
    let decoded = Assignment::decode(expected).unwrap();
    assert_eq!(decoded.partitions, [tp("x", 1), tp("x", 0), tp("y", 0)]);
}

#[test]
fn an_empty_assignment_is_no_partitions() {
    assert_eq!(Assignment::decode(&[]).unwrap(), Assignment::default());
}

proptest! {
    #[test]
    fn subscriptions_round_trip(
        topics in proptest::collection::btree_set("[a-z]{1,5}", 0..4),
        owned in proptest::collection::btree_set(("[a-z]{1,3}", 0..8i32), 0..6),
        generation in -1..100i32,
        user_data in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
        version in 0..=3i16,
    ) {
        let subscription = Subscription {
            topics: topics.into_iter().collect(),
            user_data: user_data.map(Bytes::from),
            owned_partitions: owned.into_iter().map(|(t, p)| tp(&t, p)).collect(),
            generation_id: generation,
            rack_id: None,
        };
        let decoded = Subscription::decode(&subscription.encode(version)).unwrap();
        prop_assert_eq!(&decoded.topics, &subscription.topics);
        prop_assert_eq!(&decoded.user_data, &subscription.user_data);
        if version >= 1 {
            prop_assert_eq!(&decoded.owned_partitions, &subscription.owned_partitions);
        }
        if version >= 2 {
            prop_assert_eq!(decoded.generation_id, generation);
        }
    }
}
