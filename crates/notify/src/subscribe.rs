//! The signals every notifier listens to: the start time, its secret (a webhook URL, an API key)
//! marked as soon as it is read or looked up, and the report at the end, success or failure.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fink_plugin_api::{Event, Registration, Result, Signal};

use crate::Outcome;

/// Subscribes a notifier: `hide` marks its secret at `config_read_finalized` and at
/// `lookup_finalized` (order 0, before anything prints a looked-up value); `report` runs at
/// `command_finalized` (order 9000, so that another plugin's failing handler is reported as the
/// failure the `error` signal then carries) and at `error`, with how long the run took. Neither
/// may fail a run: `report` returns nothing.
pub fn subscribe(
    plugin: &mut Registration,
    hide: fn(&mut Event) -> Result<()>,
    report: fn(&mut Event, Outcome, Option<Duration>),
) {
    let started: Arc<Mutex<Option<Instant>>> = Arc::default();
    let clock = started.clone();
    plugin.on(Signal::INITIALIZED, move |_event: &mut Event| {
        if let Ok(mut start) = clock.lock() {
            *start = Some(Instant::now());
        }
        Ok(())
    });
    plugin.on(Signal::CONFIG_READ_FINALIZED, hide);
    plugin.on_with_order(Signal::LOOKUP_FINALIZED, 0, hide);
    let elapsed = move || started.lock().ok().and_then(|s| *s).map(|s| s.elapsed());
    let at_end = elapsed.clone();
    plugin.on_with_order(Signal::COMMAND_FINALIZED, 9000, move |event: &mut Event| {
        let _ = hide(event);
        report(event, Outcome::Succeeded, at_end());
        Ok(())
    });
    plugin.on(Signal::ERROR, move |event: &mut Event| {
        let _ = hide(event);
        report(event, Outcome::Failed, elapsed());
        Ok(())
    });
}
