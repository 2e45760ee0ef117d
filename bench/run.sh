#!/usr/bin/env bash
# Runs every benchmark in bench/ (each *.sh and *.mjs except this file), one after another:
# benchmarks on this 2-core machine must never run concurrently. Installs what is missing,
# builds, and brings the sandbox cluster up first (idempotent). Each script prints its own
# Markdown tables and writes its results file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
bash scripts/cluster/up.sh
status=0
for script in bench/*.sh bench/*.mjs; do
  [ -e "$script" ] || continue
  [ "$(basename "$script")" = run.sh ] && continue
  echo "### $script"
  case "$script" in
    *.sh) bash "$script" || status=1 ;;
    *.mjs) node "$script" || status=1 ;;
  esac
done
exit $status
