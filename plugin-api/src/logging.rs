//! Plugin logging: `tracing` macros inside a plugin end up in the host's output.
//!
//! Each plugin library has its own copy of `tracing` and so its own global dispatcher; at
//! registration this crate installs one that forwards every event to the host, which prints it
//! under the plugin's name and filters it by `-v`. The same host object carries the host
//! protocol records ([`keep_context`]).

use std::fmt::Write as _;
use std::sync::OnceLock;

use abi_stable::std_types::RStr;
use tracing::field::{Field, Visit};
use tracing::{Event, Level as TracingLevel, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::abi::{HostBox, Level, KEPT_CONTEXT_TARGET, SUBSCRIPTION_SCOPE_TARGET};

/// The host's services, given once at registration.
static HOST: OnceLock<HostBox> = OnceLock::new();

struct HostLayer {
    host: &'static HostBox,
    /// The plugin crate's name: records from other crates (the AWS SDK, hyper, ...) are demoted
    /// one level, so `-v` shows the plugin's own detail and `-vv` everything.
    own: &'static str,
}

/// Collects an event's message and fields into one line: `message key=value ...`.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

fn to_abi(level: &TracingLevel) -> Level {
    match *level {
        TracingLevel::ERROR => Level::ERROR,
        TracingLevel::WARN => Level::WARN,
        TracingLevel::INFO => Level::INFO,
        TracingLevel::DEBUG => Level::DEBUG,
        _ => Level::TRACE,
    }
}

fn to_filter(level: Level) -> LevelFilter {
    match level.0 {
        0 => LevelFilter::OFF,
        1 => LevelFilter::ERROR,
        2 => LevelFilter::WARN,
        3 => LevelFilter::INFO,
        4 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

impl<S: Subscriber> Layer<S> for HostLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut line = Line::default();
        event.record(&mut line);
        line.message.push_str(&line.fields);
        let meta = event.metadata();
        let target = meta.target();
        let mut level = to_abi(meta.level());
        let own = target == self.own || target.strip_prefix(self.own).is_some_and(|rest| rest.starts_with("::"));
        if !own && level >= Level::INFO {
            level = Level(level.0 + 1).min(Level::TRACE);
        }
        self.host.log(level, RStr::from_str(target), RStr::from_str(&line.message));
    }
}

/// Routes this plugin's `tracing` events to the host. Called once, at registration.
pub(crate) fn install(host: HostBox, own: &'static str) {
    // A plugin registers once; should the host ever call again, the first object stays.
    let host = HOST.get_or_init(|| host);
    let filter = to_filter(host.max_level());
    let subscriber = tracing_subscriber::registry().with(HostLayer { host, own }).with(filter);
    // Fails only if the plugin installed its own subscriber first; then that one wins.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Tells the host the context a failing command had set (JSON text), for the `error` and
/// `finalized` handlers. A record at [`Level::OFF`]: a host that does not know the protocol
/// prints nothing.
pub(crate) fn keep_context(context: &str) {
    if let Some(host) = HOST.get() {
        host.log(Level::OFF, RStr::from_str(KEPT_CONTEXT_TARGET), RStr::from_str(context));
    }
}

/// Tells the host that the next subscription is for some runs only (JSON text, see
/// [`SUBSCRIPTION_SCOPE_TARGET`]).
pub(crate) fn subscription_scope(scope: &str) {
    if let Some(host) = HOST.get() {
        host.log(Level::OFF, RStr::from_str(SUBSCRIPTION_SCOPE_TARGET), RStr::from_str(scope));
    }
}
