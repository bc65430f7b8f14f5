#!/bin/sh
# Runs on the instance after the files are copied: the settings fink bundled are next to this script.
set -eu
here="$(dirname "$0")/.."
echo "starting hello with settings: $(cat "$here/settings.json")"
systemctl restart nginx
