//! Generic group membership (Kafka's "classic" group protocol, as Java's `AbstractCoordinator`):
//! join a group with any protocol type, let the elected leader assign, receive the assignment,
//! heartbeat, and rejoin when the coordinator starts a new generation.
//!
//! A [`GroupMember`] runs the protocol in background tasks and talks to its owner through
//! [`GroupMember::next_event`], so a single async loop (the Connect herder, a consumer) can
//! serve other work between rebalances with `tokio::select!`:
//!
//! ```no_run
//! # async fn demo() -> Result<(), ferry_kafka::group::GroupError> {
//! use std::collections::HashMap;
//! use bytes::Bytes;
//! use ferry_kafka::{ClientConfig, Cluster};
//! use ferry_kafka::group::{GroupEvent, GroupMember, MembershipConfig, Protocol};
//!
//! let cluster = Cluster::new(ClientConfig::new("localhost:9092")?);
//! let mut member = GroupMember::start(
//!     cluster,
//!     MembershipConfig::connect("connect-cluster"),
//!     "connect",
//!     vec![Protocol::new("sessioned", Bytes::from_static(b"my metadata"))],
//! );
//! let mut other_work = tokio::time::interval(std::time::Duration::from_secs(1));
//! loop {
//!     tokio::select! {
//!         event = member.next_event() => match event? {
//!             // Stop what must not run during the rebalance; dropping `prepare` lets it go on.
//!             GroupEvent::Rebalancing(prepare) => drop(prepare),
//!             // This member leads: give every member its assignment.
//!             GroupEvent::Assign(request) => {
//!                 let assignments: HashMap<String, Bytes> = request
//!                     .members
//!                     .iter()
//!                     .map(|m| (m.member_id.clone(), Bytes::from_static(b"work")))
//!                     .collect();
//!                 request.assign(assignments);
//!             }
//!             GroupEvent::Joined(joined) => {
//!                 println!("generation {} leader? {}", joined.generation.id, joined.generation.is_leader());
//!                 // after a config change: member.set_protocols(...); member.request_rejoin("config");
//!             }
//!         },
//!         _ = other_work.tick() => { /* serve REST calls, read the config topic, … */ }
//!     }
//! }
//! # }
//! ```

mod driver;
mod heartbeat;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{AbortHandle, JoinHandle};

use super::GroupError;
use crate::cluster::Cluster;
use crate::error::{Error, Result};

/// Settings of one group membership, with Java's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipConfig {
    /// `group.id`.
    pub group_id: String,
    /// `group.instance.id`: set for static membership (no LeaveGroup on close).
    pub group_instance_id: Option<String>,
    /// `session.timeout.ms`: the coordinator evicts a member it has not heard from for this long.
    pub session_timeout: Duration,
    /// `rebalance.timeout.ms` (Connect) or `max.poll.interval.ms` (consumers): how long the
    /// coordinator waits for members to rejoin.
    pub rebalance_timeout: Duration,
    /// `heartbeat.interval.ms`: time between heartbeats.
    pub heartbeat_interval: Duration,
}

impl MembershipConfig {
    /// Kafka Connect's worker defaults: session 10 s, rebalance 60 s, heartbeat 3 s.
    pub fn connect(group_id: impl Into<String>) -> Self {
        Self {
            group_id: group_id.into(),
            group_instance_id: None,
            session_timeout: Duration::from_millis(10_000),
            rebalance_timeout: Duration::from_millis(60_000),
            heartbeat_interval: Duration::from_millis(3_000),
        }
    }

    /// The consumer's defaults: session 45 s, `max.poll.interval.ms` 300 s, heartbeat 3 s.
    pub fn consumer(group_id: impl Into<String>) -> Self {
        Self {
            session_timeout: Duration::from_millis(45_000),
            rebalance_timeout: Duration::from_millis(300_000),
            ..Self::connect(group_id)
        }
    }

