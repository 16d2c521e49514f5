#!/usr/bin/env bash
# Fuzzes the JSON API of a built server, on a fresh SQLite database, from its own
# OpenAPI document, as an admin. Fails on any 5xx, undocumented status, wrong
# content type or response that breaks its schema. Bounded in examples and time.
#   scripts/schemathesis.sh            (after cargo build --release)
#   CONSENTRY_BIN=target/debug/consentry scripts/schemathesis.sh
#   MAX_EXAMPLES=50 MAX_TIME=300 scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CONSENTRY_BIN:-target/release/consentry}
venv=target/ci-venv
[ -x "$bin" ] || { echo "no $bin: build it first (cargo build --release)" >&2; exit 2; }
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CONSENTRY_DATABASE_URL="sqlite://$work/consentry.db?mode=rwc"
export CONSENTRY_PORT=$port CONSENTRY_ADDRESS=127.0.0.1 CONSENTRY_PUBLIC_URL="http://127.0.0.1:$port"
export CONSENTRY_SECRET_KEY=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
"$bin" serve > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
echo "$password" | "$bin" user add --email fuzz-admin@example.org --name "Fuzz Admin" --role admin --password-stdin >/dev/null
token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d "{\"email\":\"fuzz-admin@example.org\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# A study at the slug the document uses as its example, so operations reach real data.
today=$(date -u +%F); next_year=$(date -u -d '+1 year' +%F)
curl -fsS -X POST "http://127.0.0.1:$port/api/v1/studies" -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
  -d "{\"slug\":\"social-media-med-ed\",\"title\":\"Social media use in medical education\",\"summary\":\"\",
       \"ethics\":{\"committee\":\"HREC\",\"reference\":\"CF15/2639-2015001090\",\"approved_on\":\"$today\",\"expires_on\":\"$next_year\"},
       \"contact\":{\"name\":\"Fuzz Admin\",\"email\":\"fuzz-admin@example.org\"}}" >/dev/null

# Two operations would end the run's own session (revoking its token, or every token
# of its admin when it picks its own id); src/tests covers them instead.
status=0
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --exclude-name "DELETE /api/v1/auth/token" --exclude-name "PUT /api/v1/users/{id}" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${MAX_EXAMPLES:-40}" --max-time "${MAX_TIME:-240}" \
  --seed "${SEED:-20261125}" --generation-database none --no-color --report junit --report-dir "$work/report" || status=$?
if grep -qiE 'panicked|request failed' "$work/server.log"; then
  echo "the server logged a failure:" >&2
  grep -iE 'panicked|request failed' "$work/server.log" | head -20 >&2
  status=1
fi
exit $status
