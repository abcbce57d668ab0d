//! Test-only helpers for Ferry: start real single-broker Kafka clusters (the tansu test broker) on
//! free ports, start `ferry` processes, and run snippets with the independent client (librdkafka via
//! Python's `confluent-kafka`). Everything started here stops when its handle is dropped, also when
//! a test panics.
//!
//! The broker and the Python environment are installed by `scripts/install-deps`; `scripts/test`
//! runs it first.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let [source, target] = ferry_testkit::Cluster::start_many::<2>().await?;
//! ferry_testkit::python(
//!     "from confluent_kafka import Producer\nimport sys\n\
//!      p = Producer({'bootstrap.servers': sys.argv[1]}); p.produce('t', b'v'); p.flush()",
//!     &[source.bootstrap()],
//! )?;
//! # Ok(()) }
//! ```

mod broker;
mod nudge;
mod paths;
mod process;
mod proxy;
mod python;

pub use broker::Cluster;
pub use nudge::Nudges;
pub use paths::{repo_root, tansu_bin, venv_python};
pub use process::{ChildGuard, free_port};
pub use proxy::FaultProxy;
pub use python::python;
