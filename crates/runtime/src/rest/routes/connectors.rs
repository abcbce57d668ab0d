//! `/connectors` (Java's `ConnectorsResource`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::{empty, json, json_bytes};
use crate::ConnectorTaskId;
use crate::herder::{
    ConfigMap, ConnectorOffsets, HerderError, InitialState, RestartRequest, TargetState,
};
use crate::rest::error::{ApiError, ApiResult};
use crate::rest::forward::{Forward, Outcome};
use crate::rest::request::{Params, Query, RequestBody, config_map, scalar_text, string_map};
use crate::rest::server::AppState;

/// Java's `ConnectorConfig.NAME_CONFIG`.
const NAME_CONFIG: &str = "name";

/// What UriBuilder.path escapes in a connector name: everything but unreserved characters,
/// sub-delimiters, `:`, `@` and `/`.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn forward<'a>(
    method: Method,
    uri: &'a Uri,
    query: &Query,
    headers: &'a HeaderMap,
    body: Option<&Value>,
) -> Forward<'a> {
    Forward {
        method,
        path: uri.path(),
        query: Vec::new(),
        body: body.map(|b| serde_json::to_vec(b).unwrap_or_default()),
        forward: query.boolean("forward"),
        headers,
    }
}

/// The absolute `Location` of a created connector, resolved against the request's base URI as
/// Jersey does.
fn location(headers: &HeaderMap, name: &str) -> Option<HeaderValue> {
    let path = format!("/connectors/{}", utf8_percent_encode(name, PATH));
    let url = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}{path}"),
        None => path,
    };
    HeaderValue::from_str(&url).ok()
}

fn created(headers: &HeaderMap, name: &str, body: axum::body::Bytes) -> Response {
    let mut response = json_bytes(StatusCode::CREATED, body);
    if let Some(location) = location(headers, name) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Java's `checkAndPutConnectorConfigName`.
fn check_and_put_name(name: &str, config: &mut ConfigMap) -> ApiResult<()> {
    match config.get(NAME_CONFIG) {
        Some(included) if included != name => Err(ApiError::bad_request(format!(
            "Connector name configuration ({included}) doesn't match connector name in the URL ({name})"
        ))),
        Some(_) => Ok(()),
        None => {
            config.insert(NAME_CONFIG.to_owned(), name.to_owned());
            Ok(())
        }
    }
}

/// Java answers a missing body with the `NullPointerException` it runs into.
fn missing_body() -> ApiError {
    ApiError::internal("Request body is missing")
}

/// `GET /connectors`, with `?expand=status` and/or `?expand=info`.
pub async fn list(State(state): State<AppState>, query: Query) -> ApiResult<Response> {
    let names = state.call(state.herder().connectors()).await?;
    if !query.contains("expand") {
        return json(StatusCode::OK, &names);
    }
    let mut out = BTreeMap::new();
    'connectors: for name in names {
        let mut expansions = Map::new();
        for expansion in query.all("expand") {
            let value = match expansion {
                "status" => state
                    .call(state.herder().connector_status(&name))
                    .await
                    .map(|s| json!(s)),
                "info" => state
                    .call(state.herder().connector_info(&name))
                    .await
                    .map(|i| json!(i)),
                _ => continue,
            };
            match value {
                Ok(value) => expansions.insert(expansion.to_owned(), value),
                // Deleted while listing: left out, as Java does.
                Err(HerderError::NotFound(_)) => continue 'connectors,
                Err(other) => return Err(other.into()),
            };
        }
        out.insert(name, expansions);
    }
    json(StatusCode::OK, &out)
}

struct CreateRequest {
    name: Option<String>,
    config: Option<ConfigMap>,
    initial_state: Option<(String, InitialState)>,
}

const CREATE_REQUEST_CLASS: &str =
    "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest";

/// Reads a `CreateConnectorRequest` as Jackson does, unknown fields and bad states being errors.
fn parse_create(body: &Value) -> ApiResult<CreateRequest> {
    let object = match body {
        Value::Null => return Err(missing_body()),
        Value::Object(object) => object,
        _ => {
            return Err(ApiError::internal(format!(
                "Cannot deserialize value of type `{CREATE_REQUEST_CLASS}` from non-object value"
            )));
        }
    };
    let mut request = CreateRequest {
        name: None,
        config: None,
        initial_state: None,
    };
    for (field, value) in object {
        match field.as_str() {
            "name" => request.name = scalar_text(value)?,
            "config" => request.config = config_map(value)?,
            "initial_state" => {
                request.initial_state = scalar_text(value)?
                    .map(|state| parse_initial_state(&state).map(|parsed| (state, parsed)))
                    .transpose()?;
            }
            unknown => {
                return Err(ApiError::internal(format!(
                    "Unrecognized field \"{unknown}\" (class {CREATE_REQUEST_CLASS}), not marked as ignorable (3 known properties: \"initial_state\", \"config\", \"name\"])"
                )));
            }
        }
    }
    Ok(request)
}

