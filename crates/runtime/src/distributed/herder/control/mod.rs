//! The control loop of a distributed worker (Java's `DistributedHerder.tick()`): group
//! membership, applying assignments, reacting to config-topic changes, task reconfiguration,
//! restarts, session keys and scheduled rebalances. It alone starts and stops work.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ferry_kafka::Cluster;
use ferry_kafka::group::{
    AssignRequest, GroupError, GroupEvent, GroupMember, Joined, MembershipConfig, PrepareJoin,
    Protocol,
};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::plan::{ConfigChanges, RestartPlan, Work, WorkPlan};
use super::{Command, Inner, Membership, from_stored};
use crate::ConnectorTaskId;
use crate::distributed::assignor::{AssignmentRequest, ConfigSnapshot, GroupAssignment};
use crate::distributed::eager;
use crate::distributed::incremental::IncrementalCooperativeAssignor;
use crate::distributed::protocol::{Assignment, ConnectProtocolCompatibility, WorkerMetadata};
use crate::herder::variables::resolve_or_report;
use crate::herder::{HerderError, TargetState};
use crate::rest::LogLevel;
use crate::storage::config_records::RestartRequest;
use crate::storage::kafka::{ClusterConfigState, ConfigUpdate};
use crate::worker::{ReconfigureCallback, State, Status, StatusBackingStore};

mod session_key;
mod task_configs;

