use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

fn member(id: &str, topics: &[&str]) -> AssignorMember {
    AssignorMember {
        member_id: id.into(),
        group_instance_id: None,
        subscription: Subscription {
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            generation_id: -1,
            ..Default::default()
        },
    }
}

fn owning(mut m: AssignorMember, generation: i32, owned: &[TopicPartition]) -> AssignorMember {
    m.subscription.owned_partitions = owned.to_vec();
    m.subscription.generation_id = generation;
    m
}

fn topics(counts: &[(&str, i32)]) -> BTreeMap<String, i32> {
    counts.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
}

fn sorted(mut v: Vec<TopicPartition>) -> Vec<TopicPartition> {
    v.sort();
    v
}

// Expected results are those of Java's RangeAssignor for the same inputs.
#[test]
fn range_one_consumer_one_topic() {
    let a = RangeAssignor.assign(&topics(&[("t", 3)]), &[member("c", &["t"])]);
    assert_eq!(a["c"], [tp("t", 0), tp("t", 1), tp("t", 2)]);
}

#[test]
fn range_more_consumers_than_partitions() {
    let a = RangeAssignor.assign(
        &topics(&[("t", 1)]),
        &[member("consumer2", &["t"]), member("consumer1", &["t"])],
    );
    assert_eq!(a["consumer1"], [tp("t", 0)]);
    assert!(a["consumer2"].is_empty());
}

#[test]
fn range_two_consumers_two_topics_six_partitions() {
    let a = RangeAssignor.assign(
        &topics(&[("t1", 3), ("t2", 3)]),
        &[member("c1", &["t1", "t2"]), member("c2", &["t1", "t2"])],
    );
    assert_eq!(
        sorted(a["c1"].clone()),
        [tp("t1", 0), tp("t1", 1), tp("t2", 0), tp("t2", 1)]
    );
    assert_eq!(sorted(a["c2"].clone()), [tp("t1", 2), tp("t2", 2)]);
}

#[test]
fn range_mixed_subscriptions() {
    let a = RangeAssignor.assign(
        &topics(&[("t1", 3), ("t2", 2)]),
        &[
            member("c1", &["t1"]),
            member("c2", &["t1", "t2"]),
            member("c3", &["t1"]),
        ],
    );
    assert_eq!(a["c1"], [tp("t1", 0)]);
    assert_eq!(
        sorted(a["c2"].clone()),
        [tp("t1", 1), tp("t2", 0), tp("t2", 1)]
    );
    assert_eq!(a["c3"], [tp("t1", 2)]);
}

#[test]
fn range_orders_static_members_by_instance_id_first() {
    let mut x = member("a-dynamic", &["t"]);
    let mut y = member("z-static", &["t"]);
    y.group_instance_id = Some("instance-1".into());
    x.group_instance_id = None;
    let a = RangeAssignor.assign(&topics(&[("t", 3)]), &[x, y]);
    assert_eq!(a["z-static"], [tp("t", 0), tp("t", 1)]);
    assert_eq!(a["a-dynamic"], [tp("t", 2)]);
}

#[test]
fn range_ignores_unknown_topics_and_lists_every_member() {
    let a = RangeAssignor.assign(&topics(&[("t", 2)]), &[member("c", &["missing"])]);
    assert_eq!(a.len(), 1);
    assert!(a["c"].is_empty());
}

#[test]
fn sticky_keeps_ownership_and_withholds_moved_partitions() {
    let all: Vec<TopicPartition> = (0..4).map(|p| tp("t", p)).collect();
    let first = owning(member("a", &["t"]), 1, &all);
    let second = member("b", &["t"]);
    let round1 = CooperativeStickyAssignor.assign(&topics(&[("t", 4)]), &[first, second]);
    // Two partitions must move to b: a keeps the others, nobody gets the moving ones yet.
    assert_eq!(round1["a"].len(), 2);
    assert!(round1["b"].is_empty());

    // After a revoked them, the second rebalance hands them to b.
    let kept = round1["a"].clone();
    let round2 = CooperativeStickyAssignor.assign(
        &topics(&[("t", 4)]),
        &[
            owning(member("a", &["t"]), 2, &kept),
            owning(member("b", &["t"]), 2, &[]),
        ],
    );
    assert_eq!(round2["a"], kept);
    let moved: BTreeSet<_> = all.iter().filter(|p| !kept.contains(p)).cloned().collect();
    assert_eq!(round2["b"].iter().cloned().collect::<BTreeSet<_>>(), moved);
}

#[test]
fn sticky_later_generation_wins_a_contested_partition() {
    let stale = owning(member("a", &["t"]), 1, &[tp("t", 0)]);
    let fresh = owning(member("b", &["t"]), 2, &[tp("t", 0)]);
    let a = CooperativeStickyAssignor.assign(&topics(&[("t", 2)]), &[stale, fresh]);
    assert_eq!(a["b"], [tp("t", 0)]);
    assert_eq!(a["a"], [tp("t", 1)]);
}

#[test]
fn sticky_reads_the_generation_from_user_data() {
    let mut old = owning(member("a", &["t"]), -1, &[tp("t", 0)]);
    old.subscription.user_data = CooperativeStickyAssignor.user_data(7);
    let newer = owning(member("b", &["t"]), 3, &[tp("t", 0)]);
    let a = CooperativeStickyAssignor.assign(&topics(&[("t", 1)]), &[old, newer]);
    assert_eq!(a["a"], [tp("t", 0)]);
    assert_eq!(
        CooperativeStickyAssignor.user_data(7).as_deref(),
        Some(&[0, 0, 0, 7][..])
    );
}

