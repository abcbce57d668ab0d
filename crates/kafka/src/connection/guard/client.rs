//! Wire layouts of the responses the connection, cluster, producer and fetcher decode.

use std::any::TypeId;

use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, FetchResponse, FindCoordinatorResponse, ListOffsetsResponse,
    MetadataResponse, ProduceResponse,
};

use super::{BOOL, BYTES, Field, I16, I32, I64, Id, Kind, Layout, STR, UUID, f, t};

/// `ApiVersionsResponse`, versions 0-4, flexible from version 3.
pub(super) mod api_versions {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(3),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I16, 0, 4),                                                  // error_code
        f(Kind::Array(&Kind::Struct(API_VERSION)), 0, 4),              // api_keys
        f(I32, 1, 4),                                                  // throttle_time_ms
        t(0, Kind::Array(&Kind::Struct(SUPPORTED_FEATURE_KEY)), 0, 4), // supported_features
        t(1, I64, 0, 4),                                               // finalized_features_epoch
        t(2, Kind::Array(&Kind::Struct(FINALIZED_FEATURE_KEY)), 0, 4), // finalized_features
        t(3, BOOL, 0, 4),                                              // zk_migration_ready
    ];
    /// `ApiVersion`.
    const API_VERSION: &[Field] = &[
        f(I16, 0, 4), // api_key
        f(I16, 0, 4), // min_version
        f(I16, 0, 4), // max_version
    ];
    /// `SupportedFeatureKey`.
    const SUPPORTED_FEATURE_KEY: &[Field] = &[
        f(STR, 3, 4), // name
        f(I16, 3, 4), // min_version
        f(I16, 3, 4), // max_version
    ];
    /// `FinalizedFeatureKey`.
    const FINALIZED_FEATURE_KEY: &[Field] = &[
        f(STR, 3, 4), // name
        f(I16, 3, 4), // max_version_level
        f(I16, 3, 4), // min_version_level
    ];
}

/// `MetadataResponse`, versions 0-13, flexible from version 9.
pub(super) mod metadata {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(9),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 3, 13),                                                  // throttle_time_ms
        f(Kind::Array(&Kind::Struct(METADATA_RESPONSE_BROKER)), 0, 13), // brokers
        f(STR, 2, 13),                                                  // cluster_id
        f(I32, 1, 13),                                                  // controller_id
        f(Kind::Array(&Kind::Struct(METADATA_RESPONSE_TOPIC)), 0, 13),  // topics
        f(I32, 8, 10),  // cluster_authorized_operations
        f(I16, 13, 13), // error_code
    ];
    /// `MetadataResponseBroker`.
    const METADATA_RESPONSE_BROKER: &[Field] = &[
        f(I32, 0, 13), // node_id
        f(STR, 0, 13), // host
        f(I32, 0, 13), // port
        f(STR, 1, 13), // rack
    ];
    /// `MetadataResponseTopic`.
    const METADATA_RESPONSE_TOPIC: &[Field] = &[
        f(I16, 0, 13),   // error_code
        f(STR, 0, 13),   // name
        f(UUID, 10, 13), // topic_id
        f(BOOL, 1, 13),  // is_internal
        f(
            Kind::Array(&Kind::Struct(METADATA_RESPONSE_PARTITION)),
            0,
            13,
        ), // partitions
        f(I32, 8, 13),   // topic_authorized_operations
    ];
    /// `MetadataResponsePartition`.
    const METADATA_RESPONSE_PARTITION: &[Field] = &[
        f(I16, 0, 13),               // error_code
        f(I32, 0, 13),               // partition_index
        f(I32, 0, 13),               // leader_id
        f(I32, 7, 13),               // leader_epoch
        f(Kind::Array(&I32), 0, 13), // replica_nodes
        f(Kind::Array(&I32), 0, 13), // isr_nodes
        f(Kind::Array(&I32), 5, 13), // offline_replicas
    ];
}

