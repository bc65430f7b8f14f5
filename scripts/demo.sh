#!/usr/bin/env bash
# A five-minute tour on a fresh machine: installs fink and its bundled plugins into target/demo,
# creates a project with per-env config files, and runs the main commands, including what
# happens with a broken config and a broken plugin. Needs only the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
demo="$root/target/demo"
rm -rf "$demo"
mkdir -p "$demo"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@" || echo "(exit code $?)"; }

bash scripts/install.sh --prefix "$demo/prefix" --debug >/dev/null
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
  "cloud": {"parameters": {"InstanceType": "t3.nano"}},
  "ignore": ["*.pyc"]
}
JSON
cat > "$project/fink_prod.toml" <<'TOML'
baseconfig = "base"
[hello]
greeting = 42
TOML
printf 'node_modules\n.git\n' > "$project/.finkignore"

export HOME="$demo/home"          # keep the tour away from your own plugins
export USER="${USER:-demo}"
fink="$demo/prefix/bin/fink"
cd "$project"

run "$fink" version
run "$fink" plugins -e dev
run "$fink" config -e dev
run "$fink" hello greet -e dev --name reader
run "$fink" hello greet --help
step "$fink config -e prod   # a wrong type in the config"
"$fink" config -e prod || echo "(exit code $?)"
step "$fink cloud deploy -e dev   # a tool that is not installed"
"$fink" cloud deploy -e dev || echo "(exit code $?)"
head -c 4096 /dev/urandom > "$project/.fink/plugins/broken.so"
step "$fink config -e dev   # with a broken plugin file in .fink/plugins"
"$fink" config -e dev || echo "(exit code $?)"
rm "$project/.fink/plugins/broken.so"
printf '\nThe tour project is in %s; fink is in %s.\n' "$project" "$demo/prefix/bin"
