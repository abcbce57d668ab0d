use bytes::{BufMut, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType as WireTimestamp,
};
use proptest::prelude::*;

use super::*;

const OPTIONS: DecodeOptions = DecodeOptions { check_crcs: true };

fn topic() -> Arc<str> {
    Arc::from("t")
}

fn record(
    offset: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&str, Option<&[u8]>)],
) -> Record {
    Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: 5,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: WireTimestamp::Creation,
        offset,
        sequence: offset as i32,
        timestamp: 1_600_000_000_000 + offset * 10,
        key: key.map(Bytes::copy_from_slice),
        value: value.map(Bytes::copy_from_slice),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    StrBytes::from_string((*k).into()),
                    v.map(Bytes::copy_from_slice),
                )
            })
            .collect::<IndexMap<_, _>>(),
    }
}

fn encode(records: &[Record], compression: Compression) -> Bytes {
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut buf, records.iter(), &options).unwrap();
    buf.freeze()
}

fn sample() -> Vec<Record> {
    (0..10)
        .map(|i| {
            let key = format!("key-{i}");
            let value = format!("value-{i}-").repeat(i as usize + 1);
            record(
                i,
                (i % 4 != 1).then_some(key.as_bytes()),
                (i % 5 != 2).then_some(value.as_bytes()),
                if i % 3 == 0 {
                    &[("a", Some(b"x")), ("b", None)]
                } else {
                    &[]
                },
            )
        })
        .collect()
}

fn assert_same(decoded: &ConsumerRecord, expected: &Record) {
    assert_eq!(&*decoded.topic, "t");
    assert_eq!(decoded.partition, 2);
    assert_eq!(decoded.offset, expected.offset);
    assert_eq!(decoded.timestamp, expected.timestamp);
    assert_eq!(decoded.timestamp_type, TimestampType::CreateTime);
    assert_eq!(decoded.key, expected.key);
    assert_eq!(decoded.value, expected.value);
    assert_eq!(decoded.leader_epoch, Some(5));
    let headers: Vec<(StrBytes, Option<Bytes>)> = expected.headers.clone().into_iter().collect();
    let got: Vec<(StrBytes, Option<Bytes>)> = decoded
        .headers
        .iter()
        .map(|h| (h.key.clone(), h.value.clone()))
        .collect();
    assert_eq!(got, headers);
}

#[test]
fn decodes_every_compression() {
    let records = sample();
    for compression in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let data = encode(&records, compression);
        let decoded = decode(&topic(), 2, &data, 0, None, OPTIONS).unwrap();
        assert_eq!(decoded.records.len(), records.len(), "{compression:?}");
        for (d, r) in decoded.records.iter().zip(&records) {
            assert_same(d, r);
        }
        assert_eq!(extent(&data).unwrap().map(|e| e.next), Some(10));
    }
}

#[test]
fn uncompressed_payloads_are_slices_of_the_fetched_bytes() {
    let data = encode(&sample(), Compression::None);
    let decoded = decode(&topic(), 2, &data, 0, None, OPTIONS).unwrap();
    let range = data.as_ptr_range();
    for record in &decoded.records {
        for payload in record.value.iter().chain(&record.key) {
            assert!(range.contains(&payload.as_ptr()), "payload was copied");
        }
    }
}

#[test]
fn skips_records_before_the_fetch_offset() {
    let data = encode(&sample(), Compression::Lz4);
    let decoded = decode(&topic(), 2, &data, 7, None, OPTIONS).unwrap();
    let offsets: Vec<i64> = decoded.records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [7, 8, 9]);
    assert_eq!(
        extent(&data).unwrap(),
        Some(Extent {
            first: 0,
            next: 10,
            batches: 1,
            largest: 10,
        })
    );
    // A fetch offset past the batch: nothing, but the position still moves past it.
    let decoded = decode(&topic(), 2, &data, 10, None, OPTIONS).unwrap();
    assert!(decoded.records.is_empty());
    assert_eq!(extent(&data).unwrap().map(|e| e.next), Some(10));
}

#[test]
fn stops_at_a_partial_trailing_batch() {
    let records = sample();
    let first = encode(&records[..4], Compression::None);
    let second = encode(&records[4..], Compression::None);
    let mut data = BytesMut::new();
    data.put_slice(&first);
    data.put_slice(&second[..second.len() - 1]);
    let data = data.freeze();
    let decoded = decode(&topic(), 2, &data, 0, None, OPTIONS).unwrap();
    assert_eq!(decoded.records.len(), 4);
    assert_eq!(
        extent(&data).unwrap(),
        Some(Extent {
            first: 0,
            next: 4,
            batches: 1,
            largest: 4,
        })
    );
    let partial = data.slice(first.len()..first.len() + 30);
    let decoded = decode(&topic(), 2, &partial, 4, None, OPTIONS).unwrap();
    assert!(decoded.records.is_empty());
    assert_eq!(extent(&partial).unwrap(), None);
}