/// `ProduceResponse`, versions 3-13, flexible from version 9.
pub(super) mod produce {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(9),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(Kind::Array(&Kind::Struct(TOPIC_PRODUCE_RESPONSE)), 3, 13), // responses
        f(I32, 3, 13),                                                // throttle_time_ms
        t(0, Kind::Array(&Kind::Struct(NODE_ENDPOINT)), 10, 13),      // node_endpoints
    ];
    /// `TopicProduceResponse`.
    const TOPIC_PRODUCE_RESPONSE: &[Field] = &[
        f(STR, 3, 12),   // name
        f(UUID, 13, 13), // topic_id
        f(
            Kind::Array(&Kind::Struct(PARTITION_PRODUCE_RESPONSE)),
            3,
            13,
        ), // partition_responses
    ];
    /// `NodeEndpoint`.
    const NODE_ENDPOINT: &[Field] = &[
        f(I32, 10, 13), // node_id
        f(STR, 10, 13), // host
        f(I32, 10, 13), // port
        f(STR, 10, 13), // rack
    ];
    /// `PartitionProduceResponse`.
    const PARTITION_PRODUCE_RESPONSE: &[Field] = &[
        f(I32, 3, 13), // index
        f(I16, 3, 13), // error_code
        f(I64, 3, 13), // base_offset
        f(I64, 3, 13), // log_append_time_ms
        f(I64, 5, 13), // log_start_offset
        f(
            Kind::Array(&Kind::Struct(BATCH_INDEX_AND_ERROR_MESSAGE)),
            8,
            13,
        ), // record_errors
        f(STR, 8, 13), // error_message
        t(0, Kind::Struct(LEADER_ID_AND_EPOCH), 10, 13), // current_leader
    ];
    /// `BatchIndexAndErrorMessage`.
    const BATCH_INDEX_AND_ERROR_MESSAGE: &[Field] = &[
        f(I32, 8, 13), // batch_index
        f(STR, 8, 13), // batch_index_error_message
    ];
    /// `LeaderIdAndEpoch`.
    const LEADER_ID_AND_EPOCH: &[Field] = &[
        f(I32, 10, 13), // leader_id
        f(I32, 10, 13), // leader_epoch
    ];
}

/// `FetchResponse`, versions 4-18, flexible from version 12.
pub(super) mod fetch {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(12),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 4, 18),                                                  // throttle_time_ms
        f(I16, 7, 18),                                                  // error_code
        f(I32, 7, 18),                                                  // session_id
        f(Kind::Array(&Kind::Struct(FETCHABLE_TOPIC_RESPONSE)), 4, 18), // responses
        t(0, Kind::Array(&Kind::Struct(NODE_ENDPOINT)), 16, 18),        // node_endpoints
    ];
    /// `FetchableTopicResponse`.
    const FETCHABLE_TOPIC_RESPONSE: &[Field] = &[
        f(STR, 4, 12),                                        // topic
        f(UUID, 13, 18),                                      // topic_id
        f(Kind::Array(&Kind::Struct(PARTITION_DATA)), 4, 18), // partitions
    ];
    /// `NodeEndpoint`.
    const NODE_ENDPOINT: &[Field] = &[
        f(I32, 16, 18), // node_id
        f(STR, 16, 18), // host
        f(I32, 16, 18), // port
        f(STR, 16, 18), // rack
    ];
    /// `PartitionData`.
    const PARTITION_DATA: &[Field] = &[
        f(I32, 4, 18),                                             // partition_index
        f(I16, 4, 18),                                             // error_code
        f(I64, 4, 18),                                             // high_watermark
        f(I64, 4, 18),                                             // last_stable_offset
        f(I64, 5, 18),                                             // log_start_offset
        f(Kind::Array(&Kind::Struct(ABORTED_TRANSACTION)), 4, 18), // aborted_transactions
        f(I32, 11, 18),                                            // preferred_read_replica
        f(BYTES, 4, 18),                                           // records
        t(0, Kind::Struct(EPOCH_END_OFFSET), 4, 18),               // diverging_epoch
        t(1, Kind::Struct(LEADER_ID_AND_EPOCH), 4, 18),            // current_leader
        t(2, Kind::Struct(SNAPSHOT_ID), 4, 18),                    // snapshot_id
    ];
    /// `AbortedTransaction`.
    const ABORTED_TRANSACTION: &[Field] = &[
        f(I64, 4, 18), // producer_id
        f(I64, 4, 18), // first_offset
    ];
    /// `EpochEndOffset`.
    const EPOCH_END_OFFSET: &[Field] = &[
        f(I32, 12, 18), // epoch
        f(I64, 12, 18), // end_offset
    ];
    /// `LeaderIdAndEpoch`.
    const LEADER_ID_AND_EPOCH: &[Field] = &[
        f(I32, 12, 18), // leader_id
        f(I32, 12, 18), // leader_epoch
    ];
    /// `SnapshotId`.
    const SNAPSHOT_ID: &[Field] = &[
        f(I64, 4, 18), // end_offset
        f(I32, 4, 18), // epoch
    ];
}

