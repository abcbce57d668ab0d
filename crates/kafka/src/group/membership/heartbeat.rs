//! The heartbeat task (Java's `HeartbeatThread`): keeps the member in its generation and
//! notices when the coordinator starts a new one.

use kafka_protocol::messages::{GroupId, HeartbeatRequest};
use kafka_protocol::protocol::StrBytes;
use tokio::time::Instant;

use super::{MembershipConfig, Phase, Shared};
use crate::cluster::{Cluster, CoordinatorType};
use crate::error::{Error, KafkaCode, check};

/// Heartbeats while the member is in a generation (from the JoinGroup answer on), until the
/// member closes.
pub(super) async fn run(cluster: Cluster, config: MembershipConfig, state: Shared) {
    let mut watch = state.subscribe();
    // When heartbeating is enabled: the time of the next heartbeat, and of the last success.
    let mut schedule: Option<(Instant, Instant)> = None;
    loop {
        let (enabled, closing) = {
            let s = watch.borrow_and_update();
            (
                matches!(s.phase, Phase::Completing | Phase::Stable),
                s.closing,
            )
        };
        if closing {
            return;
        }
        if !enabled {
            schedule = None;
            if watch.changed().await.is_err() {
                return;
            }
            continue;
        }
        let now = Instant::now();
        let (next, last_success) = *schedule.get_or_insert((now + config.heartbeat_interval, now));
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            changed = watch.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        }
        if last_success.elapsed() > config.session_timeout {
            // Java assumes the coordinator is gone when it stops answering for a session.
            cluster.invalidate_coordinator(&config.group_id, CoordinatorType::Group);
        }
        let retry_backoff = cluster.config().retry_backoff;
        let (next, last_success) = match beat(&cluster, &config, &state).await {
            Ok(()) => (Instant::now() + config.heartbeat_interval, Instant::now()),
            Err(error) => {
                tracing::debug!(group = %config.group_id, %error, "heartbeat failed");
                if error.invalidates_metadata() || matches!(error, Error::Timeout { .. }) {
                    cluster.invalidate_coordinator(&config.group_id, CoordinatorType::Group);
                }
                (Instant::now() + retry_backoff, last_success)
            }
        };
        schedule = Some((next, last_success));
    }
}

/// Sends one heartbeat and applies its answer to the member's state. Errors that are part of
/// the protocol (a rebalance, a stale generation) are handled here and reported as success.
async fn beat(cluster: &Cluster, config: &MembershipConfig, state: &Shared) -> Result<(), Error> {
    let sent = state.borrow().clone();
    let connection = cluster
        .coordinator_connection(&config.group_id, CoordinatorType::Group)
        .await?;
    let version = connection.version_of::<HeartbeatRequest>()?.max;
    let mut request = HeartbeatRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(config.group_id.clone())))
        .with_generation_id(sent.generation_id)
        .with_member_id(StrBytes::from_string(sent.member_id.clone()));
    if version >= 3 {
        request.group_instance_id = config.group_instance_id.clone().map(StrBytes::from_string);
    }
    let response = connection.send_version(&request, version).await?;
    let Some(code) = KafkaCode::try_from_code(response.error_code) else {
        return Ok(());
    };
    match code {
        KafkaCode::RebalanceInProgress => {
            // During a rebalance of our own this is expected; in a stable generation it is the
            // coordinator asking everyone to rejoin.
            state.send_if_modified(|s| {
                let stable = s.phase == Phase::Stable && s.rejoin.is_none();
                if stable {
                    s.request_rejoin("the group is rebalancing");
                }
                stable
            });
            Ok(())
        }
        KafkaCode::IllegalGeneration | KafkaCode::UnknownMemberId | KafkaCode::FencedInstanceId => {
            state.send_if_modified(|s| {
                let unchanged =
                    s.generation_id == sent.generation_id && s.member_id == sent.member_id;
                if unchanged {
                    let keep_member_id = code == KafkaCode::IllegalGeneration;
                    s.reset(format!("{code} from Heartbeat"), keep_member_id);
                }
                unchanged
            });
            Ok(())
        }
        _ => check(response.error_code, None),
    }
}
