//! The cloud tool against moto through the real binary.

use fink_test_support::{block_on, Moto, REGION};
use serde_json::json;

use crate::aws::{stack, unique};
use crate::support::{Project, Run};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-lookups", "fink-plugin-cloud"];

fn template(extra_output: &str) -> String {
    json!({
        "Parameters": {"Env": {"Type": "String"}, "Size": {"Type": "Number", "Default": "1"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${AWS::StackName}-${Env}"}}}},
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}, "Extra": {"Value": extra_output}}
    })
    .to_string()
}

fn project(moto: &Moto, name: &str, params: serde_json::Value) -> Project {
    let project = Project::with(PLUGINS).aws(moto);
    project.file("cloudformation.json", &template("one"));
    project.file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": name}, "parameters": params}}).to_string());
    project
}

fn cfn(moto: &Moto) -> aws_sdk_cloudformation::Client {
    block_on(async { aws_sdk_cloudformation::Client::new(&moto.sdk_config(REGION).await) })
}

fn outputs(moto: &Moto, name: &str) -> Vec<(String, String)> {
    let client = cfn(moto);
    block_on(async {
        let out = client.describe_stacks().stack_name(name).send().await.expect("stack exists");
        let mut outputs: Vec<(String, String)> = out.stacks()[0]
            .outputs()
            .iter()
            .map(|o| (o.output_key().unwrap_or_default().into(), o.output_value().unwrap_or_default().into()))
            .collect();
        outputs.sort();
        outputs
    })
}

fn exists(moto: &Moto, name: &str) -> bool {
    let client = cfn(moto);
    block_on(async {
        match client.describe_stacks().stack_name(name).send().await {
            Ok(out) => out.stacks().iter().any(|s| s.stack_status().map(|x| x.as_str()) != Some("DELETE_COMPLETE")),
            Err(_) => false,
        }
    })
}

fn deploy(project: &Project) -> Run {
    project.fink(&["cloud", "deploy", "-e", "dev"])
}

#[test]
fn deploy_creates_then_updates_and_a_redeploy_without_changes_does_nothing() {
    let moto = Moto::shared();
    let name = unique("stack");
    let project = project(moto, &name, json!({"Env": "dev"}));
    let run = deploy(&project).ok().stdout_has("Outputs:").stdout_has("TopicArn");
    assert!(run.stderr.contains(&format!("creating stack '{name}'")), "{}", run.stderr);
    assert_eq!(outputs(moto, &name)[0], ("Extra".to_string(), "one".to_string()));

    // The default stack policy is set.
    let client = cfn(moto);
    let policy = block_on(async {
        client.get_stack_policy().stack_name(&name).send().await.unwrap().stack_policy_body().map(String::from)
    });
    assert!(policy.unwrap_or_default().contains("Update:Modify"));

    // Update: a new parameter value and template.
    project.file("cloudformation.json", &template("two"));
    project.file(
        "fink_dev.json",
        &json!({"cloud": {"stack": {"StackName": name}, "parameters": {"Env": "dev", "Size": 3}}}).to_string(),
    );
    let run = deploy(&project).ok();
    assert!(run.stdout.contains("Parameter changes:") && run.stdout.contains("| Size"), "{}", run.stdout);
    assert_eq!(outputs(moto, &name)[0], ("Extra".to_string(), "two".to_string()), "{}", run.stderr);

    // Nothing changed: no change set, no update.
    let run = deploy(&project).ok();
    assert!(run.stderr.contains(&format!("stack '{name}' is up to date: no changes to deploy")), "{}", run.stderr);
}

#[test]
fn the_outputs_reach_command_finalized_handlers_as_stack_output() {
    let moto = Moto::shared();
    let name = unique("outputs");
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-cloud", "fink-fixture-alpha"]).aws(moto);
    project.file("cloudformation.json", &template("seen"));
    project.file(
        "fink_dev.json",
        &json!({"cloud": {"stack": {"StackName": name}, "parameters": {"Env": "dev"}}}).to_string(),
    );
    deploy(&project).ok();
    let lines = project.recorded();
    let line =
        lines.iter().find(|l| l.starts_with("alpha command_finalized stack_output=")).expect("stack_output recorded");
    let outputs: serde_json::Value = serde_json::from_str(line.split_once('=').unwrap().1).unwrap();
    assert_eq!(outputs["Extra"], json!("seen"));
    assert!(outputs["TopicArn"].as_str().unwrap().starts_with("arn:aws:sns:"));
}

