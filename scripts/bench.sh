#!/usr/bin/env bash
# Writes BENCHMARKS.md whole, in one sitting: installs dynalite (npm
# dynalite@4, into $DYNALITE_DIR, outside the repository) when missing,
# builds and runs the harness (cmd/catchupbench: dynalite and fake peers on
# 127.0.0.1, stopped by PID), then the cold start test under moto, and
# records the machine and its load before and after. Progress goes to stderr.
#
#   scripts/bench.sh              # the sitting, about 15 minutes on 2 cores (BENCH_ROWS, BENCH_PEERS, BENCH_ONLY)
#   QUICK=1 scripts/bench.sh      # a 1-2 minute smoke run to stdout; BENCHMARKS.md untouched
#   scripts/bench.sh -only roundtrip   # any catchupbench flags (bin/catchupbench -h), to stdout
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
tools_path

DYNALITE_DIR=${DYNALITE_DIR:-$HOME/.cache/catchup-bench/node}
dynalite=$DYNALITE_DIR/node_modules/.bin/dynalite
if [ ! -x "$dynalite" ]; then
  echo "== npm install dynalite@4 (into $DYNALITE_DIR)" >&2
  mkdir -p "$DYNALITE_DIR"
  npm install --no-audit --no-fund --prefix "$DYNALITE_DIR" dynalite@4 >&2
fi
echo "== build" >&2
mkdir -p bin
go build -o bin/catchupbench ./cmd/catchupbench

if [ -n "${QUICK:-}" ]; then
  exec ./bin/catchupbench -dynalite "$dynalite" -n 5000 -p 1,10 -reps 1 -roundtrip-rows 2000 -sequential-rows 300 \
    -only throughput,roundtrip,idle "$@"
fi
if [ $# -gt 0 ]; then
  exec ./bin/catchupbench -dynalite "$dynalite" "$@"
fi

tmp=$(mktemp -d)
MOTO_PID=
trap 'stop_pid "$MOTO_PID"; rm -rf "$tmp"' EXIT
load_before=$(cat /proc/loadavg)
# The sitting's sizes: ${BENCH_ROWS} rows, ${BENCH_PEERS} peers, 5 reps of each way
# (single runs of CPU per row vary by a tenth and more on this shared
# machine, the ceiling's most: two sittings of 3 reps on the same code gave
# CPU ratios of 1.00-1.04 and 0.97-1.19, so the sums take five, alternating),
# the round trip at the same size (a run's fixed costs, its watermark reads
# and writes, spread as in a throughput case) and idle peers; about 15
# minutes on 2 cores. BENCH_ONLY adds the sweeps (pipeline, writes, peers,
# fairness) for a longer sitting.
./bin/catchupbench -dynalite "$dynalite" -n "${BENCH_ROWS:=10000}" -p "${BENCH_PEERS:=1,10}" -reps 5 \
  -roundtrip-rows "${BENCH_ROWS}" -sequential-rows 300 -only "${BENCH_ONLY:=throughput,roundtrip,idle}" \
  -writes 8,32,128 -peer-concurrencies 4,8,32 -json "$tmp/figures.json" >"$tmp/catchup.md"
echo "== cold start (moto)" >&2
start_moto
go test -count=1 ./functions/catchup -run TestLambdaColdStart -args -cold-start-section "$tmp/coldstart.md" >&2
stop_pid "$MOTO_PID"; MOTO_PID=
echo "== reconcile (in memory at 100k and 1M ids; dynalite at ${RECONCILE_ROWS:=50000} rows)" >&2
{
  for n in 100000 1000000; do
    RECONCILE_SCALE=$n go test -count=1 ./internal/catchup -run TestReconcileScale -v
  done
  RECONCILE_DYNALITE=$RECONCILE_ROWS DYNALITE_BIN="$dynalite" \
    go test -count=1 -timeout 20m ./cmd/catchupbench/internal/bench -run TestReconcileDynalite -v
} 2>&1 | grep -E '^\s+\S+_test\.go:[0-9]+: ' | sed -E 's/^\s+\S+_test\.go:[0-9]+: /- /' >"$tmp/reconcile.txt"
load_after=$(cat /proc/loadavg)
{
  cat "$tmp/catchup.md"
  cat "$tmp/coldstart.md"
  echo
  cat cmd/catchupbench/reconcile.md
  echo
  echo "Measured in this sitting (the tests' own lines):"
  echo
  cat "$tmp/reconcile.txt"
  echo
  echo "## This sitting"
  echo
  echo "Written by \`scripts/bench.sh\` on $(date -u +%Y-%m-%dT%H:%MZ): nproc $(nproc), $(go version | cut -d' ' -f3-),"
  echo "\`/proc/loadavg\` $load_before before and $load_after after."
} >BENCHMARKS.md
# The capacity section (the last of the harness's output) also goes into the
# README's deploy section, between its markers.
awk '/^### Capacity by memory size/{on=1; next} on' "$tmp/catchup.md" >"$tmp/capacity.md"
awk -v f="$tmp/capacity.md" '
  /^<!-- capacity:begin/ {print; while ((getline l < f) > 0) print l; skip=1; next}
  /^<!-- capacity:end/ {skip=0}
  !skip' README.md >"$tmp/README.md"
cp "$tmp/README.md" README.md
echo "== wrote BENCHMARKS.md and README.md's capacity block" >&2
