#!/usr/bin/env bash
# The participant's path through the public HTML pages under load, and every
# participant GET page against /healthz, on a fresh demo server (SQLite in a
# temporary folder). Builds scripts/load/participant_path.rs with rustc (standard
# library only) into target/load/.
#
#   cargo build --release && scripts/load/participant-path.sh            # 30 s, 16 threads
#   scripts/load/participant-path.sh --smoke                             # 3 s, 4 threads
#
# Environment: CONSENTRY_BIN (default target/release/consentry), LOAD_SECONDS,
# LOAD_THREADS, LOAD_CONNECTIONS, READ_SECONDS. Exit 1 when a request failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${CONSENTRY_BIN:-target/release/consentry}
seconds=${LOAD_SECONDS:-30} threads=${LOAD_THREADS:-16}
connections=${LOAD_CONNECTIONS:-32} read_seconds=${READ_SECONDS:-10}
if [ "${1:-}" = "--smoke" ]; then
  seconds=3 threads=4 connections=4 read_seconds=1
fi

mkdir -p target/load
tool=target/load/participant-path
if [ ! -x "$tool" ] || [ scripts/load/participant_path.rs -nt "$tool" ]; then
  rustc -O --edition 2021 scripts/load/participant_path.rs -o "$tool"
fi

tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
CONSENTRY_DATABASE_URL="sqlite://$tmp/load.db?mode=rwc" CONSENTRY_PORT=$port \
  CONSENTRY_ADDRESS=127.0.0.1 CONSENTRY_PUBLIC_URL=$base RUST_LOG=warn \
  "$bin" serve --demo >"$tmp/server.log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap stop EXIT
for _ in $(seq 1 200); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "$server" 2>/dev/null; then cat "$tmp/server.log"; exit 1; fi
  sleep 0.1
done

echo "server: $bin on SQLite, $(nproc) cores; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
status=0
"$tool" --mode path --base "$base" --pid "$server" --ticks "$(getconf CLK_TCK)" \
  --threads "$threads" --seconds "$seconds" || status=1
"$tool" --mode reads --base "$base" --pid "$server" \
  --connections "$connections" --seconds "$read_seconds" || status=1
if [ $status -ne 0 ]; then tail -20 "$tmp/server.log"; fi
exit $status
