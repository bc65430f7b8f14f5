//! `lambda deploy`: create or update the function, publish a version, point ACTIVE at it.

use aws_config::SdkConfig;
use fink_plugin_api::{Error, Result, Value};

use crate::bundle::Built;
use crate::settings::Settings;

pub async fn deploy(_config: &SdkConfig, settings: &Settings, _built: &Built) -> Result<Value> {
    Err(Error::new(format!("lambda deploy {}: not implemented yet", settings.function.name)))
}
