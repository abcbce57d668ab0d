use super::*;

fn ssl(pairs: &[(&str, &str)], prefix: &str) -> SslConfig {
    let props: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    SslConfig::from_props(&props, prefix)
}

/// A self-signed certificate for 127.0.0.1 and its key, PEM.
fn self_signed() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (key.serialize_pem(), cert.pem())
}

fn message(error: ConfigError) -> String {
    error.to_string()
}

#[test]
fn a_prefixed_key_hides_every_plain_one() {
    let plain = ssl(
        &[
            ("ssl.keystore.type", "PEM"),
            ("ssl.client.auth", "required"),
        ],
        LISTENERS_HTTPS_PREFIX,
    );
    assert_eq!(plain.get("ssl.client.auth"), Some("required"));
    assert_eq!(plain.key_name("ssl.client.auth"), "ssl.client.auth");

    let prefixed = ssl(
        &[
            ("ssl.keystore.type", "PEM"),
            ("ssl.client.auth", "required"),
            ("listeners.https.ssl.keystore.location", " /k.pem "),
            ("listeners.https.not.ssl", "x"),
        ],
        LISTENERS_HTTPS_PREFIX,
    );
    assert_eq!(prefixed.get("ssl.keystore.location"), Some("/k.pem"));
    assert_eq!(prefixed.get("ssl.client.auth"), None);
    assert_eq!(prefixed.get("ssl.keystore.type"), None);
    assert_eq!(prefixed.get("not.ssl"), None);
    assert_eq!(
        prefixed.key_name("ssl.keystore.type"),
        "listeners.https.ssl.keystore.type"
    );
    // The admin prefix is separate: listeners.https.* does not hide ssl.* from it.
    let admin = ssl(
        &[
            ("ssl.client.auth", "required"),
            ("listeners.https.ssl.client.auth", "none"),
        ],
        ADMIN_LISTENERS_HTTPS_PREFIX,
    );
    assert_eq!(admin.get("ssl.client.auth"), Some("required"));
}

#[test]
fn debug_output_hides_secrets() {
    let config = ssl(
        &[
            ("ssl.keystore.password", "s3cret"),
            ("ssl.key.password", "s3cret"),
            ("ssl.keystore.key", "-----BEGIN PRIVATE KEY-----s3cret"),
            ("ssl.keystore.type", "PEM"),
        ],
        "",
    );
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
    assert!(debug.contains("PEM"), "{debug}");
}

#[test]
fn inline_pem_makes_a_server_config() {
    let (key, cert) = self_signed();
    let config = ssl(
        &[
            ("ssl.keystore.type", "pem"),
            ("ssl.keystore.key", &key),
            ("ssl.keystore.certificate.chain", &cert),
            ("ssl.enabled.protocols", "TLSv1.3"),
        ],
        "",
    );
    assert!(config.server_config().is_ok());

    let half = ssl(
        &[("ssl.keystore.type", "PEM"), ("ssl.keystore.key", &key)],
        "",
    );
    assert!(
        message(half.server_config().unwrap_err()).starts_with("ssl.keystore.certificate.chain: ")
    );
    let mismatched = ssl(
        &[
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.key", &self_signed().0),
            ("ssl.keystore.certificate.chain", &cert),
        ],
        "",
    );
    assert!(message(mismatched.server_config().unwrap_err()).starts_with("ssl.keystore.key: "));
}

#[test]
fn only_pem_stores_are_read() {
    let (key, cert) = self_signed();
    for store_type in [None, Some("JKS"), Some("PKCS12")] {
        let mut pairs = vec![
            ("ssl.keystore.key", key.as_str()),
            ("ssl.keystore.certificate.chain", cert.as_str()),
        ];
        pairs.extend(store_type.map(|t| ("ssl.keystore.type", t)));
        let error = ssl(&pairs, "").server_config().unwrap_err();
        assert_eq!(error.key(), Some("ssl.keystore.type"));
        assert!(message(error).starts_with(&format!(
            "Invalid value {} for configuration ssl.keystore.type",
            store_type.unwrap_or("JKS")
        )));
    }
    let trust = ssl(&[("ssl.truststore.certificates", &cert)], "");
    let error = trust.client_config().unwrap_err();
    assert_eq!(error.key(), Some("ssl.truststore.type"));
}

