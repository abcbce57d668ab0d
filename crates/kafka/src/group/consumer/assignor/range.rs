//! Java's `RangeAssignor` (without rack awareness): per topic, consecutive ranges of
//! partitions to the subscribed members in member order, the first ones getting one more.

use std::collections::BTreeMap;

use super::{Assignor, AssignorMember, RebalanceProtocol, member_order};
use crate::consumer::TopicPartition;

/// `range`: for each topic, members subscribed to it (static ones first by instance id, then
/// by member id) get consecutive partitions; with `n` partitions and `c` members, the first
/// `n % c` members get `n / c + 1`, the others `n / c`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RangeAssignor;

impl Assignor for RangeAssignor {
    fn name(&self) -> &'static str {
        "range"
    }

    fn supported_protocols(&self) -> &'static [RebalanceProtocol] {
        &[RebalanceProtocol::Eager]
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[AssignorMember],
    ) -> BTreeMap<String, Vec<TopicPartition>> {
        let mut assignment: BTreeMap<String, Vec<TopicPartition>> = members
            .iter()
            .map(|m| (m.member_id.clone(), Vec::new()))
            .collect();
        for (topic, &count) in partitions_per_topic {
            let mut consumers: Vec<&AssignorMember> = members
                .iter()
                .filter(|m| m.subscription.topics.contains(topic))
                .collect();
            if consumers.is_empty() || count <= 0 {
                continue;
            }
            consumers.sort_by(|a, b| member_order(a, b));
            let n = usize::try_from(count).unwrap_or_default();
            let (each, extra) = (n / consumers.len(), n % consumers.len());
            let mut next = 0;
            for (i, consumer) in consumers.iter().enumerate() {
                let take = each + usize::from(i < extra);
                let partitions = assignment.entry(consumer.member_id.clone()).or_default();
                for p in next..next + take {
                    let p = i32::try_from(p).expect("below the i32 partition count");
                    partitions.push(TopicPartition::new(topic.as_str(), p));
                }
                next += take;
            }
        }
        assignment
    }
}
