//! The REST server's worker properties, Java's `RestServerConfig`: `listeners`, `admin.listeners`,
//! `rest.advertised.host.name` / `.port` / `.listener`, `access.control.allow.origin` /
//! `.methods`, `response.http.headers.config`, the topic-tracking switches the connectors
//! resource obeys, and the TLS settings of https listeners (see [`SslConfig`]).

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use ferry_connect::ConfigError;

use super::ssl::{ADMIN_LISTENERS_HTTPS_PREFIX, LISTENERS_HTTPS_PREFIX, SslConfig};

/// `listeners`.
pub const LISTENERS_CONFIG: &str = "listeners";
/// `admin.listeners`.
pub const ADMIN_LISTENERS_CONFIG: &str = "admin.listeners";
/// `rest.advertised.host.name`.
pub const REST_ADVERTISED_HOST_NAME_CONFIG: &str = "rest.advertised.host.name";
/// `rest.advertised.port`.
pub const REST_ADVERTISED_PORT_CONFIG: &str = "rest.advertised.port";
/// `rest.advertised.listener`.
pub const REST_ADVERTISED_LISTENER_CONFIG: &str = "rest.advertised.listener";
/// `access.control.allow.origin`.
pub const ACCESS_CONTROL_ALLOW_ORIGIN_CONFIG: &str = "access.control.allow.origin";
/// `access.control.allow.methods`.
pub const ACCESS_CONTROL_ALLOW_METHODS_CONFIG: &str = "access.control.allow.methods";
/// `response.http.headers.config`.
pub const RESPONSE_HTTP_HEADERS_CONFIG: &str = "response.http.headers.config";
/// `topic.tracking.enable`.
pub const TOPIC_TRACKING_ENABLE_CONFIG: &str = "topic.tracking.enable";
/// `topic.tracking.allow.reset`.
pub const TOPIC_TRACKING_ALLOW_RESET_CONFIG: &str = "topic.tracking.allow.reset";

/// Java's default `listeners`.
pub const LISTENERS_DEFAULT: &str = "http://:8083";

/// How long a herder request may take before the answer is 500 `Request timed out` (Java's
/// `DEFAULT_REST_REQUEST_TIMEOUT_MS`).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
/// How long `GET /health` waits for the herder (Java's `DEFAULT_HEALTH_CHECK_TIMEOUT_MS`).
pub const DEFAULT_HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Protocol {
    /// `http` or `https`.
    pub fn scheme(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
        }
    }
}

/// One entry of `listeners`: `protocol://host:port`, the host empty for the default interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The protocol.
    pub protocol: Protocol,
    /// The host or address to bind to; empty binds every interface.
    pub host: String,
    /// The port; 0 picks a free one.
    pub port: u16,
}

impl Listener {
    /// Parses a listener as Java's `RestServer` does (`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)`,
    /// protocol case-insensitive).
    ///
    /// ```
    /// use ferry_runtime::rest::{Listener, Protocol};
    /// let l = Listener::parse("listeners", "HTTP://[::1]:8083").unwrap();
    /// assert_eq!((l.protocol, l.host.as_str(), l.port), (Protocol::Http, "::1", 8083));
    /// ```
    pub fn parse(key: &str, text: &str) -> Result<Self, ConfigError> {
        let bad_format = || {
            ConfigError::invalid(
                key,
                text,
                Some("Listener doesn't have the right format (protocol://hostname:port)."),
            )
        };
        let (protocol, rest) = text.split_once("://").ok_or_else(bad_format)?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad_format)?;
        let host = host.strip_prefix('[').unwrap_or(host);
        let host = host.strip_suffix(']').unwrap_or(host);
        let host_ok = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-%._:".contains(c));
        if !host_ok
            || port.is_empty()
            || !port
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit())
        {
            return Err(bad_format());
        }
        let protocol = match protocol.to_ascii_lowercase().as_str() {
            "http" => Protocol::Http,
            "https" => Protocol::Https,
            _ => {
                return Err(ConfigError::invalid(
                    key,
                    text,
                    Some("Listener protocol must be either \"http\" or \"https\"."),
                ));
            }
        };
        let port = port.parse().map_err(|_| {
            ConfigError::invalid(
                key,
                text,
                Some("Listener port must be between 0 and 65535."),
            )
        })?;
        Ok(Self {
            protocol,
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(
                f,
                "{}://[{}]:{}",
                self.protocol.scheme(),
                self.host,
                self.port
            )
        } else {
            write!(
                f,
                "{}://{}:{}",
                self.protocol.scheme(),
                self.host,
                self.port
            )
        }
    }
}

