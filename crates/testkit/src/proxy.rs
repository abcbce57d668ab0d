//! A fault-injecting TCP proxy to put between clients and a broker: cut every connection,
//! stall traffic, refuse new connections, or garble what the broker sends.
//!
//! Start the broker with [`Cluster::start_advertising`](crate::Cluster::start_advertising) on
//! the proxy's port so that every client connection, not only the bootstrap one, passes
//! through the proxy:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use ferry_testkit::{Cluster, FaultProxy, free_port};
//! let proxy_port = free_port()?;
//! let cluster = Cluster::start_advertising(proxy_port).await?;
//! let proxy = FaultProxy::start(proxy_port, cluster.listen_port()).await?;
//! // … clients use cluster.bootstrap(), which is the proxy …
//! proxy.cut_all();
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// A running proxy from `127.0.0.1:listen_port` to `127.0.0.1:upstream_port`; stops, and
/// resets every connection through it, when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    port: u16,
    control: Arc<Control>,
    acceptor: AbortHandle,
}

#[derive(Debug)]
struct Control {
    /// Bumped to reset every connection open at that moment.
    cuts: watch::Sender<u64>,
    stalled: watch::Sender<bool>,
    rejecting: AtomicBool,
    garbling: AtomicBool,
    accepted: AtomicUsize,
    rejected: AtomicUsize,
}

impl FaultProxy {
    /// Listens on `listen_port` and forwards every connection to `upstream_port`, both on
    /// 127.0.0.1.
    pub async fn start(listen_port: u16, upstream_port: u16) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", listen_port)).await?;
        let control = Arc::new(Control {
            cuts: watch::channel(0).0,
            stalled: watch::channel(false).0,
            rejecting: AtomicBool::new(false),
            garbling: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
        });
        let acceptor = tokio::spawn(accept_loop(listener, upstream_port, control.clone()));
        Ok(Self {
            port: listen_port,
            control,
            acceptor: acceptor.abort_handle(),
        })
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Resets (TCP RST) every connection open now, on both sides. New connections are still
    /// accepted.
    pub fn cut_all(&self) {
        self.control.cuts.send_modify(|n| *n += 1);
    }

    /// While `true`, no byte is forwarded in either direction; connections stay open.
    pub fn stall(&self, stalled: bool) {
        self.control.stalled.send_replace(stalled);
    }

    /// While `true`, new connections are reset as soon as they are accepted.
    pub fn reject(&self, rejecting: bool) {
        self.control.rejecting.store(rejecting, Ordering::SeqCst);
    }

    /// While `true`, every byte from the broker to clients is replaced by `0xff`, so that
    /// clients read a frame size of -1: a malformed response.
    pub fn garble(&self, garbling: bool) {
        self.control.garbling.store(garbling, Ordering::SeqCst);
    }

    /// How many connections were accepted and forwarded so far.
    pub fn accepted(&self) -> usize {
        self.control.accepted.load(Ordering::SeqCst)
    }

    /// How many connections were reset on arrival because of [`FaultProxy::reject`].
    pub fn rejected(&self) -> usize {
        self.control.rejected.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut_all();
    }
}

async fn accept_loop(listener: TcpListener, upstream_port: u16, control: Arc<Control>) {
    while let Ok((client, _)) = listener.accept().await {
        if control.rejecting.load(Ordering::SeqCst) {
            control.rejected.fetch_add(1, Ordering::SeqCst);
            let _ = client.set_zero_linger();
            continue;
        }
        control.accepted.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(pipe(client, upstream_port, control.clone()));
    }
}

/// Forwards one connection until either side closes or the connection is cut.
async fn pipe(mut client: TcpStream, upstream_port: u16, control: Arc<Control>) {
    let mut cuts = control.cuts.subscribe();
    cuts.mark_unchanged();
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let cut = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = upstream.split();
        let to_upstream = forward(client_read, upstream_write, &control, false);
        let to_client = forward(upstream_read, client_write, &control, true);
        tokio::select! {
            _ = async { tokio::join!(to_upstream, to_client) } => false,
            _ = cuts.changed() => true,
        }
    };
    if cut {
        let _ = client.set_zero_linger();
        let _ = upstream.set_zero_linger();
    }
}

/// Copies bytes one way, holding them while the proxy is stalled.
async fn forward<R, W>(mut from: R, mut to: W, control: &Control, garble: bool)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut stalled = control.stalled.subscribe();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if stalled.wait_for(|s| !*s).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        if stalled.wait_for(|s| !*s).await.is_err() {
            return;
        }
        if garble && control.garbling.load(Ordering::SeqCst) {
            buf[..n].fill(0xff);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that echoes every byte back.
    async fn echo_server() -> u16 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = stream.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        port
    }

    async fn round_trip(stream: &mut TcpStream) -> std::io::Result<[u8; 3]> {
        stream.write_all(b"abc").await?;
        let mut buf = [0u8; 3];
        stream.read_exact(&mut buf).await?;
        Ok(buf)
    }

    #[tokio::test]
    async fn forwards_cuts_rejects_and_garbles() {
        let port = crate::free_port().unwrap();
        let proxy = FaultProxy::start(port, echo_server().await).await.unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        assert_eq!(&round_trip(&mut client).await.unwrap(), b"abc");
        assert_eq!(proxy.accepted(), 1);

        proxy.garble(true);
        assert_eq!(round_trip(&mut client).await.unwrap(), [0xff; 3]);
        proxy.garble(false);

        proxy.cut_all();
        let mut buf = [0u8; 1];
        let after_cut = client.read(&mut buf).await;
        assert!(
            matches!(&after_cut, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
            "{after_cut:?}"
        );

        proxy.reject(true);
        let mut refused = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        assert!(round_trip(&mut refused).await.is_err());
        assert_eq!((proxy.accepted(), proxy.rejected()), (1, 1));
        proxy.reject(false);

        let mut again = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        assert_eq!(&round_trip(&mut again).await.unwrap(), b"abc");
        assert_eq!(proxy.accepted(), 2);
    }

    #[tokio::test]
    async fn holds_bytes_while_stalled() {
        let port = crate::free_port().unwrap();
        let proxy = FaultProxy::start(port, echo_server().await).await.unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        proxy.stall(true);
        client.write_all(b"abc").await.unwrap();
        let mut buf = [0u8; 3];
        let stalled = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            client.read_exact(&mut buf),
        )
        .await;
        assert!(stalled.is_err(), "nothing comes back while stalled");
        proxy.stall(false);
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abc");
    }
}
