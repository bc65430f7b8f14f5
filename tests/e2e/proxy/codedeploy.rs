//! The proxy's CodeDeploy part. moto creates applications, groups and deployments, but a
//! deployment stays `Created` for ever and StopDeployment, ListDeploymentTargets and
//! BatchGetDeploymentTargets are not implemented. With a [`Script`], the proxy plays the
//! deployment: GetDeployment answers (from moto) show InProgress for `polls` answers, then the
//! scripted end; the targets calls are answered here with the scripted instances and their
//! lifecycle events; StopDeployment is recorded and makes the deployment `Stopped`.

use serde_json::{json, Value};

/// How a scripted deployment ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Succeed,
    /// The last instance fails in BeforeInstall with a script error.
    Fail,
    /// Stays InProgress until stopped (`stop_after` more polls once StopDeployment came; `None`:
    /// never, for a second Ctrl-C).
    Hold {
        stop_after: Option<usize>,
    },
}

#[derive(Debug, Clone)]
pub struct Script {
    pub instances: Vec<String>,
    pub polls: usize,
    pub end: End,
}

/// The standard in-place lifecycle events, in order.
const EVENTS: [&str; 8] = [
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "BeforeAllowTraffic",
];

/// The scripted deployment's state.
#[derive(Debug, Default)]
pub struct Play {
    pub script: Option<Script>,
    pub polls: usize,
    /// Polls since StopDeployment.
    pub stopped: Option<usize>,
}

impl Play {
    fn phase(&self) -> Phase {
        let Some(script) = &self.script else { return Phase::Passthrough };
        if let Some(since) = self.stopped {
            return match script.end {
                End::Hold { stop_after: Some(n) } if since >= n => Phase::Stopped,
                End::Hold { stop_after: None } => Phase::Running,
                _ if since >= 1 => Phase::Stopped,
                _ => Phase::Running,
            };
        }
        match script.end {
            End::Hold { .. } => Phase::Running,
            _ if self.polls < script.polls => Phase::Running,
            End::Succeed => Phase::Succeeded,
            End::Fail => Phase::Failed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Passthrough,
    Running,
    Succeeded,
    Failed,
    Stopped,
}

/// An answer given here instead of moto's, for the operations moto lacks.
pub fn answer(play: &mut Play, operation: &str, request: &Value) -> Option<Value> {
    let script = play.script.clone()?;
    match operation {
        "StopDeployment" => {
            play.stopped = Some(0);
            Some(json!({"status": "Pending", "statusMessage": "Stopping the deployment"}))
        }
        "ListDeploymentTargets" => Some(json!({"targetIds": script.instances})),
        "BatchGetDeploymentTargets" => {
            let phase = play.phase();
            let wanted: Vec<&str> =
                request["targetIds"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let targets: Vec<Value> = script
                .instances
                .iter()
                .enumerate()
                .filter(|(_, id)| wanted.contains(&id.as_str()))
                .map(|(i, id)| target(id, phase, i + 1 == script.instances.len(), play.polls))
                .collect();
            Some(json!({"deploymentTargets": targets}))
        }
        _ => None,
    }
}

/// Rewrites moto's GetDeployment answer (status `Created`) to the scripted phase; counts the poll.
pub fn rewrite_get_deployment(play: &mut Play, body: &str) -> Option<String> {
    play.script.as_ref()?;
    let mut answer: Value = serde_json::from_str(body).ok()?;
    let phase = play.phase();
    play.polls += 1;
    if let Some(since) = play.stopped.as_mut() {
        *since += 1;
    }
    let count = play.script.as_ref().map_or(0, |s| s.instances.len());
    let info = answer.get_mut("deploymentInfo")?;
    let (status, overview) = match phase {
        Phase::Passthrough => return None,
        Phase::Running => ("InProgress", json!({"Pending": 0, "InProgress": count, "Succeeded": 0, "Failed": 0})),
        Phase::Succeeded => ("Succeeded", json!({"Pending": 0, "InProgress": 0, "Succeeded": count, "Failed": 0})),
        Phase::Failed => ("Failed", json!({"Pending": 0, "InProgress": 0, "Succeeded": count - 1, "Failed": 1})),
        Phase::Stopped => ("Stopped", json!({"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0})),
    };
    info["status"] = json!(status);
    info["deploymentOverview"] = overview;
    if phase == Phase::Failed {
        info["errorInformation"] = json!({"code": "HEALTH_CONSTRAINTS",
            "message": "The overall deployment failed because too many individual instances failed deployment"});
    }
    Some(answer.to_string())
}

fn target(id: &str, phase: Phase, last: bool, polls: usize) -> Value {
    let failing = last && phase == Phase::Failed;
    let events: Vec<Value> = EVENTS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let status = match phase {
                Phase::Succeeded => "Succeeded",
                _ if failing && *name == "BeforeInstall" => "Failed",
                _ if failing && i > 2 => "Skipped",
                Phase::Failed => "Succeeded",
                Phase::Running | Phase::Stopped if i < polls.min(2) => "Succeeded",
                _ => "Pending",
            };
            let mut event = json!({"lifecycleEventName": name, "status": status,
                "startTime": 1_700_000_000.0 + i as f64, "endTime": 1_700_000_001.5 + i as f64});
            if status == "Failed" {
                event["diagnostics"] = json!({"errorCode": "ScriptFailed", "scriptName": "scripts/install.sh",
                    "message": "Script at specified location: scripts/install.sh run as user root failed with exit code 1",
                    "logTail": "[stdout]installing\n[stderr]install: cannot create /opt/app: Permission denied\n"});
            }
            event
        })
        .collect();
    let status = match phase {
        Phase::Succeeded => "Succeeded",
        Phase::Failed if last => "Failed",
        Phase::Failed => "Succeeded",
        Phase::Stopped => "Skipped",
        _ => "InProgress",
    };
    json!({"deploymentTargetType": "InstanceTarget", "instanceTarget": {
        "targetId": id, "targetArn": format!("arn:aws:ec2:us-east-1:123456789012:instance/{id}"),
        "status": status, "lifecycleEvents": events}})
}
