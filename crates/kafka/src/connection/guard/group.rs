//! Wire layouts of the group responses and of the `consumer` protocol's embedded metadata.

use std::any::TypeId;

use kafka_protocol::messages::{
    ApiKey, ConsumerProtocolAssignment, ConsumerProtocolSubscription, DescribeGroupsResponse,
    JoinGroupResponse, LeaveGroupResponse, ListGroupsResponse, OffsetCommitResponse,
    OffsetDeleteResponse, OffsetFetchResponse,
};

use super::{BOOL, BYTES, Field, I16, I32, I64, Id, Kind, Layout, STR, UUID, f};

/// `JoinGroupResponse`, versions 0-9, flexible from version 6.
pub(super) mod join_group {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(6),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 2, 9),                                                    // throttle_time_ms
        f(I16, 0, 9),                                                    // error_code
        f(I32, 0, 9),                                                    // generation_id
        f(STR, 7, 9),                                                    // protocol_type
        f(STR, 0, 9),                                                    // protocol_name
        f(STR, 0, 9),                                                    // leader
        f(BOOL, 9, 9),                                                   // skip_assignment
        f(STR, 0, 9),                                                    // member_id
        f(Kind::Array(&Kind::Struct(JOIN_GROUP_RESPONSE_MEMBER)), 0, 9), // members
    ];
    /// `JoinGroupResponseMember`.
    const JOIN_GROUP_RESPONSE_MEMBER: &[Field] = &[
        f(STR, 0, 9),   // member_id
        f(STR, 5, 9),   // group_instance_id
        f(BYTES, 0, 9), // metadata
    ];
}

/// `LeaveGroupResponse`, versions 0-5, flexible from version 4.
pub(super) mod leave_group {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(4),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 1, 5),                                         // throttle_time_ms
        f(I16, 0, 5),                                         // error_code
        f(Kind::Array(&Kind::Struct(MEMBER_RESPONSE)), 3, 5), // members
    ];
    /// `MemberResponse`.
    const MEMBER_RESPONSE: &[Field] = &[
        f(STR, 3, 5), // member_id
        f(STR, 3, 5), // group_instance_id
        f(I16, 3, 5), // error_code
    ];
}

/// `OffsetCommitResponse`, versions 2-10, flexible from version 8.
pub(super) mod offset_commit {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(8),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 3, 10), // throttle_time_ms
        f(
            Kind::Array(&Kind::Struct(OFFSET_COMMIT_RESPONSE_TOPIC)),
            2,
            10,
        ), // topics
    ];
    /// `OffsetCommitResponseTopic`.
    const OFFSET_COMMIT_RESPONSE_TOPIC: &[Field] = &[
        f(STR, 2, 9),    // name
        f(UUID, 10, 10), // topic_id
        f(
            Kind::Array(&Kind::Struct(OFFSET_COMMIT_RESPONSE_PARTITION)),
            2,
            10,
        ), // partitions
    ];
    /// `OffsetCommitResponsePartition`.
    const OFFSET_COMMIT_RESPONSE_PARTITION: &[Field] = &[
        f(I32, 2, 10), // partition_index
        f(I16, 2, 10), // error_code
    ];
}

