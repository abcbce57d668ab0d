//! Error answers: every failure becomes `{"error_code": N, "message": "..."}` with status `N`, as
//! Java's `ConnectExceptionMapper` writes them, including the answers Jersey gives on its own for
//! unknown paths, wrong methods and unsupported media types.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::client::RestClientError;
use crate::herder::{ErrorMessage, HerderError};

/// A REST error answer: its status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body's `error_code`: the status, except for a forwarded request's error, which keeps
    /// the code the other worker gave.
    pub error_code: u16,
    /// The body's `message`.
    pub message: String,
}

impl ApiError {
    /// An answer with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            error_code: status.as_u16(),
            message: message.into(),
        }
    }

    /// 400 Bad Request, Java's `BadRequestException`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with Java's `NotFoundException` message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 500 Internal Server Error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// What Jersey answers by itself with `status` (e.g. `HTTP 404 Not Found` for an unknown path).
    pub fn jersey(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("");
        Self::new(status, format!("HTTP {} {reason}", status.as_u16()))
    }
}

impl From<HerderError> for ApiError {
    fn from(error: HerderError) -> Self {
        let status =
            StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match error {
            // Java's HerderRequestHandler words these two itself.
            HerderError::Timeout => "Request timed out".to_owned(),
            HerderError::NotLeader { .. } => {
                "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
                    .to_owned()
            }
            other => other.to_string(),
        };
        Self::new(status, message)
    }
}

impl From<RestClientError> for ApiError {
    fn from(error: RestClientError) -> Self {
        let status =
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self {
            status,
            error_code: error.error_code,
            message: error.message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorMessage {
            error_code: self.error_code,
            message: self.message,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// The result of a route handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jersey_messages_name_the_status() {
        assert_eq!(
            ApiError::jersey(StatusCode::NOT_FOUND).message,
            "HTTP 404 Not Found"
        );
        assert_eq!(
            ApiError::jersey(StatusCode::METHOD_NOT_ALLOWED).message,
            "HTTP 405 Method Not Allowed"
        );
        assert_eq!(
            ApiError::jersey(StatusCode::UNSUPPORTED_MEDIA_TYPE).message,
            "HTTP 415 Unsupported Media Type"
        );
    }

    #[test]
    fn herder_errors_keep_their_status_and_message() {
        let error = ApiError::from(HerderError::NotFound("Connector x not found".into()));
        assert_eq!(error, ApiError::not_found("Connector x not found"));
        assert_eq!(
            ApiError::from(HerderError::Timeout),
            ApiError::internal("Request timed out")
        );
    }

    #[tokio::test]
    async fn a_connectors_bad_request_answers_400_in_javas_shape() {
        let refusal =
            ferry_connect::ConnectError::bad_request("Offsets for this connector must be numbers");
        let response = ApiError::from(HerderError::from(refusal)).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error_code": 400, "message": "Offsets for this connector must be numbers"})
        );
        // Any other connector failure stays a 500, as Java's plain ConnectException does.
        let other = ferry_connect::ConnectError::other("Source partition {} is missing a key");
        let error = ApiError::from(HerderError::from(other));
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
