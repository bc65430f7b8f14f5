//! The slack plugin through the real binary: the alpha fixture's `demo run` succeeds or fails, and
//! a real HTTP server on 127.0.0.1 stands in for Slack's incoming webhook.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use fink_test_support::{Moto, REGION};
use serde_json::{json, Value};

use crate::aws::{parameter, unique};
use crate::support::{Project, Run};
use crate::webhook::{unreachable_url, Reply, Webhook};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-slack", "fink-fixture-alpha"];
const WITH_LOOKUPS: &[&str] =
    &["fink-plugin-config-reader", "fink-plugin-lookups", "fink-plugin-slack", "fink-fixture-alpha"];

/// A project whose `plugins.slack` section is `slack`.
fn project(slack: Value) -> Project {
    let project = Project::with(PLUGINS);
    project.file("fink_dev.json", &json!({"demo": {}, "plugins": {"slack": slack}}).to_string());
    project
}

fn demo_run(project: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["demo", "run", "-e", "dev"];
    args.extend(extra);
    project.fink(&args)
}

/// The value of the attachment field titled `title`.
fn field<'v>(message: &'v Value, title: &str) -> Option<&'v str> {
    message["attachments"][0]["fields"].as_array()?.iter().find(|f| f["title"] == title)?["value"].as_str()
}

fn assert_absent(run: &Run, text: &str) {
    assert!(!run.stderr.contains(text) && !run.stdout.contains(text), "{text:?} was printed:\n{run:#?}");
}

#[test]
fn a_successful_command_is_announced_once() {
    let hook = Webhook::start(Reply::Status(200));
    let project = project(json!({"webhook": hook.url(), "commands": ["run"], "channel": "#deploys"}));
    let run = demo_run(&project, &["-vv"]).ok();
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/hook"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let message = request.json();
    assert_eq!(message["text"], "demo run succeeded in dev");
    assert_eq!(message["channel"], "#deploys");
    assert_eq!(message["attachments"][0]["color"], "good");
    for (title, value) in
        [("Tool", "demo"), ("Command", "run"), ("Env", "dev"), ("User", "tester"), ("Outcome", "succeeded")]
    {
        assert_eq!(field(&message, title), Some(value), "{title} in {message:#}");
    }
    assert!(field(&message, "Duration").is_some_and(|d| d.ends_with(" s")), "{message:#}");
    assert_eq!(field(&message, "Error"), None);
    assert!(
        run.stderr.contains("debug: slack (fink_plugin_slack): announced 'demo run' in Slack (1 attempt)"),
        "{}",
        run.stderr
    );
    assert_absent(&run, &hook.url());
}

#[test]
fn gcdts_and_the_python_finks_section_names_are_read_as_plugins_slack() {
    for old in ["gcdt_slack_integration", "fink.slack_integration"] {
        let hook = Webhook::start(Reply::Status(200));
        let project = Project::with(PLUGINS);
        let section = json!({"slack_webhook": hook.url(), "channel": "#ops", "commands": ["run"]});
        project.file("gcdt_dev.json", &json!({"demo": {}, "plugins": {old: section}}).to_string());
        let run = demo_run(&project, &[]).ok();
        let warning = format!(
            "warning: config-reader: gcdt_dev.json: 'plugins.{old}' is read as 'plugins.slack' (its old name); \
             rename it to 'plugins.slack'"
        );
        assert!(run.stderr.lines().any(|l| l == warning), "{old}: {}", run.stderr);
        let requests = hook.requests();
        assert_eq!(requests.len(), 1, "{old}: {requests:#?}");
        assert_eq!(requests[0].json()["channel"], "#ops", "{old}");
    }
}

