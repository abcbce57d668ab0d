//! The REST server: binds the listeners, serves the Connect API on them (and the admin endpoints
//! where `admin.listeners` says), and works out the URL this worker advertises to the others.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::uri::PathAndQuery;
use axum::http::{Method, StatusCode, Uri};
use axum::{Router, ServiceExt};
use ferry_connect::ConfigError;
use ferry_connect::plugin::PluginRegistry;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

use super::client::RestClient;
use super::config::{Listener, Protocol, RestConfig};
use super::error::ApiError;
use super::filters;
use super::https::HttpsListener;
use super::logging::LogLevels;
use super::namespaces::{self, RestNamespace};
use super::routes;
use super::ssl::SslConfig;
use crate::herder::{Herder, HerderError, HerderResult};

/// Why the REST server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// A setting is invalid or not supported.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener could not be bound.
    #[error("cannot listen on {listener}: {source}")]
    Bind {
        /// The listener.
        listener: String,
        /// Why.
        source: io::Error,
    },
}

/// What every route handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

struct Shared {
    herder: Arc<dyn Herder>,
    plugins: Arc<PluginRegistry>,
    loggers: Arc<dyn LogLevels>,
    config: RestConfig,
    client: RestClient,
}

impl AppState {
    /// The herder.
    pub fn herder(&self) -> &dyn Herder {
        self.0.herder.as_ref()
    }

    /// The installed plugins.
    pub fn plugins(&self) -> &PluginRegistry {
        &self.0.plugins
    }

    /// The worker's loggers.
    pub fn loggers(&self) -> &dyn LogLevels {
        self.0.loggers.as_ref()
    }

    /// The server's settings.
    pub fn config(&self) -> &RestConfig {
        &self.0.config
    }

    /// The client for forwarded requests.
    pub fn client(&self) -> &RestClient {
        &self.0.client
    }

    /// Runs a herder call, giving up after the request timeout as Java's handler does.
    pub async fn call<T>(&self, call: impl Future<Output = HerderResult<T>>) -> HerderResult<T> {
        tokio::time::timeout(self.config().request_timeout, call)
            .await
            .unwrap_or(Err(HerderError::Timeout))
    }
}

/// Where the REST server will serve, known before it serves: Java binds its listeners before
/// the herder exists, because the herder needs the advertised URL (the worker id, the URL the
/// leader gives out).
#[derive(Debug)]
pub struct RestListeners {
    config: RestConfig,
    main: Vec<Bound>,
    admin: Vec<Bound>,
    addresses: Addresses,
}

/// A bound listener, with its TLS settings when it is an https one.
#[derive(Debug)]
struct Bound {
    tcp: TcpListener,
    local: SocketAddr,
    tls: Option<Arc<ServerConfig>>,
}

#[derive(Debug, Clone)]
struct Addresses {
    advertised_url: String,
    admin_url: Option<String>,
    local: Vec<SocketAddr>,
    admin: Vec<SocketAddr>,
}

impl RestListeners {
    /// Binds every listener of `config` (nothing is served until [`RestListeners::serve`]).
    ///
    /// https listeners load their key store (and trust store) here, so a bad one stops the
    /// worker at start-up, as Jetty's does.
    pub async fn bind(config: RestConfig) -> Result<Self, RestError> {
        let admin_listeners = config.admin_listeners.clone().unwrap_or_default();
        let main = bind_all(&config.listeners, &config.ssl).await?;
        let admin = bind_all(&admin_listeners, &config.admin_ssl).await?;
        let local: Vec<SocketAddr> = main.iter().map(|b| b.local).collect();
        let admin_local: Vec<SocketAddr> = admin.iter().map(|b| b.local).collect();
        let advertised_url = advertised_url(&config, &local);
        let admin_url = match &config.admin_listeners {
            None => Some(advertised_url.clone()),
            // Java takes the scheme from the first main listener (Jetty's server URI), which
            // names an https admin listener http; the admin listener's own scheme is the one
            // that reaches it.
            Some(_) => admin_listeners
                .first()
                .zip(admin_local.first())
                .map(|(l, addr)| {
                    format!(
                        "{}://{}:{}/",
                        l.protocol.scheme(),
                        url_host(&server_uri_host(&config)),
                        addr.port()
                    )
                }),
        };
        let addresses = Addresses {
            advertised_url,
            admin_url,
            local,
            admin: admin_local,
        };
        Ok(Self {
            config,
            main,
            admin,
            addresses,
        })
    }

    /// The URL other workers and clients reach this worker at, e.g. `http://host:8083/`.
    pub fn advertised_url(&self) -> &str {
        &self.addresses.advertised_url
    }

