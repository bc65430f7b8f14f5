#!/usr/bin/env bash
# A five-minute tour on a fresh machine: installs fink and its bundled plugins into target/demo,
# starts moto (a local AWS-compatible server) on 127.0.0.1 with a stack, parameters and a secret,
# creates a project with per-env config files that look those up, and runs the main commands,
# including what happens with a broken config and a broken plugin.
# Needs only the Rust toolchain and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
demo="$root/target/demo"
rm -rf "$demo"
mkdir -p "$demo"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@" || echo "(exit code $?)"; }

bash scripts/moto.sh
bash scripts/install.sh --prefix "$demo/prefix" --debug >/dev/null

# A local AWS: moto on a free loopback port, stopped when the tour ends.
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$demo/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
    AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true
.venv/bin/python - <<'PY'
import json, os, time, urllib.request
import boto3
url = os.environ["AWS_ENDPOINT_URL"]
for _ in range(100):
    try:
        urllib.request.urlopen(url + "/moto-api/data.json"); break
    except OSError:
        time.sleep(0.2)
# moto cannot run function code without Docker: it answers invocations from a queue instead.
urllib.request.urlopen(urllib.request.Request(url + "/moto-api/config", data=b'{"lambda": {"use_docker": false}}',
                                              headers={"Content-Type": "application/json"}))
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}
role = boto3.client("iam").create_role(RoleName="hello-lambda", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"VpcId": {"Value": "vpc-0demo"}, "SubnetIds": {"Value": "subnet-a,subnet-b"},
                        "LambdaRoleArn": {"Value": role}}}
boto3.client("cloudformation").create_stack(StackName="infra", TemplateBody=json.dumps(template))
ssm = boto3.client("ssm")
ssm.put_parameter(Name="/demo/db.host", Value="db.internal", Type="String")
ssm.put_parameter(Name="/demo/db.password", Value="s3cr3t-from-ssm", Type="SecureString")
boto3.client("secretsmanager").create_secret(Name="slack", SecretString=json.dumps({"webhook": "https://hooks.example/T0"}))
PY
# A third-party plugin built out of tree, installed into the project's own plugins folder.
cargo build --quiet --manifest-path examples/hello-tool/Cargo.toml --target-dir target/examples
project="$demo/project"
mkdir -p "$project/.fink/plugins"
cp target/examples/debug/libfink_plugin_hello_tool.* "$project/.fink/plugins/"

cat > "$project/base.yaml" <<'YAML'
# shared by every env
hello:
  greeting: Hello
cloud:
  stack:
    StackName: demo-stack
  parameters:
    InstanceType: t3.micro
YAML
cat > "$project/fink_dev.json" <<'JSON'
{
  "baseconfig": "base",
  "cloud": {
    "parameters": {
      "InstanceType": "t3.nano",
      "VpcId": "lookup:stack:infra:VpcId",
      "Subnets": "lookup:stack:infra:SubnetIds",
      "DbHost": "lookup:parameter:/demo/db.host",
      "DbPassword": "lookup:parameter:/demo/db.password",
      "Debug": "lookup:parameter:/demo/debug:CONTINUE_IF_NOT_FOUND"
    }
  },
  "notify": {"webhook": "lookup:secret:slack.webhook"},
  "hooks": {"command_finalized": [{"run": "echo \"smoke test after $FINK_TOOL $FINK_COMMAND in $FINK_ENV: ok\"", "commands": ["deploy"]}]},
  "ignore": ["*.pyc"]
}
JSON
cat > "$project/fink_stage.json" <<'JSON'
{"cloud": {"parameters": {"VpcId": "lookup:stack:infra:VpcID", "Db": "lookup:parameter:/stage/db"}}}
JSON
cat > "$project/fink_prod.toml" <<'TOML'
baseconfig = "base"
[hello]
greeting = 42
TOML
printf 'node_modules\n.git\n' > "$project/.finkignore"
cat > "$project/cloudformation.json" <<'JSON'
{
  "Parameters": {
    "InstanceType": {"Type": "String"}, "VpcId": {"Type": "String"}, "Subnets": {"Type": "CommaDelimitedList"},
    "DbHost": {"Type": "String"}, "DbPassword": {"Type": "String", "NoEcho": true}, "Debug": {"Type": "String", "Default": ""}
  },
  "Resources": {"Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${AWS::StackName}-alerts"}}}},
  "Outputs": {"AlertsTopic": {"Value": {"Ref": "Alerts"}}, "Vpc": {"Value": {"Ref": "VpcId"}}}
}
JSON

export HOME="$demo/home"          # keep the tour away from your own plugins
export USER="${USER:-demo}"
fink="$demo/prefix/bin/fink"
cd "$project"

