//! REST behaviour between workers and around the resources: forwarding to the leader, signed
//! internal requests, the admin endpoints and their listeners, cross-origin and configured
//! response headers.

mod rest_support;

use axum::http::Method;
use ferry_runtime::rest::{RestClient, Signing};
use rest_support::{Api, MemoryHerder, WORKER_ID, local_config, start, start_with};
use serde_json::json;

const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

fn create_body(name: &str) -> String {
    json!({"name": name, "config": {"connector.class": SOURCE}}).to_string()
}

#[tokio::test]
async fn followers_forward_writes_to_the_leader() {
    let leader_herder = MemoryHerder::new();
    let (leader, leader_api) = start(leader_herder.clone(), &[]).await;
    let follower_herder = MemoryHerder::new();
    follower_herder.set_not_leader(Some(leader.advertised_url().to_owned()));
    let (follower, api) = start(follower_herder.clone(), &[]).await;

    let reply = api.post("/connectors", Some(&create_body("c"))).await;
    reply.expect(
        201,
        json!({
            "name": "c",
            "config": {"connector.class": SOURCE, "name": "c"},
            "tasks": [{"connector": "c", "task": 0}],
            "type": "source"
        }),
    );
    // Jersey resolves the Location against the request, so it names the follower.
    let follower_host = api.base.trim_start_matches("http://");
    assert_eq!(
        reply.header("location"),
        Some(format!("http://{follower_host}/connectors/c").as_str())
    );
    assert_eq!((follower_herder.writes(), leader_herder.writes()), (1, 1));
    leader_api
        .get("/connectors")
        .await
        .expect(200, json!(["c"]));

    // The leader's errors come back as they are.
    api.post("/connectors", Some(&create_body("c")))
        .await
        .expect_error(409, "Connector c already exists");
    api.put(
        "/connectors/c/config",
        Some(&json!({"connector.class": SOURCE, "x": "1"}).to_string()),
    )
    .await
    .expect_status(200);
    api.put(
        "/connectors/d/config",
        Some(&json!({"connector.class": SOURCE}).to_string()),
    )
    .await
    .expect_status(201);
    api.patch("/connectors/c/config", Some(r#"{"x": "2"}"#))
        .await
        .expect_status(200);
    assert_eq!(
        leader_api.get("/connectors/c/config").await.json()["x"],
        "2"
    );
    api.post("/connectors/c/restart", None)
        .await
        .expect_empty(204);
    let restarting = api
        .post(
            "/connectors/c/restart?includeTasks=true&onlyFailed=false",
            None,
        )
        .await;
    restarting.expect_status(202);
    assert_eq!(
        restarting.json()["connector"],
        json!({"state": "RESTARTING", "worker_id": WORKER_ID})
    );
    api.post("/connectors/c/tasks/0/restart", None)
        .await
        .expect_empty(204);
    api.put("/connectors/c/pause", None).await.expect_empty(202);
    api.put("/connectors/c/stop", None).await.expect_empty(204);
    assert_eq!(
        leader_api.get("/connectors/c/status").await.json()["connector"]["state"],
        "STOPPED"
    );
    let offsets = json!({"offsets": [{"partition": {"f": "a"}, "offset": {"p": 1}}]}).to_string();
    api.patch("/connectors/c/offsets", Some(&offsets))
        .await
        .expect(
            200,
            json!({"message": "The offsets for this connector have been altered successfully"}),
        );
    api.delete("/connectors/c/offsets").await.expect(
        200,
        json!({"message": "The offsets for this connector have been reset successfully"}),
    );
    api.delete("/connectors/c").await.expect_empty(204);
    api.delete("/connectors/c")
        .await
        .expect_error(404, "Connector c not found");
    leader_api
        .get("/connectors")
        .await
        .expect(200, json!(["d"]));

    follower.stop().await;
    leader.stop().await;
}

#[tokio::test]
async fn forwarding_stops_after_two_hops() {
    let leader_herder = MemoryHerder::new();
    let (leader, _) = start(leader_herder.clone(), &[]).await;
    let middle_herder = MemoryHerder::new();
    middle_herder.set_not_leader(Some(leader.advertised_url().to_owned()));
    let (middle, middle_api) = start(middle_herder.clone(), &[]).await;
    let first_herder = MemoryHerder::new();
    first_herder.set_not_leader(Some(middle.advertised_url().to_owned()));
    let (first, api) = start(first_herder, &[]).await;

    // first -> middle (forward=true) -> leader (forward=false).
    api.post("/connectors", Some(&create_body("c")))
        .await
        .expect_status(201);
    assert_eq!((middle_herder.writes(), leader_herder.writes()), (1, 1));

    // A worker told not to forward again gives up.
    middle_api
        .post("/connectors?forward=false", Some(&create_body("e")))
        .await
        .expect_error(
            409,
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
        );

    // Three hops are one too many: the leader itself now points elsewhere.
    leader_herder.set_not_leader(Some(first.advertised_url().to_owned()));
    api.post("/connectors", Some(&create_body("f")))
        .await
        .expect_error(
            409,
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
        );

    first.stop().await;
    middle.stop().await;
    leader.stop().await;
}

#[tokio::test]
async fn no_known_leader_is_a_conflict() {
    let herder = MemoryHerder::new();
    herder.set_not_leader(None);
    let (server, api) = start(herder, &[]).await;
    api.post("/connectors", Some(&create_body("c"))).await.expect_error(
        409,
        "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.",
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unreachable_leader_is_an_internal_error() {
    let herder = MemoryHerder::new();
    // A port nothing listens on: bind one, learn it, and close it.
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    herder.set_not_leader(Some(format!("http://{unused}/")));
    let (server, api) = start(herder, &[]).await;
    let reply = api.post("/connectors", Some(&create_body("c"))).await;
    assert_eq!(reply.status, 500, "{reply:?}");
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("IO Error trying to forward REST request: "),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test]
async fn internal_requests_are_signed() {
    let herder = MemoryHerder::new();
    let (server, api) = start(herder.clone(), &[]).await;
    let client = RestClient::new();
    let url = format!("{}/connectors/c/tasks", api.base);
    let body = br#"[{"task.class": "T", "n": 1}]"#.to_vec();

    let signing = Signing {
        key: &herder.session_key,
        algorithm: "HmacSHA256",
    };
    let reply = client
        .request(&url, Method::POST, None, Some(body.clone()), Some(signing))
        .await
        .unwrap();
    assert_eq!(reply.status, 204);
    let call = &herder.task_configs_calls()[0];
    assert_eq!(call.connector, "c");
    assert!(call.signed);
    assert_eq!(call.configs[0]["n"], "1");

    let unsigned = client
        .request(&url, Method::POST, None, Some(body.clone()), None)
        .await
        .unwrap_err();
    assert_eq!(
        (unsigned.status, unsigned.message.as_str()),
        (400, "Internal request missing required signature")
    );
    let wrong_key = Signing {
        key: b"wrong",
        algorithm: "HmacSHA256",
    };
    let forged = client
        .request(
            &url,
            Method::POST,
            None,
            Some(body.clone()),
            Some(wrong_key),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (forged.status, forged.message.as_str()),
        (403, "Internal request contained invalid signature.")
    );
    let unknown = api
        .send(
            Method::POST,
            "/connectors/c/tasks",
            Some("[]"),
            &[
                ("X-Connect-Authorization", "AAAA"),
                ("X-Connect-Request-Signature-Algorithm", "HmacFoo"),
            ],
        )
        .await;
    unknown.expect_error(400, "Algorithm HmacFoo not available");

    api.post("/connectors", Some(&create_body("src"))).await;
    let fence_url = format!("{}/connectors/src/fence", api.base);
    let signing = Signing {
        key: &herder.session_key,
        algorithm: "HmacSHA512",
    };
    let fenced = client
        .request(&fence_url, Method::PUT, None, None, Some(signing))
        .await
        .unwrap();
    assert_eq!(fenced.status, 204);
    server.stop().await;
}

#[tokio::test]
async fn loggers_are_read_and_set() {
    let herder = MemoryHerder::new();
    let (server, api) = start(herder.clone(), &[]).await;
    api.get("/admin/loggers").await.expect(
        200,
        json!({"root": {"level": "INFO", "last_modified": null}}),
    );
    api.get("/admin/loggers/ferry_runtime")
        .await
        .expect_error(404, "Logger ferry_runtime not found.");
    api.put(
        "/admin/loggers/ferry_runtime",
        Some(r#"{"level": "debug"}"#),
    )
    .await
    .expect(200, json!(["ferry_runtime"]));
    let level = api.get("/admin/loggers/ferry_runtime").await;
    level.expect_status(200);
    assert_eq!(level.json()["level"], "DEBUG");
    assert!(level.json()["last_modified"].is_i64());
    api.get("/admin/loggers/ROOT")
        .await
        .expect(200, json!({"level": "INFO", "last_modified": null}));
    api.put("/admin/loggers/x", Some("{}")).await.expect_error(
        400,
        "Desired 'level' parameter was not specified in request.",
    );
    api.put("/admin/loggers/x", Some(r#"{"level": "LOUD"}"#))
        .await
        .expect_error(404, "invalid log level 'LOUD'.");
    api.put(
        "/admin/loggers/org.apache.kafka?scope=Cluster",
        Some(r#"{"level": "warn"}"#),
    )
    .await
    .expect_empty(204);
    assert_eq!(
        herder.cluster_log_levels(),
        [("org.apache.kafka".to_owned(), "warn".to_owned())]
    );
    let applied = api.get("/admin/loggers/org.apache.kafka").await;
    assert_eq!(applied.json()["level"], "WARN", "{applied:?}");
    api.put(
        "/admin/loggers/y?scope=galaxy",
        Some(r#"{"level": "ERROR"}"#),
    )
    .await
    .expect(200, json!(["y"]));
    api.put("/admin/loggers", Some(r#"{"level": "ERROR"}"#))
        .await
        .expect_error(405, "HTTP 405 Method Not Allowed");
    server.stop().await;
}

#[tokio::test]
async fn admin_listeners_move_or_disable_the_admin_endpoints() {
    let (server, api) = start(MemoryHerder::new(), &[("admin.listeners", "")]).await;
    assert_eq!(server.admin_url(), None);
    api.get("/admin/loggers")
        .await
        .expect_error(404, "HTTP 404 Not Found");
    server.stop().await;

    let (server, api) = start(
        MemoryHerder::new(),
        &[("admin.listeners", "http://127.0.0.1:0")],
    )
    .await;
    api.get("/admin/loggers")
        .await
        .expect_error(404, "HTTP 404 Not Found");
    let admin = Api::new(server.admin_url().unwrap());
    assert_eq!(
        server.admin_addrs()[0].port(),
        admin
            .base
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap()
    );
    admin.get("/admin/loggers").await.expect_status_ok();
    admin
        .get("/connectors")
        .await
        .expect_error(404, "HTTP 404 Not Found");
    server.stop().await;
}

trait Ok200 {
    fn expect_status_ok(&self);
}

impl Ok200 for rest_support::Reply {
    #[track_caller]
    fn expect_status_ok(&self) {
        assert_eq!(self.status, 200, "{self:?}");
    }
}

trait ExpectStatus {
    fn expect_status(&self, status: u16) -> &Self;
}

impl ExpectStatus for rest_support::Reply {
    #[track_caller]
    fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{self:?}");
        self
    }
}

#[tokio::test]
async fn cross_origin_and_configured_headers() {
    let config = local_config(&[
        ("access.control.allow.origin", "*"),
        ("access.control.allow.methods", "PUT"),
        (
            "response.http.headers.config",
            "set X-Frame-Options:DENY, add Cache-Control:no-store",
        ),
    ]);
    let (server, api) = start_with(MemoryHerder::new(), config, rest_support::no_plugins()).await;
    let reply = api
        .send(
            Method::GET,
            "/connectors",
            None,
            &[("Origin", "http://bar.com")],
        )
        .await;
    reply.expect(200, json!([]));
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("http://bar.com")
    );
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let preflight = api
        .send(
            Method::OPTIONS,
            "/connector-plugins/FileStreamSource/validate",
            None,
            &[
                ("Origin", "http://bar.com"),
                ("Access-Control-Request-Method", "PUT"),
            ],
        )
        .await;
    preflight.expect_error(404, "HTTP 404 Not Found");
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://bar.com")
    );
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("PUT")
    );
    let preflight = api
        .send(
            Method::OPTIONS,
            "/connectors",
            None,
            &[
                ("Origin", "http://bar.com"),
                ("Access-Control-Request-Method", "PUT"),
            ],
        )
        .await;
    assert_eq!(preflight.status, 200, "{preflight:?}");
    assert_eq!(preflight.header("allow"), Some("GET,HEAD,POST,OPTIONS"));
    assert_eq!(preflight.body.as_ref(), b"GET, HEAD, POST, OPTIONS");
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://bar.com")
    );
    server.stop().await;

    let (server, api) = start(MemoryHerder::new(), &[]).await;
    let reply = api
        .send(
            Method::GET,
            "/connectors",
            None,
            &[("Origin", "http://bar.com")],
        )
        .await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
    server.stop().await;
}

#[tokio::test]
async fn listeners_are_bound_before_the_herder_exists() {
    let listeners = ferry_runtime::rest::RestListeners::bind(local_config(&[]))
        .await
        .unwrap();
    let url = listeners.advertised_url().to_owned();
    let port = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(listeners.worker_id(), format!("127.0.0.1:{port}"));
    let server = listeners.serve(
        MemoryHerder::new(),
        rest_support::no_plugins(),
        rest_support::log_levels(),
    );
    assert_eq!(
        (server.advertised_url(), server.worker_id()),
        (url.as_str(), format!("127.0.0.1:{port}"))
    );
    assert_eq!(server.local_addrs()[0].port().to_string(), port);
    Api::new(&url)
        .get("/connectors")
        .await
        .expect(200, json!([]));
    server.stop().await;
}
