//! Several herders behind one REST server, each under its own path: dedicated MirrorMaker 2
//! runs one Connect worker group per replication flow in one process and serves each flow's
//! API under `/{source}/{target}/` (KIP-710's namespace, which Ferry opens to the whole API).
//!
//! Inside a namespace the routes are exactly [`RestListeners::serve`](super::RestListeners)'s,
//! and handlers see the path without the prefix; `GET /` lists the namespaces.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::routes;
use super::server::AppState;
use crate::herder::Herder;

/// A herder served under a path prefix by
/// [`RestListeners::serve_namespaces`](super::RestListeners::serve_namespaces).
///
/// ```
/// use serde_json::json;
/// # fn demo(herder: std::sync::Arc<dyn ferry_runtime::herder::Herder>) {
/// use ferry_runtime::rest::RestNamespace;
/// let flow = RestNamespace {
///     path: "/A/B".to_owned(),
///     herder,
///     listing: json!({"source": "A", "target": "B"}),
/// };
/// # }
/// ```
#[derive(Clone)]
pub struct RestNamespace {
    /// The prefix, percent-encoded, starting with `/` and not ending with one (`/A/B`).
    pub path: String,
    /// The herder answering under it.
    pub herder: Arc<dyn Herder>,
    /// What `GET /` says about this namespace: a JSON object, to which the listing adds
    /// `"path"`.
    pub listing: Value,
}

impl std::fmt::Debug for RestNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestNamespace")
            .field("path", &self.path)
            .field("listing", &self.listing)
            .finish_non_exhaustive()
    }
}

/// The root router: `GET /` and every namespace's Connect routes nested under its path, each
/// finished (fallbacks, state) by `finish`.
pub(super) fn router(
    namespaces: &[(RestNamespace, AppState)],
    finish: impl Fn(Router<AppState>, AppState) -> Router,
) -> Router {
    let listing: Arc<[u8]> =
        serde_json::to_vec(&listing(namespaces.iter().map(|(namespace, _)| namespace)))
            .unwrap_or_default()
            .into();
    let mut root = Router::new().route(
        "/",
        get(move || {
            let listing = listing.clone();
            async move {
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    Body::from(listing.to_vec()),
                )
                    .into_response()
            }
        }),
    );
    for (namespace, state) in namespaces {
        let prefix = namespace.path.clone();
        let routes = finish(routes::connect_routes(), state.clone()).layer(
            axum::middleware::from_fn(move |request: Request, next: Next| {
                let prefix = prefix.clone();
                async move { prefix_location(next.run(request).await, &prefix) }
            }),
        );
        root = root.nest(&namespace.path, routes);
    }
    root
}

/// `GET /`'s body: each namespace's listing with its `path`.
fn listing<'a>(namespaces: impl Iterator<Item = &'a RestNamespace>) -> Value {
    namespaces
        .map(|namespace| {
            let mut entry = match &namespace.listing {
                Value::Object(map) => map.clone(),
                _ => serde_json::Map::new(),
            };
            entry.insert("path".to_owned(), Value::String(namespace.path.clone()));
            Value::Object(entry)
        })
        .collect()
}

/// The routes build a created connector's `Location` from the path they see, which lacks the
/// namespace: put it back so the URL reaches the connector.
fn prefix_location(mut response: Response, prefix: &str) -> Response {
    let Some(location) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
    else {
        return response;
    };
    let fixed = match location.find("/connectors/") {
        Some(at) => format!("{}{prefix}{}", &location[..at], &location[at..]),
        None => return response,
    };
    if let Ok(value) = HeaderValue::from_str(&fixed) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_get_the_namespace() {
        let mut response = StatusCode::CREATED.into_response();
        response.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_static("http://host:8083/connectors/a%20b"),
        );
        let response = prefix_location(response, "/A/B");
        assert_eq!(
            response.headers()[header::LOCATION],
            "http://host:8083/A/B/connectors/a%20b"
        );
    }
}
