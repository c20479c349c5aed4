#!/usr/bin/env bash
# File: apps/car/bench/run.sh
# Side-by-side benchmark of CAR indexing and verification (issue 11):
#   * the read floor:      cat FILE > /dev/null            (page cache)
#   * hashing floor:       sha256sum FILE
#   * boltpp-car index:    boltpp-car index create --regenerate FILE OUT
#   * @ipld/car indexer:   node tests/node/bench-index.mjs FILE  (CarIndexer + sort)
#   * boltpp-car verify:   boltpp-car verify FILE (structure) and verify --full (re-hash)
# on two generated CARv1 files: SIZE bytes of 1 KiB raw blocks and SIZE bytes
# of 256 KiB raw blocks (sha2-256 CIDv1 leaves, DAG-CBOR interior nodes).
# Each measurement is the best of REPS runs, from a warm page cache; peak RSS
# from /usr/bin/time. Prints a Markdown table.
#
#   apps/car/bench/run.sh [--size 1G|256M|BYTES] [--reps N] [--dir DIR] [--keep]
#
# Environment: BOLTPP_BUILD (build directory, default <repo>/build).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
CAR_DIR="$ROOT/apps/car"
SIZE=1G
REPS=3
DIR=/tmp/boltpp-car-bench
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--size 1G|256M|BYTES] [--reps N] [--dir DIR] [--keep]" >&2; exit 1 ;;
  esac
done
bytes=$(numfmt --from=iec "$SIZE")
BUILD="${BOLTPP_BUILD:-$ROOT/build}"

if [ ! -x "$BUILD/apps/car/boltpp-car" ] || [ -n "${BOLTPP_REBUILD:-}" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j"${JOBS:-2}" --target boltpp_car_cli >/dev/null
fi
mkdir -p "$DIR"
cp "$BUILD/apps/car/boltpp-car" "$DIR/boltpp-car"  # a rebuild during the run cannot disturb it
CAR="$DIR/boltpp-car"
if [ ! -d "$CAR_DIR/tests/node/node_modules/@ipld/car" ]; then
  (cd "$CAR_DIR/tests/node" && npm ci --no-audit --no-fund >/dev/null)
fi
command -v node >/dev/null || { echo "node is needed for the @ipld/car column" >&2; exit 1; }

# name block-size
files=("small 1024" "large 262144")
for f in "${files[@]}"; do
  set -- $f
  n=$(( bytes / ($2 + 40) ))
  [ "$n" -ge 1 ] || n=1
  if [ ! -e "$DIR/$1-$SIZE.car" ]; then
    "$CAR" gen --out "$DIR/gen-$1" --count 1 --seed 1 --version 1 --blocks "$n" --block-size "$2" \
      --v0-fraction 0 --identity-fraction 0 --dup-fraction 0 --fanout 64 >/dev/null
    mv "$DIR/gen-$1/gen-1-0000.car" "$DIR/$1-$SIZE.car"
    rmdir "$DIR/gen-$1"
  fi
done

# Runs a command REPS times; prints "best_seconds max_rss_kib cpu_seconds"
# (wall time from date's nanoseconds; peak RSS and user+system CPU of the
# best run from /usr/bin/time).
measure() {
  local best="" rss=0 cpu="" t0 t1 t m c
  for _ in $(seq "$REPS"); do
    t0=$(date +%s.%N)
    if ! /usr/bin/time -o "$DIR/time.out" -f "%M %U %S" "$@" >/dev/null 2>"$DIR/stderr.out"; then
      echo "failed: $*" >&2
      cat "$DIR/stderr.out" >&2
      exit 1
    fi
    t1=$(date +%s.%N)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    read -r m u s < <(tail -1 "$DIR/time.out")
    c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; cpu=$c; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$best $rss $cpu"
}

echo "## boltpp-car benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), best of $REPS, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| file | size | blocks | what | seconds | MB/s | vs floor | CPU s | peak RSS (MiB) |"
echo "|---|---|---|---|---:|---:|---:|---:|---:|"
for f in "${files[@]}"; do
  set -- $f
  file="$DIR/$1-$SIZE.car"
  fsize=$(stat -c %s "$file")
  blocks=$("$CAR" inspect "$file" | awk '/^Block count:/ {print $3}')
  cat "$file" >/dev/null  # warm the page cache
  floor=""
  row() {  # label command...
    local label="$1"; shift
    local r t m c
    r=$(measure "$@")
    read -r t m c <<<"$r"
    [ -z "$floor" ] && floor=$t
    awk -v f="$(basename "$file")" -v s="$fsize" -v b="$blocks" -v l="$label" -v t="$t" -v m="$m" -v fl="$floor" -v c="$c" \
      'BEGIN { tt = (t > 0 ? t : 0.005); printf "| %s | %.0f MiB | %d | %s | %.3f | %.0f | %.2fx | %s | %.0f |\n", f, s/1048576, b, l, t, s/1e6/tt, tt/(fl > 0 ? fl : 0.005), c, m/1024 }'
  }
  row "read floor: cat" sh -c "cat '$file' >/dev/null"
  row "sha256sum" sha256sum "$file"
  row "boltpp-car index create" "$CAR" index create --regenerate "$file" "$DIR/out.idx"
  row "@ipld/car CarIndexer (node)" node "$CAR_DIR/tests/node/bench-index.mjs" "$file"
  row "boltpp-car verify" "$CAR" verify "$file"
  row "boltpp-car verify --full" "$CAR" verify --full "$file"
done
echo
echo "Index sizes: $(for f in "${files[@]}"; do set -- $f; "$CAR" index create "$DIR/$1-$SIZE.car" "$DIR/$1.idx"; echo -n "$1 $(stat -c %s "$DIR/$1.idx") bytes; "; done)"
[ "$KEEP" = 1 ] || rm -rf "$DIR"
