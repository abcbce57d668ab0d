//! Connection behaviour on bad bytes, with an in-memory transport whose far end answers
//! ApiVersions properly and then misbehaves as each test needs.

use std::future::Future;

use super::*;
use bytes::{Buf, BufMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{MetadataRequest, ResponseHeader};
use kafka_protocol::protocol::Encodable;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream};

/// Hands out one prepared in-memory stream.
#[derive(Debug)]
struct Prepared(Mutex<Option<DuplexStream>>);

impl Connector for Prepared {
    fn connect<'a>(&'a self, _host: &'a str, _port: u16) -> ConnectFuture<'a> {
        let stream = self.0.lock().unwrap().take();
        Box::pin(async move {
            stream
                .map(|s| Box::new(s) as BoxTransport)
                .ok_or_else(|| std::io::ErrorKind::ConnectionRefused.into())
        })
    }
}

/// Reads one request frame: (api key, version, correlation id).
async fn read_request(stream: &mut (impl AsyncRead + Unpin)) -> (i16, i16, i32) {
    let size = stream.read_i32().await.unwrap();
    let mut frame = vec![0u8; usize::try_from(size).unwrap()];
    stream.read_exact(&mut frame).await.unwrap();
    let mut frame = &frame[..];
    (frame.get_i16(), frame.get_i16(), frame.get_i32())
}

async fn write_frame(stream: &mut (impl AsyncWrite + Unpin), body: &[u8]) {
    let mut frame = Vec::new();
    frame.put_i32(i32::try_from(body.len()).unwrap());
    frame.extend_from_slice(body);
    stream.write_all(&frame).await.unwrap();
}

/// Connects to an in-memory broker that negotiates and then runs `after`.
async fn connect_to<F, Fut>(after: F) -> Connection
where
    F: FnOnce(DuplexStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    connect_with(ConnectionConfig::default(), after).await
}

/// [`connect_to`] with a connection configuration.
async fn connect_with<F, Fut>(config: ConnectionConfig, after: F) -> Connection
where
    F: FnOnce(DuplexStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (client, mut server) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let (key, version, correlation_id) = read_request(&mut server).await;
        assert_eq!(key, ApiKey::ApiVersions as i16);
        let mut body = Vec::new();
        ResponseHeader::default()
            .with_correlation_id(correlation_id)
            .encode(&mut body, 0)
            .unwrap();
        ApiVersionsResponse::default()
            .with_api_keys(vec![
                ApiVersion::default().with_api_key(18).with_max_version(4),
                ApiVersion::default().with_api_key(3).with_max_version(12),
            ])
            .encode(&mut body, version)
            .unwrap();
        write_frame(&mut server, &body).await;
        after(server).await;
    });
    let connector = Prepared(Mutex::new(Some(client)));
    Connection::connect(&connector, "memory", 1, config)
        .await
        .unwrap()
}

/// Answers the Metadata request `correlation_id` (of `version`) with an empty response.
async fn answer_metadata(
    stream: &mut (impl AsyncWrite + Unpin),
    correlation_id: i32,
    version: i16,
) {
    let mut body = Vec::new();
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut body, 1)
        .unwrap();
    kafka_protocol::messages::MetadataResponse::default()
        .encode(&mut body, version)
        .unwrap();
    write_frame(stream, &body).await;
}

/// Sends a Metadata request on `conn` and asserts that it fails with a protocol error saying
/// `what`.
async fn assert_protocol_error(conn: &Connection, what: &str) {
    let err = conn
        .send(&MetadataRequest::default().with_topics(None))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains(what)),
        "{err}"
    );
}

/// A request timeout short enough to wait out in a test.
const SHORT: Duration = Duration::from_millis(200);

fn short_timeout() -> ConnectionConfig {
    ConnectionConfig {
        request_timeout: SHORT,
        ..ConnectionConfig::default()
    }
}

