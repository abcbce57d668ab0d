//! Generic group membership (protocol type `connect`) against a real broker.
//!
//! The test broker makes every JoinGroup wait half the session timeout, so the sessions here
//! are short (see TEST-BROKER.md).

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use ferry_kafka::group::{GroupEvent, GroupMember, Joined, MembershipConfig, Protocol};
use ferry_kafka::kafka_protocol::messages::MetadataRequest;
use ferry_kafka::{ClientConfig, Cluster, CoordinatorType};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(60);

fn config(group: &str) -> MembershipConfig {
    MembershipConfig {
        session_timeout: Duration::from_millis(4_000),
        heartbeat_interval: Duration::from_millis(500),
        rebalance_timeout: Duration::from_millis(20_000),
        ..MembershipConfig::connect(group)
    }
}

fn protocols(metadata: &str) -> Vec<Protocol> {
    vec![
        Protocol::new("sessioned", Bytes::from(format!("{metadata}/sessioned"))),
        Protocol::new("compatible", Bytes::from(format!("{metadata}/compatible"))),
    ]
}

/// The leader's assignment: every member learns the whole group's metadata and its own.
fn assign(members: &[(String, Bytes)]) -> HashMap<String, Bytes> {
    let mut all: Vec<String> = members
        .iter()
        .map(|(_, m)| String::from_utf8_lossy(m).into_owned())
        .collect();
    all.sort();
    members
        .iter()
        .map(|(id, m)| {
            let own = String::from_utf8_lossy(m);
            (id.clone(), Bytes::from(format!("{}|{own}", all.join(","))))
        })
        .collect()
}

/// Plays the herder: answers every event and reports completed joins; closes the member (which
/// leaves the group) once the receiver of `joined` is dropped.
async fn drive(
    mut member: GroupMember,
    joined: mpsc::UnboundedSender<Joined>,
    mut rejoin: mpsc::UnboundedReceiver<Vec<Protocol>>,
) {
    loop {
        let event = tokio::select! {
            event = member.next_event() => event,
            Some(protocols) = rejoin.recv() => {
                member.set_protocols(protocols);
                member.request_rejoin("metadata changed");
                continue;
            }
            _ = joined.closed() => {
                member.close().await;
                return;
            }
        };
        match event {
            Ok(GroupEvent::Rebalancing(prepare)) => prepare.done(),
            Ok(GroupEvent::Assign(request)) => {
                let members: Vec<(String, Bytes)> = request
                    .members
                    .iter()
                    .map(|m| (m.member_id.clone(), m.metadata.clone()))
                    .collect();
                request.assign(assign(&members));
            }
            Ok(GroupEvent::Joined(j)) => {
                let _ = joined.send(j);
            }
            Err(ferry_kafka::group::GroupError::Closed) => return,
            Err(e) => eprintln!("member error: {e}"),
        }
    }
}

/// A driven member: its completed joins, and a way to rejoin with new protocols.
struct Driven {
    joined: mpsc::UnboundedReceiver<Joined>,
    rejoin: mpsc::UnboundedSender<Vec<Protocol>>,
}

fn start(bootstrap: &str, group: &str, metadata: &str) -> Driven {
    start_in(
        Cluster::new(ClientConfig::new(bootstrap).unwrap()),
        group,
        metadata,
    )
}

fn start_in(cluster: Cluster, group: &str, metadata: &str) -> Driven {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let member = GroupMember::start(cluster, config(group), "connect", protocols(metadata));
    let (tx, joined) = mpsc::unbounded_channel();
    let (rejoin, commands) = mpsc::unbounded_channel();
    tokio::spawn(drive(member, tx, commands));
    Driven { joined, rejoin }
}

