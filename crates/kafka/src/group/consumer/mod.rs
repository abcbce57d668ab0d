//! The consumer group protocol (protocol type `consumer`, Java's `ConsumerCoordinator`): a
//! [`GroupConsumer`] subscribes to topics, takes part in its group's rebalances (eager or
//! cooperative, KIP-429), reads its partitions with a [`Consumer`] and commits offsets.
//! [`GroupConsumer::poll_events`] also reports revoked, assigned and lost partitions (Java's
//! `ConsumerRebalanceListener`), holding a rebalance while its owner commits.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ferry_kafka::group::GroupError> {
//! use std::time::Duration;
//! use ferry_kafka::consumer::ConsumerConfig;
//! use ferry_kafka::group::consumer::{GroupConsumer, GroupConsumerConfig};
//! use ferry_kafka::{ClientConfig, Cluster};
//!
//! let cluster = Cluster::new(ClientConfig::new("localhost:9092")?);
//! let mut consumer = GroupConsumer::new(
//!     cluster,
//!     ConsumerConfig::default(),
//!     GroupConsumerConfig::new("my-group"),
//! );
//! consumer.subscribe(["orders"]);
//! loop {
//!     for record in consumer.poll(Duration::from_secs(1)).await? {
//!         println!("{}-{}@{}", record.topic, record.partition, record.offset);
//!     }
//!     // With enable.auto.commit (the default) positions are committed every 5 s.
//! }
//! # }
//! ```

pub mod assignor;
mod commit;
mod config;
pub mod protocol;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use config::GroupConsumerConfig;

use self::assignor::{AssignorMember, RebalanceProtocol};
use self::commit::Committer;
use self::protocol::{Assignment, LATEST_VERSION, Subscription};
use super::{
    AssignRequest, Generation, GroupError, GroupEvent, GroupMember, Joined, PrepareJoin, Protocol,
};
use crate::admin::OffsetAndMetadata;
use crate::cluster::Cluster;
use crate::consumer::{Consumer, ConsumerConfig, ConsumerRecord, TopicPartition};

/// What [`GroupConsumer::poll_events`] returns: records, or a change of the assignment (Java's
/// `ConsumerRebalanceListener` callbacks, as values an async owner can act on in its own loop).
#[derive(Debug)]
pub enum PollEvent {
    /// Records of owned partitions (empty when none arrived in time).
    Records(Vec<ConsumerRecord>),
    /// These partitions are about to be given up (`onPartitionsRevoked`): they are still
    /// assigned and their positions still readable, and the rebalance waits until the next
    /// poll, so commit their offsets (and close their work) now. Under the eager protocol this
    /// comes before the JoinGroup; under the cooperative one before the second rebalance that
    /// hands them to their new owner.
    Revoked(Vec<TopicPartition>),
    /// These partitions were assigned and positioned at their committed offsets (or the
    /// `auto.offset.reset` position) (`onPartitionsAssigned`); seek here to start elsewhere.
    Assigned(Vec<TopicPartition>),
    /// These partitions were lost without a chance to commit, because the coordinator no
    /// longer knows this member (`onPartitionsLost`); another member may already own them.
    Lost(Vec<TopicPartition>),
}

/// A member of a consumer group reading the partitions the group assigns it. See the
/// [module docs](self).
#[derive(Debug)]
pub struct GroupConsumer {
    cluster: Cluster,
    consumer: Consumer,
    config: GroupConsumerConfig,
    allow_auto_create: bool,
    rack: Option<String>,
    member: Option<GroupMember>,
    topics: Vec<String>,
    /// The partitions this member owns (assigned and not revoked).
    owned: BTreeSet<TopicPartition>,
    /// Owned partitions (paused) whose committed offsets are still to be looked up.
    unpositioned: BTreeSet<TopicPartition>,
    /// The generation of the last completed join.
    generation: Option<Generation>,
    next_auto_commit: Instant,
    /// Events for the next polls.
    events: VecDeque<PollEvent>,
    /// Partitions reported revoked, released at the next poll, with the JoinGroup that waits
    /// for that (eager) or `None` when the second rebalance is to be requested (cooperative).
    releasing: Option<(Vec<TopicPartition>, Option<PrepareJoin>)>,
}

