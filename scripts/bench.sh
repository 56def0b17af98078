#!/usr/bin/env bash
# Reproduces the figures of BENCHMARKS.md: installs dynalite (npm dynalite@4,
# into ./node_modules, which git ignores) when missing, builds the harness and
# runs it. The harness starts dynalite on 127.0.0.1 and the fake peers on
# loopback, and stops what it started by PID. Figures go to stdout as
# Markdown, progress to stderr.
#
#   scripts/bench.sh                 # the whole set, about 20 minutes on 2 cores
#   scripts/bench.sh --quick         # 10,000 rows only, one repetition, about 3 minutes
#   scripts/bench.sh -only pipeline  # any catchupbench flags (bin/catchupbench -h)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
tools_path

if [ ! -x node_modules/.bin/dynalite ]; then
  echo "== npm install dynalite@4 (into ./node_modules)" >&2
  npm install --no-save --no-audit --no-fund dynalite@4 >&2
fi
echo "== build" >&2
mkdir -p bin
go build -o bin/catchupbench ./cmd/catchupbench

args=()
if [ "${1:-}" = --quick ]; then
  shift
  args=(-n 10000 -p 1,10,100 -reps 1 -writes 8,32 -peer-concurrencies 4,8)
fi
exec ./bin/catchupbench "${args[@]}" "$@"