#[test]
fn encrypted_keys_name_the_key_password() {
    let (_, cert) = self_signed();
    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let config = ssl(
        &[
            ("listeners.https.ssl.keystore.type", "PEM"),
            ("listeners.https.ssl.keystore.key", encrypted),
            ("listeners.https.ssl.keystore.certificate.chain", &cert),
        ],
        LISTENERS_HTTPS_PREFIX,
    );
    let error = config.server_config().unwrap_err();
    assert_eq!(error.key(), Some("listeners.https.ssl.key.password"));
}

#[test]
fn client_auth_needs_a_known_value_and_a_trust_store() {
    let (key, cert) = self_signed();
    let base = [
        ("ssl.keystore.type", "PEM"),
        ("ssl.keystore.key", key.as_str()),
        ("ssl.keystore.certificate.chain", cert.as_str()),
    ];
    let with = |extra: &[(&'static str, &str)]| {
        let mut pairs = base.to_vec();
        pairs.extend_from_slice(extra);
        ssl(&pairs, "").server_config()
    };
    assert!(with(&[("ssl.client.auth", "NONE")]).is_ok());
    let error = with(&[("ssl.client.auth", "sometimes")]).unwrap_err();
    assert_eq!(
        message(error),
        "Invalid value sometimes for configuration ssl.client.auth: String must be one of: required, requested, none"
    );
    let error = with(&[("ssl.client.auth", "required")]).unwrap_err();
    assert_eq!(error.key(), Some("ssl.truststore.location"));
    let trusted = [
        ("ssl.client.auth", "Requested"),
        ("ssl.truststore.type", "PEM"),
        ("ssl.truststore.certificates", cert.as_str()),
    ];
    assert!(with(&trusted).is_ok());
}

#[test]
fn protocols_and_cipher_suites_use_javas_names() {
    let tls12_only = ssl(&[("ssl.enabled.protocols", "TLSv1, TLSv1.1,TLSv1.2")], "");
    assert_eq!(tls12_only.versions().unwrap(), [&rustls::version::TLS12]);
    let error = ssl(&[("ssl.enabled.protocols", "TLSv1.1")], "")
        .versions()
        .unwrap_err();
    assert_eq!(error.key(), Some("ssl.enabled.protocols"));

    let suites = ssl(
        &[(
            "ssl.cipher.suites",
            "TLS_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_NULL_SHA",
        )],
        "",
    );
    let names: Vec<String> = suites
        .provider()
        .unwrap()
        .cipher_suites
        .iter()
        .map(java_suite_name)
        .collect();
    assert_eq!(
        names,
        [
            "TLS_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        ]
    );
    let error = ssl(&[("ssl.cipher.suites", "TLS_RSA_WITH_NULL_SHA")], "")
        .provider()
        .unwrap_err();
    assert_eq!(error.key(), Some("ssl.cipher.suites"));
}

#[test]
fn endpoint_identification_is_https_or_empty() {
    let (_, cert) = self_signed();
    let with = |alg: &str| {
        ssl(
            &[
                ("ssl.truststore.type", "PEM"),
                ("ssl.truststore.certificates", cert.as_str()),
                ("ssl.endpoint.identification.algorithm", alg),
            ],
            "",
        )
        .client_config()
    };
    assert!(with("https").is_ok() && with("HTTPS").is_ok() && with("").is_ok());
    assert_eq!(
        with("ldaps").unwrap_err().key(),
        Some("ssl.endpoint.identification.algorithm")
    );
    // No trust store at all falls back to the system's CAs rather than failing.
    assert!(ssl(&[], "").client_config().is_ok());
}
