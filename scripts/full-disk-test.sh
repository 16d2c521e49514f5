#!/usr/bin/env bash
# Fills a real disk under a burst of consents and frees it again: mounts a 16 MiB
# tmpfs (needs root), runs the ignored test faults::a_real_full_disk_… on a SQLite
# database there, and unmounts. Every 2xx must be stored, every failure a 5xx with
# a request id, and writes must work again without a restart.
#   scripts/full-disk-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "full-disk-test: mounting a small filesystem needs root" >&2
  exit 2
fi
dir=$(mktemp -d)
mount -t tmpfs -o size=16m consentry-full-disk "$dir"
trap 'umount "$dir" 2>/dev/null || true; rmdir "$dir" 2>/dev/null || true' EXIT
CONSENTRY_FULL_DISK_DIR="$dir" cargo test --lib tests::faults::a_real_full_disk -- --ignored --nocapture
