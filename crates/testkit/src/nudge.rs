//! Nudges for the test broker's group coordinator: tansu starts no new generation when members
//! rejoin with byte-identical metadata (`shared/TEST-BROKER.md`, deviation 5), where Kafka
//! would rebalance, so a Connect cluster waiting on such a rejoin (a scheduled rebalance, a
//! departed member's work) can wait forever. Creating a connector moves the config offset every
//! member puts in its metadata, so the next rejoin is a new generation. The connector is
//! created STOPPED: it has no instance and no tasks, so it changes no task loads.
//!
//! A test that waits for a cluster to converge asks [`Nudges::due`] on every check and creates
//! the connector it names with [`Nudges::body`].
//!
//! ```
//! use std::time::Duration;
//! let mut nudges = ferry_testkit::Nudges::new(Duration::ZERO);
//! let name = nudges.due().expect("due at once with no interval");
//! let body = ferry_testkit::Nudges::body(&name, serde_json::json!({"connector.class": "X"}));
//! assert_eq!(body["initial_state"], "STOPPED");
//! assert!(ferry_testkit::Nudges::accepted(201, &serde_json::Value::Null));
//! ```

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

/// Nudges made in this test binary: names stay unique across the converges of one test and
/// across tests sharing a cluster (a name used before would change nothing).
static MADE: AtomicU32 = AtomicU32::new(0);

/// Paces the nudges of one wait: one per interval since the wait began.
#[derive(Debug)]
pub struct Nudges {
    started: Instant,
    every: Duration,
    rounds: u32,
}

impl Nudges {
    /// A wait that starts now and nudges once per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            started: Instant::now(),
            every,
            rounds: 0,
        }
    }

    /// The name of a new nudge connector when one is due, `None` otherwise.
    pub fn due(&mut self) -> Option<String> {
        if self.started.elapsed() < self.every * (self.rounds + 1) {
            return None;
        }
        self.rounds += 1;
        Some(format!("nudge-{}", MADE.fetch_add(1, Ordering::Relaxed)))
    }

    /// The `POST /connectors` body creating nudge `name` with `config`, STOPPED.
    pub fn body(name: &str, config: Value) -> Value {
        json!({"name": name, "config": config, "initial_state": "STOPPED"})
    }

    /// Whether a `POST /connectors` of a nudge left it in place: created, or found there by a
    /// retry whose first try was applied but not answered in time.
    pub fn accepted(status: u16, body: &Value) -> bool {
        status == 201
            || (status == 409
                && body["message"]
                    .as_str()
                    .is_some_and(|m| m.ends_with("already exists")))
    }
}
