use std::collections::HashMap;

use super::*;

fn config(pairs: &[(&str, &str)]) -> Result<RestConfig, ConfigError> {
    let props: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    RestConfig::from_props(&props)
}

#[test]
fn defaults_match_java() {
    let c = config(&[]).unwrap();
    assert_eq!(
        c.listeners,
        [Listener {
            protocol: Protocol::Http,
            host: String::new(),
            port: 8083
        }]
    );
    assert_eq!(c.admin_listeners, None);
    assert_eq!(c.advertised_protocol(), "http");
    assert!(c.topic_tracking_enabled && c.topic_tracking_reset_enabled);
    assert!(c.allowed_origins.is_empty() && c.response_headers.is_empty());
    assert_eq!(c.request_timeout, Duration::from_secs(90));
    assert_eq!(c.health_check_timeout, Duration::from_secs(10));
}

#[test]
fn listeners_are_parsed_as_java_does() {
    let c = config(&[("listeners", "HTTPS://myhost:8443, http://[::1]:0")]).unwrap();
    assert_eq!(
        c.listeners[0],
        Listener {
            protocol: Protocol::Https,
            host: "myhost".into(),
            port: 8443
        }
    );
    assert_eq!(
        c.listeners[1],
        Listener {
            protocol: Protocol::Http,
            host: "::1".into(),
            port: 0
        }
    );
    assert_eq!(c.listeners[1].to_string(), "http://[::1]:0");
    // Java prefers http whenever the raw value mentions it.
    assert_eq!(c.advertised_protocol(), "http");
    assert_eq!(
        config(&[("listeners", "https://a:1")])
            .unwrap()
            .advertised_protocol(),
        "https"
    );
    let c = config(&[
        ("listeners", "https://a:1"),
        ("rest.advertised.listener", "HTTP"),
    ])
    .unwrap();
    assert_eq!(c.advertised_protocol(), "http");
}

#[test]
fn invalid_values_name_their_key() {
    let message = |pairs: &[(&str, &str)]| config(pairs).unwrap_err().to_string();
    assert_eq!(
        message(&[("listeners", "localhost:8083")]),
        "Invalid value localhost:8083 for configuration listeners: Listener doesn't have the right format (protocol://hostname:port)."
    );
    assert_eq!(
        message(&[("listeners", "ftp://h:1")]),
        "Invalid value ftp://h:1 for configuration listeners: Listener protocol must be either \"http\" or \"https\"."
    );
    assert!(message(&[("listeners", "")]).contains("at least one URL is expected"));
    assert!(
        message(&[("listeners", "http://a:1,,http://b:2")])
            .contains("Empty URL found when parsing listeners list.")
    );
    assert!(message(&[("admin.listeners", "nope")]).contains("configuration admin.listeners"));
    assert!(message(&[("rest.advertised.port", "x")]).contains("rest.advertised.port"));
    assert!(message(&[("topic.tracking.enable", "maybe")]).contains("topic.tracking.enable"));
    assert!(message(&[("listeners", "http://h:70000")]).contains("listeners"));
}

#[test]
fn admin_listeners_empty_disables_them() {
    assert_eq!(
        config(&[("admin.listeners", "")]).unwrap().admin_listeners,
        Some(vec![])
    );
    let c = config(&[("admin.listeners", "http://localhost:0")]).unwrap();
    assert_eq!(c.admin_listeners.unwrap().len(), 1);
}

#[test]
fn header_rules_follow_java_validation() {
    let c = config(&[(
        "response.http.headers.config",
        "add X-A:1, set X-B:two,\"addDate Expires:1000\"",
    )])
    .unwrap();
    assert_eq!(
        c.response_headers,
        [
            HeaderRule {
                action: HeaderAction::Add,
                name: "X-A".into(),
                value: "1".into()
            },
            HeaderRule {
                action: HeaderAction::Set,
                name: "X-B".into(),
                value: "two".into()
            },
            HeaderRule {
                action: HeaderAction::AddDate,
                name: "Expires".into(),
                value: "1000".into()
            },
        ]
    );
    let message = |rule: &str| {
        config(&[("response.http.headers.config", rule)])
            .unwrap_err()
            .to_string()
    };
    assert!(message("badaction X-A:1").contains("Invalid header config action: 'badaction'"));
    assert!(message("set").contains("Expected: '[action] [header name]:[header value]'"));
    assert!(
        message("set X-A").contains("Invalid format of header name and header value pair 'X-A'")
    );
    assert!(message("set X A:1").contains("Invalid header name 'X A'"));
}
