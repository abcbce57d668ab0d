//! One connector instance as the worker holds it (Java's `WorkerConnector`), and the context it
//! talks to the herder through.

use std::sync::Arc;

use ferry_connect::ConnectError;
use ferry_connect::connector::{Connector, ConnectorContext, SinkConnector, SourceConnector};

use super::status::{Status, StatusBackingStore};
use crate::errors::trace;
use crate::herder::TargetState;

/// Called when a connector asks for its tasks to be reconfigured; the argument is its name.
pub type ReconfigureCallback = Arc<dyn Fn(&str) + Send + Sync>;

/// A source or sink connector instance.
#[derive(Debug)]
pub(crate) enum Instance {
    Source(Box<dyn SourceConnector>),
    Sink(Box<dyn SinkConnector>),
}

impl Instance {
    pub fn connector(&mut self) -> &mut dyn Connector {
        match self {
            Self::Source(c) => c.as_mut(),
            Self::Sink(c) => c.as_mut(),
        }
    }
}

/// A connector held by the worker: its instance, whether it is started, and its target state.
#[derive(Debug)]
pub(crate) struct ConnectorRuntime {
    pub instance: Instance,
    pub config: ferry_connect::connector::ConfigMap,
    pub started: bool,
    pub target: TargetState,
}

/// What a connector sees of the runtime (Java's `HerderConnectorContext`).
pub(crate) struct Context {
    pub name: String,
    pub on_reconfigure: ReconfigureCallback,
    pub status: Arc<dyn StatusBackingStore>,
    pub worker_id: String,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorContext")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ConnectorContext for Context {
    fn request_task_reconfiguration(&self) {
        (self.on_reconfigure)(&self.name);
    }

    fn raise_error(&self, error: ConnectError) {
        tracing::error!(connector = %self.name, %error, "connector raised an error");
        self.status
            .put_connector(&self.name, Status::failed(trace(&error), &self.worker_id));
    }
}
