#!/usr/bin/env bash
# The participant's path through the public HTML pages under load, and every
# participant GET page against /healthz, on fresh demo servers. Builds
# scripts/load/participant_path.rs with rustc (standard library only) into
# target/load/.
#
#   cargo build --release && scripts/load/participant-path.sh     # SQLite: 30 s, 16 threads
#   scripts/load/participant-path.sh --smoke                      # 3 s, 4 threads
#   scripts/load/participant-path.sh --postgres postgres://postgres@127.0.0.1:5432/test
#
# SQLite: one server on a file in a temporary folder. --postgres URL: a fresh
# database beside URL's (dropped afterwards), two instances on it sharing the load,
# the database's own CPU reported too, and pgbench one-row inserts at 16 clients on
# the same database first, as the baseline.
#
# Environment: CONSENTRY_BIN (default target/release/consentry), LOAD_SECONDS,
# LOAD_THREADS, LOAD_CONNECTIONS, READ_SECONDS. Exit 1 when a request failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${CONSENTRY_BIN:-target/release/consentry}
seconds=${LOAD_SECONDS:-30} threads=${LOAD_THREADS:-16}
connections=${LOAD_CONNECTIONS:-32} read_seconds=${READ_SECONDS:-10}
pg=""
case "${1:-}" in
  --smoke) seconds=3 threads=4 connections=4 read_seconds=1 ;;
  --postgres) pg=${2:?--postgres needs a URL such as postgres://postgres@127.0.0.1:5432/test} ;;
  "") ;;
  *) echo "usage: $0 [--smoke | --postgres URL]" >&2; exit 2 ;;
esac

mkdir -p target/load
tool=target/load/participant-path
if [ ! -x "$tool" ] || [ scripts/load/participant_path.rs -nt "$tool" ]; then
  rustc -O --edition 2021 scripts/load/participant_path.rs -o "$tool"
fi

tmp=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
servers=() bases=() db_url="sqlite://$tmp/load.db?mode=rwc" load_db=""
if [ -n "$pg" ]; then
  load_db="consentry_load_$$"
  psql -q "$pg" -c "CREATE DATABASE $load_db" >/dev/null
  db_url="${pg%/*}/$load_db"
fi
secret=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
stop() {
  for s in "${servers[@]}"; do kill -TERM "$s" 2>/dev/null || true; done
  for s in "${servers[@]}"; do wait "$s" 2>/dev/null || true; done
  if [ -n "$load_db" ]; then psql -q "$pg" -c "DROP DATABASE IF EXISTS $load_db" >/dev/null || true; fi
  rm -rf "$tmp"
}
trap stop EXIT
start() { # start N [--demo]
  local port; port=$(free_port)
  CONSENTRY_DATABASE_URL="$db_url" CONSENTRY_PORT=$port CONSENTRY_ADDRESS=127.0.0.1 \
    CONSENTRY_PUBLIC_URL="http://127.0.0.1:$port" CONSENTRY_SECRET_KEY="$secret" RUST_LOG=warn \
    "$bin" serve "${@:2}" >"$tmp/server-$1.log" 2>&1 &
  servers+=("$!") bases+=("http://127.0.0.1:$port")
  for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    if ! kill -0 "${servers[-1]}" 2>/dev/null; then cat "$tmp/server-$1.log"; exit 1; fi
    sleep 0.1
  done
  echo "server $1 did not answer"; exit 1
}
start 1 --demo
commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
also=()
if [ -n "$pg" ]; then
  start 2
  psql -q "$db_url" -c "CREATE TABLE load_baseline (id bigserial PRIMARY KEY, payload text NOT NULL)" >/dev/null
  echo "INSERT INTO load_baseline (payload) VALUES ('one consent''s worth of row');" >"$tmp/insert.sql"
  tps=$(pgbench -n -c 16 -j 2 -T 10 -f "$tmp/insert.sql" "$db_url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  echo "servers: 2 x $bin on PostgreSQL, $(nproc) cores; commit $commit"
  echo "baseline: pgbench one-row inserts, 16 clients, 10 s: ${tps:-?} inserts/s"
  also=(--also postgres)
else
  echo "server: $bin on SQLite, $(nproc) cores; commit $commit"
fi
status=0
"$tool" --mode path --base "$(IFS=,; echo "${bases[*]}")" --pid "$(IFS=,; echo "${servers[*]}")" \
  --ticks "$(getconf CLK_TCK)" --threads "$threads" --seconds "$seconds" "${also[@]}" || status=1
"$tool" --mode reads --base "${bases[0]}" --pid "${servers[0]}" \
  --connections "$connections" --seconds "$read_seconds" || status=1
if [ $status -ne 0 ]; then tail -20 "$tmp"/server-*.log; fi
exit $status
