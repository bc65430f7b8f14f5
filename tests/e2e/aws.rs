//! Seeding moto: the resources lookups read (stacks with outputs, SSM parameters, secrets,
//! imported ACM certificates) and what the tools' tests start from (S3 buckets and objects, log
//! events, Lambda functions). Names carry a per-test prefix, so tests share one server.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_ssm::types::ParameterType;
use fink_test_support::{block_on, Moto, REGION};

/// A prefix unique in this test run, valid in stack, parameter and secret names.
pub fn unique(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("t{}x{}-{tag}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn stack(moto: &Moto, region: &str, name: &str, outputs: &[(&str, &str)]) {
    let outputs: serde_json::Map<String, serde_json::Value> =
        outputs.iter().map(|(k, v)| (k.to_string(), serde_json::json!({"Value": v}))).collect();
    let template = serde_json::json!({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": outputs,
    });
    block_on(async {
        let config = moto.sdk_config(region).await;
        aws_sdk_cloudformation::Client::new(&config)
            .create_stack()
            .stack_name(name)
            .template_body(template.to_string())
            .send()
            .await
            .expect("create stack");
    });
}

pub fn parameter(moto: &Moto, region: &str, name: &str, value: &str, kind: ParameterType) {
    block_on(async {
        let config = moto.sdk_config(region).await;
        aws_sdk_ssm::Client::new(&config)
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(kind)
            .send()
            .await
            .expect("put parameter");
    });
}

pub fn secret(moto: &Moto, region: &str, name: &str, value: &str) {
    block_on(async {
        let config = moto.sdk_config(region).await;
        aws_sdk_secretsmanager::Client::new(&config)
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("create secret");
    });
}

/// Imports a self-signed certificate for `names` valid for `days`; returns its ARN.
pub fn certificate(moto: &Moto, region: &str, names: &[&str], days: u32) -> String {
    let (cert, key) = self_signed(names, days);
    block_on(async {
        let config = moto.sdk_config(region).await;
        aws_sdk_acm::Client::new(&config)
            .import_certificate()
            .certificate(aws_sdk_acm::primitives::Blob::new(cert))
            .private_key(aws_sdk_acm::primitives::Blob::new(key))
            .send()
            .await
            .expect("import certificate")
            .certificate_arn()
            .expect("an ARN")
            .to_string()
    })
}

/// A self-signed certificate and key (PEM), made with the `cryptography` package moto brings.
fn self_signed(names: &[&str], days: u32) -> (Vec<u8>, Vec<u8>) {
    let python = crate::support::repo_root().join(".venv/bin/python");
    let script = r#"
import sys, datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
names, days = sys.argv[1].split(","), int(sys.argv[2])
key = ec.generate_private_key(ec.SECP256R1())
subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
    .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days))
    .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    .sign(key, hashes.SHA256()))
sys.stdout.write(cert.public_bytes(serialization.Encoding.PEM).decode())
sys.stdout.write("|")
sys.stdout.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()).decode())
"#;
    let out =
        Command::new(python).args(["-c", script, &names.join(","), &days.to_string()]).output().expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("PEM text");
    let (cert, key) = text.split_once('|').expect("cert|key");
    (cert.as_bytes().to_vec(), key.as_bytes().to_vec())
}

/// An S3 bucket in the test region.
pub fn bucket(moto: &Moto, name: &str) {
    block_on(async {
        aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await)
            .create_bucket()
            .bucket(name)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                    .build(),
            )
            .send()
            .await
            .expect("create bucket");
    });
}

/// The bytes of an S3 object.
pub fn object(moto: &Moto, bucket: &str, key: &str) -> Vec<u8> {
    block_on(async {
        let s3 = aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await);
        let object = s3.get_object().bucket(bucket).key(key).send().await.expect("get object");
        object.body.collect().await.expect("object body").into_bytes().to_vec()
    })
}

/// Puts `(timestamp, message)` events into the stream `stream` of `group`, creating both.
pub fn log_events(moto: &Moto, group: &str, stream: &str, events: &[(i64, &str)]) {
    block_on(async {
        let client = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config(REGION).await);
        let _ = client.create_log_group().log_group_name(group).send().await;
        client.create_log_stream().log_group_name(group).log_stream_name(stream).send().await.expect("log stream");
        let events: Vec<_> = events
            .iter()
            .map(|(at, message)| {
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(*at)
                    .message(*message)
                    .build()
                    .unwrap()
            })
            .collect();
        client
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .expect("put log events");
    });
}

/// A zip with `handler.py`, whose `handle` answers 'alive'.
pub fn handler_zip() -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("handler.py", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(b"def handle(event, context):\n    return 'alive'\n").unwrap();
    zip.finish().unwrap().into_inner()
}

/// A Python function `name` with [`handler_zip`]'s code and moto's Lambda role.
pub fn function(moto: &Moto, name: &str) {
    let role = moto.lambda_role();
    block_on(async {
        aws_sdk_lambda::Client::new(&moto.sdk_config(REGION).await)
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .role(role)
            .handler("handler.handle")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(handler_zip()))
                    .build(),
            )
            .send()
            .await
            .expect("create function");
    });
}

/// Publishes `function`'s code as a version and points alias `alias` at it; returns the alias ARN.
pub fn alias(moto: &Moto, function: &str, alias: &str) -> String {
    block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&moto.sdk_config(REGION).await);
        let version = lambda.publish_version().function_name(function).send().await.expect("publish version");
        lambda
            .create_alias()
            .function_name(function)
            .name(alias)
            .function_version(version.version().expect("a version"))
            .send()
            .await
            .expect("create alias")
            .alias_arn()
            .expect("an alias ARN")
            .to_string()
    })
}
