//! gcdt projects as gcdt's guide wrote them, through the real binary, a real python3 (the test
//! venv's, with troposphere and boto3) and moto: a `gcdt_<env>.json` with gcdt's section names, a
//! troposphere `cloudformation.py` importing gcdt's helper modules and reading the kumo section, its
//! hooks reading `config['kumo']`, `stack_output` and `_awsclient`, credstash secrets in gcdt's
//! default table, and the Slack webhook from credstash.

use std::process::Command;

use fink_test_support::{Moto, REGION};
use serde_json::{json, Value};

use crate::aws::{stack, unique};
use crate::migrating::Credstash;
use crate::support::{repo_root, Project};
use crate::webhook::{Reply, Webhook};

const PLUGINS: &[&str] = &[
    "fink-plugin-config-reader",
    "fink-plugin-lookups",
    "fink-plugin-hooks",
    "fink-plugin-cloud",
    "fink-plugin-slack",
    "fink-plugin-hocon-reader",
];

/// The two config readers: the hocon-reader reads `.conf` files and hands them to the config-reader.
const READERS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-hocon-reader"];

/// As the gcdt guide shows it: troposphere, the particle helpers, `gcdt.iam`, `gcdt.utils`, and
/// service discovery and Route 53 through the context's `_awsclient`; hooks connected in register().
const CLOUDFORMATION_PY: &str = r#"import json

import troposphere
from troposphere import Output, Parameter, Ref, Template
from troposphere.sns import Topic

from gcdt import gcdt_signals
from gcdt.iam import IAMRoleAndPolicies
from gcdt.kumo_util import ensure_ebs_volume_tags_autoscaling_group
from gcdt.route53 import create_record
from gcdt.servicediscovery import get_outputs_for_stack
from gcdt.utils import get_env
from gcdt_kumo import kumo_particle_helper as ph


def generate_template(context, config):
    t = Template()
    ph.initialize(t, "miaImportProcessor")
    t.add_parameter(Parameter("TopicName", Type="String"))
    t.add_parameter(Parameter("DbPassword", Type="String", NoEcho=True))
    topic = t.add_resource(Topic("Alerts", TopicName=Ref("TopicName")))
    iam = IAMRoleAndPolicies(t, "lambda-", ["lambda.amazonaws.com"], "/lambda/")
    role = iam.build_role("embed-player-wrapper", ["arn:aws:iam::aws:policy/service-role/AWSLambdaRole"])
    particles = [
        ph.Particle(t, {"Alerts": topic}, permissions={"Effect": "Allow", "Action": "sns:Publish"}),
        ph.Particle(t, {"Role": role}),
    ]
    infra = get_outputs_for_stack(context["_awsclient"], config["infraStack"])
    record = create_record(context["_awsclient"], "api", "10.0.0.1", host_zone_name=infra["internalDomainName"] + ".")
    t.add_output(Output("AlertsArn", Value=Ref(topic)))
    t.add_output(Output("Env", Value=get_env()))
    t.add_output(Output("ServiceName", Value=t.SERVICE_NAME))
    t.add_output(Output("TopicFromSection", Value=config["parameters"]["TopicName"]))
    t.add_output(Output("Permissions", Value=json.dumps(ph.get_particle_permissions(particles))))
    t.add_output(Output("Record", Value=json.dumps(record.to_dict(), sort_keys=True)))
    return t.to_json()


def announce(params):
    context, config = params
    if context["command"] != "deploy":
        return
    kumo = config["kumo"]
    ensure_ebs_volume_tags_autoscaling_group(context["_awsclient"], kumo["asgName"], [{"Key": "team", "Value": "mia"}])
    with open("seen.json", "w") as f:
        json.dump({
            "tool": context["tool"],
            "version": context["version"],
            "arguments": context["_arguments"],
            "awsclient": type(context["_awsclient"]).__name__,
            "stack": kumo["stack"]["StackName"],
            "password_ok": kumo["parameters"]["DbPassword"] == "s3cr3t",
            "has_cloud": "cloud" in config,
            "stack_output": context["stack_output"],
        }, f)
    print("gcdt hook saw", len(context["stack_output"]), "outputs")


def register():
    gcdt_signals.command_finalized.connect(announce)
"#;

fn venv(program: &str) -> String {
    repo_root().join(".venv/bin").join(program).display().to_string()
}

