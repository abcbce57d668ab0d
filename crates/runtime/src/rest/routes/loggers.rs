//! `/admin/loggers` (Java's `LoggingResource`, KIP-495 and KIP-976's `scope`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{empty, json};
use crate::rest::error::{ApiError, ApiResult};
use crate::rest::logging::LogLevel;
use crate::rest::request::{Params, Query, RequestBody, string_map};
use crate::rest::server::AppState;

/// `GET /admin/loggers`: every logger with an explicit level.
pub async fn list(State(state): State<AppState>) -> ApiResult<Response> {
    json(StatusCode::OK, &state.loggers().all_levels())
}

/// `GET /admin/loggers/{logger}`.
pub async fn get(
    State(state): State<AppState>,
    Params(logger): Params<String>,
) -> ApiResult<Response> {
    match state.loggers().level(&logger) {
        Some(level) => json(StatusCode::OK, &level),
        None => Err(ApiError::not_found(format!("Logger {logger} not found."))),
    }
}

/// `PUT /admin/loggers/{logger}?scope=worker|cluster` with `{"level": "DEBUG"}`: 200 with the
/// affected loggers on this worker, or 204 once this worker and the herder have taken a
/// cluster-wide change.
pub async fn set(
    State(state): State<AppState>,
    Params(namespace): Params<String>,
    query: Query,
    body: RequestBody,
) -> ApiResult<Response> {
    let body = string_map(&body.json()?)?.unwrap_or_default();
    let Some(level_text) = body.get("level").cloned().flatten() else {
        return Err(ApiError::bad_request(
            "Desired 'level' parameter was not specified in request.",
        ));
    };
    let level: LogLevel = level_text
        .parse()
        .map_err(|e: crate::rest::logging::InvalidLogLevel| ApiError::not_found(e.to_string()))?;
    let scope = query.get("scope").unwrap_or("worker").to_lowercase();
    if scope == "cluster" {
        // Set here first, so that standalone herders need not reach the log levels; a
        // distributed herder's own update through the config topic then changes nothing here.
        state.loggers().set_level(&namespace, level);
        state
            .call(
                state
                    .herder()
                    .set_cluster_logger_level(&namespace, &level_text),
            )
            .await?;
        return empty(StatusCode::NO_CONTENT);
    }
    if scope != "worker" {
        tracing::warn!(%scope, "invalid scope in request to adjust logging level; defaulting to worker");
    }
    json(
        StatusCode::OK,
        &state.loggers().set_level(&namespace, level),
    )
}
