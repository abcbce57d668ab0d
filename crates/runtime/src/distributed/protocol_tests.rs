use proptest::prelude::*;

use super::*;

const URL: &str = "http://w1:8083/";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn metadata(assignment: Option<Assignment>) -> WorkerMetadata {
    WorkerMetadata {
        url: URL.into(),
        config_offset: 42,
        assignment,
    }
}

fn assignment(version: i16, assigned: bool, revoked: bool) -> Assignment {
    let c1 = |t| ConnectorTaskId::new("c1", t);
    Assignment {
        version,
        error: Assignment::NO_ERROR,
        leader: "w1".into(),
        leader_url: URL.into(),
        config_offset: 42,
        connectors: if assigned { vec!["c1".into()] } else { vec![] },
        tasks: if assigned { vec![c1(0), c1(1)] } else { vec![] },
        revoked_connectors: if revoked { vec!["c2".into()] } else { vec![] },
        revoked_tasks: if revoked {
            vec![ConnectorTaskId::new("c2", 0)]
        } else {
            vec![]
        },
        delay_ms: 0,
    }
}

const EAGER_METADATA: &str = "0000000f687474703a2f2f77313a383038332f000000000000002a";
const EAGER_ASSIGNMENT: &str = "0000000000027731000f687474703a2f2f77313a383038332f000000000000002a000000010002633100000003ffffffff0000000000000001";
const V1_METADATA: &str = "0001000f687474703a2f2f77313a383038332f000000000000002affffffff";
const V2_METADATA: &str = "0002000f687474703a2f2f77313a383038332f000000000000002affffffff";
const V1_WITH_REVOKED: &str = "0001000000027731000f687474703a2f2f77313a383038332f000000000000002a000000010002633100000003ffffffff0000000000000001000000010002633200000002ffffffff0000000000000000";
const V2_WITH_REVOKED: &str = "0002000000027731000f687474703a2f2f77313a383038332f000000000000002a000000010002633100000003ffffffff0000000000000001000000010002633200000002ffffffff0000000000000000";
const V1_REVOKED_ONLY: &str = "0001000000027731000f687474703a2f2f77313a383038332f000000000000002a00000000000000010002633200000002ffffffff0000000000000000";
const V2_REVOKED_ONLY: &str = "0002000000027731000f687474703a2f2f77313a383038332f000000000000002a00000000000000010002633200000002ffffffff0000000000000000";
const V1_METADATA_PREV: &str = "0001000f687474703a2f2f77313a383038332f000000000000002a000000510001000000027731000f687474703a2f2f77313a383038332f000000000000002a000000010002633100000003ffffffff0000000000000001000000010002633200000002ffffffff0000000000000000";
const V2_METADATA_PREV: &str = "0002000f687474703a2f2f77313a383038332f000000000000002a000000510002000000027731000f687474703a2f2f77313a383038332f000000000000002a000000010002633100000003ffffffff0000000000000001000000010002633200000002ffffffff0000000000000000";

/// Checks one reference vector in both directions.
fn check_metadata(protocol: ConnectProtocolCompatibility, value: &WorkerMetadata, vector: &str) {
    assert_eq!(value.encode(protocol).unwrap().as_ref(), hex(vector));
    assert_eq!(&WorkerMetadata::decode(&hex(vector)).unwrap(), value);
}

fn check_assignment(value: &Assignment, vector: &str) {
    assert_eq!(value.encode().unwrap().as_ref(), hex(vector));
    assert_eq!(&Assignment::decode(&hex(vector)).unwrap(), value);
}

#[test]
fn eager_metadata_vector() {
    check_metadata(
        ConnectProtocolCompatibility::Eager,
        &metadata(None),
        EAGER_METADATA,
    );
}

#[test]
fn eager_metadata_leaves_out_the_assignment() {
    let with_previous = metadata(Some(assignment(1, true, true)));
    let bytes = with_previous
        .encode(ConnectProtocolCompatibility::Eager)
        .unwrap();
    assert_eq!(bytes.as_ref(), hex(EAGER_METADATA));
}

#[test]
fn incremental_metadata_vectors() {
    check_metadata(
        ConnectProtocolCompatibility::Compatible,
        &metadata(None),
        V1_METADATA,
    );
    check_metadata(
        ConnectProtocolCompatibility::Sessioned,
        &metadata(None),
        V2_METADATA,
    );
}