#[test]
fn a_redeploy_without_changes_makes_no_update_calls() {
    let moto = Moto::start();
    let name = unique("noop");
    let project = project(&moto, &name, json!({"Env": "dev"}));
    deploy(&project).ok();
    let (run, calls) = moto.record(|| deploy(&project));
    run.ok().stderr_has(&format!("stack '{name}' is up to date: no changes to deploy"));
    let actions: Vec<&str> =
        calls.iter().filter(|c| c.service == "cloudformation").map(|c| c.action.as_str()).collect();
    // The recording works and the stack was read: the comparison happened, against AWS.
    assert!(actions.contains(&"DescribeStacks") && actions.contains(&"GetTemplate"), "{actions:?}");
    for forbidden in ["UpdateStack", "CreateChangeSet", "ExecuteChangeSet", "CreateStack"] {
        assert!(!actions.contains(&forbidden), "{forbidden} called: {actions:?}");
    }
}

#[test]
fn parameters_can_come_from_lookups() {
    let moto = Moto::shared();
    let infra = unique("infra");
    stack(moto, REGION, &infra, &[("EnvName", "from-lookup")]);
    let name = unique("app");
    let project = project(moto, &name, json!({"Env": format!("lookup:stack:{infra}:EnvName")}));
    deploy(&project).ok();
    let client = cfn(moto);
    let params = block_on(async {
        let out = client.describe_stacks().stack_name(&name).send().await.unwrap();
        out.stacks()[0]
            .parameters()
            .iter()
            .map(|p| (p.parameter_key().unwrap().to_string(), p.parameter_value().unwrap().to_string()))
            .collect::<Vec<_>>()
    });
    assert!(params.contains(&("Env".to_string(), "from-lookup".to_string())), "{params:?}");
}

#[test]
fn missing_parameters_are_all_named_before_any_aws_call() {
    let moto = Moto::start();
    let project = Project::with(&[PLUGINS, &["fink-plugin-credentials"]].concat()).aws(&moto);
    project.file(
        "cloudformation.json",
        &json!({"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String"}}, "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}).to_string(),
    );
    project.file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": "x"}}}).to_string());
    let (run, calls) = moto.record(|| deploy(&project));
    run.code(1).stderr_has("cloudformation.json needs values for parameters A, B");
    // The credentials check did reach moto (so the recording works), CloudFormation did not.
    assert!(calls.iter().any(|c| c.service == "sts"), "{calls:?}");
    assert!(calls.iter().all(|c| c.service != "cloudformation"), "{calls:?}");
}

#[test]
fn preview_shows_changes_and_leaves_nothing_behind() {
    let moto = Moto::shared();
    let name = unique("preview");
    let project = project(moto, &name, json!({"Env": "dev"}));
    project.fink(&["cloud", "preview", "-e", "dev"]).ok().stdout_has("Changes:").stdout_has("Topic");
    assert!(!exists(moto, &name), "preview of a new stack must not leave a stack behind");
    deploy(&project).ok();
    project.file("cloudformation.json", &template("changed"));
    project.fink(&["cloud", "preview", "-e", "dev"]).ok();
    let client = cfn(moto);
    let sets = block_on(async {
        let out = client.list_change_sets().stack_name(&name).send().await.unwrap();
        out.summaries()
            .iter()
            // moto ignores the StackName filter and lists every change set of the region, including
            // those of tests running beside this one.
            .filter(|s| s.stack_name() == Some(name.as_str()))
            .filter(|s| s.execution_status() == Some(&aws_sdk_cloudformation::types::ExecutionStatus::Available))
            .count()
    });
    assert_eq!(sets, 0, "preview must delete its change set");
    assert_eq!(outputs(moto, &name)[0].1, "one", "preview must not change the stack");
}

