//! A fault-injection proxy on 127.0.0.1 in front of moto, for the behaviours moto lacks:
//!
//! - CloudFormation's real durations: with [`Proxy::hold_each`], every stack created or updated
//!   through the proxy reports `*_IN_PROGRESS` for a while (moto completes stacks at once).
//! - CloudFormation: stacks that stay UPDATE_IN_PROGRESS, and CancelUpdateStack (moto answers
//!   500). While holding, DescribeStacks answers show UPDATE_IN_PROGRESS; CancelUpdateStack is
//!   recorded and answered here, and turns later answers into UPDATE_ROLLBACK_COMPLETE (unless
//!   told to keep holding).
//! - CodeDeploy: deployments that run (moto's stay `Created`), their instances' lifecycle events
//!   and StopDeployment; see [`codedeploy`].
//! - A call that fails: with [`Proxy::refuse`], StopDeployment or CancelUpdateStack (or any
//!   operation) is answered with AccessDenied, as for a role without that permission.
//! - A call that takes a while: with [`Proxy::delay`], moto's answer to matching requests is held
//!   back (a Lambda function that runs for seconds; moto's Docker-less Lambda answers at once).
//! - CloudFormation: a resource failing inside a nested stack (moto raises a resource's failure
//!   at once, and lists only stack-level events): with [`Proxy::add_event`] and
//!   [`Proxy::settle_as`], DescribeStackEvents answers gain the events and DescribeStacks answers
//!   the final status. With [`Proxy::nested_change_set`], a change set lists a nested stack's
//!   own change set (moto's change sets have none).
//! - API Gateway: UpdateDomainName (`PATCH /domainnames/<name>`, not implemented by moto 5.2.5)
//!   is recorded and answered here with the patched certificate.
//!
//! Everything else passes through unchanged.

// Spelled out so that the benchmarks, which include this file by path, find it too.
#[path = "proxy/codedeploy.rs"]
mod codedeploy;

pub use codedeploy::{End, Script as CodeDeploy};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    hold: bool,
    /// Set once a CreateStack or UpdateStack went through while holding.
    started: bool,
    hold_after_cancel: bool,
    cancelled: bool,
    actions: Vec<String>,
    play: codedeploy::Play,
    stop_requests: Vec<serde_json::Value>,
    domain_updates: Vec<(String, serde_json::Value)>,
    /// With `hold_each`: how long each stack stays in progress, and when each one started.
    hold_each: Option<std::time::Duration>,
    stack_started: std::collections::HashMap<String, std::time::Instant>,
    /// Operations answered with AccessDenied (see [`Proxy::refuse`]).
    refused: Vec<String>,
    /// Requests whose request line contains the text get moto's answer this much later.
    delays: Vec<(String, std::time::Duration)>,
    /// (a stack name or `prefix*`, a `<member>` event) added to DescribeStackEvents answers.
    events: Vec<(String, String)>,
    /// (stack name, status) DescribeStacks answers report instead of CREATE_COMPLETE.
    settled: Vec<(String, String)>,
    /// (logical id of a nested stack, the `<member>` changes of its change set).
    nested_change_sets: Vec<(String, String)>,
}

