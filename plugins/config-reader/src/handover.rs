//! What the hocon-reader plugin read, handed over in a private context key before this plugin
//! runs: its env file's HOCON chain and kumo's `settings_<env>.conf`.

use std::path::PathBuf;

use fink_plugin_api::{Error, Event, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The hocon-reader's private context key (its `HANDOVER`).
const KEY: &str = fink_plugin_api::context::HOCON_CONFIG;

/// The files the hocon-reader read.
pub struct Hocon {
    /// Its env file (`fink_<env>.conf`, `gcdt_<env>.conf`), if it found one.
    pub file: Option<String>,
    /// Each HOCON file of the env file's chain by name, the env file first.
    pub layers: Vec<(String, Map<String, Value>)>,
    /// The chain's first base of another format, which this plugin reads on from.
    pub rest: Option<PathBuf>,
    /// `settings_<env>.conf` and the stack section it holds, as written.
    pub stack: Option<(String, Map<String, Value>)>,
}

#[derive(Deserialize)]
struct Raw {
    file: Option<String>,
    layers: Vec<Layer>,
    rest: Option<PathBuf>,
    stack: Option<Stack>,
}

#[derive(Deserialize)]
struct Layer {
    file: String,
    config: Map<String, Value>,
}

#[derive(Deserialize)]
struct Stack {
    file: String,
    section: Map<String, Value>,
}

/// Takes the hocon-reader's files out of the context (later handlers have the merged config).
pub fn take(event: &mut Event) -> Result<Option<Hocon>> {
    let Some(value) = event.context_mut().remove(KEY) else {
        return Ok(None);
    };
    let raw: Raw = serde_json::from_value(value).map_err(|err| {
        Error::new(format!("the hocon-reader's files came in a form this config-reader does not know: {err}"))
            .with_help("install a config-reader and hocon-reader of the same release")
    })?;
    Ok(Some(Hocon {
        file: raw.file,
        layers: raw.layers.into_iter().map(|l| (l.file, l.config)).collect(),
        rest: raw.rest,
        stack: raw.stack.map(|s| (s.file, s.section)),
    }))
}
