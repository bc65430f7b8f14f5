//! `fink config`: runs the lifecycle through config validation and prints the config as JSON.

use crate::commands::ensure_plugins_loaded;
use crate::error::Failure;
use crate::lifecycle::Run;
use crate::registry::Registry;
use crate::session::Session;

/// Prints the read, resolved and validated config.
pub fn run(registry: &mut Registry, session: &Session) -> Result<(), Failure> {
    ensure_plugins_loaded(registry)?;
    session.require_env()?;
    let context = session.context(registry, None, "config", Default::default(), true);
    let mut run = Run::new(registry, context);
    if let Err(failure) = run.prepare(None) {
        run.fail(&failure);
        return Err(failure);
    }
    let text = serde_json::to_string_pretty(run.config()).map_err(|e| Failure::new(e.to_string()))?;
    super::emit(&format!("{text}\n"));
    run.finish()
}
