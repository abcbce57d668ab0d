//! The HTTP client workers use to talk to each other, Java's `RestClient`: forwarded user requests
//! and signed internal requests, over http or https. Its errors carry the status Java's Connect
//! would answer with.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::config::RestConfig;
use super::signature::{SIGNATURE_ALGORITHM_HEADER, SIGNATURE_HEADER, SignatureError};
use super::ssl::SslConfig;
use crate::herder::{ErrorMessage, RequestSignature};

/// A worker's answer to a request that succeeded (2xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestResponse {
    /// The status.
    pub status: u16,
    /// The body (empty for 204).
    pub body: Bytes,
}

/// A request that failed, with the status and `{"error_code", "message"}` to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RestClientError {
    /// The HTTP status.
    pub status: u16,
    /// The `error_code` (the status, unless the other worker said otherwise).
    pub error_code: u16,
    /// The message.
    pub message: String,
}

impl RestClientError {
    fn internal(message: String) -> Self {
        Self {
            status: 500,
            error_code: 500,
            message,
        }
    }
}

impl From<SignatureError> for RestClientError {
    fn from(error: SignatureError) -> Self {
        Self::internal(error.to_string())
    }
}

/// How to sign a request: the session key and the algorithm.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    /// The session key.
    pub key: &'a [u8],
    /// The algorithm, e.g. `HmacSHA256`.
    pub algorithm: &'a str,
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// An HTTP(S) client for other workers' REST APIs.
///
/// https URLs use the TLS settings of [`RestClient::from_config`] (the trust store, the host
/// name check of `ssl.endpoint.identification.algorithm`), loaded on the first https request
/// only, as Java loads them only for https URLs (KAFKA-14816).
///
/// ```no_run
/// # async fn run() -> Result<(), ferry_runtime::rest::RestClientError> {
/// use axum::http::Method;
/// use ferry_runtime::rest::{RestClient, Signing};
/// let client = RestClient::new();
/// let signing = Signing { key: b"session key", algorithm: "HmacSHA256" };
/// client
///     .request("http://leader:8083/connectors/c/tasks", Method::POST, None, Some(b"[]".to_vec()), Some(signing))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RestClient {
    http: Client<HttpConnector, Full<Bytes>>,
    https: Arc<OnceLock<HttpsClient>>,
    ssl: SslConfig,
    timeout: Duration,
}

impl Default for RestClient {
    fn default() -> Self {
        Self::new()
    }
}

impl RestClient {
    /// A client whose requests time out after Java's REST request timeout (90 s), and whose
    /// https requests trust the system's CA certificates.
    pub fn new() -> Self {
        Self::with_timeout(super::config::DEFAULT_REQUEST_TIMEOUT)
    }

    /// A client whose requests time out after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self::with_ssl(SslConfig::default(), timeout)
    }

    /// The client a worker with `config` uses: its request timeout, and for https its
    /// `listeners.https.ssl.*` (else `ssl.*`) settings, as Java's `RestClient`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use ferry_runtime::rest::{RestClient, RestConfig};
    /// let props = HashMap::from([
    ///     ("ssl.truststore.type".to_owned(), "PEM".to_owned()),
    ///     ("ssl.truststore.location".to_owned(), "/etc/connect/ca.pem".to_owned()),
    /// ]);
    /// let client = RestClient::from_config(&RestConfig::from_props(&props).unwrap());
    /// ```
    pub fn from_config(config: &RestConfig) -> Self {
        Self::with_ssl(config.ssl.clone(), config.request_timeout)
    }

    fn with_ssl(ssl: SslConfig, timeout: Duration) -> Self {
        Self {
            http: Client::builder(TokioExecutor::new()).build_http(),
            https: Arc::new(OnceLock::new()),
            ssl,
            timeout,
        }
    }

    /// The https client, built on first use; a failure is not kept, so a fixed trust store is
    /// picked up by the next request.
    fn https(&self) -> Result<&HttpsClient, RestClientError> {
        if let Some(client) = self.https.get() {
            return Ok(client);
        }
        let tls = self
            .ssl
            .client_config()
            .map_err(|e| RestClientError::internal(format!("Failed to start RestClient: {e}")))?;
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls.as_ref().clone())
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(self.https.get_or_init(|| client))
    }

    /// Sends `body` (JSON) to `url` with `method`, passing on the caller's `Authorization`
    /// header as Java does, and signing the body when asked. Answers ≥ 400 become errors with
    /// the other worker's status and message; other answers outside 2xx become 500s.
    pub async fn request(
        &self,
        url: &str,
        method: Method,
        authorization: Option<&HeaderValue>,
        body: Option<Vec<u8>>,
        signing: Option<Signing<'_>>,
    ) -> Result<RestResponse, RestClientError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(url)
            .header(header::ACCEPT, "application/json")
            .header(header::USER_AGENT, "kafka-connect");
        if let Some(authorization) = authorization {
            builder = builder.header(header::AUTHORIZATION, authorization);
        }
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(Signing { key, algorithm }) = signing {
            let signed = RequestSignature::sign(key, algorithm, body.clone().unwrap_or_default())?;
            builder = builder
                .header(SIGNATURE_HEADER, signed.signature)
                .header(SIGNATURE_ALGORITHM_HEADER, signed.algorithm);
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| {
                RestClientError::internal(format!("Error trying to forward REST request: {e}"))
            })?;
        let io_error = |e: &dyn std::fmt::Display| {
            RestClientError::internal(format!("IO Error trying to forward REST request: {e}"))
        };
        let sent = if request.uri().scheme_str() == Some("https") {
            self.https()?.request(request)
        } else {
            self.http.request(request)
        };
        let exchange = async {
            let response = sent.await.map_err(|e| io_error(&e))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| io_error(&e))?
                .to_bytes();
            Ok::<_, RestClientError>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| io_error(&"request timed out"))??;
        match status {
            204 => Ok(RestResponse {
                status,
                body: Bytes::new(),
            }),
            200..=299 => Ok(RestResponse { status, body }),
            400.. => {
                let error: ErrorMessage = serde_json::from_slice(&body).map_err(|e| {
                    RestClientError::internal(format!("Error trying to forward REST request: {e}"))
                })?;
                Err(RestClientError {
                    status,
                    error_code: error.error_code,
                    message: error.message,
                })
            }
            _ => Err(RestClientError::internal(format!(
                "Unexpected status code when handling forwarded request: {status}"
            ))),
        }
    }
}
