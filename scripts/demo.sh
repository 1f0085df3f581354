#!/usr/bin/env bash
# The main job on the built-in sample: installs what is missing, then runs indexctl on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
run() { printf '\n$ indexctl %s\n' "$*" >&2; node bin/indexctl.js "$@"; }
run --version
run doctor
