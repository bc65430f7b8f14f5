//! Ctrl-C and SIGTERM while a deploy waits: the first cancels an update (CancelUpdateStack) and
//! waits for the rollback, or stops waiting for a create and says how to remove the stack; a
//! second one detaches at once. Either way the command ends with exit code 130, and the host
//! still fires `error` and `finalized`. A cancel that fails is said to have failed: the update
//! goes on unchanged and is followed to its end, whose outcome the deploy reports as usual.
//! Catching the signals is `fink_aws::interrupt`'s, shared with the code tool.

use aws_sdk_cloudformation::Client;
pub use fink_aws::interrupt::{Interrupts, EXIT_INTERRUPTED};
use fink_plugin_api::{warn, Error, Result};

use crate::events::{Settled, Watcher};

/// Handles the first interrupt of a deploy of `name`. It ends the command with exit code 130,
/// except when CancelUpdateStack fails: then the update goes on unchanged and is followed as
/// before, and where it settled is returned for the deploy to report as usual.
pub async fn interrupted(
    client: &Client,
    watcher: &mut Watcher,
    interrupts: &mut Interrupts,
    name: &str,
    creating: bool,
) -> Result<Settled> {
    if creating {
        return Err(Error::new(format!(
            "interrupted: stopped waiting; CloudFormation goes on creating stack '{name}'"
        ))
        .with_help("to remove it, run `fink cloud delete -f` once it has settled (`fink cloud list` shows its state)")
        .with_exit_code(EXIT_INTERRUPTED));
    }
    warn!("interrupted: cancelling the update of stack '{name}' (Ctrl-C again to stop waiting)");
    let cancelling = match client.cancel_update_stack().stack_name(name).send().await {
        Ok(_) => true,
        Err(err) => {
            warn!(
                "could not cancel the update of stack '{name}' ({}): it goes on unchanged; following it (Ctrl-C again to stop following)",
                fink_aws::explain(&err).message()
            );
            false
        }
    };
    tokio::select! {
        settled = watcher.wait(client, name) => {
            if !cancelling {
                return settled;
            }
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
            let message = if cancelling {
                format!("interrupted again: stopped waiting; stack '{name}' is {status}")
            } else {
                format!("interrupted again: stopped following; the update of stack '{name}' goes on (it could not be cancelled); the stack is {status}")
            };
            Err(Error::new(message)
                .with_help("watch it with `fink cloud list` or in the CloudFormation console")
                .with_exit_code(EXIT_INTERRUPTED))
        }
    }
}
