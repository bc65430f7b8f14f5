//! The datadog plugin through the real binary: the alpha fixture's `demo run` and the cloud tool
//! against moto report to a real HTTP server on 127.0.0.1 standing in for Datadog's intake. The
//! bodies are checked against Datadog's documented request schemas: metrics API v2 (`series` of
//! `metric`, `type`, `points` of `timestamp` and `value`, `tags`) and events API v1 (`title`,
//! `text`, `tags`, `alert_type`, `date_happened`).

use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use fink_test_support::{Moto, REGION};
use serde_json::{json, Value};

use crate::aws::{parameter, unique};
use crate::support::{Project, Run};
use crate::webhook::{unreachable_url, Reply, Request, Webhook};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-datadog", "fink-fixture-alpha"];

const KEY: &str = "dd-k3y-0123456789abcdef";

/// The intake's base URL (the plugin appends `/api/...`).
fn site(hook: &Webhook) -> String {
    hook.url().trim_end_matches("/hook").to_string()
}

fn project(datadog: Value) -> Project {
    let project = Project::with(PLUGINS);
    project.file("fink_dev.json", &json!({"demo": {}, "plugins": {"datadog": datadog}}).to_string());
    project
}

fn assert_absent(run: &Run, text: &str) {
    assert!(!run.stderr.contains(text) && !run.stdout.contains(text), "{text:?} was printed:\n{run:#?}");
}

fn tags(body: &Value) -> Vec<String> {
    body["tags"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect()
}

/// A metrics API v2 body: the count and the duration, each a well-formed series.
fn check_series(request: &Request) -> Value {
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/api/v2/series"));
    assert_eq!(request.header("dd-api-key"), Some(KEY));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    let series = body["series"].as_array().expect("series is a list");
    let metrics: Vec<&str> = series.iter().filter_map(|s| s["metric"].as_str()).collect();
    assert_eq!(metrics, ["fink.command.count", "fink.command.duration"], "{body:#}");
    for s in series {
        assert!(matches!(s["type"].as_u64(), Some(1 | 3)), "type is count (1) or gauge (3): {s}");
        let point = &s["points"][0];
        assert!(point["timestamp"].as_i64().is_some_and(|t| t > 1_700_000_000), "{s}");
        assert!(point["value"].as_f64().is_some_and(|v| v >= 0.0), "{s}");
    }
    assert_eq!(series[0]["points"][0]["value"], json!(1.0));
    series[0].clone()
}

fn requests_to(hook: &Webhook, path: &str) -> Vec<Request> {
    hook.requests().into_iter().filter(|r| r.path == path).collect()
}

#[test]
fn a_run_is_reported_as_two_tagged_metrics() {
    let hook = Webhook::start(Reply::Status(202));
    let project = project(json!({"api_key": KEY, "site": site(&hook), "tags": ["team:web"]}));
    let run = project.fink(&["demo", "run", "-e", "dev", "-vv"]).ok();
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "metrics only, no event for `run`: {requests:#?}");
    let count = check_series(&requests[0]);
    let tags = tags(&count);
    for tag in ["tool:demo", "command:run", "env:dev", "status:success", "team:web"] {
        assert!(tags.contains(&tag.to_string()), "{tag} missing in {tags:?}");
    }
    assert!(tags.iter().any(|t| t.starts_with("fink_version:")), "{tags:?}");
    let run = run.stderr_has("reported 'demo run' to Datadog (metrics, 1 attempt)");
    // The key travels in the header only: never printed, not even at -vv.
    assert_absent(&run, KEY);
    assert!(!requests[0].body.contains(KEY));
}

#[test]
fn gcdts_section_and_key_names_are_read_as_plugins_datadog() {
    let hook = Webhook::start(Reply::Status(202));
    let project = Project::with(PLUGINS);
    let section = json!({"datadog_api_key": KEY, "site": site(&hook)});
    project.file("gcdt_dev.json", &json!({"demo": {}, "plugins": {"gcdt_datadog_integration": section}}).to_string());
    let run = project.fink(&["demo", "run", "-e", "dev", "-vv"]).ok();
    let warning = "warning: config-reader: gcdt_dev.json: 'plugins.gcdt_datadog_integration' is read as \
                   'plugins.datadog' (its old name); rename it to 'plugins.datadog'";
    assert!(run.stderr.lines().any(|l| l == warning), "{}", run.stderr);
    // The old key is the key, not the default lookup, and is as secret as `api_key`.
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    check_series(&requests[0]);
    assert_absent(&run, KEY);
    let shown = project.fink(&["config", "-e", "dev"]).ok();
    assert!(shown.stdout.contains("\"datadog_api_key\""), "{}", shown.stdout);
    assert_absent(&shown, KEY);
}

