//! `cloud stop` / `cloud start` against moto through the real binary: a stack with an Auto Scaling
//! group, an EC2 instance, an RDS DB instance and an ECS service, all made by `cloud deploy`.

use std::collections::BTreeMap;

use fink_test_support::{block_on, Moto, REGION};
use serde_json::json;

use crate::aws::unique;
use crate::support::Project;

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-cloud"];

fn template() -> String {
    json!({
        "Resources": {
            "Launch": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
                "LaunchTemplateData": {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}}},
            "Group": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
                "MinSize": "1", "MaxSize": "3", "DesiredCapacity": "2",
                "AvailabilityZones": [format!("{REGION}a")],
                "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Launch"},
                                   "Version": {"Fn::GetAtt": ["Launch", "LatestVersionNumber"]}}}},
            "Server": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}},
            "Database": {"Type": "AWS::RDS::DBInstance", "Properties": {
                "DBInstanceClass": "db.t3.micro", "Engine": "postgres", "AllocatedStorage": "20",
                "MasterUsername": "fink", "MasterUserPassword": "not-a-secret-123"}},
            "Cluster": {"Type": "AWS::ECS::Cluster"},
            "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "Family": {"Fn::Sub": "${AWS::StackName}-task"},
                "ContainerDefinitions": [{"Name": "web", "Image": "nginx", "Memory": 128}]}},
            "Service": {"Type": "AWS::ECS::Service", "Properties": {
                "Cluster": {"Ref": "Cluster"}, "TaskDefinition": {"Ref": "Task"}, "DesiredCount": 2}}
        }
    })
    .to_string()
}

fn project(moto: &Moto, name: &str, deployment: serde_json::Value) -> Project {
    let project = Project::with(PLUGINS).aws(moto);
    project.file("cloudformation.json", &template());
    project
        .file("fink_dev.json", &json!({"cloud": {"stack": {"StackName": name}, "deployment": deployment}}).to_string());
    project
}

/// The stack's physical ids by resource type.
fn resources(moto: &Moto, name: &str) -> BTreeMap<String, String> {
    block_on(async {
        let config = moto.sdk_config(REGION).await;
        let out = aws_sdk_cloudformation::Client::new(&config)
            .describe_stack_resources()
            .stack_name(name)
            .send()
            .await
            .unwrap();
        out.stack_resources()
            .iter()
            .map(|r| (r.resource_type().unwrap().to_string(), r.physical_resource_id().unwrap().to_string()))
            .collect()
    })
}

/// What the test checks after each command.
#[derive(Debug, PartialEq)]
struct State {
    /// min, max, desired
    group: (i32, i32, i32),
    /// The group's fink:stopped:* tags.
    group_record: BTreeMap<String, String>,
    instance: String,
    database: String,
    service_desired: i32,
    service_record: BTreeMap<String, String>,
}

fn state(moto: &Moto, ids: &BTreeMap<String, String>) -> State {
    let record = |pairs: Vec<(String, String)>| -> BTreeMap<String, String> {
        pairs.into_iter().filter(|(k, _)| k.starts_with("fink:stopped:")).collect()
    };
    block_on(async {
        let config = moto.sdk_config(REGION).await;
        let groups = aws_sdk_autoscaling::Client::new(&config)
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(&ids["AWS::AutoScaling::AutoScalingGroup"])
            .send()
            .await
            .unwrap();
        let group = &groups.auto_scaling_groups()[0];
        let instances = aws_sdk_ec2::Client::new(&config)
            .describe_instances()
            .instance_ids(&ids["AWS::EC2::Instance"])
            .send()
            .await
            .unwrap();
        let instance = instances.reservations()[0].instances()[0].state().unwrap().name().unwrap().as_str().to_string();
        let dbs = aws_sdk_rds::Client::new(&config)
            .describe_db_instances()
            .db_instance_identifier(&ids["AWS::RDS::DBInstance"])
            .send()
            .await
            .unwrap();
        let services = aws_sdk_ecs::Client::new(&config)
            .describe_services()
            .cluster(&ids["AWS::ECS::Cluster"])
            .services(&ids["AWS::ECS::Service"])
            .include(aws_sdk_ecs::types::ServiceField::Tags)
            .send()
            .await
            .unwrap();
        let service = &services.services()[0];
        State {
            group: (group.min_size().unwrap(), group.max_size().unwrap(), group.desired_capacity().unwrap()),
            group_record: record(
                group.tags().iter().map(|t| (t.key().unwrap().into(), t.value().unwrap_or_default().into())).collect(),
            ),
            instance,
            database: dbs.db_instances()[0].db_instance_status().unwrap().to_string(),
            service_desired: service.desired_count(),
            service_record: record(
                service
                    .tags()
                    .iter()
                    .map(|t| (t.key().unwrap().into(), t.value().unwrap_or_default().into()))
                    .collect(),
            ),
        }
    })
}

