//! Byte formats of the `connect` group protocol: the worker metadata each member sends in
//! JoinGroup and the assignment the leader hands back in SyncGroup.
//!
//! Three sub-protocols exist, one per [`ConnectProtocolCompatibility`]. All share one layout
//! (big-endian, strings with an `i16` length): a 2-byte version header, then the worker's REST
//! URL and config-topic offset; versions 1 and 2 append the worker's current assignment as
//! nullable bytes. Assignments carry an error code, the leader's id and URL, the config offset
//! and connectors with their tasks grouped per connector, task `-1` meaning the connector
//! instance itself; versions 1 and 2 add revoked connectors/tasks and a rejoin delay.
//!
//! Decoding is as lenient as Java's: trailing bytes are ignored, fields missing at the end of a
//! version ≥ 1 message take their defaults, any version ≥ 0 is read with the newest layout, and
//! strings that are not valid UTF-8 are read with replacement characters.

use std::fmt;
use std::str::FromStr;

use bytes::{BufMut, Bytes, BytesMut};

use crate::ConnectorTaskId;

/// The task index that stands for the connector instance itself in an assignment.
pub const CONNECTOR_TASK: i32 = -1;

/// Which `connect` sub-protocols a worker supports, set by the worker config `connect.protocol`.
///
/// ```
/// use ferry_runtime::distributed::protocol::ConnectProtocolCompatibility as P;
/// assert_eq!("sessioned".parse::<P>().unwrap(), P::Sessioned);
/// assert_eq!(P::Sessioned.protocol_name(), "sessioned");
/// assert_eq!(P::Sessioned.advertised(), [P::Sessioned, P::Compatible, P::Eager]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnectProtocolCompatibility {
    /// Stop-the-world rebalancing, protocol name `default`, version 0.
    Eager,
    /// Incremental cooperative rebalancing (KIP-415), protocol name `compatible`, version 1.
    Compatible,
    /// Incremental cooperative rebalancing with session keys for internal REST requests
    /// (KIP-507), protocol name `sessioned`, version 2.
    Sessioned,
}

impl ConnectProtocolCompatibility {
    /// The protocol name announced in JoinGroup and chosen by the group coordinator.
    pub fn protocol_name(self) -> &'static str {
        match self {
            Self::Eager => "default",
            Self::Compatible => "compatible",
            Self::Sessioned => "sessioned",
        }
    }

    /// The version written in the header of this sub-protocol's metadata and assignments.
    pub fn version(self) -> i16 {
        match self {
            Self::Eager => 0,
            Self::Compatible => 1,
            Self::Sessioned => 2,
        }
    }

    /// The sub-protocols a worker in this mode announces in JoinGroup, most preferred first.
    pub fn advertised(self) -> &'static [Self] {
        match self {
            Self::Eager => &[Self::Eager],
            Self::Compatible => &[Self::Compatible, Self::Eager],
            Self::Sessioned => &[Self::Sessioned, Self::Compatible, Self::Eager],
        }
    }

    /// The sub-protocol with this JoinGroup name (case-insensitive, as Java matches it).
    pub fn from_protocol_name(name: &str) -> Option<Self> {
        [Self::Eager, Self::Compatible, Self::Sessioned]
            .into_iter()
            .find(|p| p.protocol_name().eq_ignore_ascii_case(name))
    }

    /// The sub-protocol with this header version.
    pub fn from_version(version: i16) -> Option<Self> {
        match version {
            0 => Some(Self::Eager),
            1 => Some(Self::Compatible),
            2 => Some(Self::Sessioned),
            _ => None,
        }
    }

    /// Whether members rebalance cooperatively (versions 1 and 2).
    pub fn is_incremental(self) -> bool {
        self != Self::Eager
    }
}

/// The `connect.protocol` value was none of `eager`, `compatible`, `sessioned`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Connect protocol compatibility mode: {0}")]
pub struct UnknownCompatibility(pub String);

impl FromStr for ConnectProtocolCompatibility {
    type Err = UnknownCompatibility;