step "$fink version   # a fresh checkout: fink runs none of its code (.fink/plugins, hooks) until you trust it"
"$fink" version
run "$fink" trust
run "$fink" version
run "$fink" plugins -e dev
run "$fink" config -e dev
run "$fink" config -e dev --show-secrets
step "$fink config -e stage   # lookups that fail are all reported, with their key paths"
"$fink" config -e stage || echo "(exit code $?)"
run "$fink" cloud deploy -e dev
step "$fink cloud deploy -e dev   # again: nothing changed"
"$fink" cloud deploy -e dev
run "$fink" cloud list -e dev
run "$fink" cloud dot -e dev
run "$fink" hello greet -e dev --name reader
run "$fink" hello greet --help
step "$fink config -e prod   # a wrong type in the config"
"$fink" config -e prod || echo "(exit code $?)"
step "$fink stacks deploy -e dev   # a tool no installed plugin provides"
"$fink" stacks deploy -e dev || echo "(exit code $?)"
head -c 4096 /dev/urandom > "$project/.fink/plugins/broken.so"
step "$fink config -e dev   # a library appeared in .fink/plugins after you trusted the project"
"$fink" config -e dev || echo "(exit code $?)"
"$fink" trust >/dev/null
step "$fink config -e dev   # trusted again: the broken plugin file is named"
"$fink" config -e dev || echo "(exit code $?)"
rm "$project/.fink/plugins/broken.so"

# The sample Lambda project from examples/: bundle, deploy, redeploy unchanged, operate it.
cp -r "$root/examples/lambda-hello" "$demo/lambda-hello"
cd "$demo/lambda-hello"
run "$fink" lambda bundle -e dev
# Queue the answer moto's Docker-less Lambda gives the deploy's ping.
"$root/.venv/bin/python" - <<'PY'
import json, os, urllib.request
body = {"account_id": "123456789012", "region": "eu-west-1", "results": ['"alive"', '"alive"']}
urllib.request.urlopen(urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/static/lambda-simple/response",
                                              data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}))
PY
run "$fink" lambda deploy -e dev
step "$fink lambda deploy -e dev   # again: same bundle bytes, nothing uploaded"
"$fink" lambda deploy -e dev
sed -i 's/"memorySize": 128/"memorySize": 256/' fink_dev.json
step "$fink lambda deploy -e dev   # memorySize changed: configuration only"
"$fink" lambda deploy -e dev
run "$fink" lambda list -e dev
run "$fink" lambda info -e dev
run "$fink" lambda invoke hello-dev --payload '{"name": "reader"}' -e dev
run "$fink" lambda wire -e dev
run "$fink" lambda rollback hello-dev -e dev
run "$fink" lambda clean -e dev
# The sample API from examples/: GET /hello, integrated with the hello-dev function deployed above.
cp -r "$root/examples/api-hello" "$demo/api-hello"
cd "$demo/api-hello"
run "$fink" api deploy -e dev
step "$fink api deploy -e dev   # again: the document and the stage are unchanged, nothing is sent"
"$fink" api deploy -e dev
run "$fink" api export -e dev --output exported.yaml
run "$fink" api list
# The sample CodeDeploy project from examples/: its base stack, application, group and bucket.
"$root/.venv/bin/python" - <<'PY'
import json
import boto3
boto3.client("s3").create_bucket(Bucket="hello-artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
codedeploy = boto3.client("codedeploy")
codedeploy.create_application(applicationName="hello")
codedeploy.create_deployment_group(applicationName="hello", deploymentGroupName="hello-dev",
                                   serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy")
outputs = {"ApplicationName": "hello", "DeploymentGroup": "hello-dev", "ArtifactsBucket": "hello-artifacts"}
template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()}}
boto3.client("cloudformation").create_stack(StackName="hello-infra", TemplateBody=json.dumps(template))
PY
cp -r "$root/examples/codedeploy-hello" "$demo/codedeploy-hello"
cd "$demo/codedeploy-hello"
run "$fink" code bundle -e dev
run tar -tvzf bundle.tar.gz
# moto records deployments but never runs them, so the tour does not wait for this one.
run "$fink" code deploy -e dev --no-wait
step "$fink code deploy -e dev --no-wait   # again: same bundle bytes, nothing uploaded"
"$fink" code deploy -e dev --no-wait
run "$fink" code list -e dev
printf '\nThe tour projects are in %s, %s, %s and %s; fink is in %s.\n' "$project" "$demo/lambda-hello" "$demo/api-hello" \
    "$demo/codedeploy-hello" "$demo/prefix/bin"
