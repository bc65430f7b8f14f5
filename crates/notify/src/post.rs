//! Posting JSON: a timeout per attempt, one retry, and failures described without the URL (a
//! webhook's URL holds its token) or any header value (an API key). Redirects are not followed:
//! following one would send the API key and the message to another address, and a redirect is
//! not a delivery, so a 3xx answer is a failure naming its status and where it pointed.

use std::io::Read as _;
use std::time::Duration;

use fink_plugin_api::Secrets;

/// The pause before the retry.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// How many attempts a message gets.
pub const ATTEMPTS: u32 = 2;

/// Why a post failed, in words that never contain the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub why: String,
    pub attempts: u32,
}

/// Posts `body` (JSON) to `url` with `headers`, retrying once after a timeout, a connection
/// problem, a 5xx, 408 or 429. Other 4xx answers mean the endpoint, the key or the message is
/// wrong: no retry; nor for a redirect, which is never followed. Returns the number of attempts.
pub fn post(url: &str, headers: &[(&str, &str)], body: &str, timeout: Duration) -> Result<u32, Failed> {
    let agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .user_agent(concat!("fink/", env!("CARGO_PKG_VERSION")))
        .build();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut request = agent.post(url).set("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = request.send_string(body);
        let (why, retry) = match result {
            Ok(response) if (200..300).contains(&response.status()) => return Ok(attempts),
            // Not followed (redirects(0) hands it back), and not delivered.
            Ok(response) => (not_delivered(response), false),
            Err(ureq::Error::Status(code, response)) => (status(code, response), retryable(code)),
            Err(ureq::Error::Transport(transport)) => (transport_problem(&transport, timeout), true),
        };
        if !retry || attempts >= ATTEMPTS {
            let hidden = std::iter::once(url).chain(headers.iter().map(|(_, value)| *value));
            return Err(Failed { why: Secrets::new(hidden).mask(&why), attempts });
        }
        std::thread::sleep(RETRY_PAUSE);
    }
}

fn retryable(code: u16) -> bool {
    code >= 500 || code == 408 || code == 429
}

/// `HTTP 302 redirect to https://other.example/hook, not followed`: a 3xx (or any other answer
/// that is neither a success nor an error).
fn not_delivered(response: ureq::Response) -> String {
    let code = response.status();
    match response.header("Location").map(str::trim).filter(|l| !l.is_empty()) {
        Some(location) if (300..400).contains(&code) => {
            format!("HTTP {code} redirect to {}, not followed", location.chars().take(200).collect::<String>())
        }
        _ if (300..400).contains(&code) => format!("HTTP {code} redirect without a Location, not followed"),
        _ => format!("HTTP {code}, not a success"),
    }
}

/// `HTTP 404 (channel_not_found)`: Slack says what is wrong in a short body.
fn status(code: u16, response: ureq::Response) -> String {
    let mut text = String::new();
    let _ = response.into_reader().take(200).read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() || text.contains('\n') || text.starts_with('<') {
        format!("HTTP {code}")
    } else {
        format!("HTTP {code} ({text})")
    }
}

/// The kind of problem and its cause, but not the URL that `Transport`'s Display starts with.
fn transport_problem(transport: &ureq::Transport, timeout: Duration) -> String {
    let io = std::error::Error::source(transport).and_then(|s| s.downcast_ref::<std::io::Error>());
    if let Some(e) = io {
        if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) {
            return format!("no answer within {}", fink_plugin_api::human::seconds(timeout));
        }
    }
    let mut why = transport.kind().to_string();
    if let Some(message) = transport.message() {
        why.push_str(": ");
        why.push_str(message);
    }
    if let Some(e) = io {
        why.push_str(": ");
        why.push_str(&e.to_string());
    }
    why
}

