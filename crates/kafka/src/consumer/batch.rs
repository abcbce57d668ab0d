//! Decoding the record batches (message format v2) of one partition of a fetch response into
//! [`ConsumerRecord`]s whose payloads are slices of the response, with Java's consumer rules:
//! records before the fetch offset are skipped, control batches are never handed out, and
//! `read_committed` drops the batches of aborted transactions.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::compression::{Decompressor, Gzip, Lz4, Snappy, Zstd};
use kafka_protocol::protocol::StrBytes;

use super::record::{ConsumerRecord, Header, TimestampType};
use crate::error::{Error, KafkaCode};

/// Bytes before the first record of a v2 batch.
const BATCH_HEADER: usize = 61;
/// Bytes before the batch length field ends: base offset and length itself.
const LOG_OVERHEAD: usize = 12;
/// Where the CRC-covered part of a batch starts (the attributes).
const CRC_START: usize = 21;
/// The smallest encoded record: a one-byte length and six one-byte fields (attributes,
/// timestamp and offset deltas, key and value lengths, header count).
const MIN_RECORD: usize = 7;

/// An aborted transaction as listed by the fetch response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Aborted {
    pub producer_id: i64,
    pub first_offset: i64,
}

/// What one partition's records decode to.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    /// Records at or after the fetch offset, in offset order.
    pub records: Vec<ConsumerRecord>,
}

/// How to decode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecodeOptions {
    /// `check.crcs`.
    pub check_crcs: bool,
}

/// Decodes every complete batch of `data` (a trailing partial batch is normal: the broker cuts
/// responses at the size limits); [`next_offset`] says where the next fetch starts. `aborted`
/// is `Some` under `read_committed`.
pub(crate) fn decode(
    topic: &Arc<str>,
    partition: i32,
    data: &Bytes,
    fetch_offset: i64,
    aborted: Option<&[Aborted]>,
    options: DecodeOptions,
) -> Result<Decoded, Error> {
    let mut out = Decoded::default();
    let mut transactions = aborted.map(Transactions::new);
    let mut at = 0;
    while let Some(batch) = next_batch(data, at)? {
        at += batch.len();
        let header = BatchHeader::parse(&batch)?;
        if header.last_offset() < fetch_offset {
            continue;
        }
        if options.check_crcs {
            let actual = crc32c::crc32c(&batch[CRC_START..]);
            if actual != header.crc {
                return Err(corrupt(format!(
                    "{topic}-{partition}: batch at offset {} has CRC {actual:#010x}, expected {:#010x}",
                    header.base_offset, header.crc
                )));
            }
        }
        let records = header.records(&batch)?;
        if let Some(transactions) = &mut transactions
            && transactions.skip(&header, &records)?
        {
            continue;
        }
        if header.is_control() {
            continue;
        }
        let context = RecordContext {
            topic,
            partition,
            header: &header,
        };
        let mut cursor = Cursor::new(&records);
        // The count comes off the wire: reserve no more than the bytes can hold.
        let count = usize::try_from(header.record_count).unwrap_or(0);
        out.records.reserve(count.min(records.len() / MIN_RECORD));
        for _ in 0..header.record_count {
            let record = context.record(&mut cursor)?;
            if record.offset >= fetch_offset {
                out.records.push(record);
            }
        }
    }
    Ok(out)
}

/// Where the complete batches of a fetched answer lie, from their headers alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    /// The first batch's base offset (it can lie before the fetch offset).
    pub first: i64,
    /// The offset after the last batch: what [`decode`] will report as `next_offset`.
    pub next: i64,
    pub batches: usize,
    /// The most offsets one batch covers.
    pub largest: i64,
}

impl Extent {
    /// The offsets every batch covers, when they all cover as many.
    pub fn stride(&self) -> Option<i64> {
        let batches = i64::try_from(self.batches).ok()?;
        (self.largest.checked_mul(batches) == Some(self.next - self.first)).then_some(self.largest)
    }
}

/// The [`Extent`] of the complete batches of `data` (`None` when there is none), from the batch
/// headers alone (no CRC check, no decompression): known before the records are decoded, so
/// that the next fetch can be sent first.
pub(crate) fn extent(data: &Bytes) -> Result<Option<Extent>, Error> {
    let mut extent: Option<Extent> = None;
    let mut at = 0;
    while let Some(batch) = next_batch(data, at)? {
        at += batch.len();
        let header = BatchHeader::parse(&batch)?;
        let next = header.last_offset() + 1;
        let covers = next - header.base_offset;
        extent = Some(match extent {
            None => Extent {
                first: header.base_offset,
                next,
                batches: 1,
                largest: covers,
            },
            Some(e) => Extent {
                next,
                batches: e.batches + 1,
                largest: e.largest.max(covers),
                ..e
            },
        });
    }
    Ok(extent)
}

fn corrupt(message: String) -> Error {
    Error::Kafka {
        code: KafkaCode::CorruptMessage,
        message: Some(message),
    }
}