    /// The worker id Java derives from the advertised URL: `host:port`.
    ///
    /// ```
    /// # async fn run() {
    /// use std::collections::HashMap;
    /// use ferry_runtime::rest::{RestConfig, RestListeners};
    /// let props = HashMap::from([
    ///     ("listeners".to_owned(), "http://127.0.0.1:0".to_owned()),
    ///     ("rest.advertised.port".to_owned(), "8083".to_owned()),
    /// ]);
    /// let listeners = RestListeners::bind(RestConfig::from_props(&props).unwrap()).await.unwrap();
    /// assert_eq!(listeners.worker_id(), "127.0.0.1:8083");
    /// # }
    /// ```
    pub fn worker_id(&self) -> String {
        worker_id(&self.addresses.advertised_url)
    }

    /// Starts serving the API of `herder`.
    pub fn serve(
        self,
        herder: Arc<dyn Herder>,
        plugins: Arc<PluginRegistry>,
        loggers: Arc<dyn LogLevels>,
    ) -> RestServer {
        let with_admin = self.config.admin_listeners.is_none();
        let state = AppState(Arc::new(Shared {
            herder,
            plugins,
            loggers,
            client: RestClient::from_config(&self.config),
            config: self.config.clone(),
        }));
        let main_app = main_router(state.clone(), with_admin);
        let admin_app = finish(routes::admin_routes(), state);
        self.serve_apps(main_app, admin_app)
    }

    /// Starts serving several herders' APIs on the same listeners, each under its
    /// [`RestNamespace::path`] (`GET /A/B/connectors`, …), with `GET /` listing the namespaces
    /// and the admin endpoints served once, by the first namespace's herder.
    ///
    /// Give each herder `advertised_url()` followed by its path and a slash as its own URL:
    /// requests forwarded to a leader then reach the leader's namespace, as Java's dedicated
    /// MirrorMaker 2 forwards them (KIP-710).
    ///
    /// # Panics
    /// When `namespaces` is empty.
    pub fn serve_namespaces(
        self,
        namespaces: Vec<RestNamespace>,
        plugins: Arc<PluginRegistry>,
        loggers: Arc<dyn LogLevels>,
    ) -> RestServer {
        let with_admin = self.config.admin_listeners.is_none();
        let client = RestClient::from_config(&self.config);
        let state_of = |herder: Arc<dyn Herder>| {
            AppState(Arc::new(Shared {
                herder,
                plugins: plugins.clone(),
                loggers: loggers.clone(),
                client: client.clone(),
                config: self.config.clone(),
            }))
        };
        let mut nested = Vec::with_capacity(namespaces.len());
        for namespace in namespaces {
            let state = state_of(namespace.herder.clone());
            nested.push((namespace, state));
        }
        let first = nested
            .first()
            .map(|(_, state)| state.clone())
            .expect("at least one REST namespace");
        let mut root = namespaces::router(&nested, finish);
        if with_admin {
            root = root.merge(finish(routes::admin_routes(), first.clone()));
        }
        let main_app = root
            .fallback(|| async { ApiError::jersey(StatusCode::NOT_FOUND) })
            .layer(axum::middleware::from_fn_with_state(
                first.clone(),
                filters::apply,
            ));
        let admin_app = finish(routes::admin_routes(), first);
        self.serve_apps(main_app, admin_app)
    }

    fn serve_apps(self, main_app: Router, admin_app: Router) -> RestServer {
        let (shutdown, signal) = watch::channel(false);
        let mut tasks: Vec<JoinHandle<()>> = self
            .main
            .into_iter()
            .map(|l| serve(l, main_app.clone(), signal.clone()))
            .collect();
        tasks.extend(
            self.admin
                .into_iter()
                .map(|l| serve(l, admin_app.clone(), signal.clone())),
        );
        let addresses = self.addresses;
        tracing::info!(advertised_url = %addresses.advertised_url, local = ?addresses.local, "REST server listening");
        RestServer {
            addresses,
            shutdown,
            tasks,
        }
    }
}

