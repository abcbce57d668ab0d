//! Config providers and `${provider:path:key}` variable substitution, Java's `ConfigProvider`,
//! `ConfigTransformer` and the providers Kafka ships: `FileConfigProvider`,
//! `DirectoryConfigProvider` and `EnvVarConfigProvider`.
//!
//! Providers are declared in a worker config: `config.providers=file,env` names them,
//! `config.providers.NAME.class` gives each one's class, and `config.providers.NAME.param.*`
//! configures it. A variable whose provider is not declared, or whose key the provider does not
//! know, is left as written, as Java leaves it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::error::ConfigError;
use crate::properties::Properties;

/// Key listing the declared providers.
pub const CONFIG_PROVIDERS_CONFIG: &str = "config.providers";
/// Parameter of the file and directory providers restricting the paths they may read.
pub const ALLOWED_PATHS_CONFIG: &str = "allowed.paths";
/// Parameter of the environment provider: a regular expression the variable names must match.
pub const ALLOWLIST_PATTERN_CONFIG: &str = "allowlist.pattern";

/// Java class name of [`FileConfigProvider`].
pub const FILE_CONFIG_PROVIDER: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";
/// Java class name of [`DirectoryConfigProvider`].
pub const DIRECTORY_CONFIG_PROVIDER: &str =
    "org.apache.kafka.common.config.provider.DirectoryConfigProvider";
/// Java class name of [`EnvVarConfigProvider`].
pub const ENV_VAR_CONFIG_PROVIDER: &str =
    "org.apache.kafka.common.config.provider.EnvVarConfigProvider";

/// Java's `ConfigTransformer.DEFAULT_PATTERN`.
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").unwrap_or_else(|e| unreachable!("{e}"))
});

/// Values a provider returned for one path, with an optional time-to-live in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigData {
    /// Key to value.
    pub data: HashMap<String, String>,
    /// How long the values stay valid; the runtime restarts connectors when it expires.
    pub ttl: Option<i64>,
}

/// A source of configuration values, Java's `ConfigProvider`.
pub trait ConfigProvider: Send + Sync + fmt::Debug {
    /// Configures the provider with its `config.providers.NAME.param.*` values (prefix removed).
    ///
    /// # Errors
    /// [`ConfigError`] for an invalid parameter.
    fn configure(&mut self, configs: &HashMap<String, String>) -> Result<(), ConfigError>;

    /// The values of `keys` at `path`; keys the provider does not know are left out.
    ///
    /// # Errors
    /// [`ConfigError`] when the path cannot be read.
    fn get(&self, path: &str, keys: &HashSet<String>) -> Result<ConfigData, ConfigError>;
}

/// Paths a provider may read, Java's `AllowedPaths`; no restriction when not configured.
#[derive(Debug, Clone, Default)]
struct AllowedPaths(Option<Vec<PathBuf>>);

impl AllowedPaths {
    fn from_config(configs: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let Some(value) = configs.get(ALLOWED_PATHS_CONFIG).filter(|v| !v.is_empty()) else {
            return Ok(Self(None));
        };
        let mut allowed = Vec::new();
        for raw in value.split(',') {
            let path = normalize(Path::new(raw));
            if !path.is_absolute() {
                return Err(ConfigError::new(format!(
                    "Path {} is not absolute",
                    path.display()
                )));
            }
            if !path.exists() {
                return Err(ConfigError::new(format!(
                    "Path {} does not exist",
                    path.display()
                )));
            }
            allowed.push(path);
        }
        Ok(Self(Some(allowed)))
    }

    /// The path to read, or `None` when it is outside the allowed paths.
    fn check(&self, path: &str) -> Option<PathBuf> {
        match &self.0 {
            None => Some(PathBuf::from(path)),
            Some(allowed) => {
                let normalized = normalize(Path::new(path));
                allowed
                    .iter()
                    .any(|a| normalized.starts_with(a))
                    .then_some(normalized)
            }
        }
    }
}

/// Java's `Path.normalize`: drops `.` and resolves `..` lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Reads keys from a properties file: path = the file, key = a property. Java's
/// `FileConfigProvider`; parameter `allowed.paths`.
#[derive(Debug, Clone, Default)]
pub struct FileConfigProvider {
    allowed: AllowedPaths,
}

impl ConfigProvider for FileConfigProvider {
    fn configure(&mut self, configs: &HashMap<String, String>) -> Result<(), ConfigError> {
        self.allowed = AllowedPaths::from_config(configs)?;
        Ok(())
    }

    fn get(&self, path: &str, keys: &HashSet<String>) -> Result<ConfigData, ConfigError> {
        let mut data = ConfigData::default();
        if path.is_empty() {
            return Ok(data);
        }
        let Some(file) = self.allowed.check(path) else {
            return Ok(data);
        };
        let props = Properties::load_utf8(&file)
            .map_err(|_| ConfigError::new(format!("Could not read properties from file {path}")))?;
        for key in keys {
            if let Some(value) = props.get(key) {
                data.data.insert(key.clone(), value.to_owned());
            }
        }
        Ok(data)
    }
}

