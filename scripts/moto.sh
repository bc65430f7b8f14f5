#!/usr/bin/env bash
# Installs moto (an AWS-compatible server) into the project-local .venv when missing.
# The tests and the demo start it themselves on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION=5.2.5
if [ -x .venv/bin/moto_server ] && .venv/bin/python -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    exit 0
fi
echo "==> installing moto[server]==$MOTO_VERSION into .venv"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
