//! Ctrl-C during `cloud deploy`. moto completes stacks at once and has no CancelUpdateStack, so
//! these tests put the fault-injection proxy (proxy.rs) in front of it: the one place a proxy
//! stands in for AWS behaviour moto lacks.

use std::process::Child;
use std::time::Duration;

use fink_test_support::Moto;
use serde_json::json;

use crate::aws::unique;
use crate::proxy::Proxy;
use crate::support::{Project, Run};

fn template(value: &str) -> String {
    json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"V": {"Value": value}}}).to_string()
}

fn setup(moto: &Moto) -> (Project, Proxy, String) {
    let proxy = Proxy::start(moto.endpoint());
    let name = unique("ctrlc");
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-cloud", "fink-fixture-alpha"])
        .aws(moto)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint());
    project.file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": name}}}).to_string());
    (project, proxy, name)
}

fn interrupt(child: &Child) {
    // Let the deploy reach its wait for the stack.
    std::thread::sleep(Duration::from_millis(500));
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

fn finish(child: Child) -> Run {
    Run::from(child.wait_with_output().unwrap())
}

#[test]
fn the_first_ctrl_c_cancels_an_update_and_waits_for_the_rollback() {
    let moto = Moto::shared();
    let (project, proxy, name) = setup(moto);
    project.file("cloudformation.json", &template("one"));
    project.fink(&["cloud", "deploy", "-e", "dev"]).ok();

    project.file("cloudformation.json", &template("two"));
    proxy.hold(false);
    let child = project.spawn(&["cloud", "deploy", "-e", "dev"]);
    proxy.wait_for("UpdateStack", 1);
    interrupt(&child);
    let run = finish(child)
        .code(130)
        .stderr_has(&format!("interrupted: cancelling the update of stack '{name}'"))
        .stderr_has(&format!("update of stack '{name}' cancelled; the stack is UPDATE_ROLLBACK_COMPLETE"));
    assert!(proxy.actions().contains(&"CancelUpdateStack".to_string()), "{:?}", proxy.actions());
    // The lifecycle still ends with error and finalized.
    let signals: Vec<String> =
        project.recorded().iter().filter_map(|l| l.split(' ').nth(1).map(String::from)).collect();
    assert!(signals.ends_with(&["error".to_string(), "finalized".to_string()]), "{signals:?}\n{}", run.stderr);
}

#[test]
fn a_second_ctrl_c_detaches_at_once() {
    let moto = Moto::shared();
    let (project, proxy, name) = setup(moto);
    project.file("cloudformation.json", &template("one"));
    project.fink(&["cloud", "deploy", "-e", "dev"]).ok();

    project.file("cloudformation.json", &template("two"));
    proxy.hold(true);
    let child = project.spawn(&["cloud", "deploy", "-e", "dev"]);
    proxy.wait_for("UpdateStack", 1);
    interrupt(&child);
    proxy.wait_for("CancelUpdateStack", 1);
    interrupt(&child);
    finish(child)
        .code(130)
        .stderr_has(&format!("interrupted again: stopped waiting; stack '{name}' is UPDATE_IN_PROGRESS"))
        .stderr_has("fink cloud list");
}

#[test]
fn ctrl_c_during_a_create_stops_waiting_and_says_how_to_delete() {
    let moto = Moto::shared();
    let (project, proxy, name) = setup(moto);
    project.file("cloudformation.json", &template("one"));
    proxy.hold(true);
    let child = project.spawn(&["cloud", "deploy", "-e", "dev"]);
    proxy.wait_for("CreateStack", 1);
    interrupt(&child);
    finish(child)
        .code(130)
        .stderr_has(&format!("interrupted: stopped waiting; CloudFormation goes on creating stack '{name}'"))
        .stderr_has("fink cloud delete -f");
    assert!(!proxy.actions().contains(&"CancelUpdateStack".to_string()));
}

#[test]
fn ctrl_c_when_cancel_update_stack_is_refused_says_the_update_goes_on_and_follows_it() {
    let moto = Moto::shared();
    let (project, proxy, name) = setup(moto);
    project.file("cloudformation.json", &template("one"));
    project.fink(&["cloud", "deploy", "-e", "dev"]).ok();

    // The update takes 4 s and ends on its own: the refused cancel changed nothing.
    project.file("cloudformation.json", &template("two"));
    proxy.refuse("CancelUpdateStack");
    proxy.hold_each(Duration::from_secs(4));
    let child = project.spawn(&["cloud", "deploy", "-e", "dev"]);
    proxy.wait_for("UpdateStack", 1);
    interrupt(&child);
    let run = crate::faults::finish_within(child, Duration::from_secs(120))
        .ok()
        .stderr_has(&format!("could not cancel the update of stack '{name}' (AccessDenied: User: "))
        .stderr_has("(fink test proxy)): it goes on unchanged; following it (Ctrl-C again to stop following)")
        .stdout_has("two");
    assert!(!run.stderr.contains("cancelled; the stack is"), "no cancel happened: {}", run.stderr);
    assert!(proxy.actions().contains(&"CancelUpdateStack".to_string()), "{:?}", proxy.actions());
}

#[test]
fn a_second_ctrl_c_after_a_refused_cancel_says_the_update_goes_on() {
    let moto = Moto::shared();
    let (project, proxy, name) = setup(moto);
    project.file("cloudformation.json", &template("one"));
    project.fink(&["cloud", "deploy", "-e", "dev"]).ok();

    project.file("cloudformation.json", &template("two"));
    proxy.refuse("CancelUpdateStack");
    proxy.hold(false);
    let child = project.spawn(&["cloud", "deploy", "-e", "dev"]);
    proxy.wait_for("UpdateStack", 1);
    interrupt(&child);
    proxy.wait_for("CancelUpdateStack", 1);
    interrupt(&child);
    let run = crate::faults::finish_within(child, Duration::from_secs(120))
        .code(130)
        .stderr_has(&format!("could not cancel the update of stack '{name}' (AccessDenied"))
        .stderr_has(&format!(
            "interrupted again: stopped following; the update of stack '{name}' goes on (it could not be cancelled); \
             the stack is UPDATE_IN_PROGRESS"
        ))
        .stderr_has("fink cloud list");
    assert!(!run.stderr.contains("stopped waiting; stack"), "{}", run.stderr);
}