#[test]
fn metadata_with_previous_assignment_vectors() {
    check_metadata(
        ConnectProtocolCompatibility::Compatible,
        &metadata(Some(assignment(1, true, true))),
        V1_METADATA_PREV,
    );
    check_metadata(
        ConnectProtocolCompatibility::Sessioned,
        &metadata(Some(assignment(2, true, true))),
        V2_METADATA_PREV,
    );
}

#[test]
fn nested_assignment_takes_the_metadata_version() {
    let v1_assignment_in_v2_metadata = metadata(Some(assignment(1, true, true)));
    let bytes = v1_assignment_in_v2_metadata
        .encode(ConnectProtocolCompatibility::Sessioned)
        .unwrap();
    assert_eq!(bytes.as_ref(), hex(V2_METADATA_PREV));
}

#[test]
fn eager_assignment_vector() {
    check_assignment(&assignment(0, true, false), EAGER_ASSIGNMENT);
}

#[test]
fn incremental_assignment_vectors() {
    check_assignment(&assignment(1, true, true), V1_WITH_REVOKED);
    check_assignment(&assignment(2, true, true), V2_WITH_REVOKED);
    check_assignment(&assignment(1, false, true), V1_REVOKED_ONLY);
    check_assignment(&assignment(2, false, true), V2_REVOKED_ONLY);
}

#[test]
fn grouping_puts_the_connector_instance_first_and_once() {
    let mut a = assignment(0, false, false);
    a.tasks = vec![ConnectorTaskId::new("b", 0), ConnectorTaskId::new("a", 2)];
    a.connectors = vec!["a".into(), "a".into()];
    let decoded = Assignment::decode(&a.encode().unwrap()).unwrap();
    assert_eq!(decoded.connectors, ["a"]);
    assert_eq!(
        decoded.tasks,
        [ConnectorTaskId::new("a", 2), ConnectorTaskId::new("b", 0)]
    );
}

#[test]
fn eager_metadata_reads_without_assignment_and_ignores_trailing_bytes() {
    assert_eq!(
        WorkerMetadata::decode(&hex(EAGER_METADATA)).unwrap(),
        metadata(None)
    );
    let mut long = hex(V1_METADATA);
    long.extend_from_slice(&[1, 2, 3]);
    assert_eq!(WorkerMetadata::decode(&long).unwrap(), metadata(None));
}

#[test]
fn eager_assignment_read_with_defaults_for_missing_fields() {
    let decoded = Assignment::decode(&hex(EAGER_ASSIGNMENT)).unwrap();
    assert_eq!(decoded.version, 0);
    assert!(decoded.revoked_connectors.is_empty());
    assert_eq!(decoded.delay_ms, 0);
}

#[test]
fn null_assignment_arrays_read_as_empty() {
    // version 1, error 0, leader "", url "", offset 0, null assigned, null revoked, delay 7
    let bytes = hex(&format!(
        "0001{}{}ffffffffffffffff00000007",
        "0".repeat(12),
        "0".repeat(16)
    ));
    let decoded = Assignment::decode(&bytes).unwrap();
    assert!(decoded.connectors.is_empty() && decoded.revoked_tasks.is_empty());
    assert_eq!(decoded.delay_ms, 7);
}

#[test]
fn malformed_messages_are_typed_errors() {
    assert_eq!(
        Assignment::decode(&hex("ffff")),
        Err(ProtocolError::UnsupportedVersion(-1))
    );
    assert_eq!(
        Assignment::decode(&hex("0001")),
        Err(ProtocolError::MissingField { field: "error" })
    );
    assert_eq!(
        WorkerMetadata::decode(&hex("0000000f6874")),
        Err(ProtocolError::Truncated { field: "url" })
    );
    assert!(matches!(
        WorkerMetadata::decode(&hex("0000ffff")),
        Err(ProtocolError::NegativeLength { field: "url", .. })
    ));
}

#[test]
fn long_strings_are_refused_when_encoding() {
    let mut m = metadata(None);
    m.url = "x".repeat(40_000);
    assert_eq!(
        m.encode(ConnectProtocolCompatibility::Eager),
        Err(ProtocolError::StringTooLong(40_000))
    );
}

