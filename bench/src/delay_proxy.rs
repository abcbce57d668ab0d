//! A userspace latency link: a TCP proxy that delays every chunk by half the round-trip time in
//! each direction, for machines whose kernel has no `sch_netem`.
//!
//! Each direction is a reader that stamps every chunk with the instant it may leave and a writer
//! that sleeps until that instant, then writes. Deadlines are absolute, so a writer that falls
//! behind never sleeps again until it has caught up: the link adds latency, not a bandwidth cap.
//! Chunks that are already due are written together. The queue between them is bounded (about
//! `QUEUE_CHUNKS` × `CHUNK` bytes in flight per direction), which is far above any
//! bandwidth-delay product a benchmark here reaches, and gives back-pressure beyond it.

use std::time::Duration;

use anyhow::Context;
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::DelayProxyArgs;

/// Largest read from one side.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight per direction (16,384 × 64 KiB = 1 GiB at most, reached only by a reader
/// that outruns its writer that far).
const QUEUE_CHUNKS: usize = 16_384;
/// The granularity of Tokio's timer.
const TIMER_TICK: Duration = Duration::from_millis(1);
/// Most bytes gathered from due chunks into one write.
const GATHER: usize = 1024 * 1024;

pub async fn run(args: &DelayProxyArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", args.listen))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", args.listen))?;
    eprintln!(
        "delay-proxy: 127.0.0.1:{} -> {} with {} ms round trip",
        args.listen, args.upstream, args.rtt_ms
    );
    serve(
        listener,
        args.upstream.clone(),
        Duration::from_secs_f64(args.rtt_ms / 2000.0),
    )
    .await
}

/// Relays every connection `listener` accepts to `upstream`, `one_way` late in each direction.
async fn serve(listener: TcpListener, upstream: String, one_way: Duration) -> anyhow::Result<()> {
    loop {
        let (client, _) = listener.accept().await?;
        let upstream = upstream.clone();
        tokio::spawn(async move {
            if let Err(e) = relay(client, &upstream, one_way).await {
                eprintln!("delay-proxy: connection ended: {e:#}");
            }
        });
    }
}

async fn relay(client: TcpStream, upstream: &str, one_way: Duration) -> anyhow::Result<()> {
    let server = TcpStream::connect(upstream)
        .await
        .with_context(|| format!("connecting to {upstream}"))?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = direction(client_read, server_write, one_way);
    let down = direction(server_read, client_write, one_way);
    // When one direction fails the connection is over: dropping the other closes both sockets.
    tokio::try_join!(up, down)?;
    Ok(())
}

/// Copies one direction with the delay, then half-closes the far side once the near side ends.
async fn direction(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    one_way: Duration,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel(QUEUE_CHUNKS);
    tokio::try_join!(read_side(from, tx, one_way), write_side(to, rx))?;
    Ok(())
}

async fn read_side(
    mut from: OwnedReadHalf,
    tx: mpsc::Sender<(Instant, Bytes)>,
    one_way: Duration,
) -> anyhow::Result<()> {
    let mut buf = BytesMut::with_capacity(CHUNK);
    loop {
        buf.reserve(CHUNK);
        if from.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        let chunk = buf.split().freeze();
        if tx.send((Instant::now() + one_way, chunk)).await.is_err() {
            return Ok(());
        }
    }
}

async fn write_side(
    mut to: OwnedWriteHalf,
    mut rx: mpsc::Receiver<(Instant, Bytes)>,
) -> anyhow::Result<()> {
    let mut out = Vec::with_capacity(GATHER);
    let mut next = None;
    loop {
        let (due, chunk) = match next.take() {
            Some(item) => item,
            None => match rx.recv().await {
                Some(item) => item,
                None => break,
            },
        };
        // Tokio's timer fires on the first whole millisecond after a deadline, so it is asked
        // for one millisecond early (the link is then accurate to about ±0.5 ms per direction),
        // and a chunk already due does not wait for a tick at all.
        if due > Instant::now() {
            tokio::time::sleep_until(due - TIMER_TICK).await;
        }
        out.extend_from_slice(&chunk);
        // Everything else already due leaves in the same write.
        let now = Instant::now();
        while out.len() < GATHER {
            match rx.try_recv() {
                Ok((due, chunk)) if due <= now => out.extend_from_slice(&chunk),
                Ok(later) => {
                    next = Some(later);
                    break;
                }
                Err(_) => break,
            }
        }
        to.write_all(&out).await?;
        out.clear();
    }
    to.shutdown().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts an echo server behind the proxy; returns the proxy's address.
    async fn echo_behind_proxy(one_way: Duration) -> String {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = echo.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            loop {
                let (mut conn, _) = echo.accept().await.unwrap();
                tokio::spawn(async move {
                    let (mut r, mut w) = conn.split();
                    tokio::io::copy(&mut r, &mut w).await.unwrap();
                });
            }
        });
        let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = proxy.local_addr().unwrap().to_string();
        tokio::spawn(serve(proxy, upstream, one_way));
        address
    }

    #[tokio::test]
    async fn relays_every_byte_in_order() {
        let address = echo_behind_proxy(Duration::from_millis(5)).await;
        let sent: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
        let (mut r, mut w) = TcpStream::connect(address).await.unwrap().into_split();
        let writer = {
            let sent = sent.clone();
            tokio::spawn(async move {
                w.write_all(&sent).await.unwrap();
                w.shutdown().await.unwrap();
            })
        };
        let mut received = Vec::new();
        r.read_to_end(&mut received).await.unwrap();
        writer.await.unwrap();
        assert_eq!(received.len(), sent.len());
        assert!(received == sent, "bytes reordered or altered");
    }

    #[tokio::test]
    async fn a_round_trip_takes_at_least_the_rtt() {
        let one_way = Duration::from_millis(20);
        let address = echo_behind_proxy(one_way).await;
        let mut conn = TcpStream::connect(address).await.unwrap();
        conn.set_nodelay(true).unwrap();
        let mut byte = [0u8; 1];
        for _ in 0..3 {
            let start = std::time::Instant::now();
            conn.write_all(b"p").await.unwrap();
            conn.read_exact(&mut byte).await.unwrap();
            // The timer is asked a tick early in each direction, so that much may be missing.
            assert!(start.elapsed() >= 2 * (one_way - TIMER_TICK));
        }
    }
}
