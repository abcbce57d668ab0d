//! `org.apache.kafka.connect.transforms.Filter`.

use ferry_connect::Result;
use ferry_connect::config::ConfigDef;
use ferry_connect::connector::ConfigMap;
use ferry_connect::record::ConnectRecord;
use ferry_connect::transform::Transformation;

/// Drops every record; meant to be used with a predicate (`transforms.X.predicate`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter;

impl<R: ConnectRecord> Transformation<R> for Filter {
    fn configure(&mut self, _configs: &ConfigMap) -> Result<()> {
        Ok(())
    }

    fn apply(&mut self, _record: R) -> Result<Option<R>> {
        Ok(None)
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}