#[test]
fn list_shows_stacks_as_table_and_json() {
    let moto = Moto::shared();
    let name = unique("listed");
    stack(moto, REGION, &name, &[("A", "1")]);
    let project = Project::with(PLUGINS).aws(moto);
    project.file("fink_dev.json", "{}");
    project.fink(&["cloud", "list", "-e", "dev"]).ok().stdout_has(&name).stdout_has("CREATE_COMPLETE");
    let run = project.fink(&["cloud", "list", "--json", "-e", "dev"]).ok();
    let list = run.json();
    assert!(
        list.as_array().unwrap().iter().any(|s| s["name"] == json!(name) && s["status"] == "CREATE_COMPLETE"),
        "{list}"
    );
}

#[test]
fn delete_needs_f_and_then_removes_the_stack() {
    let moto = Moto::shared();
    let name = unique("doomed");
    let project = project(moto, &name, json!({"Env": "dev"}));
    deploy(&project).ok();
    project
        .fink(&["cloud", "delete", "-e", "dev"])
        .code(1)
        .stderr_has(&format!("not deleting stack '{name}' without -f"));
    assert!(exists(moto, &name));
    project.fink(&["cloud", "delete", "-f", "-e", "dev"]).ok().stderr_has(&format!("stack '{name}' deleted"));
    assert!(!exists(moto, &name));
    project.fink(&["cloud", "delete", "-f", "-e", "dev"]).code(1).stderr_has(&format!("stack '{name}' does not exist"));
}

#[test]
fn generate_writes_the_rendered_template() {
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-cloud"]);
    project.file(
        "cloudformation.yaml",
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  Arn:\n    Value: !Ref Topic\n",
    );
    project.file("fink_dev.json", r#"{"cloud": {"stack": {"StackName": "gen"}}}"#);
    project.fink(&["cloud", "generate", "-e", "dev"]).ok().stdout_has("wrote gen-generated-cf-template.json");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.dir().join("gen-generated-cf-template.json")).unwrap())
            .unwrap();
    assert_eq!(written["Outputs"]["Arn"]["Value"], json!({"Ref": "Topic"}));
    let run = project.fink(&["cloud", "generate", "-", "-e", "dev"]).ok();
    assert_eq!(run.json(), written);
}

#[test]
fn dot_writes_the_resource_graph() {
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-cloud"]);
    project.file(
        "cloudformation.json",
        &json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Policy": {"Type": "AWS::S3::BucketPolicy", "DependsOn": "Bucket", "Properties": {"Bucket": {"Ref": "Bucket"}}}
        }})
        .to_string(),
    );
    project.file("fink_dev.json", r#"{"cloud": {"stack": {"StackName": "g"}}}"#);
    let run = project.fink(&["cloud", "dot", "-e", "dev"]).ok().stdout_has("wrote cloudformation.dot");
    let dot = std::fs::read_to_string(project.dir().join("cloudformation.dot")).unwrap();
    assert_eq!(
        dot,
        "digraph cloudformation {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  \
         \"Bucket\" [label=\"Bucket\\nAWS::S3::Bucket\"];\n  \"Policy\" [label=\"Policy\\nAWS::S3::BucketPolicy\"];\n  \
         \"Policy\" -> \"Bucket\" [label=\"DependsOn\"];\n  \"Policy\" -> \"Bucket\" [label=\"Ref\"];\n}\n"
    );
    let has_dot = std::process::Command::new("dot").arg("-V").output().is_ok();
    assert_eq!(run.stdout.contains("wrote cloudformation.svg"), has_dot, "{}", run.stdout);
}

