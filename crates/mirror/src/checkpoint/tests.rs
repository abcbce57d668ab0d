use std::collections::HashMap;

use super::*;
use crate::filter::DefaultTopicFilter;
use crate::policy::{DefaultReplicationPolicy, IdentityReplicationPolicy};
use crate::records::OffsetSync;

fn cp(group: &str, topic: &str, up: i64, down: i64) -> Checkpoint {
    Checkpoint {
        consumer_group_id: group.into(),
        topic_partition: TopicPartition::new(topic, 0),
        upstream_offset: up,
        downstream_offset: down,
        metadata: String::new(),
    }
}

fn committed(offset: i64) -> OffsetAndMetadata {
    OffsetAndMetadata {
        offset,
        metadata: "m".into(),
    }
}

#[test]
fn checkpoints_never_move_back_unless_rewound_upstream() {
    let mut store = CheckpointStore::default();
    assert!(store.is_more_recent(&cp("g", "A.t", 100, 90)));
    store.insert(cp("g", "A.t", 100, 90));
    // Repeated, and a coarser translation moving backwards, are dropped.
    assert!(!store.is_more_recent(&cp("g", "A.t", 100, 90)));
    assert!(!store.is_more_recent(&cp("g", "A.t", 110, 80)));
    // Same downstream offset for a later upstream offset: nothing new.
    assert!(!store.is_more_recent(&cp("g", "A.t", 110, 90)));
    assert!(store.is_more_recent(&cp("g", "A.t", 110, 91)));
    // A rewind upstream is followed even though downstream goes back.
    assert!(store.is_more_recent(&cp("g", "A.t", 99, 10)));
    // Other groups and partitions are independent.
    assert!(store.is_more_recent(&cp("h", "A.t", 1, 1)));
    assert!(store.is_more_recent(&cp("g", "A.u", 1, 1)));
    store.insert(cp("g", "A.t", 99, 10));
    assert_eq!(
        store.get("g", &TopicPartition::new("A.t", 0)),
        Some(&cp("g", "A.t", 99, 10))
    );
}

#[test]
fn converted_offsets_are_the_downstream_offsets() {
    let mut store = CheckpointStore::default();
    store.insert(cp("g", "A.t", 100, 90));
    store.insert(cp("h", "A.u", 7, 5));
    let converted = store.converted_upstream_offsets();
    assert_eq!(converted.len(), 2);
    assert_eq!(
        converted["g"][&TopicPartition::new("A.t", 0)],
        OffsetAndMetadata {
            offset: 90,
            metadata: String::new()
        }
    );
    assert_eq!(converted["h"][&TopicPartition::new("A.u", 0)].offset, 5);
}

#[test]
fn partitions_are_renamed_for_the_target() {
    let policy = DefaultReplicationPolicy::default();
    let flow = Flow {
        source_cluster_alias: "A",
        target_cluster_alias: "B",
        policy: &policy,
    };
    let tp = |t: &str| TopicPartition::new(t, 4);
    assert_eq!(flow.rename_topic_partition(&tp("orders")), tp("A.orders"));
    assert_eq!(
        flow.rename_topic_partition(&tp("C.orders")),
        tp("A.C.orders")
    );
    // A topic replicated from the target comes back under its original name.
    assert_eq!(flow.rename_topic_partition(&tp("B.orders")), tp("orders"));
    assert_eq!(flow.rename_topic_partition(&tp("B.C.orders")), tp("orders"));

    let identity = IdentityReplicationPolicy::default();
    let flow = Flow {
        policy: &identity,
        ..flow
    };
    assert_eq!(flow.rename_topic_partition(&tp("orders")), tp("orders"));
}

#[test]
fn checkpoints_for_group_translate_filter_and_rename() {
    let policy = DefaultReplicationPolicy::default();
    let flow = Flow {
        source_cluster_alias: "A",
        target_cluster_alias: "B",
        policy: &policy,
    };
    let filter = DefaultTopicFilter::from_config(&HashMap::from([(
        "topics.exclude".to_owned(),
        "skipped".to_owned(),
    )]))
    .unwrap();
    let mut syncs = OffsetSyncStore::new(true);
    syncs.finish_initial_read();
    for topic in ["orders", "skipped", "old"] {
        syncs.apply(&OffsetSync {
            topic_partition: TopicPartition::new(topic, 0),
            upstream_offset: 100,
            downstream_offset: 40,
        });
    }
    let mut checkpoints = CheckpointStore::default();
    checkpoints.insert(cp("g", "A.orders", 90, 41));
    let upstream = HashMap::from([
        (TopicPartition::new("orders", 0), committed(150)),
        (TopicPartition::new("skipped", 0), committed(150)),
        (TopicPartition::new("old", 0), committed(50)),
        (TopicPartition::new("unsynced", 0), committed(50)),
    ]);
    let emitted = flow.checkpoints_for_group("g", &upstream, &filter, &syncs, &checkpoints);
    // orders translates to 41, not past the stored checkpoint; skipped is filtered; old is
    // before the earliest sync; unsynced has no syncs.
    assert!(emitted.is_empty());

    let upstream = HashMap::from([(TopicPartition::new("orders", 0), committed(80))]);
    let emitted =
        flow.checkpoints_for_group("g", &upstream, &filter, &syncs, &CheckpointStore::default());
    assert!(emitted.is_empty(), "80 is before the only sync");

    let upstream = HashMap::from([
        (TopicPartition::new("orders", 0), committed(100)),
        (TopicPartition::new("old", 0), committed(101)),
    ]);
    let emitted = flow.checkpoints_for_group("g", &upstream, &filter, &syncs, &checkpoints);
    // orders translates to 40, behind the stored 41 with no upstream rewind: dropped; old's
    // first checkpoint is emitted.
    assert_eq!(emitted.len(), 1);
    let old = &emitted[&TopicPartition::new("A.old", 0)];
    assert_eq!(
        old,
        &Checkpoint {
            consumer_group_id: "g".into(),
            topic_partition: TopicPartition::new("A.old", 0),
            upstream_offset: 101,
            downstream_offset: 41,
            metadata: "m".into(),
        }
    );
}

#[test]
fn group_offsets_sync_only_forward_for_idle_groups() {
    let tp = |p| TopicPartition::new("A.t", p);
    let converted: HashMap<_, _> = (0..4).map(|p| (tp(p), committed(100))).collect();
    // Not read from the target: everything is written.
    assert_eq!(offsets_to_sync(&converted, None), converted);
    let target = HashMap::from([(tp(0), Some(100)), (tp(1), Some(99)), (tp(2), None)]);
    let to_sync = offsets_to_sync(&converted, Some(&target));
    let mut synced: Vec<_> = to_sync.keys().map(|tp| tp.partition).collect();
    synced.sort_unstable();
    assert_eq!(synced, [1, 2, 3]);
    let ahead = HashMap::from([
        (tp(0), Some(100)),
        (tp(1), Some(200)),
        (tp(2), Some(100)),
        (tp(3), Some(101)),
    ]);
    assert!(offsets_to_sync(&converted, Some(&ahead)).is_empty());
}
