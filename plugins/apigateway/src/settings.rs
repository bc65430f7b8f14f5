//! The `api` section of the config, with gcdt/fink's key names: `api.api` (the REST API and its
//! stage), `api.customDomain`, `api.lambda.entries` (the functions the API integrates with) and
//! `api.swaggerFile`. The schema in `lib.rs` has checked the types, so serde only fills in the
//! defaults; the few rules a schema cannot say are checked here.

use std::collections::BTreeMap;

use fink_plugin_api::{Error, Result, Value};
use serde::Deserialize;

/// The cache sizes API Gateway offers, in GB, as the API spells them.
pub const CACHE_SIZES: &[&str] = &["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"];

/// The cache size when the config names none (API Gateway's and gcdt's default).
pub const DEFAULT_CACHE_SIZE: &str = "0.5";

/// The alias an entry integrates with when it names none (the one `lambda deploy` moves).
pub const DEFAULT_ALIAS: &str = "ACTIVE";

/// `api.api`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Api {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub target_stage: String,
    /// The id of an existing API key, wired to the stage through a usage plan.
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub cache_cluster_enabled: bool,
    /// `"0.5"` as gcdt's samples write it, or the number `0.5`.
    #[serde(default)]
    pub cache_cluster_size: Option<Value>,
    /// `"<resource path>/<METHOD>"` → settings such as `cachingEnabled`.
    #[serde(default)]
    pub method_settings: BTreeMap<String, serde_json::Map<String, Value>>,
}

/// `api.customDomain`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomDomain {
    pub domain_name: String,
    /// Empty: the API is at the domain's root.
    #[serde(default)]
    pub base_path: String,
    pub certificate_name: String,
    pub certificate_arn: String,
    #[serde(default)]
    pub hosted_domain_zone_id: Option<String>,
    #[serde(default)]
    pub route53_record: Option<String>,
    /// Whether to point `route53Record` at the domain's CloudFront name (default: when both
    /// `route53Record` and `hostedDomainZoneId` are set).
    #[serde(default)]
    pub ensure_cname: Option<bool>,
}

impl CustomDomain {
    /// The Route 53 record to keep pointing at the domain, when asked for: (zone, record).
    pub fn cname(&self) -> Option<(&str, &str)> {
        let (zone, record) = (self.hosted_domain_zone_id.as_deref()?, self.route53_record.as_deref()?);
        (self.ensure_cname != Some(false) && !zone.is_empty() && !record.is_empty()).then_some((zone, record))
    }
}

/// One function the API integrates with.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub name: String,
    #[serde(default)]
    pub alias: Option<String>,
    /// The template variable that becomes this function's invocation URI.
    #[serde(default)]
    pub swagger_ref: Option<String>,
}

impl Entry {
    pub fn alias(&self) -> &str {
        self.alias.as_deref().filter(|a| !a.is_empty()).unwrap_or(DEFAULT_ALIAS)
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Entries {
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// `config.api` as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    #[serde(default)]
    pub api: Api,
    #[serde(default)]
    pub custom_domain: Option<CustomDomain>,
    #[serde(default)]
    pub lambda: Option<Entries>,
    /// The swagger template, relative to the project; default `swagger.yaml|yml|json`.
    #[serde(default)]
    pub swagger_file: Option<String>,
}

impl Section {
    /// `api.api.cacheClusterSize` as API Gateway spells it.
    pub fn cache_size(&self) -> Result<String> {
        let size = match &self.api.cache_cluster_size {
            None | Some(Value::Null) => return Ok(DEFAULT_CACHE_SIZE.to_string()),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => other.to_string(),
        };
        // `0.50`, `118.0` and the like mean a listed size.
        let listed = CACHE_SIZES.iter().find(|s| size.parse::<f64>().ok() == s.parse::<f64>().ok());
        listed.map(|s| s.to_string()).ok_or_else(|| {
            Error::new(format!("api.api.cacheClusterSize: '{size}' is not a cache size"))
                .with_help(format!("use one of {}", CACHE_SIZES.join(", ")))
        })
    }

    /// The description given to the template and the API (empty when unset).
    pub fn description(&self) -> &str {
        self.api.description.as_deref().unwrap_or("")
    }

    /// The base path the template's `{{apiBasePath}}` stands for: the custom domain's, else the stage.
    pub fn base_path(&self) -> String {
        match &self.custom_domain {
            Some(domain) => format!("/{}", domain.base_path.trim_matches('/')),
            None => format!("/{}", self.api.target_stage),
        }
    }
}

/// The entries: `api.lambda.entries`, else the fink guide's `lambda.lambda.entries`.
pub fn entries(section: &Section, config: &Value) -> Result<Vec<Entry>> {
    if let Some(entries) = &section.lambda {
        return Ok(entries.entries.clone());
    }
    match config.pointer("/lambda/lambda/entries") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
            Error::new(format!("lambda.lambda.entries: {e}")).with_help("write them as api.lambda.entries")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    fn section(value: Value) -> Section {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_cache_size_takes_gcdts_strings_and_numbers() {
        let size = |v: Value| section(json!({"api": {"cacheClusterSize": v}})).cache_size();
        assert_eq!(size(json!("0.5")).unwrap(), "0.5");
        assert_eq!(size(json!(118)).unwrap(), "118");
        assert_eq!(size(json!(13.5)).unwrap(), "13.5");
        assert_eq!(size(json!("118.0")).unwrap(), "118");
        assert_eq!(section(json!({})).cache_size().unwrap(), "0.5");
        let err = size(json!("2")).unwrap_err();
        assert_eq!(err.message(), "api.api.cacheClusterSize: '2' is not a cache size");
        assert!(err.help().unwrap().contains("0.5, 1.6, 6.1"));
    }

    #[test]
    fn entries_come_from_the_section_or_the_lambda_section() {
        let s = section(json!({"lambda": {"entries": [{"name": "f", "swaggerRef": "fRef"}]}}));
        let found = entries(&s, &json!({})).unwrap();
        assert_eq!(found[0].alias(), "ACTIVE");
        assert_eq!(found[0].swagger_ref.as_deref(), Some("fRef"));
        let config = json!({"lambda": {"lambda": {"entries": [{"name": "g", "alias": "LIVE"}]}}});
        let found = entries(&section(json!({})), &config).unwrap();
        assert_eq!((found[0].name.as_str(), found[0].alias()), ("g", "LIVE"));
        assert!(entries(&section(json!({})), &json!({})).unwrap().is_empty());
    }

    #[test]
    fn the_base_path_is_the_domains_or_the_stage() {
        assert_eq!(section(json!({"api": {"targetStage": "dev"}})).base_path(), "/dev");
        let s = section(json!({"api": {"targetStage": "dev"}, "customDomain": {"basePath": "", "domainName": "a",
            "certificateName": "c", "certificateArn": "arn"}}));
        assert_eq!(s.base_path(), "/");
    }

    #[test]
    fn the_cname_needs_zone_and_record_and_can_be_turned_off() {
        let mut d = CustomDomain {
            hosted_domain_zone_id: Some("Z1".into()),
            route53_record: Some("api.x".into()),
            ..Default::default()
        };
        assert_eq!(d.cname(), Some(("Z1", "api.x")));
        d.ensure_cname = Some(false);
        assert_eq!(d.cname(), None);
        d.ensure_cname = None;
        d.route53_record = None;
        assert_eq!(d.cname(), None);
    }
}