/// A running REST server; dropping it does not stop it, [`RestServer::stop`] does.
///
/// ```no_run
/// # async fn run(herder: std::sync::Arc<dyn ferry_runtime::herder::Herder>,
/// #              loggers: std::sync::Arc<dyn ferry_runtime::rest::LogLevels>) {
/// use std::sync::Arc;
/// use ferry_connect::plugin::PluginRegistry;
/// use ferry_runtime::rest::{RestConfig, RestListeners};
/// let listeners = RestListeners::bind(RestConfig::default()).await.unwrap();
/// // ... build the herder with listeners.worker_id() and listeners.advertised_url() ...
/// let server = listeners.serve(herder, Arc::new(PluginRegistry::new()), loggers);
/// println!("advertising {}", server.advertised_url());
/// server.stop().await;
/// # }
/// ```
#[derive(Debug)]
pub struct RestServer {
    addresses: Addresses,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RestServer {
    /// Binds every listener and starts serving: [`RestListeners::bind`] then
    /// [`RestListeners::serve`].
    pub async fn start(
        config: RestConfig,
        herder: Arc<dyn Herder>,
        plugins: Arc<PluginRegistry>,
        loggers: Arc<dyn LogLevels>,
    ) -> Result<Self, RestError> {
        Ok(RestListeners::bind(config)
            .await?
            .serve(herder, plugins, loggers))
    }

    /// The URL other workers and clients reach this worker at, e.g. `http://host:8083/`.
    pub fn advertised_url(&self) -> &str {
        &self.addresses.advertised_url
    }

    /// The worker id: the advertised URL's `host:port`.
    pub fn worker_id(&self) -> String {
        worker_id(&self.addresses.advertised_url)
    }

    /// Where the admin endpoints are served, `None` if they are disabled.
    pub fn admin_url(&self) -> Option<&str> {
        self.addresses.admin_url.as_deref()
    }

    /// The addresses the `listeners` are bound to, in order.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addresses.local
    }

    /// The addresses the `admin.listeners` are bound to, in order.
    pub fn admin_addrs(&self) -> &[SocketAddr] {
        &self.addresses.admin
    }