/// Members `m0..mN` subscribed to topics chosen by `subscriptions` bits.
fn group(subscriptions: &[u8], topic_names: &[String]) -> Vec<AssignorMember> {
    subscriptions
        .iter()
        .enumerate()
        .map(|(i, bits)| {
            let topics: Vec<&str> = topic_names
                .iter()
                .enumerate()
                .filter(|(t, _)| bits & (1 << t) != 0)
                .map(|(_, name)| name.as_str())
                .collect();
            member(&format!("m{i}"), &topics)
        })
        .collect()
}

fn check_valid(
    assignment: &BTreeMap<String, Vec<TopicPartition>>,
    counts: &BTreeMap<String, i32>,
    members: &[AssignorMember],
) -> Result<(), TestCaseError> {
    let mut seen = BTreeSet::new();
    for m in members {
        for p in &assignment[&m.member_id] {
            prop_assert!(m.subscription.topics.iter().any(|t| **t == *p.topic));
            prop_assert!(p.partition < counts[&*p.topic]);
            prop_assert!(seen.insert(p.clone()), "{p:?} assigned twice");
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn range_is_valid_and_balanced_per_topic(
        counts in proptest::collection::vec(0..7i32, 1..4),
        subscriptions in proptest::collection::vec(0u8..8, 1..5),
    ) {
        let names: Vec<String> = (0..counts.len()).map(|t| format!("t{t}")).collect();
        let counts: BTreeMap<String, i32> = names.iter().cloned().zip(counts).collect();
        let members = group(&subscriptions, &names);
        let a = RangeAssignor.assign(&counts, &members);
        check_valid(&a, &counts, &members)?;
        for (topic, &n) in &counts {
            let per: Vec<usize> = members
                .iter()
                .filter(|m| m.subscription.topics.contains(topic))
                .map(|m| a[&m.member_id].iter().filter(|p| *p.topic == **topic).count())
                .collect();
            if !per.is_empty() {
                prop_assert_eq!(per.iter().sum::<usize>(), usize::try_from(n).unwrap());
                prop_assert!(per.iter().max().unwrap() - per.iter().min().unwrap() <= 1);
            }
        }
    }

    #[test]
    fn sticky_balances_equal_subscriptions_and_keeps_a_balanced_assignment(
        partitions in 0..20i32,
        consumers in 1..6usize,
        joining in 0..3usize,
    ) {
        let counts = topics(&[("t", partitions)]);
        let members: Vec<AssignorMember> =
            (0..consumers).map(|i| member(&format!("m{i}"), &["t"])).collect();
        let first = CooperativeStickyAssignor.assign(&counts, &members);
        check_valid(&first, &counts, &members)?;
        let loads: Vec<usize> = first.values().map(Vec::len).collect();
        prop_assert_eq!(loads.iter().sum::<usize>(), usize::try_from(partitions).unwrap());
        prop_assert!(loads.iter().max().unwrap() - loads.iter().min().unwrap() <= 1);

        // Same members owning that assignment: nothing moves.
        let owners: Vec<AssignorMember> = members
            .iter()
            .map(|m| owning(m.clone(), 1, &first[&m.member_id]))
            .collect();
        prop_assert_eq!(&CooperativeStickyAssignor.assign(&counts, &owners), &first);

        // New members join: owners keep or revoke, never hand over directly; a second round
        // after the revocations is complete and balanced.
        let mut grown = owners.clone();
        grown.extend((0..joining).map(|i| member(&format!("n{i}"), &["t"])));
        let round1 = CooperativeStickyAssignor.assign(&counts, &grown);
        check_valid(&round1, &counts, &grown)?;
        for m in &owners {
            for p in &round1[&m.member_id] {
                prop_assert!(first[&m.member_id].contains(p));
            }
        }
        let revoked: Vec<AssignorMember> = grown
            .iter()
            .map(|m| owning(m.clone(), 2, &round1[&m.member_id]))
            .collect();
        let round2 = CooperativeStickyAssignor.assign(&counts, &revoked);
        check_valid(&round2, &counts, &revoked)?;
        let loads: Vec<usize> = round2.values().map(Vec::len).collect();
        prop_assert_eq!(loads.iter().sum::<usize>(), usize::try_from(partitions).unwrap());
        prop_assert!(loads.iter().max().unwrap() - loads.iter().min().unwrap() <= 1);
        for m in &revoked {
            for p in &round1[&m.member_id] {
                prop_assert!(round2[&m.member_id].contains(p), "{p:?} moved twice");
            }
        }
    }

    #[test]
    fn sticky_is_valid_for_mixed_subscriptions(
        counts in proptest::collection::vec(0..6i32, 1..4),
        subscriptions in proptest::collection::vec(0u8..8, 1..5),
    ) {
        let names: Vec<String> = (0..counts.len()).map(|t| format!("t{t}")).collect();
        let counts: BTreeMap<String, i32> = names.iter().cloned().zip(counts).collect();
        let members = group(&subscriptions, &names);
        let a = CooperativeStickyAssignor.assign(&counts, &members);
        check_valid(&a, &counts, &members)?;
        // Every partition of a topic someone subscribes to is assigned.
        for (topic, &n) in &counts {
            if members.iter().any(|m| m.subscription.topics.contains(topic)) {
                let assigned = a.values().flatten().filter(|p| *p.topic == **topic).count();
                prop_assert_eq!(assigned, usize::try_from(n).unwrap());
            }
        }
    }
}
