#!/usr/bin/env bash
# Runs test suites with Node's built-in runner (TypeScript through tsx).
# Usage: run-tests.sh [unit|integration|e2e ...]   (default: all three, in one run)
set -euo pipefail
cd "$(dirname "$0")/.."
suites=("$@")
((${#suites[@]})) || suites=(unit integration e2e)
files=()
for s in "${suites[@]}"; do
  for f in test/"$s"/*.test.ts; do [[ -e "$f" ]] && files+=("$f"); done
done
((${#files[@]})) || { echo "no test files in: ${suites[*]}"; exit 1; }
# One file at a time: integration and e2e tests share one cluster and its backup lock.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