/// `OffsetFetchResponse`, versions 1-10, flexible from version 6.
pub(super) mod offset_fetch {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(6),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 3, 10), // throttle_time_ms
        f(
            Kind::Array(&Kind::Struct(OFFSET_FETCH_RESPONSE_TOPIC)),
            1,
            7,
        ), // topics
        f(I16, 2, 7),  // error_code
        f(
            Kind::Array(&Kind::Struct(OFFSET_FETCH_RESPONSE_GROUP)),
            8,
            10,
        ), // groups
    ];
    /// `OffsetFetchResponseTopic`.
    const OFFSET_FETCH_RESPONSE_TOPIC: &[Field] = &[
        f(STR, 1, 7), // name
        f(
            Kind::Array(&Kind::Struct(OFFSET_FETCH_RESPONSE_PARTITION)),
            1,
            7,
        ), // partitions
    ];
    /// `OffsetFetchResponseGroup`.
    const OFFSET_FETCH_RESPONSE_GROUP: &[Field] = &[
        f(STR, 8, 10), // group_id
        f(
            Kind::Array(&Kind::Struct(OFFSET_FETCH_RESPONSE_TOPICS)),
            8,
            10,
        ), // topics
        f(I16, 8, 10), // error_code
    ];
    /// `OffsetFetchResponsePartition`.
    const OFFSET_FETCH_RESPONSE_PARTITION: &[Field] = &[
        f(I32, 1, 7), // partition_index
        f(I64, 1, 7), // committed_offset
        f(I32, 5, 7), // committed_leader_epoch
        f(STR, 1, 7), // metadata
        f(I16, 1, 7), // error_code
    ];
    /// `OffsetFetchResponseTopics`.
    const OFFSET_FETCH_RESPONSE_TOPICS: &[Field] = &[
        f(STR, 8, 9),    // name
        f(UUID, 10, 10), // topic_id
        f(
            Kind::Array(&Kind::Struct(OFFSET_FETCH_RESPONSE_PARTITIONS)),
            8,
            10,
        ), // partitions
    ];
    /// `OffsetFetchResponsePartitions`.
    const OFFSET_FETCH_RESPONSE_PARTITIONS: &[Field] = &[
        f(I32, 8, 10), // partition_index
        f(I64, 8, 10), // committed_offset
        f(I32, 8, 10), // committed_leader_epoch
        f(STR, 8, 10), // metadata
        f(I16, 8, 10), // error_code
    ];
}

/// `DescribeGroupsResponse`, versions 0-6, flexible from version 5.
pub(super) mod describe_groups {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(5),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 1, 6),                                         // throttle_time_ms
        f(Kind::Array(&Kind::Struct(DESCRIBED_GROUP)), 0, 6), // groups
    ];
    /// `DescribedGroup`.
    const DESCRIBED_GROUP: &[Field] = &[
        f(I16, 0, 6),                                                // error_code
        f(STR, 6, 6),                                                // error_message
        f(STR, 0, 6),                                                // group_id
        f(STR, 0, 6),                                                // group_state
        f(STR, 0, 6),                                                // protocol_type
        f(STR, 0, 6),                                                // protocol_data
        f(Kind::Array(&Kind::Struct(DESCRIBED_GROUP_MEMBER)), 0, 6), // members
        f(I32, 3, 6),                                                // authorized_operations
    ];
    /// `DescribedGroupMember`.
    const DESCRIBED_GROUP_MEMBER: &[Field] = &[
        f(STR, 0, 6),   // member_id
        f(STR, 4, 6),   // group_instance_id
        f(STR, 0, 6),   // client_id
        f(STR, 0, 6),   // client_host
        f(BYTES, 0, 6), // member_metadata
        f(BYTES, 0, 6), // member_assignment
    ];
}

/// `ListGroupsResponse`, versions 0-5, flexible from version 3.
pub(super) mod list_groups {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(3),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 1, 5),                                      // throttle_time_ms
        f(I16, 0, 5),                                      // error_code
        f(Kind::Array(&Kind::Struct(LISTED_GROUP)), 0, 5), // groups
    ];
    /// `ListedGroup`.
    const LISTED_GROUP: &[Field] = &[
        f(STR, 0, 5), // group_id
        f(STR, 0, 5), // protocol_type
        f(STR, 4, 5), // group_state
        f(STR, 5, 5), // group_type
    ];
}

