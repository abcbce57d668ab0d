//! Record batches (format v2, magic 2), written record by record as `send` appends them.
//!
//! Records are encoded straight into one growing buffer as they arrive, the way Java's
//! `MemoryRecordsBuilder` does, rather than collected as `kafka_protocol::records::Record`s
//! and encoded later with `RecordBatchEncoder`: that would allocate a record struct and a header
//! map per record and walk every batch twice. The batch header is written when the batch is
//! first sent, once the producer id, epoch and base sequence are known; compression happens
//! then too, outside the producer's lock, through `kafka_protocol`'s compressors.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;

use super::compress::compress;
use super::config::{Compression, CompressionLevels};
use crate::error::{Error, Result};

/// Size of the v2 batch header, up to and including the record count.
pub(crate) const HEADER_SIZE: usize = 61;
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;

/// Producer id, epoch and base sequence written into a batch header; -1 / -1 / -1 when the
/// producer is not idempotent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
}

impl Stamp {
    pub(crate) const NONE: Stamp = Stamp {
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
    };
}

/// Records of one partition being accumulated, not yet framed as a batch.
#[derive(Debug)]
pub(crate) struct BatchBuilder {
    /// Room for the header, then the records: an uncompressed batch is sent without a copy.
    buf: BytesMut,
    count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
}

impl BatchBuilder {
    pub(crate) fn new(capacity: usize) -> Self {
        let mut buf = BytesMut::with_capacity(HEADER_SIZE + capacity);
        buf.put_bytes(0, HEADER_SIZE);
        Self {
            buf,
            count: 0,
            base_timestamp: 0,
            max_timestamp: i64::MIN,
        }
    }

    /// Records appended so far.
    pub(crate) fn count(&self) -> i32 {
        self.count
    }

    /// Uncompressed size of the batch with its header.
    pub(crate) fn size(&self) -> usize {
        self.buf.len()
    }

    /// Appends one record and returns its offset delta within the batch.
    pub(crate) fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(StrBytes, Option<Bytes>)],
    ) -> i32 {
        // Record attributes are unused by format v2: 0.
        let offset_delta = self.begin_record(timestamp, 0, fields_size(key, value, headers));
        let buf = &mut self.buf;
        put_bytes(buf, key);
        put_bytes(buf, value);
        put_varint(buf, headers.len() as i64);
        for (name, value) in headers {
            put_bytes(buf, Some(name.as_bytes()));
            put_bytes(buf, value.as_deref());
        }
        offset_delta
    }

    /// Appends a record read back from an encoded batch: `fields` (its key, value and
    /// headers, as encoded) are copied as they are, only the length and the deltas, which are
    /// relative to this batch, are written anew. Returns its offset delta within the batch.
    pub(crate) fn append_encoded(&mut self, timestamp: i64, attributes: u8, fields: &[u8]) -> i32 {
        let offset_delta = self.begin_record(timestamp, attributes, fields.len());
        self.buf.put_slice(fields);
        offset_delta
    }

    /// Writes a record's length, attributes and deltas, leaving room for `fields` more bytes.
    fn begin_record(&mut self, timestamp: i64, attributes: u8, fields: usize) -> i32 {
        if self.count == 0 {
            self.base_timestamp = timestamp;
        }
        self.max_timestamp = self.max_timestamp.max(timestamp);
        let offset_delta = self.count;
        let timestamp_delta = timestamp.wrapping_sub(self.base_timestamp);
        let body = 1 + varint_size(timestamp_delta) + varint_size(i64::from(offset_delta)) + fields;
        let buf = &mut self.buf;
        buf.reserve(body + 5);
        put_varint(buf, body as i64);
        buf.put_u8(attributes);
        put_varint(buf, timestamp_delta);
        put_varint(buf, i64::from(offset_delta));
        self.count += 1;
        offset_delta
    }

    /// Frames the records as a batch: header, (compressed) records, CRC.
    pub(crate) fn encode(
        self,
        compression: Compression,
        levels: &CompressionLevels,
        stamp: Stamp,
    ) -> Result<Bytes> {
        let mut out = match compression {
            Compression::None => self.buf,
            codec => {
                let mut buf = self.buf;
                let records = buf.split_off(HEADER_SIZE);
                let mut out = BytesMut::with_capacity(HEADER_SIZE + records.len() / 2);
                out.put_bytes(0, HEADER_SIZE);
                compress(codec, levels, records, &mut out)?;
                out
            }
        };
        let header = &mut out[..HEADER_SIZE];
        header[0..8].copy_from_slice(&0i64.to_be_bytes()); // base offset: set by the broker
        let length = i32::try_from(out.len() - 12)
            .map_err(|_| Error::InvalidRequest("record batch larger than 2 GiB".into()))?;
        let header = &mut out[..HEADER_SIZE];
        header[8..12].copy_from_slice(&length.to_be_bytes());
        header[12..16].copy_from_slice(&(-1i32).to_be_bytes()); // partition leader epoch
        header[16] = 2; // magic
        header[21..23].copy_from_slice(&compression.attribute().to_be_bytes());
        header[23..27].copy_from_slice(&(self.count - 1).to_be_bytes());
        header[27..35].copy_from_slice(&self.base_timestamp.to_be_bytes());
        header[35..43].copy_from_slice(&self.max_timestamp.to_be_bytes());
        header[57..61].copy_from_slice(&self.count.to_be_bytes());
        Ok(restamp_in_place(out, stamp))
    }
}

