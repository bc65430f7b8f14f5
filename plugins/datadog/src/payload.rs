//! The two Datadog requests for a finished run, built from its facts: the metric series (API v2,
//! `fink.command.count` and `fink.command.duration`) and, for commands that change something, an
//! event (API v1). Pure: no I/O. Every text is scrubbed of secret values.

use std::time::{SystemTime, UNIX_EPOCH};

use fink_notify::{Facts, Outcome};
use fink_plugin_api::{json, Secrets, Value};

/// The series API's metric types.
const COUNT: u8 = 1;
const GAUGE: u8 = 3;

/// The longest error text put into an event.
const MAX_ERROR_CHARS: usize = 2000;

/// `success` or `failure`, the `status` tag.
fn status(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "success",
        Outcome::Failed => "failure",
    }
}

/// A tag as Datadog keeps it: lowercase, letters, digits and `_-:./`, other characters as `_`.
fn tag(key: &str, value: &str) -> String {
    let clean: String = value
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() || "_-:./".contains(c) { c } else { '_' })
        .collect();
    format!("{key}:{clean}")
}

/// The tags of both requests: tool, command, env, status, fink version, AWS account, the target
/// (`stack:shop`, `function:hello-dev`, `deployment_group:web`, `api:shop`) and the extra ones.
pub fn tags(facts: &Facts, fink_version: Option<&str>, extra: &[String], secrets: &Secrets) -> Vec<String> {
    let mut tags = vec![tag("tool", &facts.tool), tag("command", &facts.command)];
    tags.extend(facts.env.as_deref().map(|env| tag("env", env)));
    tags.push(tag("status", status(facts.outcome)));
    tags.extend(fink_version.map(|v| tag("fink_version", v)));
    tags.extend(facts.account.as_deref().map(|a| tag("aws_account", a)));
    if let Some(target) = &facts.target {
        tags.push(tag(&target.label.replace(' ', "_"), &target.name));
    }
    tags.extend(extra.iter().cloned());
    tags.into_iter().map(|t| secrets.mask(&t)).collect()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The body of `POST /api/v2/series`: one count and, when the run was timed, its duration.
pub fn series(facts: &Facts, tags: &[String]) -> Value {
    let at = now();
    let mut series = vec![json!({
        "metric": "fink.command.count",
        "type": COUNT,
        "points": [{"timestamp": at, "value": 1.0}],
        "tags": tags,
    })];
    if let Some(duration) = facts.duration {
        series.push(json!({
            "metric": "fink.command.duration",
            "type": GAUGE,
            "unit": "second",
            "points": [{"timestamp": at, "value": duration.as_secs_f64()}],
            "tags": tags,
        }));
    }
    json!({"series": series})
}

/// The body of `POST /api/v1/events`: title and text name tool, command, env, user, target and
/// outcome, and the error after a failure.
pub fn event(facts: &Facts, tags: &[String], secrets: &Secrets) -> Value {
    let mut lines = vec![format!("{} {} {}", facts.tool, facts.command, facts.outcome.word())];
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(value) = value {
            lines.push(format!("{label}: {value}"));
        }
    };
    line("env", facts.env.as_deref());
    line("user", facts.user.as_deref());
    line("account", facts.account.as_deref());
    let target = facts.target.as_ref().map(|t| format!("{} {}", t.label, t.name));
    line("target", target.as_deref());
    line("url", facts.url.as_deref());
    line("deployment", facts.deployment.as_deref());
    let took = facts.duration.map(fink_plugin_api::human::duration);
    line("duration", took.as_deref());
    // Masked before it is shortened: a secret cut by the shortening would no longer match.
    let error = facts.error.as_deref().map(|e| secrets.mask(e).chars().take(MAX_ERROR_CHARS).collect::<String>());
    line("error", error.as_deref());
    json!({
        "title": secrets.mask(&format!("fink: {}", facts.headline())),
        "text": secrets.mask(&lines.join("\n")),
        "tags": tags,
        "alert_type": match facts.outcome { Outcome::Succeeded => "success", Outcome::Failed => "error" },
        "date_happened": now(),
        "source_type_name": "fink",
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use fink_notify::Target;

    fn facts(outcome: Outcome) -> Facts {
        Facts {
            tool: "cloud".into(),
            command: "deploy".into(),
            env: Some("dev".into()),
            user: Some("ana".into()),
            account: Some("123456789012".into()),
            region: Some("eu-west-1".into()),
            target: Some(Target { label: "stack", name: "Shop-Dev".into() }),
            url: None,
            deployment: None,
            outcome,
            duration: Some(Duration::from_millis(1500)),
            error: (outcome == Outcome::Failed).then(|| "boom: p4ssw0rd-xyz rejected".into()),
        }
    }

    #[test]
    fn tags_name_the_run_and_its_target() {
        let tags = tags(&facts(Outcome::Succeeded), Some("0.1.0"), &["team:web".into()], &Secrets::default());
        assert_eq!(
            tags,
            [
                "tool:cloud",
                "command:deploy",
                "env:dev",
                "status:success",
                "fink_version:0.1.0",
                "aws_account:123456789012",
                "stack:shop-dev",
                "team:web"
            ]
        );
    }

    #[test]
    fn the_series_hold_a_count_and_the_duration() {
        let body = series(&facts(Outcome::Succeeded), &["tool:cloud".into()]);
        let series = body["series"].as_array().unwrap();
        assert_eq!((series[0]["metric"].as_str(), series[0]["type"].as_u64()), (Some("fink.command.count"), Some(1)));
        assert_eq!(series[0]["points"][0]["value"], 1.0);
        assert_eq!(series[1]["metric"], "fink.command.duration");
        assert_eq!((series[1]["type"].as_u64(), series[1]["points"][0]["value"].as_f64()), (Some(3), Some(1.5)));
        assert!(series[1]["points"][0]["timestamp"].as_i64().unwrap() > 1_700_000_000);
    }

    #[test]
    fn a_failure_event_carries_the_error_without_secrets() {
        let secrets = Secrets::new(["p4ssw0rd-xyz"]);
        let body = event(&facts(Outcome::Failed), &[], &secrets);
        assert_eq!(body["title"], "fink: cloud deploy failed for stack 'Shop-Dev' in dev");
        assert_eq!(body["alert_type"], "error");
        let text = body["text"].as_str().unwrap();
        assert!(text.contains("error: boom: **** rejected") && text.contains("user: ana"), "{text}");
        assert!(!body.to_string().contains("p4ssw0rd"), "{body}");
    }

    #[test]
    fn a_secret_cut_by_the_shortening_is_masked_first() {
        let secret = "s3cr3t-t0ken-value";
        // The secret starts 5 characters before the cut: shortened first, its head would remain.
        let error = format!("{}{secret} and more", "x".repeat(MAX_ERROR_CHARS - 5));
        let failed = Facts { error: Some(error), ..facts(Outcome::Failed) };
        let body = event(&failed, &[], &Secrets::new([secret]));
        let text = body["text"].as_str().unwrap();
        assert!(!text.contains("s3cr3"), "the secret's head escaped the mask: {}", &text[text.len() - 40..]);
        assert!(text.contains(&format!("error: {}****", "x".repeat(MAX_ERROR_CHARS - 5))), "{}", &text[..80]);
    }

    #[test]
    fn a_failed_code_deploy_names_its_deployment_after_the_target() {
        let code = Facts { tool: "code".into(), deployment: Some("d-ABC123".into()), ..facts(Outcome::Failed) };
        let text = event(&code, &[], &Secrets::default())["text"].as_str().unwrap_or_default().to_string();
        let lines: Vec<&str> = text.lines().collect();
        let target = lines.iter().position(|l| l.starts_with("target: ")).expect("a target line");
        assert_eq!(lines[target + 1], "deployment: d-ABC123", "{text}");
        let plain =
            event(&facts(Outcome::Failed), &[], &Secrets::default())["text"].as_str().unwrap_or_default().to_string();
        assert!(plain.contains("target: ") && !plain.contains("deployment:"), "{plain}");
    }
}
