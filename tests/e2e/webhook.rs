//! A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that records every request and
//! answers with a chosen status, after a chosen delay, with a redirect to its own `/stolen` path
//! (where a client that follows it shows up), or not at all (drops the connection).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// How the server answers.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// This status, at once.
    Status(u16),
    /// This status, after the delay.
    Slow(Duration, u16),
    /// Closes the connection after reading the request.
    Drop,
    /// This 3xx status with `Location: http://127.0.0.1:<port>/stolen` (this server): a client
    /// that follows it is recorded there, with its headers.
    Redirect(u16),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// A running server; it stops when dropped.
pub struct Webhook {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Webhook {
    pub fn start(reply: Reply) -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let seen = seen.clone();
                // One thread per connection: a slow answer must not hold up the client's retry.
                std::thread::spawn(move || serve(stream, reply, port, &seen));
            }
        });
        Webhook { port, requests, stop }
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Where [`Reply::Redirect`] sends a client.
    pub fn redirect_location(&self) -> String {
        redirect_target(self.port)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Where [`Reply::Redirect`] points: `http://127.0.0.1:<port>/stolen`.
pub fn redirect_target(port: u16) -> String {
    format!("http://127.0.0.1:{port}/stolen")
}

/// A URL on which nothing listens: a port that was free a moment ago.
pub fn unreachable_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}/hook")
}

fn serve(stream: TcpStream, reply: Reply, port: u16, seen: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader) else { return };
    let path = request.path.clone();
    seen.lock().unwrap().push(request);
    let mut stream = reader.into_inner();
    let mut location = String::new();
    let status = match reply {
        Reply::Status(status) => status,
        // The redirect's target answers 200, as a server taking the message would.
        Reply::Redirect(_) if path == "/stolen" => 200,
        Reply::Redirect(status) => {
            location = format!("Location: {}\r\n", redirect_target(port));
            status
        }
        Reply::Slow(delay, status) => {
            std::thread::sleep(delay);
            status
        }
        Reply::Drop => return,
    };
    let body = if (200..300).contains(&status) { "ok" } else { "webhook_failed" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} Test\r\n{location}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() })
}
