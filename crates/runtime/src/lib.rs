//! The Kafka Connect worker runtime: herders (standalone and distributed), the `connect` group
//! protocol and its assignors, the config/offset/status stores on Kafka's internal topics, the REST
//! API, converters, transformations and error handling.

pub mod converters;
pub mod distributed;
pub mod errors;
pub mod herder;
pub mod rest;
pub mod storage;
mod task_id;
pub mod transforms;
pub mod worker;

pub use task_id::ConnectorTaskId;
