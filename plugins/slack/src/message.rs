//! The Slack message: which facts of a run go into it, and the incoming-webhook JSON built from
//! them. Pure: no I/O, so every rule about what may appear in a message is tested here.
//!
//! Facts are read key by key from the context and config, never by walking the context, so private
//! (`_`-prefixed) keys cannot get in; every text is scrubbed of secret values before it is used,
//! by the plugin API's one rule ([`Secrets`]): so a two-letter secret masks itself where it stands
//! alone, never the words that happen to contain its letters.

use fink_plugin_api::{json, Secrets, Value};

/// The longest error text put into a message; Slack cuts long attachments anyway.
const MAX_ERROR_CHARS: usize = 1500;

pub use fink_notify::{Facts, Outcome};

/// Slack's attachment colour for an outcome.
fn color(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "good",
        Outcome::Failed => "danger",
    }
}

/// The incoming-webhook JSON: a headline and one coloured attachment with a field per fact.
/// Every text is scrubbed of `secrets` and escaped for Slack.
pub fn payload(facts: &Facts, channel: Option<&str>, secrets: &Secrets) -> Value {
    let clean = Cleaner::new(secrets);
    let headline = clean.text(&facts.headline());
    let mut fields = Vec::new();
    let mut field = |title: &str, value: Option<&str>, short: bool| {
        if let Some(value) = value {
            fields.push(json!({"title": title, "value": clean.text(value), "short": short}));
        }
    };
    field("Tool", Some(&facts.tool), true);
    field("Command", Some(&facts.command), true);
    field("Env", facts.env.as_deref(), true);
    field("User", facts.user.as_deref(), true);
    field("AWS account", facts.account.as_deref(), true);
    field("Region", facts.region.as_deref(), true);
    if let Some(target) = &facts.target {
        field(&capitalized(target.label), Some(&target.name), true);
    }
    field("URL", facts.url.as_deref(), false);
    field("Deployment", facts.deployment.as_deref(), true);
    field("Outcome", Some(facts.outcome.word()), true);
    field("Duration", facts.duration.map(human).as_deref(), true);
    let error = facts.error.as_deref().map(|e| clean.cut(e));
    field("Error", error.as_deref(), false);

    let mut message = json!({
        "username": "fink",
        "text": headline,
        "attachments": [{
            "fallback": headline,
            "color": color(facts.outcome),
            "fields": fields,
            "footer": "fink",
        }],
    });
    if let Some(channel) = channel {
        message["channel"] = json!(clean.text(channel));
    }
    message
}

/// Masks secrets, then escapes what Slack treats as markup.
struct Cleaner<'s> {
    secrets: &'s Secrets,
}

impl<'s> Cleaner<'s> {
    fn new(secrets: &'s Secrets) -> Self {
        Cleaner { secrets }
    }

    fn text(&self, raw: &str) -> String {
        escape(&self.secrets.mask(raw))
    }

    /// At most `MAX_ERROR_CHARS`, scrubbed before cutting so a cut can't leave part of a secret
    /// behind; not yet escaped.
    fn cut(&self, raw: &str) -> String {
        let scrubbed = self.secrets.mask(raw);
        match scrubbed.char_indices().nth(MAX_ERROR_CHARS) {
            Some((cut, _)) => format!("{}…", &scrubbed[..cut]),
            None => scrubbed,
        }
    }
}

