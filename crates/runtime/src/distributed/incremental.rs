//! The incremental cooperative assignor of KIP-415 (sub-protocols `compatible` and
//! `sessioned`), following Java's `IncrementalCooperativeAssignor` step by step.
//!
//! Members keep running their work through a rebalance; the leader only hands out what is new
//! and revokes what must move. Work whose member vanished is held as *lost* for up to
//! `scheduled.rebalance.max.delay.ms` so that a restarting worker can take it back; the delay
//! goes out in every assignment so members rejoin when it expires, and then the lost work goes
//! to the members that came back empty, or is dealt out as new. New members get load through
//! revocations from over-loaded ones followed by a second round that assigns what was revoked.
//!
//! The assignor keeps the state Java keeps between rebalances (the previous assignment, pending
//! delay, successive revocations); everything else comes in through [`AssignmentRequest`],
//! including the clock. Where Java iterates a `HashMap` of members, this one iterates members
//! in id order, so results are deterministic; the set of revocations can differ from Java's in
//! which member gives up work, never in how much.
//!
//! One deliberate difference: Java deals work that is missing from the members' metadata out
//! again at once when no member left, trusting that every member rejoined with fresh metadata,
//! so that the missing work can only be work that never reached its member. A coordinator may
//! instead hand the leader a member's metadata from before that member applied its last
//! assignment (tansu answers a JoinGroup with what each member sent last, rejoined or not), and
//! dealing that member's new work out again would run it twice. So work handed to a member whose
//! metadata has not changed since is left with that member for one more rebalance, which the
//! assignment asks for after [`UNCONFIRMED_FOLLOW_UP_MS`]; if the member still does not report
//! it then, it is dealt out as Java does.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexSet;

use super::assignor::{
    AssignmentRequest, AssignorError, ConnectorsAndTasks, GroupAssignment, config_mismatch,
    config_offsets, empty_assignment, leader_url,
};
use super::protocol::Assignment;
use crate::ConnectorTaskId;

/// Each member's connectors and tasks, in member id order.
type WorkerLoads = Vec<(String, ConnectorsAndTasks)>;

/// How soon members rejoin after a rebalance that left work with a member whose metadata did
/// not show it yet (at most `scheduled.rebalance.max.delay.ms`): long enough for a member still
/// rejoining with fresher metadata to take part, short next to the scheduled delay.
pub const UNCONFIRMED_FOLLOW_UP_MS: i32 = 1_000;

/// The incremental cooperative assignor and the memory it keeps between rebalances it leads.
#[derive(Debug, Clone)]
pub struct IncrementalCooperativeAssignor {
    max_delay_ms: i32,
    previous_assignment: ConnectorsAndTasks,
    previous_revocation: ConnectorsAndTasks,
    revoked_in_previous: bool,
    candidate_workers_for_reassignment: IndexSet<String>,
    scheduled_rebalance: i64,
    delay: i32,
    previous_generation_id: i32,
    previous_members: BTreeSet<String>,
    /// What each member reported in the last rebalance, and what it was newly handed then: a
    /// member reporting the same again has not confirmed what it was handed.
    previous_reports: BTreeMap<String, ConnectorsAndTasks>,
    previous_handouts: BTreeMap<String, ConnectorsAndTasks>,
    successive_revoking_rebalances: u32,
}

/// What one rebalance decides, before it is put into per-member assignments.
struct ClusterAssignment {
    newly_assigned: BTreeMap<String, ConnectorsAndTasks>,
    revoked: BTreeMap<String, ConnectorsAndTasks>,
    all_assigned: BTreeMap<String, ConnectorsAndTasks>,
    /// When members should rejoin.
    delay_ms: i32,
}

