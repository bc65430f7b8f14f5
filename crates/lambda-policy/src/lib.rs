//! A Lambda function's resource-based policy: the permissions other services need to invoke it
//! (event sources for `lambda wire`, API Gateway for `api deploy`). Statements are keyed by a
//! deterministic statement id, so adding one twice is a no-op and a redeploy adds nothing.
//!
//! Permissions are added and removed with the alias ARN as FunctionName (no separate Qualifier):
//! AWS accepts that, and moto 5.2.5's RemovePermission ignores the Qualifier parameter.

use std::collections::HashSet;

use aws_sdk_lambda::Client;
use fink_plugin_api::{debug, warn, Result, Value};

/// The statements of one function (or alias) ARN's policy.
pub struct Policy {
    client: Client,
    arn: String,
    statements: HashSet<String>,
}

impl Policy {
    /// Reads the policy of `arn` (a function without a policy has none).
    pub async fn load(client: Client, arn: &str) -> Result<Policy> {
        let statements = match client.get_policy().function_name(arn).send().await {
            Ok(out) => statement_ids(out.policy().unwrap_or_default()),
            Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => HashSet::new(),
            Err(e) => return Err(fink_aws::explain(&e)),
        };
        debug!("{arn} has policy statements {statements:?}");
        Ok(Policy { client, arn: arn.to_string(), statements })
    }

    /// The ARN whose policy this is.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// Whether statement `sid` is there.
    pub fn has(&self, sid: &str) -> bool {
        self.statements.contains(sid)
    }

    /// Lets `principal` invoke the ARN for `source_arn`; false when the statement was there.
    pub async fn allow(&mut self, sid: &str, principal: &str, source_arn: &str) -> Result<bool> {
        if self.statements.contains(sid) {
            return Ok(false);
        }
        let added = match self
            .client
            .add_permission()
            .function_name(&self.arn)
            .statement_id(sid)
            .action("lambda:InvokeFunction")
            .principal(principal)
            .source_arn(source_arn)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if fink_aws::code(&e) == Some("ResourceConflictException") => false,
            Err(e) => return Err(fink_aws::explain(&e)),
        };
        if added {
            debug!("added permission {sid} for {principal} on {source_arn}");
        }
        self.statements.insert(sid.to_string());
        Ok(added)
    }

    /// Removes statement `sid`; false when it was not there.
    pub async fn revoke(&mut self, sid: &str) -> Result<bool> {
        if !self.statements.remove(sid) {
            return Ok(false);
        }
        match self.client.remove_permission().function_name(&self.arn).statement_id(sid).send().await {
            Ok(_) => Ok(true),
            Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => {
                warn!("permission {sid} of {} was already gone", self.arn);
                Ok(false)
            }
            Err(e) => Err(fink_aws::explain(&e)),
        }
    }
}

/// The `Sid`s of a policy document.
fn statement_ids(policy: &str) -> HashSet<String> {
    let doc: Value = serde_json::from_str(policy).unwrap_or_default();
    doc.get("Statement")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_statement_ids() {
        let ids = statement_ids(r#"{"Version":"2012-10-17","Statement":[{"Sid":"a"},{"Sid":"b"},{}]}"#);
        assert_eq!(ids, HashSet::from(["a".to_string(), "b".to_string()]));
        assert!(statement_ids("not json").is_empty());
    }
}
