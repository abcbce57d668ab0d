//! TLS settings of the REST server and client, Java's `SSLUtils`: the `ssl.*` keys of Kafka's
//! `SslConfigs`, read under `listeners.https.` (or `admin.listeners.https.` for the admin
//! listeners) when any key has that prefix, else unprefixed — all or nothing, as Java's
//! `valuesWithPrefixAllOrNothing` does, so a prefixed key hides every unprefixed one.
//!
//! Key and trust material must be PEM (`ssl.keystore.type=PEM`, `ssl.truststore.type=PEM`): a
//! file named by `.location`, or the inline `ssl.keystore.key` / `ssl.keystore.certificate.chain`
//! / `ssl.truststore.certificates`. JKS and PKCS12 stores are refused with an error naming the
//! type key, as are encrypted private keys (`ssl.key.password`). Errors name the key as written,
//! prefix included.
//!
//! rustls picks the protocol from `ssl.enabled.protocols` (TLSv1.2, TLSv1.3; older ones are
//! skipped), so `ssl.protocol`, `ssl.provider`, `ssl.keymanager.algorithm`,
//! `ssl.trustmanager.algorithm` and `ssl.secure.random.implementation` have no effect, and the
//! PEM stores need no `ssl.keystore.password` / `ssl.truststore.password`.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ferry_connect::ConfigError;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
    SignatureScheme, SupportedProtocolVersion,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// The prefix of the `listeners` TLS settings.
pub const LISTENERS_HTTPS_PREFIX: &str = "listeners.https.";
/// The prefix of the `admin.listeners` TLS settings.
pub const ADMIN_LISTENERS_HTTPS_PREFIX: &str = "admin.listeners.https.";

const KEYSTORE_TYPE: &str = "ssl.keystore.type";
const KEYSTORE_LOCATION: &str = "ssl.keystore.location";
const KEYSTORE_KEY: &str = "ssl.keystore.key";
const KEYSTORE_CHAIN: &str = "ssl.keystore.certificate.chain";
const KEY_PASSWORD: &str = "ssl.key.password";
const TRUSTSTORE_TYPE: &str = "ssl.truststore.type";
const TRUSTSTORE_LOCATION: &str = "ssl.truststore.location";
const TRUSTSTORE_CERTIFICATES: &str = "ssl.truststore.certificates";
const CLIENT_AUTH: &str = "ssl.client.auth";
const ENABLED_PROTOCOLS: &str = "ssl.enabled.protocols";
const CIPHER_SUITES: &str = "ssl.cipher.suites";
const ENDPOINT_IDENTIFICATION: &str = "ssl.endpoint.identification.algorithm";

/// Java's default store type (`DEFAULT_SSL_KEYSTORE_TYPE`, `DEFAULT_SSL_TRUSTSTORE_TYPE`).
const DEFAULT_STORE_TYPE: &str = "JKS";
/// Java's `DEFAULT_SSL_ENABLED_PROTOCOLS`.
const DEFAULT_ENABLED_PROTOCOLS: &str = "TLSv1.2,TLSv1.3";

/// Where the JVM's default trust store is replaced when no trust store is configured: the
/// system's CA bundle.
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The `ssl.*` settings that apply to one side (the listeners, or the admin listeners).
///
/// ```
/// use std::collections::HashMap;
/// use ferry_runtime::rest::SslConfig;
/// let props = HashMap::from([
///     ("ssl.keystore.type".to_owned(), "JKS".to_owned()),
///     ("listeners.https.ssl.keystore.type".to_owned(), "PEM".to_owned()),
/// ]);
/// let ssl = SslConfig::from_props(&props, "listeners.https.");
/// assert_eq!(ssl.get("ssl.keystore.type"), Some("PEM"));
/// assert_eq!(ssl.key_name("ssl.keystore.type"), "listeners.https.ssl.keystore.type");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SslConfig {
    prefix: String,
    values: BTreeMap<String, String>,
}