    /// Parses the worker config value, which names the mode, not the protocol.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Eager, Self::Compatible, Self::Sessioned]
            .into_iter()
            .find(|p| p.to_string().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownCompatibility(s.to_owned()))
    }
}

impl fmt::Display for ConnectProtocolCompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Eager => "eager",
            Self::Compatible => "compatible",
            Self::Sessioned => "sessioned",
        })
    }
}

/// Why protocol bytes could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The message ended inside a field.
    #[error("message ends inside field '{field}'")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A required field is absent at the end of the message.
    #[error("missing value for field '{field}' which has no default value")]
    MissingField {
        /// The absent field.
        field: &'static str,
    },
    /// A length prefix was negative where null is not allowed.
    #[error("negative length {length} in field '{field}'")]
    NegativeLength {
        /// The field being read.
        field: &'static str,
        /// The length read.
        length: i32,
    },
    /// The header's version is below 0.
    #[error("unsupported Connect protocol version {0}")]
    UnsupportedVersion(i16),
    /// A string is longer than the `i16` length prefix can express.
    #[error("string of {0} bytes is longer than the maximum string length")]
    StringTooLong(usize),
}

/// The state a worker announces when it joins the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerMetadata {
    /// The worker's advertised REST URL.
    pub url: String,
    /// The config-topic offset the worker has read up to.
    pub config_offset: i64,
    /// What the worker runs now (versions 1 and 2 only); `None` before its first assignment.
    pub assignment: Option<Assignment>,
}

impl WorkerMetadata {
    /// Encodes this metadata for one sub-protocol; the eager one leaves out the assignment, and
    /// the assignment takes the metadata's version in its own header.
    ///
    /// ```
    /// use ferry_runtime::distributed::protocol::{ConnectProtocolCompatibility, WorkerMetadata};
    /// let m = WorkerMetadata { url: "http://w1:8083/".into(), config_offset: 42, assignment: None };
    /// let bytes = m.encode(ConnectProtocolCompatibility::Compatible).unwrap();
    /// assert_eq!(WorkerMetadata::decode(&bytes).unwrap(), m);
    /// ```
    pub fn encode(&self, protocol: ConnectProtocolCompatibility) -> Result<Bytes, ProtocolError> {
        let mut out = BytesMut::new();
        out.put_i16(protocol.version());
        put_string(&mut out, &self.url)?;
        out.put_i64(self.config_offset);
        if protocol.is_incremental() {
            match &self.assignment {
                None => out.put_i32(-1),
                Some(assignment) => {
                    let nested = assignment.encode_with_version(protocol.version())?;
                    out.put_i32(nested.len() as i32);
                    out.put_slice(&nested);
                }
            }
        }
        Ok(out.freeze())
    }

    /// The `(protocol name, metadata)` pairs a worker in `mode` sends in JoinGroup, in order of
    /// preference.
    pub fn join_group_protocols(
        &self,
        mode: ConnectProtocolCompatibility,
    ) -> Result<Vec<(&'static str, Bytes)>, ProtocolError> {
        mode.advertised()
            .iter()
            .map(|p| Ok((p.protocol_name(), self.encode(*p)?)))
            .collect()
    }

    /// Decodes metadata of any version; a version 0 message, or one that ends before the
    /// assignment, has no assignment.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        let version = r.i16("version")?;
        if version < 0 {
            return Err(ProtocolError::UnsupportedVersion(version));
        }
        let url = r.string("url")?;
        let config_offset = r.i64("config-offset")?;
        let assignment = if r.is_empty() {
            None
        } else {
            r.nullable_bytes("allocation")?
                .map(Assignment::decode)
                .transpose()?
        };
        Ok(Self {
            url,
            config_offset,
            assignment,
        })
    }
}

