//! The functions the API integrates with (`api.lambda.entries`): each entry's alias ARN, the
//! invocation URI its `swaggerRef` stands for, and API Gateway's permission to invoke it.

use aws_sdk_lambda::Client as Lambda;
use fink_lambda_policy::Policy;
use fink_plugin_api::{debug, Error, Result};

use crate::settings::Entry;

/// The principal API Gateway invokes functions as.
const PRINCIPAL: &str = "apigateway.amazonaws.com";

/// An entry with its alias found.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub entry: Entry,
    /// `arn:aws:lambda:<region>:<account>:function:<name>:<alias>`.
    pub alias_arn: String,
}

impl Function {
    /// The URI the template's `{{<swaggerRef>}}` stands for.
    pub fn invocation_uri(&self) -> String {
        let arn = Arn::parse(&self.alias_arn);
        format!(
            "arn:{}:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations",
            arn.partition, arn.region, self.alias_arn
        )
    }

    /// `arn:aws:execute-api:<region>:<account>:<api id>/*`: any stage, method and path of the API.
    pub fn source_arn(&self, api_id: &str, account: Option<&str>) -> String {
        let arn = Arn::parse(&self.alias_arn);
        let account = account.filter(|a| !a.is_empty()).unwrap_or(arn.account);
        format!("arn:{}:execute-api:{}:{account}:{api_id}/*", arn.partition, arn.region)
    }
}

/// The statement id of the API's permission on a function.
pub fn statement_id(api_id: &str) -> String {
    format!("fink-api-{api_id}")
}

/// The parts of an ARN fink needs.
struct Arn<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
}

impl<'a> Arn<'a> {
    fn parse(arn: &'a str) -> Arn<'a> {
        let mut parts = arn.split(':').skip(1);
        let partition = parts.next().unwrap_or("aws");
        let _service = parts.next();
        let region = parts.next().unwrap_or_default();
        let account = parts.next().unwrap_or_default();
        Arn { partition, region, account }
    }
}

/// Finds each entry's alias; a missing function or alias names the entry.
pub async fn resolve(lambda: &Lambda, entries: &[Entry]) -> Result<Vec<Function>> {
    let mut found = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let key = format!("api.lambda.entries[{i}]");
        let alias = entry.alias();
        let arn = match lambda.get_alias().function_name(&entry.name).name(alias).send().await {
            Ok(out) => out.alias_arn().unwrap_or_default().to_string(),
            Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => {
                let exists = lambda.get_function().function_name(&entry.name).send().await.is_ok();
                let what = if exists {
                    format!("function '{}' has no alias {alias}", entry.name)
                } else {
                    format!("function '{}' does not exist", entry.name)
                };
                return Err(Error::new(format!("{key}: {what}"))
                    .with_help("deploy it first (`fink lambda deploy` creates the ACTIVE alias), or fix the entry"));
            }
            Err(e) => return Err(fink_aws::explain(&e)),
        };
        debug!("{key}: {} is {arn}", entry.name);
        found.push(Function { entry: entry.clone(), alias_arn: arn });
    }
    Ok(found)
}

/// Lets the API invoke each function's alias; returns the aliases that got a new permission.
pub async fn allow(
    lambda: &Lambda,
    functions: &[Function],
    api_id: &str,
    account: Option<&str>,
) -> Result<Vec<String>> {
    let sid = statement_id(api_id);
    let mut added = Vec::new();
    for function in functions {
        let mut policy = Policy::load(lambda.clone(), &function.alias_arn).await?;
        if policy.allow(&sid, PRINCIPAL, &function.source_arn(api_id, account)).await? {
            added.push(format!("{}:{}", function.entry.name, function.entry.alias()));
        }
    }
    Ok(added)
}

/// Takes the API's permission away from each function that still exists.
pub async fn revoke(lambda: &Lambda, entries: &[Entry], api_id: &str) -> Result<Vec<String>> {
    let sid = statement_id(api_id);
    let mut removed = Vec::new();
    for entry in entries {
        let Ok(out) = lambda.get_alias().function_name(&entry.name).name(entry.alias()).send().await else {
            continue;
        };
        let mut policy = Policy::load(lambda.clone(), out.alias_arn().unwrap_or_default()).await?;
        if policy.revoke(&sid).await? {
            removed.push(format!("{}:{}", entry.name, entry.alias()));
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function() -> Function {
        Function {
            entry: Entry { name: "hello".into(), alias: None, swagger_ref: Some("helloRef".into()) },
            alias_arn: "arn:aws:lambda:eu-west-1:123456789012:function:hello:ACTIVE".into(),
        }
    }

    #[test]
    fn the_uri_and_source_arn_follow_the_alias_arn() {
        let f = function();
        assert_eq!(
            f.invocation_uri(),
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/\
             arn:aws:lambda:eu-west-1:123456789012:function:hello:ACTIVE/invocations"
        );
        assert_eq!(f.source_arn("a1b2", None), "arn:aws:execute-api:eu-west-1:123456789012:a1b2/*");
        assert_eq!(f.source_arn("a1b2", Some("999")), "arn:aws:execute-api:eu-west-1:999:a1b2/*");
        assert_eq!(statement_id("a1b2"), "fink-api-a1b2");
    }
}