impl IncrementalCooperativeAssignor {
    /// A fresh assignor; `max_delay_ms` is the worker config `scheduled.rebalance.max.delay.ms`
    /// (Java's default is 300000).
    pub fn new(max_delay_ms: i32) -> Self {
        Self {
            max_delay_ms: max_delay_ms.max(0),
            previous_assignment: ConnectorsAndTasks::default(),
            previous_revocation: ConnectorsAndTasks::default(),
            revoked_in_previous: false,
            candidate_workers_for_reassignment: IndexSet::new(),
            scheduled_rebalance: 0,
            delay: 0,
            previous_generation_id: -1,
            previous_members: BTreeSet::new(),
            previous_reports: BTreeMap::new(),
            previous_handouts: BTreeMap::new(),
            successive_revoking_rebalances: 0,
        }
    }

    /// Computes every member's assignment for one rebalance this worker leads.
    ///
    /// Each member's assignment holds only what it must start in addition to what it runs,
    /// what it must stop, and the delay after which all members should rejoin.
    pub fn assign(
        &mut self,
        request: &AssignmentRequest<'_>,
    ) -> Result<GroupAssignment, AssignorError> {
        let leader_url = leader_url(request)?;
        let (max_offset, usable) = config_offsets(request);
        let Some(offset) = usable else {
            return Ok(config_mismatch(request, &leader_url, max_offset));
        };
        let members: BTreeMap<String, ConnectorsAndTasks> = request
            .members
            .iter()
            .map(|(id, metadata)| {
                let running = metadata.assignment.as_ref().map(|a| ConnectorsAndTasks {
                    connectors: a.connectors.iter().cloned().collect(),
                    tasks: a.tasks.iter().cloned().collect(),
                });
                (id.clone(), running.unwrap_or_default())
            })
            .collect();
        let cluster = self.assign_cluster(request, members);
        let base = empty_assignment(request, &leader_url, Assignment::NO_ERROR, offset);
        let assignments = request
            .members
            .keys()
            .map(|member| {
                let mut a = base.clone();
                if let Some(new) = cluster.newly_assigned.get(member) {
                    a.connectors = new.connectors.iter().cloned().collect();
                    a.tasks = new.tasks.iter().cloned().collect();
                }
                if let Some(revoked) = cluster.revoked.get(member) {
                    a.revoked_connectors = revoked.connectors.iter().cloned().collect();
                    a.revoked_tasks = revoked.tasks.iter().cloned().collect();
                }
                a.delay_ms = cluster.delay_ms;
                (member.clone(), a)
            })
            .collect();
        Ok(GroupAssignment {
            assignments,
            owned: cluster.all_assigned,
        })
    }

