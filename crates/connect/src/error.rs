//! The error type of the connector API, mirroring Kafka Connect's exception hierarchy.

use thiserror::Error;

/// A configuration error, Java's `ConfigException`.
///
/// The message is kept in Java's wording, since it reaches users through the REST API
/// (`PUT /connector-plugins/{plugin}/config/validate` lists it among a key's errors).
///
/// ```
/// use ferry_connect::ConfigError;
/// let err = ConfigError::invalid("tasks.max", "x", Some("Not a number of type INT"));
/// assert_eq!(err.to_string(), "Invalid value x for configuration tasks.max: Not a number of type INT");
/// assert_eq!(err.key(), Some("tasks.max"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ConfigError {
    key: Option<String>,
    message: String,
}

impl ConfigError {
    /// An error with a free-form message that names no key.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            key: None,
            message: message.into(),
        }
    }

    /// An error about the value of one key, worded as Java's
    /// `ConfigException(name, value, message)`: `Invalid value V for configuration K: reason`.
    pub fn invalid(key: &str, value: impl std::fmt::Display, reason: Option<&str>) -> Self {
        let message = match reason {
            Some(reason) => format!("Invalid value {value} for configuration {key}: {reason}"),
            None => format!("Invalid value {value} for configuration {key}"),
        };
        Self {
            key: Some(key.to_owned()),
            message,
        }
    }

    /// An error about one key with a message that does not follow the `Invalid value` form.
    pub fn for_key(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }

    /// The configuration key the error is about, when it names one.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The full message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Errors raised by connectors, tasks, converters, transformations and the data model.
///
/// The variants follow Java's `ConnectException` subclasses that the runtime treats differently:
/// a [`ConnectError::Retriable`] error from `poll`/`put` makes the runtime retry the same call.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConnectError {
    /// Java's `DataException` (and `SchemaBuilderException`, `SchemaProjectorException`):
    /// a value does not match its schema, or data cannot be converted.
    #[error("{0}")]
    Data(String),
    /// Java's `ConfigException`.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Java's `RetriableException`: a transient failure; the operation may be retried.
    #[error("{0}")]
    Retriable(String),
    /// Java's `IllegalWorkerStateException`: a call was made in a state that does not allow it.
    #[error("{0}")]
    IllegalState(String),
    /// Java's `NotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// Java's REST `BadRequestException`: the request itself is at fault. A connector may raise
    /// it to refuse an offsets change, which the REST API then answers with 400 rather than 500.
    #[error("{0}")]
    BadRequest(String),
    /// Any other `ConnectException`.
    #[error("{0}")]
    Other(String),
}

impl ConnectError {
    /// A [`ConnectError::Data`] error.
    pub fn data(message: impl Into<String>) -> Self {
        Self::Data(message.into())
    }

    /// A [`ConnectError::Retriable`] error.
    pub fn retriable(message: impl Into<String>) -> Self {
        Self::Retriable(message.into())
    }

    /// A [`ConnectError::BadRequest`] error.
    ///
    /// ```
    /// use ferry_connect::ConnectError;
    /// let err = ConnectError::bad_request("Offsets for this connector must be numbers");
    /// assert_eq!(err.to_string(), "Offsets for this connector must be numbers");
    /// ```
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// A [`ConnectError::Other`] error.
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }

    /// Whether the runtime should retry the failed operation.
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Retriable(_))
    }
}

/// The result type of the connector API.
pub type Result<T, E = ConnectError> = std::result::Result<T, E>;
