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
# time on the two cores, so one waiting on gpg, etcd or Chromium leaves no core idle.
# Integration and e2e files share one cluster and its backup lock: one at a time. Every group
# runs whatever another's outcome; the exit status fails if any failed.
# The cron schedule file spends most of its time waiting for cron's next minute: it runs beside
# the unit files (which leave the cluster alone), its report printed when both are done.
SIDE=test/integration/scheduleCron.test.ts
unit=(); rest=(); side=()
for f in "${files[@]}"; do
  if [[ $f == test/unit/* ]]; then unit+=("$f")
  elif [[ $f == "$SIDE" ]]; then side+=("$f")
  else rest+=("$f"); fi
done
((${#unit[@]})) || { rest=("${side[@]}" "${rest[@]}"); side=(); }
run() { node --import tsx --test --test-concurrency="$1" --test-reporter=spec "${@:2}"; }
rc=0
side_pid='' side_log=''
# Killed or failing early: the side run stops too (its cron line would go on starting backups).
trap '[[ -n $side_pid ]] && kill "$side_pid" 2>/dev/null; [[ -n $side_log ]] && rm -f "$side_log"; true' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
if ((${#unit[@]})); then
  side_log=$(mktemp) side_rc=0
  # A plain command in the background, so $! is node's own pid (what the trap stops).
  if ((${#side[@]})); then node --import tsx --test --test-concurrency=1 --test-reporter=spec "${side[@]}" >"$side_log" 2>&1 & side_pid=$!; fi
  run 3 "${unit[@]}" || rc=$?
  if [[ -n $side_pid ]]; then
    wait "$side_pid" || side_rc=$?
    side_pid=''
    echo "--- ${side[*]} (ran beside the unit files) ---"
    cat "$side_log" || true
    ((side_rc == 0)) || rc=$side_rc
  fi
fi
if ((${#rest[@]})); then run 1 "${rest[@]}" || rc=$?; fi
exit "$rc"
