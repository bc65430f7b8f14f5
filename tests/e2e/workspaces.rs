//! Many projects at once (`cloud deploy|preview|delete --all`, `cloud graph`) through the real
//! binary against moto: a tree of six projects (a base, two that look it up, one that needs
//! both, two independent ones) deployed in dependency order, failures, cycles, duplicates,
//! `--only`, preview and reverse-order delete.

use fink_test_support::{block_on, Call, Moto, REGION};
use serde_json::{json, Value};

use crate::aws::unique;
use crate::proxy::Proxy;
use crate::support::{Project, Run};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-lookups", "fink-plugin-cloud"];

/// A topic stack whose outputs say what it looked up.
fn template(parameters: &[&str]) -> String {
    let mut params = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    for p in parameters {
        params.insert(p.to_string(), json!({"Type": "String"}));
        outputs.insert(p.to_string(), json!({"Value": {"Ref": p}}));
    }
    outputs.insert("TopicArn".into(), json!({"Value": {"Ref": "Topic"}}));
    json!({"Parameters": params, "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}).to_string()
}

/// The tree: folder → (stack, parameters as lookups of other folders' stacks).
struct Tree {
    root: Project,
    prefix: String,
}

impl Tree {
    fn new(moto: &Moto) -> Tree {
        Tree::at(Project::with(PLUGINS).aws(moto))
    }

    /// The tree in `root` (e.g. one whose AWS goes through the proxy).
    fn at(root: Project) -> Tree {
        let tree = Tree { root, prefix: unique("ws") };
        tree.project("base", &[]);
        tree.project("services/app-a", &[("Base", "base")]);
        tree.project("services/app-b", &[("Base", "base")]);
        tree.project("edge", &[("A", "services/app-a"), ("B", "services/app-b")]);
        tree.project("solo-1", &[]);
        tree.project("solo-2", &[]);
        // Not projects: no cloud section, and a dependency folder.
        tree.root.file("docs/fink_dev.json", "{\"hello\": {}}");
        tree.root.file("node_modules/x/fink_dev.json", "{\"cloud\": {\"stack\": {\"StackName\": \"never\"}}}");
        tree
    }

    fn stack(&self, folder: &str) -> String {
        format!("{}-{}", self.prefix, folder.rsplit('/').next().unwrap())
    }

    /// A project in `folder` whose parameters look up the TopicArn of other folders' stacks.
    fn project(&self, folder: &str, needs: &[(&str, &str)]) {
        let params: serde_json::Map<String, Value> = needs
            .iter()
            .map(|(p, f)| (p.to_string(), json!(format!("lookup:stack:{}:TopicArn", self.stack(f)))))
            .collect();
        let names: Vec<&str> = needs.iter().map(|(p, _)| *p).collect();
        self.root.file(&format!("{folder}/cloudformation.json"), &template(&names));
        let config = json!({"cloud": {"stack": {"StackName": self.stack(folder)}, "parameters": params}});
        self.root.file(&format!("{folder}/fink_dev.json"), &config.to_string());
    }

    fn fink(&self, args: &[&str]) -> Run {
        self.root.fink(args)
    }
}

fn outputs(moto: &Moto, stack: &str) -> Option<Value> {
    block_on(async {
        let client = aws_sdk_cloudformation::Client::new(&moto.sdk_config(REGION).await);
        let out = client.describe_stacks().stack_name(stack).send().await.ok()?;
        let stack = out.stacks().first()?.clone();
        if stack.stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE") {
            return None;
        }
        let outputs: serde_json::Map<String, Value> = stack
            .outputs()
            .iter()
            .map(|o| (o.output_key().unwrap_or_default().to_string(), json!(o.output_value().unwrap_or_default())))
            .collect();
        Some(Value::Object(outputs))
    })
}

/// The stacks of CloudFormation `action` calls in the order moto saw them, among `ours`.
fn order(calls: &[Call], action: &str, ours: &[String]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.service == "cloudformation" && c.action == action)
        .filter_map(|c| c.body.split('&').find_map(|kv| kv.strip_prefix("StackName=")).map(String::from))
        .filter(|s| ours.contains(s))
        .collect()
}