impl GroupConsumer {
    /// A consumer of `config.membership.group_id` reading through `cluster`. Nothing happens
    /// until [`GroupConsumer::subscribe`].
    pub fn new(cluster: Cluster, consumer: ConsumerConfig, config: GroupConsumerConfig) -> Self {
        let allow_auto_create = consumer.allow_auto_create_topics;
        let rack = Some(consumer.client_rack.clone()).filter(|r| !r.is_empty());
        Self {
            consumer: Consumer::new(cluster.clone(), consumer),
            cluster,
            next_auto_commit: Instant::now() + config.auto_commit_interval,
            config,
            allow_auto_create,
            rack,
            member: None,
            topics: Vec::new(),
            owned: BTreeSet::new(),
            unpositioned: BTreeSet::new(),
            generation: None,
            events: VecDeque::new(),
            releasing: None,
        }
    }

    /// The rebalance protocol: cooperative when every configured assignor supports it, as in
    /// Java.
    pub fn rebalance_protocol(&self) -> RebalanceProtocol {
        let cooperative = self.config.assignors.iter().all(|a| {
            a.supported_protocols()
                .contains(&RebalanceProtocol::Cooperative)
        });
        if cooperative {
            RebalanceProtocol::Cooperative
        } else {
            RebalanceProtocol::Eager
        }
    }

    /// Subscribes to `topics` (replacing the previous subscription), joining the group or
    /// rejoining it with the new subscription.
    pub fn subscribe<S: Into<String>>(&mut self, topics: impl IntoIterator<Item = S>) {
        self.topics = topics.into_iter().map(Into::into).collect();
        let protocols = self.protocols();
        match &self.member {
            Some(member) => {
                member.set_protocols(protocols);
                member.request_rejoin("the subscription changed");
            }
            None => {
                self.member = Some(GroupMember::start(
                    self.cluster.clone(),
                    self.config.membership.clone(),
                    "consumer",
                    protocols,
                ));
            }
        }
    }