/// Connectors and tasks handed to one worker by the leader, and, for incremental
/// sub-protocols, what it must stop and when to rejoin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The header version: 0 for eager, 1 or 2 for the incremental sub-protocols.
    pub version: i16,
    /// [`Assignment::NO_ERROR`] or [`Assignment::CONFIG_MISMATCH`].
    pub error: i16,
    /// The leader's member id.
    pub leader: String,
    /// The leader's REST URL, where requests for the leader are forwarded.
    pub leader_url: String,
    /// The config-topic offset this assignment was computed at.
    pub config_offset: i64,
    /// Connector instances to run.
    pub connectors: Vec<String>,
    /// Tasks to run.
    pub tasks: Vec<ConnectorTaskId>,
    /// Connector instances to stop (versions 1 and 2).
    pub revoked_connectors: Vec<String>,
    /// Tasks to stop (versions 1 and 2).
    pub revoked_tasks: Vec<ConnectorTaskId>,
    /// Milliseconds after which the member should rejoin, 0 for none (versions 1 and 2).
    pub delay_ms: i32,
}

impl Assignment {
    /// The leader computed the assignment.
    pub const NO_ERROR: i16 = 0;
    /// The leader was behind the config topic; members read to its end and rejoin.
    pub const CONFIG_MISMATCH: i16 = 1;

    /// Whether the leader failed to compute this assignment.
    pub fn failed(&self) -> bool {
        self.error != Self::NO_ERROR
    }

    /// Encodes with this assignment's own version: version 0 leaves out revocations and delay.
    pub fn encode(&self) -> Result<Bytes, ProtocolError> {
        self.encode_with_version(self.version)
    }

    fn encode_with_version(&self, version: i16) -> Result<Bytes, ProtocolError> {
        let mut out = BytesMut::new();
        out.put_i16(version);
        out.put_i16(self.error);
        put_string(&mut out, &self.leader)?;
        put_string(&mut out, &self.leader_url)?;
        out.put_i64(self.config_offset);
        put_grouped(&mut out, &self.connectors, &self.tasks)?;
        if version >= 1 {
            put_grouped(&mut out, &self.revoked_connectors, &self.revoked_tasks)?;
            out.put_i32(self.delay_ms);
        }
        Ok(out.freeze())
    }

    /// Decodes an assignment of any version ≥ 0, as every Java worker does whatever protocol the
    /// group chose.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes);
        let version = r.i16("version")?;
        if version < 0 {
            return Err(ProtocolError::UnsupportedVersion(version));
        }
        let error = r.required("error", Reader::i16)?;
        let leader = r.required("leader", Reader::string)?;
        let leader_url = r.required("leader-url", Reader::string)?;
        let config_offset = r.required("config-offset", Reader::i64)?;
        let (connectors, tasks) = r.grouped("assignment")?;
        let (revoked_connectors, revoked_tasks) = r.grouped("revoked")?;
        let delay_ms = if r.is_empty() { 0 } else { r.i32("delay")? };
        Ok(Self {
            version,
            error,
            leader,
            leader_url,
            config_offset,
            connectors,
            tasks,
            revoked_connectors,
            revoked_tasks,
            delay_ms,
        })
    }

    /// What a member runs after receiving `received` in an incremental rebalance while running
    /// `previous`: what was newly assigned, then its previous work minus what was revoked.
    ///
    /// Only for the incremental sub-protocols: under eager rebalancing a member drops all its
    /// work before rejoining and runs exactly what it receives.
    pub fn merged_with_previous(mut received: Assignment, previous: Option<&Assignment>) -> Self {
        if let Some(previous) = previous {
            let kept_connectors = previous
                .connectors
                .iter()
                .filter(|c| !received.revoked_connectors.contains(c))
                .cloned();
            let kept_tasks = previous
                .tasks
                .iter()
                .filter(|t| !received.revoked_tasks.contains(t))
                .cloned();
            received
                .connectors
                .extend(kept_connectors.collect::<Vec<_>>());
            received.tasks.extend(kept_tasks.collect::<Vec<_>>());
        }
        received
    }
}

