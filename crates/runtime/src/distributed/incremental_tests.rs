use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::distributed::assignor::ConfigSnapshot;
use crate::distributed::protocol::{ConnectProtocolCompatibility, WorkerMetadata};

const LEADER: &str = "w1";

/// A group whose members apply every assignment the way Java's `WorkerCoordinator` does.
struct Group {
    assignor: IncrementalCooperativeAssignor,
    members: BTreeMap<String, WorkerMetadata>,
    snapshot: ConfigSnapshot,
    generation: i32,
    now: i64,
}

impl Group {
    fn new(max_delay_ms: i32, workers: &[&str], connectors: &[(&str, u32)]) -> Self {
        let mut group = Self {
            assignor: IncrementalCooperativeAssignor::new(max_delay_ms),
            members: BTreeMap::new(),
            snapshot: ConfigSnapshot::default(),
            generation: 0,
            now: 1_000,
        };
        workers.iter().for_each(|w| group.join(w));
        for (c, n) in connectors {
            group.snapshot.task_counts.insert(c.to_string(), *n);
        }
        group
    }

    fn join(&mut self, id: &str) {
        let metadata = WorkerMetadata {
            url: format!("http://{id}/"),
            config_offset: 0,
            assignment: None,
        };
        self.members.insert(id.to_owned(), metadata);
    }

    fn leave(&mut self, id: &str) {
        self.members.remove(id);
    }

    fn rebalance(&mut self) -> GroupAssignment {
        let request = AssignmentRequest {
            leader_id: LEADER,
            protocol: ConnectProtocolCompatibility::Sessioned,
            members: &self.members,
            snapshot: &self.snapshot,
            last_completed_generation: self.generation,
            current_generation: self.generation + 1,
            now_ms: self.now,
        };
        let result = self.assignor.assign(&request).unwrap();
        self.generation += 1;
        for (id, a) in &result.assignments {
            let member = self.members.get_mut(id).unwrap();
            let merged = Assignment::merged_with_previous(a.clone(), member.assignment.as_ref());
            member.assignment = Some(merged);
        }
        result
    }

    /// The leader rejoins and assigns the current generation again, as tansu lets it when its
    /// metadata did not change; the coordinator keeps the assignments it has.
    fn repeat_rebalance(&mut self) -> GroupAssignment {
        let request = AssignmentRequest {
            leader_id: LEADER,
            protocol: ConnectProtocolCompatibility::Sessioned,
            members: &self.members,
            snapshot: &self.snapshot,
            last_completed_generation: self.generation,
            current_generation: self.generation,
            now_ms: self.now,
        };
        self.assignor.assign(&request).unwrap()
    }

    fn running(&self, id: &str) -> (Vec<String>, Vec<String>) {
        let a = self.members[id].assignment.clone().unwrap();
        let mut connectors = a.connectors.clone();
        let mut tasks: Vec<String> = a.tasks.iter().map(|t| t.to_string()).collect();
        connectors.sort();
        tasks.sort();
        (connectors, tasks)
    }