    fn assign_cluster(
        &mut self,
        request: &AssignmentRequest<'_>,
        members: BTreeMap<String, ConnectorsAndTasks>,
    ) -> ClusterAssignment {
        let now = request.now_ms;
        // A coordinator that starts no new generation for a rejoin (tansu, for unchanged
        // metadata) asks for the same generation again and keeps the assignment it already
        // has: nothing computed now reaches the members.
        let repeat = request.current_generation == self.previous_generation_id;
        // A previous view from a rebalance that never completed cannot be trusted.
        if self.previous_generation_id != request.last_completed_generation {
            self.previous_assignment = ConnectorsAndTasks::default();
            self.previous_reports.clear();
            self.previous_handouts.clear();
        }
        let snapshot = request.snapshot;
        let configured = ConnectorsAndTasks {
            connectors: snapshot.task_counts.keys().cloned().collect(),
            tasks: snapshot
                .task_counts
                .keys()
                .flat_map(|c| snapshot.tasks(c))
                .collect(),
        };
        let mut active = ConnectorsAndTasks::default();
        members.values().for_each(|m| active.add_all(m));

        // Work revoked last time still running somewhere means that revocation did not take.
        if !self.previous_revocation.is_empty() {
            let still_running = self
                .previous_revocation
                .connectors
                .iter()
                .any(|c| active.connectors.contains(c))
                || self
                    .previous_revocation
                    .tasks
                    .iter()
                    .any(|t| active.tasks.contains(t));
            if still_running {
                self.previous_assignment = active.clone();
            }
            self.previous_revocation = ConnectorsAndTasks::default();
        }

        let deleted = sorted_diff(&self.previous_assignment, &[&configured]);
        let duplicated = duplicated(&members);
        let mut lost = sorted_diff(&self.previous_assignment, &[&active, &deleted]);
        let created = sorted_diff(&configured, &[&self.previous_assignment, &active]);
        let unconfirmed = self.unconfirmed_handouts(&members, &lost);
        unconfirmed.values().for_each(|work| lost.remove_all(work));
        if !unconfirmed.is_empty() {
            tracing::info!(
                ?unconfirmed,
                "members report what they did before their last assignment; leaving it with them for one more rebalance"
            );
        }
        let reports = members.clone();

        let current: BTreeMap<String, ConnectorsAndTasks> = members
            .iter()
            .map(|(id, running)| {
                let mut kept = running.clone();
                kept.remove_all(&deleted);
                if let Some(work) = unconfirmed.get(id) {
                    kept.add_all(work);
                }
                (id.clone(), kept)
            })
            .collect();

        let mut to_revoke: BTreeMap<String, ConnectorsAndTasks> = BTreeMap::new();
        let deleted_to_revoke = intersection(&deleted, &members);
        let duplicated_to_revoke = intersection(&duplicated, &members);
        add_all(&mut to_revoke, &deleted_to_revoke);
        add_all(&mut to_revoke, &duplicated_to_revoke);

        let mut next: WorkerLoads = members.into_iter().collect();
        remove_all(&mut next, &deleted_to_revoke);
        remove_all(&mut next, &duplicated_to_revoke);
        for (id, load) in &mut next {
            if let Some(work) = unconfirmed.get(id) {
                load.add_all(work);
            }
        }

        let mut lost_to_reassign = ConnectorsAndTasks::default();
        self.handle_lost_assignments(&lost, &mut lost_to_reassign, &mut next, now);

        self.balance_load(&configured, &mut next, &mut to_revoke, now);

        let mut to_assign = created;
        to_assign.add_all(&lost_to_reassign);
        assign_round_robin(
            &mut next,
            to_assign.connectors,
            |w| w.connectors.len(),
            |w, c| {
                w.connectors.insert(c);
            },
        );
        assign_round_robin(
            &mut next,
            to_assign.tasks,
            |w| w.tasks.len(),
            |w, t| {
                w.tasks.insert(t);
            },
        );

        let newly_assigned = minus_each(&next, &current);
        let all_assigned = minus_each(&next, &to_revoke);

        self.previous_assignment = self.previous_assignment_after(&to_revoke, &next, &lost);
        self.previous_generation_id = request.current_generation;
        self.previous_members = next.iter().map(|(id, _)| id.clone()).collect();
        if !repeat {
            self.previous_reports = reports;
            self.previous_handouts = newly_assigned.clone();
        }

        let delay_ms = if self.delay == 0 && !unconfirmed.is_empty() {
            UNCONFIRMED_FOLLOW_UP_MS.min(self.max_delay_ms)
        } else {
            self.delay
        };
        ClusterAssignment {
            newly_assigned,
            revoked: to_revoke,
            all_assigned,
            delay_ms,
        }
    }

