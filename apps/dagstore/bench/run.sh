#!/usr/bin/env bash
# Builds and runs the DAG store benchmark (boltpp vs a LevelDB twin) in one run.
#   apps/dagstore/bench/run.sh [BUILD_DIR] [bench flags...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
BUILD="${1:-${BOLTPP_BUILD:-$ROOT/build}}"
shift || true
cmake --build "$BUILD" --target boltpp_dagstore_bench >/dev/null
WORK="${BENCH_DIR:-$(mktemp -d)}"
trap 'rm -rf "$WORK"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$BUILD/apps/dagstore/boltpp_dagstore_bench" "$WORK/run" "$@"
