//! `/connector-plugins` (Java's `ConnectorPluginsResource`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::json;
use crate::rest::error::{ApiError, ApiResult};
use crate::rest::request::{Params, Query, RequestBody, config_map};
use crate::rest::server::AppState;

/// Java's `ConnectorConfig.CONNECTOR_CLASS_CONFIG`.
const CONNECTOR_CLASS_CONFIG: &str = "connector.class";

/// `GET /connector-plugins`: the connectors, or with `?connectorsOnly=false` every plugin.
pub async fn list(State(state): State<AppState>, query: Query) -> ApiResult<Response> {
    // A primitive boolean with default true: absent is true, anything but "true" false.
    let connectors_only = query.boolean("connectorsOnly").unwrap_or(true);
    let plugins = if connectors_only {
        state.plugins().connector_plugins()
    } else {
        state.plugins().plugins()
    };
    json(StatusCode::OK, &plugins)
}

/// `GET /connector-plugins/{plugin}/config`: the plugin's config keys.
pub async fn config(
    State(state): State<AppState>,
    Params(plugin): Params<String>,
) -> ApiResult<Response> {
    json(
        StatusCode::OK,
        &state
            .call(state.herder().connector_plugin_config(&plugin))
            .await?,
    )
}

/// Java's `normalizedPluginName`: a name ending in `Connector` without that suffix.
fn normalized(name: &str) -> &str {
    match name.strip_suffix("Connector") {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => name,
    }
}

/// `PUT /connector-plugins/{plugin}/config/validate`.
pub async fn validate(
    State(state): State<AppState>,
    Params(plugin): Params<String>,
    body: RequestBody,
) -> ApiResult<Response> {
    let config =
        config_map(&body.json()?)?.ok_or_else(|| ApiError::internal("Request body is missing"))?;
    if let Some(included) = config.get(CONNECTOR_CLASS_CONFIG)
        && !normalized(included).ends_with(normalized(&plugin))
    {
        return Err(ApiError::bad_request(format!(
            "Included connector type {included} does not match request type {plugin}"
        )));
    }
    json(
        StatusCode::OK,
        &state
            .call(state.herder().validate_connector_config(config))
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_normalize_as_java() {
        assert_eq!(
            normalized("org.apache.kafka.connect.file.FileStreamSinkConnector"),
            "org.apache.kafka.connect.file.FileStreamSink"
        );
        assert_eq!(normalized("FileStreamSink"), "FileStreamSink");
        assert_eq!(normalized("Connector"), "Connector");
        assert!(
            normalized("org.apache.kafka.connect.file.FileStreamSinkConnector")
                .ends_with(normalized("FileStreamSinkConnector"))
        );
    }
}