pub(super) struct Control {
    inner: Arc<Inner>,
    cluster: Cluster,
    membership_config: MembershipConfig,
    member: Option<GroupMember>,
    updates: mpsc::UnboundedReceiver<ConfigUpdate>,
    commands: mpsc::UnboundedReceiver<Command>,
    reconfigure_requests: mpsc::UnboundedReceiver<String>,
    reconfigure_sender: mpsc::UnboundedSender<String>,
    shutdown: watch::Receiver<bool>,
    /// The config state this worker acts on.
    snapshot: ClusterConfigState,
    /// What this worker runs.
    running: Work,
    /// The assignment in force (merged with the previous one under incremental rebalancing),
    /// announced in the next JoinGroup.
    current: Option<Assignment>,
    /// The sub-protocol of the generation joined last.
    protocol: Option<ConnectProtocolCompatibility>,
    assignor: IncrementalCooperativeAssignor,
    last_completed_generation: i32,
    rejoin_at: Option<Instant>,
    session_key_check_at: Option<Instant>,
    /// Connectors whose task reconfiguration failed: when to try again, and the backoff used.
    retries: BTreeMap<String, (Instant, Duration)>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn next_event(member: &mut Option<GroupMember>) -> Result<GroupEvent, GroupError> {
    match member {
        Some(member) => member.next_event().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

impl Control {
    pub(super) fn new(
        inner: Arc<Inner>,
        cluster: Cluster,
        membership_config: MembershipConfig,
        updates: mpsc::UnboundedReceiver<ConfigUpdate>,
        commands: mpsc::UnboundedReceiver<Command>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let (reconfigure_sender, reconfigure_requests) = mpsc::unbounded_channel();
        let max_delay = inner.config.scheduled_rebalance_max_delay_ms;
        let snapshot = inner.configs.snapshot();
        let mut control = Self {
            inner,
            cluster,
            membership_config,
            member: None,
            updates,
            commands,
            reconfigure_requests,
            reconfigure_sender,
            shutdown,
            snapshot,
            running: Work::default(),
            current: None,
            protocol: None,
            assignor: IncrementalCooperativeAssignor::new(max_delay),
            last_completed_generation: -1,
            rejoin_at: None,
            session_key_check_at: None,
            retries: BTreeMap::new(),
        };
        control.member = Some(control.start_member());
        control
    }

    fn start_member(&self) -> GroupMember {
        GroupMember::start(
            self.cluster.clone(),
            self.membership_config.clone(),
            "connect",
            self.protocols(),
        )
    }

    fn mode(&self) -> ConnectProtocolCompatibility {
        self.inner.config.protocol
    }

    /// The sub-protocols and metadata of the next JoinGroup: the config offset acted on, and
    /// (incremental sub-protocols) the assignment in force.
    fn protocols(&self) -> Vec<Protocol> {
        let metadata = WorkerMetadata {
            url: self.inner.url.clone(),
            config_offset: self.snapshot.offset(),
            assignment: self.current.clone(),
        };
        match metadata.join_group_protocols(self.mode()) {
            Ok(protocols) => protocols
                .into_iter()
                .map(|(name, bytes)| Protocol::new(name, bytes))
                .collect(),
            Err(error) => {
                tracing::error!(%error, "cannot encode the worker metadata");
                Vec::new()
            }
        }
    }

    fn publish(&self, change: impl FnOnce(&mut Membership)) {
        self.inner.membership.send_modify(|m| {
            change(m);
            m.running = self.running.clone();
        });
    }

    fn request_rejoin(&mut self, reason: &str) {
        if let Some(member) = &self.member {
            member.set_protocols(self.protocols());
            member.request_rejoin(reason);
        }
    }

    pub(super) async fn run(mut self) {
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                _ = self.shutdown.changed() => break,
                event = next_event(&mut self.member) => self.on_group_event(event).await,
                Some(update) = self.updates.recv() => {
                    let mut batch = vec![update];
                    while let Ok(update) = self.updates.try_recv() {
                        batch.push(update);
                    }
                    self.apply_config_updates(batch).await;
                }
                Some(command) = self.commands.recv() => self.on_command(command).await,
                Some(name) = self.reconfigure_requests.recv() => self.reconfigure(&name).await,
                () = sleep_until(deadline) => self.on_timer().await,
            }
        }
        self.halt().await;
    }

    fn next_deadline(&self) -> Option<Instant> {
        [self.rejoin_at, self.session_key_check_at]
            .into_iter()
            .chain(self.retries.values().map(|(at, _)| Some(*at)))
            .flatten()
            .min()
    }

    /// Graceful shutdown: stop all work (tasks commit their offsets), then leave the group.
    async fn halt(&mut self) {
        tracing::info!("stopping the distributed herder");
        self.inner.worker.stop().await;
        self.running = Work::default();
        self.publish(|m| {
            m.generation = None;
            m.leader = false;
        });
        if let Some(member) = self.member.take() {
            member.close().await;
        }
    }

    async fn on_group_event(&mut self, event: Result<GroupEvent, GroupError>) {
        match event {
            Ok(GroupEvent::Rebalancing(prepare)) => self.on_prepare(prepare).await,
            Ok(GroupEvent::Assign(request)) => self.on_assign(request).await,
            Ok(GroupEvent::Joined(joined)) => self.on_joined(joined).await,
            Err(GroupError::Closed) => {
                tracing::error!("the group membership ended; joining again");
                self.member = Some(self.start_member());
            }
            Err(error) => tracing::warn!(%error, "group membership error"),
        }
    }

    async fn on_prepare(&mut self, prepare: PrepareJoin) {
        let lost = prepare.generation.is_none() && self.current.is_some();
        let eager = self.protocol == Some(ConnectProtocolCompatibility::Eager)
            || self.mode() == ConnectProtocolCompatibility::Eager;
        if eager || lost {
            // Eager rebalancing stops everything before rejoining; a member the coordinator
            // forgot must assume its work was given away.
            tracing::info!(reason = %prepare.reason, lost, "stopping all work before rejoining");
            self.stop_all().await;
            self.current = None;
        }
        self.publish(|m| m.generation = None);
        if let Some(member) = &self.member {
            member.set_protocols(self.protocols());
        }
        prepare.done();
    }

    async fn on_assign(&mut self, request: AssignRequest) {
        if let Err(error) = self
            .inner
            .configs
            .refresh(self.inner.config.worker_sync_timeout)
            .await
        {
            tracing::warn!(%error, "the leader could not read the config topic to its end before assigning");
        }
        let snapshot = self.inner.configs.snapshot();
        let protocol =
            ConnectProtocolCompatibility::from_protocol_name(&request.generation.protocol)
                .unwrap_or(self.mode());
        let members: BTreeMap<String, WorkerMetadata> = request
            .members
            .iter()
            .filter_map(|m| match WorkerMetadata::decode(&m.metadata) {
                Ok(metadata) => Some((m.member_id.clone(), metadata)),
                Err(error) => {
                    tracing::error!(member = %m.member_id, %error, "ignoring a member with unreadable metadata");
                    None
                }
            })
            .collect();
        let config = ConfigSnapshot {
            offset: snapshot.offset(),
            task_counts: snapshot
                .connectors()
                .map(|c| (c.to_owned(), snapshot.tasks(c).len() as u32))
                .collect(),
        };
        let assignment_request = AssignmentRequest {
            leader_id: &request.generation.member_id,
            protocol,
            members: &members,
            snapshot: &config,
            last_completed_generation: self.last_completed_generation,
            current_generation: request.generation.id,
            now_ms: now_ms(),
        };
        let result = if protocol.is_incremental() {
            self.assignor.assign(&assignment_request)
        } else {
            eager::assign(&assignment_request)
        };
        let assignment = match result {
            Ok(assignment) => assignment,
            Err(error) => {
                tracing::error!(%error, "cannot compute the group assignment");
                return;
            }
        };
        self.publish_owners(&assignment, &members);
        let mut encoded = HashMap::new();
        for (member, a) in &assignment.assignments {
            match a.encode() {
                Ok(bytes) => {
                    encoded.insert(member.clone(), bytes);
                }
                Err(error) => tracing::error!(%member, %error, "cannot encode an assignment"),
            }
        }
        request.assign(encoded);
    }

    fn publish_owners(
        &self,
        assignment: &GroupAssignment,
        members: &BTreeMap<String, WorkerMetadata>,
    ) {
        let mut connectors = BTreeMap::new();
        let mut tasks = BTreeMap::new();
        for (member, owned) in &assignment.owned {
            let Some(url) = members.get(member).map(|m| m.url.clone()) else {
                continue;
            };
            for connector in &owned.connectors {
                connectors.insert(connector.clone(), url.clone());
            }
            for task in &owned.tasks {
                tasks.insert(task.clone(), url.clone());
            }
        }
        self.publish(|m| {
            m.connector_owners = connectors;
            m.task_owners = tasks;
        });
    }

    async fn on_joined(&mut self, joined: Joined) {
        let generation = joined.generation;
        let assignment = match Assignment::decode(&joined.assignment) {
            Ok(assignment) => assignment,
            Err(error) => {
                tracing::error!(%error, "cannot read the assignment; rejoining");
                self.request_rejoin("unreadable assignment");
                return;
            }
        };
        self.protocol = ConnectProtocolCompatibility::from_protocol_name(&generation.protocol);
        self.inner.statuses.set_generation(generation.id);
        tracing::info!(
            generation = generation.id,
            leader = generation.is_leader(),
            connectors = ?assignment.connectors,
            tasks = ?assignment.tasks,
            revoked_connectors = ?assignment.revoked_connectors,
            revoked_tasks = ?assignment.revoked_tasks,
            delay_ms = assignment.delay_ms,
            "joined group"
        );
        let behind = assignment.failed() || self.snapshot.offset() < assignment.config_offset;
        if behind
            && let Err(error) = self
                .inner
                .configs
                .refresh(self.inner.config.worker_sync_timeout)
                .await
        {
            tracing::warn!(%error, "could not catch up with the config topic");
            self.unsync_backoff().await;
            return;
        }
        let pending = self.drain_updates();
        self.apply_config_updates(pending).await;
        if assignment.failed() {
            self.request_rejoin("the leader's config offset did not match");
            return;
        }
        let incremental = self
            .protocol
            .is_some_and(ConnectProtocolCompatibility::is_incremental);
        let revoked =
            !assignment.revoked_connectors.is_empty() || !assignment.revoked_tasks.is_empty();
        let delay = assignment.delay_ms;
        let leader_url = assignment.leader_url.clone();
        let mut full = if incremental {
            Assignment::merged_with_previous(assignment, self.current.as_ref())
        } else {
            assignment
        };
        let plan = WorkPlan::between(&self.running, &Work::assigned(&full));
        self.stop_work(&plan.stop).await;
        self.start_work(&plan.start).await;
        full.revoked_connectors.clear();
        full.revoked_tasks.clear();
        full.delay_ms = 0;
        self.current = Some(full);
        self.last_completed_generation = generation.id;
        let leader = generation.is_leader();
        self.publish(|m| {
            m.started = true;
            m.generation = Some(generation.id);
            m.protocol = ConnectProtocolCompatibility::from_protocol_name(&generation.protocol);
            m.leader = leader;
            m.leader_url = Some(leader_url);
            if !leader {
                m.connector_owners.clear();
                m.task_owners.clear();
            }
        });
        self.rejoin_at = (delay > 0)
            .then(|| Instant::now() + Duration::from_millis(delay.unsigned_abs().into()));
        if let Some(member) = &self.member {
            member.set_protocols(self.protocols());
        }
        if revoked {
            // The second round of an incremental rebalance hands out what was revoked.
            self.request_rejoin("work was revoked");
        }
        if leader {
            self.clean_deleted_statuses();
        }
        self.check_session_key().await;
    }

    /// As Java's leader does after each rebalance: removes the statuses of connectors and
    /// tasks that no longer exist. Removing them only when they vanish is not enough, as a
    /// worker that was slow to stop one may still write UNASSIGNED for it afterwards.
    fn clean_deleted_statuses(&self) {
        let snapshot = self.inner.configs.snapshot();
        let statuses = &self.inner.statuses;
        for connector in statuses.store().connectors() {
            if !snapshot.contains(&connector) {
                tracing::debug!(%connector, "cleaning the status of a deleted connector");
                statuses.delete_connector(&connector);
                continue;
            }
            let remaining = snapshot.tasks(&connector);
            for (task, _) in statuses.store().tasks(&connector) {
                if !remaining.contains(&task) {
                    statuses.delete_task(&task);
                }
            }
        }
    }

    /// Leaves the group, waits `worker.unsync.backoff.ms`, and joins again (Java does this when
    /// the worker cannot read the config topic to the offset of its assignment).
    async fn unsync_backoff(&mut self) {
        self.stop_all().await;
        self.current = None;
        self.publish(|m| m.generation = None);
        if let Some(member) = self.member.take() {
            member.close().await;
        }
        let backoff = self.inner.config.worker_unsync_backoff;
        tracing::warn!(?backoff, "left the group, backing off before rejoining");
        tokio::select! {
            _ = self.shutdown.changed() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        self.snapshot = self.inner.configs.snapshot();
        self.member = Some(self.start_member());
    }

    fn drain_updates(&mut self) -> Vec<ConfigUpdate> {
        let mut batch = Vec::new();
        while let Ok(update) = self.updates.try_recv() {
            batch.push(update);
        }
        batch
    }

    /// Acts on the config topic's latest state: work that was deleted stops, work whose config
    /// changed restarts, target states apply, restart requests run, and a rebalance is
    /// requested when connectors or tasks appeared or vanished.
    async fn apply_config_updates(&mut self, updates: Vec<ConfigUpdate>) {
        let after = self.inner.configs.snapshot();
        let before = std::mem::replace(&mut self.snapshot, after);
        let changes = ConfigChanges::between(&before, &self.snapshot, &self.running);
        let mut stop = Work {
            connectors: changes.removed_connectors.clone(),
            tasks: changes.removed_tasks.clone(),
        };
        stop.connectors
            .extend(changes.reconfigured_connectors.iter().cloned());
        self.stop_work(&stop).await;
        for connector in &changes.removed_connectors {
            self.inner.statuses.delete_connector(connector);
        }
        for task in &changes.removed_tasks {
            if self.snapshot.contains(&task.connector) {
                self.inner.statuses.delete_task(task);
            }
        }
        for connector in &changes.reconfigured_connectors {
            self.start_connector(connector).await;
        }
        for task in &changes.reconfigured_tasks {
            self.start_task(task).await;
        }
        for connector in &changes.target_state_changed {
            self.apply_target_state(connector).await;
        }
        for update in updates {
            match update {
                ConfigUpdate::RestartRequested(request) => self.restart(&request).await,
                ConfigUpdate::LoggerLevelUpdated { namespace, level } => {
                    match level.parse::<LogLevel>() {
                        Ok(parsed) => {
                            self.inner.loggers.set_level(&namespace, parsed);
                            tracing::info!(%namespace, %level, "applied a cluster-wide logger level");
                        }
                        Err(error) => {
                            tracing::warn!(%namespace, %level, %error, "ignoring an invalid logger level");
                        }
                    }
                }
                _ => {}
            }
        }
        self.publish(|_| {});
        if changes.rebalance_needed {
            self.request_rejoin("connectors or tasks were added or removed");
        } else if let Some(member) = &self.member {
            member.set_protocols(self.protocols());
        }
        self.check_session_key().await;
    }

    fn target_state(&self, connector: &str) -> TargetState {
        self.snapshot
            .target_state(connector)
            .map_or(TargetState::Started, from_stored)
    }

    async fn apply_target_state(&mut self, connector: &str) {
        let target = self.target_state(connector);
        tracing::info!(%connector, ?target, "applying target state");
        if target == TargetState::Stopped {
            let tasks: Vec<ConnectorTaskId> = self
                .running
                .tasks
                .iter()
                .filter(|t| t.connector == connector)
                .cloned()
                .collect();
            self.stop_work(&Work {
                connectors: Default::default(),
                tasks: tasks.into_iter().collect(),
            })
            .await;
        }
        if let Err(error) = self.inner.worker.set_target_state(connector, target).await {
            tracing::error!(%connector, %error, "cannot apply the target state");
        }
        if target == TargetState::Started && self.running.connectors.contains(connector) {
            self.reconfigure(connector).await;
        }
    }

    async fn stop_all(&mut self) {
        self.inner.worker.stop().await;
        self.running = Work::default();
        self.publish(|_| {});
    }

    async fn stop_work(&mut self, work: &Work) {
        if work.is_empty() {
            return;
        }
        tracing::info!(connectors = ?work.connectors, tasks = ?work.tasks, "stopping");
        let worker = &self.inner.worker;
        futures_util::future::join_all(work.tasks.iter().map(|t| worker.stop_task(t))).await;
        for connector in &work.connectors {
            worker.stop_connector(connector).await;
            self.retries.remove(connector);
        }
        self.running = self.running.minus(work);
        self.publish(|_| {});
    }

    async fn start_work(&mut self, work: &Work) {
        for connector in &work.connectors {
            self.start_connector(connector).await;
        }
        for task in &work.tasks {
            self.start_task(task).await;
        }
        self.publish(|_| {});
    }

    async fn start_connector(&mut self, name: &str) {
        let Some(raw) = self.snapshot.connector_config(name).cloned() else {
            tracing::warn!(connector = name, "not starting a connector without config");
            return;
        };
        self.running.connectors.insert(name.to_owned());
        let statuses = self.inner.statuses.clone();
        let Some(config) = resolve_or_report(&self.inner.worker, &raw, |s| {
            statuses.put_connector(name, s)
        }) else {
            return;
        };
        let target = self.target_state(name);
        let sender = self.reconfigure_sender.clone();
        let callback: ReconfigureCallback = Arc::new(move |connector: &str| {
            let _ = sender.send(connector.to_owned());
        });
        let started = self
            .inner
            .worker
            .start_connector(name, config, target, callback)
            .await;
        if started.is_ok() && target == TargetState::Started {
            self.reconfigure(name).await;
        }
    }

    async fn start_task(&mut self, id: &ConnectorTaskId) {
        let (Some(connector), Some(task)) = (
            self.snapshot.connector_config(&id.connector).cloned(),
            self.snapshot.task_config(id).cloned(),
        ) else {
            tracing::warn!(task = %id, "not starting a task without config");
            return;
        };
        let target = self.target_state(&id.connector);
        if target == TargetState::Stopped {
            return;
        }
        self.running.tasks.insert(id.clone());
        let statuses = self.inner.statuses.clone();
        let Some(connector) =
            resolve_or_report(&self.inner.worker, &connector, |s| statuses.put_task(id, s))
        else {
            return;
        };
        let Some(task) = resolve_or_report(&self.inner.worker, &task, |s| statuses.put_task(id, s))
        else {
            return;
        };
        // A task that cannot start is FAILED with its trace by the worker.
        let _ = self
            .inner
            .worker
            .start_task(id, &connector, task, target)
            .await;
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::RestartConnector(name, reply) => {
                let result = if self.running.connectors.contains(&name) {
                    self.inner.worker.stop_connector(&name).await;
                    self.start_connector(&name).await;
                    Ok(())
                } else {
                    Err(not_assigned("connector"))
                };
                let _ = reply.send(result);
            }
            Command::RestartTask(id, reply) => {
                let result = if self.running.tasks.contains(&id) {
                    self.start_task(&id).await;
                    Ok(())
                } else {
                    Err(not_assigned("task"))
                };
                let _ = reply.send(result);
            }
        }
    }

    /// Runs a KIP-745 restart request for the instances this worker runs.
    async fn restart(&mut self, request: &RestartRequest) {
        let Ok(status) = self.inner.connector_status(&request.connector) else {
            return;
        };
        let plan = RestartPlan::new(request.only_failed, request.include_tasks, &status);
        let worker_id = self.inner.worker.worker_id();
        let restarting = || Status::new(State::Restarting, worker_id.clone());
        if plan.connector && self.running.connectors.contains(&request.connector) {
            self.inner
                .statuses
                .put_connector(&request.connector, restarting());
            self.inner.worker.stop_connector(&request.connector).await;
            self.start_connector(&request.connector).await;
        }
        for task in plan.tasks {
            let id = ConnectorTaskId::new(&request.connector, task);
            if self.running.tasks.contains(&id) {
                self.inner.statuses.put_task(&id, restarting());
                self.start_task(&id).await;
            }
        }
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        if self.rejoin_at.is_some_and(|at| at <= now) {
            self.rejoin_at = None;
            self.request_rejoin("scheduled rebalance");
        }
        if self.session_key_check_at.is_some_and(|at| at <= now) {
            self.session_key_check_at = None;
            self.check_session_key().await;
        }
        let due: Vec<String> = self
            .retries
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            self.reconfigure(&name).await;
        }
    }
}

fn not_assigned(what: &str) -> HerderError {
    HerderError::Conflict(format!(
        "Cannot restart {what} since it is not assigned to this member"
    ))
}
