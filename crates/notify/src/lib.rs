//! Shared by the plugins that tell others how a run went (slack, datadog): [`facts`] reads what a
//! finished tool command did from the context and config, [`post`] sends JSON with a timeout per
//! attempt and one retry, describing a failure without the URL or any header value, and
//! [`settings`] holds the config keys both have (`commands`, `timeout`), and [`subscribe`] the
//! signals every notifier listens to.

pub mod facts;
pub mod post;
pub mod settings;
pub mod subscribe;

pub use facts::{listed, Facts, Outcome, Target};
pub use post::{attempts, post, Failed};
pub use settings::{commands_schema, secret_values, timeout, timeout_schema, CHANGE_COMMANDS, MAX_TIMEOUT_SECONDS};
pub use subscribe::subscribe;