fn parse_initial_state(state: &str) -> ApiResult<InitialState> {
    match state.to_uppercase().as_str() {
        "RUNNING" => Ok(InitialState::Running),
        "PAUSED" => Ok(InitialState::Paused),
        "STOPPED" => Ok(InitialState::Stopped),
        other => Err(ApiError::internal(format!(
            "Cannot construct instance of `{CREATE_REQUEST_CLASS}$InitialState`, problem: No enum constant {CREATE_REQUEST_CLASS}.InitialState.{other}"
        ))),
    }
}

/// `POST /connectors`: 201 with the connector's info and its `Location`.
pub async fn create(
    State(state): State<AppState>,
    uri: Uri,
    query: Query,
    body: RequestBody,
) -> ApiResult<Response> {
    let request = parse_create(&body.json()?)?;
    let name = request.name.as_deref().map_or("", str::trim).to_owned();
    let mut config = request.config.ok_or_else(missing_body)?;
    check_and_put_name(&name, &mut config)?;
    let initial_state = request
        .initial_state
        .as_ref()
        .map(|(_, s)| TargetState::from(*s));
    let forwarded = json!({
        "name": request.name,
        "config": config,
        "initial_state": request.initial_state.map(|(text, _)| text),
    });
    let result = state
        .call(
            state
                .herder()
                .put_connector_config(&name, config, initial_state, false),
        )
        .await;
    let outcome = state
        .complete_or_forward(
            result.map(|c| c.result),
            forward(Method::POST, &uri, &query, &body.headers, Some(&forwarded)),
        )
        .await?;
    Ok(created(&body.headers, &name, outcome.into_body()?))
}

/// `GET /connectors/{name}`.
pub async fn info(
    State(state): State<AppState>,
    Params(name): Params<String>,
) -> ApiResult<Response> {
    json(
        StatusCode::OK,
        &state.call(state.herder().connector_info(&name)).await?,
    )
}

/// `DELETE /connectors/{name}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let result = state.call(state.herder().delete_connector(&name)).await;
    state
        .complete_or_forward(
            result,
            forward(Method::DELETE, &uri, &query, &headers, None),
        )
        .await?;
    empty(StatusCode::NO_CONTENT)
}

/// `GET /connectors/{name}/config`.
pub async fn config(
    State(state): State<AppState>,
    Params(name): Params<String>,
) -> ApiResult<Response> {
    json(
        StatusCode::OK,
        &state.call(state.herder().connector_config(&name)).await?,
    )
}

/// `PUT /connectors/{name}/config`: 201 when it created the connector, else 200.
pub async fn put_config(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    body: RequestBody,
) -> ApiResult<Response> {
    let mut config = config_map(&body.json()?)?.ok_or_else(missing_body)?;
    check_and_put_name(&name, &mut config)?;
    let forwarded = json!(config);
    let result = state
        .call(
            state
                .herder()
                .put_connector_config(&name, config, None, true),
        )
        .await;
    let outcome = state
        .complete_or_forward(
            result,
            forward(Method::PUT, &uri, &query, &body.headers, Some(&forwarded)),
        )
        .await?;
    let (was_created, bytes) = match outcome {
        Outcome::Local(c) => (c.created, Outcome::Local(c.result).into_body()?),
        Outcome::Forwarded(response) => (response.status == 201, response.body),
    };
    if was_created {
        Ok(created(&body.headers, &name, bytes))
    } else {
        Ok(json_bytes(StatusCode::OK, bytes))
    }
}

/// `PATCH /connectors/{name}/config`: 200 with the merged connector.
pub async fn patch_config(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    body: RequestBody,
) -> ApiResult<Response> {
    let patch = string_map(&body.json()?)?.ok_or_else(missing_body)?;
    let forwarded = json!(patch);
    let result = state
        .call(state.herder().patch_connector_config(&name, patch))
        .await;
    let outcome = state
        .complete_or_forward(
            result.map(|c| c.result),
            forward(Method::PATCH, &uri, &query, &body.headers, Some(&forwarded)),
        )
        .await?;
    Ok(json_bytes(StatusCode::OK, outcome.into_body()?))
}

