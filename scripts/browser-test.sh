#!/usr/bin/env bash
# The browser walk (tests/browser/walk.py) in Debian's Chromium: installs chromium
# and chromium-driver with apt when they are missing, and the pinned axe-core with
# npm; writes phone-size screenshots of the participant pages to docs/screens/ and
# every screenshot to target/browser/. Where Chromium cannot be installed the walk
# is skipped with a loud message (exit 0), so a machine without apt still tests
# everything else.
#
#   CONSENTRY_BIN=target/debug/consentry scripts/browser-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CONSENTRY_BIN:-target/debug/consentry}

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q chromium chromium-driver >/dev/null; then
      apt-get update -q >/dev/null || true
      apt-get install -y -q chromium chromium-driver >/dev/null || true
    fi
  fi
fi
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
  printf '!!! SKIPPED: the browser walk needs chromium and chromium-driver (apt), which\n'
  printf '!!! could not be installed here. Nothing was checked in a browser.\n'
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n'
  exit 0
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)
python3 tests/browser/walk.py --binary "$bin" --screens docs/screens