#[tokio::test]
async fn negotiated_versions_are_the_intersection() {
    let conn = connect_to(|_server| async {}).await;
    assert_eq!(conn.version_of::<MetadataRequest>().unwrap().max, 12);
    let err = conn
        .version_of::<kafka_protocol::messages::ProduceRequest>()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                api: ApiKey::Produce
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn undecodable_body_fails_every_request_in_flight() {
    let (eof_tx, eof_rx) = oneshot::channel();
    let conn = connect_to(|mut server| async move {
        let (_, _, first) = read_request(&mut server).await;
        let (_, _, _second) = read_request(&mut server).await;
        // A well-framed answer to the first request whose body ends early.
        let mut body = Vec::new();
        body.put_i32(first);
        body.put_u8(0); // empty tagged fields of header v1
        body.put_i32(0); // throttle time, then nothing
        write_frame(&mut server, &body).await;
        // The client closes its end although it still holds the connection.
        let mut rest = Vec::new();
        let _ = eof_tx.send(server.read_to_end(&mut rest).await.is_ok());
    })
    .await;
    let request = MetadataRequest::default().with_topics(None);
    let (first, second) = tokio::join!(conn.send(&request), conn.send(&request));
    assert!(matches!(first, Err(Error::Protocol(_))), "{first:?}");
    assert!(matches!(second, Err(Error::Protocol(_))), "{second:?}");
    assert!(conn.is_closed());
    let third = conn.send(&request).await;
    assert!(matches!(third, Err(Error::Protocol(_))), "{third:?}");
    let eof = tokio::time::timeout(Duration::from_secs(10), eof_rx).await;
    assert!(matches!(eof, Ok(Ok(true))), "the client closed the socket");
}

#[tokio::test]
async fn a_huge_array_count_fails_the_connection_instead_of_the_process() {
    let conn = connect_to(|mut server| async move {
        let (_, version, id) = read_request(&mut server).await;
        assert_eq!(version, 12);
        let mut body = Vec::new();
        body.put_i32(id);
        body.put_u8(0); // empty tagged fields of header v1
        body.put_i32(0); // throttle time
        // 2³¹ - 2 brokers, as a compact array count; kafka-protocol alone would try to
        // reserve them all and abort the process.
        body.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x07]);
        write_frame(&mut server, &body).await;
        let mut rest = Vec::new();
        let _ = server.read_to_end(&mut rest).await;
    })
    .await;
    let request = MetadataRequest::default().with_topics(None);
    let err = conn.send(&request).await.unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("array of 2147483646 elements")),
        "{err}"
    );
    assert!(conn.is_closed());
}

#[tokio::test]
async fn unknown_correlation_id_and_oversized_frames_are_protocol_errors() {
    let conn = connect_to(|mut server| async move {
        let (_, _, id) = read_request(&mut server).await;
        let mut body = Vec::new();
        body.put_i32(id + 1000);
        write_frame(&mut server, &body).await;
        std::future::pending::<()>().await;
    })
    .await;
    assert_protocol_error(&conn, "correlation").await;

    let conn = connect_to(|mut server| async move {
        read_request(&mut server).await;
        server.write_i32(i32::MAX).await.unwrap();
        std::future::pending::<()>().await;
    })
    .await;
    assert_protocol_error(&conn, "limit").await;
}

#[tokio::test]
async fn a_frame_larger_than_the_read_buffer_arrives_whole_and_a_cut_one_is_truncated() {
    // A Metadata answer padded with a tagged field far larger than the connection's read
    // buffer, written in small pieces: the frame is assembled across many reads.
    let conn = connect_to(|mut server| async move {
        let (_, version, id) = read_request(&mut server).await;
        let mut body = Vec::new();
        ResponseHeader::default()
            .with_correlation_id(id)
            .encode(&mut body, 1)
            .unwrap();
        let mut response = kafka_protocol::messages::MetadataResponse::default();
        response
            .unknown_tagged_fields
            .insert(7, Bytes::from(vec![0xab; 5 * IO_BUFFER]));
        response.encode(&mut body, version).unwrap();
        let mut frame = Vec::new();
        frame.put_i32(i32::try_from(body.len()).unwrap());
        frame.extend_from_slice(&body);
        for piece in frame.chunks(10_000) {
            server.write_all(piece).await.unwrap();
        }
        std::future::pending::<()>().await;
    })
    .await;
    let response = conn
        .send_version(&MetadataRequest::default().with_topics(None), 12)
        .await
        .unwrap();
    assert_eq!(response.unknown_tagged_fields[&7].len(), 5 * IO_BUFFER);

    let conn = connect_to(|mut server| async move {
        read_request(&mut server).await;
        server.write_i32(1000).await.unwrap();
        server.write_all(&[0; 400]).await.unwrap();
        drop(server);
    })
    .await;
    assert_protocol_error(&conn, "truncated response").await;
}

#[tokio::test]
async fn closed_by_broker_is_disconnected() {
    let conn = connect_to(|mut server| async move {
        read_request(&mut server).await;
        drop(server);
    })
    .await;
    let err = conn
        .send(&MetadataRequest::default().with_topics(None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Disconnected { .. }), "{err}");
    assert!(err.is_retriable());
}

