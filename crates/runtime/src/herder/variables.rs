//! Config provider variables (`${provider:path:key}`) and task configs. A connector sees its
//! config with the variables resolved and copies values into its task configs; the herders
//! put the variables back before they store or show task configs (Java's
//! `AbstractHerder.reverseTransform`), so a secret never reaches the config topic or
//! `GET /connectors/{name}/tasks`. A task is started with its stored config resolved again.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::ConfigMap;
use super::requests::hash;
use crate::worker::{Status, Worker};

/// Java's `ConfigTransformer.DEFAULT_PATTERN`: `${provider:key}` or `${provider:path:key}`.
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").expect("a valid variable pattern")
});

/// Whether `value` holds at least one config provider variable.
///
/// ```
/// use ferry_runtime::herder::variables::has_variable;
/// assert!(has_variable("${file:/etc/secrets.properties:password}"));
/// assert!(has_variable("user=${env:USER}"));
/// assert!(!has_variable("${no-colon}"));
/// ```
pub fn has_variable(value: &str) -> bool {
    VARIABLE.is_match(value)
}

/// Puts the connector's raw values back into task configs generated from its resolved config:
/// each key whose raw connector value holds a variable takes that raw value in every task
/// config that has the key. Keys the tasks do not have are not added.
///
/// ```
/// use std::collections::BTreeMap;
/// use ferry_runtime::herder::variables::reverse_transform;
///
/// let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
///     pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
/// };
/// let raw = map(&[("password", "${file:/s.properties:pw}"), ("other", "${env:X}"), ("topic", "t")]);
/// let generated = vec![map(&[("password", "s3cret"), ("topic", "t"), ("task.id", "0")])];
/// assert_eq!(
///     reverse_transform(&raw, generated),
///     vec![map(&[("password", "${file:/s.properties:pw}"), ("topic", "t"), ("task.id", "0")])]
/// );
/// ```
pub fn reverse_transform(
    raw_connector: &ConfigMap,
    task_configs: Vec<ConfigMap>,
) -> Vec<ConfigMap> {
    let with_variables: Vec<(&String, &String)> = raw_connector
        .iter()
        .filter(|(_, value)| has_variable(value))
        .collect();
    task_configs
        .into_iter()
        .map(|mut config| {
            for (key, raw) in &with_variables {
                if let Some(value) = config.get_mut(*key) {
                    value.clone_from(raw);
                }
            }
            config
        })
        .collect()
}

/// A connector or task config with its variables resolved by the worker's config providers,
/// to start the instance with; a config that cannot be resolved is the instance's FAILED
/// status, given to `report`.
pub fn resolve_or_report(
    worker: &Worker,
    config: &ConfigMap,
    report: impl FnOnce(Status),
) -> Option<HashMap<String, String>> {
    match worker.config().transform(&hash(config)) {
        Ok(resolved) => Some(resolved),
        Err(error) => {
            report(Status::failed(error.to_string(), worker.worker_id()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_pattern_is_javas() {
        for value in [
            "${a:b}",
            "${a:b:c}",
            "${a::c}",
            "prefix ${file:/x/y.properties:key} suffix",
            "${:}",
        ] {
            assert!(has_variable(value), "{value}");
        }
        for value in ["${a}", "$a:b", "{a:b}", "${a:b", "plain"] {
            assert!(!has_variable(value), "{value}");
        }
    }

    #[test]
    fn raw_values_replace_the_resolved_ones_of_every_task() {
        let raw = map(&[
            ("connector.class", "C"),
            ("db.password", "${file:/secrets:pw}"),
            ("db.url", "jdbc://${env:HOST}/db"),
            ("not.in.tasks", "${env:Y}"),
        ]);
        let generated = vec![
            map(&[
                ("db.password", "s3cret"),
                ("db.url", "jdbc://h/db"),
                ("task", "0"),
            ]),
            // A task may change a value; the raw one still wins, as in Java.
            map(&[("db.password", "other"), ("task", "1")]),
        ];
        assert_eq!(
            reverse_transform(&raw, generated),
            vec![
                map(&[
                    ("db.password", "${file:/secrets:pw}"),
                    ("db.url", "jdbc://${env:HOST}/db"),
                    ("task", "0"),
                ]),
                map(&[("db.password", "${file:/secrets:pw}"), ("task", "1")]),
            ]
        );
    }

    #[test]
    fn configs_without_variables_are_unchanged() {
        let raw = map(&[("topic", "t"), ("tasks.max", "2")]);
        let generated = vec![map(&[("topic", "t"), ("id", "0")])];
        assert_eq!(reverse_transform(&raw, generated.clone()), generated);
        assert!(reverse_transform(&raw, Vec::new()).is_empty());
    }
}
