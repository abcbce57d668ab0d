//! The offsets API (KIP-875) once a herder has made its own checks (the connector exists, it is
//! STOPPED, this worker may serve the request): Java's `Worker.connectorOffsets` and
//! `Worker.modifyConnectorOffsets`. Both herders call these, so standalone and distributed
//! workers give the same answers, in Java's words.
//!
//! A sink connector's offsets are its consumer group's ([`sink_offsets`]); a source
//! connector's are in the worker's offset store. Before offsets are altered or reset, a new
//! instance of the connector is asked ([`SourceConnector::alter_offsets`],
//! [`SinkConnector::alter_offsets`]): it may refuse, and its answer says whether it manages
//! offsets of its own, which the success message reflects.
//!
//! [`SourceConnector::alter_offsets`]: ferry_connect::connector::SourceConnector::alter_offsets
//! [`SinkConnector::alter_offsets`]: ferry_connect::connector::SinkConnector::alter_offsets

use std::collections::HashMap;

use ferry_connect::plugin::ConnectorPlugin;

use super::entities::ConnectorOffset;
use super::requests::{hash, internal};
use super::{ConfigMap, ConnectorOffsets, HerderError, HerderResult, Message};
use crate::storage::offset_records::OffsetMap;
use crate::storage::offsets::{OffsetStorageWriter, connector_offsets};
use crate::worker::{CONNECTOR_CLASS_CONFIG, Worker, sink_offsets};

/// What a modification request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum OffsetsChange {
    /// `PATCH /connectors/{name}/offsets`: these offsets (a `None` offset resets its partition).
    Alter(ConnectorOffsets),
    /// `DELETE /connectors/{name}/offsets`: every offset of the connector.
    Reset,
}

/// The success message of a modification (Java's `completeModifyOffsetsCallback`):
/// `connector_managed` is the connector's `alter_offsets` answer.
///
/// ```
/// use ferry_runtime::herder::offsets::modified;
/// assert_eq!(
///     modified(true, false).message,
///     "The offsets for this connector have been altered successfully"
/// );
/// assert!(modified(false, true).message.starts_with(
///     "The Connect framework-managed offsets for this connector have been reset successfully."
/// ));
/// ```
pub fn modified(connector_managed: bool, reset: bool) -> Message {
    let what = if reset { "reset" } else { "altered" };
    let message = if connector_managed {
        format!("The offsets for this connector have been {what} successfully")
    } else {
        format!(
            "The Connect framework-managed offsets for this connector have been {what} successfully. However, if this connector manages offsets externally, they will need to be manually {what} in the system that the connector uses."
        )
    };
    Message { message }
}

/// `GET /connectors/{name}/offsets` for connector `name` with config `raw` (variables not
/// resolved yet).
///
/// # Errors
/// Java's messages when the consumer group or the offset store cannot be read.
pub async fn read_offsets(
    worker: &Worker,
    name: &str,
    raw: &ConfigMap,
) -> HerderResult<ConnectorOffsets> {
    let config = resolve(worker, raw)?;
    let offsets = match plugin(worker, &config)? {
        ConnectorPlugin::Sink(_) => {
            let admin = sink_offsets::sink_admin(worker.config(), name, &config)?;
            let group = sink_offsets::consumer_group_id(name, &config);
            sink_offsets::read_sink_offsets(&admin, name, &group).await?
        }
        ConnectorPlugin::Source(_) => connector_offsets(&**worker.offsets(), name)
            .await
            .map_err(|e| {
                tracing::error!(connector = name, error = %e, "cannot read source offsets");
                HerderError::Internal(format!(
                    "Failed to retrieve offsets for source connector {name}"
                ))
            })?
            .into_iter()
            .map(|(partition, offset)| ConnectorOffset {
                partition,
                offset: Some(offset),
            })
            .collect(),
    };
    Ok(ConnectorOffsets { offsets })
}

/// `PATCH` or `DELETE /connectors/{name}/offsets` for a STOPPED connector `name` with config
/// `raw` (variables not resolved yet).
///
/// # Errors
/// 400 for malformed sink offsets; the connector's own refusal; Java's messages when the
/// consumer group or the offset store cannot be changed.
pub async fn modify_offsets(
    worker: &Worker,
    name: &str,
    raw: &ConfigMap,
    change: OffsetsChange,
) -> HerderResult<Message> {
    let config = resolve(worker, raw)?;
    let reset = change == OffsetsChange::Reset;
    match plugin(worker, &config)? {
        ConnectorPlugin::Sink(mut connector) => {
            let admin = sink_offsets::sink_admin(worker.config(), name, &config)?;
            let group = sink_offsets::consumer_group_id(name, &config);
            let offsets = match &change {
                OffsetsChange::Alter(offsets) => sink_offsets::parse_sink_offsets(&offsets.offsets)
                    .map_err(HerderError::BadRequest)?,
                OffsetsChange::Reset => {
                    sink_offsets::partitions_to_reset(&admin, name, &group).await?
                }
            };
            let asked: HashMap<_, _> = offsets
                .iter()
                .map(|((topic, partition), offset)| {
                    (
                        ferry_connect::connector::TopicPartition::new(topic, *partition),
                        *offset,
                    )
                })
                .collect();
            let managed = connector.alter_offsets(&config, &asked).await?;
            if reset {
                sink_offsets::reset_sink_offsets(&admin, name, &group).await?;
            } else {
                sink_offsets::alter_sink_offsets(&admin, name, &group, offsets).await?;
            }
            Ok(modified(managed, reset))
        }
        ConnectorPlugin::Source(mut connector) => {
            let offsets: Vec<(OffsetMap, Option<OffsetMap>)> = match change {
                OffsetsChange::Alter(offsets) => offsets
                    .offsets
                    .into_iter()
                    .map(|o| (o.partition, o.offset))
                    .collect(),
                OffsetsChange::Reset => connector_offsets(&**worker.offsets(), name)
                    .await
                    .map_err(|e| source_failure(name, &e))?
                    .into_iter()
                    .map(|(partition, _)| (partition, None))
                    .collect(),
            };
            let managed = connector.alter_offsets(&config, &offsets).await?;
            OffsetStorageWriter::new(name, worker.offsets().clone())
                .write(offsets)
                .await
                .map_err(|e| source_failure(name, &e))?;
            Ok(modified(managed, reset))
        }
    }
}

fn source_failure(name: &str, error: &impl std::fmt::Display) -> HerderError {
    tracing::error!(connector = name, %error, "cannot modify source offsets");
    HerderError::Internal(format!(
        "Failed to modify offsets for source connector {name}"
    ))
}

/// The connector config with its provider variables resolved, as Java hands it to the worker.
fn resolve(worker: &Worker, raw: &ConfigMap) -> HerderResult<HashMap<String, String>> {
    worker.config().transform(&hash(raw)).map_err(internal)
}

/// A new, unstarted instance of the connector.
fn plugin(worker: &Worker, config: &HashMap<String, String>) -> HerderResult<ConnectorPlugin> {
    let class = config
        .get(CONNECTOR_CLASS_CONFIG)
        .map_or("", String::as_str);
    worker.plugins().connector(class).ok_or_else(|| {
        HerderError::Internal(format!(
            "Failed to find any class that implements Connector and which name matches {class}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_javas() {
        assert_eq!(
            modified(true, true).message,
            "The offsets for this connector have been reset successfully"
        );
        assert_eq!(
            modified(false, false).message,
            "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses."
        );
        assert_eq!(
            modified(false, true).message,
            "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses."
        );
    }
}
