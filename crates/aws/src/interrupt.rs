//! Ctrl-C and SIGTERM while a tool waits for AWS (a stack update, a deployment): caught instead
//! of ending the process, so the tool can stop what it started, and a second one can detach.
//! Either way the command ends with [`EXIT_INTERRUPTED`], and the host still fires `error` and
//! `finalized`.

use fink_plugin_api::{Error, Result};
use tokio::signal::unix::{signal, Signal, SignalKind};

/// The exit code of a command stopped by Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// SIGINT and SIGTERM, caught from here on (instead of ending the process).
pub struct Interrupts {
    interrupt: Signal,
    terminate: Signal,
}

impl Interrupts {
    /// Starts catching; must run inside the tokio runtime.
    pub fn listen() -> Result<Interrupts> {
        let catch = |kind| signal(kind).map_err(|e| Error::new(format!("cannot catch Ctrl-C: {e}")));
        Ok(Interrupts { interrupt: catch(SignalKind::interrupt())?, terminate: catch(SignalKind::terminate())? })
    }

    /// Resolves at the next SIGINT or SIGTERM.
    pub async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
