//! A validating pass over response bytes before kafka-protocol decodes them.
//!
//! kafka-protocol 0.18 sizes every array's `Vec` from the element count on the wire before it
//! reads a single element. A corrupt or hostile count (say 2³¹ elements of a 100-byte struct)
//! asks the allocator for hundreds of gigabytes; the allocator fails and Rust aborts the
//! process, which no `catch_unwind` can stop. Upstream has open fixes but no release with one,
//! a patched copy of the codec is not an option, and a global allocator is the binary's
//! choice, not a library's. So this module walks a response along its wire layout first and
//! rejects it if any array claims more elements than the bytes left could hold (every element
//! takes at least one byte, and at least its fixed fields). Only when the whole frame walks
//! cleanly does kafka-protocol decode it, and then every count it reserves for was checked.
//!
//! The layouts (in `client`, `group` and `admin`: every response with an array that this
//! crate decodes, and the consumer protocol's member metadata) mirror kafka-protocol 0.18's
//! generated decoders field by field. The tests write a fully populated message of every
//! version from each layout and require kafka-protocol to decode exactly those bytes and encode
//! them back unchanged, so a layout that drifts from the codec (after an upgrade, say) fails
//! there. Response types without any array in any version (Heartbeat, SyncGroup,
//! InitProducerId) need no layout. The walk costs a few comparisons per field and skips record
//! bytes without looking at them.

mod admin;
mod client;
mod group;

use std::any::TypeId;

use kafka_protocol::messages::ApiKey;

/// A message's wire layout.
#[derive(Debug)]
pub(crate) struct Layout {
    /// First version that is flexible (compact lengths and tagged fields), if any.
    flexible: Option<i16>,
    fields: &'static [Field],
}

/// One field, present in versions `min..=max`; tagged fields sit in the tagged section of
/// flexible versions under their tag.
#[derive(Debug)]
struct Field {
    kind: Kind,
    min: i16,
    max: i16,
    tag: Option<u32>,
}

#[derive(Debug)]
enum Kind {
    /// Integers, booleans, floats and UUIDs: a fixed number of bytes.
    Fixed(usize),
    /// `string`: int16 length (varint length + 1 when flexible).
    String,
    /// `bytes` and `records`: int32 length (varint length + 1 when flexible).
    Bytes,
    /// `[]T`: int32 count (varint count + 1 when flexible), then the elements.
    Array(&'static Kind),
    Struct(&'static [Field]),
}

const I8: Kind = Kind::Fixed(1);
const BOOL: Kind = Kind::Fixed(1);
const I16: Kind = Kind::Fixed(2);
const I32: Kind = Kind::Fixed(4);
const I64: Kind = Kind::Fixed(8);
const UUID: Kind = Kind::Fixed(16);
const STR: Kind = Kind::String;
const BYTES: Kind = Kind::Bytes;

const fn f(kind: Kind, min: i16, max: i16) -> Field {
    Field {
        kind,
        min,
        max,
        tag: None,
    }
}

const fn t(tag: u32, kind: Kind, min: i16, max: i16) -> Field {
    Field {
        kind,
        min,
        max,
        tag: Some(tag),
    }
}

/// How a layout is looked up: by the message's type, or by the API key of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Id {
    Type(TypeId),
    Api(ApiKey),
}

fn find(id: Id) -> Option<&'static Layout> {
    client::layout(id)
        .or_else(|| group::layout(id))
        .or_else(|| admin::layout(id))
}

/// The layout of message type `M`, if it has arrays and so needs one.
pub(crate) fn layout_of<M: 'static>() -> Option<&'static Layout> {
    find(Id::Type(TypeId::of::<M>()))
}

/// The layout of the response to API `key`, if it has arrays and so needs one.
pub(crate) fn response_layout(key: i16) -> Option<&'static Layout> {
    find(Id::Api(ApiKey::try_from(key).ok()?))
}

/// Checks a response frame (size prefix removed): the response header of `header_version`,
/// then a body of `layout` at `version`, ending exactly at the end of the frame.
pub(crate) fn check_response(
    frame: &[u8],
    header_version: i16,
    layout: &Layout,
    version: i16,
) -> Result<(), String> {
    let mut walk = Walk {
        buf: frame,
        at: 0,
        version,
        flexible: header_version >= 1,
    };
    walk.take(4)?;
    if walk.flexible {
        walk.tagged_section(&[])?;
    }
    walk.flexible = layout.flexible.is_some_and(|from| version >= from);
    walk.fields(layout.fields)?;
    walk.end()
}

