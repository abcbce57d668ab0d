//! Task reconfiguration: the worker running a connector asks it for task configs and, when
//! they changed, has the leader store them (itself, or through the leader's internal
//! `POST /connectors/NAME/tasks`, signed with the session key).

use std::time::Duration;

use axum::http::Method;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::time::Instant;

use super::Control;
use crate::distributed::protocol::ConnectProtocolCompatibility;
use crate::herder::variables::reverse_transform;
use crate::herder::{HerderError, HerderResult, TargetState};
use crate::rest::Signing;
use crate::storage::config_records::Properties;
use crate::worker::TASKS_MAX_CONFIG;

/// Java's first and last backoff between attempts to reconfigure a connector's tasks.
const RECONFIGURE_BACKOFF_INITIAL: Duration = Duration::from_millis(250);
const RECONFIGURE_BACKOFF_MAX: Duration = Duration::from_secs(60);

impl Control {
    /// Asks a connector this worker runs for its task configs and, when they differ from the
    /// stored ones, has the leader store them; failures are retried with backoff.
    pub(super) async fn reconfigure(&mut self, name: &str) {
        if !self.running.connectors.contains(name)
            || self.target_state(name) != TargetState::Started
        {
            self.retries.remove(name);
            return;
        }
        match self.publish_task_configs(name).await {
            Ok(()) => {
                self.retries.remove(name);
            }
            Err(error) => {
                let backoff = self
                    .retries
                    .get(name)
                    .map_or(RECONFIGURE_BACKOFF_INITIAL, |(_, b)| {
                        (*b * 2).min(RECONFIGURE_BACKOFF_MAX)
                    });
                tracing::warn!(connector = name, %error, ?backoff, "task reconfiguration failed; retrying");
                self.retries
                    .insert(name.to_owned(), (Instant::now() + backoff, backoff));
            }
        }
    }

    async fn publish_task_configs(&self, name: &str) -> HerderResult<()> {
        let snapshot = &self.snapshot;
        let Some(raw) = snapshot.connector_config(name) else {
            return Ok(());
        };
        let max_tasks = raw
            .get(TASKS_MAX_CONFIG)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1);
        let generated: Vec<Properties> = self
            .inner
            .worker
            .connector_task_configs(name, max_tasks)
            .await?
            .into_iter()
            .map(|config| config.into_iter().collect())
            .collect();
        // Generated from the resolved config: secrets go back to their variables before the
        // configs are compared, forwarded or written.
        let generated = reverse_transform(raw, generated);
        let stored: Vec<Properties> = snapshot
            .tasks(name)
            .iter()
            .filter_map(|task| snapshot.task_config(task).cloned())
            .collect();
        let connector_changed = snapshot
            .applied_connector_config(name)
            .is_some_and(|applied| Some(applied) != snapshot.connector_config(name));
        if generated == stored
            && !connector_changed
            && !snapshot.inconsistent_connectors().contains(name)
        {
            return Ok(());
        }
        let membership = self.inner.membership.borrow().clone();
        if membership.leader {
            return self.inner.write_task_configs(name, &generated).await;
        }
        let Some(leader_url) = membership.leader_url else {
            return Err(HerderError::NotLeader { leader_url: None });
        };
        let url = format!(
            "{}/connectors/{}/tasks",
            leader_url.trim_end_matches('/'),
            utf8_percent_encode(name, NON_ALPHANUMERIC)
        );
        let body = serde_json::to_vec(&generated).map_err(crate::distributed::herder::internal)?;
        let key = self.inner.configs.snapshot().session_key().cloned();
        let signing = match (&key, membership.protocol) {
            (Some(key), Some(ConnectProtocolCompatibility::Sessioned)) => Some(Signing {
                key: &key.key,
                algorithm: &self.inner.config.signature_algorithm,
            }),
            (None, Some(ConnectProtocolCompatibility::Sessioned)) => {
                return Err(HerderError::Unavailable(
                    "no session key has been read yet to sign the request to the leader".into(),
                ));
            }
            _ => None,
        };
        tracing::debug!(connector = name, %url, "forwarding task configs to the leader");
        self.inner
            .client
            .request(&url, Method::POST, None, Some(body), signing)
            .await
            .map(|_| ())
            .map_err(|e| HerderError::Internal(e.message))
    }
}
