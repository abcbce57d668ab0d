//! Running one pipeline step under the connector's error policy (Java's
//! `RetryWithToleranceOperator`), and the reporters a failure is handed to.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ferry_connect::ConnectError;
use ferry_connect::record::SourceRecord;
use ferry_kafka::ConsumerRecord;
use tokio::time::Instant;

use super::{ErrorConfig, Stage, Tolerance, trace};
use crate::ConnectorTaskId;

/// The first retry waits this long, then twice as long each time (Java's `RETRIES_DELAY_MIN_MS`).
const RETRY_DELAY_MIN: Duration = Duration::from_millis(300);

/// What failed, where, and on which record.
#[derive(Debug)]
pub struct ErrorContext<'a> {
    /// The task.
    pub task: &'a ConnectorTaskId,
    /// The failing step.
    pub stage: Stage,
    /// The class (converter, transformation, connector) that failed.
    pub class: &'a str,
    /// The error.
    pub error: &'a ConnectError,
    /// The record read from Kafka (sinks).
    pub consumed: Option<&'a ConsumerRecord>,
    /// The record the source task produced (sources).
    pub source: Option<&'a SourceRecord>,
    /// How many times the step was tried.
    pub attempts: u32,
}

/// Receives every failure a task's operator sees (Java's `ErrorReporter`).
#[async_trait]
pub trait ErrorReporter: Send + Sync + std::fmt::Debug {
    /// Records the failure; problems of the reporter itself are logged, never returned.
    async fn report(&self, context: &ErrorContext<'_>);
}

/// Logs failures (`errors.log.enable`), with the record when `errors.log.include.messages`.
#[derive(Debug, Clone)]
pub struct LogReporter {
    /// `errors.log.include.messages`.
    pub include_messages: bool,
}

#[async_trait]
impl ErrorReporter for LogReporter {
    async fn report(&self, c: &ErrorContext<'_>) {
        let record = match (self.include_messages, c.consumed, c.source) {
            (true, Some(r), _) => format!(
                ", where consumed record is {{topic='{}', partition={}, offset={}, timestamp={}}}",
                r.topic, r.partition, r.offset, r.timestamp
            ),
            (true, None, Some(r)) => format!(", where source record is {r:?}"),
            (false, Some(r), _) => format!(
                ", where consumed record is {{topic='{}', partition={}, offset={}}}",
                r.topic, r.partition, r.offset
            ),
            _ => String::new(),
        };
        tracing::error!(
            task = %c.task,
            "Error encountered in task {}. Executing stage '{}' with class '{}'{record}: {}",
            c.task,
            c.stage.name(),
            c.class,
            trace(c.error)
        );
    }
}

/// Runs steps with retries and tolerance; counts failures and reports them.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use ferry_connect::ConnectError;
/// use ferry_runtime::ConnectorTaskId;
/// use ferry_runtime::errors::{ErrorConfig, RetryWithToleranceOperator, Stage, Tolerance};
/// let config = ErrorConfig { tolerance: Tolerance::All, ..ErrorConfig::default() };
/// let mut operator = RetryWithToleranceOperator::new(config, ConnectorTaskId::new("c", 0), vec![]);
/// let skipped: Option<i32> = operator
///     .execute(Stage::ValueConverter, "JsonConverter", None, None, || Err(ConnectError::data("bad")))
///     .await
///     .unwrap();
/// assert_eq!(skipped, None);
/// assert_eq!(operator.failures(), 1);
/// # });
/// ```
#[derive(Debug)]
pub struct RetryWithToleranceOperator {
    config: ErrorConfig,
    task: ConnectorTaskId,
    failures: u64,
    reporters: Vec<Arc<dyn ErrorReporter>>,
}

impl RetryWithToleranceOperator {
    /// An operator for `task` reporting to `reporters`.
    pub fn new(
        config: ErrorConfig,
        task: ConnectorTaskId,
        reporters: Vec<Arc<dyn ErrorReporter>>,
    ) -> Self {
        Self {
            config,
            task,
            failures: 0,
            reporters,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &ErrorConfig {
        &self.config
    }

    /// How many steps failed so far.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Runs `op`, retrying retriable errors within `errors.retry.timeout`. `Ok(None)` means the
    /// step failed and the record is to be skipped (`errors.tolerance=all`).
    ///
    /// # Errors
    /// The step failed and the failure is not tolerated: the error says so and wraps the cause.
    pub async fn execute<T>(
        &mut self,
        stage: Stage,
        class: &str,
        consumed: Option<&ConsumerRecord>,
        source: Option<&SourceRecord>,
        mut op: impl FnMut() -> Result<T, ConnectError>,
    ) -> Result<Option<T>, ConnectError> {
        // Timed from the first failure rather than from the call: the first attempt takes
        // microseconds, and reading the clock for every record's conversion is not free.
        let mut deadline = None;
        let mut attempts = 0u32;
        let error = loop {
            attempts += 1;
            match op() {
                Ok(value) => return Ok(Some(value)),
                Err(error) if error.is_retriable() => {
                    let now = Instant::now();
                    let deadline =
                        *deadline.get_or_insert_with(|| self.config.retry_timeout.map(|t| now + t));
                    if deadline.is_some_and(|d| now >= d) {
                        break error;
                    }
                    self.backoff(attempts, deadline).await;
                }
                Err(error) => break error,
            }
        };
        self.failures += 1;
        let context = ErrorContext {
            task: &self.task,
            stage,
            class,
            error: &error,
            consumed,
            source,
            attempts,
        };
        for reporter in &self.reporters {
            reporter.report(&context).await;
        }
        if !(stage.tolerates_any_error() || error.is_retriable()) {
            return Err(wrap("Unhandled exception in error handler", &error));
        }
        match self.config.tolerance {
            Tolerance::All => Ok(None),
            Tolerance::None => Err(wrap("Tolerance exceeded in error handler", &error)),
        }
    }

    /// Reports a failure that happened outside [`RetryWithToleranceOperator::execute`] (e.g. a
    /// record the producer could not write) and says whether it is tolerated.
    pub async fn report_and_tolerate(
        &mut self,
        stage: Stage,
        class: &str,
        source: Option<&SourceRecord>,
        error: &ConnectError,
    ) -> bool {
        self.failures += 1;
        let context = ErrorContext {
            task: &self.task,
            stage,
            class,
            error,
            consumed: None,
            source,
            attempts: 1,
        };
        for reporter in &self.reporters {
            reporter.report(&context).await;
        }
        self.config.tolerance == Tolerance::All
    }

    async fn backoff(&self, attempt: u32, deadline: Option<Instant>) {
        let mut delay = RETRY_DELAY_MIN.saturating_mul(1u32 << (attempt - 1).min(20));
        if delay > self.config.retry_max_delay {
            delay = jitter(self.config.retry_max_delay);
        }
        if let Some(deadline) = deadline {
            delay = delay.min(deadline.saturating_duration_since(Instant::now()));
        }
        tokio::time::sleep(delay).await;
    }
}

/// A failure of the error handler wrapping its cause, as Java's `ConnectException` with a cause.
fn wrap(message: &str, cause: &ConnectError) -> ConnectError {
    ConnectError::Other(format!("{message}\nCaused by: {}", trace(cause)))
}

/// A pseudo-random duration below `max` (Java picks the delay at random once it exceeds the max).
fn jitter(max: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let max_ms = max.as_millis().max(1) as u64;
    Duration::from_millis(u64::from(nanos) % max_ms)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<(String, u32)>>);

    #[async_trait]
    impl ErrorReporter for Recorder {
        async fn report(&self, c: &ErrorContext<'_>) {
            self.0
                .lock()
                .unwrap()
                .push((c.stage.name().to_owned(), c.attempts));
        }
    }

    fn operator(
        tolerance: Tolerance,
        retry_ms: Option<u64>,
    ) -> (RetryWithToleranceOperator, Arc<Recorder>) {
        let recorder = Arc::new(Recorder::default());
        let config = ErrorConfig {
            tolerance,
            retry_timeout: retry_ms.map(Duration::from_millis),
            ..ErrorConfig::default()
        };
        let reporters: Vec<Arc<dyn ErrorReporter>> = vec![recorder.clone()];
        (
            RetryWithToleranceOperator::new(config, ConnectorTaskId::new("c", 1), reporters),
            recorder,
        )
    }

    #[tokio::test]
    async fn tolerance_none_fails_and_still_reports() {
        let (mut op, recorder) = operator(Tolerance::None, Some(0));
        let err = op
            .execute::<()>(Stage::KeyConverter, "X", None, None, || {
                Err(ConnectError::data("bad key"))
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Tolerance exceeded in error handler\nCaused by: org.apache.kafka.connect.errors.DataException: bad key"
        );
        assert_eq!(
            *recorder.0.lock().unwrap(),
            vec![("KEY_CONVERTER".to_owned(), 1)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retriable_errors_are_retried_until_they_succeed() {
        let (mut op, recorder) = operator(Tolerance::None, None);
        let mut calls = 0;
        let value = op
            .execute(Stage::Transformation, "X", None, None, || {
                calls += 1;
                if calls < 4 {
                    Err(ConnectError::retriable("later"))
                } else {
                    Ok(calls)
                }
            })
            .await
            .unwrap();
        assert_eq!(value, Some(4));
        assert!(recorder.0.lock().unwrap().is_empty());
        assert_eq!(op.failures(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_the_timeout_and_all_skips() {
        let (mut op, recorder) = operator(Tolerance::All, Some(1_000));
        let skipped = op
            .execute::<()>(Stage::ValueConverter, "X", None, None, || {
                Err(ConnectError::retriable("never"))
            })
            .await
            .unwrap();
        assert_eq!(skipped, None);
        let reports = recorder.0.lock().unwrap().clone();
        assert_eq!(reports.len(), 1);
        assert!(reports[0].1 > 1, "retried before giving up: {reports:?}");
    }

    #[tokio::test]
    async fn non_retriable_errors_outside_converters_are_never_tolerated() {
        let (mut op, _) = operator(Tolerance::All, Some(0));
        let err = op
            .execute::<()>(Stage::KafkaProduce, "X", None, None, || {
                Err(ConnectError::Other("gone".into()))
            })
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Unhandled exception in error handler")
        );
    }
}