/// `1 attempt`, `2 attempts`.
pub fn attempts(count: u32) -> String {
    if count == 1 {
        "1 attempt".into()
    } else {
        format!("{count} attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A server that answers `replies` connections in turn, with a status and body each.
    fn server(replies: Vec<(u16, &'static str)>) -> (String, std::thread::JoinHandle<usize>) {
        server_with(replies.into_iter().map(|(code, body)| (code, body, "")).collect())
    }

    /// [`server`] with extra header lines per reply.
    fn server_with(replies: Vec<(u16, &'static str, &'static str)>) -> (String, std::thread::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/services/T0/B0/tok3n", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut served = 0;
            for (code, body, extra) in replies {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body_in = vec![0; length];
                reader.read_exact(&mut body_in).unwrap();
                let mut stream = reader.into_inner();
                let reply = format!(
                    "HTTP/1.1 {code} X\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(reply.as_bytes()).unwrap();
                served += 1;
            }
            served
        });
        (url, handle)
    }

    #[test]
    fn a_2xx_is_success_at_the_first_attempt() {
        let (url, handle) = server(vec![(200, "ok")]);
        assert_eq!(post(&url, &[], "{}", Duration::from_secs(2)), Ok(1));
        assert_eq!(handle.join().unwrap(), 1);
    }

    #[test]
    fn a_5xx_is_retried_once() {
        let (url, handle) = server(vec![(500, "boom"), (503, "still down")]);
        let failed = post(&url, &[], "{}", Duration::from_secs(2)).unwrap_err();
        assert_eq!(failed, Failed { why: "HTTP 503 (still down)".into(), attempts: 2 });
        assert_eq!(handle.join().unwrap(), 2);
    }

    #[test]
    fn a_retry_can_succeed() {
        let (url, handle) = server(vec![(500, ""), (200, "ok")]);
        assert_eq!(post(&url, &[], "{}", Duration::from_secs(2)), Ok(2));
        handle.join().unwrap();
    }

    #[test]
    fn a_4xx_is_not_retried() {
        let (url, handle) = server(vec![(404, "channel_not_found")]);
        let failed = post(&url, &[], "{}", Duration::from_secs(2)).unwrap_err();
        assert_eq!(failed, Failed { why: "HTTP 404 (channel_not_found)".into(), attempts: 1 });
        handle.join().unwrap();
    }

    #[test]
    fn a_redirect_is_not_followed_nor_delivered_and_names_its_location() {
        // Two replies ready: a followed redirect would reach the second one.
        let (url, handle) =
            server_with(vec![(302, "", "Location: https://elsewhere.example/collect\r\n"), (200, "ok", "")]);
        let failed = post(&url, &[("DD-API-KEY", "k3y")], "{}", Duration::from_secs(2)).unwrap_err();
        assert_eq!(
            failed,
            Failed { why: "HTTP 302 redirect to https://elsewhere.example/collect, not followed".into(), attempts: 1 }
        );
        // The second reply is still waiting: answer it, so the server ends and says it served two.
        let _ = post(&url, &[], "{}", Duration::from_secs(2));
        assert_eq!(handle.join().unwrap(), 2);
        let (url, handle) = server_with(vec![(307, "", "")]);
        let failed = post(&url, &[], "{}", Duration::from_secs(2)).unwrap_err();
        assert_eq!(failed.why, "HTTP 307 redirect without a Location, not followed");
        handle.join().unwrap();
    }

    #[test]
    fn connection_problems_never_show_the_url() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/services/T0/B0/tok3n");
        let failed = post(&url, &[], "{}", Duration::from_secs(1)).unwrap_err();
        assert_eq!(failed.attempts, 2);
        assert!(!failed.why.contains("tok3n") && !failed.why.contains("127.0.0.1"), "{}", failed.why);
        assert!(failed.why.to_lowercase().contains("connection"), "{}", failed.why);
    }

    #[test]
    fn attempts_read_naturally() {
        assert_eq!((attempts(1).as_str(), attempts(2).as_str()), ("1 attempt", "2 attempts"));
    }
}