/// A copy of an encoded batch with another producer id, epoch and base sequence (after the
/// producer id was reset), CRC updated.
pub(crate) fn restamp(batch: &Bytes, stamp: Stamp) -> Bytes {
    restamp_in_place(BytesMut::from(&batch[..]), stamp)
}

fn restamp_in_place(mut batch: BytesMut, stamp: Stamp) -> Bytes {
    batch[43..51].copy_from_slice(&stamp.producer_id.to_be_bytes());
    batch[51..53].copy_from_slice(&stamp.producer_epoch.to_be_bytes());
    batch[53..57].copy_from_slice(&stamp.base_sequence.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
    batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    batch.freeze()
}

/// Upper bound of the bytes one record adds to a batch, for memory accounting and size checks
/// before it is appended.
pub(crate) fn record_size_bound(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(StrBytes, Option<Bytes>)],
) -> usize {
    // Varints of the length, timestamp delta and offset delta are at most 5 + 10 + 5 bytes,
    // plus one byte of attributes.
    5 + 1 + 10 + 5 + fields_size(key, value, headers)
}

/// Bytes of a record's key, value and headers, the part after its deltas.
fn fields_size(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(StrBytes, Option<Bytes>)],
) -> usize {
    let mut size = bytes_size(key) + bytes_size(value);
    size += varint_size(headers.len() as i64);
    for (name, value) in headers {
        size += bytes_size(Some(name.as_bytes())) + bytes_size(value.as_deref());
    }
    size
}

