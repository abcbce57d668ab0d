//! The layouts against kafka-protocol's codec, and the guard against corrupt counts.
//!
//! Each layout writes a populated message of each version (every array with two elements,
//! every string, bytes and tagged field set); kafka-protocol must decode exactly those bytes
//! and encode them back identically. A layout that drifts from the codec by one field fails.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message};
use proptest::prelude::*;

use super::*;
use crate::connection::decode_response;
use crate::error::Error;

/// Where a synthesized message holds an array count.
#[derive(Debug, Clone, Copy)]
struct Count {
    at: usize,
    /// A varint of one byte (flexible) rather than an int32.
    compact: bool,
}

/// Writes a populated message of `layout` at `version`, noting where its array counts are.
struct Synth {
    buf: BytesMut,
    version: i16,
    flexible: bool,
    counts: Vec<Count>,
}

impl Synth {
    fn message(layout: &Layout, version: i16) -> (Bytes, Vec<Count>) {
        let mut synth = Synth {
            buf: BytesMut::new(),
            version,
            flexible: layout.flexible.is_some_and(|from| version >= from),
            counts: Vec::new(),
        };
        synth.fields(layout.fields);
        (synth.buf.freeze(), synth.counts)
    }

    fn present(&self, field: &Field) -> bool {
        (field.min..=field.max).contains(&self.version)
    }

    fn length(&mut self, n: usize, wide: bool) {
        if self.flexible {
            self.buf.put_u8(u8::try_from(n + 1).unwrap());
        } else if wide {
            self.buf.put_i32(i32::try_from(n).unwrap());
        } else {
            self.buf.put_i16(i16::try_from(n).unwrap());
        }
    }

    fn fields(&mut self, fields: &[Field]) {
        for field in fields.iter().filter(|f| f.tag.is_none()) {
            if self.present(field) {
                self.kind(&field.kind);
            }
        }
        if self.flexible {
            let tagged: Vec<_> = fields
                .iter()
                .filter(|f| f.tag.is_some() && self.present(f))
                .collect();
            self.buf.put_u8(u8::try_from(tagged.len()).unwrap());
            for field in tagged {
                let mut inner = Synth {
                    buf: BytesMut::new(),
                    version: self.version,
                    flexible: true,
                    counts: Vec::new(),
                };
                inner.kind(&field.kind);
                self.buf.put_u8(u8::try_from(field.tag.unwrap()).unwrap());
                self.buf.put_u8(u8::try_from(inner.buf.len()).unwrap());
                let base = self.buf.len();
                self.counts.extend(inner.counts.iter().map(|c| Count {
                    at: base + c.at,
                    ..*c
                }));
                self.buf.extend_from_slice(&inner.buf);
            }
        }
    }

    fn kind(&mut self, kind: &Kind) {
        match kind {
            // Booleans must be 0 or 1 to encode back the same; 1 is also not a default.
            Kind::Fixed(1) => self.buf.put_u8(1),
            Kind::Fixed(n) => (0..*n).for_each(|i| self.buf.put_u8(u8::try_from(i + 2).unwrap())),
            Kind::String => {
                self.length(2, false);
                self.buf.put_slice(b"ab");
            }
            Kind::Bytes => {
                self.length(3, true);
                self.buf.put_slice(&[7, 8, 9]);
            }
            Kind::Array(element) => {
                self.counts.push(Count {
                    at: self.buf.len(),
                    compact: self.flexible,
                });
                self.length(2, true);
                self.kind(element);
                self.kind(element);
            }
            Kind::Struct(fields) => self.fields(fields),
        }
    }
}

/// kafka-protocol reads the synthesized bytes of every version to the end and writes them
/// back the same; the guard accepts them.
fn matches_codec<M: Message + Decodable + Encodable + 'static>() {
    let layout = layout_of::<M>().expect("a layout");
    for version in M::VERSIONS.min..=M::VERSIONS.max {
        let (bytes, _) = Synth::message(layout, version);
        let name = std::any::type_name::<M>();
        check_prefix(&bytes, layout, version).unwrap_or_else(|e| panic!("{name} v{version}: {e}"));
        let mut buf = bytes.clone();
        let decoded = M::decode(&mut buf, version)
            .unwrap_or_else(|e| panic!("{name} v{version} does not decode: {e}"));
        assert!(
            buf.is_empty(),
            "{name} v{version}: {} bytes left",
            buf.len()
        );
        let mut again = BytesMut::new();
        decoded.encode(&mut again, version).unwrap();
        assert_eq!(
            again.freeze(),
            bytes,
            "{name} v{version} encodes differently"
        );
    }
}

