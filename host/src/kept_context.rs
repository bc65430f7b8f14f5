//! The mailbox for the context a failing command sent before returning its error
//! ([`fink_plugin_api::abi::KEPT_CONTEXT_TARGET`] records): the loader's host side drops it in,
//! the lifecycle takes it out for the `error` and `finalized` handlers. Its own module, so that
//! neither of the two depends on the other.

use std::cell::RefCell;

thread_local! {
    /// (plugin, JSON text). Commands run on the host's thread, so the record arrives on it.
    static KEPT: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Keeps what `plugin` sent.
pub fn keep(plugin: &str, context: &str) {
    KEPT.with(|kept| *kept.borrow_mut() = Some((plugin.to_string(), context.to_string())));
}

/// Takes what was kept, leaving the mailbox empty.
pub fn take() -> Option<(String, String)> {
    KEPT.with(|kept| kept.borrow_mut().take())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_kept_is_taken_once() {
        keep("code", r#"{"deployment_id": "d-1"}"#);
        assert_eq!(take(), Some(("code".to_string(), r#"{"deployment_id": "d-1"}"#.to_string())));
        assert_eq!(take(), None);
    }
}