    fn counts(&self) -> Vec<(usize, usize)> {
        self.members
            .values()
            .map(|m| {
                let a = m.assignment.as_ref();
                a.map_or((0, 0), |a| (a.connectors.len(), a.tasks.len()))
            })
            .collect()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn revoked_tasks(result: &GroupAssignment, member: &str) -> Vec<String> {
    result.assignments[member]
        .revoked_tasks
        .iter()
        .map(|t| t.to_string())
        .collect()
}

#[test]
fn first_rebalance_deals_everything_out() {
    let mut g = Group::new(0, &["w1", "w2"], &[("c1", 4), ("c2", 4)]);
    let result = g.rebalance();
    assert_eq!(result.assignments["w1"].delay_ms, 0);
    assert_eq!(result.assignments["w1"].version, 2);
    assert_eq!(
        g.running("w1"),
        (strings(&["c1"]), strings(&["c1-0", "c1-2", "c2-0", "c2-2"]))
    );
    assert_eq!(
        g.running("w2"),
        (strings(&["c2"]), strings(&["c1-1", "c1-3", "c2-1", "c2-3"]))
    );
}

#[test]
fn new_worker_gets_load_over_two_rounds() {
    let mut g = Group::new(300_000, &["w1", "w2"], &[("c1", 4), ("c2", 4)]);
    g.rebalance();
    g.join("w3");

    let first = g.rebalance();
    assert_eq!(revoked_tasks(&first, "w1").len(), 1);
    assert_eq!(revoked_tasks(&first, "w2").len(), 1);
    assert!(first.assignments["w1"].revoked_connectors.is_empty());
    assert!(first.assignments["w3"].tasks.is_empty());
    assert_eq!(g.counts(), [(1, 3), (1, 3), (0, 0)]);

    let second = g.rebalance();
    assert!(
        second
            .assignments
            .values()
            .all(|a| a.revoked_tasks.is_empty())
    );
    assert_eq!(second.assignments["w3"].tasks.len(), 2);
    assert_eq!(g.counts(), [(1, 3), (1, 3), (0, 2)]);
}

#[test]
fn departed_worker_work_waits_for_the_delay_then_is_reassigned() {
    let mut g = Group::new(10_000, &["w1", "w2", "w3"], &[("c1", 3), ("c2", 3)]);
    g.rebalance();
    let w3_before = g.running("w3");
    g.leave("w3");

    let held = g.rebalance();
    assert!(held.assignments.values().all(|a| a.delay_ms == 10_000));
    assert!(held.assignments.values().all(|a| a.tasks.is_empty()));

    g.now += 4_000;
    let still_held = g.rebalance();
    assert!(still_held.assignments.values().all(|a| a.delay_ms == 6_000));
    assert!(still_held.assignments.values().all(|a| a.tasks.is_empty()));

    g.now += 6_000;
    let reassigned = g.rebalance();
    assert!(reassigned.assignments.values().all(|a| a.delay_ms == 0));
    let given: usize = reassigned.assignments.values().map(|a| a.tasks.len()).sum();
    assert_eq!(given, w3_before.1.len());
    assert_eq!(g.counts(), [(1, 3), (1, 3)]);
}

#[test]
fn worker_back_within_the_delay_gets_its_work_back() {
    let mut g = Group::new(10_000, &["w1", "w2", "w3"], &[("c1", 3), ("c2", 3)]);
    g.rebalance();
    let w3_before = g.running("w3");
    g.leave("w3");
    g.rebalance();

    g.now += 2_000;
    g.join("w3");
    let waiting = g.rebalance();
    assert!(waiting.assignments.values().all(|a| a.delay_ms == 8_000));

    g.now += 8_000;
    g.rebalance();
    assert_eq!(g.running("w3"), w3_before);
}

#[test]
fn new_leader_without_memory_keeps_everything_in_place() {
    let mut g = Group::new(10_000, &["w1", "w2", "w3"], &[("c1", 3), ("c2", 4)]);
    g.rebalance();
    g.rebalance();
    let before = g.counts();
    g.assignor = IncrementalCooperativeAssignor::new(10_000);
    let result = g.rebalance();
    assert!(result.assignments.values().all(|a| {
        a.connectors.is_empty()
            && a.tasks.is_empty()
            && a.revoked_connectors.is_empty()
            && a.revoked_tasks.is_empty()
            && a.delay_ms == 0
    }));
    assert_eq!(g.counts(), before);
}

#[test]
fn no_delay_reassigns_lost_work_at_once() {
    let mut g = Group::new(0, &["w1", "w2"], &[("c1", 2)]);
    g.rebalance();
    g.leave("w2");
    let result = g.rebalance();
    assert_eq!(result.assignments["w1"].delay_ms, 0);
    assert_eq!(
        g.running("w1"),
        (strings(&["c1"]), strings(&["c1-0", "c1-1"]))
    );
}

#[test]
fn duplicates_are_revoked_from_everyone_then_assigned_once() {
    let mut g = Group::new(0, &["w1", "w2"], &[("c1", 2)]);
    g.rebalance();
    let stray = ConnectorTaskId::new("c1", 0);
    let w2 = g
        .members
        .get_mut("w2")
        .unwrap()
        .assignment
        .as_mut()
        .unwrap();
    if !w2.tasks.contains(&stray) {
        w2.tasks.push(stray.clone());
    }
    let w1 = g
        .members
        .get_mut("w1")
        .unwrap()
        .assignment
        .as_mut()
        .unwrap();
    if !w1.tasks.contains(&stray) {
        w1.tasks.push(stray.clone());
    }

    let revoking = g.rebalance();
    assert!(revoking.assignments["w1"].revoked_tasks.contains(&stray));
    assert!(revoking.assignments["w2"].revoked_tasks.contains(&stray));

    g.rebalance();
    let owners = g
        .members
        .values()
        .filter(|m| m.assignment.as_ref().unwrap().tasks.contains(&stray));
    assert_eq!(owners.count(), 1);
}

/// The coordinator may give the leader a member's metadata from before that member applied its
/// last assignment (tansu answers the leader with what each member sent last). The work that
/// member was handed is then missing from the metadata, but it runs: dealing it out again at
/// once, as Java does when nobody left, would run it twice, and the copy stopped later leaves
/// its UNASSIGNED status over the survivor's RUNNING while every rebalance assigns nothing.
#[test]
fn work_handed_to_a_member_with_stale_metadata_is_not_dealt_out_twice() {
    let mut g = Group::new(2_000, &["w1", "w2"], &[("a", 1)]);
    g.rebalance();
    assert_eq!(g.running("w1"), (strings(&["a"]), strings(&["a-0"])));
    let stale = g.members["w2"].clone();

    // `b` is created and handed to w2, which starts it.
    g.snapshot.task_counts.insert("b".into(), 1);
    let handed = g.rebalance();
    assert_eq!(handed.assignments["w2"].connectors, strings(&["b"]));
    assert_eq!(
        handed.assignments["w2"].tasks,
        [ConnectorTaskId::new("b", 0)]
    );
    let real = g.members["w2"].clone();

    // `a` is deleted, leaving w1 idle, and the leader rebalances while the coordinator still
    // holds w2's metadata from before it got `b`.
    g.snapshot.task_counts.remove("a");
    g.members.insert("w2".into(), stale);
    let held = g.rebalance();
    for (member, a) in &held.assignments {
        assert!(
            a.connectors.is_empty() && a.tasks.is_empty(),
            "{member}: {a:?}"
        );
        assert_eq!(a.delay_ms, UNCONFIRMED_FOLLOW_UP_MS, "{member}");
    }
    assert_eq!(held.assignments["w1"].revoked_connectors, strings(&["a"]));
    assert_eq!(
        held.owned["w2"].tasks,
        [ConnectorTaskId::new("b", 0)].into()
    );

    // w2 rejoins with what it runs: `b` has one owner, and nothing is pending any more.
    g.members.insert("w2".into(), real);
    let settled = g.rebalance();
    for (member, a) in &settled.assignments {
        assert!(
            a.connectors.is_empty() && a.tasks.is_empty(),
            "{member}: {a:?}"
        );
        assert!(a.revoked_connectors.is_empty() && a.revoked_tasks.is_empty());
        assert_eq!(a.delay_ms, 0, "{member}");
    }
    assert_eq!(g.running("w1"), (strings(&[]), strings(&[])));
    assert_eq!(g.running("w2"), (strings(&["b"]), strings(&["b-0"])));
}

/// Work handed to a member that really did not get it (its metadata stays the same, as after a
/// failed SyncGroup) is dealt out in the rebalance after the one that left it there, without
/// waiting for the scheduled delay.
#[test]
fn work_a_member_never_confirms_is_dealt_out_one_rebalance_later() {
    let mut g = Group::new(300_000, &["w1", "w2"], &[("a", 1)]);
    g.rebalance();
    let stale = g.members["w2"].clone();
    g.snapshot.task_counts.insert("b".into(), 1);
    g.rebalance();
    g.members.insert("w2".into(), stale.clone());
    let held = g.rebalance();
    assert!(held.assignments.values().all(|a| a.tasks.is_empty()));
    assert!(
        held.assignments
            .values()
            .all(|a| a.delay_ms == UNCONFIRMED_FOLLOW_UP_MS)
    );

    g.members.insert("w2".into(), stale);
    let dealt = g.rebalance();
    assert!(dealt.assignments.values().all(|a| a.delay_ms == 0));
    let given: Vec<&ConnectorTaskId> = dealt.assignments.values().flat_map(|a| &a.tasks).collect();
    assert_eq!(given, [&ConnectorTaskId::new("b", 0)]);
}

/// When the delay expires in a generation assigned again (tansu starts none for a rejoin with
/// unchanged metadata), what the leader hands out is dropped: the next generation deals the
/// departed member's work out at once.
#[test]
fn departed_work_dealt_out_in_a_repeated_generation_is_dealt_out_in_the_next() {
    let mut g = Group::new(2_000, &["w1", "w2"], &[("c1", 2)]);
    g.rebalance();
    let w2_tasks = g.running("w2").1;
    g.leave("w2");
    let held = g.rebalance();
    assert_eq!(held.assignments["w1"].delay_ms, 2_000);

    g.now += 2_000;
    let dropped = g.repeat_rebalance();
    assert_eq!(dropped.assignments["w1"].tasks.len(), w2_tasks.len());

    let dealt = g.rebalance();
    assert_eq!(dealt.assignments["w1"].delay_ms, 0);
    let mut tasks: Vec<String> = dealt.assignments["w1"]
        .tasks
        .iter()
        .map(|t| t.to_string())
        .collect();
    tasks.sort();
    assert_eq!(tasks, w2_tasks);
}

#[test]
fn deleted_connector_is_revoked() {
    let mut g = Group::new(0, &["w1", "w2"], &[("c1", 2), ("c2", 2)]);
    g.rebalance();
    g.snapshot.task_counts.remove("c2");
    let result = g.rebalance();
    let revoked: usize = result
        .assignments
        .values()
        .map(|a| a.revoked_connectors.len() + a.revoked_tasks.len())
        .sum();
    assert_eq!(revoked, 3);
    assert!(g.members.values().all(|m| {
        let a = m.assignment.as_ref().unwrap();
        a.connectors.iter().all(|c| c == "c1") && a.tasks.iter().all(|t| t.connector == "c1")
    }));
}

#[test]
fn leader_behind_the_config_topic_answers_mismatch() {
    let mut g = Group::new(0, &["w1", "w2"], &[("c1", 2)]);
    g.members.get_mut("w2").unwrap().config_offset = 7;
    let result = g.rebalance();
    assert!(
        result
            .assignments
            .values()
            .all(|a| a.error == Assignment::CONFIG_MISMATCH)
    );
    assert!(
        result
            .assignments
            .values()
            .all(|a| a.config_offset == 7 && a.version == 2)
    );
}

#[test]
fn successive_revocations_back_off_exponentially() {
    assert_eq!(successive_revocation_backoff(300_000, 1), 40);
    assert_eq!(successive_revocation_backoff(300_000, 2), 1_600);
    assert_eq!(successive_revocation_backoff(300_000, 3), 64_000);
    assert!((299_999..=300_000).contains(&successive_revocation_backoff(300_000, 9)));
    assert_eq!(successive_revocation_backoff(0, 5), 0);
    assert_eq!(successive_revocation_backoff(1, 5), 1);
}

#[derive(Debug, Clone)]
enum Event {
    Join,
    Leave(usize),
    Create(u32),
    Delete(usize),
    Resize(usize, u32),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::Join),
        (0usize..8).prop_map(Event::Leave),
        (0u32..6).prop_map(Event::Create),
        (0usize..8).prop_map(Event::Delete),
        (0usize..8, 0u32..6).prop_map(|(i, n)| Event::Resize(i, n)),
    ]
}

