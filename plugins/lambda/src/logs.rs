//! `lambda logs`: a function's log events from CloudWatch Logs (`/aws/lambda/<name>`), printed
//! as gcdt's ramuda did (a date line when the day changes, then `HH:MM:SS  message`), optionally
//! tailed until Ctrl-C.

use std::collections::HashSet;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use aws_sdk_cloudwatchlogs::Client;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use fink_plugin_api::{debug, outln, Error, Result};

/// The command's arguments.
pub struct Request {
    pub name: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub tail: bool,
}

/// How often `--tail` asks for new events.
const POLL: Duration = Duration::from_secs(2);

/// The forms `--start` and `--end` accept, for error messages.
const FORMS: &str = "a duration ago ('30s', '15m', '2h', '3d', '5w') or a UTC time \
                     ('2017-06-28 14:23', '2017-06-28 14:23:45', '2017-06-28')";

pub async fn logs(config: &SdkConfig, request: &Request) -> Result<()> {
    let now = Utc::now();
    let default_start = if request.tail { "5m" } else { "1d" };
    let start = option_time("--start", request.start.as_deref().unwrap_or(default_start), now)?;
    let end = match request.end.as_deref() {
        Some(_) if request.tail => {
            return Err(Error::new("--end cannot be used with --tail")
                .with_help("--tail prints events until Ctrl-C; leave out --end"))
        }
        Some(text) => Some(option_time("--end", text, now)?),
        None => None,
    };
    if let Some(end) = end {
        if end <= start {
            return Err(Error::new(format!("--end ({end}) is not after --start ({start})")));
        }
    }
    let client = Client::new(config);
    let group = format!("/aws/lambda/{}", request.name);
    let mut printer = Printer::default();
    let events =
        fetch(&client, &request.name, &group, start.timestamp_millis(), end.map(|e| e.timestamp_millis())).await?;
    let mut seen = Seen::default();
    for event in &events {
        seen.add(event);
        printer.print(event);
    }
    if !request.tail {
        return Ok(());
    }
    let mut from = seen.last.unwrap_or(start.timestamp_millis());
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            _ = &mut interrupted => {
                debug!("interrupted: stopped tailing {group}");
                return Ok(());
            }
            _ = tokio::time::sleep(POLL) => {}
        }
        let events = fetch(&client, &request.name, &group, from, None).await?;
        for event in &events {
            if seen.is_new(event) {
                seen.add(event);
                printer.print(event);
            }
        }
        from = seen.last.unwrap_or(from);
    }
}

/// Every event of the group from `start` (to `end`), all pages, in time order.
async fn fetch(
    client: &Client,
    name: &str,
    group: &str,
    start: i64,
    end: Option<i64>,
) -> Result<Vec<FilteredLogEvent>> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start)
            .set_end_time(end)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| match fink_aws::code(&e) {
                Some("ResourceNotFoundException") => {
                    Error::new(format!("no logs for function '{name}': log group {group} does not exist"))
                        .with_help("the function has not logged anything yet, or the name is wrong")
                }
                _ => fink_aws::explain(&e),
            })?;
        events.extend(out.events().iter().cloned());
        token = out.next_token().filter(|t| !t.is_empty()).map(String::from);
        if token.is_none() {
            break;
        }
    }
    // Stable: events of one stream keep their order within a millisecond.
    events.sort_by_key(|e| e.timestamp().unwrap_or_default());
    Ok(events)
}

/// What `--tail` printed: the newest timestamp and the ids of the events at it (the next poll
/// starts at that millisecond again, so events logged in it later are not lost).
#[derive(Default)]
struct Seen {
    last: Option<i64>,
    ids: HashSet<String>,
}

impl Seen {
    fn is_new(&self, event: &FilteredLogEvent) -> bool {
        let at = event.timestamp().unwrap_or_default();
        match self.last {
            Some(last) if at < last => false,
            Some(last) if at == last => !self.ids.contains(event.event_id().unwrap_or_default()),
            _ => true,
        }
    }

    fn add(&mut self, event: &FilteredLogEvent) {
        let at = event.timestamp().unwrap_or_default();
        if self.last.is_none_or(|last| at > last) {
            self.last = Some(at);
            self.ids.clear();
        }
        if Some(at) == self.last {
            self.ids.insert(event.event_id().unwrap_or_default().to_string());
        }
    }
}

/// Prints events, with a date line whenever the day changes.
#[derive(Default)]
struct Printer {
    day: Option<NaiveDate>,
}

