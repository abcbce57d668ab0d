//! The resources of Connect's REST API, one module per Java resource class, and the helpers they
//! answer with.

mod connectors;
mod internal;
mod loggers;
mod plugins;
mod root;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::server::AppState;

/// Every route of the Connect API but the admin ones.
pub fn connect_routes() -> Router<AppState> {
    use connectors as c;
    Router::new()
        .route("/", get(root::server_info))
        .route("/health", get(root::health))
        .route("/connectors", get(c::list).post(c::create))
        .route("/connectors/{connector}", get(c::info).delete(c::delete))
        .route(
            "/connectors/{connector}/config",
            get(c::config).put(c::put_config).patch(c::patch_config),
        )
        .route("/connectors/{connector}/status", get(c::status))
        .route("/connectors/{connector}/restart", post(c::restart))
        .route("/connectors/{connector}/pause", put(c::pause))
        .route("/connectors/{connector}/resume", put(c::resume))
        .route("/connectors/{connector}/stop", put(c::stop))
        .route(
            "/connectors/{connector}/tasks",
            get(c::tasks).post(internal::put_task_configs),
        )
        .route("/connectors/{connector}/tasks-config", get(c::tasks_config))
        .route(
            "/connectors/{connector}/tasks/{task}/status",
            get(c::task_status),
        )
        .route(
            "/connectors/{connector}/tasks/{task}/restart",
            post(c::restart_task),
        )
        .route("/connectors/{connector}/topics", get(c::topics))
        .route("/connectors/{connector}/topics/reset", put(c::reset_topics))
        .route(
            "/connectors/{connector}/offsets",
            get(c::offsets)
                .patch(c::alter_offsets)
                .delete(c::reset_offsets),
        )
        .route(
            "/connectors/{connector}/fence",
            put(internal::fence_zombies),
        )
        .route("/connector-plugins", get(plugins::list))
        .route("/connector-plugins/{plugin}/config", get(plugins::config))
        .route(
            "/connector-plugins/{plugin}/config/validate",
            put(plugins::validate),
        )
}

/// The admin routes (`/admin/loggers`), served where `admin.listeners` says.
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/loggers", get(loggers::list))
        .route(
            "/admin/loggers/{logger}",
            get(loggers::get).put(loggers::set),
        )
}

/// `status` with `value` as JSON.
fn json<T: Serialize>(status: StatusCode, value: &T) -> ApiResult<Response> {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_bytes(status, body.into()))
}

/// `status` with a JSON body already serialized.
fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    if body.is_empty() {
        return status.into_response();
    }
    let mut response = (status, Body::from(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `status` with no body.
fn empty(status: StatusCode) -> ApiResult<Response> {
    Ok(status.into_response())
}
