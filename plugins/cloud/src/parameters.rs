//! Stack parameters: config values matched to the template's parameters, checked before any AWS
//! call, and the diff shown before an update.

use std::collections::{BTreeMap, BTreeSet};

use fink_plugin_api::{warn, Error, Result, Value};

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

/// What DescribeStacks shows instead of a NoEcho parameter's value.
pub const MASKED: &str = "****";

/// (parameter, old, new) for every parameter that changes; `hidden` values shown as `****`. A
/// current value that CloudFormation masked (NoEcho) can't be compared, so such a parameter is
/// listed only when it is added or removed.
pub fn diff(
    old: &[(String, String)],
    new: &[(String, String)],
    hidden: &BTreeSet<String>,
) -> Vec<(String, String, String)> {
    let old: BTreeMap<&str, &str> = old.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let new: BTreeMap<&str, &str> = new.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let keys: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    let show = |key: &str, value: Option<&&str>| match value {
        None => "-".to_string(),
        Some(_) if hidden.contains(key) => "****".to_string(),
        Some(v) => v.to_string(),
    };
    let changed = |key: &str| match (old.get(key), new.get(key)) {
        (Some(&MASKED), Some(_)) if hidden.contains(key) => false,
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
        assert_eq!(diff(&old, &new, &hidden), vec![("A".into(), "1".into(), "2".into())]);
        assert_eq!(diff(&pairs(&[("Pw", "****")]), &pairs(&[("Pw", "secret")]), &hidden), vec![]);
    }

    #[test]
    fn an_added_or_removed_no_echo_parameter_is_listed_masked() {
        let hidden = no_echo(&template());
        assert_eq!(diff(&[], &pairs(&[("Pw", "secret")]), &hidden), vec![("Pw".into(), "-".into(), "****".into())]);
        assert_eq!(diff(&pairs(&[("Pw", "****")]), &[], &hidden), vec![("Pw".into(), "****".into(), "-".into())]);
    }

    #[test]
    fn hidden_values_the_stack_shows_are_compared_and_masked() {
        // A parameter just declared NoEcho, or a value from lookup:secret: the stack shows it.
        let hidden: BTreeSet<String> = ["Pw".to_string()].into();
        assert_eq!(diff(&pairs(&[("Pw", "old")]), &pairs(&[("Pw", "old")]), &hidden), vec![]);
        assert_eq!(
            diff(&pairs(&[("Pw", "old")]), &pairs(&[("Pw", "new")]), &hidden),
            vec![("Pw".into(), "****".into(), "****".into())]
        );
    }
}
