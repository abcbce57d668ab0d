//! The requests workers send each other (Java's `InternalClusterResource`): task configs handed
//! to the leader and zombie fencing, both signed with the session key (KIP-507).

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;

use super::empty;
use crate::herder::{ConfigMap, RequestSignature};
use crate::rest::error::{ApiError, ApiResult};
use crate::rest::forward::Forward;
use crate::rest::request::{Params, Query, RequestBody, config_map};
use crate::rest::server::AppState;
use crate::rest::signature::{SIGNATURE_ALGORITHM_HEADER, SIGNATURE_HEADER};

fn signature(body: &RequestBody) -> ApiResult<Option<RequestSignature>> {
    RequestSignature::from_headers(
        body.header(SIGNATURE_ALGORITHM_HEADER),
        body.header(SIGNATURE_HEADER),
        &body.raw,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `POST /connectors/{name}/tasks`: 204 once the leader has stored the task configs.
pub async fn put_task_configs(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    body: RequestBody,
) -> ApiResult<Response> {
    let value = body.json()?;
    let Some(items) = value.as_array() else {
        return Err(ApiError::internal(
            "Cannot deserialize value of type `java.util.ArrayList<java.util.Map<java.lang.String,java.lang.String>>` from non-array value",
        ));
    };
    let configs = items
        .iter()
        .map(|item| config_map(item).map(Option::unwrap_or_default))
        .collect::<ApiResult<Vec<ConfigMap>>>()?;
    let signature = signature(&body)?;
    let result = state
        .call(state.herder().put_task_configs(&name, configs, signature))
        .await;
    let forward = Forward {
        method: Method::POST,
        path: uri.path(),
        query: Vec::new(),
        body: Some(body.raw.to_vec()),
        forward: query.boolean("forward"),
        headers: &body.headers,
    };
    state.complete_or_forward(result, forward).await?;
    empty(StatusCode::NO_CONTENT)
}

/// `PUT /connectors/{name}/fence`: 204 once the zombies are fenced.
pub async fn fence_zombies(
    State(state): State<AppState>,
    Params(name): Params<String>,
    uri: Uri,
    query: Query,
    body: RequestBody,
) -> ApiResult<Response> {
    let signature = signature(&body)?;
    let result = state
        .call(state.herder().fence_zombie_source_tasks(&name, signature))
        .await;
    let forward = Forward {
        method: Method::PUT,
        path: uri.path(),
        query: Vec::new(),
        body: (!body.raw.is_empty()).then(|| body.raw.to_vec()),
        forward: query.boolean("forward"),
        headers: &body.headers,
    };
    state.complete_or_forward(result, forward).await?;
    empty(StatusCode::NO_CONTENT)
}
