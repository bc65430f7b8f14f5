//! Puts the packaged objects into the bucket, several at once; a key that is already there (the
//! keys are content hashes) is not uploaded again.

use aws_config::SdkConfig;
use fink_plugin_api::{info, outln, Error, Result};
use futures::StreamExt as _;

use super::Upload;

/// Uploads in flight at once.
const CONCURRENCY: usize = 8;

/// What an upload run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub uploaded: usize,
    pub present: usize,
    pub bytes: u64,
}

/// Uploads each object that is not in the bucket yet.
pub async fn upload(config: &SdkConfig, bucket: &str, uploads: &[Upload]) -> Result<Report> {
    let s3 = aws_sdk_s3::Client::new(config);
    let results: Vec<Result<Option<u64>>> = futures::stream::iter(uploads.iter().map(|u| one(&s3, bucket, u)))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut report = Report::default();
    for result in results {
        match result? {
            Some(bytes) => {
                report.uploaded += 1;
                report.bytes += bytes;
            }
            None => report.present += 1,
        }
    }
    info!(
        "packaged: {} uploaded ({} bytes), {} already in s3://{bucket}",
        report.uploaded, report.bytes, report.present
    );
    Ok(report)
}

/// `Some(size)` when it was uploaded, `None` when it was there.
async fn one(s3: &aws_sdk_s3::Client, bucket: &str, upload: &Upload) -> Result<Option<u64>> {
    let key = &upload.key;
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => return Ok(None),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {}
        Err(err) => {
            return Err(Error::new(format!(
                "checking s3://{bucket}/{key} ({}): {}",
                upload.what,
                fink_aws::explain(&err)
            )))
        }
    }
    let size = upload.bytes.len() as u64;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(upload.bytes.as_ref().clone().into())
        .customize()
        .config_override(aws_sdk_s3::config::Builder::default().timeout_config(fink_aws::timeouts::upload(size)))
        .send()
        .await
        .map_err(|e| {
            Error::new(format!("uploading {} to s3://{bucket}/{key}: {}", upload.what, fink_aws::explain(&e)))
        })?;
    info!("uploaded {} to s3://{bucket}/{key}", upload.what);
    Ok(Some(size))
}

/// `--no-upload`: what would go where.
pub fn show(bucket: &str, uploads: &[Upload]) {
    if uploads.is_empty() {
        outln!("nothing to upload");
        return;
    }
    outln!("would upload (unless already there):");
    for u in uploads {
        outln!("  {} -> s3://{bucket}/{} ({} bytes)", u.what, u.key, u.bytes.len());
    }
}
