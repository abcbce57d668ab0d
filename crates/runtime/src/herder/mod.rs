//! The herder: what the REST API asks of a Connect worker, answered by the standalone herder (one
//! worker, no group) or the distributed herder (a cluster coordinated through Kafka). The REST
//! layer is written against the [`Herder`] trait only.

pub mod entities;
pub mod offsets;
pub mod requests;
pub mod standalone;
pub mod validation;
pub mod variables;

use async_trait::async_trait;
use ferry_connect::config::{ConfigInfos, ConfigKeyInfo};

use crate::ConnectorTaskId;
pub use entities::{
    ActiveTopicsInfo, ConfigMap, ConnectorInfo, ConnectorOffsets, ConnectorState,
    ConnectorStateInfo, ConnectorType, CreateConnectorRequest, Created, ErrorMessage, InitialState,
    LoggerLevel, Message, RestartRequest, ServerInfo, TargetState, TaskInfo, TaskState,
};

/// Why a herder request failed; each kind maps to the HTTP status Java's Connect answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HerderError {
    /// An unknown connector or task (404).
    #[error("{0}")]
    NotFound(String),
    /// The connector exists already, or a rebalance or another operation is in the way (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed or names an invalid configuration (400).
    #[error("{0}")]
    BadRequest(String),
    /// This worker is not the leader; the request must go to the leader's URL (the REST layer
    /// forwards it). `None` while no leader is known (answered with 409).
    #[error("this worker is not the leader")]
    NotLeader {
        /// The leader's advertised REST URL, if known.
        leader_url: Option<String>,
    },
    /// The operation is not supported by this herder or this connector (e.g. the offsets API of
    /// standalone mode for a running connector is still a 400 in Java; this is for the rest).
    #[error("{0}")]
    Unsupported(String),
    /// The request is not allowed, e.g. an internal request with an invalid signature (403).
    #[error("{0}")]
    Forbidden(String),
    /// The worker cannot serve the request yet, e.g. it has not read the session key (503).
    #[error("{0}")]
    Unavailable(String),
    /// The request did not complete in time (500, "Request timed out").
    #[error("request timed out")]
    Timeout,
    /// Anything else (500).
    #[error("{0}")]
    Internal(String),
}

impl HerderError {
    /// The HTTP status code Java's Connect answers this error with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Conflict(_) | Self::NotLeader { .. } => 409,
            Self::BadRequest(_) | Self::Unsupported(_) => 400,
            Self::Forbidden(_) => 403,
            Self::Unavailable(_) => 503,
            Self::Timeout | Self::Internal(_) => 500,
        }
    }
}

/// The result of a herder call.
pub type HerderResult<T> = Result<T, HerderError>;

/// A Connect worker as the REST API sees it. Methods mirror Java's `Herder`; calls that only the
/// leader may serve return [`HerderError::NotLeader`] on other workers, and the REST layer
/// forwards them.
#[async_trait]
pub trait Herder: Send + Sync + std::fmt::Debug {
    /// `GET /`: version, commit and Kafka cluster id.
    async fn server_info(&self) -> HerderResult<ServerInfo>;

    /// `GET /health`: `Ok` once the worker has started and can serve requests (KIP-1017); the
    /// error says what it is still waiting for (503 `starting`), except [`HerderError::Timeout`],
    /// which means a started worker could not answer (500 `unhealthy`).
    async fn health(&self) -> HerderResult<()>;

    /// `GET /connectors`: every connector's name.
    async fn connectors(&self) -> HerderResult<Vec<String>>;

    /// `GET /connectors/{name}`.
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo>;

    /// `GET /connectors/{name}/config`.
    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap>;

    /// `POST /connectors` (`allow_replace` false) and `PUT /connectors/{name}/config` (true):
    /// validates, stores and (re)starts the connector in `initial_state`.
    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
        initial_state: Option<TargetState>,
        allow_replace: bool,
    ) -> HerderResult<Created<ConnectorInfo>>;

    /// `PATCH /connectors/{name}/config`: merges `patch` (a `null`-valued key would delete it,
    /// which is why values are optional) into the current config.
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: std::collections::BTreeMap<String, Option<String>>,
    ) -> HerderResult<Created<ConnectorInfo>>;

    /// `DELETE /connectors/{name}`.
    async fn delete_connector(&self, name: &str) -> HerderResult<()>;

    /// `GET /connectors/{name}/status`.
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo>;

    /// `GET /connectors/{name}/tasks/{task}/status`.
    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState>;

    /// `GET /connectors/{name}/tasks`.
    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>>;

    /// `POST /connectors/{name}/restart`. `None` for the plain restart (204 in Java when neither
    /// flag is set), else the status with the instances being restarted shown as RESTARTING (202).
    async fn restart_connector(
        &self,
        request: RestartRequest,
    ) -> HerderResult<Option<ConnectorStateInfo>>;

    /// `POST /connectors/{name}/tasks/{task}/restart`.
    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()>;

    /// `PUT /connectors/{name}/pause`, `/resume`, `/stop`: sets the connector's target state.
    async fn set_target_state(&self, name: &str, state: TargetState) -> HerderResult<()>;

    /// `GET /connectors/{name}/topics`.
    async fn active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo>;

    /// `PUT /connectors/{name}/topics/reset`.
    async fn reset_active_topics(&self, name: &str) -> HerderResult<()>;

    /// `GET /connectors/{name}/offsets`.
    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets>;

    /// `PATCH /connectors/{name}/offsets` (connector must be STOPPED).
    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message>;

    /// `DELETE /connectors/{name}/offsets` (connector must be STOPPED).
    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message>;

    /// `GET /connector-plugins/{plugin}/config`: the plugin's config keys, a connector's own keys
    /// first, then the framework's source/sink connector keys it does not redefine.
    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>>;

    /// `PUT /admin/loggers/{logger}?scope=cluster`: sets the level on every worker of the cluster
    /// (through the config topic in distributed mode). The REST layer has already set it on this
    /// worker, so standalone mode has nothing left to do.
    async fn set_cluster_logger_level(&self, namespace: &str, level: &str) -> HerderResult<()>;

    /// `PUT /connector-plugins/{plugin}/config/validate`.
    async fn validate_connector_config(&self, config: ConfigMap) -> HerderResult<ConfigInfos>;

    /// `POST /connectors/{name}/tasks` (internal, leader only, signed with the session key when
    /// the `sessioned` protocol is in use): a follower hands the leader its connector's new task
    /// configs.
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<ConfigMap>,
        signature: Option<RequestSignature>,
    ) -> HerderResult<()>;

    /// `PUT /connectors/{name}/fence` (internal, leader only, signed; KIP-618): fences out the
    /// zombie tasks of an exactly-once source connector before its new tasks start.
    async fn fence_zombie_source_tasks(
        &self,
        name: &str,
        signature: Option<RequestSignature>,
    ) -> HerderResult<()>;
}

/// The KIP-507 signature of an internal request: the `X-Connect-Authorization` header (base64 HMAC
/// of the body) and the `X-Connect-Request-Signature-Algorithm` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSignature {
    /// The HMAC algorithm, e.g. `HmacSHA256`.
    pub algorithm: String,
    /// The base64 signature.
    pub signature: String,
    /// The exact request body that was signed.
    pub body: Vec<u8>,
}