fn position(list: &[String], item: &str) -> usize {
    list.iter().position(|s| s == item).unwrap_or_else(|| panic!("{item} not in {list:?}"))
}

#[test]
fn a_tree_deploys_in_dependency_order_and_dependents_see_new_outputs() {
    let moto = Moto::shared();
    let tree = Tree::new(moto);
    let stacks: Vec<String> = ["base", "services/app-a", "services/app-b", "edge", "solo-1", "solo-2"]
        .iter()
        .map(|f| tree.stack(f))
        .collect();

    let graph = tree.fink(&["cloud", "graph", "--all", "-e", "dev", "--json"]).ok().json();
    assert_eq!(graph["layers"], json!([["base", "solo-1", "solo-2"], ["services/app-a", "services/app-b"], ["edge"]]));

    let (run, calls) = moto.record(|| tree.fink(&["cloud", "deploy", "--all", "-e", "dev"]));
    let run = run.ok();
    let created = order(&calls, "CreateStack", &stacks);
    assert_eq!(created.len(), 6, "{created:?}\n{}", run.stderr);
    let at = |folder: &str| position(&created, &tree.stack(folder));
    assert!(at("base") < at("services/app-a") && at("base") < at("services/app-b"), "{created:?}");
    assert!(at("services/app-a") < at("edge") && at("services/app-b") < at("edge"), "{created:?}");
    // The outputs of stacks created in this run reached the lookups of those after them.
    let base = outputs(moto, &tree.stack("base")).unwrap()["TopicArn"].clone();
    assert_eq!(outputs(moto, &tree.stack("services/app-a")).unwrap()["Base"], base);
    let app_b = outputs(moto, &tree.stack("services/app-b")).unwrap()["TopicArn"].clone();
    assert_eq!(outputs(moto, &tree.stack("edge")).unwrap()["B"], app_b);
    assert!(outputs(moto, "never").is_none());
    let run = run.stderr_has("[services/app-a] deploying").stderr_has("[edge] created");
    let summary = &run.stdout;
    assert!(summary.contains("wall time") && summary.contains("of project time"), "{summary}");
    assert_eq!(summary.matches("created").count(), 6, "{summary}");

    // Again: every project is up to date.
    let run = tree.fink(&["cloud", "deploy", "--all", "-e", "dev", "--max-parallel", "2"]).ok();
    assert_eq!(run.stdout.matches("up to date").count(), 6, "{}", run.stdout);

    // Preview: nothing changes anywhere.
    let run = tree.fink(&["cloud", "preview", "--all", "-e", "dev"]).ok();
    assert_eq!(run.stdout.matches("no changes").count(), 6, "{}", run.stdout);

    // Delete: refused without -f, listing the order; with -f, dependents go first.
    let run = tree.fink(&["cloud", "delete", "--all", "-e", "dev"]).code(1);
    let run = run.stderr_has("not deleting 6 stack(s) without -f, in this order: edge (");
    assert!(outputs(moto, &tree.stack("edge")).is_some(), "{}", run.stderr);
    let (run, calls) = moto.record(|| tree.fink(&["cloud", "delete", "--all", "-f", "-e", "dev"]));
    run.ok();
    let deleted = order(&calls, "DeleteStack", &stacks);
    let at = |folder: &str| position(&deleted, &tree.stack(folder));
    assert!(at("edge") < at("services/app-a") && at("services/app-a") < at("base"), "{deleted:?}");
    assert!(stacks.iter().all(|s| outputs(moto, s).is_none()));
}

