//! Partition assignors of the `consumer` protocol, with Java's names and results:
//! [`RangeAssignor`] (`range`, eager) and [`CooperativeStickyAssignor`]
//! (`cooperative-sticky`, KIP-429).

mod range;
mod sticky;

use std::collections::BTreeMap;
use std::fmt::Debug;

use bytes::Bytes;

pub use range::RangeAssignor;
pub use sticky::CooperativeStickyAssignor;

use super::protocol::Subscription;
use crate::consumer::TopicPartition;

/// How a group hands partitions over in a rebalance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebalanceProtocol {
    /// Every member gives up all its partitions before rejoining.
    Eager,
    /// Members keep their partitions; only those that move are revoked, and a second
    /// rebalance hands them to their new owners (KIP-429).
    Cooperative,
}

/// A member as an assignor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignorMember {
    /// The member id.
    pub member_id: String,
    /// Its `group.instance.id`, for static members.
    pub group_instance_id: Option<String>,
    /// Its decoded subscription.
    pub subscription: Subscription,
}

/// Computes the group's assignment on the leader (Java's `ConsumerPartitionAssignor`).
pub trait Assignor: Debug + Send + Sync {
    /// The protocol name sent in JoinGroup (`range`, `cooperative-sticky`).
    fn name(&self) -> &'static str;

    /// The rebalance protocols this assignor supports.
    fn supported_protocols(&self) -> &'static [RebalanceProtocol];

    /// The user data of this member's subscription, given the generation it last joined.
    fn user_data(&self, _generation: i32) -> Option<Bytes> {
        None
    }

    /// Assigns the partitions of `partitions_per_topic` (topic → partition count) to
    /// `members`; every member appears in the result, maybe with no partitions.
    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[AssignorMember],
    ) -> BTreeMap<String, Vec<TopicPartition>>;
}

/// The assignor for a `partition.assignment.strategy` entry: a Java class name or the
/// protocol name.
///
/// ```
/// use ferry_kafka::group::consumer::assignor::by_name;
/// assert_eq!(by_name("org.apache.kafka.clients.consumer.RangeAssignor").unwrap().name(), "range");
/// assert_eq!(by_name("cooperative-sticky").unwrap().name(), "cooperative-sticky");
/// assert!(by_name("roundrobin").is_none());
/// ```
pub fn by_name(name: &str) -> Option<Box<dyn Assignor>> {
    match name.trim() {
        "range" | "org.apache.kafka.clients.consumer.RangeAssignor" => {
            Some(Box::new(RangeAssignor))
        }
        "cooperative-sticky" | "org.apache.kafka.clients.consumer.CooperativeStickyAssignor" => {
            Some(Box::new(CooperativeStickyAssignor))
        }
        _ => None,
    }
}

/// Java's member order for assignors: static members first, by instance id, then by member id.
fn member_order(a: &AssignorMember, b: &AssignorMember) -> std::cmp::Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.member_id.cmp(&b.member_id),
    }
}

#[cfg(test)]
mod tests;