impl Group {
    fn apply(&mut self, event: &Event, next_id: &mut usize) {
        let pick =
            |keys: Vec<String>, i: usize| (!keys.is_empty()).then(|| keys[i % keys.len()].clone());
        match event {
            Event::Join => {
                *next_id += 1;
                self.join(&format!("w{next_id}"));
            }
            Event::Leave(i) => {
                let others = self
                    .members
                    .keys()
                    .filter(|k| *k != LEADER)
                    .cloned()
                    .collect();
                if let Some(id) = pick(others, *i) {
                    self.leave(&id);
                }
            }
            Event::Create(n) => {
                *next_id += 1;
                self.snapshot.task_counts.insert(format!("c{next_id}"), *n);
            }
            Event::Delete(i) => {
                if let Some(c) = pick(self.snapshot.task_counts.keys().cloned().collect(), *i) {
                    self.snapshot.task_counts.remove(&c);
                }
            }
            Event::Resize(i, n) => {
                if let Some(c) = pick(self.snapshot.task_counts.keys().cloned().collect(), *i) {
                    self.snapshot.task_counts.insert(c, *n);
                }
            }
        }
    }

    /// Checks that no member loses configured, unduplicated work below its balanced share.
    fn check_revocations(&self, result: &GroupAssignment) -> Result<(), TestCaseError> {
        let total_tasks: u32 = self.snapshot.task_counts.values().sum();
        let total_connectors = self.snapshot.task_counts.len();
        let n = self.members.len();
        let mut task_holders: BTreeMap<&ConnectorTaskId, usize> = BTreeMap::new();
        let mut connector_holders: BTreeMap<&String, usize> = BTreeMap::new();
        for m in self.members.values() {
            let Some(a) = &m.assignment else { continue };
            a.tasks
                .iter()
                .for_each(|t| *task_holders.entry(t).or_default() += 1);
            a.connectors
                .iter()
                .for_each(|c| *connector_holders.entry(c).or_default() += 1);
        }
        for (id, a) in &result.assignments {
            let Some(before) = &self.members[id].assignment else {
                continue;
            };
            let held_tasks: Vec<_> = before
                .tasks
                .iter()
                .filter(|t| {
                    t.task
                        < self
                            .snapshot
                            .task_counts
                            .get(&t.connector)
                            .map_or(0, |n| *n as i32)
                })
                .filter(|t| task_holders[t] == 1)
                .collect();
            let kept = held_tasks
                .iter()
                .filter(|t| !a.revoked_tasks.contains(t))
                .count();
            prop_assert!(
                kept >= held_tasks.len().min(total_tasks as usize / n),
                "{id} kept {kept} of {}",
                held_tasks.len()
            );
            let held_connectors: Vec<_> = before
                .connectors
                .iter()
                .filter(|c| self.snapshot.task_counts.contains_key(*c))
                .filter(|c| connector_holders[c] == 1)
                .collect();
            let kept = held_connectors
                .iter()
                .filter(|c| !a.revoked_connectors.contains(c))
                .count();
            prop_assert!(kept >= held_connectors.len().min(total_connectors / n));
        }
        Ok(())
    }