fn bytes_size(data: Option<&[u8]>) -> usize {
    match data {
        None => 1,
        Some(d) => varint_size(d.len() as i64) + d.len(),
    }
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn varint_size(n: i64) -> usize {
    let bits = 64 - zigzag(n).leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Kafka's zig-zag varint (`varint` and `varlong` share the encoding).
fn put_varint(buf: &mut BytesMut, n: i64) {
    let mut v = zigzag(n);
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

fn put_bytes(buf: &mut BytesMut, data: Option<&[u8]>) {
    match data {
        None => put_varint(buf, -1),
        Some(d) => {
            put_varint(buf, d.len() as i64);
            buf.put_slice(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::records::{RecordBatchDecoder, TimestampType};

    fn headers() -> Vec<(StrBytes, Option<Bytes>)> {
        vec![
            (
                StrBytes::from_static_str("h1"),
                Some(Bytes::from_static(b"v1")),
            ),
            (StrBytes::from_static_str("h2"), None),
        ]
    }

    #[test]
    fn varints_match_kafkas_zigzag() {
        let mut buf = BytesMut::new();
        for n in [0i64, -1, 1, 63, -64, 64, 300, i64::MAX, i64::MIN] {
            buf.clear();
            put_varint(&mut buf, n);
            assert_eq!(buf.len(), varint_size(n), "{n}");
        }
        buf.clear();
        put_varint(&mut buf, 300);
        assert_eq!(&buf[..], &[0xd8, 0x04]);
        buf.clear();
        put_varint(&mut buf, -1);
        assert_eq!(&buf[..], &[0x01]);
    }

    /// One record `key=k, value=v`, no headers, at the batch's base timestamp: the bytes
    /// Java's `DefaultRecord.writeTo` produces.
    #[test]
    fn record_bytes_are_kafkas() {
        let mut builder = BatchBuilder::new(64);
        builder.append(1000, Some(b"k"), Some(b"v"), &[]);
        assert_eq!(
            &builder.buf[HEADER_SIZE..],
            &[0x10, 0x00, 0x00, 0x00, 0x02, b'k', 0x02, b'v', 0x00]
        );
    }

    #[test]
    fn batches_decode_with_every_compression() {
        for compression in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut builder = BatchBuilder::new(64);
            builder.append(1_000, Some(b"key"), Some(b"value"), &headers());
            builder.append(990, None, None, &[]);
            builder.append(1_010, Some(b""), Some(&[7u8; 300]), &[]);
            let stamp = Stamp {
                producer_id: 42,
                producer_epoch: 3,
                base_sequence: 17,
            };
            let mut bytes = builder
                .encode(compression, &CompressionLevels::default(), stamp)
                .unwrap();
            let set = RecordBatchDecoder::decode(&mut bytes).unwrap();
            assert_eq!(set.records.len(), 3, "{compression:?}");
            let r = &set.records;
            assert_eq!(r[0].key.as_deref(), Some(&b"key"[..]));
            assert_eq!(r[0].value.as_deref(), Some(&b"value"[..]));
            assert_eq!(r[0].headers.len(), 2);
            assert_eq!(r[0].headers[&StrBytes::from_static_str("h2")], None);
            assert_eq!(r[0].timestamp, 1_000);
            assert_eq!(r[0].timestamp_type, TimestampType::Creation);
            assert_eq!((r[1].key.clone(), r[1].value.clone()), (None, None));
            assert_eq!(r[1].timestamp, 990);
            assert_eq!(r[2].value.as_deref(), Some(&[7u8; 300][..]));
            assert_eq!((r[2].offset, r[2].sequence), (2, 19));
            assert_eq!((r[2].producer_id, r[2].producer_epoch), (42, 3));
        }
    }

    #[test]
    fn header_fields_and_restamp() {
        let mut builder = BatchBuilder::new(64);
        builder.append(5, Some(b"a"), Some(b"b"), &[]);
        builder.append(9, Some(b"a"), Some(b"b"), &[]);
        let bytes = builder
            .encode(
                Compression::None,
                &CompressionLevels::default(),
                Stamp::NONE,
            )
            .unwrap();
        assert_eq!(
            i32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize,
            bytes.len() - 12
        );
        assert_eq!(i32::from_be_bytes(bytes[23..27].try_into().unwrap()), 1); // last offset delta
        assert_eq!(i64::from_be_bytes(bytes[35..43].try_into().unwrap()), 9); // max timestamp
        let stamp = Stamp {
            producer_id: 7,
            producer_epoch: 0,
            base_sequence: 100,
        };
        let mut restamped = restamp(&bytes, stamp);
        let set = RecordBatchDecoder::decode(&mut restamped).unwrap();
        assert_eq!(
            (set.records[1].producer_id, set.records[1].sequence),
            (7, 101)
        );
    }

    #[test]
    fn size_bound_covers_the_encoding() {
        let mut builder = BatchBuilder::new(0);
        let h = headers();
        builder.append(0, Some(b"k"), None, &[]);
        let before = builder.buf.len();
        builder.append(i64::MAX / 2, Some(b"key"), Some(b"value"), &h);
        let added = builder.buf.len() - before;
        assert!(added <= record_size_bound(Some(b"key"), Some(b"value"), &h));
    }
}
