//! Splitting refused batches: the pieces decode to the same records, in order, with deltas
//! relative to their own batch, under every compression.

use bytes::Bytes;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Record, RecordBatchDecoder};

use super::*;
use crate::producer::batch::Stamp;
use crate::producer::config::{Compression, CompressionLevels};

const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// A record's timestamp, key, value and headers.
type Sample = (
    i64,
    Option<Vec<u8>>,
    Vec<u8>,
    Vec<(StrBytes, Option<Bytes>)>,
);

/// Record `i`: key `k{i}` (none for every third), a value of `size` bytes, a header on odd
/// records, and timestamps that go back and forth around 1000.
fn record(i: i32, size: usize) -> Sample {
    let timestamp = 1_000 + i64::from(if i % 2 == 0 { i * 10 } else { -i });
    let key = (i % 3 != 0).then(|| format!("k{i}").into_bytes());
    let value = vec![i as u8; size];
    let headers = if i % 2 == 1 {
        vec![(
            StrBytes::from(format!("h{i}")),
            Some(Bytes::from(format!("hv{i}"))),
        )]
    } else {
        Vec::new()
    };
    (timestamp, key, value, headers)
}

/// An encoded batch of `sizes.len()` records with these value sizes.
fn encoded(sizes: &[usize], compression: Compression, stamp: Stamp) -> Bytes {
    let mut builder = BatchBuilder::new(64);
    for (i, size) in (0..).zip(sizes) {
        let (timestamp, key, value, headers) = record(i, *size);
        builder.append(timestamp, key.as_deref(), Some(&value), &headers);
    }
    builder
        .encode(compression, &CompressionLevels::default(), stamp)
        .unwrap()
}

/// Frames every piece with the sequences they would get and decodes them.
fn decode(pieces: Vec<Piece>, compression: Compression) -> Vec<Vec<Record>> {
    let mut sequence = 10;
    let mut out = Vec::new();
    for piece in pieces {
        let count = piece.builder.count();
        let stamp = Stamp {
            producer_id: 5,
            producer_epoch: 1,
            base_sequence: sequence,
        };
        sequence += count;
        let mut bytes = piece
            .builder
            .encode(compression, &CompressionLevels::default(), stamp)
            .unwrap();
        let set = RecordBatchDecoder::decode(&mut bytes).unwrap();
        assert!(bytes.is_empty(), "one batch per piece");
        out.push(set.records);
    }
    out
}

fn assert_is_record(decoded: &Record, i: i32, size: usize) {
    let (timestamp, key, value, headers) = record(i, size);
    assert_eq!(decoded.timestamp, timestamp, "record {i}");
    assert_eq!(decoded.key.as_deref(), key.as_deref(), "record {i}");
    assert_eq!(decoded.value.as_deref(), Some(&value[..]), "record {i}");
    assert_eq!(decoded.headers.len(), headers.len(), "record {i}");
    for (name, value) in headers {
        assert_eq!(decoded.headers[&name], value, "record {i}");
    }
    assert_eq!(decoded.sequence, 10 + i, "record {i}");
    assert_eq!((decoded.producer_id, decoded.producer_epoch), (5, 1));
}

#[test]
fn pieces_hold_the_same_records_in_order_with_their_own_deltas() {
    let sizes = [100; 10];
    for compression in CODECS {
        let batch = encoded(&sizes, compression, Stamp::NONE);
        // Records take 107 to 119 bytes: 1130 bytes in four pieces of about 280.
        let pieces = split(&batch, 350).unwrap();
        let firsts: Vec<i32> = pieces.iter().map(|p| p.first_offset_delta).collect();
        assert_eq!(firsts, [0, 3, 5, 8], "{compression:?}");
        for piece in &pieces {
            assert!(piece.builder.size() - HEADER_SIZE <= 350);
        }
        let decoded = decode(pieces, compression);
        let mut i = 0;
        for piece in &decoded {
            for (offset, r) in (0..).zip(piece) {
                // The decoder adds the deltas to base offset 0 and to the piece's first
                // timestamp: right values mean deltas rewritten for the piece.
                assert_is_record(r, i, 100);
                assert_eq!(r.offset, offset, "{compression:?}");
                i += 1;
            }
        }
        assert_eq!(i, 10);
    }
}

