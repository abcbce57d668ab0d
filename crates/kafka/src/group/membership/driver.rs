//! The join/sync loop of a member: JoinGroup, the leader's assignment, SyncGroup, LeaveGroup.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, GroupId, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, SyncGroupRequest,
};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::{mpsc, oneshot};

use super::{
    AssignRequest, GroupEvent, Joined, MemberMetadata, MembershipConfig, Phase, PrepareJoin,
    Shared, State, millis,
};
use crate::cluster::{Cluster, CoordinatorType, ExponentialBackoff};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode, check};
use crate::group::GroupError;

/// Kafka truncates join and leave reasons to this many characters.
const MAX_REASON: usize = 255;

/// Added to the rebalance timeout to bound a JoinGroup (Java's `JOIN_GROUP_TIMEOUT_LAPSE`).
const JOIN_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// How to go on after a failed join attempt.
enum Next {
    /// Rejoin at once (member id required, generation moved on).
    Now,
    /// Retry after the backoff.
    Backoff,
    /// Tell the owner, then retry after the backoff.
    Report,
}

pub(super) struct Driver {
    pub(super) cluster: Cluster,
    pub(super) config: MembershipConfig,
    pub(super) protocol_type: String,
    pub(super) state: Shared,
    pub(super) events: mpsc::Sender<Result<GroupEvent, GroupError>>,
}

