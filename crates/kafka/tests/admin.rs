//! Admin calls against a real broker (tansu; see TEST-BROKER.md for what it lacks).

use std::collections::BTreeMap;
use std::time::Duration;

use ferry_kafka::admin::{
    AclBinding, AclFilter, AclOperation, AclPermission, AlterConfigOp, ConfigResource, NewTopic,
    OffsetAndMetadata, OffsetSpec, PatternType, ResourceType,
};
use ferry_kafka::kafka_protocol::messages::ApiKey;
use ferry_kafka::{Admin, ClientConfig, Cluster, Error, KafkaCode};

async fn admin(extra: &[(&str, &str)]) -> (ferry_testkit::Cluster, Admin) {
    let broker = ferry_testkit::Cluster::start().await.unwrap();
    let bootstrap = broker.bootstrap();
    let mut pairs = vec![("bootstrap.servers", bootstrap.as_str())];
    pairs.extend_from_slice(extra);
    let cluster = Cluster::new(ClientConfig::from_pairs(pairs).unwrap());
    (broker, Admin::new(cluster))
}

fn tp(topic: &str, partition: i32) -> (String, i32) {
    (topic.to_owned(), partition)
}

/// Waits until `check` holds, for broker state that settles asynchronously.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn topics_lifecycle() {
    let (_broker, admin) = admin(&[]).await;
    let created = admin
        .create_topics(&[
            NewTopic::new("three", 3, -1).with_config("retention.ms", "123456"),
            NewTopic::new("defaults", -1, -1),
        ])
        .await
        .unwrap();
    assert!(created["three"].is_ok(), "{created:?}");
    assert!(created["defaults"].is_ok(), "{created:?}");
    let again = admin
        .create_topics(&[NewTopic::new("three", 3, -1)])
        .await
        .unwrap();
    assert_eq!(
        again["three"].as_ref().unwrap_err().kafka_code(),
        Some(KafkaCode::TopicAlreadyExists)
    );

    let topics = admin.list_topics().await.unwrap();
    assert!(topics.contains(&"three".to_owned()), "{topics:?}");
    assert!(topics.contains(&"defaults".to_owned()), "{topics:?}");

    let described = admin.describe_topics(&["three", "missing"]).await.unwrap();
    let three = described["three"].as_ref().unwrap();
    assert_eq!(three.partitions.len(), 3);
    assert!(three.partitions.iter().all(|p| p.leader >= 0));
    assert_eq!(
        described["missing"].as_ref().unwrap_err().kafka_code(),
        Some(KafkaCode::UnknownTopicOrPartition)
    );

    let deleted = admin.delete_topics(&["defaults"]).await.unwrap();
    assert!(deleted["defaults"].is_ok(), "{deleted:?}");
    eventually("deleted topic to disappear", || async {
        !admin
            .list_topics()
            .await
            .unwrap()
            .contains(&"defaults".to_owned())
    })
    .await;
}

#[tokio::test]
async fn topic_configs() {
    let (_broker, admin) = admin(&[]).await;
    let created = admin
        .create_topics(&[NewTopic::new("configured", 1, -1).with_config("retention.ms", "123456")])
        .await
        .unwrap();
    created["configured"].clone().unwrap();
    let resource = ConfigResource::Topic("configured".into());
    let value_of = |configs: &BTreeMap<ConfigResource, ferry_kafka::Result<Vec<_>>>, name: &str| {
        configs[&resource]
            .as_ref()
            .unwrap()
            .iter()
            .find(|c: &&ferry_kafka::admin::ConfigEntry| c.name == name)
            .and_then(|c| c.value.clone())
    };
    let configs = admin
        .describe_configs(std::slice::from_ref(&resource))
        .await
        .unwrap();
    assert_eq!(
        value_of(&configs, "retention.ms").as_deref(),
        Some("123456")
    );

    let changes = BTreeMap::from([(
        resource.clone(),
        vec![AlterConfigOp::set("cleanup.policy", "compact")],
    )]);
    let altered = admin.incremental_alter_configs(&changes).await.unwrap();
    altered[&resource].clone().unwrap();
    let configs = admin
        .describe_configs(std::slice::from_ref(&resource))
        .await
        .unwrap();
    assert_eq!(
        value_of(&configs, "cleanup.policy").as_deref(),
        Some("compact")
    );
}

