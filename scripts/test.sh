#!/usr/bin/env bash
# Runs every test: unit tests, the end-to-end tests (real `fink` binary, real plugin libraries
# built by cargo, including out-of-tree plugins against the frozen 1.0.0 API) and the example
# plugin's own tests. AWS tests run against moto on 127.0.0.1, installed here into .venv.
# Needs only the Rust toolchain and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/moto.sh

echo "==> cargo test --workspace"
cargo test --workspace --locked

echo "==> example plugin (examples/hello-tool)"
cargo test --manifest-path examples/hello-tool/Cargo.toml --target-dir target/examples

echo "==> all tests passed"
