//! Single-broker test clusters: one tansu process each, in-memory storage, on a free port.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::{Buf, BufMut, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::paths::tansu_bin;
use crate::process::{ChildGuard, free_port};

/// How long a broker may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Start attempts: a free port can be taken by someone else between choosing and binding it.
const START_ATTEMPTS: usize = 3;

/// A running single-broker Kafka cluster, independent of every other one; stopped on drop.
#[derive(Debug)]
pub struct Cluster {
    port: u16,
    advertised_port: u16,
    name: String,
    process: ChildGuard,
}

impl Cluster {
    /// Starts a cluster on a free port and waits until it answers ApiVersions.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_inner(None).await
    }

    /// Starts a cluster that advertises `advertised_port` on 127.0.0.1 in its metadata instead of
    /// its own port, so that every client connection goes through whatever listens there (a
    /// fault-injecting proxy).
    pub async fn start_advertising(advertised_port: u16) -> anyhow::Result<Self> {
        Self::start_inner(Some(advertised_port)).await
    }

    /// Starts `N` independent clusters in parallel.
    pub async fn start_many<const N: usize>() -> anyhow::Result<[Self; N]> {
        let started = futures_join_all((0..N).map(|_| Self::start())).await;
        let clusters = started.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        Ok(clusters
            .try_into()
            .unwrap_or_else(|_| unreachable!("N clusters were started")))
    }

    async fn start_inner(advertised: Option<u16>) -> anyhow::Result<Self> {
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(advertised).await {
                Ok(cluster) => return Ok(cluster),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("at least one attempt was made"))
    }

    async fn try_start(advertised: Option<u16>) -> anyhow::Result<Self> {
        let port = free_port()?;
        let advertised_port = advertised.unwrap_or(port);
        let name = format!("ferry-test-{port}");
        let bin = tansu_bin();
        if !bin.exists() {
            bail!(
                "test broker not installed at {}: run scripts/install-deps",
                bin.display()
            );
        }
        let mut command = Command::new(&bin);
        command
            .arg("broker")
            .arg("--listener-url")
            .arg(format!("tcp://127.0.0.1:{port}"))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{advertised_port}"))
            .arg("--storage-engine")
            .arg("memory://tansu/")
            .arg("--cluster-id")
            .arg(&name)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("SCHEMA_REGISTRY");
        let log = std::env::temp_dir().join(format!("{name}.log"));
        let mut process = ChildGuard::spawn(command, log)?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = process.try_wait()? {
                bail!(
                    "broker exited with {status} before it was ready:\n{}",
                    process.log_tail(20)
                );
            }
            if api_versions(port).await.is_ok() {
                return Ok(Self {
                    port,
                    advertised_port,
                    name,
                    process,
                });
            }
            if Instant::now() > deadline {
                bail!(
                    "broker on port {port} did not answer within {READY_TIMEOUT:?}:\n{}",
                    process.log_tail(20)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `host:port` for clients' `bootstrap.servers` (the advertised address).
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.advertised_port)
    }

    /// The port the broker itself listens on (differs from the advertised one behind a proxy).
    pub fn listen_port(&self) -> u16 {
        self.port
    }

    /// The cluster id the broker reports.
    pub fn cluster_id(&self) -> &str {
        &self.name
    }

    /// The broker's output so far, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }
}

/// Sends one ApiVersions request and checks that a well-formed answer comes back.
async fn api_versions(port: u16) -> anyhow::Result<ApiVersionsResponse> {
    const VERSION: i16 = 0;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::ApiVersions as i16)
        .with_request_api_version(VERSION)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("ferry-testkit")));
    let mut body = BytesMut::new();
    header.encode(
        &mut body,
        ApiKey::ApiVersions.request_header_version(VERSION),
    )?;
    ApiVersionsRequest::default().encode(&mut body, VERSION)?;
    let mut frame = BytesMut::with_capacity(body.len() + 4);
    frame.put_i32(i32::try_from(body.len())?);
    frame.extend_from_slice(&body);
    let io = async {
        stream.write_all(&frame).await?;
        let len = usize::try_from(stream.read_i32().await?)?;
        let mut buf = vec![0u8; len];
        stream.read_exact(&mut buf).await?;
        anyhow::Ok(buf)
    };
    let buf = tokio::time::timeout(Duration::from_secs(2), io)
        .await
        .context("ApiVersions timed out")??;
    let mut buf = bytes::Bytes::from(buf);
    let correlation = buf.get_i32();
    anyhow::ensure!(correlation == 1, "unexpected correlation id {correlation}");
    let response = ApiVersionsResponse::decode(&mut buf, VERSION)?;
    anyhow::ensure!(
        response.error_code == 0,
        "ApiVersions error {}",
        response.error_code
    );
    Ok(response)
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("cluster start task panicked"));
    }
    out
}