#[test]
fn client_layouts_match_the_codec() {
    matches_codec::<ApiVersionsResponse>();
    matches_codec::<MetadataResponse>();
    matches_codec::<ProduceResponse>();
    matches_codec::<FetchResponse>();
    matches_codec::<ListOffsetsResponse>();
    matches_codec::<FindCoordinatorResponse>();
}

#[test]
fn group_layouts_match_the_codec() {
    matches_codec::<JoinGroupResponse>();
    matches_codec::<LeaveGroupResponse>();
    matches_codec::<OffsetCommitResponse>();
    matches_codec::<OffsetFetchResponse>();
    matches_codec::<DescribeGroupsResponse>();
    matches_codec::<ListGroupsResponse>();
    matches_codec::<OffsetDeleteResponse>();
    matches_codec::<ConsumerProtocolSubscription>();
    matches_codec::<ConsumerProtocolAssignment>();
}

#[test]
fn admin_layouts_match_the_codec() {
    matches_codec::<CreateTopicsResponse>();
    matches_codec::<DeleteTopicsResponse>();
    matches_codec::<DescribeConfigsResponse>();
    matches_codec::<IncrementalAlterConfigsResponse>();
    matches_codec::<CreatePartitionsResponse>();
    matches_codec::<DescribeClusterResponse>();
    matches_codec::<DescribeAclsResponse>();
    matches_codec::<CreateAclsResponse>();
    matches_codec::<DeleteRecordsResponse>();
}

#[test]
fn responses_without_arrays_need_no_layout() {
    // Their decoders reserve nothing from the wire: only fixed fields, strings and bytes,
    // which kafka-protocol reads as slices of what has actually arrived.
    assert!(layout_of::<HeartbeatResponse>().is_none());
    assert!(layout_of::<SyncGroupResponse>().is_none());
    assert!(layout_of::<InitProducerIdResponse>().is_none());
}

/// A response frame of `M` at `version`: header, then a synthesized body.
fn frame<M: HeaderVersion + 'static>(version: i16) -> (Bytes, Vec<Count>) {
    let layout = layout_of::<M>().unwrap();
    let (body, counts) = Synth::message(layout, version);
    let mut frame = BytesMut::new();
    frame.put_i32(42);
    if M::header_version(version) >= 1 {
        frame.put_u8(0);
    }
    let base = frame.len();
    frame.extend_from_slice(&body);
    let counts = counts
        .into_iter()
        .map(|c| Count {
            at: base + c.at,
            ..c
        })
        .collect();
    (frame.freeze(), counts)
}

/// Overwrites the count at `count` with `value`; a compact count becomes a five-byte varint.
fn with_count(frame: &[u8], count: Count, value: u32) -> Bytes {
    let mut out = BytesMut::from(&frame[..count.at]);
    if count.compact {
        let mut v = value;
        for _ in 0..4 {
            out.put_u8(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        out.put_u8((v & 0x0f) as u8);
        out.extend_from_slice(&frame[count.at + 1..]);
    } else {
        out.put_u32(value);
        out.extend_from_slice(&frame[count.at + 4..]);
    }
    out.freeze()
}

/// Decodes `frame` as a response of `M` at `version`.
fn decode<M: Decodable + HeaderVersion + 'static>(frame: Bytes, version: i16) -> crate::Result<M> {
    decode_response::<M>(frame, version, M::header_version(version))
}

#[test]
fn synthesized_frames_decode() {
    for version in 0..=13 {
        let (frame, _) = frame::<MetadataResponse>(version);
        let metadata = decode::<MetadataResponse>(frame, version).unwrap();
        assert_eq!(metadata.brokers.len(), 2);
        assert_eq!(metadata.topics[1].partitions[1].isr_nodes.len(), 2);
    }
}

#[test]
fn a_huge_array_count_is_a_protocol_error() {
    // Without the guard this makes kafka-protocol reserve 2³¹ brokers (about 150 GiB) and the
    // process aborts.
    let (flexible, counts) = frame::<MetadataResponse>(12);
    let corrupt = with_count(&flexible, counts[0], 0x7fff_ffff);
    let err = decode::<MetadataResponse>(corrupt, 12).unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("array of 2147483646 elements")),
        "{err}"
    );
    let (classic, counts) = frame::<MetadataResponse>(8);
    let corrupt = with_count(&classic, counts[0], 0x7fff_ffff);
    let err = decode::<MetadataResponse>(corrupt, 8).unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("array of 2147483647 elements")),
        "{err}"
    );
}

