//! Packaging through the real binary against moto: local artifacts and nested templates uploaded
//! to the artifact bucket (content-addressed, never twice), Rain's directives, `generate
//! --no-upload`, `dot` with nested stacks, and every error before anything is uploaded.

use std::time::Duration;

use base64::Engine as _;
use fink_test_support::{block_on, Moto, REGION};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::aws::unique;
use crate::support::{Project, Run};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-lookups", "fink-plugin-cloud"];
const LIMIT: Duration = Duration::from_secs(180);

fn project(moto: &Moto, name: &str, bucket: Option<&str>) -> Project {
    let project = Project::with(PLUGINS).aws(moto);
    let mut stack = json!({"StackName": name});
    if let Some(bucket) = bucket {
        stack["artifactBucket"] = json!(bucket);
    }
    project.file("fink_dev.json", &json!({"cloud": {"stack": stack}}).to_string());
    project
}

fn fink(project: &Project, args: &[&str]) -> Run {
    let mut all = vec!["cloud"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-e", "dev"]);
    project.fink_within(LIMIT, &all)
}

/// Every object in the bucket: key, size, last modified (ms).
fn objects(moto: &Moto, bucket: &str) -> Vec<(String, i64, i64)> {
    block_on(async {
        let s3 = aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await);
        let out = s3.list_objects_v2().bucket(bucket).send().await.expect("list objects");
        let mut all: Vec<(String, i64, i64)> = out
            .contents()
            .iter()
            .map(|o| {
                let modified = o.last_modified().map(|t| t.to_millis().unwrap_or_default()).unwrap_or_default();
                (o.key().unwrap_or_default().to_string(), o.size().unwrap_or_default(), modified)
            })
            .collect();
        all.sort();
        all
    })
}

/// The packaged artifacts (the root template itself goes to `fink/cloud/<stack>/`).
fn artifacts(moto: &Moto, bucket: &str) -> Vec<(String, i64, i64)> {
    objects(moto, bucket).into_iter().filter(|(k, _, _)| k.starts_with("fink/cloud/artifacts/")).collect()
}

fn cfn(moto: &Moto) -> aws_sdk_cloudformation::Client {
    block_on(async { aws_sdk_cloudformation::Client::new(&moto.sdk_config(REGION).await) })
}

/// The stack's outputs, sorted.
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

fn output(moto: &Moto, name: &str, key: &str) -> String {
    outputs(moto, name).into_iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or_default()
}

/// The names of the stacks whose name starts with `prefix` and that are not deleted.
fn stacks(moto: &Moto, prefix: &str) -> Vec<String> {
    let client = cfn(moto);
    block_on(async {
        let out = client.describe_stacks().send().await.expect("describe stacks");
        out.stacks()
            .iter()
            .filter(|s| s.stack_status().map(|x| x.as_str()) != Some("DELETE_COMPLETE"))
            .filter_map(|s| s.stack_name())
            .filter(|n| n.starts_with(prefix))
            .map(String::from)
            .collect()
    })
}

fn bucket(moto: &Moto) -> String {
    let bucket = unique("artifacts");
    crate::aws::bucket(moto, &bucket);
    bucket
}

const PARENT: &str = "\
Resources:
  App:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: stacks/app.yaml
      Parameters:
        Greeting: hello
Outputs:
  FunctionArn:
    Value: !GetAtt App.Outputs.FunctionArn
";

const CHILD: &str = "\
Parameters:
  Greeting:
    Type: String
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: !GetAtt Role.Arn
      Code: ../src
Outputs:
  FunctionArn:
    Value: !GetAtt Function.Arn
";

fn write_app(project: &Project) {
    project.file("cloudformation.yaml", PARENT);
    project.file("stacks/app.yaml", CHILD);
    project.file("src/app.py", "def handler(event, context):\n    return 'hi'\n");
    project.file("src/lib/util.py", "X = 1\n");
}

/// The function's CodeSha256 as Lambda reports it.
fn code_sha256(moto: &Moto, arn: &str) -> String {
    block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&moto.sdk_config(REGION).await);
        let out = lambda.get_function().function_name(arn).send().await.expect("function exists");
        out.configuration().and_then(|c| c.code_sha256()).unwrap_or_default().to_string()
    })
}

