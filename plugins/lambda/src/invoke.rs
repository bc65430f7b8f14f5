//! `lambda invoke` and `lambda ping`.

use std::path::PathBuf;

use aws_config::SdkConfig;
use fink_plugin_api::{Error, Result};

/// The invoke command's arguments.
pub struct Request {
    pub name: String,
    pub version: Option<String>,
    pub invocation_type: String,
    pub payload: String,
    pub outfile: Option<String>,
    pub dir: PathBuf,
}

pub async fn invoke(_config: &SdkConfig, _request: &Request) -> Result<()> {
    Err(Error::new("not implemented yet"))
}

pub async fn ping_command(_config: &SdkConfig, _name: &str, _version: Option<String>) -> Result<()> {
    Err(Error::new("not implemented yet"))
}