    /// Stops accepting connections, lets requests in progress finish, and returns.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Binds `listeners`, loading the TLS settings once if any of them is https.
async fn bind_all(listeners: &[Listener], ssl: &SslConfig) -> Result<Vec<Bound>, RestError> {
    let tls = if listeners.iter().any(|l| l.protocol == Protocol::Https) {
        Some(ssl.server_config()?)
    } else {
        None
    };
    let mut bound = Vec::new();
    for listener in listeners {
        let tcp = bind(listener).await?;
        let local = tcp.local_addr().map_err(|source| RestError::Bind {
            listener: listener.to_string(),
            source,
        })?;
        bound.push(Bound {
            tcp,
            local,
            tls: tls.clone().filter(|_| listener.protocol == Protocol::Https),
        });
    }
    Ok(bound)
}

/// `host:port` of an advertised URL (`scheme://host:port/`).
fn worker_id(advertised_url: &str) -> String {
    let rest = advertised_url
        .split_once("://")
        .map_or(advertised_url, |(_, rest)| rest);
    rest.trim_end_matches('/').to_owned()
}

fn main_router(state: AppState, with_admin: bool) -> Router {
    let mut routes = routes::connect_routes();
    if with_admin {
        routes = routes.merge(routes::admin_routes());
    }
    finish(routes, state.clone()).layer(axum::middleware::from_fn_with_state(state, filters::apply))
}

/// Adds Jersey's answers for unknown paths and wrong methods.
fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(|| async { ApiError::jersey(StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(|| async { ApiError::jersey(StatusCode::METHOD_NOT_ALLOWED) })
        .with_state(state)
}

async fn bind(listener: &Listener) -> Result<TcpListener, RestError> {
    let result = if listener.host.is_empty() {
        // Every interface, as Jetty with no host; IPv4 only where IPv6 is unavailable.
        match TcpListener::bind(("::", listener.port)).await {
            Ok(bound) => Ok(bound),
            Err(_) => TcpListener::bind(("0.0.0.0", listener.port)).await,
        }
    } else {
        TcpListener::bind((listener.host.as_str(), listener.port)).await
    };
    result.map_err(|source| RestError::Bind {
        listener: listener.to_string(),
        source,
    })
}

/// Jersey matches a path with or without one trailing slash (`GET /connectors/` lists them too).
fn strip_trailing_slash(mut request: Request) -> Request {
    let path = request.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = match request.uri().query() {
            Some(query) => format!("{}?{query}", &path[..path.len() - 1]),
            None => path[..path.len() - 1].to_owned(),
        };
        let mut parts = request.uri().clone().into_parts();
        if let Ok(path_and_query) = PathAndQuery::try_from(trimmed) {
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}

fn serve(bound: Bound, app: Router, signal: watch::Receiver<bool>) -> JoinHandle<()> {
    match bound.tls {
        None => serve_on(bound.tcp, app, signal),
        Some(config) => serve_on(
            HttpsListener::new(bound.tcp, bound.local, config),
            app,
            signal,
        ),
    }
}

fn serve_on<L>(listener: L, app: Router, mut signal: watch::Receiver<bool>) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    let service = tower::service_fn(move |request: Request| {
        let app = app.clone();
        async move {
            let request = strip_trailing_slash(request);
            let options = request.method() == Method::OPTIONS;
            let response = app.oneshot(request).await?;
            Ok::<_, Infallible>(if options {
                filters::answer_options(response)
            } else {
                response
            })
        }
    });
    let app = ServiceExt::<Request>::into_make_service(service);
    tokio::spawn(async move {
        let stopped = async move {
            let _ = signal.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(%error, "REST listener failed");
        }
    })
}

/// Java's `RestServer.advertisedUrl`: the advertised protocol's first listener, its host and
/// port unless `rest.advertised.host.name` / `.port` say otherwise; Jetty's server URI (first
/// listener, this host's address when it names none) fills what is still missing.
fn advertised_url(config: &RestConfig, local_addrs: &[SocketAddr]) -> String {
    let protocol = config.advertised_protocol();
    let connector = config
        .listeners
        .iter()
        .position(|l| l.protocol.scheme() == protocol);
    let host = match (&config.advertised_host_name, connector) {
        (Some(host), _) if !host.is_empty() => host.clone(),
        (_, Some(i)) if !config.listeners[i].host.is_empty() => config.listeners[i].host.clone(),
        _ => server_uri_host(config),
    };
    let port = match (config.advertised_port, connector) {
        (Some(port), _) => port,
        (None, Some(i)) if config.listeners[i].port > 0 => config.listeners[i].port,
        (None, Some(i)) => local_addrs[i].port(),
        (None, None) => local_addrs[0].port(),
    };
    format!("{protocol}://{}:{port}/", url_host(&host))
}

/// The host of Jetty's server URI: the first listener's, or this machine's address.
fn server_uri_host(config: &RestConfig) -> String {
    let first = &config.listeners[0].host;
    if first.is_empty() {
        local_host_address()
    } else {
        first.clone()
    }
}

fn url_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// This machine's address as Java's `InetAddress.getLocalHost().getHostAddress()` finds it: the
/// host name resolved, IPv4 preferred.
fn local_host_address() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .unwrap_or_default();
    let addresses: Vec<IpAddr> = (name.as_str(), 0)
        .to_socket_addrs()
        .map(|addrs| addrs.map(|a| a.ip()).collect())
        .unwrap_or_default();
    addresses
        .iter()
        .find(|ip| ip.is_ipv4())
        .or(addresses.first())
        .map_or_else(|| "127.0.0.1".to_owned(), IpAddr::to_string)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn url(pairs: &[(&str, &str)], ports: &[u16]) -> String {
        let props: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = RestConfig::from_props(&props).unwrap();
        let addrs: Vec<SocketAddr> = ports
            .iter()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], *p)))
            .collect();
        advertised_url(&config, &addrs)
    }

    #[test]
    fn advertised_urls_match_javas_rest_server_test() {
        let both = ("listeners", "http://localhost:8080,https://localhost:8443");
        assert_eq!(url(&[both], &[8080, 8443]), "http://localhost:8080/");
        assert_eq!(
            url(
                &[both, ("rest.advertised.listener", "https")],
                &[8080, 8443]
            ),
            "https://localhost:8443/"
        );
        assert_eq!(
            url(&[("listeners", "https://localhost:8443")], &[8443]),
            "https://localhost:8443/"
        );
        assert_eq!(
            url(
                &[
                    ("listeners", "https://localhost:8443"),
                    ("rest.advertised.listener", "http"),
                    ("rest.advertised.host.name", "somehost"),
                    ("rest.advertised.port", "10000"),
                ],
                &[8443]
            ),
            "http://somehost:10000/"
        );
        assert_eq!(
            url(
                &[
                    (
                        "listeners",
                        "https://encrypted-localhost:42069,http://plaintext-localhost:4761"
                    ),
                    ("rest.advertised.listener", "http"),
                ],
                &[42069, 4761]
            ),
            "http://plaintext-localhost:4761/"
        );
    }

    #[test]
    fn ephemeral_ports_advertise_the_bound_port() {
        assert_eq!(
            url(&[("listeners", "http://127.0.0.1:0")], &[40123]),
            "http://127.0.0.1:40123/"
        );
        assert_eq!(
            url(&[("listeners", "http://[::1]:0")], &[40123]),
            "http://[::1]:40123/"
        );
        let default = url(&[], &[8083]);
        assert!(
            default.starts_with("http://") && default.ends_with(":8083/"),
            "{default}"
        );
    }
}
