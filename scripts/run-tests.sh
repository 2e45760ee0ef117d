#!/usr/bin/env bash
# Runs test suites with Node's built-in runner (TypeScript through tsx).
# Usage: run-tests.sh [unit|integration|e2e|faults ...]   (default: unit, integration, e2e in one run)
# `faults` is the fault matrix of RELIABILITY.md: a subset of the integration suite (so `npm test`
# runs it once, as part of integration), listed here so it can be run on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
suites=("$@")
((${#suites[@]})) || suites=(unit integration e2e)
files=()
FAULTS=(fault backupCrash backupCancel lock interruptedBackups connectDisruption vscodeBreakLock)
for s in "${suites[@]}"; do
  if [[ $s == faults ]]; then
    for p in "${FAULTS[@]}"; do for f in test/integration/"$p"*.test.ts; do [[ -e "$f" ]] && files+=("$f"); done; done
    continue
  fi
  for f in test/"$s"/*.test.ts; do [[ -e "$f" ]] && files+=("$f"); done
done
((${#files[@]})) || { echo "no test files in: ${suites[*]}"; exit 1; }
# One file at a time: integration and e2e tests share one cluster and its backup lock.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