    /// Overrides the defaults with `session.timeout.ms`, `rebalance.timeout.ms`,
    /// `max.poll.interval.ms`, `heartbeat.interval.ms` and `group.instance.id` from
    /// `(key, value)` pairs; other keys are ignored.
    ///
    /// ```
    /// use ferry_kafka::group::MembershipConfig;
    /// let config = MembershipConfig::connect("g").with_pairs([("session.timeout.ms", "6000")])?;
    /// assert_eq!(config.session_timeout.as_millis(), 6000);
    /// # Ok::<_, ferry_kafka::Error>(())
    /// ```
    pub fn with_pairs<K, V>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref().trim());
            let millis = || {
                value
                    .parse::<u32>()
                    .map(|ms| Duration::from_millis(ms.into()))
                    .map_err(|e| Error::Config {
                        key: key.to_owned(),
                        reason: format!("{value:?} is not a number of milliseconds: {e}"),
                    })
            };
            match key {
                "session.timeout.ms" => self.session_timeout = millis()?,
                "rebalance.timeout.ms" | "max.poll.interval.ms" => {
                    self.rebalance_timeout = millis()?
                }
                "heartbeat.interval.ms" => self.heartbeat_interval = millis()?,
                "group.instance.id" if !value.is_empty() => {
                    self.group_instance_id = Some(value.to_owned())
                }
                _ => {}
            }
        }
        Ok(self)
    }
}

/// One protocol a member offers: a name (an assignor, or a Connect sub-protocol) and the
/// member's metadata for it. The coordinator picks one protocol all members offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    /// The protocol name (`range`, `cooperative-sticky`, `sessioned`, …).
    pub name: String,
    /// This member's metadata for the protocol, opaque to the coordinator.
    pub metadata: Bytes,
}

impl Protocol {
    /// A protocol with its metadata.
    pub fn new(name: impl Into<String>, metadata: Bytes) -> Self {
        Self {
            name: name.into(),
            metadata,
        }
    }
}

/// A generation of the group as this member joined it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// The generation id, increasing with every rebalance.
    pub id: i32,
    /// This member's id in the group.
    pub member_id: String,
    /// The protocol the coordinator chose.
    pub protocol: String,
    /// The member id of the leader.
    pub leader_id: String,
}

impl Generation {
    /// Whether this member leads the generation (and so computed its assignment).
    pub fn is_leader(&self) -> bool {
        self.member_id == self.leader_id
    }
}

/// What a [`GroupMember`] tells its owner.
#[derive(Debug)]
pub enum GroupEvent {
    /// The member is about to (re)join the group. Release what must be released before a
    /// rebalance (an eager protocol stops all its work here), then drop the [`PrepareJoin`] or
    /// call [`PrepareJoin::done`]: the JoinGroup request waits for it.
    Rebalancing(PrepareJoin),
    /// This member was elected leader: compute every member's assignment and answer with
    /// [`AssignRequest::assign`].
    Assign(AssignRequest),
    /// The member joined a generation and received its assignment.
    Joined(Joined),
}

/// Sent before each JoinGroup that follows a completed (or lost) generation, and before the
/// first one. Like [`AssignRequest`], it may be held while work is stopped elsewhere; protocols
/// set with [`GroupMember::set_protocols`] before it is released go into the JoinGroup.
#[derive(Debug)]
pub struct PrepareJoin {
    /// The generation the member still belongs to; `None` on the first join and when the
    /// coordinator no longer knows the member (its work must be considered lost).
    pub generation: Option<Generation>,
    /// Why the member rejoins.
    pub reason: String,
    done: oneshot::Sender<()>,
}

impl PrepareJoin {
    /// Lets the member send its JoinGroup (as dropping does).
    pub fn done(self) {
        let _ = self.done.send(());
    }
}

/// A member of the group as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMetadata {
    /// The member id.
    pub member_id: String,
    /// Its `group.instance.id`, for static members.
    pub group_instance_id: Option<String>,
    /// Its metadata for the chosen protocol.
    pub metadata: Bytes,
}

/// The leader's job in a rebalance: assign work to every member.
///
/// It may be kept and answered later, from another task too (a Connect leader first reads
/// its config topic to the end): heartbeats go on meanwhile, and the group waits for the
/// answer up to `rebalance.timeout.ms`.
#[derive(Debug)]
pub struct AssignRequest {
    /// The generation being formed (its `protocol` is the one chosen).
    pub generation: Generation,
    /// Every member, with its metadata for the chosen protocol.
    pub members: Vec<MemberMetadata>,
    reply: oneshot::Sender<HashMap<String, Bytes>>,
}

impl AssignRequest {
    /// Sends the assignments (member id → bytes) to the coordinator. Members left out get an
    /// empty assignment. Dropping the request instead fails this rebalance.
    pub fn assign(self, assignments: HashMap<String, Bytes>) {
        let _ = self.reply.send(assignments);
    }
}