#[test]
fn a_parent_with_a_local_nested_template_and_its_code_deploys_and_a_redeploy_uploads_nothing() {
    let moto = Moto::shared();
    let name = unique("nested");
    let bucket = bucket(moto);
    let project = project(moto, &name, Some(&bucket));
    write_app(&project);
    let run = fink(&project, &["deploy"]).ok();
    assert!(run.stderr.contains("packaged: 2 uploaded"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("uploaded src/ (zipped) to s3://{bucket}/fink/cloud/artifacts/")));
    assert!(run
        .stderr
        .contains(&format!("uploaded stacks/app.yaml (packaged) to s3://{bucket}/fink/cloud/artifacts/")));
    // The nested stack's own events, under its logical id.
    assert!(run.stderr.contains(&format!("App/{name}-App-")), "{}", run.stderr);

    // In S3: the zip of src/ and the packaged child, by their content's SHA-256.
    let listed = artifacts(moto, &bucket);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let zip_key = listed.iter().find(|(k, _, _)| k.ends_with(".zip")).expect("a zip").0.clone();
    let zip = crate::aws::object(moto, &bucket, &zip_key);
    let hex: String = Sha256::digest(&zip).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(zip_key, format!("fink/cloud/artifacts/{hex}.zip"));
    let names: Vec<String> =
        zip::ZipArchive::new(std::io::Cursor::new(zip.clone())).unwrap().file_names().map(String::from).collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"app.py".to_string()) && names.contains(&"lib/util.py".to_string()), "{names:?}");
    let child_key = listed.iter().find(|(k, _, _)| k.ends_with(".template")).expect("a template").0.clone();
    let child: serde_json::Value = serde_json::from_slice(&crate::aws::object(moto, &bucket, &child_key)).unwrap();
    assert_eq!(child["Resources"]["Function"]["Properties"]["Code"], json!({"S3Bucket": bucket, "S3Key": zip_key}));

    // In moto: the parent, the nested stack, and the function made from that zip.
    let nested = stacks(moto, &format!("{name}-App-"));
    assert_eq!(nested.len(), 1, "{nested:?}");
    // (moto leaves the parent's `!GetAtt App.Outputs.FunctionArn` unresolved: read the child's.)
    let arn = output(moto, &nested[0], "FunctionArn");
    assert!(arn.contains(":function:"), "{arn}");
    assert_eq!(code_sha256(moto, &arn), base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip)));

    // Nothing changed: nothing uploaded, no update, exit 0.
    let run = fink(&project, &["deploy"]).ok();
    assert!(run.stderr.contains("packaged: 0 uploaded (0 bytes), 2 already in"), "{}", run.stderr);
    assert!(run.stderr.contains("is up to date: no changes to deploy"), "{}", run.stderr);
    assert_eq!(artifacts(moto, &bucket), listed);

    // A changed file: a new zip and a new child, the nested stack updated.
    project.file("src/app.py", "def handler(event, context):\n    return 'changed'\n");
    let run = fink(&project, &["deploy"]).ok();
    assert!(run.stderr.contains("packaged: 2 uploaded"), "{}", run.stderr);
    assert_eq!(artifacts(moto, &bucket).len(), 4);
}

#[test]
fn a_folder_zips_identically_twice_and_generate_uploads_it_once() {
    let moto = Moto::shared();
    let name = unique("zip");
    let bucket = bucket(moto);
    let project = project(moto, &name, Some(&bucket));
    project.file(
        "cloudformation.json",
        &json!({"Resources": {"Fn": {"Type": "AWS::Lambda::Function",
            "Properties": {"Code": "./src", "Runtime": "python3.12", "Handler": "app.handler", "Role": "r"}}}})
        .to_string(),
    );
    project.file("src/app.py", "print(1)\n");
    project.file("src/z/data.txt", "data\n");
    let run = fink(&project, &["generate", "out.json"]).ok();
    assert!(run.stderr.contains("packaged: 1 uploaded"), "{}", run.stderr);
    let first = objects(moto, &bucket);
    assert_eq!(first.len(), 1);
    let generated: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.dir().join("out.json")).unwrap()).unwrap();
    assert_eq!(generated["Resources"]["Fn"]["Properties"]["Code"], json!({"S3Bucket": bucket, "S3Key": first[0].0}));

    // The same files, written again later (new times): the same zip, nothing uploaded.
    std::thread::sleep(Duration::from_millis(1100));
    project.file("src/app.py", "print(1)\n");
    project.file("src/z/data.txt", "data\n");
    let run = fink(&project, &["generate", "out2.json"]).ok();
    assert!(run.stderr.contains("packaged: 0 uploaded (0 bytes), 1 already in"), "{}", run.stderr);
    assert_eq!(objects(moto, &bucket), first);
    assert_eq!(
        std::fs::read_to_string(project.dir().join("out.json")).unwrap(),
        std::fs::read_to_string(project.dir().join("out2.json")).unwrap()
    );
}

