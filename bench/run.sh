#!/usr/bin/env bash
# bench/run.sh: boltpp's comparative benchmark in one command.
#
#   bench/run.sh [--n N] [--reps R] [--quick] [--engines a,b,...] [--suites a,b,...]
#                [--phase-timeout SECONDS] [--build-dir DIR] [--data-dir DIR]
#                [--out DIR] [--driver PATH] [--no-chart] [--jobs J]
#
# Builds boltpp_bench (CMake, BOLTPP_BUILD_BENCH=ON, Release, in build-bench/
# unless --driver is given) and the Go bbolt program (bench/go), then runs
# every workload on boltpp, Go bbolt, LMDB, RocksDB and SQLite, interleaved,
# R repetitions (default 3), and writes the medians:
#   full run:   docs/benchmarks.md, docs/benchmarks.png, bench/results/benchmarks.json
#   --quick:    <build-dir>/bench-quick/{benchmarks.md,benchmarks.png,benchmarks.json}
#               (n = 2000, one repetition; checks the pipeline, not speed; CI runs it)
#   --out DIR:  DIR/{benchmarks.md,benchmarks.png,benchmarks.json}
#
# Defaults: n = 1,000,000, 3 repetitions, phase timeout 300 s (a phase that
# runs longer is killed and reported as "timeout").
#
# Debian packages: cmake g++ liblmdb-dev librocksdb-dev libsqlite3-dev
# nlohmann-json3-dev golang-go golang-github-coreos-bbolt-dev gnuplot-nox.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build-bench"
DATA=""
OUT=""
DRIVER=""
QUICK=0
JOBS=1
PASS=()
ENGINES=""
ORIG_ARGS="$*"

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --n|--reps|--suites|--phase-timeout|--read-seconds|--floor-iters)
      [ $# -ge 2 ] || usage; PASS+=("$1" "$2"); shift 2 ;;
    --engines) [ $# -ge 2 ] || usage; ENGINES="$2"; PASS+=("$1" "$2"); shift 2 ;;
    --quick) QUICK=1; PASS+=("--quick"); shift ;;
    --no-chart) PASS+=("--no-chart"); shift ;;
    --build-dir) [ $# -ge 2 ] || usage; BUILD=$(realpath -m "$2"); shift 2 ;;
    --data-dir) [ $# -ge 2 ] || usage; DATA=$(realpath -m "$2"); shift 2 ;;
    --out) [ $# -ge 2 ] || usage; OUT=$(realpath -m "$2"); shift 2 ;;
    --driver) [ $# -ge 2 ] || usage; DRIVER=$(realpath "$2"); shift 2 ;;
    --jobs) [ $# -ge 2 ] || usage; JOBS="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
done

cd "$ROOT"
mkdir -p "$BUILD"
[ -n "$DATA" ] || DATA="$BUILD/bench-data"

# 1. The C++ driver.
if [ -z "$DRIVER" ]; then
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
      -DBOLTPP_BUILD_BENCH=ON -DBOLTPP_BUILD_TESTS=OFF -DBOLTPP_BUILD_TOOLS=OFF >&2
  fi
  nice cmake --build "$BUILD" --target boltpp_bench -j "$JOBS" >&2
  DRIVER="$BUILD/bench/boltpp_bench"
  [ -x "$DRIVER" ] || { echo "run.sh: boltpp_bench was not built" >&2; exit 1; }
fi

# 2. The Go bbolt program (skipped only when --engines leaves bbolt-go out).
GO_ARGS=()
if [ -z "$ENGINES" ] || [[ ",$ENGINES," == *",bbolt-go,"* ]]; then
  command -v go >/dev/null || { echo "run.sh: go not found (Debian: golang-go golang-github-coreos-bbolt-dev)" >&2; exit 1; }
  GOBIN="$BUILD/boltbench-go"
  GOPATH_BBOLT=${BOLTPP_BENCH_GOPATH:-/usr/share/gocode}
  (cd "$ROOT/bench/go" && GOCACHE="$BUILD/gocache" GO111MODULE=off GOPATH="$GOPATH_BBOLT" GOFLAGS= \
     nice go build -o "$GOBIN" .) >&2
  GO_ARGS=(--go-bin "$GOBIN")
fi

# 3. Outputs.
if [ -n "$OUT" ]; then
  mkdir -p "$OUT"
  MD="$OUT/benchmarks.md"; PNG="$OUT/benchmarks.png"; JSON="$OUT/benchmarks.json"
elif [ "$QUICK" = 1 ]; then
  mkdir -p "$BUILD/bench-quick"
  MD="$BUILD/bench-quick/benchmarks.md"; PNG="$BUILD/bench-quick/benchmarks.png"; JSON="$BUILD/bench-quick/benchmarks.json"
else
  mkdir -p "$ROOT/docs" "$ROOT/bench/results"
  MD="docs/benchmarks.md"; PNG="docs/benchmarks.png"; JSON="bench/results/benchmarks.json"
fi

CMDLINE="bench/run.sh${ORIG_ARGS:+ $ORIG_ARGS}"
exec "$DRIVER" run "${PASS[@]}" "${GO_ARGS[@]}" --dir "$DATA" \
  --json "$JSON" --md "$MD" --png "$PNG" --command "$CMDLINE"