#[test]
fn a_failed_run_is_reported_with_status_failure_and_keeps_its_exit_code() {
    let hook = Webhook::start(Reply::Status(202));
    let project = project(json!({"api_key": KEY, "site": site(&hook)})).env("FINK_FIXTURE_ALPHA_FAIL_AT", "command");
    project.fink(&["demo", "run", "-e", "dev"]).code(3);
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let tags = tags(&check_series(&requests[0]));
    assert!(tags.contains(&"status:failure".to_string()), "{tags:?}");
}

#[test]
fn a_cloud_deploy_also_sends_an_event_naming_the_stack() {
    let moto = Moto::shared();
    let name = unique("ddstack");
    let hook = Webhook::start(Reply::Status(202));
    let plugins = ["fink-plugin-config-reader", "fink-plugin-credentials", "fink-plugin-datadog", "fink-plugin-cloud"];
    let project = Project::with(&plugins).aws(moto);
    project.file(
        "fink_dev.json",
        &json!({"cloud": {"stack": {"StackName": name}}, "plugins": {"datadog": {"api_key": KEY, "site": site(&hook)}}})
            .to_string(),
    );
    project.file("cloudformation.json", r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#);
    project.fink(&["cloud", "deploy", "-e", "dev"]).ok();

    let series = requests_to(&hook, "/api/v2/series");
    assert_eq!(series.len(), 1, "{:#?}", hook.requests());
    let stack_tag = format!("stack:{}", name.to_lowercase());
    assert!(tags(&check_series(&series[0])).contains(&stack_tag), "{}", series[0].body);
    let events = requests_to(&hook, "/api/v1/events");
    assert_eq!(events.len(), 1, "{:#?}", hook.requests());
    assert_eq!(events[0].header("dd-api-key"), Some(KEY));
    let event = events[0].json();
    assert_eq!(event["title"], json!(format!("fink: cloud deploy succeeded for stack '{name}' in dev")), "{event:#}");
    assert_eq!(event["alert_type"], "success");
    assert!(event["text"].as_str().is_some_and(|t| t.contains(&format!("target: stack {name}"))), "{event:#}");
    assert!(event["date_happened"].as_i64().is_some_and(|t| t > 1_700_000_000), "{event:#}");
    assert!(tags(&event).contains(&stack_tag), "{event:#}");
    // The account the credentials plugin found.
    assert!(tags(&event).contains(&"aws_account:123456789012".to_string()), "{event:#}");
}

#[test]
fn the_default_key_is_looked_up_in_the_secret_datadog() {
    let moto = Moto::shared();
    let hook = Webhook::start(Reply::Status(202));
    // Only this test has a datadog section without a key, so the one secret serves it alone.
    crate::aws::secret(moto, REGION, "datadog", &json!({"api_key": KEY}).to_string());
    let project = Project::with(&[
        "fink-plugin-config-reader",
        "fink-plugin-lookups",
        "fink-plugin-datadog",
        "fink-fixture-alpha",
    ])
    .aws(moto);
    project.file("fink_dev.json", &json!({"demo": {}, "plugins": {"datadog": {"site": site(&hook)}}}).to_string());
    let run = project.fink(&["demo", "run", "-e", "dev", "-vv"]).ok();
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{}", run.stderr);
    check_series(&requests[0]);
    assert_absent(&run, KEY);
}

#[test]
fn without_a_key_nothing_is_sent_and_one_line_says_why() {
    let hook = Webhook::start(Reply::Status(202));
    let project = project(json!({"api_key": "", "site": site(&hook)}));
    // At normal verbosity: the project has a plugins.datadog section.
    let run = project.fink(&["demo", "run", "-e", "dev"]).ok();
    let line = "no Datadog API key configured (plugins.datadog.api_key is empty or missing, or its lookup found \
                nothing): 'demo run' not reported";
    assert_eq!(run.stderr.matches(line).count(), 1, "{}", run.stderr);
    assert!(hook.requests().is_empty(), "{:#?}", hook.requests());
}

#[test]
fn an_unreachable_or_slow_intake_warns_once_per_request_and_keeps_the_exit_code() {
    let down = unreachable_url().trim_end_matches("/hook").to_string();
    let project = project(json!({"api_key": KEY, "site": down, "timeout": 1}));
    let run = project.fink(&["demo", "run", "-e", "dev", "-vv"]).ok();
    assert_eq!(run.stderr.matches("could not report 'demo run' to Datadog (metrics)").count(), 1, "{}", run.stderr);
    let run = run.stderr_has("(2 attempts, 1 s each); the command's result is unchanged");
    assert_absent(&run, KEY);

    let hook = Webhook::start(Reply::Slow(Duration::from_secs(4), 202));
    let project = self::project(json!({"api_key": KEY, "site": site(&hook), "timeout": 1, "events": ["run"]}));
    let run = project.fink(&["demo", "run", "-e", "dev"]).ok();
    run.stderr_has("could not report 'demo run' to Datadog (metrics): no answer within 1 s (2 attempts")
        .stderr_has("could not report 'demo run' to Datadog (event): no answer within 1 s (2 attempts");
    let paths: Vec<String> = hook.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 4, "one attempt and one retry each: {paths:?}");
    // Both first attempts arrive before either retry: the two requests were in flight together,
    // so a slow intake costs its timeout once, not twice.
    let mut first_two = paths[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, ["/api/v1/events", "/api/v2/series"], "{paths:?}");
}

