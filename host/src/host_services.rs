//! The host's side of the API's trait objects: the logging service a plugin keeps, and the
//! registrar that collects what a plugin declares in `register`.

use abi_stable::std_types::RStr;
use fink_plugin_api::abi::{CommandRunnerBox, HandlerBox, Host, Level, Registrar, Signal};

use crate::logging;

/// Logging for one plugin: records carry its name.
pub struct PluginHost {
    pub name: String,
}

impl Host for PluginHost {
    fn log(&self, level: Level, target: RStr<'_>, message: RStr<'_>) {
        logging::plugin_record(level, &self.name, target.as_str(), message.as_str());
    }

    fn max_level(&self) -> Level {
        logging::max_level()
    }
}

/// Everything a plugin declared while registering.
#[derive(Default)]
pub struct Collected {
    pub subscriptions: Vec<(Signal, i32, HandlerBox)>,
    pub tools: Vec<(String, CommandRunnerBox)>,
    pub schemas: Vec<(String, String)>,
}

impl Registrar for Collected {
    fn subscribe(&mut self, signal: Signal, order: i32, handler: HandlerBox) {
        self.subscriptions.push((signal, order, handler));
    }

    fn add_tool(&mut self, spec_json: RStr<'_>, runner: CommandRunnerBox) {
        self.tools.push((spec_json.as_str().to_string(), runner));
    }

    fn config_schema(&mut self, section: RStr<'_>, schema_json: RStr<'_>) {
        self.schemas.push((section.as_str().to_string(), schema_json.as_str().to_string()));
    }
}
