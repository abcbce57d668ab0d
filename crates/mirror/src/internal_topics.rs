//! Creating MirrorMaker 2's internal topics (offset syncs, checkpoints, heartbeats) as Java's
//! `MirrorUtils.createSinglePartitionCompactedTopic` does.

use ferry_connect::ConnectError;
use ferry_kafka::admin::NewTopic;
use ferry_kafka::{Admin, Error, KafkaCode};
use tracing::{info, warn};

/// Creates `name` with one partition, `cleanup.policy=compact` and `replication_factor`. An
/// existing topic is fine; a broker that cannot create topics or refuses for lack of
/// authorization is assumed to have it or to create it on first use (logged); other failures
/// are errors.
pub(crate) async fn create_compacted_topic(
    admin: &Admin,
    name: &str,
    replication_factor: i16,
) -> Result<(), ConnectError> {
    let topic = NewTopic::new(name, 1, replication_factor).with_config("cleanup.policy", "compact");
    let outcome = match admin.create_topics(&[topic]).await {
        Ok(mut results) => results
            .remove(name)
            .unwrap_or_else(|| Err(Error::Protocol(format!("no result for topic {name}")))),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => {
            info!("Created topic '{name}'");
            Ok(())
        }
        Err(error) => match error.kafka_code() {
            Some(KafkaCode::TopicAlreadyExists) => Ok(()),
            Some(
                KafkaCode::TopicAuthorizationFailed
                | KafkaCode::ClusterAuthorizationFailed
                | KafkaCode::UnsupportedVersion,
            ) => {
                warn!(
                    "Could not create topic '{name}' ({error}); assuming it exists or will be \
                     auto-created by the broker"
                );
                Ok(())
            }
            _ if matches!(error, Error::Unsupported { .. }) => {
                warn!(
                    "The broker cannot create topics; assuming '{name}' exists or will be \
                     auto-created by the broker"
                );
                Ok(())
            }
            _ => Err(ConnectError::other(format!(
                "Error while attempting to create/find topic '{name}': {error}"
            ))),
        },
    }
}
