//! The lookups plugin against moto through the real binary: every lookup form, errors, secrets,
//! and the batching of AWS calls.

use aws_sdk_ssm::types::ParameterType;
use fink_test_support::{Moto, REGION};
use serde_json::json;

use crate::aws::{certificate, parameter, secret, stack, unique};
use crate::support::Project;

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-lookups"];

fn project(moto: &Moto, config: serde_json::Value) -> Project {
    let project = Project::with(PLUGINS).aws(moto);
    project.file("fink_dev.json", &config.to_string());
    project
}

#[test]
fn every_lookup_form_resolves_anywhere_in_the_config() {
    let moto = Moto::shared();
    let p = unique("forms");
    stack(moto, REGION, &format!("{p}-infra"), &[("VpcId", "vpc-123"), ("SubnetIds", "subnet-1,subnet-2")]);
    stack(moto, "us-east-1", &format!("{p}-edge"), &[("Zone", "Z1")]);
    parameter(moto, REGION, &format!("/{p}/db.host"), "db.internal", ParameterType::String);
    parameter(moto, REGION, &format!("/{p}/azs"), "a,b,c", ParameterType::StringList);
    parameter(moto, REGION, &format!("/{p}/db.password"), "pw-from-ssm", ParameterType::SecureString);
    parameter(moto, "us-east-1", &format!("/{p}/global"), "from-us-east-1", ParameterType::String);
    secret(moto, REGION, &format!("{p}.token"), "tok-plain");
    secret(moto, REGION, &format!("{p}-db"), r#"{"user":"admin","password":"pw-from-secret"}"#);
    let domain = format!("{p}.example.com");
    let wildcard = format!("*.{domain}");
    certificate(moto, REGION, &[&wildcard, &domain], 30);
    let newest = certificate(moto, REGION, &[&wildcard, &domain], 90);
    certificate(moto, REGION, &[&format!("www.{domain}")], 365);
    let edge = certificate(moto, "us-east-1", &[&format!("api.{domain}")], 60);

    let project = project(
        moto,
        json!({
            "cloud": {
                "parameters": {
                    "VpcId": format!("lookup:stack:{p}-infra:VpcId"),
                    "All": format!("lookup:stack:{p}-infra"),
                    "Zone": format!("lookup:region:us-east-1:stack:{p}-edge:Zone"),
                    "Cert": format!("lookup:acm:api.{domain}:{domain}"),
                    "Gone": format!("lookup:stack:{p}-nothing:Out:optional"),
                },
                "list": [format!("lookup:parameter:/{p}/db.host"), {"deep": format!("lookup:parameter:/{p}/azs")}, 7],
            },
            "secrets": {
                "ssm": format!("lookup:parameter:/{p}/db.password"),
                "plain": format!("lookup:secret:{p}.token"),
                "key": format!("lookup:secret:{p}-db.password"),
                "global": format!("lookup:region:us-east-1:parameter:/{p}/global"),
                "missing": format!("lookup:parameter:/{p}/none:CONTINUE_IF_NOT_FOUND"),
            },
            "plugins": {"other": {"edge": format!("lookup:region:us-east-1:acm:api.{domain}")}},
        }),
    );
    let run = project.fink(&["config", "-e", "dev", "--show-secrets"]).ok();
    let config = run.json();
    assert_eq!(
        config["cloud"]["parameters"],
        json!({
            "VpcId": "vpc-123",
            "All": {"VpcId": "vpc-123", "SubnetIds": "subnet-1,subnet-2"},
            "Zone": "Z1",
            "Cert": newest,
            "Gone": "",
        })
    );
    assert_eq!(config["cloud"]["list"], json!(["db.internal", {"deep": "a,b,c"}, 7]));
    assert_eq!(
        config["secrets"],
        json!({"ssm": "pw-from-ssm", "plain": "tok-plain", "key": "pw-from-secret", "global": "from-us-east-1", "missing": ""})
    );
    assert_eq!(config["plugins"]["other"]["edge"], json!(edge));
    assert!(
        run.stderr.contains(&format!("warning: lookups: secrets.missing: lookup:parameter:/{p}/none:CONTINUE_IF_NOT_FOUND: parameter '/{p}/none' not found in {REGION}; using an empty value")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("cloud.parameters.Gone"), "{}", run.stderr);
}

#[test]
fn secret_values_are_masked_and_never_logged() {
    let moto = Moto::shared();
    let p = unique("secret");
    parameter(moto, REGION, &format!("/{p}/key"), "ssm-s3cr3t-value", ParameterType::SecureString);
    secret(moto, REGION, &format!("{p}-api"), "sm-s3cr3t-value");
    let project = project(
        moto,
        json!({"app": {"key": format!("lookup:parameter:/{p}/key"), "api": format!("lookup:secret:{p}-api"), "url": "x"}}),
    );
    let run = project.fink(&["config", "-e", "dev", "-vv"]).ok();
    assert_eq!(run.json()["app"], json!({"key": "****", "api": "****", "url": "x"}));
    for value in ["ssm-s3cr3t-value", "sm-s3cr3t-value"] {
        assert!(!run.stdout.contains(value) && !run.stderr.contains(value), "{value} leaked:\n{}", run.stderr);
    }
    let shown = project.fink(&["config", "-e", "dev", "--show-secrets"]).ok().json();
    assert_eq!(shown["app"]["api"], json!("sm-s3cr3t-value"));
}

#[test]
fn every_failing_lookup_is_reported_with_its_key_path() {
    let moto = Moto::shared();
    let p = unique("fail");
    stack(moto, REGION, &format!("{p}-infra"), &[("A", "1"), ("B", "2")]);
    let project = project(
        moto,
        json!({"cloud": {"parameters": {
            "VPCId": format!("lookup:stack:{p}-infra:VpcId"),
            "Other": format!("lookup:stack:{p}-none:X"),
            "Param": format!("lookup:parameter:/{p}/none"),
            "Secret": format!("lookup:secret:{p}-none"),
            "Cert": format!("lookup:acm:nothing.{p}.example.org"),
        }}}),
    );
    let run = project.fink(&["config", "-e", "dev"]).code(1).stderr_has("lookups (lookup_init): 5 lookups failed:");
    for line in [
        format!("cloud.parameters.VPCId: lookup:stack:{p}-infra:VpcId: stack '{p}-infra' has no output 'VpcId' (outputs: A, B)"),
        format!("cloud.parameters.Other: lookup:stack:{p}-none:X: stack '{p}-none' does not exist in {REGION}"),
        format!("cloud.parameters.Param: lookup:parameter:/{p}/none: parameter '/{p}/none' not found in {REGION}"),
        format!("cloud.parameters.Secret: lookup:secret:{p}-none: secret '{p}-none' not found in {REGION}"),
        format!("cloud.parameters.Cert: lookup:acm:nothing.{p}.example.org: no ISSUED certificate in {REGION} covers nothing.{p}.example.org"),
    ] {
        assert!(run.stderr.contains(&line), "missing {line:?} in:\n{}", run.stderr);
    }
}

#[test]
fn acm_lookups_for_the_api_tool_use_us_east_1() {
    let moto = Moto::shared();
    let p = unique("edge");
    let host = format!("api.{p}.example.com");
    let east = certificate(moto, "us-east-1", &[&host], 60);
    certificate(moto, REGION, &[&host], 90);
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-lookups", "fink-fixture-beta"]).aws(moto);
    project.file("fink_dev.json", &json!({"api": {"cert": format!("lookup:acm:{host}")}}).to_string());
    let run = project.fink(&["api", "show", "-e", "dev"]).ok();
    assert_eq!(run.stdout.trim(), json!({"cert": east}).to_string());
}

#[test]
fn malformed_and_unknown_lookups_fail_before_any_aws_call() {
    let moto = Moto::start();
    let project = project(
        &moto,
        json!({"a": "lookup:stack", "b": ["lookup:bogus:x"], "c": "lookup:parameter:a:b", "d": "lookup:stack:fine:Out"}),
    );
    let (run, calls) = moto.record(|| project.fink(&["config", "-e", "dev"]));
    let run = run.code(1).stderr_has("3 lookups failed:");
    for line in [
        "a: lookup:stack: expected lookup:stack:<stack> or lookup:stack:<stack>:<output>",
        "b[0]: lookup:bogus:x: unknown lookup type 'bogus' (known: stack, parameter, secret, acm, and the region: prefix)",
        "c: lookup:parameter:a:b: expected lookup:parameter:<name> (names cannot contain ':')",
    ] {
        assert!(run.stderr.contains(line), "missing {line:?} in:\n{}", run.stderr);
    }
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn disabled_lookup_types_are_left_as_written() {
    let moto = Moto::shared();
    let p = unique("types");
    parameter(moto, REGION, &format!("/{p}/x"), "resolved", ParameterType::String);
    let project = project(
        moto,
        json!({"a": format!("lookup:parameter:/{p}/x"), "b": "lookup:stack:whatever:Out",
               "plugins": {"lookups": {"lookups": ["parameter"]}}}),
    );
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(config["a"], json!("resolved"));
    assert_eq!(config["b"], json!("lookup:stack:whatever:Out"));
    project.file("fink_dev.json", r#"{"plugins": {"lookups": {"lookups": ["nope"]}}}"#);
    project.fink(&["config", "-e", "dev"]).code(1).stderr_has("plugins.lookups.lookups[0]: ");
}

#[test]
fn lookups_are_fetched_with_the_fewest_calls() {
    let moto = Moto::start();
    let p = unique("batch");
    let mut parameters = serde_json::Map::new();
    for i in 0..25 {
        parameter(&moto, REGION, &format!("/{p}/p{i}"), &format!("v{i}"), ParameterType::String);
        // Every parameter twice: duplicates cost nothing.
        parameters.insert(format!("p{i}"), json!(format!("lookup:parameter:/{p}/p{i}")));
        parameters.insert(format!("again{i}"), json!(format!("lookup:parameter:/{p}/p{i}")));
    }
    for i in 0..3 {
        stack(&moto, REGION, &format!("{p}-s{i}"), &[("A", "1"), ("B", "2")]);
        stack(&moto, "us-east-1", &format!("{p}-s{i}"), &[("A", "east")]);
    }
    let mut stacks = serde_json::Map::new();
    for i in 0..3 {
        stacks.insert(format!("a{i}"), json!(format!("lookup:stack:{p}-s{i}:A")));
        stacks.insert(format!("b{i}"), json!(format!("lookup:stack:{p}-s{i}:B")));
        stacks.insert(format!("all{i}"), json!(format!("lookup:stack:{p}-s{i}")));
        stacks.insert(format!("east{i}"), json!(format!("lookup:region:us-east-1:stack:{p}-s{i}:A")));
    }
    certificate(&moto, REGION, &[&format!("{p}.example.com")], 30);
    let project = project(
        &moto,
        json!({"params": parameters, "stacks": stacks,
               "certs": [format!("lookup:acm:{p}.example.com"), format!("lookup:acm:{p}.example.com")]}),
    );
    let (run, calls) = moto.record(|| project.fink(&["config", "-e", "dev"]));
    let config = run.ok().json();
    assert_eq!(config["params"]["again24"], json!("v24"));
    assert_eq!(config["stacks"]["east2"], json!("east"));
    let count = |action: &str, region: &str| calls.iter().filter(|c| c.action == action && c.region == region).count();
    // One DescribeStacks per distinct (region, stack).
    assert_eq!(count("DescribeStacks", REGION), 3, "{calls:#?}");
    assert_eq!(count("DescribeStacks", "us-east-1"), 3, "{calls:#?}");
    // 25 distinct parameters: GetParameters in batches of 10.
    assert_eq!(count("GetParameters", REGION), 3, "{calls:#?}");
    assert!(calls.iter().all(|c| c.action != "GetParameter"), "{calls:#?}");
    // One ACM listing for the region.
    assert_eq!(count("ListCertificates", REGION), 1, "{calls:#?}");
    let expected = 3 + 3 + 3 + 1 + calls.iter().filter(|c| c.action == "DescribeCertificate").count();
    assert_eq!(calls.len(), expected, "no other calls: {calls:#?}");
}
