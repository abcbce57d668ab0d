//! The REST API of one worker over HTTP: every endpoint's path, status and exact JSON, and the
//! error answers, against an in-memory herder.

mod rest_support;

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use ferry_connect::connector::SourceConnector;
use ferry_connect::convert::Converter;
use ferry_connect::plugin::PluginRegistry;
use ferry_runtime::herder::HerderError;
use rest_support::{Api, MemoryHerder, WORKER_ID, local_config, start, start_with};
use serde_json::json;

const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

async fn create(api: &Api, name: &str) {
    let body = json!({"name": name, "config": {"connector.class": SOURCE}}).to_string();
    api.post("/connectors", Some(&body))
        .await
        .expect_status(201);
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
async fn root_and_health() {
    let herder = MemoryHerder::new();
    let (server, api) = start(herder.clone(), &[]).await;
    api.get("/").await.expect(
        200,
        json!({"version": "4.0.0", "commit": "abc123", "kafka_cluster_id": "cluster-1"}),
    );
    api.get("/health").await.expect(
        200,
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}),
    );
    herder.set_unhealthy(HerderError::Unavailable(
        "Waiting to join the group.".into(),
    ));
    api.get("/health").await.expect(
        503,
        json!({"status": "starting", "message": "Worker is still starting up. Waiting to join the group."}),
    );
    herder.set_unhealthy(HerderError::Timeout);
    api.get("/health").await.expect(
        500,
        json!({"status": "unhealthy", "message": "Worker was unable to handle this request and may be unable to handle other requests."}),
    );
    server.stop().await;
}

#[tokio::test]
async fn create_get_and_list_connectors() {
    let (server, api) = start(MemoryHerder::new(), &[]).await;
    api.get("/connectors").await.expect(200, json!([]));
    let reply = api
        .post(
            "/connectors",
            Some(
                &json!({"name": " src ", "config": {"connector.class": SOURCE, "tasks.max": 1}})
                    .to_string(),
            ),
        )
        .await;
    let info = json!({
        "name": "src",
        "config": {"connector.class": SOURCE, "name": "src", "tasks.max": "1"},
        "tasks": [{"connector": "src", "task": 0}],
        "type": "source"
    });
    reply.expect(201, info.clone());
    let host = api.base.trim_start_matches("http://");
    assert_eq!(
        reply.header("location"),
        Some(format!("http://{host}/connectors/src").as_str())
    );

    api.post(
        "/connectors",
        Some(&json!({"name": "src", "config": {"connector.class": SOURCE}}).to_string()),
    )
    .await
    .expect_error(409, "Connector src already exists");
    api.get("/connectors").await.expect(200, json!(["src"]));
    api.get("/connectors/src").await.expect(200, info.clone());
    api.get("/connectors/src/config")
        .await
        .expect(200, info["config"].clone());
    let status = json!({
        "name": "src",
        "connector": {"state": "RUNNING", "worker_id": WORKER_ID},
        "tasks": [{"id": 0, "state": "RUNNING", "worker_id": WORKER_ID}],
        "type": "source"
    });
    api.get("/connectors/src/status")
        .await
        .expect(200, status.clone());
    api.get("/connectors?expand=status")
        .await
        .expect(200, json!({"src": {"status": status}}));
    api.get("/connectors?expand=info")
        .await
        .expect(200, json!({"src": {"info": info}}));
    api.get("/connectors?expand=status&expand=info&expand=other")
        .await
        .expect(200, json!({"src": {"status": status, "info": info}}));
    api.get("/connectors?expand=other")
        .await
        .expect(200, json!({"src": {}}));
    api.get("/connectors/nope")
        .await
        .expect_error(404, "Connector nope not found");
    api.get("/connectors/nope/config")
        .await
        .expect_error(404, "Connector nope not found");
    api.get("/connectors/nope/status")
        .await
        .expect_error(404, "Connector nope not found");
    server.stop().await;
}

