#!/usr/bin/env bash
# The kill -9 crash loop (tests/it/crash_loop/) for many cycles, in release.
#   tests/crash-loop.sh [CYCLES]          default 1000
# Also honoured: TRIAGE_CRASH_SEED (replay a run), TRIAGE_CRASH_BULK (tickets for the
# recovery kills, default 30000), TRIAGE_CRASH_KEEP=1 (keep the data dir, logs and ledger).
set -euo pipefail
cd "$(dirname "$0")/.."
cycles="${1:-1000}"
log="$(mktemp -t triage-crash-loop.XXXXXX)"
started=$(date +%s)
status=0
TRIAGE_CRASH_CYCLES="$cycles" cargo test --release --test it -- --nocapture crash_loop:: 2>&1 \
  | tee "$log" || status=$?
echo
echo "== crash loop, $cycles cycles, $(( $(date +%s) - started )) s wall (build included), exit $status"
grep -E '^crash_loop: seed|^crash_loop summary|crash loop failed|^crash_loop: kept' "$log" || true
rm -f "$log"
exit "$status"
