#!/usr/bin/env bash
# File: apps/car/scripts/demo.sh
# A short tour of boltpp-car: generate a few CARs, inspect one, list its
# blocks, index it, verify it, and show the go-car fixture's golden index.
#
#   apps/car/scripts/demo.sh [BUILD_DIR]     (default <repo>/build; built if needed)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
BUILD="${1:-${BOLTPP_BUILD:-$ROOT/build}}"
CAR="$BUILD/apps/car/boltpp-car"
if [ ! -x "$CAR" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j"${JOBS:-2}" --target boltpp_car_cli >/dev/null
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
run() { echo "\$ boltpp-car $*"; "$CAR" "$@"; echo; }

run gen --out "$WORK/cars" --count 4 --seed 42 --version mix
ls -l "$WORK/cars"
echo
first="$(ls "$WORK"/cars/*.car | head -1)"
run inspect "$first"
echo "\$ boltpp-car ls $(basename "$first") | head -5"
"$CAR" ls "$first" | head -5
echo
run root "$first"
run index create --regenerate "$first" "$WORK/first.idx"
echo "index: $(stat -c %s "$WORK/first.idx") bytes, starts $(head -c 14 "$WORK/first.idx" | od -An -tx1 | xargs)"
echo
for f in "$WORK"/cars/*.car; do run verify --full "$f"; done
echo "all generated CARs verify"
echo
fixtures="$ROOT/apps/car/testdata"
run inspect "$fixtures/sample-wrapped-v2.car"
"$CAR" index create "$fixtures/sample-v1.car" "$WORK/v1.idx"
"$CAR" detach-index "$fixtures/sample-wrapped-v2.car" "$WORK/v2.idx"
cmp "$WORK/v1.idx" "$WORK/v2.idx" && echo "index create sample-v1.car == go-car's index in sample-wrapped-v2.car (byte for byte)"
echo
echo "A damaged CAR (cut in the middle of a section):"
head -c 1000 "$fixtures/sample-v1.car" >"$WORK/cut.car"
echo "\$ boltpp-car verify cut.car"
"$CAR" verify "$WORK/cut.car" || echo "(exit status $?)"