#[test]
fn generate_no_upload_shows_what_would_go_where_and_uploads_nothing() {
    let moto = Moto::shared();
    let name = unique("plan");
    let bucket = bucket(moto);
    let project = project(moto, &name, Some(&bucket));
    write_app(&project);
    let run = fink(&project, &["generate", "--no-upload", "-"]).ok();
    assert!(run.stdout.contains("would upload (unless already there):"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("src/ (zipped) -> s3://{bucket}/fink/cloud/artifacts/")), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("stacks/app.yaml (packaged) -> s3://{bucket}/fink/cloud/artifacts/")));
    assert!(run
        .stdout
        .contains(&format!("\"TemplateURL\": \"https://{bucket}.s3.{REGION}.amazonaws.com/fink/cloud/artifacts/")));
    assert!(objects(moto, &bucket).is_empty());
    assert!(stacks(moto, &name).is_empty());
}

#[test]
fn rain_directives_embed_include_env_s3_and_s3http_deploy() {
    let moto = Moto::shared();
    let name = unique("rain");
    let bucket = bucket(moto);
    let project = project(moto, &name, Some(&bucket)).env("FINK_E2E_RAIN_TEAM", "shop-team");
    project.file("files/motd.txt", "hello from a file");
    project.file("files/sizes.yaml", "Sizes:\n  dev:\n    Count: '3'\n    Team: !Rain::Env FINK_E2E_RAIN_TEAM\n");
    project.file("site/index.html", "<p>hi</p>");
    project.file(
        "cloudformation.yaml",
        "Mappings: !Rain::Include files/sizes.yaml
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Rain::Env FINK_E2E_RAIN_TEAM
Outputs:
  Motd:
    Value: !Rain::Embed files/motd.txt
  Count:
    Value: !FindInMap [Sizes, dev, Count]
  Team:
    Value: !FindInMap [Sizes, dev, Team]
  Site:
    Value: !Rain::S3 site
  Page:
    Value: !Rain::S3Http files/motd.txt
  Object:
    Value: !Sub
      - '${B}/${K}'
      - !Rain::S3
        Path: files/motd.txt
        Zip: true
        BucketProperty: B
        KeyProperty: K
",
    );
    fink(&project, &["deploy"]).ok();
    let out = outputs(moto, &name);
    let get = |k: &str| out.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(get("Motd"), "hello from a file");
    assert_eq!((get("Count"), get("Team")), ("3".to_string(), "shop-team".to_string()));
    let listed: Vec<String> = artifacts(moto, &bucket).into_iter().map(|(k, _, _)| k).collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let site = get("Site");
    let site_key = site.strip_prefix(&format!("s3://{bucket}/")).expect("an s3:// URI");
    assert!(site_key.ends_with(".zip") && listed.contains(&site_key.to_string()), "{site}");
    let page = get("Page");
    let page_key = page.strip_prefix(&format!("https://{bucket}.s3.{REGION}.amazonaws.com/")).expect("an HTTPS URL");
    assert_eq!(crate::aws::object(moto, &bucket, page_key), b"hello from a file");
    let object = get("Object");
    let (b, k) = object.split_once('/').expect("bucket/key");
    assert_eq!(b, bucket);
    assert!(k.ends_with(".zip") && listed.contains(&k.to_string()), "{object}");
}

#[test]
fn the_include_transform_is_read_by_cloudformation_from_the_bucket() {
    let moto = Moto::shared();
    let name = unique("include");
    let bucket = bucket(moto);
    let project = project(moto, &name, Some(&bucket));
    project.file("maps/sizes.json", r#"{"Sizes": {"dev": {"Count": "7"}}}"#);
    project.file(
        "cloudformation.json",
        &json!({
            "Mappings": {"Included": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "maps/sizes.json"}}}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"Count": {"Value": {"Fn::FindInMap": ["Sizes", "dev", "Count"]}}}
        })
        .to_string(),
    );
    fink(&project, &["deploy"]).ok();
    assert_eq!(output(moto, &name, "Count"), "7");
    let listed = artifacts(moto, &bucket);
    assert_eq!(listed.len(), 1);
    assert!(listed[0].0.ends_with(".json"));
}