/// `ListOffsetsResponse`, versions 1-10, flexible from version 6.
pub(super) mod list_offsets {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(6),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 2, 10), // throttle_time_ms
        f(
            Kind::Array(&Kind::Struct(LIST_OFFSETS_TOPIC_RESPONSE)),
            1,
            10,
        ), // topics
    ];
    /// `ListOffsetsTopicResponse`.
    const LIST_OFFSETS_TOPIC_RESPONSE: &[Field] = &[
        f(STR, 1, 10), // name
        f(
            Kind::Array(&Kind::Struct(LIST_OFFSETS_PARTITION_RESPONSE)),
            1,
            10,
        ), // partitions
    ];
    /// `ListOffsetsPartitionResponse`.
    const LIST_OFFSETS_PARTITION_RESPONSE: &[Field] = &[
        f(I32, 1, 10), // partition_index
        f(I16, 1, 10), // error_code
        f(I64, 1, 10), // timestamp
        f(I64, 1, 10), // offset
        f(I32, 4, 10), // leader_epoch
    ];
}

/// `FindCoordinatorResponse`, versions 0-6, flexible from version 3.
pub(super) mod find_coordinator {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(3),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 1, 6),                                     // throttle_time_ms
        f(I16, 0, 3),                                     // error_code
        f(STR, 1, 3),                                     // error_message
        f(I32, 0, 3),                                     // node_id
        f(STR, 0, 3),                                     // host
        f(I32, 0, 3),                                     // port
        f(Kind::Array(&Kind::Struct(COORDINATOR)), 4, 6), // coordinators
    ];
    /// `Coordinator`.
    const COORDINATOR: &[Field] = &[
        f(STR, 4, 6), // key
        f(I32, 4, 6), // node_id
        f(STR, 4, 6), // host
        f(I32, 4, 6), // port
        f(I16, 4, 6), // error_code
        f(STR, 4, 6), // error_message
    ];
}

/// The layout of the message whose type or API key is `id`, if this file has it.
pub(super) fn layout(id: Id) -> Option<&'static Layout> {
    let layouts: [(TypeId, Option<ApiKey>, &'static Layout); 6] = [
        (
            TypeId::of::<ApiVersionsResponse>(),
            Some(ApiKey::ApiVersions),
            &api_versions::LAYOUT,
        ),
        (
            TypeId::of::<MetadataResponse>(),
            Some(ApiKey::Metadata),
            &metadata::LAYOUT,
        ),
        (
            TypeId::of::<ProduceResponse>(),
            Some(ApiKey::Produce),
            &produce::LAYOUT,
        ),
        (
            TypeId::of::<FetchResponse>(),
            Some(ApiKey::Fetch),
            &fetch::LAYOUT,
        ),
        (
            TypeId::of::<ListOffsetsResponse>(),
            Some(ApiKey::ListOffsets),
            &list_offsets::LAYOUT,
        ),
        (
            TypeId::of::<FindCoordinatorResponse>(),
            Some(ApiKey::FindCoordinator),
            &find_coordinator::LAYOUT,
        ),
    ];
    layouts
        .into_iter()
        .find(|&(t, k, _)| id == Id::Type(t) || k.is_some_and(|k| id == Id::Api(k)))
        .map(|(_, _, l)| l)
}
