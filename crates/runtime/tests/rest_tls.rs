//! HTTPS listeners and the HTTPS inter-worker client, with a CA and certificates made for each
//! test: serving over https, mixed http and https listeners, forwarding from an http follower to
//! an https leader, host name verification, client authentication and bad key stores.

mod rest_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::http::Method;
use ferry_runtime::rest::{RestClient, RestConfig, RestServer};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rest_support::{Api, MemoryHerder, start_with};
use serde_json::json;
use tempfile::TempDir;

const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// A CA, and PEM files signed by it, in a temporary folder.
struct Pki {
    dir: TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(DnType::CommonName, "ferry test CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
            ca,
        };
        std::fs::write(pki.ca_path(), pki.ca.pem()).unwrap();
        pki
    }

    fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A key store file for `names` (host names or IP addresses): key, certificate, CA.
    fn key_store(&self, file: &str, names: &[&str]) -> PathBuf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.ca)
            .unwrap();
        let path = self.dir.path().join(file);
        let pem = format!("{}{}{}", key.serialize_pem(), cert.pem(), self.ca.pem());
        std::fs::write(&path, pem).unwrap();
        path
    }
}

fn props(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn config(pairs: &[(&str, &str)]) -> RestConfig {
    RestConfig::from_props(&props(pairs)).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A client trusting only the test CA.
fn trusting(pki: &Pki, extra: &[(&str, &str)]) -> RestClient {
    let ca = pki.ca_path();
    let mut pairs = vec![
        ("ssl.truststore.type", "PEM"),
        ("ssl.truststore.location", path(&ca)),
    ];
    pairs.extend_from_slice(extra);
    RestClient::from_config(&config(&pairs))
}

/// Settings for a server on `listeners` with a key store for 127.0.0.1.
fn https_settings<'a>(listeners: &'a str, store: &'a Path) -> Vec<(&'a str, String)> {
    vec![
        ("listeners", listeners.to_owned()),
        ("ssl.keystore.type", "PEM".to_owned()),
        ("ssl.keystore.location", path(store).to_owned()),
    ]
}

async fn start_https(pairs: &[(&str, String)]) -> RestServer {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (server, _) = start_with(
        MemoryHerder::new(),
        config(&pairs),
        rest_support::no_plugins(),
    )
    .await;
    server
}

async fn get(client: &RestClient, url: &str) -> Result<String, String> {
    client
        .request(url, Method::GET, None, None, None)
        .await
        .map(|r| String::from_utf8(r.body.to_vec()).unwrap())
        .map_err(|e| e.message)
}

#[tokio::test]
async fn https_listeners_serve_the_api() {
    let pki = Pki::new();
    let store = pki.key_store("server.pem", &["127.0.0.1", "localhost"]);
    let server = start_https(&https_settings("https://127.0.0.1:0", &store)).await;
    let url = server.advertised_url().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let client = trusting(&pki, &[]);
    assert_eq!(
        get(&client, &format!("{url}connectors")).await,
        Ok("[]".into())
    );
    // The server's certificate is checked: without the CA the handshake fails.
    let error = get(&RestClient::new(), &format!("{url}connectors"))
        .await
        .unwrap_err();
    assert!(
        error.starts_with("IO Error trying to forward REST request"),
        "{error}"
    );
    // Plain http on the https port gets no answer.
    let plain = url.replacen("https://", "http://", 1);
    assert!(get(&client, &format!("{plain}connectors")).await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn http_and_https_listeners_serve_together() {
    let pki = Pki::new();
    let store = pki.key_store("server.pem", &["127.0.0.1"]);
    let listeners = "http://127.0.0.1:0,https://127.0.0.1:0,https://127.0.0.1:0";
    let server = start_https(&https_settings(listeners, &store)).await;
    let [http, https_a, https_b] = server.local_addrs() else {
        panic!("three listeners expected: {:?}", server.local_addrs());
    };
    // Java advertises http whenever an http listener exists.
    assert_eq!(
        server.advertised_url(),
        format!("http://127.0.0.1:{}/", http.port())
    );
    Api::new(server.advertised_url())
        .get("/connectors")
        .await
        .expect(200, json!([]));
    let client = trusting(&pki, &[]);
    for addr in [https_a, https_b] {
        let url = format!("https://127.0.0.1:{}/connectors", addr.port());
        assert_eq!(get(&client, &url).await, Ok("[]".into()));
    }
    server.stop().await;

    let mut settings = https_settings("http://127.0.0.1:0,https://127.0.0.1:0", &store);
    settings.push(("rest.advertised.listener", "https".into()));
    let server = start_https(&settings).await;
    let https = server.local_addrs()[1];
    assert_eq!(
        server.advertised_url(),
        format!("https://127.0.0.1:{}/", https.port())
    );
    server.stop().await;
}

#[tokio::test]
async fn an_http_follower_forwards_to_an_https_leader() {
    let pki = Pki::new();
    let store = pki.key_store("leader.pem", &["127.0.0.1"]);
    let leader_herder = MemoryHerder::new();
    let pairs = https_settings("https://127.0.0.1:0", &store);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (leader, _) = start_with(
        leader_herder.clone(),
        config(&pairs),
        rest_support::no_plugins(),
    )
    .await;

    let follower_herder = MemoryHerder::new();
    follower_herder.set_not_leader(Some(leader.advertised_url().to_owned()));
    let ca = pki.ca_path();
    let follower_config = config(&[
        ("listeners", "http://127.0.0.1:0"),
        ("ssl.truststore.type", "PEM"),
        ("ssl.truststore.location", path(&ca)),
    ]);
    let (follower, api) = start_with(
        follower_herder.clone(),
        follower_config,
        rest_support::no_plugins(),
    )
    .await;
    let body = json!({"name": "c", "config": {"connector.class": SOURCE}}).to_string();
    let reply = api.post("/connectors", Some(&body)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!((follower_herder.writes(), leader_herder.writes()), (1, 1));
    let listed = get(
        &trusting(&pki, &[]),
        &format!("{}connectors", leader.advertised_url()),
    )
    .await;
    assert_eq!(listed, Ok(r#"["c"]"#.into()));
    follower.stop().await;

    // A follower that does not trust the leader's CA cannot reach it.
    let untrusting = MemoryHerder::new();
    untrusting.set_not_leader(Some(leader.advertised_url().to_owned()));
    let (follower, api) = start_with(
        untrusting,
        config(&[("listeners", "http://127.0.0.1:0")]),
        rest_support::no_plugins(),
    )
    .await;
    let reply = api.post("/connectors", Some(&body)).await;
    assert_eq!(reply.status, 500, "{reply:?}");
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("IO Error trying to forward REST request"),
        "{message}"
    );
    assert_eq!(leader_herder.writes(), 1);
    follower.stop().await;
    leader.stop().await;
}

#[tokio::test]
async fn an_empty_endpoint_identification_algorithm_skips_the_host_name_check() {
    let pki = Pki::new();
    let store = pki.key_store("server.pem", &["elsewhere.example"]);
    let server = start_https(&https_settings("https://127.0.0.1:0", &store)).await;
    let url = format!("{}connectors", server.advertised_url());

    let error = get(&trusting(&pki, &[]), &url).await.unwrap_err();
    assert!(error.contains("IO Error"), "{error}");
    let https = [("ssl.endpoint.identification.algorithm", "HTTPS")];
    assert!(get(&trusting(&pki, &https), &url).await.is_err());
    let none = [("ssl.endpoint.identification.algorithm", "")];
    assert_eq!(get(&trusting(&pki, &none), &url).await, Ok("[]".into()));
    // Only the name is forgiven: an untrusted chain still fails.
    let other_ca = Pki::new();
    assert!(get(&trusting(&other_ca, &none), &url).await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn required_client_authentication_refuses_clients_without_a_certificate() {
    let pki = Pki::new();
    let store = pki.key_store("server.pem", &["127.0.0.1"]);
    let ca = pki.ca_path();
    let mut settings = https_settings("https://127.0.0.1:0", &store);
    settings.extend([
        ("ssl.client.auth", "required".to_owned()),
        ("ssl.truststore.type", "PEM".to_owned()),
        ("ssl.truststore.location", path(&ca).to_owned()),
    ]);
    let server = start_https(&settings).await;
    let url = format!("{}connectors", server.advertised_url());

    assert!(get(&trusting(&pki, &[]), &url).await.is_err());
    let client_store = pki.key_store("client.pem", &["worker-2"]);
    let with_cert = trusting(
        &pki,
        &[
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.location", path(&client_store)),
        ],
    );
    assert_eq!(get(&with_cert, &url).await, Ok("[]".into()));
    server.stop().await;

    settings[3].1 = "requested".to_owned();
    let server = start_https(&settings).await;
    let url = format!("{}connectors", server.advertised_url());
    assert_eq!(get(&trusting(&pki, &[]), &url).await, Ok("[]".into()));
    server.stop().await;
}

#[tokio::test]
async fn inline_pem_and_prefixed_settings_are_used() {
    let pki = Pki::new();
    let store = pki.key_store("server.pem", &["127.0.0.1"]);
    let pem = std::fs::read_to_string(&store).unwrap();
    let key_end = pem.find("-----BEGIN CERTIFICATE-----").unwrap();
    let (key, chain) = pem.split_at(key_end);
    let server = start_https(&[
        ("listeners", "https://127.0.0.1:0".into()),
        // The prefixed keys hide every plain ssl.* key, this broken one included.
        ("ssl.keystore.location", "/nonexistent/keystore.jks".into()),
        ("listeners.https.ssl.keystore.type", "PEM".into()),
        ("listeners.https.ssl.keystore.key", key.into()),
        (
            "listeners.https.ssl.keystore.certificate.chain",
            chain.into(),
        ),
    ])
    .await;
    let url = format!("{}connectors", server.advertised_url());
    assert_eq!(get(&trusting(&pki, &[]), &url).await, Ok("[]".into()));
    server.stop().await;
}

async fn start_error(pairs: &[(&str, &str)]) -> String {
    RestServer::start(
        config(pairs),
        MemoryHerder::new(),
        rest_support::no_plugins(),
        rest_support::log_levels(),
    )
    .await
    .unwrap_err()
    .to_string()
}

#[tokio::test]
async fn bad_key_stores_are_refused_by_key() {
    let pki = Pki::new();
    let garbage = pki.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let https = ("listeners", "https://127.0.0.1:0");
    let pem = ("ssl.keystore.type", "PEM");

    let error = start_error(&[https, pem, ("ssl.keystore.location", path(&garbage))]).await;
    assert!(error.starts_with("ssl.keystore.location: "), "{error}");
    let error = start_error(&[https, pem, ("ssl.keystore.location", "/nonexistent.pem")]).await;
    assert!(
        error.starts_with("ssl.keystore.location: cannot read"),
        "{error}"
    );
    let error = start_error(&[https, pem]).await;
    assert!(error.starts_with("ssl.keystore.location: "), "{error}");
    let prefixed = ("listeners.https.ssl.keystore.location", path(&garbage));
    let error = start_error(&[
        https,
        ("listeners.https.ssl.keystore.type", "PEM"),
        prefixed,
    ])
    .await;
    assert!(
        error.starts_with("listeners.https.ssl.keystore.location: "),
        "{error}"
    );
    // Java's default store type is JKS, which Ferry cannot read.
    let store = pki.key_store("server.pem", &["127.0.0.1"]);
    let error = start_error(&[https, ("ssl.keystore.location", path(&store))]).await;
    assert!(error.contains("configuration ssl.keystore.type"), "{error}");
    // admin.listeners read their own prefix.
    let error = start_error(&[
        ("listeners", "http://127.0.0.1:0"),
        ("admin.listeners", "https://127.0.0.1:0"),
        ("admin.listeners.https.ssl.keystore.type", "PKCS12"),
        ("admin.listeners.https.ssl.keystore.location", path(&store)),
    ])
    .await;
    assert!(
        error.contains("configuration admin.listeners.https.ssl.keystore.type"),
        "{error}"
    );
}

#[tokio::test]
async fn admin_listeners_can_be_https() {
    let pki = Pki::new();
    let store = pki.key_store("admin.pem", &["127.0.0.1"]);
    let server = start_https(&[
        ("listeners", "http://127.0.0.1:0".into()),
        ("admin.listeners", "https://127.0.0.1:0".into()),
        ("admin.listeners.https.ssl.keystore.type", "PEM".into()),
        (
            "admin.listeners.https.ssl.keystore.location",
            path(&store).into(),
        ),
    ])
    .await;
    let admin = server.admin_url().unwrap().to_owned();
    assert!(admin.starts_with("https://127.0.0.1:"), "{admin}");
    let loggers = get(&trusting(&pki, &[]), &format!("{admin}admin/loggers")).await;
    assert!(loggers.unwrap().contains("root"));
    server.stop().await;
}
