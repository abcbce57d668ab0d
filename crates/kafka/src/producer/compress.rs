//! Compressing a batch's records at the configured level (KIP-390's
//! `compression.{gzip,lz4,zstd}.level`). kafka-protocol's compressors have fixed levels (lz4
//! at 4 where Java's default is 9), so gzip, lz4 and zstd are driven here directly, with the
//! framing kafka-protocol uses and every consumer reads; snappy has no level and stays with
//! kafka-protocol's xerial framing, as Java writes it.

use std::io::Write;

use bytes::{BufMut, BytesMut};
use kafka_protocol::compression::{Compressor, Snappy};

use super::config::{Compression, CompressionLevels};
use crate::error::{Error, Result};

/// Appends `records` compressed with `codec` at its level in `levels` to `out`.
pub(crate) fn compress(
    codec: Compression,
    levels: &CompressionLevels,
    records: BytesMut,
    out: &mut BytesMut,
) -> Result<()> {
    let failed = |e: &dyn std::fmt::Display| Error::InvalidRequest(format!("compressing: {e}"));
    match codec {
        Compression::None => out.extend_from_slice(&records),
        Compression::Gzip => {
            // -1 is zlib's default level (6), as with Java's Deflater.
            let level = u32::try_from(levels.gzip)
                .map(flate2::Compression::new)
                .unwrap_or_default();
            let mut encoder = flate2::write::GzEncoder::new(out.writer(), level);
            encoder.write_all(&records).map_err(|e| failed(&e))?;
            encoder.finish().map_err(|e| failed(&e))?;
        }
        Compression::Snappy => {
            let mut records = Some(records);
            Snappy::compress(out, |input: &mut BytesMut| {
                *input = records.take().unwrap_or_default();
                Ok(())
            })
            .map_err(|e| failed(&format!("{e:#}")))?;
        }
        Compression::Lz4 => {
            // Java's levels 1-17 are lz4-java's; liblz4 runs 1-2 as its fast mode (Java: fast
            // at 1) and 3-12 as high compression, capping higher levels at 12.
            let level = u32::try_from(levels.lz4).unwrap_or(1);
            let mut encoder = lz4::EncoderBuilder::new()
                .level(level)
                .block_mode(lz4::BlockMode::Independent)
                .build(out.writer())
                .map_err(|e| failed(&e))?;
            encoder.write_all(&records).map_err(|e| failed(&e))?;
            let (_, finished) = encoder.finish();
            finished.map_err(|e| failed(&e))?;
        }
        Compression::Zstd => {
            zstd::stream::copy_encode(&records[..], out.writer(), levels.zstd)
                .map_err(|e| failed(&e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;
    use kafka_protocol::compression::{Decompressor, Gzip, Lz4, Zstd};

    /// Text-like bytes that compress differently at different levels.
    fn sample() -> BytesMut {
        let mut data = BytesMut::new();
        for i in 0..4000u32 {
            data.put_slice(format!("record {} of {} ", i * 7919 % 1000, i % 13).as_bytes());
        }
        data
    }

    fn compressed(codec: Compression, levels: CompressionLevels) -> BytesMut {
        let mut out = BytesMut::new();
        compress(codec, &levels, sample(), &mut out).unwrap();
        out
    }

    fn decompressed(codec: Compression, bytes: BytesMut) -> bytes::Bytes {
        let mut bytes = bytes.freeze();
        let take = |b: &mut bytes::Bytes| Ok(b.copy_to_bytes(b.remaining()));
        match codec {
            Compression::Gzip => Gzip::decompress(&mut bytes, take),
            Compression::Snappy => Snappy::decompress(&mut bytes, take),
            Compression::Lz4 => Lz4::decompress(&mut bytes, take),
            Compression::Zstd => Zstd::decompress(&mut bytes, take),
            Compression::None => Ok(bytes),
        }
        .unwrap()
    }

    #[test]
    fn every_codec_and_level_round_trips() {
        let levels = [
            CompressionLevels::default(),
            CompressionLevels {
                gzip: 1,
                lz4: 1,
                zstd: -5,
            },
            CompressionLevels {
                gzip: 9,
                lz4: 17,
                zstd: 19,
            },
        ];
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            for levels in levels {
                let bytes = compressed(codec, levels);
                assert_eq!(decompressed(codec, bytes), sample(), "{codec:?} {levels:?}");
            }
        }
    }

    #[test]
    fn levels_change_the_output() {
        let fast = CompressionLevels {
            gzip: 1,
            lz4: 1,
            zstd: 1,
        };
        let best = CompressionLevels {
            gzip: 9,
            lz4: 12,
            zstd: 19,
        };
        for codec in [Compression::Gzip, Compression::Lz4, Compression::Zstd] {
            let (fast, best) = (compressed(codec, fast), compressed(codec, best));
            assert!(
                best.len() < fast.len(),
                "{codec:?}: {} vs {}",
                best.len(),
                fast.len()
            );
        }
        // The default gzip level is zlib's 6, not 1 or 9.
        let default = compressed(Compression::Gzip, CompressionLevels::default());
        let six = CompressionLevels {
            gzip: 6,
            ..CompressionLevels::default()
        };
        assert_eq!(default, compressed(Compression::Gzip, six));
    }
}