/// Reads files of a directory: path = the directory, key = a file name, value = the file's
/// contents. Java's `DirectoryConfigProvider`, meant for Kubernetes secrets mounted as files;
/// parameter `allowed.paths`.
#[derive(Debug, Clone, Default)]
pub struct DirectoryConfigProvider {
    allowed: AllowedPaths,
}

impl ConfigProvider for DirectoryConfigProvider {
    fn configure(&mut self, configs: &HashMap<String, String>) -> Result<(), ConfigError> {
        self.allowed = AllowedPaths::from_config(configs)?;
        Ok(())
    }

    fn get(&self, path: &str, keys: &HashSet<String>) -> Result<ConfigData, ConfigError> {
        let mut data = ConfigData::default();
        if path.is_empty() {
            return Ok(data);
        }
        let Some(dir) = self.allowed.check(path).filter(|d| d.is_dir()) else {
            return Ok(data);
        };
        let entries = std::fs::read_dir(&dir)
            .map_err(|_| ConfigError::new(format!("Could not list directory {}", dir.display())))?;
        for entry in entries.flatten() {
            let file = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keys.contains(&name) || !file.is_file() {
                continue;
            }
            let contents = std::fs::read(&file).map_err(|_| {
                ConfigError::new(format!(
                    "Could not read file {} for property {name}",
                    file.display()
                ))
            })?;
            data.data
                .insert(name, String::from_utf8_lossy(&contents).into_owned());
        }
        Ok(data)
    }
}

/// Reads environment variables: no path, key = the variable's name. Java's
/// `EnvVarConfigProvider`; parameter `allowlist.pattern` (a regular expression the whole name
/// must match; every variable when absent).
#[derive(Debug, Clone)]
pub struct EnvVarConfigProvider {
    env: HashMap<String, String>,
    allowed: HashMap<String, String>,
}

impl Default for EnvVarConfigProvider {
    fn default() -> Self {
        Self::with_env(std::env::vars().collect())
    }
}

impl EnvVarConfigProvider {
    /// A provider reading `env` instead of the process environment.
    pub fn with_env(env: HashMap<String, String>) -> Self {
        Self {
            allowed: env.clone(),
            env,
        }
    }
}

