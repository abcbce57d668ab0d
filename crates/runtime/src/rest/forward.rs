//! Sending a request on to the leader when the herder says this worker is not it, Java's
//! `HerderRequestHandler.completeOrForwardRequest`.
//!
//! The first worker to receive a user request forwards it with `forward=true` (more forwarding
//! allowed, one more hop); a worker receiving `forward=true` forwards once more with
//! `forward=false`; a worker receiving `forward=false` gives up with 409, since two hops should
//! always reach the leader unless a rebalance moved it.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, header};

use super::client::RestResponse;
use super::error::{ApiError, ApiResult};
use super::server::AppState;
use crate::herder::{HerderError, HerderResult};

/// A herder result, or the leader's answer to the forwarded request.
#[derive(Debug)]
pub enum Outcome<T> {
    /// This worker served the request.
    Local(T),
    /// The leader did.
    Forwarded(RestResponse),
}

/// How to forward a request: where, and what the `forward` parameter said.
#[derive(Debug)]
pub struct Forward<'a> {
    /// The method.
    pub method: Method,
    /// The request's path, as received (still percent-encoded).
    pub path: &'a str,
    /// Query parameters to pass on besides `forward`.
    pub query: Vec<(&'static str, String)>,
    /// The body to send, JSON.
    pub body: Option<Vec<u8>>,
    /// The `forward` query parameter of the received request.
    pub forward: Option<bool>,
    /// The received request's headers (`Authorization` is passed on).
    pub headers: &'a HeaderMap,
}

impl AppState {
    /// Returns `result`, or, if it says another worker must serve the request, that worker's
    /// answer to the forwarded request.
    pub async fn complete_or_forward<T>(
        &self,
        result: HerderResult<T>,
        forward: Forward<'_>,
    ) -> ApiResult<Outcome<T>> {
        let leader_url = match result {
            Ok(value) => return Ok(Outcome::Local(value)),
            Err(HerderError::NotLeader { leader_url }) => leader_url,
            Err(other) => return Err(other.into()),
        };
        if forward.forward == Some(false) {
            return Err(ApiError::conflict(
                "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
            ));
        }
        let Some(leader_url) = leader_url else {
            return Err(ApiError::conflict(
                "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.",
            ));
        };
        let url = forward_url(&leader_url, &forward);
        tracing::debug!(%url, method = %forward.method, "forwarding REST request");
        let response = self
            .client()
            .request(
                &url,
                forward.method,
                forward.headers.get(header::AUTHORIZATION),
                forward.body,
                None,
            )
            .await?;
        Ok(Outcome::Forwarded(response))
    }
}

/// The leader's URL for the request: its base, the path, `forward` (true only if this is the
/// first hop), then the other parameters.
fn forward_url(leader_url: &str, forward: &Forward<'_>) -> String {
    let recursive = forward.forward.is_none();
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("forward", if recursive { "true" } else { "false" });
    for (name, value) in &forward.query {
        query.append_pair(name, value);
    }
    format!(
        "{}{}?{}",
        leader_url.trim_end_matches('/'),
        forward.path,
        query.finish()
    )
}

impl<T: serde::Serialize> Outcome<T> {
    /// The JSON body to answer with: the local result serialized, or the leader's body as is.
    pub fn into_body(self) -> ApiResult<Bytes> {
        match self {
            Outcome::Local(value) => serde_json::to_vec(&value)
                .map(Bytes::from)
                .map_err(|e| ApiError::internal(e.to_string())),
            Outcome::Forwarded(response) => Ok(response.body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_hop_allows_another() {
        let headers = HeaderMap::new();
        let mut forward = Forward {
            method: Method::POST,
            path: "/connectors/a%20b/restart",
            query: vec![
                ("includeTasks", "true".into()),
                ("onlyFailed", "false".into()),
            ],
            body: None,
            forward: None,
            headers: &headers,
        };
        assert_eq!(
            forward_url("http://leader:8083/", &forward),
            "http://leader:8083/connectors/a%20b/restart?forward=true&includeTasks=true&onlyFailed=false"
        );
        forward.forward = Some(true);
        forward.query.clear();
        assert_eq!(
            forward_url("http://leader:8083", &forward),
            "http://leader:8083/connectors/a%20b/restart?forward=false"
        );
    }
}
