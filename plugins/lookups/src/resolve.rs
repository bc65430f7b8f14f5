//! Turns fetched data into the value of each lookup, or says why there is none.

use fink_plugin_api::Error;
use serde_json::{Map, Value};

use crate::fetch::{Certificate, Fetched, Plan, SecretStore};
use crate::grammar::{Kind, Lookup};

/// The region ACM lookups use for the `api` tool: API Gateway edge certificates live there.
pub const API_ACM_REGION: &str = "us-east-1";

/// The outcome of one lookup.
#[derive(Debug, PartialEq)]
pub enum Resolved {
    /// The value, and whether it is secret (a secret or a SecureString parameter).
    Value { value: Value, secret: bool },
    /// Nothing there; CONTINUE_IF_NOT_FOUND turns this into an empty value.
    Missing(String),
    /// The AWS call failed.
    Failed(Error),
}

/// The region a lookup runs in.
pub fn region_of(lookup: &Lookup, tool: Option<&str>, default: Option<&str>) -> Option<String> {
    if let Some(region) = &lookup.region {
        return Some(region.clone());
    }
    if matches!(lookup.kind, Kind::Acm { .. }) && tool == Some("api") {
        return Some(API_ACM_REGION.to_string());
    }
    default.map(String::from)
}

/// Adds what `lookup` needs to the plan.
pub fn plan(plan: &mut Plan, lookup: &Lookup, region: &str) {
    match &lookup.kind {
        Kind::Stack { stack, .. } => {
            plan.stacks.insert((region.to_string(), stack.clone()));
        }
        Kind::Parameter { name } => {
            plan.parameters.entry(region.to_string()).or_default().insert(name.clone());
        }
        Kind::Secret { name } => {
            plan.secrets.insert((region.to_string(), name.clone()));
            // `name.key`: the key of a JSON secret named `name`, if no secret has the full name.
            // (credstash names have dots of their own, e.g. `slack.webhook`: read as they are.)
            if let (Some((base, _)), SecretStore::SecretsManager) = (name.rsplit_once('.'), &plan.secret_store) {
                plan.secrets.insert((region.to_string(), base.to_string()));
            }
        }
        Kind::Acm { .. } => {
            plan.acm_regions.insert(region.to_string());
        }
    }
}

/// The value of `lookup` from what was fetched.
pub fn resolve(lookup: &Lookup, region: &str, fetched: &Fetched) -> Resolved {
    let key = |name: &str| (region.to_string(), name.to_string());
    match &lookup.kind {
        Kind::Stack { stack, output } => match fetched.stacks.get(&key(stack)) {
            Some(Ok(Some(outputs))) => match output {
                None => Resolved::Value {
                    value: Value::Object(
                        outputs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>(),
                    ),
                    secret: false,
                },
                Some(wanted) => match outputs.iter().find(|(k, _)| k == wanted) {
                    Some((_, value)) => Resolved::Value { value: Value::String(value.clone()), secret: false },
                    None => {
                        let names: Vec<&str> = outputs.iter().map(|(k, _)| k.as_str()).collect();
                        let list = if names.is_empty() { "none".to_string() } else { names.join(", ") };
                        Resolved::Missing(format!("stack '{stack}' has no output '{wanted}' (outputs: {list})"))
                    }
                },
            },
            Some(Ok(None)) => Resolved::Missing(format!("stack '{stack}' does not exist in {region}")),
            Some(Err(e)) => Resolved::Failed(e.clone()),
            None => Resolved::Failed(Error::new("not fetched")),
        },
        Kind::Parameter { name } => match fetched.parameters.get(&key(name)) {
            Some(Ok(Some(p))) => Resolved::Value { value: Value::String(p.value.clone()), secret: p.secure },
            Some(Ok(None)) => Resolved::Missing(format!("parameter '{name}' not found in {region}")),
            Some(Err(e)) => Resolved::Failed(e.clone()),
            None => Resolved::Failed(Error::new("not fetched")),
        },
        Kind::Secret { name } => secret(name, region, fetched),
        Kind::Acm { hosts } => match fetched.certificates.get(region) {
            Some(Ok(certs)) => match best_certificate(certs, hosts) {
                Some(cert) => Resolved::Value { value: Value::String(cert.arn.clone()), secret: false },
                None => Resolved::Missing(format!("no ISSUED certificate in {region} covers {}", hosts.join(", "))),
            },
            Some(Err(e)) => Resolved::Failed(e.clone()),
            None => Resolved::Failed(Error::new("not fetched")),
        },
    }
}

fn secret(name: &str, region: &str, fetched: &Fetched) -> Resolved {
    let get = |n: &str| fetched.secrets.get(&(region.to_string(), n.to_string()));
    match get(name) {
        Some(Ok(Some(value))) => return Resolved::Value { value: Value::String(value.clone()), secret: true },
        Some(Err(e)) => return Resolved::Failed(e.clone()),
        _ => {}
    }
    if let SecretStore::Credstash { table } = &fetched.secret_store {
        return Resolved::Missing(format!("secret '{name}' not found in credstash table '{table}' in {region}"));
    }
    let Some((base, field)) = name.rsplit_once('.') else {
        return Resolved::Missing(format!("secret '{name}' not found in {region}"));
    };
    match get(base) {
        Some(Ok(Some(text))) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => match map.get(field) {
                Some(Value::String(s)) => Resolved::Value { value: Value::String(s.clone()), secret: true },
                Some(other) => Resolved::Value { value: Value::String(other.to_string()), secret: true },
                None => Resolved::Missing(format!("secret '{base}' has no key '{field}'")),
            },
            _ => Resolved::Missing(format!(
                "secret '{name}' not found in {region}, and secret '{base}' is not a JSON object with a key '{field}'"
            )),
        },
        Some(Err(e)) => Resolved::Failed(e.clone()),
        _ => Resolved::Missing(format!("secret '{name}' not found in {region}")),
    }
}