    /// Revokes work from over-loaded members, unless a delayed rebalance is pending; after
    /// successive revoking rebalances it first waits an exponentially growing delay, so that
    /// members do not keep trading work while the group is still changing.
    fn balance_load(
        &mut self,
        configured: &ConnectorsAndTasks,
        next: &mut WorkerLoads,
        to_revoke: &mut BTreeMap<String, ConnectorsAndTasks>,
        now: i64,
    ) {
        if self.delay != 0 {
            self.revoked_in_previous = false;
            return;
        }
        let balancing = load_balancing_revocations(configured, next);
        if self.revoked_in_previous && !balancing.is_empty() {
            self.successive_revoking_rebalances += 1;
            self.delay = successive_revocation_backoff(
                self.max_delay_ms,
                self.successive_revoking_rebalances,
            );
            if self.delay != 0 {
                self.scheduled_rebalance = now + i64::from(self.delay);
            } else {
                add_all(to_revoke, &balancing);
                remove_all(next, &balancing);
            }
        } else if !balancing.is_empty() {
            add_all(to_revoke, &balancing);
            remove_all(next, &balancing);
            self.revoked_in_previous = true;
        } else if self.revoked_in_previous {
            // The cluster has converged: start counting successive revocations afresh.
            self.revoked_in_previous = false;
            self.successive_revoking_rebalances = 0;
        }
    }

    /// What the next rebalance should take as "assigned before": everything assigned now except
    /// what was revoked, plus the lost work still waiting for its member.
    fn previous_assignment_after(
        &mut self,
        revoked: &BTreeMap<String, ConnectorsAndTasks>,
        next: &WorkerLoads,
        lost: &ConnectorsAndTasks,
    ) -> ConnectorsAndTasks {
        let mut previous = ConnectorsAndTasks::default();
        next.iter().for_each(|(_, load)| previous.add_all(load));
        for r in revoked.values() {
            previous.remove_all(r);
            self.previous_revocation.add_all(r);
        }
        previous.add_all(lost);
        previous
    }

    /// The lost work the last rebalance handed to each member that reports exactly what it
    /// reported then: its metadata may predate that assignment, so the work may be running.
    /// Delays disabled, lost work is dealt out at once as in Java.
    fn unconfirmed_handouts(
        &self,
        members: &BTreeMap<String, ConnectorsAndTasks>,
        lost: &ConnectorsAndTasks,
    ) -> BTreeMap<String, ConnectorsAndTasks> {
        if self.max_delay_ms == 0 {
            return BTreeMap::new();
        }
        let mut unconfirmed = BTreeMap::new();
        for (id, report) in members {
            if self.previous_reports.get(id) != Some(report) {
                continue;
            }
            let Some(handed) = self.previous_handouts.get(id) else {
                continue;
            };
            let work = common(handed, lost);
            if !work.is_empty() {
                unconfirmed.insert(id.clone(), work);
            }
        }
        unconfirmed
    }

    fn handle_lost_assignments(
        &mut self,
        lost: &ConnectorsAndTasks,
        to_reassign: &mut ConnectorsAndTasks,
        workers: &mut WorkerLoads,
        now: i64,
    ) {
        if lost.is_empty() && !self.revoked_in_previous {
            self.reset_delay();
            return;
        }
        let all_previous_present = self
            .previous_members
            .iter()
            .all(|m| workers.iter().any(|(id, _)| id == m));
        // Nobody left: the missing work most likely never reached its member last time.
        if (self.scheduled_rebalance <= 0 && all_previous_present) || self.max_delay_ms == 0 {
            to_reassign.add_all(lost);
            return;
        }
        if self.scheduled_rebalance > 0 && now >= self.scheduled_rebalance {
            let candidates: Vec<usize> = self
                .candidate_workers_for_reassignment
                .iter()
                .filter_map(|c| workers.iter().position(|(id, _)| id == c))
                .collect();
            if candidates.is_empty() {
                to_reassign.add_all(lost);
            } else {
                for (connector, at) in lost.connectors.iter().zip(candidates.iter().cycle()) {
                    workers[*at].1.connectors.insert(connector.clone());
                }
                for (task, at) in lost.tasks.iter().zip(candidates.iter().cycle()) {
                    workers[*at].1.tasks.insert(task.clone());
                }
            }
            self.reset_delay();
            self.revoked_in_previous = false;
        } else {
            let empty = workers.iter().filter(|(_, w)| w.is_empty());
            self.candidate_workers_for_reassignment
                .extend(empty.map(|(id, _)| id.clone()));
            self.delay = if now < self.scheduled_rebalance {
                self.remaining_delay(now)
            } else {
                self.max_delay_ms
            };
            self.scheduled_rebalance = now + i64::from(self.delay);
        }
    }

