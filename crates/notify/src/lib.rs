//! Shared by the plugins that tell others how a run went (slack, datadog): [`facts`] reads what a
//! finished tool command did from the context and config, [`post`] sends JSON with a timeout per
//! attempt and one retry, describing a failure without the URL or any header value.

pub mod facts;
pub mod post;

pub use facts::{listed, Facts, Outcome, Target};
pub use post::{attempts, post, seconds, Failed};
