#!/usr/bin/env bash
# Verify benchmark (TypeScript through tsx, like the tests): writes docs/bench-verify.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx bench/verify.ts "$@"
