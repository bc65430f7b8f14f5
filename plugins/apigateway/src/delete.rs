//! `api delete -f`: the API, its base path mapping on the custom domain and its permissions on
//! the entries' aliases.

use aws_config::SdkConfig;
use aws_sdk_apigateway::Client;
use fink_aws::Explained;
use fink_plugin_api::{outln, Error, Result};

use crate::settings::{Entry, Section};
use crate::{custom_domain, functions, rest_apis};

pub async fn delete(config: &SdkConfig, section: &Section, entries: &[Entry], force: bool, env: &str) -> Result<()> {
    let name = section.api.name.as_str();
    if !force {
        return Err(Error::new(format!("not deleting API '{name}' without -f"))
            .with_help(format!("run `fink api delete -f -e {env}` to delete it")));
    }
    let client = Client::new(config);
    let id = rest_apis::require(&client, name).await?;
    if let Some(domain) = &section.custom_domain {
        if custom_domain::unmap(&client, domain, &id).await? {
            outln!("base path https://{}/{}: unmapped", domain.domain_name, domain.base_path.trim_matches('/'));
        }
    }
    for alias in functions::revoke(&aws_sdk_lambda::Client::new(config), entries, &id).await? {
        outln!("permission for the API to invoke {alias}: removed");
    }
    client.delete_rest_api().rest_api_id(&id).send().await.explained()?;
    outln!("API '{name}' ({id}) deleted");
    Ok(())
}
