//! Access control lists: describing and creating ACL bindings.

use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::{CreateAclsRequest, DescribeAclsRequest};

use super::{Admin, str_bytes};
use crate::error::{Error, Result, check};

/// Defines a protocol code enum: named variants with Java's codes plus `Unknown(code)`.
macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A code this client does not know.
            Unknown(i8),
        }

        impl $name {
            /// The protocol code.
            pub fn code(self) -> i8 {
                match self {
                    $($name::$variant => $code,)*
                    $name::Unknown(code) => code,
                }
            }
        }

        impl From<i8> for $name {
            fn from(code: i8) -> Self {
                match code {
                    $($code => $name::$variant,)*
                    other => $name::Unknown(other),
                }
            }
        }
    };
}

code_enum!(
    /// What kind of resource an ACL protects (`ResourceType` in Java).
    ResourceType {
        /// Matches any type (filters only).
        Any = 1,
        /// A topic.
        Topic = 2,
        /// A consumer or Connect group.
        Group = 3,
        /// The cluster.
        Cluster = 4,
        /// A transactional id.
        TransactionalId = 5,
        /// A delegation token.
        DelegationToken = 6,
        /// A user.
        User = 7,
    }
);

code_enum!(
    /// How an ACL's resource name matches (`PatternType` in Java).
    PatternType {
        /// Matches any pattern type (filters only).
        Any = 1,
        /// Literal or prefixed bindings that match a name (filters only).
        Match = 2,
        /// The exact name (or `*`).
        Literal = 3,
        /// Every name with this prefix.
        Prefixed = 4,
    }
);

code_enum!(
    /// The operation an ACL allows or denies (`AclOperation` in Java).
    AclOperation {
        /// Matches any operation (filters only).
        Any = 1,
        /// Every operation.
        All = 2,
        /// Read.
        Read = 3,
        /// Write.
        Write = 4,
        /// Create.
        Create = 5,
        /// Delete.
        Delete = 6,
        /// Alter.
        Alter = 7,
        /// Describe.
        Describe = 8,
        /// Inter-broker cluster actions.
        ClusterAction = 9,
        /// Describe configs.
        DescribeConfigs = 10,
        /// Alter configs.
        AlterConfigs = 11,
        /// Idempotent produce.
        IdempotentWrite = 12,
        /// Create delegation tokens.
        CreateTokens = 13,
        /// Describe delegation tokens.
        DescribeTokens = 14,
        /// Two-phase commit.
        TwoPhaseCommit = 15,
    }
);

code_enum!(
    /// Whether an ACL allows or denies (`AclPermissionType` in Java).
    AclPermission {
        /// Matches both (filters only).
        Any = 1,
        /// Denies.
        Deny = 2,
        /// Allows.
        Allow = 3,
    }
);

/// One ACL: a principal may (not) do an operation on resources from a host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    /// Resource type.
    pub resource_type: ResourceType,
    /// Resource name (or `*`).
    pub resource_name: String,
    /// How the name matches.
    pub pattern_type: PatternType,
    /// Principal, e.g. `User:alice`.
    pub principal: String,
    /// Host, or `*`.
    pub host: String,
    /// Operation.
    pub operation: AclOperation,
    /// Allow or deny.
    pub permission: AclPermission,
}

/// Which ACLs to describe; `None` fields match anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclFilter {
    /// Resource type, or [`ResourceType::Any`].
    pub resource_type: ResourceType,
    /// Resource name.
    pub resource_name: Option<String>,
    /// Pattern type, or [`PatternType::Any`].
    pub pattern_type: PatternType,
    /// Principal.
    pub principal: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// Operation, or [`AclOperation::Any`].
    pub operation: AclOperation,
    /// Permission, or [`AclPermission::Any`].
    pub permission: AclPermission,
}

impl AclFilter {
    /// Matches every ACL.
    pub fn any() -> Self {
        Self {
            resource_type: ResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission: AclPermission::Any,
        }
    }
}

impl Admin {
    /// The ACLs matching `filter` (DescribeAcls). A cluster without an authorizer answers
    /// `Kafka { code: SecurityDisabled }`.
    pub async fn describe_acls(&self, filter: &AclFilter) -> Result<Vec<AclBinding>> {
        let request = DescribeAclsRequest::default()
            .with_resource_type_filter(filter.resource_type.code())
            .with_resource_name_filter(filter.resource_name.as_deref().map(str_bytes))
            .with_pattern_type_filter(filter.pattern_type.code())
            .with_principal_filter(filter.principal.as_deref().map(str_bytes))
            .with_host_filter(filter.host.as_deref().map(str_bytes))
            .with_operation(filter.operation.code())
            .with_permission_type(filter.permission.code());
        let response = self
            .cluster
            .retry("DescribeAcls", || async {
                let response = self.cluster.any_connection().await?.send(&request).await?;
                check(response.error_code, response.error_message.as_deref())?;
                Ok(response)
            })
            .await?;
        Ok(response
            .resources
            .iter()
            .flat_map(|r| {
                r.acls.iter().map(|a| AclBinding {
                    resource_type: r.resource_type.into(),
                    resource_name: r.resource_name.to_string(),
                    pattern_type: r.pattern_type.into(),
                    principal: a.principal.to_string(),
                    host: a.host.to_string(),
                    operation: a.operation.into(),
                    permission: a.permission_type.into(),
                })
            })
            .collect())
    }

    /// Creates ACLs (CreateAcls); one result per binding, in order.
    pub async fn create_acls(&self, acls: &[AclBinding]) -> Result<Vec<Result<()>>> {
        let request = CreateAclsRequest::default().with_creations(
            acls.iter()
                .map(|a| {
                    AclCreation::default()
                        .with_resource_type(a.resource_type.code())
                        .with_resource_name(str_bytes(&a.resource_name))
                        .with_resource_pattern_type(a.pattern_type.code())
                        .with_principal(str_bytes(&a.principal))
                        .with_host(str_bytes(&a.host))
                        .with_operation(a.operation.code())
                        .with_permission_type(a.permission.code())
                })
                .collect(),
        );
        let response = self
            .cluster
            .retry("CreateAcls", || async {
                self.cluster.any_connection().await?.send(&request).await
            })
            .await?;
        if response.results.len() != acls.len() {
            return Err(Error::Protocol(format!(
                "CreateAcls answered {} results for {} bindings",
                response.results.len(),
                acls.len()
            )));
        }
        Ok(response
            .results
            .iter()
            .map(|r| check(r.error_code, r.error_message.as_deref()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        assert_eq!(ResourceType::Topic.code(), 2);
        assert_eq!(ResourceType::from(7), ResourceType::User);
        assert_eq!(PatternType::from(4), PatternType::Prefixed);
        assert_eq!(AclOperation::from(10), AclOperation::DescribeConfigs);
        assert_eq!(AclPermission::Allow.code(), 3);
        assert_eq!(AclOperation::from(99), AclOperation::Unknown(99));
        assert_eq!(AclOperation::Unknown(99).code(), 99);
    }
}
