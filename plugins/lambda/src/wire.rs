//! `lambda wire` / `lambda unwire`: connect `lambda.lambda.events` to the ACTIVE alias.

use aws_config::SdkConfig;
use fink_plugin_api::{Error, Result};

use crate::settings::Settings;

pub async fn wire(_config: &SdkConfig, settings: &Settings) -> Result<()> {
    Err(Error::new(format!("lambda wire {}: not implemented yet", settings.function.name)))
}

pub async fn unwire(_config: &SdkConfig, settings: &Settings) -> Result<()> {
    Err(Error::new(format!("lambda unwire {}: not implemented yet", settings.function.name)))
}
