//! gcdt and Python-fink projects run unchanged (warnings allowed): gcdt's tool section names,
//! kumo's deprecated `cloudformation` form deployed through the artifact bucket, the profile in
//! `AWS_DEFAULT_PROFILE` used by every AWS plugin, and secrets written by the real `credstash`
//! package read by `lookup:secret`.

use std::path::PathBuf;
use std::process::Command;

use fink_test_support::{block_on, Moto, REGION};
use serde_json::json;

use crate::aws::{stack, unique};
use crate::support::{repo_root, Project, Run};

const CLOUD: &[&str] = &["fink-plugin-config-reader", "fink-plugin-lookups", "fink-plugin-cloud"];
const LOOKUPS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-lookups"];

#[test]
fn a_gcdt_kumo_project_with_the_cloudformation_form_deploys_through_the_artifact_bucket() {
    let moto = Moto::shared();
    let name = unique("kumo");
    let bucket = unique("artifacts").to_lowercase();
    crate::aws::bucket(moto, &bucket);
    let project = Project::with(CLOUD).aws(moto);
    project.file(
        "stack.json",
        &json!({
            "Parameters": {"Env": {"Type": "String"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"Env": {"Value": {"Ref": "Env"}}}
        })
        .to_string(),
    );
    // As gcdt's docs wrote it: the stack keys and the parameters side by side.
    project.file(
        "gcdt_dev.json",
        &json!({"kumo": {"cloudformation": {
            "StackName": name, "TemplateBody": "stack.json", "artifactBucket": bucket, "Env": "dev"
        }}})
        .to_string(),
    );
    let run = project.fink(&["cloud", "deploy", "-e", "dev"]).ok();
    for line in [
        "warning: config-reader: gcdt_dev.json: 'kumo' is read as 'cloud' (its old name); rename it to 'cloud'",
        "warning: config-reader: gcdt_dev.json: 'kumo.cloudformation' is deprecated; read as 'kumo.stack' \
         (StackName, TemplateBody, artifactBucket, RoleARN) and 'kumo.parameters' (the other keys)",
    ] {
        assert!(run.stderr.lines().any(|l| l == line), "stderr lacks {line:?}:\n{}", run.stderr);
    }
    // A small template goes through the bucket too, as gcdt sent it (TemplateURL).
    assert!(run.stderr.contains(&format!("template uploaded to s3://{bucket}/fink/cloud/{name}/")), "{run:#?}");
    assert!(run.stdout.contains("Outputs:"), "{run:#?}");
    let outputs = block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config(REGION).await);
        let out = cfn.describe_stacks().stack_name(&name).send().await.expect("the stack exists");
        out.stacks()[0].outputs().iter().map(|o| o.output_value().unwrap_or_default().to_string()).collect::<Vec<_>>()
    });
    assert_eq!(outputs, ["dev"]);
    // As a gcdt user types it: `kumo deploy` (fink's old-name alias) finds nothing to change.
    project
        .fink(&["kumo", "deploy", "-e", "dev"])
        .ok()
        .stderr_has("`kumo` is an old name of the cloud tool")
        .stderr_has(&format!("stack '{name}' is up to date"));
    // `fink config` shows the converted section.
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(config["cloud"]["parameters"], json!({"Env": "dev"}));
    assert_eq!(config["cloud"]["stack"]["StackName"], json!(name));
    assert!(config.get("kumo").is_none(), "{config}");
}

#[test]
fn ramuda_tenkai_and_yugen_are_read_as_lambda_code_and_api() {
    let project = Project::with(&["fink-plugin-config-reader"]);
    project.file(
        "gcdt_dev.yaml",
        "ramuda:\n  lambda:\n    name: fn\ntenkai:\n  codedeploy: {}\nyugen:\n  api:\n    name: x\n",
    );
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert_eq!(
        run.json(),
        json!({"lambda": {"lambda": {"name": "fn"}}, "code": {"codedeploy": {}}, "api": {"api": {"name": "x"}}, "ignore": []})
    );
    for (old, new) in [("ramuda", "lambda"), ("tenkai", "code"), ("yugen", "api")] {
        let line = format!(
            "warning: config-reader: gcdt_dev.yaml: '{old}' is read as '{new}' (its old name); rename it to '{new}'"
        );
        assert_eq!(run.stderr.lines().filter(|l| *l == line).count(), 1, "one warning each:\n{}", run.stderr);
    }
}