/// A completed join: the generation and this member's assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The generation joined.
    pub generation: Generation,
    /// The assignment bytes the leader computed for this member.
    pub assignment: Bytes,
}

/// Where the member is in the protocol (Java's `MemberState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Unjoined,
    /// JoinGroup sent.
    Preparing,
    /// JoinGroup answered, SyncGroup pending.
    Completing,
    Stable,
}

/// State shared by the handle, the driver and the heartbeat task.
#[derive(Debug, Clone)]
struct State {
    phase: Phase,
    generation_id: i32,
    member_id: String,
    protocol: Option<String>,
    leader_id: String,
    /// Why a rejoin is needed, when it is.
    rejoin: Option<String>,
    /// Counts [`GroupMember::request_rejoin`] calls, so that a request made while a join is
    /// under way is not forgotten when that join completes.
    rejoin_requests: u64,
    /// Whether [`GroupEvent::Rebalancing`] must be sent before the next JoinGroup.
    needs_prepare: bool,
    protocols: Vec<Protocol>,
    closing: bool,
}

impl State {
    fn generation(&self) -> Option<Generation> {
        Some(Generation {
            id: self.generation_id,
            member_id: self.member_id.clone(),
            protocol: self.protocol.clone()?,
            leader_id: self.leader_id.clone(),
        })
        .filter(|g| g.id >= 0)
    }

    /// Forgets the generation (and the member id unless `keep_member_id`) after the coordinator
    /// rejected it, and asks for a rejoin.
    fn reset(&mut self, reason: String, keep_member_id: bool) {
        tracing::info!(%reason, "resetting generation");
        self.phase = Phase::Unjoined;
        self.generation_id = -1;
        self.protocol = None;
        self.leader_id.clear();
        if !keep_member_id {
            self.member_id.clear();
        }
        self.rejoin = Some(reason);
        self.needs_prepare = true;
    }

    fn request_rejoin(&mut self, reason: &str) {
        self.rejoin_requests += 1;
        if self.rejoin.is_none() {
            tracing::info!(%reason, "rejoin requested");
            self.rejoin = Some(reason.to_owned());
        }
    }
}

type Shared = Arc<watch::Sender<State>>;

/// A member of one Kafka group, with any protocol type. See the [module docs](self).
///
/// Dropping it leaves the group in the background; [`GroupMember::close`] waits for that.
#[derive(Debug)]
pub struct GroupMember {
    state: Shared,
    events: mpsc::Receiver<Result<GroupEvent, GroupError>>,
    driver: Option<JoinHandle<()>>,
    heartbeat: AbortHandle,
}

impl GroupMember {
    /// Starts joining `config.group_id` with `protocol_type` (`connect`, `consumer`, …),
    /// offering `protocols` in order of preference. Must be called inside a Tokio runtime.
    pub fn start(
        cluster: Cluster,
        config: MembershipConfig,
        protocol_type: &str,
        protocols: Vec<Protocol>,
    ) -> Self {
        let (state, _) = watch::channel(State {
            phase: Phase::Unjoined,
            generation_id: -1,
            member_id: String::new(),
            protocol: None,
            leader_id: String::new(),
            rejoin: Some("initial join".into()),
            rejoin_requests: 0,
            needs_prepare: true,
            protocols,
            closing: false,
        });
        let state = Arc::new(state);
        let (events_tx, events) = mpsc::channel(16);
        let heartbeat = tokio::spawn(heartbeat::run(
            cluster.clone(),
            config.clone(),
            state.clone(),
        ))
        .abort_handle();
        let driver = tokio::spawn(
            driver::Driver {
                cluster,
                config,
                protocol_type: protocol_type.to_owned(),
                state: state.clone(),
                events: events_tx,
            }
            .run(),
        );
        Self {
            state,
            events,
            driver: Some(driver),
            heartbeat,
        }
    }

    /// The next event. Cancel-safe: use it in `tokio::select!`. Errors are reported once; the
    /// member keeps trying to join after them (with backoff). After [`GroupError::Closed`] no
    /// more events come.
    pub async fn next_event(&mut self) -> Result<GroupEvent, GroupError> {
        self.events.recv().await.unwrap_or(Err(GroupError::Closed))
    }