/// `GET /connectors/{name}/status`.
pub async fn status(
    State(state): State<AppState>,
    Params(name): Params<String>,
) -> ApiResult<Response> {
    json(
        StatusCode::OK,
        &state.call(state.herder().connector_status(&name)).await?,
    )
}

/// `POST /connectors/{name}/restart?includeTasks=&onlyFailed=`: 204 for the plain restart,
/// else 202 with the status showing what restarts.
pub async fn restart(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let include_tasks = query.boolean("includeTasks").unwrap_or(false);
    let only_failed = query.boolean("onlyFailed").unwrap_or(false);
    let request = RestartRequest {
        connector: name,
        only_failed,
        include_tasks,
    };
    let mut target = forward(Method::POST, &uri, &query, &headers, None);
    let plain = !include_tasks && !only_failed;
    if !plain {
        target.query = vec![
            ("includeTasks", include_tasks.to_string()),
            ("onlyFailed", only_failed.to_string()),
        ];
    }
    let result = state.call(state.herder().restart_connector(request)).await;
    match state.complete_or_forward(result, target).await? {
        Outcome::Local(None) => empty(StatusCode::NO_CONTENT),
        Outcome::Local(Some(status)) => json(StatusCode::ACCEPTED, &status),
        Outcome::Forwarded(_) if plain => empty(StatusCode::NO_CONTENT),
        Outcome::Forwarded(response) => Ok(json_bytes(StatusCode::ACCEPTED, response.body)),
    }
}

async fn set_target_state(
    state: &AppState,
    name: &str,
    target: TargetState,
    forward_to: Forward<'_>,
) -> ApiResult<()> {
    let result = state
        .call(state.herder().set_target_state(name, target))
        .await;
    state
        .complete_or_forward(result, forward_to)
        .await
        .map(drop)
}

/// `PUT /connectors/{name}/pause`: 202.
pub async fn pause(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let target = forward(Method::PUT, &uri, &query, &headers, None);
    set_target_state(&state, &name, TargetState::Paused, target).await?;
    empty(StatusCode::ACCEPTED)
}

/// `PUT /connectors/{name}/resume`: 202.
pub async fn resume(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let target = forward(Method::PUT, &uri, &query, &headers, None);
    set_target_state(&state, &name, TargetState::Started, target).await?;
    empty(StatusCode::ACCEPTED)
}

/// `PUT /connectors/{name}/stop`: 204.
pub async fn stop(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let target = forward(Method::PUT, &uri, &query, &headers, None);
    set_target_state(&state, &name, TargetState::Stopped, target).await?;
    empty(StatusCode::NO_CONTENT)
}

/// `GET /connectors/{name}/tasks`.
pub async fn tasks(
    State(state): State<AppState>,
    Params(name): Params<String>,
) -> ApiResult<Response> {
    json(
        StatusCode::OK,
        &state.call(state.herder().task_configs(&name)).await?,
    )
}

/// `GET /connectors/{name}/tasks-config` (deprecated in Java): task configs keyed `NAME-N`.
pub async fn tasks_config(
    State(state): State<AppState>,
    Params(name): Params<String>,
) -> ApiResult<Response> {
    let tasks = state.call(state.herder().task_configs(&name)).await?;
    let by_id: BTreeMap<String, ConfigMap> = tasks
        .into_iter()
        .map(|t| (t.id.to_string(), t.config))
        .collect();
    json(StatusCode::OK, &by_id)
}

fn task_id(name: String, task: &str) -> ApiResult<ConnectorTaskId> {
    let task = task
        .parse()
        .map_err(|_| ApiError::jersey(StatusCode::NOT_FOUND))?;
    Ok(ConnectorTaskId::new(name, task))
}

/// `GET /connectors/{name}/tasks/{task}/status`.
pub async fn task_status(
    State(state): State<AppState>,
    Params((name, task)): Params<(String, String)>,
) -> ApiResult<Response> {
    let id = task_id(name, &task)?;
    json(
        StatusCode::OK,
        &state.call(state.herder().task_status(&id)).await?,
    )
}

/// `POST /connectors/{name}/tasks/{task}/restart`: 204.
pub async fn restart_task(
    State(state): State<AppState>,
    Params((name, task)): Params<(String, String)>,
    uri: Uri,
    query: Query,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = task_id(name, &task)?;
    let result = state.call(state.herder().restart_task(&id)).await;
    state
        .complete_or_forward(result, forward(Method::POST, &uri, &query, &headers, None))
        .await?;
    empty(StatusCode::NO_CONTENT)
}