/// Runs `script` with the venv's python against moto and returns what it printed.
fn python_out(moto: &Moto, script: &str, args: &[&str]) -> String {
    let mut command = Command::new(venv("python"));
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let out = command.arg("-c").arg(script).args(args).output().expect("python runs");
    assert!(out.status.success(), "python: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An autoscaling group of one instance (moto gives it a root volume).
fn autoscaling_group(moto: &Moto, name: &str) {
    python_out(
        moto,
        "import boto3, sys\n\
         ec2 = boto3.client('ec2')\n\
         ami = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']\n\
         asg = boto3.client('autoscaling')\n\
         asg.create_launch_configuration(LaunchConfigurationName=sys.argv[1], ImageId=ami, InstanceType='t2.micro')\n\
         asg.create_auto_scaling_group(AutoScalingGroupName=sys.argv[1], LaunchConfigurationName=sys.argv[1],\n\
             MinSize=1, MaxSize=1, DesiredCapacity=1, AvailabilityZones=[sys.argv[2] + 'a'])\n",
        &[name, REGION],
    );
}

/// The tags of the volumes of the group's instances, as JSON.
fn volume_tags(moto: &Moto, group: &str) -> Value {
    let out = python_out(
        moto,
        "import boto3, json, sys\n\
         ec2 = boto3.client('ec2')\n\
         r = ec2.describe_instances(Filters=[{'Name': 'tag:aws:autoscaling:groupName', 'Values': [sys.argv[1]]}])\n\
         ids = [i['InstanceId'] for x in r['Reservations'] for i in x['Instances']]\n\
         v = ec2.describe_volumes(Filters=[{'Name': 'attachment.instance-id', 'Values': ids}])['Volumes']\n\
         print(json.dumps([x.get('Tags', []) for x in v]))\n",
        &[group],
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn a_gcdt_project_from_the_guides_deploys_unchanged() {
    let moto = Moto::shared();
    let name = unique("gcdt");
    let p = unique("app").replace('-', "_");
    let infra = format!("{name}-infra");
    stack(moto, REGION, &infra, &[("internalDomainName", "dev.example.internal")]);
    let group = format!("{name}-asg");
    autoscaling_group(moto, &group);
    // gcdt's default credstash table, and the default name of the Slack webhook in it.
    let store = Credstash::setup(moto, "credential-store");
    store.put(&format!("{p}.db_password"), "s3cr3t");
    let hook = Webhook::start(Reply::Status(200));
    store.put("slack.webhook", &hook.url());

    let project = Project::with(PLUGINS).aws(moto).env("VIRTUAL_ENV", &repo_root().join(".venv").display().to_string());
    // HOCON, as glomex-config-reader read it: an include, a substitution and a concatenation.
    project.file("common.conf", &format!("kumo {{ asgName = \"{group}\" }}\n"));
    project.file(
        "gcdt_dev.conf",
        &format!(
            "include \"common.conf\"\n\
             # the kumo section, as the gcdt guide's snippets\n\
             kumo {{\n\
               stack {{ StackName = \"{name}\" }}\n\
               parameters {{\n\
                 TopicName = ${{kumo.stack.StackName}}\"-alerts\"\n\
                 DbPassword = \"lookup:secret:{p}.db_password\"\n\
               }}\n\
               infraStack = \"{infra}\"\n\
             }}\n\
             hookfile = hooks.py\n"
        ),
    );
    project.file("cloudformation.py", CLOUDFORMATION_PY);
    // A hookfile as the gcdt guide's lifecycle hooks: (context, config), the kumo section, the outputs.
    project.file(
        "hooks.py",
        "from gcdt import gcdt_signals\n\n\
         def my_hook(params):\n    context, config = params\n    \
         outputs = dict((o['OutputKey'], o['OutputValue']) for o in context.get('stack_output', []))\n    \
         print('hookfile:', context['tool'], config['kumo']['stack']['StackName'], outputs.get('Env'))\n\n\
         def register():\n    gcdt_signals.command_finalized.connect(my_hook)\n",
    );

    let run = project
        .fink(&["kumo", "deploy", "-e", "dev"])
        .ok()
        .stderr_has("gcdt hook saw 6 outputs")
        .stderr_has(&format!("hookfile: kumo {name} dev"));
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);

    // The hook saw gcdt's shapes: the kumo section, the tool's gcdt name, the outputs as a list.
    let seen: Value = serde_json::from_str(&std::fs::read_to_string(project.dir().join("seen.json")).unwrap()).unwrap();
    assert_eq!(seen["tool"], "kumo", "{seen}");
    assert_eq!(seen["stack"], json!(name), "{seen}");
    assert_eq!(seen["password_ok"], true, "the credstash secret reached the hook: {seen}");
    assert_eq!(seen["has_cloud"], false, "{seen}");
    assert_eq!(seen["awsclient"], "AWSClient", "{seen}");
    assert_eq!(seen["arguments"]["deploy"], true, "{seen}");
    assert!(seen["version"].as_str().is_some_and(|v| !v.is_empty()), "{seen}");
    let outputs: Vec<(String, String)> = seen["stack_output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["OutputKey"].as_str().unwrap().to_string(), o["OutputValue"].as_str().unwrap().to_string()))
        .collect();
    let output = |key: &str| outputs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    // generate_template(context, config) got the kumo section (config['parameters']).
    assert_eq!(output("TopicFromSection"), format!("{name}-alerts"));
    assert_eq!(output("Env"), "dev");
    assert_eq!(output("ServiceName"), "miaImportProcessor");
    assert!(output("AlertsArn").ends_with(&format!(":{name}-alerts")), "{outputs:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&output("Permissions")).unwrap(),
        json!([{"Effect": "Allow", "Action": "sns:Publish"}])
    );
    let record: Value = serde_json::from_str(&output("Record")).unwrap();
    assert_eq!(record["Type"], "AWS::Route53::RecordSet", "{record}");
    assert_eq!(record["Properties"]["HostedZoneName"], "dev.example.internal.", "{record}");
    assert_eq!(record["Properties"]["ResourceRecords"], json!(["10.0.0.1"]), "{record}");
    // gcdt.kumo_util tagged the group's volumes through _awsclient.
    assert_eq!(volume_tags(moto, &group), json!([[{"Key": "team", "Value": "mia"}]]));
    // gcdt.iam built the role.
    let generated: Value =
        serde_json::from_str(&project.fink(&["cloud", "generate", "-", "-e", "dev"]).ok().stdout).unwrap();
    let role = &generated["Resources"]["LambdaEmbedPlayerWrapper"];
    assert_eq!(role["Type"], "AWS::IAM::Role", "{generated:#}");
    assert_eq!(role["Properties"]["Path"], "/lambda/");
    assert_eq!(generated["Description"], "Stack for miaImportProcessor microservice");

    // Slack announced the deploy through gcdt's default webhook, read from credstash.
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let message = requests[0].json();
    assert!(message["text"].as_str().is_some_and(|t| t.contains("deploy") && t.contains("dev")), "{message:#}");
}

/// A stack template small enough for every test.
const TOPIC: &str = r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#;

#[test]
fn a_gcdt_project_reads_credstash_unless_it_names_secrets_manager_and_slack_says_why_it_is_silent() {
    let moto = Moto::shared();
    let p = unique("cs").replace('-', "_");
    let table = unique("store");
    let store = Credstash::setup(moto, &table);
    store.put(&format!("{p}.token"), "from-credstash");
    crate::aws::secret(moto, REGION, &format!("{p}-sm"), "from-secrets-manager");
    let plugins = [&PLUGINS[..2], &["fink-plugin-cloud", "fink-plugin-slack"]].concat();
    let project = Project::with(&plugins).aws(moto);
    project.file("stack.json", TOPIC);
    // No secretStore: a gcdt project reads credstash (here from its own table, without slack.webhook).
    let config = |lookups: Value, token: &str| {
        json!({"kumo": {"stack": {"StackName": unique("cs"), "TemplateBody": "stack.json"}},
               "app": {"token": token}, "plugins": {"lookups": lookups}})
        .to_string()
    };
    project.file("gcdt_dev.json", &config(json!({"credstashTable": table}), &format!("lookup:secret:{p}.token")));
    let shown = project.fink(&["config", "-e", "dev", "--show-secrets"]).ok().json();
    assert_eq!(shown["app"]["token"], "from-credstash", "{shown}");
    // Slack is on in a gcdt project; its default webhook is not in the table: one line says so.
    let run = project.fink(&["kumo", "deploy", "-e", "dev"]).ok();
    let line = "no Slack webhook configured (plugins.slack.webhook is empty or missing, or its lookup found nothing): \
                no message for 'cloud deploy'";
    assert_eq!(run.stderr.matches(line).count(), 1, "{}", run.stderr);

    // Projects that kept their secrets in Secrets Manager say so.
    project.file("gcdt_dev.json", &config(json!({"secretStore": "secretsmanager"}), &format!("lookup:secret:{p}-sm")));
    let shown = project.fink(&["config", "-e", "dev", "--show-secrets"]).ok().json();
    assert_eq!(shown["app"]["token"], "from-secrets-manager", "{shown}");

    // A fink project keeps Secrets Manager as its default.
    std::fs::remove_file(project.dir().join("gcdt_dev.json")).unwrap();
    project.file(
        "fink_dev.json",
        &json!({"cloud": {"stack": {"StackName": "x"}}, "app": {"token": format!("lookup:secret:{p}-sm")}}).to_string(),
    );
    let shown = project.fink(&["config", "-e", "dev", "--show-secrets"]).ok().json();
    assert_eq!(shown["app"]["token"], "from-secrets-manager", "{shown}");
    assert!(shown["plugins"].get("slack").is_none(), "slack stays off in a fink project without its section: {shown}");
}

#[test]
fn a_gcdt_project_reports_to_datadog_with_the_default_key_from_credstash() {
    let moto = Moto::shared();
    let table = unique("ddstore");
    let store = Credstash::setup(moto, &table);
    store.put("datadog.api_key", "dd-from-credstash-0123");
    let hook = Webhook::start(Reply::Status(202));
    let site = hook.url().trim_end_matches("/hook").to_string();
    let project = Project::with(&[
        "fink-plugin-config-reader",
        "fink-plugin-lookups",
        "fink-plugin-datadog",
        "fink-fixture-alpha",
    ])
    .aws(moto);
    // gcdt's section name, no key: gcdt's default key, read from credstash.
    project.file(
        "gcdt_dev.json",
        &json!({"demo": {}, "plugins": {"gcdt_datadog_integration": {"site": site}, "lookups": {"credstashTable": table}}})
            .to_string(),
    );
    let run = project.fink(&["demo", "run", "-e", "dev"]).ok();
    assert!(!run.stderr.contains("dd-from-credstash"), "{}", run.stderr);
    let requests = hook.requests();
    assert!(!requests.is_empty(), "{run:#?}");
    assert!(requests.iter().all(|r| r.header("dd-api-key") == Some("dd-from-credstash-0123")), "{requests:#?}");
}

#[test]
fn every_tool_and_its_gcdt_name_prints_its_version() {
    let project =
        Project::with(&["fink-plugin-cloud", "fink-plugin-lambda", "fink-plugin-code", "fink-plugin-apigateway"]);
    let fink = env!("CARGO_PKG_VERSION");
    for (tools, plugin) in [
        (["cloud", "kumo"], "fink-plugin-cloud"),
        (["lambda", "ramuda"], "fink-plugin-lambda"),
        (["code", "tenkai"], "fink-plugin-code"),
        (["api", "yugen"], "fink-plugin-apigateway"),
    ] {
        for tool in tools {
            // No env, no config file, no AWS: as gcdt's `<tool> version`.
            let run = project.fink(&[tool, "version"]).ok();
            assert_eq!(run.stdout, format!("fink version {fink}\n{plugin} version 0.1.0\n"), "{tool}: {run:#?}");
        }
    }
}

#[test]
fn gcdt_helpers_say_what_to_install_in_a_python_without_boto3_or_troposphere() {
    let moto = Moto::shared();
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-hooks", "fink-plugin-cloud"]).aws(moto);
    // A bare virtualenv: neither boto3 nor troposphere.
    let bare = project.dir().join("bare");
    let made = Command::new("python3").args(["-m", "venv", "--without-pip"]).arg(&bare).output().expect("python3 runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let python = bare.join("bin/python").display().to_string();
    project.file(
        "gcdt_dev.json",
        &json!({"python": python, "hookfile": "hooks.py", "kumo": {"stack": {"StackName": "x"}}}).to_string(),
    );
    // gcdt.servicediscovery imports without boto3; its call through _awsclient names what is missing.
    project.file(
        "hooks.py",
        "from gcdt import gcdt_signals\nfrom gcdt.servicediscovery import get_outputs_for_stack\n\n\
         def look(params):\n    context, config = params\n    get_outputs_for_stack(context['_awsclient'], 'infra')\n\n\
         def register():\n    gcdt_signals.config_validation_init.connect(look)\n",
    );
    let run = project.fink(&["config", "-e", "dev"]).code(1);
    run.stderr_has("hooks.py: look (config_validation_init) raised ImportError: gcdt's awsclient (context['_awsclient']) needs boto3, which the project's Python")
        .stderr_has("(pip install boto3)");
    // gcdt.iam needs troposphere, and says so when imported.
    project.file("hooks.py", "from gcdt.iam import IAMRoleAndPolicies\n");
    project
        .fink(&["config", "-e", "dev"])
        .code(1)
        .stderr_has("hooks.py: loading it raised ImportError: gcdt.iam needs troposphere, which the project's Python")
        .stderr_has("(pip install troposphere)");
}

#[test]
fn a_gcdt_ramuda_project_pings_after_every_deploy_and_reads_fail_deployment_at_the_top() {
    // moto's Docker-less Lambda answers from one queue per server: a server of our own.
    let moto = Moto::start();
    let name = unique("ramuda");
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-bundler", "fink-plugin-lambda"]).aws(&moto);
    project.file("handler.py", "def handle(event, context):\n    return 'alive'\n");
    let config = |top: Value| {
        let mut ramuda = json!({"lambda": {
            "name": name, "role": moto.lambda_role(), "handlerFunction": "handler.handle",
            "handlerFile": "handler.py", "runtime": "python3.12", "timeout": 3, "memorySize": 128
        }});
        if let Some(top) = top.as_object() {
            for (k, v) in top {
                ramuda[k] = v.clone();
            }
        }
        json!({"ramuda": ramuda}).to_string()
    };
    // No ping key: a gcdt project pings every deployed version, as gcdt did.
    project.file("gcdt_dev.json", &config(json!({})));
    moto.queue_lambda_responses(REGION, &["\"alive\""]);
    project.fink(&["ramuda", "deploy", "-e", "dev"]).ok().stderr_has("version 1 answered the ping");

    // gcdt's place for failDeploymentOnUnsuccessfulPing: the top of the ramuda section.
    project.file("gcdt_dev.json", &config(json!({"failDeploymentOnUnsuccessfulPing": true})));
    project.file("handler.py", "def handle(event, context):\n    raise Exception('broken')\n");
    moto.queue_lambda_responses(REGION, &["\"broken\""]);
    project
        .fink(&["ramuda", "deploy", "-e", "dev"])
        .code(1)
        .stderr_has(&format!("ping of function '{name}' version 2 failed"))
        .stderr_has("ACTIVE stays at version 1");
}

#[test]
fn yugen_apikey_delete_without_an_argument_deletes_the_configs_key() {
    let moto = Moto::shared();
    let key_name = unique("gcdtkey");
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-apigateway"]).aws(moto);
    let run = project.fink(&["yugen", "apikey-create", &key_name]).ok();
    let line = run.stdout.lines().find(|l| l.starts_with(&format!("API key '{key_name}' created: id "))).unwrap();
    let key_id = line.rsplit(' ').next().unwrap().to_string();

    // Without a config there is nothing to delete: one line says what to give.
    project
        .fink(&["yugen", "apikey-delete"])
        .code(1)
        .stderr_has("apikey-delete: no key given and there is no config (give -e ENV or set ENV)");
    project.file("gcdt_dev.json", &json!({"yugen": {"api": {"name": "gcdt-api", "targetStage": "dev"}}}).to_string());
    project
        .fink(&["yugen", "apikey-delete", "-e", "dev"])
        .code(1)
        .stderr_has("apikey-delete: no key given and the config has no api.api.apiKey");
    // As gcdt's `yugen apikey-delete`: the config's apiKey.
    project.file(
        "gcdt_dev.json",
        &json!({"yugen": {"api": {"name": "gcdt-api", "targetStage": "dev", "apiKey": key_id}}}).to_string(),
    );
    project
        .fink(&["yugen", "apikey-delete", "-e", "dev"])
        .ok()
        .stdout_has(&format!("API key '{key_name}' ({key_id}) deleted"));
    let left = project.fink(&["api", "apikey-list", "--json"]).ok().json();
    assert!(left.as_array().unwrap().iter().all(|k| k["id"] != json!(key_id)), "{left}");
}

#[test]
fn hocon_configs_are_read_with_includes_and_substitutions_and_their_errors_name_file_and_line() {
    let project = Project::with(READERS);
    project.file("base.conf", "region = eu-west-1\n");
    project.file(
        "gcdt_dev.conf",
        "baseconfig = base\ninclude \"tags.conf\"\nyugen { api { name = ${team}-api, targetStage = dev } }\n",
    );
    project.file("tags.conf", "team = mia\ntags { owner = \"team\"${?FINK_E2E_NO_SUCH_VAR} }\n");
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(config["api"]["api"], json!({"name": "mia-api", "targetStage": "dev"}), "{config}");
    assert_eq!(config["region"], "eu-west-1", "the baseconfig chain reads .conf bases: {config}");
    assert_eq!(config["tags"]["owner"], "team", "{config}");
    // A .conf base may name a base of another format: the config-reader reads on from there.
    project.file("base.conf", "baseconfig = root\nregion = eu-west-1\n");
    project.file("root.yaml", "region: us-east-1\nowner: ops\n");
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!((&config["region"], &config["owner"]), (&json!("eu-west-1"), &json!("ops")), "{config}");
    // A JSON file's bases are not HOCON.
    project.file("fink_prod.json", r#"{"baseconfig": "base"}"#);
    project.fink(&["config", "-e", "prod"]).code(1).stderr_has(
        "error: config-reader (config_read_init): fink_prod.json: baseconfig 'base' is the HOCON file base.conf: ",
    );

    // A syntax error: the file, line and column.
    project.file("gcdt_dev.conf", "kumo {\n  stack {\n    StackName = \"x\"\n  }\n");
    let run = project.fink(&["config", "-e", "dev"]).code(1);
    assert!(
        run.stderr.lines().any(|l| l.starts_with("error: hocon-reader (config_read_init): gcdt_dev.conf:")
            && l.split(':').nth(3).is_some_and(|line| line.trim().parse::<u32>().is_ok())),
        "{}",
        run.stderr
    );
    // A substitution that resolves to nothing: the line it is on.
    project.file("gcdt_dev.conf", "a = 1\nb = ${missing.key}\n");
    project.fink(&["config", "-e", "dev"]).code(1).stderr_has("gcdt_dev.conf:2:");

    // Without the hocon-reader, a .conf env file is named with the plugin that reads it.
    project.file("gcdt_dev.conf", "a = 1\n");
    let alone = Project::with(&["fink-plugin-config-reader"]);
    alone.file("gcdt_dev.conf", "a = 1\n");
    alone
        .fink(&["config", "-e", "dev"])
        .code(1)
        .stderr_has("gcdt_dev.conf is HOCON, which the hocon-reader plugin reads, and it is not loaded");
    // And the hocon-reader without the config-reader, which merges what it reads.
    let alone = Project::with(&["fink-plugin-hocon-reader"]);
    alone.file("gcdt_dev.conf", "a = 1\n");
    alone.fink(&["config", "-e", "dev"]).code(1).stderr_has(
        "error: hocon-reader (config_read_init): gcdt_dev.conf: the hocon-reader hands HOCON configs to the config-reader plugin, which is not loaded",
    );
}

#[test]
fn two_readers_finding_configs_for_one_env_is_an_error_naming_both() {
    // Either reader's file may sort first: the message names both in name order, whichever
    // reader read its file first (the hocon-reader runs before the config-reader).
    for (hocon, other) in
        [("gcdt_dev.conf", "fink_dev.json"), ("fink_dev.conf", "gcdt_dev.yaml"), ("fink_dev.conf", "fink_dev.toml")]
    {
        let project = Project::with(READERS);
        project.file(hocon, "kumo { stack { StackName = a } }\n");
        project.file(other, "");
        let (first, second) = if hocon < other { (hocon, other) } else { (other, hocon) };
        let run = project.fink(&["config", "-e", "dev"]).code(1);
        let line = format!(
            "error: config-reader (config_read_init): two config files for env 'dev': {first} and {second}; keep one"
        );
        assert!(run.stderr.lines().any(|l| l == line), "{line}\n{}", run.stderr);
        // Each alone is read.
        std::fs::remove_file(project.dir().join(other)).unwrap();
        let config = project.fink(&["config", "-e", "dev"]).ok().json();
        assert_eq!(config["cloud"]["stack"]["StackName"], "a", "{config}");
    }
    // One reader's two files: named by that reader.
    let project = Project::with(READERS);
    project.file("fink_dev.conf", "a = 1\n");
    project.file("gcdt_dev.conf", "a = 2\n");
    project
        .fink(&["config", "-e", "dev"])
        .code(1)
        .stderr_has("error: hocon-reader (config_read_init): two config files for env 'dev': fink_dev.conf and gcdt_dev.conf; keep one");
}

#[test]
fn kumos_settings_conf_is_the_stack_section() {
    let project = Project::with(READERS);
    // The kumo howto: settings_<env>.conf with the stack and its parameters, no other config file.
    project.file("settings_dev.conf", "cloudformation {\n  StackName = mia-dev\n  InstanceType = t3.small\n}\n");
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(
        config["cloud"],
        json!({"stack": {"StackName": "mia-dev"}, "parameters": {"InstanceType": "t3.small"}}),
        "{config}"
    );
    // Beside an env file, which wins where both set a key.
    project.file("gcdt_dev.json", &json!({"kumo": {"parameters": {"InstanceType": "t3.large"}}}).to_string());
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(
        config["cloud"],
        json!({"stack": {"StackName": "mia-dev"}, "parameters": {"InstanceType": "t3.large"}}),
        "{config}"
    );
    // ramuda's settings_<env>.conf (the function's settings) is not the stack's.
    project.file("settings_dev.conf", "greeting = moin\n");
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(config["cloud"], json!({"parameters": {"InstanceType": "t3.large"}}), "{config}");
}

#[test]
fn gcdts_documented_defaults_are_read_or_warned_about() {
    let project = Project::with(&["fink-plugin-config-reader"]);
    project.file(
        "gcdt_dev.json",
        &json!({
            "kumo": {"stack": {"StackName": "s"}, "defaults": {"non_config_commands": ["list"], "validate": true}},
            "tenkai": {"codedeploy": {"applicationName": "a", "deploymentGroupName": "g"},
                       "defaults": {"log_group": "/app/log", "stack_output_file": "stack_output.yml"}},
            "ramuda": {"defaults": {"colour": "blue"}},
            "plugins": {"lookups": {"defaults": {"lookups": ["stack", "secret"]}}}
        })
        .to_string(),
    );
    let run = project.fink(&["config", "-e", "dev"]).ok();
    let config = run.json();
    assert_eq!(config["code"]["deployment"]["LogGroup"], "/app/log", "{config}");
    assert_eq!(config["plugins"]["lookups"]["lookups"], json!(["stack", "secret"]), "{config}");
    for line in [
        "warning: config-reader: gcdt_dev.json: 'code.defaults.log_group' is read as 'code.deployment.LogGroup'; move it there",
        "warning: config-reader: gcdt_dev.json: 'plugins.lookups.defaults.lookups' is read as 'plugins.lookups.lookups'; move it there",
        "warning: config-reader: gcdt_dev.json: 'cloud.defaults.non_config_commands' is not read: fink knows which cloud \
         commands need a config (list needs none; stop and start read the stack's)",
        "warning: config-reader: gcdt_dev.json: 'lambda.defaults.colour' is not a setting fink reads; it is ignored",
    ] {
        assert_eq!(run.stderr.lines().filter(|l| *l == line).count(), 1, "{line}\n{}", run.stderr);
    }
    // gcdt's own default value needs no word.
    assert!(!run.stderr.contains("stack_output_file"), "{}", run.stderr);
}

#[test]
fn tenkais_bundling_zip_names_the_bundle() {
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-bundler", "fink-plugin-code"]);
    project.file("codedeploy/appspec.yml", "version: 0.0\nos: linux\n");
    project.file(
        "gcdt_dev.json",
        &json!({"tenkai": {"codedeploy": {"applicationName": "a", "deploymentGroupName": "g"},
                           "bundling": {"zip": "app.tar.gz"}}})
        .to_string(),
    );
    project.fink(&["tenkai", "bundle", "-e", "dev"]).ok().stdout_has("app.tar.gz: ");
    assert!(project.dir().join(".fink/bundle/dev/app.tar.gz").is_file());
    assert!(!project.dir().join(".fink/bundle/dev/bundle.tar.gz").exists());
}

#[test]
fn a_runtime_lambda_no_longer_offers_is_an_error_naming_the_key_and_the_supported_ones() {
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-bundler", "fink-plugin-lambda"]);
    project.file("handler.py", "def handle(event, context):\n    return 'alive'\n");
    // gcdt's default runtime, as gcdt's guide configured it.
    project.file(
        "gcdt_dev.json",
        &json!({"ramuda": {"lambda": {"name": "f", "handlerFunction": "handler.handle", "handlerFile": "handler.py",
                                      "runtime": "python2.7"}}})
        .to_string(),
    );
    let run = project.fink(&["ramuda", "bundle", "-e", "dev"]).code(1);
    let line = run.stderr.lines().find(|l| l.contains("lambda.lambda.runtime")).unwrap_or_default().to_string();
    assert!(line.contains("AWS Lambda no longer offers 'python2.7'; it supports python3.9, "), "{}", run.stderr);
    assert!(line.contains("python3.12") && line.contains("nodejs20.x"), "{line}");
    assert!(!project.dir().join(".fink/bundle/dev/bundle.zip").exists());
    // A runtime Lambda offers bundles.
    project.file(
        "gcdt_dev.json",
        &json!({"ramuda": {"lambda": {"name": "f", "handlerFunction": "handler.handle", "handlerFile": "handler.py",
                                      "runtime": "python3.12"}}})
        .to_string(),
    );
    project.fink(&["ramuda", "bundle", "-e", "dev"]).ok();
    assert!(project.dir().join(".fink/bundle/dev/bundle.zip").is_file());
}

/// A CloudFront distribution with a default cache behaviour and one for `/img/*`; its id.
fn distribution(moto: &Moto) -> String {
    python_out(
        moto,
        "import boto3, uuid\n\
         cf = boto3.client('cloudfront', region_name='us-east-1')\n\
         fwd = {'QueryString': False, 'Cookies': {'Forward': 'none'}}\n\
         signers = {'Enabled': False, 'Quantity': 0}\n\
         d = cf.create_distribution(DistributionConfig={'CallerReference': str(uuid.uuid4()), 'Comment': '', 'Enabled': True,\n\
             'Origins': {'Quantity': 1, 'Items': [{'Id': 'o', 'DomainName': 'example.s3.amazonaws.com', 'S3OriginConfig': {'OriginAccessIdentity': ''}}]},\n\
             'DefaultCacheBehavior': {'TargetOriginId': 'o', 'ViewerProtocolPolicy': 'allow-all', 'MinTTL': 0, 'ForwardedValues': fwd, 'TrustedSigners': signers},\n\
             'CacheBehaviors': {'Quantity': 1, 'Items': [{'PathPattern': '/img/*', 'TargetOriginId': 'o', 'ViewerProtocolPolicy': 'allow-all', 'MinTTL': 0, 'ForwardedValues': fwd, 'TrustedSigners': signers}]}})\n\
         print(d['Distribution']['Id'])\n",
        &[],
    )
}

#[test]
fn ramuda_wires_a_cloudfront_trigger_to_the_published_version_in_us_east_1() {
    let moto = Moto::shared();
    let name = unique("edge");
    let id = distribution(moto);
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-bundler", "fink-plugin-lambda"]).aws(moto);
    project.file("handler.py", "def handle(event, context):\n    return event\n");
    let config = |region: &str, pattern: Option<&str>| {
        let mut source = json!({"arn": format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
                                "cloudfront_event": "origin-request"});
        if let Some(pattern) = pattern {
            source["path_pattern"] = json!(pattern);
        }
        json!({"ramuda": {
            "lambda": {"name": name, "role": moto.lambda_role(), "handlerFunction": "handler.handle",
                       "handlerFile": "handler.py", "runtime": "python3.12",
                       "events": [{"event_source": source}]},
            "deployment": {"region": region}
        }})
        .to_string()
    };
    project.file("gcdt_dev.json", &config("us-east-1", Some("/img/*")));
    project.fink(&["ramuda", "deploy", "-e", "dev"]).ok();

    // wire: the version ACTIVE points at, on the /img/* behaviour, for origin-request.
    let (run, calls) = moto.record(|| project.fink(&["ramuda", "wire", "-e", "dev"]));
    run.ok().stdout_has(&format!("cloudfront distribution '{id}' (origin-request, cache behaviour '/img/*'): created"));
    let update = calls
        .iter()
        .find(|c| {
            c.service == "cloudfront" && c.method == "PUT" && c.path.ends_with(&format!("/distribution/{id}/config"))
        })
        .unwrap_or_else(|| panic!("no UpdateDistribution: {calls:#?}"));
    let behaviour = update.body.split("<CacheBehavior>").nth(1).unwrap_or_default();
    assert!(behaviour.contains("<PathPattern>/img/*</PathPattern>"), "{}", update.body);
    assert!(
        behaviour.contains(&format!(
            "<LambdaFunctionARN>arn:aws:lambda:us-east-1:123456789012:function:{name}:1</LambdaFunctionARN>"
        )) && behaviour.contains("<EventType>origin-request</EventType>"),
        "{}",
        update.body
    );
    let default = update.body.split("<DefaultCacheBehavior>").nth(1).unwrap_or_default();
    let default = default.split("</DefaultCacheBehavior>").next().unwrap_or_default();
    assert!(!default.contains("LambdaFunctionARN"), "the default behaviour keeps no trigger: {default}");

    // unwire reads the distribution; moto keeps no Lambda associations (the removal itself is
    // unit-tested in plugins/lambda/src/wire/cloudfront.rs), so there is nothing to remove.
    project
        .fink(&["ramuda", "unwire", "-e", "dev"])
        .ok()
        .stdout_has(&format!("cloudfront distribution '{id}' (origin-request, cache behaviour '/img/*'): not wired"));

    // An unknown behaviour is named, with the ones there are.
    project.file("gcdt_dev.json", &config("us-east-1", Some("/api/*")));
    project
        .fink(&["ramuda", "wire", "-e", "dev"])
        .code(1)
        .stderr_has(&format!("cloudfront distribution '{id}' has no cache behaviour '/api/*' (it has: /img/*)"));

    // Lambda@Edge functions live in us-east-1.
    let other = unique("edgeeu");
    crate::aws::function(moto, &other);
    crate::aws::alias(moto, &other, "ACTIVE");
    project.file("gcdt_dev.json", &config(REGION, None).replace(&format!("\"{name}\""), &format!("\"{other}\"")));
    project.fink(&["ramuda", "wire", "-e", "dev"]).code(1).stderr_has(&format!(
        "a CloudFront trigger (Lambda@Edge) needs the function in us-east-1, but function '{other}' is in {REGION}"
    ));
}
