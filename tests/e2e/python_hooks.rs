//! Python hooks, templates and configs as gcdt and fink projects wrote them, through the real
//! binary and a real python3: a troposphere `cloudformation.py` deployed to moto with its hooks
//! and stack policy, a `hookfile`, `gcdt_<env>.py` configs, and every way they can fail.
//!
//! troposphere comes from the test venv (`scripts/moto.sh`), found through `VIRTUAL_ENV` as a
//! user's would be.

use std::time::{Duration, Instant};

use fink_test_support::{block_on, Moto, REGION};
use serde_json::{json, Value};

use crate::aws::unique;
use crate::support::{repo_root, Project};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-hooks", "fink-plugin-cloud"];

/// gcdt's sample shape: troposphere, `generate_template(context, config)`, hooks connected in
/// `register()`, a stack policy of its own.
const CLOUDFORMATION_PY: &str = r#"import json

from troposphere import Output, Ref, Template
from troposphere.sns import Topic

from gcdt import gcdt_signals


def generate_template(context, config):
    t = Template()
    topic = t.add_resource(Topic("Alerts", TopicName=config["cloud"]["parameters"]["TopicName"]))
    t.add_output(Output("AlertsArn", Value=Ref(topic)))
    t.add_output(Output("Env", Value=context["env"]))
    return t.to_json()


