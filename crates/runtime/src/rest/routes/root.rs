//! `GET /` and `GET /health` (Java's `RootResource`, KIP-1017).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::json;
use crate::herder::HerderError;
use crate::rest::error::ApiResult;
use crate::rest::server::AppState;

/// `GET /`: version, commit and Kafka cluster id.
pub async fn server_info(State(state): State<AppState>) -> ApiResult<Response> {
    let info = state.call(state.herder().server_info()).await?;
    json(StatusCode::OK, &info)
}

/// KIP-1017's `{"status", "message"}`.
#[derive(Debug, Serialize)]
struct WorkerStatus {
    status: &'static str,
    message: String,
}

/// `GET /health`: 200 `healthy`; 503 `starting` while the herder says what it still waits for;
/// 500 `unhealthy` when a started worker does not answer in time.
pub async fn health(State(state): State<AppState>) -> ApiResult<Response> {
    let timeout = state.config().health_check_timeout;
    let result = tokio::time::timeout(timeout, state.herder().health())
        .await
        .unwrap_or(Err(HerderError::Timeout));
    let (status, body) = match result {
        Ok(()) => (
            StatusCode::OK,
            WorkerStatus {
                status: "healthy",
                message: "Worker has completed startup and is ready to handle requests.".to_owned(),
            },
        ),
        Err(HerderError::Timeout) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            WorkerStatus {
                status: "unhealthy",
                message: "Worker was unable to handle this request and may be unable to handle other requests."
                    .to_owned(),
            },
        ),
        Err(waiting) => (
            StatusCode::SERVICE_UNAVAILABLE,
            WorkerStatus { status: "starting", message: format!("Worker is still starting up. {waiting}") },
        ),
    };
    json(status, &body)
}