#[tokio::test]
async fn create_checks_the_request() {
    let (server, api) = start(MemoryHerder::new(), &[]).await;
    api.post(
        "/connectors",
        Some(&json!({"name": "a", "config": {"name": "b", "connector.class": SOURCE}}).to_string()),
    )
    .await
    .expect_error(
        400,
        "Connector name configuration (b) doesn't match connector name in the URL (a)",
    );
    // A missing name is the empty name, which the herder rejects.
    api.post(
        "/connectors",
        Some(&json!({"config": {"connector.class": SOURCE}}).to_string()),
    )
    .await
    .expect_error(400, "Connector name is empty");
    api.post(
        "/connectors",
        Some(
            &json!({"name": "p", "config": {"connector.class": SOURCE}, "initial_state": "paused"})
                .to_string(),
        ),
    )
    .await
    .expect_status(201);
    assert_eq!(
        api.get("/connectors/p/status").await.json()["connector"]["state"],
        "PAUSED"
    );
    api.post("/connectors", Some(&json!({"name": "s", "config": {"connector.class": SOURCE}, "initial_state": "STOPPED"}).to_string()))
        .await
        .expect(
            201,
            json!({"name": "s", "config": {"connector.class": SOURCE, "name": "s"}, "tasks": [], "type": "source"}),
        );
    let bad_state = api
        .post(
            "/connectors",
            Some(&json!({"name": "x", "config": {}, "initial_state": "asleep"}).to_string()),
        )
        .await;
    assert_eq!(bad_state.status, 500);
    let unknown_field = api
        .post("/connectors", Some(r#"{"name": "x", "configs": {}}"#))
        .await;
    assert_eq!(unknown_field.status, 500);
    assert!(
        unknown_field.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized field \"configs\"")
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_connect_errors() {
    let (server, api) = start(MemoryHerder::new(), &[]).await;
    api.get("/nowhere")
        .await
        .expect_error(404, "HTTP 404 Not Found");
    api.get("/connectors/a/b/c")
        .await
        .expect_error(404, "HTTP 404 Not Found");
    api.delete("/connectors")
        .await
        .expect_error(405, "HTTP 405 Method Not Allowed");
    api.send(Method::PATCH, "/", None, &[])
        .await
        .expect_error(405, "HTTP 405 Method Not Allowed");
    api.get("/connectors/src/tasks/x/status")
        .await
        .expect_error(404, "HTTP 404 Not Found");

    // Malformed JSON and wrong types are Jackson's exceptions, which Java answers with 500.
    let malformed = api.post("/connectors", Some("{\"name\": ")).await;
    assert_eq!(
        (malformed.status, malformed.json()["error_code"].clone()),
        (500, json!(500))
    );
    let wrong_type = api
        .put(
            "/connectors/a/config",
            Some(r#"{"connector.class": {"nested": 1}}"#),
        )
        .await;
    wrong_type.expect_error(
        500,
        "Cannot deserialize value of type `java.lang.String` from Object value (token `JsonToken.START_OBJECT`)",
    );
    let not_object = api.put("/connectors/a/config", Some("[1, 2]")).await;
    assert_eq!(not_object.status, 500);

    let form = api
        .send(
            Method::POST,
            "/connectors",
            Some("name=x"),
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await;
    form.expect_error(415, "HTTP 415 Unsupported Media Type");
    let text = api
        .send(
            Method::PUT,
            "/connectors/a/config",
            None,
            &[("content-type", "text/plain")],
        )
        .await;
    text.expect_error(415, "HTTP 415 Unsupported Media Type");

    let huge = format!("{{\"a\": \"{}\"}}", "x".repeat(17 * 1024 * 1024));
    let too_big = api.put("/connectors/a/config", Some(&huge)).await;
    assert_eq!(too_big.status, 413);
    assert_eq!(too_big.json()["error_code"], 413);
    server.stop().await;
}

#[tokio::test]
async fn put_and_patch_config() {
    let (server, api) = start(MemoryHerder::new(), &[]).await;
    let config = json!({"connector.class": SOURCE, "file": "/tmp/a"}).to_string();
    let reply = api.put("/connectors/c%201/config", Some(&config)).await;
    reply.expect_status(201);
    assert!(
        reply
            .header("location")
            .unwrap()
            .ends_with("/connectors/c%201")
    );
    assert_eq!(reply.json()["config"]["name"], "c 1");
    let reply = api.put("/connectors/c%201/config", Some(&config)).await;
    reply.expect_status(200);
    assert_eq!(reply.header("location"), None);
    api.put(
        "/connectors/c%201/config",
        Some(&json!({"name": "other"}).to_string()),
    )
    .await
    .expect_error(
        400,
        "Connector name configuration (other) doesn't match connector name in the URL (c 1)",
    );
    api.patch(
        "/connectors/c%201/config",
        Some(r#"{"file": null, "topic": "t"}"#),
    )
    .await
    .expect(
        200,
        json!({
            "name": "c 1",
            "config": {"connector.class": SOURCE, "name": "c 1", "topic": "t"},
            "tasks": [{"connector": "c 1", "task": 0}],
            "type": "source"
        }),
    );
    api.patch("/connectors/nope/config", Some("{}"))
        .await
        .expect_error(404, "Connector nope not found");
    server.stop().await;
}

#[tokio::test]
async fn tasks_restarts_and_target_states() {
    let (server, api) = start(MemoryHerder::new(), &[]).await;
    create(&api, "c").await;
    let tasks = json!([{"id": {"connector": "c", "task": 0}, "config": {"task.id": "0"}}]);
    api.get("/connectors/c/tasks").await.expect(200, tasks);
    api.get("/connectors/c/tasks-config")
        .await
        .expect(200, json!({"c-0": {"task.id": "0"}}));
    api.get("/connectors/c/tasks/0/status").await.expect(
        200,
        json!({"id": 0, "state": "RUNNING", "worker_id": WORKER_ID}),
    );
    api.get("/connectors/c/tasks/3/status")
        .await
        .expect_error(404, "No status found for task c-3");

    api.post("/connectors/c/restart", None)
        .await
        .expect_empty(204);
    api.post(
        "/connectors/c/restart?includeTasks=false&onlyFailed=false",
        None,
    )
    .await
    .expect_empty(204);
    api.post("/connectors/c/restart?includeTasks=true", None)
        .await
        .expect(
            202,
            json!({
                "name": "c",
                "connector": {"state": "RESTARTING", "worker_id": WORKER_ID},
                "tasks": [{"id": 0, "state": "RESTARTING", "worker_id": WORKER_ID}],
                "type": "source"
            }),
        );
    api.post("/connectors/nope/restart", None)
        .await
        .expect_error(404, "Connector nope not found");
    api.post("/connectors/c/tasks/0/restart", None)
        .await
        .expect_empty(204);
    api.post("/connectors/c/tasks/9/restart", None)
        .await
        .expect_error(404, "Unknown task: c-9");

    api.put("/connectors/c/pause", None).await.expect_empty(202);
    assert_eq!(
        api.get("/connectors/c/status").await.json()["connector"]["state"],
        "PAUSED"
    );
    api.put("/connectors/c/resume", None)
        .await
        .expect_empty(202);
    assert_eq!(
        api.get("/connectors/c/status").await.json()["connector"]["state"],
        "RUNNING"
    );
    api.put("/connectors/c/stop", None).await.expect_empty(204);
    assert_eq!(
        api.get("/connectors/c/status").await.json()["connector"]["state"],
        "STOPPED"
    );
    api.put("/connectors/nope/pause", None)
        .await
        .expect_error(404, "Connector nope not found");

    api.delete("/connectors/c").await.expect_empty(204);
    api.delete("/connectors/c")
        .await
        .expect_error(404, "Connector c not found");
    server.stop().await;
}

#[tokio::test]
async fn topics_and_offsets() {
    let (server, api) = start(MemoryHerder::new(), &[]).await;
    create(&api, "c").await;
    api.get("/connectors/c/topics")
        .await
        .expect(200, json!({"c": {"topics": ["topic-a"]}}));
    api.put("/connectors/c/topics/reset", None)
        .await
        .expect_empty(202);
    api.get("/connectors/c/topics")
        .await
        .expect(200, json!({"c": {"topics": []}}));

    api.get("/connectors/c/offsets")
        .await
        .expect(200, json!({"offsets": []}));
    let offsets =
        json!({"offsets": [{"partition": {"file": "a"}, "offset": {"position": 5}}]}).to_string();
    api.patch("/connectors/c/offsets", Some(&offsets)).await.expect_error(
        400,
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/c/stop' endpoint",
    );
    api.put("/connectors/c/stop", None).await.expect_empty(204);
    api.patch("/connectors/c/offsets", Some(&offsets))
        .await
        .expect(
            200,
            json!({"message": "The offsets for this connector have been altered successfully"}),
        );
    api.get("/connectors/c/offsets")
        .await
        .expect(200, serde_json::from_str(&offsets).unwrap());
    for empty in [r#"{"offsets": []}"#, "{}"] {
        api.patch("/connectors/c/offsets", Some(empty))
            .await
            .expect_error(
                400,
                "Partitions / offsets need to be provided for an alter offsets request",
            );
    }
    api.delete("/connectors/c/offsets").await.expect(
        200,
        json!({"message": "The offsets for this connector have been reset successfully"}),
    );
    api.get("/connectors/nope/offsets")
        .await
        .expect_error(404, "Connector nope not found");
    server.stop().await;
}

#[tokio::test]
async fn topic_tracking_can_be_disabled() {
    let (server, api) = start(
        MemoryHerder::new(),
        &[("topic.tracking.allow.reset", "false")],
    )
    .await;
    api.get("/connectors/c/topics").await.expect_status(200);
    api.put("/connectors/c/topics/reset", None)
        .await
        .expect_error(403, "Topic tracking reset is disabled.");
    server.stop().await;
    let (server, api) = start(MemoryHerder::new(), &[("topic.tracking.enable", "false")]).await;
    api.get("/connectors/c/topics")
        .await
        .expect_error(403, "Topic tracking is disabled.");
    api.put("/connectors/c/topics/reset", None)
        .await
        .expect_error(403, "Topic tracking is disabled.");
    server.stop().await;
}

fn plugins() -> Arc<PluginRegistry> {
    let mut registry = PluginRegistry::new();
    registry.register_source_connector(SOURCE, "4.0.0", || -> Box<dyn SourceConnector> {
        unreachable!("REST listings do not create plugins")
    });
    registry.register_converter(
        "org.apache.kafka.connect.json.JsonConverter",
        "4.0.0",
        || -> Box<dyn Converter> { unreachable!("REST listings do not create plugins") },
    );
    Arc::new(registry)
}

#[tokio::test]
async fn connector_plugins() {
    let (server, api) = start_with(MemoryHerder::new(), local_config(&[]), plugins()).await;
    let source = json!({"class": SOURCE, "type": "source", "version": "4.0.0"});
    let converter = json!({"class": "org.apache.kafka.connect.json.JsonConverter", "type": "converter", "version": "4.0.0"});
    api.get("/connector-plugins")
        .await
        .expect(200, json!([source]));
    api.get("/connector-plugins?connectorsOnly=true")
        .await
        .expect(200, json!([source]));
    api.get("/connector-plugins?connectorsOnly=false")
        .await
        .expect(200, json!([source, converter]));
    api.get("/connector-plugins/FileStreamSource/config").await.expect(
        200,
        json!([{
            "name": "file", "type": "STRING", "required": false, "default_value": null, "importance": "HIGH",
            "documentation": "Source filename.", "group": null, "width": "NONE", "display_name": "file",
            "dependents": [], "order": -1
        }]),
    );
    api.get("/connector-plugins/Nope/config")
        .await
        .expect_error(404, "Unknown plugin Nope.");

    let validate = |config: serde_json::Value| config.to_string();
    api.put(
        "/connector-plugins/FileStreamSourceConnector/config/validate",
        Some(&validate(json!({"connector.class": SOURCE}))),
    )
    .await
    .expect(
        200,
        json!({"name": SOURCE, "error_count": 0, "groups": [], "configs": []}),
    );
    api.put(
        "/connector-plugins/FileStreamSource/config/validate",
        Some(&validate(json!({"connector.class": "FileStreamSink"}))),
    )
    .await
    .expect_error(
        400,
        "Included connector type FileStreamSink does not match request type FileStreamSource",
    );
    server.stop().await;
}

#[tokio::test]
async fn slow_herders_time_out() {
    let herder = MemoryHerder::new();
    herder.set_hanging();
    let mut config = local_config(&[]);
    config.request_timeout = Duration::from_millis(50);
    let (server, api) = start_with(herder, config, rest_support::no_plugins()).await;
    api.get("/connectors")
        .await
        .expect_error(500, "Request timed out");
    server.stop().await;
}

#[tokio::test]
async fn a_trailing_slash_is_ignored() {
    let (server, api) = start(MemoryHerder::new(), &[]).await;
    create(&api, "c").await;
    api.get("/connectors/").await.expect(200, json!(["c"]));
    api.get("/connectors/c/status/?x=1")
        .await
        .expect_status(200);
    server.stop().await;
}
