//! Ctrl-C and SIGTERM while a deploy waits: the first cancels an update (CancelUpdateStack) and
//! waits for the rollback, or stops waiting for a create and says how to remove the stack; a
//! second one detaches at once. Either way the command ends with exit code 130, and the host
//! still fires `error` and `finalized`. Catching the signals is `fink_aws::interrupt`'s, shared
//! with the code tool.

use aws_sdk_cloudformation::Client;
pub use fink_aws::interrupt::{Interrupts, EXIT_INTERRUPTED};
use fink_plugin_api::{warn, Error, Result};

use crate::events::Watcher;

/// Handles the first interrupt of a deploy of `name`; never returns success.
pub async fn interrupted<T>(
    client: &Client,
    watcher: &mut Watcher,
    interrupts: &mut Interrupts,
    name: &str,
    creating: bool,
) -> Result<T> {
    if creating {
        return Err(Error::new(format!(
            "interrupted: stopped waiting; CloudFormation goes on creating stack '{name}'"
        ))
        .with_help("to remove it, run `fink cloud delete -f` once it has settled (`fink cloud list` shows its state)")
        .with_exit_code(EXIT_INTERRUPTED));
    }
    warn!("interrupted: cancelling the update of stack '{name}' (Ctrl-C again to stop waiting)");
    if let Err(err) = client.cancel_update_stack().stack_name(name).send().await {
        warn!("could not cancel the update: {}", fink_aws::explain(&err));
    }
    tokio::select! {
        settled = watcher.wait(client, name) => {
            let status = settled.map(|s| s.status).unwrap_or_else(|e| e.message().to_string());
            Err(Error::new(format!("update of stack '{name}' cancelled; the stack is {status}"))
                .with_exit_code(EXIT_INTERRUPTED))
        }
        _ = interrupts.next() => {
            let status = crate::stack::current(client, name)
                .await
                .ok()
                .flatten()
                .map(|c| c.status)
                .unwrap_or_else(|| "unknown".to_string());
            Err(Error::new(format!("interrupted again: stopped waiting; stack '{name}' is {status}"))
                .with_help("watch it with `fink cloud list` or in the CloudFormation console")
                .with_exit_code(EXIT_INTERRUPTED))
        }
    }
}