#[tokio::test]
async fn falls_back_to_the_api_versions_version_the_broker_knows() {
    let (client, mut server) = tokio::io::duplex(1 << 16);
    let broker = tokio::spawn(async move {
        let (_, first_version, id) = read_request(&mut server).await;
        // An older broker answers an unknown ApiVersions version in version 0, with
        // UNSUPPORTED_VERSION and its own ApiVersions range.
        let mut body = Vec::new();
        body.put_i32(id);
        ApiVersionsResponse::default()
            .with_error_code(35)
            .with_api_keys(vec![
                ApiVersion::default().with_api_key(18).with_max_version(2),
            ])
            .encode(&mut body, 0)
            .unwrap();
        write_frame(&mut server, &body).await;
        let (_, second_version, id) = read_request(&mut server).await;
        let mut body = Vec::new();
        body.put_i32(id);
        ApiVersionsResponse::default()
            .with_api_keys(vec![
                ApiVersion::default().with_api_key(18).with_max_version(2),
                ApiVersion::default()
                    .with_api_key(3)
                    .with_min_version(1)
                    .with_max_version(5),
            ])
            .encode(&mut body, second_version)
            .unwrap();
        write_frame(&mut server, &body).await;
        (first_version, second_version, server)
    });
    let connector = Prepared(Mutex::new(Some(client)));
    let conn = Connection::connect(&connector, "memory", 1, ConnectionConfig::default())
        .await
        .unwrap();
    let (first, second, _server) = broker.await.unwrap();
    assert_eq!((first, second), (4, 2));
    let metadata = conn.version_of::<MetadataRequest>().unwrap();
    assert_eq!((metadata.min, metadata.max), (1, 5));
}

#[tokio::test]
async fn requests_without_response_do_not_wait() {
    let conn = connect_to(|mut server| async move {
        let (_, _, unanswered) = read_request(&mut server).await;
        let (_, version, answered) = read_request(&mut server).await;
        assert_eq!(answered, unanswered + 1);
        answer_metadata(&mut server, answered, version).await;
        std::future::pending::<()>().await;
    })
    .await;
    let request = MetadataRequest::default().with_topics(None);
    conn.send_without_response(&request).unwrap();
    let response = conn.send(&request).await.unwrap();
    assert!(response.brokers.is_empty());
}

#[tokio::test]
async fn a_request_with_its_own_timeout_outlives_request_timeout() {
    let (held, held_rx) = oneshot::channel();
    let (release, release_rx) = oneshot::channel::<()>();
    let conn = connect_with(short_timeout(), |mut server| async move {
        let (_, version, long) = read_request(&mut server).await;
        let _ = held.send(());
        // Requests sent while the long one waits are answered at once.
        for _ in 0..2 {
            let (_, version, short) = read_request(&mut server).await;
            answer_metadata(&mut server, short, version).await;
        }
        let _ = release_rx.await;
        answer_metadata(&mut server, long, version).await;
        std::future::pending::<()>().await;
    })
    .await;
    let request = MetadataRequest::default().with_topics(None);
    let long = conn.send_with_timeout(&request, Duration::from_secs(60));
    let others = async {
        held_rx.await.unwrap();
        conn.send(&request).await.unwrap();
        // The point of the test is time passing: the long request is now older than the
        // connection's request timeout.
        tokio::time::sleep(SHORT * 2).await;
        conn.send(&request).await.unwrap();
        release.send(()).unwrap();
    };
    let (long, ()) = tokio::join!(long, others);
    long.unwrap();
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn a_timed_out_request_closes_the_connection_and_fails_the_rest() {
    let conn = connect_with(short_timeout(), |mut server| async move {
        read_request(&mut server).await;
        read_request(&mut server).await;
        std::future::pending::<()>().await;
    })
    .await;
    let request = MetadataRequest::default().with_topics(None);
    let (long, short) = tokio::join!(
        conn.send_with_timeout(&request, Duration::from_secs(60)),
        conn.send(&request),
    );
    assert!(
        matches!(short, Err(Error::Timeout { after, .. }) if after == SHORT),
        "{short:?}"
    );
    // The long request goes down with its connection, as in Java's client.
    assert!(
        matches!(long, Err(Error::Timeout { after, .. }) if after == SHORT),
        "{long:?}"
    );
    assert!(conn.is_closed());

    // Its own timeout closes the connection just the same.
    let conn = connect_with(short_timeout(), |mut server| async move {
        read_request(&mut server).await;
        std::future::pending::<()>().await;
    })
    .await;
    let own = SHORT * 2;
    let long = conn.send_with_timeout(&request, own).await;
    assert!(
        matches!(long, Err(Error::Timeout { after, .. }) if after == own),
        "{long:?}"
    );
    assert!(conn.is_closed());
}
