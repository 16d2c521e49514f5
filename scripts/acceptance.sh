#!/usr/bin/env bash
# Replays the seed study through the JSON API with the contract's black-box
# scenario (Python standard library only): on SQLite, and again on a fresh
# PostgreSQL database when CONSENTRY_TEST_DATABASE_URL is set. Uses the contract's
# own copy in ../shared/acceptance when it is there, else the copy kept in
# tests/acceptance. Fails unless every check passes.
#
#   CONSENTRY_BIN=target/debug/consentry scripts/acceptance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CONSENTRY_BIN:-target/release/consentry}
dir=${CONSENTRY_ACCEPTANCE_DIR:-../shared/acceptance}
[ -f "$dir/seed_study.py" ] || dir=tests/acceptance
echo "acceptance scenarios from $dir, server $bin"

echo "-- SQLite"
python3 "$dir/seed_study.py" --repo . --binary "$bin"

pg=${CONSENTRY_TEST_DATABASE_URL:-}
if [ -n "$pg" ]; then
  name="consentry_accept_$$"
  psql "$pg" -q -c "CREATE DATABASE $name"
  trap 'psql "$pg" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null' EXIT
  echo "-- PostgreSQL"
  python3 "$dir/seed_study.py" --repo . --binary "$bin" --database-url "${pg%/*}/$name"
fi
