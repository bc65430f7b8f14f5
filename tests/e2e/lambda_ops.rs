//! The lambda tool's operations commands (logs, metrics, wire, unwire) against moto through the
//! real binary. Functions are created with the SDK here (not with `lambda deploy`), with a
//! published version and the ACTIVE alias.
//!
//! moto 5.2.5 notes: PutLogEvents refuses events older than 14 days, so log events are placed
//! relative to now; RemovePermission ignores its Qualifier parameter (wire therefore addresses the
//! alias by its ARN as FunctionName, which AWS accepts too); S3 only persists notifications.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fink_test_support::{block_on, Moto, REGION};
use serde_json::{json, Value};

use crate::aws::unique;
use crate::support::Project;

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-lambda"];

/// A project with an empty config for env `dev` (the host wants an env even for commands that
/// need no config).
fn project(moto: &Moto) -> Project {
    let project = Project::with(PLUGINS).aws(moto).env("ENV", "dev");
    project.file("fink_dev.json", "{}");
    project
}

/// A project whose config describes function `name` with these event sources.
fn wired_project(moto: &Moto, name: &str, events: Value) -> Project {
    let project = project(moto);
    project.file("fink_dev.json", &json!({"lambda": {"lambda": {"name": name, "events": events}}}).to_string());
    project
}

/// Creates function `name`, publishes version 1 and points ACTIVE at it; returns the alias ARN.
fn function(moto: &Moto, name: &str) -> String {
    crate::aws::function(moto, name);
    block_on(async {
        let client = aws_sdk_lambda::Client::new(&moto.sdk_config(REGION).await);
        let version = client.publish_version().function_name(name).send().await.expect("publish").version;
        client
            .create_alias()
            .function_name(name)
            .name("ACTIVE")
            .function_version(version.expect("a version"))
            .send()
            .await
            .expect("create alias")
            .alias_arn
            .expect("an alias ARN")
    })
}

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Puts `(timestamp, message)` events into a new stream of `/aws/lambda/<name>` (creating the group).
fn put_logs(moto: &Moto, name: &str, events: &[(i64, &str)]) {
    crate::aws::log_events(moto, &format!("/aws/lambda/{name}"), &unique("stream"), events);
}

/// `YYYY-MM-DD` and `HH:MM:SS` of a UTC epoch millisecond (Howard Hinnant's civil_from_days).
fn utc(millis: i64) -> (String, String) {
    let secs = millis.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (format!("{year:04}-{month:02}-{day:02}"), format!("{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60))
}

#[test]
fn logs_print_a_date_line_per_day_and_time_stamped_messages() {
    let moto = Moto::shared();
    let name = unique("logs");
    let now = now_millis();
    let (two_days_ago, hour_ago) = (now - 50 * 3600 * 1000, now - 3600 * 1000);
    put_logs(
        moto,
        &name,
        &[(two_days_ago, "old event\n"), (hour_ago, "START RequestId: 1\n"), (hour_ago + 1000, "done")],
    );
    let project = project(moto);

    let run = project.fink(&["lambda", "logs", &name, "--start", "3d"]).ok();
    let (old_day, old_time) = utc(two_days_ago);
    let (day, time) = utc(hour_ago);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let mut expected = vec![old_day, format!("{old_time}  old event")];
    if expected[0] != day {
        expected.push(day.clone());
    }
    expected.push(format!("{time}  START RequestId: 1"));
    expected.push(format!("{}  done", utc(hour_ago + 1000).1));
    // Two days apart: two date lines, in time order.
    assert_eq!(lines, expected, "{run:#?}");

    // The default start is one day ago; --start 2h leaves the old event out too.
    for args in [vec![], vec!["--start", "2h"]] {
        let run = project.fink(&[&["lambda", "logs", name.as_str()][..], &args].concat()).ok();
        assert!(!run.stdout.contains("old event"), "{run:#?}");
        assert!(run.stdout.contains("  START RequestId: 1\n"), "{run:#?}");
        assert_eq!(run.stdout.lines().next(), Some(day.as_str()), "{run:#?}");
    }

    // Absolute times (UTC), and --end.
    let (old_day, _) = utc(two_days_ago);
    let run = project.fink(&["lambda", "logs", &name, "--start", &old_day, "--end", "90m"]).ok();
    assert!(run.stdout.contains("old event"), "{run:#?}");
    assert!(!run.stdout.contains("RequestId"), "{run:#?}");
}

#[test]
fn logs_errors_name_the_missing_group_and_the_bad_option() {
    let moto = Moto::shared();
    let project = project(moto);
    let name = unique("nologs");
    project
        .fink(&["lambda", "logs", &name])
        .code(1)
        .stderr_has(&format!("no logs for function '{name}': log group /aws/lambda/{name} does not exist"));
    project
        .fink(&["lambda", "logs", &name, "--start", "yesterday"])
        .code(1)
        .stderr_has("--start 'yesterday'")
        .stderr_has("'2017-06-28 14:23'");
    project
        .fink(&["lambda", "logs", &name, "--tail", "--end", "1h"])
        .code(1)
        .stderr_has("--end cannot be used with --tail");
}

#[test]
fn logs_tail_prints_new_events_once_and_stops_quietly_on_ctrl_c() {
    let moto = Moto::shared();
    let name = unique("tail");
    put_logs(moto, &name, &[(now_millis() - 60_000, "before tail")]);
    let project = project(moto);
    let mut child = project.spawn(&["lambda", "logs", &name, "--tail"]);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |text: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                if line.ends_with(text) {
                    return;
                }
            }
        }
        panic!("no line ending in {text:?} within 30 s");
    };
    wait_for("  before tail");
    put_logs(moto, &name, &[(now_millis(), "during tail")]);
    wait_for("  during tail");
    // Two more polls: nothing is printed twice.
    std::thread::sleep(Duration::from_secs(5));
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().all(|l| !l.contains("tail")), "printed again: {rest:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.to_lowercase().contains("error"), "stderr: {stderr}");
}

