//! EventBridge rules (schedules and event patterns) targeting the alias.

use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::{RuleState, Target as RuleTarget};
use aws_sdk_eventbridge::Client;
use fink_aws::Explained;
use fink_plugin_api::{warn, Error, Result, Value};

use super::sources::Source;
use super::{derived_id, Outcome, Target};

/// The rule's target id: one per function.
fn target_id(target: &Target) -> String {
    derived_id("fink-", &target.function, 64)
}

fn statement_id(rule: &str) -> String {
    derived_id("fink-events-", rule, 100)
}

pub async fn wire(config: &SdkConfig, target: &mut Target, source: &Source) -> Result<Outcome> {
    let Source::Rule { name, description, schedule, pattern, input_path } = source else {
        return Err(Error::new("not a rule"));
    };
    let client = Client::new(config);
    let existing = match client.describe_rule().name(name).send().await {
        Ok(rule) => Some(rule),
        Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => None,
        Err(e) => return Err(fink_aws::explain(&e)),
    };
    let same = existing.as_ref().is_some_and(|rule| {
        rule.schedule_expression() == schedule.as_deref()
            && same_pattern(rule.event_pattern(), pattern.as_deref())
            && rule.state() == Some(&RuleState::Enabled)
            && description.as_ref().is_none_or(|d| rule.description() == Some(d.as_str()))
    });
    let mut outcome = match &existing {
        None => Outcome::Created,
        Some(_) if same => Outcome::AlreadyWired,
        Some(_) => Outcome::Updated,
    };
    let rule_arn = match existing.as_ref().and_then(|r| r.arn()).filter(|_| same) {
        Some(arn) => arn.to_string(),
        None => client
            .put_rule()
            .name(name)
            .set_schedule_expression(schedule.clone())
            .set_event_pattern(pattern.clone())
            .set_description(description.clone())
            .state(RuleState::Enabled)
            .send()
            .await
            .explained()?
            .rule_arn()
            .unwrap_or_default()
            .to_string(),
    };
    // EventBridge checks the permission when invoking, so the order here does not matter.
    if target.allow(&statement_id(name), "events.amazonaws.com", &rule_arn).await? && outcome == Outcome::AlreadyWired {
        outcome = Outcome::Updated;
    }
    let targets = targets(&client, name).await?.unwrap_or_default();
    let id = target_id(target);
    let wired = |t: &RuleTarget| t.id() == id && t.arn() == target.arn && t.input_path() == input_path.as_deref();
    if !targets.iter().any(wired) {
        let rule_target = RuleTarget::builder()
            .id(&id)
            .arn(&target.arn)
            .set_input_path(input_path.clone())
            .build()
            .map_err(|e| Error::new(format!("cannot build the rule target: {e}")))?;
        let out = client.put_targets().rule(name).targets(rule_target).send().await.explained()?;
        if out.failed_entry_count() > 0 {
            let why = out.failed_entries().first().and_then(|f| f.error_message()).unwrap_or("unknown error");
            return Err(Error::new(format!("cannot add {} as target of rule '{name}': {why}", target.arn)));
        }
        if outcome == Outcome::AlreadyWired {
            outcome = Outcome::Updated;
        }
    }
    Ok(outcome)
}

pub async fn unwire(config: &SdkConfig, target: &mut Target, name: &str) -> Result<Outcome> {
    let client = Client::new(config);
    let mut removed = target.revoke(&statement_id(name)).await?;
    let Some(targets) = targets(&client, name).await? else {
        return Ok(if removed { Outcome::Removed } else { Outcome::NotWired });
    };
    let ours: Vec<String> = targets.iter().filter(|t| t.arn() == target.arn).map(|t| t.id().to_string()).collect();
    if ours.is_empty() {
        // The rule exists but does not invoke us: it is not ours to delete.
        return Ok(if removed { Outcome::Removed } else { Outcome::NotWired });
    }
    client.remove_targets().rule(name).set_ids(Some(ours.clone())).send().await.explained()?;
    removed = true;
    if targets.len() > ours.len() {
        warn!("kept rule '{name}': it has other targets");
    } else {
        client.delete_rule().name(name).send().await.explained()?;
    }
    Ok(if removed { Outcome::Removed } else { Outcome::NotWired })
}

/// The rule's targets, or None when the rule does not exist.
async fn targets(client: &Client, rule: &str) -> Result<Option<Vec<RuleTarget>>> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let out = match client.list_targets_by_rule().rule(rule).set_next_token(token).send().await {
            Ok(out) => out,
            Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(fink_aws::explain(&e)),
        };
        all.extend(out.targets().iter().cloned());
        token = out.next_token().filter(|t| !t.is_empty()).map(String::from);
        if token.is_none() {
            return Ok(Some(all));
        }
    }
}

/// Patterns compared as JSON (EventBridge may reformat the text).
fn same_pattern(current: Option<&str>, wanted: Option<&str>) -> bool {
    let parse = |p: Option<&str>| p.map(|p| serde_json::from_str::<Value>(p).unwrap_or(Value::String(p.into())));
    parse(current) == parse(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compare_as_json() {
        assert!(same_pattern(Some(r#"{"source": ["a"]}"#), Some(r#"{"source":["a"]}"#)));
        assert!(!same_pattern(Some(r#"{"source": ["a"]}"#), Some(r#"{"source":["b"]}"#)));
        assert!(same_pattern(None, None));
        assert!(!same_pattern(None, Some("{}")));
    }
}
