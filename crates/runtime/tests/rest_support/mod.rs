//! HTTP-level helpers for REST tests: [`Api`], a client for one worker's REST API whose replies
//! are checked by status, headers and exact JSON, and [`MemoryHerder`], a herder test double that
//! keeps connectors in memory, so the REST layer can be tested before the real herders exist. The
//! herders' end-to-end tests reuse [`Api`] and [`Reply`] against real workers.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request};
use ferry_connect::config::{ConfigInfos, ConfigKeyInfo};
use ferry_connect::plugin::PluginRegistry;
use ferry_runtime::ConnectorTaskId;
use ferry_runtime::herder::{
    ActiveTopicsInfo, ConfigMap, ConnectorInfo, ConnectorOffsets, ConnectorState,
    ConnectorStateInfo, ConnectorType, Created, Herder, HerderError, HerderResult, Message,
    RequestSignature, RestartRequest, ServerInfo, TargetState, TaskInfo, TaskState,
};
use ferry_runtime::rest::{LogLevel, LogLevels, RestConfig, RestServer, TracingLogLevels};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::reload;

/// One reply: status, headers and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON (`null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts the status and the exact JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16, body: Value) -> &Self {
        assert_eq!((self.status, self.json()), (status, body), "{self:?}");
        self
    }

    /// Asserts the status and an empty body.
    #[track_caller]
    pub fn expect_empty(&self, status: u16) -> &Self {
        assert_eq!(
            (self.status, self.body.as_ref()),
            (status, &b""[..]),
            "{self:?}"
        );
        self
    }

    /// Asserts Connect's error answer.
    #[track_caller]
    pub fn expect_error(&self, status: u16, message: &str) -> &Self {
        self.expect(
            status,
            serde_json::json!({"error_code": status, "message": message}),
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        self
    }
}

/// A client for one worker's REST API.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Api {
    /// A client for the API at `base` (e.g. `http://127.0.0.1:8083`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends a request with extra headers; a body is sent as `application/json` unless the
    /// headers name another type.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        let typed = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !typed {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
            .unwrap();
        let response = self.client.request(request).await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Option<&str>) -> Reply {
        self.send(Method::POST, path, body, &[]).await
    }

    pub async fn put(&self, path: &str, body: Option<&str>) -> Reply {
        self.send(Method::PUT, path, body, &[]).await
    }

    pub async fn patch(&self, path: &str, body: Option<&str>) -> Reply {
        self.send(Method::PATCH, path, body, &[]).await
    }
}

/// What the test double remembers of one connector.
#[derive(Debug, Clone)]
struct Connector {
    config: ConfigMap,
    target: TargetState,
    topics: Vec<String>,
    offsets: ConnectorOffsets,
}

/// Internal requests the test double received.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskConfigsCall {
    pub connector: String,
    pub configs: Vec<ConfigMap>,
    pub signed: bool,
}

#[derive(Debug, Default)]
struct State {
    connectors: BTreeMap<String, Connector>,
    /// `Some(url)` makes every write answer `NotLeader { leader_url: url }`.
    not_leader: Option<Option<String>>,
    health: Option<HerderError>,
    hanging: bool,
    writes: usize,
    cluster_log_levels: Vec<(String, String)>,
    task_configs_calls: Vec<TaskConfigsCall>,
}

/// A herder test double keeping connectors in memory, with Java's messages for the common errors.
#[derive(Debug, Default)]
pub struct MemoryHerder {
    state: Mutex<State>,
    /// The session key internal requests must be signed with.
    pub session_key: Vec<u8>,
}

pub const WORKER_ID: &str = "worker-1:8083";

impl MemoryHerder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::default(),
            session_key: b"session-key".to_vec(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Makes writes answer `NotLeader` with this leader URL (or none).
    pub fn set_not_leader(&self, leader_url: Option<String>) {
        self.state().not_leader = Some(leader_url);
    }

    /// Makes `health` fail.
    pub fn set_unhealthy(&self, error: HerderError) {
        self.state().health = Some(error);
    }

    /// Makes `connectors` never answer.
    pub fn set_hanging(&self) {
        self.state().hanging = true;
    }

    /// How many write requests reached this herder (forwarded or not).
    pub fn writes(&self) -> usize {
        self.state().writes
    }

    pub fn cluster_log_levels(&self) -> Vec<(String, String)> {
        self.state().cluster_log_levels.clone()
    }

    pub fn task_configs_calls(&self) -> Vec<TaskConfigsCall> {
        self.state().task_configs_calls.clone()
    }

    /// Counts a write, answering `NotLeader` if so configured.
    fn write(&self) -> HerderResult<std::sync::MutexGuard<'_, State>> {
        let mut state = self.state();
        state.writes += 1;
        match &state.not_leader {
            Some(url) => Err(HerderError::NotLeader {
                leader_url: url.clone(),
            }),
            None => Ok(state),
        }
    }

    fn check_signature(&self, signature: Option<RequestSignature>) -> HerderResult<()> {
        match signature {
            None => Err(HerderError::BadRequest(
                "Internal request missing required signature".into(),
            )),
            Some(s) if !s.is_valid(&self.session_key) => Err(HerderError::Forbidden(
                "Internal request contained invalid signature.".into(),
            )),
            Some(_) => Ok(()),
        }
    }
}

fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

fn info(name: &str, c: &Connector) -> ConnectorInfo {
    let tasks = if c.target == TargetState::Stopped {
        vec![]
    } else {
        vec![ConnectorTaskId::new(name, 0)]
    };
    ConnectorInfo {
        name: name.to_owned(),
        config: c.config.clone(),
        tasks,
        kind: ConnectorType::Source,
    }
}

fn state_name(target: TargetState) -> &'static str {
    match target {
        TargetState::Started => "RUNNING",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
}

fn status(name: &str, c: &Connector, state: &str) -> ConnectorStateInfo {
    let task = TaskState {
        id: 0,
        state: state.to_owned(),
        worker_id: WORKER_ID.to_owned(),
        trace: None,
    };
    ConnectorStateInfo {
        name: name.to_owned(),
        connector: ConnectorState {
            state: state.to_owned(),
            worker_id: WORKER_ID.to_owned(),
            trace: None,
        },
        tasks: if c.target == TargetState::Stopped {
            vec![]
        } else {
            vec![task]
        },
        kind: ConnectorType::Source,
    }
}

fn get<'a>(state: &'a State, name: &str) -> HerderResult<&'a Connector> {
    state.connectors.get(name).ok_or_else(|| not_found(name))
}

fn get_mut<'a>(state: &'a mut State, name: &str) -> HerderResult<&'a mut Connector> {
    state
        .connectors
        .get_mut(name)
        .ok_or_else(|| not_found(name))
}

#[async_trait]
impl Herder for MemoryHerder {
    async fn server_info(&self) -> HerderResult<ServerInfo> {
        Ok(ServerInfo {
            version: "4.0.0".into(),
            commit: "abc123".into(),
            kafka_cluster_id: "cluster-1".into(),
        })
    }