impl ConfigProvider for EnvVarConfigProvider {
    fn configure(&mut self, configs: &HashMap<String, String>) -> Result<(), ConfigError> {
        let pattern = configs
            .get(ALLOWLIST_PATTERN_CONFIG)
            .map_or(".*", String::as_str);
        let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            ConfigError::invalid(ALLOWLIST_PATTERN_CONFIG, pattern, Some(&e.to_string()))
        })?;
        self.allowed = self
            .env
            .iter()
            .filter(|(k, _)| regex.is_match(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(())
    }

    fn get(&self, path: &str, keys: &HashSet<String>) -> Result<ConfigData, ConfigError> {
        if !path.is_empty() {
            return Err(ConfigError::new(format!(
                "Path is not supported for EnvVarConfigProvider, invalid value '{path}'"
            )));
        }
        let data = keys
            .iter()
            .filter_map(|k| self.allowed.get_key_value(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(ConfigData { data, ttl: None })
    }
}

/// A built-in provider for a Java class name, its simple name, or its alias (`File`,
/// `Directory`, `EnvVar`).
pub fn builtin_provider(class: &str) -> Option<Box<dyn ConfigProvider>> {
    let simple = class.rsplit('.').next().unwrap_or(class);
    let simple = simple.strip_suffix("ConfigProvider").unwrap_or(simple);
    let full = class.contains('.');
    let is = |name: &str, java: &str| if full { class == java } else { simple == name };
    if is("File", FILE_CONFIG_PROVIDER) {
        Some(Box::new(FileConfigProvider::default()))
    } else if is("Directory", DIRECTORY_CONFIG_PROVIDER) {
        Some(Box::new(DirectoryConfigProvider::default()))
    } else if is("EnvVar", ENV_VAR_CONFIG_PROVIDER) {
        Some(Box::new(EnvVarConfigProvider::default()))
    } else {
        None
    }
}

/// The values after substitution, and the time-to-live each provider path reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransformResult {
    /// Every config with its variables replaced.
    pub data: HashMap<String, String>,
    /// Path to time-to-live in milliseconds.
    pub ttls: HashMap<String, i64>,
}

/// Replaces `${provider:path:key}` and `${provider:key}` variables, Java's `ConfigTransformer`.
///
/// ```
/// use std::collections::HashMap;
/// use ferry_connect::provider::{ConfigProvider, ConfigTransformer, EnvVarConfigProvider};
/// let env = EnvVarConfigProvider::with_env(HashMap::from([("PW".into(), "s3cret".into())]));
/// let transformer = ConfigTransformer::new(HashMap::from([
///     ("env".to_owned(), Box::new(env) as Box<dyn ConfigProvider>),
/// ]));
/// let configs = HashMap::from([
///     ("password".to_owned(), "${env:PW}".to_owned()),
///     ("other".to_owned(), "${vault:secret/x:pw}".to_owned()),
/// ]);
/// let result = transformer.transform(&configs).unwrap();
/// assert_eq!(result.data["password"], "s3cret");
/// assert_eq!(result.data["other"], "${vault:secret/x:pw}");
/// ```
#[derive(Debug, Default)]
pub struct ConfigTransformer {
    providers: HashMap<String, Box<dyn ConfigProvider>>,
}

impl ConfigTransformer {
    /// A transformer with providers by name.
    pub fn new(providers: HashMap<String, Box<dyn ConfigProvider>>) -> Self {
        Self { providers }
    }

    /// Instantiates and configures the providers a worker config declares, as Java's
    /// `AbstractConfig` does: names come from `config.providers` split on `,` (not trimmed), a
    /// name without `config.providers.NAME.class` is ignored, and
    /// `config.providers.NAME.param.*` configure the provider.
    ///
    /// # Errors
    /// [`ConfigError`] for an unknown provider class or an invalid provider parameter.
    pub fn from_config(configs: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut providers = HashMap::new();
        let Some(names) = configs
            .get(CONFIG_PROVIDERS_CONFIG)
            .filter(|v| !v.is_empty())
        else {
            return Ok(Self { providers });
        };
        for name in names.split(',') {
            let class_key = format!("{CONFIG_PROVIDERS_CONFIG}.{name}.class");
            let Some(class) = configs.get(&class_key) else {
                continue;
            };
            let mut provider = builtin_provider(class).ok_or_else(|| {
                ConfigError::invalid(
                    &class_key,
                    class,
                    Some("Could not load config provider class or one of its dependencies"),
                )
            })?;
            let prefix = format!("{CONFIG_PROVIDERS_CONFIG}.{name}.param.");
            let params = configs
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|p| (p.to_owned(), v.clone())))
                .collect();
            provider.configure(&params)?;
            providers.insert(name.to_owned(), provider);
        }
        Ok(Self { providers })
    }

    /// The names of the configured providers.
    pub fn provider_names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// Replaces the variables in every value of `configs`.
    ///
    /// # Errors
    /// The first [`ConfigError`] a provider returned.
    pub fn transform(
        &self,
        configs: &HashMap<String, String>,
    ) -> Result<TransformResult, ConfigError> {
        let mut wanted: HashMap<&str, HashMap<&str, HashSet<String>>> = HashMap::new();
        for value in configs.values() {
            for var in variables(value) {
                wanted
                    .entry(var.provider)
                    .or_default()
                    .entry(var.path)
                    .or_default()
                    .insert(var.key.to_owned());
            }
        }
        let mut lookups: HashMap<&str, HashMap<&str, HashMap<String, String>>> = HashMap::new();
        let mut ttls = HashMap::new();
        for (provider_name, by_path) in wanted {
            let Some(provider) = self.providers.get(provider_name) else {
                continue;
            };
            for (path, keys) in by_path {
                let data = provider.get(path, &keys)?;
                if let Some(ttl) = data.ttl.filter(|t| *t >= 0) {
                    ttls.insert(path.to_owned(), ttl);
                }
                lookups
                    .entry(provider_name)
                    .or_default()
                    .insert(path, data.data);
            }
        }
        let data = configs
            .iter()
            .map(|(k, v)| (k.clone(), replace(&lookups, v)))
            .collect();
        Ok(TransformResult { data, ttls })
    }
}

struct Variable<'a> {
    provider: &'a str,
    path: &'a str,
    key: &'a str,
}

fn variables(value: &str) -> impl Iterator<Item = Variable<'_>> {
    VARIABLE.captures_iter(value).map(|c| Variable {
        provider: c.get(1).map_or("", |m| m.as_str()),
        path: c.get(3).map_or("", |m| m.as_str()),
        key: c.get(4).map_or("", |m| m.as_str()),
    })
}

fn replace(lookups: &HashMap<&str, HashMap<&str, HashMap<String, String>>>, value: &str) -> String {
    VARIABLE
        .replace_all(value, |c: &regex::Captures<'_>| {
            let provider = c.get(1).map_or("", |m| m.as_str());
            let path = c.get(3).map_or("", |m| m.as_str());
            let key = c.get(4).map_or("", |m| m.as_str());
            lookups
                .get(provider)
                .and_then(|paths| paths.get(path))
                .and_then(|data| data.get(key))
                .cloned()
                .unwrap_or_else(|| c[0].to_owned())
        })
        .into_owned()
}

#[cfg(test)]
#[path = "provider_tests.rs"]
mod tests;
