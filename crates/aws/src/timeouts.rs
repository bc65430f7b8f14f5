//! How long fink waits for one AWS call: an endpoint that takes the connection and never answers
//! (a proxy, a VPN dropping packets, a typo'd `AWS_ENDPOINT_URL`) ends the call, retries
//! included, within `FINK_AWS_TIMEOUT` seconds (default [`DEFAULT_SECONDS`]). The bounds are per
//! call: waits made of many calls (a stack update, a deployment) are not bounded by them.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use fink_plugin_api::Error;

/// The variable that sets the bound of one AWS call, in seconds.
pub const VARIABLE: &str = "FINK_AWS_TIMEOUT";

/// The bound of one call, all attempts included, when [`VARIABLE`] is unset.
pub const DEFAULT_SECONDS: u64 = 50;

/// The largest value accepted: an hour.
const MAX_SECONDS: u64 = 3600;

/// The longest wait for a TCP connection: 5 s, or less when the whole call has less.
const CONNECT: Duration = Duration::from_secs(5);

/// The slowest upload rate an upload's bound allows for (64 KiB/s), so a big bundle on a slow
/// line is not cut off; a stalled upload is caught sooner by the SDK's stalled-stream protection.
const UPLOAD_BYTES_PER_SECOND: u64 = 64 * 1024;

/// The bound of one AWS call and the timeouts derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One call, all attempts and the pauses between them included.
    pub call: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts { call: Duration::from_secs(DEFAULT_SECONDS) }
    }
}

impl Timeouts {
    /// From `FINK_AWS_TIMEOUT`; unset or empty is the default, anything but a whole number of
    /// seconds from 1 to 3600 an error naming the variable.
    pub fn from_env() -> Result<Timeouts, Error> {
        parse(std::env::var(VARIABLE).ok().as_deref())
    }

    /// One attempt may take two fifths of the call, so that with the SDK's standard retries (3
    /// attempts) a silent endpoint always meets the call's bound, and a call that failed fast
    /// (a dropped connection) still has time for its retries.
    pub fn attempt(&self) -> Duration {
        self.call * 2 / 5
    }

    /// The SDK's timeouts: connect, read (the whole wait for the answer), attempt and operation.
    pub fn config(&self) -> TimeoutConfig {
        self.with_extra(Duration::ZERO)
    }

    /// [`Timeouts::config`] for a call that sends a body of `bytes` (an upload): its attempt and
    /// operation bounds grow by the time the body takes at 64 KiB/s.
    pub fn upload(&self, bytes: u64) -> TimeoutConfig {
        self.with_extra(Duration::from_secs(bytes.div_ceil(UPLOAD_BYTES_PER_SECOND)))
    }

    /// [`Timeouts::config`] for a call whose answer comes only after work of up to `longest`
    /// (a synchronous Lambda invoke runs for up to 15 minutes).
    pub fn long_call(&self, longest: Duration) -> TimeoutConfig {
        self.with_extra(longest)
    }

    fn with_extra(&self, extra: Duration) -> TimeoutConfig {
        let attempt = self.attempt() + extra;
        TimeoutConfig::builder()
            .connect_timeout(CONNECT.min(self.attempt()))
            .read_timeout(attempt)
            .operation_attempt_timeout(attempt)
            .operation_timeout(self.call + extra)
            .build()
    }
}

/// The SDK timeouts for an upload of `bytes` (see [`Timeouts::upload`]), for a call's
/// `.customize().config_override(..)`. `FINK_AWS_TIMEOUT` was checked when the config was loaded.
pub fn upload(bytes: u64) -> TimeoutConfig {
    Timeouts::from_env().unwrap_or_default().upload(bytes)
}

/// The SDK timeouts for a call that waits for work of up to `longest` (see
/// [`Timeouts::long_call`]), for a call's `.customize().config_override(..)`.
pub fn long_call(longest: Duration) -> TimeoutConfig {
    Timeouts::from_env().unwrap_or_default().long_call(longest)
}

fn parse(value: Option<&str>) -> Result<Timeouts, Error> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(Timeouts::default());
    };
    match value.parse::<u64>() {
        Ok(seconds @ 1..=MAX_SECONDS) => Ok(Timeouts { call: Duration::from_secs(seconds) }),
        _ => Err(Error::new(format!(
            "{VARIABLE} must be a whole number of seconds from 1 to {MAX_SECONDS}, got '{}'",
            value.escape_debug()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_empty_is_the_default_of_50_s() {
        assert_eq!(parse(None).unwrap(), Timeouts::default());
        assert_eq!(parse(Some(" ")).unwrap().call, Duration::from_secs(50));
        assert_eq!(parse(Some(" 3 ")).unwrap().call, Duration::from_secs(3));
        assert_eq!(parse(Some("3600")).unwrap().call, Duration::from_secs(3600));
    }

    #[test]
    fn bad_values_are_one_line_naming_the_variable() {
        for bad in ["0", "-1", "abc", "2.5", "3601", "99999999999999999999999", "5s", "1\n2"] {
            let err = parse(Some(bad)).unwrap_err();
            assert!(err.message().starts_with("FINK_AWS_TIMEOUT must be a whole number of seconds"), "{bad}");
            assert!(!err.message().contains('\n'), "{}", err.message());
        }
        assert_eq!(
            parse(Some("abc")).unwrap_err().message(),
            "FINK_AWS_TIMEOUT must be a whole number of seconds from 1 to 3600, got 'abc'"
        );
    }

    #[test]
    fn three_attempts_never_fit_in_the_call_so_a_silent_endpoint_ends_at_its_bound() {
        let config = Timeouts::default().config();
        assert_eq!(config.connect_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(config.read_timeout(), Some(Duration::from_secs(20)));
        assert_eq!(config.operation_attempt_timeout(), Some(Duration::from_secs(20)));
        assert_eq!(config.operation_timeout(), Some(Duration::from_secs(50)));
        assert!(Timeouts::default().attempt() * 3 > Timeouts::default().call);
        // A small bound shortens the connect timeout too.
        let small = Timeouts { call: Duration::from_secs(3) }.config();
        assert_eq!(small.connect_timeout(), Some(Duration::from_millis(1200)));
        assert_eq!(small.operation_timeout(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn uploads_and_long_calls_get_time_for_their_body_or_work() {
        let timeouts = Timeouts::default();
        // 50 MiB at 64 KiB/s: 800 s more.
        let upload = timeouts.upload(50 * 1024 * 1024);
        assert_eq!(upload.operation_attempt_timeout(), Some(Duration::from_secs(820)));
        assert_eq!(upload.read_timeout(), Some(Duration::from_secs(820)));
        assert_eq!(upload.operation_timeout(), Some(Duration::from_secs(850)));
        assert_eq!(upload.connect_timeout(), Some(Duration::from_secs(5)));
        let invoke = timeouts.long_call(Duration::from_secs(900));
        assert_eq!(invoke.operation_timeout(), Some(Duration::from_secs(950)));
        assert_eq!(invoke.read_timeout(), Some(Duration::from_secs(920)));
    }
}
