//! An HTTPS listener for `axum::serve`: TLS handshakes run in their own tasks, so a slow or
//! failing client never holds up the others, and only connections that completed one reach the
//! server.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete the handshake (Jetty's idle timeout bounds it too).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How many handshaken connections may wait for the server to take them.
const BACKLOG: usize = 64;

/// A bound TCP listener whose connections are served over TLS.
#[derive(Debug)]
pub struct HttpsListener {
    local: SocketAddr,
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: JoinHandle<()>,
}

impl HttpsListener {
    /// Starts accepting connections on `tcp` (bound to `local`) and handshaking them with
    /// `config`.
    pub fn new(tcp: TcpListener, local: SocketAddr, config: Arc<ServerConfig>) -> Self {
        let (sender, accepted) = mpsc::channel(BACKLOG);
        let acceptor = tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), sender));
        Self {
            local,
            accepted,
            acceptor,
        }
    }
}

impl Drop for HttpsListener {
    fn drop(&mut self) {
        // axum drops the listener when it shuts down; the port must close with it.
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for HttpsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(connection) => connection,
            // Only once the accept loop died, which it does not while the receiver lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    sender: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: back off as axum's own listener does.
                tracing::error!(%error, "accepting an HTTPS connection failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = sender.send((tls, peer)).await;
                }
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}