    async fn health(&self) -> HerderResult<()> {
        match &self.state().health {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    async fn connectors(&self) -> HerderResult<Vec<String>> {
        let hanging = self.state().hanging;
        if hanging {
            std::future::pending::<()>().await;
        }
        Ok(self.state().connectors.keys().cloned().collect())
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        Ok(info(name, get(&self.state(), name)?))
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        Ok(get(&self.state(), name)?.config.clone())
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: ConfigMap,
        initial_state: Option<TargetState>,
        allow_replace: bool,
    ) -> HerderResult<Created<ConnectorInfo>> {
        let mut state = self.write()?;
        if name.is_empty() {
            return Err(HerderError::BadRequest("Connector name is empty".into()));
        }
        if !config.contains_key("connector.class") {
            return Err(HerderError::BadRequest(format!(
                "Connector config {config:?} contains no connector type"
            )));
        }
        let existed = state.connectors.contains_key(name);
        if existed && !allow_replace {
            return Err(HerderError::Conflict(format!(
                "Connector {name} already exists"
            )));
        }
        let previous = state.connectors.get(name).cloned();
        let connector = Connector {
            config,
            target: initial_state
                .or(previous.as_ref().map(|p| p.target))
                .unwrap_or_default(),
            topics: vec!["topic-a".into()],
            offsets: previous.map_or(ConnectorOffsets { offsets: vec![] }, |p| p.offsets),
        };
        let result = info(name, &connector);
        state.connectors.insert(name.to_owned(), connector);
        Ok(Created {
            created: !existed,
            result,
        })
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        let mut state = self.write()?;
        let connector = get_mut(&mut state, name)?;
        for (key, value) in patch {
            match value {
                Some(value) => connector.config.insert(key, value),
                None => connector.config.remove(&key),
            };
        }
        Ok(Created {
            created: false,
            result: info(name, connector),
        })
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        let mut state = self.write()?;
        state
            .connectors
            .remove(name)
            .map(drop)
            .ok_or_else(|| not_found(name))
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let state = self.state();
        let connector = get(&state, name)?;
        Ok(status(name, connector, state_name(connector.target)))
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        let state = self.state();
        let connector = get(&state, &id.connector)?;
        if id.task != 0 || connector.target == TargetState::Stopped {
            return Err(HerderError::NotFound(format!(
                "No status found for task {id}"
            )));
        }
        Ok(TaskState {
            id: 0,
            state: state_name(connector.target).into(),
            worker_id: WORKER_ID.into(),
            trace: None,
        })
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let state = self.state();
        let connector = get(&state, name)?;
        Ok(info(name, connector)
            .tasks
            .into_iter()
            .map(|id| TaskInfo {
                id,
                config: ConfigMap::from([("task.id".to_owned(), "0".to_owned())]),
            })
            .collect())
    }

    async fn restart_connector(
        &self,
        request: RestartRequest,
    ) -> HerderResult<Option<ConnectorStateInfo>> {
        let state = self.write()?;
        let connector = get(&state, &request.connector)?;
        if !request.include_tasks && !request.only_failed {
            return Ok(None);
        }
        let mut info = status(&request.connector, connector, state_name(connector.target));
        if !request.only_failed {
            info.connector.state = "RESTARTING".into();
            if request.include_tasks {
                info.tasks
                    .iter_mut()
                    .for_each(|t| t.state = "RESTARTING".into());
            }
        }
        Ok(Some(info))
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        let state = self.write()?;
        get(&state, &id.connector)?;
        if id.task != 0 {
            return Err(HerderError::NotFound(format!("Unknown task: {id}")));
        }
        Ok(())
    }

    async fn set_target_state(&self, name: &str, target: TargetState) -> HerderResult<()> {
        let mut state = self.write()?;
        get_mut(&mut state, name)?.target = target;
        Ok(())
    }

    async fn active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo> {
        let state = self.state();
        let topics = state
            .connectors
            .get(name)
            .map(|c| c.topics.clone())
            .unwrap_or_default();
        Ok(ActiveTopicsInfo { topics })
    }

    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        if let Some(c) = self.state().connectors.get_mut(name) {
            c.topics.clear();
        }
        Ok(())
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        Ok(get(&self.state(), name)?.offsets.clone())
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message> {
        let mut state = self.write()?;
        let connector = get_mut(&mut state, name)?;
        if connector.target != TargetState::Stopped {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        connector.offsets = offsets;
        Ok(Message {
            message: "The offsets for this connector have been altered successfully".into(),
        })
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        let mut state = self.write()?;
        let connector = get_mut(&mut state, name)?;
        connector.offsets = ConnectorOffsets { offsets: vec![] };
        Ok(Message {
            message: "The offsets for this connector have been reset successfully".into(),
        })
    }

    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        if plugin != "FileStreamSource" {
            return Err(HerderError::NotFound(format!("Unknown plugin {plugin}.")));
        }
        Ok(vec![ConfigKeyInfo {
            name: "file".into(),
            config_type: "STRING".into(),
            required: false,
            default_value: None,
            importance: "HIGH".into(),
            documentation: Some("Source filename.".into()),
            group: None,
            width: "NONE".into(),
            display_name: "file".into(),
            dependents: vec![],
            order: -1,
        }])
    }

    async fn set_cluster_logger_level(&self, namespace: &str, level: &str) -> HerderResult<()> {
        self.state()
            .cluster_log_levels
            .push((namespace.to_owned(), level.to_owned()));
        Ok(())
    }

    async fn validate_connector_config(&self, config: ConfigMap) -> HerderResult<ConfigInfos> {
        let class = config.get("connector.class").cloned().unwrap_or_default();
        Ok(ConfigInfos {
            name: class,
            error_count: 0,
            groups: vec![],
            configs: vec![],
        })
    }

    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<ConfigMap>,
        signature: Option<RequestSignature>,
    ) -> HerderResult<()> {
        let mut state = self.write()?;
        let signed = signature.is_some();
        self.check_signature(signature)?;
        state.task_configs_calls.push(TaskConfigsCall {
            connector: name.to_owned(),
            configs,
            signed,
        });
        Ok(())
    }

    async fn fence_zombie_source_tasks(
        &self,
        name: &str,
        signature: Option<RequestSignature>,
    ) -> HerderResult<()> {
        let state = self.write()?;
        get(&state, name)?;
        self.check_signature(signature)
    }
}

/// A plugin registry with no plugins.
pub fn no_plugins() -> Arc<PluginRegistry> {
    Arc::new(PluginRegistry::new())
}

/// Log levels over a reload layer that no subscriber uses (the REST checks read them back).
pub fn log_levels() -> Arc<dyn LogLevels> {
    let (_layer, handle) = reload::Layer::new(Targets::new());
    Arc::new(TracingLogLevels::<tracing_subscriber::Registry>::new(
        handle,
        LogLevel::Info,
        [],
    ))
}

/// Settings for a server on a free port of the loopback interface, plus `extra`.
pub fn local_config(extra: &[(&str, &str)]) -> RestConfig {
    let mut props = HashMap::from([("listeners".to_owned(), "http://127.0.0.1:0".to_owned())]);
    props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    RestConfig::from_props(&props).unwrap()
}

/// A server over `herder` on a free port, and a client for it.
pub async fn start(herder: Arc<dyn Herder>, extra: &[(&str, &str)]) -> (RestServer, Api) {
    start_with(herder, local_config(extra), no_plugins()).await
}

/// A server with explicit settings and plugins.
pub async fn start_with(
    herder: Arc<dyn Herder>,
    config: RestConfig,
    plugins: Arc<PluginRegistry>,
) -> (RestServer, Api) {
    let server = RestServer::start(config, herder, plugins, log_levels())
        .await
        .unwrap();
    let api = Api::new(server.advertised_url());
    (server, api)
}
