#!/usr/bin/env bash
# The whole test suite: installs what is missing, then type-check, lint, format check, and the
# node:test suite (unit, core on real files, CLI end to end, interop with Python FAISS).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
node scripts/gen-cli-doc.js --check
npm run --silent test:unit
