//! MirrorMaker 2 on Ferry: the source, checkpoint and heartbeat connectors, replication policies,
//! the Heartbeat/Checkpoint/OffsetSync record formats, offset translation, and the dedicated-mode
//! driver that runs flows from an `mm2.properties` file.
//!
//! The pure building blocks, each matching Java's MirrorMaker 2:
//! - [`records`]: the internal records and their byte-identical codecs;
//! - [`format`](mod@format): the text Java's KIP-597 formatters print for them;
//! - [`policy`]: replication policies, which name remote and internal topics;
//! - [`filter`]: topic, group and topic-config-property filters;
//! - [`offset_sync_store`]: the per-partition offset-sync store and offset translation;
//! - [`checkpoint`]: which translated offsets become checkpoints.

pub mod checkpoint;
pub mod filter;
pub mod format;
pub mod offset_sync_store;
pub mod policy;
pub mod records;
