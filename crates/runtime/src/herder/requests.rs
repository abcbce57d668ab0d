//! Answers and checks of REST requests that the standalone and the distributed herder give in
//! the same words: Java's messages live here once so that the two modes cannot drift apart.

use std::collections::{BTreeMap, HashMap};

use super::{ConfigMap, HerderError, ServerInfo};
use crate::ConnectorTaskId;

/// `GET /`: this build's version and commit, and the Kafka cluster the worker uses.
pub fn server_info(kafka_cluster_id: &str) -> ServerInfo {
    ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit: option_env!("FERRY_COMMIT").unwrap_or("unknown").to_owned(),
        kafka_cluster_id: kafka_cluster_id.to_owned(),
    }
}

/// The 404 for a connector the herder does not know.
pub fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

/// The 409 for creating a connector that exists already.
pub fn already_exists(name: &str) -> HerderError {
    HerderError::Conflict(format!("Connector {name} already exists"))
}

/// The 404 for a task with no recorded status.
pub fn no_task_status(id: &ConnectorTaskId) -> HerderError {
    HerderError::NotFound(format!("No status found for task {id}"))
}

/// A 500 carrying `error`'s message.
pub fn internal(error: impl std::fmt::Display) -> HerderError {
    HerderError::Internal(error.to_string())
}

/// A connector config as the worker's `HashMap`-based APIs take it.
pub fn hash(config: &ConfigMap) -> HashMap<String, String> {
    config.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// `PATCH /connectors/{name}/config`: sets the keys with a value and removes those with `null`.
///
/// ```
/// use std::collections::BTreeMap;
///
/// use ferry_runtime::herder::requests::apply_patch;
///
/// let mut config = BTreeMap::from([("a".to_owned(), "1".to_owned()), ("b".to_owned(), "2".to_owned())]);
/// apply_patch(&mut config, BTreeMap::from([("a".to_owned(), None), ("c".to_owned(), Some("3".to_owned()))]));
/// assert_eq!(config, BTreeMap::from([("b".to_owned(), "2".to_owned()), ("c".to_owned(), "3".to_owned())]));
/// ```
pub fn apply_patch(config: &mut ConfigMap, patch: BTreeMap<String, Option<String>>) {
    for (key, value) in patch {
        match value {
            Some(value) => config.insert(key, value),
            None => config.remove(&key),
        };
    }
}

/// The 400 of the offsets API's writes for a connector that is not STOPPED.
pub fn offsets_require_stopped(name: &str) -> HerderError {
    HerderError::BadRequest(format!(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    ))
}