def get_stack_policy():
    return json.dumps({"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]})


def started(context):
    with open("started.txt", "w") as f:
        f.write(context["tool"] + " " + context["command"])


def write_outputs(params):
    context, config = params
    with open("outputs.json", "w") as f:
        json.dump(context.get("stack_output"), f)
    print("hook saw the outputs")


def register():
    gcdt_signals.initialized.connect(started)
    gcdt_signals.command_finalized.connect(write_outputs)
"#;

fn venv() -> String {
    repo_root().join(".venv").display().to_string()
}

fn project(moto: &Moto, config: Value) -> Project {
    let project = Project::with(PLUGINS).aws(moto).env("VIRTUAL_ENV", &venv());
    project.file("fink_dev.json", &config.to_string());
    project
}

fn read(project: &Project, file: &str) -> String {
    std::fs::read_to_string(project.dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn a_troposphere_cloudformation_py_deploys_with_its_hooks_and_stack_policy() {
    let moto = Moto::shared();
    let stack = unique("pystack");
    let project = project(
        moto,
        json!({"cloud": {"stack": {"StackName": stack}, "parameters": {"TopicName": format!("{stack}-alerts")}}}),
    );
    project.file("cloudformation.py", CLOUDFORMATION_PY);

    let run = project.fink(&["cloud", "deploy", "-e", "dev"]).ok();
    let run = run.stderr_has("hook saw the outputs");
    assert!(!run.stderr.contains("it is not called"), "{}", run.stderr);
    // gcdt loaded cloudformation.py before the lifecycle, so its initialized function ran: so it does here.
    assert_eq!(read(&project, "started.txt"), "cloud deploy");
    let outputs: Value = serde_json::from_str(&read(&project, "outputs.json")).unwrap();
    assert_eq!(outputs["Env"], "dev", "{outputs}");
    assert!(outputs["AlertsArn"].as_str().is_some_and(|a| a.ends_with(&format!(":{stack}-alerts"))), "{outputs}");
    let (resources, policy) = block_on(async {
        let client = aws_sdk_cloudformation::Client::new(&moto.sdk_config(REGION).await);
        let resources = client.describe_stack_resources().stack_name(&stack).send().await.unwrap();
        let types: Vec<String> =
            resources.stack_resources().iter().filter_map(|r| r.resource_type().map(String::from)).collect();
        let policy = client.get_stack_policy().stack_name(&stack).send().await.unwrap();
        (types, policy.stack_policy_body().unwrap_or_default().to_string())
    });
    assert_eq!(resources, ["AWS::SNS::Topic"]);
    let policy: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(policy["Statement"][0]["Action"], "Update:*", "get_stack_policy() wins over the default: {policy}");

    // cloud generate prints what generate_template() returned.
    let generated: Value =
        serde_json::from_str(&project.fink(&["cloud", "generate", "-", "-e", "dev"]).ok().stdout).unwrap_or_default();
    assert_eq!(
        generated["Resources"]["Alerts"]["Properties"]["TopicName"],
        json!(format!("{stack}-alerts")),
        "{generated}"
    );
}

#[test]
fn a_hookfile_changes_config_and_context_and_its_errors_name_file_function_and_signal() {
    let moto = Moto::shared();
    let project = project(moto, json!({"hookfile": "hooks/fink_hooks.py", "cloud": {"stack": {"StackName": "x"}}}));
    project.file(
        "hooks/fink_hooks.py",
        r#"from fink import fink_signals

def tag(params):
    context, config = params
    config["cloud"]["stack"]["StackName"] = "tagged-" + context["env"]
    context["release"] = "r7"

def check(params):
    context, config = params
    assert context["release"] == "r7"
    print("release", context["release"], "for", config["cloud"]["stack"]["StackName"])

def register():
    fink_signals.initialized.connect(print)
    fink_signals.config_validation_init.connect(tag)
    fink_signals.config_validation_finalized.connect(check)
"#,
    );
    let run = project.fink(&["config", "-e", "dev"]).ok().stderr_has("release r7 for tagged-dev");
    // A hookfile is named by the config, so it is read after initialized, as in gcdt.
    let run = run.stderr_has(
        "fink_hooks.py connects initialized, which fires before fink loads fink_hooks.py: it is not called",
    );
    let config: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["cloud"]["stack"]["StackName"], "tagged-dev");

    project.file(
        "hooks/fink_hooks.py",
        "from fink import fink_signals\n\ndef boom(params):\n    raise ValueError('no release for ' + params[0]['env'])\n\n\
         def register():\n    fink_signals.config_validation_init.connect(boom)\n",
    );
    let run = project.fink(&["config", "-e", "dev"]).code(1);
    let run = run.stderr_has("fink_hooks.py: boom (config_validation_init) raised ValueError: no release for dev");
    assert!(!run.stderr.contains("Traceback"), "the traceback is for -v: {}", run.stderr);
    project
        .fink(&["-v", "config", "-e", "dev"])
        .code(1)
        .stderr_has("Traceback (most recent call last)")
        .stderr_has("in boom");

    project.file("fink_dev.json", &json!({"hookfile": "hooks/missing.py"}).to_string());
    project
        .fink(&["config", "-e", "dev"])
        .code(1)
        .stderr_has("hooks/missing.py (the config's hookfile) does not exist");
}

#[test]
fn a_gcdt_env_py_config_provides_the_config_and_wins_over_json() {
    let moto = Moto::shared();
    let project = Project::with(PLUGINS).aws(moto);
    project.file(
        "gcdt_dev.py",
        "def generate_config():\n    return {'cloud': {'stack': {'StackName': 'from-python'}, 'parameters': {'Size': 3}}}\n",
    );
    let run = project.fink(&["config", "-e", "dev"]).ok();
    let config: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["cloud"]["stack"]["StackName"], "from-python", "{config:#}");
    assert_eq!(config["cloud"]["parameters"]["Size"], 3);

    project.file("gcdt_dev.json", &json!({"cloud": {"stack": {"StackName": "from-json"}}}).to_string());
    let run = project
        .fink(&["config", "-e", "dev"])
        .ok()
        .stderr_has("both gcdt_dev.py and gcdt_dev.json exist: using gcdt_dev.py, as gcdt did");
    let config: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["cloud"]["stack"]["StackName"], "from-python");

    project.file("gcdt_dev.py", "CONFIG = {}\n");
    project.fink(&["config", "-e", "dev"]).code(1).stderr_has("gcdt_dev.py has no generate_config()");
}

#[test]
fn gcdt_helper_modules_and_a_missing_python_are_named() {
    let moto = Moto::shared();
    let project = project(moto, json!({"cloud": {"stack": {"StackName": unique("pyerr")}}}));
    project.file(
        "cloudformation.py",
        "from gcdt_kumo.kumo_viz import cfn_viz\n\ndef generate_template():\n    return '{}'\n",
    );
    // gcdt's helpers are shipped (tests/e2e/gcdt_projects.rs); gcdt's other modules are named.
    project
        .fink(&["cloud", "generate", "-e", "dev"])
        .code(1)
        .stderr_has("cloudformation.py: loading it raised ImportError: gcdt_kumo.kumo_viz is a gcdt module that fink does not provide");

    project.file("cloudformation.py", CLOUDFORMATION_PY);
    project.file(
        "fink_dev.json",
        &json!({"python": "/no/such/python3", "cloud": {"stack": {"StackName": "x"}}}).to_string(),
    );
    project.fink(&["cloud", "generate", "-e", "dev"]).code(1).stderr_has(
        "cloudformation.py needs Python, but /no/such/python3 (from the config's `python` key) was not found",
    );

    // Without python3 on PATH (and no virtualenv): the same one line.
    let bare = Project::with(PLUGINS).env("PATH", "/nonexistent").env("VIRTUAL_ENV", "");
    bare.file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": "x"}}}).to_string());
    bare.file("cloudformation.py", CLOUDFORMATION_PY);
    bare.fink(&["cloud", "generate", "-e", "dev"])
        .code(1)
        .stderr_has("cloudformation.py needs Python, but python3 (from PATH) was not found");
}

/// A project whose hookfile connects `function` (defined in `code`) to config_validation_init.
fn hookfile_project(moto: &Moto, code: &str, function: &str, extra: Value) -> Project {
    let mut config = json!({"hookfile": "fink_hooks.py", "cloud": {"stack": {"StackName": "x"}}});
    for (key, value) in extra.as_object().into_iter().flatten() {
        config[key] = value.clone();
    }
    let project = project(moto, config);
    project.file(
        "fink_hooks.py",
        &format!(
            "import sys, time\nfrom fink import fink_signals\n\n{code}\n\ndef register():\n    \
             fink_signals.config_validation_init.connect({function})\n"
        ),
    );
    project
}

#[test]
fn a_python_hook_reading_stdin_gets_it_empty_and_input_fails_with_a_clear_line() {
    let moto = Moto::shared();
    let read = "def read(params):\n    params[1]['stdin'] = sys.stdin.read()\n    print('read', len(params[1]['stdin']), 'bytes')";
    let project = hookfile_project(moto, read, "read", json!({}));
    let run = project.fink_within(Duration::from_secs(60), &["config", "-e", "dev"]).ok().stderr_has("read 0 bytes");
    let config: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["stdin"], "", "{config:#}");

    let ask = "def ask(params):\n    params[1]['ticket'] = input('ticket? ')";
    let project = hookfile_project(moto, ask, "ask", json!({}));
    project
        .fink_within(Duration::from_secs(60), &["config", "-e", "dev"])
        .code(1)
        .stderr_has("fink_hooks.py: ask (config_validation_init) raised EOFError: EOF when reading a line")
        .stderr_has("Python hooks have an empty stdin");
}