/// The next complete batch starting at `at`, or `None` at the end or at a partial batch.
fn next_batch(data: &Bytes, at: usize) -> Result<Option<Bytes>, Error> {
    let rest = &data[at..];
    if rest.len() < LOG_OVERHEAD {
        return Ok(None);
    }
    let length = i32::from_be_bytes(rest[8..12].try_into().expect("4 bytes"));
    let length =
        usize::try_from(length).map_err(|_| corrupt(format!("record batch length {length}")))?;
    if rest.len() < LOG_OVERHEAD + length {
        return Ok(None);
    }
    Ok(Some(data.slice(at..at + LOG_OVERHEAD + length)))
}

/// The fixed fields of a v2 batch.
#[derive(Debug)]
struct BatchHeader {
    base_offset: i64,
    leader_epoch: i32,
    crc: u32,
    attributes: i16,
    last_offset_delta: i32,
    base_timestamp: i64,
    max_timestamp: i64,
    producer_id: i64,
    record_count: i32,
}

impl BatchHeader {
    fn parse(batch: &[u8]) -> Result<Self, Error> {
        let magic = batch.get(16).copied().map(|m| m as i8);
        if magic != Some(2) {
            return Err(Error::Protocol(format!(
                "record batch with magic {magic:?}: only message format v2 is supported"
            )));
        }
        if batch.len() < BATCH_HEADER {
            return Err(corrupt(format!("record batch of {} bytes", batch.len())));
        }
        let i16_at = |i: usize| i16::from_be_bytes(batch[i..i + 2].try_into().expect("2"));
        let i32_at = |i: usize| i32::from_be_bytes(batch[i..i + 4].try_into().expect("4"));
        let i64_at = |i: usize| i64::from_be_bytes(batch[i..i + 8].try_into().expect("8"));
        Ok(Self {
            base_offset: i64_at(0),
            leader_epoch: i32_at(12),
            crc: u32::from_be_bytes(batch[17..21].try_into().expect("4")),
            attributes: i16_at(21),
            last_offset_delta: i32_at(23),
            base_timestamp: i64_at(27),
            max_timestamp: i64_at(35),
            producer_id: i64_at(43),
            record_count: i32_at(57),
        })
    }

    fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }

    fn is_transactional(&self) -> bool {
        self.attributes & 0x10 != 0
    }

    fn is_control(&self) -> bool {
        self.attributes & 0x20 != 0
    }

    fn timestamp_type(&self) -> TimestampType {
        if self.attributes & 0x08 != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// The batch's records section, decompressed once if the batch is compressed.
    fn records(&self, batch: &Bytes) -> Result<Bytes, Error> {
        let mut body = batch.slice(BATCH_HEADER..);
        let take = |b: &mut Bytes| Ok(std::mem::take(b));
        let decompressed = match self.attributes & 0x07 {
            0 => return Ok(body),
            1 => Gzip::decompress(&mut body, take),
            2 => match check_snappy(&body) {
                Ok(()) => Snappy::decompress(&mut body, take),
                Err(e) => Err(anyhow::anyhow!(e)),
            },
            3 => Lz4::decompress(&mut body, take),
            4 => Zstd::decompress(&mut body, take),
            other => {
                return Err(corrupt(format!("unknown compression type {other}")));
            }
        };
        decompressed.map_err(|e| {
            corrupt(format!(
                "cannot decompress batch at offset {}: {e:#}",
                self.base_offset
            ))
        })
    }
}

/// The most bytes one byte of snappy data can expand to: a three-byte copy element yields at
/// most 64 bytes.
const SNAPPY_MAX_EXPANSION: usize = 22;

/// Checks the uncompressed lengths a snappy payload declares (in xerial-framed blocks, or as
/// one raw block) against what its compressed bytes could possibly expand to. kafka-protocol
/// allocates a buffer of the declared length before decompressing, so a corrupt length of up
/// to 4 GiB would otherwise be allocated, or abort the process when it cannot be.
fn check_snappy(body: &[u8]) -> Result<(), String> {
    // The framing's magic, version 1 and compatible version 1, as kafka-protocol matches it.
    const XERIAL_HEADER: &[u8] = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";
    let check_block = |block: &[u8]| {
        let mut declared = 0u64;
        for (i, b) in block.iter().take(5).enumerate() {
            declared |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                break;
            }
        }
        let most = block.len().saturating_mul(SNAPPY_MAX_EXPANSION);
        if declared > most as u64 {
            return Err(format!(
                "snappy block of {} bytes claims {declared} uncompressed bytes",
                block.len()
            ));
        }
        Ok(())
    };
    let Some(mut rest) = body.strip_prefix(XERIAL_HEADER) else {
        return check_block(body);
    };
    while let Some((size, after)) = rest.split_first_chunk::<4>() {
        let size = u32::from_be_bytes(*size) as usize;
        // A block running past the end is the decompressor's error to report.
        let block = after.get(..size).unwrap_or(after);
        check_block(block)?;
        rest = &after[block.len()..];
    }
    Ok(())
}

