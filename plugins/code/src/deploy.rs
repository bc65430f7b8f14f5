//! `code deploy`: upload the bundle to S3 keyed by its content (an unchanged bundle is not
//! uploaded again), create the deployment (CreateDeployment registers the revision), and follow
//! it (`crate::follow`).

use aws_config::SdkConfig;
use aws_sdk_codedeploy::types::{BundleType, RevisionLocation, RevisionLocationType, S3Location};
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use fink_aws::interrupt::Interrupts;
use fink_plugin_api::{human, info, outln, Bundle, Error, Result};

use crate::follow::{self, Logs};
use crate::settings::Section;

/// Where the revision was put, for the context of `command_finalized` handlers.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
}

impl Revision {
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// The bundle's sha256 in hex (the bundler gives base64, Lambda's form).
pub fn hex_digest(bundle: &Bundle) -> Result<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&bundle.sha256)
        .map_err(|e| Error::new(format!("the bundler's sha256 '{}' is not base64: {e}", bundle.sha256)))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A deployment that was created: its id and revision, and how following it ended.
pub struct Deployed {
    pub id: String,
    pub revision: Revision,
    pub outcome: Result<()>,
}

/// Uploads the bundle, creates the deployment and (unless `wait` is false) follows it.
pub async fn deploy(config: &SdkConfig, section: &Section, bundle: &Bundle, wait: bool) -> Result<Deployed> {
    let bucket = section.bucket()?.to_string();
    // Caught from here on, so a Ctrl-C during the upload does not leave half a deploy unsaid.
    let mut interrupts = Interrupts::listen()?;
    let revision = upload(&aws_sdk_s3::Client::new(config), section, bundle, bucket).await?;
    let client = aws_sdk_codedeploy::Client::new(config);
    let target = &section.codedeploy;
    let location = RevisionLocation::builder()
        .revision_type(RevisionLocationType::S3)
        .s3_location(
            S3Location::builder()
                .bucket(&revision.bucket)
                .key(&revision.key)
                .bundle_type(BundleType::TarGZip)
                .set_e_tag(revision.etag.clone())
                .build(),
        )
        .build();
    let created = client
        .create_deployment()
        .application_name(&target.application_name)
        .deployment_group_name(&target.deployment_group_name)
        .deployment_config_name(section.deployment_config())
        .revision(location)
        .description(format!("fink code deploy of {}", revision.url()))
        // As gcdt did: a broken ApplicationStop script of the previous revision must not block
        // the one that fixes it.
        .ignore_application_stop_failures(true)
        .send()
        .await
        .map_err(|e| {
            let err = fink_aws::explain(&e);
            Error::new(format!(
                "cannot create a deployment of application '{}' to group '{}': {}",
                target.application_name,
                target.deployment_group_name,
                err.message()
            ))
            .with_help("check code.codedeploy.applicationName and deploymentGroupName")
        })?;
    let id = created.deployment_id().unwrap_or_default().to_string();
    outln!("deployment {id} created: {} to group {}", revision.url(), target.deployment_group_name);
    let region = fink_aws::region(config)?;
    info!("console: https://{region}.console.aws.amazon.com/codesuite/codedeploy/deployments/{id}?region={region}");
    if !wait {
        outln!("not waiting; follow it with `fink code list -e <env>`");
        return Ok(Deployed { id, revision, outcome: Ok(()) });
    }
    let logs_client = aws_sdk_cloudwatchlogs::Client::new(config);
    let logs = Logs { client: &logs_client, group: section.log_group() };
    let outcome = follow::follow(&client, &id, &logs, &mut interrupts).await;
    if outcome.is_ok() {
        outln!("deployment {id} succeeded");
    }
    Ok(Deployed { id, revision, outcome })
}

/// Puts the bundle at `s3://<bucket>/<applicationName>/<sha256>.tar.gz` unless it is there.
async fn upload(s3: &aws_sdk_s3::Client, section: &Section, bundle: &Bundle, bucket: String) -> Result<Revision> {
    let key = format!("{}/{}.tar.gz", section.codedeploy.application_name, hex_digest(bundle)?);
    let url = format!("s3://{bucket}/{key}");
    match s3.head_object().bucket(&bucket).key(&key).send().await {
        Ok(head) => {
            info!("bundle unchanged: already at {url}, not uploading");
            return Ok(Revision { bucket, key, etag: head.e_tag().map(String::from) });
        }
        Err(err) if fink_aws::code(&err).is_none_or(|c| c == "NotFound" || c == "404") => {}
        Err(err) => return Err(cannot_upload(&url, fink_aws::explain(&err))),
    }
    info!("uploading the bundle to {url} ({})", human::bytes(bundle.size));
    // Streamed from the file: a bundle can be gigabytes.
    let body = ByteStream::from_path(&bundle.path)
        .await
        .map_err(|e| Error::new(format!("cannot read the bundle {}: {e}", bundle.path.display())))?;
    let put = s3
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .body(body)
        .customize()
        // The bound of one call, plus the time the body takes on a slow line.
        .config_override(aws_sdk_s3::config::Builder::default().timeout_config(fink_aws::timeouts::upload(bundle.size)))
        .send()
        .await
        .map_err(|e| cannot_upload(&url, fink_aws::explain(&e)))?;
    Ok(Revision { bucket, key, etag: put.e_tag().map(String::from) })
}

fn cannot_upload(url: &str, err: Error) -> Error {
    Error::new(format!("cannot upload the bundle to {url}: {}", err.message()))
        .with_help("check code.codedeploy.artifactsBucket")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_hex() {
        let bundle = Bundle { sha256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".into(), ..Bundle::default() };
        assert_eq!(hex_digest(&bundle).unwrap(), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
        let broken = Bundle { sha256: "not base64!".into(), ..Bundle::default() };
        assert!(hex_digest(&broken).unwrap_err().message().contains("is not base64"));
    }
}