#[test]
fn secret_values_never_reach_a_body() {
    let moto = Moto::shared();
    let p = unique("dd");
    let hook = Webhook::start(Reply::Status(202));
    let secret = format!("pw-{p}-s3cr3t");
    parameter(moto, REGION, &format!("/{p}/password"), &secret, ParameterType::SecureString);
    parameter(moto, REGION, &format!("/{p}/dd.key"), KEY, ParameterType::SecureString);
    let project = Project::with(&[
        "fink-plugin-config-reader",
        "fink-plugin-lookups",
        "fink-plugin-datadog",
        "fink-fixture-alpha",
    ])
    .aws(moto);
    // The secret lands where the demo schema rejects it, so the error text carries it; the key
    // itself comes from a lookup.
    let config = json!({
        "demo": {"mode": format!("lookup:parameter:/{p}/password")},
        "plugins": {"datadog": {"api_key": format!("lookup:parameter:/{p}/dd.key"), "site": site(&hook),
                                "events": ["run"]}},
    });
    project.file("fink_dev.json", &config.to_string());
    let run = project.fink(&["demo", "run", "-e", "dev", "-vv"]).code(1).stderr_has("demo.mode");
    let series = requests_to(&hook, "/api/v2/series");
    assert_eq!(series.len(), 1, "{}", run.stderr);
    assert_eq!(series[0].header("dd-api-key"), Some(KEY), "the looked-up key is used");
    assert!(tags(&check_series(&series[0])).contains(&"status:failure".to_string()));
    // The event carries the error text, with the secret masked.
    let events = requests_to(&hook, "/api/v1/events");
    assert_eq!(events.len(), 1, "{:#?}", hook.requests());
    let event = events[0].json();
    assert_eq!(event["alert_type"], "error");
    let text = event["text"].as_str().unwrap_or_default();
    assert!(text.contains("error: ") && text.contains("demo.mode") && text.contains("****"), "{event:#}");
    for leak in [secret.as_str(), KEY] {
        for request in series.iter().chain(&events) {
            assert!(!request.body.contains(leak), "{leak} in {}", request.body);
        }
        assert_absent(&run, leak);
    }
}

#[test]
fn a_redirect_is_not_followed_with_the_api_key_and_not_counted_as_delivered() {
    let hook = Webhook::start(Reply::Redirect(307));
    let project = project(json!({"api_key": KEY, "site": site(&hook)}));
    let run = project.fink(&["demo", "run", "-e", "dev"]).ok();
    let location = hook.redirect_location();
    run.stderr_has(&format!(
        "could not report 'demo run' to Datadog (metrics): HTTP 307 redirect to {location}, not followed (1 attempt"
    ));
    let requests = hook.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/api/v2/series"], "the key never went to the redirect's target");
    assert_eq!(requests[0].header("dd-api-key"), Some(KEY));
}
