//! An async Kafka client built on the `kafka-protocol` codec: connections, cluster metadata,
//! producer, fetcher, generic group membership and admin calls — everything Kafka Connect and
//! MirrorMaker 2 need, including group membership with any protocol type (`connect`), which no
//! other Rust client exposes.
//!
//! Layers, each usable alone:
//! - [`connection`]: one negotiated, pipelined connection to one broker
//!   ([`Connection::send`] sends any `kafka-protocol` request at the best common version);
//! - [`cluster`]: [`ClientConfig`] (Java's common client keys and defaults) and [`Cluster`]
//!   (metadata cache, one shared connection per broker, coordinators, backoff and retries);
//! - [`admin`]: [`Admin`], the admin calls Connect and MirrorMaker 2 use.
//!
//! Errors are one [`Error`] enum; Kafka's error codes are typed as [`KafkaCode`].
//!
//! ```no_run
//! # async fn demo() -> ferry_kafka::Result<()> {
//! use ferry_kafka::{Admin, ClientConfig, Cluster};
//! let cluster = Cluster::new(ClientConfig::new("localhost:9092")?);
//! let admin = Admin::new(cluster.clone());
//! for topic in admin.list_topics().await? {
//!     println!("{topic}");
//! }
//! # Ok(()) }
//! ```

pub mod admin;
pub mod cluster;
pub mod connection;
pub mod consumer;
pub mod error;
pub mod group;
pub mod producer;

pub use admin::Admin;
pub use cluster::{ClientConfig, Cluster, CoordinatorType};
pub use connection::Connection;
pub use consumer::{Consumer, ConsumerConfig, ConsumerRecord, TopicPartition};
pub use error::{Error, KafkaCode, Result};
pub use group::{GroupEvent, GroupMember};
pub use kafka_protocol;
pub use producer::{Producer, ProducerRecord, RecordMetadata};