impl Driver {
    pub(super) async fn run(self) {
        let mut watch = self.state.subscribe();
        let client = self.cluster.config();
        let backoff = ExponentialBackoff::new(client.retry_backoff, client.retry_backoff_max);
        let mut failures = 0;
        loop {
            let closing = watch
                .wait_for(|s| s.closing || s.rejoin.is_some())
                .await
                .map_or(true, |s| s.closing);
            if closing {
                break;
            }
            let attempt = tokio::select! {
                attempt = self.join_once() => attempt,
                _ = watch.wait_for(|s| s.closing) => break,
            };
            let error = match attempt {
                Ok(joined) => {
                    failures = 0;
                    if self
                        .events
                        .send(Ok(GroupEvent::Joined(joined)))
                        .await
                        .is_err()
                    {
                        break;
                    }
                    continue;
                }
                Err(error) => error,
            };
            let next = self.after_failure(&error);
            tracing::info!(group = %self.config.group_id, %error, "join attempt failed");
            if matches!(next, Next::Now) {
                continue;
            }
            if matches!(next, Next::Report) && self.events.send(Err(error)).await.is_err() {
                break;
            }
            let wait = backoff.backoff(failures);
            failures = failures.saturating_add(1);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = watch.wait_for(|s| s.closing) => break,
            }
        }
        self.leave().await;
    }

    /// Classifies a failed attempt, forgetting the coordinator when it moved or went away.
    fn after_failure(&self, error: &GroupError) -> Next {
        if let GroupError::Client(e) = error
            && (e.invalidates_metadata() || matches!(e, Error::Timeout { .. }))
        {
            self.cluster
                .invalidate_coordinator(&self.config.group_id, CoordinatorType::Group);
        }
        match error.kafka_code() {
            Some(
                KafkaCode::MemberIdRequired
                | KafkaCode::UnknownMemberId
                | KafkaCode::IllegalGeneration
                | KafkaCode::RebalanceInProgress,
            ) => Next::Now,
            _ if error.is_retriable() => Next::Backoff,
            _ => Next::Report,
        }
    }

    fn snapshot(&self) -> State {
        self.state.borrow().clone()
    }

    fn group_id(&self) -> GroupId {
        GroupId(StrBytes::from_string(self.config.group_id.clone()))
    }

    /// One pass through JoinGroup and SyncGroup (Java's `joinGroupIfNeeded` loop body).
    async fn join_once(&self) -> Result<Joined, GroupError> {
        let connection = self
            .cluster
            .coordinator_connection(&self.config.group_id, CoordinatorType::Group)
            .await?;
        if self.state.borrow().needs_prepare {
            self.prepare().await?;
        }
        let requests_at_join = self.state.borrow().rejoin_requests;
        let joined = self.join(&connection).await?;
        let assignments = if joined.leader == joined.member_id && !joined.skip_assignment {
            self.assign(joined).await?
        } else {
            Vec::new()
        };
        self.sync(&connection, assignments, requests_at_join).await
    }

    /// Lets the owner release its work before the JoinGroup (Java's `onJoinPrepare`).
    async fn prepare(&self) -> Result<(), GroupError> {
        let (done, acknowledged) = oneshot::channel();
        let mut generation = None;
        let mut reason = String::new();
        self.state.send_modify(|s| {
            s.needs_prepare = false;
            generation = s.generation();
            reason = s.rejoin.clone().unwrap_or_default();
        });
        let prepare = PrepareJoin {
            generation,
            reason,
            done,
        };
        self.events
            .send(Ok(GroupEvent::Rebalancing(prepare)))
            .await
            .map_err(|_| GroupError::Closed)?;
        // Answered or dropped: either way the owner is done.
        let _ = acknowledged.await;
        Ok(())
    }

    async fn join(&self, connection: &Connection) -> Result<JoinGroupResponse, GroupError> {
        let state = self.snapshot();
        let version = connection.version_of::<JoinGroupRequest>()?.max;
        let instance_id = self.instance_id(version, 5, ApiKey::JoinGroup)?;
        let request = JoinGroupRequest::default()
            .with_group_id(self.group_id())
            .with_session_timeout_ms(millis(self.config.session_timeout))
            .with_rebalance_timeout_ms(millis(self.config.rebalance_timeout))
            .with_member_id(StrBytes::from_string(state.member_id.clone()))
            .with_group_instance_id(instance_id)
            .with_protocol_type(StrBytes::from_string(self.protocol_type.clone()))
            .with_protocols(
                state
                    .protocols
                    .iter()
                    .map(|p| {
                        JoinGroupRequestProtocol::default()
                            .with_name(StrBytes::from_string(p.name.clone()))
                            .with_metadata(p.metadata.clone())
                    })
                    .collect(),
            )
            .with_reason(Some(truncate(state.rejoin.as_deref().unwrap_or_default())));
        self.state.send_modify(|s| s.phase = Phase::Preparing);
        tracing::info!(group = %self.config.group_id, member = %state.member_id, "(re-)joining group");
        // The coordinator holds a JoinGroup until every member has rejoined, up to the
        // rebalance timeout, so it gets that long plus a margin, as in Java; other requests on
        // the coordinator connection keep `request.timeout.ms`.
        let timeout = join_timeout(connection.request_timeout(), self.config.rebalance_timeout);
        let response = connection
            .send_version_with_timeout(&request, version, timeout)
            .await?;
        match KafkaCode::try_from_code(response.error_code) {
            None => {
                let chosen = response.protocol_type.as_deref();
                if chosen.is_some_and(|t| t != self.protocol_type.as_str()) {
                    return Err(GroupError::InconsistentProtocol(format!(
                        "the coordinator chose protocol type {chosen:?}, not {:?}",
                        self.protocol_type
                    )));
                }
                let protocol = response
                    .protocol_name
                    .as_ref()
                    .map(|p| p.to_string())
                    .or_else(|| state.protocols.first().map(|p| p.name.clone()));
                self.state.send_modify(|s| {
                    s.phase = Phase::Completing;
                    s.generation_id = response.generation_id;
                    s.member_id = response.member_id.to_string();
                    s.leader_id = response.leader.to_string();
                    s.protocol = protocol;
                });
                tracing::info!(
                    group = %self.config.group_id,
                    generation = response.generation_id,
                    member = %response.member_id,
                    leader = %response.leader,
                    "joined group"
                );
                Ok(response)
            }
            Some(code) => {
                self.state.send_modify(|s| match code {
                    KafkaCode::MemberIdRequired => {
                        s.member_id = response.member_id.to_string();
                        s.generation_id = -1;
                        s.protocol = None;
                    }
                    KafkaCode::UnknownMemberId if s.generation_id == state.generation_id => {
                        s.reset(format!("{code} from JoinGroup"), false);
                    }
                    _ => {}
                });
                Err(code.into())
            }
        }
    }

    /// Asks the owner for the group's assignment (Java's `onLeaderElected`).
    async fn assign(
        &self,
        joined: JoinGroupResponse,
    ) -> Result<Vec<SyncGroupRequestAssignment>, GroupError> {
        let generation = self
            .state
            .borrow()
            .generation()
            .ok_or(GroupError::from(KafkaCode::IllegalGeneration))?;
        let generation_id = generation.id;
        let members = joined
            .members
            .into_iter()
            .map(|m| MemberMetadata {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.map(|i| i.to_string()),
                metadata: m.metadata,
            })
            .collect();
        let (reply, answer) = oneshot::channel();
        let request = AssignRequest {
            generation,
            members,
            reply,
        };
        self.events
            .send(Ok(GroupEvent::Assign(request)))
            .await
            .map_err(|_| GroupError::Closed)?;
        let assignments: HashMap<String, Bytes> =
            answer.await.map_err(|_| GroupError::AssignmentAbandoned {
                generation: generation_id,
            })?;
        Ok(assignments
            .into_iter()
            .map(|(member, bytes)| {
                SyncGroupRequestAssignment::default()
                    .with_member_id(StrBytes::from_string(member))
                    .with_assignment(bytes)
            })
            .collect())
    }

    async fn sync(
        &self,
        connection: &Connection,
        assignments: Vec<SyncGroupRequestAssignment>,
        requests_at_join: u64,
    ) -> Result<Joined, GroupError> {
        let sent = self.snapshot();
        let version = connection.version_of::<SyncGroupRequest>()?.max;
        let instance_id = self.instance_id(version, 3, ApiKey::SyncGroup)?;
        let mut request = SyncGroupRequest::default()
            .with_group_id(self.group_id())
            .with_generation_id(sent.generation_id)
            .with_member_id(StrBytes::from_string(sent.member_id.clone()))
            .with_group_instance_id(instance_id)
            .with_assignments(assignments);
        if version >= 5 {
            request.protocol_type = Some(StrBytes::from_string(self.protocol_type.clone()));
            request.protocol_name = sent.protocol.clone().map(StrBytes::from_string);
        }
        // Java gives SyncGroup the plain `request.timeout.ms`: the coordinator answers it as
        // soon as the leader's assignment is in.
        let response = connection.send_version(&request, version).await?;
        if let Some(code) = KafkaCode::try_from_code(response.error_code) {
            self.state.send_modify(|s| {
                let unchanged = s.generation_id == sent.generation_id;
                match code {
                    KafkaCode::UnknownMemberId if unchanged => {
                        s.reset(format!("{code} from SyncGroup"), false)
                    }
                    KafkaCode::IllegalGeneration if unchanged => {
                        s.reset(format!("{code} from SyncGroup"), true)
                    }
                    _ => {}
                }
            });
            return Err(code.into());
        }
        if let Some(name) = response.protocol_name.as_deref()
            && sent.protocol.as_deref() != Some(name)
        {
            return Err(GroupError::InconsistentProtocol(format!(
                "SyncGroup names protocol {name:?}, JoinGroup chose {:?}",
                sent.protocol
            )));
        }
        let mut generation = None;
        self.state.send_modify(|s| {
            // The heartbeat task may have reset the generation meanwhile.
            if s.phase == Phase::Completing && s.generation_id == sent.generation_id {
                s.phase = Phase::Stable;
                if s.rejoin_requests == requests_at_join {
                    s.rejoin = None;
                }
                s.needs_prepare = true;
                generation = s.generation();
            }
        });
        let generation = generation.ok_or(GroupError::from(KafkaCode::IllegalGeneration))?;
        tracing::info!(group = %self.config.group_id, generation = generation.id, "synced group");
        Ok(Joined {
            generation,
            assignment: response.assignment,
        })
    }

    /// `group.instance.id` for a request at `version`, which carries it from `since` on.
    fn instance_id(
        &self,
        version: i16,
        since: i16,
        api: ApiKey,
    ) -> Result<Option<StrBytes>, GroupError> {
        match &self.config.group_instance_id {
            None => Ok(None),
            Some(_) if version < since => Err(Error::Unsupported { api }.into()),
            Some(id) => Ok(Some(StrBytes::from_string(id.clone()))),
        }
    }

    /// Leaves the group on close, as Java does for dynamic members only: a static member's
    /// departure is noticed by session expiry, so that a restart keeps its assignment.
    async fn leave(&self) {
        let state = self.snapshot();
        if self.config.group_instance_id.is_some()
            || state.member_id.is_empty()
            || state.phase == Phase::Unjoined
        {
            return;
        }
        let left = async {
            let connection = self
                .cluster
                .coordinator_connection(&self.config.group_id, CoordinatorType::Group)
                .await?;
            let version = connection.version_of::<LeaveGroupRequest>()?.max;
            let mut request = LeaveGroupRequest::default().with_group_id(self.group_id());
            let member_id = StrBytes::from_string(state.member_id.clone());
            if version >= 3 {
                request.members = vec![
                    MemberIdentity::default()
                        .with_member_id(member_id)
                        .with_reason((version >= 5).then(|| truncate("the member is closing"))),
                ];
            } else {
                request.member_id = member_id;
            }
            let response = connection.send_version(&request, version).await?;
            check(response.error_code, None)?;
            for member in &response.members {
                check(member.error_code, None)?;
            }
            Ok::<_, Error>(())
        };
        match left.await {
            Ok(()) => {
                tracing::info!(group = %self.config.group_id, member = %state.member_id, "left group")
            }
            Err(error) => {
                tracing::warn!(group = %self.config.group_id, %error, "LeaveGroup failed")
            }
        }
        self.state.send_modify(|s| {
            s.phase = Phase::Unjoined;
            s.generation_id = -1;
            s.member_id.clear();
        });
    }
}

/// How long to wait for a JoinGroup answer: the rebalance timeout plus [`JOIN_TIMEOUT_MARGIN`]
/// for small delays, and never less than `request.timeout.ms` (Java's `joinGroupTimeoutMs`).
fn join_timeout(request_timeout: Duration, rebalance_timeout: Duration) -> Duration {
    request_timeout.max(rebalance_timeout.saturating_add(JOIN_TIMEOUT_MARGIN))
}

fn truncate(reason: &str) -> StrBytes {
    StrBytes::from_string(reason.chars().take(MAX_REASON).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_timeout_is_the_rebalance_timeout_plus_five_seconds() {
        let ms = Duration::from_millis;
        assert_eq!(join_timeout(ms(30_000), ms(60_000)), ms(65_000));
        assert_eq!(join_timeout(ms(30_000), ms(300_000)), ms(305_000));
        // Never shorter than the request timeout.
        assert_eq!(join_timeout(ms(40_000), ms(1_000)), ms(40_000));
        // Java's rebalance timeout may be i32::MAX ms; nothing overflows.
        assert_eq!(join_timeout(ms(1), Duration::MAX), Duration::MAX);
    }
}
