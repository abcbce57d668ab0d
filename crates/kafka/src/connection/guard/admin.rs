//! Wire layouts of the admin responses.

use std::any::TypeId;

use kafka_protocol::messages::{
    ApiKey, CreateAclsResponse, CreatePartitionsResponse, CreateTopicsResponse,
    DeleteRecordsResponse, DeleteTopicsResponse, DescribeAclsResponse, DescribeClusterResponse,
    DescribeConfigsResponse, IncrementalAlterConfigsResponse,
};

use super::{BOOL, Field, I8, I16, I32, I64, Id, Kind, Layout, STR, UUID, f, t};

/// `CreateTopicsResponse`, versions 2-7, flexible from version 5.
pub(super) mod create_topics {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(5),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 2, 7),                                                // throttle_time_ms
        f(Kind::Array(&Kind::Struct(CREATABLE_TOPIC_RESULT)), 2, 7), // topics
    ];
    /// `CreatableTopicResult`.
    const CREATABLE_TOPIC_RESULT: &[Field] = &[
        f(STR, 2, 7),                                                 // name
        f(UUID, 7, 7),                                                // topic_id
        f(I16, 2, 7),                                                 // error_code
        f(STR, 2, 7),                                                 // error_message
        f(I32, 5, 7),                                                 // num_partitions
        f(I16, 5, 7),                                                 // replication_factor
        f(Kind::Array(&Kind::Struct(CREATABLE_TOPIC_CONFIGS)), 5, 7), // configs
        t(0, I16, 2, 7),                                              // topic_config_error_code
    ];
    /// `CreatableTopicConfigs`.
    const CREATABLE_TOPIC_CONFIGS: &[Field] = &[
        f(STR, 5, 7),  // name
        f(STR, 5, 7),  // value
        f(BOOL, 5, 7), // read_only
        f(I8, 5, 7),   // config_source
        f(BOOL, 5, 7), // is_sensitive
    ];
}

/// `DeleteTopicsResponse`, versions 1-6, flexible from version 4.
pub(super) mod delete_topics {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(4),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 1, 6),                                                // throttle_time_ms
        f(Kind::Array(&Kind::Struct(DELETABLE_TOPIC_RESULT)), 1, 6), // responses
    ];
    /// `DeletableTopicResult`.
    const DELETABLE_TOPIC_RESULT: &[Field] = &[
        f(STR, 1, 6),  // name
        f(UUID, 6, 6), // topic_id
        f(I16, 1, 6),  // error_code
        f(STR, 5, 6),  // error_message
    ];
}

/// `DescribeConfigsResponse`, versions 1-4, flexible from version 4.
pub(super) mod describe_configs {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(4),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 1, 4),                                                 // throttle_time_ms
        f(Kind::Array(&Kind::Struct(DESCRIBE_CONFIGS_RESULT)), 1, 4), // results
    ];
    /// `DescribeConfigsResult`.
    const DESCRIBE_CONFIGS_RESULT: &[Field] = &[
        f(I16, 1, 4), // error_code
        f(STR, 1, 4), // error_message
        f(I8, 1, 4),  // resource_type
        f(STR, 1, 4), // resource_name
        f(
            Kind::Array(&Kind::Struct(DESCRIBE_CONFIGS_RESOURCE_RESULT)),
            1,
            4,
        ), // configs
    ];
    /// `DescribeConfigsResourceResult`.
    const DESCRIBE_CONFIGS_RESOURCE_RESULT: &[Field] = &[
        f(STR, 1, 4),                                                  // name
        f(STR, 1, 4),                                                  // value
        f(BOOL, 1, 4),                                                 // read_only
        f(I8, 1, 4),                                                   // config_source
        f(BOOL, 1, 4),                                                 // is_sensitive
        f(Kind::Array(&Kind::Struct(DESCRIBE_CONFIGS_SYNONYM)), 1, 4), // synonyms
        f(I8, 3, 4),                                                   // config_type
        f(STR, 3, 4),                                                  // documentation
    ];
    /// `DescribeConfigsSynonym`.
    const DESCRIBE_CONFIGS_SYNONYM: &[Field] = &[
        f(STR, 1, 4), // name
        f(STR, 1, 4), // value
        f(I8, 1, 4),  // source
    ];
}

/// `IncrementalAlterConfigsResponse`, versions 0-1, flexible from version 1.
pub(super) mod incremental_alter_configs {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(1),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 0, 1), // throttle_time_ms
        f(
            Kind::Array(&Kind::Struct(ALTER_CONFIGS_RESOURCE_RESPONSE)),
            0,
            1,
        ), // responses
    ];
    /// `AlterConfigsResourceResponse`.
    const ALTER_CONFIGS_RESOURCE_RESPONSE: &[Field] = &[
        f(I16, 0, 1), // error_code
        f(STR, 0, 1), // error_message
        f(I8, 0, 1),  // resource_type
        f(STR, 0, 1), // resource_name
    ];
}

/// `CreatePartitionsResponse`, versions 0-3, flexible from version 2.
pub(super) mod create_partitions {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(2),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 0, 3), // throttle_time_ms
        f(
            Kind::Array(&Kind::Struct(CREATE_PARTITIONS_TOPIC_RESULT)),
            0,
            3,
        ), // results
    ];
    /// `CreatePartitionsTopicResult`.
    const CREATE_PARTITIONS_TOPIC_RESULT: &[Field] = &[
        f(STR, 0, 3), // name
        f(I16, 0, 3), // error_code
        f(STR, 0, 3), // error_message
    ];
}

