//! The subset of Kafka's `Struct`/`Schema` field encoding used by MirrorMaker 2's records: big-endian
//! fixed-width integers and `STRING` (an int16 byte length followed by UTF-8).

use bytes::{BufMut, BytesMut};

use super::{DecodeError, EncodeError};

/// Appends a Kafka `STRING`: int16 length, then the UTF-8 bytes.
pub(crate) fn put_string(
    buf: &mut BytesMut,
    field: &'static str,
    value: &str,
) -> Result<(), EncodeError> {
    let len = i16::try_from(value.len()).map_err(|_| EncodeError::StringTooLong {
        field,
        len: value.len(),
    })?;
    buf.put_i16(len);
    buf.put_slice(value.as_bytes());
    Ok(())
}

/// Encoded size of a Kafka `STRING`.
pub(crate) fn string_size(value: &str) -> usize {
    2 + value.len()
}

/// Reads fields off the front of a byte slice, naming the field in every error like Java's
/// `Schema.read` does.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let Some((head, rest)) = self.buf.split_first_chunk::<N>() else {
            return Err(DecodeError::Truncated {
                field,
                needed: N,
                available: self.buf.len(),
            });
        };
        self.buf = rest;
        Ok(*head)
    }

    pub(crate) fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        self.take(field).map(i16::from_be_bytes)
    }

    pub(crate) fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        self.take(field).map(i32::from_be_bytes)
    }

    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        self.take(field).map(i64::from_be_bytes)
    }

    /// Java decodes `STRING` bytes with `new String(bytes, UTF_8)`, which replaces malformed
    /// sequences instead of failing; decoding lossily keeps records readable that Java reads.
    pub(crate) fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let len = self.i16(field)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::NegativeLength { field, len })?;
        if len > self.buf.len() {
            return Err(DecodeError::Truncated {
                field,
                needed: len,
                available: self.buf.len(),
            });
        }
        let (bytes, rest) = self.buf.split_at(len);
        self.buf = rest;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }
}
