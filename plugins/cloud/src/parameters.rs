//! Stack parameters: config values matched to the template's parameters, checked before any AWS
//! call, and the diff shown before an update.

use std::collections::{BTreeMap, BTreeSet};

use fink_plugin_api::secrets::MASK;
use fink_plugin_api::{warn, Error, Result, Secrets, Value};

use crate::settings::Settings;
use crate::template::Template;

/// The (key, value) pairs to send. Template parameters with neither a value nor a default are
/// an error naming all of them; config values the template doesn't declare are left out.
pub fn for_stack(template: &Template, settings: &Settings) -> Result<Vec<(String, String)>> {
    let declared = template.parameters();
    let missing: Vec<&str> = declared
        .iter()
        .filter(|(name, spec)| spec.get("Default").is_none() && !settings.parameters.contains_key(*name))
        .map(|(name, _)| name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::new(format!(
            "{} needs values for parameter{} {}",
            template.source,
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ))
        .with_help("set them in cloud.parameters of your fink_<env> config"));
    }
    let mut out = Vec::new();
    for (name, value) in &settings.parameters {
        if declared.contains_key(name) {
            out.push((name.clone(), value.clone()));
        } else {
            warn!("cloud.parameters.{name} is not a parameter of {}; not sent", template.source);
        }
    }
    Ok(out)
}

/// Parameters whose values must not be shown.
pub fn no_echo(template: &Template) -> BTreeSet<String> {
    template
        .parameters()
        .into_iter()
        .filter(|(_, spec)| match spec.get("NoEcho") {
            Some(Value::Bool(true)) => true,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        })
        .map(|(name, _)| name)
        .collect()
}

/// What DescribeStacks shows instead of a NoEcho parameter's value (CloudFormation's, not fink's
/// mask, though they look alike).
pub const MASKED: &str = "****";

/// (parameter, old, new) for every parameter that changes. NoEcho parameters (`no_echo`) and those
/// whose old or new value holds a secret (by the one rule, [`Secrets`]) show `****` on both sides:
/// a changed secret's old value is no longer marked secret, but was one. A current value that
/// CloudFormation masked can't be compared, so such a parameter is listed only when it is added or
/// removed.
pub fn diff(
    old: &[(String, String)],
    new: &[(String, String)],
    no_echo: &BTreeSet<String>,
    secrets: &Secrets,
) -> Vec<(String, String, String)> {
    let old: BTreeMap<&str, &str> = old.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let new: BTreeMap<&str, &str> = new.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let keys: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    let holds_secret = |value: &&str| secrets.mask(value) != *value;
    let hidden = |key: &str| no_echo.contains(key) || old.get(key).into_iter().chain(new.get(key)).any(holds_secret);
    let show = |key: &str, value: Option<&&str>| match value {
        None => "-".to_string(),
        Some(_) if hidden(key) => MASK.to_string(),
        Some(v) => v.to_string(),
    };
    let changed = |key: &str| match (old.get(key), new.get(key)) {
        (Some(&MASKED), Some(_)) if hidden(key) => false,
        (o, n) => o != n,
    };
    keys.into_iter().filter(|k| changed(k)).map(|k| (k.to_string(), show(k, old.get(k)), show(k, new.get(k)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse;

    fn template() -> Template {
        parse(
            r#"{"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String", "Default": "x"},
                "C": {"Type": "String"}, "Pw": {"Type": "String", "NoEcho": true}},
               "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#,
            "cloudformation.json",
        )
        .unwrap()
    }

    #[test]
    fn every_missing_parameter_is_named() {
        let err = for_stack(&template(), &Settings::default()).unwrap_err();
        assert_eq!(err.message(), "cloudformation.json needs values for parameters A, C, Pw");
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_masked_no_echo_value_is_not_reported_as_changed() {
        let hidden = no_echo(&template());
        let old = pairs(&[("A", "1"), ("Pw", "****")]);
        let new = pairs(&[("A", "2"), ("Pw", "secret")]);
        let none = Secrets::default();
        assert_eq!(diff(&old, &new, &hidden, &none), vec![("A".into(), "1".into(), "2".into())]);
        assert_eq!(diff(&pairs(&[("Pw", "****")]), &pairs(&[("Pw", "secret")]), &hidden, &none), vec![]);
    }

    #[test]
    fn an_added_or_removed_no_echo_parameter_is_listed_masked() {
        let hidden = no_echo(&template());
        let none = Secrets::default();
        assert_eq!(
            diff(&[], &pairs(&[("Pw", "secret")]), &hidden, &none),
            vec![("Pw".into(), "-".into(), "****".into())]
        );
        assert_eq!(
            diff(&pairs(&[("Pw", "****")]), &[], &hidden, &none),
            vec![("Pw".into(), "****".into(), "-".into())]
        );
    }

    #[test]
    fn hidden_values_the_stack_shows_are_compared_and_masked() {
        // A parameter just declared NoEcho: the stack shows its value.
        let hidden: BTreeSet<String> = ["Pw".to_string()].into();
        let none = Secrets::default();
        assert_eq!(diff(&pairs(&[("Pw", "old")]), &pairs(&[("Pw", "old")]), &hidden, &none), vec![]);
        assert_eq!(
            diff(&pairs(&[("Pw", "old")]), &pairs(&[("Pw", "new")]), &hidden, &none),
            vec![("Pw".into(), "****".into(), "****".into())]
        );
    }

    #[test]
    fn a_value_holding_a_secret_hides_both_sides() {
        // From lookup:secret: the new value is marked secret, the old one (the previous secret) not.
        let secrets = Secrets::new(["second-s3cr3t", "pw"]);
        let none = BTreeSet::new();
        assert_eq!(
            diff(&pairs(&[("Env", "first-s3cr3t")]), &pairs(&[("Env", "second-s3cr3t")]), &none, &secrets),
            vec![("Env".into(), "****".into(), "****".into())]
        );
        // Inside a longer value by the one rule; a short secret inside a word is no secret.
        assert_eq!(
            diff(&pairs(&[("Db", "postgres://u:old@h")]), &pairs(&[("Db", "postgres://u:pw@h")]), &none, &secrets),
            vec![("Db".into(), "****".into(), "****".into())]
        );
        assert_eq!(
            diff(&pairs(&[("Name", "a")]), &pairs(&[("Name", "upwards")]), &none, &secrets),
            vec![("Name".into(), "a".into(), "upwards".into())]
        );
    }
}