/// Checks a message of `layout` at `version` at the start of `bytes`; bytes after it are left
/// to the caller (embedded formats such as the consumer protocol's may grow at the end).
pub(crate) fn check_prefix(bytes: &[u8], layout: &Layout, version: i16) -> Result<(), String> {
    let mut walk = Walk {
        buf: bytes,
        at: 0,
        version,
        flexible: layout.flexible.is_some_and(|from| version >= from),
    };
    walk.fields(layout.fields)
}

struct Walk<'a> {
    buf: &'a [u8],
    /// Offset of `buf` in the bytes being checked, for error messages.
    at: usize,
    version: i16,
    flexible: bool,
}

impl<'a> Walk<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.buf.len() {
            return Err(format!(
                "{n} bytes needed at byte {}, {} left",
                self.at,
                self.buf.len()
            ));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        self.at += n;
        Ok(head)
    }

    fn int16(&mut self) -> Result<i16, String> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn int32(&mut self) -> Result<i32, String> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An unsigned varint read exactly as kafka-protocol reads it (at most five bytes, excess
    /// bits dropped), so that both land on the same next byte.
    fn varint(&mut self) -> Result<u32, String> {
        let mut value = 0u32;
        for i in 0..5 {
            let b = u32::from(self.take(1)?[0]);
            value |= (b & 0x7f) << (i * 7);
            if b < 0x80 {
                break;
            }
        }
        Ok(value)
    }

    /// A length or count: `None` for null, an error for a negative one other than -1.
    fn length(&mut self, wide: bool) -> Result<Option<usize>, String> {
        let at = self.at;
        let n = if self.flexible {
            i64::from(self.varint()?) - 1
        } else if wide {
            i64::from(self.int32()?)
        } else {
            i64::from(self.int16()?)
        };
        match n {
            -1 => Ok(None),
            n if n < 0 => Err(format!("negative length {n} at byte {at}")),
            n => Ok(Some(usize::try_from(n).map_err(|_| format!("length {n}"))?)),
        }
    }

    fn end(&self) -> Result<(), String> {
        match self.buf.len() {
            0 => Ok(()),
            n => Err(format!("{n} bytes left over after byte {}", self.at)),
        }
    }

    fn present(&self, field: &Field) -> bool {
        (field.min..=field.max).contains(&self.version)
    }

    fn fields(&mut self, fields: &[Field]) -> Result<(), String> {
        for field in fields {
            if field.tag.is_none() && self.present(field) {
                self.kind(&field.kind)?;
            }
        }
        if self.flexible {
            self.tagged_section(fields)?;
        }
        Ok(())
    }

    /// The tagged fields of a flexible struct: each is read within its own size, so nothing in
    /// one can claim bytes beyond it.
    fn tagged_section(&mut self, fields: &[Field]) -> Result<(), String> {
        let count = self.varint()?;
        for _ in 0..count {
            let tag = self.varint()?;
            let size = self.varint()? as usize;
            let at = self.at;
            let value = self.take(size)?;
            let known = fields
                .iter()
                .find(|f| f.tag == Some(tag) && self.present(f));
            if let Some(field) = known {
                let mut inner = Walk {
                    buf: value,
                    at,
                    version: self.version,
                    flexible: self.flexible,
                };
                inner.kind(&field.kind)?;
                inner.end()?;
            }
        }
        Ok(())
    }

    fn kind(&mut self, kind: &Kind) -> Result<(), String> {
        match kind {
            Kind::Fixed(n) => self.take(*n).map(drop),
            Kind::String | Kind::Bytes => {
                if let Some(len) = self.length(matches!(kind, Kind::Bytes))? {
                    self.take(len)?;
                }
                Ok(())
            }
            Kind::Array(element) => {
                let at = self.at;
                let Some(count) = self.length(true)? else {
                    return Ok(());
                };
                let least = self.min_size(element).max(1);
                if count.saturating_mul(least) > self.buf.len() {
                    return Err(format!(
                        "array of {count} elements at byte {at} with {} bytes left",
                        self.buf.len()
                    ));
                }
                (0..count).try_for_each(|_| self.kind(element))
            }
            Kind::Struct(fields) => self.fields(fields),
        }
    }

    /// The fewest bytes a value of `kind` takes at this version.
    fn min_size(&self, kind: &Kind) -> usize {
        let length = |wide: bool| match (self.flexible, wide) {
            (true, _) => 1,
            (false, true) => 4,
            (false, false) => 2,
        };
        match kind {
            Kind::Fixed(n) => *n,
            Kind::String => length(false),
            Kind::Bytes | Kind::Array(_) => length(true),
            Kind::Struct(fields) => {
                let own: usize = fields
                    .iter()
                    .filter(|f| f.tag.is_none() && self.present(f))
                    .map(|f| self.min_size(&f.kind))
                    .sum();
                own + usize::from(self.flexible)
            }
        }
    }
}

#[cfg(test)]
mod tests;