pub struct Proxy {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    pub fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &state);
                });
            }
        });
        Proxy { port, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on, stacks report UPDATE_IN_PROGRESS; with `after_cancel`, even after a cancel.
    pub fn hold(&self, after_cancel: bool) {
        let mut state = self.state.lock().unwrap();
        state.hold = true;
        state.hold_after_cancel = after_cancel;
    }

    /// From now on, each stack created or updated through the proxy reports `CREATE_IN_PROGRESS`
    /// or `UPDATE_IN_PROGRESS` for `duration` after its CreateStack/UpdateStack, as CloudFormation
    /// takes its time.
    pub fn hold_each(&self, duration: std::time::Duration) {
        self.state.lock().unwrap().hold_each = Some(duration);
    }

    /// The CloudFormation actions and CodeDeploy operations seen so far.
    pub fn actions(&self) -> Vec<String> {
        self.state.lock().unwrap().actions.clone()
    }

    /// From now on, CodeDeploy deployments play `script` (a new script starts a new play).
    pub fn codedeploy(&self, script: CodeDeploy) {
        self.state.lock().unwrap().play = codedeploy::Play { script: Some(script), ..Default::default() };
    }

    /// Waits (up to 60 s) until `action` has been seen `count` times in all.
    pub fn wait_for(&self, action: &str, count: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.actions().iter().filter(|a| *a == action).count() < count {
            assert!(std::time::Instant::now() < deadline, "not {count} {action} within 60 s: {:?}", self.actions());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The UpdateDomainName requests seen so far: (domain name, body).
    pub fn domain_updates(&self) -> Vec<(String, serde_json::Value)> {
        self.state.lock().unwrap().domain_updates.clone()
    }

    /// From now on, `operation` (e.g. `StopDeployment`, `CancelUpdateStack`) is answered with an
    /// AccessDenied error, as AWS answers a role without that permission; it is still recorded.
    pub fn refuse(&self, operation: &str) {
        self.state.lock().unwrap().refused.push(operation.to_string());
    }

    /// From now on, moto's answer to each request whose request line (`POST /2015-03-31/functions/
    /// <name>/invocations HTTP/1.1`) contains `part` is passed on `duration` after it came.
    pub fn delay(&self, part: &str, duration: std::time::Duration) {
        self.state.lock().unwrap().delays.push((part.to_string(), duration));
    }

    /// From now on, DescribeStackEvents answers for the stack named `stack` (with a trailing `*`:
    /// each stack whose name starts with the rest, as a nested stack's `<parent>-<logical id>-`)
    /// list this event as the newest.
    pub fn add_event(&self, stack: &str, logical_id: &str, kind: &str, status: &str, reason: &str) {
        let member = format!(
            "<member><StackId>proxy</StackId><EventId>proxy-{stack}-{logical_id}-{status}</EventId>\
             <StackName>{stack}</StackName><LogicalResourceId>{logical_id}</LogicalResourceId>\
             <ResourceType>{kind}</ResourceType><Timestamp>2026-01-01T00:00:00Z</Timestamp>\
             <ResourceStatus>{status}</ResourceStatus><ResourceStatusReason>{reason}</ResourceStatusReason></member>"
        );
        self.state.lock().unwrap().events.push((stack.to_string(), member));
    }

    /// From now on, DescribeStacks answers for the stack named `stack` report `status` instead of
    /// CREATE_COMPLETE.
    pub fn settle_as(&self, stack: &str, status: &str) {
        self.state.lock().unwrap().settled.push((stack.to_string(), status.to_string()));
    }

    /// From now on, a change set's change of the nested stack `logical_id` names a nested change
    /// set (`proxy-nested-<logical id>`), which DescribeChangeSet answers here with `changes`
    /// (action, logical id, resource type).
    pub fn nested_change_set(&self, logical_id: &str, changes: &[(&str, &str, &str)]) {
        let members: String = changes
            .iter()
            .map(|(action, id, kind)| {
                format!(
                    "<member><Type>Resource</Type><ResourceChange><Action>{action}</Action>\
                     <LogicalResourceId>{id}</LogicalResourceId><ResourceType>{kind}</ResourceType>\
                     </ResourceChange></member>"
                )
            })
            .collect();
        self.state.lock().unwrap().nested_change_sets.push((logical_id.to_string(), members));
    }

    /// The bodies of the StopDeployment requests seen so far.
    pub fn stop_requests(&self) -> Vec<serde_json::Value> {
        self.state.lock().unwrap().stop_requests.clone()
    }
}

fn serve(mut client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let text = String::from_utf8_lossy(&body).to_string();
    // CodeDeploy speaks JSON and names the operation in X-Amz-Target; CloudFormation is a form.
    let target = head.iter().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-amz-target").then(|| value.trim().to_string())
    });
    let operation = target.as_deref().and_then(|t| t.strip_prefix("CodeDeploy_20141006.")).map(String::from);
    let action = match &operation {
        Some(op) => op.clone(),
        None => text.split('&').find_map(|kv| kv.strip_prefix("Action=")).unwrap_or("").to_string(),
    };
    {
        let mut state = state.lock().unwrap();
        state.actions.push(action.clone());
        if state.hold && (action == "CreateStack" || action == "UpdateStack") {
            state.started = true;
        }
    }

    if state.lock().unwrap().refused.contains(&action) {
        return refuse(&mut client, &action, operation.is_some());
    }

    if let Some(op) = &operation {
        let request: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let answer = {
            let mut state = state.lock().unwrap();
            if op == "StopDeployment" && state.play.script.is_some() {
                state.stop_requests.push(request.clone());
            }
            codedeploy::answer(&mut state.play, op, &request)
        };
        if let Some(answer) = answer {
            let headers = ["Content-Type: application/x-amz-json-1.1".to_string()];
            return respond(&mut client, "200 OK", &headers, answer.to_string().as_bytes());
        }
    }

    if let Some(domain) = update_domain_name(head.first().map(String::as_str).unwrap_or_default()) {
        let request: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let answer = patched_domain(&domain, &request);
        state.lock().unwrap().domain_updates.push((domain, request));
        return respond(
            &mut client,
            "200 OK",
            &["Content-Type: application/json".to_string()],
            answer.to_string().as_bytes(),
        );
    }

    let change_set = text.split('&').find_map(|kv| kv.strip_prefix("ChangeSetName=")).unwrap_or_default();
    if action == "DescribeChangeSet" && change_set.starts_with("proxy-nested-") {
        let logical = change_set.trim_start_matches("proxy-nested-");
        let members =
            state.lock().unwrap().nested_change_sets.iter().find(|(id, _)| id == logical).map(|(_, m)| m.clone());
        let reply = format!(
            "<DescribeChangeSetResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
             <DescribeChangeSetResult><ChangeSetName>{change_set}</ChangeSetName><ChangeSetId>{change_set}</ChangeSetId>\
             <Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes>{}</Changes>\
             </DescribeChangeSetResult><ResponseMetadata><RequestId>fink-proxy</RequestId></ResponseMetadata>\
             </DescribeChangeSetResponse>",
            members.unwrap_or_default()
        );
        return respond(&mut client, "200 OK", &["Content-Type: text/xml".to_string()], reply.as_bytes());
    }

    if action == "CancelUpdateStack" {
        state.lock().unwrap().cancelled = true;
        let reply = "<CancelUpdateStackResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
                     <ResponseMetadata><RequestId>fink-proxy</RequestId></ResponseMetadata></CancelUpdateStackResponse>";
        return respond(&mut client, "200 OK", &["Content-Type: text/xml".to_string()], reply.as_bytes());
    }

    let mut server = TcpStream::connect(upstream.trim_start_matches("http://"))?;
    for line in &head {
        server.write_all(line.as_bytes())?;
    }
    server.write_all(b"Connection: close\r\n\r\n")?;
    server.write_all(&body)?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4).unwrap_or(response.len());
    let (head_bytes, rest) = response.split_at(split);
    let head_text = String::from_utf8_lossy(head_bytes).to_string();
    let mut lines = head_text.lines();
    let status = lines.next().unwrap_or("HTTP/1.1 500").split_once(' ').map_or("500", |x| x.1).to_string();
    let headers: Vec<String> = lines
        .filter(|l| !l.is_empty())
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            !["content-length:", "transfer-encoding:", "connection:"].iter().any(|h| lower.starts_with(h))
        })
        .map(String::from)
        .collect();
    let mut payload = String::from_utf8_lossy(rest).to_string();
    let stack_name = text.split('&').find_map(|kv| kv.strip_prefix("StackName=")).map(String::from);
    if matches!(action.as_str(), "CreateStack" | "UpdateStack" | "ExecuteChangeSet") {
        let mut state = state.lock().unwrap();
        if let (Some(_), Some(name)) = (state.hold_each, &stack_name) {
            state.stack_started.insert(name.clone(), std::time::Instant::now());
        }
    }
    if action == "DescribeStacks" {
        let state = state.lock().unwrap();
        let held = match (state.hold_each, stack_name.as_ref().and_then(|n| state.stack_started.get(n))) {
            (Some(hold), Some(started)) => started.elapsed() < hold,
            _ => false,
        };
        if held {
            payload = payload
                .replace("<StackStatus>UPDATE_COMPLETE</StackStatus>", "<StackStatus>UPDATE_IN_PROGRESS</StackStatus>")
                .replace("<StackStatus>CREATE_COMPLETE</StackStatus>", "<StackStatus>CREATE_IN_PROGRESS</StackStatus>");
        }
        if state.started && (!state.cancelled || state.hold_after_cancel) {
            payload = payload
                .replace("<StackStatus>UPDATE_COMPLETE</StackStatus>", "<StackStatus>UPDATE_IN_PROGRESS</StackStatus>")
                .replace("<StackStatus>CREATE_COMPLETE</StackStatus>", "<StackStatus>CREATE_IN_PROGRESS</StackStatus>");
        } else if state.started {
            payload = payload.replace(
                "<StackStatus>UPDATE_COMPLETE</StackStatus>",
                "<StackStatus>UPDATE_ROLLBACK_COMPLETE</StackStatus>",
            );
        }
    }
    if action == "DescribeStackEvents" {
        let state = state.lock().unwrap();
        let named = |part: &str| {
            stack_name.as_ref().is_some_and(|n| part.strip_suffix('*').map_or(n == part, |p| n.starts_with(p)))
        };
        for (_, member) in state.events.iter().filter(|(part, _)| named(part)) {
            payload = payload.replacen("<StackEvents>", &format!("<StackEvents>{member}"), 1);
        }
    }
    if action == "DescribeStacks" {
        let state = state.lock().unwrap();
        for (_, status) in state.settled.iter().filter(|(name, _)| stack_name.as_deref() == Some(name.as_str())) {
            payload = payload
                .replace("<StackStatus>CREATE_COMPLETE</StackStatus>", &format!("<StackStatus>{status}</StackStatus>"));
        }
    }
    if action == "DescribeChangeSet" {
        let state = state.lock().unwrap();
        for (logical, _) in &state.nested_change_sets {
            let change = format!(
                "<LogicalResourceId>{logical}</LogicalResourceId><ResourceType>AWS::CloudFormation::Stack</ResourceType>"
            );
            payload = payload.replace(&change, &format!("{change}<ChangeSetId>proxy-nested-{logical}</ChangeSetId>"));
        }
    }
    if action == "GetDeployment" && operation.is_some() {
        if let Some(rewritten) = codedeploy::rewrite_get_deployment(&mut state.lock().unwrap().play, &payload) {
            payload = rewritten;
        }
    }
    let line = head.first().map(String::as_str).unwrap_or_default();
    let delay = state.lock().unwrap().delays.iter().filter(|(part, _)| line.contains(part)).map(|(_, d)| *d).max();
    if let Some(delay) = delay {
        std::thread::sleep(delay);
    }
    respond(&mut client, &status, &headers, payload.as_bytes())
}