#[test]
fn an_extent_has_a_stride_when_its_batches_cover_as_many_offsets() {
    let records = sample();
    let joined = |parts: &[&[_]]| {
        let mut data = BytesMut::new();
        for part in parts {
            data.put_slice(&encode(part, Compression::None));
        }
        extent(&data.freeze()).unwrap().unwrap()
    };
    let even = joined(&[&records[..5], &records[5..]]);
    assert_eq!((even.first, even.next, even.batches), (0, 10, 2));
    assert_eq!((even.largest, even.stride()), (5, Some(5)));
    let uneven = joined(&[&records[..4], &records[4..8], &records[8..]]);
    assert_eq!(
        (uneven.batches, uneven.largest, uneven.stride()),
        (3, 4, None)
    );
}

#[test]
fn checks_crcs_unless_told_not_to() {
    let data = encode(&sample(), Compression::None);
    let mut bad = data.to_vec();
    let at = bad.windows(8).position(|w| w == b"value-9-").unwrap();
    bad[at] ^= 0x01;
    let bad = Bytes::from(bad);
    let error = decode(&topic(), 2, &bad, 0, None, OPTIONS).unwrap_err();
    assert_eq!(error.kafka_code(), Some(KafkaCode::CorruptMessage));
    let lax = DecodeOptions { check_crcs: false };
    assert_eq!(
        decode(&topic(), 2, &bad, 0, None, lax)
            .unwrap()
            .records
            .len(),
        10
    );
}

#[test]
fn rejects_legacy_message_formats() {
    let mut data = encode(&sample(), Compression::None).to_vec();
    data[16] = 1;
    let error = decode(&topic(), 2, &Bytes::from(data), 0, None, OPTIONS).unwrap_err();
    assert!(matches!(error, Error::Protocol(_)), "{error}");
}

/// A transactional batch of `producer_id` at `offsets`, or its control marker.
fn transactional(producer_id: i64, offsets: std::ops::Range<i64>, marker: Option<i16>) -> Bytes {
    let records: Vec<Record> = offsets
        .map(|o| {
            let control_key = marker.map(|kind| {
                let mut key = vec![0, 0];
                key.extend_from_slice(&kind.to_be_bytes());
                key
            });
            let mut r = record(o, control_key.as_deref().or(Some(b"k")), Some(b"v"), &[]);
            r.transactional = true;
            r.control = marker.is_some();
            r.producer_id = producer_id;
            r.producer_epoch = 0;
            r
        })
        .collect();
    encode(&records, Compression::None)
}

fn concat(parts: &[Bytes]) -> Bytes {
    let mut data = BytesMut::new();
    for part in parts {
        data.put_slice(part);
    }
    data.freeze()
}

#[test]
fn read_committed_drops_aborted_transactions_and_control_batches() {
    let data = concat(&[
        transactional(7, 0..3, None),
        transactional(8, 3..5, None),
        transactional(7, 5..6, Some(0)), // abort of producer 7
        transactional(8, 6..7, Some(1)), // commit of producer 8
        encode(&[record(7, Some(b"k"), Some(b"v"), &[])], Compression::None),
        transactional(7, 8..9, None), // a later transaction of 7, not aborted
    ]);
    let aborted = [Aborted {
        producer_id: 7,
        first_offset: 0,
    }];
    let offsets = |decoded: Decoded| decoded.records.iter().map(|r| r.offset).collect::<Vec<_>>();
    let committed = decode(&topic(), 0, &data, 0, Some(&aborted), OPTIONS).unwrap();
    assert_eq!(extent(&data).unwrap().map(|e| e.next), Some(9));
    assert_eq!(offsets(committed), [3, 4, 7, 8]);
    let everything = decode(&topic(), 0, &data, 0, None, OPTIONS).unwrap();
    assert_eq!(offsets(everything), [0, 1, 2, 3, 4, 7, 8]);
}

/// A v2 batch assembled by hand from raw record bytes.
fn raw_batch(
    base_offset: i64,
    attributes: i16,
    count: i32,
    max_timestamp: i64,
    records: &[u8],
) -> Bytes {
    let mut body = BytesMut::new();
    body.put_i16(attributes);
    body.put_i32(count - 1);
    body.put_i64(1000); // base timestamp
    body.put_i64(max_timestamp);
    body.put_i64(-1);
    body.put_i16(-1);
    body.put_i32(-1);
    body.put_i32(count);
    body.put_slice(records);
    let mut batch = BytesMut::new();
    batch.put_i64(base_offset);
    batch.put_i32(i32::try_from(4 + 1 + 4 + body.len()).unwrap());
    batch.put_i32(-1);
    batch.put_i8(2);
    batch.put_u32(crc32c::crc32c(&body));
    batch.put_slice(&body);
    batch.freeze()
}