/// `DescribeClusterResponse`, versions 0-2, flexible from version 0.
pub(super) mod describe_cluster {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(0),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 0, 2),                                                 // throttle_time_ms
        f(I16, 0, 2),                                                 // error_code
        f(STR, 0, 2),                                                 // error_message
        f(I8, 1, 2),                                                  // endpoint_type
        f(STR, 0, 2),                                                 // cluster_id
        f(I32, 0, 2),                                                 // controller_id
        f(Kind::Array(&Kind::Struct(DESCRIBE_CLUSTER_BROKER)), 0, 2), // brokers
        f(I32, 0, 2), // cluster_authorized_operations
    ];
    /// `DescribeClusterBroker`.
    const DESCRIBE_CLUSTER_BROKER: &[Field] = &[
        f(I32, 0, 2),  // broker_id
        f(STR, 0, 2),  // host
        f(I32, 0, 2),  // port
        f(STR, 0, 2),  // rack
        f(BOOL, 2, 2), // is_fenced
    ];
}

/// `DescribeAclsResponse`, versions 1-3, flexible from version 2.
pub(super) mod describe_acls {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(2),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 1, 3),                                                // throttle_time_ms
        f(I16, 1, 3),                                                // error_code
        f(STR, 1, 3),                                                // error_message
        f(Kind::Array(&Kind::Struct(DESCRIBE_ACLS_RESOURCE)), 1, 3), // resources
    ];
    /// `DescribeAclsResource`.
    const DESCRIBE_ACLS_RESOURCE: &[Field] = &[
        f(I8, 1, 3),                                          // resource_type
        f(STR, 1, 3),                                         // resource_name
        f(I8, 1, 3),                                          // pattern_type
        f(Kind::Array(&Kind::Struct(ACL_DESCRIPTION)), 1, 3), // acls
    ];
    /// `AclDescription`.
    const ACL_DESCRIPTION: &[Field] = &[
        f(STR, 1, 3), // principal
        f(STR, 1, 3), // host
        f(I8, 1, 3),  // operation
        f(I8, 1, 3),  // permission_type
    ];
}

/// `CreateAclsResponse`, versions 1-3, flexible from version 2.
pub(super) mod create_acls {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(2),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 1, 3),                                             // throttle_time_ms
        f(Kind::Array(&Kind::Struct(ACL_CREATION_RESULT)), 1, 3), // results
    ];
    /// `AclCreationResult`.
    const ACL_CREATION_RESULT: &[Field] = &[
        f(I16, 1, 3), // error_code
        f(STR, 1, 3), // error_message
    ];
}

/// `DeleteRecordsResponse`, versions 0-2, flexible from version 2.
pub(super) mod delete_records {
    use super::*;

    pub(super) const LAYOUT: Layout = Layout {
        flexible: Some(2),
        fields: FIELDS,
    };

    const FIELDS: &[Field] = &[
        f(I32, 0, 2), // throttle_time_ms
        f(
            Kind::Array(&Kind::Struct(DELETE_RECORDS_TOPIC_RESULT)),
            0,
            2,
        ), // topics
    ];
    /// `DeleteRecordsTopicResult`.
    const DELETE_RECORDS_TOPIC_RESULT: &[Field] = &[
        f(STR, 0, 2), // name
        f(
            Kind::Array(&Kind::Struct(DELETE_RECORDS_PARTITION_RESULT)),
            0,
            2,
        ), // partitions
    ];
    /// `DeleteRecordsPartitionResult`.
    const DELETE_RECORDS_PARTITION_RESULT: &[Field] = &[
        f(I32, 0, 2), // partition_index
        f(I64, 0, 2), // low_watermark
        f(I16, 0, 2), // error_code
    ];
}

/// The layout of the message whose type or API key is `id`, if this file has it.
pub(super) fn layout(id: Id) -> Option<&'static Layout> {
    let layouts: [(TypeId, Option<ApiKey>, &'static Layout); 9] = [
        (
            TypeId::of::<CreateTopicsResponse>(),
            Some(ApiKey::CreateTopics),
            &create_topics::LAYOUT,
        ),
        (
            TypeId::of::<DeleteTopicsResponse>(),
            Some(ApiKey::DeleteTopics),
            &delete_topics::LAYOUT,
        ),
        (
            TypeId::of::<DescribeConfigsResponse>(),
            Some(ApiKey::DescribeConfigs),
            &describe_configs::LAYOUT,
        ),
        (
            TypeId::of::<IncrementalAlterConfigsResponse>(),
            Some(ApiKey::IncrementalAlterConfigs),
            &incremental_alter_configs::LAYOUT,
        ),
        (
            TypeId::of::<CreatePartitionsResponse>(),
            Some(ApiKey::CreatePartitions),
            &create_partitions::LAYOUT,
        ),
        (
            TypeId::of::<DescribeClusterResponse>(),
            Some(ApiKey::DescribeCluster),
            &describe_cluster::LAYOUT,
        ),
        (
            TypeId::of::<DescribeAclsResponse>(),
            Some(ApiKey::DescribeAcls),
            &describe_acls::LAYOUT,
        ),
        (
            TypeId::of::<CreateAclsResponse>(),
            Some(ApiKey::CreateAcls),
            &create_acls::LAYOUT,
        ),
        (
            TypeId::of::<DeleteRecordsResponse>(),
            Some(ApiKey::DeleteRecords),
            &delete_records::LAYOUT,
        ),
    ];
    layouts
        .into_iter()
        .find(|&(t, k, _)| id == Id::Type(t) || k.is_some_and(|k| id == Id::Api(k)))
        .map(|(_, _, l)| l)
}