/// Whether a certificate name (`example.com`, `*.example.com`) covers `host`. A wildcard covers
/// exactly one label, as in TLS.
fn covers(name: &str, host: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(suffix) => host.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => name == host,
    }
}

/// The certificate covering every host; several → the one that expires last.
fn best_certificate<'c>(certs: &'c [Certificate], hosts: &[String]) -> Option<&'c Certificate> {
    certs.iter().filter(|c| hosts.iter().all(|h| c.names.iter().any(|n| covers(n, h)))).max_by_key(|c| c.not_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Parameter;
    use crate::grammar::parse;

    fn cert(arn: &str, names: &[&str], not_after: i64) -> Certificate {
        Certificate { arn: arn.into(), names: names.iter().map(|s| s.to_string()).collect(), not_after }
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("*.example.com", "api.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("*.example.com", "a.b.example.com"));
        assert!(covers("example.com", "example.com"));
    }

    #[test]
    fn the_latest_expiring_certificate_covering_all_hosts_wins() {
        let certs = vec![
            cert("old", &["*.example.com", "example.com"], 100),
            cert("new", &["*.example.com", "example.com"], 200),
            cert("partial", &["*.example.com"], 300),
        ];
        let hosts = vec!["example.com".to_string(), "www.example.com".to_string()];
        assert_eq!(best_certificate(&certs, &hosts).map(|c| c.arn.as_str()), Some("new"));
        assert!(best_certificate(&certs, &["other.org".to_string()]).is_none());
    }

    #[test]
    fn missing_outputs_name_the_ones_there_are() {
        let mut fetched = Fetched::default();
        fetched
            .stacks
            .insert(("r".into(), "infra".into()), Ok(Some(vec![("A".into(), "1".into()), ("B".into(), "2".into())])));
        let lookup = parse("lookup:stack:infra:VpcId").unwrap();
        assert_eq!(
            resolve(&lookup, "r", &fetched),
            Resolved::Missing("stack 'infra' has no output 'VpcId' (outputs: A, B)".into())
        );
        let all = parse("lookup:stack:infra").unwrap();
        assert!(
            matches!(resolve(&all, "r", &fetched), Resolved::Value { value: Value::Object(m), .. } if m.len() == 2)
        );
    }

    #[test]
    fn secret_keys_read_json_secrets_and_secure_parameters_are_secret() {
        let mut fetched = Fetched::default();
        fetched.secrets.insert(("r".into(), "db.password".into()), Ok(None));
        fetched.secrets.insert(("r".into(), "db".into()), Ok(Some(r#"{"password":"pw","port":5432}"#.into())));
        let pw = parse("lookup:secret:db.password").unwrap();
        assert_eq!(resolve(&pw, "r", &fetched), Resolved::Value { value: Value::String("pw".into()), secret: true });
        fetched.secrets.insert(("r".into(), "db.port".into()), Ok(None));
        let port = parse("lookup:secret:db.port").unwrap();
        assert_eq!(
            resolve(&port, "r", &fetched),
            Resolved::Value { value: Value::String("5432".into()), secret: true }
        );
        fetched.parameters.insert(("r".into(), "/p".into()), Ok(Some(Parameter { value: "s".into(), secure: true })));
        let p = parse("lookup:parameter:/p").unwrap();
        assert_eq!(resolve(&p, "r", &fetched), Resolved::Value { value: Value::String("s".into()), secret: true });
    }

    #[test]
    fn credstash_names_are_read_whole_and_missing_ones_name_the_table() {
        let lookup = parse("lookup:secret:slack.webhook").unwrap();
        let mut plan = Plan { secret_store: SecretStore::Credstash { table: "t".into() }, ..Plan::default() };
        super::plan(&mut plan, &lookup, "r");
        assert_eq!(plan.secrets.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), ["slack.webhook"]);
        let mut fetched = Fetched { secret_store: plan.secret_store.clone(), ..Fetched::default() };
        fetched.secrets.insert(("r".into(), "slack.webhook".into()), Ok(None));
        assert_eq!(
            resolve(&lookup, "r", &fetched),
            Resolved::Missing("secret 'slack.webhook' not found in credstash table 't' in r".into())
        );
        fetched.secrets.insert(("r".into(), "slack.webhook".into()), Ok(Some("https://hook".into())));
        assert_eq!(
            resolve(&lookup, "r", &fetched),
            Resolved::Value { value: Value::String("https://hook".into()), secret: true }
        );
    }

    #[test]
    fn acm_for_the_api_tool_defaults_to_us_east_1() {
        let acm = parse("lookup:acm:a.example.com").unwrap();
        assert_eq!(region_of(&acm, Some("api"), Some("eu-west-1")).as_deref(), Some("us-east-1"));
        assert_eq!(region_of(&acm, Some("cloud"), Some("eu-west-1")).as_deref(), Some("eu-west-1"));
        let regional = parse("lookup:region:ap-south-1:acm:a.example.com").unwrap();
        assert_eq!(region_of(&regional, Some("api"), None).as_deref(), Some("ap-south-1"));
    }
}