#[test]
fn a_generator_command_makes_the_template_and_its_failure_shows_stderr() {
    let moto = Moto::shared();
    let name = unique("gen");
    let project = Project::with(PLUGINS).aws(moto);
    project.file(
        "cloudformation.py",
        "import json, sys\nctx = json.load(sys.stdin)\nprint(json.dumps({'Resources': {'T': {'Type': 'AWS::SNS::Topic'}}, \
         'Outputs': {'Env': {'Value': ctx['context']['env']}, 'Name': {'Value': ctx['config']['cloud']['stack']['StackName']}}}))\n",
    );
    project.file(
        "fink_dev.json",
        &json!({"cloud": {"stack": {"StackName": name, "generator": "python3 cloudformation.py"}}}).to_string(),
    );
    deploy(&project).ok();
    assert_eq!(outputs(moto, &name), vec![("Env".to_string(), "dev".to_string()), ("Name".to_string(), name.clone())]);
    project.file("cloudformation.py", "import sys\nsys.stderr.write('troposphere exploded\\n')\nsys.exit(4)\n");
    deploy(&project)
        .code(1)
        .stderr_has("template generator `python3 cloudformation.py` failed with exit code 4:")
        .stderr_has("troposphere exploded");
}

#[test]
fn big_templates_go_through_the_artifact_bucket() {
    let moto = Moto::shared();
    let name = unique("big");
    let bucket = unique("bucket");
    crate::aws::bucket(moto, &bucket);
    let padding = "x".repeat(60_000);
    let big = json!({"Description": "big", "Metadata": {"Padding": padding},
                     "Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"Big": {"Value": "yes"}}})
    .to_string();
    let project = Project::with(PLUGINS).aws(moto);
    project.file("cloudformation.json", &big);
    project.file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": name}}}).to_string());
    deploy(&project)
        .code(1)
        .stderr_has("more than CloudFormation's inline limit of 51200")
        .stderr_has("artifactBucket");
    project
        .file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": name, "artifactBucket": bucket}}}).to_string());
    deploy(&project).ok().stderr_has(&format!("template uploaded to s3://{bucket}/fink/cloud/{name}/"));
    assert_eq!(outputs(moto, &name), vec![("Big".to_string(), "yes".to_string())]);
}

#[test]
fn a_stack_left_in_review_in_progress_is_replaced_on_deploy() {
    let moto = Moto::shared();
    let name = unique("review");
    let client = cfn(moto);
    block_on(async {
        client
            .create_change_set()
            .stack_name(&name)
            .change_set_name("leftover")
            .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
            .template_body(template("one"))
            .send()
            .await
            .unwrap();
    });
    let project = project(moto, &name, json!({"Env": "dev"}));
    deploy(&project).ok().stderr_has("REVIEW_IN_PROGRESS");
    assert_eq!(outputs(moto, &name)[0], ("Extra".to_string(), "one".to_string()));
}

#[test]
fn a_policy_only_change_is_applied_and_secret_parameters_are_masked_in_the_diff() {
    let moto = Moto::shared();
    let name = unique("policy");
    let secret_name = unique("pw");
    crate::aws::secret(moto, REGION, &secret_name, "first-s3cr3t-value");
    let project = project(moto, &name, json!({"Env": format!("lookup:secret:{secret_name}")}));
    deploy(&project).ok();

    let policy = r#"{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}"#;
    project.file("policy.json", policy);
    project.file(
        "fink_dev.json",
        &json!({"cloud": {"stack": {"StackName": name}, "stackPolicy": {"file": "policy.json"},
                          "parameters": {"Env": format!("lookup:secret:{secret_name}")}}})
        .to_string(),
    );
    deploy(&project).ok().stderr_has(&format!("stack policy of '{name}' updated"));
    let client = cfn(moto);
    let applied = block_on(async {
        client.get_stack_policy().stack_name(&name).send().await.unwrap().stack_policy_body().map(String::from)
    });
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&applied.unwrap()).unwrap(),
        serde_json::from_str::<serde_json::Value>(policy).unwrap()
    );

    // A new secret value: the diff shows the change without either value.
    block_on(async {
        let config = moto.sdk_config(REGION).await;
        aws_sdk_secretsmanager::Client::new(&config)
            .put_secret_value()
            .secret_id(&secret_name)
            .secret_string("second-s3cr3t-value")
            .send()
            .await
            .unwrap();
    });
    let run = deploy(&project).ok().stdout_has("Parameter changes:");
    // The diff (the topic keeps its first name, so only the diff is checked in stdout).
    let diff = run.stdout.split("Changes:").next().unwrap_or_default();
    assert!(diff.contains("| Env       | **** | **** |"), "{diff}");
    assert!(!diff.contains("s3cr3t") && !run.stderr.contains("s3cr3t"), "{}\n{}", run.stdout, run.stderr);
}