#[test]
fn join_group_protocols_in_preference_order() {
    let m = metadata(None);
    let names = |mode| {
        m.join_group_protocols(mode)
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(ConnectProtocolCompatibility::Eager), ["default"]);
    assert_eq!(
        names(ConnectProtocolCompatibility::Compatible),
        ["compatible", "default"]
    );
    assert_eq!(
        names(ConnectProtocolCompatibility::Sessioned),
        ["sessioned", "compatible", "default"]
    );
    let sessioned = m
        .join_group_protocols(ConnectProtocolCompatibility::Sessioned)
        .unwrap();
    assert_eq!(sessioned[0].1.as_ref(), hex(V2_METADATA));
    assert_eq!(sessioned[1].1.as_ref(), hex(V1_METADATA));
    assert_eq!(sessioned[2].1.as_ref(), hex(EAGER_METADATA));
}

#[test]
fn compatibility_names() {
    use ConnectProtocolCompatibility as P;
    assert_eq!(P::from_protocol_name("DEFAULT"), Some(P::Eager));
    assert_eq!(P::from_protocol_name("eager"), None);
    assert_eq!("EAGER".parse::<P>(), Ok(P::Eager));
    assert!("default".parse::<P>().is_err());
    assert_eq!(P::from_version(2), Some(P::Sessioned));
    assert_eq!(P::from_version(3), None);
}

#[test]
fn merge_keeps_unrevoked_previous_work() {
    let previous = assignment(1, true, false);
    let mut received = assignment(1, false, false);
    received.revoked_tasks = vec![ConnectorTaskId::new("c1", 1)];
    received.tasks = vec![ConnectorTaskId::new("c3", 0)];
    let merged = Assignment::merged_with_previous(received, Some(&previous));
    assert_eq!(merged.connectors, ["c1"]);
    assert_eq!(
        merged.tasks,
        [ConnectorTaskId::new("c3", 0), ConnectorTaskId::new("c1", 0)]
    );
}

fn arb_assignment() -> impl Strategy<Value = Assignment> {
    let names = prop::collection::vec("[a-z-]{1,6}", 0..4);
    let tasks = prop::collection::vec(("[a-z-]{1,6}", 0..5i32), 0..6);
    (
        1..3i16,
        names.clone(),
        tasks.clone(),
        names,
        tasks,
        any::<i32>(),
        any::<i64>(),
    )
        .prop_map(|(version, c, t, rc, rt, delay_ms, config_offset)| {
            let ids = |t: Vec<(String, i32)>| {
                t.into_iter()
                    .map(|(c, t)| ConnectorTaskId::new(c, t))
                    .collect()
            };
            let dedup = |mut c: Vec<String>| {
                c.sort();
                c.dedup();
                c
            };
            Assignment {
                version,
                error: 0,
                leader: "leader".into(),
                leader_url: URL.into(),
                config_offset,
                connectors: dedup(c),
                tasks: ids(t),
                revoked_connectors: dedup(rc),
                revoked_tasks: ids(rt),
                delay_ms,
            }
        })
}

/// The same assignment up to the order the wire format groups things in.
fn normalized(mut a: Assignment) -> Assignment {
    a.connectors.sort();
    a.tasks.sort();
    a.revoked_connectors.sort();
    a.revoked_tasks.sort();
    a
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Assignment::decode(&bytes);
        let _ = WorkerMetadata::decode(&bytes);
    }

    #[test]
    fn random_bytes_after_valid_header_never_panic(tail in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = vec![0, 1];
        bytes.extend(tail);
        let _ = Assignment::decode(&bytes);
        let _ = WorkerMetadata::decode(&bytes);
    }

    #[test]
    fn assignments_round_trip(a in arb_assignment()) {
        let decoded = Assignment::decode(&a.encode().unwrap()).unwrap();
        prop_assert_eq!(normalized(decoded), normalized(a.clone()));
        let m = WorkerMetadata { url: URL.into(), config_offset: 1, assignment: Some(a.clone()) };
        let protocol = ConnectProtocolCompatibility::from_version(a.version).unwrap();
        let decoded = WorkerMetadata::decode(&m.encode(protocol).unwrap()).unwrap();
        prop_assert_eq!(decoded.assignment.map(normalized), Some(normalized(a)));
    }
}