    /// The partitions assigned to this member now.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.owned.iter().cloned().collect()
    }

    /// The generation of the last completed rebalance.
    pub fn generation(&self) -> Option<&Generation> {
        self.generation.as_ref()
    }

    /// The underlying fetcher (positions, pause/resume, seeks).
    pub fn consumer(&self) -> &Consumer {
        &self.consumer
    }

    /// Takes part in rebalances and returns the records that arrive within `timeout`.
    /// Rebalance work (revoking, assigning, the leader's assignment) happens inside `poll`, so
    /// call it regularly (within `max.poll.interval.ms`). Owners that must act on rebalances
    /// (commit before partitions go, set up newly assigned ones) use
    /// [`GroupConsumer::poll_events`] instead.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>, GroupError> {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if let PollEvent::Records(records) = self.poll_events(remaining).await? {
                return Ok(records);
            }
        }
    }

    /// Like [`GroupConsumer::poll`], but reports changes of the assignment as they happen,
    /// one [`PollEvent`] per call, before any record of the new assignment. A revocation holds
    /// the rebalance until the next call, so that offsets committed in between (with
    /// [`GroupConsumer::commit_offsets`]) are where the next owner starts.
    ///
    /// ```no_run
    /// # async fn demo(mut consumer: ferry_kafka::group::consumer::GroupConsumer)
    /// # -> Result<(), ferry_kafka::group::GroupError> {
    /// use std::collections::BTreeMap;
    /// use std::time::Duration;
    /// use ferry_kafka::admin::OffsetAndMetadata;
    /// use ferry_kafka::group::consumer::PollEvent;
    ///
    /// let mut processed = BTreeMap::new();
    /// loop {
    ///     match consumer.poll_events(Duration::from_secs(1)).await? {
    ///         PollEvent::Records(records) => {
    ///             for record in records {
    ///                 let tp = ferry_kafka::consumer::TopicPartition::new(
    ///                     record.topic.to_string(),
    ///                     record.partition,
    ///                 );
    ///                 processed.insert(tp, OffsetAndMetadata::new(record.offset + 1));
    ///             }
    ///         }
    ///         PollEvent::Revoked(partitions) => {
    ///             let offsets = partitions
    ///                 .iter()
    ///                 .filter_map(|tp| Some((tp.clone(), processed.remove(tp)?)))
    ///                 .collect();
    ///             consumer.commit_offsets(offsets).await?;
    ///         }
    ///         PollEvent::Lost(partitions) => partitions.iter().for_each(|tp| {
    ///             processed.remove(tp);
    ///         }),
    ///         PollEvent::Assigned(_) => {}
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn poll_events(&mut self, timeout: Duration) -> Result<PollEvent, GroupError> {
        let deadline = Instant::now() + timeout;
        self.release_revoked()?;
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(event);
            }
            while self.events.is_empty()
                && let Some(event) = self.member_mut()?.try_next_event()
            {
                self.handle(event?).await?;
            }
            if !self.events.is_empty() {
                continue;
            }
            if !self.unpositioned.is_empty() {
                let positioned = self.position_new_partitions().await?;
                return Ok(PollEvent::Assigned(positioned));
            }
            if self.generation.is_some() && !self.owned.is_empty() {
                break;
            }
            let member = self.member_mut()?;
            match tokio::time::timeout_at(deadline, member.next_event()).await {
                Ok(event) => self.handle(event?).await?,
                Err(_) => return Ok(PollEvent::Records(Vec::new())),
            }
        }
        self.maybe_auto_commit();
        let remaining = deadline.saturating_duration_since(Instant::now());
        Ok(PollEvent::Records(self.consumer.poll(remaining).await?))
    }

    /// Commits the current positions of the owned partitions and waits for the answer.
    pub async fn commit(&self) -> Result<(), GroupError> {
        self.commit_offsets(self.positions()).await
    }

    /// Commits `offsets` (the offsets of the next records to read, with optional metadata)
    /// as this member and waits for the answer.
    pub async fn commit_offsets(
        &self,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<(), GroupError> {
        Ok(self.committer().commit(&self.cluster, &offsets).await?)
    }

    /// Commits `offsets` in the background; the handle yields the outcome.
    pub fn commit_offsets_async(
        &self,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> JoinHandle<Result<(), GroupError>> {
        let committer = self.committer();
        let cluster = self.cluster.clone();
        tokio::spawn(async move { Ok(committer.commit(&cluster, &offsets).await?) })
    }

    /// The group's committed offsets for `partitions`, or for every partition it has
    /// committed with `None`. Partitions without a committed offset are left out.
    pub async fn committed(
        &self,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>, GroupError> {
        let group = &self.config.membership.group_id;
        Ok(commit::committed(&self.cluster, group, partitions).await?)
    }

    /// Commits the positions (with `enable.auto.commit`) and leaves the group.
    pub async fn close(mut self) {
        if self.config.enable_auto_commit
            && let Err(error) = self.commit().await
        {
            tracing::warn!(%error, "final auto-commit failed");
        }
        if let Some(member) = self.member.take() {
            member.close().await;
        }
    }

    /// Starts newly assigned partitions at their committed offsets (the others at the
    /// `auto.offset.reset` position) and returns them; on failure they stay paused and the
    /// next poll retries.
    async fn position_new_partitions(&mut self) -> Result<Vec<TopicPartition>, GroupError> {
        let partitions: Vec<TopicPartition> = self.unpositioned.iter().cloned().collect();
        let committed = self.committed(Some(&partitions)).await?;
        for tp in &partitions {
            if let Some(offset) = committed.get(tp) {
                self.consumer.seek(tp, offset.offset)?;
            }
        }
        self.consumer.resume(&partitions);
        self.unpositioned.clear();
        Ok(partitions)
    }

    fn member_mut(&mut self) -> Result<&mut GroupMember, GroupError> {
        self.member.as_mut().ok_or(GroupError::Closed)
    }

    fn committer(&self) -> Committer {
        Committer {
            group_id: self.config.membership.group_id.clone(),
            group_instance_id: self.config.membership.group_instance_id.clone(),
            generation: self.generation.clone(),
        }
    }

    fn positions(&self) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
        self.consumer
            .positions()
            .into_iter()
            .filter(|(tp, _)| self.owned.contains(tp))
            .map(|(tp, offset)| (tp, OffsetAndMetadata::new(offset)))
            .collect()
    }

    fn maybe_auto_commit(&mut self) {
        if !self.config.enable_auto_commit || Instant::now() < self.next_auto_commit {
            return;
        }
        self.next_auto_commit = Instant::now() + self.config.auto_commit_interval;
        let commit = self.commit_offsets_async(self.positions());
        tokio::spawn(async move {
            if let Ok(Err(error)) = commit.await {
                tracing::warn!(%error, "auto-commit failed");
            }
        });
    }

    /// The protocols offered in JoinGroup: one per assignor, in preference order.
    fn protocols(&self) -> Vec<Protocol> {
        let generation = self.generation.as_ref().map_or(-1, |g| g.id);
        self.config
            .assignors
            .iter()
            .map(|assignor| {
                let subscription = Subscription {
                    topics: self.topics.clone(),
                    user_data: assignor.user_data(generation),
                    owned_partitions: self.owned.iter().cloned().collect(),
                    generation_id: generation,
                    rack_id: self.rack.clone(),
                };
                Protocol::new(assignor.name(), subscription.encode(LATEST_VERSION))
            })
            .collect()
    }

    async fn handle(&mut self, event: GroupEvent) -> Result<(), GroupError> {
        match event {
            GroupEvent::Rebalancing(prepare) => self.prepare(prepare).await,
            GroupEvent::Assign(request) => self.lead(request).await,
            GroupEvent::Joined(joined) => self.joined(joined).await,
        }
    }

    /// Before a (re)join: revoke everything (eager) or drop what is lost; then offer the
    /// current subscription and ownership.
    async fn prepare(&mut self, prepare: PrepareJoin) -> Result<(), GroupError> {
        if prepare.generation.is_none() {
            let lost: Vec<TopicPartition> =
                self.owned.difference(&self.unpositioned).cloned().collect();
            if !lost.is_empty() {
                tracing::info!(partitions = ?lost, "partitions lost");
                self.events.push_back(PollEvent::Lost(lost));
            }
            self.consumer.unassign();
            self.owned.clear();
            self.unpositioned.clear();
            self.generation = None;
        } else if self.rebalance_protocol() == RebalanceProtocol::Eager && !self.owned.is_empty() {
            let owned: Vec<TopicPartition> = self.owned.iter().cloned().collect();
            return self.revoke(owned, Some(prepare)).await;
        }
        let protocols = self.protocols();
        self.member_mut()?.set_protocols(protocols);
        prepare.done();
        Ok(())
    }

    /// Starts giving up `partitions`: commits their positions under auto-commit and tells the
    /// owner, who may commit too before the next poll releases them. Partitions the owner
    /// has not been told about yet (still unpositioned) go at once.
    async fn revoke(
        &mut self,
        partitions: Vec<TopicPartition>,
        prepare: Option<PrepareJoin>,
    ) -> Result<(), GroupError> {
        let announced: Vec<TopicPartition> = partitions
            .iter()
            .filter(|tp| !self.unpositioned.contains(*tp))
            .cloned()
            .collect();
        self.releasing = Some((partitions, prepare));
        if announced.is_empty() {
            return self.release_revoked();
        }
        if self.config.enable_auto_commit {
            let positions = self
                .positions()
                .into_iter()
                .filter(|(tp, _)| announced.contains(tp))
                .collect();
            if let Err(error) = self.commit_offsets(positions).await {
                tracing::warn!(%error, "commit before revocation failed");
            }
        }
        tracing::info!(partitions = ?announced, "revoking partitions");
        self.events.push_back(PollEvent::Revoked(announced));
        Ok(())
    }

    /// Releases the partitions reported revoked, then lets the rebalance go on: the eager
    /// JoinGroup, or the cooperative second rebalance.
    fn release_revoked(&mut self) -> Result<(), GroupError> {
        let Some((partitions, prepare)) = self.releasing.take() else {
            return Ok(());
        };
        self.consumer.incremental_unassign(&partitions);
        for tp in &partitions {
            self.owned.remove(tp);
            self.unpositioned.remove(tp);
        }
        let protocols = self.protocols();
        let member = self.member_mut()?;
        member.set_protocols(protocols);
        match prepare {
            Some(prepare) => prepare.done(),
            None => member.request_rejoin("partitions were revoked"),
        }
        Ok(())
    }

    /// The leader's part: decode every subscription and run the chosen assignor.
    async fn lead(&mut self, request: AssignRequest) -> Result<(), GroupError> {
        let protocol = request.generation.protocol.as_str();
        let assignor = self
            .config
            .assignors
            .iter()
            .find(|a| a.name() == protocol)
            .ok_or_else(|| {
                GroupError::InconsistentProtocol(format!("no assignor named {protocol:?}"))
            })?;
        let members = request
            .members
            .iter()
            .map(|m| {
                Ok(AssignorMember {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    subscription: Subscription::decode(&m.metadata)?,
                })
            })
            .collect::<Result<Vec<_>, GroupError>>()?;
        let topics: BTreeSet<&str> = members
            .iter()
            .flat_map(|m| m.subscription.topics.iter().map(String::as_str))
            .collect();
        let topics: Vec<&str> = topics.into_iter().collect();
        let metadata = self
            .cluster
            .metadata_for(&topics, self.allow_auto_create)
            .await?;
        let partitions_per_topic: BTreeMap<String, i32> = topics
            .iter()
            .filter_map(|t| metadata.topics.get(*t))
            .filter(|t| t.error.is_none())
            .map(|t| {
                let count = i32::try_from(t.partitions.len()).unwrap_or(i32::MAX);
                (t.name.clone(), count)
            })
            .collect();
        let assignments: HashMap<String, Bytes> = assignor
            .assign(&partitions_per_topic, &members)
            .into_iter()
            .map(|(member, partitions)| {
                let assignment = Assignment {
                    partitions,
                    user_data: None,
                };
                (member, assignment.encode(LATEST_VERSION))
            })
            .collect();
        tracing::info!(
            generation = request.generation.id,
            members = members.len(),
            "assigned partitions"
        );
        request.assign(assignments);
        Ok(())
    }

    /// After a join: take the new assignment; under the cooperative protocol, revoke what
    /// moved away and rejoin so that its new owner gets it (KIP-429).
    async fn joined(&mut self, joined: Joined) -> Result<(), GroupError> {
        let assignment = Assignment::decode(&joined.assignment)?;
        self.generation = Some(joined.generation);
        let assigned: BTreeSet<TopicPartition> = assignment.partitions.into_iter().collect();
        let revoked: Vec<TopicPartition> = self.owned.difference(&assigned).cloned().collect();
        let added: Vec<TopicPartition> = assigned.difference(&self.owned).cloned().collect();
        if !added.is_empty() {
            tracing::info!(partitions = ?added, "assigned partitions");
            // Paused until their committed offsets are known, so that nothing is read from
            // the reset position meanwhile.
            self.consumer.incremental_assign(added.iter().cloned());
            self.consumer.pause(&added);
            self.unpositioned.extend(added.iter().cloned());
            self.owned.extend(added);
        }
        if !revoked.is_empty() {
            // Eager members own nothing here; a cooperative one rejoins once the owner has
            // committed, so that the new owner starts where it stopped (KIP-429).
            return self.revoke(revoked, None).await;
        }
        Ok(())
    }
}
