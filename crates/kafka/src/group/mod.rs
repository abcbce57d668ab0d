//! Kafka groups: generic membership with any protocol type ([`membership`], used by Connect
//! workers with protocol type `connect`), and the consumer group protocol ([`consumer`]).

pub mod consumer;
mod error;
pub mod membership;

pub use error::GroupError;
pub use membership::{
    AssignRequest, Generation, GroupEvent, GroupMember, Joined, MemberMetadata, MembershipConfig,
    PrepareJoin, Protocol,
};