#[test]
fn preview_lists_the_nested_stack_and_dot_draws_it() {
    let moto = Moto::shared();
    let name = unique("nestview");
    let bucket = bucket(moto);
    let project = project(moto, &name, Some(&bucket));
    write_app(&project);
    let run = fink(&project, &["preview"]).ok();
    assert!(run.stdout.contains("App") && run.stdout.contains("AWS::CloudFormation::Stack"), "{}", run.stdout);
    assert!(stacks(moto, &name).is_empty(), "preview removed its stack again");
    let uploaded = objects(moto, &bucket);
    assert_eq!(artifacts(moto, &bucket).len(), 2, "preview packaged: {uploaded:?}");

    let run = fink(&project, &["dot"]).ok();
    assert!(run.stdout.contains("wrote cloudformation.dot"));
    let dot = std::fs::read_to_string(project.dir().join("cloudformation.dot")).unwrap();
    assert!(dot.contains("subgraph \"cluster_App/\""), "{dot}");
    assert!(dot.contains("\"App/Function\" [label=\"Function\\nAWS::Lambda::Function\"]"), "{dot}");
    assert!(dot.contains("\"App/Function\" -> \"App/Role\" [label=\"GetAtt\"]"), "{dot}");
    assert!(dot.contains("\"App\" -> \"App/Function\" [style=dashed"), "{dot}");
    // Drawing uploads nothing.
    assert_eq!(objects(moto, &bucket), uploaded);
}

