//! What a distributed worker answers the REST API: reads from its config, status and offset
//! stores; writes only as the leader (other workers answer [`HerderError::NotLeader`] and the
//! REST layer forwards); restarts by the worker running the instance.

use std::collections::BTreeMap;

use async_trait::async_trait;
use ferry_connect::config::{ConfigInfos, ConfigKeyInfo};
use tokio::sync::oneshot;

use super::plan::RestartPlan;
use super::{Command, DistributedHerder, Inner, internal, to_stored};
use crate::ConnectorTaskId;
use crate::distributed::protocol::ConnectProtocolCompatibility;
use crate::herder::offsets::{OffsetsChange, modify_offsets, read_offsets};
use crate::herder::requests::{
    already_exists, apply_patch, no_task_status, not_found, offsets_require_stopped, server_info,
};
use crate::herder::validation::{connector_plugin_config, require_valid, validate_resolved};
use crate::herder::{
    ActiveTopicsInfo, ConfigMap, ConnectorInfo, ConnectorOffsets, ConnectorStateInfo, Created,
    Herder, HerderError, HerderResult, Message, RequestSignature, RestartRequest, ServerInfo,
    TargetState, TaskInfo, TaskState,
};
use crate::storage::config_records::{self, Properties};
use crate::worker::{NAME_CONFIG, StatusBackingStore};

impl Inner {
    fn info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let snapshot = self.configs.snapshot();
        let config = snapshot
            .connector_config(name)
            .ok_or_else(|| not_found(name))?;
        Ok(ConnectorInfo {
            name: name.to_owned(),
            config: config.clone(),
            tasks: snapshot.tasks(name),
            kind: self.kind(Some(config)),
        })
    }

    /// The checks of the offsets API's writes (Java's `modifyConnectorOffsetsChecks`): the
    /// leader, the config topic read to its end, a known connector, STOPPED with no tasks
    /// left. Returns the connector's config.
    async fn require_stopped(&self, name: &str) -> HerderResult<Properties> {
        self.require_leader().await?;
        self.configs
            .refresh(self.config.worker_sync_timeout)
            .await
            .map_err(|_| {
                internal("Failed to read to end of config topic before modifying connector offsets")
            })?;
        let snapshot = self.configs.snapshot();
        let config = snapshot
            .connector_config(name)
            .ok_or_else(|| not_found(name))?;
        if snapshot.target_state(name) != Some(config_records::TargetState::Stopped)
            || snapshot.task_count(name) != 0
        {
            return Err(offsets_require_stopped(name));
        }
        Ok(config.clone())
    }

    /// Checks an internal request's KIP-507 signature when the group uses `sessioned`.
    fn check_signature(&self, signature: Option<&RequestSignature>) -> HerderResult<()> {
        let protocol = self.membership.borrow().protocol;
        if protocol != Some(ConnectProtocolCompatibility::Sessioned) {
            return Ok(());
        }
        let Some(signature) = signature else {
            return Err(HerderError::BadRequest(
                "Internal request missing required signature".into(),
            ));
        };
        let allowed = &self.config.verification_algorithms;
        if !allowed.iter().any(|a| a == &signature.algorithm) {
            return Err(HerderError::BadRequest(format!(
                "This worker does not support the '{}' key signing algorithm used by other workers. This worker is currently configured to use: [{}]. Check that all workers' configuration files permit the same set of signature algorithms, and correct any misconfigured worker and restart it.",
                signature.algorithm,
                allowed.join(", ")
            )));
        }
        let snapshot = self.configs.snapshot();
        let Some(key) = snapshot.session_key() else {
            return Err(HerderError::Unavailable(
                "This worker is still starting up and has not been able to read a session key from the config topic yet".into(),
            ));
        };
        if !signature.is_valid(&key.key) {
            return Err(HerderError::Forbidden(
                "Internal request contained invalid signature.".into(),
            ));
        }
        Ok(())
    }
}

impl DistributedHerder {
    async fn command(
        &self,
        make: impl FnOnce(oneshot::Sender<HerderResult<()>>) -> Command,
    ) -> HerderResult<()> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(make(reply))
            .map_err(|_| HerderError::Unavailable("the herder is stopped".into()))?;
        answer
            .await
            .map_err(|_| HerderError::Unavailable("the herder is stopped".into()))?
    }
}

