//! An async Kafka client built on the `kafka-protocol` codec: connections, cluster metadata,
//! producer, fetcher, generic group membership and admin calls — everything Kafka Connect and
//! MirrorMaker 2 need, including group membership with any protocol type (`connect`), which no
//! other Rust client exposes.