#[test]
fn a_failure_skips_its_dependents_and_the_rest_goes_on() {
    let moto = Moto::shared();
    let tree = Tree::new(moto);
    tree.root.file("services/app-a/cloudformation.json", "{\"Resources\": ");
    let run = tree.fink(&["cloud", "deploy", "--all", "-e", "dev"]).code(1);
    let run = run.stderr_has("1 of the projects failed: services/app-a; 1 skipped");
    assert!(run.stdout.contains("skipped (needs services/app-a, which failed)"), "{}", run.stdout);
    assert!(outputs(moto, &tree.stack("edge")).is_none(), "edge needs app-a");
    for folder in ["base", "services/app-b", "solo-1", "solo-2"] {
        assert!(outputs(moto, &tree.stack(folder)).is_some(), "{folder} does not need app-a");
    }

    // --only edge: edge and what it needs, nothing else (solo-2 is not in the run).
    tree.project("services/app-a", &[("Base", "base")]);
    let run = tree.fink(&["cloud", "deploy", "--all", "-e", "dev", "--only", "edge"]).ok();
    assert!(outputs(moto, &tree.stack("edge")).is_some());
    assert!(!run.stdout.contains("solo-2"), "{}", run.stdout);
    assert!(run.stdout.contains("services/app-a"), "{}", run.stdout);
}

#[test]
fn preview_marks_what_may_change_after_a_dependency_with_changes() {
    let moto = Moto::shared();
    let tree = Tree::new(moto);
    tree.fink(&["cloud", "deploy", "--all", "-e", "dev", "--only", "services/app-a"]).ok();
    let changed = json!({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Second": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}
    });
    tree.root.file("base/cloudformation.json", &changed.to_string());
    let run = tree.fink(&["cloud", "preview", "--all", "-e", "dev", "--only", "services/app-a"]).ok();
    let run = run.stderr_has("[base] changes (").stderr_has("[services/app-a] no changes (may change after base)");
    assert!(!run.stdout.contains("edge"), "{}", run.stdout);
}

#[test]
fn cycles_and_two_projects_with_one_stack_are_errors_naming_them() {
    let moto = Moto::shared();
    let tree = Tree::new(moto);
    tree.project("base", &[("E", "edge")]);
    tree.fink(&["cloud", "deploy", "--all", "-e", "dev"])
        .code(1)
        .stderr_has("the projects need each other in a circle: base → edge → services/app-a → base");

    let tree = Tree::new(moto);
    let config = json!({"cloud": {"stack": {"StackName": tree.stack("base")}}});
    tree.root.file("solo-2/fink_dev.json", &config.to_string());
    tree.fink(&["cloud", "graph", "--all", "-e", "dev"])
        .code(1)
        .stderr_has(&format!("projects base and solo-2 both deploy stack '{}'", tree.stack("base")));
    let tree = Tree::new(moto);
    tree.fink(&["cloud", "deploy", "--all", "-e", "dev", "--only", "nowhere"])
        .code(1)
        .stderr_has("no project 'nowhere' in the tree");
}

#[test]
fn the_first_ctrl_c_is_passed_to_the_running_projects_and_nothing_new_starts() {
    let moto = Moto::shared();
    let proxy = Proxy::start(moto.endpoint());
    // CloudFormation takes its time: the first layer (base, solo-1, solo-2) stays in progress.
    proxy.hold_each(std::time::Duration::from_secs(60));
    let tree = Tree::at(Project::with(PLUGINS).aws(moto).env("AWS_ENDPOINT_URL", &proxy.endpoint()));
    let child = tree.root.spawn(&["cloud", "deploy", "--all", "-e", "dev"]);
    proxy.wait_for("CreateStack", 3);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let run = Run::from(child.wait_with_output().unwrap()).code(130);
    let run = run.stderr_has("interrupted: the running projects cancel their updates; nothing new starts");
    // Each running fink got it once: it stopped waiting for its create, as a single deploy does.
    assert_eq!(
        run.stderr.matches("stopped waiting; CloudFormation goes on creating stack").count(),
        3,
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout.matches("failed: interrupted").count(), 3, "{}", run.stdout);
    assert_eq!(
        proxy.actions().iter().filter(|a| *a == "CreateStack").count(),
        3,
        "nothing new started: {:?}",
        proxy.actions()
    );
}