#[test]
fn a_python_hook_handing_back_nan_is_named() {
    let moto = Moto::shared();
    let nan = "def ratio(params):\n    params[1]['cloud']['ratio'] = float('nan')";
    let project = hookfile_project(moto, nan, "ratio", json!({}));
    project.fink_within(Duration::from_secs(60), &["config", "-e", "dev"]).code(1).stderr_has(
        "fink_hooks.py: ratio (config_validation_init): config['cloud']['ratio'] is nan, which JSON cannot carry (it has no NaN or infinities)",
    );
    let infinity = "def ratio(params):\n    params[0]['ratio'] = [1.5, float('inf')]";
    let project = hookfile_project(moto, infinity, "ratio", json!({}));
    project.fink_within(Duration::from_secs(60), &["config", "-e", "dev"]).code(1).stderr_has(
        "fink_hooks.py: ratio (config_validation_init): context['ratio'][1] is inf, which JSON cannot carry",
    );
}

#[test]
fn a_python_hook_over_python_timeout_is_ended_naming_it() {
    let moto = Moto::shared();
    let slow =
        "def slow(params):\n    open('slow.pid', 'w').write(str(__import__('os').getpid()))\n    time.sleep(300)";
    let project = hookfile_project(moto, slow, "slow", json!({"python_timeout": 1}));
    let started = Instant::now();
    let run = project.fink_within(Duration::from_secs(60), &["config", "-e", "dev"]).code(1).stderr_has(
        "fink_hooks.py: slow (config_validation_init) did not finish within 1 s: fink ended its Python process",
    );
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    let pid = std::fs::read_to_string(project.dir().join("slow.pid")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(stat.is_empty() || stat.contains(") Z"), "the Python process {pid} still runs:\n{}", run.stderr);

    project.file("fink_dev.json", &json!({"hookfile": "fink_hooks.py", "python_timeout": 1e30}).to_string());
    project
        .fink_within(Duration::from_secs(60), &["config", "-e", "dev"])
        .code(1)
        .stderr_has("python_timeout must be a number of seconds above 0 and at most 31536000 (a year), got 1e+30");
}