/// Writes connectors and tasks as an array of (connector, task indexes), one entry per
/// connector in order of first appearance, the connector instance first as [`CONNECTOR_TASK`].
fn put_grouped(
    out: &mut BytesMut,
    connectors: &[String],
    tasks: &[ConnectorTaskId],
) -> Result<(), ProtocolError> {
    fn group_of<'a>(name: &'a str, groups: &mut Vec<(&'a str, Vec<i32>)>) -> usize {
        groups
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| {
                groups.push((name, Vec::new()));
                groups.len() - 1
            })
    }
    let mut groups: Vec<(&str, Vec<i32>)> = Vec::new();
    for connector in connectors {
        let before = groups.len();
        let at = group_of(connector, &mut groups);
        // A connector listed twice is still one instance.
        if at == before {
            groups[at].1.push(CONNECTOR_TASK);
        }
    }
    for task in tasks {
        let at = group_of(&task.connector, &mut groups);
        groups[at].1.push(task.task);
    }
    out.put_i32(groups.len() as i32);
    for (connector, indexes) in groups {
        put_string(out, connector)?;
        out.put_i32(indexes.len() as i32);
        for index in indexes {
            out.put_i32(index);
        }
    }
    Ok(())
}

fn put_string(out: &mut BytesMut, s: &str) -> Result<(), ProtocolError> {
    let len = i16::try_from(s.len()).map_err(|_| ProtocolError::StringTooLong(s.len()))?;
    out.put_i16(len);
    out.put_slice(s.as_bytes());
    Ok(())
}

/// A cursor over protocol bytes that fails with [`ProtocolError`] instead of panicking.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ProtocolError> {
        if self.rest.len() < n {
            return Err(ProtocolError::Truncated { field });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ProtocolError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, ProtocolError> {
        self.array(field).map(i16::from_be_bytes)
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, ProtocolError> {
        self.array(field).map(i32::from_be_bytes)
    }

    fn i64(&mut self, field: &'static str) -> Result<i64, ProtocolError> {
        self.array(field).map(i64::from_be_bytes)
    }

    /// Reads a field that has no default: absent at the end of the message is an error.
    fn required<T>(
        &mut self,
        field: &'static str,
        read: impl FnOnce(&mut Self, &'static str) -> Result<T, ProtocolError>,
    ) -> Result<T, ProtocolError> {
        if self.is_empty() {
            return Err(ProtocolError::MissingField { field });
        }
        read(self, field)
    }

    fn string(&mut self, field: &'static str) -> Result<String, ProtocolError> {
        let len = self.i16(field)?;
        let len = usize::try_from(len).map_err(|_| ProtocolError::NegativeLength {
            field,
            length: len.into(),
        })?;
        Ok(String::from_utf8_lossy(self.take(len, field)?).into_owned())
    }

    fn nullable_bytes(&mut self, field: &'static str) -> Result<Option<&'a [u8]>, ProtocolError> {
        let len = self.i32(field)?;
        match usize::try_from(len) {
            Ok(len) => self.take(len, field).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Reads an array length; `None` for a null array when `nullable`.
    fn array_len(
        &mut self,
        field: &'static str,
        nullable: bool,
    ) -> Result<Option<usize>, ProtocolError> {
        let len = self.i32(field)?;
        match usize::try_from(len) {
            // Each element takes at least 4 bytes; refusing longer arrays up front keeps a
            // corrupt length from reserving memory.
            Ok(len) if len > self.rest.len() => Err(ProtocolError::Truncated { field }),
            Ok(len) => Ok(Some(len)),
            Err(_) if nullable => Ok(None),
            Err(_) => Err(ProtocolError::NegativeLength { field, length: len }),
        }
    }

    /// Reads an optional, nullable array of (connector, task indexes); absent or null reads as
    /// nothing assigned.
    fn grouped(
        &mut self,
        field: &'static str,
    ) -> Result<(Vec<String>, Vec<ConnectorTaskId>), ProtocolError> {
        let mut connectors = Vec::new();
        let mut tasks = Vec::new();
        if self.is_empty() {
            return Ok((connectors, tasks));
        }
        let Some(len) = self.array_len(field, true)? else {
            return Ok((connectors, tasks));
        };
        for _ in 0..len {
            let connector = self.string("connector")?;
            let count = self.array_len("tasks", false)?.unwrap_or_default();
            for _ in 0..count {
                match self.i32("tasks")? {
                    CONNECTOR_TASK => connectors.push(connector.clone()),
                    task => tasks.push(ConnectorTaskId::new(connector.clone(), task)),
                }
            }
        }
        Ok((connectors, tasks))
    }
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
