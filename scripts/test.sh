#!/usr/bin/env bash
# `npm test`: the whole suite on a fresh machine. Installs what is missing, builds and packages
# the extension, brings the real test cluster up once, runs every suite against it, takes it down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
npm run --silent typecheck
npm run --silent package
bash scripts/vscode/install-code-server.sh
bash scripts/cluster/up.sh
trap 'bash scripts/cluster/down.sh || true' EXIT
bash scripts/run-tests.sh unit integration e2e