    /// Rebalances until a round changes nothing and no delay is pending.
    fn converge(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..40 {
            let before: Vec<_> = self
                .members
                .values()
                .map(|m| m.assignment.clone())
                .collect();
            let request_view = self.members.clone();
            let result = self.rebalance();
            let mut after_view = std::mem::replace(&mut self.members, request_view);
            self.check_revocations(&result)?;
            std::mem::swap(&mut self.members, &mut after_view);
            let delay = result
                .assignments
                .values()
                .map(|a| a.delay_ms)
                .max()
                .unwrap_or(0);
            let after: Vec<_> = self
                .members
                .values()
                .map(|m| m.assignment.clone())
                .collect();
            if delay == 0 && before == after {
                return Ok(());
            }
            self.now += i64::from(delay);
        }
        Err(TestCaseError::fail("no convergence within 40 rebalances"))
    }

    fn check_converged(&self) -> Result<(), TestCaseError> {
        let mut connectors: Vec<String> = Vec::new();
        let mut tasks: Vec<ConnectorTaskId> = Vec::new();
        for m in self.members.values() {
            let a = m.assignment.as_ref().unwrap();
            connectors.extend(a.connectors.iter().cloned());
            tasks.extend(a.tasks.iter().cloned());
        }
        connectors.sort();
        tasks.sort();
        let expected_connectors: Vec<String> = self.snapshot.task_counts.keys().cloned().collect();
        let expected_tasks: Vec<ConnectorTaskId> = self
            .snapshot
            .task_counts
            .keys()
            .flat_map(|c| self.snapshot.tasks(c))
            .collect();
        prop_assert_eq!(connectors, expected_connectors);
        prop_assert_eq!(tasks, expected_tasks);
        let counts = self.counts();
        let spread = |f: fn(&(usize, usize)) -> usize| {
            counts.iter().map(f).max().unwrap() - counts.iter().map(f).min().unwrap()
        };
        prop_assert!(spread(|c| c.0) <= 1, "connectors unbalanced: {:?}", counts);
        prop_assert!(spread(|c| c.1) <= 1, "tasks unbalanced: {:?}", counts);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn converges_to_every_unit_once_balanced(
        workers in 1usize..5,
        connectors in prop::collection::vec(0u32..6, 0..5),
        events in prop::collection::vec(event(), 0..6),
        max_delay_ms in prop_oneof![Just(0), Just(5_000)],
    ) {
        let ids: Vec<String> = (1..=workers).map(|i| format!("w{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let named: Vec<(String, u32)> = connectors.iter().enumerate().map(|(i, n)| (format!("c{i}"), *n)).collect();
        let named: Vec<(&str, u32)> = named.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        let mut group = Group::new(max_delay_ms, &ids, &named);
        let mut next_id = 100;
        group.converge()?;
        group.check_converged()?;
        for e in &events {
            group.apply(e, &mut next_id);
            group.converge()?;
            group.check_converged()?;
        }
    }
}