    /// The next event if one is ready, without waiting.
    pub fn try_next_event(&mut self) -> Option<Result<GroupEvent, GroupError>> {
        match self.events.try_recv() {
            Ok(event) => Some(event),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) => Some(Err(GroupError::Closed)),
        }
    }

    /// Replaces the protocols (and metadata) offered in the next JoinGroup. Call
    /// [`GroupMember::request_rejoin`] too to make that happen now.
    pub fn set_protocols(&self, protocols: Vec<Protocol>) {
        self.state.send_modify(|s| s.protocols = protocols);
    }

    /// Asks for a rebalance: the member rejoins the group as soon as it can, with the protocols
    /// set last.
    pub fn request_rejoin(&self, reason: &str) {
        self.state.send_modify(|s| s.request_rejoin(reason));
    }

    /// The generation the member currently belongs to, once joined and synced; `None` while
    /// (re)joining.
    pub fn generation(&self) -> Option<Generation> {
        let state = self.state.borrow();
        if state.phase == Phase::Stable {
            state.generation()
        } else {
            None
        }
    }

    /// The member id given by the coordinator (empty before the first JoinGroup answer).
    pub fn member_id(&self) -> String {
        self.state.borrow().member_id.clone()
    }

    /// Whether a rebalance is pending or in progress.
    pub fn rejoin_pending(&self) -> bool {
        let state = self.state.borrow();
        state.rejoin.is_some() || state.phase != Phase::Stable
    }

    /// Leaves the group (LeaveGroup, unless static) and stops the background tasks.
    pub async fn close(mut self) {
        self.state.send_modify(|s| s.closing = true);
        if let Some(driver) = self.driver.take() {
            // Pending events hold answers the driver may be waiting for: drop them.
            self.events.close();
            while self.events.try_recv().is_ok() {}
            let _ = driver.await;
        }
    }
}

impl Drop for GroupMember {
    fn drop(&mut self) {
        self.state.send_modify(|s| s.closing = true);
        self.heartbeat.abort();
    }
}

/// `Duration` as the protocol's `int32` milliseconds.
fn millis(duration: Duration) -> i32 {
    i32::try_from(duration.as_millis()).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined_state() -> State {
        State {
            phase: Phase::Stable,
            generation_id: 4,
            member_id: "m-1".into(),
            protocol: Some("sessioned".into()),
            leader_id: "m-0".into(),
            rejoin: None,
            rejoin_requests: 0,
            needs_prepare: false,
            protocols: Vec::new(),
            closing: false,
        }
    }

    #[test]
    fn a_generation_needs_an_id_and_a_protocol() {
        let state = joined_state();
        let generation = state.generation().unwrap();
        assert_eq!(generation.id, 4);
        assert!(!generation.is_leader());
        assert!(
            State {
                protocol: None,
                ..joined_state()
            }
            .generation()
            .is_none()
        );
        assert!(
            State {
                generation_id: -1,
                ..joined_state()
            }
            .generation()
            .is_none()
        );
    }

    #[test]
    fn reset_forgets_the_generation_and_maybe_the_member_id() {
        let mut state = joined_state();
        state.reset("ILLEGAL_GENERATION".into(), true);
        assert_eq!((state.phase, state.generation_id), (Phase::Unjoined, -1));
        assert_eq!(state.member_id, "m-1");
        assert!(state.needs_prepare && state.rejoin.is_some());
        state.reset("UNKNOWN_MEMBER_ID".into(), false);
        assert!(state.member_id.is_empty());
    }

    #[test]
    fn rejoin_requests_are_counted_and_keep_the_first_reason() {
        let mut state = joined_state();
        state.request_rejoin("config changed");
        state.request_rejoin("again");
        assert_eq!(state.rejoin.as_deref(), Some("config changed"));
        assert_eq!(state.rejoin_requests, 2);
    }

    #[test]
    fn config_keys_override_defaults() {
        let config = MembershipConfig::consumer("g")
            .with_pairs([
                ("max.poll.interval.ms", "1000"),
                ("heartbeat.interval.ms", "200"),
                ("group.instance.id", "worker-1"),
            ])
            .unwrap();
        assert_eq!(config.rebalance_timeout, Duration::from_millis(1000));
        assert_eq!(config.heartbeat_interval, Duration::from_millis(200));
        assert_eq!(config.group_instance_id.as_deref(), Some("worker-1"));
        assert_eq!(config.session_timeout, Duration::from_millis(45_000));
        let bad = MembershipConfig::connect("g").with_pairs([("session.timeout.ms", "soon")]);
        assert!(matches!(bad, Err(Error::Config { key, .. }) if key == "session.timeout.ms"));
    }
}
