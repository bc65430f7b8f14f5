//! `lambda metrics`: Duration, Errors, Invocations and Throttles from CloudWatch.

use aws_config::SdkConfig;
use fink_plugin_api::{Error, Result};

pub async fn metrics(_config: &SdkConfig, name: &str) -> Result<()> {
    Err(Error::new(format!("lambda metrics {name}: not implemented yet")))
}