impl Printer {
    fn print(&mut self, event: &FilteredLogEvent) {
        let (date, line) = format_event(event.timestamp().unwrap_or_default(), event.message().unwrap_or_default());
        if self.day != Some(date) {
            outln!("{date}");
            self.day = Some(date);
        }
        outln!("{line}");
    }
}

/// The event's UTC day and its `HH:MM:SS  message` line (the message without its trailing
/// newline, its control characters escaped).
fn format_event(millis: i64, message: &str) -> (NaiveDate, String) {
    let at = Utc.timestamp_millis_opt(millis).single().unwrap_or_default();
    let message = crate::shown::escaped(message.trim_end_matches(['\n', '\r']));
    (at.date_naive(), format!("{}  {message}", at.format("%H:%M:%S")))
}

fn option_time(option: &str, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    parse_time(text, now).ok_or_else(|| {
        Error::new(format!("{option} '{text}' is not a time I understand")).with_help(format!("use {FORMS}"))
    })
}

/// `30s`, `15m`, `2h`, `3d`, `5w` ago, or an absolute UTC time.
fn parse_time(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(unit) = text.chars().last().filter(|c| "smhdw".contains(*c)) {
        let count: i64 = text[..text.len() - 1].parse().ok().filter(|n| *n >= 0)?;
        let seconds = count.checked_mul(match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => 7 * 86_400,
        })?;
        return now.checked_sub_signed(chrono::Duration::try_seconds(seconds)?);
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|at| at.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2017, 7, 7, 12, 0, 0).unwrap()
    }

    #[test]
    fn relative_times_are_ago() {
        let at = |t| parse_time(t, now()).unwrap();
        assert_eq!(at("30s"), Utc.with_ymd_and_hms(2017, 7, 7, 11, 59, 30).unwrap());
        assert_eq!(at("15m"), Utc.with_ymd_and_hms(2017, 7, 7, 11, 45, 0).unwrap());
        assert_eq!(at("2h"), Utc.with_ymd_and_hms(2017, 7, 7, 10, 0, 0).unwrap());
        assert_eq!(at("3d"), Utc.with_ymd_and_hms(2017, 7, 4, 12, 0, 0).unwrap());
        assert_eq!(at("1w"), Utc.with_ymd_and_hms(2017, 6, 30, 12, 0, 0).unwrap());
        assert_eq!(at(" 0m "), now());
    }

    #[test]
    fn absolute_times_are_utc() {
        let at = |t| parse_time(t, now()).unwrap();
        assert_eq!(at("2017-06-28 14:23"), Utc.with_ymd_and_hms(2017, 6, 28, 14, 23, 0).unwrap());
        assert_eq!(at("2017-06-28 14:23:45"), Utc.with_ymd_and_hms(2017, 6, 28, 14, 23, 45).unwrap());
        assert_eq!(at("2017-06-28"), Utc.with_ymd_and_hms(2017, 6, 28, 0, 0, 0).unwrap());
    }

    #[test]
    fn other_text_is_refused() {
        for bad in ["", "m", "-5m", "5x", "5 m", "yesterday", "2017-13-01", "2017-06-28T14:23", "99999999999999999w"] {
            assert!(parse_time(bad, now()).is_none(), "{bad:?} parsed");
        }
        let err = option_time("--start", "soon", now()).unwrap_err();
        assert!(err.to_string().contains("--start 'soon'"), "{err}");
        assert!(err.help().unwrap().contains("'2017-06-28 14:23'"), "{:?}", err.help());
    }

    #[test]
    fn events_print_as_time_and_message() {
        let millis = Utc.with_ymd_and_hms(2017, 7, 7, 8, 9, 10).unwrap().timestamp_millis();
        let (date, line) = format_event(millis, "START RequestId: 1\n");
        assert_eq!(date.to_string(), "2017-07-07");
        assert_eq!(line, "08:09:10  START RequestId: 1");
        let (_, line) = format_event(millis, "\x1b[2J\x1b]0;pwned\x07cleared\r\n");
        assert_eq!(line, "08:09:10  \\x1b[2J\\x1b]0;pwned\\x07cleared");
    }

    #[test]
    fn tail_skips_events_already_printed() {
        let event = |at: i64, id: &str| FilteredLogEvent::builder().timestamp(at).event_id(id).build();
        let mut seen = Seen::default();
        seen.add(&event(5, "a"));
        seen.add(&event(10, "b"));
        assert!(!seen.is_new(&event(5, "a")));
        assert!(!seen.is_new(&event(10, "b")));
        assert!(seen.is_new(&event(10, "c")));
        assert!(seen.is_new(&event(11, "d")));
        seen.add(&event(11, "d"));
        assert!(!seen.is_new(&event(10, "c")), "older than the newest: printed or lost before");
    }
}
