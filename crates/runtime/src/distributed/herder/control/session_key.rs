//! The leader's session key (KIP-507): written when missing or older than
//! `inter.worker.key.ttl.ms`; followers sign their requests to the leader with it.

use std::time::Duration;

use tokio::time::Instant;

use super::{Control, now_ms};
use crate::distributed::protocol::ConnectProtocolCompatibility;
use crate::storage::config_records::SessionKey;

/// How soon the leader tries again after failing to write a session key.
const SESSION_KEY_RETRY: Duration = Duration::from_secs(1);

impl Control {
    /// As the leader of a `sessioned` group, writes a new session key when there is none or
    /// the current one is older than `inter.worker.key.ttl.ms`, and schedules the next check.
    pub(super) async fn check_session_key(&mut self) {
        let leader = self.inner.membership.borrow().leader;
        if !leader || self.protocol != Some(ConnectProtocolCompatibility::Sessioned) {
            self.session_key_check_at = None;
            return;
        }
        let ttl = i64::try_from(self.inner.config.key_ttl.as_millis()).unwrap_or(i64::MAX);
        let now = now_ms();
        let snapshot = self.inner.configs.snapshot();
        if let Some(key) = snapshot.session_key()
            && key.creation_timestamp.saturating_add(ttl) > now
        {
            let left = key.creation_timestamp.saturating_add(ttl) - now;
            self.session_key_check_at =
                Some(Instant::now() + Duration::from_millis(left.unsigned_abs()));
            return;
        }
        let mut bytes = vec![0; self.inner.config.key_bytes()];
        if let Err(error) = getrandom::fill(&mut bytes) {
            tracing::error!(%error, "cannot generate a session key");
            self.session_key_check_at = Some(Instant::now() + SESSION_KEY_RETRY);
            return;
        }
        let key = SessionKey {
            key: bytes,
            algorithm: self.inner.config.key_generation_algorithm.clone(),
            creation_timestamp: now,
        };
        let written = {
            let _guard = self.inner.writes.lock().await;
            self.inner.configs.put_session_key(&key).await
        };
        self.session_key_check_at = Some(match written {
            Ok(()) => {
                tracing::info!("wrote a new session key");
                Instant::now() + self.inner.config.key_ttl
            }
            Err(error) => {
                tracing::error!(%error, "cannot write a new session key");
                Instant::now() + SESSION_KEY_RETRY
            }
        });
    }
}