/// Invocations of `function` in the last hour, as Lambda would report them.
fn put_invocations(moto: &Moto, function: &str, counts: &[f64]) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    block_on(async {
        let client = aws_sdk_cloudwatch::Client::new(&moto.sdk_config(REGION).await);
        for (i, count) in counts.iter().enumerate() {
            let when = SystemTime::now() - Duration::from_secs(600 * (i as u64 + 1));
            let datum = MetricDatum::builder()
                .metric_name("Invocations")
                .dimensions(Dimension::builder().name("FunctionName").value(function).build())
                .value(*count)
                .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from(when))
                .build();
            client.put_metric_data().namespace("AWS/Lambda").metric_data(datum).send().await.unwrap();
        }
    });
}

#[test]
fn metrics_show_the_four_sums_of_the_last_day() {
    let moto = Moto::shared();
    let name = unique("metrics");
    function(moto, &name);
    put_invocations(moto, &name, &[2.0, 5.0]);
    let (run, calls) = moto.record(|| project(moto).fink(&["lambda", "metrics", &name]));
    let run = run.ok();
    assert!(run.stdout.contains("Sum over the last 24 h"), "{run:#?}");
    let row = |metric: &str| {
        let line =
            run.stdout.lines().find(|l| l.contains(metric)).unwrap_or_else(|| panic!("no {metric} row: {run:#?}"));
        line.split('|').map(str::trim).filter(|c| !c.is_empty()).nth(1).unwrap_or_default().to_string()
    };
    assert_eq!(row("Invocations"), "7");
    for metric in ["Duration", "Errors", "Throttles"] {
        assert_eq!(row(metric), "0", "{metric}");
    }
    // One request, for the four metrics of this function.
    let queries: Vec<_> = calls.iter().filter(|c| c.service == "monitoring").collect();
    assert_eq!(queries.len(), 1, "{calls:?}");
    for text in ["AWS%2FLambda", "FunctionName", name.as_str(), "Duration", "Errors", "Invocations", "Throttles", "Sum"]
    {
        assert!(queries[0].body.contains(text), "request lacks {text:?}: {}", queries[0].body);
    }

    project(moto).fink(&["lambda", "metrics", &unique("nofunction")]).code(1).stderr_has("does not exist");
}

/// What is wired to the alias, counted the way wire must keep it: rule targets, the bucket's
/// Lambda notifications (and its other ones), subscriptions, mappings, policy statements.
#[derive(Debug, PartialEq)]
struct Wiring {
    rule_targets: Option<usize>,
    lambda_notifications: usize,
    topic_notifications: usize,
    subscriptions: usize,
    mappings: usize,
    statements: usize,
}