fn no_echo_template(pw_default: Option<&str>) -> String {
    let mut pw = json!({"Type": "String", "NoEcho": true});
    if let Some(default) = pw_default {
        pw["Default"] = json!(default);
    }
    json!({
        "Parameters": {"Env": {"Type": "String"}, "Pw": pw},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"Env": {"Value": {"Ref": "Env"}}}
    })
    .to_string()
}

/// The change sets of `name` (moto ignores ListChangeSets' StackName filter).
fn change_sets(moto: &Moto, name: &str) -> Vec<String> {
    let client = cfn(moto);
    block_on(async {
        let out = client.list_change_sets().stack_name(name).send().await.unwrap();
        out.summaries()
            .iter()
            .filter(|s| s.stack_name() == Some(name))
            .map(|s| format!("{} {:?}", s.change_set_name().unwrap_or_default(), s.status()))
            .collect()
    })
}

fn cloudformation_actions(calls: &[fink_test_support::Call]) -> Vec<&str> {
    calls.iter().filter(|c| c.service == "cloudformation").map(|c| c.action.as_str()).collect()
}

#[test]
fn an_unchanged_stack_with_a_no_echo_parameter_is_up_to_date() {
    let moto = Moto::start();
    let name = unique("noecho");
    let project = Project::with(PLUGINS).aws(&moto);
    project.file("cloudformation.json", &no_echo_template(None));
    let config =
        |env: &str| json!({"cloud": {"stack": {"StackName": name}, "parameters": {"Env": env, "Pw": "s3cr3t-pw"}}});
    project.file("fink_dev.json", &config("dev").to_string());
    deploy(&project).ok().stderr_has(&format!("creating stack '{name}'"));

    // Unchanged: CloudFormation decides (the NoEcho value can't be compared locally) and says
    // "No updates are to be performed."; that is up to date, not a failure.
    let (run, calls) = moto.record(|| deploy(&project));
    let run = run.ok().stderr_has(&format!("stack '{name}' is up to date: no changes to deploy"));
    assert!(!run.stdout.contains("Parameter changes") && !run.stdout.contains("Pw"), "{}", run.stdout);
    assert!(!run.stderr.contains("ValidationError") && !run.stdout.contains("s3cr3t"), "{run:?}");
    let actions = cloudformation_actions(&calls);
    assert!(actions.contains(&"CreateChangeSet"), "{actions:?}");
    for forbidden in ["UpdateStack", "ExecuteChangeSet", "CreateStack"] {
        assert!(!actions.contains(&forbidden), "{forbidden} called: {actions:?}");
    }
    assert_eq!(change_sets(&moto, &name), Vec::<String>::new(), "no change set may be left behind");

    // preview says the same, and leaves nothing behind either.
    let run = project.fink(&["cloud", "preview", "-e", "dev"]).ok().stdout_has(&format!("stack '{name}': no changes"));
    assert!(!run.stdout.contains("Parameter changes"), "{}", run.stdout);
    assert_eq!(change_sets(&moto, &name), Vec::<String>::new());

    // A real change is listed, the NoEcho parameter still isn't.
    project.file("fink_dev.json", &config("stage").to_string());
    let run = deploy(&project).ok().stdout_has("Parameter changes:").stderr_has(&format!("updating stack '{name}'"));
    let diff = run.stdout.split("Changes:").next().unwrap_or_default();
    assert!(diff.contains("| Env       | dev | stage |"), "{diff}");
    assert!(!diff.contains("Pw"), "{diff}");
    assert_eq!(outputs(&moto, &name), vec![("Env".to_string(), "stage".to_string())]);
}