/// One rule of `response.http.headers.config`: `[action] [name]:[value]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    /// What to do with the header.
    pub action: HeaderAction,
    /// The header's name.
    pub name: String,
    /// The header's value; for the date actions, milliseconds to add to the current time.
    pub value: String,
}

/// The actions of Jetty's `HeaderFilter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderAction {
    /// Replace the header.
    Set,
    /// Add a value to the header.
    Add,
    /// Replace the header with the date `value` milliseconds from now.
    SetDate,
    /// Add the date `value` milliseconds from now.
    AddDate,
}

/// The REST server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestConfig {
    /// Where the Connect API listens.
    pub listeners: Vec<Listener>,
    /// The raw `listeners` value if it was set; Java picks the advertised protocol from it.
    pub raw_listeners: Option<String>,
    /// Where the admin endpoints (`/admin/loggers`) listen: `None` on `listeners`, empty for
    /// nowhere.
    pub admin_listeners: Option<Vec<Listener>>,
    /// `rest.advertised.host.name`.
    pub advertised_host_name: Option<String>,
    /// `rest.advertised.port`.
    pub advertised_port: Option<u16>,
    /// `rest.advertised.listener`, lower-cased.
    pub advertised_listener: Option<String>,
    /// `access.control.allow.origin`; blank disables CORS.
    pub allowed_origins: String,
    /// `access.control.allow.methods`; blank keeps Jetty's default (`GET,POST,HEAD`).
    pub allowed_methods: String,
    /// `response.http.headers.config`, parsed.
    pub response_headers: Vec<HeaderRule>,
    /// `topic.tracking.enable` (default true).
    pub topic_tracking_enabled: bool,
    /// `topic.tracking.allow.reset` (default true).
    pub topic_tracking_reset_enabled: bool,
    /// How long a herder request may take.
    pub request_timeout: Duration,
    /// How long `GET /health` waits.
    pub health_check_timeout: Duration,
    /// TLS of the https `listeners` and of the client calling other workers
    /// (`listeners.https.ssl.*`, else `ssl.*`).
    pub ssl: SslConfig,
    /// TLS of the https `admin.listeners` (`admin.listeners.https.ssl.*`, else `ssl.*`).
    pub admin_ssl: SslConfig,
}

impl Default for RestConfig {
    fn default() -> Self {
        Self::from_props(&HashMap::new()).expect("the defaults are valid")
    }
}

impl RestConfig {
    /// Reads the REST settings from worker properties, with Java's defaults and checks.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use ferry_runtime::rest::RestConfig;
    /// let props = HashMap::from([("listeners".to_owned(), "http://localhost:0".to_owned())]);
    /// let config = RestConfig::from_props(&props).unwrap();
    /// assert_eq!(config.listeners[0].host, "localhost");
    /// let bad = HashMap::from([("listeners".to_owned(), "localhost:8083".to_owned())]);
    /// assert!(RestConfig::from_props(&bad).unwrap_err().to_string().contains("listeners"));
    /// ```
    pub fn from_props(props: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |key: &str| props.get(key).map(String::as_str);
        let raw_listeners = get(LISTENERS_CONFIG).map(str::to_owned);
        let listener_items = list(raw_listeners.as_deref().unwrap_or(LISTENERS_DEFAULT));
        if listener_items.is_empty() {
            return Err(ConfigError::for_key(
                LISTENERS_CONFIG,
                "Invalid value for listeners, at least one URL is expected, ex: http://localhost:8080,https://localhost:8443.",
            ));
        }
        let listeners = parse_listeners(LISTENERS_CONFIG, &listener_items)?;
        let admin_listeners = get(ADMIN_LISTENERS_CONFIG)
            .map(|raw| parse_listeners(ADMIN_LISTENERS_CONFIG, &list(raw)))
            .transpose()?;
        let advertised_port = get(REST_ADVERTISED_PORT_CONFIG)
            .map(|raw| {
                raw.trim().parse::<u16>().map_err(|_| {
                    ConfigError::invalid(
                        REST_ADVERTISED_PORT_CONFIG,
                        raw,
                        Some("Not a valid port number"),
                    )
                })
            })
            .transpose()?;
        let response_headers = get(RESPONSE_HTTP_HEADERS_CONFIG)
            .map(parse_header_rules)
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            listeners,
            raw_listeners,
            admin_listeners,
            advertised_host_name: get(REST_ADVERTISED_HOST_NAME_CONFIG)
                .map(|s| s.trim().to_owned()),
            advertised_port,
            advertised_listener: get(REST_ADVERTISED_LISTENER_CONFIG)
                .map(|s| s.trim().to_ascii_lowercase()),
            allowed_origins: get(ACCESS_CONTROL_ALLOW_ORIGIN_CONFIG)
                .unwrap_or("")
                .trim()
                .to_owned(),
            allowed_methods: get(ACCESS_CONTROL_ALLOW_METHODS_CONFIG)
                .unwrap_or("")
                .trim()
                .to_owned(),
            response_headers,
            topic_tracking_enabled: boolean(props, TOPIC_TRACKING_ENABLE_CONFIG)?,
            topic_tracking_reset_enabled: boolean(props, TOPIC_TRACKING_ALLOW_RESET_CONFIG)?,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            health_check_timeout: DEFAULT_HEALTH_CHECK_TIMEOUT,
            ssl: SslConfig::from_props(props, LISTENERS_HTTPS_PREFIX),
            admin_ssl: SslConfig::from_props(props, ADMIN_LISTENERS_HTTPS_PREFIX),
        })
    }

    /// The protocol advertised to other workers, as Java's `determineAdvertisedProtocol` picks
    /// it: `rest.advertised.listener`, else `http` if the raw `listeners` mention `http://`, else
    /// `https` if they mention `https://`, else `http`.
    pub fn advertised_protocol(&self) -> String {
        if let Some(listener) = &self.advertised_listener {
            return listener.clone();
        }
        let raw = self
            .raw_listeners
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        if raw.contains("https://") && !raw.contains("http://") {
            "https"
        } else {
            "http"
        }
        .to_owned()
    }
}

