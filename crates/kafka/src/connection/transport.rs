//! The byte stream under a connection, and how it is opened.
//!
//! Everything above this module only sees a [`Transport`]: TLS (rustls) becomes another
//! [`Connector`] that wraps the TCP stream it opens, without changes to framing, negotiation
//! or the cluster layer.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A bidirectional byte stream to a broker.
pub trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Transport for T {}

/// A transport of any kind.
pub type BoxTransport = Box<dyn Transport>;

/// The future returned by [`Connector::connect`].
pub type ConnectFuture<'a> = Pin<Box<dyn Future<Output = io::Result<BoxTransport>> + Send + 'a>>;

/// Opens transports to brokers. Implementations decide the security layer (plain TCP, TLS).
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use ferry_kafka::connection::{Connector, TcpConnector};
/// let stream = TcpConnector.connect("127.0.0.1", 9092).await?;
/// # Ok(()) }
/// ```
pub trait Connector: Debug + Send + Sync + 'static {
    /// Opens a transport to `host:port`. Timeouts are applied by the caller.
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> ConnectFuture<'a>;
}

/// Plain TCP (`security.protocol=PLAINTEXT`), with Nagle's algorithm off as in Java's client.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpConnector;

impl Connector for TcpConnector {
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> ConnectFuture<'a> {
        Box::pin(async move {
            let stream = TcpStream::connect((host, port)).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxTransport)
        })
    }
}
