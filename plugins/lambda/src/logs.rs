//! `lambda logs`: a function's log events from CloudWatch Logs, optionally tailed.

use aws_config::SdkConfig;
use fink_plugin_api::{Error, Result};

/// The command's arguments.
pub struct Request {
    pub name: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub tail: bool,
}

pub async fn logs(_config: &SdkConfig, request: &Request) -> Result<()> {
    Err(Error::new(format!("lambda logs {}: not implemented yet", request.name)))
}
