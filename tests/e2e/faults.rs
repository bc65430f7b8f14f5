//! Faults that used to hang fink: an AWS endpoint that takes the connection and never answers
//! (a proxy or VPN dropping packets, a typo'd `AWS_ENDPOINT_URL` pointing at a listening port)
//! ends each call within `FINK_AWS_TIMEOUT` (default 50 s) with one line naming the endpoint
//! and the call.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

use fink_test_support::REGION;
use serde_json::json;

use crate::support::{Project, Run};

/// A listener on 127.0.0.1 that accepts every connection and never answers; the connections
/// stay open (held by its thread) until the test binary ends.
fn silent_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        let mut open: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            open.push(stream);
        }
    });
    endpoint
}

/// A small cloud project whose AWS settings point at `endpoint` (no moto: nothing answers).
fn project(plugins: &[&str], endpoint: &str) -> Project {
    let mut project = Project::with(plugins);
    for (key, value) in [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", REGION),
    ] {
        project = project.env(key, value);
    }
    let template = json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}});
    project.file("cloudformation.json", &template.to_string());
    project.file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": "silent"}}}).to_string());
    project
}

const CLOUD: &[&str] = &["fink-plugin-config-reader", "fink-plugin-cloud"];
const WITH_CREDENTIALS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-credentials", "fink-plugin-cloud"];

/// The one line of stderr, asserting there is exactly one.
fn one_line(run: &Run) -> String {
    let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    lines[0].to_string()
}

#[test]
fn a_silent_endpoint_ends_the_credentials_check_and_the_deploy_within_fink_aws_timeout() {
    let endpoint = silent_endpoint();
    // The credentials check (STS GetCallerIdentity) is the first call of most runs; without the
    // credentials plugin, the cloud tool's first call is.
    for (plugins, expected) in [
        (
            WITH_CREDENTIALS,
            format!(
                "error: credentials (check_credentials_init): no answer from {endpoint} (AWS_ENDPOINT_URL) \
                 to STS GetCallerIdentity within 3 s (credentials from AWS_ACCESS_KEY_ID)"
            ),
        ),
        (
            CLOUD,
            format!(
                "error: cloud (cloud deploy): no answer from {endpoint} (AWS_ENDPOINT_URL) \
                 to CloudFormation DescribeStacks within 3 s"
            ),
        ),
    ] {
        let project = project(plugins, &endpoint).env("FINK_AWS_TIMEOUT", "3");
        let started = Instant::now();
        let run = project.fink_within(Duration::from_secs(90), &["cloud", "deploy", "-e", "dev"]).code(1);
        let took = started.elapsed();
        assert_eq!(one_line(&run), expected);
        // One call's bound, and fink's own start: not a second call waiting out its bound too.
        assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(6), "took {took:?}");
    }
}

#[test]
fn by_default_a_silent_endpoint_ends_the_run_within_a_minute() {
    let endpoint = silent_endpoint();
    let project = project(WITH_CREDENTIALS, &endpoint);
    let started = Instant::now();
    let run = project.fink_within(Duration::from_secs(90), &["cloud", "deploy", "-e", "dev"]).code(1);
    let took = started.elapsed();
    let line = one_line(&run);
    assert!(
        line.contains(&format!("no answer from {endpoint} (AWS_ENDPOINT_URL) to STS GetCallerIdentity within 50 s")),
        "{line}"
    );
    assert!(took >= Duration::from_secs(49) && took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn a_bad_fink_aws_timeout_is_one_line_naming_the_variable() {
    let endpoint = silent_endpoint();
    for plugins in [WITH_CREDENTIALS, CLOUD] {
        let project = project(plugins, &endpoint).env("FINK_AWS_TIMEOUT", "5s");
        let run = project.fink_within(Duration::from_secs(30), &["cloud", "deploy", "-e", "dev"]).code(1);
        let line = one_line(&run);
        assert!(
            line.ends_with("): FINK_AWS_TIMEOUT must be a whole number of seconds from 1 to 3600, got '5s'"),
            "{line}"
        );
    }
}

/// Waits for a spawned fink (from [`Project::spawn`]) at most `limit`, then kills it and fails
/// the test with what it printed so far.
pub fn finish_within(mut child: Child, limit: Duration) -> Run {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buffer = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "fink still ran after {} s and was killed; stderr:\n{}",
                limit.as_secs(),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run::from(std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}