    fn remaining_delay(&self, now: i64) -> i32 {
        let left = self.scheduled_rebalance - now;
        if left > 0 {
            left.min(i64::from(self.max_delay_ms)) as i32
        } else {
            0
        }
    }

    fn reset_delay(&mut self) {
        self.candidate_workers_for_reassignment.clear();
        self.scheduled_rebalance = 0;
        self.delay = 0;
    }
}

/// The delay before the next load-balancing revocation after `attempts` successive rebalances
/// that each revoked: Java's exponential backoff from 1 ms, factor 40, capped at `max_delay_ms`,
/// without jitter.
fn successive_revocation_backoff(max_delay_ms: i32, attempts: u32) -> i32 {
    let max = f64::from(max_delay_ms);
    let initial = f64::from(max_delay_ms.min(if max_delay_ms == 0 { 0 } else { 1 }));
    let exp_max = if max > initial {
        (max / initial.max(1.0)).ln() / 40f64.ln()
    } else {
        0.0
    };
    if exp_max == 0.0 {
        return initial as i32;
    }
    let term = initial * 40f64.powf(f64::from(attempts).min(exp_max));
    (term as i64).min(i64::from(max_delay_ms)) as i32
}

/// Each member's load minus what `subtract` holds for that member.
fn minus_each(
    loads: &WorkerLoads,
    subtract: &BTreeMap<String, ConnectorsAndTasks>,
) -> BTreeMap<String, ConnectorsAndTasks> {
    loads
        .iter()
        .map(|(id, load)| {
            let mut rest = load.clone();
            if let Some(s) = subtract.get(id) {
                rest.remove_all(s);
            }
            (id.clone(), rest)
        })
        .collect()
}

/// `base` minus everything in `subtract`, each part in sorted order.
fn sorted_diff(base: &ConnectorsAndTasks, subtract: &[&ConnectorsAndTasks]) -> ConnectorsAndTasks {
    let mut connectors: BTreeSet<&String> = base.connectors.iter().collect();
    let mut tasks: BTreeSet<&ConnectorTaskId> = base.tasks.iter().collect();
    for s in subtract {
        connectors.retain(|c| !s.connectors.contains(*c));
        tasks.retain(|t| !s.tasks.contains(*t));
    }
    ConnectorsAndTasks {
        connectors: connectors.into_iter().cloned().collect(),
        tasks: tasks.into_iter().cloned().collect(),
    }
}

/// Connectors and tasks that more than one member runs.
fn duplicated(members: &BTreeMap<String, ConnectorsAndTasks>) -> ConnectorsAndTasks {
    let mut connector_counts: BTreeMap<&String, usize> = BTreeMap::new();
    let mut task_counts: BTreeMap<&ConnectorTaskId, usize> = BTreeMap::new();
    for m in members.values() {
        m.connectors
            .iter()
            .for_each(|c| *connector_counts.entry(c).or_default() += 1);
        m.tasks
            .iter()
            .for_each(|t| *task_counts.entry(t).or_default() += 1);
    }
    ConnectorsAndTasks {
        connectors: connector_counts
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(c, _)| c.clone())
            .collect(),
        tasks: task_counts
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(t, _)| t.clone())
            .collect(),
    }
}

/// For each member, the part of its work that is in `of`.
fn intersection(
    of: &ConnectorsAndTasks,
    members: &BTreeMap<String, ConnectorsAndTasks>,
) -> BTreeMap<String, ConnectorsAndTasks> {
    members
        .iter()
        .map(|(id, m)| (id.clone(), common(m, of)))
        .collect()
}