fn check_topic_tracking(state: &AppState) -> ApiResult<()> {
    if state.config().topic_tracking_enabled {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Topic tracking is disabled.",
        ))
    }
}

/// `GET /connectors/{name}/topics`: `{"NAME": {"topics": [...]}}`.
pub async fn topics(
    State(state): State<AppState>,
    Params(name): Params<String>,
) -> ApiResult<Response> {
    check_topic_tracking(&state)?;
    let info = state.call(state.herder().active_topics(&name)).await?;
    json(StatusCode::OK, &BTreeMap::from([(name, info)]))
}

/// `PUT /connectors/{name}/topics/reset`: 202.
pub async fn reset_topics(
    State(state): State<AppState>,
    Params(name): Params<String>,
) -> ApiResult<Response> {
    check_topic_tracking(&state)?;
    if !state.config().topic_tracking_reset_enabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Topic tracking reset is disabled.",
        ));
    }
    state
        .call(state.herder().reset_active_topics(&name))
        .await?;
    empty(StatusCode::ACCEPTED)
}

/// `GET /connectors/{name}/offsets`.
pub async fn offsets(
    State(state): State<AppState>,
    Params(name): Params<String>,
) -> ApiResult<Response> {
    json(
        StatusCode::OK,
        &state.call(state.herder().connector_offsets(&name)).await?,
    )
}

/// `PATCH /connectors/{name}/offsets`: 200 with the herder's message.
pub async fn alter_offsets(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    body: RequestBody,
) -> ApiResult<Response> {
    let value = body.json()?;
    let listed = value
        .get("offsets")
        .and_then(Value::as_array)
        .is_some_and(|o| !o.is_empty());
    if !listed {
        return Err(ApiError::bad_request(
            "Partitions / offsets need to be provided for an alter offsets request",
        ));
    }
    let offsets: ConnectorOffsets =
        serde_json::from_value(value.clone()).map_err(|e| ApiError::internal(e.to_string()))?;
    let result = state
        .call(state.herder().alter_connector_offsets(&name, offsets))
        .await;
    let outcome = state
        .complete_or_forward(
            result,
            forward(Method::PATCH, &uri, &query, &body.headers, Some(&value)),
        )
        .await?;
    Ok(json_bytes(StatusCode::OK, outcome.into_body()?))
}

/// `DELETE /connectors/{name}/offsets`: 200 with the herder's message.
pub async fn reset_offsets(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let result = state
        .call(state.herder().reset_connector_offsets(&name))
        .await;
    let outcome = state
        .complete_or_forward(
            result,
            forward(Method::DELETE, &uri, &query, &headers, None),
        )
        .await?;
    Ok(json_bytes(StatusCode::OK, outcome.into_body()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_escape_names_as_uri_builder_does() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("localhost:8083"));
        assert_eq!(
            location(&headers, "a b%c?d#é/x").unwrap(),
            "http://localhost:8083/connectors/a%20b%25c%3Fd%23%C3%A9/x"
        );
        assert_eq!(
            location(&HeaderMap::new(), "plain").unwrap(),
            "/connectors/plain"
        );
    }

    #[test]
    fn create_requests_are_read_as_jackson_does() {
        let request =
            parse_create(&json!({"name": " n ", "config": {"a": 1}, "initial_state": "paused"}))
                .unwrap();
        assert_eq!(request.name.as_deref(), Some(" n "));
        assert_eq!(request.config.unwrap()["a"], "1");
        assert_eq!(request.initial_state.unwrap().1, InitialState::Paused);
        let unknown = parse_create(&json!({"nme": "x"})).err().unwrap();
        assert_eq!(unknown.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            unknown.message.starts_with("Unrecognized field \"nme\""),
            "{}",
            unknown.message
        );
        let bad_state = parse_create(&json!({"initial_state": "sleeping"}))
            .err()
            .unwrap();
        assert!(
            bad_state.message.ends_with("InitialState.SLEEPING"),
            "{}",
            bad_state.message
        );
    }

    #[test]
    fn names_in_the_config_must_match() {
        let mut config = ConfigMap::from([("name".to_owned(), "other".to_owned())]);
        assert_eq!(
            check_and_put_name("c", &mut config).unwrap_err(),
            ApiError::bad_request(
                "Connector name configuration (other) doesn't match connector name in the URL (c)"
            )
        );
        let mut config = ConfigMap::new();
        check_and_put_name("c", &mut config).unwrap();
        assert_eq!(config["name"], "c");
    }
}