struct Sources {
    rule: String,
    bucket: String,
    topic: String,
    queue: String,
}

fn sources(moto: &Moto) -> Sources {
    let rule = unique("rule");
    let bucket = unique("bucket").to_lowercase();
    crate::aws::bucket(moto, &bucket);
    block_on(async {
        let config = moto.sdk_config(REGION).await;
        let topic = aws_sdk_sns::Client::new(&config)
            .create_topic()
            .name(unique("topic"))
            .send()
            .await
            .expect("topic")
            .topic_arn
            .expect("topic ARN");
        // Someone else's notification on the bucket: wire and unwire keep it.
        let other = aws_sdk_s3::types::TopicConfiguration::builder()
            .id("someone-else")
            .topic_arn(&topic)
            .events(aws_sdk_s3::types::Event::from("s3:ObjectRemoved:*"))
            .build()
            .unwrap();
        aws_sdk_s3::Client::new(&config)
            .put_bucket_notification_configuration()
            .bucket(&bucket)
            .notification_configuration(
                aws_sdk_s3::types::NotificationConfiguration::builder().topic_configurations(other).build(),
            )
            .send()
            .await
            .expect("notification");
        let sqs = aws_sdk_sqs::Client::new(&config);
        let url = sqs.create_queue().queue_name(unique("queue")).send().await.expect("queue").queue_url.unwrap();
        let queue = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
            .expect("queue ARN");
        Sources { rule, bucket, topic, queue }
    })
}

fn wiring(moto: &Moto, sources: &Sources, alias: &str) -> Wiring {
    block_on(async {
        let config = moto.sdk_config(REGION).await;
        let rule_targets = aws_sdk_eventbridge::Client::new(&config)
            .list_targets_by_rule()
            .rule(&sources.rule)
            .send()
            .await
            .ok()
            .map(|out| out.targets().iter().filter(|t| t.arn() == alias).count());
        let notifications = aws_sdk_s3::Client::new(&config)
            .get_bucket_notification_configuration()
            .bucket(&sources.bucket)
            .send()
            .await
            .expect("notifications");
        let subscriptions = aws_sdk_sns::Client::new(&config)
            .list_subscriptions_by_topic()
            .topic_arn(&sources.topic)
            .send()
            .await
            .expect("subscriptions")
            .subscriptions()
            .iter()
            .filter(|s| s.endpoint() == Some(alias) && s.protocol() == Some("lambda"))
            .count();
        let lambda = aws_sdk_lambda::Client::new(&config);
        let mappings = lambda
            .list_event_source_mappings()
            .event_source_arn(&sources.queue)
            .send()
            .await
            .expect("mappings")
            .event_source_mappings()
            .len();
        let statements = match lambda.get_policy().function_name(alias).send().await {
            Ok(out) => serde_json::from_str::<Value>(out.policy().unwrap_or("{}")).unwrap()["Statement"]
                .as_array()
                .map_or(0, Vec::len),
            Err(_) => 0,
        };
        Wiring {
            rule_targets,
            lambda_notifications: notifications
                .lambda_function_configurations()
                .iter()
                .filter(|c| c.lambda_function_arn() == alias)
                .count(),
            topic_notifications: notifications.topic_configurations().len(),
            subscriptions,
            mappings,
            statements,
        }
    })
}