/// A Java `LIST` value: comma-separated, items trimmed, an all-blank value empty.
fn list(raw: &str) -> Vec<&str> {
    if raw.trim().is_empty() {
        return Vec::new();
    }
    raw.split(',').map(str::trim).collect()
}

fn parse_listeners(key: &str, items: &[&str]) -> Result<Vec<Listener>, ConfigError> {
    items
        .iter()
        .map(|item| {
            if item.is_empty() {
                Err(ConfigError::for_key(
                    key,
                    format!("Empty URL found when parsing {key} list."),
                ))
            } else {
                Listener::parse(key, item)
            }
        })
        .collect()
}

fn boolean(props: &HashMap<String, String>, key: &str) -> Result<bool, ConfigError> {
    match props.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(true),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(_) => Err(ConfigError::invalid(
            key,
            &props[key],
            Some("Expected value to be either true or false"),
        )),
    }
}

/// Parses `response.http.headers.config` as Java validates it: comma-separated rules (a rule may
/// be double-quoted to hold commas), each `[action] [header name]:[header value]`.
fn parse_header_rules(raw: &str) -> Result<Vec<HeaderRule>, ConfigError> {
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    csv_split(raw)
        .iter()
        .map(|rule| parse_header_rule(rule))
        .collect()
}

fn parse_header_rule(rule: &str) -> Result<HeaderRule, ConfigError> {
    let key = RESPONSE_HTTP_HEADERS_CONFIG;
    let invalid = |reason: String| ConfigError::invalid(key, rule, Some(&reason));
    let trimmed = rule.trim();
    let Some((action, header)) = trimmed.split_once(char::is_whitespace) else {
        return Err(invalid(format!(
            "Invalid format of header config '{rule}'. Expected: '[action] [header name]:[header value]'"
        )));
    };
    let action = match action.trim() {
        a if a.eq_ignore_ascii_case("set") => HeaderAction::Set,
        a if a.eq_ignore_ascii_case("add") => HeaderAction::Add,
        a if a.eq_ignore_ascii_case("setDate") => HeaderAction::SetDate,
        a if a.eq_ignore_ascii_case("addDate") => HeaderAction::AddDate,
        a => {
            return Err(invalid(format!(
                "Invalid header config action: '{a}'. Expected one of [set, add, setDate, addDate]"
            )));
        }
    };
    let header = header.trim_start();
    let parts: Vec<&str> = header.trim().split(':').collect();
    let [name, value] = parts.as_slice() else {
        return Err(invalid(format!(
            "Invalid format of header name and header value pair '{header}'. Expected: '[header name]:[header value]'"
        )));
    };
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(invalid(format!(
            "Invalid header name '{name}'. The '[header name]' cannot contain whitespace"
        )));
    }
    Ok(HeaderRule {
        action,
        name: name.to_owned(),
        value: value.trim().to_owned(),
    })
}

/// Jetty's `StringUtil.csvSplit`: comma-separated, items trimmed, double quotes group an item and
/// are removed.
fn csv_split(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => current.extend(chars.next()),
            ',' if !quoted => items.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    items.push(current.trim().to_owned());
    items.retain(|item| !item.is_empty());
    items
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