/// Slack's message escaping: `&`, `<` and `>` only.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// `0.4 s`, `12.3 s`, `3 min 05 s`, `1 h 02 min`.
pub use fink_plugin_api::human::duration as human;

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::serde_json;
    use std::time::Duration;

    fn context() -> Value {
        json!({
            "tool": "cloud", "command": "deploy", "env": "dev", "user": "ana",
            "aws_account": "123456789012", "aws_region": "eu-west-1",
            "_awsclient": "private-client-handle", "_secrets": ["s3cr3t", "https://hooks.slack.com/T/B/x"],
            "arguments": {"keep": true}, "project_dir": "/home/ana/shop",
        })
    }

    fn config() -> Value {
        json!({
            "cloud": {"stack": {"StackName": "shop-dev"}, "parameters": {"DbPassword": "s3cr3t"}},
            "lambda": {"lambda": {"name": "shop-fn"}},
        })
    }

    fn body(outcome: Outcome, context: &Value) -> String {
        let facts = Facts::gather(context, &config(), outcome, Some(Duration::from_millis(12_340))).unwrap();
        payload(&facts, Some("#deploys"), &Secrets::from_context(context)).to_string()
    }

    fn field<'v>(message: &'v Value, title: &str) -> Option<&'v str> {
        message["attachments"][0]["fields"].as_array()?.iter().find(|f| f["title"] == title)?["value"].as_str()
    }

    #[test]
    fn a_success_names_tool_command_env_user_account_target_and_duration() {
        let facts = Facts::gather(&context(), &config(), Outcome::Succeeded, Some(Duration::from_millis(12_340)));
        let message = payload(&facts.unwrap(), Some("#deploys"), &Secrets::default());
        assert_eq!(message["text"], "cloud deploy succeeded for stack 'shop-dev' in dev");
        assert_eq!(message["channel"], "#deploys");
        assert_eq!(message["attachments"][0]["color"], "good");
        for (title, value) in [
            ("Tool", "cloud"),
            ("Command", "deploy"),
            ("Env", "dev"),
            ("User", "ana"),
            ("AWS account", "123456789012"),
            ("Region", "eu-west-1"),
            ("Stack", "shop-dev"),
            ("Outcome", "succeeded"),
            ("Duration", "12.3 s"),
        ] {
            assert_eq!(field(&message, title), Some(value), "{title}");
        }
        assert_eq!(field(&message, "Error"), None);
    }

    #[test]
    fn a_failure_is_red_and_carries_the_error() {
        let mut ctx = context();
        ctx["error"] = json!("cloud (cloud deploy): stack shop-dev: UPDATE_ROLLBACK_COMPLETE");
        let message: Value = serde_json::from_str(&body(Outcome::Failed, &ctx)).unwrap();
        assert_eq!(message["attachments"][0]["color"], "danger");
        assert_eq!(message["text"], "cloud deploy failed for stack 'shop-dev' in dev");
        assert_eq!(field(&message, "Error"), Some("cloud (cloud deploy): stack shop-dev: UPDATE_ROLLBACK_COMPLETE"));
        assert_eq!(field(&message, "Outcome"), Some("failed"));
    }

    #[test]
    fn secret_values_are_masked_everywhere() {
        let mut ctx = context();
        ctx["error"] = json!("invalid config: cloud.parameters.DbPassword: \"s3cr3t\" is too short");
        ctx["user"] = json!("s3cr3t-user");
        let text = body(Outcome::Failed, &ctx);
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(!text.contains("hooks.slack.com"), "{text}");
        assert!(text.contains("\\\"****\\\" is too short") && text.contains("****-user"), "{text}");
    }

    #[test]
    fn private_context_keys_and_other_context_never_appear() {
        let text = body(Outcome::Succeeded, &context());
        for private in ["_awsclient", "private-client-handle", "_secrets", "/home/ana/shop", "arguments"] {
            assert!(!text.contains(private), "{private} in {text}");
        }
    }

    #[test]
    fn an_api_deploy_names_the_api_and_its_url() {
        let api_context = json!({"tool": "api", "command": "deploy", "env": "dev",
            "api_url": "https://a1.execute-api.eu-west-1.amazonaws.com/dev"});
        let api_config = json!({"api": {"api": {"name": "shop-api", "targetStage": "dev"}}});
        let facts = Facts::gather(&api_context, &api_config, Outcome::Succeeded, None).unwrap();
        let message = payload(&facts, None, &Secrets::default());
        assert_eq!(message["text"], "api deploy succeeded for api 'shop-api' in dev");
        assert_eq!(field(&message, "Api"), Some("shop-api"));
        assert_eq!(field(&message, "URL"), Some("https://a1.execute-api.eu-west-1.amazonaws.com/dev"));
        let facts = Facts::gather(&context(), &config(), Outcome::Succeeded, None).unwrap();
        assert_eq!(field(&payload(&facts, None, &Secrets::default()), "URL"), None);
    }

    #[test]
    fn the_target_follows_the_tool_and_is_left_out_when_absent() {
        let config = config();
        let mut ctx = context();
        ctx["tool"] = json!("lambda");
        let facts = Facts::gather(&ctx, &config, Outcome::Succeeded, None).unwrap();
        assert_eq!(facts.target, Some(fink_notify::Target { label: "function", name: "shop-fn".into() }));
        ctx["tool"] = json!("code");
        let facts = Facts::gather(&ctx, &config, Outcome::Succeeded, None).unwrap();
        assert_eq!(facts.target, None);
        assert_eq!(facts.headline(), "code deploy succeeded in dev");
        let message = payload(&facts, None, &Secrets::default());
        assert_eq!(field(&message, "Duration"), None);
        assert!(message.get("channel").is_none());
    }

    #[test]
    fn runs_without_a_tool_are_not_reported() {
        let ctx = json!({"tool": null, "command": "config", "env": "dev"});
        assert_eq!(Facts::gather(&ctx, &json!({}), Outcome::Failed, None), None);
    }

    #[test]
    fn slack_markup_is_escaped_and_long_errors_are_cut() {
        let mut ctx = context();
        ctx["error"] = json!(format!("<b> & {}", "x".repeat(5000)));
        let message: Value = serde_json::from_str(&body(Outcome::Failed, &ctx)).unwrap();
        let error = field(&message, "Error").unwrap();
        assert!(error.starts_with("&lt;b&gt; &amp; xxx"), "{error}");
        assert!(error.ends_with('…') && error.chars().count() < 1600, "{}", error.len());
    }

    #[test]
    fn longer_secrets_are_masked_whole() {
        assert_eq!(Secrets::new(["abc-123", "abc"]).mask("key=abc-123 short=abc"), "key=**** short=****");
        let secrets = Secrets::new(["abc", "abc-123", ""]);
        assert_eq!(Cleaner::new(&secrets).text("abc-123"), "****");
    }

    #[test]
    fn a_two_letter_secret_does_not_mangle_the_words_of_a_message() {
        let mut ctx = context();
        ctx["_secrets"] = json!(["de"]);
        ctx["error"] = json!("demo.mode: \"de\" is not one of [\"fast\",\"slow\"]");
        let message: Value = serde_json::from_str(&body(Outcome::Failed, &ctx)).unwrap();
        assert_eq!(message["text"], "cloud deploy failed for stack 'shop-dev' in dev");
        assert_eq!(field(&message, "Command"), Some("deploy"));
        assert_eq!(field(&message, "Error"), Some("demo.mode: \"****\" is not one of [\"fast\",\"slow\"]"));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::from_millis(400)), "0.4 s");
        assert_eq!(human(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(human(Duration::from_secs(3720)), "1 h 02 min");
    }
}