/// `OffsetDeleteResponse`, versions 0-0, never flexible.
pub(super) mod offset_delete {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: None,
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I16, 0, 0), // error_code
        f(I32, 0, 0), // throttle_time_ms
        f(
            Kind::Array(&Kind::Struct(OFFSET_DELETE_RESPONSE_TOPIC)),
            0,
            0,
        ), // topics
    ];
    /// `OffsetDeleteResponseTopic`.
    const OFFSET_DELETE_RESPONSE_TOPIC: &[Field] = &[
        f(STR, 0, 0), // name
        f(
            Kind::Array(&Kind::Struct(OFFSET_DELETE_RESPONSE_PARTITION)),
            0,
            0,
        ), // partitions
    ];
    /// `OffsetDeleteResponsePartition`.
    const OFFSET_DELETE_RESPONSE_PARTITION: &[Field] = &[
        f(I32, 0, 0), // partition_index
        f(I16, 0, 0), // error_code
    ];
}

/// `ConsumerProtocolSubscription`, versions 0-3, never flexible.
pub(super) mod consumer_protocol_subscription {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: None,
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(Kind::Array(&STR), 0, 3),                           // topics
        f(BYTES, 0, 3),                                       // user_data
        f(Kind::Array(&Kind::Struct(TOPIC_PARTITION)), 1, 3), // owned_partitions
        f(I32, 2, 3),                                         // generation_id
        f(STR, 3, 3),                                         // rack_id
    ];
    /// `TopicPartition`.
    const TOPIC_PARTITION: &[Field] = &[
        f(STR, 1, 3),               // topic
        f(Kind::Array(&I32), 1, 3), // partitions
    ];
}

/// `ConsumerProtocolAssignment`, versions 0-3, never flexible.
pub(super) mod consumer_protocol_assignment {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: None,
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(Kind::Array(&Kind::Struct(TOPIC_PARTITION)), 0, 3), // assigned_partitions
        f(BYTES, 0, 3),                                       // user_data
    ];
    /// `TopicPartition`.
    const TOPIC_PARTITION: &[Field] = &[
        f(STR, 0, 3),               // topic
        f(Kind::Array(&I32), 0, 3), // partitions
    ];
}

/// The layout of the message whose type or API key is `id`, if this file has it.
pub(super) fn layout(id: Id) -> Option<&'static Layout> {
    let layouts: [(TypeId, Option<ApiKey>, &'static Layout); 9] = [
        (
            TypeId::of::<JoinGroupResponse>(),
            Some(ApiKey::JoinGroup),
            &join_group::LAYOUT,
        ),
        (
            TypeId::of::<LeaveGroupResponse>(),
            Some(ApiKey::LeaveGroup),
            &leave_group::LAYOUT,
        ),
        (
            TypeId::of::<OffsetCommitResponse>(),
            Some(ApiKey::OffsetCommit),
            &offset_commit::LAYOUT,
        ),
        (
            TypeId::of::<OffsetFetchResponse>(),
            Some(ApiKey::OffsetFetch),
            &offset_fetch::LAYOUT,
        ),
        (
            TypeId::of::<DescribeGroupsResponse>(),
            Some(ApiKey::DescribeGroups),
            &describe_groups::LAYOUT,
        ),
        (
            TypeId::of::<ListGroupsResponse>(),
            Some(ApiKey::ListGroups),
            &list_groups::LAYOUT,
        ),
        (
            TypeId::of::<OffsetDeleteResponse>(),
            Some(ApiKey::OffsetDelete),
            &offset_delete::LAYOUT,
        ),
        (
            TypeId::of::<ConsumerProtocolSubscription>(),
            None,
            &consumer_protocol_subscription::LAYOUT,
        ),
        (
            TypeId::of::<ConsumerProtocolAssignment>(),
            None,
            &consumer_protocol_assignment::LAYOUT,
        ),
    ];
    layouts
        .into_iter()
        .find(|&(t, k, _)| id == Id::Type(t) || k.is_some_and(|k| id == Id::Api(k)))
        .map(|(_, _, l)| l)
}