#[test]
fn old_and_new_name_in_one_file_is_an_error_naming_both() {
    let project = Project::with(&["fink-plugin-config-reader"]);
    project.file("gcdt_dev.json", r#"{"kumo": {"stack": {"StackName": "a"}}, "cloud": {}}"#);
    let run = project.fink(&["config", "-e", "dev"]).code(1);
    let line = "error: config-reader (config_read_init): gcdt_dev.json: both 'kumo' and 'cloud' are given; \
                keep 'cloud' ('kumo' is its old name)";
    assert!(run.stderr.lines().any(|l| l == line), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    project.file("gcdt_dev.json", r#"{"kumo": {"cloudformation": {"StackName": "a"}, "stack": {}}}"#);
    project
        .fink(&["config", "-e", "dev"])
        .code(1)
        .stderr_has("gcdt_dev.json: both 'kumo.cloudformation' (deprecated) and 'kumo.stack' are given");
}

#[test]
fn aws_default_profile_picks_the_profile_for_every_aws_plugin() {
    let moto = Moto::shared();
    let p = unique("profile");
    // The output exists only in the region the profile names.
    stack(moto, "eu-central-1", &format!("{p}-infra"), &[("VpcId", "vpc-central")]);
    let project = profile_project(moto, LOOKUPS);
    project.file("fink_dev.json", &json!({"app": {"vpc": format!("lookup:stack:{p}-infra:VpcId")}}).to_string());
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(config["app"]["vpc"], json!("vpc-central"));
}

/// A project whose AWS config and credentials files (pointed at by `AWS_CONFIG_FILE` and
/// `AWS_SHARED_CREDENTIALS_FILE`) hold a `default` profile in us-east-1 and a `migrated` one in
/// eu-central-1, which `AWS_DEFAULT_PROFILE` names; no keys or region in the environment.
pub fn profile_project(moto: &Moto, plugins: &[&str]) -> Project {
    let project = Project::with(plugins);
    let config = project.file(
        "aws/config",
        "[default]\nregion = us-east-1\n\n[profile migrated]\nregion = eu-central-1\n\n[profile other]\nregion = ap-south-1\n",
    );
    let credentials = project.file(
        "aws/credentials",
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = x\n\n\
         [migrated]\naws_access_key_id = AKIDMIGRATED\naws_secret_access_key = y\n\n\
         [other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = z\n",
    );
    project
        .env("AWS_ENDPOINT_URL", &moto.endpoint())
        .env("AWS_CONFIG_FILE", config.to_str().unwrap())
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap())
        .env("AWS_DEFAULT_PROFILE", "migrated")
}

/// A credstash store in moto: its table and KMS key, and `credstash put` through the real package.
pub(crate) struct Credstash<'m> {
    moto: &'m Moto,
    table: String,
    alias: String,
}

impl<'m> Credstash<'m> {
    /// `credstash setup` for `table`, and a KMS key under a fresh alias.
    pub(crate) fn setup(moto: &'m Moto, table: &str) -> Self {
        let alias = format!("alias/{}", unique("credstash"));
        python(
            moto,
            "import boto3, sys\n\
             kms = boto3.client('kms')\n\
             key = kms.create_key()['KeyMetadata']['KeyId']\n\
             kms.create_alias(AliasName=sys.argv[1], TargetKeyId=key)\n",
            &[&alias],
        );
        let store = Credstash { moto, table: table.to_string(), alias };
        store.cli(&["setup"]);
        store
    }

    /// `credstash put -a` (a new version each time).
    pub(crate) fn put(&self, name: &str, value: &str) {
        self.cli(&["put", "-a", "-k", &self.alias, name, value]);
    }

    fn cli(&self, args: &[&str]) {
        let out = moto_env(Command::new(venv("credstash")), self.moto)
            // The command line writes a log file; not into the source tree.
            .arg("--log-file")
            .arg(std::env::temp_dir().join("fink-e2e-credstash.log"))
            .args(["-r", REGION, "-t", &self.table])
            .args(args)
            .output()
            .expect("credstash runs");
        assert!(out.status.success(), "credstash {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Flips one bit of the latest version's ciphertext, behind credstash's back.
    fn tamper(&self, name: &str) {
        python(
            self.moto,
            "import base64, boto3, sys\n\
             from boto3.dynamodb.conditions import Key\n\
             table = boto3.resource('dynamodb').Table(sys.argv[1])\n\
             item = table.query(KeyConditionExpression=Key('name').eq(sys.argv[2]), ScanIndexForward=False, Limit=1)['Items'][0]\n\
             data = bytearray(base64.b64decode(item['contents']))\n\
             data[0] ^= 1\n\
             table.update_item(Key={'name': item['name'], 'version': item['version']},\n\
                 UpdateExpression='SET contents = :c', ExpressionAttributeValues={':c': base64.b64encode(bytes(data)).decode()})\n",
            &[&self.table, name],
        );
    }
}

fn venv(program: &str) -> PathBuf {
    repo_root().join(".venv/bin").join(program)
}

fn moto_env(mut command: Command, moto: &Moto) -> Command {
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    command.env_remove("AWS_PROFILE").env_remove("AWS_DEFAULT_PROFILE");
    command
}

pub(crate) fn python(moto: &Moto, script: &str, args: &[&str]) {
    let out = moto_env(Command::new(venv("python")), moto).arg("-c").arg(script).args(args).output().expect("python");
    assert!(out.status.success(), "python: {}", String::from_utf8_lossy(&out.stderr));
}

fn credstash_project(moto: &Moto, table: Option<&str>, values: serde_json::Value) -> Project {
    let mut lookups = json!({"secretStore": "credstash"});
    if let Some(table) = table {
        lookups["credstashTable"] = json!(table);
    }
    let project = Project::with(LOOKUPS).aws(moto);
    project.file("gcdt_dev.json", &json!({"app": values, "plugins": {"lookups": lookups}}).to_string());
    project
}

fn config(project: &Project) -> Run {
    project.fink(&["config", "-e", "dev", "--show-secrets"])
}

#[test]
fn credstash_secrets_are_read_at_their_latest_version_and_masked() {
    let moto = Moto::shared();
    let p = unique("cs");
    let table = format!("{p}-store");
    let store = Credstash::setup(moto, &table);
    store.put(&format!("{p}.db.password"), "old-password");
    store.put(&format!("{p}.db.password"), "pässwörd-2");
    store.put(&format!("{p}.slack.webhook"), "https://hooks.example/T0");
    let project = credstash_project(
        moto,
        Some(&table),
        json!({
            "password": format!("lookup:secret:{p}.db.password"),
            "hook": format!("lookup:secret:{p}.slack.webhook:CONTINUE_IF_NOT_FOUND"),
            "gone": format!("lookup:secret:{p}.nothing:CONTINUE_IF_NOT_FOUND"),
        }),
    );
    let run = config(&project).ok();
    assert_eq!(
        run.json()["app"],
        json!({"password": "pässwörd-2", "hook": "https://hooks.example/T0", "gone": ""}),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(&format!(
            "app.gone: lookup:secret:{p}.nothing:CONTINUE_IF_NOT_FOUND: secret '{p}.nothing' not found in \
             credstash table '{table}' in {REGION}; using an empty value"
        )),
        "{}",
        run.stderr
    );
    // Secret values: masked unless asked for.
    let masked = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(masked["app"]["password"], json!("****"));
}

#[test]
fn a_missing_or_tampered_credstash_secret_is_an_error_naming_it() {
    let moto = Moto::shared();
    let p = unique("cs");
    let table = format!("{p}-store");
    let store = Credstash::setup(moto, &table);
    let missing = credstash_project(moto, Some(&table), json!({"x": format!("lookup:secret:{p}.absent")}));
    let run = config(&missing).code(1);
    let line = format!(
        "error: lookups (lookup_init): app.x: lookup:secret:{p}.absent: secret '{p}.absent' not found in \
         credstash table '{table}' in {REGION}"
    );
    assert!(run.stderr.lines().any(|l| l == line), "{}", run.stderr);

    store.put(&format!("{p}.token"), "t0ken");
    store.tamper(&format!("{p}.token"));
    let project = credstash_project(moto, Some(&table), json!({"token": format!("lookup:secret:{p}.token")}));
    let run = config(&project).code(1);
    let line = format!(
        "error: lookups (lookup_init): app.token: lookup:secret:{p}.token: credstash secret '{p}.token' in table \
         '{table}' fails its integrity check (version 1): the HMAC does not match, so the stored secret was changed \
         or damaged; store it again with `credstash put`"
    );
    assert!(run.stderr.lines().any(|l| l == line), "{}", run.stderr);
    assert!(!run.stdout.contains("t0ken") && !run.stderr.contains("panicked"), "{run:#?}");

    // A table that does not exist says how to make one.
    let project = credstash_project(moto, Some(&format!("{p}-nowhere")), json!({"y": "lookup:secret:a"}));
    config(&project).code(1).stderr_has(&format!("credstash table '{p}-nowhere' does not exist"));
    // And a store fink doesn't know is named.
    let project = Project::with(LOOKUPS).aws(moto);
    project.file(
        "fink_dev.json",
        r#"{"app": {"y": "lookup:secret:a"}, "plugins": {"lookups": {"secretStore": "vault"}}}"#,
    );
    config(&project)
        .code(1)
        .stderr_has("plugins.lookups.secretStore: 'vault' is not a secret store; use secretsmanager or credstash");
}

#[test]
fn credstash_reads_the_credential_store_table_by_default() {
    let moto = Moto::shared();
    let p = unique("cs");
    let store = Credstash::setup(moto, "credential-store");
    store.put(&format!("{p}.datadog.api_key"), "dd-key");
    let project = credstash_project(moto, None, json!({"key": format!("lookup:secret:{p}.datadog.api_key")}));
    assert_eq!(config(&project).ok().json()["app"]["key"], json!("dd-key"));
}

#[test]
fn a_gcdt_env_py_config_with_kumo_is_read_as_cloud() {
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-hooks"]);
    project.file(
        "gcdt_dev.py",
        "def generate_config():\n    return {'kumo': {'cloudformation': {'StackName': 'py-app', 'Size': 3}}}\n",
    );
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert_eq!(run.json()["cloud"], json!({"stack": {"StackName": "py-app"}, "parameters": {"Size": 3}}));
    run.stderr_has("gcdt_dev.py: 'kumo' is read as 'cloud'")
        .stderr_has("gcdt_dev.py: 'kumo.cloudformation' is deprecated");
}
