#!/usr/bin/env bash
# Kills the server with SIGKILL N times while participants sign consents, restarts
# it and retries with identical bodies; then checks that every acknowledged consent
# is stored once, codes have no gaps and the audit chain verifies.
#   scripts/crash-test.sh [N]                    (after cargo build --release)
#   CONSENTRY_BIN=target/debug/consentry scripts/crash-test.sh 3
#   CRASH_DATABASE_URL=postgres://…/db scripts/crash-test.sh 20   (an empty database)
#   CRASH_PARTICIPANTS=6000 scripts/crash-test.sh 50   (default: 80 per kill)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CONSENTRY_BIN:-target/release/consentry}
[ -x "$bin" ] || { echo "no $bin: build it first (cargo build --release)" >&2; exit 2; }
args=(--binary "$bin" --kills "${1:-10}")
[ -n "${CRASH_PARTICIPANTS:-}" ] && args+=(--participants "$CRASH_PARTICIPANTS")
[ -n "${CRASH_DATABASE_URL:-}" ] && args+=(--database-url "$CRASH_DATABASE_URL")
python3 scripts/crash_test.py "${args[@]}"