#[test]
fn a_count_just_past_the_frame_is_a_protocol_error() {
    // Two elements of at least 4 bytes each fit; with one byte fewer they cannot.
    let bytes = [0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0];
    let assignment = layout_of::<ConsumerProtocolAssignment>().unwrap();
    let err = check_prefix(&bytes, assignment, 0).unwrap_err();
    assert!(err.contains("array of 2 elements"), "{err}");
}

/// Every response type the fuzz targets, with its version range.
#[derive(Debug, Clone, Copy)]
enum Target {
    Metadata,
    Fetch,
    Produce,
    JoinGroup,
    OffsetFetch,
}

fn target() -> impl Strategy<Value = (Target, i16)> {
    prop_oneof![
        (0i16..=13).prop_map(|v| (Target::Metadata, v)),
        (4i16..=18).prop_map(|v| (Target::Fetch, v)),
        (3i16..=13).prop_map(|v| (Target::Produce, v)),
        (0i16..=9).prop_map(|v| (Target::JoinGroup, v)),
        (1i16..=10).prop_map(|v| (Target::OffsetFetch, v)),
    ]
}

fn target_frame(target: Target, version: i16) -> (Bytes, Vec<Count>) {
    match target {
        Target::Metadata => frame::<MetadataResponse>(version),
        Target::Fetch => frame::<FetchResponse>(version),
        Target::Produce => frame::<ProduceResponse>(version),
        Target::JoinGroup => frame::<JoinGroupResponse>(version),
        Target::OffsetFetch => frame::<OffsetFetchResponse>(version),
    }
}

/// Whether `frame` decodes; a failure must be a protocol error.
fn target_decodes(target: Target, version: i16, frame: Bytes) -> Result<bool, Error> {
    let result = match target {
        Target::Metadata => decode::<MetadataResponse>(frame, version).map(drop),
        Target::Fetch => decode::<FetchResponse>(frame, version).map(drop),
        Target::Produce => decode::<ProduceResponse>(frame, version).map(drop),
        Target::JoinGroup => decode::<JoinGroupResponse>(frame, version).map(drop),
        Target::OffsetFetch => decode::<OffsetFetchResponse>(frame, version).map(drop),
    };
    match result {
        Ok(()) => Ok(true),
        Err(Error::Protocol(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

proptest! {
    /// Any array count beyond what the rest of the frame holds is a protocol error. Without
    /// the guard, the large ones abort the test process.
    #[test]
    fn corrupt_counts_are_protocol_errors(
        (target, version) in target(),
        which in any::<prop::sample::Index>(),
        value in prop_oneof![1_000u32..=0x7fff_ffff, Just(0x7fff_ffff), Just(0xffff_fffe)],
    ) {
        let (frame, counts) = target_frame(target, version);
        let count = counts[which.index(counts.len())];
        let corrupt = with_count(&frame, count, value);
        prop_assert!(!target_decodes(target, version, corrupt).unwrap());
    }

    /// Bytes changed anywhere (counts included): a response or a protocol error.
    #[test]
    fn corrupt_bytes_decode_or_fail_cleanly(
        (target, version) in target(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let (frame, _) = target_frame(target, version);
        let mut bytes = frame.to_vec();
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        target_decodes(target, version, Bytes::from(bytes)).unwrap();
    }

    /// Any strict prefix of a valid frame is a protocol error.
    #[test]
    fn truncated_frames_are_protocol_errors(
        (target, version) in target(),
        cut in any::<prop::sample::Index>(),
    ) {
        let (frame, _) = target_frame(target, version);
        let cut = cut.index(frame.len());
        prop_assert!(!target_decodes(target, version, frame.slice(..cut)).unwrap());
    }
}