/// Java's aborted-transaction bookkeeping for one partition under `read_committed`.
struct Transactions {
    /// Aborted transactions not yet reached, by first offset.
    pending: BTreeMap<i64, Vec<i64>>,
    /// Producers whose open transaction is known to be aborted.
    aborted: HashSet<i64>,
}

impl Transactions {
    fn new(list: &[Aborted]) -> Self {
        let mut pending: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for a in list {
            pending
                .entry(a.first_offset)
                .or_default()
                .push(a.producer_id);
        }
        Self {
            pending,
            aborted: HashSet::new(),
        }
    }

    /// Whether the batch must be skipped because its transaction was aborted. Abort markers
    /// end a producer's aborted transaction.
    fn skip(&mut self, header: &BatchHeader, records: &Bytes) -> Result<bool, Error> {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > header.last_offset() {
                break;
            }
            self.aborted.extend(entry.remove());
        }
        if header.is_control() {
            if header.is_transactional() && is_abort_marker(records)? {
                self.aborted.remove(&header.producer_id);
            }
            return Ok(false);
        }
        Ok(header.is_transactional() && self.aborted.contains(&header.producer_id))
    }
}

/// Whether a control batch's (single) record is an ABORT marker: its key is
/// `version: i16, type: i16` with type 0 for ABORT and 1 for COMMIT.
fn is_abort_marker(records: &Bytes) -> Result<bool, Error> {
    let mut cursor = Cursor::new(records);
    cursor.varint()?; // record length
    cursor.skip(1)?; // attributes
    cursor.varlong()?; // timestamp delta
    cursor.varint()?; // offset delta
    let key = cursor
        .bytes()?
        .ok_or_else(|| corrupt("control record without key".into()))?;
    let kind = key
        .get(2..4)
        .map(|b| i16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| corrupt(format!("control record key of {} bytes", key.len())))?;
    Ok(kind == 0)
}

/// What every record of one batch shares.
struct RecordContext<'a> {
    topic: &'a Arc<str>,
    partition: i32,
    header: &'a BatchHeader,
}

impl RecordContext<'_> {
    fn record(&self, cursor: &mut Cursor<'_>) -> Result<ConsumerRecord, Error> {
        let length = usize::try_from(cursor.varint()?)
            .map_err(|_| corrupt("negative record length".into()))?;
        let end = cursor.at + length;
        cursor.skip(1)?; // attributes: unused in v2
        let timestamp_delta = cursor.varlong()?;
        let offset_delta = cursor.varint()?;
        let key = cursor.bytes()?;
        let value = cursor.bytes()?;
        let count = cursor.varint()?;
        let mut headers = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(64));
        for _ in 0..count {
            let key = cursor
                .bytes()?
                .ok_or_else(|| corrupt("null header key".into()))?;
            let key = StrBytes::from_utf8(key.clone()).unwrap_or_else(|_| {
                StrBytes::from_string(String::from_utf8_lossy(&key).into_owned())
            });
            headers.push(Header {
                key,
                value: cursor.bytes()?,
            });
        }
        if cursor.at != end {
            return Err(corrupt(format!(
                "record of {length} bytes ends at {} of its bytes",
                length + cursor.at - end
            )));
        }
        let header = self.header;
        let timestamp_type = header.timestamp_type();
        Ok(ConsumerRecord {
            topic: self.topic.clone(),
            partition: self.partition,
            offset: header.base_offset + i64::from(offset_delta),
            timestamp: match timestamp_type {
                TimestampType::LogAppendTime => header.max_timestamp,
                TimestampType::CreateTime => header.base_timestamp + timestamp_delta,
            },
            timestamp_type,
            key,
            value,
            headers,
            leader_epoch: (header.leader_epoch >= 0).then_some(header.leader_epoch),
        })
    }
}

/// Reads Kafka's zig-zag varints and length-prefixed byte strings from a buffer, slicing
/// rather than copying.
struct Cursor<'a> {
    data: &'a Bytes,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(data: &'a Bytes) -> Self {
        Self { data, at: 0 }
    }

    fn truncated() -> Error {
        corrupt("record truncated".into())
    }

    fn skip(&mut self, n: usize) -> Result<(), Error> {
        if self.data.len() - self.at < n {
            return Err(Self::truncated());
        }
        self.at += n;
        Ok(())
    }

    fn varlong(&mut self) -> Result<i64, Error> {
        let mut raw: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.data.get(self.at).ok_or_else(Self::truncated)?;
            self.at += 1;
            raw |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok((raw >> 1) as i64 ^ -((raw & 1) as i64));
            }
        }
        Err(corrupt("varint longer than 10 bytes".into()))
    }

    fn varint(&mut self) -> Result<i32, Error> {
        let value = self.varlong()?;
        i32::try_from(value).map_err(|_| corrupt(format!("varint {value} out of range")))
    }

    /// A length-prefixed byte string; length -1 is null.
    fn bytes(&mut self) -> Result<Option<Bytes>, Error> {
        let length = self.varint()?;
        if length < 0 {
            return Ok(None);
        }
        let start = self.at;
        self.skip(length as usize)?;
        Ok(Some(self.data.slice(start..self.at)))
    }
}

#[cfg(test)]
mod tests;