#[test]
fn wire_connects_each_source_once_and_unwire_takes_everything_away() {
    let moto = Moto::shared();
    let name = unique("wired");
    let alias = function(moto, &name);
    let s = sources(moto);
    let events = json!([
        {"event_source": {"name": s.rule, "schedule": "rate(1 minute)", "description": "every minute"}},
        {"event_source": {"arn": format!("arn:aws:s3:::{}", s.bucket), "events": ["s3:ObjectCreated:*"], "suffix": ".jpg"}},
        {"event_source": {"arn": s.topic}},
        {"event_source": {"arn": s.queue, "batch_size": 5}}
    ]);
    let project = wired_project(moto, &name, events);

    let run = project.fink(&["lambda", "wire", "-e", "dev"]).ok();
    for line in [
        format!("schedule rule '{}': created", s.rule),
        format!("s3 bucket '{}' (s3:ObjectCreated:*): created", s.bucket),
        format!("sns topic '{}': created", s.topic),
        format!("sqs '{}': created", s.queue),
    ] {
        assert!(run.stdout.contains(&line), "lacks {line:?}: {run:#?}");
    }
    let wired = Wiring {
        rule_targets: Some(1),
        lambda_notifications: 1,
        topic_notifications: 1,
        subscriptions: 1,
        mappings: 1,
        statements: 3,
    };
    assert_eq!(wiring(moto, &s, &alias), wired);

    let run = project.fink(&["lambda", "wire", "-e", "dev"]).ok();
    assert_eq!(run.stdout.matches(": already wired").count(), 4, "{run:#?}");
    assert_eq!(wiring(moto, &s, &alias), wired, "no duplicates after a second wire");

    let run = project.fink(&["lambda", "unwire", "-e", "dev"]).ok();
    assert_eq!(run.stdout.matches(": removed").count(), 4, "{run:#?}");
    let unwired = Wiring {
        rule_targets: None,
        lambda_notifications: 0,
        topic_notifications: 1,
        subscriptions: 0,
        mappings: 0,
        statements: 0,
    };
    assert_eq!(wiring(moto, &s, &alias), unwired);

    let run = project.fink(&["lambda", "unwire", "-e", "dev"]).ok();
    assert_eq!(run.stdout.matches(": not wired").count(), 4, "{run:#?}");
    assert!(run.stdout.contains(&format!("nothing to unwire for function '{name}'")), "{run:#?}");
}

#[test]
fn wire_accepts_the_map_form() {
    let moto = Moto::shared();
    let name = unique("mapform");
    let alias = function(moto, &name);
    let s = sources(moto);
    let events = json!({
        "s3Sources": [{"bucket": s.bucket, "type": "s3:ObjectCreated:*", "suffix": ".jpg", "prefix": "x/"}],
        "timeSchedules": [{"ruleName": s.rule, "ruleDescription": "d", "scheduleExpression": "rate(1 minute)"}]
    });
    let project = wired_project(moto, &name, events);
    project.fink(&["lambda", "wire", "-e", "dev"]).ok().stdout_has(&format!("schedule rule '{}': created", s.rule));
    let now = wiring(moto, &s, &alias);
    assert_eq!((now.rule_targets, now.lambda_notifications, now.statements), (Some(1), 1, 2), "{now:?}");
    project.fink(&["lambda", "wire", "-e", "dev"]).ok().stdout_has("already wired");
    project.fink(&["lambda", "unwire", "-e", "dev"]).ok();
    let now = wiring(moto, &s, &alias);
    assert_eq!((now.rule_targets, now.lambda_notifications, now.statements), (None, 0, 0), "{now:?}");
}

/// The target of `rule` that invokes `alias`, with its InputPath.
fn rule_target_input_path(moto: &Moto, rule: &str, alias: &str) -> Option<Option<String>> {
    block_on(async {
        let out = aws_sdk_eventbridge::Client::new(&moto.sdk_config(REGION).await)
            .list_targets_by_rule()
            .rule(rule)
            .send()
            .await
            .expect("the rule exists");
        out.targets().iter().find(|t| t.arn() == alias).map(|t| t.input_path().map(String::from))
    })
}

#[test]
fn input_path_on_a_pattern_rule_sets_the_targets_input_path() {
    let moto = Moto::shared();
    let name = unique("inputpath");
    let alias = function(moto, &name);
    let rule = unique("ssm-changed");
    // gcdt's sample: a Parameter Store change, the function gets the event's detail only.
    let event = |path: &str| {
        json!([{"event_source": {
            "name": rule, "input_path": path,
            "pattern": {"source": ["aws.ssm"], "detail-type": ["Parameter Store Change"]}
        }}])
    };
    let project = wired_project(moto, &name, event("$.detail"));
    project.fink(&["lambda", "wire", "-e", "dev"]).ok().stdout_has(&format!("pattern rule '{rule}': created"));
    assert_eq!(rule_target_input_path(moto, &rule, &alias), Some(Some("$.detail".into())));
    project.fink(&["lambda", "wire", "-e", "dev"]).ok().stdout_has("already wired");

    project.file(
        "fink_dev.json",
        &json!({"lambda": {"lambda": {"name": name, "events": event("$.detail.name")}}}).to_string(),
    );
    project.fink(&["lambda", "wire", "-e", "dev"]).ok().stdout_has(&format!("pattern rule '{rule}': updated"));
    assert_eq!(rule_target_input_path(moto, &rule, &alias), Some(Some("$.detail.name".into())));

    project
        .file("fink_dev.json", &json!({"lambda": {"lambda": {"name": name, "events": event("detail")}}}).to_string());
    project
        .fink(&["lambda", "wire", "-e", "dev"])
        .code(1)
        .stderr_has("`input_path` 'detail' must be a JSONPath starting with `$`");
}

