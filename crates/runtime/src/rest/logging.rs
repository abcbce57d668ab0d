//! Log levels changed at run time through `/admin/loggers` (KIP-495), Java's `Loggers`: the
//! [`LogLevels`] trait the REST server talks to, and [`TracingLogLevels`], its implementation over
//! a `tracing-subscriber` reload layer holding a [`Targets`] filter.
//!
//! Java's loggers are log4j's dotted names; here a logger is a `tracing` target prefix
//! (`ferry_runtime::rest`), and, as in log4j, setting a namespace sets it and every known logger
//! whose name starts with it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::reload;

use crate::herder::LoggerLevel;

/// The name of the root logger (any case, as log4j).
pub const ROOT_LOGGER: &str = "root";

/// A log4j level as the REST API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Fatal errors (logged as `ERROR` by `tracing`).
    Fatal,
    /// Errors.
    Error,
    /// Warnings.
    Warn,
    /// Information.
    Info,
    /// Debugging.
    Debug,
    /// Tracing.
    Trace,
    /// Everything (logged as `TRACE` by `tracing`).
    All,
}

impl LogLevel {
    /// The level's log4j name.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Off => "OFF",
            LogLevel::Fatal => "FATAL",
            LogLevel::Error => "ERROR",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
            LogLevel::Trace => "TRACE",
            LogLevel::All => "ALL",
        }
    }

    /// The `tracing` filter closest to this level.
    pub fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Off => LevelFilter::OFF,
            LogLevel::Fatal | LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace | LogLevel::All => LevelFilter::TRACE,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a level name that log4j does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid log level '{0}'.")]
pub struct InvalidLogLevel(pub String);

impl FromStr for LogLevel {
    type Err = InvalidLogLevel;

    /// Parses a level name in any case, as log4j's `Level.toLevel`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            LogLevel::Off,
            LogLevel::Fatal,
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
            LogLevel::All,
        ]
        .into_iter()
        .find(|level| level.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| InvalidLogLevel(s.to_owned()))
    }
}

/// The worker's loggers, as `/admin/loggers` reads and changes them.
pub trait LogLevels: Send + Sync + fmt::Debug {
    /// The level of a known logger (`root` included), `None` if no such logger exists.
    fn level(&self, logger: &str) -> Option<LoggerLevel>;

    /// Every logger with an explicitly set level, by name, `root` included.
    fn all_levels(&self) -> BTreeMap<String, LoggerLevel>;

    /// Sets `namespace` and every known logger whose name starts with it to `level` (all
    /// loggers for `root`); returns the affected loggers' names, sorted.
    fn set_level(&self, namespace: &str, level: LogLevel) -> Vec<String>;
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    level: LogLevel,
    last_modified: Option<i64>,
}

impl Entry {
    fn info(self) -> LoggerLevel {
        LoggerLevel {
            level: self.level.name().to_owned(),
            last_modified: self.last_modified,
        }
    }
}

#[derive(Debug)]
struct State {
    root: Entry,
    loggers: BTreeMap<String, Entry>,
}

impl State {
    fn targets(&self) -> Targets {
        self.loggers.iter().fold(
            Targets::new().with_default(self.root.level.filter()),
            |targets, (name, entry)| targets.with_target(name.clone(), entry.level.filter()),
        )
    }
}

/// [`LogLevels`] over a `tracing-subscriber` reload handle of a [`Targets`] filter.
///
/// ```
/// use tracing_subscriber::{filter::Targets, prelude::*, reload};
/// use ferry_runtime::rest::{LogLevel, LogLevels, TracingLogLevels};
/// let (filter, handle) = reload::Layer::new(Targets::new());
/// let _subscriber = tracing_subscriber::registry().with(filter);
/// let levels = TracingLogLevels::new(handle, LogLevel::Info, []);
/// assert_eq!(levels.set_level("ferry_runtime", LogLevel::Debug), ["ferry_runtime"]);
/// assert_eq!(levels.level("ferry_runtime").unwrap().level, "DEBUG");
/// assert_eq!(levels.level("root").unwrap().level, "INFO");
/// ```
pub struct TracingLogLevels<S> {
    handle: reload::Handle<Targets, S>,
    state: Mutex<State>,
}

impl<S> fmt::Debug for TracingLogLevels<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingLogLevels")
            .field("state", &self.state)
            .finish()
    }
}

