//! Request and response bytes: Kafka's size-prefixed frames, request headers, and response
//! decoding that never panics on bad input.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};

use super::guard;
use crate::error::{Error, Result};

/// Encodes one request frame: the 4-byte size, the request header and the body.
pub(crate) fn encode_request<Req: Request>(
    request: &Req,
    version: i16,
    correlation_id: i32,
    client_id: &StrBytes,
) -> Result<Bytes> {
    let header = RequestHeader::default()
        .with_request_api_key(Req::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(client_id.clone()));
    // Sized up front: a Produce request carries its batches in the body, and growing the
    // buffer from small would copy them again at every doubling.
    let body = request
        .compute_size(version)
        .map_err(|e| Error::InvalidRequest(format!("api key {}: {e}", Req::KEY)))?;
    let mut buf = BytesMut::with_capacity(64 + client_id.len() + body);
    buf.put_i32(0);
    header
        .encode(&mut buf, Req::header_version(version))
        .map_err(|e| Error::InvalidRequest(format!("request header: {e}")))?;
    request
        .encode(&mut buf, version)
        .map_err(|e| Error::InvalidRequest(format!("api key {}: {e}", Req::KEY)))?;
    let size = i32::try_from(buf.len() - 4)
        .map_err(|_| Error::InvalidRequest("request larger than 2 GiB".into()))?;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf.freeze())
}

/// Checks a frame's size prefix against the largest response this client accepts.
pub(crate) fn frame_size(prefix: i32, max: usize) -> Result<usize> {
    match usize::try_from(prefix) {
        Ok(size) if size <= max => Ok(size),
        _ => Err(Error::Protocol(format!(
            "response frame of {prefix} bytes (limit {max})"
        ))),
    }
}

/// The correlation id at the start of a response frame (size prefix already removed).
pub(crate) fn peek_correlation_id(frame: &[u8]) -> Result<i32> {
    let head: [u8; 4] = frame
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Protocol(format!("response of {} bytes", frame.len())))?;
    Ok(i32::from_be_bytes(head))
}

/// Decodes a response frame (size prefix already removed): the header of
/// `header_version`, then the body of `version`. Any malformation, including trailing bytes
/// and array counts larger than the frame could hold, is an [`Error::Protocol`]; nothing in
/// here panics or aborts on bad input.
pub fn decode_response<Resp: Decodable + 'static>(
    frame: Bytes,
    version: i16,
    header_version: i16,
) -> Result<Resp> {
    decode_checked(frame, version, header_version, guard::layout_of::<Resp>())
}

/// [`decode_response`] for a response whose layout is `layout` (looked up by the caller, who
/// may know the API key rather than a `'static` type).
pub(crate) fn decode_checked<Resp: Decodable>(
    mut frame: Bytes,
    version: i16,
    header_version: i16,
    layout: Option<&guard::Layout>,
) -> Result<Resp> {
    // Before kafka-protocol reserves memory for counts read off the wire (see `guard`).
    if let Some(layout) = layout {
        guard::check_response(&frame, header_version, layout, version)
            .map_err(|e| Error::Protocol(format!("malformed response: {e}")))?;
    }
    let decode = |frame: &mut Bytes| -> Result<Resp> {
        ResponseHeader::decode(frame, header_version)
            .map_err(|e| Error::Protocol(format!("response header: {e}")))?;
        Resp::decode(frame, version).map_err(|e| Error::Protocol(format!("response body: {e}")))
    };
    // The codec is generated code: a panic on some byte pattern is a bug there, but it must not
    // take the connection's owner down with it.
    let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode(&mut frame)))
        .map_err(|_| Error::Protocol("response decoder panicked".into()))??;
    if frame.has_remaining() {
        return Err(Error::Protocol(format!(
            "{} bytes left over after the response",
            frame.remaining()
        )));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{
        ApiVersionsRequest, ApiVersionsResponse, MetadataResponse, ResponseHeader,
        api_versions_response::ApiVersion, metadata_response::MetadataResponseBroker,
    };
    use kafka_protocol::protocol::HeaderVersion;
    use proptest::prelude::*;

    #[test]
    fn request_frame_bytes() {
        let frame = encode_request(
            &ApiVersionsRequest::default(),
            0,
            7,
            &StrBytes::from_static_str("c"),
        )
        .unwrap();
        // size, api key 18, version 0, correlation 7, client id "c", empty body
        assert_eq!(
            &frame[..],
            &[0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 7, 0, 1, b'c'][..]
        );
    }

    #[test]
    fn oversized_and_negative_frames_are_errors() {
        assert_eq!(frame_size(10, 10).unwrap(), 10);
        assert!(matches!(frame_size(11, 10), Err(Error::Protocol(_))));
        assert!(matches!(frame_size(-1, 10), Err(Error::Protocol(_))));
    }

    fn encode_response<R: Encodable + HeaderVersion>(response: &R, version: i16) -> Bytes {
        let mut buf = BytesMut::new();
        ResponseHeader::default()
            .with_correlation_id(3)
            .encode(&mut buf, R::header_version(version))
            .unwrap();
        response.encode(&mut buf, version).unwrap();
        buf.freeze()
    }

    fn sample_metadata() -> MetadataResponse {
        MetadataResponse::default().with_brokers(vec![
            MetadataResponseBroker::default()
                .with_node_id(111.into())
                .with_host(StrBytes::from_static_str("localhost"))
                .with_port(9092),
        ])
    }

    #[test]
    fn decodes_and_rejects_trailing_bytes() {
        let frame = encode_response(&sample_metadata(), 12);
        assert_eq!(peek_correlation_id(&frame).unwrap(), 3);
        let decoded: MetadataResponse = decode_response(frame.clone(), 12, 1).unwrap();
        assert_eq!(decoded, sample_metadata());
        let mut longer = BytesMut::from(&frame[..]);
        longer.put_u8(0);
        let err = decode_response::<MetadataResponse>(longer.freeze(), 12, 1).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)));
    }

    proptest! {
        /// Every strict prefix of a valid response is an error, never a panic.
        #[test]
        fn truncated_responses_are_errors(cut in 0usize..1000, version in 0i16..=13) {
            let frame = encode_response(&sample_metadata(), version);
            let cut = cut % frame.len();
            let header = MetadataResponse::header_version(version);
            let result = decode_response::<MetadataResponse>(frame.slice(..cut), version, header);
            prop_assert!(matches!(result, Err(Error::Protocol(_))));
        }

        /// A valid response with bytes changed anywhere, its array counts and the tagged
        /// fields of versions 3+ included, decodes to something or to a protocol error, without
        /// panicking or aborting (see `guard` for the counts).
        #[test]
        fn corrupted_responses_do_not_panic(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            version in 0i16..=4,
        ) {
            let response = ApiVersionsResponse::default().with_api_keys(vec![
                ApiVersion::default().with_api_key(3).with_max_version(12),
                ApiVersion::default().with_api_key(18).with_max_version(4),
            ]);
            let frame = encode_response(&response, version);
            let mut bytes = frame.to_vec();
            for (at, value) in flips {
                let at = at % bytes.len();
                bytes[at] = value;
            }
            let result = decode_response::<ApiVersionsResponse>(Bytes::from(bytes), version, 0);
            prop_assert!(!matches!(result, Err(ref e) if !matches!(e, Error::Protocol(_))));
        }

        /// Random bytes of any length through the response-header and frame checks.
        #[test]
        fn random_frames_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            let _ = peek_correlation_id(&bytes);
            let _ = decode_response::<ResponseHeader>(Bytes::from(bytes), 0, 1);
        }
    }
}
