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
# Unit files touch no cluster (their temp dirs, GnuPG homes and ports are their own): three at a
# time on the two cores, so one waiting on gpg, etcd or Chromium leaves no core idle. Integration and e2e files share one cluster and its backup lock: one at a
# time. Both groups run whatever the other's outcome; the exit status fails if either failed.
unit=(); rest=()
for f in "${files[@]}"; do if [[ $f == test/unit/* ]]; then unit+=("$f"); else rest+=("$f"); fi; done
rc=0
if ((${#unit[@]})); then node --import tsx --test --test-concurrency=3 --test-reporter=spec "${unit[@]}" || rc=$?; fi
if ((${#rest[@]})); then node --import tsx --test --test-concurrency=1 --test-reporter=spec "${rest[@]}" || rc=$?; fi
exit "$rc"
