//! Distributed mode's group coordination: the `connect` group protocol's byte formats and the
//! leader's assignors.
//!
//! A worker announces [`protocol::WorkerMetadata`] for each sub-protocol its
//! `connect.protocol` allows; the group coordinator picks one sub-protocol for the group; the
//! leader decodes every member's metadata, computes a [`assignor::GroupAssignment`] with
//! [`eager::assign`] or an [`incremental::IncrementalCooperativeAssignor`], and sends each
//! member its encoded [`protocol::Assignment`]. [`herder::DistributedHerder`] runs all this in a
//! worker, configured by [`config::DistributedConfig`].

pub mod assignor;
pub mod config;
pub mod eager;
pub mod herder;
pub mod incremental;
pub mod protocol;