/// The next join whose assignment says the group is exactly `members`.
async fn joined_as(member: &mut Driven, members: &str) -> Joined {
    tokio::time::timeout(WAIT, async {
        loop {
            let joined = member.joined.recv().await.expect("member stopped");
            let text = String::from_utf8_lossy(&joined.assignment).into_owned();
            if text.split('|').next() == Some(members) {
                return joined;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no generation with members {members}"))
}

fn own_part(joined: &Joined) -> String {
    let text = String::from_utf8_lossy(&joined.assignment).into_owned();
    text.split('|').nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn two_members_share_a_generation_and_one_leads() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let mut a = start(&broker.bootstrap(), "g1", "a");
    let mut b = start(&broker.bootstrap(), "g1", "b");
    let both = "a/sessioned,b/sessioned";
    let (ja, jb) = tokio::join!(joined_as(&mut a, both), joined_as(&mut b, both));

    assert_eq!(ja.generation.id, jb.generation.id);
    assert_eq!(ja.generation.leader_id, jb.generation.leader_id);
    assert_eq!(ja.generation.protocol, "sessioned");
    assert_ne!(ja.generation.member_id, jb.generation.member_id);
    assert!(ja.generation.is_leader() ^ jb.generation.is_leader());
    assert_eq!(own_part(&ja), "a/sessioned");
    assert_eq!(own_part(&jb), "b/sessioned");
}

#[tokio::test]
async fn a_leaving_member_hands_everything_to_the_other() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let mut a = start(&broker.bootstrap(), "g2", "a");
    let mut b = start(&broker.bootstrap(), "g2", "b");
    let both = "a/sessioned,b/sessioned";
    let (ja, _) = tokio::join!(joined_as(&mut a, both), joined_as(&mut b, both));

    // Dropping the receiver makes `drive` close the member, which sends LeaveGroup.
    drop(b.joined);
    let alone = joined_as(&mut a, "a/sessioned").await;
    assert!(alone.generation.id > ja.generation.id);
    assert!(alone.generation.is_leader());
    assert_eq!(alone.generation.member_id, ja.generation.member_id);
}

#[tokio::test]
async fn a_killed_member_is_evicted_when_its_session_expires() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let mut a = start(&broker.bootstrap(), "g3", "a");

    // The second member lives in its own runtime: shutting that down stops it dead, with no
    // LeaveGroup, like a killed process.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let bootstrap = broker.bootstrap();
    let mut b = runtime
        .spawn(async move { start(&bootstrap, "g3", "b") })
        .await
        .unwrap();
    let both = "a/sessioned,b/sessioned";
    let (ja, _) = tokio::join!(joined_as(&mut a, both), joined_as(&mut b, both));
    runtime.shutdown_background();

    let alone = joined_as(&mut a, "a/sessioned").await;
    assert!(alone.generation.id > ja.generation.id);
    assert!(alone.generation.is_leader());
}

#[tokio::test]
async fn a_member_rejoins_on_request_with_new_metadata() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let mut a = start(&broker.bootstrap(), "g4", "a");
    let mut b = start(&broker.bootstrap(), "g4", "b");
    let both = "a/sessioned,b/sessioned";
    let (ja, _) = tokio::join!(joined_as(&mut a, both), joined_as(&mut b, both));

    b.rejoin.send(protocols("b2")).unwrap();
    let changed = "a/sessioned,b2/sessioned";
    let (ja2, jb2) = tokio::join!(joined_as(&mut a, changed), joined_as(&mut b, changed));
    assert!(ja2.generation.id > ja.generation.id);
    assert_eq!(ja2.generation.id, jb2.generation.id);
    assert_eq!(own_part(&jb2), "b2/sessioned");
}

#[tokio::test]
async fn a_member_without_the_groups_protocol_gets_an_error() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let mut a = start(&broker.bootstrap(), "g5", "a");
    joined_as(&mut a, "a/sessioned").await;

    let cluster = Cluster::new(ClientConfig::new(&broker.bootstrap()).unwrap());
    let only_eager = vec![Protocol::new("default", Bytes::from_static(b"b"))];
    let mut b = GroupMember::start(cluster, config("g5"), "connect", only_eager);
    let error = tokio::time::timeout(WAIT, async {
        loop {
            match b.next_event().await {
                Ok(GroupEvent::Rebalancing(_)) => {}
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => return e,
            }
        }
    })
    .await
    .expect("no error reported");
    assert_eq!(
        error.kafka_code(),
        Some(ferry_kafka::KafkaCode::InconsistentGroupProtocol)
    );
    b.close().await;
}

#[tokio::test]
async fn a_join_held_past_the_request_timeout_succeeds_and_spares_other_requests() {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    // The test broker holds every JoinGroup for half the session timeout (2 s here): twice
    // `request.timeout.ms`, but well within the rebalance timeout that bounds a JoinGroup.
    let bootstrap = broker.bootstrap();
    let cluster = Cluster::new(
        ClientConfig::from_pairs([
            ("bootstrap.servers", bootstrap.as_str()),
            ("request.timeout.ms", "1000"),
        ])
        .unwrap(),
    );
    assert!(config("g6").session_timeout > 2 * cluster.config().request_timeout);
    let coordinator = cluster
        .coordinator("g6", CoordinatorType::Group)
        .await
        .unwrap();
    // The connection to the same broker that everything but the group's own requests uses.
    let shared = cluster.connection(coordinator.id).await.unwrap();
    let mut member = start_in(cluster.clone(), "g6", "a");

    // Requests keep going to the coordinating broker while it holds the JoinGroup.
    let request = MetadataRequest::default().with_topics(Some(Vec::new()));
    let mut ticks = tokio::time::interval(Duration::from_millis(200));
    let mut answered = 0;
    let joined = tokio::time::timeout(WAIT, async {
        loop {
            tokio::select! {
                joined = member.joined.recv() => return joined.expect("member stopped"),
                _ = ticks.tick() => {
                    shared.send(&request).await.expect("request beside the JoinGroup");
                    answered += 1;
                }
            }
        }
    })
    .await
    .expect("the member never joined");
    assert!(joined.generation.is_leader());
    assert_eq!(own_part(&joined), "a/sessioned");
    assert!(answered > 0);
    assert!(!shared.is_closed(), "the shared connection was closed");
    let group = cluster
        .coordinator_connection("g6", CoordinatorType::Group)
        .await
        .unwrap();
    assert!(!group.is_closed());
    group.send(&request).await.unwrap();
}