#[test]
fn an_empty_change_set_is_up_to_date_and_deleted() {
    let moto = Moto::start();
    let name = unique("emptyset");
    let project = Project::with(PLUGINS).aws(&moto);
    // The NoEcho parameter keeps its default and nothing is sent: CloudFormation answers with a
    // change set that fails with "The submitted information didn't contain changes".
    project.file(
        "cloudformation.json",
        &json!({"Parameters": {"Pw": {"Type": "String", "NoEcho": true, "Default": "d3fault-pw"}},
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
        .to_string(),
    );
    project.file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": name}}}).to_string());
    deploy(&project).ok();
    let (run, calls) = moto.record(|| deploy(&project));
    let run = run.ok().stderr_has(&format!("stack '{name}' is up to date: no changes to deploy"));
    assert!(!run.stdout.contains("Parameter changes"), "{}", run.stdout);
    let actions = cloudformation_actions(&calls);
    assert!(actions.contains(&"CreateChangeSet") && actions.contains(&"DeleteChangeSet"), "{actions:?}");
    assert!(!actions.contains(&"UpdateStack"), "{actions:?}");
    assert_eq!(change_sets(&moto, &name), Vec::<String>::new(), "the empty change set must be deleted");
}

#[test]
fn an_unreachable_endpoint_is_named_in_one_line() {
    // Port 1: nothing listens there, and unprivileged tests can't start anything on it.
    let endpoint = "http://127.0.0.1:1";
    let aws = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", REGION),
    ];
    // The cloud tool's own call, and the credentials check every AWS command starts with.
    for (plugins, source) in [
        (PLUGINS, "error: cloud (cloud deploy): "),
        (
            &["fink-plugin-config-reader", "fink-plugin-credentials", "fink-plugin-cloud"][..],
            "error: credentials (check_credentials_init): ",
        ),
    ] {
        let mut project = Project::with(plugins);
        for (k, v) in aws {
            project = project.env(k, v);
        }
        project.file("cloudformation.json", &template("one"));
        project.file(
            "fink_dev.json",
            &json!({"cloud": {"stack": {"StackName": "unreached"}, "parameters": {"Env": "dev"}}}).to_string(),
        );
        let run = deploy(&project).code(1);
        let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line expected:\n{}", run.stderr);
        let line = lines[0];
        assert!(line.starts_with(&format!("{source}cannot reach AWS at {endpoint} (AWS_ENDPOINT_URL): ")), "{line}");
        assert!(line.to_lowercase().contains("connection refused"), "{line}");
        assert!(!run.stderr.contains("panicked") && !run.stderr.contains("backtrace"), "{}", run.stderr);
    }
}

#[test]
fn gcdts_kumo_and_a_link_named_cloud_run_the_cloud_tool() {
    let moto = Moto::shared();
    let name = unique("kumo");
    let project = project(moto, &name, json!({"Env": "dev"}));
    project
        .fink(&["kumo", "deploy", "-e", "dev"])
        .ok()
        .stderr_has("`kumo` is an old name of the cloud tool and will go away: use `fink cloud`");
    assert!(exists(moto, &name));
    project.fink(&["version"]).ok().stdout_has("  cloud (plugin cloud 0.1.0; also kumo)");

    // `cloud deploy`, as the fink guide writes it: fink run through a link named cloud.
    let link = project.home().join("bin/cloud");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fink"), &link).unwrap();
    let run = Run::from(project.command_as(&link, &["list", "-e", "dev"]).output().unwrap()).ok();
    assert!(run.stdout.contains(&name), "{}", run.stdout);
    assert!(!run.stderr.contains("old name"), "{}", run.stderr);
}

#[test]
fn a_generator_filling_stderr_before_its_template_and_one_over_its_time_limit() {
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-cloud"]);
    // 2 MiB on stderr before it reads its input (over 200 kB: more than a pipe holds), then the
    // template; and a background process that keeps its stdout open.
    project.file(
        "gen.sh",
        "head -c 2097152 /dev/zero | tr '\\0' 'e' >&2\nbytes=$(wc -c | tr -d ' ')\nsleep 300 & echo $! > bg.pid\n\
         echo \"{\\\"Resources\\\": {\\\"Topic\\\": {\\\"Type\\\": \\\"AWS::SNS::Topic\\\"}}, \\\"Outputs\\\": {\\\"Bytes\\\": {\\\"Value\\\": \\\"$bytes\\\"}}}\"\n",
    );
    let config =
        json!({"padding": "p".repeat(200_000), "cloud": {"stack": {"StackName": "gen", "generator": "sh gen.sh"}}});
    project.file("fink_dev.json", &config.to_string());
    let started = std::time::Instant::now();
    let run = project.fink_within(std::time::Duration::from_secs(60), &["cloud", "generate", "-", "-e", "dev"]);
    let background = std::fs::read_to_string(project.dir().join("bg.pid")).unwrap_or_default();
    let _ = std::process::Command::new("kill").arg(background.trim()).status();
    let run = run.ok();
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
    let template = run.json();
    assert_eq!(template["Resources"]["Topic"]["Type"], "AWS::SNS::Topic");
    let bytes: usize = template["Outputs"]["Bytes"]["Value"].as_str().unwrap().parse().unwrap();
    assert!(bytes > 200_000, "the generator read all its input: {bytes}");

    project.file("gen.sh", "sleep 300 & echo $! > child.pid\nsleep 300\n");
    let started = std::time::Instant::now();
    let project = project.env("FINK_GENERATOR_TIMEOUT", "1");
    let run = project
        .fink_within(std::time::Duration::from_secs(60), &["cloud", "generate", "-", "-e", "dev"])
        .code(1)
        .stderr_has("template generator `sh gen.sh` timed out after 1 s: fink ended it")
        .stderr_has("FINK_GENERATOR_TIMEOUT sets the limit");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
    let pid = std::fs::read_to_string(project.dir().join("child.pid")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(stat.is_empty() || stat.contains(") Z"), "the generator's child {pid} still runs:\n{}", run.stderr);
}

#[test]
fn generate_and_dot_replace_their_files_whole_or_not_at_all() {
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-cloud"]);
    project.file("cloudformation.json", r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#);
    project.file("fink_dev.json", r#"{"cloud": {"stack": {"StackName": "whole"}}}"#);
    let generated = project.dir().join("whole-generated-cf-template.json");
    // A longer file is replaced whole: nothing of it is left after the new, shorter text.
    std::fs::write(&generated, format!("{{\"old\": \"{}\"}}\n", "o".repeat(5000))).unwrap();
    project.fink(&["cloud", "generate", "-e", "dev"]).ok();
    let small = std::fs::read_to_string(&generated).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&small).unwrap()["Resources"]["Topic"]["Type"],
        "AWS::SNS::Topic"
    );
    project.fink(&["cloud", "dot", "-e", "dev"]).ok();
    let dot = std::fs::read_to_string(project.dir().join("cloudformation.dot")).unwrap();

    // A template too large for the file system's limit: the old files stay, the error names the file.
    let topics: serde_json::Map<String, serde_json::Value> =
        (0..100).map(|i| (format!("Topic{i:03}"), json!({"Type": "AWS::SNS::Topic"}))).collect();
    project.file("cloudformation.json", &json!({"Resources": topics}).to_string());
    let run = crate::lambda::fink_with_small_files(&project, &["cloud", "generate", "-e", "dev"]);
    run.code(1).stderr_has(&format!("cannot write {}: ", generated.display()));
    assert_eq!(std::fs::read_to_string(&generated).unwrap(), small, "the old template is intact");
    let run = crate::lambda::fink_with_small_files(&project, &["cloud", "dot", "-e", "dev"]);
    run.code(1).stderr_has(&format!("cannot write {}: ", project.dir().join("cloudformation.dot").display()));
    assert_eq!(std::fs::read_to_string(project.dir().join("cloudformation.dot")).unwrap(), dot);
    let left: Vec<String> = std::fs::read_dir(project.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "no temporary file is left: {left:?}");
}
