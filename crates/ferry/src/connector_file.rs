//! Connector configuration files given to `ferry standalone`, read as Java's `ConnectStandalone`
//! reads them: a JSON object of strings, else a JSON `{"name", "config", "initial_state"}`
//! request, else a `.properties` file.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_connect::properties::Properties;
use ferry_runtime::herder::{CreateConnectorRequest, TargetState};

use crate::UsageError;

/// One connector to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorFile {
    /// The connector's name.
    pub name: String,
    /// Its configuration (with `name`).
    pub config: BTreeMap<String, String>,
    /// The state to create it in (`RUNNING` when not given).
    pub initial_state: Option<TargetState>,
}

/// Reads a connector file.
pub fn read(path: &Path) -> Result<ConnectorFile, UsageError> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read connector configuration {shown}: {e}")))?;
    parse(&bytes)
        .map_err(|reason| UsageError(format!("connector configuration at '{shown}': {reason}")))
}

fn missing_name() -> String {
    "is missing the mandatory 'name' configuration".to_owned()
}

fn parse(bytes: &[u8]) -> Result<ConnectorFile, String> {
    if let Ok(config) = serde_json::from_slice::<BTreeMap<String, String>>(bytes) {
        let name = config.get("name").cloned().ok_or_else(missing_name)?;
        return Ok(ConnectorFile {
            name,
            config,
            initial_state: None,
        });
    }
    if let Ok(request) = serde_json::from_slice::<CreateConnectorRequest>(bytes)
        && let Some(mut config) = request.config
    {
        let name = request
            .name
            .or_else(|| config.get("name").cloned())
            .ok_or_else(missing_name)?;
        match config.get("name") {
            Some(inner) if *inner != name => {
                return Err("Connector name configuration in 'config' doesn't match the one specified in 'name'".into());
            }
            Some(_) => {}
            None => {
                config.insert("name".into(), name.clone());
            }
        }
        return Ok(ConnectorFile {
            name,
            config,
            initial_state: request.initial_state.map(TargetState::from),
        });
    }
    let config: BTreeMap<String, String> = Properties::parse_latin1(bytes)
        .map_err(|e| e.to_string())?
        .into_map()
        .into_iter()
        .collect();
    let name = config.get("name").cloned().ok_or_else(missing_name)?;
    Ok(ConnectorFile {
        name,
        config,
        initial_state: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_json_request_json_and_properties() {
        let flat = parse(br#"{"name": "a", "connector.class": "FileStreamSource"}"#).unwrap();
        assert_eq!(flat.name, "a");
        let request = parse(
            br#"{"name": "b", "config": {"connector.class": "X"}, "initial_state": "PAUSED"}"#,
        )
        .unwrap();
        assert_eq!(request.config["name"], "b");
        assert_eq!(request.initial_state, Some(TargetState::Paused));
        let props = parse(b"name=c\nconnector.class=FileStreamSink\ntopics=t\n").unwrap();
        assert_eq!(props.config["topics"], "t");
        assert!(
            parse(b"connector.class=X\n")
                .unwrap_err()
                .contains("'name'")
        );
        assert!(
            parse(br#"{"name": "b", "config": {"name": "c"}}"#)
                .unwrap_err()
                .contains("doesn't match")
        );
    }
}