fn varint(buf: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

#[test]
fn keeps_duplicate_headers_in_order_and_log_append_time() {
    let mut body = Vec::new();
    varint(&mut body, 0); // attributes
    varint(&mut body, 5); // timestamp delta
    varint(&mut body, 0); // offset delta
    varint(&mut body, -1); // null key
    varint(&mut body, 1);
    body.push(b'v');
    varint(&mut body, 3);
    for (key, value) in [("h", Some(&b"1"[..])), ("h", None), ("h", Some(&b"3"[..]))] {
        varint(&mut body, key.len() as i64);
        body.extend_from_slice(key.as_bytes());
        match value {
            Some(v) => {
                varint(&mut body, v.len() as i64);
                body.extend_from_slice(v);
            }
            None => varint(&mut body, -1),
        }
    }
    // The record's attributes are one byte, not a varint; for zero both encode the same.
    let mut records = Vec::new();
    varint(&mut records, body.len() as i64);
    records.extend_from_slice(&body);
    let data = raw_batch(40, 0x08, 1, 9999, &records);
    let decoded = decode(&topic(), 0, &data, 0, None, OPTIONS).unwrap();
    let r = &decoded.records[0];
    assert_eq!(r.offset, 40);
    assert_eq!(r.timestamp, 9999);
    assert_eq!(r.timestamp_type, TimestampType::LogAppendTime);
    assert_eq!(r.key, None);
    assert_eq!(r.leader_epoch, None);
    let headers: Vec<(&str, Option<&[u8]>)> = r
        .headers
        .iter()
        .map(|h| (h.key.as_str(), h.value.as_deref()))
        .collect();
    assert_eq!(
        headers,
        [("h", Some(&b"1"[..])), ("h", None), ("h", Some(&b"3"[..]))]
    );
    assert_eq!(extent(&data).unwrap().map(|e| e.next), Some(41));
}

proptest! {
    #[test]
    fn decodes_what_kafka_protocol_encodes(
        payloads in prop::collection::vec(
            (
                prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
                prop::option::of(prop::collection::vec(any::<u8>(), 0..200)),
                prop::collection::vec(("[a-z]{1,5}", prop::option::of(prop::collection::vec(any::<u8>(), 0..10))), 0..4),
            ),
            1..30,
        ),
        base in 0i64..1_000_000,
        skip in 0usize..30,
    ) {
        let records: Vec<Record> = payloads
            .iter()
            .enumerate()
            .map(|(i, (k, v, h))| {
                let headers: Vec<(&str, Option<&[u8]>)> =
                    h.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
                record(base + i as i64, k.as_deref(), v.as_deref(), &headers)
            })
            .collect();
        let data = encode(&records, Compression::None);
        let fetch_offset = base + skip as i64;
        let decoded = decode(&topic(), 2, &data, fetch_offset, None, OPTIONS).unwrap();
        let expected: Vec<&Record> = records.iter().filter(|r| r.offset >= fetch_offset).collect();
        prop_assert_eq!(decoded.records.len(), expected.len());
        for (d, r) in decoded.records.iter().zip(expected) {
            assert_same(d, r);
        }
        prop_assert_eq!(extent(&data).unwrap().map(|e| (e.first, e.next)), Some((base, base + records.len() as i64)));
    }
}

#[test]
fn snappy_lengths_beyond_any_expansion_are_corrupt() {
    let data = encode(&sample(), Compression::Snappy);
    check_snappy(&data[BATCH_HEADER..]).unwrap();
    // The first block's declared length (after the 16-byte framing header and the block size)
    // becomes 4 GiB; without the check kafka-protocol allocates it before decompressing.
    let mut corrupt = data.to_vec();
    let at = BATCH_HEADER + 16 + 4;
    corrupt[at..at + 5].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    let options = DecodeOptions { check_crcs: false };
    let err = decode(&topic(), 2, &Bytes::from(corrupt), 0, None, options).unwrap_err();
    assert!(err.to_string().contains("claims 4294967295"), "{err}");
    // Unframed (raw) snappy: the length is the first varint.
    assert!(check_snappy(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]).is_err());
    assert!(check_snappy(&[0x0b, 0x28, b'h', b'e', b'l', b'l', b'o']).is_ok());
}