fn resize(moto: &Moto, group: &str, min: i32, max: i32, desired: i32) {
    block_on(async {
        let config = moto.sdk_config(REGION).await;
        aws_sdk_autoscaling::Client::new(&config)
            .update_auto_scaling_group()
            .auto_scaling_group_name(group)
            .min_size(min)
            .max_size(max)
            .desired_capacity(desired)
            .send()
            .await
            .unwrap();
    });
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn stop_records_and_scales_down_then_start_restores_exactly() {
    let moto = Moto::shared();
    let name = unique("stopstart");
    let project = project(moto, &name, json!({}));
    project.fink(&["cloud", "deploy", "-e", "dev"]).ok();
    let ids = resources(moto, &name);
    let running = State {
        group: (1, 3, 2),
        group_record: BTreeMap::new(),
        instance: "running".into(),
        database: "available".into(),
        service_desired: 2,
        service_record: BTreeMap::new(),
    };
    assert_eq!(state(moto, &ids), running);

    let run = project.fink(&["cloud", "stop", "-e", "dev"]).ok();
    let group = &ids["AWS::AutoScaling::AutoScalingGroup"];
    let instance = &ids["AWS::EC2::Instance"];
    let database = &ids["AWS::RDS::DBInstance"];
    for line in [
        format!("Auto Scaling group  {group}  min/max/desired 1/3/2 → 0/0/0"),
        format!("EC2 instance        {instance}  running → stopped"),
        format!("RDS DB instance     {database}  available → stopped"),
        "  desired 2 → 0".to_string(),
        format!("stack '{name}': 4 stopped, 0 already stopped, 0 left as is, 0 failed"),
    ] {
        assert!(run.stdout.contains(&line), "stdout lacks {line:?}:\n{}", run.stdout);
    }
    let stopped = State {
        group: (0, 0, 0),
        group_record: tags(&[
            ("fink:stopped:DesiredCapacity", "2"),
            ("fink:stopped:MaxSize", "3"),
            ("fink:stopped:MinSize", "1"),
        ]),
        instance: "stopped".into(),
        database: "stopped".into(),
        service_desired: 0,
        service_record: tags(&[("fink:stopped:DesiredCount", "2")]),
    };
    assert_eq!(state(moto, &ids), stopped);

    // A second stop changes nothing and, above all, keeps the original values.
    let run = project.fink(&["cloud", "stop", "-e", "dev"]).ok();
    assert!(run.stdout.contains("already at desired 0, original 2 recorded"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("{group}  already at 0/0/0, original 1/3/2 recorded")), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("stack '{name}': 0 stopped, 4 already stopped, 0 left as is, 0 failed")),
        "{}",
        run.stdout
    );
    assert_eq!(state(moto, &ids), stopped);

    // Scaled up by hand (or a deploy) while stopped: stopping again still keeps the first record.
    resize(moto, group, 2, 4, 3);
    let run = project.fink(&["cloud", "stop", "-e", "dev"]).ok();
    assert!(run.stdout.contains("min/max/desired 2/4/3 → 0/0/0 (original 1/3/2 still recorded)"), "{}", run.stdout);
    assert_eq!(state(moto, &ids), stopped);

    let run = project.fink(&["cloud", "start", "-e", "dev"]).ok();
    for line in [
        format!("Auto Scaling group  {group}  min/max/desired 0/0/0 → 1/3/2"),
        format!("EC2 instance        {instance}  stopped → running"),
        format!("RDS DB instance     {database}  stopped → available"),
        "  desired 0 → 2".to_string(),
        format!("stack '{name}': 4 started, 0 already started, 0 left as is, 0 failed"),
    ] {
        assert!(run.stdout.contains(&line), "stdout lacks {line:?}:\n{}", run.stdout);
    }
    assert_eq!(state(moto, &ids), running);

    // Nothing recorded any more: start says so and leaves the group and service alone.
    let run = project.fink(&["cloud", "start", "-e", "dev"]).ok();
    assert!(run.stdout.contains("left as is: no record of a stop (no fink:stopped:* tags)"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("stack '{name}': 0 started, 2 already started, 2 left as is, 0 failed")),
        "{}",
        run.stdout
    );
    assert_eq!(state(moto, &ids), running);
}

#[test]
fn disable_stop_refuses_stop_and_start_naming_the_key() {
    let moto = Moto::shared();
    let name = unique("nostop");
    let project = project(moto, &name, json!({"DisableStop": true}));
    project.fink(&["cloud", "deploy", "-e", "dev"]).ok();
    let ids = resources(moto, &name);
    for command in ["stop", "start"] {
        project
            .fink(&["cloud", command, "-e", "dev"])
            .code(1)
            .stderr_has(&format!("stack '{name}': cloud.deployment.DisableStop is true"));
    }
    let now = state(moto, &ids);
    assert_eq!((now.group, now.instance.as_str(), now.database.as_str()), ((1, 3, 2), "running", "available"));
}

#[test]
fn stop_on_a_missing_stack_says_so() {
    let moto = Moto::shared();
    let name = unique("absent");
    let project = project(moto, &name, json!({}));
    project.fink(&["cloud", "stop", "-e", "dev"]).code(1).stderr_has(&format!("stack '{name}' does not exist"));
}
