//! The credentials plugin: verifies AWS access before anything else talks to AWS.

use fink_test_support::Moto;

use crate::support::Project;
use crate::webhook::{Reply, Webhook};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-credentials", "fink-fixture-alpha"];

fn project() -> Project {
    let project = Project::with(PLUGINS);
    project.file("fink_dev.json", r#"{"demo": {}}"#);
    project
}

#[test]
fn account_arn_and_region_are_recorded_in_the_context() {
    let moto = Moto::shared();
    let run = project().aws(moto).fink(&["demo", "run", "-e", "dev"]).ok();
    assert!(run.stdout.contains("aws account 123456789012 region eu-west-1"), "{}", run.stdout);
}

#[test]
fn missing_credentials_fail_with_one_clear_line_before_lookups() {
    let project = project().env("AWS_REGION", "eu-west-1");
    let run = project
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("error: credentials (check_credentials_init): no AWS credentials found")
        .stderr_has("help: set AWS_PROFILE");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let signals: Vec<String> =
        project.recorded().iter().filter_map(|l| l.split(' ').nth(1).map(String::from)).collect();
    assert!(!signals.contains(&"lookup_init".to_string()), "{signals:?}");
    assert!(signals.contains(&"error".to_string()) && signals.contains(&"finalized".to_string()));
}

#[test]
fn a_missing_region_is_named() {
    let moto = Moto::shared();
    let project = project().aws(moto).env("AWS_REGION", "").env("AWS_DEFAULT_REGION", "");
    project.fink(&["demo", "run", "-e", "dev"]).code(1).stderr_has("no AWS region configured");
}

#[test]
fn without_a_region_the_instance_metadata_is_asked_once_and_quietly() {
    let moto = Moto::shared();
    // Stands in for the EC2 instance metadata service, which answers nothing useful off EC2.
    let imds = Webhook::start(Reply::Status(404));
    let project = project()
        .aws(moto)
        .env("AWS_REGION", "")
        .env("AWS_DEFAULT_REGION", "")
        .env("AWS_EC2_METADATA_DISABLED", "false")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url().trim_end_matches("/hook"));
    let run = project.fink(&["demo", "run", "-e", "dev"]).code(1).stderr_has("no AWS region configured");
    let requests = imds.requests();
    assert_eq!(requests.len(), 1, "one attempt: {requests:#?}");
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("PUT", "/latest/api/token"));
    assert!(!run.stderr.contains("IMDS") && !run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn commands_that_need_no_aws_skip_the_check() {
    project().fink(&["demo", "nocfg", "-e", "dev"]).ok();
}

#[test]
fn aws_default_profile_is_used_and_named_when_aws_profile_is_unset() {
    let moto = Moto::shared();
    let project = crate::migrating::profile_project(moto, PLUGINS);
    project.file("fink_dev.json", r#"{"demo": {}}"#);
    let run = project.fink(&["demo", "run", "-e", "dev", "-v"]).ok();
    assert!(run.stdout.contains("aws account 123456789012 region eu-central-1"), "{run:#?}");
    let run = run
        .stderr_has("credentials: using AWS profile 'migrated' from AWS_DEFAULT_PROFILE (AWS_PROFILE is unset)")
        .stderr_has("in eu-central-1, profile 'migrated' from AWS_DEFAULT_PROFILE");
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);

    // AWS_PROFILE wins, as in the AWS CLI; it needs no notice.
    let project = project.env("AWS_PROFILE", "other");
    let run = project.fink(&["demo", "run", "-e", "dev", "-v"]).ok().stderr_has("profile 'other' from AWS_PROFILE");
    assert!(run.stdout.contains("region ap-south-1"), "{run:#?}");
    assert!(!run.stderr.contains("using AWS profile"), "{}", run.stderr);

    // A profile that is not there is named in the error.
    let project = project.env("AWS_PROFILE", "").env("AWS_DEFAULT_PROFILE", "gone").env("AWS_REGION", "eu-west-1");
    project
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("error: credentials (check_credentials_init): ")
        .stderr_has("(profile 'gone' from AWS_DEFAULT_PROFILE)");
}