#[test]
fn wire_refuses_unknown_sources_and_functions_without_active() {
    let moto = Moto::shared();
    let name = unique("noactive");
    let project = wired_project(
        moto,
        &name,
        json!([{"event_source": {"name": "r", "schedule": "rate(1 day)"}}, {"event_source": {"what": 1}}]),
    );
    project.fink(&["lambda", "wire", "-e", "dev"]).code(1).stderr_has("lambda.lambda.events[1]: unknown event source");

    let project =
        wired_project(moto, &name, json!([{"event_source": {"name": unique("rule"), "schedule": "rate(1 day)"}}]));
    project.fink(&["lambda", "wire", "-e", "dev"]).code(1).stderr_has(&format!("function '{name}' does not exist"));
    crate::aws::function(moto, &name);
    project
        .fink(&["lambda", "wire", "-e", "dev"])
        .code(1)
        .stderr_has(&format!("function '{name}' has no ACTIVE alias: deploy it first"));
    project.fink(&["lambda", "unwire", "-e", "dev"]).ok().stdout_has("has no ACTIVE alias: nothing to unwire");
}

#[test]
fn logs_show_terminal_escape_sequences_escaped() {
    let moto = Moto::shared();
    let name = unique("esclogs");
    let at = now_millis() - 60_000;
    put_logs(moto, &name, &[(at, "\u{1b}[2J\u{1b}]0;owned\u{7}cleared\tscreen \u{9b}31m\rover\nnext line\n")]);
    let run = project(moto).fink(&["lambda", "logs", &name, "--start", "1h"]).ok();
    let expected = format!("{}  \\x1b[2J\\x1b]0;owned\\x07cleared\tscreen \\x9b31m\\x0dover\nnext line\n", utc(at).1);
    assert!(run.stdout.ends_with(&expected), "{:?}", run.stdout);
    assert!(!run.stdout.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']), "{:?}", run.stdout);
}

#[test]
fn invoke_waits_for_a_slow_function_beyond_fink_aws_timeout_while_other_calls_keep_it() {
    // A server of our own: under a 3 s bound a busy shared moto could make any call time out.
    let moto = Moto::start();
    let name = unique("slow");
    function(&moto, &name);
    // moto's Docker-less Lambda answers at once; the proxy holds its answer as a function that runs
    // 6 s would (moto's default timeout of the function: 3 s, so fink waits up to 3 + 10 s more).
    let proxy = crate::proxy::Proxy::start(moto.endpoint());
    proxy.delay("/invocations", Duration::from_secs(6));
    let project = project(&moto).env("AWS_ENDPOINT_URL", &proxy.endpoint()).env("FINK_AWS_TIMEOUT", "3");

    let started = std::time::Instant::now();
    project.fink(&["lambda", "invoke", &name, "--payload", r#"{"slow": true}"#]).ok().stdout_has(r#"{"slow": true}"#);
    assert!(started.elapsed() >= Duration::from_secs(6), "the answer was held: {:?}", started.elapsed());

    // Any other call keeps the 3 s bound: a GetAlias held as long ends the run.
    proxy.delay("/aliases/ACTIVE", Duration::from_secs(6));
    let started = std::time::Instant::now();
    project
        .fink(&["lambda", "invoke", &name, "--payload", "{}"])
        .code(1)
        .stderr_has(&format!("no answer from {} (AWS_ENDPOINT_URL) to Lambda GetAlias within 3 s", proxy.endpoint()));
    assert!(started.elapsed() < Duration::from_secs(6), "ended at the call's bound: {:?}", started.elapsed());
}