impl<S: 'static> TracingLogLevels<S> {
    /// Takes over the filter behind `handle`: the root level and the levels the worker started
    /// with, which are not reported as modified.
    pub fn new(
        handle: reload::Handle<Targets, S>,
        root: LogLevel,
        initial: impl IntoIterator<Item = (String, LogLevel)>,
    ) -> Self {
        let state = State {
            root: Entry {
                level: root,
                last_modified: None,
            },
            loggers: initial
                .into_iter()
                .map(|(name, level)| {
                    (
                        name,
                        Entry {
                            level,
                            last_modified: None,
                        },
                    )
                })
                .collect(),
        };
        let levels = Self {
            handle,
            state: Mutex::new(state),
        };
        levels.apply(&levels.state.lock().unwrap_or_else(|e| e.into_inner()));
        levels
    }

    fn apply(&self, state: &State) {
        // Fails only when the subscriber is gone, and then nothing is logged anyway.
        let _ = self.handle.reload(state.targets());
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl<S: Send + Sync + 'static> LogLevels for TracingLogLevels<S> {
    fn level(&self, logger: &str) -> Option<LoggerLevel> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if logger.eq_ignore_ascii_case(ROOT_LOGGER) {
            return Some(state.root.info());
        }
        state.loggers.get(logger).map(|entry| entry.info())
    }

    fn all_levels(&self) -> BTreeMap<String, LoggerLevel> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut levels: BTreeMap<String, LoggerLevel> = state
            .loggers
            .iter()
            .map(|(name, entry)| (name.clone(), entry.info()))
            .collect();
        levels.insert(ROOT_LOGGER.to_owned(), state.root.info());
        levels
    }

    fn set_level(&self, namespace: &str, level: LogLevel) -> Vec<String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = now_millis();
        let set = |entry: &mut Entry| {
            // As log4j's Loggers, an unchanged level keeps its modification time.
            if entry.level != level {
                *entry = Entry {
                    level,
                    last_modified: Some(now),
                };
            }
        };
        let mut affected = Vec::new();
        if namespace.eq_ignore_ascii_case(ROOT_LOGGER) {
            for (name, entry) in state.loggers.iter_mut() {
                set(entry);
                affected.push(name.clone());
            }
            set(&mut state.root);
            affected.push(ROOT_LOGGER.to_owned());
        } else {
            let inherited = Entry {
                level: effective(&state, namespace),
                last_modified: None,
            };
            state
                .loggers
                .entry(namespace.to_owned())
                .or_insert(inherited);
            for (name, entry) in state
                .loggers
                .iter_mut()
                .filter(|(name, _)| name.starts_with(namespace))
            {
                set(entry);
                affected.push(name.clone());
            }
        }
        self.apply(&state);
        affected.sort();
        affected
    }
}

/// The level a new logger named `name` inherits: its longest known ancestor's, else root's.
fn effective(state: &State, name: &str) -> LogLevel {
    state
        .loggers
        .iter()
        .filter(|(known, _)| name.starts_with(known.as_str()))
        .max_by_key(|(known, _)| known.len())
        .map_or(state.root.level, |(_, entry)| entry.level)
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::prelude::*;

    use super::*;

    #[test]
    fn levels_parse_in_any_case() {
        assert_eq!("debug".parse::<LogLevel>(), Ok(LogLevel::Debug));
        assert_eq!("Fatal".parse::<LogLevel>(), Ok(LogLevel::Fatal));
        assert_eq!(
            "loud".parse::<LogLevel>().unwrap_err().to_string(),
            "invalid log level 'loud'."
        );
    }

    #[test]
    fn setting_a_namespace_sets_its_known_children() {
        let (filter, handle) = reload::Layer::new(Targets::new());
        let subscriber = tracing_subscriber::registry().with(filter);
        let levels = TracingLogLevels::new(
            handle,
            LogLevel::Info,
            [
                ("a::b".to_owned(), LogLevel::Warn),
                ("c".to_owned(), LogLevel::Error),
            ],
        );
        assert_eq!(levels.level("a"), None);
        assert_eq!(levels.set_level("a", LogLevel::Debug), ["a", "a::b"]);
        let a = levels.level("a").unwrap();
        assert_eq!(a.level, "DEBUG");
        assert!(a.last_modified.is_some());
        assert_eq!(
            levels.level("c").unwrap(),
            LoggerLevel {
                level: "ERROR".into(),
                last_modified: None
            }
        );
        assert_eq!(
            levels.all_levels().keys().collect::<Vec<_>>(),
            ["a", "a::b", "c", "root"]
        );
        assert_eq!(
            levels.set_level("ROOT", LogLevel::Trace),
            ["a", "a::b", "c", "root"]
        );
        assert_eq!(levels.level("Root").unwrap().level, "TRACE");
        tracing::subscriber::with_default(subscriber, || {
            assert!(tracing::enabled!(target: "c", tracing::Level::TRACE));
        });
    }

    #[test]
    fn the_filter_follows_the_levels() {
        let (filter, handle) = reload::Layer::new(Targets::new());
        let subscriber = tracing_subscriber::registry().with(filter);
        let levels = TracingLogLevels::new(handle, LogLevel::Warn, []);
        tracing::subscriber::with_default(subscriber, || {
            assert!(!tracing::enabled!(target: "x::y", tracing::Level::INFO));
            levels.set_level("x", LogLevel::Debug);
            tracing::callsite::rebuild_interest_cache();
            assert!(tracing::enabled!(target: "x::y", tracing::Level::DEBUG));
            assert!(!tracing::enabled!(target: "z", tracing::Level::INFO));
        });
    }
}
