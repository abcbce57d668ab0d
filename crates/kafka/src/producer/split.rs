//! Cutting a batch the broker refused as too large (MESSAGE_TOO_LARGE, e.g. a topic whose
//! `max.message.bytes` is below `batch.size`) into smaller batches, as Java's producer does.
//!
//! The records are read back from the encoded batch (decompressed if need be) rather than kept
//! uncompressed beside it until it is acknowledged: splits are rare, and keeping them would
//! double the memory of every compressed batch in flight. Each record's key, value and headers
//! are copied as encoded; only its length and deltas, relative to its new batch, are rewritten.

use bytes::Bytes;
use kafka_protocol::compression::{Decompressor, Gzip, Lz4, Snappy, Zstd};

use super::batch::{BatchBuilder, HEADER_SIZE};
use crate::error::{Error, Result};

const MAGIC_OFFSET: usize = 16;
const ATTRIBUTES_OFFSET: usize = 21;
const BASE_TIMESTAMP_OFFSET: usize = 27;
const COUNT_OFFSET: usize = 57;

/// One of the batches a refused batch is cut into.
#[derive(Debug)]
pub(crate) struct Piece {
    /// Offset delta, in the refused batch, of the piece's first record: the records' futures
    /// find their piece by it.
    pub first_offset_delta: i32,
    /// The piece's records, to be framed (and compressed) when it is sent.
    pub builder: BatchBuilder,
}

/// A record of the refused batch.
struct Record<'a> {
    timestamp: i64,
    attributes: u8,
    offset_delta: i32,
    /// Key, value and headers as encoded.
    fields: &'a [u8],
    /// Bytes it took in the refused batch, length prefix included.
    encoded: usize,
}

/// Cuts the encoded v2 `batch` (of two records or more) into pieces, in record order: into
/// `ceil(record bytes / batch_size)` pieces of about even sizes (at record boundaries), and
/// at least two.
///
/// Java cuts at `batch.size` only; cutting in two at least guarantees progress, each piece
/// holding fewer records than the batch: an uncompressed batch refused while under
/// `batch.size` would otherwise come back whole and be refused again. Repeated splits thus
/// end with pieces of one record, which fail for good when still too large.
///
/// Why two pieces at least: a record belongs to the piece whose share of the bytes holds its
/// middle; the first and the last record in one piece would need to span more than the whole.
pub(crate) fn split(batch: &Bytes, batch_size: usize) -> Result<Vec<Piece>> {
    let corrupt = |what: &str| Error::Protocol(format!("cannot split batch: {what}"));
    if batch.len() < HEADER_SIZE || batch[MAGIC_OFFSET] != 2 {
        return Err(corrupt("not a v2 record batch"));
    }
    let field = |at: usize, len: usize| &batch[at..at + len];
    let attributes = i16::from_be_bytes(field(ATTRIBUTES_OFFSET, 2).try_into().expect("2 bytes"));
    let base_timestamp =
        i64::from_be_bytes(field(BASE_TIMESTAMP_OFFSET, 8).try_into().expect("8 bytes"));
    let count = i32::from_be_bytes(field(COUNT_OFFSET, 4).try_into().expect("4 bytes"));
    let data = records(batch, attributes)?;
    let mut parsed = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(data.len()));
    let mut at = 0;
    for _ in 0..count {
        let start = at;
        let length = usize::try_from(get_varint(&data, &mut at)?)
            .map_err(|_| corrupt("negative record length"))?;
        let end = at
            .checked_add(length)
            .filter(|end| *end <= data.len())
            .ok_or_else(|| corrupt("record runs past the batch"))?;
        let record_attributes = *data.get(at).ok_or_else(|| corrupt("empty record"))?;
        at += 1;
        let timestamp_delta = get_varint(&data[..end], &mut at)?;
        let offset_delta = i32::try_from(get_varint(&data[..end], &mut at)?)
            .map_err(|_| corrupt("offset delta out of range"))?;
        parsed.push(Record {
            timestamp: base_timestamp.wrapping_add(timestamp_delta),
            attributes: record_attributes,
            offset_delta,
            fields: &data[at..end],
            encoded: end - start,
        });
        at = end;
    }
    if parsed.len() < 2 {
        return Err(corrupt("fewer than two records"));
    }
    let total: usize = parsed.iter().map(|r| r.encoded).sum();
    let shares = total.div_ceil(batch_size.max(1)).max(2);
    let mut pieces: Vec<Piece> = Vec::new();
    let mut current = None;
    let mut start = 0;
    for record in &parsed {
        // The piece whose share of the bytes holds the record's middle: record boundaries
        // nearest to the even cuts.
        let middle = 2 * start as u128 + record.encoded as u128;
        let index = middle * shares as u128 / (2 * total as u128);
        start += record.encoded;
        if current != Some(index) {
            current = Some(index);
            pieces.push(Piece {
                first_offset_delta: record.offset_delta,
                builder: BatchBuilder::new(total / shares + record.encoded),
            });
        }
        let piece = pieces.last_mut().expect("pushed above");
        piece
            .builder
            .append_encoded(record.timestamp, record.attributes, record.fields);
    }
    Ok(pieces)
}

/// The batch's records section, decompressed when the batch is compressed.
fn records(batch: &Bytes, attributes: i16) -> Result<Bytes> {
    let mut body = batch.slice(HEADER_SIZE..);
    let take = |b: &mut Bytes| Ok(std::mem::take(b));
    let decompressed = match attributes & 0x07 {
        0 => return Ok(body),
        1 => Gzip::decompress(&mut body, take),
        2 => Snappy::decompress(&mut body, take),
        3 => Lz4::decompress(&mut body, take),
        4 => Zstd::decompress(&mut body, take),
        other => {
            return Err(Error::Protocol(format!(
                "cannot split batch: unknown compression type {other}"
            )));
        }
    };
    decompressed.map_err(|e| Error::Protocol(format!("cannot split batch: {e:#}")))
}

/// Reads one zig-zag varint (or varlong) at `*at`, moving past it.
fn get_varint(data: &[u8], at: &mut usize) -> Result<i64> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = *data
            .get(*at)
            .ok_or_else(|| Error::Protocol("cannot split batch: truncated varint".into()))?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
        }
    }
    Err(Error::Protocol(
        "cannot split batch: varint longer than 10 bytes".into(),
    ))
}

#[cfg(test)]
mod tests;