/// A project whose deploy must fail with `message`, uploading nothing and creating no stack.
fn fails_before_upload(setup: impl FnOnce(&Project), with_bucket: bool, message: &str) {
    let moto = Moto::shared();
    let name = unique("bad");
    let bucket = bucket(moto);
    let project = project(moto, &name, with_bucket.then_some(bucket.as_str()));
    setup(&project);
    let run = fink(&project, &["deploy"]).code(1).stderr_has(message);
    assert_eq!(run.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{}", run.stderr);
    assert!(objects(moto, &bucket).is_empty(), "nothing uploaded");
    assert!(stacks(moto, &name).is_empty(), "no stack");
}

#[test]
fn a_missing_file_in_a_nested_template_names_template_resource_property_and_path() {
    fails_before_upload(
        |p| {
            write_app(p);
            p.file("stacks/app.yaml", &CHILD.replace("Code: ../src", "Code: ../missing"));
        },
        true,
        "error: cloud (cloud deploy): stacks/app.yaml: resource Function property Code: local path '../missing' does not exist",
    );
}

#[test]
fn a_needed_upload_without_an_artifact_bucket_names_the_key_to_set() {
    fails_before_upload(
        write_app,
        false,
        "cloudformation.yaml: resource App property TemplateURL: uploading the local path 'stacks/app.yaml' needs cloud.stack.artifactBucket",
    );
}

#[test]
fn a_path_that_leaves_the_project_is_refused() {
    fails_before_upload(
        |p| {
            write_app(p);
            std::fs::write(p.dir().join("../outside.py"), "x").unwrap();
            p.file("stacks/app.yaml", &CHILD.replace("Code: ../src", "Code: ../../outside.py"));
        },
        true,
        "stacks/app.yaml: resource Function property Code: local path '../../outside.py' leaves the project folder",
    );
    fails_before_upload(
        |p| {
            write_app(p);
            std::fs::create_dir_all(p.dir().join("../elsewhere")).unwrap();
            std::fs::write(p.dir().join("../elsewhere/secret.txt"), "s").unwrap();
            std::os::unix::fs::symlink(p.dir().join("../elsewhere/secret.txt"), p.dir().join("src/secret.txt"))
                .unwrap();
        },
        true,
        "secret.txt leaves the project folder",
    );
}

#[test]
fn an_unsupported_rain_directive_names_it_the_file_and_the_resource() {
    fails_before_upload(
        |p| {
            write_app(p);
            p.file("stacks/app.yaml", &CHILD.replace("Runtime: python3.12", "Runtime: !Rain::Module m.yaml"));
        },
        true,
        "stacks/app.yaml: resource Function: the Rain directive Rain::Module is not supported",
    );
}

#[test]
fn a_cycle_of_nested_templates_names_the_chain() {
    fails_before_upload(
        |p| {
            write_app(p);
            p.file("stacks/app.yaml", &PARENT.replace("stacks/app.yaml", "../cloudformation.yaml"));
        },
        true,
        "nested templates form a cycle: cloudformation.yaml -> stacks/app.yaml -> cloudformation.yaml",
    );
}

#[test]
fn an_oversized_or_unreadable_nested_template_is_refused() {
    fails_before_upload(
        |p| {
            write_app(p);
            let big = format!("{CHILD}Metadata:\n  Padding: {}\n", "x".repeat(1_100_000));
            p.file("stacks/app.yaml", &big);
        },
        true,
        "cloudformation.yaml: resource App property TemplateURL: the template",
    );
    fails_before_upload(
        |p| {
            write_app(p);
            std::fs::write(p.dir().join("stacks/app.yaml"), [0xff, 0xfe, 0x00, 0x01]).unwrap();
        },
        true,
        "cloudformation.yaml: resource App property TemplateURL: the template stacks/app.yaml is not UTF-8 text",
    );
}

#[test]
fn a_failure_inside_a_nested_stack_is_the_root_cause() {
    let moto = Moto::shared();
    let name = unique("nestfail");
    let bucket = bucket(moto);
    // moto fails a resource at once and lists only stack-level events: the proxy plays
    // CloudFormation's events of a function failing inside the nested stack.
    let proxy = crate::proxy::Proxy::start(moto.endpoint());
    let reason = "Resource handler returned message: \"Code size exceeds the limit\"";
    proxy.add_event(&format!("{name}-App-*"), "Function", "AWS::Lambda::Function", "CREATE_FAILED", reason);
    proxy.add_event(
        &name,
        "App",
        "AWS::CloudFormation::Stack",
        "CREATE_FAILED",
        "Embedded stack arn:aws:cloudformation:x was not successfully created: The following resource(s) failed to create: [Function].",
    );
    proxy.settle_as(&name, "ROLLBACK_COMPLETE");
    let project = project(moto, &name, Some(&bucket)).env("AWS_ENDPOINT_URL", &proxy.endpoint());
    write_app(&project);
    let run = fink(&project, &["deploy"]).code(1);
    // Live, with the nested stack's logical id.
    assert!(
        run.stderr.contains(&format!("CREATE_FAILED  App/Function  AWS::Lambda::Function  {reason}")),
        "{}",
        run.stderr
    );
    let expected = format!(
        "stack '{name}' ended in ROLLBACK_COMPLETE:\n  App/Function (AWS::Lambda::Function): {reason}\n  App (AWS::CloudFormation::Stack): Embedded stack"
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
}

#[test]
fn preview_lists_the_changes_inside_a_nested_stack() {
    let moto = Moto::shared();
    let name = unique("nestcs");
    let bucket = bucket(moto);
    // moto's change sets name no nested change sets: the proxy adds App's, as CloudFormation
    // does for a change set with IncludeNestedStacks.
    let proxy = crate::proxy::Proxy::start(moto.endpoint());
    proxy.nested_change_set("App", &[("Add", "Role", "AWS::IAM::Role"), ("Add", "Function", "AWS::Lambda::Function")]);
    let project = project(moto, &name, Some(&bucket)).env("AWS_ENDPOINT_URL", &proxy.endpoint());
    write_app(&project);
    let run = fink(&project, &["preview"]).ok();
    let rows: Vec<&str> = run.stdout.lines().filter(|l| l.contains("Add")).collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    assert!(rows[0].contains("App ") && rows[0].contains("AWS::CloudFormation::Stack"), "{}", run.stdout);
    assert!(rows[1].contains("App/Role") && rows[1].contains("AWS::IAM::Role"), "{}", run.stdout);
    assert!(rows[2].contains("App/Function") && rows[2].contains("AWS::Lambda::Function"), "{}", run.stdout);
    assert!(proxy.actions().iter().filter(|a| *a == "DescribeChangeSet").count() >= 2);
}