impl fmt::Debug for SslConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Passwords and inline keys stay out of logs, as Java prints `[hidden]`.
        let shown: BTreeMap<&str, &str> = self
            .values
            .iter()
            .map(|(k, v)| {
                let secret = k.contains("password") || k == KEYSTORE_KEY;
                (k.as_str(), if secret { "[hidden]" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("SslConfig")
            .field("prefix", &self.prefix)
            .field("values", &shown)
            .finish()
    }
}

impl SslConfig {
    /// The `ssl.*` keys under `prefix` if any key starts with it, else the unprefixed ones.
    pub fn from_props(props: &HashMap<String, String>, prefix: &str) -> Self {
        let prefixed: BTreeMap<String, String> = props
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_owned(), v.clone())))
            .collect();
        let (prefix, values) = if prefixed.is_empty() {
            let plain = props
                .iter()
                .filter(|(k, _)| k.starts_with("ssl."))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (String::new(), plain)
        } else {
            let known = prefixed
                .into_iter()
                .filter(|(k, _)| k.starts_with("ssl."))
                .collect();
            (prefix.to_owned(), known)
        };
        Self { prefix, values }
    }

    /// The value of `key` (unprefixed, e.g. `ssl.keystore.location`), trimmed.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|v| v.trim())
    }

    /// `key` as the user wrote it, with the prefix the settings were read under.
    pub fn key_name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn set(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    fn invalid(&self, key: &str, value: impl fmt::Display, reason: &str) -> ConfigError {
        ConfigError::invalid(&self.key_name(key), value, Some(reason))
    }

    fn error(&self, key: &str, message: impl fmt::Display) -> ConfigError {
        let name = self.key_name(key);
        ConfigError::for_key(&name, format!("{name}: {message}"))
    }

    /// The TLS settings of an HTTPS listener: its key and chain, the versions and cipher
    /// suites, and client authentication (`ssl.client.auth`).
    ///
    /// # Errors
    /// A missing or unreadable key store, a trust store missing where client authentication
    /// needs one, or an invalid value; each names its key.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, ConfigError> {
        let Some(KeyMaterial { chain, key, source }) = self.key_material()? else {
            return Err(self.error(
                KEYSTORE_LOCATION,
                "an https listener needs a key store (ssl.keystore.location, or ssl.keystore.key and ssl.keystore.certificate.chain)",
            ));
        };
        let provider = self.provider()?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.versions()?)
            .map_err(|e| {
                self.invalid(
                    CIPHER_SUITES,
                    self.get_or(CIPHER_SUITES, ""),
                    &e.to_string(),
                )
            })?;
        let client_auth = self.get(CLIENT_AUTH).unwrap_or("none").to_ascii_lowercase();
        let builder = match client_auth.as_str() {
            "none" => builder.with_no_client_auth(),
            "requested" | "required" => {
                let Some(roots) = self.trust_roots()? else {
                    return Err(self.error(
                        TRUSTSTORE_LOCATION,
                        format!("ssl.client.auth={client_auth} needs a trust store"),
                    ));
                };
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if client_auth == "requested" {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| self.error(TRUSTSTORE_LOCATION, e))?;
                builder.with_client_cert_verifier(verifier)
            }
            _ => {
                return Err(self.invalid(
                    CLIENT_AUTH,
                    self.get_or(CLIENT_AUTH, ""),
                    "String must be one of: required, requested, none",
                ));
            }
        };
        let config = builder
            .with_single_cert(chain, key)
            .map_err(|e| self.error(source, e))?;
        Ok(Arc::new(config))
    }

    /// The TLS settings of the client that calls other workers over https: the trust store
    /// (the system's CA bundle when none is set, as the JVM falls back to its own),
    /// `ssl.endpoint.identification.algorithm` (empty skips the host name check), and the key
    /// store as a client certificate when one is set.
    ///
    /// # Errors
    /// An unreadable store or an invalid value, naming its key.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, ConfigError> {
        let provider = self.provider()?;
        let roots = match self.trust_roots()? {
            Some(roots) => roots,
            None => system_roots(),
        };
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| self.error(TRUSTSTORE_LOCATION, e))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.get(ENDPOINT_IDENTIFICATION) {
            None => verifier,
            Some(alg) if alg.eq_ignore_ascii_case("https") => verifier,
            Some("") => Arc::new(AnyHostName(verifier)),
            Some(other) => {
                return Err(self.invalid(
                    ENDPOINT_IDENTIFICATION,
                    other,
                    "only https, or empty to disable host name verification, is supported",
                ));
            }
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&self.versions()?)
            .map_err(|e| {
                self.invalid(
                    CIPHER_SUITES,
                    self.get_or(CIPHER_SUITES, ""),
                    &e.to_string(),
                )
            })?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match self.key_material()? {
            Some(KeyMaterial { chain, key, source }) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| self.error(source, e))?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }

    fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// ring's suites, narrowed to `ssl.cipher.suites` (Java's names; suites rustls lacks are
    /// skipped, as Jetty skips those the JVM lacks).
    fn provider(&self) -> Result<Arc<CryptoProvider>, ConfigError> {
        let mut provider = rustls::crypto::ring::default_provider();
        let Some(wanted) = self.set(CIPHER_SUITES) else {
            return Ok(Arc::new(provider));
        };
        let wanted: Vec<&str> = list(wanted);
        provider
            .cipher_suites
            .retain(|suite| wanted.contains(&java_suite_name(suite).as_str()));
        if provider.cipher_suites.is_empty() {
            return Err(self.invalid(
                CIPHER_SUITES,
                wanted.join(","),
                "none of these cipher suites is supported",
            ));
        }
        Ok(Arc::new(provider))
    }

    /// `ssl.enabled.protocols`: TLSv1.2 and TLSv1.3; older protocols are skipped, as Jetty skips
    /// those the JVM disables.
    fn versions(&self) -> Result<Vec<&'static SupportedProtocolVersion>, ConfigError> {
        let raw = self.get_or(ENABLED_PROTOCOLS, DEFAULT_ENABLED_PROTOCOLS);
        let versions: Vec<_> = list(raw)
            .into_iter()
            .filter_map(|p| match p {
                "TLSv1.3" => Some(&rustls::version::TLS13),
                "TLSv1.2" => Some(&rustls::version::TLS12),
                _ => None,
            })
            .collect();
        if versions.is_empty() {
            return Err(self.invalid(
                ENABLED_PROTOCOLS,
                raw,
                "at least one of TLSv1.2 and TLSv1.3 must be enabled",
            ));
        }
        Ok(versions)
    }

    fn check_pem_type(&self, key: &str) -> Result<(), ConfigError> {
        let store_type = self.get_or(key, DEFAULT_STORE_TYPE);
        if store_type.eq_ignore_ascii_case("PEM") {
            Ok(())
        } else {
            Err(self.invalid(
                key,
                store_type,
                "only PEM stores are supported by Ferry (JKS and PKCS12 are not); set it to PEM",
            ))
        }
    }

    /// The certificate chain and private key, and the key they came from.
    fn key_material(&self) -> Result<Option<KeyMaterial>, ConfigError> {
        let inline = (self.set(KEYSTORE_KEY), self.set(KEYSTORE_CHAIN));
        let location = self.set(KEYSTORE_LOCATION);
        if inline == (None, None) && location.is_none() {
            return Ok(None);
        }
        self.check_pem_type(KEYSTORE_TYPE)?;
        let (key_pem, chain_pem, key_source, chain_source) = match (inline, location) {
            ((Some(key), Some(chain)), _) => (
                key.to_owned(),
                chain.to_owned(),
                KEYSTORE_KEY,
                KEYSTORE_CHAIN,
            ),
            ((Some(_), None), _) => {
                return Err(self.error(KEYSTORE_CHAIN, "must be set with ssl.keystore.key"));
            }
            ((None, Some(_)), _) => {
                return Err(self.error(
                    KEYSTORE_KEY,
                    "must be set with ssl.keystore.certificate.chain",
                ));
            }
            ((None, None), None) => return Ok(None),
            ((None, None), Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    self.error(KEYSTORE_LOCATION, format!("cannot read {path}: {e}"))
                })?;
                (text.clone(), text, KEYSTORE_LOCATION, KEYSTORE_LOCATION)
            }
        };
        if key_pem.contains("ENCRYPTED PRIVATE KEY") {
            return Err(self.error(
                KEY_PASSWORD,
                "encrypted private keys are not supported; store the key unencrypted",
            ));
        }
        let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(chain_source, format!("invalid PEM certificate: {e}")))?;
        if chain.is_empty() {
            return Err(self.error(chain_source, "no PEM certificate found"));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| self.error(key_source, format!("no usable PEM private key: {e}")))?;
        Ok(Some(KeyMaterial {
            chain,
            key,
            source: key_source,
        }))
    }

    /// The trusted certificates, `None` when no trust store is set.
    fn trust_roots(&self) -> Result<Option<RootCertStore>, ConfigError> {
        let (inline, location) = (
            self.set(TRUSTSTORE_CERTIFICATES),
            self.set(TRUSTSTORE_LOCATION),
        );
        if inline.is_none() && location.is_none() {
            return Ok(None);
        }
        self.check_pem_type(TRUSTSTORE_TYPE)?;
        let (pem, source) = match (inline, location) {
            (Some(inline), _) => (inline.to_owned(), TRUSTSTORE_CERTIFICATES),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    self.error(TRUSTSTORE_LOCATION, format!("cannot read {path}: {e}"))
                })?;
                (text, TRUSTSTORE_LOCATION)
            }
            (None, None) => return Ok(None),
        };
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert =
                cert.map_err(|e| self.error(source, format!("invalid PEM certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| self.error(source, format!("unusable certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(self.error(source, "no PEM certificate found"));
        }
        Ok(Some(roots))
    }
}

/// A certificate chain and its private key.
struct KeyMaterial {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The key the private key came from, named when rustls refuses the pair.
    source: &'static str,
}

/// The system's CA certificates; empty (so every server is refused) where there are none.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    if let Some(pem) = SYSTEM_CA_BUNDLES.iter().find_map(|p| std::fs::read(p).ok()) {
        let certs = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok);
        roots.add_parsable_certificates(certs);
    }
    roots
}

/// A Java `LIST` value: comma-separated, items trimmed, blanks dropped.
fn list(raw: &str) -> Vec<&str> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// A suite's IANA name as Java spells it (rustls names TLS 1.3 suites `TLS13_…`).
fn java_suite_name(suite: &rustls::SupportedCipherSuite) -> String {
    let name = format!("{:?}", suite.suite());
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// A server certificate check without the host name check, for an empty
/// `ssl.endpoint.identification.algorithm`: the chain must still lead to a trusted root.
#[derive(Debug)]
struct AnyHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the name last, so a name mismatch means everything else held.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
#[path = "ssl_tests.rs"]
mod tests;