#[test]
fn a_failed_command_is_announced_with_its_error_and_keeps_its_exit_code() {
    let hook = Webhook::start(Reply::Status(200));
    let project =
        project(json!({"webhook": hook.url(), "commands": ["run"]})).env("FINK_FIXTURE_ALPHA_FAIL_AT", "command");
    let run = demo_run(&project, &[]).code(3).stderr_has("the demo command failed on purpose");
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "one message for the failure, none for success: {requests:#?}");
    let message = requests[0].json();
    assert_eq!(message["text"], "demo run failed in dev");
    assert_eq!(message["attachments"][0]["color"], "danger");
    assert_eq!(field(&message, "Outcome"), Some("failed"));
    assert_eq!(field(&message, "Error"), Some("alpha (demo run): the demo command failed on purpose"));
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn without_a_webhook_nothing_is_posted_and_one_line_says_why() {
    // The project has a plugins.slack section, so it asked for Slack: one line at normal verbosity.
    let project = project(json!({"webhook": "", "commands": ["run"]}));
    let run = demo_run(&project, &[]).ok();
    let line = "no Slack webhook configured (plugins.slack.webhook is empty or missing, or its lookup found nothing): \
                no message for 'demo run'";
    assert_eq!(run.stderr.matches(line).count(), 1, "{}", run.stderr);

    // The default webhook is a lookup; without the lookups plugin it stays one.
    let project = self::project(json!({"commands": ["run"]})).env("FINK_FIXTURE_ALPHA_FAIL_AT", "command");
    let run = demo_run(&project, &[]).code(3);
    assert_eq!(run.stderr.matches("plugins.slack.webhook is still a lookup").count(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);

    // A project without a plugins.slack section did not ask: the reason shows only with -v.
    let project = Project::with(PLUGINS);
    project.file("fink_dev.json", &json!({"demo": {}}).to_string());
    let quiet = demo_run(&project, &[]).ok();
    assert!(!quiet.stderr.contains("slack"), "{}", quiet.stderr);
    demo_run(&project, &["-v"]).ok().stderr_has("debug: slack (fink_plugin_slack): 'demo run' is not among");
}

#[test]
fn commands_are_announced_only_when_listed() {
    let hook = Webhook::start(Reply::Status(200));
    // The default list holds deploy-style commands only.
    let run = demo_run(&project(json!({"webhook": hook.url()})), &["-v"]).ok();
    assert!(
        run.stderr
            .contains("debug: slack (fink_plugin_slack): 'demo run' is not among plugins.slack.commands: no message"),
        "{}",
        run.stderr
    );
    demo_run(&project(json!({"webhook": hook.url(), "commands": ["other run", "deploy"]})), &[]).ok();
    assert_eq!(hook.requests().len(), 0);
    demo_run(&project(json!({"webhook": hook.url(), "commands": ["demo run"]})), &[]).ok();
    assert_eq!(hook.requests().len(), 1);
}

#[test]
fn the_webhook_is_masked_in_fink_config() {
    let url = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX";
    let project = project(json!({"webhook": url}));
    let run = project.fink(&["config", "-e", "dev", "-vv"]).ok();
    assert_eq!(run.json()["plugins"]["slack"]["webhook"], "****");
    assert_eq!(run.json()["plugins"]["slack"]["commands"][0], "deploy", "schema defaults apply");
    assert_absent(&run, "XXXXsecretXXXX");
    let shown = project.fink(&["config", "-e", "dev", "--show-secrets"]).ok();
    assert_eq!(shown.json()["plugins"]["slack"]["webhook"], url);
}

#[test]
fn an_unreachable_webhook_warns_without_the_url_and_keeps_the_exit_code() {
    let url = unreachable_url();
    let project = project(json!({"webhook": url, "commands": ["run"], "timeout": 1}));
    let run = demo_run(&project, &["-vv"]).ok();
    assert_eq!(
        run.stderr.matches("warning: slack: could not announce 'demo run' in Slack").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(2 attempts, 1 s each); the command's result is unchanged"), "{}", run.stderr);
    assert_absent(&run, &url);
    assert_absent(&run, url.trim_end_matches("/hook"));

    let failing = project.env("FINK_FIXTURE_ALPHA_FAIL_AT", "command");
    let run = demo_run(&failing, &[]).code(3).stderr_has("warning: slack: could not announce 'demo run' in Slack");
    assert_absent(&run, &url);
}

#[test]
fn a_slow_webhook_times_out_and_is_retried_once() {
    let hook = Webhook::start(Reply::Slow(Duration::from_secs(4), 200));
    let project = project(json!({"webhook": hook.url(), "commands": ["run"], "timeout": 1}));
    let start = Instant::now();
    let run = demo_run(&project, &[]).ok();
    let took = start.elapsed();
    assert!(
        run.stderr.contains("could not announce 'demo run' in Slack: no answer within 1 s (2 attempts"),
        "{}",
        run.stderr
    );
    assert_eq!(hook.requests().len(), 2, "one attempt and one retry");
    assert!(took < Duration::from_secs(4), "two 1 s attempts took {took:?}");
    assert_absent(&run, &hook.url());
}

#[test]
fn a_server_error_is_retried_once_and_warned() {
    let hook = Webhook::start(Reply::Status(500));
    let project = project(json!({"webhook": hook.url(), "commands": ["run"]}));
    let run = demo_run(&project, &[]).ok();
    assert!(run.stderr.contains("in Slack: HTTP 500 (webhook_failed) (2 attempts, 5 s each)"), "{}", run.stderr);
    assert_eq!(hook.requests().len(), 2);
    let bodies: Vec<Value> = hook.requests().iter().map(|r| r.json()).collect();
    assert_eq!(bodies[0], bodies[1], "the retry sends the same message");

    let dropping = Webhook::start(Reply::Drop);
    let project = self::project(json!({"webhook": dropping.url(), "commands": ["run"], "timeout": 2}));
    let run = demo_run(&project, &[]).ok().stderr_has("warning: slack: could not announce 'demo run' in Slack");
    assert_eq!(dropping.requests().len(), 2, "{}", run.stderr);
    assert_absent(&run, &dropping.url());
}

/// The server behind the SSM parameter `slack.webhook` (the default lookup): the shared moto has
/// only one such parameter, so it is created once and points at a server that lives as long as
/// the test binary.
fn default_webhook(moto: &Moto) -> &'static Webhook {
    static HOOK: OnceLock<Webhook> = OnceLock::new();
    HOOK.get_or_init(|| {
        let hook = Webhook::start(Reply::Status(200));
        parameter(moto, REGION, "slack.webhook", &hook.url(), ParameterType::String);
        hook
    })
}

#[test]
fn the_default_webhook_is_looked_up_in_the_ssm_parameter_slack_webhook() {
    let moto = Moto::shared();
    let hook = default_webhook(moto);
    let before = hook.requests().len();
    let project = Project::with(WITH_LOOKUPS).aws(moto);
    project.file("fink_dev.json", &json!({"demo": {}, "plugins": {"slack": {"commands": ["run"]}}}).to_string());
    let run = demo_run(&project, &["-vv"]).ok();
    assert_eq!(hook.requests().len(), before + 1, "{}", run.stderr);
    assert_eq!(hook.requests()[before].json()["text"], "demo run succeeded in dev");
    assert_absent(&run, &hook.url());

    // A plain String parameter: the plugin itself marks the URL secret.
    let run = project.fink(&["config", "-e", "dev", "-vv"]).ok();
    assert_eq!(run.json()["plugins"]["slack"]["webhook"], "****");
    assert_absent(&run, &hook.url());
}

#[test]
fn secret_values_never_reach_the_message_or_the_log() {
    let moto = Moto::shared();
    let p = unique("slack");
    let hook = Webhook::start(Reply::Status(200));
    let secret = format!("pw-{p}-s3cr3t");
    parameter(moto, REGION, &format!("/{p}/password"), &secret, ParameterType::SecureString);
    parameter(moto, REGION, &format!("/{p}/slack.webhook"), &hook.url(), ParameterType::String);
    let project = Project::with(WITH_LOOKUPS).aws(moto);
    // The secret lands where the demo schema rejects it, so the error text carries it.
    let config = json!({
        "demo": {"mode": format!("lookup:parameter:/{p}/password")},
        "plugins": {"slack": {"webhook": format!("lookup:parameter:/{p}/slack.webhook"), "commands": ["run"]}},
    });
    project.file("fink_dev.json", &config.to_string());
    let run = demo_run(&project, &["-vv"]).code(1).stderr_has("demo.mode");
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{}", run.stderr);
    let message = requests[0].json();
    let error = field(&message, "Error").unwrap_or_default();
    assert!(error.contains("demo.mode") && error.contains("****"), "{message:#}");
    for leak in [secret.as_str(), hook.url().as_str()] {
        assert!(!requests[0].body.contains(leak), "{leak} in the message: {}", requests[0].body);
        assert_absent(&run, leak);
    }
}

/// Regression: the slack plugin masked short secrets inside words (`****mo run succee****d in ****v`).
#[test]
fn a_two_character_secret_is_masked_where_it_stands_alone_and_leaves_words_alone() {
    let moto = Moto::shared();
    let p = unique("slack");
    parameter(moto, REGION, &format!("/{p}/short"), "de", ParameterType::SecureString);
    let short = format!("lookup:parameter:/{p}/short");
    let hook = Webhook::start(Reply::Status(200));
    let project = Project::with(WITH_LOOKUPS).aws(moto);

    // fink config: the value is masked; the default command names, which contain its letters, are not.
    let config = json!({"demo": {}, "pin": short, "plugins": {"slack": {"webhook": hook.url()}}});
    project.file("fink_dev.json", &config.to_string());
    let config = project.fink(&["config", "-e", "dev", "-vv"]).ok().json();
    assert_eq!(config["pin"], "****");
    assert_eq!(
        config["plugins"]["slack"]["commands"],
        json!(["deploy", "delete", "rollback", "wire", "unwire", "stop", "start"])
    );

    // A run the secret makes fail: its error quotes the secret among words that contain its letters.
    let config = json!({"demo": {"mode": short}, "plugins": {"slack": {"webhook": hook.url(), "commands": ["run"]}}});
    project.file("fink_dev.json", &config.to_string());
    let run = demo_run(&project, &["-vv"]).code(1).stderr_has("  demo.mode: \"****\" ");
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{}", run.stderr);
    let message = requests[0].json();
    assert_eq!(message["text"], "demo run failed in dev");
    for (title, value) in [("Tool", "demo"), ("Command", "run"), ("Env", "dev"), ("Outcome", "failed")] {
        assert_eq!(field(&message, title), Some(value), "{title} in {message:#}");
    }
    let error = field(&message, "Error").unwrap_or_default();
    assert!(error.starts_with("invalid config in fink_dev.json (1 problem):\n  demo.mode: \"****\" "), "{error}");
    assert!(!error.contains("\"de\""), "{error}");
}

#[test]
fn a_secret_inside_a_longer_string_is_masked_in_fink_config_the_log_and_the_message() {
    let moto = Moto::shared();
    let p = unique("slack");
    let secret = format!("Pw{}", p.replace('-', ""));
    parameter(moto, REGION, &format!("/{p}/pw"), &secret, ParameterType::SecureString);
    let hook = Webhook::start(Reply::Status(200));
    let project = Project::with(WITH_LOOKUPS).aws(moto);
    let db = json!({
        "password": format!("lookup:parameter:/{p}/pw"),
        "dsn": format!("postgres://app:{secret}@db"),
        "token": format!("tok{secret}en"),
    });

    project.file("fink_dev.json", &json!({"db": db}).to_string());
    let run = project.fink(&["config", "-e", "dev", "-vv"]).ok();
    assert_eq!(run.json()["db"], json!({"password": "****", "dsn": "postgres://app:****@db", "token": "tok****en"}));
    assert_absent(&run, &secret);

    // The same text where the demo schema rejects it: in the error line and in the message.
    let config = json!({
        "db": db,
        "demo": {"mode": format!("tok{secret}en")},
        "plugins": {"slack": {"webhook": hook.url(), "commands": ["run"]}},
    });
    project.file("fink_dev.json", &config.to_string());
    let run = demo_run(&project, &["-vv"]).code(1).stderr_has("  demo.mode: \"tok****en\" ");
    assert!(run.stderr.contains("debug: lookups"), "-vv shows the plugins' records: {}", run.stderr);
    assert_absent(&run, &secret);
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{}", run.stderr);
    let error = field(&requests[0].json(), "Error").unwrap_or_default().to_string();
    assert!(error.contains("demo.mode: \"tok****en\" "), "{error}");
    assert!(!requests[0].body.contains(&secret), "{}", requests[0].body);
}

#[test]
fn a_redirect_is_not_followed_and_not_counted_as_delivered() {
    let hook = Webhook::start(Reply::Redirect(302));
    let project = project(json!({"webhook": hook.url(), "commands": ["run"]}));
    let run = demo_run(&project, &[]).ok();
    let location = hook.redirect_location();
    assert!(
        run.stderr.contains(&format!(
            "warning: slack: could not announce 'demo run' in Slack: HTTP 302 redirect to {location}, not followed \
             (1 attempt"
        )),
        "{}",
        run.stderr
    );
    let paths: Vec<String> = hook.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/hook"], "posted once, and the redirect's target never saw the message");
}
