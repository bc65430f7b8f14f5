//! Output of log records: the host's own (through `tracing`) and plugins' (through the logging
//! service each plugin keeps), in one style on stderr, filtered by `-q`/`-v`/`-vv`, with the run's
//! secrets masked in every record.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::RwLock;

use fink_plugin_api::{Level, Secrets};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;

static MAX_LEVEL: AtomicU8 = AtomicU8::new(3);
static COLOR: AtomicU8 = AtomicU8::new(0);
/// The secrets of the current run, masked by the plugin API's one rule. The lifecycle sets them
/// whenever a handler changes the context.
static SECRETS: RwLock<Option<Secrets>> = RwLock::new(None);

/// Values that must never be printed from now on (the context's `_secrets`).
pub fn set_secrets(secrets: Secrets) {
    if let Ok(mut current) = SECRETS.write() {
        *current = Some(secrets);
    }
}

/// `text` with the run's secrets masked as `****` ([`Secrets::mask`]).
pub fn scrub(text: &str) -> String {
    match SECRETS.read().as_deref() {
        Ok(Some(secrets)) if !secrets.is_empty() => secrets.mask(text),
        _ => text.to_string(),
    }
}

/// Prints a warning from the host itself, secrets scrubbed.
pub fn warn(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}{}", prefix(Level::WARN), scrub(message));
}

/// The level shown for a verbosity: -1 quiet (warnings), 0 normal, 1 `-v`, 2 `-vv`.
pub fn level_for(verbosity: i8) -> Level {
    match verbosity {
        i8::MIN..=-1 => Level::WARN,
        0 => Level::INFO,
        1 => Level::DEBUG,
        _ => Level::TRACE,
    }
}

/// Sets up logging once, before any plugin loads (plugins read the level when they register).
pub fn init(level: Level) {
    MAX_LEVEL.store(level.0, Ordering::Relaxed);
    let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
    COLOR.store(u8::from(color), Ordering::Relaxed);
    let filter = match level.0 {
        0..=2 => tracing::level_filters::LevelFilter::WARN,
        3 => tracing::level_filters::LevelFilter::INFO,
        4 => tracing::level_filters::LevelFilter::DEBUG,
        _ => tracing::level_filters::LevelFilter::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .event_format(HostFormat)
        .try_init();
}

/// The most verbose level shown.
pub fn max_level() -> Level {
    Level(MAX_LEVEL.load(Ordering::Relaxed))
}

/// Whether `-v` (or more) was given.
pub fn verbose() -> bool {
    max_level() >= Level::DEBUG
}

fn paint(text: &str, ansi: &str) -> String {
    if COLOR.load(Ordering::Relaxed) == 1 {
        format!("\x1b[{ansi}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The prefix for a level: nothing for normal output, `warning: ` etc. otherwise.
fn prefix(level: Level) -> String {
    match level.0 {
        1 => format!("{} ", paint("error:", "1;31")),
        2 => format!("{} ", paint("warning:", "1;33")),
        3 => String::new(),
        4 => format!("{} ", paint("debug:", "2")),
        _ => format!("{} ", paint("trace:", "2")),
    }
}

/// Writes one record from a plugin: `[warning: ]<plugin>: message`.
pub fn plugin_record(level: Level, plugin: &str, target: &str, message: &str) {
    if level > max_level() || level == Level::OFF {
        return;
    }
    let origin =
        if level >= Level::DEBUG && !target.is_empty() { format!("{plugin} ({target})") } else { plugin.to_string() };
    let message = scrub(message);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}{}: {message}", prefix(level), paint(&origin, "1"));
}

/// Prints an error for the user: `error: message`, then `help:` lines.
pub fn print_error(message: &str, help: Option<&str>) {
    let message = scrub(message);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}{message}", prefix(Level::ERROR));
    if let Some(help) = help {
        let _ = writeln!(err, "  {} {}", paint("help:", "1;36"), scrub(help));
    }
}

struct HostFormat;

impl<S, N> FormatEvent<S, N> for HostFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => Level::ERROR,
            tracing::Level::WARN => Level::WARN,
            tracing::Level::INFO => Level::INFO,
            tracing::Level::DEBUG => Level::DEBUG,
            _ => Level::TRACE,
        };
        write!(writer, "{}", prefix(level))?;
        if level >= Level::DEBUG {
            write!(writer, "fink: ")?;
        }
        let mut message = String::new();
        ctx.field_format().format_fields(Writer::new(&mut message), event)?;
        writeln!(writer, "{}", scrub(&message))
    }
}
