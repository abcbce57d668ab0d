use proptest::prelude::*;

use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn checkpoint_g1() -> Checkpoint {
    Checkpoint {
        consumer_group_id: "g1".into(),
        topic_partition: TopicPartition::new("A.t", 3),
        upstream_offset: 100,
        downstream_offset: 90,
        metadata: String::new(),
    }
}

// Vectors from shared/compat/vectors.md, produced by Kafka's Java classes.
#[test]
fn heartbeat_matches_java_vector() {
    let hb = Heartbeat::new("A", "B", 1_700_000_000_000);
    let (key, value) = (hex("000141000142"), hex("00000000018bcfe56800"));
    assert_eq!(hb.encode_key().unwrap(), key);
    assert_eq!(hb.encode_value(), value);
    assert_eq!(Heartbeat::decode(&key, &value).unwrap(), hb);
}

#[test]
fn checkpoint_matches_java_vector() {
    let cp = checkpoint_g1();
    let key = hex("000267310003412e7400000003");
    let value = hex("00000000000000000064000000000000005a0000");
    assert_eq!(cp.encode_key().unwrap(), key);
    assert_eq!(cp.encode_value().unwrap(), value);
    assert_eq!(Checkpoint::decode(&key, &value).unwrap(), cp);
}

#[test]
fn offset_sync_matches_java_vector() {
    let sync = OffsetSync {
        topic_partition: TopicPartition::new("t", 3),
        upstream_offset: 100,
        downstream_offset: 90,
    };
    let (key, value) = (
        hex("00017400000003"),
        hex("0000000000000064000000000000005a"),
    );
    assert_eq!(sync.encode_key().unwrap(), key);
    assert_eq!(sync.encode_value(), value);
    assert_eq!(OffsetSync::decode(&key, &value).unwrap(), sync);
}

#[test]
fn any_value_version_is_read_with_the_v0_layout_like_java() {
    let key = hex("000141000142");
    let value = hex("00070000018bcfe56800");
    assert_eq!(
        Heartbeat::decode(&key, &value).unwrap().timestamp,
        1_700_000_000_000
    );
    let value = hex("ffff0000000000000064000000000000005a0000");
    assert_eq!(
        Checkpoint::decode(&hex("000267310003412e7400000003"), &value).unwrap(),
        checkpoint_g1()
    );
}

#[test]
fn trailing_bytes_are_ignored_like_java() {
    let key = hex("000141000142ff");
    let value = hex("00000000018bcfe5680001");
    assert_eq!(
        Heartbeat::decode(&key, &value).unwrap(),
        Heartbeat::new("A", "B", 1_700_000_000_000)
    );
}

#[test]
fn malformed_utf8_is_replaced_like_java() {
    let key = hex("0001ff000142");
    let hb = Heartbeat::decode(&key, &hex("00000000000000000001")).unwrap();
    assert_eq!(hb.source_cluster_alias, "\u{fffd}");
}

#[test]
fn negative_string_length_is_an_error() {
    let err = OffsetSync::decode(&hex("ffff"), &[0; 16]).unwrap_err();
    assert_eq!(
        err,
        DecodeError::NegativeLength {
            field: "topic",
            len: -1
        }
    );
}

#[test]
fn truncated_fields_are_errors() {
    let err = OffsetSync::decode(&hex("0005746f"), &[0; 16]).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            field: "topic",
            needed: 5,
            available: 2
        }
    );
    let err = OffsetSync::decode(&hex("00017400"), &[0; 16]).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            field: "partition",
            needed: 4,
            available: 1
        }
    );
    let err = Checkpoint::decode(&hex("000267310003412e7400000003"), &hex("0000")).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            field: "upstreamOffset",
            needed: 8,
            available: 0
        }
    );
    let err = Heartbeat::decode(&[], &[]).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            field: "version",
            needed: 2,
            available: 0
        }
    );
}

#[test]
fn strings_longer_than_int16_cannot_be_encoded() {
    let mut cp = checkpoint_g1();
    cp.metadata = "m".repeat(32_767);
    assert_eq!(cp.encode_value().unwrap().len(), 2 + 8 + 8 + 2 + 32_767);
    cp.metadata.push('m');
    assert_eq!(
        cp.encode_value().unwrap_err(),
        EncodeError::StringTooLong {
            field: "metadata",
            len: 32_768
        }
    );
    let hb = Heartbeat::new("é".repeat(16_384), "B", 0);
    assert_eq!(
        hb.encode_key().unwrap_err(),
        EncodeError::StringTooLong {
            field: "sourceClusterAlias",
            len: 32_768
        }
    );
}

fn short_string() -> impl Strategy<Value = String> {
    ".{0,40}"
}

fn topic_partition() -> impl Strategy<Value = TopicPartition> {
    (short_string(), any::<i32>())
        .prop_map(|(topic, partition)| TopicPartition { topic, partition })
}

proptest! {
    #[test]
    fn heartbeat_round_trips(s in short_string(), t in short_string(), ts in any::<i64>()) {
        let hb = Heartbeat::new(s, t, ts);
        let decoded = Heartbeat::decode(&hb.encode_key().unwrap(), &hb.encode_value()).unwrap();
        prop_assert_eq!(decoded, hb);
    }

    #[test]
    fn checkpoint_round_trips(
        group in short_string(), tp in topic_partition(), up in any::<i64>(), down in any::<i64>(),
        metadata in short_string(),
    ) {
        let cp = Checkpoint {
            consumer_group_id: group, topic_partition: tp, upstream_offset: up,
            downstream_offset: down, metadata,
        };
        let decoded = Checkpoint::decode(&cp.encode_key().unwrap(), &cp.encode_value().unwrap()).unwrap();
        prop_assert_eq!(decoded, cp);
    }

    #[test]
    fn offset_sync_round_trips(tp in topic_partition(), up in any::<i64>(), down in any::<i64>()) {
        let sync = OffsetSync { topic_partition: tp, upstream_offset: up, downstream_offset: down };
        let decoded = OffsetSync::decode(&sync.encode_key().unwrap(), &sync.encode_value()).unwrap();
        prop_assert_eq!(decoded, sync);
    }

    #[test]
    fn random_bytes_decode_to_a_value_or_an_error(
        key in proptest::collection::vec(any::<u8>(), 0..64),
        value in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let _ = Heartbeat::decode(&key, &value);
        let _ = Checkpoint::decode(&key, &value);
        let _ = OffsetSync::decode(&key, &value);
    }

    #[test]
    fn decoding_reads_exactly_the_encoded_prefix(
        tp in topic_partition(), up in any::<i64>(), down in any::<i64>(), cut in 0usize..64,
    ) {
        let sync = OffsetSync { topic_partition: tp, upstream_offset: up, downstream_offset: down };
        let key = sync.encode_key().unwrap();
        let value = sync.encode_value();
        let cut = cut.min(key.len());
        let truncated = OffsetSync::decode(&key[..key.len() - cut], &value);
        prop_assert_eq!(truncated.is_ok(), cut == 0);
    }
}