#[test]
fn a_batch_below_batch_size_is_halved() {
    // Refused although under batch.size (the topic's max.message.bytes is lower): cutting at
    // batch.size would give the same batch back.
    let batch = encoded(&[100; 8], Compression::None, Stamp::NONE);
    let pieces = split(&batch, 256 * 1024).unwrap();
    let counts: Vec<i32> = pieces.iter().map(|p| p.builder.count()).collect();
    assert_eq!(counts, [4, 4]);
    // Records of 107, 119 and 110 bytes: the second one's middle is before the half.
    let pieces = split(&encoded(&[100; 3], Compression::None, Stamp::NONE), 1 << 20).unwrap();
    let counts: Vec<i32> = pieces.iter().map(|p| p.builder.count()).collect();
    assert_eq!(counts, [2, 1]);
}

#[test]
fn a_record_larger_than_the_limit_gets_a_piece_of_its_own() {
    let sizes = [10, 10, 5_000, 10, 10];
    let batch = encoded(&sizes, Compression::Lz4, Stamp::NONE);
    let pieces = split(&batch, 100).unwrap();
    let firsts: Vec<i32> = pieces.iter().map(|p| p.first_offset_delta).collect();
    assert_eq!(firsts, [0, 2, 3]);
    let decoded = decode(pieces, Compression::Lz4);
    for (i, r) in (0..).zip(decoded.iter().flatten()) {
        assert_is_record(r, i, sizes[i as usize]);
    }
}

#[test]
fn repeated_splits_end_with_single_records() {
    let sizes = [300; 7];
    let mut batches = vec![(encoded(&sizes, Compression::Gzip, Stamp::NONE), 7)];
    let mut singles = 0;
    while let Some((batch, count)) = batches.pop() {
        if count == 1 {
            singles += 1;
            continue;
        }
        let pieces = split(&batch, 1 << 20).unwrap();
        assert!(pieces.len() >= 2);
        for piece in pieces {
            let n = piece.builder.count();
            assert!(n < count);
            let bytes = piece
                .builder
                .encode(
                    Compression::Gzip,
                    &CompressionLevels::default(),
                    Stamp::NONE,
                )
                .unwrap();
            batches.push((bytes, n));
        }
    }
    assert_eq!(singles, 7);
}

#[test]
fn varints_read_back_what_was_written() {
    for n in [
        0i64,
        1,
        -1,
        63,
        -64,
        300,
        i64::from(i32::MAX),
        i64::MIN,
        i64::MAX,
    ] {
        let mut buf = bytes::BytesMut::new();
        let mut builder = BatchBuilder::new(0);
        // A record whose timestamp delta is `n`: its length, attributes and delta varints.
        builder.append_encoded(0, 0, &[]);
        builder.append_encoded(n, 0, &[]);
        let encoded = builder
            .encode(
                Compression::None,
                &CompressionLevels::default(),
                Stamp::NONE,
            )
            .unwrap();
        buf.extend_from_slice(&encoded[HEADER_SIZE..]);
        let mut at = 0;
        // The first record: length 3, attributes 0 (one byte, read as the varint 0), deltas 0.
        for expected in [3, 0, 0, 0] {
            assert_eq!(get_varint(&buf, &mut at).unwrap(), expected);
        }
        get_varint(&buf, &mut at).unwrap(); // the second record's length
        assert_eq!(buf[at], 0); // its attributes
        at += 1;
        assert_eq!(get_varint(&buf, &mut at).unwrap(), n);
        assert_eq!(get_varint(&buf, &mut at).unwrap(), 1);
        assert_eq!(at, buf.len());
    }
    assert!(get_varint(&[0x80], &mut 0).is_err());
}
