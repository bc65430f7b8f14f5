#!/usr/bin/env bash
# Installs moto (an AWS-compatible server) into the project-local .venv when missing, with the
# Python packages the tests use as a user's project would: troposphere (cloudformation.py
# templates) and credstash (secrets written the way gcdt projects store them).
# The tests and the demo start moto themselves on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION=5.2.5
TROPOSPHERE_VERSION=4.11.1
CREDSTASH_VERSION=1.17.1
if [ -x .venv/bin/moto_server ] && .venv/bin/python - 2>/dev/null <<PY
import sys
from importlib.metadata import version
sys.exit(not (version("moto") == "$MOTO_VERSION" and version("troposphere") == "$TROPOSPHERE_VERSION"
              and version("credstash") == "$CREDSTASH_VERSION"))
PY
then
    exit 0
fi
echo "==> installing moto[server]==$MOTO_VERSION, troposphere, credstash into .venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
    "troposphere==$TROPOSPHERE_VERSION" "credstash==$CREDSTASH_VERSION"