/// The part of `work` that is in `of`.
fn common(work: &ConnectorsAndTasks, of: &ConnectorsAndTasks) -> ConnectorsAndTasks {
    ConnectorsAndTasks {
        connectors: work
            .connectors
            .iter()
            .filter(|c| of.connectors.contains(*c))
            .cloned()
            .collect(),
        tasks: work
            .tasks
            .iter()
            .filter(|t| of.tasks.contains(*t))
            .cloned()
            .collect(),
    }
}

fn add_all(
    into: &mut BTreeMap<String, ConnectorsAndTasks>,
    add: &BTreeMap<String, ConnectorsAndTasks>,
) {
    for (id, work) in add {
        into.entry(id.clone()).or_default().add_all(work);
    }
}

fn remove_all(workers: &mut WorkerLoads, remove: &BTreeMap<String, ConnectorsAndTasks>) {
    for (id, load) in workers.iter_mut() {
        if let Some(r) = remove.get(id) {
            load.remove_all(r);
        }
    }
}

/// Which connectors and tasks to take from each member so that none runs more than a perfectly
/// balanced share (the first members over the minimum may keep one extra).
fn load_balancing_revocations(
    configured: &ConnectorsAndTasks,
    workers: &WorkerLoads,
) -> BTreeMap<String, ConnectorsAndTasks> {
    let mut result: BTreeMap<String, ConnectorsAndTasks> = BTreeMap::new();
    if workers.iter().all(|(_, w)| w.is_empty()) || configured.is_empty() {
        return result;
    }
    let connectors = excess(configured.connectors.len(), workers, |w| &w.connectors);
    for (id, revoked) in connectors {
        result.entry(id).or_default().connectors = revoked;
    }
    let tasks = excess(configured.tasks.len(), workers, |w| &w.tasks);
    for (id, revoked) in tasks {
        result.entry(id).or_default().tasks = revoked;
    }
    result
}

fn excess<T: Clone + Eq + std::hash::Hash>(
    total: usize,
    workers: &WorkerLoads,
    part: impl Fn(&ConnectorsAndTasks) -> &IndexSet<T>,
) -> Vec<(String, IndexSet<T>)> {
    let min = total / workers.len();
    let extras = total % workers.len();
    let sizes = || workers.iter().map(|(_, w)| part(w).len());
    let at_min = sizes().filter(|n| *n == min).count();
    let at_extra = sizes().filter(|n| *n == min + 1).count();
    if at_extra == extras && at_min + at_extra == workers.len() {
        return Vec::new();
    }
    let mut result = Vec::new();
    let mut extras_given = 0;
    for (id, load) in workers {
        let held = part(load);
        if held.len() <= min {
            continue;
        }
        let allowed = if extras_given < extras {
            extras_given += 1;
            if held.len() == min + 1 {
                continue;
            }
            min + 1
        } else {
            min
        };
        let revoked = held.iter().take(held.len() - allowed).cloned().collect();
        result.push((id.clone(), revoked));
    }
    result
}

/// Deals `items` out to the least-loaded members first, as Java's `assignConnectors` and
/// `assignTasks` do: sort by load then id, then repeatedly give one each to the members whose
/// load does not exceed the first member's.
fn assign_round_robin<T>(
    workers: &mut WorkerLoads,
    items: IndexSet<T>,
    load: fn(&ConnectorsAndTasks) -> usize,
    give: fn(&mut ConnectorsAndTasks, T),
) {
    workers.sort_by(|(a, wa), (b, wb)| load(wa).cmp(&load(wb)).then_with(|| a.cmp(b)));
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let first_load = load(&workers[0].1);
        let up_to = workers
            .iter()
            .position(|(_, w)| load(w) > first_load)
            .unwrap_or(workers.len());
        for (_, w) in &mut workers[..up_to] {
            let Some(item) = items.next() else { break };
            give(w, item);
        }
    }
}

#[cfg(test)]
#[path = "incremental_tests.rs"]
mod tests;
