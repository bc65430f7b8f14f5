//! `lambda list`, `info`, `delete` and `rollback`.

use aws_config::SdkConfig;
use fink_plugin_api::{Error, Result};

pub async fn list(_config: &SdkConfig, _as_json: bool) -> Result<()> {
    Err(Error::new("not implemented yet"))
}

pub async fn info(_config: &SdkConfig, _name: &str, _as_json: bool) -> Result<()> {
    Err(Error::new("not implemented yet"))
}

pub async fn delete(_config: &SdkConfig, _name: &str, _force: bool, _logs: bool) -> Result<()> {
    Err(Error::new("not implemented yet"))
}

pub async fn rollback(_config: &SdkConfig, _name: &str, _version: Option<String>) -> Result<()> {
    Err(Error::new("not implemented yet"))
}