#[async_trait]
impl Herder for DistributedHerder {
    async fn server_info(&self) -> HerderResult<ServerInfo> {
        Ok(server_info(&self.inner.kafka_cluster_id))
    }

    async fn health(&self) -> HerderResult<()> {
        if self.inner.membership.borrow().started {
            Ok(())
        } else {
            Err(HerderError::Unavailable(
                "Worker is still starting up: it has not joined the group yet".into(),
            ))
        }
    }

    async fn connectors(&self) -> HerderResult<Vec<String>> {
        let snapshot = self.inner.configs.snapshot();
        Ok(snapshot.connectors().map(str::to_owned).collect())
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        self.inner.info(name)
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        self.inner
            .configs
            .snapshot()
            .connector_config(name)
            .cloned()
            .ok_or_else(|| not_found(name))
    }

    async fn put_connector_config(
        &self,
        name: &str,
        mut config: ConfigMap,
        initial_state: Option<TargetState>,
        allow_replace: bool,
    ) -> HerderResult<Created<ConnectorInfo>> {
        config.insert(NAME_CONFIG.to_owned(), name.to_owned());
        require_valid(&self.inner.worker, &config)?;
        self.inner.require_leader().await?;
        let _guard = self.inner.writes.lock().await;
        let snapshot = self.inner.configs.snapshot();
        let exists = snapshot.contains(name);
        if exists && !allow_replace {
            return Err(already_exists(name));
        }
        self.inner
            .configs
            .put_connector_config(name, &config, initial_state.map(to_stored))
            .await
            .map_err(internal)?;
        let kind = self.inner.kind(Some(&config));
        Ok(Created {
            created: !exists,
            result: ConnectorInfo {
                name: name.to_owned(),
                config,
                tasks: snapshot.tasks(name),
                kind,
            },
        })
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        let mut config = self.connector_config(name).await?;
        apply_patch(&mut config, patch);
        self.put_connector_config(name, config, None, true).await
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        self.inner.require_leader().await?;
        let _guard = self.inner.writes.lock().await;
        if !self.inner.configs.contains(name) {
            return Err(not_found(name));
        }
        self.inner
            .configs
            .remove_connector_config(name)
            .await
            .map_err(internal)
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        self.inner.connector_status(name)
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        let status = self
            .inner
            .statuses
            .store()
            .task(id)
            .ok_or_else(|| no_task_status(id))?;
        Ok(TaskState {
            id: id.task,
            state: status.state.name().to_owned(),
            worker_id: status.worker_id,
            trace: status.trace,
        })
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let snapshot = self.inner.configs.snapshot();
        if !snapshot.contains(name) {
            return Err(not_found(name));
        }
        Ok(snapshot
            .tasks(name)
            .into_iter()
            .map(|id| TaskInfo {
                config: snapshot.task_config(&id).cloned().unwrap_or_default(),
                id,
            })
            .collect())
    }

    async fn restart_connector(
        &self,
        request: RestartRequest,
    ) -> HerderResult<Option<ConnectorStateInfo>> {
        let name = request.connector.clone();
        if !request.only_failed && !request.include_tasks {
            // The plain restart: by the worker running the connector (Java's older API).
            let membership = self.inner.stable().await?;
            if !self.inner.configs.contains(&name) {
                return Err(HerderError::NotFound(format!("Unknown connector: {name}")));
            }
            if membership.running.connectors.contains(&name) {
                self.command(|reply| Command::RestartConnector(name, reply))
                    .await?;
                return Ok(None);
            }
            let leader_url = if membership.leader {
                membership.connector_owners.get(&name).cloned()
            } else {
                membership.leader_url.clone()
            };
            return Err(HerderError::NotLeader { leader_url });
        }
        self.inner.require_leader().await?;
        if !self.inner.configs.contains(&name) {
            return Err(HerderError::NotFound(format!("Unknown connector: {name}")));
        }
        self.inner
            .configs
            .put_restart_request(&config_records::RestartRequest {
                connector: name.clone(),
                only_failed: request.only_failed,
                include_tasks: request.include_tasks,
            })
            .await
            .map_err(internal)?;
        let status = self
            .inner
            .connector_status(&name)
            .map_err(|_| HerderError::NotFound(format!("Status for connector {name} not found")))?;
        let plan = RestartPlan::new(request.only_failed, request.include_tasks, &status);
        Ok(Some(plan.restarting(status)))
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        let membership = self.inner.stable().await?;
        let snapshot = self.inner.configs.snapshot();
        if !snapshot.contains(&id.connector) {
            return Err(HerderError::NotFound(format!(
                "Unknown connector: {}",
                id.connector
            )));
        }
        if snapshot.task_config(id).is_none() {
            return Err(HerderError::NotFound(format!("Unknown task: {id}")));
        }
        if membership.running.tasks.contains(id) {
            let id = id.clone();
            return self.command(|reply| Command::RestartTask(id, reply)).await;
        }
        let leader_url = if membership.leader {
            membership.task_owners.get(id).cloned()
        } else {
            membership.leader_url.clone()
        };
        Err(HerderError::NotLeader { leader_url })
    }

