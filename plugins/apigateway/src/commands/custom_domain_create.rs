//! `api custom-domain-create`: the domain name, base path mapping and Route 53 record of
//! `api.customDomain` for the deployed API (deploy does the same when the section is set).

use fink_plugin_api::{CommandSpec, Error, Invocation, Result};

use super::{section, with_aws};
use crate::{custom_domain, rest_apis};

pub fn spec() -> CommandSpec {
    CommandSpec::new(
        "custom-domain-create",
        "Create or update api.customDomain: domain, base path mapping, Route 53 record",
    )
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let section = section(call)?;
    let Some(domain) = section.custom_domain.clone() else {
        return Err(Error::new("api.customDomain is missing: it names the domain to create").with_help(
            "set domainName, certificateName and certificateArn (and hostedDomainZoneId, route53Record for the CNAME)",
        ));
    };
    with_aws(|config| async move {
        let client = aws_sdk_apigateway::Client::new(&config);
        let id = rest_apis::require(&client, &section.api.name).await?;
        custom_domain::ensure(&config, &client, &domain, &id, &section.api.target_stage).await
    })
}
