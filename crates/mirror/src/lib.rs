//! MirrorMaker 2 on Ferry: the source, checkpoint and heartbeat connectors, replication policies,
//! the Heartbeat/Checkpoint/OffsetSync record formats, offset translation, and the dedicated-mode
//! driver that runs flows from an `mm2.properties` file.