    async fn set_target_state(&self, name: &str, state: TargetState) -> HerderResult<()> {
        if state != TargetState::Stopped {
            // Pausing and resuming are a single record any worker may write (as in Java).
            if !self.inner.configs.contains(name) {
                return Err(HerderError::NotFound(format!("Unknown connector {name}")));
            }
            return self
                .inner
                .configs
                .put_target_state(name, to_stored(state))
                .await
                .map_err(internal);
        }
        self.inner.require_leader().await?;
        if !self.inner.configs.contains(name) {
            return Err(HerderError::NotFound(format!("Unknown connector {name}")));
        }
        // Task configs first: a RUNNING connector without tasks is harmless if the target
        // state write then fails; a STOPPED one with tasks is not.
        self.inner.write_task_configs(name, &[]).await?;
        let _guard = self.inner.writes.lock().await;
        self.inner
            .configs
            .put_target_state(name, config_records::TargetState::Stopped)
            .await
            .map_err(internal)?;
        let _ = self
            .inner
            .configs
            .refresh(self.inner.config.worker_sync_timeout)
            .await;
        Ok(())
    }

    async fn active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo> {
        if !self.inner.configs.contains(name) {
            return Err(not_found(name));
        }
        Ok(ActiveTopicsInfo {
            topics: self.inner.statuses.topics(name),
        })
    }

    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        if !self.inner.configs.contains(name) {
            return Err(not_found(name));
        }
        self.inner.statuses.reset_topics(name);
        Ok(())
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        let snapshot = self.inner.configs.snapshot();
        let config = snapshot
            .connector_config(name)
            .ok_or_else(|| not_found(name))?;
        read_offsets(&self.inner.worker, name, config).await
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<Message> {
        let config = self.inner.require_stopped(name).await?;
        modify_offsets(
            &self.inner.worker,
            name,
            &config,
            OffsetsChange::Alter(offsets),
        )
        .await
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        let config = self.inner.require_stopped(name).await?;
        modify_offsets(&self.inner.worker, name, &config, OffsetsChange::Reset).await
    }

    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        connector_plugin_config(&self.inner.worker, plugin)
    }

    async fn set_cluster_logger_level(&self, namespace: &str, level: &str) -> HerderResult<()> {
        self.inner
            .configs
            .put_logger_level(namespace, level)
            .await
            .map_err(internal)
    }

    async fn validate_connector_config(&self, config: ConfigMap) -> HerderResult<ConfigInfos> {
        validate_resolved(&self.inner.worker, &config)
    }

    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<ConfigMap>,
        signature: Option<RequestSignature>,
    ) -> HerderResult<()> {
        self.inner.check_signature(signature.as_ref())?;
        let membership = self.inner.stable().await?;
        if !membership.leader {
            return Err(HerderError::NotLeader {
                leader_url: membership.leader_url,
            });
        }
        if !self.inner.configs.contains(name) {
            return Err(not_found(name));
        }
        self.inner.write_task_configs(name, &configs).await
    }

    async fn fence_zombie_source_tasks(
        &self,
        _name: &str,
        signature: Option<RequestSignature>,
    ) -> HerderResult<()> {
        self.inner.check_signature(signature.as_ref())?;
        Err(HerderError::Unsupported(
            "Exactly-once support for source connectors is not available in this version of Ferry, so there are no zombie tasks to fence".into(),
        ))
    }
}