#[tokio::test]
async fn describe_cluster_reports_the_broker() {
    let (broker, admin) = admin(&[]).await;
    let description = admin.describe_cluster().await.unwrap();
    assert_eq!(description.cluster_id, broker.cluster_id());
    assert_eq!(description.brokers.len(), 1);
    assert_eq!(
        description.brokers[0].port.to_string(),
        broker.bootstrap().rsplit(':').next().unwrap()
    );
    let id = description.brokers[0].id;
    let resource = ConfigResource::Broker(id.to_string());
    let configs = admin
        .describe_configs(std::slice::from_ref(&resource))
        .await
        .unwrap();
    // tansu reports explicit overrides only, and a fresh broker has none.
    assert!(
        configs[&resource].as_ref().unwrap().is_empty(),
        "{configs:?}"
    );
    let bad = admin
        .describe_configs(&[ConfigResource::Broker("first".into())])
        .await;
    assert!(matches!(bad, Err(Error::InvalidRequest(_))), "{bad:?}");
}

#[tokio::test]
async fn group_offsets_from_outside_the_group() {
    let (_broker, admin) = admin(&[]).await;
    admin
        .create_topics(&[NewTopic::new("committed", 3, -1)])
        .await
        .unwrap()["committed"]
        .clone()
        .unwrap();
    let offsets = BTreeMap::from([
        (tp("committed", 0), OffsetAndMetadata::new(5)),
        (tp("committed", 2), OffsetAndMetadata::new(7)),
    ]);
    let altered = admin.alter_group_offsets("g1", &offsets).await.unwrap();
    assert_eq!(altered.len(), 2);
    assert!(altered.values().all(Result::is_ok), "{altered:?}");

    let all = admin.list_group_offsets("g1", None).await.unwrap();
    let committed: BTreeMap<_, _> = all.iter().map(|(k, v)| (k.clone(), v.offset)).collect();
    assert_eq!(
        committed,
        BTreeMap::from([(tp("committed", 0), 5), (tp("committed", 2), 7)])
    );
    let some = admin
        .list_group_offsets("g1", Some(&[tp("committed", 2)]))
        .await
        .unwrap();
    assert_eq!(some.len(), 1);
    assert_eq!(some[&tp("committed", 2)].offset, 7);

    let groups = admin.list_groups().await.unwrap();
    assert!(groups.iter().any(|g| g.group_id == "g1"), "{groups:?}");
    let described = admin.describe_groups(&["g1"]).await.unwrap();
    let g1 = described["g1"].as_ref().unwrap();
    assert_eq!(g1.group_id, "g1");
    assert!(g1.members.is_empty());

    // Not offered by the test broker: a typed error, not a panic.
    let err = admin
        .delete_group_offsets("g1", &[tp("committed", 0)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                api: ApiKey::OffsetDelete
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn delete_groups_removes_committed_offsets() {
    let (_broker, admin) = admin(&[]).await;
    admin
        .create_topics(&[NewTopic::new("doomed-topic", 1, -1)])
        .await
        .unwrap()["doomed-topic"]
        .clone()
        .unwrap();
    let offsets = BTreeMap::from([(tp("doomed-topic", 0), OffsetAndMetadata::new(3))]);
    let altered = admin.alter_group_offsets("doomed", &offsets).await.unwrap();
    assert!(altered.values().all(Result::is_ok), "{altered:?}");
    assert_eq!(
        admin
            .list_group_offsets("doomed", None)
            .await
            .unwrap()
            .len(),
        1
    );

    let deleted = admin
        .delete_groups(&["doomed", "never-existed"])
        .await
        .unwrap();
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    assert!(deleted["doomed"].is_ok(), "{deleted:?}");
    // Kafka answers GROUP_ID_NOT_FOUND for an unknown group; tansu 0.6.0 answers NONE.
    let unknown = &deleted["never-existed"];
    assert!(
        unknown.is_ok()
            || unknown.as_ref().unwrap_err().kafka_code() == Some(KafkaCode::GroupIdNotFound),
        "{unknown:?}"
    );
    let left = admin.list_group_offsets("doomed", None).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
    let groups = admin.list_groups().await.unwrap();
    assert!(groups.iter().all(|g| g.group_id != "doomed"), "{groups:?}");
}

#[tokio::test]
async fn list_offsets_earliest_and_latest() {
    let (broker, admin) = admin(&[]).await;
    admin
        .create_topics(&[NewTopic::new("offsets", 1, -1)])
        .await
        .unwrap()["offsets"]
        .clone()
        .unwrap();
    // One batch per record: tansu's "latest" is the last batch's base offset + 1.
    ferry_testkit::python(
        "from confluent_kafka import Producer\nimport sys\n\
         p = Producer({'bootstrap.servers': sys.argv[1]})\n\
         for i in range(3):\n    p.produce('offsets', b'v'); p.flush()\n",
        &[broker.bootstrap()],
    )
    .unwrap();
    let specs = BTreeMap::from([(tp("offsets", 0), OffsetSpec::Earliest)]);
    let earliest = admin.list_offsets(&specs).await.unwrap();
    assert_eq!(earliest[&tp("offsets", 0)].as_ref().unwrap().offset, 0);
    let specs = BTreeMap::from([(tp("offsets", 0), OffsetSpec::Latest)]);
    let latest = admin.list_offsets(&specs).await.unwrap();
    assert_eq!(latest[&tp("offsets", 0)].as_ref().unwrap().offset, 3);
    let specs = BTreeMap::from([(tp("missing", 0), OffsetSpec::Latest)]);
    let missing = admin.list_offsets(&specs).await.unwrap();
    let err = missing[&tp("missing", 0)].as_ref().unwrap_err();
    assert_eq!(err.kafka_code(), Some(KafkaCode::UnknownTopicOrPartition));
    // Failed at once from the metadata, not after retries until the request timeout.
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn unsupported_and_broken_calls_give_typed_errors() {
    let (_broker, admin) = admin(&[("request.timeout.ms", "3000")]).await;
    admin
        .create_topics(&[NewTopic::new("grow", 1, -1)])
        .await
        .unwrap()["grow"]
        .clone()
        .unwrap();

    let err = admin
        .create_partitions(&BTreeMap::from([("grow".to_owned(), 4)]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                api: ApiKey::CreatePartitions
            }
        ),
        "{err}"
    );

    let acl = AclBinding {
        resource_type: ResourceType::Topic,
        resource_name: "grow".into(),
        pattern_type: PatternType::Literal,
        principal: "User:alice".into(),
        host: "*".into(),
        operation: AclOperation::Read,
        permission: AclPermission::Allow,
    };
    let created = admin.create_acls(&[acl]).await;
    assert!(
        matches!(created, Err(Error::Protocol(_))),
        "tansu answers CreateAcls with a truncated reply: {created:?}"
    );
    // Nothing was created, and DescribeAcls itself works.
    let described = admin.describe_acls(&AclFilter::any()).await.unwrap();
    assert!(described.is_empty(), "{described:?}");

    let deleted = admin
        .delete_records(&BTreeMap::from([(tp("grow", 0), 0)]))
        .await;
    // The broker drops the connection on every attempt; retries end in a typed error.
    assert!(
        matches!(deleted, Err(Error::Disconnected { .. } | Error::Io { .. })),
        "{deleted:?}"
    );

    // The client recovers: the next call works on a fresh connection.
    let topics = admin.list_topics().await.unwrap();
    assert!(topics.contains(&"grow".to_owned()));
}
