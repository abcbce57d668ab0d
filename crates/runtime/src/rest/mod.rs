//! Kafka Connect's REST API: the server every worker runs (Java's `ConnectRestServer` and its
//! resources), the client workers use to forward requests to the leader and to send each other
//! signed internal requests, and the run-time log level control behind `/admin/loggers`.
//!
//! Paths, query parameters, JSON bodies and status codes are Java's, and every error is
//! `{"error_code": N, "message": "..."}`. The server is written against the
//! [`Herder`](crate::herder::Herder) trait; when the herder answers
//! [`NotLeader`](crate::herder::HerderError::NotLeader), the request goes on to the leader as Java's
//! `HerderRequestHandler` sends it.
//!
//! | module | Java counterpart |
//! | --- | --- |
//! | [`config`] | `RestServerConfig` |
//! | `server` | `RestServer`, `ConnectRestServer` |
//! | `routes` | `rest.resources.*` |
//! | `forward` | `HerderRequestHandler` |
//! | `client` | `RestClient` |
//! | [`ssl`] | `SSLUtils` |
//! | `https` | Jetty's `SslConnectionFactory` |
//! | [`signature`] | `InternalRequestSignature` |
//! | `logging` | `Loggers` |
//! | `namespaces` | dedicated MirrorMaker 2's per-flow paths (KIP-710) |
//! | `filters` | Jetty's `CrossOriginFilter` and `HeaderFilter` |

mod client;
pub mod config;
mod error;
mod filters;
mod forward;
mod https;
mod logging;
mod namespaces;
mod request;
mod routes;
mod server;
pub mod signature;
pub mod ssl;

pub use client::{RestClient, RestClientError, RestResponse, Signing};
pub use config::{HeaderAction, HeaderRule, Listener, Protocol, RestConfig};
pub use logging::{InvalidLogLevel, LogLevel, LogLevels, ROOT_LOGGER, TracingLogLevels};
pub use namespaces::RestNamespace;
pub use server::{RestError, RestListeners, RestServer};
pub use ssl::SslConfig;