/// The domain of an UpdateDomainName request line, `PATCH /domainnames/<name> HTTP/1.1`.
fn update_domain_name(request_line: &str) -> Option<String> {
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next()?, parts.next()?);
    let name = path.split('?').next()?.strip_prefix("/domainnames/")?;
    (method == "PATCH" && !name.is_empty() && !name.contains('/')).then(|| name.to_string())
}

/// The domain as API Gateway answers UpdateDomainName: the replaced values applied.
fn patched_domain(domain: &str, request: &serde_json::Value) -> serde_json::Value {
    let mut answer = serde_json::json!({"domainName": domain, "distributionDomainName": "d-proxy.cloudfront.net"});
    for op in request["patchOperations"].as_array().into_iter().flatten() {
        if let (Some("replace"), Some(path), Some(value)) = (op["op"].as_str(), op["path"].as_str(), op.get("value")) {
            answer[path.trim_start_matches('/')] = value.clone();
        }
    }
    answer
}

/// AccessDenied for `action`, in the JSON protocol's form (CodeDeploy) or the query protocol's
/// XML (CloudFormation). Neither is retried by the SDK.
fn refuse(client: &mut TcpStream, action: &str, json: bool) -> std::io::Result<()> {
    let message =
        format!("User: arn:aws:iam::123456789012:user/tester is not authorized to perform: {action} (fink test proxy)");
    if json {
        let body = serde_json::json!({"__type": "AccessDeniedException", "message": message});
        let headers = ["Content-Type: application/x-amz-json-1.1".to_string()];
        return respond(client, "400 Bad Request", &headers, body.to_string().as_bytes());
    }
    let body = format!(
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type>\
         <Code>AccessDenied</Code><Message>{message}</Message></Error><RequestId>fink-proxy</RequestId></ErrorResponse>"
    );
    respond(client, "403 Forbidden", &["Content-Type: text/xml".to_string()], body.as_bytes())
}

fn respond(client: &mut TcpStream, status: &str, headers: &[String], body: &[u8]) -> std::io::Result<()> {
    write!(client, "HTTP/1.1 {status}\r\n")?;
    for header in headers {
        write!(client, "{header}\r\n")?;
    }
    write!(client, "Content-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    client.write_all(body)?;
    client.flush()
}
