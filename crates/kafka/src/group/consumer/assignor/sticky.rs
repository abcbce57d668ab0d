//! The cooperative sticky assignor (Java's `CooperativeStickyAssignor`, KIP-429): a balanced
//! assignment that moves as few partitions as possible, and withholds the partitions that
//! change owner until their previous owner has revoked them.

use std::collections::{BTreeMap, BTreeSet};

use bytes::{Buf, Bytes};

use super::{Assignor, AssignorMember, RebalanceProtocol, member_order};
use crate::consumer::TopicPartition;

/// `cooperative-sticky`: members keep what they own as far as balance allows; partitions
/// without a (valid) owner go to the least loaded member subscribed to their topic; then
/// partitions move from the most to the least loaded members until no member has two more
/// than another that could take one. A partition that moves is left out of this round's
/// assignment: its old owner revokes it and rejoins, and the next rebalance hands it over.
///
/// When two members claim a partition, the claim from the later generation wins. The
/// subscription's user data carries the member's generation (4 bytes, big-endian), as Java
/// writes it for readers of subscriptions older than version 2.
#[derive(Debug, Clone, Copy, Default)]
pub struct CooperativeStickyAssignor;

impl Assignor for CooperativeStickyAssignor {
    fn name(&self) -> &'static str {
        "cooperative-sticky"
    }

    fn supported_protocols(&self) -> &'static [RebalanceProtocol] {
        &[RebalanceProtocol::Cooperative, RebalanceProtocol::Eager]
    }

    fn user_data(&self, generation: i32) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(&generation.to_be_bytes()))
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[AssignorMember],
    ) -> BTreeMap<String, Vec<TopicPartition>> {
        let mut members: Vec<&AssignorMember> = members.iter().collect();
        members.sort_by(|a, b| member_order(a, b));
        let eligible = |m: usize, tp: &TopicPartition| {
            members[m]
                .subscription
                .topics
                .iter()
                .any(|t| **t == *tp.topic)
        };
        let exists = |tp: &TopicPartition| {
            partitions_per_topic
                .get(&*tp.topic)
                .is_some_and(|&n| tp.partition >= 0 && tp.partition < n)
        };

        // Previous owners; the latest generation wins a contested partition.
        let mut owners: BTreeMap<TopicPartition, (i32, usize)> = BTreeMap::new();
        for (m, member) in members.iter().enumerate() {
            let generation = generation_of(member);
            for tp in &member.subscription.owned_partitions {
                if !exists(tp) || !eligible(m, tp) {
                    continue;
                }
                let claim = owners.entry(tp.clone()).or_insert((generation, m));
                if generation > claim.0 {
                    *claim = (generation, m);
                }
            }
        }
        let mut assigned: Vec<BTreeSet<TopicPartition>> = vec![BTreeSet::new(); members.len()];
        for (tp, &(_, m)) in &owners {
            assigned[m].insert(tp.clone());
        }

        // Unowned partitions go to the least loaded member that can take them.
        for (topic, &count) in partitions_per_topic {
            for p in 0..count {
                let tp = TopicPartition::new(topic.as_str(), p);
                if owners.contains_key(&tp) {
                    continue;
                }
                let least = (0..members.len())
                    .filter(|&m| eligible(m, &tp))
                    .min_by_key(|&m| (assigned[m].len(), m));
                if let Some(m) = least {
                    assigned[m].insert(tp);
                }
            }
        }

        // Balance: every move narrows a gap of two or more, so this ends.
        while let Some((from, to, tp)) = next_move(&assigned, &owners, eligible) {
            assigned[from].remove(&tp);
            assigned[to].insert(tp);
        }

        members
            .iter()
            .enumerate()
            .map(|(m, member)| {
                // Partitions changing owner wait until their owner has revoked them.
                let partitions = assigned[m]
                    .iter()
                    .filter(|tp| owners.get(*tp).is_none_or(|&(_, owner)| owner == m))
                    .cloned()
                    .collect();
                (member.member_id.clone(), partitions)
            })
            .collect()
    }
}

/// A partition to move from a member with at least two more partitions than a member that can
/// take it: the most loaded donor first, the least loaded receiver first, and among the donor's
/// partitions those it did not own before first (to keep ownership).
fn next_move(
    assigned: &[BTreeSet<TopicPartition>],
    owners: &BTreeMap<TopicPartition, (i32, usize)>,
    eligible: impl Fn(usize, &TopicPartition) -> bool,
) -> Option<(usize, usize, TopicPartition)> {
    let mut by_load: Vec<usize> = (0..assigned.len()).collect();
    by_load.sort_by_key(|&m| (assigned[m].len(), m));
    for &from in by_load.iter().rev() {
        for &to in &by_load {
            if assigned[from].len() < assigned[to].len() + 2 {
                break;
            }
            let owned_by_donor =
                |tp: &TopicPartition| owners.get(tp).is_some_and(|&(_, o)| o == from);
            let candidate = assigned[from]
                .iter()
                .filter(|tp| eligible(to, tp))
                .min_by_key(|tp| owned_by_donor(tp));
            if let Some(tp) = candidate {
                return Some((from, to, tp.clone()));
            }
        }
    }
    None
}

/// The generation a member's owned partitions are from: the subscription's field (version 2+),
/// else the user data the cooperative sticky assignor writes, else -1.
fn generation_of(member: &AssignorMember) -> i32 {
    let subscription = &member.subscription;
    if subscription.generation_id >= 0 {
        return subscription.generation_id;
    }
    match subscription.user_data.as_ref() {
        Some(data) if data.len() >= 4 => (&data[..4]).get_i32(),
        _ => -1,
    }
}
